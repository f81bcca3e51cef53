// The engine's JavaScript API in headless Chromium: runs, validation, AbortSignal
// cancellation and timeouts, and a soak of short runs (worker count and wasm memory).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, openPage, startServer } from './harness.mjs';

let server;
let browser;
let page;
let problems;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  ({ page, problems } = await openPage(browser.context, new URL('harness/', server.url).href));
  await page.waitForSelector('html[data-ready="true"]');
  await page.evaluate(async () => {
    globalThis.engine = await globalThis.scalelab.Engine.start();
  });
});

after(async () => {
  assert.deepEqual(problems, []);
  await browser?.close();
  await server?.stop();
});

test('every pattern runs and accounts for every job', async () => {
  const reports = await page.evaluate(async () => {
    const out = [];
    for (const pattern of ['pool', 'fanout', 'failfast', 'ratelimit', 'pipeline']) {
      for (const workload of ['primes', 'sleep']) {
        const r = await engine.run({
          pattern,
          workload,
          jobs: 30,
          cost: workload === 'sleep' ? 500 : 20000,
          rate: 1000,
        });
        out.push({
          pattern,
          workload,
          counts: r.counts,
          identity: r.identityHolds,
          jobs: r.jobs.length,
          outcomes: Array.from(r.jobs.outcome),
        });
      }
    }
    return out;
  });
  for (const r of reports) {
    assert.equal(r.identity, true, `${r.pattern}/${r.workload}`);
    assert.equal(r.counts.completed, 30, `${r.pattern}/${r.workload}`);
    // A pipeline's records are its stage passes: 30 jobs through the default's 3 stages.
    assert.equal(r.jobs, r.pattern === 'pipeline' ? 90 : 30);
    assert.ok(r.outcomes.every((o) => o === 1));
  }
});

test('bad settings reject with the field, value and range, and nothing starts', async () => {
  const result = await page.evaluate(async () => {
    const errors = [];
    for (const settings of [{ workers: 0 }, { jobs: 'lots' }, { pattern: 'pipes' }, { rate: Infinity }, [1, 2]]) {
      try {
        await engine.run(settings);
        errors.push('resolved');
      } catch (err) {
        errors.push(err.message);
      }
    }
    const validation = await engine.validate({ workers: 2.5, failure: -1 });
    const after = await engine.run({ jobs: 3 });
    return { errors, validation, after: after.counts.completed };
  });
  assert.deepEqual(result.errors, [
    'workers: 0 is out of range; allowed: a whole number 1–256 goroutines',
    'jobs: lots is not a number; allowed: a whole number 1–10000000 jobs',
    'pattern: pipes is not one of the choices; allowed: pool, fanout, failfast, ratelimit, pipeline',
    'rate: Infinity is out of range; allowed: 0.1–100000 jobs/s',
    'settings: expected an object such as { pattern: "pool", workers: 4 }',
  ]);
  assert.deepEqual(
    result.validation.map((e) => e.field),
    ['workers', 'failure'],
  );
  assert.equal(result.after, 3, 'the engine still works after refusals');
});

test('goProgram: a Go program for any set-up, the accounting line and checksum in the report; bad settings throw', async () => {
  const result = await page.evaluate(async () => {
    const settings = { pattern: 'fanout', workload: 'sha256', cost: 300, jobs: 30, seed: 5, failure: 0.1 };
    const report = await engine.run(settings);
    const program = await engine.goProgram(settings);
    const scaled = await engine.goProgram({ pattern: 'pool', scaling: 'aimd' });
    let refused = '';
    try {
      await engine.goProgram({ workers: 0 });
    } catch (err) {
      refused = err.message;
    }
    return {
      accounting: report.accounting,
      checksum: report.resultChecksum,
      program,
      scaled,
      refused,
      timeUse: report.timeUse,
    };
  });
  assert.match(result.checksum, /^\d+$/);
  const t = result.timeUse;
  assert.ok(t.runningMs > 0 && Math.abs(t.goroutineMs - (t.runningMs + t.backendWaitMs + t.waitingMs)) < 1e-6);
  assert.ok(result.accounting.endsWith(`checksum=${result.checksum}`));
  assert.match(result.accounting, /^accounting: submitted=30 completed=\d+ failed=\d+ cancelled=0 notStarted=0 /);
  assert.match(result.program.source, /\npackage main\n/);
  assert.match(result.program.source, /seed += uint64\(5\)/);
  assert.deepEqual(result.program.notes, []);
  assert.deepEqual(result.program.modules, []);
  assert.equal(result.scaled.notes.length, 1);
  assert.match(result.scaled.notes[0], /^scaling=aimd: /);
  assert.match(result.scaled.source, /\/\/ Note: scaling=aimd: /);
  assert.equal(result.refused, 'workers: 0 is out of range; allowed: a whole number 1–256 goroutines');
});

