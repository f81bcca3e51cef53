//! Reading a run exported by the page ("Export run as JSON") back in, to compare it
//! with new runs. The file is untrusted: only the figures the comparison shows are
//! taken, each checked (type, range, length); its settings go through the same parser
//! as the form, links and the JS API ([`RunConfig::from_fields`]); and *every* problem
//! is reported, each as a [`ConfigError`] naming the field, the value and what is
//! allowed. Texts are cut short; the page shows them as text only.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::config::RunConfig;
use super::outcome::{Counts, OUTCOMES, Outcome};
use crate::settings::{ConfigError, ConfigErrors};

/// Most points in the throughput series (the engine's own series are far shorter).
pub const MAX_SERIES: usize = 100_000;
/// Longest text kept from the file (pattern, file name, setting values).
pub const MAX_TEXT: usize = 80;
/// The export format the page writes (`"scalelab": 2`); 1 is read too (it had no
/// rejected or shed jobs).
pub const EXPORT_FORMAT: u8 = 2;
/// Most settings read from the file.
const MAX_SETTINGS: usize = 40;

/// The figures of an imported run that the comparison shows.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ImportedRun {
    /// How the compared-runs table names it.
    pub label: String,
    /// The page's pattern id it was run as.
    pub pattern: String,
    /// Its settings as text (checked by the settings parser). A plain object in JS
    /// (the glue serializes maps as objects).
    #[tsify(type = "Record<string, string>")]
    pub settings: BTreeMap<String, String>,
    /// Its report's figures.
    pub report: ImportedReport,
}

/// The part of a run report an import keeps.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ImportedReport {
    /// Final outcomes.
    pub counts: Counts,
    /// Completed jobs per second.
    pub throughput_per_s: f64,
    /// Wall time, ms.
    pub wall_ms: f64,
    /// Total latency percentiles, ms.
    pub latency: ImportedLatency,
    /// The throughput series.
    pub series: ImportedSeries,
    /// Rate-limited runs: configured and achieved rate.
    pub limiter: Option<ImportedLimiter>,
}

/// `latency` of an imported report.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
pub struct ImportedLatency {
    /// `latency.total`'s median and 99th percentile.
    pub total: Percentiles,
}

/// Two percentiles, ms.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// `series` of an imported report.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ImportedSeries {
    /// Bucket starts, ms.
    pub t_ms: Vec<f64>,
    /// Jobs per second in each bucket.
    pub throughput: Vec<f64>,
    /// Bucket width, ms.
    pub bucket_ms: f64,
}

/// `limiter` of an imported report.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ImportedLimiter {
    /// Jobs per second achieved.
    pub achieved_rate: f64,
    /// Jobs per second asked for.
    pub configured_rate: f64,
}

/// What reading an export gives the JS API: the run, or every problem found.
#[derive(Debug, Clone, PartialEq, Serialize, tsify_next::Tsify)]
pub struct RunImport {
    /// The run, if the file is a valid export.
    pub run: Option<ImportedRun>,
    /// Every problem found (empty when `run` is set).
    pub errors: Vec<ConfigError>,
}

impl From<Result<ImportedRun, ConfigErrors>> for RunImport {
    fn from(result: Result<ImportedRun, ConfigErrors>) -> RunImport {
        match result {
            Ok(run) => RunImport {
                run: Some(run),
                errors: Vec::new(),
            },
            Err(errors) => RunImport {
                run: None,
                errors: errors.0,
            },
        }
    }
}

/// Reads the text of an exported run. `file_name` labels it.
pub fn read_run_export(content: &str, file_name: &str) -> Result<ImportedRun, ConfigErrors> {
    let data: Value = serde_json::from_str(content).map_err(|e| {
        ConfigErrors(vec![ConfigError::new(
            "file",
            &preview(content),
            &format!("is not JSON ({e})"),
            "a run exported by scalelab (Export run as JSON)".into(),
        )])
    })?;
    let mut r = Reader::default();
    let run = r.run(&data, file_name);
    match (run, r.errors.is_empty()) {
        (Some(run), true) => Ok(run),
        _ => Err(ConfigErrors(r.errors)),
    }
}

/// Collects every problem while reading; each reader returns `None` where it failed.
struct Reader {
    errors: Vec<ConfigError>,
    /// The file's export format (`"scalelab"`), once read.
    format: u8,
}

