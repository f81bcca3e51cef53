// The Go bridge's benchmark (issue 16), run by bench/run.mjs in the harness page: for
// each pattern, the engine's own run of a CPU set-up next to the Go program it
// generates for that set-up (`engine.goProgram`), built with Debian's Go and run on
// the same machine — throughput side by side, and the two accounting lines compared.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median } from './stats.mjs';

const GO_ENV = { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode' };

/**
 * Engine vs generated Go program, per pattern, on `threads` workers.
 * @param {import('playwright-core').Page} page the harness page with `engine` started
 * @param {number} threads
 * @param {{quick: boolean, reps: number}} options
 */
export async function goPrograms(page, threads, { quick, reps }) {
  const rows = [];
  const perStage = Math.max(1, Math.floor(threads / 2));
  for (const pattern of ['pool', 'fanout', 'failfast', 'pipeline']) {
    const settings = {
      pattern,
      workload: 'primes',
      cost: 200000,
      jobs: quick ? 200 : 1500,
      workers: threads,
      queue: 64,
      seed: 16,
      // The same work in two stages of half the cost, the workers split between them.
      ...(pattern === 'pipeline' ? { pipeline: `primes:100000:${perStage}:16,primes:100000:${perStage}:16` } : {}),
    };
    const engine = await page.evaluate(
      async ({ settings, reps }) => {
        await engine.run(settings); // warm-up
        const throughput = [];
        let accounting = '';
        for (let r = 0; r < reps; r++) {
          const report = await engine.run(settings);
          throughput.push(report.throughputPerS);
          accounting = report.accounting;
        }
        return { throughput, accounting, program: await engine.goProgram(settings) };
      },
      { settings, reps },
    );
    const dir = mkdtempSync(path.join(os.tmpdir(), 'scalelab-goprogram-'));
    writeFileSync(path.join(dir, 'main.go'), engine.program.source);
    execFileSync('go', ['build', '-o', 'program', 'main.go'], { cwd: dir, env: GO_ENV });
    const go = [];
    let goAccounting = '';
    for (let r = 0; r < reps + 1; r++) {
      const out = execFileSync(path.join(dir, 'program'), { encoding: 'utf8' }).trim().split('\n');
      const throughput = Number(/throughput=([\d.]+)/.exec(out.find((l) => l.startsWith('elapsed:')) ?? '')?.[1]);
      if (r > 0) go.push(throughput); // the first run warms the page cache
      goAccounting = out.at(-1) ?? '';
    }
    rows.push({
      pattern,
      settings,
      engine: median(engine.throughput),
      go: median(go),
      engineAccounting: engine.accounting,
      goAccounting,
      agree: engine.accounting === goAccounting,
    });
  }
  return { threads, rows };
}

/** Headline row: the generated programs agree with the engine. */
export function goProgramHeadline(g) {
  const agree = g.rows.filter((r) => r.agree).length;
  return [
    `| generated Go program agrees with the engine (accounting line and checksum, ${g.rows.map((r) => r.pattern).join(', ')}) | ${agree} of ${g.rows.length} | all ${agree === g.rows.length ? '✓' : '✗ missed'} |`,
  ];
}

/** Section: throughput of the engine and of its Go program, per pattern. */
export function goProgramSection(g) {
  const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '—');
  const lines = [
    '## 11. The Go bridge: the engine vs the Go program it generates',
    '',
    `The same set-up (primes, cost ${g.rows[0]?.settings.cost}, ${g.rows[0]?.settings.jobs} jobs, ${g.threads} workers, seed ${g.rows[0]?.settings.seed}) run by the engine (wasm in Chromium) and by its "Show as Go" program (built with Debian's Go, run natively); the pipeline does the same work in two stages of primes, cost ${g.rows[0]?.settings.cost / 2} each, with ${Math.max(1, Math.floor(g.threads / 2))} worker(s) per stage. Jobs per second, median of the repetitions:`,
    '',
    '| pattern | scalelab (wasm) | generated Go | wasm ÷ Go | accounting lines |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const r of g.rows) {
    lines.push(
      `| ${r.pattern} | ${f(r.engine)} | ${f(r.go)} | ${f(r.engine / r.go, 2)} | ${r.agree ? 'equal' : `differ: \`${r.engineAccounting}\` vs \`${r.goAccounting}\``} |`,
    );
  }
  return lines.join('\n');
}
