//! The state a run shares between its coordinator and the pool threads: one slot per
//! job (see [`super::slot`] for a slot's finish protocol), the run's counters, and the
//! coordinator's waker.
//!
//! # Invariants and orderings
//! 1. Every job ends in exactly one outcome: [`RunShared::finish`] and
//!    [`RunShared::finish_unstarted`] go through the slot's claim (invariant 1 of
//!    [`super::slot`]); only the winner writes the record and updates the counters, so
//!    the accounting identity `submitted = completed + failed + cancelled + not_started`
//!    holds by construction, and a losing finisher changes nothing.
//! 2. A final outcome is published after its time and result (slot invariant 2), so a
//!    reader that sees it sees its data. A started-but-running slot is read the same way
//!    through `started` (slot invariant 3).
//! 3. A job is started only after reading the clock and *then* finding the run token
//!    not cancelled, so every started job's start time precedes the cancellation (whose
//!    time is read after the token's flag is set): no job starts after a cancel.
//! 4. `remaining` counts jobs without a final outcome; `live_workers` counts workers
//!    that have not exited. The coordinator is woken (`AtomicWaker`) when either
//!    reaches zero; it re-checks both after registering, so no wake is lost.
//! 5. `running` counts jobs between `try_start` and their end (it is raised before the
//!    token check, so it never misses a job that is just starting). Once the token is
//!    cancelled it only falls, and reaching zero wakes the coordinator, which waits for
//!    that before doing the O(jobs) bookkeeping of a cancel — so the bookkeeping never
//!    competes for a core with the jobs that still have to notice the cancel.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::*};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::task::AtomicWaker;

use super::abort_slot::SlotWatch;
use super::chan::JobChannel;
use super::config::{Pattern, RunConfig};
use super::fan_in::FanIn;
use super::runtime::CpuPool;
use super::slot::JobSlot;
use crate::cancel::CancelToken;
use crate::clock::Clock;
use crate::workload::plan::JobSpec;

pub use super::outcome::{Counts, Outcome};

/// "Not cancelled yet" in `cancelled_at`.
const UNSET: u64 = u64::MAX;

/// A snapshot of one job, in nanoseconds since the run's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotView {
    /// Job id.
    pub id: u32,
    /// When it entered the channel (or was spawned).
    pub queued: Option<u64>,
    /// When it started.
    pub started: Option<u64>,
    /// When it ended (or was found not to start).
    pub finished: Option<u64>,
    /// The worker (pool/errgroup slot) that ran it.
    pub worker: Option<u32>,
    /// The pool thread it ran on (CPU jobs).
    pub thread: Option<u32>,
    /// Its outcome, once final.
    pub outcome: Option<Outcome>,
    /// Its result (completed and failed jobs).
    pub result: u64,
}

/// The CPU workers ready for a turn, oldest first (Go's run queue). Invariant: every
/// `push` is followed by exactly one pool task that `pop`s, so a task always finds a
/// worker.
#[derive(Default)]
pub struct ReadyQueue(Mutex<std::collections::VecDeque<(u32, Option<u32>)>>);

impl ReadyQueue {
    /// `worker` is ready, with `job` already handed to it (or none).
    pub fn push(&self, worker: u32, job: Option<u32>) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back((worker, job));
    }

    /// Whether no worker is waiting for a turn.
    pub fn is_empty(&self) -> bool {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    }

    /// The worker that has been ready longest.
    pub fn pop(&self) -> Option<(u32, Option<u32>)> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).pop_front()
    }
}

