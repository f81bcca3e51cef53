//! The article's rate limiter: `time.NewTicker(period)` and `<-ticker.C` before each
//! request. Kept to compare with the token bucket.
//!
//! Go's semantics, reproduced on an injected clock and timer: ticks are scheduled at
//! `start + k x period`; the channel holds one tick, so a consumer that comes late gets
//! one (stale) tick at once and the ones it missed are dropped — a ticker never bursts
//! to catch up. Each tick needs a timer to fire, so when timers are coarser than the
//! period (browsers clamp nested timers to about 4 ms) the ticker falls short of its
//! rate, while a token bucket, which reads the clock, does not.

use std::time::Duration;

use crate::clock::{Clock, Timer, duration_to_nanos};

/// A ticker: one tick per `period`, buffer of one.
#[derive(Debug, Clone)]
pub struct Ticker {
    period: Duration,
    /// The first scheduled tick not yet delivered: the one that will fill the buffer.
    next: Duration,
}

impl Ticker {
    /// A ticker started at `now` (Go: `time.NewTicker(period)`): the first tick comes
    /// one period later.
    pub fn new(period: Duration, now: Duration) -> Ticker {
        assert!(
            !period.is_zero(),
            "a ticker needs a non-zero period (Go panics too)"
        );
        Ticker {
            period,
            next: now + period,
        }
    }

    /// Changes the period from `now` on: the next tick comes one new period later, as
    /// Go's `Ticker.Reset` (a tick waiting in the buffer is dropped).
    pub fn reset(&mut self, period: Duration, now: Duration) {
        assert!(!period.is_zero(), "a ticker needs a non-zero period");
        self.period = period;
        self.next = now + period;
    }

    /// The ticker's period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// When the next tick is scheduled (the one a reader would get next).
    pub fn next_tick(&self) -> Duration {
        self.next
    }

    /// Waits for the next tick (Go: `<-ticker.C`) and returns its scheduled time.
    pub async fn tick(&mut self, clock: &dyn Clock, timer: &dyn Timer) -> Duration {
        loop {
            let now = clock.now();
            if now >= self.next {
                let tick = self.next;
                // Ticks scheduled while nobody read were dropped (buffer of one).
                let missed = duration_to_nanos(now - self.next) / duration_to_nanos(self.period);
                self.next += self.period * (missed as u32 + 1);
                return tick;
            }
            timer.sleep(self.next - now).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::CancelToken;
    use crate::clock::SleepFuture;
    use crate::limiter::RateLimiter;
    use crate::sim::SimTime;
    use std::sync::Arc;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_prompt_reader_gets_every_tick_on_schedule() {
        let sim = SimTime::new();
        let (clock, timer) = (sim.clone(), sim.clone());
        let ticks = sim
            .run(async move {
                let mut ticker = Ticker::new(10 * MS, clock.now());
                let mut ticks = Vec::new();
                for _ in 0..5 {
                    ticks.push(ticker.tick(&*clock, &timer).await);
                }
                ticks
            })
            .unwrap();
        assert_eq!(ticks, (1..=5).map(|k| 10 * MS * k).collect::<Vec<_>>());
    }

    #[test]
    fn a_late_reader_gets_one_stale_tick_and_no_burst() {
        let sim = SimTime::new();
        let (clock, timer) = (sim.clone(), sim.clone());
        let got = sim
            .run(async move {
                let mut ticker = Ticker::new(10 * MS, clock.now());
                let mut got = Vec::new();
                for _ in 0..3 {
                    timer.sleep(25 * MS).await; // slow consumer
                    let tick = ticker.tick(&*clock, &timer).await;
                    got.push((clock.now(), tick));
                }
                got
            })
            .unwrap();
        // Reads at 25, 50, 75 ms each get one tick at once (10, 30, 60): never two.
        assert_eq!(
            got,
            vec![(25 * MS, 10 * MS), (50 * MS, 30 * MS), (75 * MS, 60 * MS)]
        );
    }

    /// A timer that never fires sooner than `floor` (like a browser's clamped timers).
    struct ClampedTimer {
        sim: Arc<SimTime>,
        floor: Duration,
    }

    impl Timer for ClampedTimer {
        fn sleep(&self, delay: Duration) -> SleepFuture {
            self.sim.sleep(delay.max(self.floor))
        }
    }

    /// Grants in one simulated second at 1000/s when timers cannot fire sooner than 4 ms.
    fn grants_per_second(use_ticker: bool) -> u32 {
        let sim = SimTime::new();
        let clock = sim.clone();
        let timer = ClampedTimer {
            sim: sim.clone(),
            floor: 4 * MS,
        };
        sim.run(async move {
            let end = Duration::from_secs(1);
            let mut grants = 0;
            if use_ticker {
                let mut ticker = Ticker::new(MS, clock.now());
                while ticker.tick(&*clock, &timer).await <= end {
                    grants += 1;
                }
            } else {
                // A burst of 10 lets tokens that accrue between clamped timer firings be
                // used on wake; it starts empty, so every token comes from elapsed time.
                let limiter = RateLimiter::new(1000.0, 10, clock.clone(), timer).unwrap();
                let token = CancelToken::new();
                assert!(limiter.bucket().allow_n_at(Duration::ZERO, 10));
                while clock.now() < end {
                    limiter.wait_n(1, &token).await.unwrap();
                    grants += 1;
                }
            }
            grants
        })
        .unwrap()
    }

    #[test]
    fn clamped_timers_starve_the_ticker_but_not_the_bucket() {
        let ticker = grants_per_second(true);
        let bucket = grants_per_second(false);
        assert!(
            (245..=255).contains(&ticker),
            "ticker achieved {ticker}/s of 1000/s"
        );
        assert!(
            (995..=1005).contains(&bucket),
            "bucket achieved {bucket}/s of 1000/s"
        );
    }
}
