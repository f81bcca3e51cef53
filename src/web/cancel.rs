//! Cancellation at the JavaScript edge: `AbortSignal` <-> [`CancelToken`], and the
//! `CancelToken` class exported to JavaScript.

use std::time::Duration;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, AbortSignal};

use super::time::PerformanceClock;
use crate::cancel::{CancelError, CancelToken};

/// The text of an abort reason: an `Error`'s message, a string as is, anything else
/// through `String()`; an absent reason reads as Go's "context canceled".
fn reason_text(reason: &JsValue) -> String {
    if reason.is_undefined() {
        return CancelError::Canceled.to_string();
    }
    if let Some(error) = reason.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    reason
        .as_string()
        .unwrap_or_else(|| String::from(js_sys::JsString::from(reason.clone())))
}

/// Whether an abort reason is a timeout (`AbortSignal.timeout()` aborts with a
/// `TimeoutError` DOMException), which maps to Go's `DeadlineExceeded`.
fn is_timeout(reason: &JsValue) -> bool {
    reason
        .dyn_ref::<js_sys::Error>()
        .is_some_and(|e| e.name() == "TimeoutError")
}

/// Cancels `token` as an abort with `reason` says: a timeout becomes a passed deadline,
/// anything else a cancel whose cause is the reason's text.
fn cancel_from_reason(token: &CancelToken, reason: &JsValue) {
    if is_timeout(reason) {
        token.expire_now();
    } else {
        token.cancel_with(reason_text(reason));
    }
}

/// Keeps an `AbortSignal` connected to a token; dropping it removes the listener.
pub struct AbortLink {
    signal: AbortSignal,
    listener: Option<Closure<dyn FnMut()>>,
}

impl Drop for AbortLink {
    fn drop(&mut self) {
        if let Some(listener) = self.listener.take() {
            let _ = self
                .signal
                .remove_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
        }
    }
}

/// A fresh root token, tied to `signal` when there is one (see [`token_from_signal`]);
/// keep the link alive as long as the token is in use.
pub fn root_token(signal: Option<&AbortSignal>) -> (CancelToken, Option<AbortLink>) {
    let root = CancelToken::new();
    match signal {
        Some(signal) => {
            let (token, link) = token_from_signal(&root, signal);
            (token, Some(link))
        }
        None => (root, None),
    }
}

/// A child of `parent` that is cancelled when `signal` aborts (with the signal's
/// reason as cause), for as long as the returned link lives. If the signal has already
/// aborted, the token starts cancelled.
pub fn token_from_signal(parent: &CancelToken, signal: &AbortSignal) -> (CancelToken, AbortLink) {
    let token = parent.child();
    if signal.aborted() {
        cancel_from_reason(&token, &signal.reason());
        return (
            token,
            AbortLink {
                signal: signal.clone(),
                listener: None,
            },
        );
    }
    let target = token.clone();
    let source = signal.clone();
    let listener =
        Closure::<dyn FnMut()>::new(move || cancel_from_reason(&target, &source.reason()));
    let _ = signal.add_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
    (
        token,
        AbortLink {
            signal: signal.clone(),
            listener: Some(listener),
        },
    )
}

/// An `AbortSignal` that aborts (with the cause's text as reason) once `token` is
/// cancelled, from whichever thread cancels it. The abort is delivered on this thread's
/// event loop, because JavaScript objects belong to the thread that made them.
pub fn signal_from_token(token: &CancelToken) -> AbortSignal {
    let controller = AbortController::new().expect("AbortController is available");
    let signal = controller.signal();
    let token = token.clone();
    wasm_bindgen_futures::spawn_local(async move {
        token.cancelled().await;
        let reason = token.cause().map(|c| c.to_string()).unwrap_or_default();
        controller.abort_with_reason(&JsValue::from_str(&reason));
    });
    signal
}

/// Go-style cancellation for JavaScript: a tree of tokens, each cancelled when its
/// parent is; `isCancelled` is a single shared-memory read, visible at once to code
/// running on the engine's threads.
#[wasm_bindgen(js_name = CancelToken)]
pub struct JsCancelToken {
    inner: CancelToken,
    /// Keeps a `fromAbortSignal` link alive as long as the token object.
    _link: Option<AbortLink>,
}

