//! The state a run shares between its coordinator, its producer and its workers: the
//! jobs channel, the elastic pool, the recorder, the run's counters and the
//! coordinator's waker.
//!
//! A job is a value ([`Job`]) that moves from the producer to the channel to one worker,
//! which ends it; so every job ends exactly once by construction, and the only shared
//! bookkeeping is counting.
//!
//! # Invariants and orderings
//! 1. `submitted` counts jobs that entered the run (entered the channel, or were
//!    spawned, or — a job-count run stopped early — were counted as never sent);
//!    `outstanding` counts those without an outcome yet. Both are raised before the job
//!    can be seen by a worker (under the channel's lock, or before the spawn), so
//!    `outstanding` never underflows. They live in [`Admission`], which the channel's
//!    enqueue hook holds directly (not through the run: see there).
//! 2. A job is started only after reading the clock and *then* finding the run not
//!    cancelled, so every started job's start time precedes the cancellation (whose
//!    time is read after the token's flag is set): no job starts after a cancel.
//! 3. The coordinator is woken (`AtomicWaker`) when `outstanding` reaches zero, when the
//!    last worker leaves, when the producer finishes, when the last running job stops
//!    after a cancel, and when I/O workers are to be started; it re-checks every
//!    condition after registering, so no wake is lost.
//! 4. `running` counts jobs between [`RunShared::try_start`] and their end (raised before
//!    the cancellation check, so it never misses a job that is just starting). Once the
//!    token is cancelled it only falls, and reaching zero wakes the coordinator, which
//!    waits for that before draining the queue — so the bookkeeping of a cancel never
//!    competes for a core with the jobs that still have to notice it.
//! 5. Resizes go through [`RunShared::resize`] only: the pool's protocol (see
//!    [`super::pool`]) and then the retirement of parked workers, in that order. Once
//!    the run's work is over ([`RunShared::work_over`]: nothing more can enter, every
//!    job has its outcome) and its last worker has left, a resize changes nothing (the
//!    pool's invariant 5), so [`RunShared::is_done`], once true, stays true.

use std::sync::atomic::Ordering::{AcqRel, Acquire, Release};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::task::AtomicWaker;
use serde::Serialize;

use super::abort_slot::SlotWatch;
use super::chan::{JobChannel, Received};
use super::config::{Pattern, RunConfig};
use super::control::RateControl;
use super::fan_in::FanIn;
use super::job::{Finished, Job, NONE, UNSET};
use super::pool::{ElasticPool, MAX_WORKERS, Resized, Shrink};
use super::record::{Recorder, started_record};
use super::runtime::CpuPool;
use crate::cancel::CancelToken;
use crate::clock::Clock;
use crate::semaphore::Weighted;

pub use super::outcome::{Counts, Outcome};

/// A value on cache lines of its own.
#[derive(Default)]
#[repr(align(128))]
struct Padded<T>(T);

/// What a job entering the run needs — the run's clock, and the two counters of
/// invariant 1 — shared with the channel's enqueue hook directly. The hook runs under the
/// channel's lock on every send; reaching the run there through a weak reference (a
/// strong one would be a cycle: the run owns the channel) meant upgrading it, a
/// compare-and-swap on the run's reference count that both pool threads contend for,
/// inside the lock. With empty jobs that made the lock itself contended, the threads
/// sleeping on it: natively 560 ns of wall time per empty job instead of 200.
struct Admission {
    clock: Arc<dyn Clock>,
    epoch: u64,
    // Each on its own cache lines (two threads writing neighbours would otherwise make
    // every job pay for the other's writes).
    submitted: Padded<AtomicU32>,
    outstanding: Padded<AtomicU32>,
}

impl Admission {
    /// Nanoseconds since the run started.
    fn now(&self) -> u64 {
        self.clock.now_nanos().saturating_sub(self.epoch)
    }

    /// A job entered the run (invariant 1).
    fn submitted_one(&self) {
        self.submitted.fetch_add(1, AcqRel);
        self.outstanding.fetch_add(1, AcqRel);
    }

    /// The channel's enqueue hook: `job` enters the run now.
    fn enter(&self, job: &mut Job) {
        job.queued = self.now();
        // A closed loop has no schedule: a job is due when it enters.
        if job.intended == UNSET {
            job.intended = job.queued;
        }
        self.submitted_one();
    }
}

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// "Not cancelled yet" in `cancelled_at`.
const NOT_CANCELLED: u64 = u64::MAX;
/// Most resizes a run's report lists (a storm of more keeps the first ones and counts
/// the rest).
pub const MAX_RESIZES: usize = 10_000;

