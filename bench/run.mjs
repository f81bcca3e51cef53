// scalelab's benchmarks against what a user would pick instead, side by side in one run:
// headless Chromium (playwright-core) on the harness page served by scalelab-serve, plus
// the same engine natively (cargo bench --bench engine) and the article's Go. Writes
// bench/results.json and bench/RESULTS.md (a --quick run: target/bench-quick/). Every
// comparison is a ratio measured in this run; min/median/max keep noise visible.
//
// Usage: node bench/run.mjs [--quick]    (./build.sh bench runs it after building)
//        node bench/run.mjs --report-only (rewrites RESULTS.md from results.json)

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, openPage, startServer } from '../tests/e2e/harness.mjs';
import { browsersSection, firefox } from './browsers.mjs';
import { goProgramHeadline, goProgramSection, goPrograms } from './goprogram.mjs';
import {
  coordinatedOmission,
  erlangReal,
  erlangSim,
  generatorAccuracy,
  loadHeadline,
  loadSection,
  overload,
  poissonGaps,
} from './load.mjs';
import { longTasks, openPlayground } from './playground.mjs';
import { AUTOSCALERS, autoscalerRun, queuePolicyRun, STORM_RUN } from './scenarios.mjs';
import { startup, startupSection } from './startup.mjs';
import { fmt, mmm, pass, spread } from './stats.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const QUICK = process.argv.includes('--quick');
/** `--only dispatch,resize`: run just those browser scenarios and print their results
 * (for development; writes no report). */
const ONLY =
  process.argv
    .find((a) => a.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',') ?? null;
const REPS = QUICK ? 2 : 5;
const log = (...a) => console.log('[bench]', ...a);

// --- browser scenarios (run inside the harness page) ----------------------------------

/** CPU scaling: the same kernel at 1 worker and at every pool thread. */
async function cpuScaling(page, threads) {
  const settings = { pattern: 'pool', workload: 'primes', cost: 200000, jobs: QUICK ? 200 : 1500, queue: 64 };
  const at = await page.evaluate(
    async ({ settings, threads, reps }) => {
      // Warm-up: one full run at each worker count (wasm tier-up, pool threads awake).
      for (const workers of [1, threads]) await engine.run({ ...settings, workers });
      // Per run: throughput, and the profile that explains it — each job's mean time
      // where it ran, and how much of wall x workers the jobs filled (the rest is the
      // pool's own time, or the thread waiting for a core the browser was using).
      const out = { 1: [], [threads]: [] };
      for (let r = 0; r < reps; r++) {
        for (const workers of [1, threads]) {
          const report = await engine.run({ ...settings, workers });
          const cols = report.jobs;
          let busyMs = 0;
          for (let i = 0; i < cols.length; i++) busyMs += cols.finishedMs[i] - cols.startedMs[i];
          out[workers].push({
            throughput: report.throughputPerS,
            jobMs: busyMs / cols.length,
            filled: busyMs / (report.wallMs * workers),
          });
        }
      }
      return out;
    },
    { settings, threads, reps: REPS },
  );
  const pick = (runs, key) => spread(runs.map((x) => x[key]));
  const one = pick(at[1], 'throughput');
  const many = pick(at[threads], 'throughput');
  const profile = {
    jobMs: { 1: pick(at[1], 'jobMs'), [threads]: pick(at[threads], 'jobMs') },
    filled: { 1: pick(at[1], 'filled'), [threads]: pick(at[threads], 'filled') },
  };
  return {
    settings,
    threads,
    one,
    many,
    profile,
    speedup: many.median / one.median,
    efficiency: many.median / one.median / threads,
  };
}

/** Dispatch overhead per job: our pool vs workerpool vs plain postMessage.
 *
 * Each measured run must last well beyond one OS time slice (a few ms): at ~0.4 µs of
 * wall per empty job, 30 000 jobs took ~13 ms, so one preemption of a pool thread by
 * any other thread of the browser (on 2 cores there is no spare one) doubled a run,
 * and the first runs still ran baseline wasm code (V8 tiers hot functions up in the
 * background). Hence 300 000 jobs per run (~130 ms, as long as workerpool's 5 000),
 * after a warm-up of one run of that size per job length. */
async function dispatch(page, threads) {
  const jobs = QUICK ? 30000 : 300000;
  const wpJobs = QUICK ? 2000 : 5000;
  return page.evaluate(
    async ({ jobs, wpJobs, threads, reps }) => {
      const result = {
        jobs,
        wpJobs,
        threads,
        ours: { 0: [], 10: [] },
        workerpool: { 0: [], 10: [] },
        oursJobUs: { 0: [], 10: [] },
        workerpoolJobUs: { 0: [], 10: [] },
        roundTrip: [],
        pipelined: [],
      };
      // Per-job overhead = wall x threads / jobs - the jobs' own mean time, as measured
      // where they ran (a "10 µs" spin lasts longer: worker clocks tick in 5 µs).
      const overhead = (wallMs, n, jobUs) => (wallMs * 1000 * threads) / n - jobUs;
      const meanJobUs = (cols) => {
        let sum = 0;
        for (let i = 0; i < cols.length; i++) sum += cols.finishedMs[i] - cols.startedMs[i];
        return (sum * 1000) / cols.length;
      };
      for (const micros of [0, 10]) {
        await engine.run({ pattern: 'pool', workload: 'spin', cost: micros, jobs, workers: threads, queue: 1024 });
      }
      const pool = workerpool.pool(new URL('wp-worker.js', location.href).href, {
        maxWorkers: threads,
        workerType: 'web',
      });
      await Promise.all(Array.from({ length: 200 }, () => pool.exec('spin', [0]))); // warm-up
      for (let r = 0; r < reps; r++) {
        for (const micros of [0, 10]) {
          const report = await engine.run({
            pattern: 'pool',
            workload: 'spin',
            cost: micros,
            jobs,
            workers: threads,
            queue: 1024,
          });
          const ourJob = meanJobUs(report.jobs);
          result.oursJobUs[micros].push(ourJob);
          result.ours[micros].push(overhead(report.wallMs, jobs, ourJob));
          const t0 = performance.now();
          const took = await Promise.all(Array.from({ length: wpJobs }, () => pool.exec('spin', [micros])));
          const wall = performance.now() - t0;
          const wpJob = took.reduce((a, b) => a + b, 0) / wpJobs;
          result.workerpoolJobUs[micros].push(wpJob);
          result.workerpool[micros].push(overhead(wall, wpJobs, wpJob));
        }
      }
      await pool.terminate();
      // Plain postMessage to one worker: sequential round trips, and a pipelined burst.
      const echo = new Worker(new URL('echo-worker.js', location.href));
      const once = () =>
        new Promise((resolve) => {
          echo.onmessage = resolve;
          echo.postMessage(0);
        });
      for (let i = 0; i < 200; i++) await once();
      for (let r = 0; r < reps; r++) {
        const n = 2000;
        let t0 = performance.now();
        for (let i = 0; i < n; i++) await once();
        result.roundTrip.push(((performance.now() - t0) * 1000) / n);
        t0 = performance.now();
        await new Promise((resolve) => {
          let left = n;
          echo.onmessage = () => --left === 0 && resolve();
          for (let i = 0; i < n; i++) echo.postMessage(i);
        });
        result.pipelined.push(((performance.now() - t0) * 1000) / n);
      }
      echo.terminate();
      return result;
    },
    { jobs, wpJobs, threads, reps: REPS },
  );
}

