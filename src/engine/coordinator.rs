//! The coordinator: one async task that runs a whole run without ever blocking. It
//! produces jobs (paced by the limiter in rate-limited runs), runs the I/O-like workers
//! on timers, enforces the deadline and the duration, applies the scaling policy,
//! reacts to cancellation, streams [`Progress`] every [`FLUSH_INTERVAL`], and builds
//! the [`RunReport`] once every job has an outcome and every worker has exited (Go's
//! `wg.Wait()`).
//!
//! It runs wherever its [`Runtime`] lives: in the browser on the engine worker's event
//! loop, natively under `block_on`, in tests under simulated time.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures::future::{Either, join_all, select};
use futures::stream::{FuturesUnordered, StreamExt};

use super::abort_slot::ArmedSlot;
use super::config::{ConfigErrors, Pacing, Pattern, RunConfig};
use super::control::RunHandle;
use super::generator::{GeneratorLog, generate};
use super::job::Job;
use super::pipeline::Pipeline;
use super::pool::Shrink;
use super::producer::InlineProducer;
use super::report::{
    Grant, JobRecord, LimiterReport, Progress, RateChangeRecord, RunReport, Sample,
};
use super::runtime::Runtime;
use super::scaling::{SCALE_INTERVAL, Signals, scaler_for};
use super::state::RunShared;
use super::workers::{io_worker, run_io_job, spawn_cpu_fan_out};
use crate::cancel::CancelToken;
use crate::clock::{Clock, SleepFuture, Timer};
use crate::limiter::{RateLimiter, Ticker, WaitError};
use crate::workload::arrival::ArrivalSchedule;
use crate::workload::plan::Planner;

/// How often progress is streamed while a run goes.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(50);
/// Most limiter releases kept for the report (the latest; the rest are counted).
pub const MAX_GRANTS: usize = 10_000;

/// Validates `config`, then runs it (see [`execute`]).
///
/// ```
/// use scalelab::cancel::CancelToken;
/// use scalelab::engine::config::{Pattern, WorkKind};
/// use scalelab::engine::runtime::{RayonPool, SimRuntime};
/// use scalelab::engine::{RunConfig, run};
///
/// // A worker pool of I/O-like jobs on simulated time: no real sleeping.
/// let rt = SimRuntime::new(RayonPool::global());
/// let config = RunConfig {
///     pattern: Pattern::Pool,
///     workload: WorkKind::Sleep,
///     jobs: 100,
///     workers: 4,
///     cost: 1_000, // µs per job
///     ..RunConfig::default()
/// };
/// let report = rt
///     .sim
///     .run(run(&rt, config, &CancelToken::new(), &mut |_progress| {}))
///     .unwrap()
///     .unwrap();
/// assert_eq!(report.counts.completed, 100);
/// assert!(report.identity_holds);
/// ```
pub async fn run<R: Runtime>(
    rt: &R,
    config: RunConfig,
    parent: &CancelToken,
    observer: &mut dyn FnMut(Progress),
) -> Result<RunReport, ConfigErrors> {
    config.validate()?;
    Ok(execute(rt, config, parent, observer).await)
}

/// Runs a validated configuration to the end. The run stops early when `parent` is
/// cancelled, when the configured timeout passes, or (fail fast) at the first error;
/// every job is still accounted for in the report.
pub async fn execute<R: Runtime>(
    rt: &R,
    config: RunConfig,
    parent: &CancelToken,
    observer: &mut dyn FnMut(Progress),
) -> RunReport {
    execute_with_slot(rt, config, parent, observer, None).await
}

/// [`execute`], also stopping when an abort is requested through `abort_slot` (see
/// [`super::abort_slot`]). The slot is disarmed when this returns, before the report
/// is handed on, so its owner may reuse it for the next run at once.
pub async fn execute_with_slot<R: Runtime>(
    rt: &R,
    config: RunConfig,
    parent: &CancelToken,
    observer: &mut dyn FnMut(Progress),
    abort_slot: Option<ArmedSlot>,
) -> RunReport {
    let (_handle, report) = start(rt, config, parent, observer, abort_slot);
    report.await
}

