//! The concurrency sweep — Go's `go test -cpu 1,2,4` and `testing.B` idea: run the same
//! workload at every worker count from 1 to N, several times each after a warm-up, and
//! fit the Universal Scalability Law to the throughputs. CPU jobs and I/O-like jobs can
//! be swept side by side; they scale very differently, which is the lesson.

use std::sync::LazyLock;

use serde::Serialize;

use crate::cancel::CancelToken;
use crate::engine::config::{
    ConfigError, ConfigErrors, FieldSpec, Pattern, RunConfig, WorkKind, workload_spec,
};
use crate::engine::execute;
use crate::engine::runtime::Runtime;
use crate::settings::{GivenFields, Range};
use crate::stats::usl::{UslFit, fit_usl, recommend_workers};

crate::choices! {
    /// Which workloads a sweep measures.
    pub enum Curves {
        /// Both, one after the other.
        Both = "both",
        /// The CPU kernel only.
        Cpu = "cpu",
        /// I/O-like jobs only.
        Io = "io",
    }
}

crate::settings! {
    /// A validated sweep.
    pub struct SweepConfig, optional SweepSettings;

    /// The largest worker count (every count from 1 is measured).
    max_workers "maxWorkers": u32 = 8, [1, 64],
        "Up to", "workers",
        "every worker count from 1 to this is measured (default: twice the threads)";
    /// Measured runs per worker count.
    repetitions "repetitions": u32 = 3, [1, 10],
        "Repetitions", "runs each",
        "measured runs per worker count; the spread shows how noisy the machine is";
    /// Unmeasured runs before each curve.
    warmup "warmup": u32 = 1, [0, 5],
        "Warm-up", "runs",
        "unmeasured runs first (caches, memory growth, JIT)";
    /// Efficiency below which more workers are not recommended.
    threshold "threshold": f64 = 0.8, [0.05, 1],
        "Efficiency threshold", "0–1",
        "recommend the most workers whose efficiency (speedup / workers) stays above this";
    /// Which workloads.
    curves "curves": Curves = Curves::Both, [],
        "Measure", "",
        "CPU jobs, I/O-like jobs, or both side by side";
}

/// The sweep's settings schema (same conventions as the run's
/// [`fields`](crate::engine::config::fields)).
pub fn sweep_fields() -> &'static [FieldSpec] {
    static FIELDS: LazyLock<Vec<FieldSpec>> = LazyLock::new(SweepConfig::schema);
    &FIELDS
}

/// Most runs one sweep may make (warm-ups included).
pub const MAX_SWEEP_RUNS: u32 = 400;

impl SweepConfig {
    /// Parses the sweep's settings as text; `threads` sets the default `maxWorkers`
    /// (twice the pool). Checks the sweep's size against `base`: no link can ask for a
    /// sweep that would run for hours.
    pub fn from_fields<K: AsRef<str>, V: AsRef<str>>(
        fields: impl IntoIterator<Item = (K, V)>,
        threads: usize,
        base: &RunConfig,
    ) -> Result<SweepConfig, ConfigErrors> {
        let mut given = GivenFields::collect(fields, Self::KEYS);
        let mut sweep = Self::read_fields(&mut given);
        if !given.has("maxWorkers") {
            sweep.max_workers = (2 * threads).clamp(1, 64) as u32;
        }
        let (mut errors, unreadable) = sweep.finish_parse(&mut given);
        errors.extend(sweep.check_ranges(&unreadable, Some(&given)));
        if !errors.is_empty() {
            return Err(Self::in_declaration_order(errors));
        }
        sweep.check_size(base)?;
        Ok(sweep)
    }

    /// The schema's default text where it depends on the machine (`maxWorkers`).
    fn default_text(&self, key: &str) -> Option<String> {
        (key == "maxWorkers").then(String::new)
    }

    /// The range each setting is checked against (the declared ones).
    fn ranges(&self, key: &str) -> Option<Range> {
        Self::declared_range(key)
    }

