//! The offered-load sweep — the hockey stick. First the set-up's capacity is measured
//! (a closed-loop run: jobs completed per second when the queue never runs dry); then
//! an open-loop generator offers it loads from `from` to `to` times that capacity, each
//! for `stepMs`. Each load gives throughput, latency from the intended start (p50, p99,
//! mean), utilisation and the mean number of jobs in the system — and a check of
//! Little's law (L = λW) with its error. The knee is the first load the pool no longer
//! keeps up with. Beside the measurements: the M/M/c queue's mean latency (Erlang C) for
//! the same servers and service rate, the curve the measurements follow when arrivals are
//! Poisson and service times exponential.

use std::sync::LazyLock;

use serde::Serialize;

use crate::cancel::CancelToken;
use crate::engine::config::{
    Arrival, ConfigError, ConfigErrors, FieldSpec, MAX_JOBS, Pattern, RunConfig,
};
use crate::engine::execute;
use crate::engine::report::{RunReport, Sample};
use crate::engine::runtime::Runtime;
use crate::settings::{GivenFields, Range, num};
use crate::stats::queueing::mmc;
use crate::workload::arrival::MAX_RATE;

crate::settings! {
    /// A validated offered-load sweep.
    pub struct LoadSweepConfig, optional LoadSweepSettings;

    /// Lowest offered load, as a fraction of the measured capacity.
    from "from": f64 = 0.1, [0.05, 1],
        "From", "× capacity",
        "the lowest offered load, as a fraction of the measured capacity";
    /// Highest offered load.
    to "to": f64 = 1.5, [0.2, 3],
        "To", "× capacity",
        "the highest offered load (past 1 the pool cannot keep up)";
    /// Loads measured, evenly spaced from `from` to `to`.
    steps "steps": u32 = 8, [2, 30],
        "Steps", "loads",
        "offered loads measured, evenly spaced";
    /// How long each load is offered, ms (the capacity run lasts as long).
    step_ms "stepMs": f64 = 2000.0, [200, 60_000],
        "Each for", "ms",
        "how long each load is offered (and the capacity measured)";
}

/// The longest a sweep may take in all (its steps and the capacity run), ms.
pub const MAX_SWEEP_MS: f64 = 600_000.0;
/// A point whose throughput is below this share of its offered load is past the knee.
pub const KEEPS_UP: f64 = 0.95;

/// The load sweep's settings schema.
pub fn load_sweep_fields() -> &'static [FieldSpec] {
    static FIELDS: LazyLock<Vec<FieldSpec>> = LazyLock::new(LoadSweepConfig::schema);
    &FIELDS
}

impl LoadSweepConfig {
    fn default_text(&self, _key: &str) -> Option<String> {
        None
    }

    fn ranges(&self, key: &str) -> Option<Range> {
        Self::declared_range(key)
    }

    /// Parses the sweep's settings as text, with the usual messages; also refuses
    /// `to` not above `from` and sweeps longer than [`MAX_SWEEP_MS`].
    pub fn from_fields<K: AsRef<str>, V: AsRef<str>>(
        fields: impl IntoIterator<Item = (K, V)>,
    ) -> Result<LoadSweepConfig, ConfigErrors> {
        let mut given = GivenFields::collect(fields, Self::KEYS);
        let sweep = Self::read_fields(&mut given);
        let (mut errors, unreadable) = sweep.finish_parse(&mut given);
        errors.extend(sweep.check_ranges(&unreadable, Some(&given)));
        if errors.is_empty() {
            errors.extend(sweep.cross_field_errors());
        }
        if errors.is_empty() {
            Ok(sweep)
        } else {
            Err(Self::in_declaration_order(errors))
        }
    }

    fn cross_field_errors(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if self.to <= self.from {
            errors.push(ConfigError::new(
                "to",
                &num(self.to),
                &format!("is not above from ({})", num(self.from)),
                format!("more than {} × capacity, up to 3", num(self.from)),
            ));
        }
        let total = (self.steps + 1) as f64 * self.step_ms;
        if total > MAX_SWEEP_MS {
            errors.push(ConfigError::new(
                "stepMs",
                &num(self.step_ms),
                &format!(
                    "x {} loads (and the capacity run) is {} ms, too long for one sweep",
                    self.steps,
                    num(total)
                ),
                format!("steps + 1 times stepMs up to {} ms", num(MAX_SWEEP_MS)),
            ));
        }
        errors
    }

