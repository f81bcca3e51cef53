//! [`RateLimiter`]: a [`TokenBucket`] read against a [`Clock`], with an async wait
//! driven by a [`Timer`] and bounded by a [`CancelToken`] — x/time/rate's `Allow`,
//! `Reserve` and `WaitN` for callers that do not want to pass `now` around.

use std::time::Duration;

use futures::future::{Either, select};

use super::bucket::{Reservation, TokenBucket};
use super::error::{LimiterError, WaitError};
use crate::cancel::CancelToken;
use crate::clock::{Clock, Timer};

/// A token bucket on a clock. On the web, `web::browser_rate_limiter` makes one on
/// `performance.now()` and browser timers; in tests, [`crate::sim::SimTime`] is both.
pub struct RateLimiter<C, T> {
    bucket: TokenBucket,
    clock: C,
    timer: T,
}

impl<C: Clock, T: Timer> RateLimiter<C, T> {
    /// A limiter of `limit` tokens per second and bursts up to `burst`, starting full.
    pub fn new(limit: f64, burst: u32, clock: C, timer: T) -> Result<Self, LimiterError> {
        Ok(Self::from_bucket(
            TokenBucket::new(limit, burst)?,
            clock,
            timer,
        ))
    }

    /// Wraps an existing bucket. `clock` must be the one its callers used.
    pub fn from_bucket(bucket: TokenBucket, clock: C, timer: T) -> Self {
        RateLimiter {
            bucket,
            clock,
            timer,
        }
    }

    /// The bucket underneath (for explicit-time calls).
    pub fn bucket(&self) -> &TokenBucket {
        &self.bucket
    }

    /// The clock this limiter reads.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Takes one token now if there is one. Go: `Allow`.
    pub fn allow(&self) -> bool {
        self.allow_n(1)
    }

    /// Takes `n` tokens now if they are all there. Go: `AllowN(time.Now(), n)`.
    pub fn allow_n(&self, n: u32) -> bool {
        self.bucket.allow_n_at_nanos(self.clock.now_nanos(), n)
    }

    /// Reserves one token now. Go: `Reserve`.
    pub fn reserve(&self) -> Reservation {
        self.reserve_n(1)
    }

    /// Reserves `n` tokens now; the reservation says how long to wait. Go: `ReserveN`.
    pub fn reserve_n(&self, n: u32) -> Reservation {
        self.bucket.reserve_n_at(self.clock.now(), n)
    }

    /// How long from now until `reservation` may act. Go: `Reservation.Delay`.
    pub fn delay(&self, reservation: &Reservation) -> Duration {
        reservation.delay_from(self.clock.now())
    }

    /// Gives back `reservation`'s tokens now. Go: `Reservation.Cancel`.
    pub fn cancel(&self, reservation: &Reservation) {
        self.bucket.cancel_at(reservation, self.clock.now());
    }

    /// Changes the rate from now on. Go: `SetLimit`.
    pub fn set_limit(&self, limit: f64) -> Result<(), LimiterError> {
        self.bucket.set_limit_at(self.clock.now(), limit)
    }

    /// Changes the burst from now on. Go: `SetBurst`.
    pub fn set_burst(&self, burst: u32) {
        self.bucket.set_burst_at(self.clock.now(), burst)
    }

    /// Tokens available now. Go: `Tokens`.
    pub fn tokens(&self) -> f64 {
        self.bucket.tokens_at(self.clock.now())
    }

    /// Waits for one token. Go: `Wait`.
    pub async fn wait(&self, token: &CancelToken) -> Result<(), WaitError> {
        self.wait_n(1, token).await
    }

