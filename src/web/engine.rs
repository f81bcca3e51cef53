//! The engine's JavaScript API (call it in a dedicated worker after `initThreadPool`):
//! `engineSchema()`, `validateConfig(settings)`,
//! `runPattern(settings, signal, onProgress, abortSlot?, runId?, control?)` (with a
//! `RunControl` to resize the pool or change the rate while the run goes),
//! `runPitfall(settings, signal)` and `abortSlotLayout()`. The `scalelab` engine worker
//! (`www/lib/engine-worker.js`) wraps these for pages.
//!
//! Settings arrive as a plain object of numbers, strings and booleans; they are turned
//! into text the way JavaScript's `String()` would and parsed by
//! [`RunConfig::from_fields`], so a form, a link and a script all get the same checks
//! and the same messages. Job records travel as typed-array columns, so a run of
//! 100 000 jobs costs the page a few array copies, not 100 000 objects.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use js_sys::{Float64Array, Int32Array, Object, Reflect, Uint8Array, Uint32Array};
use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::cancel::root_token;
use super::runtime::WebRuntime;
use crate::engine::config::{ConfigErrors, RunConfig, WORKLOADS, fields};
use crate::engine::outcome::Outcome;
use crate::engine::pool::Shrink;
use crate::engine::report::JobRecord;
use crate::engine::{RunHandle, abort_slot, start};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** `RunSettings` (every setting optional; missing ones take their defaults, see
 *  engineSchema()), `ConfigError`, `Counts`, `Outcome`, `RunReport`, `Progress`
 *  and their parts (`Summary`, `Sample`, …) are generated from the Rust types
 *  (tsify). `FieldError` is the name scripts already use for a `ConfigError`. Only the
 *  job columns, which this glue builds as typed arrays, are declared here; the two
 *  interfaces below merge them into the generated `Progress` and `RunReport`. */
export type FieldError = ConfigError;
/** Job records as columns (index i = one job). `outcome` holds outcome codes: 0 still
 *  running, else an `OutcomeSpec.code` (see engineSchema().outcomes). Missing times and
 *  results are NaN; missing worker/thread is -1. */
export interface JobColumns {
  length: number; id: Uint32Array; worker: Int32Array; thread: Int32Array; cost: Float64Array;
  intendedMs: Float64Array; queuedMs: Float64Array; startedMs: Float64Array; finishedMs: Float64Array;
  outcome: Uint8Array; result: Float64Array; errors: Array<[number, string]>;
  /** Pipelines: the stage of each record, a pass through it (-1 for whole jobs). */
  stage: Int32Array;
}
/** A batch streamed about every 50 ms while a run goes: the jobs that started or ended
 *  since the last one (a job that did both appears twice, ended last). A large batch
 *  arrives in parts that repeat its sample and counts (grants and resizes come with the
 *  first part only). */
export interface Progress { jobs: JobColumns }
/** The final report of a run. */
export interface RunReport { jobs: JobColumns }
"#;

/// Most job records in one progress message (see `run_pattern`).
const JOBS_PER_MESSAGE: usize = 8_192;

/// Only one run at a time per engine (they would share, and skew, the one pool).
static RUNNING: AtomicBool = AtomicBool::new(false);

/// The engine's one run slot while held; released on drop.
struct RunningGuard;

impl RunningGuard {
    /// Takes the run slot, or refuses if a run (or sweep) already holds it.
    fn claim() -> Result<RunningGuard, JsError> {
        if RUNNING.swap(true, Ordering::AcqRel) {
            return Err(JsError::new(
                "engine busy: a run is already in progress; cancel it or wait for it to finish",
            ));
        }
        Ok(RunningGuard)
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        RUNNING.store(false, Ordering::Release);
    }
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("engine: could not encode a result: {e}")))
}

