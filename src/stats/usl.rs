//! The Universal Scalability Law, fitted to measured throughput:
//!
//! ```text
//! X(N) = λ N / (1 + σ (N − 1) + κ N (N − 1))
//! ```
//!
//! λ is the throughput of one worker, σ the contention (the serial fraction: queueing
//! on something shared) and κ the coherency cost (workers paying to agree with each
//! other, which makes throughput fall past a peak at `N* = √((1 − σ) / κ)`).
//!
//! The fit first solves the linear form `N / X = a + b (N − 1) + c N (N − 1)` (with
//! `a = 1/λ`, `b = σ/λ`, `c = κ/λ`) by least squares, keeping σ and κ non-negative,
//! then refines λ, σ, κ by Gauss–Newton on relative residuals, so every point counts
//! in proportion to its own size.

use serde::Serialize;

/// A fitted model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct UslFit {
    /// Throughput of one worker (jobs/s).
    pub lambda: f64,
    /// Contention.
    pub sigma: f64,
    /// Coherency.
    pub kappa: f64,
    /// Coefficient of determination of the fit on throughput.
    pub r_squared: f64,
    /// Worker count where the model peaks (`None` when it never does: κ = 0).
    pub peak_workers: Option<f64>,
}

impl UslFit {
    /// Modelled throughput at `n` workers.
    pub fn throughput(&self, n: f64) -> f64 {
        self.lambda * n / (1.0 + self.sigma * (n - 1.0) + self.kappa * n * (n - 1.0))
    }

    /// Modelled efficiency at `n` workers: `X(n) / (n X(1))`.
    pub fn efficiency(&self, n: f64) -> f64 {
        self.throughput(n) / (n * self.throughput(1.0))
    }
}

/// Fits the law to `(workers, throughput)` points (repetitions welcome). Points with a
/// non-positive or non-finite value are ignored. `None` if nothing is left.
pub fn fit_usl(points: &[(f64, f64)]) -> Option<UslFit> {
    let points: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|&(n, x)| n >= 1.0 && x > 0.0 && x.is_finite())
        .collect();
    if points.is_empty() {
        return None;
    }
    let mut distinct: Vec<f64> = points.iter().map(|p| p.0).collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();

    // Linear start: y = n/x = a + b(n-1) + c n(n-1), keeping b, c >= 0.
    let basis = |n: f64| [1.0, n - 1.0, n * (n - 1.0)];
    let mut free = match distinct.len() {
        1 => vec![0],
        2 => vec![0, 1],
        _ => vec![0, 1, 2],
    };
    let mut coef;
    loop {
        coef = least_squares(&points, &free, basis);
        // Drop a term that came out negative (σ or κ < 0 is not physical) and refit.
        match free.iter().skip(1).position(|&k| coef[k] < 0.0) {
            Some(i) => {
                free.remove(i + 1);
            }
            None => break,
        }
    }
    let a = coef[0].max(1e-300);
    let mut params = [1.0 / a, coef[1] / a, coef[2] / a];
    // The linear start can land far from the best relative fit (a hard ceiling, as CPU
    // work hits at the core count, is not in the law's shape). Also try a grid over
    // σ and κ, with λ solved exactly for each, and start from the better of the two.
    let grid = grid_start(&points);
    if relative_error(&points, grid) < relative_error(&points, params) {
        params = grid;
    }

    // Refine on relative residuals r = (X(n) - x)/x, with σ, κ >= 0.
    for _ in 0..50 {
        let mut jtj = [[0.0; 3]; 3];
        let mut jtr = [0.0; 3];
        for &(n, x) in &points {
            let [l, s, k] = params;
            let d = 1.0 + s * (n - 1.0) + k * n * (n - 1.0);
            let f = l * n / d;
            let r = (f - x) / x;
            let grad = [
                n / d / x,
                -f * (n - 1.0) / d / x,
                -f * n * (n - 1.0) / d / x,
            ];
            for i in 0..3 {
                jtr[i] += grad[i] * r;
                for j in 0..3 {
                    jtj[i][j] += grad[i] * grad[j];
                }
            }
        }
        for (i, row) in jtj.iter_mut().enumerate() {
            // Levenberg damping keeps the step sane when a parameter is barely
            // determined (few distinct worker counts).
            row[i] = row[i] * 1.001 + 1e-12;
        }
        let Some(step) = solve3(jtj, jtr.map(|v| -v)) else {
            break;
        };
        // Take the step, halved until it lowers the error (or give up: converged).
        let current = relative_error(&points, params);
        let mut scale = 1.0;
        let mut accepted = None;
        for _ in 0..20 {
            let next = [
                params[0] + scale * step[0],
                (params[1] + scale * step[1]).max(0.0),
                (params[2] + scale * step[2]).max(0.0),
            ];
            if next[0] > 0.0
                && next.iter().all(|v| v.is_finite())
                && relative_error(&points, next) <= current
            {
                accepted = Some(next);
                break;
            }
            scale /= 2.0;
        }
        let Some(next) = accepted else { break };
        let moved = (0..3)
            .map(|i| (next[i] - params[i]).abs() / params[i].abs().max(1e-9))
            .fold(0.0, f64::max);
        params = next;
        if moved < 1e-10 {
            break;
        }
    }
    if distinct.len() < 3 {
        params[2] = 0.0;
    }
    if distinct.len() < 2 {
        params[1] = 0.0;
    }
    let [lambda, sigma, kappa] = params;
    let fit = UslFit {
        lambda,
        sigma,
        kappa,
        r_squared: 0.0,
        peak_workers: None,
    };
    let mean = points.iter().map(|p| p.1).sum::<f64>() / points.len() as f64;
    let ss_tot: f64 = points.iter().map(|p| (p.1 - mean).powi(2)).sum();
    let ss_res: f64 = points
        .iter()
        .map(|&(n, x)| (x - fit.throughput(n)).powi(2))
        .sum();
    Some(UslFit {
        r_squared: if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else {
            1.0
        },
        peak_workers: (kappa > 0.0 && sigma < 1.0).then(|| ((1.0 - sigma) / kappa).sqrt()),
        ..fit
    })
}

