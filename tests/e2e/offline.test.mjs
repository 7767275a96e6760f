// Delivery that loses nothing and doubles nothing: a submission made offline waits ("will
// retry") and arrives once the browser is back online; a double click and a reload while the
// envelope is still queued each leave exactly one record.

import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, test } from 'node:test';

import { openBrowser } from './fixtures/browser.mjs';
import { eventually, startCollector } from './fixtures/collector.mjs';
import { FormPage } from './fixtures/form-page.mjs';
import { fillNewsletter, randomAnswers } from './fixtures/newsletter.mjs';

let collector;
let browser;
before(async () => {
  browser = await openBrowser();
});
beforeEach(async () => {
  collector = await startCollector();
});
afterEach(async () => {
  await browser.context.setOffline(false);
  await collector?.stop();
});
after(async () => {
  await browser?.close();
});

/** Waits a while and checks the count stays at one (no late duplicate). */
async function exactlyOneStays() {
  await eventually(() => collector.count() === 1, { ms: 30000, what: 'one stored record' });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(collector.count(), 1);
}

test('offline: the visitor sees "will retry", and it arrives once back online', async () => {
  const form = new FormPage(browser.page);
  await form.open(`${collector.url}en.html`);
  await fillNewsletter(form, randomAnswers());
  await browser.context.setOffline(true);
  await form.submit();
  await form.waitForState('retrying');
  // The widget words "will retry" as "... will be sent again automatically".
  assert.match(await form.status.innerText(), /will retry|sent again/i);
  assert.equal(collector.count(), 0);
  await browser.context.setOffline(false);
  await form.waitForState('sent', 30000);
  await exactlyOneStays();
});

test('a double click stores one record', async () => {
  const form = new FormPage(browser.page);
  await form.open(`${collector.url}en.html`);
  await fillNewsletter(form, randomAnswers());
  await form.humanPause();
  await form.submitButton.dblclick();
  await form.waitForState('sent');
  await exactlyOneStays();
});

test('a reload while the envelope is queued stores one record', async () => {
  const form = new FormPage(browser.page);
  await form.open(`${collector.url}en.html`);
  await fillNewsletter(form, randomAnswers());
  await browser.context.setOffline(true);
  await form.submit();
  await form.waitForState('retrying');
  await browser.context.setOffline(false);
  await browser.page.reload();
  await exactlyOneStays();
});
