//! Browser tests (wasm32, headless Chromium via `wasm-pack test`), run in a dedicated
//! worker with the shared-memory thread pool started — the same setting as the engine.

#![cfg(target_arch = "wasm32")]

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use scalelab::offload::spawn_on_pool;
use scalelab::selftest::parallel_prime_count;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// Threads in the test pool. Two is this machine's core count and the smallest pool
/// that can show parallelism.
const THREADS: usize = 2;

/// Starts the rayon pool once per wasm instance (tests run one after another).
async fn ensure_pool() {
    static STARTED: AtomicBool = AtomicBool::new(false);
    if !STARTED.swap(true, Ordering::SeqCst) {
        JsFuture::from(wasm_bindgen_rayon::init_thread_pool(THREADS))
            .await
            .expect("initThreadPool");
    }
}

#[wasm_bindgen_test]
async fn pool_has_the_requested_threads() {
    ensure_pool().await;
    let threads = spawn_on_pool(rayon::current_num_threads).await.unwrap();
    assert_eq!(threads, THREADS);
}

/// Two jobs that can only finish together: each announces itself and then waits for
/// the other. On one thread they would never meet (the test would fail, not pass by
/// luck), so finishing proves two pool threads ran at the same time.
#[wasm_bindgen_test]
async fn jobs_run_on_two_distinct_threads_at_once() {
    ensure_pool().await;
    let threads = spawn_on_pool(|| {
        let arrived = AtomicUsize::new(0);
        let meet = || {
            arrived.fetch_add(1, Ordering::SeqCst);
            // Bounded so that a broken pool fails the test instead of hanging it.
            for _ in 0..2_000_000_000u64 {
                if arrived.load(Ordering::SeqCst) >= 2 {
                    return rayon::current_thread_index();
                }
                std::hint::spin_loop();
            }
            None
        };
        let (a, b) = rayon::join(meet, meet);
        [a, b]
    })
    .await
    .unwrap();
    let distinct: HashSet<usize> = threads
        .iter()
        .map(|t| t.expect("both jobs met on pool threads"))
        .collect();
    assert_eq!(distinct.len(), 2, "jobs ran on {threads:?}");
}

#[wasm_bindgen_test]
async fn parallel_kernel_gives_the_known_answer() {
    ensure_pool().await;
    let result = spawn_on_pool(|| parallel_prime_count(10_000_000, 64))
        .await
        .unwrap();
    assert_eq!(result.primes, 664_579);
    assert_eq!(result.chunks_per_thread.iter().sum::<u64>(), 64);
    assert_eq!(result.chunks_per_thread.len(), THREADS);
}
