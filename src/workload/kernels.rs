//! Real CPU kernels whose results can be checked: prime counting (segmented sieve),
//! iterated SHA-256, and a Mandelbrot tile.
//!
//! Each kernel does its work in chunks and calls `should_stop` between chunks, so a
//! cancelled job stops within one chunk (tens of microseconds) instead of running to
//! the end. The chunk sizes are chosen so that the poll costs well under 1% of a chunk.

use sha2::{Digest, Sha256};

use crate::clock::Clock;

/// A kernel stopped because `should_stop` returned true between two chunks of work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted;

/// Numbers sieved between two polls of `should_stop` (one L1-sized segment).
pub const PRIME_SEGMENT: u64 = 32 * 1024;
/// SHA-256 rounds between two polls of `should_stop`.
pub const SHA_ROUNDS_PER_CHUNK: u64 = 256;

/// Counts the primes `p` with `lo <= p < hi` with a segmented sieve of Eratosthenes.
///
/// Work is proportional to `hi - lo` (plus `sqrt(hi)` for the base primes).
pub fn count_primes(lo: u64, hi: u64, should_stop: &dyn Fn() -> bool) -> Result<u64, Interrupted> {
    let lo = lo.max(2);
    if hi <= lo {
        return Ok(0);
    }
    let base = base_primes(isqrt(hi - 1));
    // One byte per number: 1 = still possibly prime.
    let mut segment = vec![1u8; PRIME_SEGMENT as usize];
    let mut count = 0u64;
    let mut start = lo;
    while start < hi {
        if should_stop() {
            return Err(Interrupted);
        }
        let end = (start + PRIME_SEGMENT).min(hi);
        let len = (end - start) as usize;
        segment[..len].fill(1);
        for &p in &base {
            let p = p as u64;
            if p * p >= end {
                break;
            }
            let first = (p * p).max(start.div_ceil(p) * p);
            if first >= end {
                continue;
            }
            // The loop tests the slice's own length, so the compiler drops the bounds
            // check on each store (it matters most in wasm).
            let cells = &mut segment[..len];
            let (step, mut i) = (p as usize, (first - start) as usize);
            while i < cells.len() {
                cells[i] = 0;
                i += step;
            }
        }
        // Cells are 0 or 1: summing them vectorises (SIMD in wasm too).
        count += segment[..len].iter().map(|&cell| cell as u32).sum::<u32>() as u64;
        start = end;
    }
    Ok(count)
}

/// The primes up to and including `limit`, by a plain sieve (`limit` is at most a few
/// thousand for the ranges used here, since it is the square root of the range end).
fn base_primes(limit: u64) -> Vec<u32> {
    let limit = limit as usize;
    let mut composite = vec![false; limit + 1];
    let mut primes = Vec::new();
    for n in 2..=limit {
        if !composite[n] {
            primes.push(n as u32);
            let mut m = n * n;
            while m <= limit {
                composite[m] = true;
                m += n;
            }
        }
    }
    primes
}

/// Integer square root: the largest `r` with `r * r <= n`.
fn isqrt(n: u64) -> u64 {
    let mut r = (n as f64).sqrt() as u64;
    while r * r > n {
        r -= 1;
    }
    while (r + 1) * (r + 1) <= n {
        r += 1;
    }
    r
}

/// Hashes the 8-byte little-endian `seed` with SHA-256, then hashes the 32-byte digest
/// again, `rounds` times in all; returns the first 8 bytes of the last digest as a
/// big-endian `u64` (so it reads like the start of the hex digest).
pub fn sha256_chain(
    seed: u64,
    rounds: u64,
    should_stop: &dyn Fn() -> bool,
) -> Result<u64, Interrupted> {
    let mut digest: [u8; 32] = Sha256::digest(seed.to_le_bytes()).into();
    let mut done = 1u64;
    while done < rounds {
        if should_stop() {
            return Err(Interrupted);
        }
        let chunk_end = (done + SHA_ROUNDS_PER_CHUNK).min(rounds);
        for _ in done..chunk_end {
            digest = Sha256::digest(digest).into();
        }
        done = chunk_end;
    }
    Ok(u64::from_be_bytes(
        digest[..8].try_into().expect("digest has 32 bytes"),
    ))
}

/// A rectangle of the complex plane rendered as a `width` x `height` grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MandelTile {
    /// Real part of the left edge.
    pub re_min: f64,
    /// Imaginary part of the top edge.
    pub im_min: f64,
    /// Width of the rectangle on the real axis.
    pub re_span: f64,
    /// Height of the rectangle on the imaginary axis.
    pub im_span: f64,
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Iteration cap per pixel.
    pub max_iter: u32,
}

impl MandelTile {
    /// The classic full view, `[-2, 1] x [-1.5, 1.5]`.
    pub fn full_view(width: u32, height: u32, max_iter: u32) -> Self {
        MandelTile {
            re_min: -2.0,
            im_min: -1.5,
            re_span: 3.0,
            im_span: 3.0,
            width,
            height,
            max_iter,
        }
    }
}

