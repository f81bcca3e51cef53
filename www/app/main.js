// Wiring for the page: starts the engine and shows what the stack can do.

import { Engine } from '../lib/engine.js';

/** Known answer: the number of primes below 10^7. */
const PRIMES_BELOW_10M = 664579;

const $ = (id) => document.getElementById(id);

async function main() {
  $('fact-isolated').textContent = String(globalThis.crossOriginIsolated === true);
  if (!globalThis.crossOriginIsolated) {
    const warning = $('isolation-warning');
    warning.hidden = false;
    warning.textContent =
      'This page is not cross-origin isolated, so the browser withholds SharedArrayBuffer and wasm ' +
      'threads cannot start. Serve it with "Cross-Origin-Opener-Policy: same-origin" and ' +
      '"Cross-Origin-Embedder-Policy: require-corp" (./build.sh serve does).';
    return;
  }
  const engine = await Engine.start();
  $('fact-threads').textContent = String(engine.info.threads);
  $('fact-startup').textContent = `${engine.info.poolStartMs.toFixed(0)} ms (wasm load ${engine.info.wasmLoadMs.toFixed(0)} ms)`;
  const t0 = performance.now();
  const result = await engine.selfTest({ limit: 10_000_000, chunks: 64 });
  const ms = performance.now() - t0;
  const correct = result.primes === PRIMES_BELOW_10M;
  const selftest = $('fact-selftest');
  selftest.textContent = `${result.primes} primes in ${ms.toFixed(0)} ms — ${correct ? 'correct' : `WRONG (expected ${PRIMES_BELOW_10M})`}`;
  selftest.className = correct ? 'ok' : 'bad';
  selftest.dataset.primes = String(result.primes);
  const spread = $('fact-spread');
  spread.textContent = result.chunksPerThread.map((n, i) => `thread ${i}: ${n}`).join(', ');
  spread.dataset.threadsUsed = String(result.chunksPerThread.filter((n) => n > 0).length);
}

main().catch((err) => {
  const selftest = $('fact-selftest');
  selftest.textContent = `engine failed: ${err.message}`;
  selftest.className = 'bad';
});
