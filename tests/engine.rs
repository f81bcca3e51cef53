//! The engine natively: every pattern on the real rayon pool, I/O-like jobs and timers
//! on simulated time (so nothing here sleeps), cancellation, deadlines, fail-fast,
//! pacing, and the accounting identity under proptest.

#![cfg(not(target_arch = "wasm32"))]

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use scalelab::cancel::{CancelError, CancelToken};
use scalelab::clock::Timer;
use scalelab::engine::abort_slot::{self, AbortKind};
use scalelab::engine::config::{Distribution, Pacing, Pattern, RunConfig, WorkKind};
use scalelab::engine::outcome::Outcome;
use scalelab::engine::report::{Progress, RunReport};
use scalelab::engine::runtime::{CpuJob, CpuPool, NativeRuntime, RayonPool, SimRuntime};
use scalelab::engine::{ConfigErrors, execute, execute_with_slot, run};
use scalelab::workload::kernels::count_primes;

fn sim() -> SimRuntime {
    SimRuntime::new(RayonPool::global())
}

/// Runs `config` under simulated time; `parent` may be cancelled by the caller.
fn run_sim(config: RunConfig, parent: &CancelToken) -> (RunReport, Vec<Progress>) {
    let rt = sim();
    let mut batches = Vec::new();
    let report = rt
        .sim
        .run(execute(&rt, config, parent, &mut |p| batches.push(p)))
        .expect("the run never stalls");
    (report, batches)
}

fn check_accounting(report: &RunReport) {
    let c = report.counts;
    assert!(report.identity_holds, "identity broken: {c:?}");
    assert_eq!(c.submitted, report.config.jobs);
    assert_eq!(report.jobs.len(), report.jobs_kept as usize);
    let by = |o: Outcome| report.jobs.iter().filter(|j| j.outcome == Some(o)).count() as u32;
    // A small run keeps every job that entered the run; jobs the producer never made
    // (it stopped early) are counted as not started, with no record.
    assert_eq!(
        (
            by(Outcome::Completed),
            by(Outcome::Failed),
            by(Outcome::Cancelled)
        ),
        (c.completed, c.failed, c.cancelled)
    );
    assert!(by(Outcome::NotStarted) <= c.not_started);
    let mut ids: Vec<u32> = report.jobs.iter().map(|j| j.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), report.jobs.len(), "each job once, in id order");
    for job in &report.jobs {
        assert!(job.outcome.is_some(), "job {} has no outcome", job.id);
        match job.outcome.unwrap() {
            Outcome::NotStarted => assert!(job.started_ms.is_none()),
            _ => assert!(job.started_ms.is_some() && job.finished_ms >= job.started_ms),
        }
    }
    if let Some(cancel) = &report.cancellation {
        assert_eq!(cancel.started_after, 0, "a job started after the cancel");
    }
}

fn cpu(pattern: Pattern) -> RunConfig {
    RunConfig {
        pattern,
        jobs: 300,
        cost: 20_000,
        workers: 3,
        queue: 4,
        ..RunConfig::default()
    }
}

fn io(pattern: Pattern) -> RunConfig {
    RunConfig {
        pattern,
        workload: WorkKind::Sleep,
        cost: 5_000,
        jobs: 200,
        workers: 4,
        queue: 8,
        ..RunConfig::default()
    }
}

#[test]
fn every_pattern_runs_every_job_exactly_once() {
    for pattern in [
        Pattern::Pool,
        Pattern::FanOut,
        Pattern::FailFast,
        Pattern::RateLimit,
    ] {
        for config in [cpu(pattern), io(pattern)] {
            let (report, batches) = run_sim(config.clone(), &CancelToken::new());
            check_accounting(&report);
            assert_eq!(
                report.counts.completed, config.jobs,
                "{pattern:?} {:?}",
                config.workload
            );
            assert!(report.cancellation.is_none());
            // The last batch carries the final counts; together the batches carry every job.
            assert_eq!(batches.last().unwrap().counts, report.counts);
            let streamed: std::collections::HashSet<u32> = batches
                .iter()
                .flat_map(|b| b.jobs.iter().filter(|j| j.outcome.is_some()).map(|j| j.id))
                .collect();
            assert_eq!(streamed.len(), config.jobs as usize);
        }
    }
}

