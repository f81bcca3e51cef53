//! Latency distributions of a run of any length: an HDR histogram per distribution (the
//! `hdrhistogram` crate; nanoseconds, 3 significant digits, so every percentile is
//! within 0.1% of the true value), with the exact count, sum, minimum and maximum kept
//! beside it. Memory is fixed whatever the number of jobs.

use hdrhistogram::Histogram;

use crate::stats::Summary;

/// Largest latency a histogram tells apart: one hour (longer ones count as one hour).
const HIGHEST_NS: u64 = 3_600_000_000_000;
/// Significant digits kept (HdrHistogram's usual choice for latency).
const SIGNIFICANT_DIGITS: u8 = 3;

/// One latency distribution, in nanoseconds.
#[derive(Debug, Clone)]
pub struct Distribution {
    histogram: Histogram<u32>,
    count: u64,
    sum_ns: f64,
    min_ns: u64,
    max_ns: u64,
}

impl Default for Distribution {
    fn default() -> Self {
        Distribution::with_digits(SIGNIFICANT_DIGITS)
    }
}

impl Distribution {
    /// An empty distribution keeping `digits` significant digits (3: within 0.1%; 2:
    /// within 1%, in an eighth of the memory).
    pub fn with_digits(digits: u8) -> Distribution {
        Distribution {
            histogram: Histogram::new_with_bounds(1, HIGHEST_NS, digits)
                .expect("valid histogram bounds"),
            count: 0,
            sum_ns: 0.0,
            min_ns: u64::MAX,
            max_ns: 0,
        }
    }

    /// Records one latency.
    pub fn record(&mut self, ns: u64) {
        // 0 ns (an empty job on a coarse clock) is counted in the lowest bucket.
        self.histogram.saturating_record(ns.max(1));
        self.count += 1;
        self.sum_ns += ns as f64;
        self.min_ns = self.min_ns.min(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Adds every value recorded in `other`.
    pub fn merge(&mut self, other: &Distribution) {
        if other.count == 0 {
            return;
        }
        self.histogram
            .add(&other.histogram)
            .expect("histograms of the same bounds add up");
        self.count += other.count;
        self.sum_ns += other.sum_ns;
        self.min_ns = self.min_ns.min(other.min_ns);
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The exact mean, in nanoseconds (0 when empty).
    pub fn mean_ns(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_ns / self.count as f64
        }
    }

    /// Forgets every value (keeps the memory).
    pub fn clear(&mut self) {
        self.histogram.reset();
        self.count = 0;
        self.sum_ns = 0.0;
        self.min_ns = u64::MAX;
        self.max_ns = 0;
    }

    /// The `q`-quantile (0..=1) in nanoseconds: exact at 0 and 1, else the histogram's
    /// value for it, never outside the exact minimum and maximum.
    pub fn quantile_ns(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        if q <= 0.0 {
            return self.min_ns;
        }
        if q >= 1.0 {
            return self.max_ns;
        }
        self.histogram
            .value_at_quantile(q)
            .clamp(self.min_ns, self.max_ns)
    }

    /// As a [`Summary`] in milliseconds.
    pub fn summary(&self) -> Summary {
        if self.count == 0 {
            return Summary::default();
        }
        let ms = |ns: u64| ns as f64 / 1e6;
        Summary {
            count: self.count as usize,
            min: ms(self.min_ns),
            mean: self.mean_ns() / 1e6,
            p50: ms(self.quantile_ns(0.50)),
            p90: ms(self.quantile_ns(0.90)),
            p95: ms(self.quantile_ns(0.95)),
            p99: ms(self.quantile_ns(0.99)),
            max: ms(self.max_ns),
        }
    }
}

/// The latency distributions of a run.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    /// Enqueued to started.
    pub queue_wait: Distribution,
    /// Started to finished (jobs that ran).
    pub service: Distribution,
    /// Enqueued to finished (jobs that ran): what the pool sees.
    pub total: Distribution,
    /// From when the job should have been sent (its intended start) to finished (jobs
    /// that ran): what a user of the system feels, without coordinated omission.
    pub from_intended: Distribution,
}

impl Latencies {
    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Latencies) {
        self.queue_wait.merge(&other.queue_wait);
        self.service.merge(&other.service);
        self.total.merge(&other.total);
        self.from_intended.merge(&other.from_intended);
    }

    /// Forgets every value.
    pub fn clear(&mut self) {
        self.queue_wait.clear();
        self.service.clear();
        self.total.clear();
        self.from_intended.clear();
    }
}

/// The latencies of the jobs that ended in one progress interval — what the charts
/// draw over time — in coarser histograms (2 significant digits), emptied every
/// interval.
#[derive(Debug, Clone)]
pub struct Window {
    /// Enqueued to finished: what a closed-loop tool (hey, ab) would report.
    pub total: Distribution,
    /// From the intended start to finished: corrected for coordinated omission.
    pub from_intended: Distribution,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            total: Distribution::with_digits(2),
            from_intended: Distribution::with_digits(2),
        }
    }
}

impl Window {
    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Window) {
        self.total.merge(&other.total);
        self.from_intended.merge(&other.from_intended);
    }

    /// Forgets every value.
    pub fn clear(&mut self) {
        self.total.clear();
        self.from_intended.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_within_a_tenth_of_a_percent_and_the_mean_is_exact() {
        let mut d = Distribution::default();
        for ms in 1..=1_000u64 {
            d.record(ms * 1_000_000);
        }
        let s = d.summary();
        assert_eq!(s.count, 1_000);
        assert_eq!((s.min, s.max), (1.0, 1_000.0));
        assert_eq!(s.mean, 500.5, "the mean comes from the exact sum");
        for (got, want) in [(s.p50, 500.0), (s.p90, 900.0), (s.p99, 990.0)] {
            assert!((got - want).abs() / want <= 0.001, "{got} vs {want}");
        }
    }

    #[test]
    fn merging_is_the_same_as_recording_everything_in_one() {
        let (mut a, mut b, mut all) = Default::default();
        let (a, b, all): (&mut Distribution, &mut Distribution, &mut Distribution) =
            (&mut a, &mut b, &mut all);
        for v in [5u64, 70, 900, 12_000, 3] {
            a.record(v);
            all.record(v);
        }
        for v in [44u64, 1, 800_000] {
            b.record(v);
            all.record(v);
        }
        a.merge(b);
        assert_eq!(a.summary(), all.summary());
        a.clear();
        assert_eq!(a.summary(), Summary::default());
        assert_eq!(a.quantile_ns(0.5), 0);
    }

    #[test]
    fn zero_and_huge_values_are_kept_within_the_exact_extremes() {
        let mut d = Distribution::default();
        d.record(0);
        d.record(10 * HIGHEST_NS);
        assert_eq!(d.quantile_ns(0.0), 0);
        assert_eq!(d.quantile_ns(1.0), 10 * HIGHEST_NS);
        assert!(d.quantile_ns(0.5) <= 10 * HIGHEST_NS);
    }
}