/// One change of the pool's size.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ResizeRecord {
    /// When (ms since the start).
    pub t_ms: f64,
    /// Target before.
    pub from: u32,
    /// Target after.
    pub to: u32,
    /// Why: `manual`, `manual (stop now)`, or the autoscaler's reading.
    pub cause: String,
    /// When the pool first had exactly `to` workers alive after it: at once for a grow
    /// (new workers count from their start), after the removed workers' exits for a
    /// shrink. `None` if another resize came first.
    pub settled_ms: Option<f64>,
}

#[derive(Default)]
struct ResizeLog {
    all: Vec<ResizeRecord>,
    sent: usize,
    dropped: u32,
}

/// The CPU workers ready for a turn, oldest first (Go's run queue). Invariant: every
/// `push` is followed by exactly one pool task that `pop`s, so a task always finds a
/// worker. `len` mirrors the queue's length (raised after a push, lowered after a pop,
/// both under the lock), so a worker between jobs asks "is anyone waiting?" with one
/// atomic load instead of the lock.
#[derive(Default)]
pub struct ReadyQueue {
    queue: Mutex<std::collections::VecDeque<(u32, Option<Job>)>>,
    len: std::sync::atomic::AtomicUsize,
}

impl ReadyQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<(u32, Option<Job>)>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `worker` is ready, with `job` already handed to it (or none).
    pub fn push(&self, worker: u32, job: Option<Job>) {
        let mut queue = self.lock();
        queue.push_back((worker, job));
        self.len.store(queue.len(), Release);
    }

    /// Whether no worker is waiting for a turn.
    pub fn is_empty(&self) -> bool {
        self.len.load(Acquire) == 0
    }

    /// The worker that has been ready longest.
    pub fn pop(&self) -> Option<(u32, Option<Job>)> {
        let mut queue = self.lock();
        let front = queue.pop_front();
        self.len.store(queue.len(), Release);
        front
    }
}

/// What starts a worker of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerKind {
    /// A continuation on the CPU pool.
    Cpu,
    /// A task on the coordinator (I/O-like jobs).
    Io,
}

/// Everything the pool threads and the coordinator share during a run.
pub struct RunShared {
    /// The validated configuration.
    pub config: RunConfig,
    /// The run's clock (its reading at the start is in `admission`).
    pub clock: Arc<dyn Clock>,
    /// Cancelled on Cancel, on the deadline, or (fail fast) on the first error.
    pub token: CancelToken,
    /// Where a page may request an abort through shared memory (see
    /// [`super::abort_slot`]); polled with the token by [`RunShared::check_cancelled`].
    abort_slot: Option<SlotWatch>,
    /// Where CPU jobs run.
    pub cpu: Arc<dyn CpuPool>,
    /// The jobs channel (every pattern with a pool).
    pub channel: Option<Arc<JobChannel<Job>>>,
    /// CPU workers waiting for a turn on a pool thread.
    pub ready: ReadyQueue,
    /// The pool's workers and their target.
    pub workers: ElasticPool,
    /// How workers run.
    pub worker_kind: WorkerKind,
    /// I/O workers the coordinator is to start.
    io_starts: Mutex<Vec<u32>>,
    /// Counts, latencies, the kept window.
    pub recorder: Recorder,
    /// The clock's reading at the run's start, and the counters of invariant 1.
    admission: Arc<Admission>,
    /// Jobs running now (invariant 4), on cache lines of its own like the counters.
    running: Padded<AtomicU32>,
    producing: AtomicBool,
    tasks_alive: AtomicU32,
    /// The most goroutines (fan-out tasks + pool workers) alive at once: raised after
    /// every spawn and worker start, so no burst between samples is missed.
    tasks_peak: AtomicU32,
    /// When the token was cancelled (ns since start), `NOT_CANCELLED` while not.
    cancelled_at: AtomicU64,
    coordinator: AtomicWaker,
    /// Fan-out runs: the stage results come back through.
    pub fan_in: Option<FanIn>,
    /// The simulated backend (workload `backend`).
    pub backend: Option<Weighted>,
    /// Where the time went (see `time_use`).
    pub time_use: super::time_use::TimeUse,
    resizes: Mutex<ResizeLog>,
    /// Rate changes asked for while the run goes (rate-limited runs).
    pub rate_control: RateControl,
    /// The number of the latest resize request applied (see [`super::abort_slot`]:
    /// requests come by message and through shared memory; each is applied once). The
    /// lock orders the appliers; the atomic mirrors it for the check between jobs.
    applied_resize: Mutex<u16>,
    applied_resize_seen: AtomicU32,
    /// Set once the run is over: resizes are refused from then on.
    ended: AtomicBool,
    /// Overload `shed`: the longest a job may wait in the queue, ns (0: no deadline).
    shed_after: u64,
}

