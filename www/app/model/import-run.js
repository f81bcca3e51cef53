// Importing a run exported earlier ("Export run as JSON"), to compare it with new runs.
// The file is untrusted: only the figures the comparison shows are taken, each checked
// (type, range, length), and every text in it is shown as text, never as markup. A bad
// file is refused with a message naming the field, the value and what was expected.

import { outcomes } from '../../lib/outcomes.js';

/** Largest file accepted (an export of a 100 000-job run is ~20 MB). */
export const MAX_IMPORT_BYTES = 64 * 1024 * 1024;
/** Most points in the throughput series (the engine's series are far shorter). */
const MAX_SERIES = 100_000;
const MAX_TEXT = 80;

class ImportError extends Error {}

/** Shortens `value` for a message. */
function shown(value) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch {
    text = String(value);
  }
  if (text === undefined) text = String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function fail(field, value, expected) {
  throw new ImportError(`${field}: ${value === undefined ? 'missing' : shown(value)}; expected ${expected}`);
}

function object(value, field) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(field, value, 'an object');
  return value;
}

function number(value, field, { min = 0, integer = false } = {}) {
  const ok =
    typeof value === 'number' && Number.isFinite(value) && value >= min && (!integer || Number.isInteger(value));
  if (!ok) fail(field, value, integer ? `a whole number ≥ ${min}` : `a finite number ≥ ${min}`);
  return value;
}

function numbers(value, field) {
  if (!Array.isArray(value) || value.length > MAX_SERIES)
    fail(field, Array.isArray(value) ? `${value.length} points` : value, `a list of at most ${MAX_SERIES} numbers`);
  return value.map((x, i) => number(x, `${field}[${i}]`));
}

/** A short plain text from the file (shown with textContent only). */
function text(value, field) {
  if (typeof value !== 'string') fail(field, value, 'a text');
  return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value;
}

/**
 * Reads an exported run.
 * @param {string} content the file's text
 * @param {string} fileName for the label
 * @returns {{label: string, settings: Record<string, string>, report: object, imported: true}}
 * @throws {Error} naming the first problem
 */
export function parseRunExport(content, fileName) {
  const where = `import ${shown(fileName)}`;
  let data;
  try {
    data = JSON.parse(content);
  } catch (err) {
    throw new Error(`${where}: not JSON (${err.message})`);
  }
  try {
    object(data, 'file');
    if (data.scalelab !== 1) fail('scalelab', data.scalelab, '1 (a run exported by scalelab)');
    const pattern = text(data.pattern, 'pattern');
    const settingsIn = object(data.settings, 'settings');
    const settings = {};
    for (const [key, value] of Object.entries(settingsIn).slice(0, 40)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        settings[text(key, 'settings key')] = text(String(value), `settings.${key}`);
      }
    }
    const r = object(data.report, 'report');
    const c = object(r.counts, 'report.counts');
    const counts = {};
    for (const { key } of outcomes()) counts[key] = number(c[key], `report.counts.${key}`, { integer: true });
    const total = object(object(r.latency, 'report.latency').total, 'report.latency.total');
    const series = object(r.series, 'report.series');
    const tMs = numbers(series.tMs, 'report.series.tMs');
    const throughput = numbers(series.throughput, 'report.series.throughput');
    if (throughput.length !== tMs.length)
      fail(
        'report.series.throughput',
        `${throughput.length} points`,
        `as many points as report.series.tMs (${tMs.length})`,
      );
    let limiter = null;
    if (r.limiter != null) {
      const l = object(r.limiter, 'report.limiter');
      limiter = {
        achievedRate: number(l.achievedRate, 'report.limiter.achievedRate'),
        configuredRate: number(l.configuredRate, 'report.limiter.configuredRate'),
      };
    }
    const report = {
      counts,
      throughputPerS: number(r.throughputPerS, 'report.throughputPerS'),
      wallMs: number(r.wallMs, 'report.wallMs'),
      latency: {
        total: {
          p50: number(total.p50, 'report.latency.total.p50'),
          p99: number(total.p99, 'report.latency.total.p99'),
        },
      },
      series: { tMs, throughput, bucketMs: number(series.bucketMs, 'report.series.bucketMs') },
      limiter,
    };
    const workers = settings.workers ? ` · ${settings.workers} workers` : '';
    const label = `imported: ${pattern}${workers} · ${settings.workload ?? 'primes'} (${text(fileName, 'file name')})`;
    return { label, settings, report, imported: true };
  } catch (err) {
    if (err instanceof ImportError) throw new Error(`${where} is not a scalelab run export: ${err.message}`);
    throw err;
  }
}
