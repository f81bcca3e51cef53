//! A Go channel of jobs: `make(chan Job, capacity)`, with capacity 0 meaning an
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
//! A parked receiver is tagged with its worker's index, so that an elastic pool can
//! *retire* parked workers when it shrinks ([`JobChannel::retire_parked`]); a receiver
//! about to park first asks whether it should retire instead, under the same lock
//! (invariant 5), so a shrink never misses a worker that is parking at that moment.
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
//!    / the blocked send (where [`JobChannel::drain`] and `SendJob`'s drop find it), or
//!    was handed back to the sender — refused by [`JobChannel::try_send`], or evicted
//!    by [`JobChannel::send_dropping_oldest`]: none is lost or duplicated. `on_enqueue` runs exactly once per value, when it enters
//!    the buffer or is handed to a receiver.
//! 4. No send enters a buffer holding `capacity` values. The buffer exceeds `capacity`
//!    only by values *given back* — handed to an I/O receiver whose future was dropped
//!    before it took them, and returned to the front of the queue (they were sent
//!    already, so refusing them would lose them); a given-back value goes to a waiting
//!    receiver first (invariant 2).
//! 5. A receiver parks only after its `should_retire` check, made under the lock, said
//!    no; [`JobChannel::retire_parked`] scans the parked receivers under the lock. So a
//!    pool that lowers its target and *then* retires parked workers reaches every worker:
//!    one that parked before the scan is found by it; one that parks after it sees the
//!    new target (the lock orders the two).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use futures::task::AtomicWaker;

/// What a receiver gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received<T> {
    /// A value.
    Job(T),
    /// The channel is closed and empty (Go: `v, ok := <-ch` with `ok == false`).
    Closed,
    /// The receiver's worker was retired by a shrinking pool while it waited (or as it
    /// was about to wait): it should exit, as a goroutine whose context is done.
    Retire,
}

/// A parked receiver's continuation.
pub type Parked<T> = Box<dyn FnOnce(Received<T>) + Send + 'static>;

/// A receiver that belongs to no worker of an elastic pool (never retired).
pub const NO_WORKER: u32 = u32::MAX;

enum RecvOutcome<T> {
    Ready(Received<T>),
    Parked(u64),
}

/// Why [`JobChannel::try_send`] gave a value back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// No receiver waits and the buffer is full (Go: the `default:` of a `select`).
    Full(T),
    /// The channel is closed.
    Closed(T),
}

/// Sending on a closed channel (Go panics; here it is an error the caller handles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendOnClosed;

struct BlockedSend<T> {
    ticket: u64,
    value: T,
    waker: Waker,
}

/// A receiver waiting on an empty channel.
struct Waiting<T> {
    ticket: u64,
    worker: u32,
    receiver: Parked<T>,
}

struct State<T> {
    buf: VecDeque<T>,
    capacity: usize,
    closed: bool,
    receivers: VecDeque<Waiting<T>>,
    blocked_send: Option<BlockedSend<T>>,
    next_ticket: u64,
}

/// A bounded MPMC channel with Go's semantics. Share it in an `Arc`.
pub struct JobChannel<T> {
    state: Mutex<State<T>>,
    /// Called once per value when it enters the channel (buffer or hand-off).
    on_enqueue: Box<dyn Fn(&mut T) + Send + Sync>,
}

/// Work to do once the lock is released (invariant 1).
struct Deferred<T> {
    deliveries: Vec<(Parked<T>, Received<T>)>,
    wake: Option<Waker>,
}

impl<T> Default for Deferred<T> {
    fn default() -> Self {
        Deferred {
            deliveries: Vec::new(),
            wake: None,
        }
    }
}

impl<T> Deferred<T> {
    fn run(self) {
        if let Some(waker) = self.wake {
            waker.wake();
        }
        for (receiver, value) in self.deliveries {
            receiver(value);
        }
    }
}

/// The parts of the channel that need no bounds on `T` (drop glue uses them).
impl<T> JobChannel<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn remove_receiver(&self, ticket: u64) -> bool {
        let mut state = self.lock();
        let before = state.receivers.len();
        state.receivers.retain(|w| w.ticket != ticket);
        state.receivers.len() != before
    }

    /// Puts back a value a dropped [`RecvJob`] was handed but never took: to a waiting
    /// receiver if there is one (invariant 2), else to the front of the buffer, even a
    /// full one (invariant 4). `on_enqueue` is not called again (invariant 3).
    fn give_back(&self, job: T) {
        let receiver = {
            let mut state = self.lock();
            match state.receivers.pop_front() {
                Some(waiting) => Some((waiting.receiver, job)),
                None => {
                    state.buf.push_front(job);
                    None
                }
            }
        };
        if let Some((receiver, job)) = receiver {
            receiver(Received::Job(job));
        }
    }
    /// Removes the blocked send with `ticket`, if it is still blocked (no receiver took
    /// its value), and returns its value.
    fn take_back_blocked(&self, ticket: u64) -> Option<T> {
        let mut state = self.lock();
        let blocked = state
            .blocked_send
            .as_ref()
            .is_some_and(|b| b.ticket == ticket);
        if blocked {
            state.blocked_send.take().map(|b| b.value)
        } else {
            None
        }
    }
}

