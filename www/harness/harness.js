// Exposes scalelab's JavaScript API to browser tests and benchmarks (driven through
// playwright's page.evaluate), on a page that starts no engine of its own.

import { Engine, jobRecords, toTraceEvents } from '../lib/engine.js';

globalThis.scalelab = { Engine, jobRecords, toTraceEvents };
document.documentElement.dataset.ready = 'true';
