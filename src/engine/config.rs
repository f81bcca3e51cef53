//! What a run is asked to do, and the one place where that is validated.
//!
//! Every setting is a field in [`FIELDS`]: name, label, unit, kind, range and default.
//! The same table drives the Rust API ([`RunConfig::validate`]), the text parser used
//! for forms, links and the JavaScript API ([`RunConfig::from_fields`]), and the schema
//! the page builds its form from, so a limit is written once and every way in gives the
//! same message: the field, the value, and what is allowed.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Which of Go's patterns a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pattern {
    /// `workers` goroutines range over a jobs channel of capacity `queue`, fed by a
    /// producer; results fan in.
    Pool,
    /// One goroutine per job (`go f(x)`), results gathered as they complete (or in
    /// input order when `ordered`).
    FanOut,
    /// errgroup with `SetLimit(workers)`: the first failure cancels the rest and is
    /// what `Wait` returns.
    FailFast,
    /// A pool whose producer is paced by a token bucket (or the article's ticker).
    RateLimit,
}

/// The work each job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkKind {
    /// Count primes in a range (segmented sieve); cost = numbers sieved.
    Primes,
    /// Iterated SHA-256; cost = hash rounds.
    Sha256,
    /// A Mandelbrot tile; cost = pixels (up to 256 iterations each).
    Mandelbrot,
    /// Busy work for an exact time: spin on the CPU for `cost` microseconds, reading
    /// the clock (0 = an empty job, to measure dispatch overhead). Needs a real clock.
    Spin,
    /// I/O-like: wait on a timer (the article's `time.Sleep`); cost = microseconds.
    Sleep,
}

impl WorkKind {
    /// Whether jobs of this kind burn CPU on a pool thread (all but `Sleep`).
    pub fn is_cpu(self) -> bool {
        !matches!(self, WorkKind::Sleep)
    }
}

/// How job costs vary around the `cost` setting (the mean).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    /// Every job costs exactly `cost`.
    Fixed,
    /// Uniform in `cost x (1 ± spread)`.
    Uniform,
    /// Pareto with shape `alpha` and mean `cost` (heavy tail: a few huge jobs).
    Pareto,
    /// Log-normal with shape `sigma` and mean `cost`.
    LogNormal,
}

/// How the rate-limited producer is paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pacing {
    /// x/time/rate token bucket (`rate`, `burst`): tokens from the clock, bursts allowed.
    Bucket,
    /// The article's `time.NewTicker(1/rate)`: one job per tick, no bursts.
    Ticker,
}

/// A deliberate channel leak, for the pitfalls lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Leak {
    /// The channel is used correctly.
    None,
    /// The producer sends every job but never closes the channel: workers wait forever.
    NoClose,
    /// The consumers stop after half the jobs: the producer blocks forever on a send.
    Stops,
}

/// A complete, valid description of a run. Build one with `RunConfig::default()` and
/// field updates, then [`validate`](Self::validate); or parse text with
/// [`from_fields`](Self::from_fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The pattern.
    pub pattern: Pattern,
    /// Pool workers, or errgroup's limit (ignored by fan-out).
    pub workers: u32,
    /// Jobs channel capacity; 0 is an unbuffered channel.
    pub queue: u32,
    /// Jobs submitted.
    pub jobs: u32,
    /// The work each job does.
    pub workload: WorkKind,
    /// Mean cost per job, in the workload's unit.
    pub cost: u64,
    /// How costs vary.
    pub distribution: Distribution,
    /// Uniform spread, as a fraction of the cost.
    pub spread: f64,
    /// Pareto shape.
    pub alpha: f64,
    /// Log-normal shape.
    pub sigma: f64,
    /// Probability that a job fails.
    pub failure: f64,
    /// Seed for costs and failures: the same seed gives the same jobs.
    pub seed: u64,
    /// Fan-out: deliver results in input order.
    pub ordered: bool,
    /// Rate-limited producer: bucket or ticker.
    pub pacing: Pacing,
    /// Rate-limited producer: jobs per second.
    pub rate: f64,
    /// Rate-limited producer: bucket size.
    pub burst: u32,
    /// Deadline for the whole run, in milliseconds; 0 means none.
    pub timeout_ms: f64,
    /// Pitfalls lab: KiB each task holds while alive (like a goroutine's stack).
    pub stack_kib: u32,
    /// Pitfalls lab: whether jobs check for cancellation (false = they ignore it).
    pub poll_cancel: bool,
    /// Pitfalls lab: a deliberate channel leak.
    pub leak: Leak,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            pattern: Pattern::Pool,
            workers: 4,
            queue: 16,
            jobs: 200,
            workload: WorkKind::Primes,
            cost: workload_spec(WorkKind::Primes).default_cost,
            distribution: Distribution::Fixed,
            spread: 0.5,
            alpha: 1.5,
            sigma: 1.0,
            failure: 0.0,
            seed: 1,
            ordered: false,
            pacing: Pacing::Bucket,
            rate: 100.0,
            burst: 10,
            timeout_ms: 0.0,
            stack_kib: 0,
            poll_cancel: true,
            leak: Leak::None,
        }
    }
}

