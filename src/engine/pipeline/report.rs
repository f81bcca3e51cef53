//! What a pipeline run measures per stage — utilisation, time blocked sending on,
//! queue length, throughput — and which stage is the bottleneck.
//!
//! A stage's *utilisation* is the share of its workers' time spent on jobs: busy time ÷
//! the integral of its live workers over the run. The bottleneck is the most utilised
//! stage: it sets the pipeline's pace, the stages before it block sending into its full
//! queue, and the stages after it wait for work.

use serde::Serialize;

use crate::engine::time_use::TimeUseReport;
use crate::workload::pipeline::StageSpec;

/// A stage's running totals (ns), kept on the coordinator's thread.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTally {
    /// Time its workers spent on jobs.
    pub busy_ns: u64,
    /// Time its workers spent blocked sending to the next stage.
    pub blocked_ns: u64,
    /// Its workers' time: ∫ live workers dt.
    pub worker_ns: u64,
    /// Jobs it worked on (passed on, or ended in it after running).
    pub passed: u64,
    /// Σ queue length over the progress samples.
    pub queue_sum: u64,
    /// Progress samples taken.
    pub queue_samples: u64,
    /// The longest queue seen.
    pub queue_max: u32,
    /// When `worker_ns` was last brought up to date.
    pub counted_to: u64,
}

impl StageTally {
    /// Adds `live` workers' time from the last update to `now`.
    pub fn integrate(&mut self, now: u64, live: u32) {
        let since = now.saturating_sub(self.counted_to);
        self.worker_ns += since * u64::from(live);
        self.counted_to = self.counted_to.max(now);
    }

    /// One reading of the stage's queue.
    pub fn sample_queue(&mut self, queued: u32) {
        self.queue_sum += u64::from(queued);
        self.queue_samples += 1;
        self.queue_max = self.queue_max.max(queued);
    }

    /// Busy share of the workers' time (0 before any worker time).
    pub fn utilisation(&self) -> f64 {
        self.utilisation_since(&StageTally::default())
    }

    /// Busy share of the workers' time since `earlier` (this tally as it was then; 0
    /// if no worker time passed).
    pub fn utilisation_since(&self, earlier: &StageTally) -> f64 {
        let busy = self.busy_ns - earlier.busy_ns;
        let time = self.worker_ns - earlier.worker_ns;
        if time == 0 {
            0.0
        } else {
            (busy as f64 / time as f64).min(1.0)
        }
    }

    fn mean_queue(&self) -> f64 {
        if self.queue_samples == 0 {
            0.0
        } else {
            self.queue_sum as f64 / self.queue_samples as f64
        }
    }
}

/// A stage while the run goes (in every progress batch).
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct StageProgress {
    /// Its name: number and workload.
    pub name: String,
    /// Its first timeline row (its workers' rows follow; the next stage's start after).
    pub first_row: u32,
    /// Workers alive.
    pub workers: u32,
    /// Jobs waiting in front of it.
    pub queued: u32,
    /// Jobs it has worked on.
    pub passed: u64,
    /// Busy share of its workers' time so far.
    pub utilisation: f64,
}

impl StageProgress {
    /// Stage `index` now.
    pub fn of(
        index: usize,
        spec: &StageSpec,
        tally: &StageTally,
        first_row: u32,
        workers: u32,
        queued: u32,
    ) -> StageProgress {
        StageProgress {
            name: spec.name(index),
            first_row,
            workers,
            queued,
            passed: tally.passed,
            utilisation: tally.utilisation(),
        }
    }
}

/// A stage over the whole run.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct StageReport {
    /// Its name: number and workload.
    pub name: String,
    /// What it was set to.
    pub spec: StageSpec,
    /// Workers at the end (the start's, unless the bottleneck policy moved some).
    pub workers_end: u32,
    /// Jobs it worked on.
    pub passed: u64,
    /// Jobs it worked on per second of the run.
    pub throughput_per_s: f64,
    /// Busy share of its workers' time.
    pub utilisation: f64,
    /// Its workers' time spent on jobs, ms.
    pub busy_ms: f64,
    /// Its workers' time spent blocked sending to the next stage (its queue full), ms.
    pub blocked_ms: f64,
    /// Its workers' time spent waiting for a job, ms.
    pub idle_ms: f64,
    /// Mean time on one job, ms.
    pub mean_service_ms: f64,
    /// Mean and longest queue in front of it over the progress samples.
    pub mean_queue: f64,
    /// The longest queue seen.
    pub max_queue: u32,
}

/// A worker moved between stages by the bottleneck policy.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct StageMove {
    /// When (ms since the start).
    pub t_ms: f64,
    /// The stage that gave it (from 0).
    pub from: u32,
    /// The stage that took it.
    pub to: u32,
    /// The readings that caused it.
    pub cause: String,
}

/// A pipeline run's stages.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct PipelineReport {
    /// Each stage, in order.
    pub stages: Vec<StageReport>,
    /// The bottleneck: the most utilised stage (from 0).
    pub bottleneck: u32,
    /// Why, in a sentence.
    pub verdict: String,
    /// Workers the bottleneck policy moved, in order (up to 1,000).
    pub moves: Vec<StageMove>,
    /// Moves beyond those listed.
    pub moves_dropped: u32,
    /// The first timeline row of each stage, then the row after the last stage's.
    pub row_starts: Vec<u32>,
}

