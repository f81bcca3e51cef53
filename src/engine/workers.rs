//! The goroutines of a run: CPU workers that take turns on the pool threads, I/O
//! workers that wait on timers in the coordinator, and the per-job tasks of fan-out.
//!
//! A CPU worker is a continuation, not a thread: it takes one job from the channel,
//! runs it, and — if another worker is waiting for a thread — goes to the back of the
//! run's ready queue, so `workers` may exceed the thread count and the workers share
//! the threads job by job, in turn (as goroutines share Go's Ps). With no one waiting
//! it keeps its thread and takes the next job at once. The ready queue is the run's
//! own FIFO: rayon would run a task a thread spawns for itself before anything else,
//! letting two workers hog two threads.
//! Finding the channel empty, a worker parks a callback on the channel and gives its
//! thread back; a send or the close makes it ready again.

use std::sync::Arc;
use std::time::Duration;

use futures::future::{Either, select};

use super::chan::Received;
use super::runtime::Runtime;
use super::state::{Outcome, RunShared};
use crate::workload::execute::{run_cpu, sleep_result};

/// Why a failed job failed (the error errgroup's `Wait` returns in fail-fast runs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFailed {
    /// The job.
    pub job: u32,
}

impl std::fmt::Display for JobFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "job {} failed: simulated error", self.job)
    }
}

impl std::error::Error for JobFailed {}

/// Ends `job` as completed or failed (a failure in a fail-fast run cancels the run
/// with the error as cause: errgroup's behaviour).
fn finish_ran(run: &RunShared, job: u32, result: u64) {
    let at = run.now();
    if run.plan[job as usize].fails {
        run.finish(job, Outcome::Failed, at, result);
        if run.config.pattern == super::config::Pattern::FailFast {
            run.token.cancel_with(JobFailed { job });
        }
    } else {
        run.finish(job, Outcome::Completed, at, result);
    }
}

/// Runs CPU job `job` on this pool thread as `worker`. Returns `false` if the run was
/// cancelled before it could start (it is then finished as not started).
pub fn run_cpu_job(run: &RunShared, job: u32, worker: u32) -> bool {
    let thread = rayon::current_thread_index();
    if run.try_start(job, worker, thread).is_none() {
        return false;
    }
    let _stack = task_memory(run); // a pool worker's "stack" while it runs a job
    #[cfg(feature = "test-hooks")]
    super::fault::panic_if_injected(job);
    let spec = &run.plan[job as usize];
    let poll = run.config.poll_cancel;
    match run_cpu(
        run.config.workload,
        spec,
        run.config.seed,
        &*run.clock,
        &|| poll && run.check_cancelled(),
    ) {
        Ok(result) => finish_ran(run, job, result),
        Err(_interrupted) => {
            run.finish(job, Outcome::Cancelled, run.now(), 0);
        }
    }
    true
}

/// Starts CPU worker `worker` on the pool (wg.Add(1); go worker()).
pub fn start_cpu_worker(run: &Arc<RunShared>, worker: u32) {
    run.worker_started();
    respawn_cpu_worker(run.clone(), worker, None);
}

/// Makes `worker` ready (with a job handed over, or none) and queues one pool task,
/// which runs whichever worker has been ready longest.
fn respawn_cpu_worker(run: Arc<RunShared>, worker: u32, job: Option<u32>) {
    run.ready.push(worker, job);
    let pool = run.pool.clone();
    pool.spawn(Box::new(move || {
        let (worker, job) = run.ready.pop().expect("one ready worker per queued task");
        cpu_worker_turn(run, worker, job)
    }));
}

/// A CPU worker's turns on this pool thread: take a job (or use the one handed over),
/// run it, and go on with the next while no other worker waits for a thread (as a
/// goroutine keeps its P until another is runnable); otherwise go to the back of the
/// ready queue. Exits (wg.Done) on a closed channel or a cancelled run.
fn cpu_worker_turn(run: Arc<RunShared>, worker: u32, handed: Option<u32>) {
    let mut handed = handed;
    loop {
        let job = match handed.take() {
            Some(job) => job,
            None => match take_job(&run, worker) {
                Some(job) => job,
                None => return, // exited or parked
            },
        };
        if !run_cpu_job(&run, job, worker) {
            run.worker_exited();
            return;
        }
        if !run.ready.is_empty() {
            return respawn_cpu_worker(run, worker, None);
        }
    }
}