/// Per-workload cost unit, default, limit, and a rough native cost per unit (used only
/// to cap the total work one run may ask for).
#[derive(Debug, Clone, Copy, Serialize)]
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

/// The workloads and their cost ranges.
pub const WORKLOADS: [WorkloadSpec; 5] = [
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
];

/// The spec of a workload.
pub fn workload_spec(kind: WorkKind) -> &'static WorkloadSpec {
    WORKLOADS
        .iter()
        .find(|w| w.kind == kind)
        .expect("every workload has a spec")
}

/// What kind of value a field takes.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum FieldKind {
    /// A whole number in `min..=max`.
    Integer {
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
    },
    /// A number in `min..=max`.
    Number {
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
    },
    /// One of `choices`.
    Choice {
        /// The allowed values.
        choices: &'static [&'static str],
    },
    /// On or off.
    Flag,
}

/// One setting: how the page labels it and what it accepts.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldSpec {
    /// Key in forms, links and the JS API.
    pub name: &'static str,
    /// Label on the page.
    pub label: &'static str,
    /// Unit shown next to the field ("" for none).
    pub unit: &'static str,
    /// Accepted values.
    pub kind: FieldKind,
    /// Default, as text.
    pub default: &'static str,
    /// One line of help.
    pub help: &'static str,
}

/// Largest integer a JavaScript number holds exactly (2^53 - 1): seeds stay exact in
/// links and JSON.
pub const MAX_SEED: f64 = 9_007_199_254_740_991.0;

