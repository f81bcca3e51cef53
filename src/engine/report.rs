//! What a run tells its watchers: [`Progress`] batches while it runs, and one
//! [`RunReport`] at the end, built from the job slots and the coordinator's samples.
//! Times are milliseconds since the run started.

use serde::Serialize;

use super::config::{Pacing, Pattern, RunConfig};
use super::job::{Finished, NONE, UNSET};
use super::record::Started;
use super::state::{Counts, Outcome, ResizeRecord, RunShared};
use crate::stats::{Summary, bucket_width_for, occupancy, rate_per_second};

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
    /// When it should have been sent (its intended start).
    pub intended_ms: Option<f64>,
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
    /// Pipelines: the stage this record is a pass through (from 0); a pipeline's
    /// timeline has a record per stage pass, in rows grouped by stage.
    pub stage: Option<u32>,
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

fn opt_ms(ns: u64) -> Option<f64> {
    (ns != UNSET).then(|| ms(ns))
}

fn opt(id: u32) -> Option<u32> {
    (id != NONE).then_some(id)
}

impl JobRecord {
    /// The record of a job that ended.
    pub fn from_finished(f: &Finished) -> JobRecord {
        JobRecord {
            id: f.id,
            worker: opt(f.worker),
            thread: opt(f.thread),
            cost: f.cost,
            intended_ms: opt_ms(f.intended),
            queued_ms: opt_ms(f.queued),
            started_ms: opt_ms(f.started),
            finished_ms: opt_ms(f.finished),
            outcome: Some(f.outcome),
            result: f.outcome.has_result().then_some(f.result),
            error: (f.outcome == Outcome::Failed)
                .then(|| super::workers::JobFailed { job: f.id }.to_string()),
            stage: None,
        }
    }

