// Importing a run exported earlier ("Export run as JSON"), to compare it with new runs.
// The file is untrusted; the engine reads it (src/engine/run_import.rs): only the
// figures the comparison shows are taken, each checked, its settings by the same parser
// as the form's, and every problem is named (field, value, what is allowed). Every text
// in it is shown as text, never as markup.

/** Largest file accepted (an export of a 100 000-job run is ~20 MB). */
export const MAX_IMPORT_BYTES = 64 * 1024 * 1024;

/**
 * Reads an exported run through the engine.
 * @param {import('../../lib/engine.js').Engine} engine
 * @param {string} content the file's text
 * @param {string} fileName for the label and messages
 * @returns {Promise<import('../../pkg/scalelab.js').ImportedRun & {imported: true}>}
 * @throws {Error} naming every problem
 */
export async function importRun(engine, content, fileName) {
  const { run, errors } = await engine.readRunExport(content, fileName);
  if (!run || errors.length) {
    const name = JSON.stringify(fileName.length > 40 ? `${fileName.slice(0, 40)}…` : fileName);
    throw new Error(`import ${name} is not a scalelab run export: ${errors.map((e) => e.message).join('; ')}`);
  }
  return { ...run, imported: true };
}
