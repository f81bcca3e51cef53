//! Statistics of a run: latency summaries (nearest-rank percentiles) and time series
//! of intervals (how many jobs were running, or waiting, at each moment), bucketed for
//! charts; ([`usl`]) the Universal Scalability Law fitted to a concurrency sweep; and
//! ([`queueing`]) the M/M/c queue's Erlang C formulas, the ground truth for load tests.
//! Pure functions over plain numbers, tested against hand-computed values.

use serde::Serialize;

pub mod queueing;
pub mod usl;

/// A latency summary in milliseconds. Percentiles use the nearest-rank method: the
/// p-th percentile is the smallest value with at least p% of values at or below it.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, tsify_next::Tsify)]
pub struct Summary {
    /// How many values.
    pub count: usize,
    /// Smallest.
    pub min: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

/// Nearest-rank percentile of sorted values (`p` in 0..=100).
pub fn percentile_sorted(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Summarises `values` (NaNs are ignored).
pub fn summarize(values: impl IntoIterator<Item = f64>) -> Summary {
    let mut sorted: Vec<f64> = values.into_iter().filter(|v| !v.is_nan()).collect();
    if sorted.is_empty() {
        return Summary::default();
    }
    sorted.sort_by(f64::total_cmp);
    let sum: f64 = sorted.iter().sum();
    Summary {
        count: sorted.len(),
        min: sorted[0],
        mean: sum / sorted.len() as f64,
        p50: percentile_sorted(&sorted, 50.0),
        p90: percentile_sorted(&sorted, 90.0),
        p95: percentile_sorted(&sorted, 95.0),
        p99: percentile_sorted(&sorted, 99.0),
        max: sorted[sorted.len() - 1],
    }
}

/// Time-weighted average number of open intervals (`[start, end)`) in each of the
/// buckets `[i w, (i+1) w)` for `i` in `0..buckets`. E.g. with intervals of running
/// jobs, the mean number of busy workers in each bucket.
pub fn occupancy(
    intervals: impl IntoIterator<Item = (f64, f64)>,
    bucket_width: f64,
    buckets: usize,
) -> Vec<f64> {
    let mut sums = vec![0.0; buckets];
    if bucket_width <= 0.0 || buckets == 0 {
        return sums;
    }
    for (start, end) in intervals {
        if end.partial_cmp(&start) != Some(std::cmp::Ordering::Greater) {
            continue; // empty, inverted or NaN
        }
        let first = (start / bucket_width).floor().max(0.0) as usize;
        let last = ((end / bucket_width).ceil() as usize).min(buckets);
        for (b, sum) in sums.iter_mut().enumerate().take(last).skip(first) {
            let lo = b as f64 * bucket_width;
            let hi = lo + bucket_width;
            let overlap = end.min(hi) - start.max(lo);
            if overlap > 0.0 {
                *sum += overlap;
            }
        }
    }
    sums.iter_mut().for_each(|s| *s /= bucket_width);
    sums
}

/// How many of `times` fall in each bucket `[i w, (i+1) w)`, divided by the bucket
/// width in seconds (`w` in ms): events per second in each bucket. A time exactly at
/// the end of the last bucket counts in the last bucket.
pub fn rate_per_second(
    times: impl IntoIterator<Item = f64>,
    bucket_width_ms: f64,
    buckets: usize,
) -> Vec<f64> {
    let mut counts = vec![0.0; buckets];
    if bucket_width_ms <= 0.0 || buckets == 0 {
        return counts;
    }
    for t in times {
        if t < 0.0 {
            continue;
        }
        let b = ((t / bucket_width_ms) as usize).min(buckets - 1);
        counts[b] += 1.0;
    }
    counts
        .iter_mut()
        .for_each(|c| *c /= bucket_width_ms / 1000.0);
    counts
}

/// A bucket width (ms) that splits `wall_ms` into at most `max_buckets` buckets of a
/// "round" size (1, 2 or 5 times a power of ten), so chart ticks read well.
pub fn bucket_width_for(wall_ms: f64, max_buckets: usize) -> f64 {
    let raw = (wall_ms / max_buckets.max(1) as f64).max(1e-3);
    let magnitude = 10f64.powf(raw.log10().floor());
    for step in [1.0, 2.0, 5.0, 10.0] {
        if step * magnitude >= raw {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_by_hand() {
        // 1..=10: p50 = 5 (rank ceil(5) = 5), p90 = 9, p95 = 10 (rank ceil(9.5) = 10).
        let s = summarize((1..=10).map(f64::from));
        assert_eq!((s.count, s.min, s.max), (10, 1.0, 10.0));
        assert_eq!(s.mean, 5.5);
        assert_eq!((s.p50, s.p90, s.p95, s.p99), (5.0, 9.0, 10.0, 10.0));
        // Unsorted input with a NaN, which is ignored.
        let s = summarize([30.0, f64::NAN, 10.0, 20.0]);
        assert_eq!((s.count, s.p50, s.p90), (3, 20.0, 30.0));
        assert_eq!(summarize([]), Summary::default());
        // 100 values: p99 is the 99th smallest.
        let s = summarize((1..=100).map(f64::from));
        assert_eq!((s.p50, s.p95, s.p99), (50.0, 95.0, 99.0));
    }

    #[test]
    fn occupancy_by_hand() {
        // Buckets of 10 ms. [0,10) full in bucket 0; [5,25) covers half of 0, all of 1,
        // half of 2; [25,30) half of 2.
        let o = occupancy([(0.0, 10.0), (5.0, 25.0), (25.0, 30.0)], 10.0, 3);
        assert_eq!(o, vec![1.5, 1.0, 1.0]);
        // Empty and inverted intervals count nothing; intervals past the end are cut.
        assert_eq!(
            occupancy([(3.0, 3.0), (8.0, 2.0), (25.0, 100.0)], 10.0, 3),
            vec![0.0, 0.0, 0.5]
        );
    }

    #[test]
    fn rates_by_hand() {
        // 100 ms buckets: 3 events in the first = 30/s; the one at exactly 200 ms is
        // clamped into the last bucket.
        let r = rate_per_second([0.0, 50.0, 99.9, 150.0, 200.0], 100.0, 2);
        assert_eq!(r, vec![30.0, 20.0]);
    }

    #[test]
    fn round_bucket_widths() {
        assert_eq!(bucket_width_for(1000.0, 100), 10.0);
        assert_eq!(bucket_width_for(1200.0, 100), 20.0);
        assert_eq!(bucket_width_for(3.0, 100), 0.05);
        assert_eq!(bucket_width_for(45_000.0, 100), 500.0);
    }
}
