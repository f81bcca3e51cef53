// A card per pitfall: what goes wrong, a button to run it wrong-vs-right, the numbers,
// a verdict, and a chart of the runs over time.

import { Chart, COLORS } from './chart.js';
import { byId, el } from './dom.js';

/** @typedef {import('../pitfalls.js').Pitfall} Pitfall */
/** @typedef {import('../pitfalls.js').PitfallResult} PitfallResult */
/** @typedef {import('../pitfalls.js').PitfallPoint} PitfallPoint */
/**
 * @typedef {{pitfall: Pitfall, button: HTMLButtonElement, result: HTMLElement, figure: HTMLElement,
 *   chart: Chart | null}} Card
 */

export class PitfallsView {
  /** @param {Pitfall[]} pitfalls */
  constructor(pitfalls) {
    this.root = byId('pitfalls');
    /** @type {Map<string, Card>} */
    this.cards = new Map();
    /** @type {(id: string) => void} */
    this.onRun = () => {};
    for (const pitfall of pitfalls) {
      const button = /** @type {HTMLButtonElement} */ (
        el(
          'button',
          { type: 'button', class: 'primary', 'data-testid': `pitfall-run-${pitfall.id}` },
          'Run wrong vs right',
        )
      );
      button.addEventListener('click', () => this.onRun(pitfall.id));
      const result = el('div', {
        class: 'result',
        'aria-live': 'polite',
        'data-testid': `pitfall-result-${pitfall.id}`,
      });
      const figure = el(
        'figure',
        { class: 'chart', 'data-chart': `pitfall-${pitfall.id}` },
        el('figcaption', {}, pitfall.chart?.label ?? ''),
        el('div', { class: 'plot' }),
      );
      figure.hidden = true;
      const card = el(
        'article',
        { class: 'pitfall', 'data-testid': `pitfall-${pitfall.id}` },
        el('h4', {}, pitfall.title),
        el('p', {}, pitfall.explain),
        el('div', {}, button),
        result,
        figure,
      );
      this.root.append(card);
      this.cards.set(pitfall.id, { pitfall, button, result, figure, chart: null });
    }
  }

  /** @param {(id: string) => void} handler */
  bindRun(handler) {
    this.onRun = handler;
  }

  /** @param {boolean} disabled */
  setDisabled(disabled) {
    for (const card of this.cards.values()) card.button.disabled = disabled;
  }

  /** @param {string} id */
  card(id) {
    const card = this.cards.get(id);
    if (!card) throw new Error(`no pitfall ${id}`);
    return card;
  }

  /**
   * @param {string} id
   * @param {string} label the program running now
   */
  running(id, label) {
    this.card(id).result.replaceChildren(el('p', {}, `Running: ${label}…`));
  }

  /**
   * @param {string} id
   * @param {string} message
   */
  failed(id, message) {
    this.card(id).result.replaceChildren(el('p', { class: 'bad' }, message));
  }

  /**
   * @param {string} id
   * @param {{label: string}[]} runs
   * @param {PitfallResult[]} results in the order of `runs`
   */
  show(id, runs, results) {
    const card = this.card(id);
    const { rows, verdict, detected } = card.pitfall.measure(results);
    const head = el('tr', {}, el('th', {}, ''), ...runs.map((r) => el('th', {}, r.label)));
    const body = rows.map((row) =>
      el('tr', {}, el('th', { scope: 'row' }, row[0]), ...row.slice(1).map((v) => el('td', {}, v))),
    );
    const table = el(
      'div',
      { class: 'table-scroll' },
      el('table', {}, el('thead', {}, head), el('tbody', {}, ...body)),
    );
    const verdictNode = el('p', { class: 'verdict', 'data-detected': String(detected) }, verdict);
    card.result.replaceChildren(table, verdictNode);
    const spec = card.pitfall.chart;
    if (!spec) return;
    card.figure.hidden = false;
    const tables = results.map((r) => {
      // Every charted card runs programs or runs, which carry samples.
      const samples = 'samples' in r ? /** @type {PitfallPoint[]} */ (r.samples) : [];
      return [samples.map((s) => s.tMs), samples.map(spec.value)];
    });
    if (!card.chart) {
      card.chart = new Chart(
        `pitfall-${id}`,
        (width) => ({
          width,
          height: 180,
          legend: { live: false },
          scales: { x: { time: false } },
          axes: [{ label: 'ms since start' }, { label: spec.label, size: 56 }],
          series: [{ label: 'ms' }],
        }),
        0,
      );
    }
    const series = [
      { label: 'ms' },
      ...runs.map((r, i) => ({ label: r.label, stroke: COLORS.series[i], width: 2, spanGaps: true })),
    ];
    card.chart.replace(series, joinTables(tables));
  }
}

/**
 * Aligns several (x, y) tables on one x axis (nulls where a table has no point).
 * @param {number[][][]} tables
 * @returns {(number | null)[][]}
 */
function joinTables(tables) {
  const xs = [...new Set(tables.flatMap((t) => t[0]))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = tables.map(([tx, ty]) => {
    /** @type {(number | null)[]} */
    const y = new Array(xs.length).fill(null);
    tx.forEach((x, i) => {
      y[index.get(x) ?? 0] = ty[i];
    });
    return y;
  });
  return [xs, ...ys];
}
