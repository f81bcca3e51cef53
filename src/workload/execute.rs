//! Running one planned job's CPU work with the kernels, polling for cancellation
//! between chunks.

use super::kernels::{Interrupted, MandelTile, count_primes, mandelbrot_rows, sha256_chain, spin};
use super::plan::JobSpec;
use crate::clock::Clock;
use crate::engine::config::WorkKind;

/// Pixels per row of a Mandelbrot job's tile; its row count follows from the cost.
pub const MANDEL_WIDTH: u32 = 64;
/// Iteration cap per Mandelbrot pixel.
pub const MANDEL_MAX_ITER: u32 = 256;

/// Runs `job`'s kernel and returns its checkable result: the number of primes in its
/// range, the first 8 bytes of its last SHA-256 digest, or its tile's iteration sum.
/// Spin jobs return the microseconds they spun; I/O-like jobs (`Sleep`, `Backend`)
/// have no CPU work (they return their id x 2, the article's result).
pub fn run_cpu(
    kind: WorkKind,
    job: &JobSpec,
    seed: u64,
    clock: &dyn Clock,
    should_stop: &dyn Fn() -> bool,
) -> Result<u64, Interrupted> {
    match kind {
        WorkKind::Primes => count_primes(job.offset, job.offset + job.cost, should_stop),
        WorkKind::Sha256 => sha256_chain(
            seed.wrapping_mul(1_000_003).wrapping_add(job.id as u64),
            job.cost,
            should_stop,
        ),
        WorkKind::Mandelbrot => {
            let rows = (job.cost as f64 / MANDEL_WIDTH as f64).round().max(1.0) as u32;
            let tile = MandelTile::full_view(MANDEL_WIDTH, rows, MANDEL_MAX_ITER);
            mandelbrot_rows(&tile, 0..rows, should_stop)
        }
        WorkKind::Spin => spin(job.cost, clock, should_stop),
        WorkKind::Sleep | WorkKind::Backend => Ok(sleep_result(job)),
    }
}

/// What an I/O-like job returns: its id times two, as the article's worker does, times
/// its weight (1 but for a weighted backend call: so a run's checksum covers the weights).
pub fn sleep_result(job: &JobSpec) -> u64 {
    job.id as u64 * 2 * u64::from(job.weight)
}
