// A workerpool worker (classic script) for the dispatch-overhead benchmark: named
// methods, so the pool never needs to eval a function (the page's CSP forbids it).
/* global importScripts, worker */
importScripts('../vendor/workerpool/worker.min.js');

/** Busy-waits `micros` microseconds (0 = an empty task); returns the µs it took, as
 * measured here (the clock is coarse, 5 µs when isolated, so a job overshoots). */
function spin(micros) {
  const start = performance.now();
  const until = start + micros / 1000;
  while (performance.now() < until);
  return (performance.now() - start) * 1000;
}

worker.add({ spin });
