//! Differential test against Go itself: random scripts of errgroup calls — limits
//! (changed while tasks run, too), Go, TryGo, tasks ending with or without an error,
//! Wait — replayed on golang.org/x/sync/errgroup (tests/go/groupdiff, Debian's Go and
//! x/sync) and on scalelab's `errgroup::Group`; after every call, TryGo's answers,
//! refused limit changes, what Wait returns and whether the group's context is
//! cancelled must match.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::task::Context;

use common::{Rng, assert_same_output, build_go_harness, run_go};
use futures::channel::oneshot;
use futures::executor::block_on;
use scalelab::cancel::CancelToken;
use scalelab::errgroup::Group;

/// A task that ends when the script says, with `Ok` or its error.
async fn task(k: u64, end: oneshot::Receiver<bool>) -> Result<(), String> {
    match end.await {
        Ok(true) => Ok(()),
        _ => Err(format!("task {k} failed")),
    }
}

/// Makes one script and runs it on scalelab's group as it goes: (script, output).
fn script_and_run(rng: &mut Rng, ops: usize) -> (String, String) {
    let (mut group, token) = Group::<String>::with_context(&CancelToken::new());
    let mut script = String::from("group\n");
    let mut out = String::new();
    let mut ends: HashMap<u64, oneshot::Sender<bool>> = HashMap::new();
    let mut limit: Option<usize> = None;
    // Running tasks that hold a slot of the current limit.
    let mut holders: std::collections::HashSet<u64> = Default::default();
    let mut next_k = 0u64;
    let mut cx = Context::from_waker(std::task::Waker::noop());
    for _ in 0..ops {
        match rng.below(10) {
            // A bound is set only when every running task holds a slot of the current
            // one (see errgroup.rs: Go's tasks from an earlier bound take slots of the new).
            0 => {
                let n = rng.below(5) as i64 - 1;
                let wanted = usize::try_from(n).ok();
                if wanted.is_some() && holders.len() != ends.len() {
                    continue;
                }
                writeln!(script, "limit {n}").unwrap();
                match group.set_limit(wanted) {
                    Ok(()) => {
                        limit = wanted;
                        holders.clear();
                        writeln!(out, "limit ok").unwrap();
                    }
                    Err(_) => writeln!(out, "limit panic").unwrap(),
                }
            }
            1..=3 if limit.is_none_or(|l| holders.len() < l) => {
                // Go blocks at the limit; the script only calls it below.
                let (tx, rx) = oneshot::channel();
                writeln!(script, "go {next_k}").unwrap();
                block_on(group.go(task(next_k, rx)));
                ends.insert(next_k, tx);
                if limit.is_some() {
                    holders.insert(next_k);
                }
                next_k += 1;
            }
            4..=5 => {
                let (tx, rx) = oneshot::channel();
                writeln!(script, "trygo {next_k}").unwrap();
                let started = group.try_go(task(next_k, rx));
                writeln!(out, "trygo {next_k} {started}").unwrap();
                if started {
                    ends.insert(next_k, tx);
                    if limit.is_some() {
                        holders.insert(next_k);
                    }
                }
                next_k += 1;
            }
            6..=9 if !ends.is_empty() => {
                let mut running: Vec<u64> = ends.keys().copied().collect();
                running.sort_unstable();
                let k = rng.pick(&running);
                let ok = rng.below(3) != 0;
                writeln!(script, "end {k} {}", if ok { "ok" } else { "err" }).unwrap();
                ends.remove(&k).unwrap().send(ok).unwrap();
                holders.remove(&k);
            }
            _ => continue,
        }
        let _ = group.poll_tasks(&mut cx);
        writeln!(out, "cancelled {}", token.is_cancelled()).unwrap();
    }
    // End what still runs, then Wait.
    let mut running: Vec<u64> = ends.keys().copied().collect();
    running.sort_unstable();
    for k in running {
        writeln!(script, "end {k} ok").unwrap();
        ends.remove(&k).unwrap().send(true).unwrap();
        let _ = group.poll_tasks(&mut cx);
        writeln!(out, "cancelled {}", token.is_cancelled()).unwrap();
    }
    script.push_str("wait\n");
    match block_on(group.wait()) {
        Ok(()) => writeln!(out, "wait nil").unwrap(),
        Err(e) => writeln!(out, "wait {e}").unwrap(),
    }
    writeln!(out, "cancelled {}", token.is_cancelled()).unwrap();
    (script, out)
}

#[test]
fn errgroup_matches_go_call_for_call() {
    let binary = build_go_harness("groupdiff", "golang-go and golang-golang-x-sync-dev");
    let mut rng = Rng(0xE44_6A0F);
    let (mut refused, mut failed) = (0, 0);
    for _ in 0..300 {
        let (script, ours) = script_and_run(&mut rng, 30);
        let go = run_go(&binary, &script);
        assert_same_output(&ours, &go, &script);
        refused += ours
            .lines()
            .filter(|l| l.ends_with(" false") && l.starts_with("trygo"))
            .count();
        failed += ours.lines().filter(|l| l.starts_with("wait task")).count();
    }
    // The scripts reach the interesting cases: TryGo refused at the limit, groups
    // that failed.
    assert!(
        refused > 50 && failed > 50,
        "{refused} refused, {failed} failed"
    );
}
