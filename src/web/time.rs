//! The browser's clock and timers, as the core's [`Clock`] and [`Timer`].

use std::time::Duration;

use wasm_bindgen::JsCast;

use crate::clock::{Clock, SleepFuture, Timer};

thread_local! {
    /// This thread's `performance` object and its time origin. Every Web Worker has its
    /// own `performance.timeOrigin`, so readings are shifted onto the shared Unix-epoch
    /// timeline (`timeOrigin + now()`) to be comparable across pool threads.
    static PERFORMANCE: (web_sys::Performance, f64) = {
        let global = js_sys::global();
        let performance = js_sys::Reflect::get(&global, &"performance".into())
            .ok()
            .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
            .expect("this JavaScript context has no `performance`");
        let origin = performance.time_origin();
        (performance, origin)
    };
}

/// Milliseconds since the Unix epoch on a monotonic, sub-millisecond clock
/// (`performance.timeOrigin + performance.now()`), comparable across workers.
pub fn epoch_millis() -> f64 {
    PERFORMANCE.with(|(performance, origin)| origin + performance.now())
}

/// `performance.now()` on the shared timeline, as a [`Clock`] whose epoch is the Unix
/// epoch. Readable from any thread (each reads its own `performance`). Chromium rounds
/// it to 5 µs on cross-origin isolated pages.
#[derive(Debug, Clone, Copy, Default)]
pub struct PerformanceClock;

impl Clock for PerformanceClock {
    fn now(&self) -> Duration {
        Duration::from_secs_f64(epoch_millis() / 1000.0)
    }
}

/// Browser timers (`setTimeout` through gloo-timers) as a [`Timer`]. Use it on a thread
/// with an event loop (the page, the engine's worker), not on a pool thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserTimer;

impl Timer for BrowserTimer {
    /// Waits at least `delay`: browser timers count whole milliseconds, so the delay is
    /// rounded *up* (a timer that fires early would let a rate limiter release work
    /// before its time) and capped at `setTimeout`'s limit of 2^31 - 1 ms.
    fn sleep(&self, delay: Duration) -> SleepFuture {
        let millis = delay.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as u32;
        Box::pin(gloo_timers::future::TimeoutFuture::new(millis))
    }
}
