//! The open-loop load generator: sends each job at its *intended* time on the arrival
//! schedule ([`ArrivalSchedule`]), whatever the pool does — the way wrk2, vegeta and
//! k6's arrival-rate executors drive a server — and stamps the job with that time, so
//! its latency counts from when it *should* have been sent (no coordinated omission).
//!
//! When the queue is full the run's `overload` policy decides: `block` waits for room
//! (the generator falls behind its schedule and its lag says by how much; the jobs keep
//! their intended times, so the wait shows in their latency), `reject` refuses the new
//! job, `drop-oldest` evicts the job that waited longest, and `shed` blocks like
//! `block` while the workers drop jobs that waited past `shedAfter` (see
//! [`RunShared::shed_if_stale`]).
//!
//! Jobs that fell due while the generator slept (timers are coarse: a browser's fire
//! every few ms) are sent together on waking, each with its own intended time, so the
//! achieved rate holds at any rate the host can carry. The generator yields to the
//! event loop every [`BATCH`] jobs sent without a wait.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{Either, select};
use serde::Serialize;

use super::chan::TrySendError;
use super::config::Overload;
use super::job::Job;
use super::runtime::Runtime;
use super::state::RunShared;
use crate::workload::arrival::ArrivalSchedule;
use crate::workload::plan::Planner;

/// Most jobs sent in a row without giving the event loop a turn.
const BATCH: u32 = 1024;

/// What the generator did (the report's `generator`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct GeneratorReport {
    /// The rate the schedule asked for over the time it sent (the rate itself for
    /// constant and Poisson arrivals; the mean of the profile for stages and spikes),
    /// jobs/s.
    pub configured_rate: f64,
    /// The rate at which jobs were actually offered to the queue (sent, rejected or
    /// dropped), from the first to the last, jobs/s.
    pub achieved_rate: f64,
    /// The most the generator fell behind its schedule (a job offered this long after
    /// its intended time), ms: timer granularity when it keeps up; growing without
    /// bound when `block` meets an overloaded pool.
    pub lag_ms: f64,
    /// The mean lag over every job offered, ms.
    pub mean_lag_ms: f64,
    /// Jobs offered.
    pub offered: u32,
    /// The mean number of jobs in the system (queued and running) that an arrival found
    /// just before it was offered. With Poisson arrivals this is the time average (PASTA:
    /// Poisson arrivals see time averages) — L in Little's law, measured at thousands of
    /// instants instead of at each progress sample.
    pub mean_in_system_seen: f64,
}

/// The generator's running totals (read by the progress stream as it goes).
#[derive(Debug, Default)]
pub struct GeneratorLog {
    offered: u32,
    first_intended: u64,
    last_intended: u64,
    first_offered: u64,
    last_offered: u64,
    max_lag: u64,
    lag_sum: f64,
    seen_sum: f64,
}

impl GeneratorLog {
    fn offer(&mut self, intended: u64, now: u64, in_system: u32) {
        self.seen_sum += in_system as f64;
        if self.offered == 0 {
            self.first_intended = intended;
            self.first_offered = now;
        }
        self.offered += 1;
        self.last_intended = intended;
        self.last_offered = now;
        let lag = now.saturating_sub(intended);
        self.max_lag = self.max_lag.max(lag);
        self.lag_sum += lag as f64;
    }

    /// Jobs offered so far.
    pub fn offered(&self) -> u32 {
        self.offered
    }

    /// The report, given the schedule the jobs came from.
    pub fn report(&self, schedule: &ArrivalSchedule) -> GeneratorReport {
        let s = |ns: u64| ns as f64 / 1e9;
        let span = s(self.last_offered) - s(self.first_offered);
        GeneratorReport {
            configured_rate: schedule.mean_rate(s(self.first_intended), s(self.last_intended)),
            achieved_rate: if self.offered > 1 && span > 0.0 {
                (self.offered - 1) as f64 / span
            } else {
                0.0
            },
            lag_ms: self.max_lag as f64 / 1e6,
            mean_lag_ms: if self.offered > 0 {
                self.lag_sum / self.offered as f64 / 1e6
            } else {
                0.0
            },
            offered: self.offered,
            mean_in_system_seen: if self.offered > 0 {
                self.seen_sum / self.offered as f64
            } else {
                0.0
            },
        }
    }
}

/// Runs the generator of an open-loop run until its schedule, its job count or its
/// duration is over, or the run is cancelled; then closes the channel. Jobs of a
/// job-count run that was stopped early count as not started.
pub async fn generate<R: Runtime>(
    rt: &R,
    run: &Arc<RunShared>,
    schedule: &RefCell<ArrivalSchedule>,
    log: &RefCell<GeneratorLog>,
) {
    let channel = run
        .channel
        .clone()
        .expect("an open-loop run feeds a pool's channel");
    let mut planner = Planner::new(&run.config);
    let mut schedule_over = false;
    let produce = async {
        let mut without_wait = 0;
        while planner.planned() < run.config.jobs {
            let next = schedule.borrow_mut().next_ns();
            let Some(intended) = next else {
                schedule_over = true;
                break;
            };
            let mut waited = false;
            loop {
                if run.check_cancelled() {
                    return;
                }
                let now = run.now();
                if now >= intended {
                    break;
                }
                waited = true;
                let due = rt.sleep(Duration::from_nanos(intended - now));
                if let Either::Right(_) = select(due, run.token.cancelled()).await {
                    return;
                }
            }
            if !waited {
                without_wait += 1;
                if without_wait == BATCH {
                    without_wait = 0;
                    rt.sleep(Duration::ZERO).await;
                }
            }
            let job = Job::new(planner.next_job(), intended);
            let in_system = channel.len() as u32 + run.running();
            log.borrow_mut().offer(intended, run.now(), in_system);
            match run.config.overload {
                Overload::Block | Overload::Shed => {
                    match select(channel.send(job), run.token.cancelled()).await {
                        Either::Left((Ok(()), _)) => {}
                        _ => return,
                    }
                }
                Overload::Reject => match channel.try_send(job) {
                    Ok(()) => {}
                    Err(TrySendError::Full(job)) => run.finish_rejected(job),
                    Err(TrySendError::Closed(_)) => return,
                },
                Overload::DropOldest => match channel.send_dropping_oldest(job) {
                    Ok(None) => {}
                    Ok(Some(dropped)) => run.finish_shed(dropped),
                    Err(_closed) => return,
                },
            }
        }
    };
    select(
        Box::pin(produce),
        Box::pin(super::coordinator::duration_up(rt, run)),
    )
    .await;
    channel.close();
    // A job-count run stopped early (cancelled) leaves jobs it never made: they count as
    // not started. A schedule or a duration that ran out asked for no more.
    run.producer_done(if schedule_over { 0 } else { run.unsent() });
}
