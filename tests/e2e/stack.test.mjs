// The walking skeleton: the served page is cross-origin isolated, starts a pool of
// real threads and computes a parallel result that matches the known answer.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openPage } from './harness.mjs';
import { serverAndBrowser } from './suite.mjs';

const stack = serverAndBrowser();

test('server sends isolation, CSP and MIME headers', async () => {
  const page = await fetch(stack.server.url);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
  assert.match(page.headers.get('content-security-policy'), /default-src 'self'/);
  assert.match(page.headers.get('content-security-policy'), /script-src 'self' 'wasm-unsafe-eval'/);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  assert.doesNotMatch(page.headers.get('content-security-policy'), /'unsafe-inline'|'unsafe-eval'|\*/);
  // Scripts and workers from our own files only (no blob: workers, see build.sh).
  assert.match(page.headers.get('content-security-policy'), /worker-src 'self';/);
  const wasm = await fetch(new URL('pkg/scalelab_bg.wasm', stack.server.url));
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  assert.equal(wasm.headers.get('cross-origin-embedder-policy'), 'require-corp');
  const js = await fetch(new URL('lib/engine.js', stack.server.url));
  assert.match(js.headers.get('content-type'), /javascript/);
});

test('page is isolated, starts >= 2 threads and gets the known parallel answer', async () => {
  const { page, problems } = await openPage(stack.browser.context, stack.server.url);
  await page.waitForSelector('[data-testid="selftest"][data-primes]', { timeout: 60_000 });
  assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true);
  assert.equal(await page.textContent('[data-testid="isolated"]'), 'true');
  const threads = Number(await page.textContent('[data-testid="threads"]'));
  assert.ok(threads >= 2, `pool threads: ${threads}`);
  assert.equal(await page.getAttribute('[data-testid="selftest"]', 'data-primes'), '664579');
  assert.equal(await page.getAttribute('[data-testid="selftest"]', 'class'), 'ok');
  assert.deepEqual(problems, []);
  await page.close();
});

test('without the isolation headers the page says why and how to fix it, and starts nothing', async () => {
  // The same server, with COOP/COEP stripped from every response: what a host without
  // the headers (a plain static server) would send.
  const stripIsolation = (page) =>
    page.route('**/*', async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers() };
      delete headers['cross-origin-opener-policy'];
      delete headers['cross-origin-embedder-policy'];
      await route.fulfill({ response, headers });
    });
  const { page, problems } = await openPage(stack.browser.context, stack.server.url, { prepare: stripIsolation });
  await page.waitForSelector('#isolation-warning:not([hidden])');
  assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), false);
  assert.equal(await page.textContent('[data-testid="isolated"]'), 'false');
  const banner = await page.textContent('#isolation-warning');
  assert.match(banner, /not cross-origin isolated/);
  assert.match(banner, /Cross-Origin-Opener-Policy: same-origin/);
  assert.match(banner, /Cross-Origin-Embedder-Policy: require-corp/);
  assert.equal(await page.isDisabled('[data-testid="run"]'), true, 'Run is disabled');
  assert.match(await page.textContent('#run-reason'), /not cross-origin isolated/);
  assert.deepEqual(problems, []);
  await page.close();
});
