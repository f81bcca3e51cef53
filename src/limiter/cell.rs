//! The token bucket's state cell: the five fields x/time/rate keeps under its mutex,
//! here under a small spin lock, plus `deny_until`, a hint read without any lock.
//!
//! Why not `std::sync::Mutex`: a decision holds the lock for a few float operations, so
//! a futex's atomic unlock costs as much as the decision itself, and a "denied" answer
//! (the common case for a throttled caller) can skip the lock entirely via the hint.
//! On a page's main thread a spin lock is also the only lock that cannot hit
//! `Atomics.wait cannot be called in this context`.
//!
//! # Invariants and orderings
//! 1. Every field except `deny_until` is read and written only by the holder of `lock`.
//!    Acquiring is a `compare_exchange(false -> true, Acquire)`, releasing a
//!    `store(false, Release)`, so each holder sees all writes of the previous one; the
//!    fields themselves can then use `Relaxed`. They are atomics only so that this is
//!    all safe code.
//! 2. `deny_until` is written only by the lock holder, whenever the state changes, before
//!    the lock is released. It is a conservative bound: for every `t < deny_until`, a
//!    request for one or more tokens at `t` on the current state is refused. Readers load
//!    it with `Relaxed`: the answer they derive depends on that one variable alone, and a
//!    read that races with an update linearizes before the (overlapping) update.
//! 3. The critical section never panics or calls out, so the lock cannot be left held.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering::*};

/// The state x/time/rate's `Limiter` protects with its mutex.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct State {
    /// Tokens per second (internally `f64::MAX` for "infinite", as Go's `rate.Inf`).
    pub limit: f64,
    pub burst: u32,
    pub tokens: f64,
    /// The last time `tokens` was updated (ns since the caller's epoch).
    pub last: i64,
    /// The latest time of a rate-limited event, past or future (ns).
    pub last_event: i64,
}

#[repr(align(64))]
pub(super) struct StateCell {
    lock: AtomicBool,
    limit: AtomicU64,
    burst: AtomicU32,
    tokens: AtomicU64,
    last: AtomicI64,
    last_event: AtomicI64,
    /// Nanoseconds on the caller's timeline (see invariant 2).
    deny_until: AtomicU64,
}

impl std::fmt::Debug for StateCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateCell")
            .field("state", &self.read())
            .finish()
    }
}

/// Spins before yielding the thread while another holder finishes its few nanoseconds.
const SPINS_BEFORE_YIELD: u32 = 64;

impl StateCell {
    pub fn new(state: State, deny_until: u64) -> StateCell {
        let cell = StateCell {
            lock: AtomicBool::new(false),
            limit: AtomicU64::new(0),
            burst: AtomicU32::new(0),
            tokens: AtomicU64::new(0),
            last: AtomicI64::new(0),
            last_event: AtomicI64::new(0),
            deny_until: AtomicU64::new(deny_until),
        };
        cell.store(&state);
        cell
    }

    fn acquire(&self) {
        let mut spins = 0;
        while self
            .lock
            .compare_exchange_weak(false, true, Acquire, Relaxed)
            .is_err()
        {
            // Test before retrying the exchange, so waiting does not bounce the line.
            while self.lock.load(Relaxed) {
                spins += 1;
                if spins < SPINS_BEFORE_YIELD {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }

    fn release(&self) {
        self.lock.store(false, Release);
    }

    fn load(&self) -> State {
        State {
            limit: f64::from_bits(self.limit.load(Relaxed)),
            burst: self.burst.load(Relaxed),
            tokens: f64::from_bits(self.tokens.load(Relaxed)),
            last: self.last.load(Relaxed),
            last_event: self.last_event.load(Relaxed),
        }
    }

    fn store(&self, state: &State) {
        self.limit.store(state.limit.to_bits(), Relaxed);
        self.burst.store(state.burst, Relaxed);
        self.tokens.store(state.tokens.to_bits(), Relaxed);
        self.last.store(state.last, Relaxed);
        self.last_event.store(state.last_event, Relaxed);
    }

    /// Stores only the fields that differ from `before`: a decision usually changes
    /// three of the five, and every store is work the next locked instruction waits on.
    fn store_changes(&self, before: &State, after: &State) {
        if after.limit.to_bits() != before.limit.to_bits() {
            self.limit.store(after.limit.to_bits(), Relaxed);
        }
        if after.burst != before.burst {
            self.burst.store(after.burst, Relaxed);
        }
        if after.tokens.to_bits() != before.tokens.to_bits() {
            self.tokens.store(after.tokens.to_bits(), Relaxed);
        }
        if after.last != before.last {
            self.last.store(after.last, Relaxed);
        }
        if after.last_event != before.last_event {
            self.last_event.store(after.last_event, Relaxed);
        }
    }

    /// A consistent copy of the state.
    pub fn read(&self) -> State {
        self.acquire();
        let state = self.load();
        self.release();
        state
    }

    /// Runs `f` on the state under the lock; if `f` changed it, writes it back and
    /// stores `deny_until(&new_state)` before releasing (invariant 2).
    pub fn update<R>(
        &self,
        f: impl FnOnce(&mut State) -> R,
        deny_until: impl FnOnce(&State) -> u64,
    ) -> R {
        self.acquire();
        let before = self.load();
        let mut state = before;
        let result = f(&mut state);
        if state != before {
            self.store_changes(&before, &state);
            let hint = deny_until(&state);
            if hint != self.deny_until.load(Relaxed) {
                self.deny_until.store(hint, Relaxed);
            }
        }
        self.release();
        result
    }

    /// The lock-free hint of invariant 2.
    #[inline]
    pub fn deny_until(&self) -> u64 {
        self.deny_until.load(Relaxed)
    }
}
