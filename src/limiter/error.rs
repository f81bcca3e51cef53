//! Errors of the limiter: bad parameters, and why a wait ended without a grant.

use std::fmt;

use crate::cancel::{CancelError, Cause};

/// A limiter parameter outside its allowed range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LimiterError {
    /// `limit` (tokens per second) was negative or NaN.
    InvalidLimit {
        /// The value given.
        value: f64,
    },
}

impl fmt::Display for LimiterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimiterError::InvalidLimit { value } => write!(
                f,
                "limit: {value} is not allowed; allowed: 0 or more tokens per second, \
                 or infinity for no limit"
            ),
        }
    }
}

impl std::error::Error for LimiterError {}

/// Why [`RateLimiter::wait_n`](super::RateLimiter::wait_n) returned without a grant.
/// The messages are x/time/rate's own.
#[derive(Debug, Clone)]
pub enum WaitError {
    /// `n` is more than the burst, so it could never be granted (and the limit is finite).
    ExceedsBurst {
        /// Tokens asked for.
        n: u32,
        /// The limiter's burst.
        burst: u32,
    },
    /// The token was cancelled, before or during the wait. Any reservation made was
    /// given back.
    Cancelled {
        /// `Canceled` or `DeadlineExceeded`.
        err: CancelError,
        /// The cancellation's cause.
        cause: Cause,
    },
    /// The wait would end after the token's deadline, so it was refused up front.
    WouldExceedDeadline {
        /// Tokens asked for.
        n: u32,
    },
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::ExceedsBurst { n, burst } => {
                write!(f, "rate: Wait(n={n}) exceeds limiter's burst {burst}")
            }
            WaitError::Cancelled { cause, .. } => write!(f, "{cause}"),
            WaitError::WouldExceedDeadline { n } => {
                write!(f, "rate: Wait(n={n}) would exceed context deadline")
            }
        }
    }
}

impl std::error::Error for WaitError {}

/// Equal when the variant and fields match; causes compare by their messages.
impl PartialEq for WaitError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                WaitError::ExceedsBurst { n: a, burst: b },
                WaitError::ExceedsBurst { n: c, burst: d },
            ) => a == c && b == d,
            (
                WaitError::Cancelled { err: a, cause: b },
                WaitError::Cancelled { err: c, cause: d },
            ) => a == c && b.to_string() == d.to_string(),
            (WaitError::WouldExceedDeadline { n: a }, WaitError::WouldExceedDeadline { n: b }) => {
                a == b
            }
            _ => false,
        }
    }
}