impl PipelineReport {
    /// The report of stages `(index, spec, tally, workers at the end)` over a run of
    /// `wall_ns`.
    pub fn new(
        stages: &[(usize, StageSpec, StageTally, u32)],
        wall_ns: u64,
        moves: Vec<StageMove>,
        moves_dropped: u32,
        row_starts: Vec<u32>,
    ) -> PipelineReport {
        let ms = |ns: u64| ns as f64 / 1e6;
        let seconds = (wall_ns as f64 / 1e9).max(1e-9);
        let reports: Vec<StageReport> = stages
            .iter()
            .map(|(index, spec, tally, workers_end)| StageReport {
                name: spec.name(*index),
                spec: *spec,
                workers_end: *workers_end,
                passed: tally.passed,
                throughput_per_s: tally.passed as f64 / seconds,
                utilisation: tally.utilisation(),
                busy_ms: ms(tally.busy_ns),
                blocked_ms: ms(tally.blocked_ns),
                idle_ms: ms(tally
                    .worker_ns
                    .saturating_sub(tally.busy_ns + tally.blocked_ns)),
                mean_service_ms: if tally.passed == 0 {
                    0.0
                } else {
                    ms(tally.busy_ns) / tally.passed as f64
                },
                mean_queue: tally.mean_queue(),
                max_queue: tally.queue_max,
            })
            .collect();
        let bottleneck = bottleneck_of(&reports);
        let verdict = verdict(&reports, bottleneck);
        PipelineReport {
            stages: reports,
            bottleneck: bottleneck as u32,
            verdict,
            moves,
            moves_dropped,
            row_starts,
        }
    }
}

impl PipelineReport {
    /// Where the goroutines' time went, from the stages' own totals (a job's service,
    /// start to end, spans every stage and the queues between them): running is the
    /// stages' busy time, waiting the rest of their workers' time (for a job, or to
    /// send one on). The producer's waits are kept from `run`'s.
    pub fn time_use(&self, run: TimeUseReport) -> TimeUseReport {
        let running: f64 = self.stages.iter().map(|s| s.busy_ms).sum();
        let waiting: f64 = self.stages.iter().map(|s| s.blocked_ms + s.idle_ms).sum();
        TimeUseReport {
            goroutine_ms: running + waiting,
            running_ms: running,
            backend_wait_ms: 0.0,
            waiting_ms: waiting,
            ..run
        }
    }
}

/// The most utilised stage (the earliest of equals).
pub fn bottleneck_of(stages: &[StageReport]) -> usize {
    let mut best = 0;
    for (index, stage) in stages.iter().enumerate() {
        if stage.utilisation > stages[best].utilisation {
            best = index;
        }
    }
    best
}

fn verdict(stages: &[StageReport], bottleneck: usize) -> String {
    let Some(b) = stages.get(bottleneck) else {
        return String::new();
    };
    let mut text = format!(
        "stage {} is the bottleneck: {:.0}% busy, {:.1} jobs waiting in front of it on average",
        b.name,
        b.utilisation * 100.0,
        b.mean_queue
    );
    let blocked: Vec<String> = stages[..bottleneck]
        .iter()
        .filter(|s| s.busy_ms + s.blocked_ms + s.idle_ms > 0.0 && s.blocked_ms > 0.0)
        .map(|s| {
            let share = s.blocked_ms / (s.busy_ms + s.blocked_ms + s.idle_ms);
            format!("stage {} {:.0}%", s.name, share * 100.0)
        })
        .collect();
    if !blocked.is_empty() {
        text += &format!(
            "; upstream, time blocked sending into a full queue: {}",
            blocked.join(", ")
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::WorkKind;

    fn spec(workload: WorkKind) -> StageSpec {
        StageSpec {
            workload,
            cost: 1,
            workers: 1,
            queue: 1,
        }
    }

    #[test]
    fn the_bottleneck_is_the_busiest_stage_and_the_verdict_says_who_waits_on_it() {
        let tally = |busy, blocked, worker| StageTally {
            busy_ns: busy,
            blocked_ns: blocked,
            worker_ns: worker,
            passed: 10,
            queue_sum: 30,
            queue_samples: 10,
            queue_max: 7,
            counted_to: worker,
        };
        let report = PipelineReport::new(
            &[
                (0, spec(WorkKind::Sleep), tally(400, 500, 1_000), 1),
                (1, spec(WorkKind::Sha256), tally(990, 0, 1_000), 1),
                (2, spec(WorkKind::Spin), tally(200, 0, 1_000), 1),
            ],
            1_000_000_000,
            vec![],
            0,
            vec![0, 1, 2, 3],
        );
        assert_eq!(report.bottleneck, 1);
        assert_eq!(
            report.verdict,
            "stage 2 sha256 is the bottleneck: 99% busy, 3.0 jobs waiting in front of it on average; upstream, time blocked sending into a full queue: stage 1 sleep 50%"
        );
        assert_eq!(report.stages[0].idle_ms * 1e6, 100.0);
        assert_eq!(report.stages[2].throughput_per_s, 10.0);
        assert_eq!(report.stages[1].mean_service_ms * 1e6, 99.0);
    }

    #[test]
    fn worker_time_integrates_the_live_count_between_changes() {
        let mut tally = StageTally::default();
        tally.integrate(100, 2); // 0–100: 2 workers
        tally.integrate(250, 3); // 100–250: 3 workers
        tally.integrate(250, 1); // no time passed
        assert_eq!(tally.worker_ns, 200 + 450);
        tally.busy_ns = 650;
        assert_eq!(tally.utilisation(), 1.0);
    }
}
