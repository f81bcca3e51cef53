// The few statistics and number formats every benchmark report shares.

/**
 * min / median / max and percentiles of a list.
 * @param {number[]} values
 */
export function spread(values) {
  const s = [...values].sort((a, b) => a - b);
  /** @param {number} p */
  const at = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { n: s.length, min: s[0], median, max: s[s.length - 1], p50: at(50), p99: at(99) };
}

/** @param {number[]} values */
export const median = (values) => spread(values).median;

/** A number with `digits` decimals, or a dash when it is missing. */
export const fmt = (/** @type {number} */ x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '—');

/** "median (min–max)". */
export const mmm = (/** @type {{median: number, min: number, max: number}} */ s, digits = 2) =>
  `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;

/** A target's verdict cell. */
export const pass = (/** @type {boolean} */ ok) => (ok ? '✓' : '✗ missed');
