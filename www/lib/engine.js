// scalelab's JavaScript API: starts the engine in a dedicated Web Worker and talks to it
// by messages, so the calling thread (usually a page's main thread) never blocks on
// pool work. Usable without scalelab's page:
//
//   import { Engine } from './lib/engine.js';
//   const engine = await Engine.start();             // threads = navigator.hardwareConcurrency
//   const controller = new AbortController();
//   const report = await engine.run(
//     { pattern: 'pool', workers: 8, jobs: 500, workload: 'primes' },
//     { signal: controller.signal, onProgress: (batch) => draw(batch) },
//   );
//
//   // Or steer it while it goes:
//   const run = engine.start({ pattern: 'pool', workers: 2, jobs: 100000, workload: 'spin', cost: 100 });
//   await run.resize(8);                     // grow now; run.resize(1, { stopNow: true }) to cut
//   const report = await run.report;
//
// Bad settings reject with an Error naming each field, its value and the allowed range,
// before anything starts. The page must be cross-origin isolated (COOP same-origin +
// COEP require-corp), or the browser refuses the shared memory threads need;
// `Engine.start` then throws an Error saying so.
//
// Types: RunSettings, Progress, RunReport, JobColumns, FieldError and EngineSchema are
// generated from the Rust types into ../pkg/scalelab.d.ts.

/**
 * A run's settings: the typed `RunSettings`, or the same as text (as a form or a link
 * holds them); either way the engine reads them as text and checks them.
 * @typedef {import('../pkg/scalelab.js').RunSettings | Record<string, string>} RunSettings
 */
/** @typedef {import('../pkg/scalelab.js').RunReport} RunReport */
/** @typedef {import('../pkg/scalelab.js').Progress} Progress */
/** @typedef {import('../pkg/scalelab.js').FieldError} FieldError */
/** @typedef {import('../pkg/scalelab.js').EngineSchema} EngineSchema */
/** @typedef {import('../pkg/scalelab.js').PitfallSettings} PitfallSettings */
/** @typedef {import('../pkg/scalelab.js').PitfallReport} PitfallReport */

import { outcomeName, useOutcomes } from './outcomes.js';

export { toTraceEvents } from './trace.js';

/**
 * How long the pool threads may take to start once wasm is loaded (normally well under
 * a second) before the engine worker is replaced, and how many engine workers are tried.
 * Firefox now and then never starts a nested pool worker (3 of 48 page loads on a busy
 * 2-core machine); a fresh engine worker starts.
 */
const POOL_START_TIMEOUT_MS = 10_000;
const START_ATTEMPTS = 3;

/** The pool of one engine worker did not start in time (retried with a new worker). */
class PoolStartTimeout extends Error {}

/** A running engine (one worker, one wasm instance, one rayon pool). */
export class Engine {
  /**
   * Starts the engine worker, loads the wasm module and starts its thread pool. If the
   * pool threads have not started `poolStartTimeoutMs` after wasm loaded, the engine
   * worker is replaced by a fresh one (up to 3 in all; `startAttempts` says how many).
   * @param {{threads?: number, poolStartTimeoutMs?: number, stallPoolStartsForTesting?: number}} [options]
   *   `threads`: pool size, default `navigator.hardwareConcurrency`;
   *   `stallPoolStartsForTesting`: in test builds only, the first n engine workers'
   *   pools never start (to test the replacement; a served page ignores it).
   * @returns {Promise<Engine>} resolves once the pool is running.
   */
  static async start({
    threads = navigator.hardwareConcurrency || 2,
    poolStartTimeoutMs = POOL_START_TIMEOUT_MS,
    stallPoolStartsForTesting = 0,
  } = {}) {
    if (!globalThis.crossOriginIsolated) {
      throw new Error(
        'scalelab needs a cross-origin isolated page (SharedArrayBuffer for wasm threads): ' +
          'serve it with "Cross-Origin-Opener-Policy: same-origin" and ' +
          '"Cross-Origin-Embedder-Policy: require-corp"',
      );
    }
    for (let attempt = 1; ; attempt++) {
      const worker = new Worker(new URL('./engine-worker.js', import.meta.url), { type: 'module' });
      const engine = new Engine(worker);
      try {
        const stall = attempt <= stallPoolStartsForTesting;
        engine.info = await engine.#startWorker(threads, poolStartTimeoutMs, stall);
        engine.startAttempts = attempt;
        return engine;
      } catch (error) {
        worker.terminate();
        if (!(error instanceof PoolStartTimeout)) throw error;
        if (attempt === START_ATTEMPTS) {
          throw new Error(
            `the engine's ${threads} pool threads did not start: ${START_ATTEMPTS} engine workers tried, ` +
              `${poolStartTimeoutMs / 1000} s each once wasm had loaded`,
          );
        }
      }
    }
  }

