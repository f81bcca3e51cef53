//! The lab natively: the sweep runs every level and repetition and fits the law; each
//! pitfall's detector fires on the wrong way and stays quiet on the right way.

#![cfg(not(target_arch = "wasm32"))]

use std::time::Duration;

use scalelab::cancel::CancelToken;
use scalelab::clock::Timer;
use scalelab::engine::config::{Leak, Pacing, Pattern, RunConfig, WorkKind};
use scalelab::engine::execute;
use scalelab::engine::report::{Progress, RunReport};
use scalelab::engine::runtime::{RayonPool, SimRuntime};
use scalelab::lab::sweep::{CurveKind, Curves, SweepConfig, plan_sweep, run_sweep};

fn sim() -> SimRuntime {
    SimRuntime::new(RayonPool::global())
}

fn run(config: RunConfig) -> RunReport {
    let rt = sim();
    rt.sim
        .run(execute(&rt, config, &CancelToken::new(), &mut |_| {}))
        .unwrap()
}

/// Runs `config`, cancelling it at `cancel_at` of simulated time.
fn run_cancelled(config: RunConfig, cancel_at: Duration) -> RunReport {
    let rt = sim();
    let parent = CancelToken::new();
    let canceller = parent.clone();
    let timer = rt.sim.clone();
    let mut ignore = |_: Progress| {};
    rt.sim
        .run(async {
            futures::join!(execute(&rt, config, &parent, &mut ignore), async {
                timer.sleep(cancel_at).await;
                canceller.cancel();
            })
        })
        .unwrap()
        .0
}

fn io_pool() -> RunConfig {
    RunConfig {
        workload: WorkKind::Sleep,
        cost: 5_000,
        jobs: 200,
        workers: 4,
        queue: 8,
        ..RunConfig::default()
    }
}

#[test]
fn sweep_runs_every_level_and_repetition_and_fits_io_as_linear() {
    let rt = sim();
    let sweep = SweepConfig {
        max_workers: 6,
        repetitions: 2,
        warmup: 1,
        threshold: 0.8,
        curves: Curves::Io,
    };
    let total = plan_sweep(&sweep).len();
    let mut seen = Vec::new();
    // 120 jobs divide evenly among 1..=6 workers, so the ideal is exactly linear.
    let base = RunConfig {
        jobs: 120,
        ..io_pool()
    };
    let report = rt
        .sim
        .run(run_sweep(&rt, base, sweep, &CancelToken::new(), &mut |p| {
            seen.push(p.step)
        }))
        .unwrap();
    assert_eq!(seen.len(), total);
    assert_eq!(report.runs_done as usize, total);
    assert!(!report.cancelled);
    let curve = &report.curves[0];
    assert_eq!(curve.curve, CurveKind::Io);
    assert_eq!(
        curve.points.iter().map(|p| p.workers).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5, 6]
    );
    assert!(curve.points.iter().all(|p| p.throughputs.len() == 2));
    // Timers overlap perfectly under simulated time: linear scaling, no contention.
    for p in &curve.points {
        assert!((p.efficiency - 1.0).abs() < 0.02, "{p:?}");
    }
    let fit = curve.fit.unwrap();
    assert!(fit.sigma < 0.01 && fit.kappa < 0.001, "{fit:?}");
    assert_eq!(curve.recommended, Some(6));
}

#[test]
fn a_cancelled_sweep_keeps_what_it_measured() {
    let rt = sim();
    let sweep = SweepConfig {
        max_workers: 4,
        repetitions: 3,
        warmup: 0,
        threshold: 0.8,
        curves: Curves::Io,
    };
    let token = CancelToken::new();
    let canceller = token.clone();
    let report = rt
        .sim
        .run(run_sweep(&rt, io_pool(), sweep, &token, &mut |p| {
            if p.done == 5 {
                canceller.cancel();
            }
        }))
        .unwrap();
    assert!(report.cancelled);
    assert_eq!(report.runs_done, 5);
    let measured: usize = report
        .curves
        .iter()
        .flat_map(|c| &c.points)
        .map(|p| p.throughputs.len())
        .sum();
    assert_eq!(measured, 5);
}

