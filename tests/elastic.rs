//! A pool that scales while it runs, natively and on simulated time: live resizes
//! (grow, graceful shrink, stop now, pause), resize storms that lose and duplicate
//! nothing, live rate changes, autoscalers on the simulated backend, and runs by
//! duration or of many jobs in bounded memory.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::{Either, select};
use proptest::prelude::*;
use scalelab::cancel::CancelToken;
use scalelab::clock::Timer;
use scalelab::engine::config::{Pacing, Pattern, RunConfig, Scaling, WorkKind};
use scalelab::engine::control::ControlError;
use scalelab::engine::outcome::Outcome;
use scalelab::engine::pool::Shrink;
use scalelab::engine::record::{NOTABLE, RECENT};
use scalelab::engine::report::{JobRecord, Progress, RunReport};
use scalelab::engine::runtime::{NativeRuntime, RayonPool, SimRuntime};
use scalelab::engine::{RunHandle, start};

fn sim() -> SimRuntime {
    SimRuntime::new(RayonPool::global())
}

/// Longer than any run here takes, on simulated time.
const STILL_GOING: Duration = Duration::from_secs(600);

/// I/O-like jobs of 10 ms on `workers` workers, with a deep queue.
fn io_pool(workers: u32, jobs: u32) -> RunConfig {
    RunConfig {
        workload: WorkKind::Sleep,
        cost: 10_000,
        jobs,
        workers,
        queue: 1_000,
        ..RunConfig::default()
    }
}

/// Runs `config` on simulated time, calling `steer` with the run's handle at each
/// `(time, action)` of the script.
/// Something done to a run at a moment of its script.
type Action = Box<dyn Fn(&RunHandle)>;

fn steered(config: RunConfig, script: Vec<(Duration, Action)>) -> RunReport {
    steered_observed(config, script, &mut |_| {})
}

/// [`steered`], handing each progress batch to `observer`.
fn steered_observed(
    config: RunConfig,
    script: Vec<(Duration, Action)>,
    observer: &mut dyn FnMut(Progress),
) -> RunReport {
    let rt = sim();
    let timer = rt.sim.clone();
    let watchdog = rt.sim.clone();
    rt.sim
        .run(async {
            let (handle, report) = start(&rt, config, &CancelToken::new(), observer, None);
            // A run that never ends still streams progress on its timers, so the
            // simulation never stalls: give up after ten minutes of simulated time.
            let report = async {
                match select(Box::pin(report), watchdog.sleep(STILL_GOING)).await {
                    Either::Left((report, _)) => report,
                    Either::Right(_) => panic!("the run was still going after {STILL_GOING:?}"),
                }
            };
            let steer = async {
                let mut now = Duration::ZERO;
                for (at, action) in script {
                    timer.sleep(at - now).await;
                    now = at;
                    action(&handle);
                }
            };
            futures::join!(report, steer).0
        })
        .expect("the run never stalls")
}

fn resize(to: f64, shrink: Shrink) -> Action {
    Box::new(move |h| h.resize(to, shrink).unwrap())
}

fn ms(t: u64) -> Duration {
    Duration::from_millis(t)
}

fn by_worker(report: &RunReport) -> BTreeMap<u32, Vec<&JobRecord>> {
    let mut map: BTreeMap<u32, Vec<&JobRecord>> = BTreeMap::new();
    for job in report.jobs.iter().filter(|j| j.started_ms.is_some()) {
        map.entry(job.worker.unwrap()).or_default().push(job);
    }
    map
}

fn exactly_once(report: &RunReport) {
    assert!(report.identity_holds, "{:?}", report.counts);
    let mut ids: Vec<u32> = report.jobs.iter().map(|j| j.id).collect();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "a job recorded twice");
    assert_eq!(
        report.counts.completed + report.counts.failed + report.counts.cancelled,
        report
            .jobs
            .iter()
            .filter(|j| j.started_ms.is_some())
            .count() as u32,
        "every job that ran was counted once"
    );
}

