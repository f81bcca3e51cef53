//! Context-style cancellation: a tree of [`CancelToken`]s with Go's `context` semantics.
//!
//! | Go | here |
//! | --- | --- |
//! | `context.WithCancel(parent)` | [`CancelToken::child`] |
//! | `context.WithDeadline` / `WithTimeout` | [`CancelToken::child_with_deadline`] / [`CancelToken::child_with_timeout`] |
//! | `cancel()` / `CancelCauseFunc(cause)` | [`CancelToken::cancel`] / [`CancelToken::cancel_with`] |
//! | `ctx.Err()` / `context.Cause(ctx)` | [`CancelToken::err`] / [`CancelToken::cause`] |
//! | `<-ctx.Done()` | [`CancelToken::cancelled`] (a future) or [`CancelToken::is_cancelled`] (a poll) |
//! | `context.AfterFunc(ctx, f)` and its `stop` | [`CancelToken::after_cancel`] and [`AfterCancel::stop`] |
//!
//! Deadlines are read from an injected [`Clock`]. Go arms a timer for each deadline; the
//! core has no timers, so whoever owns the clock's timers calls
//! [`CancelToken::expire_if_due`] when a deadline comes (the engine's coordinator and
//! [`crate::limiter::RateLimiter::wait_n`] do). A deadline already past when a child is
//! made cancels it at once, as in Go.
//!
//! # Invariants
//! 1. A node's `cancelled` flag is `true` iff its `state.reason` is `Some`. The reason is
//!    written under the node's lock *before* the flag is stored with `Release`; a reader
//!    that loads the flag with `Acquire` and then takes the lock finds the reason. The
//!    flag alone is what hot loops poll: one `Acquire` load, no lock.
//! 2. A node is cancelled at most once; the first reason wins (later cancels are no-ops).
//! 3. A child is registered in its parent's `children` only while the parent is not
//!    cancelled. Cancelling drains `children` under the same lock, so every child is
//!    either drained (and then cancelled with the parent's reason) or created already
//!    cancelled. No child can miss its parent's cancellation.
//! 4. At most one node lock is held at any time: cancelling collects children,
//!    callbacks and wakers under the lock, releases it, and only then cancels the
//!    children, runs callbacks and wakes tasks. Hence no lock-order deadlock, and user
//!    callbacks never run under a lock (they may use the token freely).
//! 5. A dropped node unregisters itself from its parent (taking only the parent's
//!    lock), so creating and dropping many children of a long-lived token does not grow
//!    it — unlike Go, where an uncancelled child stays attached until its parent ends.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use slab::Slab;

use crate::clock::Clock;
use crate::sync::{AtomicBool, Mutex, MutexGuard};

/// Why a token is cancelled, as Go's `ctx.Err()` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CancelError {
    /// Cancelled by a call to [`CancelToken::cancel`] / [`CancelToken::cancel_with`]
    /// (on it or an ancestor). Go: `context.Canceled`.
    Canceled,
    /// Its deadline (or an ancestor's) passed. Go: `context.DeadlineExceeded`.
    DeadlineExceeded,
}

impl fmt::Display for CancelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Go's exact texts.
        f.write_str(match self {
            CancelError::Canceled => "context canceled",
            CancelError::DeadlineExceeded => "context deadline exceeded",
        })
    }
}

impl Error for CancelError {}

/// The cause of a cancellation, as Go's `context.Cause(ctx)` reports it: the error given
/// to [`CancelToken::cancel_with`], or the [`CancelError`] itself when none was given.
pub type Cause = Arc<dyn Error + Send + Sync + 'static>;

#[derive(Clone)]
struct Reason {
    err: CancelError,
    cause: Cause,
}

/// An absolute deadline on a clock, and the cause it cancels with (Go's
/// `WithDeadlineCause`; `DeadlineExceeded` itself when none was given).
struct Deadline {
    at: Duration,
    clock: Arc<dyn Clock>,
    cause: Option<Cause>,
}

