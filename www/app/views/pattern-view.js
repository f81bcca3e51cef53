// The pattern picker (a radio group, so it is keyboard-operable as one control) and
// the explanation of the chosen pattern.

export class PatternView {
  /**
   * @param {HTMLFieldSetElement} picker
   * @param {HTMLElement} explain
   * @param {import('../patterns.js').PatternInfo[]} patterns
   */
  constructor(picker, explain, patterns) {
    this.explain = explain;
    this.patterns = patterns;
    this.inputs = patterns.map((p) => {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'radio';
      input.name = 'pattern';
      input.value = p.id;
      input.dataset.testid = `pattern-${p.id}`;
      label.append(input, document.createTextNode(p.title));
      picker.append(label);
      return input;
    });
  }

  /** @param {string} id */
  select(id) {
    for (const input of this.inputs) input.checked = input.value === id;
    const pattern = this.patterns.find((p) => p.id === id);
    if (!pattern) return;
    const what = document.createElement('p');
    const title = document.createElement('strong');
    title.textContent = pattern.title;
    what.append(title, document.createTextNode(pattern.what));
    const when = document.createElement('p');
    const whenTitle = document.createElement('strong');
    whenTitle.textContent = 'When to choose it';
    when.append(whenTitle, document.createTextNode(pattern.when));
    this.explain.replaceChildren(what, when);
  }

  /** @param {(id: string) => void} handler called when the person picks a pattern */
  bindChange(handler) {
    for (const input of this.inputs) input.addEventListener('change', () => input.checked && handler(input.value));
  }

  /** @param {boolean} disabled */
  setDisabled(disabled) {
    for (const input of this.inputs) input.disabled = disabled;
  }
}