  /**
   * The engine's shared wasm memory and its abort table (for fast cancels).
   * @type {WebAssembly.Memory | null}
   */
  #memory = null;
  /**
   * Byte offsets of the abort table (src/engine/abort_slot.rs `Layout`).
   * @type {{ base: number, stride: number, state: number, kind: number, len: number,
   *   resize: number, reason: number, capacity: number, slots: number } | null}
   */
  #abortSlots = null;

  /** @param {Worker} worker */
  constructor(worker) {
    this.worker = worker;
    /** @type {Map<number, {resolve: Function, reject: Function, onProgress?: Function}>} */
    this.pending = new Map();
    this.nextId = 1;
    /** @type {{threads: number, wasmLoadMs: number, poolStartMs: number, schema: EngineSchema} | null} */
    this.info = null;
    /** Why the engine can no longer run anything (a crash), or null. Start a new one. */
    this.dead = null;
    /** Engine workers `start` tried before this one's pool started (1 = the first). */
    this.startAttempts = 1;
    this.worker.addEventListener('message', (event) => this.#onMessage(event.data));
    this.worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.#die(`engine crashed: ${event.message || 'the engine worker stopped'}`);
    });
  }

  /** The settings' labels, units, ranges and defaults (from the engine). */
  get schema() {
    if (!this.info) throw new Error('the engine has not started yet');
    return this.info.schema;
  }

  /** How the engine started: threads, wasm load and pool start times, the schema. */
  get startup() {
    if (!this.info) throw new Error('the engine has not started yet');
    return this.info;
  }

  /** Threads in the engine's pool. */
  get threads() {
    if (!this.info) throw new Error('the engine has not started yet');
    return this.info.threads;
  }

  /**
   * Runs a pattern. Rejects at once (nothing starts) if a setting is invalid.
   * @param {RunSettings} settings
   * @param {{signal?: AbortSignal, onProgress?: (batch: Progress) => void}} [options]
   *   `signal` cancels the run (its reason becomes the cause; `AbortSignal.timeout()`
   *   reads as a deadline); `onProgress` receives a batch about every 50 ms.
   * @returns {Promise<RunReport>} once every job is accounted for.
   */
  run(settings, options) {
    return this.start(settings, options).report;
  }

  /**
   * Starts a pattern and returns at once with a handle to steer it while it goes:
   * `resize(workers, {stopNow})` grows or shrinks its pool (0 pauses it; removed
   * workers finish their job, or with `stopNow` their jobs are cancelled),
   * `setRate(rate, burst)` changes a rate-limited run's limiter, and `report` resolves
   * once every job is accounted for. A change out of range rejects with an Error naming
   * the field, the value and the range, and the run goes on unchanged; a change after
   * the run has ended rejects saying so.
   * @param {RunSettings} settings
   * @param {{signal?: AbortSignal, onProgress?: (batch: Progress) => void}} [options]
   * @returns {RunHandle}
   */
  start(settings, { signal, onProgress } = {}) {
    const id = this.nextId++;
    const report = this.#cancellable({ type: 'scalelab:run', settings }, signal, onProgress, true, id);
    const slot = this.#slotOf(id, true);
    return new RunHandle(id, /** @type {Promise<RunReport>} */ (report), (message) => {
      // A resize also goes through the run's slot in shared memory, so a pool thread
      // applies it between two jobs without waiting for the engine's event loop; the
      // message (numbered the same) answers with any error, and is applied only once.
      if (message.type === 'scalelab:resize' && slot !== undefined)
        this.#resizeThroughMemory(slot, id, message.seq, message.workers, message.stopNow);
      return this.#request(message);
    });
  }

  /**
   * Runs one of the lab's pitfall programs (`program`: unbounded, pool, never-closes,
   * consumers-stop, closes, ignores-context, checks-context; and its work).
   * @param {PitfallSettings | Record<string, string>} settings
   * @param {{signal?: AbortSignal}} [options]
   * @returns {Promise<PitfallReport>}
   */
  pitfall(settings, { signal } = {}) {
    return this.#cancellable({ type: 'scalelab:pitfall', settings }, signal, undefined);
  }

  /**
   * A concurrency sweep: `settings` as a worker pool at every worker count from 1 to
   * `sweep.maxWorkers` (default twice the threads), `sweep.repetitions` runs each, for
   * `sweep.curves` (`cpu`, `io` or `both`), with the Universal Scalability Law fitted.
   * @param {RunSettings} settings
   * @param {import('../pkg/scalelab.js').SweepSettings | Record<string, string>} sweep
   * @param {{signal?: AbortSignal, onProgress?: (step: import('../pkg/scalelab.js').SweepProgress) => void}} [options]
   * @returns {Promise<import('../pkg/scalelab.js').SweepReport>} the sweep report (partial if cancelled)
   */
  sweep(settings, sweep, { signal, onProgress } = {}) {
    return this.#cancellable({ type: 'scalelab:sweep', settings, sweep }, signal, onProgress);
  }

  /**
   * An offered-load sweep (the hockey stick): `settings`' capacity is measured in a
   * closed loop, then an open-loop generator offers `loadSweep.from`…`to` times it in
   * `loadSweep.steps` runs of `loadSweep.stepMs` each.
   * @param {RunSettings} settings
   * @param {import('../pkg/scalelab.js').LoadSweepSettings | Record<string, string>} loadSweep
   * @param {{signal?: AbortSignal, onProgress?: (step: import('../pkg/scalelab.js').LoadSweepProgress) => void}} [options]
   * @returns {Promise<import('../pkg/scalelab.js').LoadSweepReport>} the report (partial if cancelled)
   */
  loadSweep(settings, loadSweep, { signal, onProgress } = {}) {
    return this.#cancellable({ type: 'scalelab:load-sweep', settings, loadSweep }, signal, onProgress);
  }

  /**
   * The shared-counter pitfall: every pool thread adds `increments` to one counter,
   * atomically or (`racy`) with a separate load and store.
   * @param {{increments: number, racy: boolean}} args
   * @returns {Promise<import('../pkg/scalelab.js').RaceResult>}
   */
  race({ increments, racy }) {
    return this.#request({ type: 'scalelab:race', increments, racy });
  }

  /**
   * Sends a command that a signal may cancel; resolves to its result.
   * @param {object} message
   * @param {AbortSignal | undefined} signal
   * @param {Function | undefined} onProgress
   * @param {boolean} [viaMemory] also cancel through the shared-memory abort table
   * @param {number} [id] the request's id (default: the next one)
   * @returns {Promise<any>}
   */
  #cancellable(message, signal, onProgress, viaMemory = false, id = this.nextId++) {
    if (this.dead) return Promise.reject(new Error(this.dead));
    const done = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, onProgress }));
    const abortSlot = this.#slotOf(id, viaMemory);
    this.worker.postMessage({ ...message, id, abortSlot });
    if (signal) {
      const cancel = () => {
        const reason = {
          name: signal.reason?.name ?? 'AbortError',
          message: String(signal.reason?.message ?? signal.reason ?? 'canceled'),
        };
        // Both ways: through memory the pool threads see it on their next poll; the
        // message covers a run not yet started (and whatever polls no slot).
        if (abortSlot !== undefined) this.#abortThroughMemory(abortSlot, id, reason);
        this.worker.postMessage({ type: 'scalelab:cancel', id, reason });
      };
      if (signal.aborted) cancel();
      else {
        signal.addEventListener('abort', cancel, { once: true });
        done.finally(() => signal.removeEventListener('abort', cancel)).catch(() => {});
      }
    }
    return done;
  }

  /**
   * The abort-table slot of request `id` (the engine runs one run at a time, so slot
   * `id mod slots` is never shared), or undefined without shared memory.
   * @param {number} id
   * @param {boolean} viaMemory
   */
  #slotOf(id, viaMemory) {
    return viaMemory && this.#abortSlots && id <= 0x7fffffff ? id % this.#abortSlots.slots : undefined;
  }

  /**
   * Writes a resize request into run `id`'s slot (protocol: src/engine/abort_slot.rs,
   * invariant 4). Does nothing unless the slot is armed for the run and `workers` is a
   * whole number the word can hold (any other value is refused by the message).
   * @param {number} slot
   * @param {number} id
   * @param {number} seq 1–65535
   * @param {unknown} workers
   * @param {boolean} stopNow
   */
  #resizeThroughMemory(slot, id, seq, workers, stopNow) {
    const layout = this.#abortSlots;
    if (!layout || !this.#memory) return;
    if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 0 || workers > 0x7fffffff) return;
    const buffer = this.#memory.buffer; // read each time: the memory may have grown
    const at = layout.base + slot * layout.stride;
    if (Atomics.load(new Int32Array(buffer), (at + layout.state) >> 2) !== id) return; // not armed, or over
    const word =
      (BigInt(id & 0xffff) << 48n) | (BigInt(seq & 0xffff) << 32n) | (stopNow ? 1n << 31n : 0n) | BigInt(workers);
    Atomics.store(new BigInt64Array(buffer), (at + layout.resize) >> 3, BigInt.asIntN(64, word));
  }

  /**
   * Checks settings without running anything.
   * @param {RunSettings} settings
   * @returns {Promise<FieldError[]>} empty when the settings are valid.
   */
  validate(settings) {
    return this.#request({ type: 'scalelab:validate', settings });
  }

  /**
   * The M/M/c queue (Erlang C): Poisson arrivals at `lambda`, exponential service at
   * `mu` per server, `c` servers; `null` when unstable.
   * @param {number} lambda
   * @param {number} mu
   * @param {number} c
   * @returns {Promise<import('../pkg/scalelab.js').MmcQueue | null>}
   */
  mmc(lambda, mu, c) {
    return this.#request({ type: 'scalelab:mmc', lambda, mu, c });
  }

  /**
   * The Go program of a set-up: a complete, runnable `main.go` (Go's goroutines,
   * channels, errgroup, x/time/rate) that plans the same jobs from the same seed and
   * prints the summary's accounting line last (`accounting: submitted=N … checksum=X`,
   * X = the report's `resultChecksum`). Rejects, like `run`, with an `Error` naming the
   * field, the value and what is allowed when a setting is bad.
   * @param {RunSettings} settings
   * @returns {Promise<import('../pkg/scalelab.js').GoProgram>} `{source, notes, modules}`
   */
  goProgram(settings) {
    return this.#request({ type: 'scalelab:go-program', settings });
  }

  /**
   * Reads a run exported by the page ("Export run as JSON"), checked by the engine:
   * every figure the comparison uses, and the settings by the same parser as a run's.
   * @param {string} content the file's text
   * @param {string} fileName labels the run
   * @returns {Promise<import('../pkg/scalelab.js').RunImport>} `{run, errors}`: `errors`
   *   lists every problem (`FieldError[]`); `run` is set when there is none
   */
  readRunExport(content, fileName) {
    return this.#request({ type: 'scalelab:read-export', content, fileName });
  }

  /**
   * Counts the primes below `limit` in `chunks` parallel pieces: a check that the
   * threads work and agree (pi(10^7) = 664579).
   * @param {{limit: number, chunks: number}} args
   * @returns {Promise<import('../pkg/scalelab.js').ParallelPrimeCount>}
   */
  selfTest({ limit, chunks }) {
    return this.#request({ type: 'scalelab:selftest', limit, chunks });
  }

  /**
   * Stops the worker (and with it the wasm instance and its pool); pending calls reject
   * with `reason`.
   * @param {string} [reason]
   */
  terminate(reason = 'engine terminated') {
    this.worker.terminate();
    this.#die(reason);
  }

  /**
   * Requests an abort of run `id` by writing to its slot of the engine's shared memory
   * (protocol: src/engine/abort_slot.rs). Does nothing unless the slot is armed for it.
   */
  /**
   * @param {number} slot
   * @param {number} id
   * @param {{ name: string, message: string }} reason
   */
  #abortThroughMemory(slot, id, { name, message }) {
    const layout = this.#abortSlots;
    if (!layout || !this.#memory) return;
    const buffer = this.#memory.buffer; // read each time: the memory may have grown
    const at = layout.base + slot * layout.stride;
    const words = new Int32Array(buffer);
    if (Atomics.load(words, (at + layout.state) >> 2) !== id) return; // not armed yet, or over
    const bytes = utf8Prefix(message, layout.capacity);
    new Uint8Array(buffer, at + layout.reason, bytes.length).set(bytes);
    Atomics.store(words, (at + layout.len) >> 2, bytes.length);
    Atomics.store(words, (at + layout.kind) >> 2, name === 'TimeoutError' ? 2 : 1);
    Atomics.compareExchange(words, (at + layout.state) >> 2, id, -id);
  }

  /**
   * @param {number} threads
   * @param {number} poolStartTimeoutMs
   * @param {boolean} stall test builds: this worker's pool never starts
   * @returns {Promise<any>}
   */
  #startWorker(threads, poolStartTimeoutMs, stall) {
    return new Promise((resolve, reject) => {
      /** @type {ReturnType<typeof setTimeout> | undefined} */
      let watchdog;
      /** @param {MessageEvent} event */
      const onMessage = (event) => {
        const msg = event.data;
        if (msg?.type === 'scalelab:starting-pool') {
          watchdog = setTimeout(() => {
            this.worker.removeEventListener('message', onMessage);
            reject(new PoolStartTimeout(`pool threads not started within ${poolStartTimeoutMs} ms`));
          }, poolStartTimeoutMs);
        } else if (msg?.type === 'scalelab:ready') {
          clearTimeout(watchdog);
          this.worker.removeEventListener('message', onMessage);
          const { memory, abortSlots, ...info } = msg;
          useOutcomes(info.schema.outcomes);
          if (memory?.buffer instanceof SharedArrayBuffer && abortSlots) {
            this.#memory = memory;
            this.#abortSlots = abortSlots;
          }
          resolve(info);
        } else if (msg?.type === 'scalelab:error' && msg.id === null) {
          clearTimeout(watchdog);
          this.worker.removeEventListener('message', onMessage);
          reject(new Error(msg.message));
        }
      };
      this.worker.addEventListener('message', onMessage);
      this.worker.addEventListener('error', (e) => reject(new Error(`engine worker failed to load: ${e.message}`)), {
        once: true,
      });
      this.worker.postMessage({ type: 'scalelab:start', threads, stall });
    });
  }

  /**
   * Sends a command; resolves to its result.
   * @param {object} message
   * @returns {Promise<any>}
   */
  #request(message) {
    if (this.dead) return Promise.reject(new Error(this.dead));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id });
    });
  }

  /** @param {string} message */
  #die(message) {
    if (this.dead) return;
    this.dead = message;
    this.#failAll(message);
  }

  /** @param {any} msg a message from the engine worker */
  #onMessage(msg) {
    if (!msg || typeof msg.type !== 'string') return;
    if (msg.type === 'scalelab:crashed') {
      this.#die(msg.message);
      return;
    }
    const waiter = this.pending.get(msg.id);
    if (!waiter) return;
    if (msg.type === 'scalelab:progress') {
      try {
        waiter.onProgress?.(msg.batch);
      } catch (err) {
        console.error('onProgress threw:', err);
      }
      return;
    }
    this.pending.delete(msg.id);
    if (msg.type === 'scalelab:result') waiter.resolve(msg.value);
    else if (msg.type === 'scalelab:error') {
      waiter.reject(new Error(msg.message));
      // A run that ended because a pool thread died leaves a pool that cannot be trusted.
      if (msg.message.startsWith('engine crashed')) this.#die(msg.message);
    }
  }

  /** @param {string} message */
  #failAll(message) {
    for (const { reject } of this.pending.values()) reject(new Error(message));
    this.pending.clear();
  }
}

