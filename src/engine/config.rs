//! What a run is asked to do, declared once (see [`crate::settings`]).
//!
//! Every setting of a run is one entry in the [`settings!`](crate::settings!) block
//! below: its field, key, type, default, range, label, unit and help. The parser
//! ([`RunConfig::from_fields`]: forms, links, imported JSON and the JavaScript API), the
//! checks ([`RunConfig::validate`]: the Rust API), the schema the page builds its form
//! from ([`fields`]), link text ([`RunConfig::to_fields`]) and the TypeScript type
//! `RunSettings` all come from it, so a limit is written once and every way in gives the
//! same message: the field, the value, and what is allowed.

use std::sync::LazyLock;

use serde::Serialize;

use crate::settings::{GivenFields, Range, SettingValue, num};

pub use super::pool::MAX_WORKERS;

pub use crate::settings::{ConfigError, ConfigErrors, FieldKind, FieldSpec};

crate::choices! {
    /// Which of Go's patterns a run uses.
    pub enum Pattern {
        /// `workers` goroutines range over a jobs channel of capacity `queue`, fed by a
        /// producer; results fan in.
        Pool = "pool",
        /// One goroutine per job (`go f(x)`), results gathered as they complete (or in
        /// input order when `ordered`).
        FanOut = "fanout",
        /// errgroup with `SetLimit(workers)`: the first failure cancels the rest and is
        /// what `Wait` returns.
        FailFast = "failfast",
        /// A pool whose producer is paced by a token bucket (or the article's ticker).
        RateLimit = "ratelimit",
        /// Jobs flow through 2–4 stages (`pipeline`), each a pool of its own behind a
        /// bounded channel, as a Go pipeline of `stage(in <-chan Job) <-chan Job`.
        Pipeline = "pipeline",
    }
}

crate::choices! {
    /// The work each job does.
    pub enum WorkKind {
        /// Count primes in a range (segmented sieve); cost = numbers sieved.
        Primes = "primes",
        /// Iterated SHA-256; cost = hash rounds.
        Sha256 = "sha256",
        /// A Mandelbrot tile; cost = pixels (up to 256 iterations each).
        Mandelbrot = "mandelbrot",
        /// Busy work for an exact time: spin on the CPU for `cost` microseconds, reading
        /// the clock (0 = an empty job, to measure dispatch overhead). Needs a real clock.
        Spin = "spin",
        /// I/O-like: wait on a timer (the article's `time.Sleep`); cost = microseconds.
        Sleep = "sleep",
        /// I/O-like: a call to a shared backend (an API or a database) with
        /// `backendSlots` slots; calls beyond them queue there. Cost = the backend's
        /// service time in microseconds.
        Backend = "backend",
    }
}

impl WorkKind {
    /// Whether jobs of this kind burn CPU on a pool thread (not `Sleep`, `Backend`).
    pub fn is_cpu(self) -> bool {
        !matches!(self, WorkKind::Sleep | WorkKind::Backend)
    }
}

crate::choices! {
    /// How job costs vary around the `cost` setting (the mean).
    pub enum Distribution {
        /// Every job costs exactly `cost`.
        Fixed = "fixed",
        /// Uniform in `cost x (1 ± spread)`.
        Uniform = "uniform",
        /// Pareto with shape `alpha` and mean `cost` (heavy tail: a few huge jobs).
        Pareto = "pareto",
        /// Log-normal with shape `sigma` and mean `cost`.
        LogNormal = "lognormal",
        /// Exponential with mean `cost` (memoryless service: with Poisson arrivals, the
        /// M/M/c queue of queueing theory).
        Exponential = "exponential",
    }
}

crate::choices! {
    /// When jobs arrive (see `workload::arrival`).
    pub enum Arrival {
        /// Closed loop: the producer sends the next job as soon as the queue takes the
        /// last (a paced producer waits for its limiter). Latency counts from enqueue.
        Closed = "closed",
        /// Open loop at `arrivalRate`, evenly spaced (wrk2's constant throughput).
        Constant = "constant",
        /// Open loop, exponential gaps at mean `arrivalRate` (a Poisson process).
        Poisson = "poisson",
        /// Open loop following `stages`, ramping linearly from `arrivalRate` (k6's
        /// ramping-arrival-rate).
        Stages = "stages",
        /// Open loop at `arrivalRate`, with `spikeRate` from `spikeAt` for `spikeFor`.
        Spike = "spike",
    }
}

