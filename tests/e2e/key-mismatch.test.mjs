// Fail closed: a snippet pinned to another key id than the config's key. The widget sends
// nothing at all, tells the visitor in a plain sentence and the site owner in the console.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { openBrowser, submissions } from './fixtures/browser.mjs';
import { startCollector } from './fixtures/collector.mjs';
import { FormPage } from './fixtures/form-page.mjs';
import { otherKid } from './fixtures/paths.mjs';

let collector;
let browser;
before(async () => {
  collector = await startCollector({ pages: { 'mismatch.html': { kid: otherKid } } });
  browser = await openBrowser();
});
after(async () => {
  await browser?.close();
  await collector?.stop();
});

test('a config whose key is not the pinned one sends nothing and says why', async () => {
  const form = new FormPage(browser.page);
  await browser.page.goto(`${collector.url}mismatch.html`);
  await form.waitForState('error');
  // If the form is shown at all, submitting it must still send nothing.
  if (await form.submitButton.isVisible()) {
    await form.submitButton.click();
    await browser.page.waitForTimeout(1500);
  }
  const text = (await form.text()).trim();
  assert.ok(text.length > 10, 'the visitor sees a sentence');
  assert.ok(await form.host.isVisible());
  assert.ok(
    browser.console.some((m) => m.type === 'error'),
    'the site owner gets a console.error',
  );
  assert.deepEqual(submissions(browser), []);
  assert.deepEqual(
    browser.requests.filter((r) => r.method !== 'GET'),
    [],
    'no request other than loading the page and its config',
  );
  assert.equal(collector.count(), 0);
});
