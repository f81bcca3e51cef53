// dist/ on a host that sends no headers at all (as GitHub Pages or an S3 bucket): a
// plain static server here, no COOP, no COEP, no CSP. coi-serviceworker installs, the
// page reloads once, becomes cross-origin isolated, and runs a pool on every thread;
// the policy rides along as a <meta> tag. `./build.sh test` assembles dist/ first.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, openPage } from './harness.mjs';

const DIST = path.resolve(import.meta.dirname, '..', '..', 'dist');
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/** A static server that sends only Content-Type: what the plainest host does. */
function plainServer(root) {
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    let file = path.join(root, decodeURIComponent(url.pathname));
    if (!file.startsWith(root)) {
      response.writeHead(404).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!existsSync(file)) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    response.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let server;
let browser;

before(async () => {
  assert.ok(existsSync(path.join(DIST, 'index.html')), 'dist/ is missing: run ./build.sh dist');
  server = await plainServer(DIST);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

test('dist/ on a host without headers: the service worker isolates the page, which runs a pool on all threads', async () => {
  const url = `http://127.0.0.1:${server.address().port}/`;
  const { page, problems } = await openPage(browser.context, url);
  // The first load installs the worker and reloads; the second is isolated.
  await page.waitForFunction(
    () => globalThis.crossOriginIsolated === true && document.documentElement.dataset.ready === 'true',
    null,
    { timeout: 30_000 },
  );
  assert.equal(await page.textContent('[data-testid="isolated"]'), 'true');
  const threads = Number(await page.textContent('[data-testid="threads"]'));
  assert.ok(threads >= 2, `threads: ${threads}`);
  await page.fill('[data-testid="field-workers"]', String(threads));
  await page.fill('[data-testid="field-jobs"]', '40');
  await page.click('[data-testid="run"]');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="progress-text"]').dataset.state === 'done',
    null,
    {
      timeout: 30_000,
    },
  );
  assert.match(await page.textContent('[data-testid="sum-accounting"]'), /^accounting: submitted=40 completed=40 /);
  // The policy came with the page, as a meta tag (the host sent none).
  const csp = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
  assert.match(csp ?? '', /script-src 'self' 'wasm-unsafe-eval'/);
  assert.deepEqual(problems, []);
  await page.close();
});
