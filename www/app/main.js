// The playground's wiring: creates the views, starts the engine (in its own worker),
// and connects them. Views only render and report input; the state lives here; the
// engine does all the work off this thread.

import { Engine, toTraceEvents } from '../lib/engine.js';
import { download, fileStem, runToCsv, runToJson } from './model/export.js';
import { importRun, MAX_IMPORT_BYTES } from './model/import-run.js';
import { LiveRun } from './model/live-run.js';
import { readLink, writeLink } from './model/url-state.js';
import { LIVE_FIELDS, PATTERNS, PRESET_FIELDS, patternById } from './patterns.js';
import { PITFALLS } from './pitfalls.js';
import { ChartsView } from './views/charts-view.js';
import { CompareView } from './views/compare-view.js';
import { byId } from './views/dom.js';
import { EngineView } from './views/engine-view.js';
import { FormView } from './views/form-view.js';
import { GoView } from './views/go-view.js';
import { LoadSweepView, loadSweepCsv } from './views/load-sweep-view.js';
import { PatternView } from './views/pattern-view.js';
import { PitfallsView } from './views/pitfalls-view.js';
import { ProgressView } from './views/progress-view.js';
import { SummaryView } from './views/summary-view.js';
import { SweepView } from './views/sweep-view.js';

/** @typedef {import('../pkg/scalelab.js').RunReport} RunReport */
/** @typedef {import('./patterns.js').PatternInfo} PatternInfo */
/**
 * A kept run: a finished run of this page, or one imported from a file.
 * @typedef {{label: string, settings: Record<string, string>, report: RunReport | import('../pkg/scalelab.js').ImportedReport, imported?: boolean}} Kept
 */

/**
 * An error's message (whatever was thrown).
 * @param {unknown} err
 */
function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}
/** Known answer of the start-up self-test: the primes below 10^7. */
const PRIMES_BELOW_10M = 664579;
/** Runs kept for comparison. */
const KEEP = 6;

const engineView = new EngineView();
const patternView = new PatternView(byId('pattern-picker', HTMLFieldSetElement), byId('pattern-explain'), PATTERNS);
const form = new FormView(byId('settings-form', HTMLFormElement));
const progress = new ProgressView();
const summary = new SummaryView();
const charts = new ChartsView();
const compare = new CompareView();
const sweepView = new SweepView();
const loadSweepView = new LoadSweepView();
const pitfallsView = new PitfallsView(PITFALLS);
const goView = new GoView();

/**
 * What the engine is busy with.
 * @typedef {'run' | 'sweep' | 'loadSweep' | 'pitfall' | null} Activity
 */
const exportJson = byId('export-json', HTMLButtonElement);
const exportCsv = byId('export-csv', HTMLButtonElement);
const exportTrace = byId('export-trace', HTMLButtonElement);

const state = {
  /** @type {Engine | null} */
  engine: null,
  pattern: patternById('pool'),
  /** @type {{field: string, message: string}[]} */
  errors: [],
  /** @type {AbortController | null} */
  running: null,
  /** The run in progress, to steer it. @type {import('../lib/engine.js').RunHandle | null} */
  handle: null,
  /** @type {LiveRun | null} the run on screen */
  shown: null,
  /** @type {Kept[]} */
  kept: [],
  runCount: 0,
  validation: 0,
  /** @type {Activity} */
  activity: null,
  /** The last sweep report. @type {import('../pkg/scalelab.js').SweepReport | null} */
  sweep: null,
  /** The last offered-load sweep report. @type {import('../pkg/scalelab.js').LoadSweepReport | null} */
  loadSweep: null,
  unavailable: 'The engine is starting…',
};

// --- rendering ------------------------------------------------------------------------

let renderQueued = false;

/** Redraws the shown run, a chart per animation frame until all are current. */
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    const run = state.shown;
    if (!run) return;
    const { value, max, unit } = run.progress;
    progress.show(value, max, runState(run), unit === 'ms' ? 'ms' : 'jobs');
    progress.showStages(run.stagesNow);
    if (charts.render(run)) scheduleRender();
  });
}

