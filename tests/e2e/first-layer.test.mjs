// The banner's first layer is the loader's, painted without wasm: with the widget's files
// blocked a first visit still shows it, Accept all / Reject all take effect at once and are
// kept, and the widget seals exactly one record per decision when it can load (on this page
// view or the next, in one tab of several). The buttons are of one size, work with the keyboard
// alone, and Choose opens the widget's dialog with a visible busy state.

import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';

import { submissions } from './fixtures/browser.mjs';
import { WIDGET_FILES, assertOnlyCiphertextSent, consentRecords, consentSpec, holdWidget } from './fixtures/consent-page.mjs';

let collector;
let browser;
let consent;
let url;
const spec = consentSpec();
beforeEach(() => ({ collector, browser, consent, url } = spec));

const pending = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('formseal:pending:cookies')));
const stored = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('formseal:consent:cookies')));
const widgetRequests = () =>
  browser.requests.filter((r) => WIDGET_FILES.test(new URL(r.url).pathname));

/** Reject all on a first visit whose widget cannot load; then the widget is let through. */
async function rejectWithoutWasm() {
  const blocked = await holdWidget(browser.context, { abort: true });
  await browser.page.goto(url);
  await consent.waitForState('banner');
  await consent.bannerButton('reject-all').click();
  await consent.waitForState('hidden');
  await blocked.release();
}

/** The records of this visitor once `count` arrived, and still `count` a moment later. */
async function exactly(page, count) {
  await consentRecords(collector, page, count);
  await page.waitForTimeout(1000);
  return consentRecords(collector, page, count);
}

test('without wasm a first visit shows the first layer, and Reject all holds at once; the next view seals it once', async () => {
  const blocked = await holdWidget(browser.context, { abort: true });
  await browser.page.goto(url);
  await consent.waitForState('banner');
  assert.equal(await consent.banner.locator('h2').textContent(), 'Your privacy choices');
  assert.deepEqual(await consent.banner.locator('button').allTextContents(), ['Accept all', 'Reject all', 'Choose']);
  const notice = consent.banner.locator('a');
  assert.equal(await notice.textContent(), 'Privacy notice');
  assert.equal(await notice.getAttribute('href'), 'https://example.com/privacy');
  assert.ok(widgetRequests().length > 0, 'the loader tried to fetch the widget after painting');

  await consent.bannerButton('reject-all').click();
  await consent.waitForState('hidden');
  assert.equal(await consent.banner.isHidden(), true);
  assert.equal(await consent.analyticsRuns(), 0, 'nothing gated runs');
  assert.equal(await consent.pixel(), '');
  const update = (await consent.consentMode()).at(-1);
  assert.deepEqual(update.slice(0, 2), ['consent', 'update']);
  assert.equal(update[2].analytics_storage, 'denied');
  assert.equal(update[2].ad_storage, 'denied');
  await consent.settingsButton.waitFor({ state: 'visible' });
  const kept = await pending(browser.page);
  assert.deepEqual([kept.granted, kept.refused, kept.method, kept.record], [[], ['analytics', 'marketing'], 'banner', '']);
  assert.equal((await consent.choice()).current, true, 'the API reports the decision in force');
  assert.equal(submissions(browser).length, 0, 'nothing is sent before it is sealed');

  // The next page view, with the widget reachable: the decision is applied before anything
  // runs, and its record sealed once.
  await blocked.release();
  await browser.page.goto(url);
  await consent.settingsButton.waitFor({ state: 'visible' });
  assert.equal(await consent.banner.isVisible(), false, 'a decided visitor sees no first layer');
  const [record] = await exactly(browser.page, 1);
  assert.equal(record.kind, 'consent');
  assert.equal(record.consent.method, 'banner');
  assert.deepEqual(record.consent.granted, []);
  assert.deepEqual(record.consent.refused, ['analytics', 'marketing']);
  await browser.page.waitForFunction(() => !localStorage.getItem('formseal:pending:cookies'));
  const sealed = await stored(browser.page);
  assert.equal(sealed.record, record.id, 'the stored choice names its record');
  // What the loader kept is what the core makes of the same decision, plus the hash of the
  // sealed record that the visitor's receipt names.
  const { sealed_sha256: hash, ...decision } = sealed;
  assert.match(hash, /^[0-9a-f]{64}$/, 'the stored choice names the hash of its sealed record');
  assert.deepEqual({ ...decision, record: '' }, kept);
  assert.equal(await consent.analyticsRuns(), 0);

  await browser.page.reload();
  await consent.settingsButton.waitFor({ state: 'visible' });
  await exactly(browser.page, 1);
  await assertOnlyCiphertextSent(browser, browser.page);
});