/// Every setting of a run. `cost` is checked against the workload's own range.
pub const FIELDS: [FieldSpec; 20] = [
    FieldSpec {
        name: "pattern",
        label: "Pattern",
        unit: "",
        kind: FieldKind::Choice {
            choices: &["pool", "fanout", "failfast", "ratelimit"],
        },
        default: "pool",
        help: "worker pool, fan-out/fan-in, fail fast (errgroup), or rate-limited pipeline",
    },
    FieldSpec {
        name: "workers",
        label: "Workers",
        unit: "goroutines",
        kind: FieldKind::Integer {
            min: 1.0,
            max: 256.0,
        },
        default: "4",
        help: "pool workers, or errgroup's SetLimit; may exceed the core count",
    },
    FieldSpec {
        name: "queue",
        label: "Queue capacity",
        unit: "jobs",
        kind: FieldKind::Integer {
            min: 0.0,
            max: 100_000.0,
        },
        default: "16",
        help: "buffer of the jobs channel; 0 is an unbuffered channel",
    },
    FieldSpec {
        name: "jobs",
        label: "Jobs",
        unit: "jobs",
        kind: FieldKind::Integer {
            min: 1.0,
            max: 100_000.0,
        },
        default: "200",
        help: "jobs the producer submits",
    },
    FieldSpec {
        name: "workload",
        label: "Workload",
        unit: "",
        kind: FieldKind::Choice {
            choices: &["primes", "sha256", "mandelbrot", "spin", "sleep"],
        },
        default: "primes",
        help: "a real CPU kernel, or an I/O-like wait on a timer",
    },
    FieldSpec {
        name: "cost",
        label: "Job cost",
        unit: "units",
        kind: FieldKind::Integer {
            min: 1.0,
            max: 10_000_000.0,
        },
        default: "",
        help: "mean work per job, in the workload's unit",
    },
    FieldSpec {
        name: "distribution",
        label: "Cost distribution",
        unit: "",
        kind: FieldKind::Choice {
            choices: &["fixed", "uniform", "pareto", "lognormal"],
        },
        default: "fixed",
        help: "how job costs vary around the mean",
    },
    FieldSpec {
        name: "spread",
        label: "Spread",
        unit: "± fraction",
        kind: FieldKind::Number { min: 0.0, max: 1.0 },
        default: "0.5",
        help: "uniform: each cost is the mean times 1 ± up to this fraction",
    },
    FieldSpec {
        name: "alpha",
        label: "Pareto shape α",
        unit: "",
        kind: FieldKind::Number {
            min: 1.1,
            max: 10.0,
        },
        default: "1.5",
        help: "pareto: smaller means a heavier tail",
    },
    FieldSpec {
        name: "sigma",
        label: "Log-normal σ",
        unit: "",
        kind: FieldKind::Number {
            min: 0.05,
            max: 3.0,
        },
        default: "1",
        help: "lognormal: larger means more spread",
    },
    FieldSpec {
        name: "failure",
        label: "Failure probability",
        unit: "",
        kind: FieldKind::Number { min: 0.0, max: 1.0 },
        default: "0",
        help: "chance that a job returns an error",
    },
    FieldSpec {
        name: "seed",
        label: "Seed",
        unit: "",
        kind: FieldKind::Integer {
            min: 0.0,
            max: MAX_SEED,
        },
        default: "1",
        help: "same seed, same job costs and failures",
    },
    FieldSpec {
        name: "ordered",
        label: "Results in input order",
        unit: "",
        kind: FieldKind::Flag,
        default: "false",
        help: "fan-out: hand results back in submission order instead of as they complete",
    },
    FieldSpec {
        name: "pacing",
        label: "Pacing",
        unit: "",
        kind: FieldKind::Choice {
            choices: &["bucket", "ticker"],
        },
        default: "bucket",
        help: "token bucket (x/time/rate) or the article's time.Ticker",
    },
    FieldSpec {
        name: "rate",
        label: "Rate",
        unit: "jobs/s",
        kind: FieldKind::Number {
            min: 0.1,
            max: 100_000.0,
        },
        default: "100",
        help: "jobs released per second",
    },
    FieldSpec {
        name: "burst",
        label: "Burst",
        unit: "tokens",
        kind: FieldKind::Integer {
            min: 1.0,
            max: 100_000.0,
        },
        default: "10",
        help: "token bucket size: jobs that may go at once after a quiet spell",
    },
    FieldSpec {
        name: "timeout",
        label: "Timeout",
        unit: "ms",
        kind: FieldKind::Number {
            min: 0.0,
            max: 600_000.0,
        },
        default: "0",
        help: "deadline for the whole run (context.WithTimeout); 0 = none",
    },
    FieldSpec {
        name: "stack",
        label: "Memory per task",
        unit: "KiB",
        kind: FieldKind::Integer {
            min: 0.0,
            max: 64.0,
        },
        default: "0",
        help: "pitfalls lab: memory each task holds while alive, like a goroutine's stack",
    },
    FieldSpec {
        name: "poll",
        label: "Jobs check for cancellation",
        unit: "",
        kind: FieldKind::Flag,
        default: "true",
        help: "pitfalls lab: off = jobs ignore the context and run to the end",
    },
    FieldSpec {
        name: "leak",
        label: "Channel leak",
        unit: "",
        kind: FieldKind::Choice {
            choices: &["none", "noclose", "stops"],
        },
        default: "none",
        help: "pitfalls lab: the producer never closes the channel, or the consumers stop half-way",
    },
];

/// Most memory the tasks of one run may hold in all (`jobs x stack`), in KiB.
pub const MAX_TASK_MEMORY_KIB: u64 = 256 * 1024;

/// The spec of a field by name.
pub fn field_spec(name: &str) -> Option<&'static FieldSpec> {
    FIELDS.iter().find(|f| f.name == name)
}

/// A setting that is not allowed: which field, the value given, and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigError {
    /// The field's name.
    pub field: String,
    /// The value as given (shortened if long).
    pub value: String,
    /// What is wrong with it.
    pub problem: String,
    /// What would be accepted.
    pub allowed: String,
    /// The whole message: "field: value problem; allowed: ...".
    pub message: String,
}

impl ConfigError {
    fn unknown(field: &str) -> ConfigError {
        Self::unknown_of(field, FIELDS.iter().map(|f| f.name))
    }