    /// The record of a job still running.
    pub fn from_started(s: &Started) -> JobRecord {
        JobRecord {
            id: s.id,
            worker: opt(s.worker),
            thread: opt(s.thread),
            cost: s.cost,
            intended_ms: opt_ms(s.intended),
            queued_ms: opt_ms(s.queued),
            started_ms: opt_ms(s.started),
            finished_ms: None,
            outcome: None,
            result: None,
            error: None,
            stage: None,
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
    /// Jobs completed.
    pub completed: u32,
    /// Jobs the full queue refused (overload `reject`).
    pub rejected: u32,
    /// Jobs dropped before they started (overload `drop-oldest`, `shed`).
    pub shed: u32,
    /// Jobs running.
    pub running: u32,
    /// Jobs waiting in the channel (a pipeline's: in all its stages' channels).
    pub queued: u32,
    /// Goroutines alive: pool workers, or fan-out tasks not yet ended.
    pub tasks: u32,
    /// Pool workers alive (a pipeline's: all its stages' workers).
    pub workers: u32,
    /// The pool's target (the limit an autoscaler or a resize set).
    pub limit: u32,
    /// Program memory (wasm linear memory), if known.
    pub memory_bytes: Option<u64>,
    /// Heap in use (allocated, not freed), if known.
    pub heap_bytes: Option<u64>,
    /// Tokens in the bucket (token-bucket runs).
    pub tokens: Option<f64>,
    /// Open loop: jobs the generator has offered so far (sent, rejected or dropped).
    pub offered: Option<u32>,
    /// Open loop: jobs its schedule called for by now (the expected count, Λ(t)).
    pub scheduled: Option<f64>,
    /// Open loop: the p99 latency from enqueue to end of the jobs that ended since the
    /// previous sample ("as hey would report it"), ms.
    pub p99_ms: Option<f64>,
    /// Open loop: the same jobs' p99 from their intended start (corrected), ms.
    pub p99_intended_ms: Option<f64>,
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
    /// Jobs that started or ended since the last batch (a job that did both appears
    /// twice, the ended record last). Not serialized: the web glue sends job records as
    /// typed-array columns.
    #[serde(skip)]
    pub jobs: Vec<JobRecord>,
    /// Job events left out of this batch (more than a batch holds).
    pub jobs_skipped: u64,
    /// Releases since the last batch (rate-limited runs).
    pub grants: Vec<Grant>,
    /// Pipelines: each stage now (empty for other patterns).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<super::pipeline::report::StageProgress>,
    /// Changes of the pool's size since the last batch.
    pub resizes: Vec<ResizeRecord>,
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
    /// From the intended start to finished (jobs that ran): without coordinated
    /// omission. In a closed loop the intended start is when the producer began to send.
    pub from_intended: Summary,
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
    /// Mean pool workers alive in each bucket.
    pub workers: Vec<f64>,
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
    /// The latest releases (up to 10 000).
    pub grant_log: Vec<Grant>,
    /// Why the producer stopped early, if the limiter refused to wait (x/time/rate:
    /// "would exceed context deadline").
    pub stopped: Option<String>,
    /// Rate changes made while the run went.
    pub changes: Vec<RateChangeRecord>,
}

/// A change of rate (and burst) while the run went.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct RateChangeRecord {
    /// When it took effect.
    pub t_ms: f64,
    /// The new rate, jobs/s.
    pub rate: f64,
    /// The new burst.
    pub burst: u32,
}

/// What cancellation did. Figures about the jobs come from the kept window, which
/// holds every job that ran past the cancel unless more than [`super::record::RECENT`]
/// did so on one thread.
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
    /// `submitted = completed + failed + cancelled + not_started + rejected + shed`.
    pub identity_holds: bool,
    /// The wrapping 64-bit sum of the completed jobs' results, as a decimal string (a
    /// JavaScript number cannot hold every u64): the same set-up and seed give the same
    /// checksum here and in the generated Go program.
    pub result_checksum: String,
    /// The summary's accounting line, as the generated Go program prints it last:
    /// `accounting: submitted=N completed=N failed=N cancelled=N notStarted=N checksum=X`.
    pub accounting: String,
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
    /// What the open-loop generator did (open-loop runs).
    pub generator: Option<super::generator::GeneratorReport>,
    /// Cancelled runs (by Cancel, a deadline, or a failure in fail-fast mode).
    pub cancellation: Option<CancellationReport>,
    /// Fail fast: the first error (what errgroup's `Wait` returns).
    pub error: Option<String>,
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
    /// Where the goroutines' time went, and the producer's waits.
    pub time_use: super::time_use::TimeUseReport,
    /// Pipelines: each stage's utilisation, queue and throughput, the bottleneck, and
    /// the workers the bottleneck policy moved.
    pub pipeline: Option<super::pipeline::report::PipelineReport>,
    /// Every change of the pool's size (up to 10 000), with its cause.
    pub resizes: Vec<ResizeRecord>,
    /// Changes beyond those listed.
    pub resizes_dropped: u32,
    /// Job records kept in `jobs`: the most recent jobs that ran, and those that failed,
    /// were cancelled or never started, up to a cap (all of them in a small run).
    pub jobs_kept: u32,
    /// The kept job records. Not serialized: the web glue sends job records as
    /// typed-array columns.
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
    limiter: Option<LimiterReport>,
) -> RunReport {
    let kept = run.recorder.kept();
    let jobs: Vec<JobRecord> = kept.iter().map(JobRecord::from_finished).collect();
    let counts = run.counts();
    let deliveries = run
        .fan_in
        .as_ref()
        .map(|fan_in| fan_in.delivered())
        .unwrap_or_default();
    let latencies = run.recorder.latencies();
    let latency = Latency {
        queue_wait: latencies.queue_wait.summary(),
        service: latencies.service.summary(),
        total: latencies.total.summary(),
        from_intended: latencies.from_intended.summary(),
    };
    // Every job is in the window: the series come from the records themselves, exact;
    // otherwise from the flush samples.
    let series = if jobs.len() as u32 == counts.submitted {
        series_from_jobs(&jobs, &samples, wall_ms)
    } else {
        series_from_samples(&samples, wall_ms)
    };
    let memory = memory_report(&samples);
    let (resizes, resizes_dropped) = run.resizes();
    let checksum = run.recorder.result_checksum();
    let (service_ns, queue_wait_ns) = run.recorder.time_totals();
    let time_use = run.time_use.report(
        run.now(),
        run.workers.live(),
        service_ns,
        queue_wait_ns,
        run.config.has_pool(),
    );
    RunReport {
        pipeline: None,
        peak_goroutines: run.tasks_peak(),
        config: run.config.clone(),
        threads,
        clock_epoch_ms: run.epoch().as_secs_f64() * 1000.0,
        counts,
        identity_holds: counts.identity_holds(),
        result_checksum: checksum.to_string(),
        accounting: super::outcome::accounting_line(&counts, checksum),
        wall_ms,
        throughput_per_s: if wall_ms > 0.0 {
            counts.completed as f64 / (wall_ms / 1000.0)
        } else {
            0.0
        },
        latency,
        series,
        limiter,
        generator: None,
        cancellation: cancellation_report(run, &jobs),
        error: first_error(run),
        crash: None,
        delivery_order: deliveries.iter().map(|d| d.job).collect(),
        delivery_ms: deliveries.iter().map(|d| ms(d.at)).collect(),
        memory,
        samples,
        time_use,
        resizes,
        resizes_dropped,
        jobs_kept: jobs.len() as u32,
        jobs,
    }
}

