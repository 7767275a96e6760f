// The proof-of-work benchmark: how long a visitor's browser takes to solve one of the collector's
// challenges at the collector's default difficulty, and how long the page's main thread is held
// up meanwhile, in headless chromium against a real `formseal serve`. Three ways, RUNS each:
//   worker          pkg/formseal-pow.js driven as src/pow.rs drives it: a new Worker per
//                   challenge, given [salt, challenge, maxnumber], answering the number;
//   widget          the whole widget: a submission with no solution ahead, from the challenge's
//                   arrival to the post that carries the solution (parse, worker, encode);
//   on_this_thread  the same with a page whose CSP (`worker-src 'none'`) refuses the worker, so
//                   the widget solves on the page's thread in slices.
// The main thread is watched while solving with a PerformanceObserver for 'longtask' entries
// (only tasks over 50 ms are reported) and a setTimeout(0) chain whose longest gap is the
// longest the page could not run anything (give or take the 4 ms a chain of timeouts waits at
// least). Prints one JSON object; asserts nothing.
// Usage: node tests/e2e/pow-bench.mjs [RUNS]   (`cargo xtask bench pow` runs it)

import { openBrowser } from './fixtures/browser.mjs';
import { startCollector, testForm } from './fixtures/collector.mjs';
import { embed } from './fixtures/site.mjs';

const runs = Number(process.argv[2] ?? '21');

/** A form with one optional question, so that it can be submitted without typing. */
const form = testForm((base) => {
  const en = (text) => ({ en: text, nl: text });
  return {
    ...base,
    id: 'pow-bench',
    fields: [{ id: 'comment', type: 'textarea', label: en('Comment'), purposes: ['feedback'] }],
    purposes: [
      {
        id: 'feedback',
        label: en('Feedback'),
        description: en('We improve our service with your answers.'),
        legal_basis: 'legitimate-interests',
        retention_days: 365,
      },
    ],
  };
});

/** A page with the widget; `csp` adds a policy of the page's own. */
function widgetPage(formFile, csp) {
  const { script, element } = embed(formFile);
  const meta = csp ? `<meta http-equiv="Content-Security-Policy" content="${csp}">` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">${meta}<title>pow bench</title>${script}</head><body><main>${element}</main></body></html>`;
}

/**
 * Installed in every page before its scripts: the longtask observer and the setTimeout(0) gap
 * probe, read back over a window of the page's clock by `__powProbe.longest(from, to)`.
 */
function probe() {
  const tasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      tasks.push({ start: e.startTime, end: e.startTime + e.duration });
    }
  }).observe({ type: 'longtask', buffered: true });
  const gaps = [];
  let running = false;
  window.__powProbe = {
    start() {
      running = true;
      let last = performance.now();
      const tick = () => {
        const now = performance.now();
        gaps.push({ start: last, end: now });
        last = now;
        if (running) setTimeout(tick, 0);
      };
      setTimeout(tick, 0);
    },
    stop() {
      running = false;
    },
    /** The longest longtask and the longest gap that overlap [from, to]. */
    longest(from, to) {
      const overlapping = (list) => list.filter((t) => t.end > from && t.start < to);
      const longest = (list) => Math.max(0, ...overlapping(list).map((t) => t.end - t.start));
      return {
        longtask_ms: longest(tasks),
        longtasks: overlapping(tasks).length,
        gap_ms: longest(gaps),
      };
    },
  };
}

/** In the page: fetches a challenge and solves it in a new worker, as src/pow.rs does. */
async function solveInWorker(workerUrl) {
  const challenge = await (await fetch('/v1/challenge')).json();
  window.__powProbe.start();
  const from = performance.now();
  const worker = new Worker(workerUrl);
  const number = await new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => resolve(data);
    worker.onerror = () => reject(new Error(`the worker ${workerUrl} failed`));
    worker.postMessage([challenge.salt, challenge.challenge, challenge.maxnumber]);
  });
  const to = performance.now();
  worker.terminate();
  window.__powProbe.stop();
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(challenge.salt + number)),
  );
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  if (hex !== challenge.challenge) throw new Error(`the worker answered ${number}, no solution`);
  const difficulty = challenge.maxnumber;
  return { ms: to - from, number, difficulty, ...window.__powProbe.longest(from, to) };
}

