//! The pipeline's timeline: a record per stage pass (a bar in its stage's rows), in a
//! bounded window — the latest [`RECENT`] for the report, and those not yet streamed
//! (at most [`FRESH`] per progress batch; the rest are counted as skipped). Memory
//! stays flat however many jobs a run has.

use std::collections::VecDeque;

use super::Carried;
use crate::engine::job::{NONE, UNSET};
use crate::engine::outcome::Outcome;
use crate::engine::report::JobRecord;

/// Stage passes the report keeps (the latest).
pub const RECENT: usize = 10_000;
/// Stage passes one progress batch carries at most.
pub const FRESH: usize = 4_096;

/// See the module documentation.
#[derive(Default)]
pub struct SpanLog {
    recent: VecDeque<JobRecord>,
    fresh: Vec<JobRecord>,
    skipped: u64,
}

fn ms(ns: u64) -> Option<f64> {
    (ns != UNSET).then(|| ns as f64 / 1e6)
}

impl SpanLog {
    /// Stage `stage`'s pass of `carried` on timeline row `row`: it entered the stage's
    /// channel at `entered`, ran from `began` to `ended`, and left it as `outcome`
    /// (`Completed`: passed on, or done at the last stage).
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        carried: &Carried,
        stage: usize,
        row: u32,
        entered: u64,
        began: u64,
        ended: u64,
        outcome: Outcome,
    ) {
        let record = JobRecord {
            id: carried.job.spec.id,
            worker: Some(row),
            thread: (carried.thread != NONE).then_some(carried.thread),
            cost: carried.job.spec.cost,
            intended_ms: ms(carried.job.intended),
            queued_ms: ms(entered),
            started_ms: ms(began),
            finished_ms: ms(ended),
            outcome: Some(outcome),
            result: outcome.has_result().then_some(carried.result),
            error: (outcome == Outcome::Failed).then(|| {
                crate::engine::workers::JobFailed {
                    job: carried.job.spec.id,
                }
                .to_string()
            }),
            stage: Some(stage as u32),
        };
        if self.fresh.len() < FRESH {
            self.fresh.push(record.clone());
        } else {
            self.skipped += 1;
        }
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(record);
    }

    /// The passes not streamed yet, and how many were left out since the last call.
    pub fn take_fresh(&mut self) -> (Vec<JobRecord>, u64) {
        (
            std::mem::take(&mut self.fresh),
            std::mem::take(&mut self.skipped),
        )
    }

    /// The latest passes, oldest first.
    pub fn kept(&self) -> Vec<JobRecord> {
        self.recent.iter().cloned().collect()
    }
}
