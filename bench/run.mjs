// Browser benchmarks: drives headless Chromium (playwright-core) against the engine
// harness page served by scalelab-serve, runs each scenario several times in the same
// page, and writes bench/results.json and bench/RESULTS.md. Every comparison is a
// ratio measured in this one run; min/median/max are reported so noise stays visible.
//
// Usage: node bench/run.mjs [--quick]    (./build.sh bench runs it)

import { writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, openPage, startServer } from '../tests/e2e/harness.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const QUICK = process.argv.includes('--quick');
const REPS = QUICK ? 2 : 5;

/** min / median / max (and p50/p99 for latency lists). */
function spread(values) {
  const s = [...values].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  return { n: s.length, min: s[0], median: at(50), max: s[s.length - 1], p50: at(50), p99: at(99) };
}

const fmt = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '—');
const mmm = (s, digits = 2, unit = '') => `${fmt(s.median, digits)}${unit} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;

/** Scenario: the same CPU kernel at 1 worker and at every pool thread. */
async function cpuScaling(page, threads) {
  const settings = { pattern: 'pool', workload: 'primes', cost: 200000, jobs: QUICK ? 200 : 600, queue: 64 };
  const result = await page.evaluate(
    async ({ settings, threads, reps }) => {
      await engine.run({ ...settings, jobs: 50 }); // warm-up
      const at = {};
      for (const workers of [1, threads]) {
        at[workers] = [];
        for (let r = 0; r < reps; r++) {
          const report = await engine.run({ ...settings, workers });
          at[workers].push(report.throughputPerS);
        }
      }
      return at;
    },
    { settings, threads, reps: REPS },
  );
  const one = spread(result[1]);
  const many = spread(result[threads]);
  return { settings, threads, throughput1: one, throughputN: many, speedup: many.median / one.median, efficiency: many.median / one.median / threads };
}

/** Scenario: per-job cost of the pool itself, on empty jobs. */
async function dispatchOverhead(page, threads) {
  const jobs = QUICK ? 20000 : 50000;
  const result = await page.evaluate(
    async ({ jobs, threads, reps }) => {
      await engine.run({ workload: 'spin', cost: 0, jobs: 5000, workers: threads, queue: 1024 }); // warm-up
      const out = { pool: [], fanout: [] };
      for (let r = 0; r < reps; r++) {
        const pool = await engine.run({ pattern: 'pool', workload: 'spin', cost: 0, jobs, workers: threads, queue: 1024 });
        out.pool.push((pool.wallMs * 1000) / jobs);
        const fanout = await engine.run({ pattern: 'fanout', workload: 'spin', cost: 0, jobs });
        out.fanout.push((fanout.wallMs * 1000) / jobs);
      }
      return out;
    },
    { jobs, threads, reps: REPS },
  );
  return { jobs, workers: threads, poolUsPerJob: spread(result.pool), fanoutUsPerJob: spread(result.fanout) };
}

/** Scenario: abort -> last job stopped, with 1 ms CPU jobs. */
async function cancellationLatency(page, threads, jobMicros) {
  const runs = QUICK ? 20 : 60;
  const result = await page.evaluate(
    async ({ runs, threads, jobMicros }) => {
      const engineSide = [];
      const endToEnd = [];
      let startedAfter = 0;
      for (let i = 0; i < runs; i++) {
        const controller = new AbortController();
        let abortedAt = 0;
        // Cancel at a different point of each run: after 3 + (i mod 7) batches.
        let batches = 0;
        const report = await engine.run(
          { workload: 'spin', cost: jobMicros, jobs: Math.floor(40_000_000 / jobMicros), workers: threads * 2, queue: 64, seed: i },
          {
            signal: controller.signal,
            onProgress: () => {
              if (++batches === 3 + (i % 7) && !abortedAt) {
                abortedAt = performance.timeOrigin + performance.now();
                controller.abort('bench');
              }
            },
          },
        );
        const c = report.cancellation;
        engineSide.push(c.latencyMs);
        endToEnd.push(report.clockEpochMs + c.lastStopMs - abortedAt);
        startedAfter += c.startedAfter;
      }
      return { engineSide, endToEnd, startedAfter };
    },
    { runs, threads, jobMicros },
  );
  return { runs, jobMs: jobMicros / 1000, engineSide: spread(result.engineSide), endToEnd: spread(result.endToEnd), startedAfter: result.startedAfter };
}

async function main() {
  const server = await startServer();
  const browser = await launchBrowser();
  const { page, problems } = await openPage(browser.context, new URL('harness/', server.url).href);
  await page.waitForSelector('html[data-ready="true"]');
  const threads = await page.evaluate(async () => {
    globalThis.engine = await globalThis.scalelab.Engine.start();
    return engine.info.threads;
  });
  const browserVersion = browser.context.browser()?.version() ?? 'Chromium';
  const results = { date: new Date().toISOString(), quick: QUICK, machine: `${os.cpus()[0]?.model}, ${os.cpus().length} cores`, browser: browserVersion, threads };

  console.log(`[bench] ${results.machine}; ${browserVersion}; pool of ${threads} threads; ${QUICK ? 'quick' : 'full'} run`);
  results.cpuScaling = await cpuScaling(page, threads);
  console.log(`[bench] CPU scaling: speedup ${fmt(results.cpuScaling.speedup)}x at ${threads} workers`);
  results.dispatch = await dispatchOverhead(page, threads);
  console.log(`[bench] dispatch: pool ${fmt(results.dispatch.poolUsPerJob.median)} us/job, fan-out ${fmt(results.dispatch.fanoutUsPerJob.median)} us/job`);
  results.cancel1ms = await cancellationLatency(page, threads, 1000);
  results.cancel10ms = await cancellationLatency(page, threads, 10000);
  console.log(`[bench] cancellation (1 ms jobs): p50 ${fmt(results.cancel1ms.endToEnd.p50)} ms, p99 ${fmt(results.cancel1ms.endToEnd.p99)} ms`);
  if (problems.length) throw new Error(`page problems during the benchmark: ${problems.join('; ')}`);
  await browser.close();
  await server.stop();

  writeFileSync(path.join(ROOT, 'bench', 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(path.join(ROOT, 'bench', 'RESULTS.md'), markdown(results));
  console.log(markdown(results));
}

function markdown(r) {
  const s = r.cpuScaling;
  const d = r.dispatch;
  const c1 = r.cancel1ms;
  const c10 = r.cancel10ms;
  return [
    '# Browser benchmarks',
    '',
    `- Date: ${r.date.slice(0, 10)}; machine: ${r.machine}; browser: headless Chromium ${r.browser}; pool: ${r.threads} threads`,
    `- Command: \`./build.sh bench\`${r.quick ? ' (quick run: `--quick`)' : ''}; every figure is median (min–max) over the repetitions of one run`,
    `- Rustc: ${execSync('rustc --version').toString().trim()}`,
    '',
    '## CPU scaling (primes, pool)',
    '',
    '| workers | throughput (jobs/s) |',
    '| --- | --- |',
    `| 1 | ${mmm(s.throughput1, 1)} |`,
    `| ${s.threads} | ${mmm(s.throughputN, 1)} |`,
    '',
    `Speedup ${fmt(s.speedup)}× on ${s.threads} threads (efficiency ${fmt(s.efficiency * 100, 1)}%); ${s.settings.jobs} jobs of ${s.settings.cost} numbers.`,
    '',
    '## Dispatch overhead (empty jobs)',
    '',
    '| pattern | µs per job (wall / jobs) |',
    '| --- | --- |',
    `| pool, ${d.workers} workers | ${mmm(d.poolUsPerJob, 3)} |`,
    `| fan-out | ${mmm(d.fanoutUsPerJob, 3)} |`,
    '',
    `${d.jobs} jobs of \`spin\` with cost 0 per run.`,
    '',
    '## Cancellation latency (abort → last job stopped)',
    '',
    '| CPU job length | runs | end to end p50 / p99 (ms) | engine side p50 / p99 (ms) | jobs started after abort |',
    '| --- | --- | --- | --- | --- |',
    `| ${c1.jobMs} ms | ${c1.runs} | ${fmt(c1.endToEnd.p50, 3)} / ${fmt(c1.endToEnd.p99, 3)} | ${fmt(c1.engineSide.p50, 3)} / ${fmt(c1.engineSide.p99, 3)} | ${c1.startedAfter} |`,
    `| ${c10.jobMs} ms | ${c10.runs} | ${fmt(c10.endToEnd.p50, 3)} / ${fmt(c10.endToEnd.p99, 3)} | ${fmt(c10.engineSide.p50, 3)} / ${fmt(c10.engineSide.p99, 3)} | ${c10.startedAfter} |`,
    '',
    '*End to end*: from `AbortController.abort()` on the page to the last running job stopping',
    "(the abort crosses to the engine's worker as a message, then reaches the jobs through shared",
    'memory). *Engine side*: from the run token being cancelled to the last job stopping.',
    '',
  ].join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