/// Starts a validated configuration and returns at once: a [`RunHandle`] to resize the
/// pool or change the rate while it goes, and the run itself, a future of its report
/// (the run makes progress only while that future is polled).
///
/// ```
/// use scalelab::cancel::CancelToken;
/// use scalelab::engine::config::WorkKind;
/// use scalelab::engine::pool::Shrink;
/// use scalelab::engine::runtime::{RayonPool, Runtime, SimRuntime};
/// use scalelab::engine::{RunConfig, start};
///
/// let rt = SimRuntime::new(RayonPool::global());
/// let config = RunConfig {
///     workload: WorkKind::Sleep,
///     jobs: 400,
///     workers: 2,
///     cost: 1_000,
///     ..RunConfig::default()
/// };
/// let report = rt
///     .sim
///     .run(async {
///         let mut observer = |_| {};
///         let (handle, report) = start(&rt, config, &CancelToken::new(), &mut observer, None);
///         let steer = async {
///             rt.sleep(std::time::Duration::from_millis(20)).await;
///             handle.resize(8.0, Shrink::Graceful).unwrap(); // grow while it runs
///         };
///         futures::join!(report, steer).0
///     })
///     .unwrap();
/// assert_eq!(report.resizes[0].to, 8);
/// assert!(report.identity_holds);
/// ```
pub fn start<'a, R: Runtime>(
    rt: &'a R,
    config: RunConfig,
    parent: &CancelToken,
    observer: &'a mut dyn FnMut(Progress),
    abort_slot: Option<ArmedSlot>,
) -> (RunHandle, impl Future<Output = RunReport> + 'a) {
    let clock = rt.clock();
    let cpu = rt.pool();
    let capacity = match config.pattern {
        Pattern::Pool | Pattern::RateLimit => Some(config.queue as usize),
        // errgroup.Go blocks until one of `limit` slots is free: an unbuffered hand-off.
        Pattern::FailFast => Some(0),
        // Fan-out has no channel; a pipeline has one per stage (see `super::pipeline`).
        Pattern::FanOut | Pattern::Pipeline => None,
    };
    let watch = abort_slot.as_ref().map(ArmedSlot::watch);
    // The timeout starts with the run's clock, so a 300 ms timeout reads as 300 ms on
    // the run's timeline.
    let token = match config.timeout() {
        Some(timeout) => parent.child_with_timeout(timeout, clock.clone()),
        None => parent.child(),
    };
    let run = RunShared::new(config, clock, token, cpu, capacity, watch);
    if run.config.has_pool() {
        run.start_pool();
    }
    let handle = RunHandle::new(&run);
    (handle, coordinate(rt, run, observer, abort_slot))
}