/// Text of a setting's value, as JavaScript's `String()` would write it.
fn setting_text(value: &JsValue) -> String {
    if let Some(text) = value.as_string() {
        return text;
    }
    if let Some(number) = value.as_f64() {
        return js_sys::Number::to_string_with_radix(&js_sys::Number::from(number), 10)
            .map(String::from)
            .unwrap_or_else(|_| "NaN".into());
    }
    if let Some(flag) = value.as_bool() {
        return flag.to_string();
    }
    // A list or an object (e.g. `stages: [{ durationMs, rate }]`) as JSON, which the
    // setting's parser reads.
    if value.is_object()
        && let Ok(json) = js_sys::JSON::stringify(value)
    {
        return String::from(json);
    }
    String::from(js_sys::JsString::from(value.clone()))
}

/// The settings object as (name, text) pairs; `undefined` and `null` mean "default".
fn fields_of(settings: &JsValue) -> Result<Vec<(String, String)>, JsError> {
    if settings.is_undefined() || settings.is_null() {
        return Ok(Vec::new());
    }
    if !settings.is_object() || js_sys::Array::is_array(settings) {
        return Err(JsError::new(
            "settings: expected an object such as { pattern: \"pool\", workers: 4 }",
        ));
    }
    let mut fields = Vec::new();
    for entry in Object::entries(settings.unchecked_ref()).iter() {
        let pair: js_sys::Array = entry.unchecked_into();
        let (key, value) = (pair.get(0), pair.get(1));
        if value.is_undefined() || value.is_null() {
            continue;
        }
        fields.push((key.as_string().unwrap_or_default(), setting_text(&value)));
    }
    Ok(fields)
}

fn parse(settings: &JsValue) -> Result<Result<RunConfig, ConfigErrors>, JsError> {
    let fields = fields_of(settings)?;
    Ok(RunConfig::from_fields(
        fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    ))
}

/// Every setting's label, unit, range and default, and the workloads' cost units and
/// limits — what a page needs to build its form.
#[wasm_bindgen(js_name = engineSchema, unchecked_return_type = "EngineSchema")]
pub fn engine_schema() -> Result<JsValue, JsError> {
    super::install_panic_hook();
    to_js(&EngineSchema {
        fields: fields(),
        workloads: &WORKLOADS,
        sweep_fields: crate::lab::sweep::sweep_fields(),
        load_sweep_fields: crate::lab::load_sweep::load_sweep_fields(),
        pitfall_fields: crate::lab::pitfalls::pitfall_fields(),
        scalings: &crate::engine::config::SCALINGS,
        outcomes: crate::engine::outcome::OUTCOMES,
        export_format: crate::engine::run_import::EXPORT_FORMAT,
    })
}

/// What [`engine_schema`] returns.
#[derive(Serialize, tsify_next::Tsify)]
#[serde(rename_all = "camelCase")]
struct EngineSchema {
    /// The run settings.
    fields: &'static [crate::engine::config::FieldSpec],
    /// Each workload's cost unit and range.
    workloads: &'static [crate::engine::config::WorkloadSpec],
    /// The sweep's own settings.
    sweep_fields: &'static [crate::engine::config::FieldSpec],
    /// The offered-load sweep's own settings.
    load_sweep_fields: &'static [crate::engine::config::FieldSpec],
    /// The pitfall programs' settings.
    pitfall_fields: &'static [crate::engine::config::FieldSpec],
    /// What `scaleTarget` means under each scaling policy.
    scalings: &'static [crate::engine::config::ScalingSpec],
    /// How a job can end, in code order.
    outcomes: &'static [crate::engine::outcome::OutcomeSpec],
    /// The run-export format this engine writes and reads (`"scalelab"` in the file).
    export_format: u8,
}

/// Where the shared-memory abort table lives in this module's memory:
/// `{base, stride, state, kind, len, reason, capacity, slots}` (byte offsets; see
/// `engine::abort_slot` for the protocol).
#[wasm_bindgen(js_name = abortSlotLayout)]
pub fn abort_slot_layout() -> Result<JsValue, JsError> {
    to_js(&abort_slot::layout())
}

/// Checks settings without running anything: resolves to the list of problems
/// (`FieldError[]`, empty when the settings are valid).
#[wasm_bindgen(js_name = validateConfig, unchecked_return_type = "FieldError[]")]
pub fn validate_config(
    #[wasm_bindgen(unchecked_param_type = "RunSettings")] settings: JsValue,
) -> Result<JsValue, JsError> {
    match parse(&settings)? {
        Ok(_) => to_js(&Vec::<()>::new()),
        Err(errors) => to_js(&errors.0),
    }
}

