//! [`TokenBucket`]: x/time/rate's `Limiter`, with explicit time.
//!
//! The arithmetic mirrors x/time/rate operation for operation (same float expressions
//! in the same order, times as signed nanoseconds, Go's truncating float-to-duration
//! conversion), so the same calls give the same answers bit for bit:
//! - tokens refill lazily from elapsed time (`advance`), capped at the burst;
//! - a reservation may drive tokens negative (debt), which later calls must wait out;
//! - `n > burst` is refused (unless the limit is infinite);
//! - a limit of 0 grants only what is in the bucket (it starts full) and never refills;
//! - cancelling a reservation gives back its tokens minus those that later
//!   reservations have already claimed;
//! - `set_limit_at` / `set_burst_at` first advance the bucket to `now`.
//!
//! # Concurrency
//! The state sits in a [`StateCell`](super::cell) under one lock (as Go's sits under its
//! mutex), so every method takes `&self` and the bucket is `Send + Sync`. A request that
//! is certainly refused is answered from the cell's lock-free `deny_until` hint without
//! taking the lock; everything else goes through the exact, locked path.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::LimiterError;
use super::cell::{State, StateCell};

/// x/time/rate's `InfDuration` (`math.MaxInt64` nanoseconds, about 292 years): the delay
/// of a reservation that is not OK.
pub const INF_DURATION: Duration = Duration::from_nanos(i64::MAX as u64);

/// Go's `rate.Inf`: `math.MaxFloat64`. Infinite limits are stored as this value so that
/// the arithmetic matches Go's exactly (e.g. `0 * Inf` is `0`, not NaN).
const INF: f64 = f64::MAX;

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// The limit that allows one event every `interval` (Go: `rate.Every`); a zero interval
/// means no limit (`f64::INFINITY`).
pub fn limit_every(interval: Duration) -> f64 {
    if interval.is_zero() {
        return f64::INFINITY;
    }
    1.0 / interval.as_secs_f64()
}

/// Time as Go's limiter sees it: signed nanoseconds since the caller's epoch.
type Nanos = i64;

