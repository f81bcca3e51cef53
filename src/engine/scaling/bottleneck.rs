//! "Scale the bottleneck": a pipeline's policy. It keeps the pipeline's workers and
//! moves one at a time to where the jobs pile up — from the least busy stage to the
//! busiest one, while jobs wait in front of the busiest — at most once per cooldown.
//! Like [`super::queue_target`] it is a pure function of what it is shown, so its tests
//! feed it numbers.

use crate::workload::pipeline::MAX_STAGE_WORKERS;

/// A stage at least this busy (share of its workers' time spent on jobs) may take a
/// worker.
pub const BUSY: f64 = 0.8;
/// The stage that gives a worker is at least this much less busy than the one that
/// takes it (so two equally loaded stages do not trade a worker back and forth).
pub const MARGIN: f64 = 0.2;

/// One stage, as the policy reads it at a decision.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StageReading {
    /// Busy share of its workers' time since the last decision (0–1).
    pub utilisation: f64,
    /// Jobs waiting in the channel in front of it now.
    pub queued: u32,
    /// Its workers now (its target).
    pub workers: u32,
    /// Whether its input is closed and it has no more work coming.
    pub done: bool,
}

/// A worker moved from one stage to another (stage indexes from 0), and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    /// The stage that gives a worker.
    pub from: usize,
    /// The stage that takes it.
    pub to: usize,
    /// The readings that caused it, for the report.
    pub cause: String,
}

/// The policy's state: when it last moved a worker.
#[derive(Debug, Clone)]
pub struct Bottleneck {
    cooldown_ms: f64,
    last_move_ms: Option<f64>,
}

impl Bottleneck {
    /// A policy that moves at most one worker per `cooldown_ms`.
    pub fn new(cooldown_ms: f64) -> Bottleneck {
        Bottleneck {
            cooldown_ms,
            last_move_ms: None,
        }
    }

    /// The move to make at `t_ms`, if any.
    pub fn decide(&mut self, t_ms: f64, stages: &[StageReading]) -> Option<Move> {
        if self
            .last_move_ms
            .is_some_and(|last| t_ms - last < self.cooldown_ms)
        {
            return None;
        }
        let live = |i: &usize| !stages[*i].done;
        let to = (0..stages.len())
            .filter(live)
            .filter(|&i| stages[i].queued > 0 && stages[i].workers < MAX_STAGE_WORKERS)
            .max_by(|&a, &b| stages[a].utilisation.total_cmp(&stages[b].utilisation))?;
        let busiest = stages[to];
        if busiest.utilisation < BUSY {
            return None;
        }
        let from = (0..stages.len())
            .filter(live)
            .filter(|&i| i != to && stages[i].workers > 1)
            .min_by(|&a, &b| stages[a].utilisation.total_cmp(&stages[b].utilisation))?;
        let donor = stages[from];
        if donor.utilisation > busiest.utilisation - MARGIN {
            return None;
        }
        self.last_move_ms = Some(t_ms);
        Some(Move {
            from,
            to,
            cause: format!(
                "stage {} {:.0}% busy with {} waiting; stage {} {:.0}% busy",
                to + 1,
                busiest.utilisation * 100.0,
                busiest.queued,
                from + 1,
                donor.utilisation * 100.0
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(utilisation: f64, queued: u32, workers: u32) -> StageReading {
        StageReading {
            utilisation,
            queued,
            workers,
            done: false,
        }
    }

    #[test]
    fn a_worker_moves_from_the_least_busy_stage_to_the_busiest_with_a_queue() {
        let mut policy = Bottleneck::new(0.0);
        let stages = [stage(0.3, 0, 4), stage(0.5, 2, 2), stage(0.99, 12, 1)];
        let moved = policy.decide(100.0, &stages).unwrap();
        assert_eq!((moved.from, moved.to), (0, 2));
        assert_eq!(
            moved.cause,
            "stage 3 99% busy with 12 waiting; stage 1 30% busy"
        );
    }

    #[test]
    fn no_move_without_a_queue_a_busy_stage_a_spare_worker_or_a_clear_margin() {
        let mut policy = Bottleneck::new(0.0);
        // Busy but nothing waits: more workers would not help.
        assert_eq!(
            policy.decide(1.0, &[stage(0.2, 0, 4), stage(0.99, 0, 1)]),
            None
        );
        // Waiting, but the stage is not busy (its workers wait on something else).
        assert_eq!(
            policy.decide(1.0, &[stage(0.2, 0, 4), stage(0.7, 9, 1)]),
            None
        );
        // Every other stage is down to one worker.
        assert_eq!(
            policy.decide(1.0, &[stage(0.2, 0, 1), stage(0.99, 9, 1)]),
            None
        );
        // Two stages about as busy: no trading back and forth.
        assert_eq!(
            policy.decide(1.0, &[stage(0.85, 3, 2), stage(0.95, 9, 1)]),
            None
        );
        // A stage that is done gives nothing and takes nothing.
        let mut done = stage(0.0, 0, 4);
        done.done = true;
        assert_eq!(policy.decide(1.0, &[done, stage(0.99, 9, 1)]), None);
        // A stage at the most workers a stage may have takes no more.
        assert_eq!(
            policy.decide(1.0, &[stage(0.1, 0, 4), stage(0.99, 9, MAX_STAGE_WORKERS)]),
            None
        );
    }

    #[test]
    fn one_move_per_cooldown() {
        let mut policy = Bottleneck::new(500.0);
        let stages = [stage(0.1, 0, 8), stage(0.99, 50, 1)];
        assert!(policy.decide(100.0, &stages).is_some());
        assert_eq!(policy.decide(599.0, &stages), None);
        assert!(policy.decide(600.0, &stages).is_some());
    }
}