/** @param {LiveRun} run */
function runState(run) {
  if (run.failure) return 'failed';
  if (!run.report) return run.cancelledMs != null ? 'stopping' : 'running';
  if (run.report.error) return 'failed fast';
  if (run.report.cancellation)
    return run.report.cancellation.err === 'deadline exceeded' ? 'deadline exceeded' : 'cancelled';
  return 'done';
}

function updateRunState() {
  const running = state.running !== null;
  let reason = '';
  if (state.unavailable) reason = state.unavailable;
  else if (state.errors.length) {
    const fields = [...new Set(state.errors.map((e) => e.field))];
    reason = `Run is disabled until ${fields.length === 1 ? 'this setting is' : 'these settings are'} fixed: ${fields.join(', ')}.`;
  }
  form.setRunState({ running: running && state.activity === 'run', canRun: !reason && !running, reason });
  if (running && state.activity !== 'run') form.runButton.disabled = true;
  patternView.setDisabled(running);
  sweepView.setState({
    busy: running,
    sweeping: running && state.activity === 'sweep',
    canRun: !reason,
    reason,
    hasReport: state.sweep !== null,
  });
  loadSweepView.setState({
    busy: running,
    sweeping: running && state.activity === 'loadSweep',
    canRun: !reason,
    reason,
    hasReport: state.loadSweep !== null,
  });
  pitfallsView.setDisabled(running || Boolean(state.unavailable) || !state.engine);
  const finished = state.shown?.report != null && !running;
  exportJson.disabled = !finished;
  exportCsv.disabled = !finished;
  exportTrace.disabled = !finished;
}

// --- settings -------------------------------------------------------------------------

/**
 * The settings sent to the engine: the pattern and the fields that apply to it.
 * @returns {Record<string, string>}
 */
function currentSettings() {
  return { pattern: state.pattern.engine, ...form.applicable(state.pattern) };
}

let linkTimer = 0;
function syncLink() {
  clearTimeout(linkTimer);
  linkTimer = setTimeout(
    () => history.replaceState(null, '', writeLink(state.pattern.id, form.applicable(state.pattern))),
    150,
  );
}

let validateTimer = 0;
/** Asks the engine to check the settings (debounced; stale answers are dropped). */
function scheduleValidation() {
  clearTimeout(validateTimer);
  validateTimer = setTimeout(validate, 120);
}

/** Whether a run (not a sweep or a pitfall) is going. */
function runGoing() {
  return state.activity === 'run';
}

async function validate() {
  // While a run goes the live fields answer for themselves (see `steer`), and the rest
  // are locked: the form is checked again when the run ends.
  if (!state.engine || runGoing()) return;
  const ticket = ++state.validation;
  const errors = await state.engine.validate(currentSettings());
  if (ticket !== state.validation || runGoing()) return;
  state.errors = errors;
  form.showErrors(errors);
  updateRunState();
}

/**
 * @param {string} id
 * @param {{preset?: boolean}} [options] reset the fields the pattern presets
 */
function choosePattern(id, { preset = true } = {}) {
  const pattern = patternById(id);
  state.pattern = pattern;
  patternView.select(id);
  if (preset && form.fields.size) {
    const values = form.values();
    const workload = pattern.preset.workload ?? form.defaultOf('workload');
    /** @type {Record<string, string>} */
    const reset = {};
    for (const name of PRESET_FIELDS) reset[name] = pattern.preset[name] ?? form.defaultOf(name, workload);
    if (!('cost' in pattern.preset) && reset.workload !== values.workload)
      reset.cost = form.defaultOf('cost', reset.workload);
    form.setValues(reset);
  }
  form.showFor(pattern);
  scheduleValidation();
  syncLink();
}

