//! Open-loop load natively on simulated time: the generator's schedule and report, the
//! overload policies and their accounting, latency from the intended start (no
//! coordinated omission), and agreement with queueing theory (Erlang C).

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use common::run_sim;
use scalelab::cancel::CancelToken;
use scalelab::engine::config::{Arrival, Distribution, Overload, RunConfig, WorkKind};
use scalelab::engine::outcome::Outcome;
use scalelab::engine::pool::Shrink;
use scalelab::engine::report::RunReport;
use scalelab::engine::runtime::Runtime;
use scalelab::engine::runtime::{RayonPool, SimRuntime};
use scalelab::engine::{execute, start};
use scalelab::settings::SettingValue;
use scalelab::stats::queueing::mmc;
use scalelab::workload::arrival::{ArrivalSchedule, Stages};
use scalelab::workload::plan::Planner;

/// `workers` I/O-like workers, each job `service_us` (mean), fed `rate` jobs/s.
fn open_loop(arrival: Arrival, rate: f64, workers: u32, service_us: u64) -> RunConfig {
    RunConfig {
        arrival,
        arrival_rate: rate,
        workers,
        workload: WorkKind::Sleep,
        cost: service_us,
        queue: 100_000,
        jobs: 10_000_000,
        ..RunConfig::default()
    }
}

fn assert_books_balance(report: &RunReport) {
    let c = report.counts;
    assert!(report.identity_holds, "identity broken: {c:?}");
    assert_eq!(
        c.submitted,
        c.completed + c.failed + c.cancelled + c.not_started + c.rejected + c.shed
    );
}

/// The mean queue wait of the first `n` jobs of `config`'s plan and arrival schedule in
/// an ideal FIFO queue with `c` servers (the Kiefer–Wolfowitz recursion: each job takes
/// the server that frees first, at its arrival or then), in ms.
fn ideal_mean_wait(config: &RunConfig, n: usize) -> f64 {
    let mut planner = Planner::new(config);
    let mut schedule = ArrivalSchedule::new(config).expect("open loop");
    let mut free = vec![0u64; config.workers as usize];
    let mut total = 0.0;
    for _ in 0..n {
        let arrival = schedule.next_ns().expect("endless schedule");
        let service = planner.next_job().cost * 1_000;
        let server = (0..free.len()).min_by_key(|&i| free[i]).unwrap();
        let start = free[server].max(arrival);
        total += (start - arrival) as f64;
        free[server] = start + service;
    }
    total / n as f64 / 1e6
}

fn mmc_set_up(c: u32, rho: f64, jobs: u32) -> RunConfig {
    RunConfig {
        jobs,
        distribution: Distribution::Exponential,
        ..open_loop(Arrival::Poisson, rho * c as f64 * 1000.0, c, 1_000)
    }
}