    /// Refuses sweeps with too many runs or too much work in all.
    pub fn check_size(&self, base: &RunConfig) -> Result<(), ConfigErrors> {
        let curves = if self.curves == Curves::Both { 2 } else { 1 };
        let runs = curves * (self.max_workers * self.repetitions + self.warmup);
        if runs > MAX_SWEEP_RUNS {
            return Err(ConfigErrors(vec![ConfigError::new(
                "maxWorkers",
                &self.max_workers.to_string(),
                &format!(
                    "x {} repetitions is {runs} runs, too many for one sweep",
                    self.repetitions
                ),
                format!("up to {MAX_SWEEP_RUNS} runs in all (warm-ups included)"),
            )]));
        }
        if matches!(self.curves, Curves::Cpu | Curves::Both) {
            let cpu = cpu_config(base);
            let spec = workload_spec(cpu.workload);
            let total = runs as u64 * cpu.jobs as u64 * cpu.cost;
            if spec.max_total > 0 && total > 4 * spec.max_total {
                return Err(ConfigErrors(vec![ConfigError::new(
                    "jobs",
                    &cpu.jobs.to_string(),
                    &format!(
                        "x {} cost x {runs} runs is {total} {} in all, too much for one sweep",
                        cpu.cost, spec.unit
                    ),
                    format!(
                        "runs x jobs x cost up to {} {} (a few minutes of CPU)",
                        4 * spec.max_total,
                        spec.unit
                    ),
                )]));
            }
        }
        Ok(())
    }
}

/// The CPU curve's run: the base set-up as a worker pool (the base's kernel, or primes).
fn cpu_config(base: &RunConfig) -> RunConfig {
    let mut config = RunConfig {
        pattern: Pattern::Pool,
        timeout_ms: 0.0,
        failure: 0.0,
        ..base.clone()
    };
    if !config.workload.is_cpu() {
        config.workload = WorkKind::Primes;
        config.cost = workload_spec(WorkKind::Primes).default_cost;
    }
    config
}

/// The I/O curve's run: the base set-up as a pool of `sleep` jobs.
fn io_config(base: &RunConfig) -> RunConfig {
    let mut config = RunConfig {
        pattern: Pattern::Pool,
        timeout_ms: 0.0,
        failure: 0.0,
        ..base.clone()
    };
    if config.workload != WorkKind::Sleep {
        config.workload = WorkKind::Sleep;
        config.cost = workload_spec(WorkKind::Sleep).default_cost;
    }
    config
}

/// One run of a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct SweepStep {
    /// `cpu` or `io`.
    pub curve: CurveKind,
    /// Workers in this run.
    pub workers: u32,
    /// Repetition number (from 0).
    pub repetition: u32,
    /// A warm-up run (not measured).
    pub warmup: bool,
}

/// A curve of a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "lowercase")]
pub enum CurveKind {
    /// CPU jobs.
    Cpu,
    /// I/O-like jobs.
    Io,
}

/// Every run of a sweep, in order: per curve, the warm-ups, then each worker count's
/// repetitions (worker counts interleaved by repetition, so slow drift of the machine
/// spreads over all counts instead of biasing the last ones).
pub fn plan_sweep(sweep: &SweepConfig) -> Vec<SweepStep> {
    let curves: &[CurveKind] = match sweep.curves {
        Curves::Cpu => &[CurveKind::Cpu],
        Curves::Io => &[CurveKind::Io],
        Curves::Both => &[CurveKind::Cpu, CurveKind::Io],
    };
    let mut steps = Vec::new();
    for &curve in curves {
        for repetition in 0..sweep.warmup {
            steps.push(SweepStep {
                curve,
                workers: sweep.max_workers,
                repetition,
                warmup: true,
            });
        }
        for repetition in 0..sweep.repetitions {
            for workers in 1..=sweep.max_workers {
                steps.push(SweepStep {
                    curve,
                    workers,
                    repetition,
                    warmup: false,
                });
            }
        }
    }
    steps
}

/// One worker count's measurements.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct SweepPoint {
    /// Workers.
    pub workers: u32,
    /// Throughput of each repetition (jobs/s).
    pub throughputs: Vec<f64>,
    /// Smallest.
    pub min: f64,
    /// Median.
    pub median: f64,
    /// Largest.
    pub max: f64,
    /// Median speedup over one worker, divided by the workers.
    pub efficiency: f64,
}

