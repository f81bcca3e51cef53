//! The pipeline pattern: jobs flow through 2–4 stages, each a pool of its own workers
//! behind a bounded channel — Go's pipeline of `stage(in <-chan Job) <-chan Job`
//! functions, where a stage closes its output once every one of its workers has
//! returned (`wg.Wait(); close(out)`).
//!
//! Every stage worker is a task on the coordinator's event loop (a goroutine); its CPU
//! work goes to the pool's threads and its I/O-like work waits on a timer, so stages
//! run in parallel on real threads. A job starts when a stage-1 worker takes it and
//! ends at the last stage (completed), at stage 1 (a job planned to fail fails there,
//! as a fetch that errors), or wherever the run's cancellation finds it; the run's
//! books are the same as every other pattern's (see [`super::state`]).
//!
//! Per stage it measures the workers' busy time, the time they were blocked sending to
//! the next stage, its queue and its throughput ([`report`]), names the bottleneck, and
//! under the `bottleneck` scaling policy moves workers to it while it runs
//! ([`super::scaling::bottleneck`]). Each stage pass is a bar on the timeline, in rows
//! grouped by stage; only a bounded window of them is kept ([`spans`]).
//!
//! # Invariants
//! 1. Everything here runs on the coordinator's thread (`Cell`/`RefCell`, no locks);
//!    the channels between stages are [`JobChannel`]s, safe from any thread.
//! 2. A stage's `live` count falls to 0 only when its input is closed and drained
//!    (workers retire only while `live > target`, and `target ≥ 1`), and the worker
//!    that takes it to 0 closes the next stage's input — so every job that entered a
//!    stage is received by a worker of that stage, and ends exactly once.
//! 3. After a cancel no job starts (stage 1 checks the run's token in
//!    [`RunShared::try_start`]); jobs already in later channels are received and ended
//!    as cancelled, so every channel still drains and closes.

pub mod report;
pub mod spans;

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::Duration;

use futures::channel::oneshot;
use futures::future::{Either, select};
use futures::stream::{FuturesUnordered, StreamExt};

use super::chan::{JobChannel, Received};
use super::config::{Scaling, WorkKind};
use super::job::{Job, NONE, UNSET};
use super::outcome::Outcome;
use super::runtime::Runtime;
use super::scaling::SCALE_INTERVAL;
use super::scaling::bottleneck::{Bottleneck, StageReading};
use super::state::RunShared;
use crate::workload::execute::run_cpu;
use crate::workload::pipeline::{MAX_STAGE_WORKERS, StageSpec};
use crate::workload::plan::{JobSpec, Planner};
use report::{PipelineReport, StageMove, StageProgress, StageTally};
use spans::SpanLog;

/// A job between stages.
#[derive(Debug)]
pub struct Carried {
    /// The job.
    job: Job,
    /// When stage 1 started it (`UNSET` before).
    started: u64,
    /// The stage-1 worker (its row) that started it.
    worker: u32,
    /// The pool thread of its latest CPU stage.
    thread: u32,
    /// When it entered the channel it is in.
    entered: u64,
    /// Its stages' results so far, summed (wrapping).
    result: u64,
}

/// One stage: its spec, its input channel, its workers and its tallies.
struct Stage {
    spec: StageSpec,
    input: Arc<JobChannel<Carried>>,
    /// Held by the worker sending into `input` (stages after the first): a
    /// [`JobChannel`] holds one blocked sender, its producer's, so the workers of the
    /// stage before take turns, first come first served — as Go queues the senders
    /// blocked on a full channel.
    send_turn: futures::lock::Mutex<()>,
    /// The workers it should have (moved by the bottleneck policy).
    target: Cell<u32>,
    /// Workers alive.
    live: Cell<u32>,
    /// Which of its timeline rows are in use.
    slots: RefCell<Vec<bool>>,
    /// Its first timeline row.
    first_row: u32,
    /// Wakes its parked workers when `target` falls below `live`.
    retire: RefCell<Vec<Waker>>,
    tally: RefCell<StageTally>,
}

impl Stage {
    fn done(&self) -> bool {
        self.live.get() == 0 && self.input.is_closed()
    }

    /// Counts the workers' time up to `now` before their number changes.
    fn integrate(&self, now: u64) {
        self.tally.borrow_mut().integrate(now, self.live.get());
    }