/// The Go program of a set-up: `{source, notes, modules}` — a complete, runnable
/// `main.go` that does the same thing with Go's own tools, plans the same jobs from the
/// same seed and prints the run summary's accounting line last; `notes` lists what it
/// does not repeat exactly. Bad settings throw an `Error` naming the field, the value
/// and what is allowed (no program is made from them).
#[wasm_bindgen(js_name = goProgram, unchecked_return_type = "GoProgram")]
pub fn go_program(
    #[wasm_bindgen(unchecked_param_type = "RunSettings")] settings: JsValue,
) -> Result<JsValue, JsError> {
    let config = parse(&settings)?.map_err(|errors| JsError::new(&errors.to_string()))?;
    to_js(&crate::gobridge::go_program(&config))
}

/// Reads a run exported by the page ("Export run as JSON"), checking every figure the
/// comparison uses and its settings (with the settings parser): `{run, errors}`, where
/// `errors` lists every problem (`FieldError[]`) and `run` is set only when there is none.
#[wasm_bindgen(js_name = readRunExport, unchecked_return_type = "RunImport")]
pub fn read_run_export(content: &str, file_name: &str) -> Result<JsValue, JsError> {
    let read: crate::engine::run_import::RunImport =
        crate::engine::run_import::read_run_export(content, file_name).into();
    to_js(&read)
}

/// Steers a run while it goes: pass one to `runPattern`, then call `resize` or
/// `setRate` on it. Every call is checked like a setting (an `Error` names the field,
/// the value and the allowed range, and the run goes on unchanged); after the run has
/// ended, every call throws saying so.
#[wasm_bindgen]
#[derive(Default)]
pub struct RunControl {
    handle: Rc<RefCell<Option<RunHandle>>>,
}

#[wasm_bindgen]
impl RunControl {
    /// A control not yet tied to a run.
    #[wasm_bindgen(constructor)]
    pub fn new() -> RunControl {
        RunControl::default()
    }

    /// Another handle on the same control: `runPattern` takes one (wasm-bindgen moves
    /// an argument into Rust), the caller keeps the other to steer the run.
    pub fn share(&self) -> RunControl {
        RunControl {
            handle: self.handle.clone(),
        }
    }

    fn handle(&self) -> Result<RunHandle, JsError> {
        self.handle.borrow().clone().ok_or_else(|| {
            JsError::new("the run has not started yet: pass this control to runPattern first")
        })
    }