impl Arrival {
    /// Whether jobs arrive on a schedule of their own (every arrival but `closed`).
    pub fn is_open(self) -> bool {
        self != Arrival::Closed
    }
}

crate::choices! {
    /// What an open-loop generator does with a job when the queue is full.
    pub enum Overload {
        /// Wait for room (backpressure): the generator falls behind its schedule, and
        /// latency from the intended start shows it.
        Block = "block",
        /// Refuse the new job (counted *rejected*): HTTP 503 at the door.
        Reject = "reject",
        /// Drop the job that waited longest to make room (counted *shed*).
        DropOldest = "drop-oldest",
        /// Block when full, and drop any job that waited longer than `shedAfter` when a
        /// worker takes it (counted *shed*): a queue-wait deadline.
        Shed = "shed",
    }
}

crate::choices! {
    /// How the rate-limited producer is paced.
    pub enum Pacing {
        /// x/time/rate token bucket (`rate`, `burst`): tokens from the clock, bursts allowed.
        Bucket = "bucket",
        /// The article's `time.NewTicker(1/rate)`: one job per tick, no bursts.
        Ticker = "ticker",
    }
}

crate::choices! {
    /// How a pool's size is chosen while it runs (see `engine::scaling`).
    pub enum Scaling {
        /// `workers`, unless resized by hand.
        Fixed = "fixed",
        /// Between `minWorkers` and `maxWorkers`, holding the queue near `scaleTarget`
        /// (jobs waiting, or ms of queue wait) with a `cooldown` between changes — the
        /// way a Kubernetes autoscaler scales on a metric.
        Queue = "queue",
        /// Additive increase while latency stays under `scaleTarget` ms, multiplicative
        /// decrease above it (Netflix concurrency-limits' AIMD).
        Aimd = "aimd",
        /// The limit follows the ratio of long-term to recent latency, plus
        /// `scaleTarget` jobs of headroom (Netflix concurrency-limits' Gradient2).
        Gradient2 = "gradient2",
        /// Pipelines: every `cooldown` ms, move one worker from the least busy stage to
        /// the busiest one while jobs wait in front of it (the total stays the same).
        Bottleneck = "bottleneck",
    }
}

crate::choices! {
    /// What the queue policy holds near its target.
    pub enum ScaleOn {
        /// Jobs waiting in the queue.
        Length = "length",
        /// Mean time a job waits in the queue, in ms.
        Wait = "wait",
    }
}

/// Largest integer a JavaScript number holds exactly (2^53 - 1): seeds stay exact in
/// links and JSON.
pub const MAX_SEED: f64 = 9_007_199_254_740_991.0;

/// Largest `cost` any workload accepts (each workload narrows it: [`WORKLOADS`]).
const MAX_ANY_COST: u64 = 10_000_000;