/// One workload's curve.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct SweepCurve {
    /// `cpu` or `io`.
    pub curve: CurveKind,
    /// The settings its runs used.
    pub workload: WorkKind,
    /// Cost per job.
    pub cost: u64,
    /// Per worker count.
    pub points: Vec<SweepPoint>,
    /// The law fitted to every measured run.
    pub fit: Option<UslFit>,
    /// The most workers whose efficiency stays above the threshold (and not past the
    /// model's peak).
    pub recommended: Option<u32>,
}

/// What a sweep found.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    /// The sweep.
    #[tsify(type = "Required<SweepSettings>")]
    pub sweep: SweepConfig,
    /// Pool threads.
    pub threads: usize,
    /// The curves measured (partial if cancelled).
    pub curves: Vec<SweepCurve>,
    /// Runs finished.
    pub runs_done: u32,
    /// Runs planned.
    pub runs_total: u32,
    /// Whether it was cancelled before the end.
    pub cancelled: bool,
}

/// Streamed after every run of a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct SweepProgress {
    /// Runs finished.
    pub done: u32,
    /// Runs planned.
    pub total: u32,
    /// The run that just finished.
    pub step: SweepStep,
    /// Its throughput.
    pub throughput: f64,
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Summarises the measurements of one curve: `(workers, throughput)` per measured run.
pub fn summarize_curve(
    curve: CurveKind,
    config: &RunConfig,
    runs: &[(u32, f64)],
    threshold: f64,
) -> SweepCurve {
    let mut counts: Vec<u32> = runs.iter().map(|r| r.0).collect();
    counts.sort_unstable();
    counts.dedup();
    let mut points: Vec<SweepPoint> = counts
        .iter()
        .map(|&workers| {
            let mut values: Vec<f64> = runs
                .iter()
                .filter(|r| r.0 == workers)
                .map(|r| r.1)
                .collect();
            values.sort_by(f64::total_cmp);
            SweepPoint {
                workers,
                min: values[0],
                median: median(&values),
                max: values[values.len() - 1],
                throughputs: values,
                efficiency: 0.0,
            }
        })
        .collect();
    let one = points.iter().find(|p| p.workers == 1).map(|p| p.median);
    for p in &mut points {
        p.efficiency = one.map_or(0.0, |one| p.median / (p.workers as f64 * one));
    }
    let fit = fit_usl(&runs.iter().map(|&(n, x)| (n as f64, x)).collect::<Vec<_>>());
    let medians: Vec<(u32, f64)> = points.iter().map(|p| (p.workers, p.median)).collect();
    SweepCurve {
        curve,
        workload: config.workload,
        cost: config.cost,
        recommended: recommend_workers(&medians, threshold, fit.as_ref()),
        points,
        fit,
    }
}

