// The open-loop benchmarks (issue 15), run by bench/run.mjs in the harness page and the
// app page: the generator's accuracy from 10 to 100,000 jobs/s and a Kolmogorov–Smirnov
// test of its Poisson gaps; coordinated omission (a 200 ms pause of the pool at
// 1,000 jobs/s, corrected vs uncorrected p99); an M/M/c grid on real threads against
// Erlang C; and 10× overload for 30 s with reject-new (memory, main-thread tasks,
// accounting). The Erlang C table on simulated time comes from `cargo bench --bench
// queueing`.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { longTasks, openPlayground } from './playground.mjs';
import { fmt, pass } from './stats.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Achieved ÷ configured rate of a constant-rate generator, 10 to 100,000 jobs/s. */
export async function generatorAccuracy(page, quick) {
  const rates = [10, 100, 1000, 10000, 100000];
  const rows = await page.evaluate(
    async ({ rates, quick }) => {
      const out = [];
      for (const rate of rates) {
        // Long enough for 50+ gaps at the slowest rate, ~2 s at the others.
        const duration = rate <= 10 ? (quick ? 2000 : 5000) : rate <= 100 ? 3000 : 2000;
        const r = await engine.run({
          pattern: 'pool',
          arrival: 'constant',
          arrivalRate: rate,
          duration,
          jobs: 10000000,
          workload: 'sleep',
          cost: 0,
          workers: 64,
          queue: 10000,
          overload: 'reject',
        });
        out.push({
          rate,
          duration,
          configured: r.generator.configuredRate,
          achieved: r.generator.achievedRate,
          lagMs: r.generator.lagMs,
          meanLagMs: r.generator.meanLagMs,
          offered: r.generator.offered,
          rejected: r.counts.rejected,
          identity: r.identityHolds,
        });
      }
      return out;
    },
    { rates, quick },
  );
  for (const row of rows) row.ratio = row.achieved / row.configured;
  return rows;
}

/** The Kolmogorov–Smirnov statistic of `gaps` against Exp(rate). */
function ksExponential(gaps, rate) {
  const sorted = [...gaps].sort((a, b) => a - b);
  const n = sorted.length;
  let d = 0;
  sorted.forEach((x, i) => {
    const cdf = 1 - Math.exp(-rate * x);
    d = Math.max(d, Math.abs(cdf - i / n), Math.abs((i + 1) / n - cdf));
  });
  return d;
}

/** Poisson arrivals at 1,000/s: the intended gaps of the kept jobs against Exp(1000). */
export async function poissonGaps(page) {
  const rate = 1000;
  const intended = await page.evaluate(async (rate) => {
    const r = await engine.run({
      pattern: 'pool',
      arrival: 'poisson',
      arrivalRate: rate,
      jobs: 5000,
      workload: 'sleep',
      cost: 0,
      workers: 16,
      queue: 10000,
    });
    const ids = Array.from(r.jobs.id);
    const times = Array.from(r.jobs.intendedMs);
    return ids.map((id, i) => [id, times[i]]).sort((a, b) => a[0] - b[0]);
  }, rate);
  const gaps = [];
  for (let i = 1; i < intended.length; i++) {
    if (intended[i][0] === intended[i - 1][0] + 1) gaps.push((intended[i][1] - intended[i - 1][1]) / 1000);
  }
  const d = ksExponential(gaps, rate);
  const critical = 1.358 / Math.sqrt(gaps.length);
  return { rate, gaps: gaps.length, d, critical, passes: d < critical };
}

/** 1,000 jobs/s into a pool that is paused for 200 ms once (resize to 0 and back). */
export async function coordinatedOmission(page) {
  return page.evaluate(async () => {
    const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    const run = engine.start({
      pattern: 'pool',
      arrival: 'constant',
      arrivalRate: 1000,
      jobs: 3000,
      workload: 'spin',
      cost: 100,
      workers: 2,
      queue: 1,
      overload: 'block',
    });
    await wait(1000);
    const t0 = performance.now();
    await run.resize(0);
    await wait(200);
    await run.resize(2);
    const pausedMs = performance.now() - t0;
    const r = await run.report;
    return {
      pausedMs,
      corrected: r.latency.fromIntended,
      uncorrected: r.latency.total,
      lagMs: r.generator.lagMs,
      identity: r.identityHolds,
      completed: r.counts.completed,
    };
  });
}

