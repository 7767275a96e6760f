// `cargo xtask size`'s throttled run (a benchmark, not a test): the consent banner of formseal,
// klaro and vanilla-cookieconsent, and formseal's sign-up form, opened like on a mid-range phone
// on slow 4G — 4× CPU slowdown, 150 ms RTT, 1.6 Mbit/s down — in a fresh browser context each
// time (nothing cached), 5 times each, interleaved. Timed from navigation start to a visible,
// clickable "Reject all" (to a sign-up form whose first field accepts input).
//
// Every page is served by the small static server below on 127.0.0.1 only, brotli q11 for all,
// so the three banners get the same server. formseal's pages are the demo's (`SITE/www`, built
// by `cargo xtask size` with `formseal embed`'s snippets); the peers' pages are the demo's
// banner-only page (`hours.html`) with formseal's banner parts taken out and the peer's head
// tags (`peers/*.head.html`, each set up as its README says) put in.
//
// Usage: node xtask/src/size/throttled.mjs SITE [RUNS]. Prints one JSON object.

import { readFileSync, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants } from 'node:zlib';

import { chromium } from 'playwright-core';

import { ARGS } from '../../../tests/e2e/fixtures/browser.mjs';
import { chromiumPath } from '../../../tests/e2e/fixtures/paths.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const [site, runsArg = '5'] = process.argv.slice(2);
if (!site) {
  console.error('usage: node xtask/src/size/throttled.mjs SITE [RUNS]');
  process.exit(2);
}
const RUNS = Number(runsArg);
const PROFILE = { cpu: 4, latencyMs: 150, downBytesPerS: 1_600_000 / 8, upBytesPerS: 750_000 / 8 };

const withoutBanner = (html) =>
  html.replace(/<!-- formseal-consent -->[\s\S]*?<!-- \/formseal-consent -->/g, '');
const hours = readFileSync(path.join(site, 'www/hours.html'), 'utf8');
const peerPage = (name) =>
  withoutBanner(hours).replace(
    '</head>',
    `${readFileSync(path.join(here, 'peers', `${name}.head.html`), 'utf8')}</head>`,
  );
const PAGES = {
  '/peer-klaro.html': peerPage('klaro'),
  '/peer-cookieconsent.html': peerPage('cookieconsent'),
  '/signup.html': withoutBanner(readFileSync(path.join(site, 'www/index.html'), 'utf8')),
};
const DIRS = [
  ['/pkg/', path.join(root, 'pkg')],
  ['/forms/', path.join(site, 'forms')],
  ['/peers/', path.join(here, 'peers')],
  ['/node_modules/klaro/', path.join(root, 'node_modules/klaro')],
  ['/node_modules/vanilla-cookieconsent/', path.join(root, 'node_modules/vanilla-cookieconsent')],
  ['/', path.join(site, 'www')],
];
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
};
const cache = new Map();
function respond(pathname) {
  if (cache.has(pathname)) return cache.get(pathname);
  let body = PAGES[pathname];
  if (body === undefined) {
    const [prefix, dir] = DIRS.find(([p]) => pathname.startsWith(p));
    const file = path.join(dir, pathname.slice(prefix.length));
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) return null;
    body = readFileSync(file);
  }
  const out = {
    type: TYPES[path.extname(pathname)] ?? 'application/octet-stream',
    body: brotliCompressSync(body, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 22 },
    }),
  };
  cache.set(pathname, out);
  return out;
}
const server = createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://127.0.0.1');
  const found = respond(pathname === '/' ? '/index.html' : pathname);
  if (!found) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, {
    'content-type': found.type,
    'content-encoding': 'br',
    'cache-control': 'no-store',
  });
  res.end(found.body);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
if (process.env.THROTTLED_SERVE_ONLY) {
  // For a look at the pages by hand: serve them until interrupted.
  console.error(`serving ${base}/hours.html`);
  await new Promise(() => {});
}