    /// Waits until `n` tokens are granted. Go: `WaitN`. Returns at once with an error if
    /// `n` exceeds the burst (finite limit), if `token` is already cancelled, or if the
    /// wait would end after `token`'s deadline (read on this limiter's clock, so give the
    /// token the same clock). If `token` is cancelled mid-wait, the reservation is given
    /// back and the cancellation is returned.
    pub async fn wait_n(&self, n: u32, token: &CancelToken) -> Result<(), WaitError> {
        let (burst, limit) = (self.bucket.burst(), self.bucket.limit());
        if n > burst && limit != f64::INFINITY {
            return Err(WaitError::ExceedsBurst { n, burst });
        }
        // Go checks ctx.Done() first; a deadline that has passed counts as done.
        token.expire_if_due();
        if let Some(err) = cancelled(token) {
            return Err(err);
        }
        let now = self.clock.now();
        let wait_limit = match token.deadline() {
            Some(deadline) => signed_nanos(deadline) - signed_nanos(now),
            None => i64::MAX,
        };
        let reservation = self.bucket.reserve(signed_nanos(now), n, wait_limit);
        if !reservation.ok() {
            return Err(WaitError::WouldExceedDeadline { n });
        }
        let delay = reservation.delay_from(now);
        if delay.is_zero() {
            return Ok(());
        }
        // Given up before its time (cancelled, or this future dropped): the tokens go
        // back, which may let other callers proceed sooner.
        let mut pending = GiveBack {
            limiter: self,
            reservation: Some(reservation),
        };
        match select(self.timer.sleep(delay), token.cancelled()).await {
            Either::Left(((), _)) => {
                pending.reservation = None; // used
                Ok(())
            }
            Either::Right(((), _)) => {
                drop(pending);
                Err(cancelled(token).expect("token is cancelled"))
            }
        }
    }
}

/// A reservation that is given back (`CancelAt` now) unless it was used.
struct GiveBack<'a, C: Clock, T: Timer> {
    limiter: &'a RateLimiter<C, T>,
    reservation: Option<Reservation>,
}

impl<C: Clock, T: Timer> Drop for GiveBack<'_, C, T> {
    fn drop(&mut self) {
        if let Some(reservation) = self.reservation.take() {
            self.limiter
                .bucket
                .cancel_at(&reservation, self.limiter.clock.now());
        }
    }
}

fn cancelled(token: &CancelToken) -> Option<WaitError> {
    let err = token.err()?;
    let cause = token.cause()?;
    Some(WaitError::Cancelled { err, cause })
}