test('Accept all clicked before the widget arrived runs the gated content at once; one record', async () => {
  const held = await holdWidget(browser.context);
  await browser.page.goto(url);
  await consent.waitForState('banner');
  await consent.bannerButton('accept-all').click();
  await consent.waitForState('hidden');
  await consent.waitForAnalyticsRuns(1);
  assert.equal(await consent.pixel(), '/favicon.svg');
  assert.equal((await consent.consentMode()).at(-1)[2].ad_personalization, 'granted');
  const event = await browser.page.evaluate(() => window.formseal.consent.get());
  assert.deepEqual(event.granted, ['analytics', 'marketing']);
  assert.equal(submissions(browser).length, 0);

  await held.release();
  const [record] = await exactly(browser.page, 1);
  assert.deepEqual(record.consent.granted, ['analytics', 'marketing']);
  assert.equal(record.consent.method, 'banner');
  await browser.page.waitForFunction(() => !localStorage.getItem('formseal:pending:cookies'));
  assert.equal(await consent.state(), 'hidden', 'the widget keeps the layer hidden');
  assert.equal(await consent.banner.isHidden(), true);
  assert.equal(await consent.analyticsRuns(), 1, 'the gated script ran once');
  await assertOnlyCiphertextSent(browser, browser.page);
});

test('two tabs that find the same unsealed decision seal it once', async () => {
  await rejectWithoutWasm();
  const other = await browser.context.newPage();
  await Promise.all([browser.page.reload(), other.goto(url)]);
  await exactly(browser.page, 1);
  await assertOnlyCiphertextSent(browser, browser.page);
});

test('the first layer with the keyboard only: Tab reaches the three buttons, Space decides', async () => {
  await holdWidget(browser.context, { abort: true });
  await browser.page.goto(url);
  await consent.waitForState('banner');
  const focused = () =>
    browser.page.evaluate(() => {
      const active = document.querySelector('formseal-consent').shadowRoot.activeElement;
      return active ? [active.dataset.action ?? active.localName, getComputedStyle(active).outlineStyle] : null;
    });
  const order = [];
  for (let i = 0; i < 30 && order.length < 4; i++) {
    await browser.page.keyboard.press('Tab');
    const now = await focused();
    if (now) order.push(now);
  }
  assert.deepEqual(
    order.map(([what]) => what),
    ['a', 'accept-all', 'reject-all', 'choose'],
    'the notice link, then the buttons in order',
  );
  assert.ok(order.every(([, outline]) => outline === 'solid'), 'each shows its focus');
  await browser.page.keyboard.press('Shift+Tab');
  assert.equal((await focused())[0], 'reject-all');
  await browser.page.keyboard.press('Space');
  await consent.waitForState('hidden');
  assert.deepEqual((await pending(browser.page)).refused, ['analytics', 'marketing']);
});

test('Enter on Accept all decides too', async () => {
  await holdWidget(browser.context, { abort: true });
  await browser.page.goto(url);
  await consent.waitForState('banner');
  await consent.bannerButton('accept-all').focus();
  await browser.page.keyboard.press('Enter');
  await consent.waitForState('hidden');
  await consent.waitForAnalyticsRuns(1);
});

