//! The JavaScript edge (wasm32 only): `#[wasm_bindgen]` exports and browser glue.
//! Nothing in here holds logic of its own; it converts and delegates to the core.

pub mod cancel;
pub mod engine;
pub mod heap;
pub mod limiter;
pub mod runtime;
pub mod time;

use wasm_bindgen::prelude::*;

use crate::offload::spawn_on_pool;
use crate::selftest::parallel_prime_count;

// `initThreadPool(n)`: starts the shared-memory rayon pool (n Web Workers). Call once
// per wasm instance, from the engine's worker, before anything uses threads.
pub use wasm_bindgen_rayon::init_thread_pool;

/// Makes a panic on any thread report an engine crash (see `engine::fault`) before the
/// thread traps, so the run in progress ends with the message instead of hanging.
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            crate::engine::fault::report_crash(format!("engine crashed: {info}"));
        }));
    });
}

/// Test-only fault injection (feature `test-hooks`): the next CPU job panics, killing its
/// pool thread. The end-to-end tests use it to check that a crash is reported and the
/// engine replaced.
#[cfg(feature = "test-hooks")]
#[wasm_bindgen(js_name = injectPanicForTesting)]
pub fn inject_panic_for_testing() {
    crate::engine::fault::inject_panic_in_next_job();
}

/// Counts the primes below `limit` in `chunks` parallel pieces on the thread pool and
/// resolves with `{ limit, primes, chunksPerThread }`. Never blocks the caller.
#[wasm_bindgen(js_name = parallelPrimeCount, unchecked_return_type = "Promise<ParallelPrimeCount>")]
pub async fn parallel_prime_count_js(limit: u32, chunks: u32) -> Result<JsValue, JsError> {
    let result = spawn_on_pool(move || parallel_prime_count(limit as u64, chunks as u64))
        .await
        .map_err(|_| JsError::new("engine crashed: the pool job was lost"))?;
    serde_wasm_bindgen::to_value(&result).map_err(|e| JsError::new(&e.to_string()))
}
