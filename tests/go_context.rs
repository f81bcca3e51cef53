//! Differential test against Go itself: random scripts of context calls — trees of
//! WithCancelCause, WithDeadline(Cause), WithTimeout(Cause) and WithoutCancel contexts,
//! cancels with and without causes, AfterFunc and its stop function — replayed on Go's
//! own context package (tests/go/ctxdiff, Go 1.21 or later) and on scalelab's
//! `CancelToken`; after every call each context's Err, Cause and Deadline, every
//! AfterFunc that ran, and every stop's answer must match.
//!
//! Go's deadlines run on the real clock, so the scripts only use deadlines that have
//! already passed when made (an hour ago, or a timeout of 0) or that no test reaches
//! (in one or two hours — two, so that a child's later deadline meets a parent's
//! earlier one). On scalelab's side the tokens read a manual clock that never moves.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Rng, assert_same_output, build_go_harness_with, go_1_21, run_go};

use scalelab::cancel::{AfterCancel, CancelError, CancelToken};
use scalelab::clock::{Clock, ManualClock};

const HOUR: Duration = Duration::from_secs(3_600);
/// "Now" in every script: late enough that an hour ago is a time on the clock.
const START: Duration = Duration::from_secs(10 * 3_600);

/// A context of the script: its token, and whether it has a cancel function
/// (`without` gives none).
struct Ctx {
    token: CancelToken,
    cancellable: bool,
    /// Made by `deadline`/`timeout`: its cancel function takes no cause.
    plain_cancel: bool,
}

fn text(err: Option<CancelError>) -> String {
    err.map_or("nil".to_owned(), |e| e.to_string())
}