#[test]
fn prime_jobs_count_exactly_the_primes_below_the_total() {
    let config = RunConfig {
        distribution: Distribution::Uniform,
        ..cpu(Pattern::Pool)
    };
    let (report, _) = run_sim(config, &CancelToken::new());
    let total: u64 = report.jobs.iter().map(|j| j.cost).sum();
    let counted: u64 = report.jobs.iter().map(|j| j.result.unwrap()).sum();
    assert_eq!(counted, count_primes(0, total, &|| false).unwrap());
}

#[test]
fn pool_workers_respect_the_limit_and_io_waits_overlap() {
    let (report, _) = run_sim(io(Pattern::Pool), &CancelToken::new());
    let workers: std::collections::HashSet<u32> =
        report.jobs.iter().map(|j| j.worker.unwrap()).collect();
    assert!(workers.len() <= 4 && workers.iter().all(|&w| w < 4));
    // 200 jobs of 5 ms on 4 workers: exactly 250 ms of simulated time.
    assert_eq!(report.wall_ms, 250.0);
    assert_eq!(report.latency.service.p50, 5.0);
    assert_eq!(report.latency.service.max, 5.0);
    // Fan-out starts every timer at once: 5 ms in all.
    let (fanout, _) = run_sim(io(Pattern::FanOut), &CancelToken::new());
    assert_eq!(fanout.wall_ms, 5.0);
}

#[test]
fn the_goroutine_peak_is_exact_not_sampled() {
    // Fan-out of I/O jobs: every job's goroutine is alive at t = 0, between samples.
    let (fan, _) = run_sim(io(Pattern::FanOut), &CancelToken::new());
    assert_eq!(fan.peak_goroutines, fan.config.jobs);
    let (pool, _) = run_sim(io(Pattern::Pool), &CancelToken::new());
    assert_eq!(pool.peak_goroutines, pool.config.workers);
}

#[test]
fn unbuffered_and_oversized_pools_work() {
    for (workers, queue) in [(1, 0), (8, 0), (64, 1), (3, 100_000)] {
        let (report, _) = run_sim(
            RunConfig {
                workers,
                queue,
                jobs: 50,
                ..cpu(Pattern::Pool)
            },
            &CancelToken::new(),
        );
        check_accounting(&report);
        assert_eq!(report.counts.completed, 50);
    }
}

/// A pool that runs its jobs one at a time, in the order they were queued, on the
/// thread that queues the first one (a job queued by a running job waits its turn). It
/// claims `threads` threads, so the engine schedules as it would on that many, but the
/// order of events is the same on every run: a scheduling test on it cannot depend on
/// the operating system.
struct FifoInlinePool {
    threads: usize,
}