type Callback = Box<dyn FnOnce() + Send + 'static>;

#[derive(Default)]
struct State {
    reason: Option<Reason>,
    children: Slab<Weak<Node>>,
    callbacks: Slab<Callback>,
    wakers: Slab<Waker>,
}

struct Node {
    /// Invariant 1: true iff `state.reason.is_some()`; stored with `Release` after the
    /// reason is written, loaded with `Acquire`.
    cancelled: AtomicBool,
    state: Mutex<State>,
    /// The parent, if any (children keep their parent alive; parents hold children
    /// weakly).
    parent: Option<Arc<Node>>,
    /// This node's key in the parent's `children`; `None` when it was made already
    /// cancelled and so never registered (invariants 3 and 5).
    key_in_parent: Option<usize>,
    /// This node's own deadline, if it was made with one (earlier than any ancestor's).
    deadline: Option<Deadline>,
}

impl Node {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere; the state itself is always
        // consistent because callbacks never run under it (invariant 4).
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    fn reason(&self) -> Option<Reason> {
        if !self.is_cancelled() {
            return None;
        }
        self.lock().reason.clone()
    }
}

impl Node {
    /// Unregisters from the parent (invariant 5) and hands back the parent reference.
    fn unlink(&mut self) -> Option<Arc<Node>> {
        let parent = self.parent.take()?;
        if let Some(key) = self.key_in_parent {
            // The slot may already be gone if the parent was cancelled (drained).
            parent.lock().children.try_remove(key);
        }
        Some(parent)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // Dropping the last handle of a long chain would otherwise drop each ancestor
        // recursively (one stack frame per level); walk up iteratively instead.
        let mut next = self.unlink();
        while let Some(parent) = next {
            next = match Arc::into_inner(parent) {
                Some(mut last_ref) => last_ref.unlink(),
                None => None,
            };
        }
    }
}

/// Cancels `root` and its whole subtree with `reason`. Flags flip for the whole subtree
/// first (so polling jobs see it as early as possible); callbacks and wakers run after,
/// with no lock held (invariant 4).
fn cancel_tree(root: Arc<Node>, reason: Reason) {
    let mut pending = vec![root];
    let mut callbacks = Vec::new();
    let mut wakers = Vec::new();
    while let Some(node) = pending.pop() {
        let mut state = node.lock();
        if state.reason.is_some() {
            continue; // invariant 2: first reason wins
        }
        state.reason = Some(reason.clone());
        node.cancelled.store(true, Ordering::Release);
        pending.extend(state.children.drain().filter_map(|child| child.upgrade()));
        callbacks.extend(state.callbacks.drain());
        wakers.extend(state.wakers.drain());
    }
    for waker in wakers {
        waker.wake();
    }
    for callback in callbacks {
        callback();
    }
}

/// A cheap, cloneable, `Send + Sync` handle to a node of a cancellation tree.
///
/// Clones share the node: cancelling any clone cancels them all. Children made with
/// [`child`](Self::child) are cancelled when their parent is; cancelling a child never
/// touches its parent.
#[derive(Clone)]
pub struct CancelToken {
    node: Arc<Node>,
}

impl Default for CancelToken {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = self.node.reason();
        f.debug_struct("CancelToken")
            .field("cancelled", &reason.is_some())
            .field("err", &reason.as_ref().map(|r| r.err))
            .field("cause", &reason.as_ref().map(|r| r.cause.to_string()))
            .field("deadline", &self.deadline())
            .finish()
    }
}

impl CancelToken {
    /// A new root token (Go: `context.WithCancel(context.Background())`).
    ///
    /// ```
    /// use scalelab::cancel::{CancelError, CancelToken};
    ///
    /// let root = CancelToken::new();
    /// let request = root.child();
    /// let step = request.child();
    /// request.cancel_with("client went away");
    /// // Cancelling a token cancels its subtree, with its reason, and not its parent.
    /// assert_eq!(step.err(), Some(CancelError::Canceled));
    /// assert_eq!(step.cause().unwrap().to_string(), "client went away");
    /// assert!(!root.is_cancelled());
    /// ```
    pub fn new() -> CancelToken {
        CancelToken {
            node: Arc::new(Node {
                cancelled: AtomicBool::new(false),
                state: Mutex::new(State::default()),
                parent: None,
                key_in_parent: None,
                deadline: None,
            }),
        }
    }

