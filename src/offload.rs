//! Running a closure on the rayon pool and awaiting its result without blocking.
//!
//! On the web the caller is a JavaScript event loop (the engine's worker): blocking it
//! would stop it from handling messages such as Cancel, and on a page's main thread a
//! blocking wait is an error (`Atomics.wait cannot be called in this context`). So the
//! closure goes to the pool with `rayon::spawn` and the caller awaits a oneshot channel.

use futures::channel::oneshot;
use std::future::Future;

/// Runs `work` on the global rayon pool; the returned future resolves with its result.
///
/// If `work` panics, the pool's panic handler runs (on wasm: the thread aborts) and the
/// future resolves with `Err(Canceled)` once the sender is dropped.
pub fn spawn_on_pool<R, F>(work: F) -> impl Future<Output = Result<R, oneshot::Canceled>>
where
    R: Send + 'static,
    F: FnOnce() -> R + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    rayon::spawn(move || {
        // The receiver may have been dropped (caller gave up); nothing to do then.
        let _ = tx.send(work());
    });
    rx
}
