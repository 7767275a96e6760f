// The consent banner end to end: accept all, reject all, choose some; gated scripts and images
// run exactly when their purpose is granted; withdrawal removes the cookies, reloads and is
// recorded; a new notice version brings the banner back; Global Privacy Control refuses the
// advertising purpose without a click; a returning visitor loads no wasm. Every record is read
// back with `formseal decrypt`, and no request carries anything but ciphertext.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeEach, test } from 'node:test';

import { submissions } from './fixtures/browser.mjs';
import { eventually } from './fixtures/collector.mjs';
import { assertOnlyCiphertextSent, consentRecords, consentSpec } from './fixtures/consent-page.mjs';
import { formsealBin, testKey } from './fixtures/paths.mjs';

let collector;
let browser;
let consent;
let url;
const spec = consentSpec();
beforeEach(() => ({ collector, browser, consent, url } = spec));

const recordsOf = (page, count) => consentRecords(collector, page, count);
const assertOnlyCiphertext = (page) => assertOnlyCiphertextSent(browser, page);

test('accept all runs the gated script once, loads the image, grants Consent Mode and is recorded', async () => {
  await browser.page.goto(url);
  await consent.waitForState('banner');
  assert.equal(await consent.analyticsRuns(), 0, 'nothing runs before a choice');
  assert.equal(await consent.pixel(), '');
  const [first] = await consent.consentMode();
  assert.equal(first[1], 'default');
  assert.equal(first[2].ad_storage, 'denied');
  assert.equal(first[2].analytics_storage, 'denied');

  await consent.bannerButton('accept-all').click();
  await consent.waitForState('hidden');
  await consent.waitForAnalyticsRuns(1);
  assert.equal(await consent.pixel(), '/favicon.svg');
  const update = (await consent.consentMode()).at(-1);
  assert.deepEqual(update.slice(0, 2), ['consent', 'update']);
  assert.equal(update[2].ad_personalization, 'granted');
  assert.equal(update[2].analytics_storage, 'granted');
  await consent.settingsButton.waitFor({ state: 'visible' });

  const [record] = await recordsOf(browser.page, 1);
  assert.equal(record.kind, 'consent');
  assert.deepEqual(record.consent.granted, ['analytics', 'marketing']);
  assert.deepEqual(record.consent.refused, []);
  assert.equal(record.consent.method, 'banner');
  assert.equal(record.consent.notice_version, '2026-11');
  assert.match(record.at, /^\d{4}-\d\d-\d\dT\d\d:00:00Z$/, 'only the hour');
  const stored = await consent.choice();
  assert.equal(stored.record, record.id, 'the stored choice names its record');
  assert.equal(stored.current, true);
  await assertOnlyCiphertext(browser.page);
});

test('reject all: nothing gated ever runs, and a returning visitor loads no wasm', async () => {
  await browser.page.goto(url);
  await consent.waitForState('banner');
  await consent.bannerButton('reject-all').click();
  await consent.waitForState('hidden');
  assert.equal(await consent.analyticsRuns(), 0);
  assert.equal(await consent.pixel(), '');
  const [record] = await recordsOf(browser.page, 1);
  assert.deepEqual(record.consent.granted, []);
  assert.deepEqual(record.consent.refused, ['analytics', 'marketing']);
  await eventually(
    () => browser.page.evaluate(() => !localStorage.getItem('formseal:queue:cookies')?.includes('"id"')),
    { what: 'the delivery queue is empty' },
  );

  const before = browser.requests.length;
  await browser.page.reload();
  await consent.settingsButton.waitFor({ state: 'visible' });
  await browser.page.waitForTimeout(500);
  const loaded = browser.requests.slice(before).map((r) => new URL(r.url).pathname);
  assert.ok(loaded.includes('/pkg/formseal-loader.js'));
  assert.ok(!loaded.some((p) => p.endsWith('.wasm') || p === '/pkg/formseal-consent.js'), `loaded ${loaded}`);
  assert.equal(await consent.analyticsRuns(), 0);
  const update = (await consent.consentMode()).at(-1);
  assert.equal(update[1], 'update');
  assert.equal(update[2].analytics_storage, 'denied');
  await assertOnlyCiphertext(browser.page);
});

