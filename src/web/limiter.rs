//! The `RateLimiter` class exported to JavaScript: x/time/rate's limiter on
//! `performance.now()` and browser timers, with `wait` taking an `AbortSignal`.

use std::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::cancel::{arm_deadline, root_token};
use super::time::{BrowserTimer, PerformanceClock};
use crate::limiter::{RateLimiter, WaitError};

/// A limiter on the browser's clock and timers.
pub type BrowserRateLimiter = RateLimiter<PerformanceClock, BrowserTimer>;

/// A [`RateLimiter`] on `performance.now()` and browser timers.
pub fn browser_rate_limiter(
    limit: f64,
    burst: u32,
) -> Result<BrowserRateLimiter, crate::limiter::LimiterError> {
    RateLimiter::new(limit, burst, PerformanceClock, BrowserTimer)
}

/// Checks a JavaScript number meant as a `u32` count; the error names the field.
pub(crate) fn js_count(field: &str, value: f64) -> Result<u32, JsError> {
    if value.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&value) {
        Ok(value as u32)
    } else {
        Err(JsError::new(&format!(
            "{field}: {value} is not allowed; allowed: a whole number from 0 to {}",
            u32::MAX
        )))
    }
}

/// golang.org/x/time/rate's `Limiter` for JavaScript: a token bucket of `burst` tokens,
/// starting full, refilled at `limit` tokens per second (`Infinity` for no limit).
#[wasm_bindgen(js_name = RateLimiter)]
pub struct JsRateLimiter {
    inner: Rc<BrowserRateLimiter>,
}

#[wasm_bindgen(js_class = RateLimiter)]
impl JsRateLimiter {
    /// Throws an `Error` naming the field if `limit` is negative/NaN or `burst` is not a
    /// whole number in range.
    #[wasm_bindgen(constructor)]
    pub fn new(limit: f64, burst: f64) -> Result<JsRateLimiter, JsError> {
        let burst = js_count("burst", burst)?;
        let inner = browser_rate_limiter(limit, burst).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(JsRateLimiter {
            inner: Rc::new(inner),
        })
    }

    /// Takes `n` tokens (default 1) now if they are all there.
    pub fn allow(&self, n: Option<f64>) -> Result<bool, JsError> {
        Ok(self.inner.allow_n(js_count("n", n.unwrap_or(1.0))?))
    }

    /// Reserves `n` tokens (default 1) now and returns the milliseconds to wait before
    /// acting, or `Infinity` if `n` exceeds the burst.
    #[wasm_bindgen(js_name = reserveDelayMs)]
    pub fn reserve_delay_ms(&self, n: Option<f64>) -> Result<f64, JsError> {
        let r = self.inner.reserve_n(js_count("n", n.unwrap_or(1.0))?);
        Ok(if r.ok() {
            self.inner.delay(&r).as_secs_f64() * 1000.0
        } else {
            f64::INFINITY
        })
    }

    /// Resolves once `n` tokens (default 1) are granted. Rejects with an `Error` if `n`
    /// exceeds the burst, if `signal` has aborted or aborts while waiting (the tokens
    /// are then given back), or if the wait would outlast `timeoutMs`.
    pub fn wait(
        &self,
        n: Option<f64>,
        signal: Option<AbortSignal>,
        timeout_ms: Option<f64>,
    ) -> Result<js_sys::Promise, JsError> {
        let n = js_count("n", n.unwrap_or(1.0))?;
        let limiter = self.inner.clone();
        let (token, link) = root_token(signal.as_ref());
        let token = match timeout_ms {
            Some(ms) if ms.is_finite() && ms >= 0.0 => {
                let t = token.child_with_timeout(
                    std::time::Duration::from_secs_f64(ms / 1000.0),
                    std::sync::Arc::new(PerformanceClock),
                );
                arm_deadline(&t);
                t
            }
            Some(ms) => {
                return Err(JsError::new(&format!(
                    "timeoutMs: {ms} is not allowed; allowed: a finite number of milliseconds >= 0"
                )));
            }
            None => token,
        };
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            let _link = link;
            limiter
                .wait_n(n, &token)
                .await
                .map(|()| JsValue::UNDEFINED)
                .map_err(|e: WaitError| js_sys::Error::new(&e.to_string()).into())
        }))
    }

    /// Changes the rate from now on (tokens per second; `Infinity` for none).
    #[wasm_bindgen(js_name = setLimit)]
    pub fn set_limit(&self, limit: f64) -> Result<(), JsError> {
        self.inner
            .set_limit(limit)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Changes the burst from now on.
    #[wasm_bindgen(js_name = setBurst)]
    pub fn set_burst(&self, burst: f64) -> Result<(), JsError> {
        self.inner.set_burst(js_count("burst", burst)?);
        Ok(())
    }

    /// Tokens available now (negative while reservations hold debt).
    #[wasm_bindgen(getter)]
    pub fn tokens(&self) -> f64 {
        self.inner.tokens()
    }

    /// The rate in tokens per second.
    #[wasm_bindgen(getter)]
    pub fn limit(&self) -> f64 {
        self.inner.bucket().limit()
    }

    /// The bucket size.
    #[wasm_bindgen(getter)]
    pub fn burst(&self) -> u32 {
        self.inner.bucket().burst()
    }
}
