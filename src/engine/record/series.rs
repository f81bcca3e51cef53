//! A time series of any length in fixed memory: the coordinator appends a sample at
//! every flush; once [`CAPACITY`] samples are held, every second one is dropped and
//! from then on only every second flush is kept (then every fourth, …). The series
//! always spans the whole run, at a resolution that halves each time it fills — a
//! 10-minute run keeps as many points as a 10-second one.

/// Most samples held.
pub const CAPACITY: usize = 1024;

/// A decimating series of samples, in time order.
#[derive(Debug, Clone)]
pub struct SampleLog<T> {
    samples: Vec<T>,
    /// Keep one push in `stride`.
    stride: u64,
    pushed: u64,
    capacity: usize,
}

impl<T: Copy> Default for SampleLog<T> {
    fn default() -> Self {
        SampleLog::with_capacity(CAPACITY)
    }
}

impl<T: Copy> SampleLog<T> {
    /// A log of at most `capacity` (≥ 2) samples.
    pub fn with_capacity(capacity: usize) -> SampleLog<T> {
        let capacity = capacity.max(2);
        SampleLog {
            samples: Vec::with_capacity(capacity),
            stride: 1,
            pushed: 0,
            capacity,
        }
    }

    /// Offers a sample; it is kept if it falls on the current stride.
    pub fn push(&mut self, sample: T) {
        let keep = self.pushed.is_multiple_of(self.stride);
        self.pushed += 1;
        if !keep {
            return;
        }
        if self.samples.len() == self.capacity {
            // Keep samples 0, 2, 4, …: the series keeps its start and halves its
            // resolution.
            let mut index = 0;
            self.samples.retain(|_| {
                index += 1;
                index % 2 == 1
            });
            self.stride *= 2;
            if !(self.pushed - 1).is_multiple_of(self.stride) {
                return;
            }
        }
        self.samples.push(sample);
    }

    /// Pushes `last` even if the stride would skip it (the final sample of a run).
    pub fn push_last(&mut self, last: T) {
        if self.samples.len() == self.capacity {
            self.samples.pop();
        }
        self.samples.push(last);
    }

    /// The samples kept, oldest first.
    pub fn samples(&self) -> &[T] {
        &self.samples
    }

    /// The samples kept, by value.
    pub fn into_vec(self) -> Vec<T> {
        self.samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_series_keeps_its_whole_span_in_fixed_memory() {
        let mut log = SampleLog::with_capacity(8);
        for t in 0..1_000u64 {
            log.push(t);
            assert!(log.samples().len() <= 8);
        }
        log.push_last(999);
        let kept = log.samples();
        assert_eq!(kept[0], 0, "the start is kept");
        assert_eq!(*kept.last().unwrap(), 999, "and the end");
        assert!(kept.windows(2).all(|w| w[0] < w[1]), "in order: {kept:?}");
        // Evenly spaced apart from the last one.
        let gaps: Vec<u64> = kept.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps[..gaps.len() - 1].iter().all(|&g| g == gaps[0]),
            "{gaps:?}"
        );
    }

    #[test]
    fn a_short_series_keeps_every_sample() {
        let mut log = SampleLog::with_capacity(8);
        for t in 0..5u64 {
            log.push(t);
        }
        assert_eq!(log.samples(), &[0, 1, 2, 3, 4]);
        log.push_last(5);
        assert_eq!(log.into_vec(), vec![0, 1, 2, 3, 4, 5]);
    }
}