#[test]
fn growing_starts_workers_that_take_queued_jobs_at_once() {
    let report = steered(
        io_pool(1, 60),
        vec![(ms(25), resize(6.0, Shrink::Graceful))],
    );
    exactly_once(&report);
    assert_eq!(report.counts.completed, 60);
    let workers = by_worker(&report);
    assert_eq!(workers.len(), 6);
    for w in 1..6 {
        let first = workers[&w][0];
        assert_eq!(
            first.started_ms,
            Some(25.0),
            "worker {w} took a queued job at once"
        );
    }
    assert_eq!(report.resizes.len(), 1);
    let r = &report.resizes[0];
    assert_eq!(
        (r.t_ms, r.from, r.to, r.cause.as_str()),
        (25.0, 1, 6, "manual")
    );
    assert_eq!(r.settled_ms, Some(25.0), "a grow is settled at once");
    // Worker 0 alone runs jobs at 0, 10 and 20 ms; from 25 ms five more take the
    // queue in rounds of 10 ms (worker 0 joins each round at 30, 40, …): the last
    // three of the 57 left start at 115 ms on new workers.
    assert_eq!(report.wall_ms, 125.0);
}

#[test]
fn progress_batches_stream_each_resize_once_as_it_happens() {
    let mut streamed = Vec::new();
    let report = steered_observed(
        io_pool(2, 200),
        vec![
            (ms(25), resize(6.0, Shrink::Graceful)),
            (ms(225), resize(3.0, Shrink::Graceful)),
        ],
        &mut |p| streamed.push((p.sample.t_ms, p.resizes)),
    );
    let all: Vec<_> = report
        .resizes
        .iter()
        .map(|r| (r.t_ms, r.from, r.to))
        .collect();
    assert_eq!(all, [(25.0, 2, 6), (225.0, 6, 3)]);
    // Each resize arrives in exactly one batch, the first one sent after it.
    let sent: Vec<_> = streamed
        .iter()
        .flat_map(|(_, r)| r.iter().map(|r| (r.t_ms, r.from, r.to)))
        .collect();
    assert_eq!(sent, all);
    for (elapsed, resizes) in &streamed {
        for r in resizes {
            assert!(
                r.t_ms <= *elapsed && *elapsed < r.t_ms + 50.0 + 1e-9,
                "{r:?} sent at {elapsed} ms"
            );
        }
    }
}

#[test]
fn shrinking_lets_removed_workers_finish_their_job_then_exit() {
    let report = steered(
        io_pool(8, 80),
        vec![(ms(25), resize(2.0, Shrink::Graceful))],
    );
    exactly_once(&report);
    assert_eq!(
        report.counts.completed, 80,
        "nothing cancelled by a graceful shrink"
    );
    for (worker, jobs) in by_worker(&report) {
        if worker >= 2 {
            // Each was half-way through its third job at 25 ms: it finished it.
            assert_eq!(jobs.len(), 3, "worker {worker}");
            assert!(jobs.iter().all(|j| j.started_ms.unwrap() < 25.0));
            assert_eq!(jobs.last().unwrap().finished_ms, Some(30.0));
        }
    }
    let late = report.samples.iter().filter(|s| s.t_ms > 30.0);
    assert!(
        late.clone().all(|s| s.workers <= 2),
        "the removed workers exited"
    );
}

/// The run ends the moment its last worker leaves (the last to leave wakes the
/// coordinator, as wg.Wait() returns), not at the next progress tick.
#[test]
fn a_run_ends_when_its_last_worker_leaves() {
    let report = steered(io_pool(2, 10), vec![]);
    assert_eq!(report.wall_ms, 50.0, "5 rounds of 10 ms jobs on 2 workers");
    // CPU workers are continuations on the pool threads: only their leaving can wake
    // the coordinator (CPU work takes no simulated time, so the run ends at 0 ms).
    let cpu = steered(
        RunConfig {
            workload: WorkKind::Primes,
            cost: 10_000,
            ..io_pool(1, 10)
        },
        vec![],
    );
    assert_eq!(cpu.counts.completed, 10);
    assert_eq!(cpu.wall_ms, 0.0, "not at the next progress tick");
}