/** A run in progress (see `Engine.start`). */
export class RunHandle {
  /**
   * @param {number} id the run's request id
   * @param {Promise<RunReport>} report
   * @param {(message: any) => Promise<any>} request sends a command to the engine
   */
  constructor(id, report, request) {
    this.id = id;
    /** Resolves to the report once every job is accounted for. */
    this.report = report;
    this.#request = request;
  }

  /** @type {(message: any) => Promise<any>} */
  #request;

  /** The last resize request's number. */
  #seq = 0;

  /**
   * Resizes the pool to `workers` (0 pauses it).
   * @param {number} workers
   * @param {{stopNow?: boolean}} [options] cancel the removed workers' jobs instead of
   *   letting them finish
   * @returns {Promise<void>} rejects with the field, value and range if refused
   */
  resize(workers, { stopNow = false } = {}) {
    // Numbered 1–65535 (wrapping): the engine applies each number once, never an older
    // one after a newer.
    this.#seq = (this.#seq % 0xffff) + 1;
    return this.#request({ type: 'scalelab:resize', runId: this.id, workers, stopNow, seq: this.#seq });
  }

  /**
   * Changes a rate-limited run's rate (jobs/s) and, if given, its burst.
   * @param {number} rate
   * @param {number} [burst]
   * @returns {Promise<void>}
   */
  setRate(rate, burst) {
    return this.#request({ type: 'scalelab:set-rate', runId: this.id, rate, burst });
  }
}