let lastWorkload = 'primes';
let lastScaling = 'fixed';
/** @param {string} name the field that changed */
function onInput(name) {
  if (runGoing() && LIVE_FIELDS.includes(name)) {
    scheduleSteer(name);
    return;
  }
  const values = form.values();
  if (name === 'workload' && values.workload !== lastWorkload) {
    // Keep the cost sensible: a default cost follows the workload's own default.
    if (values.cost === form.defaultOf('cost', lastWorkload))
      form.setValues({ cost: form.defaultOf('cost', values.workload) });
    lastWorkload = values.workload;
  }
  if (name === 'scaling' && values.scaling !== lastScaling) {
    // The target means something else under another policy: follow its default.
    if (values.scaleTarget === form.defaultOf('scaleTarget', values.workload, lastScaling))
      form.setValues({ scaleTarget: form.defaultOf('scaleTarget', values.workload, values.scaling) });
    lastScaling = values.scaling;
  }
  form.showFor(state.pattern);
  scheduleValidation();
  syncLink();
}

// --- steering a run -------------------------------------------------------------------

let steerTimer = 0;
/** @type {Set<string>} */
const steerPending = new Set();
/** Applies a live change (debounced while typing). @param {string} name */
function scheduleSteer(name) {
  steerPending.add(name);
  clearTimeout(steerTimer);
  steerTimer = setTimeout(steer, 250);
}

/** Sends the pending live changes to the run; the engine's answer shows by the field. */
async function steer() {
  const handle = state.handle;
  const names = [...steerPending];
  steerPending.clear();
  if (!handle) return;
  const values = form.values();
  if (names.includes('workers')) {
    try {
      await handle.resize(Number(values.workers === '' ? Number.NaN : values.workers), {
        stopNow: form.shrinkStopsNow,
      });
      form.showLiveError('workers', '');
    } catch (err) {
      form.showLiveError('workers', messageOf(err));
    }
  }
  if (names.includes('rate') || names.includes('burst')) {
    const bucket = values.pacing !== 'ticker';
    try {
      await handle.setRate(Number(values.rate), bucket ? Number(values.burst) : undefined);
      form.showLiveError('rate', '');
      form.showLiveError('burst', '');
    } catch (err) {
      const message = messageOf(err);
      form.showLiveError(message.startsWith('burst') ? 'burst' : 'rate', message);
    }
  }
}

// --- runs -----------------------------------------------------------------------------

/**
 * Speedup against a kept one-worker run of the same set-up, if there is one.
 * @param {LiveRun} run a finished run
 */
function speedupFor(run) {
  const workers = run.settings.workers;
  const canMeasure =
    workers !== undefined && workers !== '1' && run.pattern.engine !== 'fanout' && !run.report?.cancellation;
  /**
   * @param {Record<string, string>} a
   * @param {Record<string, string>} b
   */
  const same = (a, b) => JSON.stringify({ ...a, workers: '1' }) === JSON.stringify({ ...b, workers: '1' });
  // Only runs made here, on this machine and in this session, are a fair baseline.
  const base = state.kept.find(
    (k) =>
      !k.imported &&
      k.settings.workers === '1' &&
      same(k.settings, run.settings) &&
      !('cancellation' in k.report && k.report.cancellation),
  );
  if (!base || !canMeasure || !run.report) return { speedup: null, baselineThroughput: null, canMeasure };
  return {
    speedup: run.report.throughputPerS / base.report.throughputPerS,
    baselineThroughput: base.report.throughputPerS,
    canMeasure,
  };
}

/**
 * Keeps a finished (or imported) run for comparison; the oldest goes past KEEP.
 * @param {Kept} entry
 */
function keep(entry) {
  state.kept.push(entry);
  if (state.kept.length > KEEP) state.kept.shift();
  compare.show(state.kept);
}

/**
 * Shows a finished (or failed) run: charts, progress, summary.
 * @param {LiveRun} run
 */
function showRun(run) {
  state.shown = run;
  charts.reset();
  scheduleRender();
  if (run.report) summary.show(run, speedupFor(run));
  else if (run.failure) summary.showFailure(`The run could not finish: ${run.failure}`);
}

/**
 * Runs `settings` (default: the form's). Ignored while another run is going, so a
 * double click never starts two runs.
 * @param {Record<string, string>} [settings]
 * @param {{label?: string}} [options] how the compared runs name it
 */