async fn coordinate<R: Runtime>(
    rt: &R,
    run: Arc<RunShared>,
    observer: &mut dyn FnMut(Progress),
    abort_slot: Option<ArmedSlot>,
) -> RunReport {
    let threads = run.cpu.threads();
    let pacer = Pacer::new(rt, &run);
    let grants = RefCell::new(GrantLog::default());
    let open_loop = ArrivalSchedule::new(&run.config).map(|schedule| {
        (
            RefCell::new(schedule),
            RefCell::new(GeneratorLog::default()),
        )
    });
    let mut samples = super::record::series::SampleLog::default();
    let pipeline = (run.config.pattern == Pattern::Pipeline).then(|| Pipeline::new(&run));
    let sources = Sources {
        pacer: pacer.as_ref(),
        open_loop: open_loop.as_ref(),
        pipeline: pipeline.as_ref(),
    };
    samples.push(sample(rt, &run, &sources, None));
    let io = !run.config.workload.is_cpu();
    let producer = async {
        match (run.config.has_pool(), pacer.as_ref()) {
            (false, _) if let Some(pipeline) = &pipeline => pipeline.run(rt, &run).await,
            (true, _) if let Some((schedule, log)) = &open_loop => {
                generate(rt, &run, schedule, log).await
            }
            (true, None) => produce_inline(rt, &run).await,
            (true, Some(pacer)) => produce_paced(rt, &run, pacer, &grants).await,
            (false, _) if io => fan_out_io(rt, &run).await,
            (false, _) => fan_out_cpu(&run).await,
        }
    };
    let everything = async {
        futures::join!(
            producer,
            io_workers(rt, &run),
            enforce_deadline(rt, &run),
            on_cancel(&run),
            autoscale(rt, &run),
            stream_progress(rt, &run, &sources, &grants, &mut samples, observer),
        )
    };
    // A crashed pool thread never finishes its job: stop waiting and say so.
    let crash = match select(Box::pin(everything), Box::pin(crash_reported())).await {
        Either::Left(_) => None,
        Either::Right((message, _)) => {
            run.token.cancel_with(message.clone());
            Some(message)
        }
    };
    run.end_run();
    let wall_ms = run.now() as f64 / 1e6;
    samples.push_last(sample(rt, &run, &sources, None));
    let limiter = pacer
        .as_ref()
        .map(|pacer| grants.into_inner().report(pacer.pacing(), run.config.rate));
    let mut report =
        super::report::build_report(&run, threads, wall_ms, samples.into_vec(), limiter);
    report.crash = crash;
    if let Some(pipeline) = &pipeline {
        let (stages, spans) = pipeline.report(run.now());
        report.time_use = stages.time_use(report.time_use);
        report.jobs_kept = spans.len() as u32;
        report.jobs = spans;
        report.pipeline = Some(stages);
    }
    report.generator = open_loop
        .as_ref()
        .map(|(schedule, log)| log.borrow().report(&schedule.borrow()));
    drop(abort_slot);
    report
}

/// Resolves with the message once a crash is reported (see [`super::fault`]).
async fn crash_reported() -> String {
    poll_fn(|cx| {
        super::fault::CRASH_WAKER.register(cx.waker());
        match super::fault::crashed() {
            Some(message) => Poll::Ready(message),
            None => Poll::Pending,
        }
    })
    .await
}