/// A graceful shrink is settled when the last removed worker has left — not when the
/// first one does — with jobs of uneven length (exponential), so they leave one by one.
#[test]
fn a_graceful_shrink_settles_when_the_last_removed_worker_leaves() {
    let report = steered(
        RunConfig {
            distribution: scalelab::engine::config::Distribution::Exponential,
            seed: 11,
            ..io_pool(4, 40)
        },
        vec![(ms(25), resize(1.0, Shrink::Graceful))],
    );
    exactly_once(&report);
    let leaving: Vec<f64> = by_worker(&report)
        .into_iter()
        .filter(|(worker, _)| *worker >= 1)
        .map(|(_, jobs)| jobs.last().unwrap().finished_ms.unwrap())
        .collect();
    let (first, last) = leaving
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t)));
    assert!(first < last, "the removed workers leave at different times");
    assert_eq!(report.resizes[0].settled_ms, Some(last));
}

#[test]
fn stop_now_cancels_the_removed_workers_jobs() {
    let report = steered(io_pool(8, 80), vec![(ms(25), resize(2.0, Shrink::StopNow))]);
    exactly_once(&report);
    assert_eq!(
        report.counts.cancelled, 6,
        "one running job per removed worker"
    );
    let cancelled: Vec<&JobRecord> = report
        .jobs
        .iter()
        .filter(|j| j.outcome == Some(Outcome::Cancelled))
        .collect();
    assert!(
        cancelled
            .iter()
            .all(|j| j.finished_ms == Some(25.0) && j.worker >= Some(2))
    );
    assert_eq!(report.counts.completed, 74, "the rest ran on the two left");
    assert_eq!(report.resizes[0].cause, "manual (stop now)");
    assert_eq!(
        report.resizes[0].settled_ms,
        Some(25.0),
        "their jobs stopped at once"
    );
}

#[test]
fn a_grow_right_after_a_stop_now_lets_the_workers_carry_on() {
    // The removed workers' jobs are asked to stop; the pool grows back at the same
    // moment. Those workers stay, and every later job of theirs runs (a stop left set on
    // a worker that stayed would cancel all of them, one after another).
    let report = steered(
        io_pool(8, 80),
        vec![
            (ms(25), resize(2.0, Shrink::StopNow)),
            (ms(25), resize(8.0, Shrink::Graceful)),
        ],
    );
    exactly_once(&report);
    assert!(report.counts.cancelled <= 6, "{:?}", report.counts);
    assert_eq!(report.counts.completed + report.counts.cancelled, 80);
    assert!(
        report
            .jobs
            .iter()
            .filter(|j| j.started_ms.is_some_and(|s| s > 25.0))
            .all(|j| j.outcome == Some(Outcome::Completed)),
        "jobs started after the grow run to the end"
    );
}

#[test]
fn zero_workers_pauses_the_pool_and_a_raise_resumes_it() {
    let report = steered(
        io_pool(4, 40),
        vec![
            (ms(15), resize(0.0, Shrink::Graceful)),
            (ms(100), resize(4.0, Shrink::Graceful)),
        ],
    );
    exactly_once(&report);
    assert_eq!(report.counts.completed, 40);
    let started_while_paused = report
        .jobs
        .iter()
        .filter(|j| j.started_ms.is_some_and(|s| (15.0..100.0).contains(&s)))
        .count();
    assert_eq!(started_while_paused, 0, "nothing starts while paused");
    let paused = report
        .samples
        .iter()
        .filter(|s| (25.0..100.0).contains(&s.t_ms));
    assert!(paused.clone().all(|s| s.workers == 0 && s.queued > 0));
}

