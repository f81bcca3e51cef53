//! The jobs of a run, decided from the seed: each job's cost and whether it fails.
//! The same configuration and seed always give the same plan, natively, in wasm and
//! in the Go program the page generates ([`super::draw`] says how).
//!
//! Costs have the configured mean: fixed; uniform in `cost x (1 ± spread)`; Pareto with
//! shape `alpha` (scale `cost (alpha - 1) / alpha`); log-normal with shape `sigma`
//! (location `ln cost - sigma² / 2`); exponential with rate `1 / cost`. Every cost is clamped to the workload's per-job
//! range, so a heavy tail cannot ask for more than a single job may.

use super::draw::Draws;
use crate::engine::config::{Distribution, RunConfig, WorkKind, workload_spec};

/// One job of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobSpec {
    /// Position in submission order, from 0.
    pub id: u32,
    /// Work, in the workload's unit.
    pub cost: u64,
    /// Whether the job returns an error (after doing its work).
    pub fails: bool,
    /// Backend workload: slots of the backend the job holds while it is served
    /// (1 unless `maxWeight` > 1).
    pub weight: u32,
    /// Primes: start of this job's range. Ranges are contiguous, so a whole run counts
    /// exactly the primes below the sum of all costs.
    pub offset: u64,
}

/// Separates the failure stream from the cost stream, so changing the failure
/// probability never changes the costs.
pub const FAILURE_STREAM: u64 = 0x9E37_79B9_7F4A_7C15;
/// Separates the weight stream (backend jobs heavier than one slot) from the others, so
/// weights never change the costs or the failures.
pub const WEIGHT_STREAM: u64 = 0xD1B5_4A32_D192_ED03;

/// The jobs of a run, one at a time, in submission order: a run of any length plans
/// each job as it is submitted and holds none of them (memory does not grow with the
/// number of jobs). The same configuration gives the same sequence every time.
#[derive(Debug, Clone)]
pub struct Planner {
    costs: Draws,
    failures: Draws,
    weights: Draws,
    max_weight: u32,
    distribution: Distribution,
    mean: f64,
    spread: f64,
    failure: f64,
    min: f64,
    max: f64,
    alpha: f64,
    sigma: f64,
    contiguous: bool,
    next_id: u32,
    offset: u64,
}

impl Planner {
    /// The planner of a validated configuration.
    pub fn new(config: &RunConfig) -> Planner {
        let mean = config.cost as f64;
        let spec = workload_spec(config.workload);
        Planner {
            costs: Draws::new(config.seed),
            failures: Draws::new(config.seed ^ FAILURE_STREAM),
            weights: Draws::new(config.seed ^ WEIGHT_STREAM),
            max_weight: if config.workload == WorkKind::Backend {
                config.max_weight
            } else {
                1
            },
            distribution: config.distribution,
            mean,
            spread: config.spread,
            failure: config.failure,
            min: spec.min_cost as f64,
            max: spec.max_cost as f64,
            alpha: config.alpha,
            sigma: config.sigma,
            contiguous: config.workload == WorkKind::Primes,
            next_id: 0,
            offset: 0,
        }
    }

    /// Jobs planned so far (the id the next job gets).
    pub fn planned(&self) -> u32 {
        self.next_id
    }

    /// Plans the next job.
    pub fn next_job(&mut self) -> JobSpec {
        let raw = match self.distribution {
            Distribution::Fixed => self.mean,
            Distribution::Uniform => {
                self.mean * (1.0 + self.spread * (2.0 * self.costs.unit() - 1.0))
            }
            Distribution::Pareto => self
                .costs
                .pareto(self.mean * (self.alpha - 1.0) / self.alpha, self.alpha),
            Distribution::LogNormal => self.costs.lognormal(
                libm::log(self.mean) - self.sigma * self.sigma / 2.0,
                self.sigma,
            ),
            Distribution::Exponential => self.mean * self.costs.exp1(),
        };
        let cost = raw.round().clamp(self.min, self.max) as u64;
        let fails = self.failure > 0.0 && self.failures.unit() < self.failure;
        // 1 + ⌊u·max⌋ for u in [0, 1): uniform over 1…max (the clamp only guards the
        // rounding of u·max up to max).
        let weight = if self.max_weight > 1 {
            (1 + (self.weights.unit() * self.max_weight as f64) as u32).min(self.max_weight)
        } else {
            1
        };
        let spec = JobSpec {
            id: self.next_id,
            cost,
            fails,
            weight,
            offset: self.offset,
        };
        self.next_id += 1;
        if self.contiguous {
            self.offset += cost;
        }
        spec
    }
}

