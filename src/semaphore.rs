//! `golang.org/x/sync/semaphore.Weighted`: a weighted semaphore whose waiters are
//! served strictly in FIFO order, with cancellable acquires.
//!
//! Go's semantics, kept exactly:
//! - [`Weighted::acquire`] takes `n` at once if they are free *and nobody waits*;
//!   otherwise it queues. A request larger than the whole semaphore never succeeds: it
//!   waits for its context to be done without holding up anyone else.
//! - A context done before the call fails it, even if the weight is free.
//! - Releasing wakes waiters from the front while each fits; the first that does not fit
//!   stops the scan (large requests are not starved by small ones behind them).
//! - A waiter cancelled after it was granted gives its weight back; one cancelled at the
//!   front lets the waiters behind it through if they now fit.
//! - [`Weighted::try_acquire`] fails whenever anyone waits.
//!
//! # Invariants
//! 1. `cur` (weight held) and the waiter queue change only under `state`'s lock.
//! 2. A waiter is granted (its `ready` set, `cur` raised by its weight) exactly once,
//!    under the lock, and only while it is at the front of the queue; it is then removed
//!    from the queue.
//! 3. An acquire that gives up (cancelled, or its future dropped) either removes itself
//!    from the queue, or — already granted — releases its weight, under the lock.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures::task::AtomicWaker;

use crate::cancel::{CancelError, CancelToken, Cancelled};

struct Waiter {
    n: i64,
    ready: AtomicBool,
    waker: AtomicWaker,
}

struct State {
    cur: i64,
    waiters: VecDeque<Arc<Waiter>>,
}

/// A weighted semaphore (see the module documentation). Share it in an `Arc`.
pub struct Weighted {
    size: i64,
    state: Mutex<State>,
}

/// Releasing more than is held (Go panics: "semaphore: released more than held").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleasedMoreThanHeld;

impl fmt::Display for ReleasedMoreThanHeld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore: released more than held")
    }
}

impl std::error::Error for ReleasedMoreThanHeld {}

impl Weighted {
    /// A semaphore of total weight `n` (Go: `NewWeighted(n)`).
    pub fn new(n: i64) -> Weighted {
        Weighted {
            size: n,
            state: Mutex::new(State {
                cur: 0,
                waiters: VecDeque::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The total weight.
    pub fn size(&self) -> i64 {
        self.size
    }

    /// Weight held now.
    pub fn held(&self) -> i64 {
        self.lock().cur
    }

    /// Acquires `n`, waiting in FIFO order; fails with the token's error if it is done
    /// first (Go: `Acquire(ctx, n)`).
    pub fn acquire<'a>(&'a self, n: i64, token: &CancelToken) -> Acquire<'a> {
        Acquire {
            semaphore: self,
            n,
            token: token.clone(),
            cancelled: token.cancelled(),
            waiter: None,
            started: false,
        }
    }

    /// Acquires `n` without waiting; `false` (and nothing held) if it cannot, or if
    /// anyone is waiting (Go: `TryAcquire`).
    pub fn try_acquire(&self, n: i64) -> bool {
        let mut state = self.lock();
        let ok = self.size - state.cur >= n && state.waiters.is_empty();
        if ok {
            state.cur += n;
        }
        ok
    }

    /// Releases `n` and wakes the waiters that now fit (Go: `Release`).
    pub fn release(&self, n: i64) -> Result<(), ReleasedMoreThanHeld> {
        let mut state = self.lock();
        if state.cur - n < 0 {
            return Err(ReleasedMoreThanHeld);
        }
        state.cur -= n;
        self.notify_waiters(&mut state);
        Ok(())
    }

    /// Grants the front waiters while they fit (invariant 2).
    fn notify_waiters(&self, state: &mut State) {
        while let Some(front) = state.waiters.front() {
            if self.size - state.cur < front.n {
                break;
            }
            state.cur += front.n;
            let waiter = state.waiters.pop_front().expect("front exists");
            waiter.ready.store(true, Ordering::Release);
            waiter.waker.wake();
        }
    }
}

/// Future of [`Weighted::acquire`].
#[must_use = "an acquire does nothing unless awaited"]
pub struct Acquire<'a> {
    semaphore: &'a Weighted,
    n: i64,
    token: CancelToken,
    cancelled: Cancelled,
    /// Set once queued.
    waiter: Option<Arc<Waiter>>,
    started: bool,
}

impl Future for Acquire<'_> {
    type Output = Result<(), CancelError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if !this.started {
            this.started = true;
            let mut state = this.semaphore.lock();
            // A context done before the call fails it, even if the weight is free.
            if let Some(err) = this.token.err() {
                return Poll::Ready(Err(err));
            }
            if this.semaphore.size - state.cur >= this.n && state.waiters.is_empty() {
                state.cur += this.n;
                return Poll::Ready(Ok(()));
            }
            if this.n > this.semaphore.size {
                // Doomed: wait for the context without blocking anyone (not queued).
                drop(state);
                return match Pin::new(&mut this.cancelled).poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(this.err())),
                    Poll::Pending => Poll::Pending,
                };
            }
            let waiter = Arc::new(Waiter {
                n: this.n,
                ready: AtomicBool::new(false),
                waker: AtomicWaker::new(),
            });
            waiter.waker.register(cx.waker());
            state.waiters.push_back(waiter.clone());
            this.waiter = Some(waiter);
        }
        let Some(waiter) = this.waiter.clone() else {
            // The doomed case: only the context can end it.
            return match Pin::new(&mut this.cancelled).poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(this.err())),
                Poll::Pending => Poll::Pending,
            };
        };
        waiter.waker.register(cx.waker());
        if waiter.ready.load(Ordering::Acquire) {
            this.waiter = None;
            // Granted: but a context done meanwhile wins (Go checks it once more).
            if this.token.is_cancelled() {
                let _ = this.semaphore.release(this.n);
                return Poll::Ready(Err(this.err()));
            }
            return Poll::Ready(Ok(()));
        }
        if Pin::new(&mut this.cancelled).poll(cx).is_ready() {
            this.give_up(&waiter);
            this.waiter = None;
            return Poll::Ready(Err(this.err()));
        }
        Poll::Pending
    }
}

