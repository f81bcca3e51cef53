// The engine's dedicated Web Worker: loads the wasm module, starts the shared-memory
// rayon pool (more Web Workers) and runs the page's commands. The page never runs pool
// work itself; it posts commands here and receives events. This worker's own event
// loop stays free during a run (the coordinator is async), so Cancel is handled at once.
//
// Protocol (every message type carries the `scalelab:` prefix; `id` pairs requests
// with their answers):
//   page -> worker  {type: 'scalelab:start', threads, stall}   (stall: test builds only)
//                   {type: 'scalelab:run', id, settings, abortSlot}
//                   {type: 'scalelab:resize', id, runId, workers, stopNow, seq}   (while run runId goes)
//                   {type: 'scalelab:set-rate', id, runId, rate, burst}
//                   {type: 'scalelab:cancel', id, reason: {name, message}}
//                   {type: 'scalelab:sweep', id, settings, sweep}
//                   {type: 'scalelab:load-sweep', id, settings, loadSweep}
//                   {type: 'scalelab:pitfall', id, settings}
//                   {type: 'scalelab:race', id, increments, racy}
//                   {type: 'scalelab:validate', id, settings}
//                   {type: 'scalelab:mmc', id, lambda, mu, c}
//                   {type: 'scalelab:go-program', id, settings}
//                   {type: 'scalelab:selftest', id, limit, chunks}
//                   {type: 'scalelab:inject-panic'}          (test-only: the next CPU job panics)
//   worker -> page  {type: 'scalelab:starting-pool'}          (wasm loaded; the pool threads start)
//                   {type: 'scalelab:ready', threads, wasmLoadMs, poolStartMs, schema,
//                    memory, abortSlots}   (the shared wasm memory and where its abort
//                    table lies: the page cancels a run by writing there, see engine.js)
//                   {type: 'scalelab:crashed', message}       (a pool thread died: replace this engine)
//                   {type: 'scalelab:progress', id, batch}     (while a run or sweep goes)
//                   {type: 'scalelab:result', id, value}
//                   {type: 'scalelab:error', id, message}      (id null: engine-level failure)

import * as pkg from '../pkg/scalelab.js';
import init, {
  abortSlotLayout,
  engineSchema,
  goProgram,
  initThreadPool,
  parallelPrimeCount,
  queueingMmc,
  RunControl,
  raceCounter,
  readRunExport,
  runLoadSweep,
  runPattern,
  runPitfall,
  runSweep,
  validateConfig,
} from '../pkg/scalelab.js';

/**
 * What `scalelab:ready` reports once wasm is loaded and the pool runs.
 * @typedef {{ threads: number, wasmLoadMs: number, poolStartMs: number,
 *   schema: import('../pkg/scalelab.js').EngineSchema,
 *   memory: WebAssembly.Memory, abortSlots: unknown }} Started
 */

/** @type {Promise<Started> | null} */
let started = null;
/**
 * This worker's global scope, typed as a dedicated worker's (the page's DOM types are
 * in scope for the rest of lib/).
 * @type {{ postMessage(message: unknown, transfer?: Transferable[]): void,
 *   addEventListener: typeof globalThis.addEventListener }}
 */
const scope = /** @type {any} */ (self);
/** @type {Map<number, AbortController>} runs, sweeps and programs in progress, by request id */
const runs = new Map();
/** @type {Map<number, RunControl>} the controls of runs in progress, by request id */
const controls = new Map();

/** What a control call says once its run has ended (as the engine says it). */
const ENDED = 'the run has ended: resize and setRate only change a run while it goes';

/**
 * The control of run `runId`, or an Error saying the run is over.
 * @param {number} runId
 */
function controlOf(runId) {
  const control = controls.get(runId);
  if (!control) throw new Error(ENDED);
  return control;
}

/**
 * Loads wasm and starts the pool once; later calls return the same promise.
 * @param {number} threads
 * @param {boolean} stall in a test build (feature `test-hooks`), never start the pool:
 *   what the page's watchdog must recover from (see `Engine.start`)
 * @returns {Promise<Started>}
 */
function start(threads, stall) {
  if (!started) {
    started = (async () => {
      const t0 = performance.now();
      const wasm = await init();
      const t1 = performance.now();
      scope.postMessage({ type: 'scalelab:starting-pool' });
      if (stall && 'injectPanicForTesting' in pkg) await new Promise(() => {});
      await initThreadPool(threads);
      const t2 = performance.now();
      return {
        threads,
        wasmLoadMs: t1 - t0,
        poolStartMs: t2 - t1,
        schema: engineSchema(),
        memory: wasm.memory,
        abortSlots: abortSlotLayout(),
      };
    })();
  }
  return started;
}

/**
 * The buffers of a JobColumns object, to transfer instead of copy.
 * @param {object | undefined} jobs
 * @returns {ArrayBuffer[]}
 */
function transferablesOf(jobs) {
  return jobs
    ? Object.values(jobs)
        .filter(ArrayBuffer.isView)
        .map((a) => /** @type {ArrayBuffer} */ (a.buffer))
    : [];
}

/**
 * Rebuilds an abort reason sent as {name, message}: timeouts stay timeouts.
 * @param {{ name?: string, message?: string } | undefined} reason
 */
function reasonFrom(reason) {
  if (reason?.name === 'TimeoutError') return new DOMException(reason.message, 'TimeoutError');
  return reason?.message ?? 'canceled';
}

/**
 * @param {{ id: number, settings: import('../pkg/scalelab.js').RunSettings, abortSlot?: number }} msg
 */