/// Everything the pool threads and the coordinator share during a run.
pub struct RunShared {
    /// The validated configuration.
    pub config: RunConfig,
    /// The jobs.
    pub plan: Vec<JobSpec>,
    /// The run's clock and its reading at the start.
    pub clock: Arc<dyn Clock>,
    epoch: u64,
    /// Cancelled on Cancel, on the deadline, or (fail fast) on the first error.
    pub token: CancelToken,
    /// Where a page may request an abort through shared memory (see
    /// [`super::abort_slot`]); polled with the token by [`RunShared::is_cancelled`].
    abort_slot: Option<SlotWatch>,
    /// Where CPU jobs run.
    pub pool: Arc<dyn CpuPool>,
    /// The jobs channel (pool, fail fast, rate limit).
    pub channel: Option<Arc<JobChannel>>,
    /// CPU workers waiting for a turn on a pool thread.
    pub ready: ReadyQueue,
    slots: Vec<JobSlot>,
    /// Ids whose slot changed since the coordinator last looked.
    changed: Mutex<Vec<u32>>,
    /// Final outcomes so far, indexed by code - 1.
    counts: [AtomicU32; Outcome::ALL.len()],
    started: AtomicU32,
    running: AtomicU32,
    remaining: AtomicU32,
    live_workers: AtomicU32,
    tasks_alive: AtomicU32,
    /// The most goroutines (fan-out tasks + pool workers) alive at once: raised after
    /// every spawn and worker start, so no burst between samples is missed.
    tasks_peak: AtomicU32,
    /// When the token was cancelled (ns since start), `UNSET` while not.
    cancelled_at: AtomicU64,
    coordinator: AtomicWaker,
    /// Fan-out runs: the stage results come back through.
    pub fan_in: Option<FanIn>,
}

impl RunShared {
    /// Shared state for a run of `plan` (one slot per job; the clock's `now` is t = 0),
    /// with a jobs channel of `channel_capacity` if given.
    pub fn new(
        config: RunConfig,
        plan: Vec<JobSpec>,
        clock: Arc<dyn Clock>,
        token: CancelToken,
        pool: Arc<dyn CpuPool>,
        channel_capacity: Option<usize>,
        abort_slot: Option<SlotWatch>,
    ) -> Arc<RunShared> {
        let epoch = clock.now_nanos();
        let jobs = plan.len();
        let fan_in = (config.pattern == Pattern::FanOut).then(|| FanIn::new(jobs, config.ordered));
        let shared = Arc::new_cyclic(|weak: &std::sync::Weak<RunShared>| {
            let channel = channel_capacity.map(|capacity| {
                let run = weak.clone();
                Arc::new(JobChannel::new(capacity, move |job| {
                    if let Some(run) = run.upgrade() {
                        run.mark_queued(job);
                    }
                }))
            });
            RunShared {
                config,
                slots: (0..jobs).map(|_| JobSlot::new()).collect(),
                plan,
                clock,
                epoch,
                token,
                abort_slot,
                pool,
                channel,
                ready: ReadyQueue::default(),
                changed: Mutex::new(Vec::new()),
                counts: Default::default(),
                started: AtomicU32::new(0),
                running: AtomicU32::new(0),
                remaining: AtomicU32::new(jobs as u32),
                live_workers: AtomicU32::new(0),
                tasks_alive: AtomicU32::new(0),
                tasks_peak: AtomicU32::new(0),
                cancelled_at: AtomicU64::new(UNSET),
                coordinator: AtomicWaker::new(),
                fan_in,
            }
        });
        // Record when the token is cancelled, whoever cancels it (invariant 3: this
        // reads the clock after the flag is set). It stays registered for the run's
        // life (as Go's AfterFunc); a weak reference keeps it from holding the run.
        let weak = Arc::downgrade(&shared);
        let _registered = shared.token.after_cancel(move || {
            if let Some(run) = weak.upgrade() {
                let _ = run
                    .cancelled_at
                    .compare_exchange(UNSET, run.now(), AcqRel, Acquire);
                run.wake_coordinator();
            }
        });
        shared
    }

    /// Checks for cancellation, the way every poll of the run does: `true` if the token
    /// is cancelled, or if an abort was requested through the run's slot — which this
    /// call then *applies* to the token (a command, hence not named `is_…`).
    pub fn check_cancelled(&self) -> bool {
        self.token.is_cancelled() || self.apply_requested_abort()
    }