impl Acquire<'_> {
    fn err(&self) -> CancelError {
        self.token.err().unwrap_or(CancelError::Canceled)
    }

    /// Leaves the queue, or gives the weight back if it was granted meanwhile
    /// (invariant 3).
    fn give_up(&self, waiter: &Arc<Waiter>) {
        let mut state = self.semaphore.lock();
        if waiter.ready.load(Ordering::Acquire) {
            state.cur -= waiter.n;
            self.semaphore.notify_waiters(&mut state);
            return;
        }
        let at_front = state
            .waiters
            .front()
            .is_some_and(|front| Arc::ptr_eq(front, waiter));
        state.waiters.retain(|w| !Arc::ptr_eq(w, waiter));
        if at_front && self.semaphore.size > state.cur {
            self.semaphore.notify_waiters(&mut state);
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            self.give_up(&waiter);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    #[test]
    fn acquires_in_fifo_order_and_large_requests_are_not_starved() {
        let sem = Weighted::new(3);
        let token = CancelToken::new();
        assert_eq!(sem.acquire(2, &token).now_or_never(), Some(Ok(())));
        let mut big = sem.acquire(3, &token).boxed();
        assert!((&mut big).now_or_never().is_none(), "3 do not fit");
        let mut small = sem.acquire(1, &token).boxed();
        assert!(
            (&mut small).now_or_never().is_none(),
            "1 would fit, but someone waits: FIFO"
        );
        assert!(!sem.try_acquire(1), "TryAcquire fails while anyone waits");
        sem.release(2).unwrap();
        assert_eq!((&mut big).now_or_never(), Some(Ok(())));
        assert!((&mut small).now_or_never().is_none());
        sem.release(3).unwrap();
        assert_eq!(small.now_or_never(), Some(Ok(())));
        assert_eq!(sem.held(), 1);
        assert_eq!(sem.release(2), Err(ReleasedMoreThanHeld));
    }

    #[test]
    fn a_cancelled_front_waiter_lets_the_ones_behind_through() {
        let sem = Weighted::new(2);
        let root = CancelToken::new();
        assert!(sem.try_acquire(1));
        let front_token = root.child();
        let mut front = sem.acquire(2, &front_token).boxed();
        assert!((&mut front).now_or_never().is_none());
        let mut behind = sem.acquire(1, &root).boxed();
        assert!((&mut behind).now_or_never().is_none());
        front_token.cancel();
        assert_eq!(front.now_or_never(), Some(Err(CancelError::Canceled)));
        assert_eq!(
            behind.now_or_never(),
            Some(Ok(())),
            "1 fits once the front left"
        );
        assert_eq!(sem.held(), 2);
    }

    #[test]
    fn a_done_context_fails_even_when_the_weight_is_free_and_doomed_requests_wait() {
        let sem = Weighted::new(1);
        let done = CancelToken::new();
        done.cancel();
        assert_eq!(
            sem.acquire(1, &done).now_or_never(),
            Some(Err(CancelError::Canceled))
        );
        let token = CancelToken::new();
        let mut doomed = sem.acquire(5, &token).boxed();
        assert!((&mut doomed).now_or_never().is_none());
        assert!(sem.try_acquire(1), "a doomed request holds nobody up");
        token.cancel();
        assert_eq!(doomed.now_or_never(), Some(Err(CancelError::Canceled)));
    }

    #[test]
    fn dropping_a_granted_acquire_gives_the_weight_back() {
        let sem = Weighted::new(1);
        let token = CancelToken::new();
        assert!(sem.try_acquire(1));
        let mut waiting = sem.acquire(1, &token).boxed();
        assert!((&mut waiting).now_or_never().is_none());
        sem.release(1).unwrap();
        assert_eq!(sem.held(), 1, "granted to the waiter");
        drop(waiting);
        assert_eq!(sem.held(), 0, "given back when its future is dropped");
    }
}
