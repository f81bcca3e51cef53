//! `golang.org/x/sync/errgroup` for async Rust: a group of tasks that fail together.
//!
//! Go's semantics, kept:
//! - [`Group::with_context`] derives a [`CancelToken`] that is cancelled by the first
//!   task to return an error, or by [`Group::wait`] when it returns; that first error
//!   is what `wait` returns (later errors are dropped).
//! - [`Group::set_limit`] bounds the tasks active at once (`None`: no bound). Setting a
//!   bound while tasks hold slots of the current one is refused, as Go panics; removing
//!   it is always allowed, and tasks started under an earlier bound (or none) do not
//!   count against a new one. A limit of 0 admits nothing. (Go's tasks give a slot back
//!   to whatever bound is current when they end, so one started under an earlier bound
//!   takes a slot of the new one — scalelab does not copy that.)
//! - [`Group::go`] waits for a free slot, then starts the task; [`Group::try_go`] starts
//!   it only if a slot is free now, and says whether it did (Go's `TryGo`).
//!
//! One difference, by design: the group is *structured*. Its tasks are futures it owns
//! and drives while its owner awaits [`go`](Group::go) or [`wait`](Group::wait) (or
//! polls [`poll_tasks`](Group::poll_tasks)), rather than goroutines on a scheduler of
//! their own — the shape of `FuturesUnordered`, with no executor assumed. CPU work
//! inside a task can still run in parallel on a `CpuPool`. tests/go_errgroup.rs checks
//! the group against Go's own package, call for call.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::{FuturesUnordered, StreamExt as _};

use crate::cancel::CancelToken;

/// A task, and the limit it took a slot of (its generation), if any.
type Task<'a, E> = Pin<Box<dyn Future<Output = (Option<u64>, Result<(), E>)> + 'a>>;

/// A group of tasks (see the module documentation).
pub struct Group<'a, E> {
    token: Option<CancelToken>,
    limit: Option<usize>,
    /// Which limit is current: each `set_limit` starts a new one (Go: a new `sem`).
    generation: u64,
    /// Tasks holding a slot of the current limit (Go: `len(g.sem)`).
    slots: usize,
    tasks: FuturesUnordered<Task<'a, E>>,
    error: Option<E>,
}

/// [`Group::set_limit`] while tasks are active (Go panics with the same words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitWhileActive(pub usize);

impl fmt::Display for LimitWhileActive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "errgroup: modify limit while {} goroutines in the group are still active",
            self.0
        )
    }
}

impl std::error::Error for LimitWhileActive {}

impl<E> Default for Group<'_, E> {
    fn default() -> Self {
        Group {
            token: None,
            limit: None,
            generation: 0,
            slots: 0,
            tasks: FuturesUnordered::new(),
            error: None,
        }
    }
}

impl<'a, E> Group<'a, E> {
    /// A group with no context and no limit (Go: `new(errgroup.Group)`).
    pub fn new() -> Self {
        Self::default()
    }

    /// A group whose token, a child of `parent`, is cancelled by the first error or
    /// when [`wait`](Self::wait) returns (Go: `errgroup.WithContext`).
    ///
    /// ```
    /// use scalelab::cancel::CancelToken;
    /// use scalelab::errgroup::Group;
    ///
    /// let (mut group, token) = Group::<&str>::with_context(&CancelToken::new());
    /// let result = futures::executor::block_on(async {
    ///     group.go(async { Ok(()) }).await;
    ///     group.go(async { Err("job 2 failed") }).await;
    ///     group.wait().await
    /// });
    /// assert_eq!(result, Err("job 2 failed"));
    /// assert!(token.is_cancelled());
    /// ```
    pub fn with_context(parent: &CancelToken) -> (Self, CancelToken) {
        let token = parent.child();
        let group = Group {
            token: Some(token.clone()),
            ..Self::default()
        };
        (group, token)
    }

    /// Tasks started and not yet finished.
    pub fn active(&self) -> usize {
        self.tasks.len()
    }

    /// Bounds the tasks active at once; `None` removes the bound (Go: `SetLimit`, with
    /// a negative `n` for none). A new bound is refused while tasks hold slots of the
    /// current one.
    pub fn set_limit(&mut self, limit: Option<usize>) -> Result<(), LimitWhileActive> {
        if limit.is_some() && self.slots > 0 {
            return Err(LimitWhileActive(self.slots));
        }
        self.limit = limit;
        self.generation += 1;
        self.slots = 0;
        Ok(())
    }

    fn has_room(&self) -> bool {
        self.limit.is_none_or(|limit| self.slots < limit)
    }

    /// Starts `task`, taking a slot of the current limit if there is one.
    fn start(&mut self, task: impl Future<Output = Result<(), E>> + 'a) {
        let slot = self.limit.map(|_| self.generation);
        if slot.is_some() {
            self.slots += 1;
        }
        self.tasks.push(Box::pin(async move { (slot, task.await) }));
    }

