// A marketer's text is text: a label containing markup renders literally, runs nothing and
// loads nothing.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { openBrowser } from './fixtures/browser.mjs';
import { startCollector, testForm } from './fixtures/collector.mjs';
import { FormPage } from './fixtures/form-page.mjs';

const PAYLOAD = '<img src=x onerror=window.__xss=1>';

let collector;
let browser;
before(async () => {
  const form = testForm((config) => {
    const name = config.fields.find((field) => field.id === 'name');
    name.label = { en: `Name ${PAYLOAD}`, nl: `Naam ${PAYLOAD}` };
    return config;
  });
  collector = await startCollector({ forms: [form] });
  browser = await openBrowser();
});
after(async () => {
  await browser?.close();
  await collector?.stop();
});

test('a label with markup renders as text', async () => {
  const form = new FormPage(browser.page);
  await form.open(`${collector.url}en.html`);
  const label = form.host.locator(`label[for="fs-newsletter-name"]`);
  assert.match(await label.innerText(), /<img src=x onerror=window\.__xss=1>/);
  assert.equal(await form.host.locator('img').count(), 0);
  await browser.page.waitForTimeout(500);
  assert.equal(await browser.page.evaluate(() => window.__xss), undefined);
  assert.deepEqual(
    browser.requests.filter((r) => new URL(r.url).pathname.endsWith('/x')),
    [],
    'the image was never requested',
  );
});
