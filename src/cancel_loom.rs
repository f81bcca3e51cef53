//! loom models of the cancellation tree's races (run with `--cfg loom`; see
//! `src/sync.rs`). Each explores every interleaving of its threads.

use super::*;
use loom::sync::atomic::AtomicUsize;
use loom::thread;

/// Invariant 3: a child made while its parent is being cancelled is either drained and
/// cancelled with the parent, or made already cancelled — never left running.
#[test]
fn loom_a_child_made_during_a_cancel_is_cancelled() {
    loom::model(|| {
        let parent = CancelToken::new();
        let canceller = {
            let parent = parent.clone();
            thread::spawn(move || parent.cancel_with("stop"))
        };
        let child = parent.child();
        let grandchild = child.child();
        canceller.join().unwrap();
        assert!(child.is_cancelled(), "the child missed its parent's cancel");
        assert!(grandchild.is_cancelled(), "the grandchild missed it");
        assert_eq!(child.err(), Some(CancelError::Canceled));
        assert_eq!(child.cause().unwrap().to_string(), "stop");
    });
}

/// Invariant 2: two cancels race; one reason wins, and every node reports that one.
#[test]
fn loom_the_first_cause_wins_everywhere() {
    loom::model(|| {
        let root = CancelToken::new();
        let child = root.child();
        let a = {
            let root = root.clone();
            thread::spawn(move || root.cancel_with("a"))
        };
        let b = {
            let child = child.clone();
            thread::spawn(move || child.cancel_with("b"))
        };
        a.join().unwrap();
        b.join().unwrap();
        let root_cause = root.cause().unwrap().to_string();
        let child_cause = child.cause().unwrap().to_string();
        assert_eq!(
            root_cause, "a",
            "only the root's own cancel reaches the root"
        );
        assert!(child_cause == "a" || child_cause == "b");
        // The cause a node reports never changes once it is cancelled.
        assert_eq!(child.cause().unwrap().to_string(), child_cause);
    });
}

/// A callback registered while the token is being cancelled runs exactly once; `stop`
/// returns true exactly when it kept the callback from running.
#[test]
fn loom_after_cancel_runs_once_or_is_stopped() {
    loom::model(|| {
        let token = CancelToken::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let canceller = {
            let token = token.clone();
            thread::spawn(move || token.cancel())
        };
        let counter = runs.clone();
        let mut handle = token.after_cancel(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let stopped = handle.stop();
        canceller.join().unwrap();
        let ran = runs.load(Ordering::SeqCst);
        assert_eq!(
            ran + stopped as usize,
            1,
            "ran {ran} times, stopped: {stopped}"
        );
    });
}

/// Invariant 5: a child dropped while its parent is cancelled unlinks cleanly (no
/// deadlock between the child's unlink and the parent's drain; lock order is one lock
/// at a time, invariant 4).
#[test]
fn loom_dropping_a_child_during_a_cancel_does_not_deadlock() {
    loom::model(|| {
        let parent = CancelToken::new();
        let child = parent.child();
        let canceller = {
            let parent = parent.clone();
            thread::spawn(move || parent.cancel())
        };
        drop(child);
        canceller.join().unwrap();
        assert!(parent.is_cancelled());
        assert!(parent.child().is_cancelled());
    });
}
