// The engine's dedicated Web Worker: loads the wasm module, starts the shared-memory
// rayon pool (more Web Workers) and answers the page's commands. The page never runs
// pool work itself; it only posts commands here and receives events.
//
// Protocol (every message type carries the `scalelab:` prefix):
//   page -> worker  {type: 'scalelab:start', threads}
//                   {type: 'scalelab:selftest', id, limit, chunks}
//   worker -> page  {type: 'scalelab:ready', threads, wasmLoadMs, poolStartMs}
//                   {type: 'scalelab:result', id, value}
//                   {type: 'scalelab:error', id, message}   (id null: engine-level failure)

import init, { initThreadPool, parallelPrimeCount } from '../pkg/scalelab.js';

let started = null;

/** Loads wasm and starts the pool once; later calls return the same promise. */
function start(threads) {
  if (!started) {
    started = (async () => {
      const t0 = performance.now();
      await init();
      const t1 = performance.now();
      await initThreadPool(threads);
      const t2 = performance.now();
      return { threads, wasmLoadMs: t1 - t0, poolStartMs: t2 - t1 };
    })();
  }
  return started;
}

/** Command handlers: each returns (a promise of) the value sent back. */
const handlers = {
  'scalelab:selftest': ({ limit, chunks }) => parallelPrimeCount(limit, chunks),
};

self.addEventListener('message', async (event) => {
  const msg = event.data;
  if (!msg || typeof msg.type !== 'string' || !msg.type.startsWith('scalelab:')) return;
  if (msg.type === 'scalelab:start') {
    try {
      self.postMessage({ type: 'scalelab:ready', ...(await start(msg.threads)) });
    } catch (err) {
      self.postMessage({ type: 'scalelab:error', id: null, message: String(err?.message ?? err) });
    }
    return;
  }
  const handler = handlers[msg.type];
  if (!handler) {
    self.postMessage({ type: 'scalelab:error', id: msg.id ?? null, message: `unknown command ${msg.type}` });
    return;
  }
  try {
    await started;
    const value = await handler(msg);
    self.postMessage({ type: 'scalelab:result', id: msg.id, value });
  } catch (err) {
    self.postMessage({ type: 'scalelab:error', id: msg.id, message: String(err?.message ?? err) });
  }
});
