use super::*;
use crate::clock::ManualClock;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::AtomicUsize;
use std::task::Wake;

/// A waker that counts its wake-ups.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn poll_once<F: Future + Unpin>(future: &mut F, waker: &Arc<CountingWaker>) -> Poll<F::Output> {
    let waker = Waker::from(waker.clone());
    Pin::new(future).poll(&mut Context::from_waker(&waker))
}

#[test]
fn new_token_is_not_cancelled() {
    let token = CancelToken::new();
    assert!(!token.is_cancelled());
    assert_eq!(token.err(), None);
    assert!(token.cause().is_none());
    assert_eq!(token.deadline(), None);
}

#[test]
fn cancel_gives_canceled_as_err_and_cause() {
    let token = CancelToken::new();
    token.cancel();
    assert!(token.is_cancelled());
    assert_eq!(token.err(), Some(CancelError::Canceled));
    let cause = token.cause().unwrap();
    assert_eq!(
        cause.downcast_ref::<CancelError>(),
        Some(&CancelError::Canceled)
    );
    assert_eq!(cause.to_string(), "context canceled");
}

#[test]
fn cancel_with_keeps_the_cause_and_the_first_one_wins() {
    #[derive(Debug, PartialEq)]
    struct DiskFull;
    impl fmt::Display for DiskFull {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("disk full")
        }
    }
    impl Error for DiskFull {}

    let token = CancelToken::new();
    token.cancel_with(DiskFull);
    token.cancel_with("too late");
    token.cancel();
    assert_eq!(token.err(), Some(CancelError::Canceled));
    assert_eq!(
        token.cause().unwrap().downcast_ref::<DiskFull>(),
        Some(&DiskFull)
    );
}

#[test]
fn clones_share_the_node() {
    let a = CancelToken::new();
    let b = a.clone();
    assert!(a.same_as(&b));
    b.cancel();
    assert!(a.is_cancelled());
}

#[test]
fn parent_cancels_children_with_its_cause_and_not_the_reverse() {
    let root = CancelToken::new();
    let child = root.child();
    let grandchild = child.child();
    let sibling = root.child();

    grandchild.cancel_with("grandchild only");
    assert!(grandchild.is_cancelled());
    assert!(!child.is_cancelled() && !root.is_cancelled() && !sibling.is_cancelled());

    child.cancel_with("child and below");
    assert!(!root.is_cancelled() && !sibling.is_cancelled());
    assert_eq!(grandchild.cause().unwrap().to_string(), "grandchild only");

    root.cancel_with("everything");
    assert_eq!(sibling.cause().unwrap().to_string(), "everything");
    assert_eq!(sibling.err(), Some(CancelError::Canceled));
    assert_eq!(child.cause().unwrap().to_string(), "child and below");
}

#[test]
fn child_of_cancelled_parent_starts_cancelled() {
    let root = CancelToken::new();
    root.cancel_with("stop");
    let child = root.child();
    assert!(child.is_cancelled());
    assert_eq!(child.cause().unwrap().to_string(), "stop");
}

#[test]
fn dropped_children_unregister_from_their_parent() {
    let root = CancelToken::new();
    for _ in 0..1000 {
        let _child = root.child().child();
    }
    assert_eq!(root.node.lock().children.len(), 0);
    let kept = root.child();
    assert_eq!(root.node.lock().children.len(), 1);
    drop(kept);
    assert_eq!(root.node.lock().children.len(), 0);
}

#[test]
fn deadline_expires_only_when_the_clock_reaches_it() {
    let clock = ManualClock::new();
    let root = CancelToken::new();
    let token = root.child_with_timeout(Duration::from_millis(100), clock.clone());
    assert_eq!(token.deadline(), Some(Duration::from_millis(100)));
    assert!(!token.expire_if_due());
    clock.advance(Duration::from_millis(99));
    assert!(!token.expire_if_due());
    clock.advance(Duration::from_millis(1));
    assert!(token.expire_if_due());
    assert_eq!(token.err(), Some(CancelError::DeadlineExceeded));
    assert_eq!(
        token.cause().unwrap().to_string(),
        "context deadline exceeded"
    );
    assert!(
        !root.is_cancelled(),
        "a child's deadline never cancels its parent"
    );
}

#[test]
fn deadline_in_the_past_cancels_at_once() {
    let clock = ManualClock::starting_at(Duration::from_secs(5));
    let token = CancelToken::new().child_with_deadline(Duration::from_secs(4), clock);
    assert_eq!(token.err(), Some(CancelError::DeadlineExceeded));
}