async function run(settings = currentSettings(), { label } = {}) {
  if (state.running || state.unavailable || state.errors.length || !state.engine) return null;
  const pattern = state.pattern;
  const jobs = Number(settings.jobs ?? form.defaultOf('jobs'));
  const live = new LiveRun(settings, pattern, jobs, state.engine.threads);
  const controller = beginActivity('run');
  state.shown = live;
  charts.reset();
  summary.clear();
  progress.show(0, jobs, 'running');
  progress.showStages([]);
  engineView.showEngineError(null);
  updateRunState();
  const number = ++state.runCount;
  const engine = state.engine;
  let lastBatch = performance.now();
  const watchdog = setInterval(() => {
    // Hidden tabs may throttle the worker's timers: only judge a visible page.
    if (document.visibilityState === 'visible' && performance.now() - lastBatch > WATCHDOG_MS) {
      engine.terminate('engine crashed: it sent nothing for 10 s');
    }
  }, 1000);
  try {
    const handle = engine.start(settings, {
      signal: controller.signal,
      onProgress: (batch) => {
        lastBatch = performance.now();
        // For the start-up benchmark: when the page's first run first had a result.
        if (batch.counts.completed > 0 && !performance.getEntriesByName('scalelab:first-result').length)
          performance.mark('scalelab:first-result');
        live.apply(batch);
        scheduleRender();
      },
    });
    state.handle = handle;
    const report = await handle.report;
    live.finish(report);
    const workers = settings.workers ? ` · ${settings.workers} workers` : '';
    keep({
      label: label ?? `#${number} ${pattern.title}${workers} · ${settings.workload ?? 'primes'}`,
      settings,
      report,
    });
  } catch (err) {
    live.abandon(messageOf(err));
    state.running = null;
    state.activity = null;
    await recoverFrom(err);
  } finally {
    clearInterval(watchdog);
    state.handle = null;
    endActivity();
    // Live changes made during the run are the form's values now: check them again.
    scheduleValidation();
    syncLink();
  }
  if (state.shown === live) showRun(live);
  return live;
}

/** How long the engine may go without a progress batch during a run (they come every
 * 50 ms whatever the jobs do) before it is taken for stuck and replaced. */
const WATCHDOG_MS = 10_000;

/**
 * Replaces a crashed or stuck engine with a fresh worker and wasm instance. The page's
 * state — the form, earlier runs, the lab's results — lives here and is kept.
 * @param {string} reason
 */
async function replaceEngine(reason) {
  engineView.showEngineError(`${reason}. The engine was restarted; your settings and earlier runs are kept.`);
  state.engine?.terminate(reason);
  state.unavailable = 'Restarting the engine…';
  updateRunState();
  try {
    state.engine = await Engine.start();
    engineView.showEngine(state.engine.startup);
    state.unavailable = '';
    document.documentElement.dataset.restarts = String(Number(document.documentElement.dataset.restarts ?? 0) + 1);
  } catch (err) {
    state.unavailable = `The engine did not restart: ${messageOf(err)}`;
    engineView.showEngineError(state.unavailable);
  }
  updateRunState();
  await validate();
}

/**
 * Marks the engine busy with `activity`; the returned controller cancels it.
 * @param {'run' | 'sweep' | 'loadSweep' | 'pitfall'} activity
 */
function beginActivity(activity) {
  const controller = new AbortController();
  state.running = controller;
  state.activity = activity;
  return controller;
}

/** The engine is free again. */
function endActivity() {
  state.running = null;
  state.activity = null;
  updateRunState();
}

/**
 * After a failed call: if the engine died, replace it.
 * @param {unknown} err
 */
async function recoverFrom(err) {
  if (state.engine?.dead) await replaceEngine(state.engine.dead);
  else engineView.showEngineError(`The run could not finish: ${messageOf(err)}`);
}

/** Runs the shown set-up with one worker, then shows the original with its speedup. */
async function measureBaseline() {
  const original = state.shown;
  if (!original?.report) return;
  const baseline = await run(
    { ...original.settings, workers: '1' },
    { label: `baseline for ${original.pattern.title}: 1 worker` },
  );
  if (baseline?.report) showRun(original);
}

function cancel() {
  state.running?.abort('Cancel pressed');
}

// --- lab ------------------------------------------------------------------------------

/**
 * Runs a concurrency sweep of the form's set-up.
 * @param {Record<string, string>} values the sweep's settings
 */