/** Achieved vs configured rate for the token bucket and the article's ticker. */
async function limiterAccuracy(page) {
  const seconds = QUICK ? 1 : 5;
  return page.evaluate(
    async ({ seconds }) => {
      const rows = [];
      for (const rate of [10, 100, 1000, 10000]) {
        for (const pacing of ['bucket', 'ticker']) {
          const burst = Math.max(1, Math.round(rate / 100));
          const jobs = Math.round(rate * seconds) + burst;
          const report = await engine.run({
            pattern: 'ratelimit',
            pacing,
            rate,
            burst,
            jobs,
            workload: 'sleep',
            cost: 0,
            workers: 32,
            queue: 1024,
          });
          rows.push({
            rate,
            pacing,
            burst,
            jobs,
            achieved: report.limiter.achievedRate,
            error: report.limiter.achievedRate / rate - 1,
            wallMs: report.wallMs,
          });
        }
      }
      return rows;
    },
    { seconds },
  );
}

/** abort -> last job stopped, with CPU jobs of `jobMicros`. */
async function cancellation(page, threads, jobMicros) {
  // 200 cancellations, so the p99 is a percentile and not just the single worst run.
  const runs = QUICK ? 20 : 200;
  const r = await page.evaluate(
    async ({ runs, threads, jobMicros }) => {
      const engineSide = [];
      const endToEnd = [];
      let startedAfter = 0;
      for (let i = 0; i < runs; i++) {
        const controller = new AbortController();
        let abortedAt = 0;
        let batches = 0;
        const report = await engine.run(
          {
            workload: 'spin',
            cost: jobMicros,
            jobs: Math.floor(40_000_000 / jobMicros),
            workers: threads * 2,
            queue: 64,
            seed: i,
          },
          {
            signal: controller.signal,
            onProgress: () => {
              // Cancel at a different point of each run: after 2 + (i mod 5) batches.
              if (++batches === 2 + (i % 5) && !abortedAt) {
                abortedAt = performance.timeOrigin + performance.now();
                controller.abort('bench');
              }
            },
          },
        );
        engineSide.push(report.cancellation.latencyMs);
        endToEnd.push(report.clockEpochMs + report.cancellation.lastStopMs - abortedAt);
        startedAfter += report.cancellation.startedAfter;
      }
      return { engineSide, endToEnd, startedAfter };
    },
    { runs, threads, jobMicros },
  );
  return {
    runs,
    jobMs: jobMicros / 1000,
    engineSide: spread(r.engineSide),
    endToEnd: spread(r.endToEnd),
    startedAfter: r.startedAfter,
  };
}

/** Many short runs in one page (some cancelled): memory and workers stay flat. */
async function soak(page, runs) {
  const workersBefore = page.workers().length;
  const r = await page.evaluate(
    async ({ runs }) => {
      const memory = [];
      const heap = [];
      let cancelled = 0;
      let broken = 0;
      for (let i = 0; i < runs; i++) {
        const controller = new AbortController();
        const settings = {
          pattern: ['pool', 'fanout', 'failfast', 'ratelimit'][i % 4],
          jobs: 50,
          cost: 5000,
          rate: 5000,
          seed: i,
        };
        const cancel = i % 10 === 9; // every tenth run is cancelled mid-way
        const report = await engine.run(settings, {
          signal: controller.signal,
          onProgress: () => cancel && controller.abort('soak'),
        });
        if (!report.identityHolds) broken++;
        if (report.cancellation) cancelled++;
        memory.push(report.memory.endBytes);
        heap.push(report.samples[report.samples.length - 1].heapBytes);
      }
      const warm = Math.min(99, runs - 1);
      return {
        runs,
        cancelled,
        broken,
        afterWarmup: memory[warm],
        end: memory[runs - 1],
        max: Math.max(...memory),
        heapAfterWarmup: heap[warm],
        heapEnd: heap[runs - 1],
      };
    },
    { runs },
  );
  return { ...r, workersBefore, workersAfter: page.workers().length };
}

/** Unbounded fan-out vs a pool at 100 000 jobs: goroutines alive and heap. */
async function unbounded(page, threads) {
  return page.evaluate(
    async ({ threads }) => {
      const job = { workload: 'spin', cost: 0, jobs: 100000 };
      const out = {};
      for (const [name, settings] of [
        ['fanout', { pattern: 'fanout', ...job }],
        ['pool', { pattern: 'pool', workers: threads, queue: 256, ...job }],
      ]) {
        const r = await engine.run(settings);
        out[name] = {
          tasksPeak: r.peakGoroutines,
          heapPeak: r.memory.heapPeakBytes,
          linear: r.memory.peakBytes,
          wallMs: r.wallMs,
        };
      }
      return out;
    },
    { threads },
  );
}

/** The lab's concurrency sweep: CPU and I/O-like curves with the USL fit. */
async function sweep(page, threads) {
  const maxWorkers = 4 * threads;
  return page.evaluate(
    async ({ maxWorkers, reps }) =>
      engine.sweep(
        { workload: 'primes', cost: 200000, jobs: 300, queue: 64 },
        { maxWorkers, repetitions: reps, warmup: 1, threshold: 0.8, curves: 'both' },
      ),
    { maxWorkers, reps: QUICK ? 2 : 3 },
  );
}

/** The playground page's main thread while a run streams at the highest rate. */
async function pageLongTasks(context, url) {
  const page = await openPlayground(context, url);
  await page.click('[data-testid="pattern-fanout"]');
  await page.selectOption('[data-testid="field-workload"]', 'spin');
  await page.fill('[data-testid="field-cost"]', '0');
  await page.fill('[data-testid="field-jobs"]', '100000');
  const runs = QUICK ? 2 : 5;
  for (let i = 0; i < runs; i++) {
    await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
    await page.click('[data-testid="run"]');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="progress-text"]').dataset.state === 'done',
      null,
      { timeout: 60_000 },
    );
  }
  await page.waitForTimeout(300);
  const tasks = (await longTasks(page)).map((t) => t.ms);
  await page.close();
  return { runs, count: tasks.length, longest: tasks.length ? Math.max(...tasks) : 0 };
}