impl Default for Reader {
    fn default() -> Self {
        Reader {
            errors: Vec::new(),
            format: EXPORT_FORMAT,
        }
    }
}

impl Reader {
    fn fail(&mut self, field: &str, value: Option<&Value>, problem: &str, allowed: &str) {
        let shown = value.map_or_else(String::new, Value::to_string);
        let problem = if value.is_none() {
            "is missing"
        } else {
            problem
        };
        self.errors
            .push(ConfigError::new(field, &shown, problem, allowed.into()));
    }

    fn object<'a>(
        &mut self,
        value: Option<&'a Value>,
        field: &str,
    ) -> Option<&'a serde_json::Map<String, Value>> {
        match value {
            Some(Value::Object(map)) => Some(map),
            other => {
                self.fail(field, other, "is not an object", "an object");
                None
            }
        }
    }

    fn number(&mut self, value: Option<&Value>, field: &str) -> Option<f64> {
        match value.and_then(Value::as_f64) {
            Some(x) if x.is_finite() && x >= 0.0 => Some(x),
            _ => {
                self.fail(field, value, "is not a number ≥ 0", "a finite number ≥ 0");
                None
            }
        }
    }

    fn count(&mut self, value: Option<&Value>, field: &str) -> Option<u32> {
        match value.and_then(Value::as_u64).map(u32::try_from) {
            Some(Ok(n)) => Some(n),
            _ => {
                self.fail(
                    field,
                    value,
                    "is not a whole number ≥ 0",
                    &format!("a whole number from 0 to {}", u32::MAX),
                );
                None
            }
        }
    }

    fn numbers(&mut self, value: Option<&Value>, field: &str) -> Option<Vec<f64>> {
        let allowed = format!("a list of at most {MAX_SERIES} numbers ≥ 0");
        let Some(Value::Array(items)) = value else {
            self.fail(field, value, "is not a list", &allowed);
            return None;
        };
        if items.len() > MAX_SERIES {
            let shown = Value::from(format!("{} points", items.len()));
            self.fail(field, Some(&shown), "is too long", &allowed);
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item.as_f64() {
                Some(x) if x.is_finite() && x >= 0.0 => out.push(x),
                _ => {
                    // One message per list, not one per bad point.
                    self.fail(
                        &format!("{field}[{i}]"),
                        Some(item),
                        "is not a number ≥ 0",
                        &allowed,
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    fn text(&mut self, value: Option<&Value>, field: &str) -> Option<String> {
        match value {
            Some(Value::String(text)) => Some(cut(text)),
            other => {
                self.fail(field, other, "is not a text", "a text");
                None
            }
        }
    }

    fn run(&mut self, data: &Value, file_name: &str) -> Option<ImportedRun> {
        let file = self.object(Some(data), "file")?;
        let Some(format) = file
            .get("scalelab")
            .and_then(Value::as_u64)
            .filter(|f| (1..=EXPORT_FORMAT as u64).contains(f))
        else {
            self.fail(
                "scalelab",
                file.get("scalelab"),
                "is not a scalelab run export's version",
                &format!("1–{EXPORT_FORMAT} (a run exported by scalelab)"),
            );
            return None;
        };
        self.format = format as u8;
        let pattern = self.text(file.get("pattern"), "pattern");
        let settings = self.settings(file.get("settings"));
        let report = self.report(file.get("report"));
        let (pattern, settings, report) = (pattern?, settings?, report?);
        let workers = settings
            .get("workers")
            .map(|w| format!(" · {w} workers"))
            .unwrap_or_default();
        let workload = settings.get("workload").map_or("primes", String::as_str);
        let label = format!(
            "imported: {pattern}{workers} · {workload} ({})",
            cut(file_name)
        );
        Some(ImportedRun {
            label,
            pattern,
            settings,
            report,
        })
    }

    /// The settings, as text, through the settings parser (the form's rules).
    fn settings(&mut self, value: Option<&Value>) -> Option<BTreeMap<String, String>> {
        let map = self.object(value, "settings")?;
        let mut fields = BTreeMap::new();
        for (key, value) in map.iter().take(MAX_SETTINGS) {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => continue, // not a setting's value: ignored, as the page never wrote one
            };
            fields.insert(cut(key), cut(&text));
        }
        let before = self.errors.len();
        if let Err(errors) = RunConfig::from_fields(&fields) {
            for mut e in errors.0 {
                e.message = format!("settings.{}", e.message);
                e.field = format!("settings.{}", e.field);
                self.errors.push(e);
            }
        }
        (self.errors.len() == before).then_some(fields)
    }

    fn report(&mut self, value: Option<&Value>) -> Option<ImportedReport> {
        let r = self.object(value, "report")?;
        let counts = self.counts(r.get("counts"));
        let throughput_per_s = self.number(r.get("throughputPerS"), "report.throughputPerS");
        let wall_ms = self.number(r.get("wallMs"), "report.wallMs");
        let total = self
            .object(r.get("latency"), "report.latency")
            .and_then(|l| self.object(l.get("total"), "report.latency.total"));
        let (p50, p99) = match total {
            Some(total) => (
                self.number(total.get("p50"), "report.latency.total.p50"),
                self.number(total.get("p99"), "report.latency.total.p99"),
            ),
            None => (None, None),
        };
        let series = self.series(r.get("series"));
        let limiter = match r.get("limiter") {
            None | Some(Value::Null) => Some(None),
            Some(value) => self.object(Some(value), "report.limiter").and_then(|l| {
                let achieved = self.number(l.get("achievedRate"), "report.limiter.achievedRate");
                let configured =
                    self.number(l.get("configuredRate"), "report.limiter.configuredRate");
                Some(Some(ImportedLimiter {
                    achieved_rate: achieved?,
                    configured_rate: configured?,
                }))
            }),
        };
        Some(ImportedReport {
            counts: counts?,
            throughput_per_s: throughput_per_s?,
            wall_ms: wall_ms?,
            latency: ImportedLatency {
                total: Percentiles {
                    p50: p50?,
                    p99: p99?,
                },
            },
            series: series?,
            limiter: limiter?,
        })
    }

    /// One count per outcome (the outcome table's keys), with the identity checked.
    fn counts(&mut self, value: Option<&Value>) -> Option<Counts> {
        let c = self.object(value, "report.counts")?;
        let mut read = [None; OUTCOMES.len()];
        for (slot, spec) in read.iter_mut().zip(OUTCOMES) {
            *slot = if spec.since_export > self.format {
                Some(0) // an older export: this outcome did not exist yet
            } else {
                self.count(c.get(spec.key), &format!("report.counts.{}", spec.key))
            };
        }
        let submitted = match c.get("submitted") {
            None => None, // older exports: the sum
            value => Some(self.count(value, "report.counts.submitted")?),
        };
        let read: Vec<u32> = read.into_iter().collect::<Option<_>>()?;
        let sum = read.iter().map(|&n| u64::from(n)).sum::<u64>();
        let counts = Counts::from_fn(submitted.unwrap_or(sum as u32), |o: Outcome| {
            read[o.spec().code as usize - 1]
        });
        if u64::from(counts.submitted) != sum {
            let keys: Vec<&str> = OUTCOMES.iter().map(|s| s.key).collect();
            self.fail(
                "report.counts.submitted",
                c.get("submitted"),
                "is not the sum of the outcomes",
                &format!("{sum} (= {})", keys.join(" + ")),
            );
            return None;
        }
        Some(counts)
    }

    fn series(&mut self, value: Option<&Value>) -> Option<ImportedSeries> {
        let s = self.object(value, "report.series")?;
        let t_ms = self.numbers(s.get("tMs"), "report.series.tMs");
        let throughput = self.numbers(s.get("throughput"), "report.series.throughput");
        let bucket_ms = self.number(s.get("bucketMs"), "report.series.bucketMs");
        let (t_ms, throughput) = (t_ms?, throughput?);
        if t_ms.len() != throughput.len() {
            let shown = Value::from(format!("{} points", throughput.len()));
            self.fail(
                "report.series.throughput",
                Some(&shown),
                "does not match report.series.tMs",
                &format!("as many points as report.series.tMs ({})", t_ms.len()),
            );
            return None;
        }
        Some(ImportedSeries {
            t_ms,
            throughput,
            bucket_ms: bucket_ms?,
        })
    }
}

/// `text` cut to [`MAX_TEXT`] characters.
fn cut(text: &str) -> String {
    crate::settings::cut_to(text, MAX_TEXT)
}

/// The start of a file that is not JSON, for the message.
fn preview(content: &str) -> String {
    cut(content.trim())
}

#[cfg(test)]
#[path = "run_import_test.rs"]
mod tests;
