// Settings in the URL: a copied link reproduces the set-up. Values from a link go into
// the form as text and are validated like typed input (nothing runs by itself), so no
// link can start work or inject markup: every value is only ever set as an input's
// value or a text node.

import { PATTERNS } from '../patterns.js';

/** Longest value taken from a link (longer ones are cut; validation still reports them). */
const MAX_VALUE_LENGTH = 200;

/**
 * Reads a query string.
 * @param {string} search `location.search`
 * @param {string[]} known setting names
 * @returns {{pattern: string | null, badPattern: string | null, values: Record<string, string>, unknown: Record<string, string>}}
 */
export function readLink(search, known) {
  const params = new URLSearchParams(search);
  /** @type {Record<string, string>} */
  const values = {};
  /** @type {Record<string, string>} */
  const unknown = {};
  let pattern = null;
  let badPattern = null;
  for (const [key, raw] of params) {
    const value = raw.slice(0, MAX_VALUE_LENGTH);
    if (key === 'pattern') {
      if (PATTERNS.some((p) => p.id === value)) pattern = value;
      else badPattern = value;
    } else if (known.includes(key)) {
      values[key] = value;
    } else {
      unknown[key.slice(0, MAX_VALUE_LENGTH)] = value;
    }
  }
  return { pattern, badPattern, values, unknown };
}

/**
 * The query string for a set-up.
 * @param {string} pattern
 * @param {Record<string, string>} values the settings that apply
 */
export function writeLink(pattern, values) {
  const params = new URLSearchParams({ pattern });
  for (const [key, value] of Object.entries(values)) params.set(key, value);
  return `?${params}`;
}
