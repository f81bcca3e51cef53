// scalelab's JavaScript API: starts the engine in a dedicated Web Worker and talks to it
// by messages, so the calling thread (usually a page's main thread) never blocks on
// pool work. Usable without scalelab's page:
//
//   import { Engine } from './lib/engine.js';
//   const engine = await Engine.start();           // threads = navigator.hardwareConcurrency
//   const r = await engine.selfTest({ limit: 1e7, chunks: 64 });
//
// The page must be cross-origin isolated (COOP same-origin + COEP require-corp), or the
// browser refuses the shared memory that the threads need; `Engine.start` then throws
// an Error saying so.

/** A running engine (one worker, one wasm instance, one rayon pool). */
export class Engine {
  /**
   * Starts the engine worker, loads the wasm module and starts its thread pool.
   * @param {{threads?: number}} [options] pool size; default `navigator.hardwareConcurrency`.
   * @returns {Promise<Engine>} resolves once the pool is running.
   */
  static async start({ threads = navigator.hardwareConcurrency || 2 } = {}) {
    if (!globalThis.crossOriginIsolated) {
      throw new Error(
        'scalelab needs a cross-origin isolated page (SharedArrayBuffer for wasm threads): ' +
          'serve it with "Cross-Origin-Opener-Policy: same-origin" and ' +
          '"Cross-Origin-Embedder-Policy: require-corp"',
      );
    }
    const worker = new Worker(new URL('./engine-worker.js', import.meta.url), { type: 'module' });
    const engine = new Engine(worker);
    engine.info = await engine.#startWorker(threads);
    return engine;
  }

  /** @param {Worker} worker */
  constructor(worker) {
    this.worker = worker;
    /** @type {Map<number, {resolve: Function, reject: Function}>} */
    this.pending = new Map();
    this.nextId = 1;
    /** @type {{threads: number, wasmLoadMs: number, poolStartMs: number} | null} */
    this.info = null;
    this.worker.addEventListener('message', (event) => this.#onMessage(event.data));
    this.worker.addEventListener('error', (event) => this.#failAll(`engine worker error: ${event.message}`));
  }

  /**
   * Counts the primes below `limit` in `chunks` parallel pieces: a check that the
   * threads work and agree (pi(10^7) = 664579).
   * @param {{limit: number, chunks: number}} args
   * @returns {Promise<{limit: number, primes: number, chunksPerThread: number[]}>}
   */
  selfTest({ limit, chunks }) {
    return this.#request({ type: 'scalelab:selftest', limit, chunks });
  }

  /** Stops the worker (and with it the wasm instance and its pool). */
  terminate() {
    this.worker.terminate();
    this.#failAll('engine terminated');
  }

  #startWorker(threads) {
    return new Promise((resolve, reject) => {
      const onMessage = (event) => {
        const msg = event.data;
        if (msg?.type === 'scalelab:ready') {
          this.worker.removeEventListener('message', onMessage);
          resolve(msg);
        } else if (msg?.type === 'scalelab:error' && msg.id === null) {
          this.worker.removeEventListener('message', onMessage);
          reject(new Error(msg.message));
        }
      };
      this.worker.addEventListener('message', onMessage);
      this.worker.addEventListener('error', (e) => reject(new Error(`engine worker failed to load: ${e.message}`)), { once: true });
      this.worker.postMessage({ type: 'scalelab:start', threads });
    });
  }

  #request(message) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id });
    });
  }

  #onMessage(msg) {
    if (!msg || typeof msg.type !== 'string') return;
    const waiter = this.pending.get(msg.id);
    if (!waiter) return;
    this.pending.delete(msg.id);
    if (msg.type === 'scalelab:result') waiter.resolve(msg.value);
    else if (msg.type === 'scalelab:error') waiter.reject(new Error(msg.message));
  }

  #failAll(message) {
    for (const { reject } of this.pending.values()) reject(new Error(message));
    this.pending.clear();
  }
}