    /// Cancels the token if the page asked for it through the run's abort slot; returns
    /// whether it did.
    pub fn apply_requested_abort(&self) -> bool {
        self.abort_slot.is_some_and(|s| s.check(&self.token))
    }

    /// Nanoseconds since the run started.
    pub fn now(&self) -> u64 {
        self.clock.now_nanos().saturating_sub(self.epoch)
    }

    /// The run's start on its clock.
    pub fn epoch(&self) -> Duration {
        Duration::from_nanos(self.epoch)
    }

    fn slot(&self, job: u32) -> &JobSlot {
        &self.slots[job as usize]
    }

    fn mark_changed(&self, job: u32) {
        self.changed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(job);
    }

    /// Takes the ids changed since the last call (each at most once, ascending).
    pub fn take_changed(&self) -> Vec<u32> {
        let mut ids = std::mem::take(&mut *self.changed.lock().unwrap_or_else(|p| p.into_inner()));
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Records that `job` entered the channel (or was spawned) now.
    pub fn mark_queued(&self, job: u32) {
        self.slot(job).mark_queued(self.now());
    }

    /// Tries to start `job` on `worker` (and pool thread `thread`). Reads the clock,
    /// then checks the token (invariant 3): if the run is cancelled, the job is
    /// finished as not started and `None` is returned; otherwise its start time.
    pub fn try_start(&self, job: u32, worker: u32, thread: Option<usize>) -> Option<u64> {
        let now = self.now();
        // Counted as running before the check, so a coordinator waiting for the running
        // jobs to stop (after a cancel) cannot miss one that is just starting.
        self.running.fetch_add(1, AcqRel);
        // (The pitfalls lab's jobs that ignore their context start regardless.)
        if self.config.poll_cancel && self.check_cancelled() {
            self.finish(job, Outcome::NotStarted, now, 0);
            self.stopped_running();
            return None;
        }
        self.slot(job).mark_started(now, worker, thread);
        self.started.fetch_add(1, Relaxed);
        self.mark_changed(job);
        Some(now)
    }

    /// Gives `job` its final outcome at time `at` (invariant 1). Returns `false` (and
    /// changes nothing) if it already had one.
    pub fn finish(&self, job: u32, outcome: Outcome, at: u64, result: u64) -> bool {
        if !self.slot(job).finish(outcome, at, result) {
            debug_assert!(false, "job {job} finished twice");
            return false;
        }
        self.counts[outcome.code() as usize - 1].fetch_add(1, AcqRel);
        if let Some(fan_in) = &self.fan_in {
            fan_in.job_ended(job, outcome.has_result(), at);
        }
        self.mark_changed(job);
        if outcome != Outcome::NotStarted {
            self.stopped_running();
        }
        if self.remaining.fetch_sub(1, AcqRel) == 1 {
            self.wake_coordinator();
        }
        true
    }

    /// A started job ended; after a cancel, the last one to stop wakes the coordinator
    /// (invariant 5).
    fn stopped_running(&self) {
        if self.running.fetch_sub(1, AcqRel) == 1 && self.token.is_cancelled() {
            self.wake_coordinator();
        }
    }

    /// Jobs running now (and jobs between reading the clock and checking the token).
    pub fn running(&self) -> u32 {
        self.running.load(Acquire)
    }

    /// Finishes every job that has no outcome and never started (the producer stopped
    /// or the channel was drained) as not started, at time `at`.
    /// In bulk (one lock, one counter update): a cancelled run may leave tens of
    /// thousands of jobs to account for.
    pub fn finish_unstarted(&self, jobs: impl IntoIterator<Item = u32>, at: u64) {
        let code = Outcome::NotStarted.code();
        let mut finished = Vec::new();
        for job in jobs {
            let slot = self.slot(job);
            if !slot.was_started() && slot.finish(Outcome::NotStarted, at, 0) {
                if let Some(fan_in) = &self.fan_in {
                    fan_in.job_ended(job, false, at);
                }
                finished.push(job);
            }
        }
        if finished.is_empty() {
            return;
        }
        let count = finished.len() as u32;
        self.counts[code as usize - 1].fetch_add(count, AcqRel);
        self.changed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(finished);
        if self.remaining.fetch_sub(count, AcqRel) == count {
            self.wake_coordinator();
        }
    }

    /// A fan-out task was spawned (it is alive until [`task_ended`](Self::task_ended)).
    pub fn task_spawned(&self) {
        self.tasks_alive.fetch_add(1, AcqRel);
        self.note_peak();
    }

    /// A fan-out task ended.
    pub fn task_ended(&self) {
        self.tasks_alive.fetch_sub(1, AcqRel);
    }

    /// Goroutines alive: fan-out tasks spawned and not ended, or pool workers.
    pub fn tasks_alive(&self) -> u32 {
        self.tasks_alive.load(Acquire) + self.live_workers()
    }

    /// The most goroutines alive at once so far.
    pub fn tasks_peak(&self) -> u32 {
        self.tasks_peak.load(Acquire)
    }

    fn note_peak(&self) {
        self.tasks_peak.fetch_max(self.tasks_alive(), AcqRel);
    }

    /// Pitfalls lab (`leak = stops`): the consumers stop once half the jobs started.
    pub fn consumers_stop(&self) -> bool {
        self.config.leak == super::config::Leak::Stops
            && self.started() >= self.plan.len() as u32 / 2
    }

    /// A worker starts (wg.Add(1)).
    pub fn worker_started(&self) {
        self.live_workers.fetch_add(1, AcqRel);
        self.note_peak();
    }

    /// A worker exits (wg.Done()).
    pub fn worker_exited(&self) {
        if self.live_workers.fetch_sub(1, AcqRel) == 1 {
            self.wake_coordinator();
        }
    }

    /// Workers that have not exited.
    pub fn live_workers(&self) -> u32 {
        self.live_workers.load(Acquire)
    }

    /// Jobs without a final outcome.
    pub fn remaining(&self) -> u32 {
        self.remaining.load(Acquire)
    }

    /// Jobs started so far.
    pub fn started(&self) -> u32 {
        self.started.load(Relaxed)
    }

    /// Final outcomes so far.
    pub fn counts(&self) -> Counts {
        Counts::from_fn(self.plan.len() as u32, |o| {
            self.counts[o.code() as usize - 1].load(Acquire)
        })
    }

    /// When the token was cancelled, in ns since the start.
    pub fn cancelled_at(&self) -> Option<u64> {
        let at = self.cancelled_at.load(Acquire);
        (at != UNSET).then_some(at)
    }

    /// Wakes the coordinator's task.
    pub fn wake_coordinator(&self) {
        self.coordinator.wake();
    }

    /// Registers the coordinator's waker (then re-check the condition: invariant 4).
    pub fn register_coordinator(&self, waker: &std::task::Waker) {
        self.coordinator.register(waker);
    }

    /// A snapshot of `job`'s slot.
    pub fn view(&self, job: u32) -> SlotView {
        let read = self.slot(job).read();
        SlotView {
            id: job,
            queued: read.queued,
            started: read.started,
            finished: read.finished,
            worker: read.worker,
            thread: read.thread,
            outcome: read.outcome,
            result: read.result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::engine::runtime::RayonPool;
    use std::task::{Wake, Waker};

    #[derive(Default)]
    struct CountingWaker(AtomicU32);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Relaxed);
        }
    }