/**
 * The longest prefix of `text` in at most `capacity` bytes of UTF-8.
 * @param {string} text
 * @param {number} capacity
 */
function utf8Prefix(text, capacity) {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= capacity) return bytes;
  let cut = capacity;
  while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut--; // not inside a character
  return bytes.subarray(0, cut);
}

/**
 * Job columns as an array of plain objects (convenient for small runs). Outcome names
 * come from the table of the engine that ran them.
 * @param {import('../pkg/scalelab.js').JobColumns} jobs
 */
export function jobRecords(jobs) {
  const errors = new Map(jobs.errors);
  const num = (/** @type {number} */ v) => (Number.isNaN(v) ? null : v);
  return Array.from({ length: jobs.length }, (_, i) => ({
    id: jobs.id[i],
    worker: jobs.worker[i] < 0 ? null : jobs.worker[i],
    thread: jobs.thread[i] < 0 ? null : jobs.thread[i],
    cost: jobs.cost[i],
    intendedMs: num(jobs.intendedMs[i]),
    queuedMs: num(jobs.queuedMs[i]),
    startedMs: num(jobs.startedMs[i]),
    finishedMs: num(jobs.finishedMs[i]),
    outcome: outcomeName(jobs.outcome[i]),
    result: num(jobs.result[i]),
    error: errors.get(jobs.id[i]) ?? null,
  }));
}
