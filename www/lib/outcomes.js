// How a job can end, as the engine declares it (src/engine/outcome.rs, sent as
// `engineSchema().outcomes` when an engine is ready): codes in the job columns, names
// in exports, count keys, labels and colours. Nothing here lists an outcome by hand;
// an engine that becomes ready installs its table with `useOutcomes`.

/** @typedef {import('../pkg/scalelab.js').OutcomeSpec} OutcomeSpec */

/** Code 0 in the job columns: the job has no final outcome yet. */
export const RUNNING = 0;

/** @type {OutcomeSpec[]} */
let table = [];

/**
 * Installs the engine's outcome table (in code order: codes 1, 2, …).
 * @param {OutcomeSpec[]} specs
 */
export function useOutcomes(specs) {
  specs.forEach((spec, i) => {
    if (spec.code !== i + 1) throw new Error(`outcome table: ${spec.name} has code ${spec.code}, expected ${i + 1}`);
  });
  table = specs;
}

/** Every final outcome, in code order. */
export function outcomes() {
  if (!table.length) throw new Error('outcome table not installed: wait for the engine to be ready');
  return table;
}

/**
 * The outcome with job-column code `code` (not 0), or undefined.
 * @param {number} code
 */
export function outcomeOf(code) {
  return outcomes()[code - 1];
}

/**
 * The name of a job-column code: `running` for 0, `unknown` for a code the table lacks.
 * @param {number} code
 */
export function outcomeName(code) {
  if (code === RUNNING) return 'running';
  return outcomeOf(code)?.name ?? 'unknown';
}

/**
 * The code of the outcome named `name`, or -1.
 * @param {string} name
 */
export function outcomeCode(name) {
  return outcomes().find((spec) => spec.name === name)?.code ?? -1;
}

/**
 * Counts with every outcome at zero.
 * @param {number} submitted
 * @returns {import('../pkg/scalelab.js').Counts}
 */
export function zeroCounts(submitted) {
  const counts = /** @type {Record<string, number>} */ ({ submitted });
  for (const spec of outcomes()) counts[spec.key] = 0;
  return /** @type {import('../pkg/scalelab.js').Counts} */ (/** @type {unknown} */ (counts));
}

/**
 * How many jobs ended as `spec` says (0 for an outcome these counts lack, e.g. counts
 * from an older engine).
 * @param {import('../pkg/scalelab.js').Counts} counts
 * @param {OutcomeSpec} spec
 */
export function countOf(counts, spec) {
  const byKey = /** @type {Record<string, number>} */ (/** @type {unknown} */ (counts));
  return byKey[spec.key] ?? 0;
}

/**
 * Jobs with a final outcome.
 * @param {import('../pkg/scalelab.js').Counts} counts
 */
export function doneOf(counts) {
  return outcomes().reduce((sum, spec) => sum + countOf(counts, spec), 0);
}
