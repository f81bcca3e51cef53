//! Faults the engine survives or reports: a job that panics, and (feature `test-hooks`,
//! never in a served page) the switch that makes one panic.
//!
//! On wasm, `panic = "abort"`: a panicking pool thread traps and its Web Worker dies
//! with it, so its job would never finish and the run would wait forever. The web
//! glue's panic hook (which runs on the panicking thread, before the trap) calls
//! [`report_crash`]; the coordinator, woken through [`CRASH_WAKER`], ends the run at
//! once with the message, and the page replaces the engine (the pool cannot be
//! repaired: it has lost a thread).
//!
//! The crash is sticky for the instance (native process or wasm instance): a pool that
//! lost a thread is not used again.
//!
//! Orderings: the message is written under its lock before the flag is stored with
//! `Release`; readers load the flag with `Acquire` and then lock — so a set flag always
//! comes with its message.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::task::AtomicWaker;

static CRASHED: AtomicBool = AtomicBool::new(false);
static MESSAGE: Mutex<String> = Mutex::new(String::new());
/// Woken when a crash is reported (the coordinator of the current run registers here).
pub static CRASH_WAKER: AtomicWaker = AtomicWaker::new();
#[cfg(feature = "test-hooks")]
static INJECT_PANIC: AtomicBool = AtomicBool::new(false);

/// Records that the engine crashed (first report wins) and wakes the coordinator.
pub fn report_crash(message: String) {
    {
        let mut slot = MESSAGE.lock().unwrap_or_else(|p| p.into_inner());
        if CRASHED.load(Ordering::Acquire) {
            return;
        }
        *slot = message;
        // Stored under the lock, so a second reporter sees it and keeps the first message.
        CRASHED.store(true, Ordering::Release);
    }
    CRASH_WAKER.wake();
}

/// The crash reported, if any.
pub fn crashed() -> Option<String> {
    CRASHED
        .load(Ordering::Acquire)
        .then(|| MESSAGE.lock().unwrap_or_else(|p| p.into_inner()).clone())
}

/// Test-only fault injection: the next CPU job panics. In a test build of the page it is
/// reachable from the engine worker (so crash handling can be tested end to end).
#[cfg(feature = "test-hooks")]
pub fn inject_panic_in_next_job() {
    INJECT_PANIC.store(true, Ordering::SeqCst);
}

/// Panics if a panic was injected (called at the start of each CPU job).
#[cfg(feature = "test-hooks")]
pub fn panic_if_injected(job: u32) {
    if INJECT_PANIC.swap(false, Ordering::SeqCst) {
        panic!("injected fault: job {job} panicked on purpose (test hook)");
    }
}
