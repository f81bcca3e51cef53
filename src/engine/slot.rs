//! One job's record and the protocol that gives it exactly one outcome.
//!
//! Whoever ends a job (the worker that ran it, the coordinator accounting for jobs that
//! never started) writes its slot; the coordinator reads slots while the run goes.
//!
//! # Invariants and orderings
//! 1. `outcome` moves `PENDING → FINISHING → final`, and only forward. The move out of
//!    `PENDING` is one `compare_exchange` ([`JobSlot::claim`]): exactly one finisher
//!    wins it; a loser changes nothing at all — not the time, not the result.
//! 2. Only the winner writes `finished` and `result` (`Relaxed`), and then stores the
//!    final outcome with `Release` ([`JobSlot::publish`]). A reader loads `outcome`
//!    with `Acquire` ([`JobSlot::outcome`]) and treats `FINISHING` as not final, so a
//!    final outcome always comes with its own time and result.
//!
//! (The code before this module stored the time and result *before* the exchange, so a
//! finisher that lost the race overwrote the winner's data: the loom model
//! `loom_a_losing_finisher_leaves_the_winners_record` fails on that order.)
//! 3. `started`, `worker` and `thread` are written by the one worker that starts the
//!    job, before `started` is stored with `Release`; a reader that sees `started`
//!    (`Acquire`) sees the worker and thread too.

use crate::sync::{AtomicI64, AtomicU8, AtomicU32, AtomicU64};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

use super::state::Outcome;

/// No outcome yet.
const PENDING: u8 = 0;
/// A finisher won the claim and is writing the record (invariant 2).
const FINISHING: u8 = u8::MAX;

/// "No time recorded".
const UNSET: u64 = u64::MAX;
/// "No thread" (I/O jobs run on the coordinator).
const NO_THREAD: i64 = -1;
/// "No worker".
const NO_WORKER: u32 = u32::MAX;

/// One job's record, written by whoever runs or ends it.
pub(crate) struct JobSlot {
    queued: AtomicU64,
    started: AtomicU64,
    finished: AtomicU64,
    worker: AtomicU32,
    thread: AtomicI64,
    outcome: AtomicU8,
    result: AtomicU64,
}

/// What a reader sees of a slot (times in ns since the run's start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SlotRead {
    pub queued: Option<u64>,
    pub started: Option<u64>,
    pub finished: Option<u64>,
    pub worker: Option<u32>,
    pub thread: Option<u32>,
    pub outcome: Option<Outcome>,
    pub result: u64,
}

impl JobSlot {
    pub(crate) fn new() -> JobSlot {
        JobSlot {
            queued: AtomicU64::new(UNSET),
            started: AtomicU64::new(UNSET),
            finished: AtomicU64::new(UNSET),
            worker: AtomicU32::new(NO_WORKER),
            thread: AtomicI64::new(NO_THREAD),
            outcome: AtomicU8::new(PENDING),
            result: AtomicU64::new(0),
        }
    }

    /// Records that the job entered the queue at `at`.
    pub(crate) fn mark_queued(&self, at: u64) {
        self.queued.store(at, Relaxed);
    }

    /// Records that `worker` (on pool thread `thread`) started the job at `at`
    /// (invariant 3).
    pub(crate) fn mark_started(&self, at: u64, worker: u32, thread: Option<usize>) {
        self.worker.store(worker, Relaxed);
        self.thread
            .store(thread.map_or(NO_THREAD, |t| t as i64), Relaxed);
        self.started.store(at, Release);
    }

    /// Whether the job was started.
    pub(crate) fn was_started(&self) -> bool {
        self.started.load(Acquire) != UNSET
    }

    /// Wins the right to give the job its outcome (invariant 1). `false`: another
    /// finisher has it, and the caller must change nothing.
    pub(crate) fn claim(&self) -> bool {
        self.outcome
            .compare_exchange(PENDING, FINISHING, AcqRel, Acquire)
            .is_ok()
    }