// --- the elastic pool (issue 14) ------------------------------------------------------

/**
 * Resize latency on 1 ms CPU jobs, end to end from the page's `resize()` call: a grow,
 * to the first job a new worker takes; a shrink, to the last removed worker's exit
 * after its current job (the resize's `settledMs`).
 */
async function resizeLatency(page) {
  const rounds = QUICK ? 10 : 100;
  const r = await page.evaluate(
    async ({ rounds }) => {
      const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
      const now = () => performance.timeOrigin + performance.now();
      const starts = []; // [worker, startedMs] of every job seen starting
      const controller = new AbortController();
      const run = engine.start(
        { pattern: 'pool', workload: 'spin', cost: 1000, jobs: 10000000, duration: 600000, workers: 2, queue: 64 },
        {
          signal: controller.signal,
          // Every job's start, from the records of jobs still running and of jobs that
          // ended since the last batch (a 1 ms job mostly starts and ends between two).
          onProgress: (batch) => {
            const j = batch.jobs;
            for (let i = 0; i < j.length; i++)
              if (!Number.isNaN(j.startedMs[i])) starts.push([j.worker[i], j.startedMs[i]]);
          },
        },
      );
      const calls = [];
      await wait(200);
      for (let k = 0; k < rounds; k++) {
        calls.push(now());
        await run.resize(4);
        await wait(20);
        calls.push(now());
        await run.resize(2);
        await wait(20);
      }
      await wait(100);
      controller.abort('bench done');
      const report = await run.report;
      return { calls, starts, resizes: report.resizes, epoch: report.clockEpochMs, identity: report.identityHolds };
    },
    { rounds },
  );
  const grow = [];
  const shrink = [];
  // The same, from when the engine applied the resize (without the page → engine hop).
  const growEngine = [];
  const shrinkEngine = [];
  r.resizes.forEach((resize, k) => {
    const calledMs = r.calls[k] - r.epoch; // on the run's clock
    if (resize.to > resize.from) {
      const first = r.starts.filter(([w, t]) => w >= resize.from && t >= resize.tMs).map(([, t]) => t);
      if (first.length) {
        grow.push(Math.min(...first) - calledMs);
        growEngine.push(Math.min(...first) - resize.tMs);
      }
    } else if (resize.settledMs != null) {
      shrink.push(resize.settledMs - calledMs);
      shrinkEngine.push(resize.settledMs - resize.tMs);
    }
  });
  return {
    rounds,
    grow: spread(grow),
    shrink: spread(shrink),
    growEngine: spread(growEngine),
    shrinkEngine: spread(shrinkEngine),
    identity: r.identity,
    resizes: r.resizes.length,
  };
}

/** 1 000 random resizes (0–64, graceful or stop now) during one run of I/O-like jobs. */
async function resizeStorm(page) {
  const workersBefore = page.workers().length;
  const r = await page.evaluate(async (storm) => {
    const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    // A run that outlasts the storm (however fast the machine), stopped once it is over:
    // the jobs still queued then end as not started, and the books must still balance.
    const controller = new AbortController();
    const run = engine.start(storm, { signal: controller.signal });
    const asked = [];
    for (let k = 0; k < 1000; k++) {
      // The last request is never 0.
      const to = k === 999 ? 1 + Math.floor(random() * 64) : Math.floor(random() * 65);
      await run.resize(to, { stopNow: random() < 0.3 });
      asked.push(to);
      if (k % 10 === 9) await wait(1);
    }
    await wait(200);
    controller.abort('storm over');
    const report = await run.report;
    const ids = report.jobs.id;
    let duplicates = 0;
    for (let i = 1; i < ids.length; i++) if (ids[i] === ids[i - 1]) duplicates++;
    return {
      asked: asked.length,
      last: asked[asked.length - 1],
      logged: report.resizes.length + report.resizesDropped,
      finalTarget: report.resizes[report.resizes.length - 1].to,
      finalLimit: report.samples[report.samples.length - 1].limit,
      counts: report.counts,
      identity: report.identityHolds,
      duplicates,
    };
  }, STORM_RUN);
  await page.waitForTimeout(200);
  return { ...r, workersBefore, workersAfter: page.workers().length };
}

/** The autoscalers: adaptive concurrency on the simulated backend (8 slots, 10 ms) and
 * the queue policy on paced CPU jobs. */
async function autoscalers(page, threads) {
  const seconds = QUICK ? 4 : 8;
  return page.evaluate(
    async ({ seconds, adaptive, queueRun }) => {
      const out = {};
      for (const [name, settings] of adaptive) {
        const report = await engine.run(settings);
        const trace = report.samples.map((s) => [s.tMs, s.limit]);
        // Settled: from the first moment after which the limit stays within ±25% of 8.
        let settledAt = null;
        for (let i = trace.length - 1; i >= 0; i--) {
          if (trace[i][1] < 6 || trace[i][1] > 10) break;
          settledAt = trace[i][0];
        }
        const late = trace.filter(([t]) => t >= seconds * 500).map(([, l]) => l);
        out[name] = {
          settledAt,
          lateMin: Math.min(...late),
          lateMax: Math.max(...late),
          lateMean: late.reduce((a, b) => a + b, 0) / late.length,
          trace: trace.filter((_p, k) => k % 10 === 0),
          resizes: report.resizes.length,
          identity: report.identityHolds,
        };
      }
      const report = await engine.run(queueRun);
      const queued = report.samples
        .filter((s) => s.tMs >= 1000 && s.tMs <= seconds * 1000)
        .map((s) => s.queued)
        .sort((a, b) => a - b);
      out.queue = {
        rate: queueRun.rate,
        p50: queued[Math.floor(queued.length / 2)],
        p95: queued[Math.floor(queued.length * 0.95)],
        max: queued[queued.length - 1],
        resizes: report.resizes.length,
        identity: report.identityHolds,
      };
      return out;
    },
    {
      seconds,
      adaptive: AUTOSCALERS.map(([name, target]) => [name, autoscalerRun(name, target, seconds)]),
      queueRun: queuePolicyRun(threads, seconds),
    },
  );
}

/** Runs of any length: 10 000 000 empty jobs through the page (long tasks, memory, exact
 * counts), and the engine's memory after a 5 s and a 60 s duration run. */