    /// Resizes the pool to `workers` (0 pauses it). Removed workers finish the job they
    /// hold, or with `stopNow` their jobs are cancelled. `seq` (optional) numbers the
    /// request when it was also written to the run's abort slot: it is applied once.
    pub fn resize(
        &self,
        workers: JsValue,
        #[wasm_bindgen(js_name = stopNow)] stop_now: bool,
        seq: Option<u16>,
    ) -> Result<(), JsError> {
        let shrink = if stop_now {
            Shrink::StopNow
        } else {
            Shrink::Graceful
        };
        self.handle()?
            .resize_given(&setting_text(&workers), shrink, seq)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Changes the rate (jobs/s) and, if given, the burst of a rate-limited run.
    #[wasm_bindgen(js_name = setRate)]
    pub fn set_rate(&self, rate: JsValue, burst: JsValue) -> Result<(), JsError> {
        let burst = (!burst.is_undefined() && !burst.is_null()).then(|| setting_text(&burst));
        self.handle()?
            .set_rate_given(&setting_text(&rate), burst.as_deref())
            .map_err(|e| JsError::new(&e.to_string()))
    }
}

/// Runs a pattern on the thread pool. Rejects at once, with an `Error` whose message
/// names each bad field, its value and the allowed range, if the settings are invalid
/// (nothing starts). `signal` cancels the run (its reason becomes the cause);
/// `onProgress` receives a `Progress` batch about every 50 ms. Resolves to the
/// `RunReport` once every job is accounted for.
///
/// `abortSlot` and `runId` (both optional) arm that slot of the shared-memory abort
/// table for this run (see `abortSlotLayout`): whoever holds the wasm memory can then
/// cancel the run by writing to it, without a message to this thread. `control` (a
/// `RunControl`'s `share()`: this call takes it) steers the run while it goes.
#[wasm_bindgen(js_name = runPattern, unchecked_return_type = "Promise<RunReport>")]
pub async fn run_pattern(
    #[wasm_bindgen(unchecked_param_type = "RunSettings")] settings: JsValue,
    signal: Option<AbortSignal>,
    #[wasm_bindgen(unchecked_param_type = "((progress: Progress) => void) | undefined")]
    on_progress: Option<js_sys::Function>,
    #[wasm_bindgen(js_name = abortSlot)] abort_slot: Option<u32>,
    #[wasm_bindgen(js_name = runId)] run_id: Option<u32>,
    control: Option<RunControl>,
) -> Result<JsValue, JsError> {
    let config = parse(&settings)?.map_err(|errors| JsError::new(&errors.to_string()))?;
    let _running = RunningGuard::claim()?;
    let armed = match (abort_slot, run_id) {
        (Some(slot), Some(id)) => {
            Some(abort_slot::arm(slot, i64::from(id)).map_err(|e| JsError::new(&e.to_string()))?)
        }
        _ => None,
    };
    let (token, _link) = root_token(signal.as_ref());
    let rt = WebRuntime::default();
    let mut observer = |mut progress: crate::engine::Progress| {
        let Some(callback) = &on_progress else { return };
        // Big batches go out in parts, so the page handles each in a short task (a
        // fan-out of 100 000 empty jobs finishes almost all of them in one flush).
        let jobs = std::mem::take(&mut progress.jobs);
        let mut parts: Vec<&[JobRecord]> = jobs.chunks(JOBS_PER_MESSAGE).collect();
        if parts.is_empty() {
            parts.push(&[]);
        }
        for (index, part) in parts.into_iter().enumerate() {
            if index == 1 {
                // grants and resizes travel with the first part only
                progress.grants.clear();
                progress.resizes.clear();
            }
            if let Ok(batch) = to_js(&progress) {
                let _ = Reflect::set(&batch, &"jobs".into(), &job_columns(part));
                // A throwing callback must not break the run.
                let _ = callback.call1(&JsValue::NULL, &batch);
            }
        }
    };
    let (handle, run) = start(&rt, config, &token, &mut observer, armed);
    if let Some(control) = &control {
        *control.handle.borrow_mut() = Some(handle);
    }
    let report = run.await;
    if let Some(control) = &control {
        control.handle.borrow_mut().take();
    }
    if let Some(crash) = &report.crash {
        return Err(JsError::new(crash));
    }
    let value = to_js(&report)?;
    // The settings as the page and links name them, and the job columns.
    let settings = Object::new();
    for (name, text) in report.config.to_fields() {
        let _ = Reflect::set(&settings, &name.into(), &text.into());
    }
    let attached = Reflect::set(&value, &"config".into(), &settings)
        .and_then(|_| Reflect::set(&value, &"jobs".into(), &job_columns(&report.jobs)));
    attached.map_err(|_| JsError::new("engine: could not attach job records"))?;
    Ok(value)
}

/// Runs one of the lab's pitfall programs (`PitfallSettings`: the program and its work)
/// and resolves to its `PitfallReport`. Bad settings reject with the usual messages;
/// `signal` stops it early.
#[wasm_bindgen(js_name = runPitfall, unchecked_return_type = "Promise<PitfallReport>")]
pub async fn run_pitfall(
    #[wasm_bindgen(unchecked_param_type = "PitfallSettings")] settings: JsValue,
    signal: Option<AbortSignal>,
) -> Result<JsValue, JsError> {
    let fields = fields_of(&settings)?;
    let config = crate::lab::pitfalls::PitfallConfig::from_fields(
        fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )
    .map_err(|errors| JsError::new(&errors.to_string()))?;
    let _running = RunningGuard::claim()?;
    let (token, _link) = root_token(signal.as_ref());
    let report = crate::lab::pitfalls::run_pitfall(&WebRuntime::default(), &config, &token).await;
    to_js(&report)
}

/// Runs a concurrency sweep of `settings` (as a worker pool) at every worker count from 1
/// to `sweep.maxWorkers`, `sweep.repetitions` times each after `sweep.warmup` runs, for
/// CPU jobs, I/O-like jobs or both, and fits the Universal Scalability Law. Bad settings
/// reject with the usual messages. `signal` stops it after the current run (the report
/// keeps what was measured); `onProgress` hears after every run.
#[wasm_bindgen(js_name = runSweep, unchecked_return_type = "Promise<SweepReport>")]
pub async fn run_sweep_js(
    #[wasm_bindgen(unchecked_param_type = "RunSettings")] settings: JsValue,
    #[wasm_bindgen(unchecked_param_type = "SweepSettings")] sweep: JsValue,
    signal: Option<AbortSignal>,
    #[wasm_bindgen(unchecked_param_type = "((progress: SweepProgress) => void) | undefined")]
    on_progress: Option<js_sys::Function>,
) -> Result<JsValue, JsError> {
    let base = parse(&settings)?.map_err(|errors| JsError::new(&errors.to_string()))?;
    let sweep_fields = fields_of(&sweep)?;
    let sweep = crate::lab::sweep::SweepConfig::from_fields(
        sweep_fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        rayon::current_num_threads(),
        &base,
    )
    .map_err(|errors| JsError::new(&errors.to_string()))?;
    let _running = RunningGuard::claim()?;
    let (token, _link) = root_token(signal.as_ref());
    let mut observer = |progress: crate::lab::sweep::SweepProgress| {
        if let (Some(callback), Ok(value)) = (&on_progress, to_js(&progress)) {
            let _ = callback.call1(&JsValue::NULL, &value);
        }
    };
    let report =
        crate::lab::sweep::run_sweep(&WebRuntime::default(), base, sweep, &token, &mut observer)
            .await;
    to_js(&report)
}

/// Runs an offered-load sweep of `settings` (as a worker pool): measures its capacity
/// in a closed loop, then offers it `loadSweep.from`…`to` times that capacity in
/// `loadSweep.steps` open-loop runs of `loadSweep.stepMs` each, and resolves to the
/// hockey stick (`LoadSweepReport`: throughput, latency, utilisation and Little's law per
/// load, the knee, the M/M/c curve). Bad settings reject with the usual messages;
/// `signal` stops it after the current run; `onProgress` hears after every run.
#[wasm_bindgen(js_name = runLoadSweep, unchecked_return_type = "Promise<LoadSweepReport>")]
pub async fn run_load_sweep_js(
    #[wasm_bindgen(unchecked_param_type = "RunSettings")] settings: JsValue,
    #[wasm_bindgen(unchecked_param_type = "LoadSweepSettings")] load_sweep: JsValue,
    signal: Option<AbortSignal>,
    #[wasm_bindgen(unchecked_param_type = "((progress: LoadSweepProgress) => void) | undefined")]
    on_progress: Option<js_sys::Function>,
) -> Result<JsValue, JsError> {
    use crate::lab::load_sweep::{LoadSweepConfig, LoadSweepProgress, run_load_sweep};
    let base = parse(&settings)?.map_err(|errors| JsError::new(&errors.to_string()))?;
    let fields = fields_of(&load_sweep)?;
    let sweep = LoadSweepConfig::from_fields(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|errors| JsError::new(&errors.to_string()))?;
    let _running = RunningGuard::claim()?;
    let (token, _link) = root_token(signal.as_ref());
    let mut observer = |progress: LoadSweepProgress| {
        if let (Some(callback), Ok(value)) = (&on_progress, to_js(&progress)) {
            let _ = callback.call1(&JsValue::NULL, &value);
        }
    };
    let report = run_load_sweep(&WebRuntime::default(), base, sweep, &token, &mut observer).await;
    to_js(&report)
}

/// The M/M/c queue (Poisson arrivals at `lambda`, exponential service at `mu` per
/// server, `c` servers): the probability of waiting (Erlang C), the mean wait and time
/// in the system (in the unit of `1 / lambda`) and the utilisation; `null` when it is
/// unstable (`lambda >= c·mu`) or an argument is out of range.
#[wasm_bindgen(js_name = queueingMmc, unchecked_return_type = "MmcQueue | null")]
pub fn queueing_mmc(lambda: f64, mu: f64, c: u32) -> Result<JsValue, JsError> {
    match crate::stats::queueing::mmc(lambda, mu, c) {
        Some(queue) => to_js(&queue),
        None => Ok(JsValue::NULL),
    }
}

/// The shared-counter pitfall: every pool thread adds `increments` to one counter, with
/// `fetch_add` or (`racy`) with a separate load and store; resolves to
/// `{threads, increments, expected, actual, lost, racy}`.
#[wasm_bindgen(js_name = raceCounter, unchecked_return_type = "Promise<RaceResult>")]
pub async fn race_counter(increments: f64, racy: bool) -> Result<JsValue, JsError> {
    if !(increments.fract() == 0.0 && (1.0..=100_000_000.0).contains(&increments)) {
        return Err(JsError::new(&format!(
            "increments: {increments} is not allowed; allowed: a whole number 1–100000000"
        )));
    }
    let increments = increments as u64;
    let result = crate::offload::spawn_on_pool(move || {
        crate::lab::race::count_on_all_threads(increments, racy)
    })
    .await
    .map_err(|_| JsError::new("engine crashed: the pool job was lost"))?;
    to_js(&result)
}

/// Job records as typed-array columns (`JobColumns`).
pub fn job_columns(records: &[JobRecord]) -> JsValue {
    let ms = |f: fn(&JobRecord) -> Option<f64>| -> Vec<f64> {
        records.iter().map(|r| f(r).unwrap_or(f64::NAN)).collect()
    };
    let id: Vec<u32> = records.iter().map(|r| r.id).collect();
    let worker: Vec<i32> = records
        .iter()
        .map(|r| r.worker.map_or(-1, |w| w as i32))
        .collect();
    let thread: Vec<i32> = records
        .iter()
        .map(|r| r.thread.map_or(-1, |t| t as i32))
        .collect();
    let cost: Vec<f64> = records.iter().map(|r| r.cost as f64).collect();
    let outcome: Vec<u8> = records
        .iter()
        .map(|r| r.outcome.map_or(0, Outcome::code))
        .collect();
    let result: Vec<f64> = records
        .iter()
        .map(|r| r.result.map_or(f64::NAN, |v| v as f64))
        .collect();
    let stage: Vec<i32> = records
        .iter()
        .map(|r| r.stage.map_or(-1, |s| s as i32))
        .collect();
    let errors = js_sys::Array::new();
    for r in records.iter().filter(|r| r.error.is_some()) {
        let pair = js_sys::Array::of2(
            &r.id.into(),
            &JsValue::from_str(r.error.as_deref().unwrap_or_default()),
        );
        errors.push(&pair);
    }
    let columns = Object::new();
    let set = |name: &str, value: &JsValue| {
        let _ = Reflect::set(&columns, &name.into(), value);
    };
    set("length", &(records.len() as u32).into());
    set("id", &Uint32Array::from(&id[..]).into());
    set("worker", &Int32Array::from(&worker[..]).into());
    set("thread", &Int32Array::from(&thread[..]).into());
    set("cost", &Float64Array::from(&cost[..]).into());
    set(
        "intendedMs",
        &Float64Array::from(&ms(|r| r.intended_ms)[..]).into(),
    );
    set(
        "queuedMs",
        &Float64Array::from(&ms(|r| r.queued_ms)[..]).into(),
    );
    set(
        "startedMs",
        &Float64Array::from(&ms(|r| r.started_ms)[..]).into(),
    );
    set(
        "finishedMs",
        &Float64Array::from(&ms(|r| r.finished_ms)[..]).into(),
    );
    set("outcome", &Uint8Array::from(&outcome[..]).into());
    set("result", &Float64Array::from(&result[..]).into());
    set("stage", &Int32Array::from(&stage[..]).into());
    set("errors", &errors);
    columns.into()
}
