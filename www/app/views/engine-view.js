// The engine facts in the header and the page's banners (isolation, engine failure,
// problems in a shared link). Text only: nothing from a link or the engine is ever
// inserted as markup.

import { byId } from './dom.js';

export class EngineView {
  constructor() {
    this.threads = byId('fact-threads');
    this.isolated = byId('fact-isolated');
    this.startup = byId('fact-startup');
    this.selftest = byId('fact-selftest');
    this.isolationBanner = byId('isolation-warning');
    this.engineBanner = byId('engine-banner');
    this.linkBanner = byId('link-banner');
  }

  /**
   * @param {boolean} isolated
   * @param {'none' | 'installing' | 'unavailable' | 'failed'} serviceWorker how a copy
   *   deployed with coi-serviceworker (`./build.sh dist`) is getting its isolation
   */
  showIsolation(isolated, serviceWorker = 'none') {
    this.isolated.textContent = String(isolated);
    this.isolated.className = isolated ? 'ok' : 'bad';
    if (isolated) return;
    this.isolationBanner.hidden = false;
    if (serviceWorker === 'installing') {
      this.isolationBanner.textContent =
        'Enabling threads: this host sends no isolation headers, so a small service worker adds them. The page reloads once…';
      return;
    }
    if (serviceWorker === 'unavailable') {
      this.isolationBanner.textContent =
        'This browser window does not allow service workers (private windows of some browsers do not), and this ' +
        'host sends no isolation headers, so the engine cannot start its threads here. Open the page in a normal ' +
        'window, or serve it with "Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp".';
      return;
    }
    if (serviceWorker === 'failed') {
      this.isolationBanner.textContent =
        'A service worker is in place but the browser did not make the page cross-origin isolated, so the engine ' +
        'cannot start its threads. Reload once more; if this stays, serve the page with "Cross-Origin-Opener-Policy: ' +
        'same-origin" and "Cross-Origin-Embedder-Policy: require-corp".';
      return;
    }
    this.isolationBanner.textContent =
      'This page is not cross-origin isolated, so the browser withholds SharedArrayBuffer and the ' +
      'engine cannot start its threads. The server must send "Cross-Origin-Opener-Policy: same-origin" ' +
      'and "Cross-Origin-Embedder-Policy: require-corp" with the page and its scripts. Run ' +
      '"./build.sh serve" (which sets both), or add the two headers to your web server’s configuration, then reload.';
  }

  /** @param {{threads: number, poolStartMs: number, wasmLoadMs: number}} info */
  showEngine(info) {
    this.threads.textContent = String(info.threads);
    this.startup.textContent = `${info.poolStartMs.toFixed(0)} ms`;
    this.startup.title = `wasm load ${info.wasmLoadMs.toFixed(0)} ms, pool start ${info.poolStartMs.toFixed(0)} ms`;
  }

  /**
   * @param {{primes: number, chunksPerThread: number[]}} result
   * @param {number} ms how long it took
   * @param {number} expected the known answer
   */
  showSelfTest(result, ms, expected) {
    const correct = result.primes === expected;
    this.selftest.textContent = correct ? `π(10⁷) ✓ ${ms.toFixed(0)} ms` : `WRONG: ${result.primes}`;
    this.selftest.className = correct ? 'ok' : 'bad';
    this.selftest.title = `${result.primes} primes below 10⁷ counted in 64 parallel chunks; chunks per thread: ${result.chunksPerThread.join(', ')}`;
    this.selftest.dataset.primes = String(result.primes);
  }

  /** @param {string | null} message */
  showEngineError(message) {
    this.engineBanner.hidden = !message;
    this.engineBanner.textContent = message ?? '';
  }

  /** @param {string[]} messages problems found in the link the page was opened with */
  showLinkProblems(messages) {
    this.linkBanner.hidden = messages.length === 0;
    this.linkBanner.replaceChildren();
    if (!messages.length) return;
    const intro = document.createElement('p');
    intro.textContent = 'Some settings in this link were not used:';
    const list = document.createElement('ul');
    for (const message of messages) {
      const item = document.createElement('li');
      item.textContent = message;
      list.append(item);
    }
    this.linkBanner.append(intro, list);
  }
}
