// "Show as Go": the set-up's Go program (made by the engine, `engine.goProgram`) in a
// modal dialog, with its notes, a Copy button and a download of main.go. The source is
// shown as text, never as markup.

import { download } from '../model/export.js';
import { byId, el } from './dom.js';

export class GoView {
  constructor() {
    this.dialog = byId('go-dialog', HTMLDialogElement);
    this.source = byId('go-source');
    this.notes = byId('go-notes');
    this.status = byId('go-status');
    this.text = '';
    byId('go-copy').addEventListener('click', () => this.#copy());
    byId('go-download').addEventListener('click', () =>
      download(new Blob([this.text], { type: 'text/x-go' }), 'main.go'),
    );
    byId('go-close').addEventListener('click', () => this.dialog.close());
  }

  /**
   * Shows a program.
   * @param {import('../../pkg/scalelab.js').GoProgram} program
   */
  show(program) {
    this.text = program.source;
    this.source.textContent = program.source;
    this.notes.replaceChildren(...program.notes.map((note) => el('li', {}, note)));
    this.status.textContent = '';
    if (!this.dialog.open) this.dialog.showModal();
  }

  async #copy() {
    try {
      await navigator.clipboard.writeText(this.text);
      this.status.textContent = 'Copied.';
    } catch {
      this.status.textContent = 'Copying was refused: select the text, or download main.go.';
    }
  }
}