crate::settings! {
    /// A complete, valid description of a run. Build one with `RunConfig::default()` and
    /// field updates, then [`validate`](Self::validate); or parse text with
    /// [`from_fields`](Self::from_fields).
    pub struct RunConfig, optional RunSettings;

    /// The pattern.
    pattern "pattern": Pattern = Pattern::Pool, [],
        "Pattern", "",
        "worker pool, fan-out/fan-in, fail fast (errgroup), or rate-limited pipeline";
    /// Pool workers, or errgroup's limit (ignored by fan-out); where a scaling policy
    /// runs, the count it starts from.
    workers "workers": u32 = 4, [1, MAX_WORKERS],
        "Workers", "goroutines",
        "pool workers, or errgroup's SetLimit; may exceed the core count; change it while a run goes to resize the pool";
    /// Jobs channel capacity; 0 is an unbuffered channel.
    queue "queue": u32 = 16, [0, 100_000],
        "Queue capacity", "jobs",
        "buffer of the jobs channel; 0 is an unbuffered channel";
    /// Jobs submitted (the most, when a duration is set).
    jobs "jobs": u32 = 200, [1, MAX_JOBS],
        "Jobs", "jobs",
        "jobs the producer submits (with a duration: at most this many)";
    /// How long the producer submits jobs, in ms; 0 = until `jobs` are submitted.
    duration_ms "duration": f64 = 0.0, [0, 3_600_000],
        "Duration", "ms",
        "submit jobs for this long, then let the queue drain; 0 = until all jobs are submitted";
    /// The work each job does.
    workload "workload": WorkKind = WorkKind::Primes, [],
        "Workload", "",
        "a real CPU kernel, or an I/O-like wait on a timer";
    /// Mean cost per job, in the workload's unit (its range is the workload's).
    cost "cost": u64 = workload_spec(WorkKind::Primes).default_cost, [0, MAX_ANY_COST],
        "Job cost", "units",
        "mean work per job, in the workload's unit";
    /// How costs vary.
    distribution "distribution": Distribution = Distribution::Fixed, [],
        "Cost distribution", "",
        "how job costs vary around the mean";
    /// Uniform spread, as a fraction of the cost.
    spread "spread": f64 = 0.5, [0, 1],
        "Spread", "± fraction",
        "uniform: each cost is the mean times 1 ± up to this fraction";
    /// Pareto shape.
    alpha "alpha": f64 = 1.5, [1.1, 10],
        "Pareto shape α", "",
        "pareto: smaller means a heavier tail";
    /// Log-normal shape.
    sigma "sigma": f64 = 1.0, [0.05, 3],
        "Log-normal σ", "",
        "lognormal: larger means more spread";
    /// Probability that a job fails.
    failure "failure": f64 = 0.0, [0, 1],
        "Failure probability", "",
        "chance that a job returns an error";
    /// Seed for costs and failures: the same seed gives the same jobs.
    seed "seed": u64 = 1, [0, MAX_SEED],
        "Seed", "",
        "same seed, same job costs and failures";
    /// Fan-out: deliver results in input order.
    ordered "ordered": bool = false, [],
        "Results in input order", "",
        "fan-out: hand results back in submission order instead of as they complete";
    /// Rate-limited producer: bucket or ticker.
    pacing "pacing": Pacing = Pacing::Bucket, [],
        "Pacing", "",
        "token bucket (x/time/rate) or the article's time.Ticker";
    /// Rate-limited producer: jobs per second.
    rate "rate": f64 = 100.0, [0.1, 100_000],
        "Rate", "jobs/s",
        "jobs released per second";
    /// Rate-limited producer: bucket size.
    burst "burst": u32 = 10, [1, 100_000],
        "Burst", "tokens",
        "token bucket size: jobs that may go at once after a quiet spell";
    /// Deadline for the whole run, in milliseconds; 0 means none.
    timeout_ms "timeout": f64 = 0.0, [0, 600_000],
        "Timeout", "ms",
        "deadline for the whole run (context.WithTimeout); 0 = none";
    /// How the pool's size is chosen while it runs.
    scaling "scaling": Scaling = Scaling::Fixed, [],
        "Scaling", "",
        "fixed, or an autoscaler: queue target (like Kubernetes' HPA), AIMD or Gradient2 (adaptive concurrency); for a pipeline, bottleneck (moves workers to its busiest stage)";
    /// Fewest workers an autoscaler keeps (0 lets it pause the pool).
    min_workers "minWorkers": u32 = 1, [0, MAX_WORKERS],
        "Min workers", "goroutines",
        "autoscalers never go below this";
    /// Most workers an autoscaler may start.
    max_workers "maxWorkers": u32 = 64, [1, MAX_WORKERS],
        "Max workers", "goroutines",
        "autoscalers never go above this";
    /// The autoscaler's target: queue — jobs waiting (or ms of wait); aimd — the
    /// latency in ms above which it cuts; gradient2 — jobs of headroom.
    scale_target "scaleTarget": f64 = 10.0, [0.1, 1_000_000],
        "Scale target", "",
        "queue: jobs waiting (or ms of wait) to hold; aimd: latency (ms) above which the limit is cut; gradient2: extra jobs allowed in flight while latency holds";
    /// What the queue policy measures.
    scale_on "scaleOn": ScaleOn = ScaleOn::Length, [],
        "Scale on", "",
        "queue policy: the number of jobs waiting, or how long they wait";
    /// Least time between two changes of the queue policy (or two moves of the bottleneck
    /// policy), in ms.
    cooldown_ms "cooldown": f64 = 1000.0, [0, 600_000],
        "Cooldown", "ms",
        "queue policy: least time between two changes (a stabilization window); bottleneck policy: between two moves of a worker";
    /// When jobs arrive: a closed loop, or an open-loop generator with its own schedule.
    arrival "arrival": Arrival = Arrival::Closed, [],
        "Arrivals", "",
        "closed loop (send when the queue takes the last job), or open loop on a schedule: constant rate, Poisson, k6-style stages, or a spike";
    /// Open loop: jobs per second (stages: the rate the first stage starts from; spike:
    /// the base rate).
    arrival_rate "arrivalRate": f64 = 100.0, [0.1, crate::workload::arrival::MAX_RATE],
        "Arrival rate", "jobs/s",
        "open loop: jobs sent per second, whatever the pool does (stages: the starting rate; spike: the base rate)";
    /// Open loop, `stages`: the load stages.
    stages "stages": crate::workload::arrival::Stages = default_stages(), [],
        "Stages", "ms:jobs/s, …",
        "stages arrivals: each durationMs:rate ramps linearly to rate over durationMs (0 ms = a step)";
    /// Open loop, `spike`: the rate during the spike.
    spike_rate "spikeRate": f64 = 1000.0, [0.1, crate::workload::arrival::MAX_RATE],
        "Spike rate", "jobs/s",
        "spike arrivals: the rate during the spike";
    /// Open loop, `spike`: when the spike starts, ms.
    spike_at_ms "spikeAt": f64 = 1000.0, [0, 3_600_000],
        "Spike at", "ms",
        "spike arrivals: when the spike starts";
    /// Open loop, `spike`: how long it lasts, ms.
    spike_for_ms "spikeFor": f64 = 500.0, [0, 3_600_000],
        "Spike length", "ms",
        "spike arrivals: how long the spike lasts";
    /// Open loop: what happens to a job when the queue is full.
    overload "overload": Overload = Overload::Block, [],
        "When full", "",
        "open loop, queue full: block (the generator falls behind), reject the new job, drop the oldest, or shed jobs that waited longer than shedAfter";
    /// Open loop, `shed`: the longest a job may wait in the queue, ms.
    shed_after_ms "shedAfter": f64 = 100.0, [0.001, 600_000],
        "Shed after", "ms",
        "shed policy: a job that waited longer than this is dropped when a worker takes it";
    /// The simulated backend's concurrent slots (workload `backend`).
    backend_slots "backendSlots": u32 = 8, [1, 1024],
        "Backend slots", "calls",
        "backend workload: calls the backend serves at once; more wait in its queue";
    /// Backend workload: the most slots one job holds. Each job draws its weight,
    /// 1…maxWeight, from the seed and takes that many slots at once, as
    /// `semaphore.Weighted`'s `Acquire(ctx, n)` (FIFO: a heavy job at the head of the
    /// line holds back lighter ones behind it).
    max_weight "maxWeight": u32 = 1, [1, 1024],
        "Max job weight", "slots",
        "backend workload: each job holds 1–maxWeight of the backend's slots at once (drawn from the seed), like semaphore.Weighted's Acquire(ctx, n); 1 = one slot per call";
    /// Pipeline: its stages, in order (see [`crate::workload::pipeline`]).
    pipeline "pipeline": crate::workload::pipeline::PipelineStages = default_pipeline(), [],
        "Pipeline stages", "workload:cost:workers:queue, …",
        "pipeline: each stage's workload, cost per job, workers and the queue in front of it, in order (a job goes through every stage)";
}