/// The buckets of a run of `wall_ms`: their width and count.
fn buckets_of(wall_ms: f64) -> (f64, usize) {
    let width = bucket_width_for(wall_ms, MAX_BUCKETS);
    (width, ((wall_ms / width).ceil() as usize).max(1))
}

/// Throughput, busy workers and channel occupancy on round buckets, exact from every
/// job's record (the worker count from the samples).
pub fn series_from_jobs(jobs: &[JobRecord], samples: &[Sample], wall_ms: f64) -> Series {
    let (width, buckets) = buckets_of(wall_ms);
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
        workers: sampled_mean(samples, width, buckets, |s| s.workers as f64),
    }
}

/// The same series from the flush samples (a long run whose jobs were not all kept):
/// throughput from the completions counted between samples, the rest averaged.
pub fn series_from_samples(samples: &[Sample], wall_ms: f64) -> Series {
    let (width, buckets) = buckets_of(wall_ms);
    let mut completed = vec![0.0; buckets];
    for pair in samples.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let n = b.completed.saturating_sub(a.completed) as f64;
        // Spread over the buckets the interval covers, in proportion.
        let span = (b.t_ms - a.t_ms).max(1e-9);
        let first = (a.t_ms / width).floor().max(0.0) as usize;
        let last = ((b.t_ms / width).ceil() as usize).min(buckets);
        for (index, slot) in completed.iter_mut().enumerate().take(last).skip(first) {
            let lo = index as f64 * width;
            let overlap = b.t_ms.min(lo + width) - a.t_ms.max(lo);
            if overlap > 0.0 {
                *slot += n * overlap / span;
            }
        }
    }
    Series {
        bucket_ms: width,
        t_ms: (0..buckets).map(|b| b as f64 * width).collect(),
        throughput: completed.iter().map(|n| n / (width / 1000.0)).collect(),
        busy: sampled_mean(samples, width, buckets, |s| s.running as f64),
        queued: sampled_mean(samples, width, buckets, |s| s.queued as f64),
        workers: sampled_mean(samples, width, buckets, |s| s.workers as f64),
    }
}

/// The mean of `value` over the samples in each bucket (the previous bucket's mean
/// where one has no sample).
fn sampled_mean(
    samples: &[Sample],
    width: f64,
    buckets: usize,
    value: impl Fn(&Sample) -> f64,
) -> Vec<f64> {
    let mut sums = vec![(0.0, 0u32); buckets];
    for s in samples {
        let index = ((s.t_ms / width) as usize).min(buckets - 1);
        sums[index].0 += value(s);
        sums[index].1 += 1;
    }
    let mut last = 0.0;
    sums.into_iter()
        .map(|(sum, n)| {
            if n > 0 {
                last = sum / n as f64;
            }
            last
        })
        .collect()
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