fn to_nanos(d: Duration) -> Nanos {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

fn from_nanos(n: Nanos) -> Duration {
    Duration::from_nanos(n.max(0) as u64)
}

/// A time as unsigned nanoseconds for the lock-free refusal hint: negative times
/// become 0 (never refused by the hint), `i64::MAX` (the "always refused" bound) becomes
/// `u64::MAX`, above every real time.
fn hint_nanos(n: Nanos) -> u64 {
    match n {
        i64::MAX => u64::MAX,
        n if n <= 0 => 0,
        n => n as u64,
    }
}

/// Go's `Duration.Seconds()`: whole seconds and the remainder converted separately.
fn seconds(d: Nanos) -> f64 {
    let sec = d / NANOS_PER_SECOND;
    let nsec = d % NANOS_PER_SECOND;
    sec as f64 + nsec as f64 / 1e9
}

/// Go's `Limit.TokensFromDuration`.
fn tokens_from_duration(limit: f64, d: Nanos) -> f64 {
    if limit <= 0.0 {
        return 0.0;
    }
    seconds(d) * limit
}

/// Go's `Limit.DurationFromTokens`: truncates toward zero, saturates at `InfDuration`.
fn duration_from_tokens(limit: f64, tokens: f64) -> Nanos {
    if limit <= 0.0 {
        return i64::MAX;
    }
    // A float-to-int `as` truncates toward zero and saturates, so a duration past
    // i64::MAX ns is InfDuration, as Go's explicit check makes it.
    ((tokens / limit) * 1e9) as i64
}

/// Validates a user limit and maps +∞ (and Go's `MaxFloat64`) to the internal `INF`.
fn checked_limit(limit: f64) -> Result<f64, LimiterError> {
    if limit.is_nan() || limit < 0.0 {
        return Err(LimiterError::InvalidLimit { value: limit });
    }
    Ok(if limit == f64::INFINITY { INF } else { limit })
}

impl State {
    /// Go's `advance`: the tokens at `t`, without changing anything.
    fn advance(&self, t: Nanos) -> f64 {
        let elapsed = t.saturating_sub(t.min(self.last));
        let burst = self.burst as f64;
        if self.certainly_refills(elapsed) {
            return burst;
        }
        let delta = tokens_from_duration(self.limit, elapsed);
        let tokens = self.tokens + delta;
        tokens.min(burst)
    }

    /// The shortcut of `advance`: whether `elapsed` ns certainly refill the bucket, so
    /// the answer is `burst` without Go's exact (slower) computation. True only if even a
    /// slightly low estimate of the refill (a multiplication instead of Go's division)
    /// overflows the bucket, so Go's exact sum does too. The margins (1e-12 relative,
    /// 1e-9 absolute) dwarf the few-ulp error of both computations; the differential
    /// test against Go checks the answers stay bit-identical.
    fn certainly_refills(&self, elapsed: Nanos) -> bool {
        let room = self.burst as f64 - self.tokens;
        elapsed as f64 * 1e-9 * self.limit * (1.0 - 1e-12) > room + 1e-9
    }

    /// A conservative time before which a request for one or more tokens is refused
    /// (the cell's invariant 2): the time the bucket needs to refill to one token, less
    /// a margin (1 µs plus a relative 1e-9) that covers float rounding and Go's
    /// nanosecond truncation of delays. 0 means "no shortcut".
    fn deny_until(&self) -> u64 {
        hint_nanos(self.deny_until_nanos())
    }

    fn deny_until_nanos(&self) -> Nanos {
        if self.limit == INF {
            return i64::MIN; // everything is allowed
        }
        if self.burst == 0 {
            return i64::MAX; // n >= 1 > burst: always refused
        }
        let deficit = 1.0 - self.tokens;
        if deficit <= 0.0 {
            return i64::MIN;
        }
        if self.limit <= 0.0 {
            return i64::MAX; // never refills
        }
        let wait_ns = deficit / self.limit * 1e9;
        let bound = wait_ns - (1_000.0 + wait_ns * 1e-9);
        if bound <= 0.0 {
            return i64::MIN;
        }
        // `as` saturates for huge bounds.
        self.last.saturating_add(bound as i64)
    }
}

/// Identity of a bucket, so a reservation cannot be cancelled against another bucket.
static NEXT_BUCKET_ID: AtomicU64 = AtomicU64::new(1);

/// A token bucket of size `burst`, initially full, refilled at `limit` tokens per
/// second — golang.org/x/time/rate's `Limiter` with explicit time.
///
/// Every method takes the time as `now`: a `Duration` since an epoch of the caller's
/// choosing (use one clock for all calls on a bucket). Times may go backwards; the
/// bucket then behaves as Go's does (no tokens are minted for negative time).
///
/// ```
/// use std::time::Duration;
/// use scalelab::limiter::TokenBucket;
///
/// // rate.NewLimiter(10, 2): 10 tokens a second, bursts of 2.
/// let bucket = TokenBucket::new(10.0, 2).unwrap();
/// let t0 = Duration::ZERO;
/// assert!(bucket.allow_n_at(t0, 1));
/// assert!(bucket.allow_n_at(t0, 1));
/// assert!(!bucket.allow_n_at(t0, 1), "the burst is spent");
/// // A reservation says how long to wait for the next token: 1/10 s.
/// let reservation = bucket.reserve_n_at(t0, 1);
/// assert!(reservation.ok());
/// assert_eq!(reservation.delay_from(t0), Duration::from_millis(100));
/// ```
#[derive(Debug)]
pub struct TokenBucket {
    id: u64,
    cell: StateCell,
}

/// The outcome of [`TokenBucket::reserve_n_at`]: whether the tokens were granted and
/// when the holder may act. Go: `rate.Reservation`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reservation {
    bucket_id: u64,
    ok: bool,
    tokens: u32,
    time_to_act: Nanos,
    /// The limit when the reservation was made (it may change later).
    limit: f64,
}