    /// Takes a free timeline row.
    fn take_slot(&self) -> u32 {
        let mut slots = self.slots.borrow_mut();
        let free = slots.iter().position(|used| !used).unwrap_or(slots.len());
        if free == slots.len() {
            slots.push(true);
        } else {
            slots[free] = true;
        }
        free as u32
    }
}

/// A worker's future.
type Worker<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// A pipeline run's own state, beside the run's (see the module documentation).
pub struct Pipeline {
    stages: Vec<Stage>,
    /// Workers to start, taken by the driver at its next poll.
    pending: RefCell<Vec<(usize, u32)>>,
    driver: RefCell<Option<Waker>>,
    spans: RefCell<SpanLog>,
    moves: RefCell<Vec<StageMove>>,
    moves_dropped: Cell<u32>,
    policy: RefCell<Option<Bottleneck>>,
    /// Set when every worker has returned; wakes the policy's wait.
    finished: Cell<bool>,
    policy_waker: RefCell<Option<Waker>>,
}

/// Most worker moves a report lists.
pub const MAX_MOVES: usize = 1_000;

impl Pipeline {
    /// The stages of `run`'s configuration; stage 1's channel counts each job into the
    /// run as it enters (invariant 1 of the run state).
    pub fn new(run: &Arc<RunShared>) -> Pipeline {
        let specs = &run.config.pipeline.0;
        let budget = run.config.pipeline.total_workers();
        let scaling = run.config.scaling == Scaling::Bottleneck;
        let mut first_row = 0;
        let stages = specs
            .iter()
            .enumerate()
            .map(|(index, spec)| {
                let input = if index == 0 {
                    let counter = run.clone();
                    JobChannel::new(spec.queue as usize, move |c: &mut Carried| {
                        counter.spawned(&mut c.job);
                        if c.job.intended == UNSET {
                            c.job.intended = c.job.queued;
                        }
                        c.entered = c.job.queued;
                    })
                } else {
                    JobChannel::new(spec.queue as usize, |_: &mut Carried| {})
                };
                // Rows for the most workers this stage can have.
                let rows = if scaling {
                    (budget - (specs.len() as u32 - 1)).min(MAX_STAGE_WORKERS)
                } else {
                    spec.workers
                };
                let stage = Stage {
                    spec: *spec,
                    input: Arc::new(input),
                    send_turn: futures::lock::Mutex::new(()),
                    target: Cell::new(spec.workers),
                    live: Cell::new(0),
                    slots: RefCell::new(Vec::new()),
                    first_row,
                    retire: RefCell::new(Vec::new()),
                    tally: RefCell::new(StageTally::default()),
                };
                first_row += rows;
                stage
            })
            .collect();
        Pipeline {
            stages,
            pending: RefCell::new(Vec::new()),
            driver: RefCell::new(None),
            spans: RefCell::new(SpanLog::default()),
            moves: RefCell::new(Vec::new()),
            moves_dropped: Cell::new(0),
            policy: RefCell::new(scaling.then(|| Bottleneck::new(run.config.cooldown_ms))),
            finished: Cell::new(false),
            policy_waker: RefCell::new(None),
        }
    }

    /// Runs the pipeline to the end: the producer, every stage's workers and the
    /// bottleneck policy.
    pub async fn run<R: Runtime>(&self, rt: &R, run: &Arc<RunShared>) {
        for (index, stage) in self.stages.iter().enumerate() {
            for _ in 0..stage.spec.workers {
                self.add_worker(run, index);
            }
        }
        futures::join!(
            self.produce(rt, run),
            self.drive(rt, run),
            self.rebalance(rt, run)
        );
    }

    /// Starts a worker for stage `index` (at the driver's next poll).
    fn add_worker(&self, run: &RunShared, index: usize) {
        let stage = &self.stages[index];
        stage.integrate(run.now());
        stage.live.set(stage.live.get() + 1);
        let slot = stage.take_slot();
        run.task_spawned();
        run.time_use.worker_started(run.now());
        self.pending.borrow_mut().push((index, slot));
        if let Some(waker) = self.driver.borrow_mut().take() {
            waker.wake();
        }
    }

