// A workerpool worker (classic script) for the dispatch-overhead benchmark: named
// methods, so the pool never needs to eval a function (the page's CSP forbids it).
/* global importScripts, worker */
importScripts('../vendor/workerpool/worker.min.js');

/** Busy-waits `micros` microseconds (0 = an empty task). */
function spin(micros) {
  const until = performance.now() + micros / 1000;
  let polls = 0;
  while (performance.now() < until) polls++;
  return polls;
}

worker.add({ spin });