impl RunShared {
    /// Shared state for a run (the clock's `now` is t = 0), with a jobs channel of
    /// `channel_capacity` if given. Starts no worker (see [`RunShared::resize`]).
    pub fn new(
        config: RunConfig,
        clock: Arc<dyn Clock>,
        token: CancelToken,
        cpu: Arc<dyn CpuPool>,
        channel_capacity: Option<usize>,
        abort_slot: Option<SlotWatch>,
    ) -> Arc<RunShared> {
        let epoch = clock.now_nanos();
        let threads = cpu.threads();
        let fan_in = (config.pattern == Pattern::FanOut)
            .then(|| FanIn::new(config.jobs as usize, config.ordered));
        let backend = (config.workload == super::config::WorkKind::Backend)
            .then(|| Weighted::new(config.backend_slots as i64));
        let worker_kind = if config.workload.is_cpu() {
            WorkerKind::Cpu
        } else {
            WorkerKind::Io
        };
        let open_loop = config.arrival.is_open();
        let shed_after = if config.overload == super::config::Overload::Shed {
            (config.shed_after_ms * 1e6).round().max(1.0) as u64
        } else {
            0
        };
        let admission = Arc::new(Admission {
            clock: clock.clone(),
            epoch,
            submitted: Padded(AtomicU32::new(0)),
            outstanding: Padded(AtomicU32::new(0)),
        });
        let channel = channel_capacity.map(|capacity| {
            let admission = admission.clone();
            Arc::new(JobChannel::new(capacity, move |job: &mut Job| {
                admission.enter(job)
            }))
        });
        let shared = Arc::new(RunShared {
            config,
            clock,
            admission,
            token,
            abort_slot,
            cpu,
            channel,
            ready: ReadyQueue::default(),
            workers: ElasticPool::new(MAX_WORKERS),
            worker_kind,
            io_starts: Mutex::new(Vec::new()),
            recorder: if open_loop {
                Recorder::new(threads).with_windows()
            } else {
                Recorder::new(threads)
            },
            running: Padded(AtomicU32::new(0)),
            producing: AtomicBool::new(true),
            tasks_alive: AtomicU32::new(0),
            tasks_peak: AtomicU32::new(0),
            cancelled_at: AtomicU64::new(NOT_CANCELLED),
            coordinator: AtomicWaker::new(),
            fan_in,
            backend,
            time_use: Default::default(),
            resizes: Mutex::new(ResizeLog::default()),
            rate_control: RateControl::default(),
            applied_resize: Mutex::new(0),
            applied_resize_seen: AtomicU32::new(0),
            ended: AtomicBool::new(false),
            shed_after,
        });
        // Record when the token is cancelled, whoever cancels it (invariant 2: this
        // reads the clock after the flag is set). It stays registered for the run's
        // life (as Go's AfterFunc); a weak reference keeps it from holding the run.
        let weak = Arc::downgrade(&shared);
        let _registered = shared.token.after_cancel(move || {
            if let Some(run) = weak.upgrade() {
                let _ =
                    run.cancelled_at
                        .compare_exchange(NOT_CANCELLED, run.now(), AcqRel, Acquire);
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

    /// Whether worker `worker`'s running job should stop: the run was cancelled, or the
    /// worker was removed with "stop now".
    pub fn job_should_stop(&self, worker: u32) -> bool {
        self.check_cancelled() || self.workers.stop_requested(worker)
    }

    /// Nanoseconds since the run started.
    pub fn now(&self) -> u64 {
        self.admission.now()
    }

    /// The run's start on its clock.
    pub fn epoch(&self) -> Duration {
        Duration::from_nanos(self.admission.epoch)
    }

    /// A job entered the run (invariant 1).
    fn submitted_one(&self) {
        self.admission.submitted_one();
    }

    /// A fan-out task was made for `job` now (it entered the run).
    pub fn spawned(&self, job: &mut Job) {
        job.queued = self.now();
        self.submitted_one();
    }

    /// Jobs that entered the run.
    pub fn submitted(&self) -> u32 {
        self.admission.submitted.load(Acquire)
    }

    /// The producer is done: `unsent` jobs it never made count as not started (a
    /// job-count run stopped early).
    pub fn producer_done(&self, unsent: u32) {
        self.admission.submitted.fetch_add(unsent, AcqRel);
        self.recorder.count_unsent(unsent);
        self.producing.store(false, Release);
        self.wake_coordinator();
    }

    /// Jobs a job-count run never sent, now that its producer has stopped (they count as
    /// not started); 0 for a run limited by its duration, which asked for no more.
    pub fn unsent(&self) -> u32 {
        if self.config.duration().is_some() {
            0
        } else {
            self.config.jobs.saturating_sub(self.submitted())
        }
    }

    /// Whether the producer is still producing.
    pub fn producing(&self) -> bool {
        self.producing.load(Acquire)
    }

    /// Tries to start `job` on `worker` (and pool thread `thread`). Reads the clock,
    /// then checks for cancellation (invariant 2): if the run is cancelled, the job is
    /// ended as not started and `None` returned; otherwise its start time.
    pub fn try_start(&self, job: &Job, worker: u32, thread: Option<usize>) -> Option<u64> {
        let now = self.now();
        // Counted as running before the check, so a coordinator waiting for the running
        // jobs to stop (after a cancel) cannot miss one that is just starting.
        self.running.fetch_add(1, AcqRel);
        if self.check_cancelled() {
            self.stopped_running();
            return None;
        }
        self.recorder.started(started_record(
            job.spec.id,
            (worker != NONE).then_some(worker),
            thread,
            job.spec.cost,
            job.intended,
            job.queued,
            now,
        ));
        Some(now)
    }

    /// Ends a job that ran (started at `started`) with `outcome` now.
    pub fn finish(
        &self,
        job: Job,
        outcome: Outcome,
        started: u64,
        worker: u32,
        thread: Option<usize>,
        result: u64,
    ) {
        let at = self.now();
        let thread = thread.map_or(NONE, |t| t as u32);
        self.end(job.ended(outcome, started, at, worker, thread, result));
        self.stopped_running();
    }

    /// Ends a job that never started (the run was cancelled, or it was drained from the
    /// queue) as not started.
    pub fn finish_unstarted(&self, job: Job) {
        let at = self.now();
        self.end(job.ended(Outcome::NotStarted, UNSET, at, NONE, NONE, 0));
    }

    /// Ends a job the full queue refused (overload `reject`): it was offered, so it
    /// entered the run (invariant 1), and ends at once as rejected.
    pub fn finish_rejected(&self, job: Job) {
        self.submitted_one();
        let at = self.now();
        self.end(job.ended(Outcome::Rejected, UNSET, at, NONE, NONE, 0));
    }

    /// Ends a job dropped before it started (overload `drop-oldest` or `shed`) as shed.
    /// A job that never entered the channel (an unbuffered one had no room) enters the
    /// run here.
    pub fn finish_shed(&self, job: Job) {
        if job.queued == UNSET {
            self.submitted_one();
        }
        let at = self.now();
        self.end(job.ended(Outcome::Shed, UNSET, at, NONE, NONE, 0));
    }

    /// What a worker does with a job it has just taken: under overload `shed`, a job
    /// that waited in the queue longer than `shedAfter` is ended as shed (`None`: take
    /// the next); any other job is handed back to run.
    pub fn shed_if_stale(&self, job: Job) -> Option<Job> {
        if self.shed_after == 0 || job.queued == UNSET {
            return Some(job);
        }
        if self.now().saturating_sub(job.queued) > self.shed_after {
            self.finish_shed(job);
            None
        } else {
            Some(job)
        }
    }

    fn end(&self, record: Finished) {
        if let Some(fan_in) = &self.fan_in {
            fan_in.job_ended(record.id, record.outcome.has_result(), record.finished);
        }
        self.recorder.record(record);
        if self.admission.outstanding.fetch_sub(1, AcqRel) == 1 {
            self.wake_coordinator();
        }
    }

    /// A started job ended; after a cancel, the last one to stop wakes the coordinator
    /// (invariant 4).
    fn stopped_running(&self) {
        if self.running.fetch_sub(1, AcqRel) == 1 && self.token.is_cancelled() {
            self.wake_coordinator();
        }
    }

    /// Jobs running now (and jobs between reading the clock and checking the token).
    pub fn running(&self) -> u32 {
        self.running.load(Acquire)
    }

    /// Jobs without an outcome yet.
    pub fn outstanding(&self) -> u32 {
        self.admission.outstanding.load(Acquire)
    }

    /// A fan-out task was spawned (it is alive until [`task_ended`](Self::task_ended)).
    pub fn task_spawned(&self) {
        self.tasks_alive.fetch_add(1, AcqRel);
        self.note_peak();
    }

    /// A fan-out task ended.
    pub fn task_ended(&self) {
        if self.tasks_alive.fetch_sub(1, AcqRel) == 1 {
            self.wake_coordinator();
        }
    }

    /// Goroutines alive: fan-out tasks spawned and not ended, and pool workers.
    pub fn tasks_alive(&self) -> u32 {
        self.tasks_alive.load(Acquire) + self.workers.live()
    }

    /// The most goroutines alive at once so far.
    pub fn tasks_peak(&self) -> u32 {
        self.tasks_peak.load(Acquire)
    }

    fn note_peak(&self) {
        self.tasks_peak.fetch_max(self.tasks_alive(), AcqRel);
    }

    /// Starts the pool at its configured size (not logged as a resize).
    pub fn start_pool(self: &Arc<Self>) {
        self.apply_resize(self.config.workers, Shrink::Graceful);
    }

    /// Applies a resize to the pool; `None` if the run was done (invariant 5).
    fn apply_resize(self: &Arc<Self>, to: u32, shrink: Shrink) -> Option<Resized> {
        let resized = self
            .workers
            .resize_unless_over(to, shrink, || self.work_over())?;
        for &index in &resized.start {
            self.start_worker(index);
        }
        // Parked workers at or above the new target retire now. Only a shrink leaves
        // any (a grow or a same-size resize finds none), so there is no need to ask
        // which kind of resize this was.
        self.retire_parked();
        self.note_peak();
        Some(resized)
    }

    /// Resizes the pool to `to` workers (invariant 5): starts workers in the slots it
    /// activates, retires parked workers above the target, and logs the change with
    /// `cause`. Logs nothing if the target does not change. `None` (and nothing
    /// changed or logged) once the run is done.
    pub fn resize(
        self: &Arc<Self>,
        to: u32,
        shrink: Shrink,
        cause: impl Into<String>,
    ) -> Option<Resized> {
        let at = self.now() as f64 / 1e6;
        let to = to.min(self.workers.capacity());
        let from = self.workers.target();
        // Logged before it applies (and without holding the log's lock meanwhile: the
        // retired workers' exits take it), so those exits settle this entry.
        let entry = (from != to).then(|| {
            let mut log = self.resizes.lock().unwrap_or_else(|p| p.into_inner());
            if log.all.len() < MAX_RESIZES {
                log.all.push(ResizeRecord {
                    t_ms: at,
                    from,
                    to,
                    cause: cause.into(),
                    settled_ms: None,
                });
                Some(log.all.len() - 1)
            } else {
                log.dropped += 1;
                None
            }
        });
        let Some(resized) = self.apply_resize(to, shrink) else {
            // The last worker left since `is_done` was last asked: the run is done, and
            // this resize never happened. Only the coordinator's thread resizes a run
            // with no worker left, so the entry is still the last one.
            let mut log = self.resizes.lock().unwrap_or_else(|p| p.into_inner());
            match entry {
                Some(Some(_)) => drop(log.all.pop()),
                Some(None) => log.dropped -= 1,
                None => {}
            }
            return None;
        };
        if let Some(Some(index)) = entry
            && self.workers.live() == to
        {
            let mut log = self.resizes.lock().unwrap_or_else(|p| p.into_inner());
            let record = &mut log.all[index];
            record.settled_ms.get_or_insert(at);
        }
        Some(resized)
    }

    /// Applies resize request `seq` (to `to` workers, already checked) unless it, or a
    /// newer one, was applied already — requests arrive twice (by message and through
    /// shared memory) and not always in order. Returns whether this call applied it
    /// (`false` also when the run was done: see [`resize`](Self::resize)).
    pub fn resize_once(
        self: &Arc<Self>,
        seq: u16,
        to: u32,
        shrink: Shrink,
        cause: impl Into<String>,
    ) -> bool {
        self.claim_resize(seq) && self.resize(to, shrink, cause).is_some()
    }

    /// Marks request `seq` as dealt with, unless it, or a newer one, was already.
    fn claim_resize(&self, seq: u16) -> bool {
        let mut applied = self
            .applied_resize
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // Serial numbers (RFC 1982): `seq` is newer if it is ahead by less than half
        // the space.
        let ahead = seq.wrapping_sub(*applied);
        if ahead == 0 || ahead >= 1 << 15 {
            return false;
        }
        *applied = seq;
        self.applied_resize_seen.store(seq as u32, Release);
        true
    }

    /// Applies a resize the page asked for through the run's slot, if there is a new
    /// one and it is allowed (a refused one is answered by its message). One atomic load
    /// when there is nothing to do: workers call it between jobs.
    pub fn apply_requested_resize(self: &Arc<Self>) {
        let Some(request) = self.abort_slot.and_then(|s| s.resize_request()) else {
            return;
        };
        if request.seq as u32 == self.applied_resize_seen.load(Acquire) {
            return;
        }
        match super::control::allowed_size(self, request.workers as f64) {
            Ok(to) => {
                let (shrink, cause) = if request.stop_now {
                    (Shrink::StopNow, "manual (stop now)")
                } else {
                    (Shrink::Graceful, "manual")
                };
                self.resize_once(request.seq, to, shrink, cause);
            }
            // Refused (its message says why): not looked at again.
            Err(_) => {
                self.claim_resize(request.seq);
            }
        }
    }

    /// Wakes the parked workers at or above the target so that they retire.
    fn retire_parked(&self) {
        if let Some(channel) = &self.channel {
            for parked in channel.retire_parked(|w| self.workers.should_retire(w)) {
                parked(Received::Retire);
            }
        }
    }

    fn start_worker(self: &Arc<Self>, index: u32) {
        self.time_use.worker_started(self.now());
        match self.worker_kind {
            WorkerKind::Cpu => super::workers::start_cpu_worker(self, index),
            WorkerKind::Io => {
                self.io_starts
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(index);
                self.wake_coordinator();
            }
        }
    }

    /// I/O workers waiting to be started by the coordinator.
    pub fn take_io_starts(&self) -> Vec<u32> {
        std::mem::take(&mut *self.io_starts.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// A worker left the pool; the last one wakes the coordinator (wg.Wait()). The
    /// latest resize is settled once the workers alive match its target.
    pub fn worker_left(&self, exit: super::pool::Exit) {
        if let super::pool::Exit::Exited { .. } = exit {
            self.time_use.worker_ended(self.now());
        }
        if exit == (super::pool::Exit::Exited { last: true }) {
            self.wake_coordinator();
        }
        let mut log = self.resizes.lock().unwrap_or_else(|p| p.into_inner());
        let live = self.workers.live();
        if let Some(last) = log.all.last_mut()
            && last.settled_ms.is_none()
            && live == last.to
        {
            last.settled_ms = Some(self.now() as f64 / 1e6);
        }
    }

    /// Resizes since the last call, and how many were not logged at all.
    pub fn take_resizes(&self) -> Vec<ResizeRecord> {
        let mut log = self.resizes.lock().unwrap_or_else(|p| p.into_inner());
        let new = log.all[log.sent..].to_vec();
        log.sent = log.all.len();
        new
    }

    /// Every logged resize, and how many more were not logged.
    pub fn resizes(&self) -> (Vec<ResizeRecord>, u32) {
        let log = self.resizes.lock().unwrap_or_else(|p| p.into_inner());
        (log.all.clone(), log.dropped)
    }

    /// Marks the run as over (resizes are refused from now on).
    pub fn end_run(&self) {
        self.ended.store(true, Release);
    }

    /// Whether the run is over.
    pub fn has_ended(&self) -> bool {
        self.ended.load(Acquire)
    }

    /// Final outcomes so far.
    pub fn counts(&self) -> Counts {
        self.recorder.counts(self.submitted())
    }

    /// Whether every job has an outcome, the producer is done and every worker and task
    /// has left (Go's `wg.Wait()` returning). Once true, it stays true (invariant 5).
    pub fn is_done(&self) -> bool {
        self.work_over() && self.workers.live() == 0
    }

    /// Whether the run's work is over: the producer is done, every job has its outcome
    /// and every fan-out task has ended. Once true it stays true — only the producer
    /// adds jobs and fan-out tasks — so with no pool worker left (and none revived:
    /// invariant 5) the run is done for good.
    pub fn work_over(&self) -> bool {
        !self.producing() && self.outstanding() == 0 && self.tasks_alive.load(Acquire) == 0
    }

    /// When the token was cancelled, in ns since the start.
    pub fn cancelled_at(&self) -> Option<u64> {
        let at = self.cancelled_at.load(Acquire);
        (at != NOT_CANCELLED).then_some(at)
    }

    /// Wakes the coordinator's task.
    pub fn wake_coordinator(&self) {
        self.coordinator.wake();
    }

    /// Registers the coordinator's waker (then re-check the condition: invariant 3).
    pub fn register_coordinator(&self, waker: &std::task::Waker) {
        self.coordinator.register(waker);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::engine::runtime::RayonPool;
    use crate::workload::plan::Planner;
    use std::sync::atomic::Ordering::Relaxed;
    use std::task::{Wake, Waker};

    #[derive(Default)]
    struct CountingWaker(AtomicU32);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Relaxed);
        }
    }

    /// A run of `config` on a manual clock at 5 s, with a counting coordinator waker.
    fn shared_run(config: RunConfig) -> (Arc<RunShared>, Arc<CountingWaker>, Arc<ManualClock>) {
        let clock = ManualClock::starting_at(Duration::from_secs(5));
        let run = RunShared::new(
            config,
            clock.clone(),
            CancelToken::new(),
            Arc::new(RayonPool::global()),
            None,
            None,
        );
        let wakes = Arc::new(CountingWaker::default());
        run.register_coordinator(&Waker::from(wakes.clone()));
        (run, wakes, clock)
    }

    /// [`shared_run`] of the default set-up with `jobs` jobs, all sent into it.
    fn shared(
        jobs: u32,
    ) -> (
        Arc<RunShared>,
        Arc<CountingWaker>,
        Arc<ManualClock>,
        Vec<Job>,
    ) {
        let config = RunConfig {
            jobs,
            ..RunConfig::default()
        };
        let mut planner = Planner::new(&config);
        let (run, wakes, clock) = shared_run(config);
        let made = (0..jobs)
            .map(|_| {
                let mut job = Job::new(planner.next_job(), run.now());
                run.spawned(&mut job);
                job
            })
            .collect();
        (run, wakes, clock, made)
    }

    fn woken(wakes: &CountingWaker) -> u32 {
        wakes.0.load(Relaxed)
    }

    #[test]
    fn a_storm_beyond_the_log_keeps_the_first_resizes_and_counts_the_rest() {
        let (run, _, _) = shared_run(RunConfig {
            workload: crate::engine::config::WorkKind::Sleep,
            ..RunConfig::default()
        });
        let extra = 37;
        for i in 0..MAX_RESIZES + extra {
            run.resize(1 + (i % 2) as u32, Shrink::Graceful, "storm");
        }
        let (logged, dropped) = run.resizes();
        assert_eq!((logged.len(), dropped), (MAX_RESIZES, extra as u32));
        assert_eq!(
            (logged[0].from, logged[0].to),
            (0, 1),
            "the pool was not started"
        );
        // Once the run is done, a resize is not counted among those left out either.
        finish_pool(&run);
        assert!(run.resize(4, Shrink::Graceful, "late").is_none());
        assert_eq!(run.resizes().1, extra as u32);
    }

    /// Ends `run`'s production (no job was sent) and makes every worker leave: the run
    /// is done.
    fn finish_pool(run: &Arc<RunShared>) {
        run.producer_done(0);
        for index in run.workers.active_slots() {
            run.worker_left(run.workers.leave(index));
        }
        assert!(run.is_done());
    }

    /// Pool invariant 5 seen from the run: a resize of a done run (the last worker left
    /// in the tick an autoscaler decided) changes nothing and is not logged; the handle
    /// says the run has ended.
    #[test]
    fn a_resize_of_a_done_run_changes_and_logs_nothing() {
        let (run, _, _) = shared_run(RunConfig {
            workload: crate::engine::config::WorkKind::Sleep,
            ..RunConfig::default()
        });
        run.start_pool();
        run.resize(3, Shrink::Graceful, "manual");
        finish_pool(&run);
        let before = run.resizes();
        assert!(run.resize(1, Shrink::Graceful, "aimd: late cut").is_none());
        assert!(!run.resize_once(7, 2, Shrink::Graceful, "manual"));
        assert_eq!(run.resizes(), before, "nothing logged");
        assert_eq!((run.workers.live(), run.workers.target()), (0, 3));
        assert!(run.is_done(), "still done");
        let handle = super::super::control::RunHandle::new(&run);
        assert_eq!(
            handle.resize(2.0, Shrink::Graceful),
            Err(super::super::control::ControlError::Ended)
        );
    }

    #[test]
    fn a_handle_refuses_changes_once_the_run_has_ended_even_while_it_lives() {
        let (run, _, _) = shared_run(RunConfig::default());
        let handle = super::super::control::RunHandle::new(&run);
        assert!(!run.has_ended());
        run.end_run();
        assert!(run.has_ended());
        // The run's state is still alive (held here, as a pool thread may still hold
        // it): the handle must refuse on the flag, not on the state being gone.
        assert_eq!(
            handle.resize(2.0, super::super::pool::Shrink::Graceful),
            Err(super::super::control::ControlError::Ended)
        );
    }

    #[test]
    fn the_coordinator_is_woken_when_the_last_job_ends() {
        let (run, wakes, clock, jobs) = shared(3);
        assert_eq!(
            run.epoch(),
            Duration::from_secs(5),
            "t = 0 is the clock at the start"
        );
        clock.advance(Duration::from_millis(2));
        assert_eq!(run.now(), 2_000_000);
        let mut jobs = jobs.into_iter();
        for job in jobs.by_ref().take(2) {
            let started = run.try_start(&job, 0, None).unwrap();
            run.finish(job, Outcome::Completed, started, 0, None, 1);
        }
        assert_eq!(woken(&wakes), 0, "jobs remain: nothing to do yet");
        run.finish_unstarted(jobs.next().unwrap());
        assert_eq!(woken(&wakes), 1, "the last outcome wakes it, once");
        assert_eq!(run.outstanding(), 0);
        assert!(!run.is_done(), "the producer has not said it is done");
        run.producer_done(0);
        assert!(run.is_done());
        assert!(run.counts().identity_holds());
    }

    #[test]
    fn after_a_cancel_the_last_running_job_to_stop_wakes_the_coordinator() {
        let (run, wakes, _, jobs) = shared(4);
        let mut jobs = jobs.into_iter();
        let (a, b, c) = (
            jobs.next().unwrap(),
            jobs.next().unwrap(),
            jobs.next().unwrap(),
        );
        run.finish_unstarted(jobs.next().unwrap()); // drained from the queue
        let sa = run.try_start(&a, 0, None).unwrap();
        let sb = run.try_start(&b, 1, None).unwrap();
        assert_eq!(run.running(), 2);
        run.finish(a, Outcome::Completed, sa, 0, None, 1);
        assert_eq!((run.running(), woken(&wakes)), (1, 0), "no cancel: no wake");
        run.token.cancel();
        assert_eq!(woken(&wakes), 1, "the cancel itself wakes it");
        run.register_coordinator(&Waker::from(wakes.clone()));
        run.finish(b, Outcome::Cancelled, sb, 1, None, 0);
        assert_eq!(run.running(), 0);
        assert_eq!(woken(&wakes), 2, "the last one stopping wakes it");
        assert!(
            run.try_start(&c, 0, None).is_none(),
            "nothing starts after the cancel"
        );
        run.finish_unstarted(c);
        assert_eq!(run.running(), 0);
        assert_eq!(
            run.counts().not_started,
            2,
            "the refused job is accounted for"
        );
        run.producer_done(1); // and one the producer never sent
        let counts = run.counts();
        assert_eq!((counts.submitted, counts.not_started), (5, 3));
        assert!(counts.identity_holds());
    }

    #[test]
    fn the_ready_queue_is_first_come_first_served() {
        let ready = ReadyQueue::default();
        assert!(ready.is_empty());
        ready.push(3, None);
        ready.push(1, None);
        assert!(!ready.is_empty());
        assert_eq!(ready.pop().map(|(w, _)| w), Some(3));
        assert_eq!(ready.pop().map(|(w, _)| w), Some(1));
        assert!(ready.is_empty());
        assert!(ready.pop().is_none());
    }

    #[test]
    fn goroutines_alive_and_their_peak_count_tasks_and_workers() {
        let (run, wakes, _, _) = shared(0);
        run.task_spawned();
        run.task_spawned();
        run.task_ended();
        assert_eq!((run.tasks_alive(), run.tasks_peak()), (1, 2));
        run.task_ended();
        assert_eq!(woken(&wakes), 1, "the last task ending wakes it");
        assert_eq!(run.tasks_alive(), 0);
    }

    #[test]
    fn resizes_are_logged_with_their_cause_and_bounded() {
        let (run, _, clock, _) = shared(0);
        // An I/O-less run with no channel: workers are CPU continuations; keep the
        // target at 0 so nothing is spawned, and log target changes only.
        clock.advance(Duration::from_millis(3));
        run.resize(0, Shrink::Graceful, "manual");
        assert!(run.take_resizes().is_empty(), "no change, no entry");
        assert_eq!(run.resizes().1, 0);
    }

    #[test]
    fn overload_outcomes_enter_the_run_once_and_keep_the_books() {
        // Overload `shed` with a 10 ms queue-wait deadline.
        let config = RunConfig {
            jobs: 4,
            arrival: super::super::config::Arrival::Poisson,
            overload: super::super::config::Overload::Shed,
            shed_after_ms: 10.0,
            ..RunConfig::default()
        };
        let mut planner = Planner::new(&config);
        let (run, wakes, clock) = shared_run(config);
        let job = |planner: &mut Planner| Job::new(planner.next_job(), 0);
        // Rejected: never queued, enters the run as it ends.
        run.finish_rejected(job(&mut planner));
        assert_eq!((run.submitted(), run.outstanding()), (1, 0));
        // Shed without ever entering the channel (an unbuffered one had no room).
        run.finish_shed(job(&mut planner));
        assert_eq!((run.submitted(), run.outstanding()), (2, 0));
        // Queued at t = 0: fresh at 10 ms (kept), stale after (shed, counted once).
        let queued = |planner: &mut Planner| {
            let mut j = job(planner);
            run.spawned(&mut j);
            j
        };
        let (fresh, stale) = (queued(&mut planner), queued(&mut planner));
        assert_eq!((run.submitted(), run.outstanding()), (4, 2));
        clock.advance(Duration::from_millis(10));
        let fresh = run
            .shed_if_stale(fresh)
            .expect("waited exactly the deadline: runs");
        clock.advance(Duration::from_nanos(1));
        assert!(run.shed_if_stale(stale).is_none(), "waited past it: shed");
        assert_eq!((run.submitted(), run.outstanding()), (4, 1));
        run.finish_unstarted(fresh);
        run.producer_done(0);
        let counts = run.counts();
        assert_eq!(
            (
                counts.rejected,
                counts.shed,
                counts.not_started,
                counts.submitted
            ),
            (1, 2, 1, 4)
        );
        assert!(counts.identity_holds());
        assert!(woken(&wakes) >= 1, "the coordinator heard the last outcome");
    }

    #[test]
    fn without_the_shed_policy_no_job_is_shed_however_long_it_waited() {
        let (run, _wakes, clock, jobs) = shared(1);
        clock.advance(Duration::from_secs(3600));
        let job = jobs.into_iter().next().unwrap();
        assert!(run.shed_if_stale(job).is_some());
    }
}