test('choose some with the keyboard only, through both layers', async () => {
  await browser.page.goto(url);
  await consent.waitForState('banner');
  const focusedAction = () =>
    browser.page.evaluate(() => {
      const host = document.querySelector('formseal-consent');
      return host.shadowRoot.activeElement?.dataset?.action ?? null;
    });
  for (let i = 0; i < 30 && (await focusedAction()) !== 'choose'; i++) {
    await browser.page.keyboard.press('Tab');
  }
  assert.equal(await focusedAction(), 'choose', 'Tab reaches the Choose button');
  await browser.page.keyboard.press('Enter');
  await consent.waitForState('settings');

  // Escape closes the dialog and gives focus back to Choose; nothing is recorded.
  await browser.page.keyboard.press('Escape');
  await consent.waitForState('banner');
  assert.equal(await focusedAction(), 'choose', 'focus returns to the opener');
  await browser.page.keyboard.press('Enter');
  await consent.waitForState('settings');

  // Focus stays inside the modal dialog.
  const focusedPurpose = () =>
    browser.page.evaluate(() => {
      const active = document.querySelector('formseal-consent').shadowRoot.activeElement;
      return active?.closest('li')?.dataset.purpose ?? active?.dataset.action ?? null;
    });
  for (let i = 0; i < 20 && (await focusedPurpose()) !== 'analytics'; i++) {
    await browser.page.keyboard.press('Tab');
  }
  assert.equal(await focusedPurpose(), 'analytics');
  assert.equal(await consent.switch('analytics').isChecked(), false, 'nothing is pre-ticked');
  assert.equal(await consent.switch('marketing').isChecked(), false, 'nothing is pre-ticked');
  assert.equal(await consent.switch('necessary').isChecked(), true, 'necessary is always on');
  assert.equal(await consent.switch('necessary').isDisabled(), true);
  await browser.page.keyboard.press('Space');
  for (let i = 0; i < 20 && (await focusedPurpose()) !== 'save'; i++) {
    await browser.page.keyboard.press('Tab');
  }
  await browser.page.keyboard.press('Enter');
  await consent.waitForState('hidden');

  await consent.waitForAnalyticsRuns(1);
  assert.equal(await consent.pixel(), '', 'marketing stays refused');
  const [record] = await recordsOf(browser.page, 1);
  assert.deepEqual(record.consent.granted, ['analytics']);
  assert.deepEqual(record.consent.refused, ['marketing']);
  assert.equal(record.consent.method, 'settings');
});

test('withdrawal from the settings button: one click, cookies gone, page reloaded, recorded', async () => {
  await browser.page.goto(url);
  await consent.waitForState('banner');
  await consent.bannerButton('accept-all').click();
  await consent.waitForState('hidden');
  await consent.waitForAnalyticsRuns(1);
  assert.deepEqual(await consent.cookieNames(), ['_ga', '_ga_ABC123', 'basket']);

  await consent.settingsButton.click();
  await consent.waitForState('settings');
  assert.equal(await consent.switch('analytics').isChecked(), true, 'the switches show the choice');
  const reloaded = browser.page.waitForEvent('load');
  await consent.dialogButton('withdraw-all').click();
  await reloaded;
  await consent.settingsButton.waitFor({ state: 'visible' });

  assert.deepEqual(await consent.cookieNames(), ['basket'], 'only the cookies of the withdrawn purposes go');
  assert.equal(await consent.analyticsRuns(), 0, 'after the reload nothing gated runs');
  const records = await recordsOf(browser.page, 2);
  assert.equal(records[1].kind, 'withdrawal');
  assert.deepEqual(records[1].consent.granted, []);
  assert.deepEqual(records[1].consent.refused, ['analytics', 'marketing']);
  assert.equal(records[1].consent.method, 'settings');
  await assertOnlyCiphertext(browser.page);
});

