//! Queueing theory against the engine on simulated time: an M/M/c queue — Poisson
//! arrivals from the open-loop generator, exponential service (I/O-like jobs), `c`
//! workers — for c = 1, 2, 8 and utilisation ρ = 0.5…0.9, 4,000,000 jobs each; the
//! measured mean queue wait against the Erlang C formula. Prints a table on stderr and
//! one JSON object on stdout (bench/run.mjs folds it into bench/RESULTS.md).
//!
//! Why 4,000,000: a run's mean wait is itself random, and near saturation a wide one —
//! over 100,000 jobs its standard deviation is about 6.7% of the mean for M/M/1 at
//! ρ = 0.9 (2.5% at ρ = 0.7), over 4,000,000 about 1%. tests/load.rs shows that the
//! engine equals the ideal queue job for job on the same draws.
//!
//! With `--same c:rho:jobs:service_us:seed,…` it also runs those set-ups — the real-thread
//! grid bench/load.mjs runs in the browser, same seeds — on simulated time: the same
//! arrivals and service times under perfect timers, which separates the sampling noise
//! of a finite run (simulated vs formula) from what real timers and threads add (browser
//! vs simulated).
//!
//! Usage: cargo bench --bench queueing -- [--quick] [--same …]

use scalelab::cancel::CancelToken;
use scalelab::engine::config::{Arrival, Distribution, RunConfig, WorkKind};
use scalelab::engine::execute;
use scalelab::engine::runtime::{RayonPool, SimRuntime};
use scalelab::stats::queueing::mmc;

/// Runs an M/M/c set-up on simulated time: Poisson arrivals at `lambda`, exponential
/// service of `service_us` mean on `c` workers; the measured mean queue wait, ms.
fn measure(c: u32, lambda: f64, service_us: u64, jobs: u32, seed: u64) -> f64 {
    let config = RunConfig {
        arrival: Arrival::Poisson,
        arrival_rate: lambda,
        workers: c,
        workload: WorkKind::Sleep,
        cost: service_us,
        distribution: Distribution::Exponential,
        queue: 100_000,
        jobs,
        seed,
        ..RunConfig::default()
    };
    let rt = SimRuntime::new(RayonPool::global());
    let report = rt
        .sim
        .run(execute(&rt, config, &CancelToken::new(), &mut |_| {}))
        .expect("the run never stalls");
    assert!(report.identity_holds && report.counts.completed == jobs);
    report.latency.queue_wait.mean
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let same: Vec<(u32, f64, u32, u64, u64)> = args
        .windows(2)
        .find(|w| w[0] == "--same")
        .map(|w| {
            w[1].split(',')
                .map(|cell| {
                    let p: Vec<&str> = cell.split(':').collect();
                    (
                        p[0].parse().expect("c"),
                        p[1].parse().expect("rho"),
                        p[2].parse().expect("jobs"),
                        p[3].parse().expect("service_us"),
                        p[4].parse().expect("seed"),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let jobs = if quick { 20_000 } else { 4_000_000 };
    let service_us = 1_000u64;
    let mu = 1e6 / service_us as f64;
    let mut rows = Vec::new();
    eprintln!("| c | ρ | measured mean wait (ms) | Erlang C (ms) | error |");
    eprintln!("| ---: | ---: | ---: | ---: | ---: |");
    for c in [1u32, 2, 8] {
        for rho in [0.5, 0.6, 0.7, 0.8, 0.9] {
            let lambda = rho * c as f64 * mu;
            let measured = measure(c, lambda, service_us, jobs, 1);
            let theory = mmc(lambda, mu, c).expect("stable").mean_wait * 1000.0;
            let error = measured / theory - 1.0;
            eprintln!(
                "| {c} | {rho} | {measured:.4} | {theory:.4} | {:+.2}% |",
                error * 100.0
            );
            rows.push(format!(
                r#"{{"c":{c},"rho":{rho},"jobs":{jobs},"measuredMs":{measured},"theoryMs":{theory},"error":{error}}}"#
            ));
        }
    }
    let mut same_rows = Vec::new();
    for (c, rho, jobs, service_us, seed) in same {
        let mu = 1e6 / service_us as f64;
        let lambda = rho * c as f64 * mu;
        let measured = measure(c, lambda, service_us, jobs, seed);
        same_rows.push(format!(
            r#"{{"c":{c},"rho":{rho},"jobs":{jobs},"seed":{seed},"measuredMs":{measured}}}"#
        ));
    }
    println!(
        r#"{{"rows":[{}],"same":[{}]}}"#,
        rows.join(","),
        same_rows.join(",")
    );
}
