// Histogram bins for the latency chart (two samples on shared bins).

/**
 * Bins `a` and `b` on `bins` equal-width bins from 0 to the larger of their 99th
 * percentiles (values beyond go in the last bin), so a single outlier does not squash
 * the chart.
 * @param {ArrayLike<number>} a
 * @param {ArrayLike<number>} b
 * @param {number} [bins]
 * @returns {{edges: number[], centers: number[], a: number[], b: number[], width: number}}
 */
export function sharedHistogram(a, b, bins = 30) {
  // The 99th percentile from an even sample of at most 4000 values: the bins' range
  // only needs to be about right, and sorting 100 000 values would stall a frame.
  const p99 = (/** @type {ArrayLike<number>} */ values) => {
    if (!values.length) return 0;
    const step = Math.max(1, Math.floor(values.length / 4000));
    const sample = new Float64Array(Math.ceil(values.length / step));
    for (let i = 0, k = 0; i < values.length; i += step, k++) sample[k] = values[i];
    sample.sort();
    return sample[Math.min(sample.length - 1, Math.ceil(0.99 * sample.length) - 1)];
  };
  const top = Math.max(p99(a), p99(b), 1e-3) * 1.05;
  const width = top / bins;
  const count = (/** @type {ArrayLike<number>} */ values) => {
    const counts = new Array(bins).fill(0);
    for (let i = 0; i < values.length; i++) counts[Math.min(bins - 1, Math.max(0, Math.floor(values[i] / width)))]++;
    return counts;
  };
  const edges = Array.from({ length: bins + 1 }, (_, i) => i * width);
  const centers = edges.slice(0, -1).map((e) => e + width / 2);
  return { edges, centers, a: count(a), b: count(b), width };
}