async function scale(context, url, enginePage) {
  const jobs = QUICK ? 1_000_000 : 10_000_000;
  const page = await openPlayground(context, url);
  await page.selectOption('[data-testid="field-workload"]', 'spin');
  await page.fill('[data-testid="field-cost"]', '0');
  await page.fill('[data-testid="field-jobs"]', String(jobs));
  await page.fill('[data-testid="field-queue"]', '1024');
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  const t0 = Date.now();
  await page.click('[data-testid="run"]');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="progress-text"]').dataset.state === 'done',
    null,
    { timeout: 600_000, polling: 500 },
  );
  const wallS = (Date.now() - t0) / 1000;
  await page.waitForTimeout(500);
  const big = await page.evaluate(() => ({
    tasks: globalThis.longTasks.map((/** @type {{ms: number}} */ t) => t.ms),
    completed: Number(document.querySelector('[data-testid="sum-completed"] b').textContent.replaceAll(',', '')),
    identity: document.querySelector('[data-testid="sum-identity"]').textContent,
  }));
  await page.close();
  const durations = QUICK ? [2000, 6000] : [5000, 60000];
  const memory = await enginePage.evaluate(
    async ({ durations, jobs }) => {
      const out = [];
      for (const duration of durations) {
        const r = await engine.run({ workload: 'spin', cost: 0, jobs, duration, workers: 2, queue: 1024 });
        out.push({ duration, submitted: r.counts.submitted, end: r.memory.endBytes, peak: r.memory.peakBytes });
      }
      const big = await engine.run({ workload: 'spin', cost: 0, jobs, workers: 2, queue: 1024 });
      out.push({ duration: 0, submitted: big.counts.submitted, end: big.memory.endBytes, peak: big.memory.peakBytes });
      return out;
    },
    { durations, jobs },
  );
  return {
    jobs,
    wallS,
    longTasks: big.tasks.length,
    longest: big.tasks.length ? Math.max(...big.tasks) : 0,
    completed: big.completed,
    identity: big.identity.endsWith('✓'),
    memory,
  };
}

// --- native and Go ---------------------------------------------------------------------

function native(threads) {
  const args = [
    'bench',
    '--quiet',
    '--bench',
    'engine',
    '--',
    '--threads',
    String(threads),
    ...(QUICK ? ['--quick'] : []),
  ];
  const out = execFileSync('cargo', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const json = JSON.parse(out.trim().split('\n').pop());
  return {
    one: spread(json['1']),
    many: spread(json[String(threads)]),
    bare: json.bare && { one: spread(json.bare['1']), many: spread(json.bare[String(threads)]) },
    dispatchNs: spread(json.dispatchNs),
  };
}

function go(pattern, workers, { jobs = QUICK ? 200 : 1500, cost = 200000 } = {}) {
  const args = [
    'run',
    path.join(ROOT, 'bench', 'go', 'patterns.go'),
    '-pattern',
    pattern,
    '-workers',
    String(workers),
    '-jobs',
    String(jobs),
    '-cost',
    String(cost),
    '-reps',
    String(REPS),
  ];
  const out = execFileSync('go', args, {
    cwd: os.tmpdir(),
    encoding: 'utf8',
    env: { ...process.env, GO111MODULE: 'off' },
  });
  const json = JSON.parse(out);
  return { ...spread(json.throughput), version: json.go, primes: json.primes };
}

// --- main ------------------------------------------------------------------------------

async function main() {
  const server = await startServer();
  const browser = await launchBrowser();
  const { page, problems } = await openPage(browser.context, new URL('harness/', server.url).href);
  await page.waitForSelector('html[data-ready="true"]');
  const threads = await page.evaluate(async () => {
    globalThis.engine = await globalThis.scalelab.Engine.start();
    return engine.info.threads;
  });
  const browserVersion =
    browser.context.browser()?.version() ?? execFileSync('chromium', ['--version'], { encoding: 'utf8' }).trim();
  const r = {
    date: new Date().toISOString(),
    quick: QUICK,
    machine: `${os.cpus()[0]?.model}, ${os.cpus().length} cores`,
    browser: browserVersion,
    rustc: execFileSync('rustc', ['--version'], { encoding: 'utf8' }).trim(),
    threads,
  };
  log(`${r.machine}; Chromium ${browserVersion}; pool of ${threads} threads; ${QUICK ? 'quick' : 'full'} run`);
  if (ONLY) {
    /** @type {Record<string, () => Promise<unknown>>} */
    const scenarios = {
      dispatch: () => dispatch(page, threads),
      cpu: () => cpuScaling(page, threads),
      resize: () => resizeLatency(page),
      storm: () => resizeStorm(page),
      autoscalers: () => autoscalers(page, threads),
      scale: () => scale(browser.context, server.url, page),
      longtasks: () => pageLongTasks(browser.context, server.url),
      generator: () => generatorAccuracy(page, QUICK),
      poisson: () => poissonGaps(page),
      co: () => coordinatedOmission(page),
      erlang: () => erlangReal(page, QUICK),
      erlangsim: async () => erlangSim(QUICK),
      overload: () => overload(browser.context, server.url, QUICK),
      goprogram: () => goPrograms(page, threads, { quick: QUICK, reps: REPS }),
      startup: () => startup(server.url, REPS),
      firefox: () =>
        firefox(new URL('harness/', server.url).href, {
          cpu: cpuScaling,
          dispatch,
        }),
    };
    for (const name of ONLY) {
      const result = await scenarios[name]();
      if (name === 'dispatch') {
        const d = /** @type {any} */ (result);
        log(
          `dispatch: wall per empty job ${fmt(oursWallNs(d, threads), 0)} ns, overhead empty ${mmm(spread(d.ours[0]))} µs, 10 µs ${mmm(spread(d.ours[10]))} µs; workerpool ${mmm(spread(d.workerpool[0]), 1)} µs`,
        );
      } else console.log(name, JSON.stringify(result, null, 1).slice(0, 3000));
    }
    await browser.close();
    await server.stop();
    return;
  }

  r.cpuScaling = await cpuScaling(page, threads);
  log(`CPU scaling: ${fmt(r.cpuScaling.speedup)}x on ${threads} threads`);
  r.native = native(threads);
  r.go = { pool1: go('pool', 1), poolN: go('pool', threads), fanoutN: go('fanout', threads) };
  log(`native 1 thread ${fmt(r.native.one.median, 0)} jobs/s; Go pool ${fmt(r.go.pool1.median, 0)} jobs/s`);
  r.dispatch = await dispatch(page, threads);
  log('dispatch measured');
  r.limiter = await limiterAccuracy(page);
  log('limiter accuracy measured');
  r.cancel1ms = await cancellation(page, threads, 1000);
  r.cancel10ms = await cancellation(page, threads, 10000);
  log(`cancellation (1 ms jobs): p99 ${fmt(r.cancel1ms.endToEnd.p99)} ms`);
  r.soak = await soak(page, QUICK ? 200 : 1000);
  log(`soak: ${r.soak.runs} runs, memory ${r.soak.afterWarmup} -> ${r.soak.end} B`);
  r.unbounded = await unbounded(page, threads);
  r.sweep = await sweep(page, threads);
  log('sweep measured');

  r.resize = await resizeLatency(page);
  log(`resize latency p99: grow ${fmt(r.resize.grow.p99)} ms, shrink ${fmt(r.resize.shrink.p99)} ms`);
  r.storm = await resizeStorm(page);
  log(`storm: ${r.storm.asked} resizes, identity ${r.storm.identity}`);
  r.autoscalers = await autoscalers(page, threads);
  log(
    `autoscalers: aimd settled at ${r.autoscalers.aimd.settledAt} ms, gradient2 at ${r.autoscalers.gradient2.settledAt} ms`,
  );
  r.goDispatch = go('pool', threads, { jobs: QUICK ? 200000 : 2000000, cost: 0 });
  r.scale = await scale(browser.context, server.url, page);
  log(`scale: ${r.scale.jobs} jobs in ${fmt(r.scale.wallS, 1)} s`);

  r.load = {
    generator: await generatorAccuracy(page, QUICK),
    poisson: await poissonGaps(page),
    coordinatedOmission: await coordinatedOmission(page),
    erlangReal: await erlangReal(page, QUICK),
    erlangSim: erlangSim(QUICK),
    overload: await overload(browser.context, server.url, QUICK),
  };
  log(
    `open loop: generator worst ratio ${fmt(Math.max(...r.load.generator.map((g) => Math.abs(g.ratio - 1))) * 100)}%, CO p99 ${fmt(r.load.coordinatedOmission.corrected.p99, 1)} vs ${fmt(r.load.coordinatedOmission.uncorrected.p99, 1)} ms`,
  );

  r.goPrograms = await goPrograms(page, threads, { quick: QUICK, reps: REPS });
  log(`Go bridge: ${r.goPrograms.rows.map((g) => `${g.pattern} ${fmt(g.engine / g.go)}`).join(', ')} (wasm ÷ Go)`);

  r.startup = await startup(server.url, REPS);
  log(`start-up: wasm ${r.startup.sizes.raw} B (${r.startup.sizes.gzip} B gzip)`);

  r.longTasks = await pageLongTasks(browser.context, server.url);
  r.firefox = await firefox(new URL('harness/', server.url).href, { cpu: cpuScaling, dispatch });
  log(`Firefox: CPU scaling ${fmt(r.firefox.cpu?.speedup)}x`);
  if (problems.length) throw new Error(`page problems during the benchmark: ${problems.join('; ')}`);
  await browser.close();
  await server.stop();

  const limiterNative = existsSync(path.join(ROOT, 'benches', 'results.json'))
    ? JSON.parse(readFileSync(path.join(ROOT, 'benches', 'results.json'), 'utf8'))
    : null;
  r.limiterNative = limiterNative;
  // A --quick smoke run must not overwrite the committed full results.
  const out = QUICK ? path.join(ROOT, 'target', 'bench-quick') : path.join(ROOT, 'bench');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'results.json'), `${JSON.stringify(r, null, 2)}\n`);
  const md = markdown(r);
  writeFileSync(path.join(out, 'RESULTS.md'), md);
  log(`wrote ${path.relative(ROOT, out)}/RESULTS.md and results.json`);
  console.log(md);
}

