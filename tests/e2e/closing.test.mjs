// Closing dates and response limits: past its `closes_at` the widget shows a sentence saying
// the form is closed instead of the form (and sends nothing); once the collector holds
// `max_responses` submissions it refuses the next with 409, and the visitor is told the form
// is closed rather than that sending failed.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { openBrowser, submissions } from './fixtures/browser.mjs';
import { eventually, startCollector, testForm } from './fixtures/collector.mjs';
import { FormPage } from './fixtures/form-page.mjs';
import { fillNewsletter, randomAnswers } from './fixtures/newsletter.mjs';

// The demo page is in Dutch (src/texts.json's `form_closed`).
const CLOSED = 'Dit formulier is gesloten en neemt geen antwoorden meer aan.';

test('past its closing date the form is a sentence saying so, and nothing is sent', async () => {
  const collector = await startCollector({ forms: [testForm((f) => ({ ...f, closes_at: '2024-01-31' }))] });
  const browser = await openBrowser();
  try {
    const form = new FormPage(browser.page);
    await browser.page.goto(collector.url);
    await form.waitForState('closed');
    assert.equal((await form.text()).trim(), CLOSED);
    assert.equal(await form.submitButton.count(), 0, 'no form to fill in');
    assert.deepEqual(submissions(browser), []);
    assert.deepEqual(browser.pageErrors, []);
  } finally {
    await browser.close();
    await collector.stop();
  }
});

test('a form open until a future date is shown as usual', async () => {
  const collector = await startCollector({ forms: [testForm((f) => ({ ...f, closes_at: '2999-12-31' }))] });
  const browser = await openBrowser();
  try {
    const form = new FormPage(browser.page);
    await form.open(collector.url);
    assert.equal(await form.state(), 'idle');
  } finally {
    await browser.close();
    await collector.stop();
  }
});

let collector;
before(async () => {
  collector = await startCollector({ forms: [testForm((f) => ({ ...f, max_responses: 1 }))] });
});
after(async () => {
  await collector?.stop();
});

test('once the collector holds max_responses the next visitor is told the form is closed', async () => {
  for (const expected of ['sent', 'closed']) {
    const browser = await openBrowser();
    try {
      const form = new FormPage(browser.page);
      await form.open(collector.url);
      await fillNewsletter(form, randomAnswers());
      await form.submit();
      await form.waitForState(expected);
      if (expected === 'closed') {
        await form.status.filter({ hasText: CLOSED }).waitFor();
        assert.equal(await form.submitButton.isDisabled(), true, 'nothing more to send');
        // The refused envelope is dropped, not retried: nothing waits in the queue.
        const queued = await browser.page.evaluate(() =>
          Object.keys(localStorage).filter((k) => k.startsWith('formseal:queue:') && localStorage.getItem(k) !== '[]'),
        );
        assert.deepEqual(queued, []);
      }
    } finally {
      await browser.close();
    }
  }
  await eventually(() => collector.count() === 1, { what: 'the one stored response' });
  assert.equal(collector.count(), 1);
});
