//! The lab natively: the sweep runs every level and repetition and fits the law; each
//! pitfall's detector fires on the wrong way and stays quiet on the right way.

#![cfg(not(target_arch = "wasm32"))]

use scalelab::cancel::CancelToken;
use scalelab::engine::config::{Pacing, Pattern, RunConfig, WorkKind};
use scalelab::engine::execute;
use scalelab::engine::report::RunReport;
use scalelab::engine::runtime::{RayonPool, SimRuntime};
use scalelab::lab::pitfalls::{PitfallConfig, PitfallReport, run_pitfall};
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

/// Runs a pitfall program on simulated time.
fn pitfall(fields: &[(&str, &str)]) -> PitfallReport {
    let config = PitfallConfig::from_fields(fields.iter().copied()).unwrap();
    let rt = sim();
    rt.sim
        .run(run_pitfall(&rt, &config, &CancelToken::new()))
        .unwrap()
}

const IO_POOL: [(&str, &str); 5] = [
    ("workload", "sleep"),
    ("cost", "5000"),
    ("jobs", "200"),
    ("workers", "4"),
    ("queue", "8"),
];

fn with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    IO_POOL
        .iter()
        .copied()
        .chain(extra.iter().copied())
        .collect()
}

#[test]
fn unbounded_goroutines_stay_alive_with_their_stacks_a_pool_keeps_its_workers() {
    // Jobs of 100 ms, so the samples see them alive.
    let wrong = pitfall(&with(&[
        ("program", "unbounded"),
        ("cost", "100000"),
        ("stack", "8"),
    ]));
    let right = pitfall(&with(&[
        ("program", "pool"),
        ("cost", "100000"),
        ("stack", "8"),
    ]));
    assert_eq!(
        wrong.peak_goroutines, 200,
        "a goroutine per job, all alive at once"
    );
    assert_eq!(
        wrong.samples.iter().map(|s| s.tasks).max(),
        Some(200),
        "and the samples see them"
    );
    assert_eq!(right.peak_goroutines, 4, "the pool's workers only");
    for report in [&wrong, &right] {
        assert_eq!(report.counts.completed, 200);
        assert!(report.counts.identity_holds());
    }
    assert!(wrong.wall_ms < right.wall_ms, "I/O-like jobs do overlap");
}

#[test]
fn a_producer_that_never_closes_is_caught_and_explained() {
    let leaky = pitfall(&with(&[("program", "never-closes")]));
    assert!(leaky.counts.identity_holds());
    assert_eq!(leaky.counts.completed, 200, "the jobs themselves all ran");
    let leak = leaky.leak.expect("the leak is reported");
    assert!(
        leak.contains("never closed the channel") && leak.contains("4 workers wait forever"),
        "{leak}"
    );
    let right = pitfall(&with(&[("program", "closes")]));
    assert!(right.leak.is_none(), "quiet on the right way");
    assert_eq!(right.counts.completed, 200);
}

#[test]
fn consumers_that_stop_early_leave_the_producer_blocked() {
    let leaky = pitfall(&with(&[("program", "consumers-stop")]));
    assert!(leaky.counts.identity_holds(), "{:?}", leaky.counts);
    let leak = leaky.leak.expect("the leak is reported");
    assert!(leak.contains("the producer is blocked forever"), "{leak}");
    // They stop once half the jobs have started: each of the 4 workers finishes the
    // job it holds and takes no other.
    assert!(
        (100..=104).contains(&leaky.counts.completed),
        "{:?}",
        leaky.counts
    );
    assert_eq!(leaky.counts.completed + leaky.counts.not_started, 200);
    // The same on CPU workers.
    let cpu = pitfall(&with(&[
        ("program", "consumers-stop"),
        ("workload", "primes"),
        ("cost", "2000"),
    ]));
    assert!(cpu.leak.is_some() && cpu.counts.identity_holds());
}

#[test]
fn workers_that_ignore_the_context_keep_working_after_the_deadline() {
    let honest = pitfall(&with(&[("program", "checks-context"), ("timeout", "52.5")]));
    let ignoring = pitfall(&with(&[
        ("program", "ignores-context"),
        ("timeout", "52.5"),
    ]));
    let (h, i) = (honest.cancellation.unwrap(), ignoring.cancellation.unwrap());
    assert_eq!(
        (h.work_after_ms, h.started_after, h.quiet_after_ms),
        (0.0, 0, 0.0),
        "quiet on the right way: running jobs stop at the deadline"
    );
    assert!(honest.counts.cancelled > 0, "{:?}", honest.counts);
    assert!(i.work_after_ms > 0.0 && i.started_after > 0, "{i:?}");
    // 4 jobs running at the deadline finish (2.5 ms each past it), then the 8 queued
    // ones run to the end: 2 rounds of 5 ms.
    assert_eq!((i.started_after, i.quiet_after_ms), (8, 12.5), "{i:?}");
    assert_eq!(ignoring.counts.cancelled, 0, "nothing stopped early");
    assert!(ignoring.wall_ms > honest.wall_ms);
    assert!(ignoring.counts.identity_holds() && honest.counts.identity_holds());
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

/// The sixth pitfall on simulated time: a hand-rolled select-and-count coordinator
/// returns at the first error and leaves every goroutine that finishes later blocked
/// on its send; errgroup, on the same seeded jobs, leaves none and cancels the rest.
#[test]
fn hand_rolled_coordination_leaks_where_errgroup_does_not() {
    let set_up = [
        ("workload", "sleep"),
        ("cost", "5000"),
        ("jobs", "40"),
        ("distribution", "exponential"),
        ("failure", "0.1"),
        ("seed", "3"),
    ];
    let with = |program: &'static str| {
        let mut fields = set_up.to_vec();
        fields.push(("program", program));
        pitfall(&fields)
    };
    let hand = with("hand-rolled");
    let leak = hand.leak.expect("the hand-rolled coordinator leaks");
    assert!(leak.starts_with("job "), "{leak}");
    let leaked: u32 = leak
        .split(';')
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("the message says how many leaked");
    assert!(leaked > 0, "{leak}");
    assert!(hand.counts.identity_holds(), "{:?}", hand.counts);

    let group = with("errgroup");
    assert_eq!(group.leak, None);
    assert!(group.counts.identity_holds(), "{:?}", group.counts);
    assert!(group.counts.failed >= 1, "{:?}", group.counts);
    // The first error cancels the group: the others stop, or never start.
    assert!(
        group.counts.cancelled + group.counts.not_started > 0,
        "{:?}",
        group.counts
    );
}