/// Makes one script and runs it on scalelab's tokens as it goes: (script, output).
fn script_and_run(rng: &mut Rng, ops: usize) -> (String, String) {
    let clock = ManualClock::new();
    clock.set(START);
    let clock: Arc<dyn Clock> = clock;
    let mut script = String::new();
    let mut out = String::new();
    let mut contexts: Vec<Ctx> = Vec::new();
    let fired: Arc<Mutex<Vec<usize>>> = Arc::default();
    let mut afters: Vec<AfterCancel> = Vec::new();
    let mut stopped: Vec<bool> = Vec::new();
    let mut told: Vec<bool> = Vec::new();
    let mut causes = 0u32;
    let mut cause = |rng: &mut Rng| -> Option<String> {
        (rng.below(2) == 0).then(|| {
            causes += 1;
            format!("cause-{causes}")
        })
    };
    for _ in 0..ops {
        let parent = (!contexts.is_empty()).then(|| rng.below(contexts.len() as u64) as usize);
        let op = if parent.is_none() { 0 } else { rng.below(12) };
        match (op, parent) {
            (0, _) => {
                script.push_str("new\n");
                contexts.push(Ctx {
                    token: CancelToken::new(),
                    cancellable: true,
                    plain_cancel: false,
                });
            }
            (1 | 2, Some(p)) => {
                writeln!(script, "child {p}").unwrap();
                contexts.push(Ctx {
                    token: contexts[p].token.child(),
                    cancellable: true,
                    plain_cancel: false,
                });
            }
            (3 | 4, Some(p)) => {
                let hours = [-1i64, 1, 2][rng.below(3) as usize];
                let at = if hours < 0 {
                    START - HOUR
                } else {
                    START + HOUR * hours as u32
                };
                let parent = &contexts[p].token;
                let token = match cause(rng) {
                    Some(c) => {
                        writeln!(script, "deadline {p} {hours} {c}").unwrap();
                        parent.child_with_deadline_cause(at, clock.clone(), c)
                    }
                    None => {
                        writeln!(script, "deadline {p} {hours}").unwrap();
                        parent.child_with_deadline(at, clock.clone())
                    }
                };
                contexts.push(Ctx {
                    token,
                    cancellable: true,
                    plain_cancel: true,
                });
            }
            (5, Some(p)) => {
                let hours = rng.below(3) as u32;
                let parent = &contexts[p].token;
                let token = match cause(rng) {
                    Some(c) => {
                        writeln!(script, "timeout {p} {hours} {c}").unwrap();
                        parent.child_with_timeout_cause(HOUR * hours, clock.clone(), c)
                    }
                    None => {
                        writeln!(script, "timeout {p} {hours}").unwrap();
                        parent.child_with_timeout(HOUR * hours, clock.clone())
                    }
                };
                contexts.push(Ctx {
                    token,
                    cancellable: true,
                    plain_cancel: true,
                });
            }
            (6, Some(p)) => {
                writeln!(script, "without {p}").unwrap();
                contexts.push(Ctx {
                    token: contexts[p].token.without_cancel(),
                    cancellable: false,
                    plain_cancel: false,
                });
            }
            (7 | 8, Some(i)) if contexts[i].cancellable => {
                let ctx = &contexts[i];
                match cause(rng).filter(|_| !ctx.plain_cancel) {
                    Some(c) => {
                        writeln!(script, "cancel {i} {c}").unwrap();
                        ctx.token.cancel_with(c);
                    }
                    None => {
                        writeln!(script, "cancel {i}").unwrap();
                        ctx.token.cancel();
                    }
                }
            }
            (9 | 10, Some(i)) => {
                writeln!(script, "after {i}").unwrap();
                let k = afters.len();
                let fired = fired.clone();
                afters.push(
                    contexts[i]
                        .token
                        .after_cancel(move || fired.lock().unwrap().push(k)),
                );
                stopped.push(false);
                told.push(false);
            }
            (11, _) if !afters.is_empty() => {
                let k = rng.below(afters.len() as u64) as usize;
                writeln!(script, "stop {k}").unwrap();
                let result = afters[k].stop();
                stopped[k] |= result;
                writeln!(out, "stop {k} {result}").unwrap();
            }
            _ => continue,
        }
        let mut now_fired: Vec<usize> = fired.lock().unwrap().clone();
        now_fired.sort_unstable();
        for k in now_fired {
            if !told[k] {
                told[k] = true;
                writeln!(out, "fired {k}").unwrap();
            }
        }
        for (i, ctx) in contexts.iter().enumerate() {
            let deadline = ctx.token.deadline().map_or("none".to_owned(), |at| {
                ((at.as_secs() as i64 - START.as_secs() as i64) / 3_600).to_string()
            });
            let cause = ctx
                .token
                .cause()
                .map_or("nil".to_owned(), |c| c.to_string());
            writeln!(
                out,
                "{i} err={} cause={cause} deadline={deadline}",
                text(ctx.token.err())
            )
            .unwrap();
        }
    }
    (script, out)
}

#[test]
fn cancel_tokens_match_gos_context_call_for_call() {
    let go = go_1_21();
    let binary = build_go_harness_with(&go, "ctxdiff", "golang-1.23-go (bookworm-backports)");
    let mut rng = Rng(0xC0_47E7);
    let (mut fired, mut stopped, mut deadlines, mut caused) = (0, 0, 0, 0);
    for _ in 0..300 {
        let (script, ours) = script_and_run(&mut rng, 40);
        let theirs = run_go(&binary, &script);
        assert_same_output(&ours, &theirs, &script);
        fired += ours.lines().filter(|l| l.starts_with("fired")).count();
        stopped += ours
            .lines()
            .filter(|l| l.ends_with("true") && l.starts_with("stop"))
            .count();
        deadlines += ours
            .lines()
            .filter(|l| l.contains("err=context deadline exceeded"))
            .count();
        caused += ours.lines().filter(|l| l.contains("cause=cause-")).count();
    }
    eprintln!(
        "300 scripts: {fired} AfterFuncs fired, {stopped} stops took one back, {deadlines} deadline-exceeded and {caused} custom-cause context states"
    );
    // The scripts reach every kind of answer, not only the easy ones.
    assert!(
        fired > 300 && stopped > 100 && deadlines > 1_000 && caused > 1_000,
        "fired {fired}, stopped {stopped}, deadline lines {deadlines}, caused lines {caused}"
    );
}
