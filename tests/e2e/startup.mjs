// Start-up of the widget as a visitor meets it: opens a page N times in headless chromium
// (fresh profile each time, so nothing is cached) and times navigation start → the form is
// interactive (`<form>` in the shadow root, submit button enabled). Prints one JSON object:
// every run in ms, median, p90 and the bytes the widget's files took over the wire. The baseline,
// in the same run: the same page with the widget's files blocked, timed to its load event, so
// the report also says how much the widget adds (a ratio, robust to a noisy machine).
// Usage: node tests/e2e/startup.mjs URL [RUNS]   (`cargo xtask size` runs it against the demo)

import { openBrowser } from './fixtures/browser.mjs';

const [url, runsArg = '10'] = process.argv.slice(2);
if (!url) {
  console.error('usage: node tests/e2e/startup.mjs URL [RUNS]');
  process.exit(2);
}
const runs = Number(runsArg);

const times = [];
let transfer = null;
for (let i = 0; i < runs; i++) {
  const browser = await openBrowser();
  try {
    const page = browser.page;
    await page.goto(url, { waitUntil: 'commit' });
    const measured = await page.evaluate(
      () =>
        new Promise((resolve, reject) => {
          const deadline = performance.now() + 30000;
          const check = () => {
            const root = document.querySelector('formseal-form')?.shadowRoot;
            const button = root?.querySelector('form button[type="submit"]');
            if (button && !button.disabled) {
              const interactive = performance.now();
              const resources = performance.getEntriesByType('resource').map((r) => ({
                name: new URL(r.name).pathname,
                transfer: r.transferSize,
                encoded: r.encodedBodySize,
              }));
              resolve({ interactive, resources });
            } else if (performance.now() > deadline) {
              reject(new Error('the form never became interactive'));
            } else {
              requestAnimationFrame(check);
            }
          };
          check();
        }),
    );
    // performance.now() counts from the navigation's start (timeOrigin).
    times.push(measured.interactive);
    const widget = measured.resources.filter((r) => /\.(wasm|js|css)$/.test(r.name));
    transfer = {
      files: Object.fromEntries(widget.map((r) => [r.name, r.transfer])),
      total: widget.reduce((sum, r) => sum + r.transfer, 0),
    };
  } finally {
    await browser.close();
  }
}

// The baseline: the host page alone (the widget's files are refused), to its load event.
const baseline = [];
for (let i = 0; i < runs; i++) {
  const browser = await openBrowser();
  try {
    const page = browser.page;
    await page.route('**/pkg/**', (route) => route.abort());
    await page.goto(url, { waitUntil: 'load' });
    baseline.push(
      await page.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventEnd),
    );
  } finally {
    await browser.close();
  }
}

// Nearest-rank p90; the median of an even count is the mean of the middle two.
const stats = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return {
    median: sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2,
    p90: sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)],
  };
};
const widget = stats(times);
const page = stats(baseline);
const round = (ms) => Math.round(ms * 10) / 10;
console.log(
  JSON.stringify({
    url,
    runs,
    ms: times.map(round),
    median_ms: round(widget.median),
    p90_ms: round(widget.p90),
    baseline_ms: baseline.map(round),
    baseline_median_ms: round(page.median),
    ratio_to_baseline: Math.round((widget.median / page.median) * 100) / 100,
    transfer_bytes: transfer,
  }),
);