/// The whole plan of a configuration's `jobs` at once (tests, small runs).
pub fn plan(config: &RunConfig) -> Vec<JobSpec> {
    let mut planner = Planner::new(config);
    (0..config.jobs).map(|_| planner.next_job()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::RunConfig;

    fn config(distribution: Distribution) -> RunConfig {
        RunConfig {
            jobs: 20_000,
            cost: 1_000,
            distribution,
            ..RunConfig::default()
        }
    }

    fn mean(plan: &[JobSpec]) -> f64 {
        plan.iter().map(|j| j.cost as f64).sum::<f64>() / plan.len() as f64
    }

    #[test]
    fn same_seed_same_plan_other_seed_other_plan() {
        let c = config(Distribution::LogNormal);
        assert_eq!(plan(&c), plan(&c));
        assert_ne!(plan(&c), plan(&RunConfig { seed: 2, ..c }));
    }

    #[test]
    fn fixed_costs_are_exact() {
        assert!(
            plan(&config(Distribution::Fixed))
                .iter()
                .all(|j| j.cost == 1_000)
        );
    }

    #[test]
    fn distributions_keep_the_mean_and_their_shape() {
        let uniform = plan(&config(Distribution::Uniform));
        assert!(
            (mean(&uniform) - 1_000.0).abs() < 10.0,
            "uniform mean {}",
            mean(&uniform)
        );
        assert!(uniform.iter().all(|j| (500..=1_500).contains(&j.cost)));

        let lognormal = plan(&config(Distribution::LogNormal));
        assert!(
            (mean(&lognormal) / 1_000.0 - 1.0).abs() < 0.1,
            "lognormal mean {}",
            mean(&lognormal)
        );

        let pareto = plan(&RunConfig {
            alpha: 3.0,
            ..config(Distribution::Pareto)
        });
        assert!(
            (mean(&pareto) / 1_000.0 - 1.0).abs() < 0.1,
            "pareto mean {}",
            mean(&pareto)
        );
        // Heavy tail: the minimum is the scale (2/3 of the mean), the maximum far above.
        assert!(pareto.iter().all(|j| j.cost >= 666));
        assert!(pareto.iter().map(|j| j.cost).max().unwrap() > 5_000);

        // Exponential: the standard deviation equals the mean.
        let exponential = plan(&config(Distribution::Exponential));
        let m = mean(&exponential);
        let sd = (exponential
            .iter()
            .map(|j| (j.cost as f64 - m).powi(2))
            .sum::<f64>()
            / exponential.len() as f64)
            .sqrt();
        assert!((m / 1_000.0 - 1.0).abs() < 0.03, "exponential mean {m}");
        assert!(
            (sd / m - 1.0).abs() < 0.05,
            "exponential sd/mean {}",
            sd / m
        );
    }

    #[test]
    fn failures_follow_the_probability_without_moving_costs() {
        let base = config(Distribution::Uniform);
        let failing = RunConfig {
            failure: 0.25,
            ..base.clone()
        };
        let (a, b) = (plan(&base), plan(&failing));
        assert!(a.iter().zip(&b).all(|(x, y)| x.cost == y.cost));
        let failed = b.iter().filter(|j| j.fails).count() as f64 / b.len() as f64;
        assert!((failed - 0.25).abs() < 0.02, "failed fraction {failed}");
        assert!(a.iter().all(|j| !j.fails));
    }

    #[test]
    fn prime_ranges_are_contiguous() {
        let p = plan(&config(Distribution::Uniform));
        for pair in p.windows(2) {
            assert_eq!(pair[1].offset, pair[0].offset + pair[0].cost);
        }
    }

    #[test]
    fn costs_are_clamped_to_the_per_job_limit() {
        let c = RunConfig {
            jobs: 2_000,
            cost: 9_000_000,
            alpha: 1.1,
            distribution: Distribution::Pareto,
            ..RunConfig::default()
        };
        assert!(plan(&c).iter().all(|j| j.cost <= 10_000_000));
    }

    #[test]
    fn backend_jobs_draw_weights_from_their_own_stream() {
        let base = RunConfig {
            jobs: 10_000,
            workload: WorkKind::Backend,
            backend_slots: 8,
            failure: 0.2,
            ..config(Distribution::Exponential)
        };
        let one = plan(&base);
        assert!(
            one.iter().all(|j| j.weight == 1),
            "maxWeight 1: one slot each"
        );
        let heavy = plan(&RunConfig {
            max_weight: 5,
            ..base.clone()
        });
        // Uniform over 1…5: each weight about 2,000 times, the mean about 3.
        for w in 1..=5 {
            let n = heavy.iter().filter(|j| j.weight == w).count();
            assert!((1_800..=2_200).contains(&n), "weight {w}: {n} jobs");
        }
        assert!(heavy.iter().all(|j| (1..=5).contains(&j.weight)));
        // The weights change neither the costs nor the failures.
        for (a, b) in one.iter().zip(&heavy) {
            assert_eq!((a.cost, a.fails), (b.cost, b.fails));
        }
        // Other workloads ignore maxWeight.
        let sleep = plan(&RunConfig {
            workload: WorkKind::Sleep,
            max_weight: 5,
            ..base
        });
        assert!(sleep.iter().all(|j| j.weight == 1));
    }
}