    /// "`field` is not a known setting; allowed: ..." for a name not among `known`.
    pub(crate) fn unknown_of<'a>(field: &str, known: impl Iterator<Item = &'a str>) -> ConfigError {
        let field = shorten(field);
        let allowed = known.collect::<Vec<_>>().join(", ");
        let message = format!("{field} is not a known setting; allowed: {allowed}");
        ConfigError {
            field,
            value: String::new(),
            problem: "is not a known setting".to_owned(),
            allowed,
            message,
        }
    }

    /// Parses `raw` as the number field `spec` takes and checks its range.
    pub(crate) fn check_text(spec: &FieldSpec, raw: &str) -> Result<f64, ConfigError> {
        match raw.parse::<f64>() {
            Ok(value) => check_number(spec, value, raw, None).map(|()| value),
            Err(_) => {
                let (min, max, whole) = match spec.kind {
                    FieldKind::Integer { min, max } => (min, max, true),
                    FieldKind::Number { min, max } => (min, max, false),
                    _ => unreachable!("only numeric fields are parsed as numbers"),
                };
                let problem = if raw.is_empty() {
                    "is empty"
                } else {
                    "is not a number"
                };
                Err(ConfigError::new(
                    spec.name,
                    raw,
                    problem,
                    range_text(min, max, spec.unit, whole),
                ))
            }
        }
    }

    pub(crate) fn new(field: &str, value: &str, problem: &str, allowed: String) -> ConfigError {
        let value = shorten(value);
        let shown = if value.is_empty() {
            "(empty)".to_owned()
        } else {
            value.clone()
        };
        let message = format!("{field}: {shown} {problem}; allowed: {allowed}");
        ConfigError {
            field: field.to_owned(),
            value,
            problem: problem.to_owned(),
            allowed,
            message,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// All the problems found in one configuration (never empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let messages: Vec<&str> = self.0.iter().map(|e| e.message.as_str()).collect();
        f.write_str(&messages.join("\n"))
    }
}

impl std::error::Error for ConfigErrors {}

/// Values longer than this are cut in messages (a pasted essay stays readable).
const MAX_SHOWN: usize = 40;

fn shorten(value: &str) -> String {
    if value.chars().count() <= MAX_SHOWN {
        value.to_owned()
    } else {
        let head: String = value.chars().take(MAX_SHOWN).collect();
        format!("{head}…")
    }
}

/// Renders a number for messages: whole numbers without a fraction, others as Rust
/// prints them.
fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e16 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn range_text(min: f64, max: f64, unit: &str, whole: bool) -> String {
    let kind = if whole { "a whole number " } else { "" };
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    format!("{kind}{}–{}{unit}", num(min), num(max))
}

/// Checks `value` against field `spec` (and, for `cost`, the workload's range).
fn check_number(
    spec: &FieldSpec,
    value: f64,
    shown: &str,
    cost_of: Option<WorkKind>,
) -> Result<(), ConfigError> {
    let (mut min, mut max, whole) = match spec.kind {
        FieldKind::Integer { min, max } => (min, max, true),
        FieldKind::Number { min, max } => (min, max, false),
        _ => unreachable!("only numeric fields are checked as numbers"),
    };
    let mut unit = spec.unit.to_owned();
    if let Some(kind) = cost_of {
        let w = workload_spec(kind);
        min = w.min_cost as f64;
        max = w.max_cost as f64;
        unit = format!("{} per job for {}", w.unit, kind_name(kind));
    }
    let allowed = range_text(min, max, &unit, whole);
    if value.is_nan() {
        return Err(ConfigError::new(
            spec.name,
            shown,
            "is not a number",
            allowed,
        ));
    }
    if value.is_infinite() || value < min || value > max {
        return Err(ConfigError::new(
            spec.name,
            shown,
            "is out of range",
            allowed,
        ));
    }
    if whole && value.fract() != 0.0 {
        return Err(ConfigError::new(
            spec.name,
            shown,
            "is not a whole number",
            allowed,
        ));
    }
    Ok(())
}

fn kind_name(kind: WorkKind) -> &'static str {
    match kind {
        WorkKind::Primes => "primes",
        WorkKind::Sha256 => "sha256",
        WorkKind::Mandelbrot => "mandelbrot",
        WorkKind::Spin => "spin",
        WorkKind::Sleep => "sleep",
    }
}

