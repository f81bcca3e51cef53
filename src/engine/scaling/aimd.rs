//! Additive increase, multiplicative decrease — Netflix concurrency-limits'
//! `AIMDLimit`, applied once per interval (as its `WindowedLimit` does): if the jobs
//! of the interval took longer on average than the threshold (a "drop"), the limit is
//! cut to `max(min, min(limit - 1, ⌊limit × 0.9⌋))`; otherwise, if at least half the
//! limit is in use, it grows by one. Like TCP's congestion window, it probes upwards
//! until latency says the resource behind the pool is saturated, then backs off.

use super::{Decision, Scaler, Signals, one_decimal};

/// concurrency-limits' default backoff ratio.
pub const BACKOFF: f64 = 0.9;

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct Aimd {
    min: u32,
    max: u32,
    threshold_ms: f64,
}

impl Aimd {
    /// Between `min` and `max`, cutting when latency passes `threshold_ms`.
    pub fn new(min: u32, max: u32, threshold_ms: f64) -> Aimd {
        Aimd {
            min,
            max,
            threshold_ms,
        }
    }
}

impl Scaler for Aimd {
    fn decide(&mut self, s: &Signals) -> Option<Decision> {
        if s.interval.ran == 0 {
            return None; // nothing measured
        }
        let latency = s.interval.mean_service_ms();
        let limit = s.limit;
        let (to, why) = if latency > self.threshold_ms {
            let cut = ((limit as f64 * BACKOFF) as u32).min(limit.saturating_sub(1));
            (cut.max(self.min), "over")
        } else if s.running * 2 >= limit {
            ((limit + 1).min(self.max), "under")
        } else {
            return None; // the pool is not the constraint
        };
        let to = to.clamp(self.min, self.max);
        (to != limit).then(|| Decision {
            to,
            cause: format!(
                "aimd: latency {} ms {why} {} ms, {} in flight",
                one_decimal(latency),
                one_decimal(self.threshold_ms),
                s.running
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals(limit: u32, running: u32, mean_ms: f64) -> Signals {
        let mut s = Signals {
            limit,
            running,
            ..Signals::default()
        };
        s.interval.ran = 10;
        s.interval.service_ns = 10.0 * mean_ms * 1e6;
        s
    }

    #[test]
    fn grows_by_one_while_latency_holds_and_backs_off_by_a_tenth() {
        let mut a = Aimd::new(1, 100, 10.0);
        let d = a.decide(&signals(8, 8, 5.0)).unwrap();
        assert_eq!(d.to, 9);
        assert_eq!(d.cause, "aimd: latency 5.0 ms under 10.0 ms, 8 in flight");
        assert_eq!(a.decide(&signals(20, 20, 12.0)).unwrap().to, 18);
        assert_eq!(
            a.decide(&signals(5, 5, 12.0)).unwrap().to,
            4,
            "at least one less"
        );
        assert_eq!(
            a.decide(&signals(8, 2, 5.0)),
            None,
            "not limited by the pool"
        );
        assert_eq!(a.decide(&signals(100, 100, 1.0)), None, "at the max");
        assert_eq!(a.decide(&signals(1, 1, 50.0)), None, "at the min");
        let mut idle = signals(8, 8, 5.0);
        idle.interval.ran = 0;
        assert_eq!(a.decide(&idle), None, "nothing measured");
    }
}
