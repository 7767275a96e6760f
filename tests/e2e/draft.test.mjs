// Drafts: by default unfinished answers live only as long as the page; a form whose config opts
// in with `save_draft` keeps them in the visitor's own localStorage, puts them back after a
// reload, forgets them on "Clear my answers" and once they are sealed, and never sends them.

import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, test } from 'node:test';

import { openBrowser } from './fixtures/browser.mjs';
import { eventually, startCollector, testForm } from './fixtures/collector.mjs';
import { FormPage } from './fixtures/form-page.mjs';
import { leaks } from './fixtures/newsletter.mjs';

const collectors = [];
let browser;
beforeEach(async () => {
  browser = await openBrowser();
});
afterEach(async () => {
  await browser?.close();
});
after(async () => {
  for (const collector of collectors) await collector.stop();
});

async function site(saveDraft) {
  const collector = await startCollector({
    forms: [testForm((form) => ({ ...form, save_draft: saveDraft }))],
  });
  collectors.push(collector);
  return collector;
}

const draftKeys = () =>
  browser.page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('formseal:draft:')));

test('by default nothing typed is kept: a reload starts empty', async () => {
  const collector = await site(false);
  const form = new FormPage(browser.page);
  await form.open(`${collector.url}en.html`);
  await form.field('email').fill('nodraft@example.com');
  assert.deepEqual(await draftKeys(), []);
  await browser.page.reload();
  await form.ready();
  assert.equal(await form.field('email').inputValue(), '');
  assert.equal(await browser.page.locator('formseal-form .fs-clear').count(), 0);
});

test('an opted-in draft survives a reload, clears on request and once sealed, and is never sent', async () => {
  const collector = await site(true);
  const form = new FormPage(browser.page);
  await form.open(`${collector.url}en.html`);
  const email = `draft-${Date.now()}@example.com`;
  await form.field('email').fill(email);
  await form.field('name').fill('Marieke Draftsma');
  await form.field('newsletter_consent').check();
  await browser.page.reload();
  await form.ready();
  await eventually(async () => (await form.field('email').inputValue()) === email, {
    what: 'the e-mail back in its input',
  });
  assert.equal(await form.field('name').inputValue(), 'Marieke Draftsma');
  assert.equal(await form.field('newsletter_consent').isChecked(), true);

  await browser.page.locator('formseal-form .fs-clear').click();
  assert.equal(await form.field('email').inputValue(), '');
  assert.deepEqual(await draftKeys(), [], 'cleared from storage');
  await browser.page.reload();
  await form.ready();
  assert.equal(await form.field('email').inputValue(), '', 'and stays cleared');

  await form.field('email').fill(email);
  await form.field('newsletter_consent').check();
  assert.deepEqual(await draftKeys(), ['formseal:draft:newsletter']);
  await form.submit();
  await form.waitForState('sent');
  await eventually(() => collector.count() === 1, { what: 'one stored record' });
  assert.deepEqual(await draftKeys(), [], 'a sealed draft is forgotten');
  assert.equal(collector.decrypt()[0].values.email, email);
  assert.deepEqual(leaks(browser.requests, [email, 'Marieke Draftsma']), []);
});
