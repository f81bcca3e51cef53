// Shared helpers for the browser end-to-end tests: start the real server binary
// (the one `./build.sh serve` runs) on a free port, launch Debian's headless Chromium
// through playwright-core, and collect everything that should fail a test: page
// errors, console errors (page and workers) and requests to any other origin.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
// build.sh copies the server here (native builds land in target/<host triple>/).
const SERVER = path.join(ROOT, 'target', 'bin', 'scalelab-serve');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Flags for headless Chromium on this kind of machine (root, closed network). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Starts scalelab-serve on an ephemeral port.
 * @returns {Promise<{url: string, origin: string, stop: () => Promise<void>}>}
 */
export async function startServer({ root = path.join(ROOT, 'www') } = {}) {
  const proc = spawn(SERVER, ['--root', root, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/at (http:\/\/127\.0\.0\.1:\d+\/)/);
      if (match) resolve(match[1]);
    });
    proc.on('exit', (code) => reject(new Error(`scalelab-serve exited early (${code}): ${out}`)));
    proc.on('error', reject);
  });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  return {
    url,
    origin: new URL(url).origin,
    stop: async () => {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** Launches headless Chromium with a fresh profile. */
export async function launchBrowser() {
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'scalelab-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Whether a request for `target` stays on the page's own `origin` (its blob: and
 * data: URLs included): the page must never load anything from elsewhere.
 * @param {string} target
 * @param {string} origin
 */
export function fromOrigin(target, origin) {
  return target.startsWith(`${origin}/`) || target.startsWith(`blob:${origin}/`) || target.startsWith('data:');
}

/**
 * Opens `url` in a new tab and records every problem that should fail a test.
 * `prepare(page)`, if given, runs before the page loads.
 * @returns {Promise<{page: import('playwright-core').Page, problems: string[]}>}
 */
export async function openPage(context, url, { origin = new URL(url).origin, prepare } = {}) {
  const page = await context.newPage();
  await prepare?.(page); // e.g. routes, set before the page loads
  const problems = [];
  const watchConsole = (where) => (message) => {
    if (message.type() === 'error') problems.push(`${where} console error: ${message.text()}`);
  };
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', watchConsole('page'));
  page.on('worker', (worker) => worker.on('console', watchConsole(`worker ${worker.url()}`)));
  page.on('request', (request) => {
    const target = request.url();
    if (!fromOrigin(target, origin)) problems.push(`request to another origin: ${target}`);
  });
  await page.goto(url);
  return { page, problems };
}