#[test]
fn a_deadline_with_a_cause_reports_it_and_deadline_exceeded() {
    let clock = ManualClock::new();
    let root = CancelToken::new();
    let token = root.child_with_timeout_cause(Duration::from_millis(10), clock.clone(), "too slow");
    let child = token.child();
    assert_eq!(token.deadline(), Some(Duration::from_millis(10)));
    clock.advance(Duration::from_millis(9));
    assert!(!child.expire_if_due());
    clock.advance(Duration::from_millis(1));
    assert!(
        child.expire_if_due(),
        "a child expires its ancestor's deadline"
    );
    for t in [&token, &child] {
        assert_eq!(t.err(), Some(CancelError::DeadlineExceeded));
        assert_eq!(t.cause().unwrap().to_string(), "too slow");
    }
    assert!(!root.is_cancelled());

    // Already past: cancelled at once, with the cause.
    let late = CancelToken::new().child_with_deadline_cause(Duration::ZERO, clock.clone(), "late");
    assert_eq!(late.err(), Some(CancelError::DeadlineExceeded));
    assert_eq!(late.cause().unwrap().to_string(), "late");

    // Cancelled before the deadline: Canceled, with that cause.
    let early = CancelToken::new().child_with_timeout_cause(
        Duration::from_secs(1),
        clock.clone(),
        "unused",
    );
    early.cancel_with("client left");
    clock.advance(Duration::from_secs(2));
    assert!(early.expire_if_due());
    assert_eq!(early.err(), Some(CancelError::Canceled));
    assert_eq!(early.cause().unwrap().to_string(), "client left");
}

#[test]
fn a_parents_earlier_deadline_wins_with_its_own_cause() {
    let clock = ManualClock::new();
    let parent = CancelToken::new().child_with_timeout_cause(
        Duration::from_millis(5),
        clock.clone(),
        "parent budget",
    );
    let child =
        parent.child_with_timeout_cause(Duration::from_millis(50), clock.clone(), "child budget");
    assert_eq!(child.deadline(), Some(Duration::from_millis(5)));
    clock.advance(Duration::from_millis(5));
    assert!(child.expire_if_due());
    assert_eq!(child.cause().unwrap().to_string(), "parent budget");
}

#[test]
fn without_cancel_outlives_its_parent() {
    let clock = ManualClock::new();
    let request = CancelToken::new().child_with_timeout(Duration::from_millis(1), clock.clone());
    let cleanup = request.without_cancel();
    assert_eq!(cleanup.deadline(), None);
    clock.advance(Duration::from_millis(1));
    assert!(request.expire_if_due());
    request.cancel();
    assert!(!cleanup.is_cancelled() && !cleanup.expire_if_due());
    assert!(!cleanup.same_as(&request));
}

#[test]
fn child_deadline_is_never_later_than_the_parent() {
    let clock = ManualClock::new();
    let parent = CancelToken::new().child_with_deadline(Duration::from_secs(1), clock.clone());
    let later = parent.child_with_deadline(Duration::from_secs(5), clock.clone());
    assert_eq!(later.deadline(), Some(Duration::from_secs(1)));
    let earlier = parent.child_with_deadline(Duration::from_millis(300), clock.clone());
    assert_eq!(earlier.deadline(), Some(Duration::from_millis(300)));
    let plain = parent.child();
    assert_eq!(
        plain.deadline(),
        Some(Duration::from_secs(1)),
        "WithCancel children report the inherited deadline"
    );

    // The parent's deadline, found from a descendant, expires the parent (and so all).
    clock.set(Duration::from_secs(1));
    assert!(plain.expire_if_due());
    assert_eq!(parent.err(), Some(CancelError::DeadlineExceeded));
    assert_eq!(later.err(), Some(CancelError::DeadlineExceeded));
    assert_eq!(earlier.err(), Some(CancelError::DeadlineExceeded));
}

#[test]
fn cancelled_future_wakes_once_and_is_ready_after() {
    let token = CancelToken::new();
    let waker = Arc::new(CountingWaker::default());
    let mut wait = token.cancelled();
    assert!(poll_once(&mut wait, &waker).is_pending());
    assert!(
        poll_once(&mut wait, &waker).is_pending(),
        "re-polling does not register twice"
    );
    assert_eq!(token.node.lock().wakers.len(), 1);
    token.child().cancel(); // a child's cancel does not wake the parent's waiters
    assert_eq!(waker.0.load(Ordering::SeqCst), 0);
    token.cancel();
    assert_eq!(waker.0.load(Ordering::SeqCst), 1);
    assert!(poll_once(&mut wait, &waker).is_ready());
    token.cancel();
    assert_eq!(waker.0.load(Ordering::SeqCst), 1, "wakes once");
}

