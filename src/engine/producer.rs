//! The producer of unpaced channel runs — Go's `for j := range jobs { ch <- j };
//! close(ch)` — run as a continuation wherever it is woken, not as a task of the
//! coordinator.
//!
//! Why: a full channel wakes its blocked sender on every receive. Were the producer a
//! task on the coordinator, every job would cost a cross-thread wake of the engine's
//! worker (in the browser, an `Atomics.notify` answered on another event loop: several
//! microseconds, on a third thread fighting the pool threads for the cores). Here the
//! producer's waker *is* the producer: the receiving pool thread moves the blocked
//! value into the buffer, releases the channel's lock, and runs the producer's next
//! step at once — which, as in Go, is to send the next job (and usually block again).
//! The producer becomes runnable exactly when Go's would; only the thread differs.
//! Paced runs (rate limiting) keep the coordinator's producer: they wait on timers.
//!
//! The producer plans each job as it sends it ([`Planner`]), so a run of any length
//! holds no list of jobs; it stops after `jobs` jobs, when the run's `duration` is up,
//! or at cancellation.
//!
//! # Invariants
//! 1. One step at a time: `state` is locked for a whole step, so steps woken on two
//!    threads run one after the other. Lock order: `state`, then the channel's lock;
//!    the channel wakes the producer only after releasing its lock (its invariant 1),
//!    so the order is never reversed.
//! 2. At most one send is in flight (`pending`). A job enters the run when the channel
//!    takes it (the channel counts it); a send given up is withdrawn and never counted.
//! 3. `done` is set once, under `state`, after which no send is made; the run is told
//!    then ([`RunShared::producer_done`]), with the jobs a job-count run never sent.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use super::chan::{SendFate, SendJob};
use super::job::{Job, UNSET};
use super::state::RunShared;
use crate::workload::plan::Planner;

struct State {
    planner: Planner,
    pending: Option<SendJob<Job>>,
    /// When the pending send blocked (the queue was full), for `TimeUse::queue_full`.
    blocked_since: Option<u64>,
    done: bool,
}

/// The continuation-style producer (see the module comment).
pub struct InlineProducer {
    run: Arc<RunShared>,
    state: Mutex<State>,
}

impl InlineProducer {
    /// Starts producing: sends until the channel blocks (then continues whenever a
    /// receiver makes room) and stops at the last job or at cancellation.
    pub fn start(run: &Arc<RunShared>) -> Producing {
        let producer = Arc::new(InlineProducer {
            run: run.clone(),
            state: Mutex::new(State {
                planner: Planner::new(&run.config),
                pending: None,
                blocked_since: None,
                done: false,
            }),
        });
        producer.step();
        Producing(producer)
    }

    /// Whether the producer is done.
    pub fn is_done(&self) -> bool {
        self.lock().done
    }

    /// Stops the producer (the run was cancelled, or its duration is up): a blocked send
    /// is withdrawn unless a receiver already took it.
    pub fn stop(&self) {
        let mut state = self.lock();
        if !state.done {
            self.unblocked(&mut state);
            // A withdrawn job never entered the run: it is simply forgotten.
            if let Some(send) = state.pending.take() {
                let _fate: SendFate<Job> = send.withdraw();
            }
            self.finish(&mut state);
        }
    }

    /// Ends a blocked spell, if one was going, adding it to the run's queue-full time.
    fn unblocked(&self, state: &mut State) {
        if let Some(since) = state.blocked_since.take() {
            self.run
                .time_use
                .queue_full(self.run.now().saturating_sub(since));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends until a send blocks, the jobs run out, or the run is cancelled.
    fn step(self: &Arc<Self>) {
        let mut state = self.lock();
        if state.done {
            return;
        }
        self.unblocked(&mut state);
        let channel = self
            .run
            .channel
            .as_ref()
            .expect("channel patterns have a channel");
        let jobs = self.run.config.jobs;
        let duration = self.run.config.duration().map(|d| d.as_nanos() as u64);
        let waker = Waker::from(self.clone());
        let mut cx = Context::from_waker(&waker);
        loop {
            if state.pending.is_none() {
                if self.run.check_cancelled()
                    || state.planner.planned() == jobs
                    || duration.is_some_and(|d| self.run.now() >= d)
                {
                    return self.finish(&mut state);
                }
                // Closed loop: no schedule; the channel stamps the job due as it enters.
                let job = Job::new(state.planner.next_job(), UNSET);
                state.pending = Some(channel.send(job));
            }
            let send = state.pending.as_mut().expect("set above");
            match Pin::new(send).poll(&mut cx) {
                Poll::Pending => {
                    state.blocked_since = Some(self.run.now());
                    return;
                }
                Poll::Ready(Ok(())) => state.pending = None,
                // Closed under us (a cancel): the job never entered the run.
                Poll::Ready(Err(_)) => {
                    state.pending = None;
                    return self.finish(&mut state);
                }
            }
        }
    }

    /// Ends production (invariant 3) and closes the channel, as the producer's
    /// `close(jobs)` would.
    fn finish(&self, state: &mut State) {
        state.done = true;
        if let Some(channel) = &self.run.channel {
            channel.close();
        }
        // A job-count run stopped early: the jobs never made count as not started.
        let unsent = if self.run.config.duration().is_some() {
            0
        } else {
            self.run.config.jobs.saturating_sub(self.run.submitted())
        };
        self.run.producer_done(unsent);
    }
}

impl Wake for InlineProducer {
    fn wake(self: Arc<Self>) {
        self.step();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.step();
    }
}

/// A started producer, owned by the coordinator. Dropping it stops the producer (a no-op
/// once it is done), also when the coordinator itself is dropped after a crash: a send
/// left blocked would otherwise keep the producer, and through it the run, alive from
/// inside the run's own channel (a reference cycle).
pub struct Producing(Arc<InlineProducer>);

impl std::ops::Deref for Producing {
    type Target = InlineProducer;

    fn deref(&self) -> &InlineProducer {
        &self.0
    }
}

impl Drop for Producing {
    fn drop(&mut self) {
        self.0.stop();
    }
}
