//! When jobs arrive in an open-loop run: the load generator's schedule of *intended*
//! start times, kept whatever the pool does (wrk2's constant throughput, k6's
//! arrival-rate executors).
//!
//! A schedule is a rate profile r(t) — constant, k6-style `stages` ramping linearly
//! from one rate to the next, or a base rate with a spike — and a spacing: even (job k
//! at Λ⁻¹(k), where Λ(t) = ∫₀ᵗ r is the expected number of arrivals by t) or Poisson
//! (job k at Λ⁻¹(E₁ + … + E_k) with Eᵢ ~ Exp(1): exponential gaps at a constant rate,
//! a non-homogeneous Poisson process otherwise). Seeded: the same settings give the
//! same schedule, natively, in wasm and in Go (the draws of [`super::draw`], as the job
//! plan).
//!
//! The schedule holds the profile's few segments and its position, nothing per job, so
//! a run of millions of arrivals keeps it in constant memory.

use super::draw::Draws;
use serde::{Deserialize, Serialize};

use crate::engine::config::{Arrival, RunConfig};
use crate::settings::{FieldKind, SettingValue, num};

/// Most stages in a list.
pub const MAX_STAGES: usize = 32;
/// Longest stage, ms (an hour).
pub const MAX_STAGE_MS: f64 = 3_600_000.0;
/// Highest arrival rate, jobs/s.
pub const MAX_RATE: f64 = 100_000.0;

/// Separates the arrival stream from the job plan's streams, so changing the arrival
/// process never changes the jobs' costs.
pub const ARRIVAL_STREAM: u64 = 0xD1B5_4A32_D192_ED03;

/// One load stage (k6's `{ duration, target }`): over `duration_ms` the rate moves in a
/// straight line from the previous stage's rate (the first: from `arrivalRate`) to
/// `rate`. A stage of 0 ms is a step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Stage {
    /// How long the stage lasts, ms.
    pub duration_ms: f64,
    /// The rate reached at its end, jobs/s.
    pub rate: f64,
}

/// A list of [`Stage`]s: a setting whose text is `durationMs:rate` pairs separated by
/// commas (`"2000:100,3000:1000"`), or a JSON list of `{ durationMs, rate }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, tsify_next::Tsify)]
pub struct Stages(pub Vec<Stage>);

impl Stages {
    /// What the message of a bad stage list says is allowed.
    pub fn allowed_text() -> String {
        format!(
            "up to {MAX_STAGES} durationMs:rate pairs, comma-separated (durationMs 0–{}, rate 0–{})",
            num(MAX_STAGE_MS),
            num(MAX_RATE)
        )
    }

    /// Total length, ms.
    pub fn total_ms(&self) -> f64 {
        self.0.iter().map(|s| s.duration_ms).sum()
    }
}

impl SettingValue for Stages {
    fn kind(_: Option<(f64, f64)>) -> FieldKind {
        FieldKind::Stages {
            max_stages: MAX_STAGES as u32,
            max_duration_ms: MAX_STAGE_MS,
            max_rate: MAX_RATE,
        }
    }

    fn parse_text(text: &str) -> Result<Self, &'static str> {
        let stages: Vec<Stage> = if text.starts_with('[') {
            serde_json::from_str(text).map_err(|_| "is not a list of { durationMs, rate }")?
        } else {
            text.split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(|part| {
                    let (duration, rate) = part
                        .split_once(':')
                        .ok_or("has a stage that is not durationMs:rate")?;
                    let read = |t: &str| {
                        t.trim()
                            .parse::<f64>()
                            .map_err(|_| "has a stage that is not durationMs:rate")
                    };
                    Ok(Stage {
                        duration_ms: read(duration)?,
                        rate: read(rate)?,
                    })
                })
                .collect::<Result<_, &'static str>>()?
        };
        if stages.len() > MAX_STAGES {
            return Err("has too many stages");
        }
        for stage in &stages {
            if !(0.0..=MAX_STAGE_MS).contains(&stage.duration_ms) {
                return Err("has a stage duration out of range");
            }
            if !(0.0..=MAX_RATE).contains(&stage.rate) {
                return Err("has a stage rate out of range");
            }
        }
        Ok(Stages(stages))
    }

    fn to_text(&self) -> String {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|s| format!("{}:{}", num(s.duration_ms), num(s.rate)))
            .collect();
        parts.join(",")
    }

    fn as_number(&self) -> Option<f64> {
        None
    }
}