function markdown(r) {
  const s = r.cpuScaling;
  const N = r.threads;
  const wasm1 = s.one.median;
  const wasmN = s.many.median;
  const nat1 = r.native.one.median;
  const natN = r.native.many.median;
  const effWasm = wasmN / wasm1 / N;
  const effNative = natN / nat1 / N;
  const bareSpeedup = r.native.bare && r.native.bare.many.median / r.native.bare.one.median;
  const wall = wallPerJob(r);
  const d = r.dispatch;
  const ours0 = spread(d.ours[0]);
  const ours10 = spread(d.ours[10]);
  const wp0 = spread(d.workerpool[0]);
  const wp10 = spread(d.workerpool[10]);
  const c1 = r.cancel1ms;
  const c10 = r.cancel10ms;
  const bucketWorst = Math.max(...r.limiter.filter((x) => x.pacing === 'bucket').map((x) => Math.abs(x.error)));
  const lines = [
    '# Benchmarks',
    '',
    `- Date: ${r.date.slice(0, 10)}; machine: ${r.machine}; headless Chromium ${r.browser}; pool of ${N} threads; ${r.rustc}; Go ${r.go.pool1.version}`,
    `- Command: \`./build.sh bench\`${r.quick ? ' --quick (a smoke run: fewer repetitions)' : ''}. Figures are median (min–max) over the repetitions of this one run.`,
    '',
    '## Headline',
    '',
    '| what | measured | target |',
    '| --- | --- | --- |',
    `| CPU scaling, ${N} workers vs 1 (wasm, primes) | ${fmt(s.speedup)}× (efficiency ${fmt(effWasm * 100, 1)}%${bareSpeedup ? `; the kernel on bare OS threads, no pool: ${fmt(bareSpeedup)}×` : ''}) | ≥ ${fmt(0.95 * N)}× ${pass(s.speedup >= 0.95 * N)} |`,
    `| wasm vs native, 1 thread | ${fmt(wasm1 / nat1)} | ≥ 0.70 ${pass(wasm1 / nat1 >= 0.7)} |`,
    `| scaling efficiency, wasm vs native | ${fmt(effWasm * 100, 1)}% vs ${fmt(effNative * 100, 1)}% | within 5 points ${pass(Math.abs(effWasm - effNative) <= 0.05)} |`,
    `| per-job overhead, empty jobs: workerpool ÷ scalelab | ${fmt(wp0.median / ours0.median, 0)}× | ≥ 20× ${pass(wp0.median / ours0.median >= 20)} |`,
    `| per-job overhead, 10 µs jobs: workerpool ÷ scalelab | ${fmt(wp10.median / ours10.median, 0)}× | ≥ 20× ${pass(wp10.median / ours10.median >= 20)} |`,
    `| token bucket, worst error over 10–10 000/s | ${fmt(bucketWorst * 100, 2)}% | ≤ 1% ${pass(bucketWorst <= 0.01)} |`,
    `| cancellation p99, 1 ms jobs (end to end) | ${fmt(c1.endToEnd.p99, 2)} ms | ≤ 3 ms ${pass(c1.endToEnd.p99 <= 3)} |`,
    `| cancellation p99, 10 ms jobs (end to end) | ${fmt(c10.endToEnd.p99, 2)} ms | ≤ 12 ms ${pass(c10.endToEnd.p99 <= 12)} |`,
    `| jobs started after an abort | ${c1.startedAfter + c10.startedAfter} of ${c1.runs + c10.runs} runs | 0 ${pass(c1.startedAfter + c10.startedAfter === 0)} |`,
    `| wasm memory after ${r.soak.runs} runs (after warm-up → end) | ${r.soak.afterWarmup} → ${r.soak.end} B | flat ${pass(r.soak.end <= r.soak.afterWarmup)} |`,
    `| Web Workers before → after the soak | ${r.soak.workersBefore} → ${r.soak.workersAfter} | constant ${pass(r.soak.workersBefore === r.soak.workersAfter)} |`,
    `| longest main-thread task, page streaming 100 000 empty jobs (${r.longTasks.runs} runs) | ${r.longTasks.count ? `${fmt(r.longTasks.longest, 0)} ms (${r.longTasks.count} long tasks)` : 'none over 50 ms'} | ≤ 50 ms ${pass(r.longTasks.count === 0)} |`,
    ...elasticHeadline(r),
    ...(r.load ? loadHeadline(r.load) : []),
    ...(r.goPrograms ? goProgramHeadline(r.goPrograms) : []),
    '',
    "## 1–3. CPU throughput: wasm, native Rust, the article's Go",
    '',
    `Pool of workers over a bounded channel; each job counts the primes in ${s.settings.cost} numbers (segmented sieve; ${s.settings.jobs} jobs, contiguous ranges). Jobs per second:`,
    '',
    `| engine | 1 worker | ${N} workers | speedup |`,
    '| --- | --- | --- | --- |',
    `| scalelab, wasm in Chromium | ${mmm(s.one, 0)} | ${mmm(s.many, 0)} | ${fmt(s.speedup)}× |`,
    `| scalelab, native (rayon on OS threads) | ${mmm(r.native.one, 0)} | ${mmm(r.native.many, 0)} | ${fmt(natN / nat1)}× |`,
    ...(r.native.bare
      ? [
          `| no pool: the kernel on bare OS threads (an atomic job counter; the host's ceiling) | ${mmm(r.native.bare.one, 0)} | ${mmm(r.native.bare.many, 0)} | ${fmt(bareSpeedup)}× |`,
        ]
      : []),
    `| Go ${r.go.pool1.version}, the article's worker pool | ${mmm(r.go.pool1, 0)} | ${mmm(r.go.poolN, 0)} | ${fmt(r.go.poolN.median / r.go.pool1.median)}× |`,
    `| Go, the article's fan-out (a goroutine per job) | — | ${mmm(r.go.fanoutN, 0)} | — |`,
    '',
    `Profile of the wasm runs: a job took ${fmt(s.profile.jobMs[1].median, 3)} ms at 1 worker and ${fmt(s.profile.jobMs[N].median, 3)} ms at ${N} (${fmt((s.profile.jobMs[N].median / s.profile.jobMs[1].median - 1) * 100, 1)}% longer for the same work); the jobs filled ${fmt(s.profile.filled[1].median * 100, 1)}% and ${fmt(s.profile.filled[N].median * 100, 1)}% of wall × workers (the rest is the pool's own time between jobs, and time a thread waited for a core). On ${N} cores the pool threads share the CPU with the browser's own threads and processes; native runs have no browser beside them.`,
    '',
    `wasm ÷ native: ${fmt(wasm1 / nat1)} at 1 worker, ${fmt(wasmN / natN)} at ${N}. scalelab wasm ÷ Go: ${fmt(wasm1 / r.go.pool1.median)} at 1 worker, ${fmt(wasmN / r.go.poolN.median)} at ${N}.`,
    '',
    '## 4. Dispatch overhead per job',
    '',
    `Overhead = wall × ${N} threads ÷ jobs − the jobs' mean time as measured where they ran: what the pool adds to each job. scalelab: ${d.jobs} jobs of \`spin\` through a pool of ${N}; workerpool ${'10.0.3'} (npm, postMessage per task, ${N} workers): ${d.wpJobs} tasks. A "10 µs" job lasts longer than 10 µs because worker clocks tick in 5 µs steps when cross-origin isolated; its measured time is shown and subtracted.`,
    '',
    '| job | job time measured: scalelab / workerpool (µs) | scalelab overhead (µs) | workerpool overhead (µs) | ratio |',
    '| --- | --- | --- | --- | --- |',
    `| empty | ${fmt(spread(d.oursJobUs[0]).median, 2)} / ${fmt(spread(d.workerpoolJobUs[0]).median, 2)} | ${mmm(ours0, 3)} | ${mmm(wp0, 1)} | ${fmt(wp0.median / ours0.median, 0)}× |`,
    `| 10 µs | ${fmt(spread(d.oursJobUs[10]).median, 2)} / ${fmt(spread(d.workerpoolJobUs[10]).median, 2)} | ${mmm(ours10, 3)} | ${mmm(wp10, 1)} | ${fmt(wp10.median / ours10.median, 0)}× |`,
    '',
    `Wall time per empty job at ${N} workers: scalelab in Chromium ${fmt(wall.oursNs, 0)} ns;${r.native.dispatchNs ? ` the same engine natively (\`cargo bench --bench engine\`, 1 000 000 empty jobs on ${N} OS threads) ${mmm(r.native.dispatchNs, 0)} ns;` : ''} Go's channel pool ${fmt(wall.goNs, 0)} ns.`,
    '',
    `Plain postMessage to one worker: ${mmm(spread(d.roundTrip), 1)} µs per sequential round trip, ${mmm(spread(d.pipelined), 2)} µs per message when pipelined.`,
    '',
    '## 5. Rate limiter accuracy (achieved ÷ configured)',
    '',
    `${r.quick ? 1 : 5} s per rate; I/O-like jobs of 0 µs on 32 workers; burst = rate ÷ 100. The steady rate is counted from the first release that had to wait.`,
    '',
    '| rate (/s) | token bucket | ticker |',
    '| --- | --- | --- |',
    ...[10, 100, 1000, 10000].map((rate) => {
      const b = r.limiter.find((x) => x.rate === rate && x.pacing === 'bucket');
      const t = r.limiter.find((x) => x.rate === rate && x.pacing === 'ticker');
      return `| ${rate} | ${fmt(b.achieved, 1)} (${fmt(b.error * 100, 2)}%) | ${fmt(t.achieved, 1)} (${fmt(t.error * 100, 2)}%) |`;
    }),
    '',
    'The ticker needs a timer per release; browser timers count whole milliseconds, so above ~1000/s it falls short and never catches up (missed ticks are dropped). The bucket reads the clock and releases what accrued.',
    '',
    '## 6. Cancellation latency (abort → last job stopped)',
    '',
    '| CPU job | runs | end to end p50 / p99 / max (ms) | engine side p50 / p99 (ms) | started after abort |',
    '| --- | --- | --- | --- | --- |',
    `| 1 ms | ${c1.runs} | ${fmt(c1.endToEnd.p50, 3)} / ${fmt(c1.endToEnd.p99, 3)} / ${fmt(c1.endToEnd.max, 3)} | ${fmt(c1.engineSide.p50, 3)} / ${fmt(c1.engineSide.p99, 3)} | ${c1.startedAfter} |`,
    `| 10 ms | ${c10.runs} | ${fmt(c10.endToEnd.p50, 3)} / ${fmt(c10.endToEnd.p99, 3)} / ${fmt(c10.endToEnd.max, 3)} | ${fmt(c10.engineSide.p50, 3)} / ${fmt(c10.engineSide.p99, 3)} | ${c10.startedAfter} |`,
    '',
    "*End to end*: from `AbortController.abort()` on the page to the last running job stopping (the page writes the abort into the run's slot in the engine's shared memory, where the pool threads see it on their next poll; a message to the engine's worker follows, for anything no job polls). *Engine side*: from the run token's cancellation.",
    '',
    '## 7. Memory',
    '',
    `${r.soak.runs} short runs in one page (all four patterns, every tenth cancelled): ${r.soak.broken} lost a job; wasm linear memory ${r.soak.afterWarmup} B after the first 100 runs, ${r.soak.end} B at the end (max ${r.soak.max} B); heap in use ${r.soak.heapAfterWarmup} → ${r.soak.heapEnd} B; Web Workers ${r.soak.workersBefore} → ${r.soak.workersAfter}.`,
    '',
    '| 100 000 empty jobs | goroutines alive at peak | heap at peak | linear memory | wall |',
    '| --- | --- | --- | --- | --- |',
    ...['fanout', 'pool'].map((k) => {
      const u = r.unbounded[k];
      return `| ${k === 'fanout' ? 'unbounded fan-out' : `pool of ${N}`} | ${u.tasksPeak} | ${(u.heapPeak / 1048576).toFixed(1)} MiB | ${(u.linear / 1048576).toFixed(1)} MiB | ${fmt(u.wallMs, 0)} ms |`;
    }),
    '',
  ];
  lines.push(
    '## 8. Concurrency sweep (the lab)',
    '',
    `The same set-up as a worker pool at 1…${r.sweep.sweep.maxWorkers} workers, ${r.sweep.sweep.repetitions} repetitions each after ${r.sweep.sweep.warmup} warm-up: CPU jobs (primes in 200 000 numbers, 300 jobs) and I/O-like jobs (a 5 ms wait, 300 jobs). Throughput in jobs/s, median (min–max); the Universal Scalability Law X(N) = λN / (1 + σ(N−1) + κN(N−1)) fitted to every run; recommended = the most workers whose efficiency stays above ${r.sweep.sweep.threshold}.`,
    '',
    '| workers | CPU jobs/s | CPU efficiency | I/O jobs/s | I/O efficiency |',
    '| --- | --- | --- | --- | --- |',
  );
  const curve = (kind) => r.sweep.curves.find((c) => c.curve === kind);
  const cpuCurve = curve('cpu');
  const ioCurve = curve('io');
  for (let i = 0; i < cpuCurve.points.length; i++) {
    const c = cpuCurve.points[i];
    const o = ioCurve.points[i];
    lines.push(
      `| ${c.workers} | ${fmt(c.median, 0)} (${fmt(c.min, 0)}–${fmt(c.max, 0)}) | ${fmt(c.efficiency * 100, 0)}% | ${fmt(o.median, 0)} (${fmt(o.min, 0)}–${fmt(o.max, 0)}) | ${fmt(o.efficiency * 100, 0)}% |`,
    );
  }
  const fitLine = (name, c) => {
    const f = c.fit;
    if (!f) return `- ${name}: no fit; recommended ${c.recommended ?? '—'} workers.`;
    const peak = f.peakWorkers == null ? 'none in range (keeps rising)' : fmt(f.peakWorkers, 1);
    return `- ${name}: σ = ${f.sigma.toExponential(2)}, κ = ${f.kappa.toExponential(2)}, λ = ${fmt(f.lambda, 0)} jobs/s, R² = ${fmt(f.rSquared, 3)}, predicted peak at ${peak} workers; recommended ${c.recommended ?? '—'} workers.`;
  };
  lines.push('', fitLine('CPU', cpuCurve), fitLine('I/O', ioCurve), '');
  if (r.limiterNative) {
    lines.push(
      '## 9. Native limiter cost (criterion, from benches/RESULTS.md)',
      '',
      '| case | scalelab explicit | scalelab with clock | governor | ratio (clock) |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const row of r.limiterNative.rows) {
      const f = (e) => (e ? `${e.ns.toFixed(2)} ns` : '—');
      lines.push(
        `| ${row.group} | ${f(row.explicit)} | ${f(row.clock)} | ${f(row.governor)} | ${row.clockRatio ? `${row.clockRatio.toFixed(2)}×` : '—'} |`,
      );
    }
    lines.push('');
  }
  lines.push(...elasticSection(r));
  if (r.load) lines.push(loadSection(r.load), '');
  if (r.goPrograms) lines.push(goProgramSection(r.goPrograms), '');
  if (r.startup) lines.push(startupSection(r.startup), '');
  if (r.firefox) lines.push(browsersSection(r), '');
  return lines.join('\n');
}

