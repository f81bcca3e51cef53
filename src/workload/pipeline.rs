//! The stages of a pipeline run: what each stage does to every job (its workload and
//! cost), how many workers it has and how many jobs may wait in the channel in front
//! of it — a Go pipeline of `stage(in <-chan Job) <-chan Job` functions, each with its
//! own pool. A setting whose text is `workload:cost:workers:queue` per stage, separated
//! by commas (`"sleep:2000:4:16,spin:500:2:16,sha256:2000:1:16"`), or a JSON list of
//! `{ workload, cost, workers, queue }`.

use serde::{Deserialize, Serialize};

use crate::engine::config::{WorkKind, workload_spec};
use crate::settings::{Choice, FieldKind, SettingValue, num};

/// Fewest stages (one stage is a worker pool).
pub const MIN_STAGES: usize = 2;
/// Most stages.
pub const MAX_STAGES: usize = 4;
/// Most workers one stage may have (at the start, or after the bottleneck policy moved
/// workers to it).
pub const MAX_STAGE_WORKERS: u32 = 64;
/// Largest channel in front of a stage.
pub const MAX_STAGE_QUEUE: u32 = 10_000;
/// The workloads a stage may run (a backend stage would need a backend of its own).
pub const STAGE_WORKLOADS: [WorkKind; 5] = [
    WorkKind::Primes,
    WorkKind::Sha256,
    WorkKind::Mandelbrot,
    WorkKind::Spin,
    WorkKind::Sleep,
];

/// One stage of a pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StageSpec {
    /// What the stage does to each job.
    pub workload: WorkKind,
    /// Work per job, in the workload's unit (every job costs the same in a stage).
    pub cost: u64,
    /// Workers at the start.
    pub workers: u32,
    /// Capacity of the channel in front of the stage (0: unbuffered).
    pub queue: u32,
}

impl StageSpec {
    /// The stage's name on the page and in the Go program: its number and workload
    /// (never text a user typed).
    pub fn name(&self, index: usize) -> String {
        format!("{} {}", index + 1, self.workload.name())
    }
}

/// The stages of a pipeline, in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, tsify_next::Tsify)]
pub struct PipelineStages(pub Vec<StageSpec>);

impl PipelineStages {
    /// What the message of a bad stage list says is allowed.
    pub fn allowed_text() -> String {
        let workloads: Vec<&str> = STAGE_WORKLOADS.iter().map(|w| w.name()).collect();
        format!(
            "{MIN_STAGES}–{MAX_STAGES} stages workload:cost:workers:queue, comma-separated (workload {}; cost in its range; workers 1–{MAX_STAGE_WORKERS}; queue 0–{MAX_STAGE_QUEUE})",
            workloads.join(", ")
        )
    }

    /// Workers at the start, all stages together.
    pub fn total_workers(&self) -> u32 {
        self.0.iter().map(|s| s.workers).sum()
    }

    /// The first problem with a stage, if any.
    fn check(&self) -> Result<(), &'static str> {
        if self.0.len() < MIN_STAGES {
            return Err("has too few stages");
        }
        if self.0.len() > MAX_STAGES {
            return Err("has too many stages");
        }
        for stage in &self.0 {
            if !STAGE_WORKLOADS.contains(&stage.workload) {
                return Err("has a stage whose workload cannot be a stage");
            }
            let spec = workload_spec(stage.workload);
            if !(spec.min_cost..=spec.max_cost).contains(&stage.cost) {
                return Err("has a stage cost out of its workload's range");
            }
            if !(1..=MAX_STAGE_WORKERS).contains(&stage.workers) {
                return Err("has a stage worker count out of range");
            }
            if stage.queue > MAX_STAGE_QUEUE {
                return Err("has a stage queue out of range");
            }
        }
        Ok(())
    }
}

const NOT_A_STAGE: &str = "has a stage that is not workload:cost:workers:queue";

fn parse_stage(part: &str) -> Result<StageSpec, &'static str> {
    let fields: Vec<&str> = part.split(':').map(str::trim).collect();
    let [workload, cost, workers, queue] = fields[..] else {
        return Err(NOT_A_STAGE);
    };
    let workload = WorkKind::from_name(workload).ok_or(NOT_A_STAGE)?;
    let whole = |t: &str| t.parse::<u64>().map_err(|_| NOT_A_STAGE);
    let small = |t: &str| t.parse::<u32>().map_err(|_| NOT_A_STAGE);
    Ok(StageSpec {
        workload,
        cost: whole(cost)?,
        workers: small(workers)?,
        queue: small(queue)?,
    })
}

impl SettingValue for PipelineStages {
    fn kind(_: Option<(f64, f64)>) -> FieldKind {
        FieldKind::Pipeline {
            min_stages: MIN_STAGES as u32,
            max_stages: MAX_STAGES as u32,
            max_workers: MAX_STAGE_WORKERS,
            max_queue: MAX_STAGE_QUEUE,
        }
    }

    fn parse_text(text: &str) -> Result<Self, &'static str> {
        let stages = if text.starts_with('[') {
            PipelineStages(
                serde_json::from_str(text)
                    .map_err(|_| "is not a list of { workload, cost, workers, queue }")?,
            )
        } else {
            PipelineStages(
                text.split(',')
                    .map(str::trim)
                    .filter(|part| !part.is_empty())
                    .map(parse_stage)
                    .collect::<Result<_, _>>()?,
            )
        };
        stages.check()?;
        Ok(stages)
    }

    fn to_text(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|s| {
                format!(
                    "{}:{}:{}:{}",
                    s.workload.name(),
                    num(s.cost as f64),
                    s.workers,
                    s.queue
                )
            })
            .collect();
        parts.join(",")
    }

    fn as_number(&self) -> Option<f64> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_reads_back_as_written_and_json_reads_the_same() {
        let text = "sleep:2000:4:16,spin:500:2:0,sha256:2000:1:8";
        let stages = PipelineStages::parse_text(text).unwrap();
        assert_eq!(stages.to_text(), text);
        assert_eq!(stages.total_workers(), 7);
        assert_eq!(stages.0[1].name(1), "2 spin");
        let json = serde_json::to_string(&stages).unwrap();
        assert_eq!(PipelineStages::parse_text(&json).unwrap(), stages);
    }

    #[test]
    fn each_kind_of_bad_stage_list_is_named() {
        for (text, problem) in [
            ("sleep:2000:4:16", "has too few stages"),
            (
                "sleep:1:1:1,sleep:1:1:1,sleep:1:1:1,sleep:1:1:1,sleep:1:1:1",
                "has too many stages",
            ),
            ("sleep:2000:4,spin:1:1:1", NOT_A_STAGE),
            ("nap:2000:4:1,spin:1:1:1", NOT_A_STAGE),
            ("sleep:-1:4:1,spin:1:1:1", NOT_A_STAGE),
            (
                "backend:2000:4:1,spin:1:1:1",
                "has a stage whose workload cannot be a stage",
            ),
            (
                "primes:0:4:1,spin:1:1:1",
                "has a stage cost out of its workload's range",
            ),
            (
                "sleep:1:0:1,spin:1:1:1",
                "has a stage worker count out of range",
            ),
            (
                "sleep:1:65:1,spin:1:1:1",
                "has a stage worker count out of range",
            ),
            (
                "sleep:1:1:10001,spin:1:1:1",
                "has a stage queue out of range",
            ),
        ] {
            assert_eq!(PipelineStages::parse_text(text), Err(problem), "{text}");
        }
    }
}
