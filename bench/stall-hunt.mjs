// Hunts for runs that never end: repeats, in one Chromium page, the runs whose timing is
// the least predictable — the resize storm (1 000 random resizes, then an abort), the
// two autoscalers on the simulated backend, the queue policy on paced CPU jobs, and
// 300 000 empty jobs — and watches each through its progress stream. A run still going
// 40 s after it started (each ends within 10 s), or one that stops streaming progress
// for 15 s, is a stall: its last progress batch is printed and the exit code is 1. Each
// round prints whether each run's books balanced (a `false` also exits with 1).
//
// Not part of `./build.sh test` (it runs for minutes); build first (`./build.sh build`).
//   node bench/stall-hunt.mjs [rounds]    (default 20; about 27 s a round on 2 cores)
//
// It found the one hang the full benchmark had shown once: an autoscaler's cut in the
// very tick in which the last worker left revived the finished pool (fixed in 35f9c79,
// pool invariant 5), about once in 40 AIMD runs.
import { launchBrowser, openPage, startServer } from '../tests/e2e/harness.mjs';
import { AUTOSCALERS, autoscalerRun, queuePolicyRun, STORM_RUN } from './scenarios.mjs';

const ROUNDS = Number(process.argv[2] ?? 20);
const STILL_GOING_MS = 40_000;
const SILENT_MS = 15_000;

const server = await startServer();
const browser = await launchBrowser();
const { page, problems } = await openPage(browser.context, new URL('harness/', server.url).href);
await page.waitForSelector('html[data-ready="true"]');
const threads = await page.evaluate(async () => {
  const g = /** @type {any} */ (globalThis);
  g.engine = await g.scalelab.Engine.start();
  // What the watchdog reads: the run going now, when it started, its last batch.
  g.watch = { name: '', began: Date.now(), at: Date.now(), batches: 0, last: null };
  /** Starts a run that reports its progress to `watch`. */
  g.watched = (/** @type {string} */ name, /** @type {object} */ settings, options = {}) => {
    Object.assign(g.watch, { name, began: Date.now(), at: Date.now(), batches: 0, last: null });
    return g.engine.start(settings, {
      ...options,
      onProgress: (/** @type {any} */ b) => {
        g.watch.at = Date.now();
        g.watch.batches++;
        g.watch.last = { counts: b.counts, started: b.started, sample: b.sample, cancelledMs: b.cancelledMs };
      },
    });
  };
  return g.engine.info.threads;
});

// The same runs as the benchmark's (bench/scenarios.mjs), at their full length.
const runs = {
  storm: STORM_RUN,
  adaptive: AUTOSCALERS.map(([name, target]) => [name, autoscalerRun(name, target, 8)]),
  queue: queuePolicyRun(threads, 8),
};

/** @type {string | null} */
let stall = null;
const watchdog = setInterval(async () => {
  const w = await Promise.race([
    page.evaluate(() => {
      const watch = /** @type {any} */ (globalThis).watch;
      return { ...watch, silent: Date.now() - watch.at, age: Date.now() - watch.began };
    }),
    new Promise((resolve) => setTimeout(() => resolve(null), 3_000)),
  ]);
  if (stall) return;
  if (w === null) stall = 'the page did not answer within 3 s';
  else if (w.age > STILL_GOING_MS || w.silent > SILENT_MS)
    stall = `${w.name}: ${w.age} ms since it started, ${w.silent} ms since its last progress (${w.batches} batches); last batch:\n${JSON.stringify(w.last, null, 1)}`;
  if (stall) {
    console.log(`STALL ${stall}`);
    if (problems.length) console.log('page problems:', problems);
    process.exit(1);
  }
}, 5_000);

const t0 = Date.now();
for (let round = 0; round < ROUNDS; round++) {
  const out = await page.evaluate(
    async ({ threads, runs }) => {
      const g = /** @type {any} */ (globalThis);
      const wait = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));
      let seed = 1 + Math.floor(Math.random() * 2 ** 30);
      const random = () => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed / 2147483648;
      };
      const controller = new AbortController();
      const storm = g.watched('storm', runs.storm, { signal: controller.signal });
      for (let k = 0; k < 1000; k++) {
        const to = k === 999 ? 1 + Math.floor(random() * 64) : Math.floor(random() * 65);
        await storm.resize(to, { stopNow: random() < 0.3 });
        if (k % 10 === 9) await wait(1);
      }
      await wait(200);
      controller.abort('storm over');
      const ended = [`storm ${(await storm.report).identityHolds}`];
      for (const [name, settings] of runs.adaptive) {
        const report = await g.watched(name, settings).report;
        ended.push(`${name} ${report.identityHolds}`);
      }
      const queue = await g.watched('queue', runs.queue).report;
      ended.push(`queue ${queue.identityHolds}`);
      const empty = await g.watched('empty', {
        pattern: 'pool',
        workload: 'spin',
        cost: 0,
        jobs: 300000,
        workers: threads,
        queue: 1024,
      }).report;
      ended.push(`empty ${empty.identityHolds}`);
      return ended.join(', ');
    },
    { threads, runs },
  );
  console.log(`round ${round + 1}/${ROUNDS} at ${((Date.now() - t0) / 1000).toFixed(0)} s: ${out}`);
  if (out.includes('false')) {
    console.log('a run whose books do not balance');
    process.exit(1);
  }
}
clearInterval(watchdog);
console.log(`no stall in ${ROUNDS} rounds`);
await browser.close();
await server.stop();