    /// A child token: cancelled when `self` is (with `self`'s reason), and cancellable
    /// on its own without affecting `self`. Go: `context.WithCancel(ctx)`.
    pub fn child(&self) -> CancelToken {
        self.make_child(None)
    }

    /// A child that is also cancelled with [`CancelError::DeadlineExceeded`] once `clock`
    /// reaches `at`. If `self` already has an earlier deadline, the child simply inherits
    /// it (a child's deadline is never later than its parent's, as
    /// `context.WithDeadline`). If `at` has already passed, the child starts cancelled.
    pub fn child_with_deadline(&self, at: Duration, clock: Arc<dyn Clock>) -> CancelToken {
        self.deadline_child(at, clock, None)
    }

    /// [`child_with_deadline`](Self::child_with_deadline) at `clock.now() + timeout`.
    /// Go: `context.WithTimeout(ctx, timeout)`.
    pub fn child_with_timeout(&self, timeout: Duration, clock: Arc<dyn Clock>) -> CancelToken {
        let at = clock.now().saturating_add(timeout);
        self.child_with_deadline(at, clock)
    }

    /// [`child_with_deadline`](Self::child_with_deadline) whose expiry reports `cause` as
    /// its [`cause`](Self::cause) (its [`err`](Self::err) is still
    /// [`CancelError::DeadlineExceeded`]). Go: `context.WithDeadlineCause`; as there,
    /// a parent's earlier deadline wins, with the parent's cause.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scalelab::cancel::{CancelError, CancelToken};
    /// use scalelab::clock::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let call = CancelToken::new().child_with_timeout_cause(
    ///     Duration::from_millis(50),
    ///     clock.clone(),
    ///     "the backend took longer than its 50 ms budget",
    /// );
    /// clock.advance(Duration::from_millis(50));
    /// assert!(call.expire_if_due());
    /// assert_eq!(call.err(), Some(CancelError::DeadlineExceeded));
    /// assert_eq!(call.cause().unwrap().to_string(), "the backend took longer than its 50 ms budget");
    /// ```
    pub fn child_with_deadline_cause(
        &self,
        at: Duration,
        clock: Arc<dyn Clock>,
        cause: impl Into<Box<dyn Error + Send + Sync + 'static>>,
    ) -> CancelToken {
        self.deadline_child(at, clock, Some(Arc::from(cause.into())))
    }

    /// [`child_with_deadline_cause`](Self::child_with_deadline_cause) at
    /// `clock.now() + timeout`. Go: `context.WithTimeoutCause`.
    pub fn child_with_timeout_cause(
        &self,
        timeout: Duration,
        clock: Arc<dyn Clock>,
        cause: impl Into<Box<dyn Error + Send + Sync + 'static>>,
    ) -> CancelToken {
        let at = clock.now().saturating_add(timeout);
        self.child_with_deadline_cause(at, clock, cause)
    }

    fn deadline_child(
        &self,
        at: Duration,
        clock: Arc<dyn Clock>,
        cause: Option<Cause>,
    ) -> CancelToken {
        if matches!(self.deadline(), Some(parent_at) if parent_at <= at) {
            return self.child();
        }
        let now = clock.now();
        let child = self.make_child(Some(Deadline { at, clock, cause }));
        if now >= at {
            child.expire_if_due();
        }
        child
    }

    /// A token that is never cancelled by this one (nor by its deadline): a new root,
    /// for work that must finish even when the request that started it is cancelled —
    /// Go: `context.WithoutCancel(ctx)` (scalelab's tokens carry no values, so nothing
    /// else is kept).
    pub fn without_cancel(&self) -> CancelToken {
        CancelToken::new()
    }