test('a new notice version brings the banner back before anything runs', async () => {
  await browser.page.goto(url);
  await consent.waitForState('banner');
  await consent.bannerButton('accept-all').click();
  await consent.waitForState('hidden');
  await consent.waitForSealed();

  await consent.serveNotice('2027-01');
  await browser.page.reload();
  await consent.waitForState('banner');
  assert.equal(await consent.analyticsRuns(), 0, 'the old consent no longer counts');
  assert.equal((await consent.choice()).current, false);
  await consent.bannerButton('reject-all').click();
  await consent.waitForState('hidden');
  const records = await recordsOf(browser.page, 2);
  assert.equal(records[1].consent.notice_version, '2027-01');
  assert.equal(records[1].kind, 'withdrawal', 'refusing what was granted under the old notice');
});

test('Global Privacy Control refuses the advertising purpose without a click', async () => {
  await browser.context.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true });
  });
  await browser.page.goto(url);
  const [gpc] = await recordsOf(browser.page, 1);
  assert.equal(gpc.consent.method, 'gpc');
  assert.deepEqual(gpc.consent.granted, []);
  assert.deepEqual(gpc.consent.refused, ['marketing']);
  await consent.waitForState('banner');

  await consent.bannerButton('choose').click();
  await consent.waitForState('settings');
  assert.equal(await consent.switch('marketing').isChecked(), false);
  assert.equal(await consent.switch('marketing').isDisabled(), true, 'locked by the signal');
  await consent.dialogButton('accept-all').click();
  await consent.waitForState('hidden');
  await consent.waitForAnalyticsRuns(1);
  assert.equal(await consent.pixel(), '', 'the advertising pixel never loads');
  const records = await recordsOf(browser.page, 2);
  assert.deepEqual(records[1].consent.granted, ['analytics']);
  assert.deepEqual(records[1].consent.refused, ['marketing']);
});

test('the JS API sets, reports and withdraws consent, each recorded', async () => {
  await browser.page.goto(url);
  await consent.waitForState('banner');
  const afterSet = await browser.page.evaluate(() => formseal.consent.set({ analytics: true }));
  assert.deepEqual(afterSet.granted, ['analytics']);
  assert.deepEqual(afterSet.refused, ['marketing'], 'what is not granted is refused');
  await consent.waitForState('hidden');
  await consent.waitForAnalyticsRuns(1);
  await browser.page.evaluate(() => formseal.consent.set({ marketing: false }));
  assert.equal((await consent.choice()).current, true);

  // The withdrawal reloads the page: keep the event's detail across it.
  await browser.page.evaluate(() =>
    addEventListener('formseal:consent', (e) => sessionStorage.setItem('detail', JSON.stringify(e.detail))),
  );
  const reloaded = browser.page.waitForEvent('load');
  await browser.page.evaluate(() => {
    formseal.consent.withdrawAll();
  });
  await reloaded;
  const detail = JSON.parse(await browser.page.evaluate(() => sessionStorage.getItem('detail')));
  assert.deepEqual(detail.withdrawn, ['analytics']);
  assert.deepEqual(detail.cookies, ['_ga', '_ga_*', '_gid']);
  // The queue may deliver the three in any order, and `at` keeps only the hour: compare as a set.
  const records = await recordsOf(browser.page, 3);
  assert.deepEqual(
    records.map((r) => [r.kind, r.consent.method, r.consent.granted.join()].join(' ')).sort(),
    ['consent api analytics', 'consent api analytics', 'withdrawal api '],
  );
  await assertOnlyCiphertext(browser.page);
});

test('the three first-layer buttons have the same size and look, in Dutch too', async () => {
  await browser.page.goto(`${collector.url}consent-nl.html`);
  await consent.waitForState('banner');
  const looks = await browser.page.evaluate(() => {
    const root = document.querySelector('formseal-consent').shadowRoot;
    return [...root.querySelectorAll('section.fs-banner button')].map((b) => {
      const box = b.getBoundingClientRect();
      const s = getComputedStyle(b);
      return {
        text: b.textContent.trim(),
        size: [Math.round(box.width), Math.round(box.height)],
        look: [s.color, s.backgroundColor, s.borderColor, s.borderWidth, s.fontWeight, s.fontSize],
      };
    });
  });
  assert.deepEqual(
    looks.map((l) => l.text),
    ['Alles accepteren', 'Alles weigeren', 'Zelf kiezen'],
  );
  for (const other of looks.slice(1)) {
    assert.deepEqual(other.size, looks[0].size, `${other.text} has the size of ${looks[0].text}`);
    assert.deepEqual(other.look, looks[0].look, `${other.text} looks like ${looks[0].text}`);
  }
});

