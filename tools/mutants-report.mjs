// The mutation-testing table: reads each `<dir>/<file>/mutants.out/outcomes.json` that
// `./build.sh mutants` left (one cargo-mutants run per core file), prints caught /
// missed / timeout / unviable and the caught share per file, and writes the table to
// `<dir>/RESULTS.md`. A timeout counts as caught (the mutant made a test hang, which
// the run notices); unviable mutants (they do not build) are left out of the share.
// After `--iterate`, mutants caught by an earlier run are skipped: they are listed
// (their earlier line numbers may have moved) but left out of the share, which is then
// a lower bound.
//
// Usage: node tools/mutants-report.mjs target/mutants

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2] ?? 'target/mutants';
const rows = [];
for (const name of readdirSync(root).sort()) {
  const file = join(root, name, 'mutants.out', 'outcomes.json');
  if (!existsSync(file)) continue;
  const data = JSON.parse(readFileSync(file, 'utf8'));
  // With --iterate, mutants caught (or unviable) in earlier runs are skipped and listed here.
  const earlier = join(root, name, 'mutants.out', 'previously_caught.txt');
  const previouslyCaught = existsSync(earlier)
    ? readFileSync(earlier, 'utf8')
        .split('\n')
        .filter((line) => line.trim()).length
    : 0;
  const caught = data.caught ?? 0;
  const missed = data.missed ?? 0;
  const timeout = data.timeout ?? 0;
  const unviable = data.unviable ?? 0;
  const viable = caught + missed + timeout;
  const share = viable ? (100 * (caught + timeout)) / viable : 100;
  const missedNames = (data.outcomes ?? [])
    .filter((/** @type {{summary: string}} */ o) => o.summary === 'MissedMutant')
    .map((/** @type {{scenario: {Mutant?: {name?: string}}}} */ o) => o.scenario?.Mutant?.name ?? '?');
  rows.push({ name, caught, missed, timeout, unviable, share, missedNames, previouslyCaught });
}
if (!rows.length) {
  console.error(`no cargo-mutants results under ${root}`);
  process.exit(1);
}
const lines = [
  '| file | caught | timeout | missed | unviable | skipped (caught or unviable before) | caught share |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.caught} | ${r.timeout} | ${r.missed} | ${r.unviable} | ${r.previouslyCaught} | ${r.share.toFixed(1)}% |`,
  ),
];
const missed = rows.flatMap((r) => r.missedNames.map((m) => `- ${r.name}: ${m}`));
const text = `${lines.join('\n')}\n${missed.length ? `\nMissed:\n${missed.join('\n')}\n` : ''}`;
writeFileSync(join(root, 'RESULTS.md'), text);
console.log(text);