/** Mean service of the real-thread M/M/c runs, ms (browser timers count whole ms). */
const SERVICE_MS = 20;
/** Seed of the real-thread M/M/c runs (the simulated twins use the same). */
const ERLANG_SEED = 7;

/**
 * The real-thread M/M/c grid: enough jobs that a run's own sampling noise stays small —
 * most of all near saturation with few servers (c = 2, ρ = 0.8: 6,000 jobs, 75 s, still
 * left ±20% of noise; 15,000 take about 3 minutes).
 */
export function erlangGrid(quick) {
  return [
    { c: 2, rho: 0.5, jobs: quick ? 400 : 4000 },
    { c: 2, rho: 0.8, jobs: quick ? 400 : 15000 },
    { c: 8, rho: 0.5, jobs: quick ? 800 : 8000 },
    { c: 8, rho: 0.8, jobs: quick ? 800 : 12000 },
  ];
}

/** M/M/c on real threads: Poisson arrivals, exponential I/O-like service of 20 ms. */
export async function erlangReal(page, quick) {
  return page.evaluate(
    async ({ grid, serviceMs, seed }) => {
      const out = [];
      for (const { c, rho, jobs } of grid) {
        const lambda = (rho * c * 1000) / serviceMs;
        const r = await engine.run({
          pattern: 'pool',
          arrival: 'poisson',
          arrivalRate: lambda,
          jobs,
          workload: 'sleep',
          cost: serviceMs * 1000,
          distribution: 'exponential',
          workers: c,
          queue: 100000,
          seed,
        });
        // The theory with the service rate the timers delivered (they round up to whole
        // ms and fire late by a little), and with the configured one.
        const measuredMu = 1000 / r.latency.service.mean;
        const theory = await engine.mmc(lambda, measuredMu, c);
        const nominal = await engine.mmc(lambda, 1000 / serviceMs, c);
        out.push({
          c,
          rho,
          jobs,
          lambda,
          serviceMeanMs: r.latency.service.mean,
          measuredMs: r.latency.queueWait.mean,
          waitP50Ms: r.latency.queueWait.p50,
          theoryMs: theory ? theory.meanWait * 1000 : null,
          nominalMs: nominal ? nominal.meanWait * 1000 : null,
          identity: r.identityHolds,
        });
      }
      return out;
    },
    { grid: erlangGrid(quick), serviceMs: SERVICE_MS, seed: ERLANG_SEED },
  );
}

/**
 * The Erlang C grid on simulated time (`cargo bench --bench queueing`), and the
 * real-thread grid's twins: the same seeds on simulated time.
 */
export function erlangSim(quick) {
  const same = erlangGrid(quick)
    .map(({ c, rho, jobs }) => `${c}:${rho}:${jobs}:${SERVICE_MS * 1000}:${ERLANG_SEED}`)
    .join(',');
  const args = ['bench', '--quiet', '--bench', 'queueing', '--', ...(quick ? ['--quick'] : []), '--same', same];
  const out = execFileSync('cargo', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out.trim().split('\n').pop());
}

/**
 * 10× capacity for 30 s with reject-new, through the page's form: the page's longest
 * main-thread task, wasm memory from second 5 to the end, and the accounting.
 */