#[test]
fn a_paused_pool_still_meets_its_deadline() {
    let config = RunConfig {
        queue: 4,
        timeout_ms: 200.0,
        ..io_pool(2, 40)
    };
    let report = steered(config, vec![(ms(5), resize(0.0, Shrink::Graceful))]);
    exactly_once(&report);
    let c = report.counts;
    assert_eq!(c.completed, 2, "the two jobs running at the pause finished");
    assert_eq!(
        c.not_started, 38,
        "the queued and unsent ones never started"
    );
    assert_eq!(report.cancellation.unwrap().err, "deadline exceeded");
    let paused = report
        .samples
        .iter()
        .filter(|s| (20.0..200.0).contains(&s.t_ms));
    assert!(
        paused.clone().all(|s| s.queued == 4),
        "the producer blocked on a full queue"
    );
}

#[test]
fn changes_out_of_range_or_after_the_end_are_refused_and_change_nothing() {
    let rt = sim();
    let mut observer = |_| {};
    let (handle, report) = start(
        &rt,
        io_pool(3, 20),
        &CancelToken::new(),
        &mut observer,
        None,
    );
    let refused = |e: ControlError| e.to_string();
    assert_eq!(
        refused(handle.resize(300.0, Shrink::Graceful).unwrap_err()),
        "workers: 300 is out of range; allowed: a whole number 0–256 goroutines"
    );
    assert_eq!(
        refused(handle.resize(2.5, Shrink::Graceful).unwrap_err()),
        "workers: 2.5 is not a whole number; allowed: a whole number 0–256 goroutines"
    );
    assert_eq!(
        refused(handle.set_rate(50.0, None).unwrap_err()),
        "rate: 50 cannot be changed: this run has no rate limiter; allowed: a rate-limited pipeline (pattern ratelimit)"
    );
    assert_eq!(handle.workers(), Some(3), "unchanged");
    let report = rt.sim.run(report).unwrap();
    assert!(report.resizes.is_empty());
    assert_eq!(
        handle.resize(2.0, Shrink::Graceful).unwrap_err(),
        ControlError::Ended
    );
    assert_eq!(
        handle
            .resize(2.0, Shrink::Graceful)
            .unwrap_err()
            .to_string(),
        "the run has ended: resize and setRate only change a run while it goes"
    );
    // Fan-out has no pool; an autoscaler's range bounds a resize.
    let (fan_out, run) = start(
        &rt,
        RunConfig {
            pattern: Pattern::FanOut,
            ..io_pool(3, 20)
        },
        &CancelToken::new(),
        &mut observer,
        None,
    );
    assert!(fan_out.resize(4.0, Shrink::Graceful).is_err());
    rt.sim.run(run).unwrap();
    let (scaled, run) = start(
        &rt,
        RunConfig {
            scaling: Scaling::Aimd,
            min_workers: 2,
            max_workers: 10,
            ..io_pool(3, 20)
        },
        &CancelToken::new(),
        &mut observer,
        None,
    );
    assert_eq!(
        refused(scaled.resize(12.0, Shrink::Graceful).unwrap_err()),
        "workers: 12 is out of range; allowed: a whole number 2–10 goroutines"
    );
    rt.sim.run(run).unwrap();
}