    /// Polls every worker, taking in new ones, until all have returned and no more
    /// can come (every stage is done).
    async fn drive<R: Runtime>(&self, rt: &R, run: &Arc<RunShared>) {
        let mut workers: FuturesUnordered<Worker<'_>> = FuturesUnordered::new();
        poll_fn(|cx| {
            loop {
                *self.driver.borrow_mut() = Some(cx.waker().clone());
                for (index, slot) in self.pending.borrow_mut().drain(..) {
                    workers.push(Box::pin(self.worker(rt, run, index, slot)));
                }
                match workers.poll_next_unpin(cx) {
                    Poll::Ready(Some(())) => continue,
                    Poll::Ready(None) if self.pending.borrow().is_empty() => {
                        self.finished.set(true);
                        if let Some(waker) = self.policy_waker.borrow_mut().take() {
                            waker.wake();
                        }
                        return Poll::Ready(());
                    }
                    Poll::Ready(None) => continue,
                    Poll::Pending if self.pending.borrow().is_empty() => return Poll::Pending,
                    Poll::Pending => continue,
                }
            }
        })
        .await
    }

    /// The producer: plans each job and sends it into stage 1 (waiting while its
    /// channel is full: backpressure), until the job count is reached, the run is
    /// cancelled or its duration is up; then closes stage 1's input.
    async fn produce<R: Runtime>(&self, rt: &R, run: &Arc<RunShared>) {
        let first = &self.stages[0].input;
        let mut planner = Planner::new(&run.config);
        let produce = async {
            while planner.planned() < run.config.jobs && !run.check_cancelled() {
                let now = run.now();
                let carried = Carried {
                    job: Job::new(planner.next_job(), UNSET),
                    started: UNSET,
                    worker: NONE,
                    thread: NONE,
                    entered: UNSET,
                    result: 0,
                };
                let sent = select(first.send(carried), run.token.cancelled()).await;
                run.time_use.queue_full(run.now() - now);
                if !matches!(sent, Either::Left((Ok(()), _))) {
                    break;
                }
            }
        };
        select(
            Box::pin(produce),
            Box::pin(super::coordinator::duration_up(rt, run)),
        )
        .await;
        first.close();
        run.producer_done(run.unsent());
    }