export async function overload(context, url, quick) {
  const seconds = quick ? 8 : 30;
  const page = await openPlayground(context, url);
  await page.click('[data-testid="pattern-loadtest"]');
  // 4 workers × 10 ms jobs: capacity ~400 jobs/s; offered 4,000 jobs/s.
  const fields = { arrival: 'constant', arrivalRate: '4000', workers: '4', cost: '10000', queue: '100' };
  for (const [name, value] of Object.entries(fields)) {
    const selector = `[data-testid="field-${name}"]`;
    if ((await page.getAttribute(selector, 'type')) === null) await page.selectOption(selector, value);
    else await page.fill(selector, value);
  }
  await page.selectOption('[data-testid="field-distribution"]', 'fixed');
  await page.selectOption('[data-testid="field-overload"]', 'reject');
  await page.fill('[data-testid="field-duration"]', String(seconds * 1000));
  await page.waitForFunction(() => !document.querySelector('[data-testid="run"]').disabled);
  const clickedAt = await page.evaluate(() => performance.now());
  await page.click('[data-testid="run"]');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="progress-text"]').dataset.state === 'done',
    null,
    { timeout: (seconds + 60) * 1000, polling: 500 },
  );
  const doneAt = await page.evaluate(() => performance.now());
  await page.waitForTimeout(500);
  // The run's long tasks, up to half a second after it ended (the export below is a
  // click of its own, not part of the run).
  const tasks = await longTasks(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  await page.close();
  const report = exported.report;
  const memoryAt = (ms) => {
    const s = report.samples.filter((x) => x.memoryBytes != null && x.tMs >= ms);
    return s.length ? s[0].memoryBytes : null;
  };
  const heap = (from) =>
    Math.max(...report.samples.filter((x) => x.heapBytes != null && x.tMs >= from).map((x) => x.heapBytes));
  const at5 = memoryAt(5000);
  const end = report.memory.endBytes;
  return {
    seconds,
    counts: report.counts,
    identity: report.identityHolds,
    generator: report.generator,
    capacity: report.throughputPerS,
    memory5s: at5,
    memoryEnd: end,
    memoryGrowth: at5 ? end / at5 - 1 : null,
    heapPeakAfter5s: heap(5000),
    heapAt5s: report.samples.find((x) => x.tMs >= 5000)?.heapBytes ?? null,
    longTasks: tasks.length,
    longest: tasks.length ? Math.max(...tasks.map((t) => t.ms)) : 0,
    // When each long task began, ms after Run was clicked (the run took doneAtMs).
    longTaskAt: tasks.map((t) => Math.round(t.at - clickedAt)),
    doneAtMs: Math.round(doneAt - clickedAt),
  };
}

/** The headline rows of the open-loop benchmarks (for the README's table). */
export function loadHeadline(r) {
  const worst = Math.max(...r.generator.map((g) => Math.abs(g.ratio - 1)));
  const co = r.coordinatedOmission;
  const simWorst = Math.max(...r.erlangSim.rows.map((e) => Math.abs(e.error)));
  const realWorst = Math.max(...r.erlangReal.map((e) => Math.abs(e.measuredMs / e.theoryMs - 1)));
  const o = r.overload;
  return [
    `| generator, achieved ÷ configured rate, 10–100 000 jobs/s (constant) | worst ${fmt(worst * 100, 2)}% | ±1% ${pass(worst <= 0.01)} |`,
    `| Poisson gaps, Kolmogorov–Smirnov at 5% (${r.poisson.gaps} gaps) | D ${fmt(r.poisson.d, 4)} vs ${fmt(r.poisson.critical, 4)} | pass ${pass(r.poisson.passes)} |`,
    `| 200 ms pause at 1 000 jobs/s: p99 corrected / uncorrected | ${fmt(co.corrected.p99, 1)} ms / ${fmt(co.uncorrected.p99, 1)} ms | ≥ 100 ms / hides it ${pass(co.corrected.p99 >= 100 && co.uncorrected.p99 < 100)} |`,
    `| M/M/c mean queue wait vs Erlang C, simulated time (c 1/2/8, ρ 0.5–0.9, ${(r.erlangSim.rows[0]?.jobs ?? 0).toLocaleString('en')} jobs) | worst ${fmt(simWorst * 100, 2)}% | ≤ 3% ${pass(simWorst <= 0.03)} |`,
    `| M/M/c mean queue wait vs Erlang C, real threads (I/O-like, ρ ≤ 0.8) | worst ${fmt(realWorst * 100, 1)}% | ≤ 15% ${pass(realWorst <= 0.15)} |`,
    `| 10× overload for ${o.seconds} s, reject-new: memory s5→end, longest page task, identity | ${fmt((o.memoryGrowth ?? Number.NaN) * 100, 1)}%, ${o.longTasks ? `${fmt(o.longest, 0)} ms` : 'none over 50 ms'}, ${o.identity ? 'exact' : 'WRONG'} | ≤ 5%, ≤ 50 ms, exact ${pass((o.memoryGrowth ?? 1) <= 0.05 && o.longTasks === 0 && o.identity)} |`,
  ];
}