fn signed_nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::CancelError;
    use crate::sim::SimTime;
    use std::sync::Arc;

    const D: Duration = Duration::from_millis(100);

    type SimLimiter = RateLimiter<Arc<SimTime>, Arc<SimTime>>;

    fn limiter(sim: &Arc<SimTime>, limit: f64, burst: u32) -> SimLimiter {
        RateLimiter::new(limit, burst, sim.clone(), sim.clone()).unwrap()
    }

    /// Go's `runWait`: the result and how long (simulated) the wait took, in D units.
    fn wait(
        sim: &Arc<SimTime>,
        lim: &SimLimiter,
        token: &CancelToken,
        n: u32,
    ) -> (Result<(), WaitError>, u32) {
        let start = sim.now();
        let result = sim.run(lim.wait_n(n, token)).expect("wait_n never stalls");
        let took = sim.now() - start;
        (result, ((took + D / 2).as_nanos() / D.as_nanos()) as u32)
    }

    #[test]
    fn wait_simple() {
        let sim = SimTime::new();
        let lim = limiter(&sim, 10.0, 3);

        let cancelled = CancelToken::new();
        cancelled.cancel();
        let (r, d) = wait(&sim, &lim, &cancelled, 1);
        assert!(matches!(
            r,
            Err(WaitError::Cancelled {
                err: CancelError::Canceled,
                ..
            })
        ));
        assert_eq!(d, 0);

        let (r, _) = wait(&sim, &lim, &CancelToken::new(), 4);
        let err = r.unwrap_err();
        assert!(matches!(err, WaitError::ExceedsBurst { n: 4, burst: 3 }));
        assert_eq!(err.to_string(), "rate: Wait(n=4) exceeds limiter's burst 3");

        assert_eq!(wait(&sim, &lim, &CancelToken::new(), 2), (Ok(()), 0)); // act now
        let (r, d) = wait(&sim, &lim, &CancelToken::new(), 3); // act later
        assert!(r.is_ok());
        assert_eq!(d, 2);
    }

    #[test]
    fn wait_cancelled_mid_wait_gives_tokens_back() {
        let sim = SimTime::new();
        let lim = limiter(&sim, 10.0, 3);
        let token = CancelToken::new();
        assert_eq!(wait(&sim, &lim, &token, 2), (Ok(()), 0)); // tokens = 1
        // Cancel after one D, while the 3-token wait (2 D) is pending.
        let canceller = token.clone();
        let timer = sim.clone();
        let start = sim.now();
        let (result, ()) = sim
            .run(async {
                futures::join!(lim.wait_n(3, &token), async {
                    timer.sleep(D).await;
                    canceller.cancel();
                })
            })
            .unwrap();
        assert!(matches!(
            result,
            Err(WaitError::Cancelled {
                err: CancelError::Canceled,
                ..
            })
        ));
        assert_eq!(sim.now() - start, D);
        // Three tokens back: 1 + 1 (refilled during D) = 2, so 2 more go now.
        assert_eq!(wait(&sim, &lim, &CancelToken::new(), 2), (Ok(()), 0));
    }

    #[test]
    fn wait_refuses_to_pass_the_deadline() {
        let sim = SimTime::new();
        let lim = limiter(&sim, 10.0, 3);
        let token = CancelToken::new().child_with_timeout(D, sim.clock());
        assert_eq!(wait(&sim, &lim, &token, 2), (Ok(()), 0));
        let (r, d) = wait(&sim, &lim, &token, 3);
        let err = r.unwrap_err();
        assert!(matches!(err, WaitError::WouldExceedDeadline { n: 3 }));
        assert_eq!(
            err.to_string(),
            "rate: Wait(n=3) would exceed context deadline"
        );
        assert_eq!(d, 0, "refused up front, no waiting");
    }

    #[test]
    fn wait_after_the_deadline_reports_deadline_exceeded() {
        let sim = SimTime::new();
        let lim = limiter(&sim, 10.0, 3);
        let token = CancelToken::new().child_with_timeout(D, sim.clock());
        sim.advance(D * 2);
        let (r, _) = wait(&sim, &lim, &token, 1);
        assert!(matches!(
            r,
            Err(WaitError::Cancelled {
                err: CancelError::DeadlineExceeded,
                ..
            })
        ));
    }

    #[test]
    fn wait_with_infinite_limit_ignores_burst() {
        let sim = SimTime::new();
        let lim = limiter(&sim, f64::INFINITY, 0);
        assert_eq!(wait(&sim, &lim, &CancelToken::new(), 3), (Ok(()), 0));
    }

    #[test]
    fn wait_after_raising_a_zero_limit() {
        let sim = SimTime::new();
        let lim = limiter(&sim, 0.0, 1);
        assert!(lim.allow());
        assert!(!lim.allow());
        lim.set_limit(10.0).unwrap();
        assert_eq!(wait(&sim, &lim, &CancelToken::new(), 1), (Ok(()), 1));
    }

    #[test]
    fn clock_based_calls_match_the_bucket() {
        let sim = SimTime::new();
        let lim = limiter(&sim, 10.0, 2);
        assert!(lim.allow_n(2));
        let r = lim.reserve();
        assert_eq!(lim.delay(&r), D);
        sim.advance(D / 2);
        assert_eq!(lim.delay(&r), D / 2);
        lim.cancel(&r);
        assert!((lim.tokens() - 0.5).abs() < 1e-9);
        lim.set_burst(5);
        assert_eq!(lim.bucket().burst(), 5);
        assert!(lim.set_limit(-1.0).is_err());
    }
}
