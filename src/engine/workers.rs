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
//! thread back; a send, the close or a shrink of the pool makes it ready again.
//!
//! Between jobs every worker checks the run's cancellation and the pool's target
//! (see [`super::pool`]): a worker removed by a shrink finishes the job it holds and
//! exits; with "stop now" its job is asked to stop as well.

use std::sync::Arc;
use std::time::Duration;

use futures::future::{Either, select};

use super::chan::Received;
use super::job::{Job, NONE};
use super::pool::Exit;
use super::runtime::Runtime;
use super::state::{Outcome, RunShared};
use crate::semaphore::Weighted;
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

/// Ends a job that ran to the end as completed or failed (a failure in a fail-fast run
/// cancels the run with the error as cause: errgroup's behaviour).
fn finish_ran(
    run: &RunShared,
    job: Job,
    started: u64,
    worker: u32,
    thread: Option<usize>,
    result: u64,
) {
    let id = job.spec.id;
    if job.spec.fails {
        run.finish(job, Outcome::Failed, started, worker, thread, result);
        if run.config.pattern == super::config::Pattern::FailFast {
            run.token.cancel_with(JobFailed { job: id });
        }
    } else {
        run.finish(job, Outcome::Completed, started, worker, thread, result);
    }
}

/// Runs CPU job `job` on this pool thread as `worker` (or sheds it, if it waited past
/// the run's queue-wait deadline). Returns `false` if the run was cancelled before it
/// could start (it is then ended as not started).
pub fn run_cpu_job(run: &RunShared, job: Job, worker: u32) -> bool {
    let Some(job) = run.shed_if_stale(job) else {
        return true;
    };
    let thread = rayon::current_thread_index();
    let Some(started) = run.try_start(&job, worker, thread) else {
        run.finish_unstarted(job);
        return false;
    };
    #[cfg(feature = "test-hooks")]
    super::fault::panic_if_injected(job.spec.id);
    let outcome = run_cpu(
        run.config.workload,
        &job.spec,
        run.config.seed,
        &*run.clock,
        &|| run.job_should_stop(worker),
    );
    match outcome {
        Ok(result) => finish_ran(run, job, started, worker, thread, result),
        Err(_interrupted) => run.finish(job, Outcome::Cancelled, started, worker, thread, 0),
    }
    true
}

/// Starts CPU worker `worker` on the pool (wg.Add(1); go worker()).
pub fn start_cpu_worker(run: &Arc<RunShared>, worker: u32) {
    respawn_cpu_worker(run.clone(), worker, None);
}

/// Makes `worker` ready (with a job handed over, or none) and queues one pool task,
/// which runs whichever worker has been ready longest.
fn respawn_cpu_worker(run: Arc<RunShared>, worker: u32, job: Option<Job>) {
    run.ready.push(worker, job);
    let pool = run.cpu.clone();
    pool.spawn(Box::new(move || {
        let (worker, job) = run.ready.pop().expect("one ready worker per queued task");
        cpu_worker_turn(run, worker, job)
    }));
}

/// A CPU worker's turns on this pool thread: take a job (or use the one handed over),
/// run it, and go on with the next while no other worker waits for a thread (as a
/// goroutine keeps its P until another is runnable); otherwise go to the back of the
/// ready queue. Exits (wg.Done) on a closed channel, a cancelled run, or a shrink.
fn cpu_worker_turn(run: Arc<RunShared>, worker: u32, handed: Option<Job>) {
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
            run.worker_left(run.workers.leave(worker));
            return;
        }
        if !run.ready.is_empty() {
            return respawn_cpu_worker(run, worker, None);
        }
    }
}

/// What a worker between jobs does before taking the next: apply a resize the page asked
/// for through shared memory, then `false` if it left (the run was cancelled, or the
/// pool shrank below it).
fn carry_on(run: &Arc<RunShared>, worker: u32) -> bool {
    run.apply_requested_resize();
    if run.check_cancelled() {
        run.worker_left(run.workers.leave(worker));
        return false;
    }
    if run.workers.should_retire(worker) {
        let exit = run.workers.try_retire(worker);
        if exit != Exit::Stay {
            run.worker_left(exit);
            return false;
        }
    }
    true
}

