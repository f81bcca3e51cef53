//! The coordinator: one async task that runs a whole run without ever blocking. It
//! produces jobs (paced by the limiter in rate-limited runs), runs the I/O-like workers
//! on timers, enforces the deadline, reacts to cancellation, streams [`Progress`]
//! every [`FLUSH_INTERVAL`], and builds the [`RunReport`] once every job has an
//! outcome and every worker has exited (Go's `wg.Wait()`).
//!
//! It runs wherever its [`Runtime`] lives: in the browser on the engine worker's event
//! loop, natively under `block_on`, in tests under simulated time.

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures::future::{Either, join_all, select};

use super::abort_slot::ArmedSlot;
use super::config::{ConfigErrors, Leak, Pacing, Pattern, RunConfig};
use super::producer::InlineProducer;
use super::report::{Grant, JobRecord, Progress, RunReport, Sample, build_report};
use super::runtime::Runtime;
use super::state::RunShared;
use super::workers::{io_worker, run_io_job, spawn_cpu_fan_out, start_cpu_worker, task_memory};
use crate::cancel::CancelToken;
use crate::clock::{Clock, SleepFuture, Timer};
use crate::limiter::{RateLimiter, Ticker, WaitError};
use crate::workload::plan::plan;

/// How often progress is streamed while a run goes.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(50);

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
    let clock = rt.clock();
    let pool = rt.pool();
    let threads = pool.threads();
    let capacity = match config.pattern {
        Pattern::Pool | Pattern::RateLimit => Some(config.queue as usize),
        // errgroup.Go blocks until one of `limit` slots is free: an unbuffered hand-off.
        Pattern::FailFast => Some(0),
        Pattern::FanOut => None,
    };
    let jobs = plan(&config);
    let watch = abort_slot.as_ref().map(ArmedSlot::watch);
    // The timeout starts with the run's clock (planning a large run takes a while), so
    // a 300 ms timeout reads as 300 ms on the run's timeline.
    let token = match config.timeout() {
        Some(timeout) => parent.child_with_timeout(timeout, clock.clone()),
        None => parent.child(),
    };
    let run = RunShared::new(
        config.clone(),
        jobs,
        clock.clone(),
        token,
        pool,
        capacity,
        watch,
    );
    let pacer = Pacer::new(rt, &run);
    let grants = RefCell::new(GrantLog::default());
    let leak = RefCell::new(None);
    let mut samples = Vec::new();
    samples.push(sample(rt, &run, pacer.as_ref()));

    let io = !config.workload.is_cpu();
    let mut io_workers = Vec::new();
    if capacity.is_some() {
        for worker in 0..config.workers {
            if io {
                run.worker_started();
                io_workers.push(io_worker(rt, &run, worker));
            } else {
                start_cpu_worker(&run, worker);
            }
        }
    }

    let producer = async {
        match (capacity, pacer.as_ref()) {
            (Some(_), None) => produce_inline(&run).await,
            (Some(_), Some(pacer)) => produce_paced(&run, pacer, &grants).await,
            (None, _) if io => fan_out_io(rt, &run).await,
            (None, _) => fan_out_cpu(&run).await,
        }
    };
    let everything = async {
        futures::join!(
            producer,
            join_all(io_workers),
            enforce_deadline(rt, &run),
            on_cancel(&run),
            stream_progress(
                rt,
                &run,
                pacer.as_ref(),
                &grants,
                &leak,
                &mut samples,
                observer
            ),
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

    let wall_ms = run.now() as f64 / 1e6;
    samples.push(sample(rt, &run, pacer.as_ref()));
    let log = grants.into_inner();
    let mut report = build_report(&run, threads, wall_ms, samples, log.all, log.stopped);
    report.leak = leak.into_inner();
    report.crash = crash;
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

/// Resolves once every job has an outcome and every worker has exited.
async fn run_done(run: &RunShared) {
    poll_fn(|cx| {
        run.register_coordinator(cx.waker());
        if run.remaining() == 0 && run.live_workers() == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// The producer of unpaced channel runs (see [`super::producer`]): started here, it
/// then runs on whichever thread's receive makes room; the coordinator waits until it
/// is done or the run is cancelled, then finishes the jobs it never sent.
async fn produce_inline(run: &Arc<RunShared>) {
    let producer = InlineProducer::start(run);
    let sent = poll_fn(|cx| {
        run.register_coordinator(cx.waker());
        if let Some(sent) = producer.sent_when_done() {
            Poll::Ready(sent)
        } else if run.check_cancelled() {
            Poll::Ready(producer.stop())
        } else {
            Poll::Pending
        }
    })
    .await;
    let jobs = run.plan.len() as u32;
    if sent == jobs && run.config.leak == Leak::NoClose {
        // The pitfall: every job sent, and the channel left open. The workers will wait
        // on it forever; `stream_progress` detects that and reports the leak.
        return;
    }
    settle_after_cancel(run).await;
    run.finish_unstarted(sent..jobs, run.now());
}

/// The producer of paced runs: sends every job when the limiter releases it, then
/// closes the channel. Stops at cancellation; jobs it never sent are not started.
async fn produce_paced<R: Runtime>(
    run: &RunShared,
    pacer: &Pacer<'_, R>,
    grants: &RefCell<GrantLog>,
) {
    let channel = run
        .channel
        .clone()
        .expect("channel patterns have a channel");
    let jobs = run.plan.len() as u32;
    let mut next = 0;
    while next < jobs && !run.check_cancelled() {
        let asked = run.now();
        let waited = match pacer.wait(&run.token).await {
            Ok(waited) => waited,
            Err(stopped) => {
                grants.borrow_mut().stopped = stopped;
                break;
            }
        };
        let now = run.now();
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
        match select(channel.send(next), run.token.cancelled()).await {
            Either::Left((Ok(()), _)) => next += 1,
            _ => break,
        }
    }
    if next == jobs && run.config.leak == Leak::NoClose {
        return; // the pitfall: see `produce_inline`
    }
    channel.close();
    settle_after_cancel(run).await;
    run.finish_unstarted(next..jobs, run.now());
}

/// After a cancel, waits until no job is running (state invariant 5) so that the
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
    let jobs = run.plan.len() as u32;
    let mut next = 0;
    while next < jobs && !run.check_cancelled() {
        spawn_cpu_fan_out(run, next);
        next += 1;
    }
    settle_after_cancel(run).await;
    run.finish_unstarted(next..jobs, run.now());
}

/// Fan-out of I/O-like jobs: every job's timer started at once.
async fn fan_out_io<R: Runtime>(rt: &R, run: &RunShared) {
    join_all((0..run.plan.len() as u32).map(|job| async move {
        run.mark_queued(job);
        run.task_spawned();
        let stack = task_memory(run); // held for the task's whole life
        run_io_job(rt, run, job, job).await;
        drop(stack);
        run.task_ended();
    }))
    .await;
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
/// have stopped, finish the jobs still buffered in it as not started.
async fn on_cancel(run: &RunShared) {
    if let Either::Left(_) = select(run.token.cancelled(), Box::pin(run_done(run))).await
        && let Some(channel) = &run.channel
    {
        channel.close();
        settle_after_cancel(run).await;
        run.finish_unstarted(channel.drain(), run.now());
    }
}

/// Streams a [`Progress`] batch every [`FLUSH_INTERVAL`] until the run is done, and a
/// last one after.
async fn stream_progress<R: Runtime>(
    rt: &R,
    run: &RunShared,
    pacer: Option<&Pacer<'_, R>>,
    grants: &RefCell<GrantLog>,
    leak: &RefCell<Option<String>>,
    samples: &mut Vec<Sample>,
    observer: &mut dyn FnMut(Progress),
) {
    loop {
        let done = matches!(
            select(rt.sleep(FLUSH_INTERVAL), Box::pin(run_done(run))).await,
            Either::Right(_)
        );
        // Picks up an abort requested through the run's slot even when no job polls
        // (all of them waiting on timers or the limiter).
        run.apply_requested_abort();
        if !done && leak.borrow().is_none() {
            let found = detect_leak(run);
            if found.is_some() {
                *leak.borrow_mut() = found;
            }
        }
        let s = sample(rt, run, pacer);
        samples.push(s);
        let jobs = run
            .take_changed()
            .iter()
            .map(|&id| JobRecord::from_view(&run.view(id), run))
            .collect();
        observer(Progress {
            sample: s,
            counts: run.counts(),
            started: run.started(),
            jobs,
            grants: grants.borrow_mut().take_new(),
            cancelled_ms: run.cancelled_at().map(|ns| ns as f64 / 1e6),
        });
        if done {
            return;
        }
    }
}

/// The pitfalls lab's channel leaks, found the way Go's runtime finds a deadlock: every
/// goroutine is blocked on a channel nobody will ever use again. Once found, the leak is
/// described, and the run is cleaned up (the channel closed, or the run cancelled) so it
/// can end and report — a Go program would hang, or die with "all goroutines are asleep".
fn detect_leak(run: &RunShared) -> Option<String> {
    let channel = run.channel.as_ref()?;
    match run.config.leak {
        Leak::None => None,
        Leak::NoClose => {
            let waiting = channel.waiting_receivers() as u32;
            let live = run.live_workers();
            (run.remaining() == 0 && live > 0 && waiting == live && !channel.is_closed()).then(|| {
                channel.close();
                format!(
                    "every job is done, but the producer never closed the channel: {live} workers wait forever \
                     in `for job := range jobs`, and wg.Wait() never returns (Go: \"all goroutines are asleep - \
                     deadlock!\"). The lab closed the channel to end the run."
                )
            })
        }
        Leak::Stops => (run.live_workers() == 0 && run.remaining() > 0 && channel.has_blocked_send()).then(|| {
            let left = run.remaining();
            run.token.cancel_with("channel leak: nobody receives");
            format!(
                "the consumers stopped after {} jobs: the producer is blocked forever on `jobs <- job`, \
                 and {left} jobs will never run. The lab cancelled the run to end it.",
                run.started()
            )
        }),
    }
}

fn sample<R: Runtime>(rt: &R, run: &RunShared, pacer: Option<&Pacer<'_, R>>) -> Sample {
    let counts = run.counts();
    Sample {
        t_ms: run.now() as f64 / 1e6,
        done: counts.done(),
        running: run
            .started()
            .saturating_sub(counts.completed + counts.failed + counts.cancelled),
        queued: run.channel.as_ref().map_or(0, |c| c.len() as u32),
        tasks: run.tasks_alive(),
        memory_bytes: rt.memory_bytes(),
        heap_bytes: rt.heap_bytes(),
        tokens: pacer.and_then(Pacer::tokens),
    }
}

/// Every grant, how many the progress stream has sent, and why the producer stopped
/// early (if the limiter refused to wait).
#[derive(Default)]
struct GrantLog {
    all: Vec<Grant>,
    sent: usize,
    stopped: Option<String>,
}

impl GrantLog {
    fn push(&mut self, grant: Grant) {
        self.all.push(grant);
    }

    fn take_new(&mut self) -> Vec<Grant> {
        let new = self.all[self.sent..].to_vec();
        self.sent = self.all.len();
        new
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
                let period = Duration::from_secs_f64(1.0 / config.rate);
                let ticker = Ticker::new(period, run.clock.now());
                Pacer::Ticker(
                    Rc::new(RefCell::new(ticker)),
                    run.clock.clone(),
                    RuntimeTimer(rt),
                )
            }
        })
    }

    /// Waits for the next release; `Ok(true)` if it had to wait (no token, no tick due).
    /// An error means the producer must stop: the run was
    /// cancelled (`None`: the cancellation speaks for itself), or — as x/time/rate's
    /// `Wait` does — the wait would outlast the deadline (`Some(message)`).
    async fn wait(&self, token: &CancelToken) -> Result<bool, Option<String>> {
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
                // Only the producer waits on the ticker; work on a copy so no borrow is
                // held across the await.
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
    }

    fn tokens(&self) -> Option<f64> {
        match self {
            Pacer::Bucket(limiter) => Some(limiter.tokens()),
            Pacer::Ticker(..) => None,
        }
    }
}