    fn make_child(&self, deadline: Option<Deadline>) -> CancelToken {
        let mut parent_state = self.node.lock();
        if let Some(reason) = parent_state.reason.clone() {
            // Invariant 3: a cancelled parent makes children that start cancelled.
            drop(parent_state);
            let node = Arc::new(Node {
                cancelled: AtomicBool::new(true),
                state: Mutex::new(State {
                    reason: Some(reason),
                    ..State::default()
                }),
                parent: Some(self.node.clone()),
                key_in_parent: None,
                deadline,
            });
            return CancelToken { node };
        }
        let entry = parent_state.children.vacant_entry();
        let key = entry.key();
        let node = Arc::new(Node {
            cancelled: AtomicBool::new(false),
            state: Mutex::new(State::default()),
            parent: Some(self.node.clone()),
            key_in_parent: Some(key),
            deadline,
        });
        entry.insert(Arc::downgrade(&node));
        CancelToken { node }
    }

    /// Cancels this token and its descendants with [`CancelError::Canceled`] as both
    /// error and cause. No effect if it is already cancelled.
    pub fn cancel(&self) {
        self.cancel_reason(CancelError::Canceled, Arc::new(CancelError::Canceled));
    }

    /// Cancels this token and its descendants with `cause` (any error, or a string);
    /// [`err`](Self::err) then reports [`CancelError::Canceled`] and
    /// [`cause`](Self::cause) reports `cause`. Go: a `CancelCauseFunc`. No effect if it
    /// is already cancelled (the first cause wins).
    pub fn cancel_with(&self, cause: impl Into<Box<dyn Error + Send + Sync + 'static>>) {
        self.cancel_reason(CancelError::Canceled, Arc::from(cause.into()));
    }

    fn cancel_reason(&self, err: CancelError, cause: Cause) {
        if self.node.is_cancelled() {
            return;
        }
        cancel_tree(self.node.clone(), Reason { err, cause });
    }

    /// Cancels this token and its descendants as if a deadline had passed
    /// ([`CancelError::DeadlineExceeded`] as error and cause). The web glue uses it for
    /// `AbortSignal.timeout()` aborts.
    pub fn expire_now(&self) {
        self.cancel_reason(
            CancelError::DeadlineExceeded,
            Arc::new(CancelError::DeadlineExceeded),
        );
    }

