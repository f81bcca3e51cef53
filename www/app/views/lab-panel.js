// The frame every lab panel shares: a small form built from the engine's schema for
// the panel's own settings (errors shown under the field they name), Run / Cancel,
// a progress bar, a summary, and JSON / CSV export buttons. Element ids are the
// panel's prefix followed by the part (`sweep-run`, `load-sweep-progress`, …).

import { byId, el } from './dom.js';

/** @typedef {import('../../pkg/scalelab.js').FieldSpec} FieldSpec */

export class LabPanel {
  /** @param {string} prefix the panel's id prefix */
  constructor(prefix) {
    this.prefix = prefix;
    this.form = byId(`${prefix}-form`, HTMLFormElement);
    this.container = byId(`${prefix}-fields`);
    this.runButton = byId(`${prefix}-run`, HTMLButtonElement);
    this.cancelButton = byId(`${prefix}-cancel`, HTMLButtonElement);
    this.reason = byId(`${prefix}-reason`);
    this.bar = byId(`${prefix}-progress`, HTMLProgressElement);
    this.text = byId(`${prefix}-progress-text`);
    this.summary = byId(`${prefix}-summary`);
    this.exportJson = byId(`${prefix}-export-json`, HTMLButtonElement);
    this.exportCsv = byId(`${prefix}-export-csv`, HTMLButtonElement);
    /** The reason `setState` last showed (cleared only by it). */
    this.stateReason = '';
    /** @type {Map<string, {input: HTMLInputElement | HTMLSelectElement, error: HTMLElement}>} */
    this.fields = new Map();
  }

  /**
   * @param {readonly FieldSpec[]} specs the engine's fields for this panel
   * @param {Record<string, string>} [initial] starting values that differ from the defaults
   */
  build(specs, initial = {}) {
    for (const spec of specs) {
      const id = `${this.prefix}-${spec.name}`;
      const wrap = el('div', { class: 'field' });
      const label = el('label', { for: id }, spec.label);
      /** @type {HTMLInputElement | HTMLSelectElement} */
      let input;
      if (spec.kind.type === 'choice') {
        input = /** @type {HTMLSelectElement} */ (
          el(
            'select',
            { id, name: spec.name, 'data-testid': `${this.prefix}-field-${spec.name}` },
            ...spec.kind.choices.map((c) => el('option', { value: c }, c)),
          )
        );
      } else {
        input = /** @type {HTMLInputElement} */ (
          el('input', {
            id,
            name: spec.name,
            type: 'text',
            inputmode: 'decimal',
            autocomplete: 'off',
            'data-testid': `${this.prefix}-field-${spec.name}`,
          })
        );
      }
      input.value = initial[spec.name] ?? spec.default;
      const help = el('p', { class: 'help', id: `${id}-help` }, spec.help);
      const error = el('p', { class: 'error', id: `${id}-error`, 'aria-live': 'polite' });
      input.setAttribute('aria-describedby', `${help.id} ${error.id}`);
      wrap.append(
        label,
        el('div', { class: 'input-row' }, input, el('span', { class: 'unit' }, spec.unit)),
        help,
        error,
      );
      this.container.append(wrap);
      this.fields.set(spec.name, { input, error });
    }
  }

  /** @returns {Record<string, string>} */
  values() {
    return Object.fromEntries([...this.fields].map(([name, f]) => [name, f.input.value]));
  }

  /**
   * Shows an engine rejection under the fields it names ("field: ..." lines).
   * @param {string} message
   */
  showError(message) {
    const lines = message.split('\n');
    for (const [name, f] of this.fields)
      f.error.textContent = lines.filter((l) => l.startsWith(`${name}:`) || l.startsWith(`${name} `)).join(' ');
    const unplaced = lines.filter(
      (l) => ![...this.fields.keys()].some((n) => l.startsWith(`${n}:`) || l.startsWith(`${n} `)),
    );
    this.reason.textContent = unplaced.join(' ');
  }

  clearErrors() {
    for (const f of this.fields.values()) f.error.textContent = '';
    this.reason.textContent = '';
  }

  /** @param {{busy: boolean, sweeping: boolean, canRun: boolean, reason?: string, hasReport: boolean}} state */
  setState({ busy, sweeping, canRun, reason = '', hasReport }) {
    this.runButton.disabled = busy || !canRun;
    this.cancelButton.disabled = !sweeping;
    this.exportJson.disabled = busy || !hasReport;
    this.exportCsv.disabled = busy || !hasReport;
    if (sweeping) return;
    // Show why the sweep cannot run; clear that (and only that) once it can.
    if (reason) {
      this.reason.textContent = reason;
      this.stateReason = reason;
    } else if (this.stateReason && this.reason.textContent === this.stateReason) {
      this.reason.textContent = '';
      this.stateReason = '';
    }
  }

  /**
   * @param {number} done runs finished
   * @param {number} total runs planned
   * @param {string} label what it is doing
   */
  progress(done, total, label) {
    this.bar.max = Math.max(1, total);
    this.bar.value = done;
    this.text.textContent = `${done} / ${total} runs — ${label}`;
    this.text.dataset.state = label;
  }

  /** @param {(values: Record<string, string>) => void} handler */
  bindRun(handler) {
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      handler(this.values());
    });
  }

  /** @param {() => void} handler */
  bindCancel(handler) {
    this.cancelButton.addEventListener('click', handler);
  }

  /**
   * @param {() => void} onJson
   * @param {() => void} onCsv
   */
  bindExport(onJson, onCsv) {
    this.exportJson.addEventListener('click', onJson);
    this.exportCsv.addEventListener('click', onCsv);
  }
}
