//! Differential test against Go itself: random scripts of semaphore calls — acquires of
//! any weight (some larger than the semaphore) with cancellable contexts, TryAcquire,
//! Release, cancels — replayed on golang.org/x/sync/semaphore (tests/go/semdiff, built
//! with Debian's Go and x/sync) and on scalelab's `semaphore::Weighted`; after every
//! call, which acquires finished (and how) and whether anyone waits must match.
//!
//! Debian ships x/sync 0.1.0. It differs from today's x/sync, which scalelab follows,
//! in three places the scripts therefore leave out: 0.1.0 lets an acquire whose context
//! is already done succeed when the weight is free, and keeps a grant that raced with
//! its context's cancel (upstream fails both, and gives the weight back) — so each
//! acquire here has a context of its own, cancelled at most once, never before the
//! call; and its `Release` of more than is held leaves the count negative before
//! panicking (scalelab refuses and changes nothing), so releases stay within what is
//! held. src/semaphore.rs's own tests cover those cases.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use common::{Rng, assert_same_output, build_go_harness, run_go};

use scalelab::cancel::{CancelError, CancelToken};
use scalelab::semaphore::Weighted;

type Pending<'a> = Pin<Box<dyn Future<Output = Result<(), CancelError>> + 'a>>;

/// Polls every pending acquire until none changes (a grant or a cancel can let the
/// ones behind it through); returns the ones that finished, by number.
fn settle(pending: &mut BTreeMap<u64, Pending<'_>>) -> Vec<(u64, bool)> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut finished = Vec::new();
    loop {
        let mut changed = false;
        let keys: Vec<u64> = pending.keys().copied().collect();
        for k in keys {
            if let Poll::Ready(result) = pending.get_mut(&k).unwrap().as_mut().poll(&mut cx) {
                pending.remove(&k);
                finished.push((k, result.is_ok()));
                changed = true;
            }
        }
        if !changed {
            finished.sort();
            return finished;
        }
    }
}

/// Makes one script and runs it on scalelab's semaphore as it goes: (script, output).
fn script_and_run(rng: &mut Rng, ops: usize) -> (String, String) {
    let size = 1 + rng.below(10) as i64;
    let sem = Weighted::new(size);
    let mut script = format!("new {size}\n");
    let mut out = String::new();
    let mut tokens: Vec<CancelToken> = Vec::new();
    let mut pending: BTreeMap<u64, Pending<'_>> = BTreeMap::new();
    let mut next_k = 0u64;
    for _ in 0..ops {
        match rng.below(10) {
            0..=4 => {
                // Each acquire has a context of its own (see the module comment).
                tokens.push(CancelToken::new());
                let c = tokens.len() - 1;
                let n = rng.below(size as u64 + 3) as i64;
                writeln!(script, "acquire {next_k} {n} {c}").unwrap();
                pending.insert(next_k, Box::pin(sem.acquire(n, &tokens[c])));
                next_k += 1;
            }
            5 => {
                let n = rng.below(size as u64 + 2) as i64;
                writeln!(script, "try {n}").unwrap();
                writeln!(out, "try {}", sem.try_acquire(n)).unwrap();
            }
            6 | 7 if sem.held() > 0 => {
                let n = 1 + rng.below(sem.held() as u64) as i64;
                writeln!(script, "release {n}").unwrap();
                sem.release(n).expect("never more than held");
            }
            8 if !tokens.is_empty() => {
                let c = rng.below(tokens.len() as u64) as usize;
                writeln!(script, "cancel {c}").unwrap();
                tokens[c].cancel();
            }
            _ => continue,
        }
        for (k, ok) in settle(&mut pending) {
            writeln!(out, "done {k} {ok}").unwrap();
        }
        writeln!(out, "waiting {}", !sem.try_acquire(0)).unwrap();
    }
    (script, out)
}

#[test]
fn weighted_semaphore_matches_go_call_for_call() {
    let binary = build_go_harness("semdiff", "golang-go and golang-golang-x-sync-dev");
    let mut rng = Rng(0x5EA_F0DE);
    let (mut scripts, mut grants) = (0, 0);
    for _ in 0..300 {
        let (script, ours) = script_and_run(&mut rng, 40);
        let go = run_go(&binary, &script);
        assert_same_output(&ours, &go, &script);
        scripts += 1;
        grants += ours
            .lines()
            .filter(|l| l.ends_with(" true") && l.starts_with("done"))
            .count();
    }
    // The scripts exercise the interesting cases, not only instant grants.
    assert!(scripts == 300 && grants > 1_000, "{grants} grants");
}
