//! The stack check the first page runs: count the primes below a limit by splitting
//! the range into chunks that run in parallel on the rayon pool, and record which pool
//! thread ran each chunk. The answer is known (pi(10^7) = 664 579), so a wrong build,
//! a lost chunk or a data race shows up as a wrong count.

use crate::workload::kernels::count_primes;
use rayon::prelude::*;
use serde::Serialize;

/// Result of [`parallel_prime_count`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ParallelPrimeCount {
    /// Upper bound (exclusive) of the range counted.
    pub limit: u64,
    /// Number of primes below `limit`.
    pub primes: u64,
    /// How many chunks each pool thread ran; index = rayon thread index.
    pub chunks_per_thread: Vec<u64>,
}

/// Counts primes below `limit` in `chunks` parallel pieces on the current rayon pool.
pub fn parallel_prime_count(limit: u64, chunks: u64) -> ParallelPrimeCount {
    let chunks = chunks.max(1);
    let width = limit.div_ceil(chunks);
    let per_chunk: Vec<(u64, Option<usize>)> = (0..chunks)
        .into_par_iter()
        .map(|i| {
            let lo = i * width;
            let hi = ((i + 1) * width).min(limit);
            let count = count_primes(lo, hi, &|| false).expect("never interrupted");
            (count, rayon::current_thread_index())
        })
        .collect();
    let mut chunks_per_thread = vec![0u64; rayon::current_num_threads()];
    let mut primes = 0;
    for (count, thread) in per_chunk {
        primes += count;
        if let Some(t) = thread {
            chunks_per_thread[t] += 1;
        }
    }
    ParallelPrimeCount {
        limit,
        primes,
        chunks_per_thread,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_count_is_exact() {
        let result = parallel_prime_count(10_000_000, 64);
        assert_eq!(result.primes, 664_579);
        assert_eq!(result.chunks_per_thread.iter().sum::<u64>(), 64);
    }

    #[test]
    fn uneven_chunks_cover_the_range() {
        assert_eq!(parallel_prime_count(1_000_000, 7).primes, 78_498);
        assert_eq!(parallel_prime_count(100, 1000).primes, 25);
    }
}