    /// A run of `jobs` jobs on a manual clock at 5 s, with a counting coordinator waker.
    fn shared(jobs: u32) -> (Arc<RunShared>, Arc<CountingWaker>, Arc<ManualClock>) {
        let config = RunConfig {
            jobs,
            ..RunConfig::default()
        };
        let plan = crate::workload::plan::plan(&config);
        let clock = ManualClock::starting_at(Duration::from_secs(5));
        let run = RunShared::new(
            config,
            plan,
            clock.clone(),
            CancelToken::new(),
            Arc::new(RayonPool::global()),
            Some(4),
            None,
        );
        let wakes = Arc::new(CountingWaker::default());
        run.register_coordinator(&Waker::from(wakes.clone()));
        (run, wakes, clock)
    }

    fn woken(wakes: &CountingWaker) -> u32 {
        wakes.0.load(Relaxed)
    }

    #[test]
    fn the_coordinator_is_woken_when_the_last_job_ends() {
        let (run, wakes, clock) = shared(3);
        assert_eq!(
            run.epoch(),
            Duration::from_secs(5),
            "t = 0 is the clock at the start"
        );
        clock.advance(Duration::from_millis(2));
        assert_eq!(run.now(), 2_000_000);
        for job in 0..2 {
            assert!(run.try_start(job, 0, None).is_some());
            assert!(run.finish(job, Outcome::Completed, run.now(), 1));
        }
        assert_eq!(woken(&wakes), 0, "jobs remain: nothing to do yet");
        run.finish_unstarted([2], run.now());
        assert_eq!(woken(&wakes), 1, "the last outcome wakes it, once");
        assert_eq!(run.remaining(), 0);
    }