async function runSweep(values) {
  const engine = state.engine;
  if (state.running || state.unavailable || state.errors.length || !engine) return;
  const controller = beginActivity('sweep');
  sweepView.clearErrors();
  updateRunState();
  sweepView.progress(0, 1, 'starting');
  try {
    const report = await engine.sweep(currentSettings(), values, {
      signal: controller.signal,
      onProgress: (p) =>
        sweepView.progress(
          p.done,
          p.total,
          `${p.step.curve} at ${p.step.workers} workers${p.step.warmup ? ' (warm-up)' : ''}`,
        ),
    });
    state.sweep = report;
    sweepView.progress(report.runsDone, report.runsTotal, report.cancelled ? 'cancelled' : 'done');
    sweepView.show(report);
  } catch (err) {
    sweepView.showError(messageOf(err));
    sweepView.progress(0, 1, engine.dead ? 'failed' : 'refused');
    if (engine.dead) {
      state.running = null;
      await recoverFrom(err);
    }
  } finally {
    endActivity();
  }
}

/**
 * Runs an offered-load sweep of the form's set-up.
 * @param {Record<string, string>} values the load sweep's settings
 */
async function runLoadSweep(values) {
  const engine = state.engine;
  if (state.running || state.unavailable || state.errors.length || !engine) return;
  const controller = beginActivity('loadSweep');
  loadSweepView.clearErrors();
  updateRunState();
  loadSweepView.progress(0, 1, 'measuring capacity');
  try {
    const report = await engine.loadSweep(currentSettings(), values, {
      signal: controller.signal,
      onProgress: (p) =>
        loadSweepView.progress(
          p.done,
          p.total,
          p.point
            ? `${p.point.load.toFixed(2)} × capacity: ${p.point.throughput.toFixed(0)} jobs/s, p99 ${p.point.p99Ms.toFixed(1)} ms`
            : `capacity ${p.capacity.toFixed(0)} jobs/s`,
        ),
    });
    state.loadSweep = report;
    loadSweepView.progress(report.runsDone, report.runsTotal, report.cancelled ? 'cancelled' : 'done');
    loadSweepView.show(report);
  } catch (err) {
    loadSweepView.showError(messageOf(err));
    loadSweepView.progress(0, 1, engine.dead ? 'failed' : 'refused');
    if (engine.dead) {
      state.running = null;
      await recoverFrom(err);
    }
  } finally {
    endActivity();
  }
}

/**
 * Runs one pitfall: its wrong and right runs, one after the other.
 * @param {string} id
 */
async function runPitfall(id) {
  const engine = state.engine;
  const pitfall = PITFALLS.find((p) => p.id === id);
  if (state.running || !engine || !pitfall) return;
  const runs = pitfall.runs(engine.threads);
  const controller = beginActivity('pitfall');
  updateRunState();
  /** @type {import('./pitfalls.js').PitfallResult[]} */
  const results = [];
  try {
    for (const r of runs) {
      pitfallsView.running(id, r.label);
      const signal = controller.signal;
      if (r.race) results.push(await engine.race(r.race));
      else if (r.program) results.push(await engine.pitfall(r.program, { signal }));
      else results.push(await engine.run(r.settings ?? {}, { signal }));
    }
    pitfallsView.show(id, runs, results);
  } catch (err) {
    pitfallsView.failed(id, `The comparison could not finish: ${messageOf(err)}`);
    state.running = null;
    await recoverFrom(err);
  } finally {
    endActivity();
  }
}

