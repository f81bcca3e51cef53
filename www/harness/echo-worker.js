// Echoes every message back: the plain postMessage round trip the dispatch benchmark
// compares against.
self.onmessage = (event) => self.postMessage(event.data);
