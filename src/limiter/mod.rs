//! Rate limiting with golang.org/x/time/rate semantics.
//!
//! - [`TokenBucket`] is the explicit-time core, a faithful port of the behaviour of
//!   x/time/rate's `Limiter`: the same decisions and the same delays for the same calls
//!   at the same times (`AllowN`, `ReserveN`, `Reservation.CancelAt`, `SetLimitAt`,
//!   `SetBurstAt`, `TokensAt`). Tokens come from elapsed time on the caller's clock, never
//!   from counting timer ticks, so browser timer clamping cannot skew the rate.
//! - [`RateLimiter`] is the convenience layer on a [`Clock`](crate::clock::Clock) and a
//!   [`Timer`](crate::clock::Timer): `allow`, `reserve`, and an async `wait_n` that
//!   honours a [`CancelToken`](crate::cancel::CancelToken) and its deadline as `WaitN`
//!   honours a `context.Context`.
//! - [`Ticker`] is the article's `time.Ticker` pacing, kept for comparison: it can only
//!   release a job when a timer fires, so coarse timers cap its rate.

mod bucket;
mod cell;
mod error;
mod rate_limiter;
mod ticker;

pub use bucket::{INF_DURATION, Reservation, TokenBucket, limit_every};
pub use error::{LimiterError, WaitError};
pub use rate_limiter::RateLimiter;
pub use ticker::Ticker;