test('toTraceEvents: every job of the table exactly once with its start and duration; counters, a resize and the deadline', async () => {
  const { trace, jobs, cancelAtMs } = await page.evaluate(async () => {
    const run = engine.start({
      pattern: 'pool',
      workload: 'spin',
      cost: 2000,
      jobs: 400,
      workers: 2,
      failure: 0.1,
      timeout: 150,
    });
    await run.resize(3);
    const report = await run.report;
    return {
      trace: JSON.parse(JSON.stringify(scalelab.toTraceEvents(report))),
      jobs: scalelab.jobRecords(report.jobs),
      cancelAtMs: report.cancellation?.atMs,
    };
  });
  const us = (ms) => Math.round(ms * 1000);
  const byId = new Map();
  for (const e of trace.traceEvents) {
    if (e.args?.id === undefined) continue;
    byId.set(e.args.id, [...(byId.get(e.args.id) ?? []), e]);
  }
  assert.equal(byId.size, jobs.length, 'no event for a job outside the table');
  let ran = 0;
  for (const job of jobs) {
    const events = byId.get(job.id) ?? [];
    assert.equal(events.length, 1, `job ${job.id} appears once`);
    const [e] = events;
    assert.equal(e.args.outcome, job.outcome);
    if (job.startedMs === null) {
      assert.equal(e.ph, 'i', `job ${job.id} never ran: an instant`);
    } else {
      ran++;
      assert.equal(e.ph, 'X');
      assert.equal(e.ts, us(job.startedMs), `job ${job.id} start`);
      assert.equal(e.dur, us(job.finishedMs) - us(job.startedMs), `job ${job.id} duration`);
      const track = trace.traceEvents.find((m) => m.ph === 'M' && m.name === 'thread_name' && m.tid === e.tid);
      assert.equal(track?.args.name, `worker ${job.worker}`);
    }
  }
  assert.ok(ran > 0 && ran < jobs.length, 'the deadline left jobs that never ran');
  const counters = new Set(trace.traceEvents.filter((e) => e.ph === 'C').map((e) => e.name));
  for (const name of ['queue length', 'busy workers', 'workers alive', 'worker limit'])
    assert.ok(counters.has(name), `counter track ${name}`);
  const deadline = trace.traceEvents.find((e) => e.name === 'deadline');
  assert.equal(deadline?.ts, us(cancelAtMs));
  assert.ok(trace.traceEvents.some((e) => e.cat === 'resize' && e.args.to === 3));
});

