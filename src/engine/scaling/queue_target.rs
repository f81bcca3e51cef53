//! Hold the queue near a target — the Kubernetes Horizontal Pod Autoscaler's rule on
//! an object metric: `desired = ceil(current × metric / target)`, left alone while the
//! ratio is within 10% of 1, kept between a minimum and a maximum, and not changed
//! again within the cooldown (HPA's stabilization window). The metric is the number of
//! jobs waiting, or their mean wait (ms) over the last interval.
//!
//! A queue is not proportional to the pool the way a CPU average is: it empties as soon
//! as the pool is large enough, and the ratio then says 0. So a scale-down never goes
//! below the workers the load keeps busy — the mean in flight over the last interval,
//! with the same 10% margin (Knative scales on this in-flight count): an empty queue with
//! eight busy workers keeps about nine, instead of dropping to the minimum and refilling
//! the queue (the oscillation the plain rule shows on a steady load).
//!
//! From a paused pool (0 workers) the ratio says nothing; like KEDA's activation, a
//! queue that is not empty brings it back to at least one worker.

use super::{Decision, Scaler, Signals, one_decimal};
use crate::engine::config::ScaleOn;

/// HPA's tolerance: no change while `metric / target` is within this of 1.
pub const TOLERANCE: f64 = 0.1;

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct QueueTarget {
    min: u32,
    max: u32,
    target: f64,
    on: ScaleOn,
    cooldown_ms: f64,
    last_change_ms: Option<f64>,
}

impl QueueTarget {
    /// Between `min` and `max` workers, holding `on` near `target`, at most one change
    /// per `cooldown_ms`.
    pub fn new(min: u32, max: u32, target: f64, on: ScaleOn, cooldown_ms: f64) -> QueueTarget {
        QueueTarget {
            min,
            max,
            target,
            on,
            cooldown_ms,
            last_change_ms: None,
        }
    }
}

impl Scaler for QueueTarget {
    fn decide(&mut self, s: &Signals) -> Option<Decision> {
        if self
            .last_change_ms
            .is_some_and(|last| s.t_ms - last < self.cooldown_ms)
        {
            return None;
        }
        let (metric, unit) = match self.on {
            ScaleOn::Length => (s.queued as f64, " jobs waiting"),
            ScaleOn::Wait => (s.interval.mean_queue_wait_ms(), " ms queue wait"),
        };
        let ratio = metric / self.target;
        let desired = if s.limit == 0 {
            // Paused: any waiting job wakes it (KEDA's activation).
            if s.queued > 0 {
                self.min.max(1)
            } else {
                self.min
            }
        } else if (ratio - 1.0).abs() <= TOLERANCE {
            s.limit
        } else if ratio > 1.0 {
            (s.limit as f64 * ratio).ceil() as u32
        } else {
            let busy = (s.busy * (1.0 + TOLERANCE)).ceil() as u32;
            ((s.limit as f64 * ratio).ceil() as u32).max(busy)
        };
        let to = desired.clamp(self.min, self.max);
        if to == s.limit {
            return None;
        }
        self.last_change_ms = Some(s.t_ms);
        Some(Decision {
            to,
            cause: format!(
                "queue: {}{unit} vs target {}",
                one_decimal(metric),
                one_decimal(self.target)
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t_ms: f64, limit: u32, queued: u32) -> Signals {
        Signals {
            t_ms,
            limit,
            queued,
            ..Signals::default()
        }
    }

    #[test]
    fn scales_in_proportion_within_bounds_and_tolerance() {
        let mut q = QueueTarget::new(1, 16, 10.0, ScaleOn::Length, 0.0);
        let d = q.decide(&at(0.0, 2, 50)).unwrap();
        assert_eq!(d.to, 10, "2 workers x 50/10");
        assert_eq!(d.cause, "queue: 50.0 jobs waiting vs target 10.0");
        assert_eq!(
            q.decide(&at(1.0, 10, 500)).unwrap().to,
            16,
            "capped at the max"
        );
        assert_eq!(q.decide(&at(2.0, 16, 11)), None, "within 10% of the target");
        assert_eq!(
            q.decide(&at(3.0, 16, 0)).unwrap().to,
            1,
            "an empty queue: the min"
        );
    }

    #[test]
    fn the_cooldown_holds_changes_apart() {
        let mut q = QueueTarget::new(1, 16, 10.0, ScaleOn::Length, 1_000.0);
        assert_eq!(q.decide(&at(0.0, 2, 40)).unwrap().to, 8);
        assert_eq!(q.decide(&at(500.0, 8, 200)), None, "inside the cooldown");
        assert_eq!(q.decide(&at(1_000.0, 8, 20)).unwrap().to, 16);
    }

    #[test]
    fn a_paused_pool_wakes_when_jobs_wait_and_wait_time_is_a_metric_too() {
        let mut q = QueueTarget::new(0, 8, 10.0, ScaleOn::Length, 0.0);
        assert_eq!(
            q.decide(&at(0.0, 0, 0)),
            None,
            "nothing waits: stays paused"
        );
        assert_eq!(q.decide(&at(1.0, 0, 3)).unwrap().to, 1);
        let mut w = QueueTarget::new(1, 8, 5.0, ScaleOn::Wait, 0.0);
        let mut s = at(0.0, 2, 0);
        s.interval.ran = 4;
        s.interval.queue_wait_ns = 4.0 * 20e6; // 20 ms each
        let d = w.decide(&s).unwrap();
        assert_eq!(d.to, 8);
        assert_eq!(d.cause, "queue: 20.0 ms queue wait vs target 5.0");
    }
}
