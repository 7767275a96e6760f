// The demo page and the widget work under the collector's strict Content-Security-Policy:
// the header is there, the form renders and submits, and the browser reports no violation.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { cspViolations, openBrowser } from './fixtures/browser.mjs';
import { eventually, startCollector } from './fixtures/collector.mjs';
import { FormPage } from './fixtures/form-page.mjs';
import { fillNewsletter, randomAnswers } from './fixtures/newsletter.mjs';

let collector;
let browser;
before(async () => {
  collector = await startCollector();
  browser = await openBrowser();
});
after(async () => {
  await browser?.close();
  await collector?.stop();
});

test('the page is served with a strict CSP and the widget runs under it', async () => {
  const form = new FormPage(browser.page);
  const response = await browser.page.goto(collector.url);
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'(;|$)/);
  assert.match(csp, /style-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  await form.ready();
  await fillNewsletter(form, randomAnswers());
  await form.submit();
  await form.waitForState('sent');
  await eventually(() => collector.count() === 1, { what: 'one stored record' });
  assert.deepEqual(cspViolations(browser), []);
  assert.deepEqual(browser.pageErrors, []);
  assert.deepEqual(
    browser.console.filter((m) => m.type === 'error'),
    [],
    'no console errors on a working page',
  );
});