fn spec(name: &str) -> &'static FieldSpec {
    field_spec(name).expect("field is in FIELDS")
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

    /// Checks every numeric field against its range (and `jobs x cost` against the
    /// workload's cap). Returns every problem found, each naming field, value and range.
    pub fn validate(&self) -> Result<(), ConfigErrors> {
        let mut errors = Vec::new();
        let mut check = |name: &str, value: f64, cost_of: Option<WorkKind>| {
            if let Err(e) = check_number(spec(name), value, &num(value), cost_of) {
                errors.push(e);
            }
        };
        check("workers", self.workers as f64, None);
        check("queue", self.queue as f64, None);
        check("jobs", self.jobs as f64, None);
        check("cost", self.cost as f64, Some(self.workload));
        check("spread", self.spread, None);
        check("alpha", self.alpha, None);
        check("sigma", self.sigma, None);
        check("failure", self.failure, None);
        check("seed", self.seed as f64, None);
        check("rate", self.rate, None);
        check("burst", self.burst as f64, None);
        check("timeout", self.timeout_ms, None);
        check("stack", self.stack_kib as f64, None);
        if errors.is_empty()
            && let Some(e) = self.total_work_error()
        {
            errors.push(e);
        }
        let task_memory = self.jobs as u64 * self.stack_kib as u64;
        if errors.is_empty() && task_memory > MAX_TASK_MEMORY_KIB {
            errors.push(ConfigError::new(
                "stack",
                &self.stack_kib.to_string(),
                &format!(
                    "KiB x {} jobs is {task_memory} KiB of task memory, too much for one run",
                    self.jobs
                ),
                format!("jobs x memory per task up to {MAX_TASK_MEMORY_KIB} KiB (256 MiB)"),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(errors))
        }
    }

    /// `jobs x cost` beyond the workload's cap (so no link can ask for hours of CPU).
    fn total_work_error(&self) -> Option<ConfigError> {
        let w = workload_spec(self.workload);
        let total = self.jobs as u64 * self.cost;
        if w.max_total == 0 || total <= w.max_total {
            return None;
        }
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

    /// Parses settings given as text (a form, a link's query, the JavaScript API).
    /// Missing fields take their defaults (`cost`: the workload's); unknown names,
    /// unparsable values and out-of-range values are all reported, each naming the
    /// field, the value and what is allowed.
    pub fn from_fields<K: AsRef<str>, V: AsRef<str>>(
        fields: impl IntoIterator<Item = (K, V)>,
    ) -> Result<RunConfig, ConfigErrors> {
        let given: BTreeMap<String, String> = fields
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().trim().to_owned()))
            .collect();
        let mut errors = Vec::new();
        for name in given.keys() {
            if field_spec(name).is_none() {
                errors.push(ConfigError::unknown(name));
            }
        }
        let text = |name: &str| given.get(name).map(String::as_str);

        let mut choice = |name: &str| -> Option<&'static str> {
            let spec = spec(name);
            let FieldKind::Choice { choices } = spec.kind else {
                unreachable!()
            };
            let value = text(name).unwrap_or(spec.default);
            match choices.iter().find(|c| **c == value) {
                Some(c) => Some(c),
                None => {
                    errors.push(ConfigError::new(
                        name,
                        value,
                        "is not one of the choices",
                        choices.join(", "),
                    ));
                    None
                }
            }
        };
        let pattern = choice("pattern");
        let workload = choice("workload");
        let distribution = choice("distribution");
        let pacing = choice("pacing");
        let leak = choice("leak");

        let workload = workload.map(|w| match w {
            "primes" => WorkKind::Primes,
            "sha256" => WorkKind::Sha256,
            "mandelbrot" => WorkKind::Mandelbrot,
            "spin" => WorkKind::Spin,
            _ => WorkKind::Sleep,
        });
        let number = |name: &str, errors: &mut Vec<ConfigError>| -> Option<f64> {
            let spec = spec(name);
            let raw = match (text(name), name) {
                (Some(v), _) => v.to_owned(),
                (None, "cost") => workload
                    .map(|w| workload_spec(w).default_cost.to_string())
                    .unwrap_or_default(),
                (None, _) => spec.default.to_owned(),
            };
            let value = match raw.parse::<f64>() {
                Ok(v) => v,
                Err(_) => {
                    let (min, max, whole) = match spec.kind {
                        FieldKind::Integer { min, max } => (min, max, true),
                        FieldKind::Number { min, max } => (min, max, false),
                        _ => unreachable!(),
                    };
                    let allowed = if name == "cost" {
                        workload.map_or_else(
                            || range_text(min, max, spec.unit, whole),
                            |w| {
                                let ws = workload_spec(w);
                                range_text(
                                    1.0,
                                    ws.max_cost as f64,
                                    &format!("{} per job for {}", ws.unit, kind_name(w)),
                                    true,
                                )
                            },
                        )
                    } else {
                        range_text(min, max, spec.unit, whole)
                    };
                    let problem = if raw.is_empty() {
                        "is empty"
                    } else {
                        "is not a number"
                    };
                    errors.push(ConfigError::new(name, &raw, problem, allowed));
                    return None;
                }
            };
            let cost_of = if name == "cost" { workload } else { None };
            if name == "cost" && workload.is_none() {
                return None; // the workload error is already reported
            }
            match check_number(spec, value, &raw, cost_of) {
                Ok(()) => Some(value),
                Err(e) => {
                    errors.push(e);
                    None
                }
            }
        };
        let workers = number("workers", &mut errors);
        let queue = number("queue", &mut errors);
        let jobs = number("jobs", &mut errors);
        let cost = number("cost", &mut errors);
        let spread = number("spread", &mut errors);
        let alpha = number("alpha", &mut errors);
        let sigma = number("sigma", &mut errors);
        let failure = number("failure", &mut errors);
        let seed = number("seed", &mut errors);
        let rate = number("rate", &mut errors);
        let burst = number("burst", &mut errors);
        let timeout = number("timeout", &mut errors);
        let stack = number("stack", &mut errors);

        let flag = |name: &str, errors: &mut Vec<ConfigError>| match text(name)
            .unwrap_or(spec(name).default)
        {
            "true" | "1" | "on" | "yes" => Some(true),
            "false" | "0" | "off" | "no" | "" => Some(false),
            other => {
                errors.push(ConfigError::new(
                    name,
                    other,
                    "is not on or off",
                    "true or false".to_owned(),
                ));
                None
            }
        };
        let ordered = flag("ordered", &mut errors);
        let poll = flag("poll", &mut errors);

        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        let config = RunConfig {
            pattern: match pattern.unwrap() {
                "pool" => Pattern::Pool,
                "fanout" => Pattern::FanOut,
                "failfast" => Pattern::FailFast,
                _ => Pattern::RateLimit,
            },
            workers: workers.unwrap() as u32,
            queue: queue.unwrap() as u32,
            jobs: jobs.unwrap() as u32,
            workload: workload.unwrap(),
            cost: cost.unwrap() as u64,
            distribution: match distribution.unwrap() {
                "fixed" => Distribution::Fixed,
                "uniform" => Distribution::Uniform,
                "pareto" => Distribution::Pareto,
                _ => Distribution::LogNormal,
            },
            spread: spread.unwrap(),
            alpha: alpha.unwrap(),
            sigma: sigma.unwrap(),
            failure: failure.unwrap(),
            seed: seed.unwrap() as u64,
            ordered: ordered.unwrap(),
            pacing: if pacing.unwrap() == "bucket" {
                Pacing::Bucket
            } else {
                Pacing::Ticker
            },
            rate: rate.unwrap(),
            burst: burst.unwrap() as u32,
            timeout_ms: timeout.unwrap(),
            stack_kib: stack.unwrap() as u32,
            poll_cancel: poll.unwrap(),
            leak: match leak.unwrap() {
                "noclose" => Leak::NoClose,
                "stops" => Leak::Stops,
                _ => Leak::None,
            },
        };
        config.validate()?;
        Ok(config)
    }

    /// The settings as text fields (the inverse of [`from_fields`](Self::from_fields)):
    /// what goes into a shareable link.
    pub fn to_fields(&self) -> Vec<(&'static str, String)> {
        fn name(v: &impl Serialize) -> String {
            serde_json::to_value(v)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        }
        vec![
            ("pattern", name(&self.pattern)),
            ("workers", self.workers.to_string()),
            ("queue", self.queue.to_string()),
            ("jobs", self.jobs.to_string()),
            ("workload", name(&self.workload)),
            ("cost", self.cost.to_string()),
            ("distribution", name(&self.distribution)),
            ("spread", num(self.spread)),
            ("alpha", num(self.alpha)),
            ("sigma", num(self.sigma)),
            ("failure", num(self.failure)),
            ("seed", self.seed.to_string()),
            ("ordered", self.ordered.to_string()),
            ("pacing", name(&self.pacing)),
            ("rate", num(self.rate)),
            ("burst", self.burst.to_string()),
            ("timeout", num(self.timeout_ms)),
            ("stack", self.stack_kib.to_string()),
            ("poll", self.poll_cancel.to_string()),
            ("leak", name(&self.leak)),
        ]
    }

    /// The deadline, if any.
    pub fn timeout(&self) -> Option<std::time::Duration> {
        (self.timeout_ms > 0.0)
            .then(|| std::time::Duration::from_secs_f64(self.timeout_ms / 1000.0))
    }
}

#[cfg(test)]
#[path = "config_test.rs"]
mod tests;
