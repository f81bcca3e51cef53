// A card per pitfall: what goes wrong, a button to run it wrong-vs-right, the numbers,
// a verdict, and a chart of the runs over time.

import { Chart, COLORS } from './chart.js';
import { el } from './dom.js';

export class PitfallsView {
  /** @param {import('../pitfalls.js').Pitfall[]} pitfalls */
  constructor(pitfalls) {
    this.root = document.getElementById('pitfalls');
    this.cards = new Map();
    this.onRun = () => {};
    for (const pitfall of pitfalls) {
      const button = el(
        'button',
        { type: 'button', class: 'primary', 'data-testid': `pitfall-run-${pitfall.id}` },
        'Run wrong vs right',
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

  running(id, label) {
    this.cards.get(id).result.replaceChildren(el('p', {}, `Running: ${label}…`));
  }

  failed(id, message) {
    this.cards.get(id).result.replaceChildren(el('p', { class: 'bad' }, message));
  }

  /**
   * @param {string} id
   * @param {{label: string}[]} runs
   * @param {object[]} results reports (or race results), in the order of `runs`
   */
  show(id, runs, results) {
    const card = this.cards.get(id);
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
    if (!card.pitfall.chart) return;
    card.figure.hidden = false;
    const value = card.pitfall.chart.value;
    const tables = results.map((r) => [r.samples.map((s) => s.tMs), r.samples.map(value)]);
    if (!card.chart) {
      card.chart = new Chart(
        `pitfall-${id}`,
        (width) => ({
          width,
          height: 180,
          legend: { live: false },
          scales: { x: { time: false } },
          axes: [{ label: 'ms since start' }, { label: card.pitfall.chart.label, size: 56 }],
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

/** Aligns several (x, y) tables on one x axis (nulls where a table has no point). */
function joinTables(tables) {
  const xs = [...new Set(tables.flatMap((t) => t[0]))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = tables.map(([tx, ty]) => {
    const y = new Array(xs.length).fill(null);
    tx.forEach((x, i) => {
      y[index.get(x)] = ty[i];
    });
    return y;
  });
  return [xs, ...ys];
}