impl Reservation {
    /// Whether the tokens were granted (Go: `OK`). `false` when `n` exceeds the burst or
    /// the wait would exceed the maximum allowed.
    pub fn ok(&self) -> bool {
        self.ok
    }

    /// How long after `now` the holder must wait before acting: zero means act now;
    /// [`INF_DURATION`] if the reservation is not OK. Go: `DelayFrom`.
    pub fn delay_from(&self, now: Duration) -> Duration {
        if !self.ok {
            return INF_DURATION;
        }
        from_nanos(self.time_to_act.saturating_sub(to_nanos(now)))
    }

    /// When the holder may act; `None` if not OK.
    pub fn time_to_act(&self) -> Option<Duration> {
        self.ok.then(|| from_nanos(self.time_to_act))
    }

    /// Tokens this reservation holds (0 if not OK).
    pub fn tokens(&self) -> u32 {
        self.tokens
    }
}

impl TokenBucket {
    /// A bucket allowing `limit` tokens per second on average with bursts of up to
    /// `burst`; it starts full. `f64::INFINITY` means no limit (the burst is then
    /// ignored); `0` allows only the initial burst. Negative or NaN limits are an error.
    pub fn new(limit: f64, burst: u32) -> Result<TokenBucket, LimiterError> {
        let limit = checked_limit(limit)?;
        let state = State {
            limit,
            burst,
            tokens: burst as f64,
            last: 0,
            last_event: 0,
        };
        Ok(TokenBucket {
            id: NEXT_BUCKET_ID.fetch_add(1, Ordering::Relaxed),
            cell: StateCell::new(state, state.deny_until()),
        })
    }