/// A piece of the rate profile: the rate goes linearly from `from` to `to` (jobs/s)
/// over `length` seconds (the last piece may be endless, at a constant rate).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Segment {
    length: f64,
    from: f64,
    to: f64,
}

impl Segment {
    fn slope(&self) -> f64 {
        if self.length.is_finite() && self.length > 0.0 {
            (self.to - self.from) / self.length
        } else {
            0.0
        }
    }

    fn rate_at(&self, offset: f64) -> f64 {
        self.from + self.slope() * offset
    }

    /// Expected arrivals from `offset` to the segment's end.
    fn area_after(&self, offset: f64) -> f64 {
        let left = self.length - offset;
        if left <= 0.0 {
            return 0.0;
        }
        let r = self.rate_at(offset);
        if left.is_infinite() {
            return if r > 0.0 { f64::INFINITY } else { 0.0 };
        }
        left * (r + self.to) / 2.0
    }

    /// Expected arrivals from `offset` to `offset + x` (within the segment).
    fn area_between(&self, offset: f64, x: f64) -> f64 {
        let r = self.rate_at(offset);
        r * x + self.slope() * x * x / 2.0
    }

    /// The time `x` after `offset` by which `need` arrivals are expected (needs
    /// `need <= area_after(offset)`): solves r·x + slope·x²/2 = need in its stable form.
    fn advance(&self, offset: f64, need: f64) -> f64 {
        let r = self.rate_at(offset);
        let slope = self.slope();
        let root = (r * r + 2.0 * slope * need).max(0.0).sqrt();
        if r + root > 0.0 {
            2.0 * need / (r + root)
        } else {
            0.0
        }
    }
}

/// How arrivals are spread along the profile.
#[derive(Debug, Clone)]
enum Spacing {
    /// One arrival per unit of Λ, the first at once.
    Even { first: bool },
    /// Exp(1) units of Λ between arrivals.
    Poisson(Draws),
}

/// The generator's schedule: intended start times, in order (see the module
/// documentation).
#[derive(Debug, Clone)]
pub struct ArrivalSchedule {
    segments: Vec<Segment>,
    spacing: Spacing,
    /// Where the schedule is: a segment, the offset in it (s), and the time at the
    /// segment's start (s).
    segment: usize,
    offset: f64,
    segment_start: f64,
    /// No arrival at or after this time (s).
    end: f64,
}

impl ArrivalSchedule {
    /// The schedule of a validated configuration; `None` for a closed loop (no
    /// schedule: a job is sent when the queue takes the last one).
    pub fn new(config: &RunConfig) -> Option<ArrivalSchedule> {
        let base = config.arrival_rate;
        let open = |rate: f64| Segment {
            length: f64::INFINITY,
            from: rate,
            to: rate,
        };
        let (segments, spacing_even, mut end) = match config.arrival {
            Arrival::Closed => return None,
            Arrival::Constant => (vec![open(base)], true, f64::INFINITY),
            Arrival::Poisson => (vec![open(base)], false, f64::INFINITY),
            Arrival::Stages => {
                let mut from = base;
                let segments = config
                    .stages
                    .0
                    .iter()
                    .map(|stage| {
                        let segment = Segment {
                            length: stage.duration_ms / 1000.0,
                            from,
                            to: stage.rate,
                        };
                        from = stage.rate;
                        segment
                    })
                    .collect();
                (segments, true, config.stages.total_ms() / 1000.0)
            }
            Arrival::Spike => {
                let at = config.spike_at_ms / 1000.0;
                let length = config.spike_for_ms / 1000.0;
                let segments = vec![
                    Segment {
                        length: at,
                        from: base,
                        to: base,
                    },
                    Segment {
                        length,
                        from: config.spike_rate,
                        to: config.spike_rate,
                    },
                    open(base),
                ];
                (segments, true, f64::INFINITY)
            }
        };
        if let Some(duration) = config.duration() {
            end = end.min(duration.as_secs_f64());
        }
        let spacing = if spacing_even {
            Spacing::Even { first: true }
        } else {
            Spacing::Poisson(Draws::new(config.seed ^ ARRIVAL_STREAM))
        };
        Some(ArrivalSchedule {
            segments,
            spacing,
            segment: 0,
            offset: 0.0,
            segment_start: 0.0,
            end,
        })
    }