/// Sum of squared relative residuals of the law with `[λ, σ, κ]`.
fn relative_error(points: &[(f64, f64)], [lambda, sigma, kappa]: [f64; 3]) -> f64 {
    points
        .iter()
        .map(|&(n, x)| {
            let f = lambda * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0));
            ((f - x) / x).powi(2)
        })
        .sum()
}

/// The best `[λ, σ, κ]` on a grid of σ in [0, 1] and κ in {0} ∪ [1e-6, 1] (log steps),
/// with λ exact for each pair (the relative error is quadratic in λ).
fn grid_start(points: &[(f64, f64)]) -> [f64; 3] {
    const STEPS: usize = 60;
    let mut best = ([0.0; 3], f64::INFINITY);
    for i in 0..=STEPS {
        let sigma = i as f64 / STEPS as f64;
        for j in 0..=STEPS {
            let kappa = if j == 0 {
                0.0
            } else {
                10f64.powf(-6.0 + 6.0 * (j - 1) as f64 / (STEPS - 1) as f64)
            };
            // λ minimising Σ((λ g - x)/x)² with g = n / (1 + σ(n-1) + κn(n-1)).
            let (mut num, mut den) = (0.0, 0.0);
            for &(n, x) in points {
                let g = n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0));
                num += g / x;
                den += (g / x) * (g / x);
            }
            if den == 0.0 {
                continue;
            }
            let params = [num / den, sigma, kappa];
            let error = relative_error(points, params);
            if error < best.1 {
                best = (params, error);
            }
        }
    }
    best.0
}

