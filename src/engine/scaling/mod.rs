//! Scaling policies: what size a pool should be, decided every [`SCALE_INTERVAL`] from
//! what the run measured in that interval. One file per policy:
//!
//! - [`queue_target`]: hold the queue (its length, or its wait) near a target, between
//!   a minimum and a maximum, with a cooldown — how Kubernetes' HPA and KEDA scale on
//!   a metric;
//! - [`aimd`]: additive increase while latency stays under a threshold, multiplicative
//!   decrease above it (Netflix concurrency-limits' `AIMDLimit`);
//! - [`gradient2`]: follow the ratio of long-term to recent latency, with a little
//!   headroom (concurrency-limits' `Gradient2Limit`);
//! - [`bottleneck`]: a pipeline's, moving workers between its stages (not a pool's size,
//!   so not a [`Scaler`]).
//!
//! A policy is a pure function of the signals it is given (plus its own state), so its
//! tests feed it numbers; the coordinator applies its decisions with
//! `RunShared::resize`, which logs each one with the policy's reason.

pub mod aimd;
pub mod bottleneck;
pub mod gradient2;
pub mod queue_target;

use std::time::Duration;

use super::config::{RunConfig, Scaling};
use super::record::Interval;

/// How often a policy decides.
pub const SCALE_INTERVAL: Duration = Duration::from_millis(100);

/// What a policy reads at each decision.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Signals {
    /// When (ms since the start).
    pub t_ms: f64,
    /// The pool's target now.
    pub limit: u32,
    /// Jobs waiting in the queue now.
    pub queued: u32,
    /// Jobs running now (in flight).
    pub running: u32,
    /// Mean jobs in flight over the interval (the time the jobs that ended in it spent
    /// running, divided by its length: the pool's busy workers, Little's law).
    pub busy: f64,
    /// What the jobs that ended since the last decision measured.
    pub interval: Interval,
}

/// A new target, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The new target.
    pub to: u32,
    /// The reading that caused it, for the report and the chart.
    pub cause: String,
}

/// A scaling policy.
pub trait Scaler: Send {
    /// The new target, if it should change.
    fn decide(&mut self, signals: &Signals) -> Option<Decision>;
}

/// The policy a configuration asks for (`None` for a fixed pool).
pub fn scaler_for(config: &RunConfig) -> Option<Box<dyn Scaler>> {
    let (min, max) = (config.min_workers, config.max_workers);
    match config.scaling {
        Scaling::Fixed | Scaling::Bottleneck => None,
        Scaling::Queue => Some(Box::new(queue_target::QueueTarget::new(
            min,
            max,
            config.scale_target,
            config.scale_on,
            config.cooldown_ms,
        ))),
        Scaling::Aimd => Some(Box::new(aimd::Aimd::new(min, max, config.scale_target))),
        Scaling::Gradient2 => Some(Box::new(gradient2::Gradient2::new(
            min,
            max,
            config.workers,
            config.scale_target,
        ))),
    }
}

/// `x` with one decimal.
pub(crate) fn one_decimal(x: f64) -> String {
    format!("{x:.1}")
}