#[wasm_bindgen(js_class = CancelToken)]
impl JsCancelToken {
    /// A new root token.
    #[wasm_bindgen(constructor)]
    pub fn new() -> JsCancelToken {
        JsCancelToken {
            inner: CancelToken::new(),
            _link: None,
        }
    }

    /// A token cancelled when `signal` aborts, with the signal's reason as cause
    /// (`AbortSignal.timeout()` reads as a passed deadline).
    #[wasm_bindgen(js_name = fromAbortSignal)]
    pub fn from_abort_signal(signal: &AbortSignal) -> JsCancelToken {
        let (inner, link) = token_from_signal(&CancelToken::new(), signal);
        JsCancelToken {
            inner,
            _link: Some(link),
        }
    }

    /// An `AbortSignal` that aborts when this token is cancelled.
    #[wasm_bindgen(js_name = toAbortSignal)]
    pub fn to_abort_signal(&self) -> AbortSignal {
        signal_from_token(&self.inner)
    }

    /// A child token: cancelled with this one, cancellable on its own.
    pub fn child(&self) -> JsCancelToken {
        JsCancelToken {
            inner: self.inner.child(),
            _link: None,
        }
    }

    /// A child that is also cancelled `timeoutMs` milliseconds from now (never later than
    /// this token's own deadline). A browser timer enforces the deadline.
    #[wasm_bindgen(js_name = childWithTimeout)]
    pub fn child_with_timeout(&self, timeout_ms: f64) -> Result<JsCancelToken, JsError> {
        if !(timeout_ms.is_finite() && timeout_ms >= 0.0) {
            return Err(JsError::new(&format!(
                "timeoutMs: {timeout_ms} is not allowed; allowed: a finite number of milliseconds >= 0"
            )));
        }
        let clock = std::sync::Arc::new(PerformanceClock);
        let inner = self
            .inner
            .child_with_timeout(Duration::from_secs_f64(timeout_ms / 1000.0), clock);
        arm_deadline(&inner);
        Ok(JsCancelToken { inner, _link: None })
    }

    /// Cancels this token and its children; `reason` (optional) becomes the cause.
    pub fn cancel(&self, reason: JsValue) {
        if reason.is_undefined() {
            self.inner.cancel();
        } else {
            self.inner.cancel_with(reason_text(&reason));
        }
    }

    /// Whether the token is cancelled.
    #[wasm_bindgen(getter, js_name = isCancelled)]
    pub fn is_cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }

    /// `"canceled"`, `"deadline exceeded"`, or `undefined` while not cancelled.
    #[wasm_bindgen(getter)]
    pub fn err(&self) -> Option<String> {
        self.inner.err().map(|e| match e {
            CancelError::Canceled => "canceled".to_owned(),
            CancelError::DeadlineExceeded => "deadline exceeded".to_owned(),
        })
    }

    /// The cause's text, or `undefined` while not cancelled.
    #[wasm_bindgen(getter)]
    pub fn cause(&self) -> Option<String> {
        self.inner.cause().map(|c| c.to_string())
    }
}

impl Default for JsCancelToken {
    fn default() -> Self {
        Self::new()
    }
}

impl JsCancelToken {
    /// The core token (for other glue).
    pub fn token(&self) -> &CancelToken {
        &self.inner
    }
}

/// Makes a browser timer expire `token` when its deadline comes (the core only records
/// deadlines; Go arms a timer for each, and this is ours).
pub fn arm_deadline(token: &CancelToken) {
    let Some(deadline) = token.deadline() else {
        return;
    };
    let token = token.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let clock = PerformanceClock;
        loop {
            use crate::clock::Clock;
            let now = clock.now();
            if token.is_cancelled() || token.expire_if_due() {
                return;
            }
            let wait = deadline.saturating_sub(now).max(Duration::from_millis(1));
            let sleep = gloo_timers::future::sleep(wait);
            futures::pin_mut!(sleep);
            // Stop early if the token is cancelled some other way.
            if let futures::future::Either::Right(_) =
                futures::future::select(sleep, token.cancelled()).await
            {
                return;
            }
        }
    });
}