/// Receives `worker`'s next job. `None` when the worker left (closed channel, cancelled
/// run, a shrink) or parked a callback on the empty channel, which will re-spawn it.
fn take_job(run: &Arc<RunShared>, worker: u32) -> Option<Job> {
    let channel = run.channel.as_ref().expect("pool runs have a channel");
    loop {
        if !carry_on(run, worker) {
            return None;
        }
        let parked_run = run.clone();
        let received = channel.recv_or_park_as(
            worker,
            || run.workers.should_retire(worker),
            move || Box::new(move |received| on_wake(parked_run, worker, received)),
        );
        match received {
            None => return None,
            Some(Received::Job(job)) => return Some(job),
            Some(Received::Closed) => {
                run.worker_left(run.workers.leave(worker));
                return None;
            }
            // Retire: go round, so `carry_on` settles it (the target may have risen).
            Some(Received::Retire) => {}
        }
    }
}

/// A parked CPU worker is handed a job, the close, or its retirement.
fn on_wake(run: Arc<RunShared>, worker: u32, received: Received<Job>) {
    match received {
        Received::Job(job) => respawn_cpu_worker(run, worker, Some(job)),
        Received::Closed => run.worker_left(run.workers.leave(worker)),
        Received::Retire => match run.workers.try_retire(worker) {
            Exit::Stay => respawn_cpu_worker(run, worker, None),
            exit => run.worker_left(exit),
        },
    }
}

/// Slots held on the backend, given back when dropped.
struct Held<'a>(&'a Weighted, i64);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let _ = self.0.release(self.1);
    }
}

/// Runs I/O-like job `job` as `worker` (or, fan-out, as its own task): waits its cost
/// in microseconds on a timer — or, for the backend workload, for a slot of the backend
/// and then its service time — unless the run is cancelled or the worker is stopped.
/// Returns `false` if the run was cancelled before the job could start.
pub async fn run_io_job<R: Runtime>(rt: &R, run: &RunShared, job: Job, worker: u32) -> bool {
    let Some(job) = run.shed_if_stale(job) else {
        return true;
    };
    let Some(started) = run.try_start(&job, worker, None) else {
        run.finish_unstarted(job);
        return false;
    };
    let service = Duration::from_micros(job.spec.cost);
    let work = async {
        match &run.backend {
            Some(backend) => {
                let asked = run.now();
                let weight = i64::from(job.spec.weight);
                let acquired = backend.acquire(weight, &run.token).await;
                run.time_use.backend_waited(run.now() - asked);
                if acquired.is_err() {
                    return false;
                }
                let _held = Held(backend, weight);
                rt.sleep(service).await;
                true
            }
            // A 0 µs wait returns at once, as Go's time.Sleep(0) does (no timer turn).
            None if service.is_zero() => true,
            None => {
                rt.sleep(service).await;
                true
            }
        }
    };
    let stop = async {
        if worker == NONE || worker >= run.workers.capacity() || !run.config.has_pool() {
            run.token.cancelled().await
        } else {
            select(
                run.token.cancelled(),
                Box::pin(run.workers.stop_request(worker)),
            )
            .await;
        }
    };
    let done = match select(Box::pin(work), Box::pin(stop)).await {
        Either::Left((done, _)) => done,
        Either::Right(_) => false,
    };
    if done {
        let result = sleep_result(&job.spec);
        finish_ran(run, job, started, worker, None, result);
    } else {
        run.finish(job, Outcome::Cancelled, started, worker, None, 0);
    }
    true
}

/// An I/O worker: receives from the channel and waits out each job, until the channel
/// closes, the run is cancelled or the pool shrinks below it.
pub async fn io_worker<R: Runtime>(rt: &R, run: &Arc<RunShared>, worker: u32) {
    let channel = run.channel.clone().expect("pool runs have a channel");
    loop {
        if !carry_on(run, worker) {
            return;
        }
        let retire_run = run.clone();
        let received = channel
            .recv_as(worker, move || retire_run.workers.should_retire(worker))
            .await;
        match received {
            Received::Job(job) => {
                if !run_io_job(rt, run, job, worker).await {
                    run.worker_left(run.workers.leave(worker));
                    return;
                }
            }
            Received::Closed => {
                run.worker_left(run.workers.leave(worker));
                return;
            }
            Received::Retire => {} // settled by `carry_on`
        }
    }
}

/// Fan-out of CPU jobs: one pool task per job (`go f(x)` for every x), spawned now.
/// Its "worker" is the pool thread that runs it.
pub fn spawn_cpu_fan_out(run: &Arc<RunShared>, mut job: Job) {
    run.spawned(&mut job);
    run.task_spawned();
    let task_run = run.clone();
    run.cpu.spawn(Box::new(move || {
        let thread = rayon::current_thread_index().map_or(NONE, |t| t as u32);
        run_cpu_job(&task_run, job, thread);
        task_run.task_ended();
    }));
}