/// Receives `worker`'s next job. `None` when the worker exited (closed channel,
/// cancelled run, or the leak pitfall's consumers stopping) or parked a callback on
/// the empty channel, which will re-spawn it.
fn take_job(run: &Arc<RunShared>, worker: u32) -> Option<u32> {
    // Workers that honour the context leave on a cancel; the pitfalls lab's leaking
    // consumers simply stop half-way, without closing anything.
    if (run.config.poll_cancel && run.check_cancelled()) || run.consumers_stop() {
        run.worker_exited();
        return None;
    }
    let channel = run.channel.as_ref().expect("pool runs have a channel");
    let parked_run = run.clone();
    let received = channel.recv_or_park(move || {
        Box::new(move |received| match received {
            Received::Job(job) => respawn_cpu_worker(parked_run, worker, Some(job)),
            Received::Closed => parked_run.worker_exited(),
        })
    });
    match received {
        None => None,
        Some(Received::Closed) => {
            run.worker_exited();
            None
        }
        Some(Received::Job(job)) => Some(job),
    }
}

/// Runs I/O-like job `job` as `worker`: waits its cost in microseconds on a timer,
/// or until the run is cancelled.
pub async fn run_io_job<R: Runtime>(rt: &R, run: &RunShared, job: u32, worker: u32) -> bool {
    if run.try_start(job, worker, None).is_none() {
        return false;
    }
    let _stack = task_memory(run);
    let spec = run.plan[job as usize];
    let wait = rt.sleep(Duration::from_micros(spec.cost));
    if !run.config.poll_cancel {
        // A job that ignores its context waits out its time whatever happens.
        wait.await;
        finish_ran(run, job, sleep_result(&spec));
        return true;
    }
    match select(wait, run.token.cancelled()).await {
        Either::Left(_) => finish_ran(run, job, sleep_result(&spec)),
        Either::Right(_) => {
            run.finish(job, Outcome::Cancelled, run.now(), 0);
        }
    }
    true
}

/// The memory a task holds while it is alive (`stack` KiB; nothing by default): the
/// pitfalls lab's stand-in for a goroutine's stack, so unbounded fan-out shows its cost.
pub fn task_memory(run: &RunShared) -> Vec<u8> {
    vec![1u8; run.config.stack_kib as usize * 1024]
}

/// An I/O worker: receives from the channel and waits out each job, until the channel
/// closes or the run is cancelled.
pub async fn io_worker<R: Runtime>(rt: &R, run: &Arc<RunShared>, worker: u32) {
    let channel = run.channel.clone().expect("pool runs have a channel");
    while !(run.config.poll_cancel && run.check_cancelled()) && !run.consumers_stop() {
        let job = match channel.recv().await {
            Received::Job(job) => job,
            Received::Closed => break,
        };
        if !run_io_job(rt, run, job, worker).await {
            break;
        }
    }
    run.worker_exited();
}

/// Fan-out of CPU jobs: one pool task per job (`go f(x)` for every x), spawned now.
/// Its "worker" is the pool thread that runs it.
pub fn spawn_cpu_fan_out(run: &Arc<RunShared>, job: u32) {
    run.mark_queued(job);
    run.task_spawned();
    let task_run = run.clone();
    // The task's memory is taken when it is spawned and given back when it ends, as a
    // goroutine's stack is.
    let stack = task_memory(run);
    run.pool.spawn(Box::new(move || {
        let thread = rayon::current_thread_index().unwrap_or(0) as u32;
        run_cpu_job(&task_run, job, thread);
        drop(stack);
        task_run.task_ended();
    }));
}