test('the three first-layer buttons have the same computed size and look without wasm, in Dutch', async () => {
  await holdWidget(browser.context, { abort: true });
  await browser.page.goto(`${collector.url}consent-nl.html`);
  await consent.waitForState('banner');
  const looks = await consent.banner.locator('button').evaluateAll((buttons) =>
    buttons.map((b) => {
      const s = getComputedStyle(b);
      return {
        text: b.textContent,
        size: [Math.round(parseFloat(s.width)), Math.round(parseFloat(s.height))],
        look: [s.color, s.backgroundColor, s.borderColor, s.borderWidth, s.fontWeight, s.fontSize, s.padding],
      };
    }),
  );
  assert.deepEqual(looks.map((l) => l.text), ['Alles accepteren', 'Alles weigeren', 'Zelf kiezen']);
  for (const other of looks.slice(1)) {
    assert.deepEqual(other.size, looks[0].size, `${other.text} has the size of ${looks[0].text}`);
    assert.deepEqual(other.look, looks[0].look, `${other.text} looks like ${looks[0].text}`);
  }
  assert.equal(await consent.banner.locator('a').textContent(), 'Privacyverklaring');
});

test('Choose waits for the widget with a busy button, then opens the dialog and gives focus back', async () => {
  const held = await holdWidget(browser.context);
  await browser.page.goto(url);
  await consent.waitForState('banner');
  const choose = consent.bannerButton('choose');
  await choose.focus();
  await browser.page.keyboard.press('Enter');
  assert.equal(await choose.getAttribute('aria-busy'), 'true', 'busy while the settings load');
  await held.release();
  await consent.waitForState('settings');
  assert.equal(await choose.getAttribute('aria-busy'), null);
  const inDialog = await browser.page.evaluate(
    () => !!document.querySelector('formseal-consent').shadowRoot.activeElement?.closest('dialog'),
  );
  assert.ok(inDialog, 'focus moves into the dialog');
  assert.equal(await consent.banner.count(), 1, 'one first layer, the loader\'s');
  await browser.page.keyboard.press('Escape');
  await consent.waitForState('banner');
  const back = await browser.page.evaluate(
    () => document.querySelector('formseal-consent').shadowRoot.activeElement?.dataset.action,
  );
  assert.equal(back, 'choose', 'focus returns to Choose');
  assert.equal(widgetRequests().filter((r) => r.url.endsWith('/formseal-consent_bg.wasm')).length, 1, 'the dialog\'s wasm is fetched once');
});

test('a decision sealed after the notice changed is recorded under the notice the visitor saw', async () => {
  await rejectWithoutWasm();
  await consent.serveNotice('2027-01');
  await browser.page.reload();
  const [record] = await exactly(browser.page, 1);
  assert.equal(record.consent.notice_version, '2026-11', 'the notice the decision was made under');
  assert.deepEqual(record.consent.refused, ['analytics', 'marketing']);
  await consent.waitForState('banner');
  assert.equal(await consent.banner.isVisible(), true, 'the new notice is asked about');
});

test('a first layer that cannot load is replaced by the widget painting its own', async () => {
  await browser.context.route('**/pkg/formseal-first-layer.js', (route) => route.abort());
  await browser.page.goto(url);
  await consent.waitForState('banner');
  assert.deepEqual(await consent.banner.locator('button').allTextContents(), ['Accept all', 'Reject all', 'Choose']);
  assert.ok(widgetRequests().length > 0, 'the widget came at once');
  await consent.bannerButton('reject-all').click();
  await consent.waitForState('hidden');
  const [record] = await exactly(browser.page, 1);
  assert.equal(record.kind, 'consent');
  assert.deepEqual(record.consent.granted, []);
  // The loader said why in the console; nothing else went wrong.
  const said = browser.console.map((m) => m.text);
  assert.ok(said.some((m) => m.includes('cannot load') && m.includes('formseal-first-layer.js')), said.join('\n'));
});

test('the widget checks the config text the loader fetched instead of fetching it again', async () => {
  await browser.page.goto(url);
  await consent.waitForState('banner');
  await consent.bannerButton('reject-all').click();
  await consent.waitForSealed();
  const configs = browser.requests.filter((r) => new URL(r.url).pathname.endsWith('/cookies.json'));
  assert.equal(configs.length, 1, configs.map((r) => r.url).join('\n'));
});
