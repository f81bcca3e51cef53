//! The "unsynchronised shared state" pitfall, measured: every pool thread adds to one
//! shared counter, either with `fetch_add` (one atomic read-modify-write) or with a
//! separate atomic load and store — a logical race that safe Rust still allows (no data
//! race, no undefined behaviour, yet updates are lost). The lost updates are counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::sync::AtomicU64;

use serde::Serialize;

/// What a counting run found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct RaceResult {
    /// Threads that counted.
    pub threads: usize,
    /// Increments each thread made.
    pub increments: u64,
    /// `threads x increments`.
    pub expected: u64,
    /// What the counter holds.
    pub actual: u64,
    /// `expected - actual`: updates overwritten by another thread.
    pub lost: u64,
    /// Whether the increments were split into a load and a store.
    pub racy: bool,
}

/// How an increment is done.
pub fn increment(counter: &AtomicU64, racy: bool) {
    if racy {
        // Read, then write back one more: another thread's write in between is lost.
        let seen = counter.load(Ordering::Relaxed);
        counter.store(seen + 1, Ordering::Relaxed);
    } else {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Every thread of the current rayon pool increments one counter `increments` times,
/// starting together (a spin barrier, so they overlap). Blocks until done: call it on
/// the pool (`offload::spawn_on_pool`) or a native thread, never a page's main thread.
pub fn count_on_all_threads(increments: u64, racy: bool) -> RaceResult {
    let counter = Arc::new(AtomicU64::new(0));
    let arrived = Arc::new(AtomicUsize::new(0));
    let threads = rayon::current_num_threads();
    rayon::broadcast(|_| {
        arrived.fetch_add(1, Ordering::SeqCst);
        // Wait for the others (bounded: a pool that cannot run them all still counts).
        for _ in 0..50_000_000u64 {
            if arrived.load(Ordering::SeqCst) >= threads {
                break;
            }
            std::hint::spin_loop();
        }
        for _ in 0..increments {
            increment(&counter, racy);
        }
    });
    let expected = threads as u64 * increments;
    let actual = counter.load(Ordering::SeqCst);
    RaceResult {
        threads,
        increments,
        expected,
        actual,
        lost: expected.saturating_sub(actual),
        racy,
    }
}

/// The lab's own `increment`, model-checked: under every interleaving of two threads
/// `fetch_add` counts both, and some interleaving of the split increment loses one (the
/// test fails if the "racy" way ever stops being racy, or the safe way loses).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    fn finals(racy: bool) -> (bool, bool) {
        let lost_once = Arc::new(AtomicBool::new(false));
        let counted_both = Arc::new(AtomicBool::new(false));
        let (lost, both) = (lost_once.clone(), counted_both.clone());
        loom::model(move || {
            let counter = Arc::new(AtomicU64::new(0));
            let other = {
                let counter = counter.clone();
                loom::thread::spawn(move || increment(&counter, racy))
            };
            increment(&counter, racy);
            other.join().unwrap();
            match counter.load(Ordering::Relaxed) {
                1 => lost.store(true, Ordering::Relaxed),
                2 => both.store(true, Ordering::Relaxed),
                n => panic!("two increments made {n}"),
            }
        });
        (
            lost_once.load(Ordering::Relaxed),
            counted_both.load(Ordering::Relaxed),
        )
    }

    #[test]
    fn loom_only_the_split_increment_loses_an_update() {
        assert_eq!(finals(false), (false, true), "fetch_add: never loses");
        assert_eq!(
            finals(true),
            (true, true),
            "split: loses in some interleaving"
        );
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn fetch_add_never_loses_and_the_split_increment_does() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let safe = pool.install(|| count_on_all_threads(2_000_000, false));
        assert_eq!(
            (safe.expected, safe.actual, safe.lost),
            (4_000_000, 4_000_000, 0)
        );
        // Two threads hammering one counter for milliseconds all but always collide; try
        // a few times, longer each time (up to 32x), so a busy machine that runs them
        // one after the other within a time slice cannot fail us.
        let racy = (0..10)
            .map(|attempt| {
                let increments = 2_000_000 << attempt.min(5);
                pool.install(|| count_on_all_threads(increments, true))
            })
            .find(|r| r.lost > 0);
        let racy = racy.expect("the split increment lost updates in at least one of ten runs");
        assert!(racy.actual < racy.expected);
    }
}