/// Least squares of `n/x` on the chosen columns of `basis(n)`; unchosen coefficients 0.
fn least_squares(
    points: &[(f64, f64)],
    columns: &[usize],
    basis: impl Fn(f64) -> [f64; 3],
) -> [f64; 3] {
    let mut ata = [[0.0; 3]; 3];
    let mut aty = [0.0; 3];
    for &(n, x) in points {
        let row = basis(n);
        let y = n / x;
        for i in 0..3 {
            aty[i] += row[i] * y;
            for j in 0..3 {
                ata[i][j] += row[i] * row[j];
            }
        }
    }
    // Pin the unchosen coefficients to zero (identity rows).
    for k in 0..3 {
        if !columns.contains(&k) {
            ata[k] = [0.0; 3];
            for row in ata.iter_mut() {
                row[k] = 0.0;
            }
            ata[k][k] = 1.0;
            aty[k] = 0.0;
        }
    }
    solve3(ata, aty).unwrap_or([points[0].0 / points[0].1, 0.0, 0.0])
}

/// Solves a 3x3 system by Gaussian elimination with partial pivoting.
fn solve3(mut m: [[f64; 3]; 3], mut v: [f64; 3]) -> Option<[f64; 3]> {
    for col in 0..3 {
        let pivot = (col..3).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() < 1e-300 {
            return None;
        }
        m.swap(col, pivot);
        v.swap(col, pivot);
        for row in col + 1..3 {
            let f = m[row][col] / m[col][col];
            let pivot_row = m[col];
            for (cell, p) in m[row].iter_mut().zip(pivot_row).skip(col) {
                *cell -= f * p;
            }
            v[row] -= f * v[col];
        }
    }
    let mut x = [0.0; 3];
    for row in (0..3).rev() {
        let tail: f64 = (row + 1..3).map(|k| m[row][k] * x[k]).sum();
        x[row] = (v[row] - tail) / m[row][row];
    }
    Some(x)
}