/// The default pipeline: fetch (a 2 ms wait), parse (0.5 ms of CPU), hash (2,000
/// SHA-256 rounds) — with too few hashers, so the last stage is the bottleneck.
fn default_pipeline() -> crate::workload::pipeline::PipelineStages {
    use crate::workload::pipeline::{PipelineStages, StageSpec};
    let stage = |workload, cost, workers| StageSpec {
        workload,
        cost,
        workers,
        queue: 16,
    };
    PipelineStages(vec![
        stage(WorkKind::Sleep, 2_000, 4),
        stage(WorkKind::Spin, 500, 2),
        stage(WorkKind::Sha256, 2_000, 1),
    ])
}

/// The default load stages: a ramp up, a hold, and a ramp down.
fn default_stages() -> crate::workload::arrival::Stages {
    use crate::workload::arrival::{Stage, Stages};
    Stages(vec![
        Stage {
            duration_ms: 2000.0,
            rate: 500.0,
        },
        Stage {
            duration_ms: 3000.0,
            rate: 500.0,
        },
        Stage {
            duration_ms: 2000.0,
            rate: 100.0,
        },
    ])
}

/// Most jobs one run may submit.
pub const MAX_JOBS: u32 = 10_000_000;
/// Most jobs a fan-out run may start (one goroutine, and one timeline row, per job).
pub const MAX_FAN_OUT_JOBS: u32 = 100_000;