/// Sum of escape iterations over rows `rows` of the tile (pixels that never escape count
/// `max_iter`). Plain IEEE double arithmetic, no fused multiply-add, so any IEEE-754
/// implementation of the same loop gives the same sum.
pub fn mandelbrot_rows(
    tile: &MandelTile,
    rows: std::ops::Range<u32>,
    should_stop: &dyn Fn() -> bool,
) -> Result<u64, Interrupted> {
    let mut total = 0u64;
    // One row is one chunk of work between polls.
    for row in rows {
        if should_stop() {
            return Err(Interrupted);
        }
        let ci = tile.im_min + tile.im_span * (row as f64) / (tile.height as f64);
        for col in 0..tile.width {
            let cr = tile.re_min + tile.re_span * (col as f64) / (tile.width as f64);
            let (mut x, mut y) = (0.0f64, 0.0f64);
            let mut n = 0;
            while n < tile.max_iter && x * x + y * y <= 4.0 {
                let xt = x * x - y * y + cr;
                y = 2.0 * x * y + ci;
                x = xt;
                n += 1;
            }
            total += n as u64;
        }
    }
    Ok(total)
}

/// Spins on the CPU until `micros` microseconds have passed on `clock`, polling
/// `should_stop` between clock reads; returns `micros` (a result that does not depend
/// on the machine, so a run's checksum is the same everywhere). `micros == 0` is an
/// empty job: it returns at once, reading no clock. Needs a clock that moves during the
/// spin (not a simulated one).
pub fn spin(
    micros: u64,
    clock: &dyn Clock,
    should_stop: &dyn Fn() -> bool,
) -> Result<u64, Interrupted> {
    if micros == 0 {
        // Nothing to wait out. Not even a clock read: in wasm that is a call into
        // JavaScript, about 0.1 µs on a pool thread, which an empty job should not cost.
        return Ok(0);
    }
    let start = clock.now_nanos();
    let until = start.saturating_add(micros.saturating_mul(1_000));
    while clock.now_nanos() < until {
        if should_stop() {
            return Err(Interrupted);
        }
        for _ in 0..32 {
            std::hint::spin_loop();
        }
    }
    Ok(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> bool {
        false
    }

    #[test]
    fn prime_counts_match_known_values() {
        // pi(x) from the literature.
        assert_eq!(count_primes(0, 10, &never), Ok(4));
        assert_eq!(count_primes(0, 100, &never), Ok(25));
        assert_eq!(count_primes(0, 1_000_000, &never), Ok(78_498));
        assert_eq!(count_primes(0, 10_000_000, &never), Ok(664_579));
        // A range that straddles segment boundaries: pi(2e6) - pi(1e6) = 148933 - 78498.
        assert_eq!(
            count_primes(1_000_000, 2_000_000, &never),
            Ok(148_933 - 78_498)
        );
        assert_eq!(count_primes(5, 5, &never), Ok(0));
        assert_eq!(count_primes(7, 3, &never), Ok(0));
    }

    #[test]
    fn prime_ranges_add_up() {
        let whole = count_primes(0, 300_000, &never).unwrap();
        let parts: u64 = (0..30)
            .map(|i| count_primes(i * 10_000, (i + 1) * 10_000, &never).unwrap())
            .sum();
        assert_eq!(whole, parts);
    }

    #[test]
    fn sha256_chain_matches_reference_digests() {
        // Reference values from Python's hashlib:
        //   h = sha256((42).to_bytes(8, "little")).digest(); for _ in range(n - 1): h = sha256(h).digest()
        assert_eq!(sha256_chain(42, 1, &never), Ok(0xed04_9108_bc18_f2c6));
        assert_eq!(sha256_chain(42, 1000, &never), Ok(0x6c10_a0ea_f766_17b5));
    }

    #[test]
    fn mandelbrot_matches_reference_sum() {
        // Reference from the same loop in Python floats (IEEE doubles).
        let tile = MandelTile::full_view(64, 48, 200);
        assert_eq!(mandelbrot_rows(&tile, 0..48, &never), Ok(120_534));
        let split: u64 = (0..48)
            .map(|r| mandelbrot_rows(&tile, r..r + 1, &never).unwrap())
            .sum();
        assert_eq!(split, 120_534);
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn spin_lasts_its_time_on_a_real_clock_and_stops_when_asked() {
        let clock = crate::clock::InstantClock::new();
        let start = clock.now();
        spin(2_000, &clock, &never).unwrap();
        assert!(clock.now() - start >= std::time::Duration::from_millis(2));
        assert_eq!(spin(0, &clock, &never), Ok(0));
        assert_eq!(spin(1_000_000, &clock, &|| true), Err(Interrupted));
    }

    #[test]
    fn an_empty_spin_reads_no_clock() {
        struct Counting(std::sync::atomic::AtomicU32);
        impl Clock for Counting {
            fn now(&self) -> std::time::Duration {
                self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                std::time::Duration::ZERO
            }
        }
        let clock = Counting(Default::default());
        assert_eq!(spin(0, &clock, &never), Ok(0));
        assert_eq!(clock.0.into_inner(), 0);
    }

    #[test]
    fn kernels_stop_between_chunks() {
        let stop = || true;
        assert_eq!(count_primes(0, 1_000_000, &stop), Err(Interrupted));
        assert_eq!(sha256_chain(1, 10_000, &stop), Err(Interrupted));
        assert_eq!(
            mandelbrot_rows(&MandelTile::full_view(8, 8, 10), 0..8, &stop),
            Err(Interrupted)
        );
    }
}
