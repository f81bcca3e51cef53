// The settings form, built from the engine's schema: a labelled input per setting with
// its unit, a line of help and an inline error, shown only when the setting applies to
// the chosen pattern. Numbers are typed as text on purpose, so that whatever a person
// types (or a link carries) reaches the engine's validation and gets its message.

import { fieldApplies, LIVE_FIELDS } from '../patterns.js';
import { find } from './dom.js';

/** @typedef {import('../../pkg/scalelab.js').EngineSchema} EngineSchema */
/** @typedef {import('../../pkg/scalelab.js').FieldSpec} FieldSpec */
/** @typedef {import('../../pkg/scalelab.js').WorkloadSpec} WorkloadSpec */
/** @typedef {import('../../pkg/scalelab.js').ScalingSpec} ScalingSpec */
/** @typedef {import('../patterns.js').PatternInfo} PatternInfo */
/**
 * One setting's parts on the page.
 * @typedef {{wrap: HTMLElement, input: HTMLInputElement | HTMLSelectElement, label: HTMLLabelElement,
 *   unit: HTMLElement, help: HTMLElement, error: HTMLElement, spec: FieldSpec}} Field
 */

export class FormView {
  /** @param {HTMLFormElement} form */
  constructor(form) {
    this.form = form;
    this.container = find(form, '#fields', HTMLElement);
    this.runButton = find(form, '#run-button', HTMLButtonElement);
    this.cancelButton = find(form, '#cancel-button', HTMLButtonElement);
    this.resetButton = find(form, '#reset-button', HTMLButtonElement);
    this.reason = find(form, '#run-reason', HTMLElement);
    /** @type {Map<string, Field>} */
    this.fields = new Map();
    /** @type {readonly WorkloadSpec[]} */
    this.workloads = [];
    /** @type {readonly ScalingSpec[]} */
    this.scalings = [];
    /** Whether a run is going (live fields stay editable then). */
    this.running = false;
    this.stopNow = find(form, '#shrink-stop-now', HTMLInputElement);
    this.liveControl = find(form, '.live-control', HTMLElement);
    this.liveNote = find(form, '#live-note', HTMLElement);
  }

  /**
   * Creates the inputs from the engine's schema.
   * @param {EngineSchema} schema
   */
  build(schema) {
    this.workloads = schema.workloads;
    this.scalings = schema.scalings;
    for (const spec of schema.fields) {
      if (spec.name === 'pattern') continue; // the pattern picker sets it
      const wrap = document.createElement('div');
      wrap.className = `field ${spec.kind.type}`;
      wrap.dataset.field = spec.name;
      const id = `setting-${spec.name}`;
      const label = document.createElement('label');
      label.htmlFor = id;
      label.textContent = spec.label;
      /** @type {HTMLInputElement | HTMLSelectElement} */
      let input;
      if (spec.kind.type === 'choice') {
        input = document.createElement('select');
        for (const choice of spec.kind.choices) {
          const option = document.createElement('option');
          option.value = choice;
          option.textContent = choice;
          input.append(option);
        }
      } else {
        input = document.createElement('input');
        if (spec.kind.type === 'flag') {
          input.type = 'checkbox';
        } else {
          input.type = 'text';
          const kind = spec.kind.type;
          input.inputMode =
            kind === 'integer' ? 'numeric' : kind === 'stages' || kind === 'pipeline' ? 'text' : 'decimal';
          input.autocomplete = 'off';
          input.spellcheck = false;
        }
      }
      input.id = id;
      input.name = spec.name;
      input.dataset.testid = `field-${spec.name}`;
      const unit = document.createElement('span');
      unit.className = 'unit';
      unit.textContent = spec.unit;
      const help = document.createElement('p');
      help.className = 'help';
      help.id = `${id}-help`;
      help.textContent = spec.help;
      const error = document.createElement('p');
      error.className = 'error';
      error.id = `${id}-error`;
      error.dataset.testid = `error-${spec.name}`;
      error.setAttribute('aria-live', 'polite');
      input.setAttribute('aria-describedby', `${help.id} ${error.id}`);
      const row = document.createElement('div');
      row.className = 'input-row';
      row.append(input, unit);
      wrap.append(label, row, help, error);
      this.container.append(wrap);
      this.fields.set(spec.name, { wrap, input, label, unit, help, error, spec });
    }
  }

  /**
   * Default text of a setting (`cost` depends on the workload, `scaleTarget` on the policy).
   * @param {string} name
   * @param {string} [workload]
   * @param {string} [scaling]
   */
  defaultOf(name, workload, scaling = this.values().scaling ?? 'fixed') {
    if (name === 'cost') return String(this.workloadSpec(workload)?.defaultCost ?? '');
    if (name === 'scaleTarget') return String(this.scalingSpec(scaling)?.defaultTarget ?? '');
    return this.fields.get(name)?.spec.default ?? '';
  }

  /** @param {string | undefined} policy */
  scalingSpec(policy) {
    return this.scalings.find((s) => s.policy === policy);
  }

  /** @param {string | undefined} workload */
  workloadSpec(workload) {
    return this.workloads.find((w) => w.kind === workload);
  }

