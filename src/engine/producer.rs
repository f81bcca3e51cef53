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
//! # Invariants
//! 1. One step at a time: `state` is locked for a whole step, so steps woken on two
//!    threads run one after the other. Lock order: `state`, then the channel's lock;
//!    the channel wakes the producer only after releasing its lock (its invariant 1),
//!    so the order is never reversed.
//! 2. At most one send is in flight (`pending`), holding job `next`; `next` counts the
//!    jobs whose send completed, so jobs `next..` were never in the channel.
//! 3. `done` is set once, under `state`, after which no send is made; the coordinator
//!    is woken then, and reads `next` to finish the unsent jobs as not started.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use super::chan::{SendFate, SendJob};
use super::config::Leak;
use super::state::RunShared;

struct State {
    next: u32,
    pending: Option<SendJob>,
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
                next: 0,
                pending: None,
                done: false,
            }),
        });
        producer.step();
        Producing(producer)
    }

    /// Jobs whose send completed, once the producer is done (`None` while it runs).
    pub fn sent_when_done(&self) -> Option<u32> {
        let state = self.lock();
        state.done.then_some(state.next)
    }

    /// Stops a producer blocked on a send (the run was cancelled): the blocked job is
    /// withdrawn unless a receiver already took it. Returns the jobs sent.
    pub fn stop(&self) -> u32 {
        let mut state = self.lock();
        if !state.done {
            if let Some(send) = state.pending.take()
                && send.withdraw() == SendFate::Sent
            {
                state.next += 1;
            }
            self.finish(&mut state, false);
        }
        state.next
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
        let channel = self
            .run
            .channel
            .as_ref()
            .expect("channel patterns have a channel");
        let jobs = self.run.plan.len() as u32;
        let waker = Waker::from(self.clone());
        let mut cx = Context::from_waker(&waker);
        loop {
            if state.pending.is_none() {
                if self.run.check_cancelled() {
                    return self.finish(&mut state, false);
                }
                if state.next == jobs {
                    return self.finish(&mut state, true);
                }
                state.pending = Some(channel.send(state.next));
            }
            let send = state.pending.as_mut().expect("set above");
            match Pin::new(send).poll(&mut cx) {
                Poll::Pending => return,
                Poll::Ready(Ok(())) => {
                    state.pending = None;
                    state.next += 1;
                }
                // Closed under us (a cancel): the job was never in the channel.
                Poll::Ready(Err(_)) => {
                    state.pending = None;
                    return self.finish(&mut state, false);
                }
            }
        }
    }

    /// Ends production (invariant 3) and closes the channel, as the producer's
    /// `close(jobs)` would — except in the pitfalls lab's "producer never closes" leak.
    fn finish(&self, state: &mut State, all_sent: bool) {
        state.done = true;
        if !(all_sent && self.run.config.leak == Leak::NoClose)
            && let Some(channel) = &self.run.channel
        {
            channel.close();
        }
        self.run.wake_coordinator();
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