impl<T: Send + 'static> JobChannel<T> {
    /// `make(chan T, capacity)`; `on_enqueue(&mut value)` is called when a value enters
    /// (under the lock: it may only stamp the value).
    pub fn new(
        capacity: usize,
        on_enqueue: impl Fn(&mut T) + Send + Sync + 'static,
    ) -> JobChannel<T> {
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

    /// Values waiting in the buffer (Go: `len(ch)`).
    pub fn len(&self) -> usize {
        self.lock().buf.len()
    }

    /// Whether no value waits in the buffer.
    pub fn is_empty(&self) -> bool {
        self.lock().buf.is_empty()
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
    pub fn send(self: &Arc<Self>, job: T) -> SendJob<T> {
        SendJob {
            channel: self.clone(),
            job: Some(job),
            ticket: None,
        }
    }

    /// Sends `job` only if that needs no wait — to a waiting receiver, or into the
    /// buffer — and gives it back otherwise (Go: `select { case ch <- job: default: }`).
    pub fn try_send(&self, job: T) -> Result<(), TrySendError<T>> {
        let mut deferred = Deferred::default();
        let result = {
            let mut guard = self.lock();
            let state = &mut *guard;
            Self::enter_without_wait(state, &self.on_enqueue, job, &mut deferred)
        };
        deferred.run();
        result
    }

    /// Sends `job` without waiting: to a waiting receiver, else into the buffer, making
    /// room by evicting the value that waited longest, which is returned (a bounded
    /// queue that drops its oldest). An unbuffered channel with no receiver has nothing
    /// to evict: `job` itself comes back. On a closed channel, `Err(job)`.
    pub fn send_dropping_oldest(&self, job: T) -> Result<Option<T>, T> {
        let mut deferred = Deferred::default();
        let result = {
            let mut guard = self.lock();
            let state = &mut *guard;
            match Self::enter_without_wait(state, &self.on_enqueue, job, &mut deferred) {
                Ok(()) => Ok(None),
                Err(TrySendError::Closed(job)) => Err(job),
                Err(TrySendError::Full(mut job)) => match state.buf.pop_front() {
                    Some(oldest) => {
                        (self.on_enqueue)(&mut job);
                        state.buf.push_back(job);
                        Ok(Some(oldest))
                    }
                    None => Ok(Some(job)),
                },
            }
        };
        deferred.run();
        result
    }

    /// The hand-off or buffering step of a send, under the lock: `Full` where a send
    /// would have to wait (a blocked send is there, or the buffer is at capacity).
    fn enter_without_wait(
        state: &mut State<T>,
        on_enqueue: &(dyn Fn(&mut T) + Send + Sync),
        mut job: T,
        deferred: &mut Deferred<T>,
    ) -> Result<(), TrySendError<T>> {
        if state.closed {
            return Err(TrySendError::Closed(job));
        }
        if let Some(waiting) = state.receivers.pop_front() {
            on_enqueue(&mut job);
            deferred
                .deliveries
                .push((waiting.receiver, Received::Job(job)));
            Ok(())
        } else if state.blocked_send.is_none() && state.buf.len() < state.capacity {
            on_enqueue(&mut job);
            state.buf.push_back(job);
            Ok(())
        } else {
            Err(TrySendError::Full(job))
        }
    }

    /// Takes a value if one is ready; if the channel is closed and empty, says so;
    /// otherwise parks the receiver made by `park` and returns `None` — the receiver is
    /// called later, exactly once, with a value or `Closed`.
    pub fn recv_or_park(&self, park: impl FnOnce() -> Parked<T>) -> Option<Received<T>> {
        self.recv_or_park_as(NO_WORKER, || false, park)
    }

    /// [`recv_or_park`](Self::recv_or_park) for `worker` of an elastic pool: where it
    /// would park, it first asks `should_retire` (under the channel's lock, invariant 5)
    /// and answers `Retire` instead if so. A parked receiver may later be called with
    /// `Retire` by [`retire_parked`](Self::retire_parked).
    pub fn recv_or_park_as(
        &self,
        worker: u32,
        should_retire: impl FnOnce() -> bool,
        park: impl FnOnce() -> Parked<T>,
    ) -> Option<Received<T>> {
        match self.recv_or_park_ticket(worker, should_retire, park) {
            RecvOutcome::Ready(value) => Some(value),
            RecvOutcome::Parked(_) => None,
        }
    }

    fn recv_or_park_ticket(
        &self,
        worker: u32,
        should_retire: impl FnOnce() -> bool,
        park: impl FnOnce() -> Parked<T>,
    ) -> RecvOutcome<T> {
        let mut deferred = Deferred::<T>::default();
        let result = {
            let mut guard = self.lock();
            let state = &mut *guard;
            if let Some(job) = state.buf.pop_front() {
                // Room in the buffer: a blocked send can complete now (invariant 4:
                // not while given-back values still fill it).
                if state.buf.len() < state.capacity
                    && let Some(mut blocked) = state.blocked_send.take()
                {
                    (self.on_enqueue)(&mut blocked.value);
                    state.buf.push_back(blocked.value);
                    deferred.wake = Some(blocked.waker);
                }
                RecvOutcome::Ready(Received::Job(job))
            } else if let Some(mut blocked) = state.blocked_send.take() {
                // Unbuffered (or full-and-emptied) hand-off from the blocked sender.
                (self.on_enqueue)(&mut blocked.value);
                deferred.wake = Some(blocked.waker);
                RecvOutcome::Ready(Received::Job(blocked.value))
            } else if state.closed {
                RecvOutcome::Ready(Received::Closed)
            } else if should_retire() {
                RecvOutcome::Ready(Received::Retire)
            } else {
                let ticket = state.next_ticket;
                state.next_ticket += 1;
                state.receivers.push_back(Waiting {
                    ticket,
                    worker,
                    receiver: park(),
                });
                RecvOutcome::Parked(ticket)
            }
        };
        deferred.run();
        result
    }

    /// Takes the parked receivers of the workers `retire` picks, in parking order. The
    /// caller calls each with [`Received::Retire`] once it holds no lock of its own
    /// (they re-enter the pool). See invariant 5.
    #[must_use = "each retired receiver must be called with Received::Retire"]
    pub fn retire_parked(&self, retire: impl Fn(u32) -> bool) -> Vec<Parked<T>> {
        let mut state = self.lock();
        let (retired, kept): (VecDeque<Waiting<T>>, VecDeque<Waiting<T>>) =
            std::mem::take(&mut state.receivers)
                .into_iter()
                .partition(|w| retire(w.worker));
        state.receivers = kept;
        retired.into_iter().map(|w| w.receiver).collect()
    }

    /// An async receive for receivers that run on the coordinator (I/O workers).
    pub fn recv(self: &Arc<Self>) -> RecvJob<T, fn() -> bool> {
        self.recv_as(NO_WORKER, || false)
    }

    /// [`recv`](Self::recv) for `worker` of an elastic pool (see
    /// [`recv_or_park_as`](Self::recv_or_park_as)).
    pub fn recv_as<F: Fn() -> bool + Unpin>(
        self: &Arc<Self>,
        worker: u32,
        should_retire: F,
    ) -> RecvJob<T, F> {
        RecvJob {
            channel: self.clone(),
            worker,
            should_retire,
            slot: None,
        }
    }

    /// Closes the channel (Go: `close(ch)`): receivers drain the buffer, then get
    /// `Closed`; a send blocked at that moment fails with [`SendOnClosed`] (Go panics
    /// there). Closing twice is harmless here (Go would panic).
    pub fn close(&self) {
        let mut deferred = Deferred::default();
        {
            let mut state = self.lock();
            state.closed = true;
            // A blocked send is refused (it fails when polled, see `SendJob`).
            deferred.wake = state.blocked_send.as_ref().map(|b| b.waker.clone());
            // Receivers wait only on an empty channel (invariant 2): all get `Closed`.
            deferred.deliveries.extend(
                state
                    .receivers
                    .drain(..)
                    .map(|w| (w.receiver, Received::Closed)),
            );
        }
        deferred.run();
    }

    /// Removes and returns every buffered value (a cancelled run's jobs that will
    /// never start).
    pub fn drain(&self) -> Vec<T> {
        self.lock().buf.drain(..).collect()
    }
}

/// Future of [`JobChannel::send`]. Dropping it before it resolves withdraws the value
/// (it was never in the channel).
#[must_use = "a send does nothing unless awaited"]
pub struct SendJob<T> {
    channel: Arc<JobChannel<T>>,
    /// The value, until it is in the channel (or blocked there).
    job: Option<T>,
    /// Set while blocked: identifies our entry in `blocked_send`.
    ticket: Option<u64>,
}

impl<T> Unpin for SendJob<T> {}

impl<T: Send + 'static> Future for SendJob<T> {
    type Output = Result<(), SendOnClosed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let channel = self.channel.clone();
        let mut deferred = Deferred::default();
        let outcome = {
            let mut guard = channel.lock();
            let state = &mut *guard;
            if let Some(ticket) = self.ticket {
                match &mut state.blocked_send {
                    // Closed while we were blocked: Go's "send on closed channel". The
                    // value never entered; it is dropped with the send.
                    Some(blocked) if blocked.ticket == ticket && state.closed => {
                        state.blocked_send = None;
                        self.ticket = None;
                        Poll::Ready(Err(SendOnClosed))
                    }
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
            } else {
                let mut job = self
                    .job
                    .take()
                    .expect("a send is polled until it completes");
                if let Some(waiting) = state.receivers.pop_front() {
                    (channel.on_enqueue)(&mut job);
                    deferred
                        .deliveries
                        .push((waiting.receiver, Received::Job(job)));
                    Poll::Ready(Ok(()))
                } else if state.buf.len() < state.capacity {
                    (channel.on_enqueue)(&mut job);
                    state.buf.push_back(job);
                    Poll::Ready(Ok(()))
                } else {
                    // One blocked sender at a time (the run's producer; a pipeline
                    // stage's workers take turns): a second would replace the first.
                    debug_assert!(
                        state.blocked_send.is_none(),
                        "a second sender blocked on a full channel"
                    );
                    let ticket = state.next_ticket;
                    state.next_ticket += 1;
                    state.blocked_send = Some(BlockedSend {
                        ticket,
                        value: job,
                        waker: cx.waker().clone(),
                    });
                    self.ticket = Some(ticket);
                    Poll::Pending
                }
            }
        };
        deferred.run();
        outcome
    }
}

