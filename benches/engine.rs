//! The engine natively, for the browser benchmark's "wasm vs native" comparison: the
//! same kernel, settings and pool as bench/run.mjs uses in the browser, run on OS
//! threads (rayon) at 1 and N threads; the same jobs on N bare OS threads, with no pool
//! at all (the host's own ceiling for this kernel: how much two busy cores slow each
//! other down); and the pool's own cost per job (wall time per empty job at N workers).
//! Prints one JSON object on stdout.
//!
//! Usage: cargo bench --bench engine -- [--quick] [--threads N]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use scalelab::cancel::CancelToken;
use scalelab::engine::config::{Pattern, RunConfig, WorkKind};
use scalelab::engine::execute;
use scalelab::engine::runtime::{NativeRuntime, RayonPool};
use scalelab::workload::kernels::count_primes;

fn throughput(threads: usize, config: &RunConfig) -> f64 {
    let rt = NativeRuntime::new(RayonPool::with_threads(threads));
    let report = futures::executor::block_on(execute(
        &rt,
        config.clone(),
        &CancelToken::new(),
        &mut |_| {},
    ));
    assert!(report.identity_holds && report.counts.completed == config.jobs);
    report.throughput_per_s
}

/// Jobs per second of `jobs` prime-counting jobs of `cost` numbers (the pool's contiguous
/// ranges) on `threads` scoped OS threads that take the next job from an atomic counter:
/// no channel, no records, no clock — the kernel alone, as parallel as the host allows.
fn bare_threads(threads: usize, jobs: u64, cost: u64) -> f64 {
    let next = AtomicU64::new(0);
    let started = Instant::now();
    let total: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut sum = 0;
                    loop {
                        let job = next.fetch_add(1, Ordering::Relaxed);
                        if job >= jobs {
                            return sum;
                        }
                        sum += count_primes(job * cost, (job + 1) * cost, &|| false)
                            .expect("never stopped");
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("no panic"))
            .sum()
    });
    std::hint::black_box(total);
    jobs as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let threads = args
        .windows(2)
        .find(|w| w[0] == "--threads")
        .and_then(|w| w[1].parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let reps = if quick { 2 } else { 5 };
    let base = RunConfig {
        pattern: Pattern::Pool,
        workload: WorkKind::Primes,
        cost: 200_000,
        jobs: if quick { 200 } else { 1500 },
        queue: 64,
        ..RunConfig::default()
    };
    let started = Instant::now();
    // Warm-up (page faults, caches).
    throughput(
        threads,
        &RunConfig {
            jobs: 50,
            workers: threads as u32,
            ..base.clone()
        },
    );
    let mut json = String::from("{");
    for (i, &n) in [1usize, threads].iter().enumerate() {
        let config = RunConfig {
            workers: n as u32,
            ..base.clone()
        };
        let values: Vec<String> = (0..reps)
            .map(|_| format!("{:.3}", throughput(n, &config)))
            .collect();
        if i > 0 {
            json.push(',');
        }
        json.push_str(&format!("\"{n}\":[{}]", values.join(",")));
    }
    // The host's ceiling: the same jobs on bare threads, 1 and N alternating.
    let mut bare: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..reps {
        for (i, &n) in [1usize, threads].iter().enumerate() {
            let rate = bare_threads(n, u64::from(base.jobs), base.cost);
            bare[i].push(format!("{rate:.3}"));
        }
    }
    json.push_str(&format!(
        ",\"bare\":{{\"1\":[{}],\"{threads}\":[{}]}}",
        bare[0].join(","),
        bare[1].join(",")
    ));
    // The pool's own cost: wall time per empty job (`spin` of 0 µs) at N workers.
    let empty = RunConfig {
        workload: WorkKind::Spin,
        cost: 0,
        jobs: if quick { 200_000 } else { 1_000_000 },
        workers: threads as u32,
        queue: 1024,
        ..base.clone()
    };
    let dispatch: Vec<String> = (0..reps)
        .map(|_| format!("{:.1}", 1e9 / throughput(threads, &empty)))
        .collect();
    json.push_str(&format!(",\"dispatchNs\":[{}]", dispatch.join(",")));
    json.push_str(&format!(
        ",\"threads\":{threads},\"jobs\":{},\"cost\":{},\"seconds\":{:.1}}}",
        base.jobs,
        base.cost,
        started.elapsed().as_secs_f64()
    ));
    println!("{json}");
}
