//! Steering a run while it goes: a [`RunHandle`] resizes its pool (ants' `Tune`,
//! pond's `Resize`) and changes its rate and burst (x/time/rate's `SetLimit` and
//! `SetBurst`). Every change is checked like a setting — the field, the value and the
//! allowed range in the error — and a refused change leaves the run as it was.
//!
//! The handle holds the run weakly: it keeps nothing alive once the run is over, and
//! every call after the end is refused with [`ControlError::Ended`].

use std::fmt;
use std::sync::{Arc, Mutex, Weak};

use futures::task::AtomicWaker;

use super::config::{Pacing, Pattern, Scaling, field_spec};
use super::pool::{MAX_WORKERS, Shrink};
use super::state::RunShared;
use crate::settings::{ConfigError, Range, num};

/// A change of rate or burst, waiting for the producer to apply it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateChange {
    /// Jobs per second.
    pub rate: f64,
    /// Bucket size (token bucket only).
    pub burst: u32,
}

/// Rate changes on their way from a handle to the run's producer.
#[derive(Default)]
pub struct RateControl {
    state: Mutex<RateState>,
    /// The paced producer waits here while it waits for the limiter.
    changed: AtomicWaker,
}

#[derive(Default)]
struct RateState {
    /// The latest change not yet applied.
    pending: Option<RateChange>,
    /// The latest change asked for (applied or not).
    latest: Option<RateChange>,
}

impl RateControl {
    fn lock(&self) -> std::sync::MutexGuard<'_, RateState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the latest change not yet applied.
    pub fn take(&self) -> Option<RateChange> {
        self.lock().pending.take()
    }

    /// Resolves once a change is waiting (then [`take`](Self::take) it).
    pub fn changed(&self) -> impl std::future::Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            self.changed.register(cx.waker());
            if self.lock().pending.is_some() {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
    }

    fn request(&self, change: RateChange) {
        let mut state = self.lock();
        state.pending = Some(change);
        state.latest = Some(change);
        drop(state);
        self.changed.wake();
    }

    /// The burst the producer uses now: the last one asked for, else `configured`.
    fn current_burst(&self, configured: u32) -> u32 {
        self.lock().latest.map_or(configured, |c| c.burst)
    }
}

/// Why a change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlError {
    /// The value is not allowed (the error names the field, the value and the range).
    Invalid(ConfigError),
    /// The run is over.
    Ended,
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlError::Invalid(e) => write!(f, "{e}"),
            ControlError::Ended => {
                f.write_str("the run has ended: resize and setRate only change a run while it goes")
            }
        }
    }
}

impl std::error::Error for ControlError {}

/// A handle on a run in progress (see the module documentation). Cheap to clone, and
/// usable from any thread.
#[derive(Clone)]
pub struct RunHandle {
    run: Weak<RunShared>,
}

impl fmt::Debug for RunHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunHandle")
            .field("running", &self.live().is_ok())
            .finish()
    }
}

fn invalid(field: &str, value: f64, problem: &str, allowed: String) -> ControlError {
    ControlError::Invalid(ConfigError::new(field, &num(value), problem, allowed))
}

/// The pool size `workers` may be resized to in `run`: 0 to the most workers, or the
/// autoscaler's `minWorkers`–`maxWorkers` while one runs; fan-out has no pool.
pub(crate) fn allowed_size(run: &RunShared, workers: f64) -> Result<u32, ControlError> {
    if !run.config.has_pool() {
        return Err(invalid(
            "workers",
            workers,
            "cannot be changed: fan-out starts a goroutine per job and has no pool",
            "a pattern with a pool (pool, failfast, ratelimit)".to_owned(),
        ));
    }
    let (min, max) = if run.config.scaling == Scaling::Fixed {
        (0, MAX_WORKERS)
    } else {
        (run.config.min_workers, run.config.max_workers)
    };
    let range = Range {
        min: min as f64,
        max: max as f64,
        whole: true,
        unit: "goroutines".to_owned(),
    };
    range
        .check("workers", workers, &num(workers))
        .map(|()| workers as u32)
        .map_err(ControlError::Invalid)
}

/// `given` read as a number in `range`, or the error naming `field`, the value as given
/// and the range.
fn number(field: &str, given: &str, range: &Range) -> Result<f64, ControlError> {
    let value = given.trim().parse::<f64>().unwrap_or(f64::NAN);
    let shown = if given.trim().is_empty() {
        ""
    } else {
        given.trim()
    };
    range
        .check(field, value, shown)
        .map(|()| value)
        .map_err(ControlError::Invalid)
}

