//! What a run tells its watchers: [`Progress`] batches while it runs, and one
//! [`RunReport`] at the end, built from the job slots and the coordinator's samples.
//! Times are milliseconds since the run started.

use serde::Serialize;

use super::config::{Pacing, Pattern, RunConfig};
use super::state::{Counts, Outcome, RunShared, SlotView};
use crate::stats::{Summary, bucket_width_for, occupancy, rate_per_second, summarize};

/// One job as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRecord {
    /// Job id (submission order).
    pub id: u32,
    /// Worker (pool worker, errgroup slot, or — fan-out — pool thread / job).
    pub worker: Option<u32>,
    /// Pool thread it ran on (CPU jobs).
    pub thread: Option<u32>,
    /// Its planned cost.
    pub cost: u64,
    /// Entered the channel / was spawned.
    pub queued_ms: Option<f64>,
    /// Started.
    pub started_ms: Option<f64>,
    /// Ended (or was found not to start).
    pub finished_ms: Option<f64>,
    /// `None` while still running.
    pub outcome: Option<Outcome>,
    /// The kernel's result (completed and failed jobs).
    pub result: Option<u64>,
    /// The error (failed jobs).
    pub error: Option<String>,
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

impl JobRecord {
    /// The record of a slot snapshot.
    pub fn from_view(view: &SlotView, run: &RunShared) -> JobRecord {
        let outcome = view.outcome;
        JobRecord {
            id: view.id,
            worker: view.worker,
            thread: view.thread,
            cost: run.plan[view.id as usize].cost,
            queued_ms: view.queued.map(ms),
            started_ms: view.started.map(ms),
            finished_ms: view.finished.map(ms),
            outcome,
            result: matches!(outcome, Some(Outcome::Completed | Outcome::Failed))
                .then_some(view.result),
            error: (outcome == Some(Outcome::Failed))
                .then(|| super::workers::JobFailed { job: view.id }.to_string()),
        }
    }

    /// Time in the channel before starting.
    pub fn queue_wait_ms(&self) -> Option<f64> {
        Some(self.started_ms? - self.queued_ms?)
    }

    /// Time running.
    pub fn service_ms(&self) -> Option<f64> {
        Some(self.finished_ms? - self.started_ms?)
    }

    /// Queued to finished.
    pub fn total_ms(&self) -> Option<f64> {
        Some(self.finished_ms? - self.queued_ms?)
    }
}

/// A point-in-time sample the coordinator takes at every flush.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    /// When.
    pub t_ms: f64,
    /// Jobs with a final outcome.
    pub done: u32,
    /// Jobs running.
    pub running: u32,
    /// Jobs waiting in the channel.
    pub queued: u32,
    /// Goroutines alive: pool workers, or fan-out tasks not yet ended.
    pub tasks: u32,
    /// Program memory (wasm linear memory), if known.
    pub memory_bytes: Option<u64>,
    /// Heap in use (allocated, not freed), if known.
    pub heap_bytes: Option<u64>,
    /// Tokens in the bucket (token-bucket runs).
    pub tokens: Option<f64>,
}

/// One release by the rate limiter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    /// When the job was released.
    pub t_ms: f64,
    /// How long the producer waited for it.
    pub waited_ms: f64,
    /// Tokens left just after (token bucket).
    pub tokens: Option<f64>,
}

/// A batch of events, streamed while the run goes.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
// The JS type gains the job columns the glue sends (web::engine declares them).
pub struct Progress {
    /// The sample at this flush.
    pub sample: Sample,
    /// Outcome counts so far.
    pub counts: Counts,
    /// Jobs started so far.
    pub started: u32,
    /// Jobs whose record changed since the last batch. Not serialized: the web glue
    /// sends job records as typed-array columns.
    #[serde(skip)]
    pub jobs: Vec<JobRecord>,
    /// Releases since the last batch (rate-limited runs).
    pub grants: Vec<Grant>,
    /// When the run was cancelled, once it is.
    pub cancelled_ms: Option<f64>,
}