/** Wall time per empty job at N workers: scalelab (from the dispatch runs) and Go. */
function wallPerJob(r) {
  return { oursNs: oursWallNs(r.dispatch, r.threads), goNs: 1e9 / r.goDispatch.median };
}

/** Wall time per empty job (ns) of the dispatch runs `d` on `threads` workers: each job's
 * overhead plus its own time, shared by the threads. */
function oursWallNs(d, threads) {
  return ((spread(d.ours[0]).median + spread(d.oursJobUs[0]).median) * 1000) / threads;
}

function elasticHeadline(r) {
  const a = r.autoscalers;
  const settled = (x) => x.settledAt != null && x.settledAt <= 5000;
  const memory = r.scale.memory;
  const short = memory[0].end;
  const long = memory[1].end;
  const peakMiB = Math.max(...memory.map((m) => m.peak)) / 1048576;
  const { oursNs, goNs } = wallPerJob(r);
  const overhead0 = spread(r.dispatch.ours[0]).median;
  return [
    `| resize latency p99, 1 ms CPU jobs: grow → first job on a new worker / shrink → removed workers gone | ${fmt(r.resize.grow.p99)} ms / ${fmt(r.resize.shrink.p99)} ms | ≤ 5 ms both ${pass(r.resize.grow.p99 <= 5 && r.resize.shrink.p99 <= 5)} |`,
    `| resize storm: ${r.storm.asked} random resizes (0–64) in one run | identity ${r.storm.identity ? 'exact' : 'BROKEN'}, ${r.storm.duplicates} duplicates, final ${r.storm.finalLimit} = last asked ${r.storm.last}, Web Workers ${r.storm.workersBefore} → ${r.storm.workersAfter} | exact, 0, equal, constant ${pass(r.storm.identity && r.storm.duplicates === 0 && r.storm.finalLimit === r.storm.last && r.storm.workersBefore === r.storm.workersAfter)} |`,
    `| adaptive concurrency on a backend of 8 slots: settled within ±25% of 8 (AIMD / Gradient2) | at ${fmt((a.aimd.settledAt ?? Number.NaN) / 1000, 2)} s / ${fmt((a.gradient2.settledAt ?? Number.NaN) / 1000, 2)} s | within 5 s ${pass(settled(a.aimd) && settled(a.gradient2))} |`,
    `| queue target 10 on paced CPU jobs: queue length p95 | ${a.queue.p95} jobs | ≤ 20 (2× target) ${pass(a.queue.p95 <= 20)} |`,
    `| ${r.scale.jobs.toLocaleString('en')} empty jobs in the page: counts, longest main-thread task, wasm memory peak | ${r.scale.identity && r.scale.completed === r.scale.jobs ? 'exact' : 'WRONG'}, ${r.scale.longTasks ? `${fmt(r.scale.longest, 0)} ms` : 'none over 50 ms'}, ${fmt(peakMiB, 1)} MiB | exact, ≤ 50 ms, ≤ 64 MiB ${pass(r.scale.identity && r.scale.completed === r.scale.jobs && r.scale.longTasks === 0 && peakMiB <= 64)} |`,
    `| wasm memory after a ${memory[1].duration / 1000} s run vs a ${memory[0].duration / 1000} s one | ${long} vs ${short} B (${fmt((long / short - 1) * 100, 1)}%) | within 5% ${pass(Math.abs(long / short - 1) <= 0.05)} |`,
    `| per-job overhead, empty jobs (dispatch must not regress) | ${fmt(overhead0, 2)} µs; wall per job at ${r.threads} workers ${fmt(oursNs, 0)} ns vs Go's channel pool ${fmt(goNs, 0)} ns (${fmt(oursNs / goNs, 1)}×) | ≤ 1.6 µs ${pass(overhead0 <= 1.6)}; goal ≤ 2× Go |`,
  ];
}

