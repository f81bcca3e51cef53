// Exposes scalelab's JavaScript API to browser tests and benchmarks (driven through
// playwright's page.evaluate), on a page that starts no engine of its own.

import { Engine, jobRecords } from '../lib/engine.js';

globalThis.scalelab = { Engine, jobRecords };
document.documentElement.dataset.ready = 'true';