impl RunHandle {
    pub(crate) fn new(run: &Arc<RunShared>) -> RunHandle {
        RunHandle {
            run: Arc::downgrade(run),
        }
    }

    fn live(&self) -> Result<Arc<RunShared>, ControlError> {
        match self.run.upgrade() {
            // Done but not yet reported is over too: a resize would change nothing.
            Some(run) if !run.has_ended() && !run.is_done() => Ok(run),
            _ => Err(ControlError::Ended),
        }
    }

    /// Resizes the pool to `workers` (0 pauses it). Growing starts workers at once;
    /// shrinking lets the removed workers finish their jobs ([`Shrink::Graceful`]) or
    /// stops those jobs ([`Shrink::StopNow`], counted as cancelled). With an autoscaler
    /// the new size must lie in its range, and it carries on from there.
    pub fn resize(&self, workers: f64, shrink: Shrink) -> Result<(), ControlError> {
        self.resize_given(&num(workers), shrink, None)
    }

    /// [`set_rate`](Self::set_rate) with the values as given (text).
    pub fn set_rate_given(&self, rate: &str, burst: Option<&str>) -> Result<(), ControlError> {
        let run = self.live()?;
        let range = |name: &str| run.config.ranges(name).expect("a numeric setting");
        let rate = number("rate", rate, &range("rate"))?;
        let burst = burst
            .map(|b| number("burst", b, &range("burst")))
            .transpose()?;
        self.set_rate(rate, burst)
    }

    /// [`resize`](Self::resize) with the size as given (text from a form or a script):
    /// an error shows it as it was given. With `seq`, the request is numbered (it may
    /// also have come through shared memory: see [`super::abort_slot`]) and applied once.
    pub fn resize_given(
        &self,
        given: &str,
        shrink: Shrink,
        seq: Option<u16>,
    ) -> Result<(), ControlError> {
        let run = self.live()?;
        let value = given.trim().parse::<f64>().unwrap_or(f64::NAN);
        let to = allowed_size(&run, value).map_err(|e| match e {
            // Show the value as it was given, not as the number it read as.
            ControlError::Invalid(e) => ControlError::Invalid(ConfigError::new(
                &e.field,
                given.trim(),
                &e.problem,
                e.allowed,
            )),
            other => other,
        })?;
        let cause = match shrink {
            Shrink::Graceful => "manual",
            Shrink::StopNow => "manual (stop now)",
        };
        let applied = match seq {
            Some(seq) => run.resize_once(seq, to, shrink, cause),
            None => run.resize(to, shrink, cause).is_some(),
        };
        // Not applied: already (through shared memory), or the run had just finished.
        if !applied && run.is_done() {
            return Err(ControlError::Ended);
        }
        Ok(())
    }

    /// Changes the rate (jobs/s) and, for the token bucket, the burst, from now on
    /// (x/time/rate's `SetLimit`/`SetBurst`; for the ticker, `Reset` to the new
    /// period). Only rate-limited runs have a rate.
    pub fn set_rate(&self, rate: f64, burst: Option<f64>) -> Result<(), ControlError> {
        let run = self.live()?;
        if run.config.pattern != Pattern::RateLimit {
            return Err(invalid(
                "rate",
                rate,
                "cannot be changed: this run has no rate limiter",
                "a rate-limited pipeline (pattern ratelimit)".to_owned(),
            ));
        }
        let check = |name: &str, value: f64| -> Result<(), ControlError> {
            let spec = field_spec(name).expect("a declared setting");
            let range = run.config.ranges(spec.name).expect("a numeric setting");
            number(name, &num(value), &range).map(|_| ())
        };
        check("rate", rate)?;
        if let Some(burst) = burst {
            check("burst", burst)?;
            if run.config.pacing == Pacing::Ticker {
                return Err(invalid(
                    "burst",
                    burst,
                    "cannot be set: a ticker has no burst",
                    "token bucket pacing".to_owned(),
                ));
            }
        }
        let current_burst = run.rate_control.current_burst(run.config.burst);
        run.rate_control.request(RateChange {
            rate,
            burst: burst.map_or(current_burst, |b| b as u32),
        });
        Ok(())
    }

    /// The pool's target worker count now (`None` once the run is over).
    pub fn workers(&self) -> Option<u32> {
        self.live().ok().map(|run| run.workers.target())
    }
}