test('the server sends the wasm gzipped to a browser that accepts it, with the isolation headers', async () => {
  const url = new URL('pkg/scalelab_bg.wasm', server.url);
  const zipped = await fetch(url, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(zipped.headers.get('content-encoding'), 'gzip');
  assert.equal(zipped.headers.get('cross-origin-embedder-policy'), 'require-corp');
  const plain = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
  assert.equal(plain.headers.get('content-encoding'), null);
  // fetch decompresses: the same module either way.
  assert.deepEqual(new Uint8Array(await zipped.arrayBuffer()), new Uint8Array(await plain.arrayBuffer()));
});

test('an open-loop run: stages as a list, overload policies, the generator report and both latencies', async () => {
  const r = await page.evaluate(async () => {
    const base = { pattern: 'pool', workload: 'sleep', cost: 2000, workers: 2, queue: 5, jobs: 1000000 };
    const staged = await engine.run({
      ...base,
      arrival: 'stages',
      arrivalRate: 50,
      stages: [
        { durationMs: 300, rate: 200 },
        { durationMs: 300, rate: 200 },
      ],
    });
    const rejected = await engine.run({
      ...base,
      arrival: 'constant',
      arrivalRate: 3000,
      duration: 300,
      overload: 'reject',
    });
    const shed = await engine.run({
      ...base,
      arrival: 'poisson',
      arrivalRate: 3000,
      duration: 300,
      overload: 'drop-oldest',
    });
    const bad = [];
    for (const settings of [
      { arrival: 'poisson', arrivalRate: 0 },
      { arrival: 'stages', stages: [{ durationMs: -1, rate: 5 }] },
      { arrival: 'stages', stages: 'soon' },
      { overload: 'reject' },
      { arrival: 'poisson', overload: 'shed', shedAfter: 0 },
      { arrival: 'spike', spikeRate: 1e9 },
    ]) {
      try {
        await engine.run(settings);
        bad.push('accepted');
      } catch (e) {
        bad.push(String(e.message));
      }
    }
    const pick = (x) => ({
      counts: x.counts,
      identity: x.identityHolds,
      generator: x.generator,
      latency: x.latency,
      config: x.config,
    });
    return { staged: pick(staged), rejected: pick(rejected), shed: pick(shed), bad };
  });
  // 50 → 200/s over 0.3 s, then 200/s for 0.3 s: Λ = 37.5 + 60.
  assert.equal(r.staged.identity, true);
  assert.equal(r.staged.counts.submitted, 98);
  assert.equal(r.staged.config.stages, '300:200,300:200', 'the link text of the stage list');
  assert.ok(
    r.staged.generator.achievedRate > 0 && r.staged.generator.configuredRate > 100,
    JSON.stringify(r.staged.generator),
  );
  assert.ok(r.staged.latency.fromIntended.count > 0 && r.staged.latency.total.count > 0);
  for (const [name, run, key] of [
    ['reject', r.rejected, 'rejected'],
    ['drop-oldest', r.shed, 'shed'],
  ]) {
    const c = run.counts;
    assert.equal(run.identity, true, name);
    assert.ok(c[key] > 0, `${name}: ${JSON.stringify(c)}`);
    assert.equal(c.submitted, c.completed + c.failed + c.cancelled + c.notStarted + c.rejected + c.shed, name);
  }
  assert.match(r.bad[0], /^arrivalRate: 0 is out of range; allowed: 0\.1–100000 jobs\/s/);
  assert.match(r.bad[1], /^stages: .* has a stage duration out of range; allowed: up to 32 durationMs:rate pairs/);
  assert.match(r.bad[2], /^stages: soon has a stage that is not durationMs:rate/);
  assert.match(r.bad[3], /^overload: reject needs an open-loop arrival/);
  assert.match(r.bad[4], /^shedAfter: 0 is out of range/);
  assert.match(r.bad[5], /^spikeRate: 1000000000 is out of range/);
});

test('an AbortSignal cancels a run mid-way; the books still balance', async () => {
  const r = await page.evaluate(async () => {
    const controller = new AbortController();
    const report = await engine.run(
      { workload: 'spin', cost: 2000, jobs: 20000, workers: 4 },
      {
        signal: controller.signal,
        onProgress: (b) => b.counts.completed > 0 && controller.abort('user pressed Cancel'),
      },
    );
    return { counts: report.counts, identity: report.identityHolds, cancellation: report.cancellation };
  });
  assert.equal(r.identity, true);
  assert.ok(r.counts.completed > 0 && r.counts.notStarted > 0, JSON.stringify(r.counts));
  assert.equal(r.cancellation.cause, 'user pressed Cancel');
  assert.equal(r.cancellation.startedAfter, 0);
});

test('an abort reaches the running jobs through shared memory alone, cause and kind intact', async () => {
  const r = await page.evaluate(async () => {
    // Drop the cancel messages: only the write to the run's abort slot can stop it.
    const post = engine.worker.postMessage.bind(engine.worker);
    let dropped = 0;
    engine.worker.postMessage = (msg, ...rest) => (msg?.type === 'scalelab:cancel' ? dropped++ : post(msg, ...rest));
    try {
      const reason = `Cancel pressed — ${'é'.repeat(300)}`;
      const controller = new AbortController();
      const cancelled = await engine.run(
        { workload: 'spin', cost: 2000, jobs: 20000, workers: 4 },
        { signal: controller.signal, onProgress: (b) => b.counts.completed > 0 && controller.abort(reason) },
      );
      const timedOut = await engine.run(
        { workload: 'spin', cost: 2000, jobs: 20000, workers: 4 },
        { signal: AbortSignal.timeout(100) },
      );
      return {
        reason,
        dropped,
        cancelled: cancelled.cancellation,
        counts: cancelled.counts,
        timedOut: timedOut.cancellation,
      };
    } finally {
      engine.worker.postMessage = post;
    }
  });
  assert.ok(r.dropped >= 2, 'the cancel messages were dropped');
  assert.equal(r.cancelled.err, 'canceled');
  // The slot holds 244 bytes: the reason is cut there, on a character boundary.
  const expected = new TextDecoder().decode(new TextEncoder().encode(r.reason).slice(0, 244)).replace(/\uFFFD$/, '');
  assert.equal(r.cancelled.cause, expected);
  assert.ok(r.counts.notStarted > 0 && r.cancelled.startedAfter === 0, JSON.stringify(r.counts));
  assert.equal(r.timedOut.err, 'deadline exceeded');
});

test('AbortSignal.timeout reads as a deadline', async () => {
  const r = await page.evaluate(async () => {
    const report = await engine.run(
      { workload: 'sleep', cost: 20000, jobs: 500, workers: 2 },
      { signal: AbortSignal.timeout(60) },
    );
    return report.cancellation;
  });
  assert.equal(r.err, 'deadline exceeded');
});

test('a second run while one is going is refused, not queued', async () => {
  const r = await page.evaluate(async () => {
    const controller = new AbortController();
    const first = engine.run({ workload: 'sleep', cost: 100000, jobs: 100 }, { signal: controller.signal });
    let second;
    try {
      await engine.run({ jobs: 1 });
      second = 'resolved';
    } catch (err) {
      second = err.message;
    }
    controller.abort();
    await first;
    return second;
  });
  assert.match(r, /^engine busy/);
});

test('200 short runs: worker count and wasm memory stay flat', async () => {
  const workersBefore = page.workers().length;
  const r = await page.evaluate(async () => {
    const memory = [];
    for (let i = 0; i < 200; i++) {
      const report = await engine.run({ pattern: i % 2 ? 'pool' : 'fanout', jobs: 50, cost: 5000, seed: i });
      if (!report.identityHolds) throw new Error(`run ${i} lost a job`);
      memory.push(report.memory.endBytes);
    }
    return { afterWarmup: memory[19], end: memory[199], max: Math.max(...memory) };
  });
  console.log(
    `soak: wasm memory after 20 runs ${r.afterWarmup} B, after 200 runs ${r.end} B (max ${r.max} B); workers ${workersBefore} -> ${page.workers().length}`,
  );
  assert.equal(page.workers().length, workersBefore);
  assert.ok(r.end <= r.afterWarmup + 1024 * 1024, `memory grew from ${r.afterWarmup} to ${r.end}`);
});

test('a run is resized and re-paced while it goes; bad changes are refused and change nothing', async () => {
  const out = await page.evaluate(async () => {
    // 1 ms I/O-like jobs on 2 workers: grow to 8, pause, refuse bad sizes, shrink with
    // stop now, and finish on 4.
    const run = engine.start({ pattern: 'pool', workload: 'sleep', cost: 2000, jobs: 600, workers: 2, queue: 64 });
    const wait = (ms) => new Promise((r) => setTimeout(r, ms));
    const refused = async (p) => {
      try {
        await p;
        return 'accepted';
      } catch (err) {
        return err.message;
      }
    };
    await wait(60);
    await run.resize(8);
    const bad = [await refused(run.resize(300)), await refused(run.resize('lots')), await refused(run.setRate(10))];
    await wait(60);
    await run.resize(1, { stopNow: true });
    await wait(40);
    await run.resize(4);
    const report = await run.report;
    const after = await refused(run.resize(3));
    // A rate-limited run re-paced from 50/s to 1000/s.
    const paced = engine.start({
      pattern: 'ratelimit',
      workload: 'sleep',
      cost: 100,
      jobs: 120,
      rate: 50,
      burst: 1,
      workers: 4,
    });
    await wait(200);
    await paced.setRate(1000, 5);
    const pacedReport = await paced.report;
    return {
      bad,
      after,
      resizes: report.resizes.map((r) => [r.from, r.to, r.cause]),
      counts: report.counts,
      identity: report.identityHolds,
      kept: report.jobsKept,
      jobs: report.jobs.length,
      workersSeen: Math.max(...report.samples.map((s) => s.workers)),
      changes: pacedReport.limiter.changes.map((c) => [c.rate, c.burst]),
      pacedWall: pacedReport.wallMs,
    };
  });
  assert.deepEqual(out.bad, [
    'workers: 300 is out of range; allowed: a whole number 0–256 goroutines',
    'workers: lots is not a number; allowed: a whole number 0–256 goroutines',
    'rate: 10 cannot be changed: this run has no rate limiter; allowed: a rate-limited pipeline (pattern ratelimit)',
  ]);
  assert.equal(out.after, 'the run has ended: resize and setRate only change a run while it goes');
  assert.deepEqual(out.resizes, [
    [2, 8, 'manual'],
    [8, 1, 'manual (stop now)'],
    [1, 4, 'manual'],
  ]);
  assert.equal(out.identity, true);
  assert.equal(out.counts.completed + out.counts.cancelled, 600, 'every job ran once');
  assert.ok(out.counts.cancelled <= 7, `stop now cancelled the removed workers' jobs only: ${out.counts.cancelled}`);
  assert.equal(out.workersSeen, 8);
  assert.equal(out.kept, out.jobs);
  assert.deepEqual(out.changes, [[1000, 5]]);
  // 120 jobs at 50/s would take 2.4 s; re-paced after ~0.2 s they take well under that.
  assert.ok(out.pacedWall < 1500, `re-paced run took ${out.pacedWall} ms`);
});