/// What became of a send that was given up (see [`SendJob::withdraw`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendFate<T> {
    /// The value never entered the channel: here it is back.
    Withdrawn(T),
    /// A receiver had already taken it (or moved it into the buffer).
    Sent,
}

impl<T: Send + 'static> SendJob<T> {
    /// Gives the send up, in one step under the channel's lock: a value still blocked
    /// is taken back; one a receiver took already stays sent.
    pub fn withdraw(mut self) -> SendFate<T> {
        let Some(ticket) = self.ticket.take() else {
            // Never polled (or finished): whatever it holds never entered the channel.
            return match self.job.take() {
                Some(job) => SendFate::Withdrawn(job),
                None => SendFate::Sent,
            };
        };
        match self.channel.take_back_blocked(ticket) {
            Some(job) => SendFate::Withdrawn(job),
            None => SendFate::Sent,
        }
    }
}

impl<T> Drop for SendJob<T> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket {
            self.channel.take_back_blocked(ticket);
        }
    }
}

struct RecvSlot<T> {
    value: Mutex<Option<Received<T>>>,
    waker: AtomicWaker,
}

/// Future of [`JobChannel::recv`] and [`JobChannel::recv_as`].
#[must_use = "a receive does nothing unless awaited"]
pub struct RecvJob<T, F> {
    channel: Arc<JobChannel<T>>,
    worker: u32,
    should_retire: F,
    /// While parked: our ticket and the slot the callback fills.
    slot: Option<(u64, Arc<RecvSlot<T>>)>,
}

impl<T, F: Unpin> Unpin for RecvJob<T, F> {}

impl<T: Send + 'static, F: Fn() -> bool + Unpin> Future for RecvJob<T, F> {
    type Output = Received<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Received<T>> {
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
        let outcome = self.channel.recv_or_park_ticket(
            self.worker,
            || (self.should_retire)(),
            || {
                Box::new(move |value| {
                    *filler.value.lock().unwrap_or_else(|p| p.into_inner()) = Some(value);
                    filler.waker.wake();
                })
            },
        );
        match outcome {
            RecvOutcome::Ready(value) => Poll::Ready(value),
            RecvOutcome::Parked(ticket) => {
                self.slot = Some((ticket, slot));
                Poll::Pending
            }
        }
    }
}

impl<T, F> Drop for RecvJob<T, F> {
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