/// Resolves once the run is done (see [`RunShared::is_done`]).
async fn run_done(run: &RunShared) {
    poll_fn(|cx| {
        run.register_coordinator(cx.waker());
        if run.is_done() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Resolves when the run's producing time is up (never, without a duration).
pub(super) async fn duration_up<R: Runtime>(rt: &R, run: &RunShared) {
    let Some(duration) = run.config.duration() else {
        return std::future::pending().await;
    };
    loop {
        let now = Duration::from_nanos(run.now());
        if now >= duration {
            return;
        }
        rt.sleep(duration - now).await;
    }
}

/// The producer of unpaced channel runs (see [`super::producer`]): started here, it
/// then runs on whichever thread's receive makes room; the coordinator waits until it
/// is done, the run is cancelled or its duration is up.
async fn produce_inline<R: Runtime>(rt: &R, run: &Arc<RunShared>) {
    let producer = InlineProducer::start(run);
    let done_or_cancelled = poll_fn(|cx| {
        run.register_coordinator(cx.waker());
        if producer.is_done() || run.check_cancelled() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    });
    select(Box::pin(done_or_cancelled), Box::pin(duration_up(rt, run))).await;
    producer.stop(); // a no-op once it is done
}

/// The producer of paced runs: sends every job when the limiter releases it, then
/// closes the channel. Stops at cancellation or when its duration is up; applies rate
/// changes as they come.
async fn produce_paced<R: Runtime>(
    rt: &R,
    run: &Arc<RunShared>,
    pacer: &Pacer<'_, R>,
    grants: &RefCell<GrantLog>,
) {
    let channel = run
        .channel
        .clone()
        .expect("channel patterns have a channel");
    let mut planner = Planner::new(&run.config);
    let produce = async {
        while planner.planned() < run.config.jobs && !run.check_cancelled() {
            let asked = run.now();
            let waited = loop {
                match select(
                    Box::pin(pacer.wait(&run.token)),
                    Box::pin(run.rate_control.changed()),
                )
                .await
                {
                    Either::Left((result, _)) => break result,
                    Either::Right(_) => {
                        // The wait was given up (its reservation cancelled): apply the
                        // change, and wait again under the new rate.
                        if let Some(change) = run.rate_control.take() {
                            pacer.apply(change);
                            grants.borrow_mut().changes.push(RateChangeRecord {
                                t_ms: run.now() as f64 / 1e6,
                                rate: change.rate,
                                burst: change.burst,
                            });
                        }
                    }
                }
            };
            let waited = match waited {
                Ok(waited) => waited,
                Err(stopped) => {
                    grants.borrow_mut().stopped = stopped;
                    break;
                }
            };
            let now = run.now();
            if waited {
                run.time_use.limiter_waited(now - asked);
            }
            grants.borrow_mut().push(Grant {
                t_ms: now as f64 / 1e6,
                // Zero when the release needed no wait (a token was there, a tick was due).
                waited_ms: if waited {
                    (now - asked) as f64 / 1e6
                } else {
                    0.0
                },
                tokens: pacer.tokens(),
            });
            let job = Job::new(planner.next_job(), now);
            let sent = select(channel.send(job), run.token.cancelled()).await;
            run.time_use.queue_full(run.now() - now);
            match sent {
                Either::Left((Ok(()), _)) => {}
                _ => break,
            }
        }
    };
    select(Box::pin(produce), Box::pin(duration_up(rt, run))).await;
    channel.close();
    run.producer_done(run.unsent());
}

/// After a cancel, waits until no job is running (state invariant 4) so that the
/// bookkeeping that follows does not slow the jobs still stopping.
async fn settle_after_cancel(run: &RunShared) {
    if !run.check_cancelled() {
        return;
    }
    poll_fn(|cx| {
        run.register_coordinator(cx.waker());
        if run.running() == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Fan-out of CPU jobs: a pool task per job, all at once.
async fn fan_out_cpu(run: &Arc<RunShared>) {
    let mut planner = Planner::new(&run.config);
    while planner.planned() < run.config.jobs && !run.check_cancelled() {
        let job = Job::new(planner.next_job(), run.now());
        spawn_cpu_fan_out(run, job);
    }
    run.producer_done(run.config.jobs - run.submitted());
}

/// Fan-out of I/O-like jobs: every job's timer started at once.
async fn fan_out_io<R: Runtime>(rt: &R, run: &Arc<RunShared>) {
    let mut planner = Planner::new(&run.config);
    let now = run.now();
    let jobs: Vec<Job> = (0..run.config.jobs)
        .map(|_| {
            let mut job = Job::new(planner.next_job(), now);
            run.spawned(&mut job);
            run.task_spawned();
            job
        })
        .collect();
    run.producer_done(0);
    join_all(jobs.into_iter().map(|job| async move {
        let id = job.spec.id;
        run_io_job(rt, run, job, id).await;
        run.task_ended();
    }))
    .await;
}

/// The I/O workers of the pool: tasks on the coordinator, started as the pool asks
/// (at the start and on every grow), each until it leaves.
async fn io_workers<R: Runtime>(rt: &R, run: &Arc<RunShared>) {
    let mut running = FuturesUnordered::new();
    poll_fn(|cx| {
        run.register_coordinator(cx.waker());
        for index in run.take_io_starts() {
            running.push(io_worker(rt, run, index));
        }
        while let Poll::Ready(Some(())) = running.poll_next_unpin(cx) {}
        if running.is_empty() && run.is_done() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Cancels the run's token when its deadline passes (the core records deadlines; this
/// is the timer Go's `WithTimeout` would arm).
async fn enforce_deadline<R: Runtime>(rt: &R, run: &RunShared) {
    let Some(deadline) = run.token.deadline() else {
        return;
    };
    loop {
        let now = run.clock.now();
        if now >= deadline {
            run.token.expire_if_due();
            return;
        }
        if let Either::Right(_) = select(rt.sleep(deadline - now), Box::pin(run_done(run))).await {
            return;
        }
    }
}

/// On cancellation: close the channel (parked workers exit) and, once the running jobs
/// have stopped, end the jobs still waiting in it as not started.
async fn on_cancel(run: &RunShared) {
    if let Either::Left(_) = select(run.token.cancelled(), Box::pin(run_done(run))).await
        && let Some(channel) = &run.channel
    {
        channel.close();
        settle_after_cancel(run).await;
        for job in channel.drain() {
            run.finish_unstarted(job);
        }
    }
}

/// Applies the scaling policy every [`SCALE_INTERVAL`] until the run is done.
async fn autoscale<R: Runtime>(rt: &R, run: &Arc<RunShared>) {
    let Some(mut scaler) = scaler_for(&run.config).filter(|_| run.config.has_pool()) else {
        return;
    };
    let mut last = run.now();
    loop {
        if let Either::Right(_) = select(rt.sleep(SCALE_INTERVAL), Box::pin(run_done(run))).await {
            return;
        }
        if run.check_cancelled() {
            return;
        }
        let now = run.now();
        let interval = run.recorder.take_interval();
        let signals = Signals {
            t_ms: now as f64 / 1e6,
            limit: run.workers.target(),
            queued: run.channel.as_ref().map_or(0, |c| c.len() as u32),
            running: run.running(),
            busy: interval.service_ns / (now - last).max(1) as f64,
            interval,
        };
        last = now;
        if let Some(decision) = scaler.decide(&signals) {
            run.resize(decision.to, Shrink::Graceful, decision.cause);
        }
    }
}

/// Streams a [`Progress`] batch every [`FLUSH_INTERVAL`] until the run is done, and a
/// last one after.
async fn stream_progress<R: Runtime>(
    rt: &R,
    run: &Arc<RunShared>,
    sources: &Sources<'_, '_, R>,
    grants: &RefCell<GrantLog>,
    samples: &mut super::record::series::SampleLog<Sample>,
    observer: &mut dyn FnMut(Progress),
) {
    loop {
        let done = matches!(
            select(rt.sleep(FLUSH_INTERVAL), Box::pin(run_done(run))).await,
            Either::Right(_)
        );
        // Picks up an abort or a resize requested through the run's slot even when no
        // job polls (all of them waiting on timers or the limiter, or the pool paused).
        run.apply_requested_abort();
        run.apply_requested_resize();
        let s = sample(rt, run, sources, Some(run.recorder.take_window()));
        samples.push(s);
        let fresh = run.recorder.take_fresh();
        // A pipeline's timeline shows its stage passes instead of whole jobs.
        let (jobs, jobs_skipped, stages) = match sources.pipeline {
            Some(pipeline) => {
                pipeline.sample_queues();
                let (spans, skipped) = pipeline.take_fresh_spans();
                (spans, skipped, pipeline.progress(run))
            }
            None => {
                let mut jobs: Vec<JobRecord> =
                    fresh.started.iter().map(JobRecord::from_started).collect();
                jobs.extend(fresh.ended.iter().map(JobRecord::from_finished));
                (jobs, fresh.skipped, Vec::new())
            }
        };
        let counts = run.counts();
        observer(Progress {
            sample: s,
            counts,
            started: counts.completed + counts.failed + counts.cancelled + s.running,
            jobs,
            jobs_skipped,
            stages,
            grants: grants.borrow_mut().take_new(),
            resizes: run.take_resizes(),
            cancelled_ms: run.cancelled_at().map(|ns| ns as f64 / 1e6),
        });
        if done {
            return;
        }
    }
}

/// Where a sample's figures come from besides the run: the limiter (paced runs), the
/// open-loop generator's schedule and log.
struct Sources<'p, 'a, R> {
    pacer: Option<&'p Pacer<'a, R>>,
    open_loop: Option<&'p (RefCell<ArrivalSchedule>, RefCell<GeneratorLog>)>,
    pipeline: Option<&'p Pipeline>,
}

/// The run's state now; `window`: the latencies of the jobs ended since the previous
/// sample (open loop, at a flush).
fn sample<R: Runtime>(
    rt: &R,
    run: &RunShared,
    sources: &Sources<'_, '_, R>,
    window: Option<super::record::latency::Window>,
) -> Sample {
    let counts = run.counts();
    let t_ms = run.now() as f64 / 1e6;
    let open = sources.open_loop;
    let p99 = |d: &super::record::latency::Distribution| {
        (open.is_some() && d.count() > 0).then(|| d.quantile_ns(0.99) as f64 / 1e6)
    };
    Sample {
        t_ms,
        offered: open.map(|(_, log)| log.borrow().offered()),
        scheduled: open.map(|(schedule, _)| schedule.borrow().expected_by(t_ms / 1000.0)),
        p99_ms: window.as_ref().and_then(|w| p99(&w.total)),
        p99_intended_ms: window.as_ref().and_then(|w| p99(&w.from_intended)),
        done: counts.done(),
        completed: counts.completed,
        rejected: counts.rejected,
        shed: counts.shed,
        running: run.running(),
        // A pipeline's queues and workers are its stages'.
        queued: match sources.pipeline {
            Some(pipeline) => pipeline.queued(),
            None => run.channel.as_ref().map_or(0, |c| c.len() as u32),
        },
        tasks: run.tasks_alive(),
        workers: match sources.pipeline {
            Some(_) => run.tasks_alive(),
            None => run.workers.live(),
        },
        limit: run.workers.target(),
        memory_bytes: rt.memory_bytes(),
        heap_bytes: rt.heap_bytes(),
        tokens: sources.pacer.and_then(Pacer::tokens),
    }
}

/// The limiter's releases: the latest [`MAX_GRANTS`], those the progress stream has not
/// sent yet, and running totals (so the achieved rate covers the whole run).
#[derive(Default)]
struct GrantLog {
    recent: VecDeque<Grant>,
    fresh: Vec<Grant>,
    grants: u32,
    waits: u32,
    /// The first release that had to wait (the steady rate is measured from it) and the
    /// releases since.
    first_wait_ms: Option<f64>,
    since_first_wait: u32,
    last_ms: f64,
    stopped: Option<String>,
    changes: Vec<RateChangeRecord>,
}

impl GrantLog {
    fn push(&mut self, grant: Grant) {
        self.grants += 1;
        if grant.waited_ms > 0.0 {
            self.waits += 1;
            self.first_wait_ms.get_or_insert(grant.t_ms);
        }
        if self.first_wait_ms.is_some() {
            self.since_first_wait += 1;
        }
        self.last_ms = grant.t_ms;
        if self.recent.len() == MAX_GRANTS {
            self.recent.pop_front();
        }
        self.recent.push_back(grant);
        if self.fresh.len() < MAX_GRANTS {
            self.fresh.push(grant);
        }
    }

    fn take_new(&mut self) -> Vec<Grant> {
        std::mem::take(&mut self.fresh)
    }

    /// The limiter's report. The steady rate runs from the first release that had to
    /// wait (a bucket's initial burst goes at once and would flatter it) to the last.
    fn report(self, pacing: Pacing, configured_rate: f64) -> LimiterReport {
        let achieved_rate = match self.first_wait_ms {
            Some(first) if self.since_first_wait > 1 && self.last_ms > first => {
                (self.since_first_wait - 1) as f64 / ((self.last_ms - first) / 1000.0)
            }
            _ => 0.0,
        };
        LimiterReport {
            pacing,
            configured_rate,
            achieved_rate,
            grants: self.grants,
            waits: self.waits,
            grant_log: self.recent.into(),
            stopped: self.stopped,
            changes: self.changes,
        }
    }
}

/// The runtime's timers as a [`Timer`].
struct RuntimeTimer<'a, R>(&'a R);

impl<R: Runtime> Timer for RuntimeTimer<'_, R> {
    fn sleep(&self, delay: Duration) -> SleepFuture {
        self.0.sleep(delay)
    }
}

/// What paces a rate-limited producer.
enum Pacer<'a, R> {
    Bucket(RateLimiter<Arc<dyn Clock>, RuntimeTimer<'a, R>>),
    Ticker(Rc<RefCell<Ticker>>, Arc<dyn Clock>, RuntimeTimer<'a, R>),
}

impl<'a, R: Runtime> Pacer<'a, R> {
    fn new(rt: &'a R, run: &RunShared) -> Option<Pacer<'a, R>> {
        let config = &run.config;
        if config.pattern != Pattern::RateLimit {
            return None;
        }
        Some(match config.pacing {
            Pacing::Bucket => Pacer::Bucket(
                RateLimiter::new(
                    config.rate,
                    config.burst,
                    run.clock.clone(),
                    RuntimeTimer(rt),
                )
                .expect("validated rate"),
            ),
            Pacing::Ticker => {
                let ticker = Ticker::new(period_of(config.rate), run.clock.now());
                Pacer::Ticker(
                    Rc::new(RefCell::new(ticker)),
                    run.clock.clone(),
                    RuntimeTimer(rt),
                )
            }
        })
    }

    fn pacing(&self) -> Pacing {
        match self {
            Pacer::Bucket(_) => Pacing::Bucket,
            Pacer::Ticker(..) => Pacing::Ticker,
        }
    }

    /// Applies a rate change from now on: x/time/rate's `SetLimit` and `SetBurst`, or
    /// the ticker's `Reset`.
    fn apply(&self, change: super::control::RateChange) {
        match self {
            Pacer::Bucket(limiter) => {
                let _ = limiter.set_limit(change.rate);
                limiter.set_burst(change.burst);
            }
            Pacer::Ticker(ticker, clock, _) => {
                ticker
                    .borrow_mut()
                    .reset(period_of(change.rate), clock.now());
            }
        }
    }

    /// Waits for the next release; `Ok(true)` if it had to wait (no token, no tick due).
    /// An error means the producer must stop: the run was cancelled (`None`: the
    /// cancellation speaks for itself), or — as x/time/rate's `Wait` does — the wait
    /// would outlast the deadline (`Some(message)`). Dropped before it resolves, it
    /// gives its reservation back.
    fn wait<'b>(
        &'b self,
        token: &'b CancelToken,
    ) -> Pin<Box<dyn Future<Output = Result<bool, Option<String>>> + 'b>> {
        Box::pin(async move {
            match self {
                Pacer::Bucket(limiter) => {
                    // The coordinator is the bucket's only user: a token there now means
                    // the wait returns at once.
                    let waits = limiter.tokens() < 1.0;
                    match limiter.wait(token).await {
                        Ok(()) => Ok(waits),
                        Err(WaitError::Cancelled { .. }) => Err(None),
                        Err(other) => Err(Some(other.to_string())),
                    }
                }
                Pacer::Ticker(ticker, clock, timer) => {
                    let due = clock.now() >= ticker.borrow().next_tick();
                    // Only the producer waits on the ticker; work on a copy so no borrow
                    // is held across the await.
                    let tick = async {
                        let mut copy = ticker.borrow().clone();
                        let at = copy.tick(&**clock, timer).await;
                        *ticker.borrow_mut() = copy;
                        at
                    };
                    match select(Box::pin(tick), token.cancelled()).await {
                        Either::Left(_) => Ok(!due),
                        Either::Right(_) => Err(None),
                    }
                }
            }
        })
    }

    fn tokens(&self) -> Option<f64> {
        match self {
            Pacer::Bucket(limiter) => Some(limiter.tokens()),
            Pacer::Ticker(..) => None,
        }
    }
}

/// One tick per `1 / rate` seconds.
fn period_of(rate: f64) -> Duration {
    Duration::from_secs_f64(1.0 / rate)
}