/// Latency summaries.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Latency {
    /// Queued to started.
    pub queue_wait: Summary,
    /// Started to finished (jobs that ran).
    pub service: Summary,
    /// Queued to finished (jobs that ran).
    pub total: Summary,
}

/// Time series on fixed buckets, for charts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Series {
    /// Bucket width.
    pub bucket_ms: f64,
    /// Bucket starts.
    pub t_ms: Vec<f64>,
    /// Jobs completed per second in each bucket.
    pub throughput: Vec<f64>,
    /// Mean jobs running in each bucket.
    pub busy: Vec<f64>,
    /// Mean jobs waiting in the channel in each bucket.
    pub queued: Vec<f64>,
}

/// What the rate limiter did.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct LimiterReport {
    /// Token bucket or ticker.
    pub pacing: Pacing,
    /// The rate asked for.
    pub configured_rate: f64,
    /// Steady releases per second: from the first release that had to wait to the last
    /// (so a bucket's initial burst does not count).
    pub achieved_rate: f64,
    /// Releases in all.
    pub grants: u32,
    /// Releases that had to wait.
    pub waits: u32,
    /// Every release.
    pub grant_log: Vec<Grant>,
    /// Why the producer stopped early, if the limiter refused to wait (x/time/rate:
    /// "would exceed context deadline").
    pub stopped: Option<String>,
}

/// What cancellation did.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct CancellationReport {
    /// When the run's token was cancelled.
    pub at_ms: f64,
    /// `canceled` or `deadline exceeded`.
    pub err: String,
    /// The cause's text.
    pub cause: String,
    /// When the last job that was running at the cancel stopped.
    pub last_stop_ms: f64,
    /// `last_stop_ms - at_ms`: how long stopping took.
    pub latency_ms: f64,
    /// Jobs started after the cancel (never more than 0).
    pub started_after: u32,
    /// Jobs that were running at the cancel.
    pub running_at_cancel: u32,
    /// Job time spent after the cancel, summed over jobs (CPU burned for nothing when
    /// jobs ignore the cancellation).
    pub work_after_ms: f64,
    /// From the cancel until no job was running any more, counting jobs that started
    /// after it (0 when nothing ran past the cancel): how long the pool kept working.
    pub quiet_after_ms: f64,
}

/// Everything a finished run reports.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
// The JS type gains the job columns the glue sends (web::engine declares them).
pub struct RunReport {
    /// The configuration run (every setting, defaults filled in).
    #[tsify(type = "Required<RunSettings>")]
    pub config: RunConfig,
    /// Threads in the CPU pool.
    pub threads: usize,
    /// The run's start on its clock, in ms (in the browser: a Unix-epoch time on the
    /// same timeline as `performance.timeOrigin + performance.now()`).
    pub clock_epoch_ms: f64,
    /// Outcome counts.
    pub counts: Counts,
    /// `submitted = completed + failed + cancelled + not_started`.
    pub identity_holds: bool,
    /// Start to end of the run.
    pub wall_ms: f64,
    /// Completed jobs per second over the wall time.
    pub throughput_per_s: f64,
    /// Latency summaries.
    pub latency: Latency,
    /// Bucketed series.
    pub series: Series,
    /// Flush-time samples (memory, tokens, queue).
    pub samples: Vec<Sample>,
    /// Rate-limited runs.
    pub limiter: Option<LimiterReport>,
    /// Cancelled runs (by Cancel, a deadline, or a failure in fail-fast mode).
    pub cancellation: Option<CancellationReport>,
    /// Fail fast: the first error (what errgroup's `Wait` returns).
    pub error: Option<String>,
    /// Pitfalls lab: the channel leak found, and what it would have done.
    pub leak: Option<String>,
    /// The engine crashed during the run (a pool thread died); the run was abandoned.
    pub crash: Option<String>,
    /// Fan-out: job ids in the order the fan-in stage handed their results on.
    pub delivery_order: Vec<u32>,
    /// Fan-out: when each of those results was handed on (ms; with `ordered`, a result
    /// waits for every earlier job to end).
    pub delivery_ms: Vec<f64>,
    /// Smallest, largest and last memory reading.
    pub memory: Option<MemoryReport>,
    /// The most goroutines (fan-out tasks or pool workers) alive at once.
    pub peak_goroutines: u32,
    /// Every job. Not serialized: the web glue sends job records as typed-array
    /// columns.
    #[serde(skip)]
    pub jobs: Vec<JobRecord>,
}

