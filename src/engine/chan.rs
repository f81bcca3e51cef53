//! A Go channel of job ids: `make(chan int, capacity)`, with capacity 0 meaning an
//! unbuffered channel (a send completes only when a receiver takes the value).
//!
//! Receivers come in two kinds, both "parked goroutines": a CPU worker that finds the
//! channel empty leaves a callback and gives its pool thread back (the callback
//! re-spawns it when a value or the close arrives), and an I/O worker awaits a
//! [`RecvJob`] future on the coordinator. The one sender (the producer) polls a
//! [`SendJob`]: awaited on the coordinator in paced runs, or driven by a waker that runs
//! the producer's next step where it is woken (`super::producer`).
//! As in Go, a send hands its value straight to a waiting receiver when there is one,
//! otherwise fills the buffer, otherwise blocks; closing wakes every waiting receiver
//! once the buffer is empty.
//!
//! # Invariants
//! 1. All state is under one `Mutex`. Parked receivers and the sender's waker are
//!    invoked only after it is released (they re-enter the channel and the pool). The
//!    one hook called under the lock is `on_enqueue`: it only stamps the job's queued
//!    time (it must not touch the channel), and calling it there is what makes every
//!    value's enqueue time precede any receive of it.
//! 2. Receivers wait only while the buffer is empty and no send is blocked; a blocked
//!    send exists only while the buffer is full (or the channel is unbuffered) and no
//!    receiver waits. So a value never sits next to an idle receiver.
//! 3. Every value sent is delivered to exactly one receiver, or is still in the buffer
//!    / the blocked send (where [`JobChannel::drain`] and `SendJob`'s drop find it): none
//!    is lost or duplicated. `on_enqueue` runs exactly once per value, when it enters
//!    the buffer or is handed to a receiver.
//! 4. No send enters a buffer holding `capacity` values. The buffer exceeds `capacity`
//!    only by values *given back* — handed to an I/O receiver whose future was dropped
//!    before it took them, and returned to the front of the queue (they were sent
//!    already, so refusing them would lose them); a given-back value goes to a waiting
//!    receiver first (invariant 2).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use futures::task::AtomicWaker;

/// What a receiver gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// A job id.
    Job(u32),
    /// The channel is closed and empty (Go: `v, ok := <-ch` with `ok == false`).
    Closed,
}

/// A parked receiver's continuation.
pub type Parked = Box<dyn FnOnce(Received) + Send + 'static>;

enum RecvOutcome {
    Ready(Received),
    Parked(u64),
}

/// Sending on a closed channel (Go panics; here it is an error the caller handles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendOnClosed;

struct BlockedSend {
    ticket: u64,
    value: u32,
    waker: Waker,
}

struct State {
    buf: VecDeque<u32>,
    capacity: usize,
    closed: bool,
    receivers: VecDeque<(u64, Parked)>,
    blocked_send: Option<BlockedSend>,
    next_ticket: u64,
}

/// A bounded MPMC channel of job ids with Go's semantics. Share it in an `Arc`.
pub struct JobChannel {
    state: Mutex<State>,
    /// Called once per value when it enters the channel (buffer or hand-off).
    on_enqueue: Box<dyn Fn(u32) + Send + Sync>,
}

/// Work to do once the lock is released (invariant 1).
#[derive(Default)]
struct Deferred {
    deliveries: Vec<(Parked, Received)>,
    wake: Option<Waker>,
}

impl Deferred {
    fn run(self) {
        if let Some(waker) = self.wake {
            waker.wake();
        }
        for (receiver, value) in self.deliveries {
            receiver(value);
        }
    }
}