/// M/M/c, c = 1, 2, 8 and ρ = 0.5…0.9, in two steps that together say "the engine is
/// an M/M/c queue": (1) on 100,000 jobs the engine's measured mean queue wait equals
/// the ideal FIFO queue's on the same seeded arrivals and service times (to 0.1%: times
/// are whole nanoseconds and microseconds); (2) those arrivals and service times make
/// an M/M/c queue — over 0.5–4 million jobs the ideal queue's mean wait is within 3% of
/// Erlang C.
///
/// Why not Erlang C on the 100,000 jobs directly: a finite run's mean wait is itself a
/// random variable, and near saturation a wide one — for M/M/1 at ρ = 0.9 its standard
/// deviation over 100,000 jobs is about 6.7% of the mean (at ρ = 0.7, 2.5%), so a 3%
/// bound there passes or fails with the seed, not with the engine. The benchmark
/// (`cargo bench --bench queueing`) shows the engine's own error at 1,000,000 jobs.
#[test]
fn mmc_mean_queue_wait_matches_erlang_c_on_simulated_time() {
    let mu = 1000.0; // 1 ms mean service
    let cells: Vec<(u32, f64)> = [1u32, 2, 8]
        .into_iter()
        .flat_map(|c| [0.5, 0.7, 0.9].map(|rho| (c, rho)))
        .collect();
    // (2) first, all cells at once: the longer the queue's memory (the higher ρ), the
    // more jobs its mean needs.
    let long_runs: Vec<f64> = std::thread::scope(|scope| {
        let runs: Vec<_> = cells
            .iter()
            .map(|&(c, rho)| {
                let n = if rho < 0.6 {
                    500_000
                } else if rho < 0.8 {
                    1_500_000
                } else {
                    4_000_000
                };
                scope.spawn(move || ideal_mean_wait(&mmc_set_up(c, rho, n), n as usize))
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for (&(c, rho), long_run) in cells.iter().zip(long_runs) {
        let config = mmc_set_up(c, rho, 100_000);
        let theory = mmc(config.arrival_rate, mu, c).unwrap().mean_wait * 1000.0;
        let error = long_run / theory - 1.0;
        assert!(
            error.abs() <= 0.03,
            "c={c} ρ={rho}: the ideal queue waits {long_run:.4} ms vs Erlang C {theory:.4} ms ({:+.2}%)",
            error * 100.0
        );
        // (1) the engine is that queue, job for job.
        let report = run_sim(config.clone());
        assert_books_balance(&report);
        assert_eq!(report.counts.completed, 100_000);
        let measured = report.latency.queue_wait.mean;
        let ideal = ideal_mean_wait(&config, 100_000);
        assert!(
            (measured - ideal).abs() <= 1e-3 * ideal.max(1e-3),
            "c={c} ρ={rho}: the engine waited {measured:.6} ms, the ideal queue {ideal:.6} ms"
        );
        // The generator kept its schedule: it never fell behind on simulated time.
        let generator = report.generator.unwrap();
        assert_eq!(generator.lag_ms, 0.0);
        assert!((generator.configured_rate / config.arrival_rate - 1.0).abs() < 1e-9);
    }
}

/// 1,000 jobs/s offered for 1 s to one worker that serves 100/s, with a queue of 10.
fn overloaded(overload: Overload) -> RunConfig {
    RunConfig {
        overload,
        queue: 10,
        duration_ms: 1000.0,
        shed_after_ms: 50.0,
        ..open_loop(Arrival::Constant, 1000.0, 1, 10_000)
    }
}

#[test]
fn reject_refuses_what_the_full_queue_cannot_take_and_keeps_the_schedule() {
    let report = run_sim(overloaded(Overload::Reject));
    assert_books_balance(&report);
    let c = report.counts;
    assert_eq!(c.submitted, 1000, "every arrival of the second is offered");
    // 100/s served for 1 s, then the 10 queued and the one running drain.
    assert!((100..=111).contains(&c.completed), "{c:?}");
    assert_eq!(c.rejected, 1000 - c.completed);
    assert_eq!(c.shed, 0);
    let generator = report.generator.unwrap();
    assert_eq!(generator.lag_ms, 0.0, "reject never waits");
    assert!((generator.achieved_rate / 1000.0 - 1.0).abs() < 1e-9);
    // Admitted jobs waited at most a full queue's worth of service.
    assert!(
        report.latency.queue_wait.max <= 110.0 + 1e-6,
        "{:?}",
        report.latency
    );
    assert!(
        report
            .jobs
            .iter()
            .any(|j| j.outcome == Some(Outcome::Rejected))
    );
}

#[test]
fn drop_oldest_sheds_the_longest_waiting_and_runs_the_freshest() {
    let report = run_sim(overloaded(Overload::DropOldest));
    assert_books_balance(&report);
    let c = report.counts;
    assert_eq!(c.submitted, 1000);
    assert_eq!((c.rejected, c.shed + c.completed), (0, 1000), "{c:?}");
    assert!((100..=111).contains(&c.completed), "{c:?}");
    // The last arrivals are the ones that run after the load stops.
    let last = report
        .jobs
        .iter()
        .filter(|j| j.outcome == Some(Outcome::Completed))
        .map(|j| j.id)
        .max();
    assert_eq!(last, Some(999));
}

#[test]
fn shed_drops_jobs_that_waited_past_the_deadline() {
    let report = run_sim(overloaded(Overload::Shed));
    assert_books_balance(&report);
    let c = report.counts;
    assert!(c.shed > 0 && c.rejected == 0, "{c:?}");
    assert!(
        report.latency.queue_wait.max <= 50.0 + 1e-6,
        "no job that ran waited past shedAfter: {:?}",
        report.latency.queue_wait
    );
    for job in report
        .jobs
        .iter()
        .filter(|j| j.outcome == Some(Outcome::Shed))
    {
        assert!(job.started_ms.is_none());
        assert!(job.finished_ms.unwrap() - job.queued_ms.unwrap() > 50.0);
    }
}

#[test]
fn block_falls_behind_and_latency_from_the_intended_start_shows_it() {
    let report = run_sim(RunConfig {
        duration_ms: 0.0,
        jobs: 300,
        ..overloaded(Overload::Block)
    });
    assert_books_balance(&report);
    assert_eq!(report.counts.completed, 300, "backpressure loses nothing");
    let generator = report.generator.unwrap();
    // 300 jobs were due within 0.3 s, the pool took 3 s: the generator ends ~2.6 s late.
    assert!(generator.lag_ms > 2500.0, "{generator:?}");
    // After the first 11 (a full queue and the running job) it goes at the pool's pace.
    assert!(
        (100.0..105.0).contains(&generator.achieved_rate),
        "{generator:?}"
    );
    assert_eq!(generator.configured_rate, 1000.0);
    // Uncorrected, a job waited at most for the queue ahead of it; corrected, it also
    // waited for the generator to get to it.
    let l = report.latency;
    assert!(l.total.p99 <= 111.0, "{l:?}");
    assert!(l.from_intended.p99 > 2500.0, "{l:?}");
}

#[test]
fn a_pause_of_the_pool_shows_in_the_corrected_p99_and_hides_in_the_uncorrected() {
    // wrk2's demonstration: 1,000/s to a pool that stalls for 200 ms once. The queue
    // holds one job, so the waiting happens in the (blocked) generator.
    let config = RunConfig {
        queue: 1,
        jobs: 3_000,
        ..open_loop(Arrival::Constant, 1000.0, 2, 100)
    };
    let rt = SimRuntime::new(RayonPool::global());
    let report = rt
        .sim
        .run(async {
            let mut observer = |_| {};
            let (handle, report) = start(&rt, config, &CancelToken::new(), &mut observer, None);
            let pause = async {
                rt.sleep(Duration::from_millis(1000)).await;
                handle.resize(0.0, Shrink::Graceful).unwrap();
                rt.sleep(Duration::from_millis(200)).await;
                handle.resize(2.0, Shrink::Graceful).unwrap();
            };
            futures::join!(report, pause).0
        })
        .unwrap();
    assert_books_balance(&report);
    assert_eq!(report.counts.completed, 3_000);
    let l = report.latency;
    assert!(
        l.from_intended.p99 >= 100.0,
        "corrected p99 shows the pause: {l:?}"
    );
    assert!(l.total.p99 < 5.0, "uncorrected p99 hides it: {l:?}");
    assert!(l.from_intended.max >= 199.0, "{l:?}");
}

#[test]
fn stages_and_spikes_follow_their_schedule_and_a_cancel_keeps_the_books() {
    let report = run_sim(RunConfig {
        stages: Stages::parse_text("1000:200,1000:200").unwrap(),
        ..open_loop(Arrival::Stages, 100.0, 4, 1_000)
    });
    assert_books_balance(&report);
    // Λ(2 s) = (100 + 200) / 2 × 1 s + 200 × 1 s = 350 arrivals, at Λ = 0, 1, …, 349.
    assert_eq!(report.counts.submitted, 350);
    let generator = report.generator.unwrap();
    assert!(
        (generator.configured_rate - 175.5).abs() < 1.0,
        "{generator:?}"
    );

    let report = run_sim(RunConfig {
        spike_rate: 2000.0,
        spike_at_ms: 100.0,
        spike_for_ms: 50.0,
        duration_ms: 200.0,
        ..open_loop(Arrival::Spike, 100.0, 4, 1_000)
    });
    assert_books_balance(&report);
    assert_eq!(report.counts.submitted, 10 + 100 + 5);

    // Cancelled at 0.5 s: the jobs of a job-count run never sent count as not started.
    let config = open_loop(Arrival::Poisson, 1000.0, 2, 1_000);
    let config = RunConfig {
        jobs: 2_000,
        ..config
    };
    let rt = SimRuntime::new(RayonPool::global());
    let parent = CancelToken::new();
    let report = rt
        .sim
        .run(async {
            let mut observer = |_| {};
            let run = execute(&rt, config, &parent, &mut observer);
            let cancel = async {
                rt.sleep(Duration::from_millis(500)).await;
                parent.cancel();
            };
            futures::join!(run, cancel).0
        })
        .unwrap();
    assert_books_balance(&report);
    assert_eq!(report.counts.submitted, 2_000);
    assert!(report.counts.not_started > 1_000, "{:?}", report.counts);
}

#[test]
fn progress_samples_chart_offered_load_and_both_p99s() {
    let rt = SimRuntime::new(RayonPool::global());
    let mut batches = Vec::new();
    let config = RunConfig {
        duration_ms: 1000.0,
        ..open_loop(Arrival::Constant, 500.0, 2, 2_000)
    };
    let report = rt
        .sim
        .run(execute(&rt, config, &CancelToken::new(), &mut |p| {
            batches.push(p)
        }))
        .unwrap();
    assert_books_balance(&report);
    let last = batches.iter().rev().find_map(|b| b.sample.offered).unwrap();
    assert_eq!(last, 500);
    assert!(batches.iter().any(|b| b.sample.p99_ms.is_some()));
    for b in &batches {
        if let (Some(raw), Some(corrected)) = (b.sample.p99_ms, b.sample.p99_intended_ms) {
            assert!(corrected >= raw * 0.99, "{raw} vs {corrected}");
        }
        if let Some(scheduled) = b.sample.scheduled {
            assert!(scheduled <= 500.0 + 1e-9);
        }
    }
}