/** The section of RESULTS.md on open-loop load. */
export function loadSection(r) {
  const lines = ['', '## Open-loop load', ''];
  lines.push(
    'Generator accuracy (constant arrivals, I/O-like 0 µs jobs, 64 workers, reject when full):',
    '',
    '| rate (jobs/s) | configured | achieved | ratio | max lag (ms) | mean lag (ms) | offered | rejected |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.generator.map(
      (g) =>
        `| ${g.rate} | ${fmt(g.configured, 2)} | ${fmt(g.achieved, 2)} | ${fmt(g.ratio, 4)} | ${fmt(g.lagMs, 1)} | ${fmt(g.meanLagMs, 2)} | ${g.offered} | ${g.rejected} |`,
    ),
    '',
    `Coordinated omission: the pool paused for ${fmt(r.coordinatedOmission.pausedMs, 0)} ms (page timers) at t = 1 s; ` +
      `p50/p99/max from the intended start ${fmt(r.coordinatedOmission.corrected.p50)}/${fmt(r.coordinatedOmission.corrected.p99, 1)}/${fmt(r.coordinatedOmission.corrected.max, 1)} ms, ` +
      `from enqueue ${fmt(r.coordinatedOmission.uncorrected.p50)}/${fmt(r.coordinatedOmission.uncorrected.p99, 1)}/${fmt(r.coordinatedOmission.uncorrected.max, 1)} ms; ` +
      `the generator fell ${fmt(r.coordinatedOmission.lagMs, 0)} ms behind.`,
    '',
    `Erlang C, simulated time (mean queue wait, 1 ms exponential service, ${(r.erlangSim.rows[0]?.jobs ?? 0).toLocaleString('en')} jobs per cell; over 100,000 jobs a run's mean wait near saturation is itself noisy — about ±6.7% for M/M/1 at ρ = 0.9 — so the cells run 4 million):`,
    '',
    '| c | ρ | measured (ms) | Erlang C (ms) | error |',
    '| ---: | ---: | ---: | ---: | ---: |',
    ...r.erlangSim.rows.map(
      (e) => `| ${e.c} | ${e.rho} | ${fmt(e.measuredMs, 4)} | ${fmt(e.theoryMs, 4)} | ${fmt(e.error * 100, 2)}% |`,
    ),
    '',
    "Erlang C, real threads (20 ms exponential I/O-like service on browser timers; the formula with the service rate the timers delivered, and with the nominal 20 ms; and the same seed on simulated time — the run's own sampling noise without the timers):",
    '',
    '| c | ρ | jobs | mean service (ms) | measured wait (ms) | Erlang C (ms) | error | nominal (ms) | same seed, simulated (ms) | real ÷ simulated |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.erlangReal.map((e, i) => {
      const twin = r.erlangSim.same[i]?.measuredMs;
      return `| ${e.c} | ${e.rho} | ${e.jobs} | ${fmt(e.serviceMeanMs, 2)} | ${fmt(e.measuredMs, 3)} | ${fmt(e.theoryMs, 3)} | ${fmt((e.measuredMs / e.theoryMs - 1) * 100, 1)}% | ${fmt(e.nominalMs, 3)} | ${fmt(twin, 3)} | ${fmt(e.measuredMs / twin, 2)} |`;
    }),
    '',
    `Overload: ${r.overload.generator ? fmt(r.overload.generator.achievedRate, 0) : '—'} jobs/s offered to a pool completing ${fmt(r.overload.capacity, 0)} jobs/s for ${r.overload.seconds} s; ` +
      `${r.overload.counts.completed.toLocaleString('en')} completed, ${r.overload.counts.rejected.toLocaleString('en')} rejected of ${r.overload.counts.submitted.toLocaleString('en')}; ` +
      `wasm memory ${r.overload.memory5s} B at 5 s, ${r.overload.memoryEnd} B at the end; heap ${r.overload.heapAt5s} B at 5 s, peak after ${r.overload.heapPeakAfter5s} B.`,
  );
  return lines.join('\n');
}