test('an expired choice brings the banner back', async () => {
  await browser.page.goto(url);
  await consent.waitForState('banner');
  await consent.bannerButton('accept-all').click();
  await consent.waitForState('hidden');
  await consent.waitForSealed();
  // The stored choice as it will look once its `expiry_days` have passed.
  await browser.page.evaluate(() => {
    const key = 'formseal:consent:cookies';
    const choice = JSON.parse(localStorage.getItem(key));
    choice.expires = '2020-01-01';
    localStorage.setItem(key, JSON.stringify(choice));
  });
  await browser.page.reload();
  await consent.waitForState('banner');
  assert.equal(await consent.analyticsRuns(), 0, 'an expired consent no longer counts');
  assert.equal((await consent.choice()).current, false);
});

test('the settings layer offers a receipt naming the record', async () => {
  await browser.page.goto(url);
  await consent.waitForState('banner');
  await consent.bannerButton('choose').click();
  await consent.waitForState('settings');
  assert.equal(await consent.dialogButton('receipt').isHidden(), true, 'no receipt before a choice');
  await consent.switch('analytics').check();
  await consent.dialogButton('save').click();
  await consent.waitForState('hidden');
  const [record] = await recordsOf(browser.page, 1);

  await consent.settingsButton.click();
  await consent.waitForState('settings');
  const download = browser.page.waitForEvent('download');
  await consent.dialogButton('receipt').click();
  const file = await download;
  assert.equal(file.suggestedFilename(), `privacy-choices-${record.id}.json`);
  const receipt = JSON.parse(readFileSync(await file.path(), 'utf8'));
  assert.equal(receipt.record, record.id);
  assert.deepEqual(receipt.granted, ['analytics']);
  assert.deepEqual(receipt.refused, ['marketing']);
  assert.equal(receipt.notice_version, '2026-11');
  assert.equal(receipt.how, 'settings');
  // It names the SHA-256 of the bytes posted (and stored), and the data team's check agrees.
  const posted = submissions(browser).map((post) =>
    createHash('sha256').update(post.body.toString('utf8').trim()).digest('hex'),
  );
  assert.ok(posted.includes(receipt.sealed_sha256), `${receipt.sealed_sha256} in ${posted}`);
  const checked = execFileSync(
    formsealBin,
    ['consent-log', '--key', testKey.privatePem, '--db', collector.db, '--receipt', await file.path()],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  assert.match(checked, new RegExp(`SHA-256 ${receipt.sealed_sha256}\\)`));
  assert.doesNotMatch(checked, /differs/);
});

test('a consent record made offline is sent on the next page view', async () => {
  await browser.page.goto(url);
  await consent.waitForState('banner');
  // The record build is there to seal the record (first-layer.test.mjs covers a decision made
  // before).
  await consent.waitForRecorder();
  await browser.context.setOffline(true);
  await consent.bannerButton('reject-all').click();
  await consent.waitForState('hidden');
  await browser.page.waitForFunction(() =>
    (JSON.parse(localStorage.getItem('formseal:queue:cookies') ?? '[]')).length === 1,
  );
  await browser.page.goto('about:blank');
  await browser.context.setOffline(false);
  // A returning visitor whose choice holds: the loader fetches the widget only because a record
  // still waits in the queue.
  await browser.page.goto(url);
  const [record] = await recordsOf(browser.page, 1);
  assert.deepEqual(record.consent.refused, ['analytics', 'marketing']);
  await browser.page.waitForFunction(() =>
    (JSON.parse(localStorage.getItem('formseal:queue:cookies') ?? '[]')).length === 0,
  );
});