/// Memory readings over a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct MemoryReport {
    /// At the start.
    pub start_bytes: u64,
    /// The most seen.
    pub peak_bytes: u64,
    /// At the end.
    pub end_bytes: u64,
    /// The most heap in use at a sample (0 if unknown).
    pub heap_peak_bytes: u64,
}

/// Maximum number of chart buckets (enough for a smooth line, few enough that each
/// bucket averages over several completions).
const MAX_BUCKETS: usize = 60;

/// Builds the final report.
pub fn build_report(
    run: &RunShared,
    threads: usize,
    wall_ms: f64,
    samples: Vec<Sample>,
    grant_log: Vec<Grant>,
    producer_stopped: Option<String>,
) -> RunReport {
    let jobs: Vec<JobRecord> = (0..run.plan.len() as u32)
        .map(|id| JobRecord::from_view(&run.view(id), run))
        .collect();
    let counts = run.counts();
    let deliveries = run
        .fan_in
        .as_ref()
        .map(|fan_in| fan_in.delivered())
        .unwrap_or_default();
    let ran = || {
        jobs.iter()
            .filter(|j| j.started_ms.is_some() && j.finished_ms.is_some())
    };
    let latency = Latency {
        queue_wait: summarize(jobs.iter().filter_map(JobRecord::queue_wait_ms)),
        service: summarize(ran().filter_map(JobRecord::service_ms)),
        total: summarize(ran().filter_map(JobRecord::total_ms)),
    };
    let series = build_series(&jobs, wall_ms);
    let memory = memory_report(&samples);
    RunReport {
        peak_goroutines: run.tasks_peak(),
        config: run.config.clone(),
        threads,
        clock_epoch_ms: run.epoch().as_secs_f64() * 1000.0,
        counts,
        identity_holds: counts.identity_holds(),
        wall_ms,
        throughput_per_s: if wall_ms > 0.0 {
            counts.completed as f64 / (wall_ms / 1000.0)
        } else {
            0.0
        },
        latency,
        series,
        limiter: limiter_report(&run.config, grant_log, producer_stopped),
        cancellation: cancellation_report(run, &jobs),
        error: first_error(run),
        leak: None,
        crash: None,
        delivery_order: deliveries.iter().map(|d| d.job).collect(),
        delivery_ms: deliveries.iter().map(|d| ms(d.at)).collect(),
        memory,
        samples,
        jobs,
    }
}

/// Throughput, busy workers and channel occupancy on round buckets.
pub fn build_series(jobs: &[JobRecord], wall_ms: f64) -> Series {
    let width = bucket_width_for(wall_ms, MAX_BUCKETS);
    let buckets = ((wall_ms / width).ceil() as usize).max(1);
    let completions = jobs
        .iter()
        .filter(|j| j.outcome == Some(Outcome::Completed))
        .filter_map(|j| j.finished_ms);
    let running = jobs
        .iter()
        .filter_map(|j| Some((j.started_ms?, j.finished_ms.unwrap_or(wall_ms))));
    let waiting = jobs.iter().filter_map(|j| {
        Some((
            j.queued_ms?,
            j.started_ms.or(j.finished_ms).unwrap_or(wall_ms),
        ))
    });
    Series {
        bucket_ms: width,
        t_ms: (0..buckets).map(|b| b as f64 * width).collect(),
        throughput: rate_per_second(completions, width, buckets),
        busy: occupancy(running, width, buckets),
        queued: occupancy(waiting, width, buckets),
    }
}

