// The progress bar: jobs done out of jobs submitted (or, for a run with a duration, the
// time gone), and what the run is doing.

import { byId } from './dom.js';

export class ProgressView {
  constructor() {
    this.bar = byId('progress', HTMLProgressElement);
    this.text = byId('progress-text');
    this.stages = byId('stages-live');
  }

  /**
   * A pipeline's stages now (hidden for other patterns): each one's workers, the jobs
   * waiting in front of it and how busy its workers have been.
   * @param {import('../../pkg/scalelab.js').StageProgress[]} stages
   */
  showStages(stages) {
    this.stages.hidden = stages.length === 0;
    this.stages.textContent = stages
      .map(
        (s) =>
          `${s.name}: ${s.workers} worker${s.workers === 1 ? '' : 's'}, ${s.queued} waiting, ${(s.utilisation * 100).toFixed(0)}% busy`,
      )
      .join(' → ');
  }

  /**
   * @param {number} done jobs with an outcome
   * @param {number} total jobs submitted
   * @param {string} state e.g. "running", "done", "cancelled"
   * @param {'jobs' | 'ms'} [unit] what `done` and `total` count
   */
  show(done, total, state, unit = 'jobs') {
    this.bar.max = Math.max(1, total);
    this.bar.value = done;
    const amount = (/** @type {number} */ x) => Math.round(x).toLocaleString('en');
    const what = unit === 'ms' ? 'ms' : 'jobs';
    this.bar.setAttribute(
      'aria-valuetext',
      `${amount(done)} of ${amount(total)} ${what}${unit === 'ms' ? '' : ' done'}`,
    );
    this.text.textContent = `${amount(done)} / ${amount(total)} ${what} — ${state}`;
    this.text.dataset.state = state;
  }
}