    /// When the schedule stops (s since the run's start; infinite: it ends only with
    /// the run's job count).
    pub fn end_s(&self) -> f64 {
        self.end
    }

    /// The next intended start, ns since the run's start; `None` once the schedule is
    /// over (its stages or duration are done, or the rate stays 0 for good).
    pub fn next_ns(&mut self) -> Option<u64> {
        let mut need = match &mut self.spacing {
            Spacing::Even { first } => {
                if std::mem::replace(first, false) {
                    0.0
                } else {
                    1.0
                }
            }
            Spacing::Poisson(draws) => draws.exp1(),
        };
        while let Some(segment) = self.segments.get(self.segment) {
            let left = segment.area_after(self.offset);
            // At the very start of a segment with no rate, no arrival is due yet: move on.
            if need <= left && !(need == 0.0 && segment.rate_at(self.offset) <= 0.0) {
                self.offset += segment.advance(self.offset, need);
                let t = self.segment_start + self.offset;
                return (t < self.end).then(|| (t * 1e9).round() as u64);
            }
            need -= left;
            self.segment_start += segment.length;
            self.segment += 1;
            self.offset = 0.0;
            if self.segment_start >= self.end {
                return None;
            }
        }
        None
    }

    /// The rate profile as `(length s, from, to)` pieces (the last may be endless), and
    /// whether arrivals are evenly spaced (else Poisson): what a Go program needs to
    /// repeat this schedule (`crate::gobridge`).
    pub fn profile(&self) -> (Vec<(f64, f64, f64)>, bool) {
        let pieces = self
            .segments
            .iter()
            .map(|s| (s.length, s.from, s.to))
            .collect();
        (pieces, matches!(self.spacing, Spacing::Even { .. }))
    }

    /// Expected arrivals from the start to `t_s` seconds (Λ), whatever the spacing.
    pub fn expected_by(&self, t_s: f64) -> f64 {
        let mut total = 0.0;
        let mut start = 0.0;
        let t_s = t_s.min(self.end);
        for segment in &self.segments {
            if t_s <= start {
                break;
            }
            let x = (t_s - start).min(segment.length);
            total += segment.area_between(0.0, x);
            start += segment.length;
        }
        total
    }

    /// The rate the schedule asks for on average between `from_s` and `to_s` (the
    /// rate itself where it is constant), jobs/s.
    pub fn mean_rate(&self, from_s: f64, to_s: f64) -> f64 {
        if to_s > from_s {
            (self.expected_by(to_s) - self.expected_by(from_s)) / (to_s - from_s)
        } else {
            self.segments
                .iter()
                .scan(0.0, |start, s| {
                    let here = *start;
                    *start += s.length;
                    Some((here, s))
                })
                .take_while(|(start, _)| *start <= from_s)
                .last()
                .map_or(0.0, |(start, s)| s.rate_at(from_s - start))
        }
    }
}

#[cfg(test)]
#[path = "arrival_test.rs"]
mod tests;