    /// The offered loads, as fractions of capacity.
    pub fn loads(&self) -> Vec<f64> {
        let n = self.steps.max(2);
        (0..n)
            .map(|i| self.from + (self.to - self.from) * i as f64 / (n - 1) as f64)
            .collect()
    }
}

/// The capacity run: the set-up as a closed-loop pool for `stepMs`.
pub fn capacity_config(base: &RunConfig, sweep: &LoadSweepConfig) -> RunConfig {
    RunConfig {
        pattern: Pattern::Pool,
        arrival: Arrival::Closed,
        overload: crate::engine::config::Overload::Block,
        duration_ms: sweep.step_ms,
        jobs: MAX_JOBS,
        timeout_ms: 0.0,
        ..base.clone()
    }
}

/// One load's run: the set-up fed `rate` jobs/s by an open-loop generator for
/// `stepMs` (Poisson arrivals unless the set-up asks for a constant rate).
pub fn step_config(base: &RunConfig, sweep: &LoadSweepConfig, rate: f64) -> RunConfig {
    RunConfig {
        pattern: Pattern::Pool,
        arrival: if base.arrival == Arrival::Constant {
            Arrival::Constant
        } else {
            Arrival::Poisson
        },
        arrival_rate: rate.clamp(0.1, MAX_RATE),
        duration_ms: sweep.step_ms,
        jobs: MAX_JOBS,
        timeout_ms: 0.0,
        ..base.clone()
    }
}

/// One offered load's measurements.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct LoadPoint {
    /// Offered load as a fraction of capacity.
    pub load: f64,
    /// Offered rate, jobs/s.
    pub offered: f64,
    /// Jobs completed per second.
    pub throughput: f64,
    /// Latency from the intended start: median, 99th percentile and mean, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Mean, ms.
    pub mean_ms: f64,
    /// Share of the servers' time spent running jobs (0–1).
    pub utilisation: f64,
    /// L: mean jobs in the system (queued and running) — as Poisson arrivals found it
    /// (PASTA), or the progress samples' time average.
    pub in_system: f64,
    /// λW: throughput times the mean time a job spent in the system (queued to end).
    pub littles: f64,
    /// (L − λW) / λW.
    pub littles_error: f64,
    /// The M/M/c queue's mean latency at this load, ms (`None` at or past saturation).
    pub theory_mean_ms: Option<f64>,
    /// Jobs refused and dropped (overload policies).
    pub rejected: u32,
    /// Jobs shed.
    pub shed: u32,
    /// Whether every job was accounted for.
    pub identity_holds: bool,
}

/// What an offered-load sweep found.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct LoadSweepReport {
    /// The sweep.
    #[tsify(type = "Required<LoadSweepSettings>")]
    pub sweep: LoadSweepConfig,
    /// Measured capacity, jobs/s.
    pub capacity: f64,
    /// Mean service time in the capacity run, ms.
    pub service_ms: f64,
    /// Servers the theory assumes: the workers (CPU jobs: at most the pool threads).
    pub servers: u32,
    /// Per offered load, in order.
    pub points: Vec<LoadPoint>,
    /// Index of the knee: the first point whose throughput falls below
    /// [`KEEPS_UP`] of its offered load.
    pub knee: Option<usize>,
    /// Runs finished (the capacity run included).
    pub runs_done: u32,
    /// Runs planned.
    pub runs_total: u32,
    /// Whether it was cancelled before the end.
    pub cancelled: bool,
}

/// Streamed after every run of a load sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct LoadSweepProgress {
    /// Runs finished.
    pub done: u32,
    /// Runs planned.
    pub total: u32,
    /// The measured capacity (once known), jobs/s.
    pub capacity: f64,
    /// The point just measured (none after the capacity run).
    pub point: Option<LoadPoint>,
}

/// The time-average of jobs in the system (queued + running) over the samples
/// (trapezoids between flushes).
fn mean_in_system(samples: &[Sample]) -> f64 {
    let (mut area, mut span) = (0.0, 0.0);
    for pair in samples.windows(2) {
        let dt = pair[1].t_ms - pair[0].t_ms;
        if dt <= 0.0 {
            continue;
        }
        let n = |s: &Sample| (s.queued + s.running) as f64;
        area += dt * (n(&pair[0]) + n(&pair[1])) / 2.0;
        span += dt;
    }
    if span > 0.0 { area / span } else { 0.0 }
}

