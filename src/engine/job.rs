//! A job as it travels through a run — planned, sent, queued, run, ended — and the
//! record it leaves when it ends. A job is a value that moves: the producer makes it,
//! the channel holds it, one worker takes it and ends it, so it ends exactly once by
//! construction (the type is not `Clone`; only the record it leaves is copied).

use super::outcome::Outcome;
use crate::workload::plan::JobSpec;

/// "Never" for a time (ns since the run's start).
pub const UNSET: u64 = u64::MAX;
/// "No worker" / "no thread".
pub const NONE: u32 = u32::MAX;

/// A job in flight.
#[derive(Debug, PartialEq, Eq)]
pub struct Job {
    /// What to do.
    pub spec: JobSpec,
    /// When it should have been sent (ns since start): its arrival time on the
    /// generator's schedule, or — closed loop — when the producer began to send it.
    pub intended: u64,
    /// When it entered the queue (stamped by the channel), or was spawned.
    pub queued: u64,
}

impl Job {
    /// A job that should have been sent at `intended`, not yet queued.
    pub fn new(spec: JobSpec, intended: u64) -> Job {
        Job {
            spec,
            intended,
            queued: UNSET,
        }
    }

    /// The record of this job ending as `outcome` at `finished`, having started at
    /// `started` (or [`UNSET`]) on `worker`/`thread` (or [`NONE`]).
    pub fn ended(
        self,
        outcome: Outcome,
        started: u64,
        finished: u64,
        worker: u32,
        thread: u32,
        result: u64,
    ) -> Finished {
        Finished {
            id: self.spec.id,
            worker,
            thread,
            outcome,
            cost: self.spec.cost,
            intended: self.intended,
            queued: self.queued,
            started,
            finished,
            result,
        }
    }
}

/// What a job leaves behind when it ends (times in ns since the run's start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    /// Job id (submission order).
    pub id: u32,
    /// The worker that ran it, or [`NONE`].
    pub worker: u32,
    /// The pool thread it ran on, or [`NONE`].
    pub thread: u32,
    /// How it ended.
    pub outcome: Outcome,
    /// Its planned cost.
    pub cost: u64,
    /// When it should have been sent.
    pub intended: u64,
    /// When it was queued, or [`UNSET`].
    pub queued: u64,
    /// When it started, or [`UNSET`].
    pub started: u64,
    /// When it ended.
    pub finished: u64,
    /// The kernel's result (completed and failed jobs).
    pub result: u64,
}

impl Finished {
    /// Whether it started (ran, at least in part).
    pub fn ran(&self) -> bool {
        self.started != UNSET
    }

    /// Queued to started.
    pub fn queue_wait(&self) -> Option<u64> {
        (self.ran() && self.queued != UNSET).then(|| self.started.saturating_sub(self.queued))
    }

    /// Started to ended.
    pub fn service(&self) -> Option<u64> {
        self.ran()
            .then(|| self.finished.saturating_sub(self.started))
    }

    /// Queued to ended (jobs that ran).
    pub fn total(&self) -> Option<u64> {
        (self.ran() && self.queued != UNSET).then(|| self.finished.saturating_sub(self.queued))
    }

    /// Intended start to ended (jobs that ran).
    pub fn from_intended(&self) -> Option<u64> {
        self.ran()
            .then(|| self.finished.saturating_sub(self.intended))
    }
}