function elasticSection(r) {
  const a = r.autoscalers;
  const trace = (x) => x.trace.map(([t, l]) => `${fmt(t / 1000, 1)}s:${l}`).join(' ');
  return [
    '## 10. The elastic pool',
    '',
    `Resize latency, end to end from the page's \`resize()\` (${r.resize.rounds} rounds of 2 → 4 → 2 workers on 1 ms spins, ${r.threads} pool threads): grow, to the first job a new worker took: ${mmm(r.resize.grow, 2)} ms, p99 ${fmt(r.resize.grow.p99, 2)} ms; shrink, to the last removed worker leaving after its job: ${mmm(r.resize.shrink, 2)} ms, p99 ${fmt(r.resize.shrink.p99, 2)} ms. From when the engine applied it (without the message from the page): grow p99 ${fmt(r.resize.growEngine.p99, 2)} ms, shrink p99 ${fmt(r.resize.shrinkEngine.p99, 2)} ms. A removed worker finishes the job it holds — running, or handed to it while it waited for a thread (four workers take turns on two threads) — so a shrink takes up to about two jobs.`,
    '',
    `Storm: ${r.storm.asked} resizes (graceful or stop now) during one run of ${r.storm.counts.submitted} I/O-like jobs: ${r.storm.counts.completed} completed + ${r.storm.counts.cancelled} cancelled (stop now) + ${r.storm.counts.notStarted} not started; ${r.storm.logged} resizes logged.`,
    '',
    `Adaptive concurrency on the simulated backend (8 slots, 10 ms each), starting from 1 worker; the limit (target) every ~0.5 s:`,
    '',
    `- AIMD (cut above 11 ms): settled at ${fmt((a.aimd.settledAt ?? Number.NaN) / 1000, 2)} s; second half ${a.aimd.lateMin}–${a.aimd.lateMax} (mean ${fmt(a.aimd.lateMean, 1)}). Trace: ${trace(a.aimd)}`,
    `- Gradient2 (headroom 1): settled at ${fmt((a.gradient2.settledAt ?? Number.NaN) / 1000, 2)} s; second half ${a.gradient2.lateMin}–${a.gradient2.lateMax} (mean ${fmt(a.gradient2.lateMean, 1)}). Trace: ${trace(a.gradient2)}`,
    `- Queue target 10 (cooldown 200 ms), 1 ms CPU spins paced at ${a.queue.rate}/s: queue length p50 ${a.queue.p50}, p95 ${a.queue.p95}, max ${a.queue.max}; ${a.queue.resizes} resizes.`,
    '',
    `Runs of any length: ${r.scale.jobs.toLocaleString('en')} empty jobs through the page's form in ${fmt(r.scale.wallS, 1)} s. Engine memory (linear memory at the end / peak, B): ${r.scale.memory.map((m) => `${m.duration ? `${m.duration / 1000} s run` : `${m.submitted.toLocaleString('en')} jobs`} ${m.end} / ${m.peak}`).join('; ')}.`,
    '',
  ];
}

/** `--report-only`: rewrite bench/RESULTS.md from bench/results.json (after a change
 * to the report's layout; measures nothing). */
function reportOnly() {
  const r = JSON.parse(readFileSync(path.join(ROOT, 'bench', 'results.json'), 'utf8'));
  writeFileSync(path.join(ROOT, 'bench', 'RESULTS.md'), markdown(r));
  log('rewrote bench/RESULTS.md from bench/results.json');
}

if (process.argv.includes('--report-only')) reportOnly();
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