  /** Every setting's current text. @returns {Record<string, string>} */
  values() {
    /** @type {Record<string, string>} */
    const out = {};
    for (const [name, { input }] of this.fields) {
      out[name] = input instanceof HTMLInputElement && input.type === 'checkbox' ? String(input.checked) : input.value;
    }
    return out;
  }

  /** @param {Record<string, string>} values */
  setValues(values) {
    for (const [name, value] of Object.entries(values)) {
      const field = this.fields.get(name);
      if (!field) continue;
      const input = field.input;
      if (input instanceof HTMLInputElement && input.type === 'checkbox')
        input.checked = value === 'true' || value === '1' || value === 'on';
      else if (input instanceof HTMLSelectElement && ![...input.options].some((o) => o.value === value)) {
        // A value that is not a choice (from a link): keep it visible so it can be reported.
        const option = document.createElement('option');
        option.value = value;
        option.textContent = value;
        input.append(option);
        input.value = value;
      } else input.value = value;
    }
  }

  /**
   * Defaults for every setting.
   * @returns {Record<string, string>}
   */
  defaults(workload = 'primes') {
    /** @type {Record<string, string>} */
    const out = {};
    for (const name of this.fields.keys()) out[name] = this.defaultOf(name, workload, 'fixed');
    return out;
  }

  /**
   * Shows the settings that apply to `pattern` and labels them for it.
   * @param {PatternInfo} pattern
   */
  showFor(pattern) {
    const values = this.values();
    for (const [name, field] of this.fields) {
      field.wrap.hidden = !fieldApplies(pattern, name, values);
      field.label.textContent = pattern.labels?.[name] ?? field.spec.label;
    }
    const workload = this.workloadSpec(values.workload);
    const cost = this.fields.get('cost');
    if (workload && cost) {
      cost.unit.textContent = workload.unit;
      cost.help.textContent = `per job, mean: ${workload.description}`;
    }
    const scaling = this.scalingSpec(values.scaling);
    const target = this.fields.get('scaleTarget');
    if (scaling && target) {
      target.unit.textContent =
        values.scaling === 'queue' ? (values.scaleOn === 'wait' ? 'ms' : 'jobs') : scaling.targetUnit;
      target.help.textContent = scaling.targetHelp;
    }
    this.liveControl.hidden = !pattern.fields.includes('workers');
  }

  /**
   * The settings that apply to `pattern`, as text.
   * @param {PatternInfo} pattern
   * @returns {Record<string, string>}
   */
  applicable(pattern) {
    const values = this.values();
    return Object.fromEntries(Object.entries(values).filter(([name]) => fieldApplies(pattern, name, values)));
  }

  /** @param {{field: string, message: string}[]} errors */
  showErrors(errors) {
    const byField = new Map(errors.map((e) => [e.field, e.message]));
    for (const [name, field] of this.fields) {
      const message = byField.get(name) ?? '';
      field.error.textContent = message;
      if (message) field.input.setAttribute('aria-invalid', 'true');
      else field.input.removeAttribute('aria-invalid');
    }
  }

  /**
   * While a run goes every setting is locked but the live ones (`LIVE_FIELDS`: the pool
   * size, the rate and the burst), whose changes steer the run.
   * @param {{running: boolean, canRun: boolean, reason: string}} state
   */
  setRunState({ running, canRun, reason }) {
    this.running = running;
    this.runButton.disabled = running || !canRun;
    this.cancelButton.disabled = !running;
    this.resetButton.disabled = running;
    this.reason.textContent = running ? '' : reason;
    if (this.runButton.disabled && !running) this.runButton.setAttribute('aria-describedby', 'run-reason');
    else this.runButton.removeAttribute('aria-describedby');
    for (const [name, { input }] of this.fields) input.disabled = running && !LIVE_FIELDS.includes(name);
    this.stopNow.disabled = !running;
    this.liveNote.hidden = !running;
  }

  /** Whether a shrink made now should stop the removed workers' jobs. */
  get shrinkStopsNow() {
    return this.stopNow.checked;
  }

  /**
   * Shows (or clears) the answer to a live change of `name`.
   * @param {string} name
   * @param {string} message
   */
  showLiveError(name, message) {
    const field = this.fields.get(name);
    if (!field) return;
    field.error.textContent = message;
    if (message) field.input.setAttribute('aria-invalid', 'true');
    else field.input.removeAttribute('aria-invalid');
  }

  /** Moves focus to the first field with an error. */
  focusFirstError() {
    for (const { input, error } of this.fields.values()) {
      if (error.textContent) {
        input.focus();
        return;
      }
    }
  }

  /** @param {(name: string) => void} handler called on every edit, with the field's name */
  bindInput(handler) {
    /** @param {Event} event */
    const named = (event) => {
      const target = event.target;
      if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement) handler(target.name);
    };
    this.form.addEventListener('input', named);
    this.form.addEventListener('change', named);
  }

  /** @param {() => void} handler */
  bindRun(handler) {
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      handler();
    });
  }

  /** @param {() => void} handler */
  bindCancel(handler) {
    this.cancelButton.addEventListener('click', handler);
  }

  /** @param {() => void} handler */
  bindReset(handler) {
    this.resetButton.addEventListener('click', handler);
  }
}