    /// Writes the winner's record and publishes its outcome (invariant 2). Only after a
    /// successful [`claim`](Self::claim).
    pub(crate) fn publish(&self, outcome: Outcome, at: u64, result: u64) {
        debug_assert_eq!(
            self.outcome.load(Relaxed),
            FINISHING,
            "publish without claim"
        );
        self.finished.store(at, Relaxed);
        self.result.store(result, Relaxed);
        self.outcome.store(outcome.code(), Release);
    }

    /// Claims and publishes in one call; `false` (nothing changed) if the job already
    /// had, or was being given, an outcome.
    pub(crate) fn finish(&self, outcome: Outcome, at: u64, result: u64) -> bool {
        if !self.claim() {
            return false;
        }
        self.publish(outcome, at, result);
        true
    }

    /// The final outcome, if published.
    pub(crate) fn outcome(&self) -> Option<Outcome> {
        match self.outcome.load(Acquire) {
            PENDING | FINISHING => None,
            code => Outcome::from_code(code),
        }
    }

    /// A consistent read: the time and result belong to the outcome shown.
    pub(crate) fn read(&self) -> SlotRead {
        let outcome = self.outcome();
        let started = self.started.load(Acquire);
        let opt = |v: u64| (v != UNSET).then_some(v);
        let thread = self.thread.load(Relaxed);
        let worker = self.worker.load(Relaxed);
        SlotRead {
            queued: opt(self.queued.load(Relaxed)),
            started: opt(started),
            finished: outcome.and_then(|_| opt(self.finished.load(Relaxed))),
            worker: (worker != NO_WORKER).then_some(worker),
            thread: (thread >= 0).then_some(thread as u32),
            outcome,
            result: if outcome.is_some() {
                self.result.load(Relaxed)
            } else {
                0
            },
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::thread;
    use std::sync::Arc;

    /// A worker completes the job while the coordinator, after a cancel, accounts for
    /// it as not started: whichever wins, the record is the winner's, whole.
    #[test]
    fn loom_a_losing_finisher_leaves_the_winners_record() {
        loom::model(|| {
            let slot = Arc::new(JobSlot::new());
            let worker = {
                let slot = slot.clone();
                thread::spawn(move || slot.finish(Outcome::Completed, 10, 77))
            };
            let coordinator = {
                let slot = slot.clone();
                thread::spawn(move || slot.finish(Outcome::NotStarted, 20, 0))
            };
            // A reader during the race sees either nothing or a whole record.
            let seen = slot.read();
            match seen.outcome {
                None => assert_eq!(seen.finished, None),
                Some(Outcome::Completed) => {
                    assert_eq!((seen.finished, seen.result), (Some(10), 77))
                }
                Some(Outcome::NotStarted) => {
                    assert_eq!((seen.finished, seen.result), (Some(20), 0))
                }
                Some(other) => panic!("unexpected outcome {other:?}"),
            }
            let won_by_worker = worker.join().unwrap();
            let won_by_coordinator = coordinator.join().unwrap();
            assert!(
                won_by_worker ^ won_by_coordinator,
                "exactly one finisher wins"
            );
            let end = slot.read();
            if won_by_worker {
                assert_eq!(
                    (end.outcome, end.finished, end.result),
                    (Some(Outcome::Completed), Some(10), 77)
                );
            } else {
                assert_eq!(
                    (end.outcome, end.finished, end.result),
                    (Some(Outcome::NotStarted), Some(20), 0)
                );
            }
        });
    }

    /// A started job's worker and thread are visible to whoever sees it started.
    #[test]
    fn loom_a_started_job_comes_with_its_worker() {
        loom::model(|| {
            let slot = Arc::new(JobSlot::new());
            let starter = {
                let slot = slot.clone();
                thread::spawn(move || slot.mark_started(5, 3, Some(1)))
            };
            let seen = slot.read();
            if seen.started.is_some() {
                assert_eq!((seen.worker, seen.thread), (Some(3), Some(1)));
            }
            starter.join().unwrap();
        });
    }
}