impl JobChannel {
    /// `make(chan int, capacity)`; `on_enqueue(job)` is called when a value enters.
    pub fn new(capacity: usize, on_enqueue: impl Fn(u32) + Send + Sync + 'static) -> JobChannel {
        JobChannel {
            state: Mutex::new(State {
                buf: VecDeque::with_capacity(capacity.min(1 << 16)),
                capacity,
                closed: false,
                receivers: VecDeque::new(),
                blocked_send: None,
                next_ticket: 1,
            }),
            on_enqueue: Box::new(on_enqueue),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Values waiting in the buffer (Go: `len(ch)`).
    pub fn len(&self) -> usize {
        self.lock().buf.len()
    }

    /// Whether the channel is closed.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Whether a send is blocked (the buffer is full, or no receiver took a hand-off).
    pub fn has_blocked_send(&self) -> bool {
        self.lock().blocked_send.is_some()
    }

    /// Receivers currently parked on the channel.
    pub fn waiting_receivers(&self) -> usize {
        self.lock().receivers.len()
    }

    /// Sends `job` (Go: `ch <- job`); resolves once the value is in the channel.
    pub fn send(self: &Arc<Self>, job: u32) -> SendJob {
        SendJob {
            channel: self.clone(),
            job,
            ticket: None,
        }
    }

    /// Takes a value if one is ready; if the channel is closed and empty, says so;
    /// otherwise parks the receiver made by `park` and returns `None` — the receiver is
    /// called later, exactly once, with a value or `Closed`.
    pub fn recv_or_park(&self, park: impl FnOnce() -> Parked) -> Option<Received> {
        match self.recv_or_park_ticket(park) {
            RecvOutcome::Ready(value) => Some(value),
            RecvOutcome::Parked(_) => None,
        }
    }

    fn recv_or_park_ticket(&self, park: impl FnOnce() -> Parked) -> RecvOutcome {
        let mut deferred = Deferred::default();
        let result = {
            let mut state = self.lock();
            if let Some(job) = state.buf.pop_front() {
                // Room in the buffer: a blocked send can complete now (invariant 4:
                // not while given-back values still fill it).
                if state.buf.len() < state.capacity
                    && let Some(blocked) = state.blocked_send.take()
                {
                    state.buf.push_back(blocked.value);
                    (self.on_enqueue)(blocked.value);
                    deferred.wake = Some(blocked.waker);
                }
                RecvOutcome::Ready(Received::Job(job))
            } else if let Some(blocked) = state.blocked_send.take() {
                // Unbuffered (or full-and-emptied) hand-off from the blocked sender.
                (self.on_enqueue)(blocked.value);
                deferred.wake = Some(blocked.waker);
                RecvOutcome::Ready(Received::Job(blocked.value))
            } else if state.closed {
                RecvOutcome::Ready(Received::Closed)
            } else {
                let ticket = state.next_ticket;
                state.next_ticket += 1;
                state.receivers.push_back((ticket, park()));
                RecvOutcome::Parked(ticket)
            }
        };
        deferred.run();
        result
    }

    /// An async receive for receivers that run on the coordinator (I/O workers).
    pub fn recv(self: &Arc<Self>) -> RecvJob {
        RecvJob {
            channel: self.clone(),
            slot: None,
        }
    }

    /// Closes the channel (Go: `close(ch)`): receivers drain the buffer, then get
    /// `Closed`. Closing twice is harmless here (Go would panic).
    pub fn close(&self) {
        let mut deferred = Deferred::default();
        {
            let mut state = self.lock();
            state.closed = true;
            // Receivers wait only on an empty channel (invariant 2): all get `Closed`.
            deferred.deliveries.extend(
                state
                    .receivers
                    .drain(..)
                    .map(|(_, r)| (r, Received::Closed)),
            );
        }
        deferred.run();
    }

    /// Removes and returns every buffered value (a cancelled run's jobs that will
    /// never start).
    pub fn drain(&self) -> Vec<u32> {
        self.lock().buf.drain(..).collect()
    }

    fn remove_receiver(&self, ticket: u64) -> bool {
        let mut state = self.lock();
        let before = state.receivers.len();
        state.receivers.retain(|(t, _)| *t != ticket);
        state.receivers.len() != before
    }

    /// Puts back a value a dropped [`RecvJob`] was handed but never took: to a waiting
    /// receiver if there is one (invariant 2), else to the front of the buffer, even a
    /// full one (invariant 4). `on_enqueue` is not called again (invariant 3).
    fn give_back(&self, job: u32) {
        let receiver = {
            let mut state = self.lock();
            match state.receivers.pop_front() {
                Some((_, receiver)) => Some(receiver),
                None => {
                    state.buf.push_front(job);
                    None
                }
            }
        };
        if let Some(receiver) = receiver {
            receiver(Received::Job(job));
        }
    }
}

/// Future of [`JobChannel::send`]. Dropping it before it resolves withdraws the value
/// (it was never in the channel).
#[must_use = "a send does nothing unless awaited"]
pub struct SendJob {
    channel: Arc<JobChannel>,
    job: u32,
    /// Set while blocked: identifies our entry in `blocked_send`.
    ticket: Option<u64>,
}

impl Future for SendJob {
    type Output = Result<(), SendOnClosed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let channel = self.channel.clone();
        let mut deferred = Deferred::default();
        let outcome = {
            let mut state = channel.lock();
            if let Some(ticket) = self.ticket {
                match &mut state.blocked_send {
                    Some(blocked) if blocked.ticket == ticket => {
                        blocked.waker.clone_from(cx.waker());
                        Poll::Pending
                    }
                    // Taken by a receiver (or moved into the buffer): the send happened.
                    _ => {
                        self.ticket = None;
                        Poll::Ready(Ok(()))
                    }
                }
            } else if state.closed {
                Poll::Ready(Err(SendOnClosed))
            } else if let Some((_, receiver)) = state.receivers.pop_front() {
                (channel.on_enqueue)(self.job);
                deferred
                    .deliveries
                    .push((receiver, Received::Job(self.job)));
                Poll::Ready(Ok(()))
            } else if state.buf.len() < state.capacity {
                state.buf.push_back(self.job);
                (channel.on_enqueue)(self.job);
                Poll::Ready(Ok(()))
            } else {
                let ticket = state.next_ticket;
                state.next_ticket += 1;
                state.blocked_send = Some(BlockedSend {
                    ticket,
                    value: self.job,
                    waker: cx.waker().clone(),
                });
                self.ticket = Some(ticket);
                Poll::Pending
            }
        };
        deferred.run();
        outcome
    }
}

/// What became of a send that was given up (see [`SendJob::withdraw`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendFate {
    /// The value never entered the channel.
    Withdrawn,
    /// A receiver had already taken it (or moved it into the buffer).
    Sent,
}

