//! The fan-in stage of the fan-out pattern: every job's result comes back through it
//! the moment the job ends — in completion order, or (`ordered`) in input order, where a
//! result is held until every earlier job has ended: the head-of-line blocking of a Go
//! collector that reads `results[0]`, `results[1]`, … in turn.
//!
//! # Invariants
//! 1. [`FanIn::job_ended`] is called once per job, by whoever won the job's slot claim
//!    (see [`super::state`], invariant 1), so no result is delivered twice.
//! 2. Everything is under one `Mutex`: the delivery log's order *is* the order the
//!    stage handed results on, and (ordered) the cursor only moves over jobs that ended,
//!    so the log is the input order with the jobs that gave no result left out.
//! 3. A job that ends without a result (cancelled, not started) delivers nothing, but in
//!    ordered mode it still lets the cursor pass it, so it never holds up later jobs.

use std::sync::Mutex;

/// One result handed on: which job, and when (ns since the run started).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// The job whose result this is.
    pub job: u32,
    /// When the stage handed it on: the job's end, or (ordered) the end of the last
    /// earlier job it waited for.
    pub at: u64,
}

/// The fan-in stage of one run.
pub struct FanIn {
    ordered: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Ordered: the next job in input order to hand on.
    next: u32,
    /// Ordered: which jobs ended, and whether with a result (one byte per job:
    /// 0 running, 1 ended without a result, 2 ended with one).
    ended: Vec<u8>,
    delivered: Vec<Delivery>,
}

const RUNNING: u8 = 0;
const NO_RESULT: u8 = 1;
const RESULT: u8 = 2;

impl FanIn {
    /// For a run of `jobs` jobs.
    pub fn new(jobs: usize, ordered: bool) -> FanIn {
        FanIn {
            ordered,
            state: Mutex::new(State {
                ended: if ordered {
                    vec![RUNNING; jobs]
                } else {
                    Vec::new()
                },
                ..State::default()
            }),
        }
    }

    /// `job` ended at `at`, with a result (completed, failed) or without one.
    pub fn job_ended(&self, job: u32, has_result: bool, at: u64) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if !self.ordered {
            if has_result {
                state.delivered.push(Delivery { job, at });
            }
            return;
        }
        state.ended[job as usize] = if has_result { RESULT } else { NO_RESULT };
        let State {
            next,
            ended,
            delivered,
        } = &mut *state;
        while let Some(&mark) = ended.get(*next as usize) {
            if mark == RUNNING {
                break;
            }
            if mark == RESULT {
                delivered.push(Delivery { job: *next, at });
            }
            *next += 1;
        }
    }

    /// The results handed on so far, in the order they were.
    pub fn delivered(&self) -> Vec<Delivery> {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .delivered
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(fan_in: &FanIn) -> Vec<(u32, u64)> {
        fan_in.delivered().iter().map(|d| (d.job, d.at)).collect()
    }

    #[test]
    fn unordered_hands_results_on_as_they_come() {
        let fan_in = FanIn::new(3, false);
        fan_in.job_ended(2, true, 10);
        fan_in.job_ended(0, false, 20);
        fan_in.job_ended(1, true, 30);
        assert_eq!(log(&fan_in), vec![(2, 10), (1, 30)]);
    }

    #[test]
    fn ordered_holds_a_result_until_every_earlier_job_ended() {
        let fan_in = FanIn::new(4, true);
        fan_in.job_ended(1, true, 10);
        fan_in.job_ended(3, true, 20);
        assert_eq!(log(&fan_in), vec![], "job 0 holds up the line");
        fan_in.job_ended(0, true, 30);
        assert_eq!(log(&fan_in), vec![(0, 30), (1, 30)]);
        fan_in.job_ended(2, false, 40);
        assert_eq!(
            log(&fan_in),
            vec![(0, 30), (1, 30), (3, 40)],
            "a job without a result lets the line pass"
        );
    }
}
