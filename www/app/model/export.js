// Exports of a finished run: JSON (settings, report, the kept jobs) and CSV (one row per
// kept job; a pipeline's: per kept stage pass, with its stage), offered as downloads. Built from data, never from page markup. A long run
// keeps a window of its jobs (the report's `jobsKept`); its counts cover all of them.

/**
 * The run as a plain object for JSON.
 * @param {import('./live-run.js').LiveRun} run
 * @param {number} format the engine's export format (`engineSchema().exportFormat`)
 */
export function runToJson(run, format) {
  const { jobs: _columns, ...report } = run.report ?? {};
  return {
    scalelab: format,
    pattern: run.pattern.id,
    settings: run.settings,
    report,
    jobs: run.records(),
  };
}

const CSV_COLUMNS = [
  'id',
  'worker',
  'thread',
  'cost',
  'intendedMs',
  'queuedMs',
  'startedMs',
  'finishedMs',
  'outcome',
  'result',
  'error',
  'stage',
];

/** Quotes a CSV cell when needed (RFC 4180). @param {unknown} value */
function cell(value) {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One row per job. @param {import('./live-run.js').LiveRun} run */
export function runToCsv(run) {
  const lines = [CSV_COLUMNS.join(',')];
  for (const record of run.records()) {
    const byName = /** @type {Record<string, unknown>} */ (record);
    lines.push(CSV_COLUMNS.map((c) => cell(byName[c])).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Offers `blob` as a download named `name`. @param {Blob} blob @param {string} name */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A file name stem for a run: pattern, workload and the local time. @param {import('./live-run.js').LiveRun} run */
export function fileStem(run) {
  const stamp = new Date().toISOString().slice(0, 19).replaceAll(':', '-');
  return `scalelab-${run.pattern.id}-${run.settings.workload ?? 'primes'}-${stamp}`;
}