#[test]
fn unbounded_fan_out_keeps_every_task_alive_a_pool_keeps_its_workers() {
    // Jobs of 100 ms, so the 50 ms progress samples see them alive.
    let long = RunConfig {
        cost: 100_000,
        stack_kib: 8,
        ..io_pool()
    };
    let fan_out = run(RunConfig {
        pattern: Pattern::FanOut,
        ..long.clone()
    });
    let pool = run(long);
    let peak = |r: &RunReport| r.samples.iter().map(|s| s.tasks).max().unwrap();
    assert_eq!(
        peak(&fan_out),
        200,
        "a goroutine per job, all alive at once"
    );
    assert!(peak(&pool) <= 4, "the pool's workers only: {}", peak(&pool));
}

#[test]
fn a_producer_that_never_closes_is_caught_and_explained() {
    let leaky = run(RunConfig {
        leak: Leak::NoClose,
        ..io_pool()
    });
    assert!(leaky.identity_holds);
    assert_eq!(leaky.counts.completed, 200, "the jobs themselves all ran");
    let leak = leaky.leak.expect("the leak is reported");
    assert!(
        leak.contains("never closed the channel") && leak.contains("4 workers wait forever"),
        "{leak}"
    );
    assert!(run(io_pool()).leak.is_none(), "quiet on the right way");
}

#[test]
fn consumers_that_stop_early_leave_the_producer_blocked() {
    let leaky = run(RunConfig {
        leak: Leak::Stops,
        ..io_pool()
    });
    assert!(leaky.identity_holds);
    let leak = leaky.leak.expect("the leak is reported");
    assert!(leak.contains("the producer is blocked forever"), "{leak}");
    assert!(leaky.counts.not_started > 0, "{:?}", leaky.counts);
    // They stop once half the jobs have started: each of the 4 workers finishes the
    // job it holds and takes no other.
    let started = leaky.jobs.iter().filter(|j| j.started_ms.is_some()).count();
    assert!((100..=104).contains(&started), "{started} of 200 started");
    // The same on CPU workers.
    let cpu = run(RunConfig {
        leak: Leak::Stops,
        workload: WorkKind::Primes,
        cost: 2_000,
        ..io_pool()
    });
    assert!(cpu.leak.is_some() && cpu.identity_holds);
}

#[test]
fn jobs_that_ignore_cancellation_keep_working_after_cancel() {
    let at = Duration::from_micros(52_500);
    let honest = run_cancelled(io_pool(), at);
    let ignoring = run_cancelled(
        RunConfig {
            poll_cancel: false,
            ..io_pool()
        },
        at,
    );
    let (h, i) = (honest.cancellation.unwrap(), ignoring.cancellation.unwrap());
    assert_eq!(
        (h.work_after_ms, h.started_after, h.quiet_after_ms),
        (0.0, 0, 0.0),
        "quiet on the right way"
    );
    assert!(i.work_after_ms > 0.0 && i.started_after > 0, "{i:?}");
    // The pool went quiet only when the last job started after the cancel ended: later
    // than the jobs running at the cancel stopped.
    let last_started_after_ends = ignoring
        .jobs
        .iter()
        .filter(|j| j.started_ms.is_some_and(|s| s > i.at_ms))
        .filter_map(|j| j.finished_ms)
        .fold(0.0, f64::max);
    assert_eq!(i.quiet_after_ms, last_started_after_ends - i.at_ms);
    assert!(i.quiet_after_ms > i.latency_ms, "{i:?}");
    assert_eq!(ignoring.counts.cancelled, 0, "nothing stopped early");
    assert!(ignoring.wall_ms > honest.wall_ms);
    assert!(ignoring.identity_holds && honest.identity_holds);
}

#[test]
fn ticker_and_bucket_hold_the_rate_on_exact_timers() {
    // Simulated timers are exact, so here both keep the rate; the browser's clamped
    // timers are what starve the ticker (limiter::ticker tests and the benchmark show it).
    for pacing in [Pacing::Bucket, Pacing::Ticker] {
        let report = run(RunConfig {
            pattern: Pattern::RateLimit,
            pacing,
            rate: 500.0,
            jobs: 100,
            ..io_pool()
        });
        let limiter = report.limiter.unwrap();
        assert!(
            (limiter.achieved_rate - 500.0).abs() < 1e-6,
            "{pacing:?}: {}",
            limiter.achieved_rate
        );
    }
}