thread_local! {
    static QUEUED: std::cell::RefCell<std::collections::VecDeque<CpuJob>> = Default::default();
    static DRAINING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl CpuPool for FifoInlinePool {
    fn spawn(&self, job: CpuJob) {
        QUEUED.with(|q| q.borrow_mut().push_back(job));
        if DRAINING.with(|d| d.replace(true)) {
            return;
        }
        while let Some(job) = QUEUED.with(|q| q.borrow_mut().pop_front()) {
            job();
        }
        DRAINING.with(|d| d.set(false));
    }

    fn threads(&self) -> usize {
        self.threads
    }
}

#[test]
fn idle_cpu_workers_get_jobs_in_the_order_they_went_idle() {
    // Four workers on two threads: each job goes to the worker that has waited longest
    // for one (the channel's parked receivers are a FIFO, as Go's recvq is), so none is
    // starved by the ones that got a thread first.
    let rt = SimRuntime::with_pool(Arc::new(FifoInlinePool { threads: 2 }));
    let config = RunConfig {
        jobs: 400,
        cost: 1_000,
        workers: 4,
        ..cpu(Pattern::Pool)
    };
    let report = rt
        .sim
        .run(execute(&rt, config, &CancelToken::new(), &mut |_| {}))
        .unwrap();
    check_accounting(&report);
    assert_eq!(report.threads, 2);
    let mut per_worker = [0u32; 4];
    for job in &report.jobs {
        per_worker[job.worker.unwrap() as usize] += 1;
    }
    assert_eq!(per_worker, [100; 4], "jobs per worker");
}

#[test]
fn fan_out_delivers_in_input_order_on_request() {
    let all: Vec<u32> = (0..200).collect();
    let finished = |report: &RunReport, id: u32| report.jobs[id as usize].finished_ms.unwrap();
    // Ordered: the fan-in hands results on in input order, each one as soon as it and
    // every earlier job have ended — so a quick job waits behind a slow earlier one.
    let config = RunConfig {
        distribution: Distribution::LogNormal,
        ordered: true,
        ..io(Pattern::FanOut)
    };
    let (report, _) = run_sim(config, &CancelToken::new());
    assert_eq!(report.delivery_order, all);
    let mut line_clear_at = 0.0f64;
    let mut waited = 0;
    for (&id, &at) in report.delivery_order.iter().zip(&report.delivery_ms) {
        line_clear_at = line_clear_at.max(finished(&report, id));
        assert_eq!(
            at, line_clear_at,
            "job {id} is handed on when the line clears"
        );
        waited += usize::from(at > finished(&report, id));
    }
    assert!(waited > 0, "some results waited behind slower earlier jobs");

    // Unordered: each result is handed on the moment its job ends.
    let config = RunConfig {
        distribution: Distribution::LogNormal,
        ordered: false,
        ..io(Pattern::FanOut)
    };
    let (report, _) = run_sim(config, &CancelToken::new());
    for (&id, &at) in report.delivery_order.iter().zip(&report.delivery_ms) {
        assert_eq!(
            at,
            finished(&report, id),
            "job {id} is handed on as it ends"
        );
    }
    let mut delivered = report.delivery_order.clone();
    assert_ne!(delivered, all, "completion order is not input order");
    delivered.sort_unstable();
    assert_eq!(delivered, all, "every result is handed on once");
}

#[test]
fn a_cancelled_run_starts_nothing() {
    let parent = CancelToken::new();
    parent.cancel_with("stopped before it began");
    for config in [
        cpu(Pattern::Pool),
        io(Pattern::FanOut),
        cpu(Pattern::FanOut),
        io(Pattern::RateLimit),
    ] {
        let (report, _) = run_sim(config.clone(), &parent);
        check_accounting(&report);
        assert_eq!(report.counts.not_started, config.jobs);
        assert_eq!(
            report.cancellation.as_ref().unwrap().cause,
            "stopped before it began"
        );
    }
}

#[test]
fn cancelling_mid_run_stops_running_jobs_and_starts_no_more() {
    let rt = sim();
    let parent = CancelToken::new();
    let canceller = parent.clone();
    let timer = rt.sim.clone();
    let config = io(Pattern::Pool);
    let mut ignore = |_: Progress| {};
    let (report, ()) = rt
        .sim
        .run(async {
            futures::join!(execute(&rt, config, &parent, &mut ignore), async {
                timer.sleep(Duration::from_micros(52_500)).await;
                canceller.cancel_with("user pressed Cancel");
            })
        })
        .unwrap();
    check_accounting(&report);
    let c = report.counts;
    // At 52.5 ms: 4 workers have each finished 10 jobs of 5 ms and are half-way through
    // an 11th; the rest never start.
    assert_eq!((c.completed, c.cancelled, c.not_started), (40, 4, 156));
    let cancel = report.cancellation.unwrap();
    assert_eq!(cancel.at_ms, 52.5);
    assert_eq!(cancel.latency_ms, 0.0, "timers stop at once");
    assert_eq!(cancel.running_at_cancel, 4);
    assert_eq!(cancel.cause, "user pressed Cancel");
    assert_eq!(cancel.err, "canceled");
}

#[test]
fn deadline_stops_the_run() {
    let config = RunConfig {
        timeout_ms: 102.5,
        ..io(Pattern::Pool)
    };
    let (report, _) = run_sim(config, &CancelToken::new());
    check_accounting(&report);
    let c = report.counts;
    assert_eq!((c.completed, c.cancelled, c.not_started), (80, 4, 116));
    let cancel = report.cancellation.unwrap();
    assert_eq!(cancel.err, "deadline exceeded");
    assert_eq!(cancel.at_ms, 102.5);
}

#[test]
fn fail_fast_cancels_the_rest_with_the_first_error() {
    let config = RunConfig {
        failure: 0.05,
        jobs: 500,
        ..io(Pattern::FailFast)
    };
    let (report, _) = run_sim(config.clone(), &CancelToken::new());
    check_accounting(&report);
    let first_failure = report
        .jobs
        .iter()
        .filter(|j| j.outcome == Some(Outcome::Failed))
        .map(|j| j.finished_ms.unwrap())
        .fold(f64::MAX, f64::min);
    let error = report.error.clone().expect("Wait returns the first error");
    assert!(
        error.starts_with("job ") && error.ends_with("failed: simulated error"),
        "{error}"
    );
    let cancel = report.cancellation.unwrap();
    assert_eq!(cancel.cause, error);
    assert_eq!(cancel.at_ms, first_failure);
    assert!(
        report.counts.not_started > 0,
        "jobs after the failure never start"
    );
    // Without fail-fast, failures are counted and the run goes on.
    let (pool, _) = run_sim(
        RunConfig {
            pattern: Pattern::Pool,
            ..config
        },
        &CancelToken::new(),
    );
    assert!(pool.counts.failed > 0 && pool.counts.not_started == 0 && pool.cancellation.is_none());
}

#[test]
fn fail_fast_limit_bounds_concurrency() {
    let config = RunConfig {
        workers: 3,
        ..io(Pattern::FailFast)
    };
    let (report, _) = run_sim(config, &CancelToken::new());
    assert!(report.series.busy.iter().all(|&b| b <= 3.0 + 1e-9));
    assert_eq!(
        report.series.queued.iter().copied().fold(0.0, f64::max),
        0.0,
        "no buffer: errgroup.Go hands off"
    );
}

#[test]
fn token_bucket_and_ticker_pace_the_producer() {
    let bucket = RunConfig {
        rate: 100.0,
        burst: 10,
        jobs: 60,
        ..io(Pattern::RateLimit)
    };
    let (report, _) = run_sim(bucket, &CancelToken::new());
    check_accounting(&report);
    let limiter = report.limiter.unwrap();
    assert_eq!(limiter.grants, 60);
    // The first 10 go at once (the bucket starts full), then one every 10 ms.
    assert!(
        limiter.grant_log[..10]
            .iter()
            .all(|g| g.t_ms == 0.0 && g.waited_ms == 0.0)
    );
    assert_eq!(limiter.grant_log[10].t_ms, 10.0);
    assert!(
        (limiter.achieved_rate - 100.0).abs() < 1e-6,
        "{}",
        limiter.achieved_rate
    );
    assert_eq!(limiter.grant_log.last().unwrap().t_ms, 500.0);
    assert!(limiter.grant_log.iter().all(|g| g.tokens.unwrap() <= 10.0));

    let ticker = RunConfig {
        rate: 100.0,
        jobs: 60,
        pacing: Pacing::Ticker,
        ..io(Pattern::RateLimit)
    };
    let (report, _) = run_sim(ticker, &CancelToken::new());
    let limiter = report.limiter.unwrap();
    // No burst: the first tick comes one period in, then one per period.
    assert_eq!(limiter.grant_log[0].t_ms, 10.0);
    assert_eq!(limiter.grant_log.last().unwrap().t_ms, 600.0);
    assert!((limiter.achieved_rate - 100.0).abs() < 1e-6);
}

#[test]
fn bucket_refuses_to_wait_past_the_deadline_like_x_time_rate() {
    // 10 jobs/s with a 250 ms deadline: after the burst of 2, the third wait would end
    // at ~100 ms (fine), ... and the wait past 250 ms is refused up front.
    let config = RunConfig {
        rate: 10.0,
        burst: 2,
        jobs: 20,
        timeout_ms: 250.0,
        ..io(Pattern::RateLimit)
    };
    let (report, _) = run_sim(config, &CancelToken::new());
    check_accounting(&report);
    let limiter = report.limiter.unwrap();
    assert_eq!(limiter.grants, 4);
    assert_eq!(
        limiter.stopped.as_deref(),
        Some("rate: Wait(n=1) would exceed context deadline")
    );
}

#[test]
fn statistics_match_the_job_records() {
    let (report, _) = run_sim(io(Pattern::Pool), &CancelToken::new());
    // 4 workers busy the whole 250 ms; 200 completions over 250 ms = 800/s.
    assert!(
        report.series.busy.iter().all(|&b| (b - 4.0).abs() < 1e-9),
        "{:?}",
        report.series.busy
    );
    let mean_rate =
        report.series.throughput.iter().sum::<f64>() / report.series.throughput.len() as f64;
    assert!((mean_rate - 800.0).abs() < 1e-6, "{mean_rate}");
    assert_eq!(report.throughput_per_s, 800.0);
    // Queue waits: job k (0-based) on the channel waits about 5 ms per 4 jobs ahead.
    assert_eq!(report.latency.queue_wait.min, 0.0);
    assert!(report.latency.total.max >= report.latency.service.max);
}

#[test]
fn invalid_configs_are_refused_before_anything_starts() {
    let rt = sim();
    let bad = RunConfig {
        workers: 0,
        ..RunConfig::default()
    };
    let result: Result<RunReport, ConfigErrors> = rt
        .sim
        .run(run(&rt, bad, &CancelToken::new(), &mut |_| {}))
        .unwrap();
    let errors = result.unwrap_err();
    assert_eq!(
        errors.0[0].message,
        "workers: 0 is out of range; allowed: a whole number 1–256 goroutines"
    );
}

#[test]
fn cancelling_cpu_jobs_in_real_time_stops_them_between_chunks() {
    // Real time, real threads: seconds of work, cancelled at the first progress batch
    // that shows a finished job. The assertions hold at any machine speed.
    let rt = NativeRuntime::new(RayonPool::with_threads(2));
    let parent = CancelToken::new();
    let canceller = parent.clone();
    let config = RunConfig {
        jobs: 5_000,
        cost: 1_000_000,
        workers: 4,
        ..RunConfig::default()
    };
    let report = futures::executor::block_on(execute(&rt, config, &parent, &mut |p| {
        if p.counts.done() > 0 {
            canceller.cancel();
        }
    }));
    check_accounting(&report);
    // What holds whenever the cancel lands (the machine's speed decides how far the
    // run got): nothing starts after it, and each of the two threads cuts short at
    // most the one job it was running.
    let c = report.counts;
    assert!(
        c.completed > 0,
        "the cancel came after a finished job: {c:?}"
    );
    let cancellation = report.cancellation.clone().expect("the run was cancelled");
    assert_eq!(cancellation.started_after, 0, "{cancellation:?}");
    assert!(
        c.cancelled <= 2,
        "at most one running job per thread is cut short: {c:?}"
    );
    assert_eq!(
        report.cancellation.unwrap().err,
        CancelError::Canceled.to_string().replace("context ", "")
    );
}

#[test]
fn an_abort_through_shared_memory_stops_the_run_like_a_cancel() {
    // What the page does on Cancel: write to the run's abort slot, not to its token.
    let rt = NativeRuntime::new(RayonPool::with_threads(2));
    let parent = CancelToken::new();
    let config = RunConfig {
        jobs: 5_000,
        cost: 1_000_000,
        workers: 4,
        ..RunConfig::default()
    };
    let armed = abort_slot::arm(20, 41).unwrap();
    let mut requested = false;
    let report = futures::executor::block_on(execute_with_slot(
        &rt,
        config,
        &parent,
        &mut |p| {
            if p.counts.done() > 0 && !requested {
                requested = abort_slot::request_abort(20, 41, AbortKind::Cancel, "Cancel pressed");
            }
        },
        Some(armed),
    ));
    assert!(requested, "the slot was armed while the run went");
    check_accounting(&report);
    // What holds whenever the cancel lands (the machine's speed decides how far the
    // run got): nothing starts after it, and each of the two threads cuts short at
    // most the one job it was running.
    let c = report.counts;
    assert!(
        c.completed > 0,
        "the cancel came after a finished job: {c:?}"
    );
    let cancellation = report.cancellation.clone().expect("the run was cancelled");
    assert_eq!(cancellation.started_after, 0, "{cancellation:?}");
    assert!(
        c.cancelled <= 2,
        "at most one running job per thread is cut short: {c:?}"
    );
    let cancel = report.cancellation.unwrap();
    assert_eq!(
        (cancel.err.as_str(), cancel.cause.as_str()),
        ("canceled", "Cancel pressed")
    );
    assert!(!parent.is_cancelled(), "only the run was cancelled");
    // The slot was freed before the report came back: ready for the next run.
    assert!(!abort_slot::request_abort(
        20,
        41,
        AbortKind::Cancel,
        "late"
    ));
    drop(abort_slot::arm(20, 42).unwrap());
}

#[test]
fn a_timeout_through_shared_memory_reads_as_a_deadline() {
    let rt = sim();
    let armed = abort_slot::arm(21, 1).unwrap();
    let mut requested = false;
    let report = rt
        .sim
        .run(execute_with_slot(
            &rt,
            io(Pattern::Pool),
            &CancelToken::new(),
            &mut |_| {
                if !requested {
                    requested =
                        abort_slot::request_abort(21, 1, AbortKind::Deadline, "signal timed out");
                }
            },
            Some(armed),
        ))
        .unwrap();
    check_accounting(&report);
    assert!(requested);
    assert_eq!(report.cancellation.unwrap().err, "deadline exceeded");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the pattern, sizes, failures and cancellation time, every job ends in
    /// exactly one outcome and nothing starts after a cancel.
    #[test]
    fn accounting_identity_always_holds(
        pattern in prop_oneof![Just(Pattern::Pool), Just(Pattern::FanOut), Just(Pattern::FailFast), Just(Pattern::RateLimit)],
        pacing in prop_oneof![Just(Pacing::Bucket), Just(Pacing::Ticker)],
        cpu_work in any::<bool>(),
        jobs in 1u32..120,
        workers in 1u32..9,
        queue in 0u32..6,
        failure in prop_oneof![Just(0.0), 0.0f64..0.3],
        cancel_at_us in prop::option::of(0u64..80_000),
        timeout_ms in prop_oneof![Just(0.0), 1.0f64..80.0],
        seed in 0u64..1000,
    ) {
        let workload = if cpu_work { WorkKind::Primes } else { WorkKind::Sleep };
        let cost = if cpu_work { 5_000 } else { 3_000 };
        let config = RunConfig {
            pattern, pacing, workload, cost, jobs, workers, queue, failure, timeout_ms, seed,
            distribution: Distribution::LogNormal, rate: 500.0, burst: 3, ..RunConfig::default()
        };
        let rt = sim();
        let parent = CancelToken::new();
        let canceller = parent.clone();
        let timer = rt.sim.clone();
        let mut ignore = |_: Progress| {};
        let (report, ()) = rt.sim.run(async {
            futures::join!(execute(&rt, config, &parent, &mut ignore), async {
                if let Some(at) = cancel_at_us {
                    timer.sleep(Duration::from_micros(at)).await;
                    canceller.cancel();
                }
            })
        }).unwrap();
        prop_assert!(report.identity_holds);
        prop_assert!(report.jobs.iter().all(|j| j.outcome.is_some()));
        if let Some(cancel) = &report.cancellation {
            prop_assert_eq!(cancel.started_after, 0);
        }
    }
}

/// Weighted backend calls (semaphore.Weighted's `Acquire(ctx, n)`): at no moment do the
/// calls being served hold more than the backend's slots, so the heavier jobs make the
/// run slower exactly as the weights say, and the checksum covers every weight.
#[test]
fn weighted_backend_calls_never_hold_more_than_the_backends_slots() {
    let config = RunConfig {
        workload: WorkKind::Backend,
        backend_slots: 4,
        max_weight: 4,
        workers: 8,
        jobs: 200,
        cost: 1_000,
        ..RunConfig::default()
    };
    let plan = scalelab::workload::plan::plan(&config);
    let (report, _) = run_sim(config, &CancelToken::new());
    check_accounting(&report);
    assert_eq!(report.counts.completed, 200);
    // On simulated time a call is served for exactly its cost, 1 ms, and then ends: it
    // holds its slots over (finished - 1 ms, finished].
    let holds: Vec<(u64, u64, u32)> = report
        .jobs
        .iter()
        .map(|j| {
            let end = (j.finished_ms.unwrap() * 1e6).round() as u64;
            (end - 1_000_000, end, plan[j.id as usize].weight)
        })
        .collect();
    for &(from, _, _) in &holds {
        let held: u32 = holds
            .iter()
            .filter(|&&(f, t, _)| f <= from && from < t)
            .map(|&(_, _, w)| w)
            .sum();
        assert!(held <= 4, "{held} slots held at {from} ns");
    }
    // So the run takes at least Σ weight × 1 ms / 4 slots (ignoring weights: 50 ms).
    let slot_ms: u32 = plan.iter().map(|j| j.weight).sum();
    assert!(
        report.wall_ms >= f64::from(slot_ms) / 4.0 - 1e-6,
        "{} ms for {slot_ms} slot-ms on 4 slots",
        report.wall_ms
    );
    assert!(report.time_use.backend_wait_ms > 0.0);
    let checksum: u64 = plan.iter().map(|j| j.id as u64 * 2 * j.weight as u64).sum();
    assert_eq!(report.result_checksum, checksum.to_string());
}

/// The live timeline draws a running job on its worker's row: the "started" records a
/// progress batch streams name the worker that took the job (a surviving mutant of
/// `try_start` left every one of them without a worker).
#[test]
fn started_records_in_progress_batches_name_their_worker() {
    let config = RunConfig {
        workload: WorkKind::Sleep,
        cost: 120_000, // each job spans a few 50 ms batches
        jobs: 8,
        workers: 2,
        ..RunConfig::default()
    };
    let (report, batches) = run_sim(config, &CancelToken::new());
    check_accounting(&report);
    let started: Vec<_> = batches
        .iter()
        .flat_map(|b| b.jobs.iter())
        .filter(|j| j.outcome.is_none())
        .collect();
    assert_eq!(started.len(), 8, "each job's start is streamed once");
    for record in started {
        assert!(matches!(record.worker, Some(0 | 1)), "{record:?}");
    }
}
