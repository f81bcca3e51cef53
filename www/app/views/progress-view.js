// The progress bar: jobs done out of jobs submitted, and what the run is doing.

export class ProgressView {
  constructor() {
    this.bar = document.getElementById('progress');
    this.text = document.getElementById('progress-text');
  }

  /**
   * @param {number} done jobs with an outcome
   * @param {number} total jobs submitted
   * @param {string} state e.g. "running", "done", "cancelled"
   */
  show(done, total, state) {
    this.bar.max = Math.max(1, total);
    this.bar.value = done;
    this.bar.setAttribute('aria-valuetext', `${done} of ${total} jobs done`);
    this.text.textContent = `${done.toLocaleString('en')} / ${total.toLocaleString('en')} jobs — ${state}`;
    this.text.dataset.state = state;
  }
}