/// Runs a sweep of `base` (validated) and fits each curve. Cancelling `token` stops
/// after the current run (whose partial result is dropped); the report then holds the
/// runs that finished.
pub async fn run_sweep<R: Runtime>(
    rt: &R,
    base: RunConfig,
    sweep: SweepConfig,
    token: &CancelToken,
    observer: &mut dyn FnMut(SweepProgress),
) -> SweepReport {
    let steps = plan_sweep(&sweep);
    let total = steps.len() as u32;
    let configs = [
        (CurveKind::Cpu, cpu_config(&base)),
        (CurveKind::Io, io_config(&base)),
    ];
    let mut measured: Vec<(CurveKind, u32, f64)> = Vec::new();
    let mut done = 0;
    for step in &steps {
        if token.is_cancelled() {
            break;
        }
        let config = &configs
            .iter()
            .find(|c| c.0 == step.curve)
            .expect("both curves")
            .1;
        let report = execute(
            rt,
            RunConfig {
                workers: step.workers,
                ..config.clone()
            },
            token,
            &mut |_| {},
        )
        .await;
        if report.cancellation.is_some() {
            break; // cancelled mid-run: this run does not count
        }
        done += 1;
        if !step.warmup {
            measured.push((step.curve, step.workers, report.throughput_per_s));
        }
        observer(SweepProgress {
            done,
            total,
            step: *step,
            throughput: report.throughput_per_s,
        });
    }
    let curves = configs
        .iter()
        .filter_map(|(kind, config)| {
            let runs: Vec<(u32, f64)> = measured
                .iter()
                .filter(|m| m.0 == *kind)
                .map(|m| (m.1, m.2))
                .collect();
            (!runs.is_empty()).then(|| summarize_curve(*kind, config, &runs, sweep.threshold))
        })
        .collect();
    SweepReport {
        threads: rt.pool().threads(),
        sweep,
        curves,
        runs_done: done,
        runs_total: total,
        cancelled: done < total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_covers_every_level_and_repetition_after_warmups() {
        let sweep = SweepConfig {
            max_workers: 4,
            repetitions: 3,
            warmup: 1,
            threshold: 0.8,
            curves: Curves::Both,
        };
        let steps = plan_sweep(&sweep);
        assert_eq!(steps.len(), 2 * (1 + 4 * 3));
        for curve in [CurveKind::Cpu, CurveKind::Io] {
            for workers in 1..=4 {
                let reps: Vec<u32> = steps
                    .iter()
                    .filter(|s| s.curve == curve && s.workers == workers && !s.warmup)
                    .map(|s| s.repetition)
                    .collect();
                assert_eq!(reps, vec![0, 1, 2], "{curve:?} at {workers}");
            }
        }
        assert!(steps[0].warmup && steps[13].warmup && steps[13].curve == CurveKind::Io);
    }

    #[test]
    fn settings_are_validated_with_the_usual_messages() {
        let base = RunConfig::default();
        let sweep = SweepConfig::from_fields([("maxWorkers", "8")], 2, &base).unwrap();
        assert_eq!(
            (
                sweep.max_workers,
                sweep.repetitions,
                sweep.warmup,
                sweep.curves
            ),
            (8, 3, 1, Curves::Both)
        );
        assert_eq!(
            SweepConfig::from_fields(Vec::<(&str, &str)>::new(), 2, &base)
                .unwrap()
                .max_workers,
            4
        );
        let err = SweepConfig::from_fields([("repetitions", "0")], 2, &base).unwrap_err();
        assert_eq!(
            err.0[0].message,
            "repetitions: 0 is out of range; allowed: a whole number 1–10 runs each"
        );
        let err = SweepConfig::from_fields([("maxWorkers", "64"), ("repetitions", "10")], 2, &base)
            .unwrap_err();
        assert!(err.0[0].message.contains("too many for one sweep"), "{err}");
        let heavy = RunConfig {
            jobs: 100_000,
            cost: 1_000_000,
            ..RunConfig::default()
        };
        let err = SweepConfig::from_fields([("maxWorkers", "16")], 2, &heavy).unwrap_err();
        assert!(err.0[0].message.contains("too much for one sweep"), "{err}");
        assert!(
            SweepConfig::from_fields([("speed", "9")], 2, &base)
                .unwrap_err()
                .0[0]
                .message
                .starts_with("speed is not a known setting")
        );
    }

    #[test]
    fn curves_summarise_medians_and_efficiency() {
        let runs = [
            (1, 100.0),
            (1, 110.0),
            (1, 90.0),
            (2, 190.0),
            (2, 210.0),
            (2, 200.0),
            (4, 200.0),
            (4, 205.0),
            (4, 195.0),
        ];
        let curve = summarize_curve(CurveKind::Cpu, &RunConfig::default(), &runs, 0.8);
        let p: Vec<(u32, f64, f64, f64, f64)> = curve
            .points
            .iter()
            .map(|p| (p.workers, p.min, p.median, p.max, p.efficiency))
            .collect();
        assert_eq!(
            p,
            vec![
                (1, 90.0, 100.0, 110.0, 1.0),
                (2, 190.0, 200.0, 210.0, 1.0),
                (4, 195.0, 200.0, 205.0, 0.5)
            ]
        );
        assert_eq!(curve.recommended, Some(2));
        assert!(curve.fit.is_some());
    }
}
