//! Seeded random draws that a Go program can repeat exactly: xoshiro256++ seeded by
//! SplitMix64 (rand_xoshiro), uniforms from the top 53 bits, and every other
//! distribution by a closed-form transform of uniforms (inverse transform, Box–Muller)
//! with the pure-Rust libm. The generated Go program (`crate::gobridge`) carries the
//! same generator and the same formulas, so a seed gives the same job plan in Rust,
//! in wasm and in Go.
//!
//! Why not `rand_distr`: its exponential and normal samplers are ziggurats whose
//! tables and rejection steps a Go program would have to embed; a transform is a
//! line of arithmetic in each language. `log`, `pow`, `exp` and `cos` may differ by
//! an ulp between libm and Go's `math`, which changes a rounded job cost only when the
//! exact value lies within about 10⁻¹⁶ of a half-integer.

use rand_core::{RngCore as _, SeedableRng as _};
use rand_xoshiro::Xoshiro256PlusPlus;

/// 2⁻⁵³: the spacing of the uniforms [`Draws::unit`] returns.
const UNIT: f64 = 1.0 / (1u64 << 53) as f64;

/// A stream of draws from one seed.
#[derive(Debug, Clone)]
pub struct Draws(Xoshiro256PlusPlus);

impl Draws {
    /// The stream of `seed` (xoshiro256++ with its state from four SplitMix64 outputs).
    pub fn new(seed: u64) -> Draws {
        Draws(Xoshiro256PlusPlus::seed_from_u64(seed))
    }

    /// The next raw 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `[0, 1)`: the top 53 bits times 2⁻⁵³.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * UNIT
    }

    /// Uniform in `(0, 1]`: one minus [`unit`](Self::unit) (never 0, so its log is finite).
    pub fn unit_open(&mut self) -> f64 {
        1.0 - self.unit()
    }

    /// Exponential with mean 1: `-ln U`, U in (0, 1].
    pub fn exp1(&mut self) -> f64 {
        -libm::log(self.unit_open())
    }

    /// Standard normal by Box–Muller (one of the pair; the other is not kept, so
    /// each draw uses exactly two uniforms): `sqrt(-2 ln U₁) cos(2π U₂)`.
    pub fn normal(&mut self) -> f64 {
        let radius = libm::sqrt(-2.0 * libm::log(self.unit_open()));
        radius * libm::cos(std::f64::consts::TAU * self.unit())
    }

    /// Pareto with minimum `scale` and shape `alpha`: `scale U^(-1/alpha)`.
    pub fn pareto(&mut self, scale: f64, alpha: f64) -> f64 {
        scale * libm::pow(self.unit_open(), -1.0 / alpha)
    }

    /// Log-normal: `exp(mu + sigma Z)`.
    pub fn lognormal(&mut self, mu: f64, sigma: f64) -> f64 {
        libm::exp(mu + sigma * self.normal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_xoshiro256_plus_plus_seeded_by_splitmix64() {
        // SplitMix64 from 1, four outputs, as the state; then one xoshiro256++ step —
        // written out here so that a change of the crate's seeding fails this test (the
        // Go program repeats exactly these steps).
        let mut x = 1u64;
        let mut splitmix = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let s = [splitmix(), splitmix(), splitmix(), splitmix()];
        let expected = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        assert_eq!(Draws::new(1).next_u64(), expected);
    }

    #[test]
    fn uniforms_stay_in_their_intervals_and_moments_match() {
        let mut d = Draws::new(7);
        let n = 200_000;
        let (mut exp_sum, mut norm_sum, mut norm_sq) = (0.0, 0.0, 0.0);
        for _ in 0..n {
            let u = d.unit();
            assert!((0.0..1.0).contains(&u));
            let v = d.unit_open();
            assert!(v > 0.0 && v <= 1.0);
            exp_sum += d.exp1();
            let z = d.normal();
            norm_sum += z;
            norm_sq += z * z;
        }
        let n = n as f64;
        assert!((exp_sum / n - 1.0).abs() < 0.01, "exp mean {}", exp_sum / n);
        assert!((norm_sum / n).abs() < 0.01, "normal mean {}", norm_sum / n);
        assert!(
            (norm_sq / n - 1.0).abs() < 0.02,
            "normal variance {}",
            norm_sq / n
        );
    }

    #[test]
    fn pareto_never_goes_below_its_scale() {
        let mut d = Draws::new(3);
        assert!((0..10_000).all(|_| d.pareto(2.0, 1.5) >= 2.0));
    }
}