/// A script of resizes at distinct times (ms), each to 0..=64 workers.
fn storm() -> impl Strategy<Value = Vec<(u64, u32, bool)>> {
    prop::collection::vec((1u64..400, 0u32..=64, any::<bool>()), 1..40).prop_map(|mut v| {
        v.sort_by_key(|(t, _, _)| *t);
        v.dedup_by_key(|(t, _, _)| *t);
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any storm of resizes (graceful or stop now, pauses included) loses and
    /// duplicates nothing, and leaves the pool at the last size asked for.
    #[test]
    fn a_resize_storm_loses_and_duplicates_nothing(script in storm()) {
        // Jobs for 500 ms, so the whole script (up to 400 ms) plays while it runs.
        // 5 ms jobs: even 64 workers from the first millisecond run at most
        // 64 × 100 = 6,400 of them, within the report's window of the 10,000 most
        // recent jobs, so `exactly_once` can match every count to a record (with
        // 3 ms jobs a storm to 60 workers ran 10,036 and the check compared them
        // with the 10,000 records kept).
        let mut config = io_pool(4, 10_000_000);
        config.duration_ms = 500.0;
        config.cost = 5_000;
        config.queue = 16;
        let last = script.last().unwrap().1;
        let mut steps: Vec<(Duration, Action)> = script
            .iter()
            .map(|&(t, to, now)| {
                let shrink = if now { Shrink::StopNow } else { Shrink::Graceful };
                (ms(t), resize(to as f64, shrink))
            })
            .collect();
        // A paused pool never drains: give it workers at the end so the run can finish.
        let end = script.last().unwrap().0 + 1;
        let final_size = last.max(1);
        steps.push((ms(end), Box::new(move |h: &RunHandle| {
            h.resize(final_size as f64, Shrink::Graceful).unwrap();
            assert_eq!(h.workers(), Some(final_size));
        })));
        let report = steered(config, steps);
        exactly_once(&report);
        let c = report.counts;
        prop_assert!(c.submitted > 0);
        prop_assert!(c.submitted as usize <= RECENT, "the run fits the report's window of recent jobs");
        prop_assert_eq!(c.completed + c.cancelled, c.submitted, "every job ran, once");
        let logged = report.resizes.last().map_or(4, |r| r.to);
        prop_assert_eq!(logged, final_size, "the last resize is the pool's size");
        prop_assert!(report.samples.last().unwrap().workers == 0, "every worker left at the end");
    }
}

/// The same on CPU workers on real threads: a steering thread resizes the pool
/// (0–64, graceful or stop now) each time a few more jobs have ended, whatever the
/// timing.
#[test]
fn a_resize_storm_on_real_threads_loses_and_duplicates_nothing() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    let config = RunConfig {
        workload: WorkKind::Primes,
        cost: 20_000,
        jobs: 4_000,
        workers: 4,
        queue: 16,
        ..RunConfig::default()
    };
    let rt = NativeRuntime::new(RayonPool::with_threads(2));
    let done = Arc::new(AtomicU32::new(0));
    let seen = done.clone();
    let mut observer =
        move |p: scalelab::engine::Progress| seen.store(p.counts.done(), Ordering::Release);
    let (handle, run) = start(&rt, config, &CancelToken::new(), &mut observer, None);
    let steering = std::thread::spawn(move || {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut asked = Vec::new();
        for step in 1..=60u32 {
            // Wait (without sleeping) until the run has moved on.
            while done.load(Ordering::Acquire) < step * 30 {
                if handle.workers().is_none() {
                    return asked;
                }
                std::thread::yield_now();
            }
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let to = (seed % 65) as u32;
            let shrink = if seed & 64 == 0 {
                Shrink::Graceful
            } else {
                Shrink::StopNow
            };
            if handle.resize(to as f64, shrink).is_ok() {
                asked.push(to);
            }
            // Never leave it paused for long: the next step needs jobs to end.
            if to == 0 && handle.resize(3.0, Shrink::Graceful).is_ok() {
                asked.push(3);
            }
        }
        asked
    });
    let report = futures::executor::block_on(run);
    let asked = steering.join().unwrap();
    exactly_once(&report);
    let c = report.counts;
    assert_eq!((c.submitted, c.completed + c.cancelled), (4_000, 4_000));
    assert!(
        asked.len() > 10,
        "the storm happened: {} resizes",
        asked.len()
    );
    let logged: Vec<u32> = report.resizes.iter().map(|r| r.to).collect();
    let mut requested = asked.clone();
    requested.dedup();
    assert_eq!(
        logged.last(),
        requested.last(),
        "the pool ends at the last size asked"
    );
    assert_eq!(
        report.samples.last().unwrap().workers,
        0,
        "every worker left"
    );
}

#[test]
fn rate_and_burst_change_while_the_run_goes() {
    let config = RunConfig {
        pattern: Pattern::RateLimit,
        pacing: Pacing::Bucket,
        rate: 100.0,
        burst: 1,
        jobs: 150,
        workload: WorkKind::Sleep,
        cost: 100,
        workers: 4,
        queue: 16,
        ..RunConfig::default()
    };
    let faster: Action = Box::new(|h| h.set_rate(1_000.0, Some(5.0)).unwrap());
    let report = steered(config.clone(), vec![(ms(1_000), faster)]);
    exactly_once(&report);
    let limiter = report.limiter.unwrap();
    assert_eq!(limiter.changes.len(), 1);
    assert_eq!(
        (limiter.changes[0].rate, limiter.changes[0].burst),
        (1_000.0, 5)
    );
    // 100 jobs in the first second at 100/s (the first at once), then 50 more at
    // 1000/s: a new release every millisecond, the bucket's 5 tokens filling first.
    let after: Vec<f64> = limiter
        .grant_log
        .iter()
        .map(|g| g.t_ms)
        .filter(|&t| t >= 1_000.0)
        .collect();
    assert_eq!(after.len(), 50);
    assert!(*after.last().unwrap() <= 1_050.0, "{after:?}");
    assert!(report.wall_ms < 1_100.0);
    // A ticker's rate changes too (Go's Reset); it has no burst to set.
    let ticker = RunConfig {
        pacing: Pacing::Ticker,
        ..config
    };
    let rt = sim();
    let mut observer = |_| {};
    let (handle, run) = start(&rt, ticker, &CancelToken::new(), &mut observer, None);
    assert_eq!(
        handle.set_rate(10.0, Some(4.0)).unwrap_err().to_string(),
        "burst: 4 cannot be set: a ticker has no burst; allowed: token bucket pacing"
    );
    assert_eq!(
        handle.set_rate(0.0, None).unwrap_err().to_string(),
        "rate: 0 is out of range; allowed: 0.1–100000 jobs/s"
    );
    handle.set_rate(200.0, None).unwrap();
    let report = rt.sim.run(run).unwrap();
    assert!(report.identity_holds);
}

#[test]
fn a_duration_run_submits_until_its_time_is_up_then_drains() {
    let config = RunConfig {
        duration_ms: 100.0,
        jobs: 10_000_000,
        cost: 1_000,
        workers: 4,
        queue: 8,
        ..io_pool(4, 1)
    };
    let report = steered(config, vec![]);
    exactly_once(&report);
    let c = report.counts;
    // 4 workers x 1 ms jobs for 100 ms, plus the queue the producer had filled.
    assert!((400..=412).contains(&c.submitted), "{c:?}");
    assert_eq!(c.completed, c.submitted, "the queue drains after the end");
    assert_eq!(c.not_started, 0, "unmade jobs are not counted");
}

#[test]
fn a_long_run_keeps_exact_counts_in_bounded_memory() {
    let config = RunConfig {
        workload: WorkKind::Primes,
        cost: 1,
        jobs: 300_000,
        workers: 4,
        queue: 64,
        failure: 0.01,
        ..RunConfig::default()
    };
    let rt = NativeRuntime::new(RayonPool::with_threads(2));
    let report = futures::executor::block_on(scalelab::engine::execute(
        &rt,
        config,
        &CancelToken::new(),
        &mut |_| {},
    ));
    assert!(report.identity_holds);
    let c = report.counts;
    assert_eq!(c.completed + c.failed, 300_000);
    assert!((2_700..=3_300).contains(&c.failed), "{c:?}");
    assert!(
        report.jobs.len() <= RECENT + NOTABLE as usize,
        "the window is bounded: {}",
        report.jobs.len()
    );
    assert_eq!(report.jobs_kept as usize, report.jobs.len());
    assert_eq!(
        report
            .jobs
            .iter()
            .filter(|j| j.outcome == Some(Outcome::Failed))
            .count() as u32,
        c.failed.min(NOTABLE),
        "every failed job kept, up to the cap"
    );
    assert_eq!(
        report.latency.service.count, 300_000,
        "every latency recorded"
    );
    assert!(report.samples.len() <= 1_025);
}

/// On the simulated backend with 8 slots and a 10 ms service time, each adaptive
/// policy finds the backend's capacity: the limit settles within ±25% of 8.
#[test]
fn adaptive_concurrency_settles_near_the_backends_capacity() {
    for scaling in [Scaling::Aimd, Scaling::Gradient2] {
        let config = RunConfig {
            workload: WorkKind::Backend,
            backend_slots: 8,
            cost: 10_000,
            scaling,
            workers: 1,
            min_workers: 1,
            max_workers: 64,
            // AIMD cuts above 11 ms, 10% above the service time: it settles where the
            // latency crosses that, about 8 x 11 / 10 in flight.
            scale_target: if scaling == Scaling::Aimd { 11.0 } else { 1.0 },
            duration_ms: 8_000.0,
            jobs: 10_000_000,
            queue: 1_000,
            ..RunConfig::default()
        };
        let report = steered(config, vec![]);
        exactly_once(&report);
        let settled: Vec<u32> = report
            .samples
            .iter()
            .filter(|s| (5_000.0..8_000.0).contains(&s.t_ms))
            .map(|s| s.limit)
            .collect();
        assert!(!settled.is_empty());
        assert!(
            settled.iter().all(|&l| (6..=10).contains(&l)),
            "{scaling:?}: {settled:?}"
        );
        assert!(
            report
                .resizes
                .iter()
                .all(|r| r.cause.starts_with(match scaling {
                    Scaling::Aimd => "aimd:",
                    _ => "gradient2:",
                }))
        );
    }
}

/// The queue policy on a paced producer: it scales the pool to hold the queue near its
/// target.
#[test]
fn the_queue_policy_holds_the_queue_near_its_target() {
    let config = RunConfig {
        pattern: Pattern::RateLimit,
        rate: 800.0,
        burst: 1,
        workload: WorkKind::Sleep,
        cost: 10_000,
        scaling: Scaling::Queue,
        scale_target: 10.0,
        cooldown_ms: 200.0,
        workers: 1,
        min_workers: 1,
        max_workers: 32,
        duration_ms: 5_000.0,
        jobs: 10_000_000,
        queue: 1_000,
        ..RunConfig::default()
    };
    let report = steered(config, vec![]);
    exactly_once(&report);
    let steady: Vec<u32> = report
        .samples
        .iter()
        .filter(|s| (2_000.0..5_000.0).contains(&s.t_ms))
        .map(|s| s.queued)
        .collect();
    let mut sorted = steady.clone();
    sorted.sort_unstable();
    let p90 = sorted[sorted.len() * 9 / 10];
    assert!(p90 <= 20, "queue p90 {p90} > 2 x target: {steady:?}");
    assert!(report.resizes.iter().all(|r| r.cause.starts_with("queue:")));
}

/// A resize asked for through the run's abort slot (as the page writes it) is applied
/// by a worker between jobs; the same request arriving again by message is not applied
/// twice, and an older request arriving late does not undo a newer one.
#[test]
fn resizes_through_shared_memory_apply_once_and_in_order() {
    use scalelab::engine::abort_slot::{self, ResizeRequest};
    let rt = sim();
    let timer = rt.sim.clone();
    let armed = abort_slot::arm(20, 77).unwrap();
    let request = |seq, workers| ResizeRequest {
        seq,
        workers,
        stop_now: false,
    };
    let report = rt
        .sim
        .run(async {
            let mut observer = |_| {};
            let (handle, report) = start(
                &rt,
                io_pool(2, 400),
                &CancelToken::new(),
                &mut observer,
                Some(armed),
            );
            let steer = async {
                timer.sleep(ms(25)).await;
                assert!(abort_slot::request_resize(20, 77, request(1, 6)));
                timer.sleep(ms(10)).await;
                assert_eq!(
                    handle.workers(),
                    Some(6),
                    "a worker applied it between jobs"
                );
                // The same request's message, later: already applied.
                handle.resize_given("6", Shrink::Graceful, Some(1)).unwrap();
                // Request 3 by memory, then request 2's message arrives late.
                assert!(abort_slot::request_resize(20, 77, request(3, 3)));
                timer.sleep(ms(10)).await;
                handle.resize_given("8", Shrink::Graceful, Some(2)).unwrap();
                assert_eq!(
                    handle.workers(),
                    Some(3),
                    "the older request is not applied"
                );
                // A refused request by memory changes nothing (its message says why).
                assert!(abort_slot::request_resize(20, 77, request(4, 999)));
                timer.sleep(ms(10)).await;
                assert_eq!(handle.workers(), Some(3));
            };
            futures::join!(report, steer).0
        })
        .unwrap();
    exactly_once(&report);
    let sizes: Vec<(u32, u32)> = report.resizes.iter().map(|r| (r.from, r.to)).collect();
    assert_eq!(sizes, vec![(2, 6), (6, 3)]);
}

/// "Stop now" reaches a CPU job on the pool threads, too: the removed worker's running
/// job stops at its next check (cancelled) instead of spinning to its end.
#[test]
fn stop_now_stops_a_removed_workers_cpu_job() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    let config = RunConfig {
        workload: WorkKind::Spin,
        cost: 1_000_000, // 1 s of spinning per job: both start long before either ends
        jobs: 3,
        workers: 2,
        queue: 4,
        ..RunConfig::default()
    };
    let rt = NativeRuntime::new(RayonPool::with_threads(2));
    let started = Arc::new(AtomicU32::new(0));
    let seen = started.clone();
    let mut observer = move |p: scalelab::engine::Progress| {
        seen.fetch_max(p.started, Ordering::AcqRel);
    };
    let (handle, run) = start(&rt, config, &CancelToken::new(), &mut observer, None);
    let steering = std::thread::spawn(move || {
        // Wait (without sleeping) until both workers run a job.
        while started.load(Ordering::Acquire) < 2 {
            std::thread::yield_now();
        }
        handle.resize(1.0, Shrink::StopNow).unwrap();
    });
    let report = futures::executor::block_on(run);
    steering.join().unwrap();
    exactly_once(&report);
    assert_eq!(
        (report.counts.completed, report.counts.cancelled),
        (2, 1),
        "worker 1's job was stopped; worker 0 ran the other two"
    );
}