impl SendJob {
    /// Gives the send up, in one step under the channel's lock: a value still blocked
    /// is taken back; one a receiver took already stays sent.
    pub fn withdraw(mut self) -> SendFate {
        let Some(ticket) = self.ticket.take() else {
            return SendFate::Withdrawn; // never polled: never in the channel
        };
        if self.channel.take_back_blocked(ticket) {
            SendFate::Withdrawn
        } else {
            SendFate::Sent
        }
    }
}

impl Drop for SendJob {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket {
            self.channel.take_back_blocked(ticket);
        }
    }
}

impl JobChannel {
    /// Removes the blocked send with `ticket`, if it is still blocked (no receiver took
    /// its value). Returns whether it was.
    fn take_back_blocked(&self, ticket: u64) -> bool {
        let mut state = self.lock();
        let blocked = state
            .blocked_send
            .as_ref()
            .is_some_and(|b| b.ticket == ticket);
        if blocked {
            state.blocked_send = None;
        }
        blocked
    }
}

struct RecvSlot {
    value: Mutex<Option<Received>>,
    waker: AtomicWaker,
}

/// Future of [`JobChannel::recv`].
#[must_use = "a receive does nothing unless awaited"]
pub struct RecvJob {
    channel: Arc<JobChannel>,
    /// While parked: our ticket and the slot the callback fills.
    slot: Option<(u64, Arc<RecvSlot>)>,
}

impl Future for RecvJob {
    type Output = Received;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Received> {
        if let Some((_, slot)) = &self.slot {
            slot.waker.register(cx.waker());
            let taken = slot.value.lock().unwrap_or_else(|p| p.into_inner()).take();
            return match taken {
                Some(value) => {
                    self.slot = None;
                    Poll::Ready(value)
                }
                None => Poll::Pending,
            };
        }
        let slot = Arc::new(RecvSlot {
            value: Mutex::new(None),
            waker: AtomicWaker::new(),
        });
        slot.waker.register(cx.waker());
        let filler = slot.clone();
        let outcome = self.channel.recv_or_park_ticket(|| {
            Box::new(move |value| {
                *filler.value.lock().unwrap_or_else(|p| p.into_inner()) = Some(value);
                filler.waker.wake();
            })
        });
        match outcome {
            RecvOutcome::Ready(value) => Poll::Ready(value),
            RecvOutcome::Parked(ticket) => {
                self.slot = Some((ticket, slot));
                Poll::Pending
            }
        }
    }
}

impl Drop for RecvJob {
    fn drop(&mut self) {
        // Already handed a value we will never use: put it back (invariant 3).
        if let Some((ticket, slot)) = self.slot.take()
            && !self.channel.remove_receiver(ticket)
            && let Some(Received::Job(job)) =
                slot.value.lock().unwrap_or_else(|p| p.into_inner()).take()
        {
            self.channel.give_back(job);
        }
    }
}

#[cfg(test)]
#[path = "chan_test.rs"]
mod tests;

#[cfg(all(test, loom))]
#[path = "chan_loom.rs"]
mod loom_tests;