    #[test]
    fn after_a_cancel_the_last_running_job_to_stop_wakes_the_coordinator() {
        let (run, wakes, _) = shared(4);
        assert!(run.try_start(0, 0, None).is_some());
        assert!(run.try_start(1, 1, None).is_some());
        assert_eq!(run.running(), 2);
        assert!(run.finish(0, Outcome::Completed, run.now(), 1));
        assert_eq!((run.running(), woken(&wakes)), (1, 0), "no cancel: no wake");
        run.token.cancel();
        assert_eq!(woken(&wakes), 1, "the cancel itself wakes it");
        // Woken, the coordinator polls again and re-registers (an AtomicWaker holds one
        // registration per wake).
        run.register_coordinator(&Waker::from(wakes.clone()));
        assert!(run.finish(1, Outcome::Cancelled, run.now(), 0));
        assert_eq!(run.running(), 0);
        assert_eq!(woken(&wakes), 2, "the last one stopping wakes it");
        assert!(
            run.try_start(2, 0, None).is_none(),
            "nothing starts after the cancel"
        );
        assert_eq!((run.running(), run.started()), (0, 2));
        assert_eq!(
            run.counts().not_started,
            1,
            "the refused job is accounted for"
        );
    }

    #[test]
    fn the_ready_queue_is_first_come_first_served() {
        let ready = ReadyQueue::default();
        assert!(ready.is_empty());
        ready.push(3, None);
        ready.push(1, Some(7));
        assert!(!ready.is_empty());
        assert_eq!(ready.pop(), Some((3, None)));
        assert_eq!(ready.pop(), Some((1, Some(7))));
        assert!(ready.is_empty());
        assert_eq!(ready.pop(), None);
    }

    #[test]
    fn goroutines_alive_and_their_peak_count_tasks_and_workers() {
        let (run, wakes, _) = shared(2);
        run.task_spawned();
        run.task_spawned();
        run.task_ended();
        run.worker_started();
        assert_eq!((run.tasks_alive(), run.tasks_peak()), (2, 2));
        run.worker_started();
        assert_eq!((run.tasks_alive(), run.tasks_peak()), (3, 3));
        run.worker_exited();
        assert_eq!(woken(&wakes), 0, "a worker is still alive");
        run.worker_exited();
        assert_eq!(
            woken(&wakes),
            1,
            "the last worker's exit (wg.Wait) wakes it"
        );
        assert_eq!(
            (run.live_workers(), run.tasks_alive(), run.tasks_peak()),
            (0, 1, 3)
        );
    }
}