/** @param {import('../pkg/scalelab.js').SweepReport} report */
function sweepCsv(report) {
  const lines = ['curve,workload,cost,workers,repetition,throughput,median,efficiency'];
  for (const curve of report.curves) {
    for (const p of curve.points) {
      for (const [i, x] of p.throughputs.entries()) {
        lines.push([curve.curve, curve.workload, curve.cost, p.workers, i, x, p.median, p.efficiency].join(','));
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

// --- wiring ---------------------------------------------------------------------------

patternView.bindChange((id) => choosePattern(id));
form.bindInput(onInput);
form.bindRun(() => {
  if (state.errors.length) form.focusFirstError();
  else run();
});
form.bindCancel(cancel);
form.bindReset(() => {
  form.setValues(form.defaults());
  lastWorkload = form.values().workload;
  lastScaling = form.values().scaling;
  choosePattern(state.pattern.id, { preset: true });
});
summary.bindBaseline(measureBaseline);
sweepView.bindRun(runSweep);
sweepView.bindCancel(() => state.activity === 'sweep' && state.running?.abort('Cancel pressed'));
sweepView.bindExport(
  () =>
    state.sweep &&
    download(new Blob([JSON.stringify(state.sweep, null, 2)], { type: 'application/json' }), 'scalelab-sweep.json'),
  () => state.sweep && download(new Blob([sweepCsv(state.sweep)], { type: 'text/csv' }), 'scalelab-sweep.csv'),
);
loadSweepView.bindRun(runLoadSweep);
loadSweepView.bindCancel(() => state.activity === 'loadSweep' && state.running?.abort('Cancel pressed'));
loadSweepView.bindExport(
  () =>
    state.loadSweep &&
    download(
      new Blob([JSON.stringify(state.loadSweep, null, 2)], { type: 'application/json' }),
      'scalelab-load-sweep.json',
    ),
  () =>
    state.loadSweep &&
    download(new Blob([loadSweepCsv(state.loadSweep)], { type: 'text/csv' }), 'scalelab-load-sweep.csv'),
);
pitfallsView.bindRun(runPitfall);
compare.bindRemove((index) => {
  state.kept.splice(index, 1);
  compare.show(state.kept);
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && state.running) state.running.abort('Cancel pressed');
});
document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && scheduleRender());
exportJson.addEventListener('click', () => {
  const runNow = state.shown;
  if (!runNow?.report || !state.engine) return;
  download(
    new Blob([JSON.stringify(runToJson(runNow, state.engine.schema.exportFormat), null, 2)], {
      type: 'application/json',
    }),
    `${fileStem(runNow)}.json`,
  );
});
const importInput = byId('import-run', HTMLInputElement);
importInput.addEventListener('change', async () => {
  const input = importInput;
  const file = input.files?.[0];
  const status = byId('import-status');
  input.value = ''; // the same file may be chosen again
  if (!file) return;
  try {
    if (file.size > MAX_IMPORT_BYTES)
      throw new Error(`import ${file.name}: ${file.size} bytes; allowed: at most ${MAX_IMPORT_BYTES} bytes`);
    if (!state.engine) throw new Error(`import ${file.name}: the engine is not running yet`);
    const entry = await importRun(state.engine, await file.text(), file.name);
    keep(entry);
    status.className = 'import-status';
    status.textContent = `Added “${entry.label}” to the compared runs.`;
  } catch (err) {
    status.className = 'import-status error';
    status.textContent = messageOf(err);
  }
});
exportCsv.addEventListener('click', () => {
  const runNow = state.shown;
  if (!runNow?.report || !state.engine) return;
  download(new Blob([runToCsv(runNow)], { type: 'text/csv' }), `${fileStem(runNow)}.csv`);
});
exportTrace.addEventListener('click', () => {
  const runNow = state.shown;
  if (!runNow?.report) return;
  download(
    new Blob([JSON.stringify(toTraceEvents(runNow.report))], { type: 'application/json' }),
    `${fileStem(runNow)}.trace.json`,
  );
});
for (const button of document.querySelectorAll('button[data-png]')) {
  if (!(button instanceof HTMLButtonElement)) continue;
  button.addEventListener('click', async () => {
    const name = button.dataset.png ?? '';
    /** @type {Record<string, import('./views/chart.js').Chart>} */
    const lab = {
      compare: compare.chart,
      'sweep-throughput': sweepView.throughput,
      'sweep-efficiency': sweepView.efficiency,
      'load-sweep-throughput': loadSweepView.throughput,
      'load-sweep-latency': loadSweepView.latency,
    };
    const chart = lab[name] ?? charts.chart(name);
    const blob = await chart.png();
    download(blob, `scalelab-${name}.png`);
  });
}
byId('copy-link').addEventListener('click', async () => {
  const status = byId('copy-status');
  const url = new URL(writeLink(state.pattern.id, form.applicable(state.pattern)), location.href).href;
  try {
    await navigator.clipboard.writeText(url);
    status.textContent = 'Link copied.';
  } catch {
    status.textContent = `Copy this link: ${url}`;
  }
});

byId('show-go').addEventListener('click', async () => {
  const status = byId('copy-status');
  if (!state.engine) return;
  try {
    goView.show(await state.engine.goProgram(currentSettings()));
    status.textContent = '';
  } catch (error) {
    // Bad settings: the form shows each problem next to its field; say so here too.
    status.textContent = `No Go program for these settings: ${error instanceof Error ? error.message : String(error)}`;
  }
});

// --- start ----------------------------------------------------------------------------

/**
 * How a copy deployed with coi-serviceworker (dist/: its script is on the page) is
 * getting cross-origin isolation: `none` when it is not such a copy, or is isolated.
 * @param {boolean} isolated
 * @returns {'none' | 'installing' | 'unavailable' | 'failed'}
 */
function serviceWorkerState(isolated) {
  if (isolated || !document.querySelector('script[src$="coi-serviceworker.js"]')) return 'none';
  if (!globalThis.isSecureContext || !('serviceWorker' in navigator)) return 'unavailable';
  return navigator.serviceWorker.controller ? 'failed' : 'installing';
}

async function start() {
  patternView.select(state.pattern.id);
  const isolated = globalThis.crossOriginIsolated === true;
  engineView.showIsolation(isolated, serviceWorkerState(isolated));
  if (!isolated) {
    state.unavailable = 'Runs need threads, and this page is not cross-origin isolated (see the note above).';
    updateRunState();
    return;
  }
  updateRunState();
  try {
    state.engine = await Engine.start();
  } catch (err) {
    state.unavailable = `The engine did not start: ${messageOf(err)}`;
    engineView.showEngineError(state.unavailable);
    updateRunState();
    return;
  }
  engineView.showEngine(state.engine.startup);
  form.build(state.engine.schema);
  sweepView.buildFor(state.engine.schema.sweepFields, state.engine.threads);
  loadSweepView.build(state.engine.schema.loadSweepFields);

  // Set-up: defaults, then the link's pattern (with its preset), then the link's values.
  const link = readLink(location.search, [...form.fields.keys()]);
  form.setValues(form.defaults());
  choosePattern(link.pattern ?? 'pool', { preset: true });
  form.setValues(link.values);
  lastWorkload = form.values().workload;
  lastScaling = form.values().scaling;
  form.showFor(state.pattern);
  const problems = [];
  if (link.badPattern !== null) {
    problems.push(
      `pattern: ${link.badPattern.slice(0, 40)} is not one of the choices; allowed: ${PATTERNS.map((p) => p.id).join(', ')}`,
    );
  }
  if (Object.keys(link.unknown).length) {
    const errors = await state.engine.validate(link.unknown);
    problems.push(...errors.filter((e) => e.field in link.unknown || !form.fields.has(e.field)).map((e) => e.message));
  }
  engineView.showLinkProblems(problems);
  state.unavailable = '';
  await validate();
  compare.show(state.kept);
  document.documentElement.dataset.ready = 'true';
  performance.mark('scalelab:ready'); // for the start-up benchmark

  // The stack check, off the main thread like everything else.
  const t0 = performance.now();
  const result = await state.engine.selfTest({ limit: 10_000_000, chunks: 64 });
  engineView.showSelfTest(result, performance.now() - t0, PRIMES_BELOW_10M);
}

// Test hook (used by the end-to-end tests): crash the engine on purpose, to check that
// the page reports it, replaces the engine and keeps its state. It does something only
// with a test build of the engine (`./build.sh test`), and can only crash this page's
// own engine, which then restarts.
/** @type {{scalelabTestHooks?: {injectPanic: () => void}}} */ (globalThis).scalelabTestHooks = {
  injectPanic: () => state.engine?.worker.postMessage({ type: 'scalelab:inject-panic' }),
};

start().catch((err) => {
  engineView.showEngineError(`The page failed to start: ${messageOf(err)}`);
});
