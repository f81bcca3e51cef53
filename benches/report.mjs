// Turns criterion's results for the limiter benchmark (target/criterion) into
// benches/RESULTS.md and benches/results.json: per-decision times of scalelab's token
// bucket next to governor's, and their ratios, all from the same run.
//
// Usage: node benches/report.mjs   (after `cargo bench --bench limiter`)

import { execSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const CRITERION = path.join(ROOT, 'target', 'criterion');
const GROUPS = ['denied', 'allowed', 'contended (2 threads)'];
const OURS_EXPLICIT = 'scalelab TokenBucket::allow_n_at';
const OURS_CLOCK = 'scalelab RateLimiter::allow';
const GOVERNOR = 'governor check';
const TARGET_RATIO = 1.5;

/** Criterion's estimate in ns (slope when it fitted one, else the mean) with its 95% CI. */
function estimate(group, fn) {
  const dir = path.join(CRITERION, group, fn.replaceAll('::', '__'), 'new');
  const file = path.join(dir, 'estimates.json');
  if (!existsSync(file)) return null;
  const e = JSON.parse(readFileSync(file, 'utf8'));
  const pick = e.slope ?? e.mean;
  return {
    ns: pick.point_estimate,
    low: pick.confidence_interval.lower_bound,
    high: pick.confidence_interval.upper_bound,
  };
}

const fmt = (e) => (e ? `${e.ns.toFixed(2)} ns (${e.low.toFixed(2)}–${e.high.toFixed(2)})` : '—');
const ratio = (a, b) => (a && b ? a.ns / b.ns : null);
const fmtRatio = (r) => (r === null ? '—' : `${r.toFixed(2)}×${r <= TARGET_RATIO ? '' : ' (over target)'}`);

const rows = GROUPS.map((group) => {
  const explicit = estimate(group, OURS_EXPLICIT);
  const clock = estimate(group, OURS_CLOCK);
  const governor = estimate(group, GOVERNOR);
  return {
    group,
    explicit,
    clock,
    governor,
    explicitRatio: ratio(explicit, governor),
    clockRatio: ratio(clock, governor),
  };
});
if (rows.every((r) => !r.governor)) {
  console.error('no criterion results found under target/criterion; run `cargo bench --bench limiter` first');
  process.exit(1);
}

const rustc = execSync('rustc --version').toString().trim();
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const date = new Date().toISOString().slice(0, 10);
const lines = [
  '# Limiter benchmark: scalelab vs governor',
  '',
  `Per-decision time, lower is better; ratio = scalelab / governor (target ≤ ${TARGET_RATIO}×).`,
  'Both run in the same `cargo bench` process on fake clocks (scalelab `ManualClock`/`SimTime`,',
  'governor `FakeRelativeClock`); 95% confidence intervals in brackets.',
  '',
  `- Machine: ${cpu}, ${os.cpus().length} cores; ${rustc}; ${date}`,
  '- Command: `./build.sh bench` (runs `cargo bench --bench limiter` then `node benches/report.mjs`)',
  '',
  `| case | ${OURS_EXPLICIT} | ${OURS_CLOCK} | ${GOVERNOR} | explicit / governor | clock / governor |`,
  '| --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.group} | ${fmt(r.explicit)} | ${fmt(r.clock)} | ${fmt(r.governor)} | ${fmtRatio(r.explicitRatio)} | ${fmtRatio(r.clockRatio)} |`,
  ),
  '',
  'Cases: *denied* — empty bucket, time standing still (a throttled caller); *allowed* — time',
  'advancing 1 µs per call at a rate that always has a token; *contended* — two threads on one',
  'limiter and one clock (wall time per decision). scalelab also offers reservations, their',
  'cancellation and live `set_limit`/`set_burst`, which governor does not.',
  '',
];
writeFileSync(path.join(ROOT, 'benches', 'RESULTS.md'), lines.join('\n'));
writeFileSync(
  path.join(ROOT, 'benches', 'results.json'),
  `${JSON.stringify({ date, machine: cpu, rustc, rows }, null, 2)}\n`,
);
console.log(lines.join('\n'));