async function runCommand({ id, settings, abortSlot }) {
  const controller = new AbortController();
  const control = new RunControl();
  runs.set(id, controller);
  controls.set(id, control);
  try {
    const report = await runPattern(
      settings,
      controller.signal,
      (batch) => {
        scope.postMessage({ type: 'scalelab:progress', id, batch }, transferablesOf(batch.jobs));
      },
      abortSlot,
      abortSlot === undefined ? undefined : id,
      control.share(),
    );
    return { value: report, transfer: transferablesOf(report.jobs) };
  } finally {
    runs.delete(id);
    controls.delete(id);
    control.free();
  }
}

/**
 * Runs a cancellable lab command as request `id`: `start` gets the signal that a
 * `scalelab:cancel` for `id` aborts, and a progress callback that streams to the page.
 * @param {number} id
 * @param {(signal: AbortSignal, progress: (batch: unknown) => void) => Promise<unknown>} start
 */
async function cancellable(id, start) {
  const controller = new AbortController();
  runs.set(id, controller);
  try {
    const value = await start(controller.signal, (batch) => {
      scope.postMessage({ type: 'scalelab:progress', id, batch });
    });
    return { value };
  } finally {
    runs.delete(id);
  }
}

/** @param {{ id: number, settings: import('../pkg/scalelab.js').PitfallSettings }} msg */
const pitfallCommand = ({ id, settings }) => cancellable(id, (signal) => runPitfall(settings, signal));

/** @param {{ id: number, settings: import('../pkg/scalelab.js').RunSettings, sweep: Record<string, string | number> }} msg */
const sweepCommand = ({ id, settings, sweep }) =>
  cancellable(id, (signal, progress) => runSweep(settings, sweep, signal, progress));

/** @param {{ id: number, settings: import('../pkg/scalelab.js').RunSettings, loadSweep: Record<string, string | number> }} msg */
const loadSweepCommand = ({ id, settings, loadSweep }) =>
  cancellable(id, (signal, progress) => runLoadSweep(settings, loadSweep, signal, progress));

/**
 * Command handlers: each resolves to {value, transfer?}.
 * @type {Record<string, (msg: any) => Promise<{ value: unknown, transfer?: ArrayBuffer[] }>>}
 */
const handlers = {
  'scalelab:run': runCommand,
  'scalelab:resize': async ({ runId, workers, stopNow, seq }) => ({
    value: controlOf(runId).resize(workers, Boolean(stopNow), seq),
  }),
  'scalelab:set-rate': async ({ runId, rate, burst }) => ({ value: controlOf(runId).setRate(rate, burst) }),
  'scalelab:sweep': sweepCommand,
  'scalelab:load-sweep': loadSweepCommand,
  'scalelab:pitfall': pitfallCommand,
  'scalelab:race': async ({ increments, racy }) => ({ value: await raceCounter(increments, racy) }),
  'scalelab:validate': async ({ settings }) => ({ value: validateConfig(settings) }),
  'scalelab:mmc': async ({ lambda, mu, c }) => ({ value: queueingMmc(lambda, mu, c) }),
  'scalelab:go-program': async ({ settings }) => ({ value: goProgram(settings) }),
  'scalelab:read-export': async ({ content, fileName }) => ({ value: readRunExport(content, fileName) }),
  'scalelab:selftest': async ({ limit, chunks }) => ({ value: await parallelPrimeCount(limit, chunks) }),
};

// A pool thread that panics traps, and its Web Worker's error bubbles up here. Report
// it once, as a crash the page can act on, instead of letting it surface as an
// uncaught error; the run in progress also ends with the panic's message.
let crashReported = false;
scope.addEventListener('error', (event) => {
  event.preventDefault();
  if (crashReported) return;
  crashReported = true;
  scope.postMessage({
    type: 'scalelab:crashed',
    message: `engine crashed: ${event.message || 'a pool thread stopped'}`,
  });
});

scope.addEventListener('message', async (event) => {
  const msg = event.data;
  if (!msg || typeof msg.type !== 'string' || !msg.type.startsWith('scalelab:')) return;
  if (msg.type === 'scalelab:start') {
    try {
      scope.postMessage({ type: 'scalelab:ready', ...(await start(msg.threads, msg.stall === true)) });
    } catch (err) {
      scope.postMessage({
        type: 'scalelab:error',
        id: null,
        message: String(/** @type {Error} */ (err)?.message ?? err),
      });
    }
    return;
  }
  if (msg.type === 'scalelab:inject-panic') {
    // Only a test build of the module (`./build.sh test`: feature `test-hooks`) has it.
    const inject = /** @type {{injectPanicForTesting?: () => void}} */ (pkg).injectPanicForTesting;
    if (inject) inject();
    else console.warn('scalelab: fault injection is only in test builds (./build.sh test)');
    return;
  }
  if (msg.type === 'scalelab:cancel') {
    runs.get(msg.id)?.abort(reasonFrom(msg.reason));
    return;
  }
  const handler = handlers[msg.type];
  if (!handler) {
    scope.postMessage({ type: 'scalelab:error', id: msg.id ?? null, message: `unknown command ${msg.type}` });
    return;
  }
  try {
    await started;
    const { value, transfer = [] } = await handler(msg);
    scope.postMessage({ type: 'scalelab:result', id: msg.id, value }, transfer);
  } catch (err) {
    scope.postMessage({
      type: 'scalelab:error',
      id: msg.id,
      message: String(/** @type {Error} */ (err)?.message ?? err),
    });
  }
});