/// The recommended worker count from measured efficiency: the largest count whose
/// median efficiency is at least `threshold`, but never past the model's peak.
pub fn recommend_workers(
    medians: &[(u32, f64)],
    threshold: f64,
    fit: Option<&UslFit>,
) -> Option<u32> {
    let one = medians.iter().find(|m| m.0 == 1)?.1;
    let peak = fit.and_then(|f| f.peak_workers).unwrap_or(f64::INFINITY);
    medians
        .iter()
        .filter(|&&(n, x)| x / (n as f64 * one) >= threshold && (n as f64) <= peak.ceil())
        .map(|m| m.0)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic noise in [-amplitude, amplitude] (SplitMix64).
    fn noise(seed: &mut u64, amplitude: f64) -> f64 {
        *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let unit = ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64;
        (2.0 * unit - 1.0) * amplitude
    }

    fn synthetic(
        lambda: f64,
        sigma: f64,
        kappa: f64,
        max_n: u32,
        reps: u32,
        amplitude: f64,
    ) -> Vec<(f64, f64)> {
        let truth = UslFit {
            lambda,
            sigma,
            kappa,
            r_squared: 1.0,
            peak_workers: None,
        };
        let mut seed = 42;
        let mut points = Vec::new();
        for n in 1..=max_n {
            for _ in 0..reps {
                points.push((
                    n as f64,
                    truth.throughput(n as f64) * (1.0 + noise(&mut seed, amplitude)),
                ));
            }
        }
        points
    }

    fn within(got: f64, want: f64, tolerance: f64) -> bool {
        (got - want).abs() <= tolerance * want.abs()
    }

    #[test]
    fn recovers_known_parameters_exactly_without_noise() {
        let fit = fit_usl(&synthetic(1000.0, 0.08, 0.002, 32, 1, 0.0)).unwrap();
        assert!(
            within(fit.lambda, 1000.0, 1e-6)
                && within(fit.sigma, 0.08, 1e-6)
                && within(fit.kappa, 0.002, 1e-6),
            "{fit:?}"
        );
        assert!(fit.r_squared > 0.999_999);
        assert!(within(
            fit.peak_workers.unwrap(),
            ((1.0 - 0.08) / 0.002f64).sqrt(),
            1e-6
        ));
    }

    #[test]
    fn recovers_sigma_and_kappa_within_five_percent_with_noise() {
        for &(sigma, kappa) in &[(0.05, 0.001), (0.1, 0.0005), (0.02, 0.003)] {
            let fit = fit_usl(&synthetic(850.0, sigma, kappa, 48, 3, 0.01)).unwrap();
            assert!(
                within(fit.sigma, sigma, 0.05),
                "σ {} vs {sigma}: {fit:?}",
                fit.sigma
            );
            assert!(
                within(fit.kappa, kappa, 0.05),
                "κ {} vs {kappa}: {fit:?}",
                fit.kappa
            );
            assert!(within(fit.lambda, 850.0, 0.02));
        }
    }

    #[test]
    fn linear_scaling_fits_zero_contention() {
        let points: Vec<(f64, f64)> = (1..=16).map(|n| (n as f64, 100.0 * n as f64)).collect();
        let fit = fit_usl(&points).unwrap();
        assert!(fit.sigma < 1e-9 && fit.kappa < 1e-9, "{fit:?}");
        assert_eq!(fit.peak_workers, None);
    }

    #[test]
    fn a_hard_ceiling_is_fitted_as_well_as_the_law_allows() {
        // CPU work on two cores: linear to 2 workers, then flat (noise ±1%).
        let mut points = Vec::new();
        for (n, x) in [(1.0, 2974.0), (2.0, 5900.0), (3.0, 5900.0), (4.0, 5900.0)] {
            for k in [-1.0, 0.0, 1.0] {
                points.push((n, x * (1.0 + 0.01 * k)));
            }
        }
        let fit = fit_usl(&points).unwrap();
        // No value of σ, κ makes this shape exactly; the fit must still stay close.
        for &(n, x) in &points {
            assert!(
                within(fit.throughput(n), x, 0.2),
                "at {n}: {} vs {x}: {fit:?}",
                fit.throughput(n)
            );
        }
    }

    #[test]
    fn a_flat_curve_is_not_linear_scaling() {
        // Two cores' worth of CPU work: throughput stops growing at 2 workers. The law
        // has no hard cap, so it spreads the flattening over σ and κ; either way it must
        // not predict growth.
        let points = [
            (1.0, 100.0),
            (2.0, 199.0),
            (3.0, 200.0),
            (4.0, 200.0),
            (6.0, 199.0),
            (8.0, 200.0),
        ];
        let fit = fit_usl(&points).unwrap();
        assert!(fit.sigma > 0.05 && fit.kappa > 0.0, "{fit:?}");
        assert!(
            fit.throughput(8.0) < 240.0 && fit.throughput(16.0) < 240.0,
            "{fit:?}"
        );
    }

    #[test]
    fn few_points_fit_fewer_parameters_and_bad_points_are_ignored() {
        assert_eq!(fit_usl(&[]), None);
        assert_eq!(fit_usl(&[(0.0, 5.0), (2.0, -1.0), (3.0, f64::NAN)]), None);
        let one = fit_usl(&[(1.0, 50.0), (1.0, 50.0)]).unwrap();
        assert!(within(one.lambda, 50.0, 1e-9) && one.sigma == 0.0 && one.kappa == 0.0);
        let two = fit_usl(&[(1.0, 100.0), (4.0, 250.0)]).unwrap();
        assert_eq!(two.kappa, 0.0);
        assert!(within(two.throughput(4.0), 250.0, 1e-6), "{two:?}");
    }

    #[test]
    fn recommendation_respects_threshold_and_peak() {
        let medians = [(1, 100.0), (2, 190.0), (3, 260.0), (4, 300.0), (8, 310.0)];
        // Efficiency: 1.0, 0.95, 0.867, 0.75, 0.39.
        assert_eq!(recommend_workers(&medians, 0.8, None), Some(3));
        assert_eq!(recommend_workers(&medians, 0.7, None), Some(4));
        let fit = UslFit {
            lambda: 100.0,
            sigma: 0.0,
            kappa: 0.5,
            r_squared: 1.0,
            peak_workers: Some(1.41),
        };
        assert_eq!(recommend_workers(&medians, 0.7, Some(&fit)), Some(2));
        assert_eq!(recommend_workers(&[(2, 10.0)], 0.8, None), None);
    }
}