    /// Resolves when stage `index` should lose a worker (and counts this one out).
    async fn retired(&self, index: usize) {
        let stage = &self.stages[index];
        poll_fn(|cx| {
            if stage.live.get() > stage.target.get() {
                Poll::Ready(())
            } else {
                // One waker per worker task, however often it is polled.
                let mut wakers = stage.retire.borrow_mut();
                if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
                    wakers.push(cx.waker().clone());
                }
                Poll::Pending
            }
        })
        .await
    }

    /// A worker of stage `index` in timeline slot `slot`: `for c := range in { …; out
    /// <- c }`, until its input is closed and drained or the stage has too many.
    async fn worker<R: Runtime>(&self, rt: &R, run: &Arc<RunShared>, index: usize, slot: u32) {
        let stage = &self.stages[index];
        let row = stage.first_row + slot;
        loop {
            if stage.live.get() > stage.target.get() {
                break;
            }
            let received = select(stage.input.recv(), Box::pin(self.retired(index))).await;
            let carried = match received {
                Either::Left((Received::Job(carried), _)) => carried,
                Either::Left(_) | Either::Right(_) => break,
            };
            if let Some(carried) = self.pass(rt, run, index, row, carried).await {
                let next = &self.stages[index + 1];
                let asked = run.now();
                let sent = {
                    let _turn = next.send_turn.lock().await;
                    next.input.send(carried).await
                };
                let now = run.now();
                stage.tally.borrow_mut().blocked_ns += now - asked;
                // The next stage's input closes only after this stage's last worker
                // returns (invariant 2): this send cannot find it closed.
                debug_assert!(sent.is_ok(), "a stage's output closed before its workers");
            }
        }
        // Returning: `wg.Done()`; the last one closes the next stage's input.
        stage.integrate(run.now());
        stage.live.set(stage.live.get() - 1);
        stage.slots.borrow_mut()[slot as usize] = false;
        run.time_use.worker_ended(run.now());
        run.task_ended();
        if stage.live.get() == 0
            && stage.input.is_closed()
            && let Some(next) = self.stages.get(index + 1)
        {
            next.input.close();
        }
    }

    /// Stage `index`'s work on one job, by the worker in timeline row `row`. Returns the
    /// job if it goes on to the next stage; otherwise it has ended here.
    async fn pass<R: Runtime>(
        &self,
        rt: &R,
        run: &Arc<RunShared>,
        index: usize,
        row: u32,
        mut carried: Carried,
    ) -> Option<Carried> {
        let stage = &self.stages[index];
        let last = index + 1 == self.stages.len();
        let entered = carried.entered;
        if index == 0 {
            let Some(started) = run.try_start(&carried.job, row, None) else {
                run.finish_unstarted(carried.job);
                return None;
            };
            carried.started = started;
            carried.worker = row;
        } else if run.check_cancelled() {
            let now = run.now();
            self.spans.borrow_mut().push(
                &carried,
                index,
                row,
                entered,
                now,
                now,
                Outcome::Cancelled,
            );
            run.finish(
                carried.job,
                Outcome::Cancelled,
                carried.started,
                carried.worker,
                thread_of(carried.thread),
                carried.result,
            );
            return None;
        }
        let began = run.now();
        let done = self.work(rt, run, &stage.spec, &carried.job.spec).await;
        let ended = run.now();
        {
            let mut tally = stage.tally.borrow_mut();
            tally.busy_ns += ended - began;
            tally.passed += 1;
        }
        let outcome = match done {
            None => Outcome::Cancelled,
            Some((result, thread)) => {
                carried.result = carried.result.wrapping_add(result);
                if thread != NONE {
                    carried.thread = thread;
                }
                if index == 0 && carried.job.spec.fails {
                    Outcome::Failed
                } else if last {
                    Outcome::Completed
                } else {
                    self.spans.borrow_mut().push(
                        &carried,
                        index,
                        row,
                        entered,
                        began,
                        ended,
                        Outcome::Completed,
                    );
                    carried.entered = ended;
                    return Some(carried);
                }
            }
        };
        self.spans
            .borrow_mut()
            .push(&carried, index, row, entered, began, ended, outcome);
        let result = if outcome == Outcome::Cancelled {
            0
        } else {
            carried.result
        };
        run.finish(
            carried.job,
            outcome,
            carried.started,
            carried.worker,
            thread_of(carried.thread),
            result,
        );
        None
    }

    /// Runs a stage's workload on one job: CPU work on a pool thread (awaited, never
    /// blocking the coordinator), an I/O-like wait on a timer. `None` if the run was
    /// cancelled first; otherwise the result and the pool thread (or [`NONE`]).
    async fn work<R: Runtime>(
        &self,
        rt: &R,
        run: &Arc<RunShared>,
        stage: &StageSpec,
        job: &JobSpec,
    ) -> Option<(u64, u32)> {
        let spec = stage_job(stage, job);
        if stage.workload == WorkKind::Sleep {
            let wait = Duration::from_micros(spec.cost);
            if !wait.is_zero() {
                let waited = select(rt.sleep(wait), run.token.cancelled()).await;
                if matches!(waited, Either::Right(_)) {
                    return None;
                }
            }
            return Some((crate::workload::execute::sleep_result(&spec), NONE));
        }
        let (tx, rx) = oneshot::channel();
        let on_pool = run.clone();
        let kind = stage.workload;
        run.cpu.spawn(Box::new(move || {
            let thread = rayon::current_thread_index().map_or(NONE, |t| t as u32);
            let result = run_cpu(kind, &spec, on_pool.config.seed, &*on_pool.clock, &|| {
                on_pool.check_cancelled()
            });
            let _ = tx.send(result.ok().map(|r| (r, thread)));
        }));
        // A crashed pool thread drops the sender; the run's crash watch ends the run.
        rx.await.ok().flatten()
    }

    /// Every [`SCALE_INTERVAL`], while the run goes: reads each stage and lets the
    /// bottleneck policy move a worker.
    async fn rebalance<R: Runtime>(&self, rt: &R, run: &Arc<RunShared>) {
        if self.policy.borrow().is_none() {
            return;
        }
        // Each stage's tally at the last decision: the policy reads the time since.
        let mut last = vec![StageTally::default(); self.stages.len()];
        loop {
            let finished = poll_fn(|cx| {
                if self.finished.get() {
                    Poll::Ready(())
                } else {
                    *self.policy_waker.borrow_mut() = Some(cx.waker().clone());
                    Poll::Pending
                }
            });
            if let Either::Right(_) = select(rt.sleep(SCALE_INTERVAL), Box::pin(finished)).await {
                return;
            }
            if run.check_cancelled() || self.stages.iter().all(Stage::done) {
                return;
            }
            let now = run.now();
            let readings: Vec<StageReading> = self
                .stages
                .iter()
                .zip(last.iter_mut())
                .map(|(stage, last)| {
                    stage.integrate(now);
                    let tally = *stage.tally.borrow();
                    let utilisation = tally.utilisation_since(last);
                    *last = tally;
                    StageReading {
                        utilisation,
                        queued: stage.input.len() as u32,
                        workers: stage.target.get(),
                        done: stage.input.is_closed() && stage.input.is_empty(),
                    }
                })
                .collect();
            let decided = self
                .policy
                .borrow_mut()
                .as_mut()
                .and_then(|policy| policy.decide(now as f64 / 1e6, &readings));
            if let Some(moved) = decided {
                self.move_worker(run, moved.from, moved.to, moved.cause);
            }
        }
    }

    /// Moves a worker from stage `from` to stage `to`: the first of `from`'s workers to
    /// look (or one parked there) returns, and `to` starts one now.
    fn move_worker(&self, run: &RunShared, from: usize, to: usize, cause: String) {
        let (giver, taker) = (&self.stages[from], &self.stages[to]);
        giver.target.set(giver.target.get() - 1);
        for waker in giver.retire.borrow_mut().drain(..) {
            waker.wake();
        }
        taker.target.set(taker.target.get() + 1);
        self.add_worker(run, to);
        let mut moves = self.moves.borrow_mut();
        if moves.len() < MAX_MOVES {
            moves.push(StageMove {
                t_ms: run.now() as f64 / 1e6,
                from: from as u32,
                to: to as u32,
                cause,
            });
        } else {
            self.moves_dropped.set(self.moves_dropped.get() + 1);
        }
    }

    /// Each stage now, for a progress batch.
    pub fn progress(&self, run: &RunShared) -> Vec<StageProgress> {
        let now = run.now();
        self.stages
            .iter()
            .enumerate()
            .map(|(index, stage)| {
                stage.integrate(now);
                StageProgress::of(
                    index,
                    &stage.spec,
                    &stage.tally.borrow(),
                    stage.first_row,
                    stage.live.get(),
                    stage.input.len() as u32,
                )
            })
            .collect()
    }

    /// Jobs waiting in all the stages' channels now.
    pub fn queued(&self) -> u32 {
        self.stages.iter().map(|s| s.input.len() as u32).sum()
    }

    /// Samples each stage's queue (at every progress batch).
    pub fn sample_queues(&self) {
        for stage in &self.stages {
            stage
                .tally
                .borrow_mut()
                .sample_queue(stage.input.len() as u32);
        }
    }

    /// Stage passes since the last call, for the timeline.
    pub fn take_fresh_spans(&self) -> (Vec<super::report::JobRecord>, u64) {
        self.spans.borrow_mut().take_fresh()
    }

    /// The report, once the run is over (`wall_ns` long).
    pub fn report(&self, wall_ns: u64) -> (PipelineReport, Vec<super::report::JobRecord>) {
        let stages: Vec<_> = self
            .stages
            .iter()
            .enumerate()
            .map(|(index, stage)| {
                stage.integrate(wall_ns);
                (index, stage.spec, *stage.tally.borrow(), stage.target.get())
            })
            .collect();
        let report = PipelineReport::new(
            &stages,
            wall_ns,
            self.moves.borrow().clone(),
            self.moves_dropped.get(),
            self.stages
                .iter()
                .map(|s| s.first_row)
                .chain(std::iter::once(self.stages.last().map_or(0, |s| {
                    s.first_row + s.slots.borrow().len().max(s.spec.workers as usize) as u32
                })))
                .collect(),
        );
        (report, self.spans.borrow().kept())
    }
}

fn thread_of(thread: u32) -> Option<usize> {
    (thread != NONE).then_some(thread as usize)
}

/// What stage `stage` does to job `job`: its own cost (every job the same), the job's
/// id and failure; a primes stage counts its own contiguous ranges.
pub fn stage_job(stage: &StageSpec, job: &JobSpec) -> JobSpec {
    JobSpec {
        id: job.id,
        cost: stage.cost,
        fails: job.fails,
        weight: 1,
        offset: job.id as u64 * stage.cost,
    }
}