    /// Starts `task` once a slot is free, driving the group's tasks while it waits (Go:
    /// `Go`, which blocks the caller at the limit). With a limit of 0 it never returns.
    pub async fn go(&mut self, task: impl Future<Output = Result<(), E>> + 'a) {
        while !self.has_room() {
            poll_fn(|cx| self.poll_one(cx)).await;
        }
        self.start(task);
    }

    /// Starts `task` if a slot is free now; `false` (and `task` dropped, never run)
    /// otherwise (Go: `TryGo`).
    pub fn try_go(&mut self, task: impl Future<Output = Result<(), E>> + 'a) -> bool {
        if !self.has_room() {
            return false;
        }
        self.start(task);
        true
    }

    /// Drives the tasks until one finishes (recording the first error, and cancelling
    /// the token at it); `Ready` at once when there are none.
    fn poll_one(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.tasks.poll_next_unpin(cx) {
            Poll::Ready(Some((slot, result))) => {
                if slot.is_some_and(|generation| generation == self.generation) {
                    self.slots -= 1;
                }
                if let Err(error) = result
                    && self.error.is_none()
                {
                    self.error = Some(error);
                    if let Some(token) = &self.token {
                        token.cancel();
                    }
                }
                Poll::Ready(())
            }
            Poll::Ready(None) => Poll::Ready(()),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Drives the tasks: every task that can finish now does; `Ready` once none is
    /// left. For a caller that runs the group from its own poll loop.
    pub fn poll_tasks(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        while !self.tasks.is_empty() {
            if self.poll_one(cx).is_pending() {
                return Poll::Pending;
            }
        }
        Poll::Ready(())
    }

    /// Waits for every task, cancels the token, and returns the first error (Go:
    /// `Wait`).
    pub async fn wait(mut self) -> Result<(), E> {
        poll_fn(|cx| self.poll_tasks(cx)).await;
        if let Some(token) = &self.token {
            token.cancel();
        }
        match self.error.take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Whether a task has failed (its error is what `wait` will return).
    pub fn has_failed(&self) -> bool {
        self.error.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::channel::oneshot;
    use futures::executor::block_on;

    #[test]
    fn the_first_error_wins_and_cancels_the_token() {
        let (mut group, token) = Group::with_context(&CancelToken::new());
        let (later_tx, later_rx) = oneshot::channel::<()>();
        assert!(group.try_go(async move {
            later_rx.await.ok();
            Err("later")
        }));
        assert!(group.try_go(async { Err("first") }));
        assert!(group.try_go(async { Ok(()) }));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(
            group.poll_tasks(&mut cx).is_pending(),
            "one task still waits"
        );
        assert!(group.has_failed() && token.is_cancelled());
        later_tx.send(()).unwrap();
        assert_eq!(block_on(group.wait()), Err("first"));
    }

    #[test]
    fn wait_cancels_the_token_even_without_an_error() {
        let (mut group, token) = Group::<()>::with_context(&CancelToken::new());
        block_on(async {
            group.go(async { Ok(()) }).await;
            assert!(!token.is_cancelled());
            assert_eq!(group.wait().await, Ok(()));
        });
        assert!(token.is_cancelled());
    }

    #[test]
    fn the_limit_bounds_active_tasks_and_try_go_says_so() {
        let mut group = Group::<()>::new();
        group.set_limit(Some(2)).unwrap();
        let (a_tx, a_rx) = oneshot::channel::<()>();
        let (b_tx, b_rx) = oneshot::channel::<()>();
        assert!(group.try_go(async move {
            a_rx.await.ok();
            Ok(())
        }));
        assert!(group.try_go(async move {
            b_rx.await.ok();
            Ok(())
        }));
        assert!(!group.try_go(async { Ok(()) }), "two active: no room");
        assert_eq!(group.active(), 2);
        assert_eq!(group.set_limit(Some(3)), Err(LimitWhileActive(2)));
        a_tx.send(()).unwrap();
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(group.poll_tasks(&mut cx).is_pending());
        assert_eq!(group.active(), 1);
        assert!(group.try_go(async { Ok(()) }), "a slot came free");
        b_tx.send(()).unwrap();
        assert_eq!(block_on(group.wait()), Ok(()));
    }

    #[test]
    fn go_at_the_limit_drives_the_group_until_a_slot_frees() {
        let mut group = Group::<()>::new();
        group.set_limit(Some(1)).unwrap();
        let order = std::cell::RefCell::new(Vec::new());
        block_on(async {
            for i in 0..3 {
                let order = &order;
                group
                    .go(async move {
                        order.borrow_mut().push(i);
                        Ok(())
                    })
                    .await;
                assert_eq!(group.active(), 1);
            }
            group.wait().await
        })
        .unwrap();
        assert_eq!(*order.borrow(), vec![0, 1, 2]);
    }

    #[test]
    fn a_limit_of_zero_admits_nothing() {
        let mut group = Group::<()>::new();
        group.set_limit(Some(0)).unwrap();
        assert!(!group.try_go(async { Ok(()) }));
        assert_eq!(
            LimitWhileActive(3).to_string(),
            "errgroup: modify limit while 3 goroutines in the group are still active"
        );
    }
}