#[test]
fn cancelled_future_is_ready_if_cancelled_first() {
    let token = CancelToken::new();
    token.cancel();
    let waker = Arc::new(CountingWaker::default());
    assert!(poll_once(&mut token.cancelled(), &waker).is_ready());
    assert_eq!(waker.0.load(Ordering::SeqCst), 0);
}

#[test]
fn dropped_waiter_unregisters() {
    let token = CancelToken::new();
    let waker = Arc::new(CountingWaker::default());
    let mut wait = token.cancelled();
    assert!(poll_once(&mut wait, &waker).is_pending());
    drop(wait);
    assert_eq!(token.node.lock().wakers.len(), 0);
    token.cancel();
    assert_eq!(waker.0.load(Ordering::SeqCst), 0);
}

#[test]
fn after_cancel_runs_once_and_stop_prevents_it() {
    let token = CancelToken::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let mut kept = token.after_cancel(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let counter = runs.clone();
    let mut stopped = token.after_cancel(move || {
        counter.fetch_add(100, Ordering::SeqCst);
    });
    assert!(stopped.stop(), "stop before cancel prevents the run");
    assert!(!stopped.stop(), "a second stop reports nothing stopped");
    token.cancel();
    token.cancel();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert!(!kept.stop(), "stop after the callback ran returns false");
}

#[test]
fn after_cancel_on_cancelled_token_runs_immediately() {
    let token = CancelToken::new();
    token.cancel();
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let mut handle = token.after_cancel(move || flag.store(true, Ordering::SeqCst));
    assert!(ran.load(Ordering::SeqCst));
    assert!(!handle.stop());
}

#[test]
fn callbacks_may_use_the_token() {
    // Invariant 4: callbacks run with no lock held, so they can touch the tree (make a
    // child, cancel again) without deadlocking, and what they see is the cancelled tree.
    let root = CancelToken::new();
    let child = root.child();
    let inner = child.clone();
    let seen = Arc::new(StdMutex::new(Vec::new()));
    let log = seen.clone();
    let _h = child.after_cancel(move || {
        let grandchild = inner.child();
        inner.cancel();
        log.lock()
            .unwrap()
            .push((inner.is_cancelled(), inner.err(), grandchild.is_cancelled()));
    });
    root.cancel();
    assert_eq!(
        *seen.lock().unwrap(),
        vec![(true, Some(CancelError::Canceled), true)],
        "the callback ran once, saw the cancellation, and its new child was born cancelled"
    );
    root.cancel();
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "a second cancel runs nothing"
    );
}

#[test]
fn cancellation_crosses_threads() {
    let token = CancelToken::new();
    let worker_token = token.child();
    let worker = std::thread::spawn(move || {
        let mut spins = 0u64;
        while !worker_token.is_cancelled() {
            spins += 1;
            std::hint::spin_loop();
        }
        (spins, worker_token.err())
    });
    token.cancel();
    let (_, err) = worker.join().unwrap();
    assert_eq!(err, Some(CancelError::Canceled));
}

#[test]
fn deep_chains_cancel_without_recursion() {
    let root = CancelToken::new();
    let mut leaf = root.clone();
    let mut chain = Vec::new();
    for _ in 0..100_000 {
        leaf = leaf.child();
        chain.push(leaf.clone());
    }
    root.cancel();
    assert!(leaf.is_cancelled());
    drop(chain);
}

#[test]
fn a_waiter_polled_by_another_task_wakes_that_task() {
    // A future moved to another task must wake the task that polled it last.
    let token = CancelToken::new();
    let first = Arc::new(CountingWaker::default());
    let second = Arc::new(CountingWaker::default());
    let mut wait = token.cancelled();
    assert!(poll_once(&mut wait, &first).is_pending());
    assert!(poll_once(&mut wait, &second).is_pending());
    token.cancel();
    assert_eq!(
        first.0.load(Ordering::SeqCst),
        0,
        "the old task is not woken"
    );
    assert_eq!(second.0.load(Ordering::SeqCst), 1, "the last poller is");
}

#[test]
fn handles_say_what_they_are() {
    let token = CancelToken::new();
    let child = token.child();
    assert!(token.same_as(&token.clone()));
    assert!(!token.same_as(&child), "a child is another node");
    assert_eq!(
        format!("{token:?}"),
        "CancelToken { cancelled: false, err: None, cause: None, deadline: None }"
    );
    let mut registered = token.after_cancel(|| {});
    assert_eq!(
        format!("{registered:?}"),
        "AfterCancel { registered: true }"
    );
    assert!(registered.stop());
    assert_eq!(
        format!("{registered:?}"),
        "AfterCancel { registered: false }"
    );
    token.cancel_with("shutting down");
    assert_eq!(
        format!("{child:?}"),
        "CancelToken { cancelled: true, err: Some(Canceled), cause: Some(\"shutting down\"), deadline: None }"
    );
}
