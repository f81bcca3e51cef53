// The kept runs: a table of their key figures and an overlay of their throughput, so
// set-ups can be compared without re-running.

import { countOf, outcomes } from '../../lib/outcomes.js';
import { COLORS, CompareChart } from './chart.js';
import { byId, el } from './dom.js';

/**
 * What a kept run shows: the figures an imported run has, which every run's report has
 * too.
 * @typedef {import('../../pkg/scalelab.js').ImportedReport} KeptReport
 * @typedef {{label: string, report: KeptReport}} KeptRun
 */

/**
 * A colour key (styled through the CSSOM: the page's CSP allows no inline style attributes).
 * @param {string} color
 */
function swatch(color) {
  const node = el('span', { class: 'swatch' });
  node.style.background = color;
  return node;
}

export class CompareView {
  constructor() {
    this.root = byId('compare-table');
    this.chart = new CompareChart();
    /** @type {(index: number) => void} */
    this.onRemove = () => {};
  }

  /** @param {(index: number) => void} handler */
  bindRemove(handler) {
    this.onRemove = handler;
  }

  /**
   * @param {KeptRun[]} runs oldest first
   */
  show(runs) {
    const colored = runs.map((r, i) => ({ ...r, color: COLORS.series[i % COLORS.series.length] }));
    this.chart.show(colored.map((r) => ({ label: r.label, color: r.color, series: r.report.series })));
    if (!runs.length) {
      this.root.replaceChildren(el('p', { class: 'hint' }, 'Finished runs will appear here.'));
      return;
    }
    const head = el(
      'tr',
      {},
      ...[
        'run',
        outcomes()
          .map((o) => o.label)
          .join(' / '),
        'throughput',
        'p50 / p99 total',
        'wall',
        'limiter',
        '',
      ].map((h) => el('th', {}, h)),
    );
    const body = colored.map((r, index) => {
      const rep = r.report;
      const c = rep.counts;
      const remove = el('button', { type: 'button', class: 'quiet', 'aria-label': `Remove ${r.label}` }, '×');
      remove.addEventListener('click', () => this.onRemove(index));
      return el(
        'tr',
        { 'data-testid': 'compare-row' },
        el('td', {}, swatch(r.color), r.label),
        el(
          'td',
          {},
          outcomes()
            .map((o) => countOf(c, o))
            .join(' / '),
        ),
        el('td', {}, `${rep.throughputPerS.toFixed(1)}/s`),
        el('td', {}, `${rep.latency.total.p50.toFixed(2)} / ${rep.latency.total.p99.toFixed(2)} ms`),
        el('td', {}, `${rep.wallMs.toFixed(0)} ms`),
        el('td', {}, rep.limiter ? `${rep.limiter.achievedRate.toFixed(1)} of ${rep.limiter.configuredRate}/s` : '—'),
        el('td', {}, remove),
      );
    });
    this.root.replaceChildren(
      el('div', { class: 'table-scroll' }, el('table', {}, el('thead', {}, head), el('tbody', {}, ...body))),
    );
  }
}