    /// Runs `f` on the state under the cell's lock, keeping the deny hint current.
    fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        self.cell.update(f, State::deny_until)
    }

    /// The refill rate in tokens per second (`f64::INFINITY` when unlimited).
    pub fn limit(&self) -> f64 {
        let limit = self.cell.read().limit;
        if limit == INF { f64::INFINITY } else { limit }
    }

    /// The bucket size: the most tokens one call can take.
    pub fn burst(&self) -> u32 {
        self.cell.read().burst
    }

    /// Tokens available at `now` (negative while reservations hold debt). Changes
    /// nothing. Go: `TokensAt`.
    pub fn tokens_at(&self, now: Duration) -> f64 {
        self.cell.read().advance(to_nanos(now))
    }

    /// Takes `n` tokens at `now` if they are all there; otherwise takes nothing and
    /// returns `false`. Go: `AllowN`.
    pub fn allow_n_at(&self, now: Duration, n: u32) -> bool {
        self.allow_n_at_nanos(crate::clock::duration_to_nanos(now), n)
    }

    /// [`allow_n_at`](Self::allow_n_at) with `now` in nanoseconds (what
    /// [`Clock::now_nanos`](crate::clock::Clock::now_nanos) returns), sparing the
    /// conversion on the hot path.
    #[inline]
    pub fn allow_n_at_nanos(&self, now: u64, n: u32) -> bool {
        // Certainly refused: answer from the lock-free hint (nothing would change).
        if n >= 1 && now < self.cell.deny_until() {
            return false;
        }
        self.reserve(i64::try_from(now).unwrap_or(i64::MAX), n, 0)
            .ok
    }

    /// Reserves `n` tokens at `now`, waiting as long as it takes: the reservation says
    /// how long. Not OK only if `n` exceeds the burst (finite limit). Go: `ReserveN`.
    pub fn reserve_n_at(&self, now: Duration, n: u32) -> Reservation {
        self.reserve(to_nanos(now), n, i64::MAX)
    }

    /// Like [`reserve_n_at`](Self::reserve_n_at), but not OK (and taking nothing) if the
    /// wait would be longer than `max_wait`.
    pub fn reserve_n_within_at(&self, now: Duration, n: u32, max_wait: Duration) -> Reservation {
        self.reserve(to_nanos(now), n, to_nanos(max_wait))
    }

    /// Go's `reserveN`. `max_future_reserve` may be negative (a deadline already passed).
    pub(crate) fn reserve(&self, t: Nanos, n: u32, max_future_reserve: Nanos) -> Reservation {
        self.update(|state| Self::reserve_in(self.id, state, t, n, max_future_reserve))
    }

    fn reserve_in(
        id: u64,
        state: &mut State,
        t: Nanos,
        n: u32,
        max_future_reserve: Nanos,
    ) -> Reservation {
        if state.limit == INF {
            return Reservation {
                bucket_id: id,
                ok: true,
                tokens: n,
                time_to_act: t,
                limit: 0.0,
            };
        }
        let tokens = state.advance(t) - n as f64;
        let wait = if tokens < 0.0 {
            duration_from_tokens(state.limit, -tokens)
        } else {
            0
        };
        let ok = n <= state.burst && wait <= max_future_reserve;
        let mut reservation = Reservation {
            bucket_id: id,
            ok,
            tokens: 0,
            time_to_act: t,
            limit: state.limit,
        };
        if ok {
            reservation.tokens = n;
            reservation.time_to_act = t.saturating_add(wait);
            state.last = t;
            state.tokens = tokens;
            state.last_event = reservation.time_to_act;
        }
        reservation
    }

    /// Gives back what `reservation` took, as far as later reservations allow: the
    /// tokens minus those reserved after it. No effect if it is not OK, holds no tokens,
    /// its time to act has passed, the limit is infinite, or it came from another bucket.
    /// Go: `Reservation.CancelAt`.
    ///
    /// Cancel each reservation at most once: like Go's, a second cancel gives the tokens
    /// back a second time (the reservation carries no "cancelled" mark, so that its
    /// behaviour stays identical to x/time/rate's). [`RateLimiter::wait_n`](super::RateLimiter::wait_n)
    /// cancels its own reservation exactly once.
    pub fn cancel_at(&self, reservation: &Reservation, now: Duration) {
        if !reservation.ok || reservation.bucket_id != self.id {
            return;
        }
        let t = to_nanos(now);
        self.update(|state| Self::cancel_in(state, reservation, t));
    }

    fn cancel_in(state: &mut State, reservation: &Reservation, t: Nanos) {
        if state.limit == INF || reservation.tokens == 0 || reservation.time_to_act < t {
            return;
        }
        // Tokens reserved after this reservation (between its time to act and the
        // latest event) must not be restored.
        let claimed_later = tokens_from_duration(
            reservation.limit,
            state.last_event.saturating_sub(reservation.time_to_act),
        );
        let restore = reservation.tokens as f64 - claimed_later;
        if restore <= 0.0 {
            return;
        }
        state.tokens = (state.advance(t) + restore).min(state.burst as f64);
        state.last = t;
        if reservation.time_to_act == state.last_event {
            let previous_event = reservation.time_to_act.saturating_add(duration_from_tokens(
                reservation.limit,
                -(reservation.tokens as f64),
            ));
            if previous_event >= t {
                state.last_event = previous_event;
            }
        }
    }

    /// Changes the refill rate from `now` on; tokens earned before `now` are kept at the
    /// old rate. Reservations already made keep their times. Go: `SetLimitAt`.
    pub fn set_limit_at(&self, now: Duration, limit: f64) -> Result<(), LimiterError> {
        let limit = checked_limit(limit)?;
        let t = to_nanos(now);
        self.update(|state| {
            state.tokens = state.advance(t);
            state.last = t;
            state.limit = limit;
        });
        Ok(())
    }

    /// Changes the bucket size from `now` on. Go: `SetBurstAt`.
    pub fn set_burst_at(&self, now: Duration, burst: u32) {
        let t = to_nanos(now);
        self.update(|state| {
            state.tokens = state.advance(t);
            state.last = t;
            state.burst = burst;
        });
    }
}

#[cfg(test)]
#[path = "bucket_test.rs"]
mod tests;