/** In the page: submits the form unfocused (so nothing was solved ahead) and times the solve. */
async function submitAndTime() {
  const host = document.querySelector('formseal-form');
  window.__powProbe.start();
  host.shadowRoot.querySelector('form').requestSubmit();
  for (let waited = 0; host.getAttribute('data-state') !== 'sent'; waited += 20) {
    if (waited > 30000) {
      throw new Error(`no acknowledgement (state ${host.getAttribute('data-state')})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  window.__powProbe.stop();
  const last = (path) =>
    performance
      .getEntriesByType('resource')
      .filter((e) => new URL(e.name).pathname === path)
      .at(-1);
  // A fetch's timing entry is added once its body has arrived, a moment after the widget saw
  // the status.
  let challenge;
  let post;
  for (let waited = 0; !(challenge && post); waited += 20) {
    if (waited > 5000) throw new Error('no challenge fetched or no submission posted');
    await new Promise((resolve) => setTimeout(resolve, 20));
    [challenge, post] = [last('/v1/challenge'), last('/v1/submissions')];
  }
  const [from, to] = [challenge.responseEnd, post.startTime];
  return { ms: to - from, ...window.__powProbe.longest(from, to) };
}

const round = (ms) => Math.round(ms * 10) / 10;
const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.max(0, Math.ceil(sorted.length * q) - 1)]);
};

/** The figures of one way of solving, over its runs. */
function summary(results) {
  const longtask = Math.max(...results.map((r) => r.longtask_ms));
  const gap = Math.max(...results.map((r) => r.gap_ms));
  return {
    solve_median_ms: quantile(results.map((r) => r.ms), 0.5),
    solve_p90_ms: quantile(results.map((r) => r.ms), 0.9),
    // The larger of the two measures: a longtask entry exists only above 50 ms, a gap always.
    longest_task_ms: round(Math.max(longtask, gap)),
    longest_longtask_ms: round(longtask),
    longtasks: results.reduce((n, r) => n + r.longtasks, 0),
    longest_gap_ms: round(gap),
  };
}

/** RUNS submissions of fresh page loads of `file`, as the widget solves them. */
async function widget(browser, collector, file) {
  const results = [];
  for (let run = 0; run < runs; run++) {
    await browser.page.goto(`${collector.url}${file}`);
    await browser.page.locator('formseal-form button[type="submit"]').waitFor({ timeout: 20000 });
    // Past the widget's minimum fill time, which would otherwise drop the submission.
    await browser.page.waitForTimeout(2200);
    results.push(await browser.page.evaluate(submitAndTime));
  }
  return results;
}

let scriptUrl;
const collector = await startCollector({
  forms: [form],
  // The collector's own default difficulty, which is what a visitor's browser meets.
  powDifficulty: null,
  files: ([formFile]) => {
    scriptUrl = embed(formFile).scriptUrl;
    const blank = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pow bench</title></head><body></body></html>';
    return {
      'pow-blank.html': blank,
      'pow-widget.html': widgetPage(formFile),
      'pow-no-worker.html': widgetPage(formFile, "worker-src 'none'"),
    };
  },
});
const browser = await openBrowser();
try {
  await browser.context.addInitScript(probe);
  const workerUrl = new URL('formseal-pow.js', new URL(scriptUrl, collector.url)).href;

  await browser.page.goto(`${collector.url}pow-blank.html`);
  const worker = [];
  for (let run = 0; run < runs; run++) {
    worker.push(await browser.page.evaluate(solveInWorker, workerUrl));
  }
  const difficulty = worker[0].difficulty;
  const perSecond = worker.map((r) => ((r.number + 1) / r.ms) * 1000);

  const workerLoads = () => browser.requests.filter((r) => r.url === workerUrl).length;
  const before = workerLoads();
  const inWidget = await widget(browser, collector, 'pow-widget.html');
  if (workerLoads() - before < runs) throw new Error('the widget did not solve in its worker');
  const onThisThread = await widget(browser, collector, 'pow-no-worker.html');
  const refused = browser.console.filter((m) => /worker-src/.test(m.text)).length;
  if (refused < runs) throw new Error("the page's CSP let the worker run: no fallback measured");

  console.log(
    JSON.stringify({
      difficulty,
      runs,
      ...summary(worker),
      hashes_per_s: Math.round(quantile(perSecond, 0.5)),
      widget: summary(inWidget),
      on_this_thread: summary(onThisThread),
    }),
  );
} finally {
  await browser.close();
  await collector.stop();
}