// In the page, from its first script on: the time (ms since navigation start) at which the
// first element matching `selector`, in the document or any open shadow root, is rendered,
// enabled, not hidden, not transparent and (when in the viewport) the one a click at its centre
// would hit.
function watch(selector) {
  const find = () => {
    const roots = [document];
    while (roots.length) {
      const scope = roots.pop();
      const el = scope.querySelector(selector);
      if (el) return el;
      for (const e of scope.querySelectorAll('*')) if (e.shadowRoot) roots.push(e.shadowRoot);
    }
    return null;
  };
  const usable = (el) => {
    if (el.disabled) return false;
    const box = el.getBoundingClientRect();
    if (box.width < 1 || box.height < 1) return false;
    const style = getComputedStyle(el);
    if (style.visibility !== 'visible') return false;
    let opacity = 1;
    for (let n = el; n; n = n.parentElement ?? n.getRootNode().host) {
      opacity *= Number(getComputedStyle(n).opacity);
    }
    if (opacity < 0.5) return false;
    const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
    // Below the fold (a form further down the page) there is nothing to hit-test yet.
    if (y > innerHeight || x > innerWidth) return true;
    const hit = el.getRootNode().elementFromPoint(x, y);
    return hit === el || el.contains(hit);
  };
  const check = () => {
    const el = document.documentElement && find();
    if (el && usable(el)) window.__visibleAt = performance.now();
    else requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}

const CASES = {
  formseal: { page: '/hours.html', selector: '[data-action="reject-all"]' },
  klaro: { page: '/peer-klaro.html', selector: '.cn-decline' },
  cookieconsent: { page: '/peer-cookieconsent.html', selector: '[data-role="necessary"]' },
  signup: { page: '/signup.html', selector: 'form.fs-form input[type="email"]' },
};

// The same browser flags as the browser tests (`tests/e2e/fixtures/browser.mjs`).
const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ARGS });

/** One fresh first visit: ms to usable, and formseal's files fetched before it and in all. */
async function visit({ page: pagePath, selector }) {
  const context = await browser.newContext({ viewport: { width: 412, height: 915 } });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: PROFILE.latencyMs,
      downloadThroughput: PROFILE.downBytesPerS,
      uploadThroughput: PROFILE.upBytesPerS,
    });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: PROFILE.cpu });
    await page.addInitScript(watch, selector);
    await page.goto(`${base}${pagePath}`, { waitUntil: 'commit' });
    const log = [];
    page.on('console', (m) => log.push(m.text()));
    page.on('pageerror', (e) => log.push(String(e)));
    await page
      .waitForFunction(() => window.__visibleAt !== undefined, null, { timeout: 60000, polling: 100 })
      .catch((error) => {
        throw new Error(`${pagePath}: ${selector} never became usable (${error.message}); ${log}`);
      });
    const ours = (entries) =>
      entries.map((r) => new URL(r.name).pathname).filter((p) => /^\/(pkg|forms)\//.test(p));
    const before = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .filter((r) => r.responseEnd <= window.__visibleAt)
        .map((r) => ({ name: r.name })),
    );
    const visibleAt = await page.evaluate(() => window.__visibleAt);
    // What the visit goes on to load (a deferred wasm): wait for the network to go quiet.
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(1000);
    const all = await page.evaluate(() =>
      performance.getEntriesByType('resource').map((r) => ({ name: r.name })),
    );
    return { ms: visibleAt, critical: ours(before), total: ours(all) };
  } finally {
    await context.close();
  }
}

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length / 2;
  return s.length % 2 ? s[Math.floor(mid)] : (s[mid - 1] + s[mid]) / 2;
};
const round = (ms) => Math.round(ms);
const times = Object.fromEntries(Object.keys(CASES).map((k) => [k, []]));
let firstVisit = null;
try {
  for (let i = 0; i < RUNS; i++) {
    for (const [name, spec] of Object.entries(CASES)) {
      const result = await visit(spec);
      times[name].push(result.ms);
      if (name === 'formseal') firstVisit ??= { critical: result.critical, total: result.total };
    }
  }
} finally {
  await browser.close();
  server.close();
}
console.log(
  JSON.stringify({
    profile: PROFILE,
    runs: RUNS,
    ms: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, v.map(round)])),
    banner_visible_ms: {
      formseal: round(median(times.formseal)),
      klaro: round(median(times.klaro)),
      cookieconsent: round(median(times.cookieconsent)),
    },
    signup_interactive_ms: round(median(times.signup)),
    first_visit: firstVisit,
  }),
);
