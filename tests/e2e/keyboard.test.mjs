// Keyboard only: Tab to each field, type, Space on the consent box, Enter on the button.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { openBrowser } from './fixtures/browser.mjs';
import { eventually, startCollector } from './fixtures/collector.mjs';
import { FormPage } from './fixtures/form-page.mjs';

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

/** The id of the focused element, looking into the widget's shadow root. */
function focusedId(page) {
  return page.evaluate(() => {
    let active = document.activeElement;
    while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
    return active?.id || active?.tagName?.toLowerCase() || null;
  });
}

/** Presses Tab until `want(id)` holds, at most 40 times. */
async function tabTo(page, want, what) {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    const id = await focusedId(page);
    if (await want(id)) return id;
  }
  throw new Error(`Tab never reached ${what}`);
}

test('the form can be filled and submitted with the keyboard alone', async () => {
  const page = browser.page;
  const form = new FormPage(page);
  await form.open(`${collector.url}en.html`);
  await tabTo(page, (id) => id === 'fs-newsletter-email', 'the e-mail field');
  await page.keyboard.type('Keys.Only@Example.NL');
  await tabTo(page, (id) => id === 'fs-newsletter-newsletter_consent', 'the consent box');
  await page.keyboard.press('Space');
  assert.equal(await form.field('newsletter_consent').isChecked(), true);
  await tabTo(
    page,
    () =>
      page.evaluate(() => {
        let active = document.activeElement;
        while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
        return active?.type === 'submit';
      }),
    'the submit button',
  );
  await form.humanPause();
  await page.keyboard.press('Enter');
  await form.waitForState('sent');
  await eventually(() => collector.count() === 1, { what: 'one stored record' });
  assert.equal(collector.decrypt()[0].values.email, 'keys.only@example.nl');
});
