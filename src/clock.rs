//! Injected time. Everything in the core that needs "now" takes a [`Clock`] (or an
//! explicit `now`), and everything that needs to wait takes a [`Timer`], so tests drive
//! time by hand ([`ManualClock`]) and never sleep.
//!
//! Times are `Duration`s since an epoch the clock chooses (its creation, usually). Two
//! values are only comparable when they come from the same clock.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A source of monotonic time.
pub trait Clock: Send + Sync {
    /// Time elapsed since this clock's epoch. Never decreases.
    fn now(&self) -> Duration;

    /// [`now`](Self::now) in nanoseconds (saturating). Clocks that count nanoseconds
    /// natively override it to skip the conversion on hot paths.
    fn now_nanos(&self) -> u64 {
        duration_to_nanos(self.now())
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Duration {
        (**self).now()
    }

    fn now_nanos(&self) -> u64 {
        (**self).now_nanos()
    }
}

/// A boxed future that completes after a delay (not `Send`: on the web, timers belong to
/// the thread that made them).
pub type SleepFuture = Pin<Box<dyn Future<Output = ()>>>;

/// Something that can wait: browser timers on the web, simulated timers in tests.
pub trait Timer {
    /// A future that completes once `delay` has passed on this timer's clock.
    fn sleep(&self, delay: Duration) -> SleepFuture;
}

/// A clock that moves only when told to. Cheap to share: clone the `Arc`.
///
/// Ordering: `now` and `advance` use `SeqCst`; the clock is a single counter, so any
/// thread that observes an advance also observes every earlier one.
#[derive(Debug, Default)]
pub struct ManualClock {
    nanos: AtomicU64,
}

impl ManualClock {
    /// A clock at time zero.
    pub fn new() -> Arc<ManualClock> {
        Arc::new(ManualClock::default())
    }

    /// A clock at `start`.
    pub fn starting_at(start: Duration) -> Arc<ManualClock> {
        let clock = ManualClock::default();
        clock.set(start);
        Arc::new(clock)
    }

    /// Moves time forward by `delta`.
    pub fn advance(&self, delta: Duration) {
        self.nanos
            .fetch_add(duration_to_nanos(delta), Ordering::SeqCst);
    }

    /// Sets the time to `to`. Moving backwards is allowed here (tests of clock jumps use
    /// it) even though a real clock never does.
    pub fn set(&self, to: Duration) {
        self.nanos.store(duration_to_nanos(to), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.now_nanos())
    }

    fn now_nanos(&self) -> u64 {
        self.nanos.load(Ordering::SeqCst)
    }
}

/// The operating system's monotonic clock (`std::time::Instant`), epoch = creation.
/// Not available on wasm32-unknown-unknown, where `Instant` has no time source; the web
/// glue supplies `performance.now()` there.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone, Copy)]
pub struct InstantClock {
    epoch: std::time::Instant,
}

#[cfg(not(target_arch = "wasm32"))]
impl InstantClock {
    /// A clock whose epoch is now.
    pub fn new() -> InstantClock {
        InstantClock {
            epoch: std::time::Instant::now(),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Default for InstantClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Clock for InstantClock {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }
}

/// `d` in nanoseconds, saturating at `u64::MAX` (about 584 years).
pub fn duration_to_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new();
        assert_eq!(clock.now(), Duration::ZERO);
        clock.advance(Duration::from_millis(250));
        assert_eq!(clock.now(), Duration::from_millis(250));
        clock.set(Duration::from_secs(3));
        assert_eq!(clock.now(), Duration::from_secs(3));
        let shared: Arc<dyn Clock> = clock.clone();
        clock.advance(Duration::from_nanos(1));
        assert_eq!(shared.now(), Duration::from_nanos(3_000_000_001));
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn instant_clock_is_monotonic() {
        let clock = InstantClock::new();
        let a = clock.now();
        let b = clock.now();
        assert!(b >= a);
    }
}