/// Per-workload cost unit, default, limit, and a rough native cost per unit (used only
/// to cap the total work one run may ask for).
#[derive(Debug, Clone, Copy, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSpec {
    /// The workload.
    pub kind: WorkKind,
    /// Unit of `cost`.
    pub unit: &'static str,
    /// Default cost.
    pub default_cost: u64,
    /// Smallest cost per job.
    pub min_cost: u64,
    /// Largest cost per job.
    pub max_cost: u64,
    /// Largest `jobs x cost` per run (about two minutes of one core), 0 = no cap.
    pub max_total: u64,
    /// One line for the page.
    pub description: &'static str,
}

impl WorkloadSpec {
    /// `jobs x cost`, when it is beyond this workload's cap for one run (never, if it
    /// has no cap).
    fn total_over_cap(&self, jobs: u32, cost: u64) -> Option<u64> {
        let total = jobs as u64 * cost;
        (self.max_total != 0 && total > self.max_total).then_some(total)
    }
}

/// The workloads and their cost ranges.
pub const WORKLOADS: [WorkloadSpec; 6] = [
    WorkloadSpec {
        kind: WorkKind::Primes,
        unit: "numbers",
        default_cost: 200_000,
        min_cost: 1,
        max_cost: 10_000_000,
        max_total: 30_000_000_000,
        description: "count the primes in a range of numbers (segmented sieve)",
    },
    WorkloadSpec {
        kind: WorkKind::Sha256,
        unit: "rounds",
        default_cost: 2_000,
        min_cost: 1,
        max_cost: 1_000_000,
        max_total: 300_000_000,
        description: "hash a seed with SHA-256 over and over",
    },
    WorkloadSpec {
        kind: WorkKind::Mandelbrot,
        unit: "pixels",
        default_cost: 4_096,
        min_cost: 1,
        max_cost: 1_000_000,
        max_total: 300_000_000,
        description: "render a tile of the Mandelbrot set (up to 256 iterations per pixel)",
    },
    WorkloadSpec {
        kind: WorkKind::Spin,
        unit: "µs",
        default_cost: 1_000,
        min_cost: 0,
        max_cost: 1_000_000,
        max_total: 120_000_000,
        description: "spin on the CPU for an exact time (0 = an empty job, to see the pool's own overhead)",
    },
    WorkloadSpec {
        kind: WorkKind::Sleep,
        unit: "µs",
        default_cost: 5_000,
        min_cost: 0,
        max_cost: 10_000_000,
        max_total: 0,
        description: "wait on a timer, like time.Sleep or a network call: no CPU",
    },
    WorkloadSpec {
        kind: WorkKind::Backend,
        unit: "µs",
        default_cost: 5_000,
        min_cost: 0,
        max_cost: 10_000_000,
        max_total: 0,
        description: "call a shared backend (an API, a database) that serves backendSlots calls at once; the rest queue there",
    },
];

