//! Netflix concurrency-limits' `Gradient2Limit`, applied once per interval with the
//! interval's mean latency as the sample:
//!
//! ```text
//! long     = exponential average of the samples (window 600, after 10 plain ones)
//! gradient = clamp(long / short, 0.5, 1.0)           (short = this interval's mean)
//! new      = limit × gradient + headroom
//! limit    = limit × (1 − 0.2) + new × 0.2            (smoothing), within min..max
//! ```
//!
//! When the recent latency rises above the long-term one (a queue is forming behind
//! the pool) the gradient falls below 1 and the limit shrinks; while they agree, the
//! headroom lets it grow. If the long-term latency is more than twice the recent one
//! (load has gone), it is brought down by 10% per interval. The limit does not grow
//! while less than half of it is in use.

use super::{Decision, Scaler, Signals, one_decimal};

/// Smoothing of each step (concurrency-limits' default).
pub const SMOOTHING: f64 = 0.2;
/// Samples in the long-term average (concurrency-limits' default).
pub const LONG_WINDOW: f64 = 600.0;
/// Samples averaged plainly before the exponential average starts.
pub const WARMUP: u32 = 10;

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct Gradient2 {
    min: u32,
    max: u32,
    headroom: f64,
    estimate: f64,
    /// The target the last decision set (to notice a resize by hand).
    last: u32,
    long_ms: f64,
    samples: u32,
}

impl Gradient2 {
    /// Between `min` and `max`, starting at `initial`, allowing `headroom` extra jobs.
    pub fn new(min: u32, max: u32, initial: u32, headroom: f64) -> Gradient2 {
        Gradient2 {
            min,
            max,
            headroom,
            estimate: initial as f64,
            last: initial,
            long_ms: 0.0,
            samples: 0,
        }
    }

    /// Adds a sample to the long-term average and returns it.
    fn long_term(&mut self, sample: f64) -> f64 {
        if self.samples < WARMUP {
            self.samples += 1;
            self.long_ms += (sample - self.long_ms) / self.samples as f64;
        } else {
            let factor = 2.0 / (LONG_WINDOW + 1.0);
            self.long_ms = self.long_ms * (1.0 - factor) + sample * factor;
        }
        self.long_ms
    }
}

impl Scaler for Gradient2 {
    fn decide(&mut self, s: &Signals) -> Option<Decision> {
        if s.limit != self.last {
            // Resized by hand: carry on from there.
            self.estimate = s.limit as f64;
            self.last = s.limit;
        }
        if s.interval.ran == 0 {
            return None;
        }
        let short = s.interval.mean_service_ms().max(1e-6);
        let mut long = self.long_term(short);
        if long / short > 2.0 {
            self.long_ms *= 0.9;
            long = self.long_ms;
        }
        if (s.running as f64) < self.estimate / 2.0 {
            return None; // app-limited: the pool is not the constraint
        }
        let gradient = (long / short).clamp(0.5, 1.0);
        let new = self.estimate * gradient + self.headroom;
        let smoothed = self.estimate * (1.0 - SMOOTHING) + new * SMOOTHING;
        self.estimate = smoothed.clamp(self.min as f64, self.max as f64);
        let to = self.estimate as u32;
        if to == s.limit {
            return None;
        }
        self.last = to;
        Some(Decision {
            to,
            cause: format!(
                "gradient2: latency {} ms vs long-term {} ms, gradient {:.2}",
                one_decimal(short),
                one_decimal(long),
                gradient
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

    /// A backend with `c` slots and a 10 ms service time: at a limit `l` above `c`, a
    /// call takes 10 ms × l / c.
    fn backend_latency(limit: u32, c: u32) -> f64 {
        10.0 * (limit.max(c) as f64 / c as f64)
    }

    #[test]
    fn settles_near_the_capacity_of_what_it_protects() {
        let mut g = Gradient2::new(1, 200, 1, 1.0);
        let mut limit = 1;
        for _ in 0..400 {
            let s = signals(limit, limit, backend_latency(limit, 8));
            if let Some(d) = g.decide(&s) {
                limit = d.to;
            }
        }
        assert!((7..=10).contains(&limit), "settled at {limit} for 8 slots");
    }

    #[test]
    fn rising_latency_cuts_and_a_resize_by_hand_is_followed() {
        let mut g = Gradient2::new(1, 100, 20, 2.0);
        for _ in 0..20 {
            g.decide(&signals(g.last, g.last, 10.0));
        }
        let before = g.last;
        assert!(before > 20, "latency holds: it grew to {before}");
        let d = g.decide(&signals(before, before, 40.0)).unwrap();
        assert!(d.to < before, "{d:?} from {before}");
        assert!(
            d.cause.starts_with("gradient2: latency 40.0 ms"),
            "{}",
            d.cause
        );
        // By hand to 50: the next steps start from 50, not from the old estimate.
        let mut limit = 50;
        for _ in 0..10 {
            if let Some(d) = g.decide(&signals(limit, limit, 10.0)) {
                limit = d.to;
            }
        }
        assert!((51..=55).contains(&limit), "{limit}");
        assert_eq!(g.decide(&signals(g.last, 1, 10.0)), None, "app-limited");
    }
}