    /// Whether this token is cancelled: a single atomic load, cheap enough to poll in a
    /// hot loop on any thread.
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.node.is_cancelled()
    }

    /// Why it was cancelled (Go: `ctx.Err()`); `None` while it is not.
    pub fn err(&self) -> Option<CancelError> {
        self.node.reason().map(|r| r.err)
    }

    /// What caused the cancellation (Go: `context.Cause(ctx)`); `None` while it is not
    /// cancelled. Downcast it to get the original error back.
    pub fn cause(&self) -> Option<Cause> {
        self.node.reason().map(|r| r.cause)
    }

    /// The earliest deadline of this token and its ancestors (Go: `ctx.Deadline()`), as
    /// a time on the clock it was given with.
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline_nodes().map(|(_, at)| at).min()
    }

    /// Nodes on the path to the root that own a deadline, with that deadline.
    fn deadline_nodes(&self) -> impl Iterator<Item = (&Node, Duration)> {
        std::iter::successors(Some(&*self.node), |node| node.parent.as_deref())
            .filter_map(|node| node.deadline.as_ref().map(|d| (node, d.at)))
    }

    /// Cancels with [`CancelError::DeadlineExceeded`] every token on the path to the root
    /// whose deadline has passed on its clock (their subtrees, this one included, follow).
    /// Returns whether this token is now cancelled. Call it when a deadline timer fires,
    /// or before deciding to start work.
    pub fn expire_if_due(&self) -> bool {
        for (node, at) in self.deadline_nodes() {
            let clock = &node.deadline.as_ref().expect("filtered on deadline").clock;
            if !node.is_cancelled() && clock.now() >= at {
                let cause = node.deadline.as_ref().and_then(|d| d.cause.clone());
                let reason = Reason {
                    err: CancelError::DeadlineExceeded,
                    cause: cause.unwrap_or_else(|| Arc::new(CancelError::DeadlineExceeded)),
                };
                // Walking up from self: the node is an ancestor (or self); cancelling it
                // reaches self through the tree.
                let owner = self.owner_arc(node);
                cancel_tree(owner, reason);
            }
        }
        self.is_cancelled()
    }

    /// The `Arc` of `target`, an ancestor of (or equal to) this token's node.
    fn owner_arc(&self, target: &Node) -> Arc<Node> {
        let mut current = &self.node;
        loop {
            if std::ptr::eq(&**current, target) {
                return current.clone();
            }
            current = current.parent.as_ref().expect("target is an ancestor");
        }
    }

    /// A future that completes once this token is cancelled — immediately if it already
    /// is. It wakes its task once. Go: `<-ctx.Done()`.
    pub fn cancelled(&self) -> Cancelled {
        Cancelled {
            node: self.node.clone(),
            key: None,
        }
    }

    /// Runs `f` once this token is cancelled, on the thread that cancels it; if it is
    /// already cancelled, runs `f` now, on this thread. Go: `context.AfterFunc`.
    ///
    /// Dropping the returned handle leaves `f` registered (as in Go); call
    /// [`AfterCancel::stop`] to take it back.
    pub fn after_cancel(&self, f: impl FnOnce() + Send + 'static) -> AfterCancel {
        let mut state = self.node.lock();
        if state.reason.is_some() {
            drop(state);
            f();
            return AfterCancel {
                node: self.node.clone(),
                key: None,
            };
        }
        let key = state.callbacks.insert(Box::new(f));
        AfterCancel {
            node: self.node.clone(),
            key: Some(key),
        }
    }

    /// Whether `self` and `other` are handles to the same node.
    pub fn same_as(&self, other: &CancelToken) -> bool {
        Arc::ptr_eq(&self.node, &other.node)
    }
}

/// Future returned by [`CancelToken::cancelled`].
#[must_use = "futures do nothing unless awaited"]
pub struct Cancelled {
    node: Arc<Node>,
    /// This future's slot in the node's `wakers` while it waits.
    key: Option<usize>,
}

impl Future for Cancelled {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.node.is_cancelled() {
            return Poll::Ready(());
        }
        let node = self.node.clone();
        let mut state = node.lock();
        if state.reason.is_some() {
            return Poll::Ready(());
        }
        match self.key {
            Some(key) => match state.wakers.get_mut(key) {
                // Replaced only if this poll's waker would wake another task.
                Some(waker) => waker.clone_from(cx.waker()),
                None => self.key = Some(state.wakers.insert(cx.waker().clone())),
            },
            None => self.key = Some(state.wakers.insert(cx.waker().clone())),
        }
        Poll::Pending
    }
}

impl Drop for Cancelled {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            // Drained already if the token was cancelled; keys are never reused after.
            self.node.lock().wakers.try_remove(key);
        }
    }
}

/// Handle to a callback registered with [`CancelToken::after_cancel`].
pub struct AfterCancel {
    node: Arc<Node>,
    key: Option<usize>,
}

impl AfterCancel {
    /// Unregisters the callback. Returns `true` if this stopped it from running, `false`
    /// if it has already run (or started) or was already stopped. Go: the `stop`
    /// function `context.AfterFunc` returns.
    pub fn stop(&mut self) -> bool {
        match self.key.take() {
            Some(key) => self.node.lock().callbacks.try_remove(key).is_some(),
            None => false,
        }
    }
}

impl fmt::Debug for AfterCancel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AfterCancel")
            .field("registered", &self.key.is_some())
            .finish()
    }
}

#[cfg(test)]
#[path = "cancel_test.rs"]
mod tests;

#[cfg(all(test, loom))]
#[path = "cancel_loom.rs"]
mod loom_tests;