/// What `scaleTarget` means under each scaling policy: its unit and default.
#[derive(Debug, Clone, Copy, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ScalingSpec {
    /// The policy.
    pub policy: Scaling,
    /// `scaleTarget`'s default.
    pub default_target: f64,
    /// `scaleTarget`'s unit ("" where the policy has no target).
    pub target_unit: &'static str,
    /// What `scaleTarget` is, in one line.
    pub target_help: &'static str,
}

/// The scaling policies and what their target means.
pub const SCALINGS: [ScalingSpec; 5] = [
    ScalingSpec {
        policy: Scaling::Fixed,
        default_target: 10.0,
        target_unit: "",
        target_help: "not used: the pool keeps its size unless you resize it",
    },
    ScalingSpec {
        policy: Scaling::Queue,
        default_target: 10.0,
        target_unit: "jobs or ms",
        target_help: "the queue length (jobs waiting) to hold, or with scaleOn = wait, the queue wait in ms",
    },
    ScalingSpec {
        policy: Scaling::Aimd,
        default_target: 10.0,
        target_unit: "ms",
        target_help: "the latency above which the limit is cut by 10%; below it, the limit grows by one",
    },
    ScalingSpec {
        policy: Scaling::Gradient2,
        default_target: 1.0,
        target_unit: "jobs",
        target_help: "extra jobs allowed in flight while latency holds (concurrency-limits' queueSize)",
    },
    ScalingSpec {
        policy: Scaling::Bottleneck,
        default_target: 10.0,
        target_unit: "",
        target_help: "not used: a worker moves to the busiest stage while jobs wait in front of it",
    },
];

/// The spec of a scaling policy.
pub fn scaling_spec(policy: Scaling) -> &'static ScalingSpec {
    SCALINGS
        .iter()
        .find(|s| s.policy == policy)
        .expect("every policy has a spec")
}

/// The spec of a workload.
pub fn workload_spec(kind: WorkKind) -> &'static WorkloadSpec {
    WORKLOADS
        .iter()
        .find(|w| w.kind == kind)
        .expect("every workload has a spec")
}

/// The schema of a run's settings, in declaration order (what `engineSchema()` gives
/// the page).
pub fn fields() -> &'static [FieldSpec] {
    static FIELDS: LazyLock<Vec<FieldSpec>> = LazyLock::new(RunConfig::schema);
    &FIELDS
}

/// The spec of a field by name.
pub fn field_spec(name: &str) -> Option<&'static FieldSpec> {
    fields().iter().find(|f| f.name == name)
}

impl RunConfig {
    /// The default configuration with `cost` set to the workload's default.
    pub fn for_workload(workload: WorkKind) -> RunConfig {
        RunConfig {
            workload,
            cost: workload_spec(workload).default_cost,
            ..RunConfig::default()
        }
    }

    /// The schema's default text where it depends on another setting (`cost`: the
    /// workload's; `scaleTarget`: the policy's; the page fills them in).
    fn default_text(&self, key: &str) -> Option<String> {
        matches!(key, "cost" | "scaleTarget").then(String::new)
    }

    /// The scaling policy's default target (see [`SCALINGS`]).
    pub fn default_scale_target(scaling: Scaling) -> f64 {
        scaling_spec(scaling).default_target
    }

    /// The range `key` is checked against: the declared one, or for `cost` the
    /// workload's own.
    pub fn ranges(&self, key: &str) -> Option<Range> {
        if key == "cost" {
            let w = workload_spec(self.workload);
            return Some(Range {
                min: w.min_cost as f64,
                max: w.max_cost as f64,
                whole: true,
                unit: format!("{} per job for {}", w.unit, self.workload.to_text()),
            });
        }
        Self::declared_range(key)
    }