/// An autoscaler's decision in the very tick in which the last worker left (the jobs
/// all ended, the channel closed) must not bring the pool back: the run is over, and
/// nothing would start the revived workers or wait for them. AIMD cuts the limit every
/// 100 ms here (10 ms jobs, a 5 ms threshold), so some job counts make the last job
/// end exactly on a tick. The cut in that tick re-activated the slots of the finished
/// pool, and the run waited forever for workers nobody started (found in the browser:
/// an 8 s AIMD run still going at 42 s with 8 workers, none running, none queued).
#[test]
fn a_scaling_decision_as_the_last_worker_leaves_ends_the_run() {
    // 64 workers for 100 ms, then 57: the runs of 1,190–1,219 jobs end at 200 ms, in
    // the tick of the second cut.
    for jobs in 1_190..1_225 {
        let config = RunConfig {
            workload: WorkKind::Sleep,
            cost: 10_000,
            jobs,
            workers: 64,
            min_workers: 1,
            max_workers: 64,
            scaling: Scaling::Aimd,
            scale_target: 5.0,
            queue: 2_000,
            ..RunConfig::default()
        };
        let report = steered(config, vec![]);
        exactly_once(&report);
        assert_eq!(report.counts.completed, jobs);
        assert_eq!(report.samples.last().unwrap().workers, 0, "{jobs} jobs");
        // The cut decided as the run ended changed nothing, so it is not logged; every
        // logged one settled.
        let cuts: Vec<f64> = report.resizes.iter().map(|r| r.t_ms).collect();
        let expected = if report.wall_ms > 200.0 {
            vec![100.0, 200.0]
        } else {
            vec![100.0]
        };
        assert_eq!(cuts, expected, "{jobs} jobs, {} ms", report.wall_ms);
        assert!(report.resizes.iter().all(|r| r.settled_ms.is_some()));
    }
}