fn memory_report(samples: &[Sample]) -> Option<MemoryReport> {
    let readings: Vec<u64> = samples.iter().filter_map(|s| s.memory_bytes).collect();
    Some(MemoryReport {
        start_bytes: *readings.first()?,
        peak_bytes: *readings.iter().max()?,
        end_bytes: *readings.last()?,
        heap_peak_bytes: samples
            .iter()
            .filter_map(|s| s.heap_bytes)
            .max()
            .unwrap_or(0),
    })
}

fn limiter_report(
    config: &RunConfig,
    grant_log: Vec<Grant>,
    stopped: Option<String>,
) -> Option<LimiterReport> {
    if config.pattern != Pattern::RateLimit {
        return None;
    }
    // The steady rate: from the first release that had to wait (the bucket's initial
    // burst goes at once and would flatter it) to the last release.
    let waits = grant_log.iter().filter(|g| g.waited_ms > 0.0).count() as u32;
    let first_wait = grant_log
        .iter()
        .position(|g| g.waited_ms > 0.0)
        .unwrap_or(0);
    let span = &grant_log[first_wait..];
    let achieved_rate = match (span.first(), span.last()) {
        (Some(first), Some(last)) if span.len() > 1 && last.t_ms > first.t_ms => {
            (span.len() - 1) as f64 / ((last.t_ms - first.t_ms) / 1000.0)
        }
        _ => 0.0,
    };
    Some(LimiterReport {
        pacing: config.pacing,
        configured_rate: config.rate,
        achieved_rate,
        grants: grant_log.len() as u32,
        waits,
        grant_log,
        stopped,
    })
}

fn cancellation_report(run: &RunShared, jobs: &[JobRecord]) -> Option<CancellationReport> {
    let at_ms = ms(run.cancelled_at()?);
    let err = run.token.err().map(|e| match e {
        crate::cancel::CancelError::Canceled => "canceled",
        crate::cancel::CancelError::DeadlineExceeded => "deadline exceeded",
    });
    let running_at_cancel: Vec<&JobRecord> = jobs
        .iter()
        .filter(|j| {
            j.started_ms.is_some_and(|s| s <= at_ms) && j.finished_ms.is_none_or(|f| f >= at_ms)
        })
        .collect();
    let last_stop_ms = running_at_cancel
        .iter()
        .filter_map(|j| j.finished_ms)
        .fold(at_ms, f64::max);
    Some(CancellationReport {
        at_ms,
        err: err.unwrap_or("canceled").to_owned(),
        cause: run.token.cause().map(|c| c.to_string()).unwrap_or_default(),
        last_stop_ms,
        latency_ms: last_stop_ms - at_ms,
        started_after: jobs
            .iter()
            .filter(|j| j.started_ms.is_some_and(|s| s > at_ms))
            .count() as u32,
        running_at_cancel: running_at_cancel.len() as u32,
        work_after_ms: jobs
            .iter()
            .filter_map(|j| Some(j.finished_ms? - j.started_ms?.max(at_ms)))
            .filter(|&after| after > 0.0)
            .sum(),
        quiet_after_ms: jobs
            .iter()
            .filter(|j| j.started_ms.is_some())
            .filter_map(|j| j.finished_ms)
            .fold(at_ms, f64::max)
            - at_ms,
    })
}

fn first_error(run: &RunShared) -> Option<String> {
    if run.config.pattern != Pattern::FailFast {
        return None;
    }
    let cause = run.token.cause()?;
    cause
        .downcast_ref::<super::workers::JobFailed>()
        .map(|e| e.to_string())
}