    /// Checks every numeric field against its range (and `jobs x cost` against the
    /// workload's cap). Returns every problem found, each naming field, value and range.
    pub fn validate(&self) -> Result<(), ConfigErrors> {
        let mut errors = self.check_ranges(&[], None);
        if errors.is_empty() {
            errors.extend(self.cross_field_errors());
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(errors))
        }
    }

    /// The checks that involve more than one setting (once each is in its range).
    fn cross_field_errors(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if let Some(e) = self.total_work_error() {
            errors.push(e);
        }
        if self.pattern == Pattern::FanOut && self.jobs > MAX_FAN_OUT_JOBS {
            errors.push(ConfigError::new(
                "jobs",
                &self.jobs.to_string(),
                "is too many for fan-out, which starts a goroutine per job",
                format!("a whole number 1–{MAX_FAN_OUT_JOBS} jobs for fanout"),
            ));
        }
        errors.extend(self.arrival_errors());
        errors.extend(self.pipeline_errors());
        if self.workload == WorkKind::Backend && self.max_weight > self.backend_slots {
            errors.push(ConfigError::new(
                "maxWeight",
                &self.max_weight.to_string(),
                &format!(
                    "is more than backendSlots ({}): a job that heavy would wait for the backend forever",
                    self.backend_slots
                ),
                format!(
                    "a whole number 1–{} slots (backendSlots)",
                    self.backend_slots
                ),
            ));
        }
        if self.min_workers > self.max_workers {
            errors.push(ConfigError::new(
                "minWorkers",
                &self.min_workers.to_string(),
                &format!("is above maxWorkers ({})", self.max_workers),
                format!("a whole number 0–{} goroutines", self.max_workers),
            ));
        } else if self.scaling != Scaling::Fixed
            && !(self.min_workers..=self.max_workers).contains(&self.workers)
        {
            errors.push(ConfigError::new(
                "workers",
                &self.workers.to_string(),
                "is outside the autoscaler's range",
                format!(
                    "a whole number {}–{} goroutines (minWorkers–maxWorkers)",
                    self.min_workers, self.max_workers
                ),
            ));
        }
        errors
    }

    /// The pipeline settings that do not fit together: the bottleneck policy outside a
    /// pipeline, a pool's autoscaler inside one, a stage asking for too much work.
    fn pipeline_errors(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        let pipeline = self.pattern == Pattern::Pipeline;
        if pipeline && !matches!(self.scaling, Scaling::Fixed | Scaling::Bottleneck) {
            errors.push(ConfigError::new(
                "scaling",
                self.scaling.to_text().as_str(),
                "scales one pool; a pipeline's stages scale with the bottleneck policy",
                "fixed or bottleneck, for pattern pipeline".to_owned(),
            ));
        }
        if !pipeline && self.scaling == Scaling::Bottleneck {
            errors.push(ConfigError::new(
                "scaling",
                self.scaling.to_text().as_str(),
                &format!(
                    "needs the pipeline pattern (not {}): it moves workers between stages",
                    self.pattern.to_text()
                ),
                "fixed, queue, aimd or gradient2, or pattern pipeline".to_owned(),
            ));
        }
        if pipeline && self.duration_ms == 0.0 {
            for stage in &self.pipeline.0 {
                let w = workload_spec(stage.workload);
                if let Some(total) = w.total_over_cap(self.jobs, stage.cost) {
                    errors.push(ConfigError::new(
                        "pipeline",
                        &self.pipeline.to_text(),
                        &format!(
                            "asks a {} stage for {} jobs x {} = {total} {} in all, too much for one run",
                            stage.workload.to_text(),
                            self.jobs,
                            stage.cost,
                            w.unit
                        ),
                        format!(
                            "jobs x cost up to {} {} per {} stage (about two minutes of CPU)",
                            w.max_total,
                            w.unit,
                            stage.workload.to_text()
                        ),
                    ));
                    break;
                }
            }
        }
        errors
    }

    /// The open-loop settings that do not fit together.
    fn arrival_errors(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if self.arrival.is_open() && self.pattern != Pattern::Pool {
            errors.push(ConfigError::new(
                "arrival",
                self.arrival.to_text().as_str(),
                &format!(
                    "needs the pool pattern (not {}): an open-loop generator feeds a worker pool",
                    self.pattern.to_text()
                ),
                "closed, or pattern pool".to_owned(),
            ));
        }
        if self.overload != Overload::Block && !self.arrival.is_open() {
            errors.push(ConfigError::new(
                "overload",
                self.overload.to_text().as_str(),
                "needs an open-loop arrival (a closed loop never overloads its queue)",
                "block, or arrival constant, poisson, stages or spike".to_owned(),
            ));
        }
        if self.arrival == Arrival::Stages && self.stages.total_ms() <= 0.0 {
            errors.push(ConfigError::new(
                "stages",
                &self.stages.to_text(),
                "lasts no time at all",
                crate::workload::arrival::Stages::allowed_text()
                    + ", lasting more than 0 ms in all",
            ));
        }
        errors
    }

    /// `jobs x cost` beyond the workload's cap (so no link can ask for hours of CPU).
    /// A run with a duration is bounded by it instead.
    fn total_work_error(&self) -> Option<ConfigError> {
        if self.duration_ms > 0.0
            || self.arrival == Arrival::Stages
            || self.pattern == Pattern::Pipeline
        {
            return None;
        }
        let w = workload_spec(self.workload);
        let total = w.total_over_cap(self.jobs, self.cost)?;
        Some(ConfigError::new(
            "cost",
            &num(self.cost as f64),
            &format!(
                "x {} jobs is {total} {} in all, too much for one run",
                self.jobs, w.unit
            ),
            format!(
                "jobs x cost up to {} {} (about two minutes of CPU)",
                w.max_total, w.unit
            ),
        ))
    }

    /// Parses settings given as text (a form, a link's query, imported JSON, the
    /// JavaScript API). Missing fields take their defaults (`cost`: the workload's);
    /// unknown names, unreadable values and out-of-range values are all reported, each
    /// naming the field, the value and what is allowed.
    ///
    /// ```
    /// use scalelab::engine::RunConfig;
    ///
    /// let config = RunConfig::from_fields([("pattern", "pool"), ("workers", "8")]).unwrap();
    /// assert_eq!(config.workers, 8);
    ///
    /// // Every problem at once, each with its field, value and allowed range.
    /// let errors = RunConfig::from_fields([("workers", "0"), ("speed", "fast")]).unwrap_err();
    /// let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    /// assert_eq!(fields, ["speed", "workers"]);
    /// assert_eq!(errors.0[1].value, "0");
    /// ```
    pub fn from_fields<K: AsRef<str>, V: AsRef<str>>(
        fields: impl IntoIterator<Item = (K, V)>,
    ) -> Result<RunConfig, ConfigErrors> {
        let mut given = GivenFields::collect(fields, Self::KEYS);
        let mut config = Self::read_fields(&mut given);
        if !given.has("cost") {
            config.cost = workload_spec(config.workload).default_cost;
        }
        if !given.has("scaleTarget") {
            config.scale_target = Self::default_scale_target(config.scaling);
        }
        let (mut errors, unreadable) = config.finish_parse(&mut given);
        errors.extend(config.check_ranges(&unreadable, Some(&given)));
        if !errors.is_empty() {
            return Err(Self::in_declaration_order(errors));
        }
        // The cross-field checks, once every field reads and is in range.
        config.validate()?;
        Ok(config)
    }

    /// The deadline, if any.
    pub fn timeout(&self) -> Option<std::time::Duration> {
        (self.timeout_ms > 0.0)
            .then(|| std::time::Duration::from_secs_f64(self.timeout_ms / 1000.0))
    }

    /// How long the producer submits, if limited by time.
    pub fn duration(&self) -> Option<std::time::Duration> {
        (self.duration_ms > 0.0)
            .then(|| std::time::Duration::from_secs_f64(self.duration_ms / 1000.0))
    }

    /// Whether the pattern runs a pool of workers (every pattern but fan-out), which can
    /// be resized while it runs.
    pub fn has_pool(&self) -> bool {
        !matches!(self.pattern, Pattern::FanOut | Pattern::Pipeline)
    }
}

#[cfg(test)]
#[path = "config_test.rs"]
mod tests;