/// A point from one load's run.
pub fn measure_point(
    load: f64,
    offered: f64,
    report: &RunReport,
    servers: u32,
    service_ms: f64,
) -> LoadPoint {
    let seconds = (report.wall_ms / 1000.0).max(1e-9);
    let latency = &report.latency;
    let ran = latency.service.count as f64;
    let throughput = report.counts.completed as f64 / seconds;
    // L: with Poisson arrivals, what the arrivals found (PASTA); otherwise the progress
    // samples' time average.
    let in_system = match &report.generator {
        Some(g) if report.config.arrival == Arrival::Poisson => g.mean_in_system_seen,
        _ => mean_in_system(&report.samples),
    };
    let littles = ran / seconds * latency.total.mean / 1000.0;
    let utilisation = (latency.service.mean / 1000.0 * ran) / (seconds * servers.max(1) as f64);
    let mu = if service_ms > 0.0 {
        1000.0 / service_ms
    } else {
        0.0
    };
    LoadPoint {
        load,
        offered,
        throughput,
        p50_ms: latency.from_intended.p50,
        p99_ms: latency.from_intended.p99,
        mean_ms: latency.from_intended.mean,
        utilisation: utilisation.min(1.0),
        in_system,
        littles,
        littles_error: if littles > 0.0 {
            (in_system - littles) / littles
        } else {
            0.0
        },
        theory_mean_ms: mmc(offered, mu, servers).map(|q| q.mean_sojourn * 1000.0),
        rejected: report.counts.rejected,
        shed: report.counts.shed,
        identity_holds: report.identity_holds,
    }
}

/// The first point past the knee (see [`LoadSweepReport::knee`]).
pub fn find_knee(points: &[LoadPoint]) -> Option<usize> {
    points
        .iter()
        .position(|p| p.throughput < KEEPS_UP * p.offered)
}

/// Runs an offered-load sweep of `base` (validated). Cancelling `token` stops after the
/// current run (whose partial result is dropped).
pub async fn run_load_sweep<R: Runtime>(
    rt: &R,
    base: RunConfig,
    sweep: LoadSweepConfig,
    token: &CancelToken,
    observer: &mut dyn FnMut(LoadSweepProgress),
) -> LoadSweepReport {
    let loads = sweep.loads();
    let total = loads.len() as u32 + 1;
    let servers = if base.workload.is_cpu() {
        base.workers.min(rt.pool().threads() as u32)
    } else {
        base.workers
    };
    let mut report = LoadSweepReport {
        sweep: sweep.clone(),
        capacity: 0.0,
        service_ms: 0.0,
        servers,
        points: Vec::new(),
        knee: None,
        runs_done: 0,
        runs_total: total,
        cancelled: true,
    };
    let capacity_run = execute(rt, capacity_config(&base, &sweep), token, &mut |_| {}).await;
    if capacity_run.cancellation.is_some() || capacity_run.throughput_per_s <= 0.0 {
        return report;
    }
    report.capacity = capacity_run.throughput_per_s;
    report.service_ms = capacity_run.latency.service.mean;
    report.runs_done = 1;
    observer(LoadSweepProgress {
        done: 1,
        total,
        capacity: report.capacity,
        point: None,
    });
    for load in loads {
        if token.is_cancelled() {
            return report;
        }
        let rate = (load * report.capacity).clamp(0.1, MAX_RATE);
        let run = execute(rt, step_config(&base, &sweep, rate), token, &mut |_| {}).await;
        if run.cancellation.is_some() {
            return report;
        }
        let point = measure_point(load, rate, &run, servers, report.service_ms);
        report.points.push(point);
        report.runs_done += 1;
        observer(LoadSweepProgress {
            done: report.runs_done,
            total,
            capacity: report.capacity,
            point: Some(point),
        });
    }
    report.knee = find_knee(&report.points);
    report.cancelled = false;
    report
}

#[cfg(test)]
#[path = "load_sweep_test.rs"]
mod tests;
