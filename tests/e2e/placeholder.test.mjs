// Contextual consent for embeds: a gated iframe whose purpose is not granted shows a placeholder
// in its own box (the provider, the purpose, Load once, Allow <purpose>) instead of an empty
// frame, and nothing from the provider is fetched before a click. Load once is this page view
// only and records nothing; Allow is a grant sealed like any other (method `placeholder`).
// Localised, overridable per element and per config, keyboard usable, axe clean.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, afterEach, before, beforeEach, test } from 'node:test';

import { cspViolations, openBrowser } from './fixtures/browser.mjs';
import { startCollector } from './fixtures/collector.mjs';
import { assertOnlyCiphertextSent, ConsentPage, consentRecords, consentSite } from './fixtures/consent-page.mjs';
import { root } from './fixtures/paths.mjs';

// The banner asks for a video purpose too, the one the embed pages' iframe is gated by.
const VIDEO = {
  en: 'External videos',
  nl: "Externe video's",
  de: 'Externe Videos',
  fr: 'Vidéos externes',
};

let collector;
let browser;
let consent;
let base;
before(async () => {
  collector = await startCollector(
    consentSite({
      banner: (banner) => {
        const video = { ...banner.purposes[1], id: 'video', label: VIDEO, cookies: [] };
        return { ...banner, purposes: [...banner.purposes, video] };
      },
    }),
  );
  base = collector.url;
});
after(async () => {
  await collector?.stop();
});
beforeEach(async () => {
  browser = await openBrowser();
  consent = new ConsentPage(browser.page);
  // The provider's page (the collector's own pages refuse to be framed).
  await browser.context.route('**/embed.html*', (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>video</title><p>The bakery tour</p>' }),
  );
});
afterEach(async () => {
  const violations = cspViolations(browser);
  const errors = browser.pageErrors;
  await browser?.close();
  assert.deepEqual(violations, [], 'the placeholder works under the strict CSP');
  assert.deepEqual(errors, [], 'no uncaught error on the page');
});

const placeholder = () => browser.page.locator('formseal-placeholder');
const placeholderButton = (action) => placeholder().locator(`button[data-action="${action}"]`);
/** Requests for the provider's page so far. */
const providerRequests = () => browser.requests.filter((r) => new URL(r.url).pathname === '/embed.html');
const iframeSrc = () => browser.page.evaluate(() => document.querySelector('iframe[title="Bakery tour"]').getAttribute('src') ?? '');

async function waitForEmbedLoaded() {
  await browser.page.waitForFunction(() => document.querySelector('iframe[title="Bakery tour"]')?.getAttribute('src'));
  await browser.page.frameLocator('iframe[title="Bakery tour"]').locator('text=The bakery tour').waitFor();
}

test('an embed shows a placeholder in its own box; nothing from the provider loads before a click', async () => {
  await browser.page.goto(`${base}consent-embed.html`);
  await consent.waitForState('banner');
  await placeholder().waitFor({ state: 'visible' });
  const text = await placeholder().locator('p').textContent();
  assert.equal(text, 'This content from VideoHost is loaded only once you agree to External videos.');
  assert.equal(await placeholderButton('once').textContent(), 'Load once');
  assert.equal(await placeholderButton('allow').textContent(), 'Allow External videos');
  // The iframe's own box (560 × 315), with the iframe itself out of the way.
  const box = await placeholder().boundingBox();
  assert.equal(Math.round(box.width), 560);
  assert.equal(Math.round(box.height), 315);
  assert.equal(await browser.page.locator('iframe[title="Bakery tour"]').isHidden(), true);
  assert.equal(await placeholder().locator('[role="group"]').getAttribute('aria-label'), 'VideoHost');

  // Reject all keeps it in place, on this page view and the next.
  await consent.bannerButton('reject-all').click();
  await consent.waitForState('hidden');
  await browser.page.reload();
  await consent.settingsButton.waitFor({ state: 'visible', timeout: 20000 });
  await placeholder().waitFor({ state: 'visible' });
  await browser.page.waitForTimeout(300);
  assert.equal(await iframeSrc(), '');
  assert.deepEqual(providerRequests(), [], 'nothing was fetched from the provider');
});

test('Load once, by keyboard, loads the embed for this page view only and records nothing', async () => {
  await browser.page.goto(`${base}consent-embed.html`);
  await placeholder().waitFor({ state: 'visible' });
  await consent.waitForRecorder();
  let focused = '';
  for (let i = 0; i < 10 && focused !== 'once'; i++) {
    await browser.page.keyboard.press('Tab');
    focused = await browser.page.evaluate(
      () => document.querySelector('formseal-placeholder')?.shadowRoot.activeElement?.dataset.action ?? '',
    );
  }
  assert.equal(focused, 'once', 'Load once is reachable with Tab');
  await browser.page.keyboard.press('Enter');
  await waitForEmbedLoaded();
  assert.equal(await placeholder().count(), 0, 'the placeholder is gone');
  assert.equal(await browser.page.locator('iframe[title="Bakery tour"]').isVisible(), true);
  assert.equal(
    await browser.page.evaluate(() => document.activeElement?.title),
    'Bakery tour',
    'the focus moves to the embed',
  );
  assert.equal(await consent.state(), 'banner', 'no decision was made');
  await browser.page.waitForTimeout(500);
  assert.deepEqual(browser.requests.filter((r) => r.method === 'POST'), [], 'nothing is recorded');

  const before = providerRequests().length;
  await browser.page.reload();
  await placeholder().waitFor({ state: 'visible' });
  await browser.page.waitForTimeout(300);
  assert.equal(await iframeSrc(), '', 'only for that page view');
  assert.equal(providerRequests().length, before);
});

test('Allow grants the purpose: one record with method placeholder, the embed now and on the next page view', async () => {
  await browser.page.goto(`${base}consent-embed.html`);
  await placeholder().waitFor({ state: 'visible' });
  await placeholderButton('allow').click();
  await waitForEmbedLoaded();
  assert.equal(await placeholder().count(), 0);

  const [record] = await consentRecords(collector, browser.page, 1);
  assert.equal(record.kind, 'consent');
  assert.equal(record.consent.method, 'placeholder');
  assert.deepEqual(record.consent.granted, ['video']);
  assert.deepEqual(record.consent.refused.sort(), ['analytics', 'marketing']);
  const stored = await consent.choice();
  assert.deepEqual(stored.granted, ['video']);
  assert.equal(stored.record, record.id);
  assert.equal(await consent.analyticsRuns(), 0, 'only the embed\'s purpose was granted');

  await browser.page.reload();
  await waitForEmbedLoaded();
  assert.equal(await placeholder().count(), 0, 'a granted embed gets no placeholder');
  await assertOnlyCiphertextSent(browser, browser.page);
});

test('Accept all on the banner takes the placeholder away and loads the embed', async () => {
  await browser.page.goto(`${base}consent-embed.html`);
  await placeholder().waitFor({ state: 'visible' });
  assert.deepEqual(providerRequests(), []);
  await consent.bannerButton('accept-all').click();
  await waitForEmbedLoaded();
  assert.equal(await placeholder().count(), 0);
});

test('in Dutch, with texts set per element and per config, and for an embed added late', async () => {
  // The config replaces one built-in text; the page names its own sentence for a late embed.
  await browser.page.route('**/forms/cookies.json', async (route) => {
    const response = await route.fetch();
    const config = await response.json();
    config.consent.texts = {
      placeholder_once: { nl: 'Nu één keer tonen', en: 'Show once', de: 'Einmal zeigen', fr: 'Montrer une fois' },
    };
    await route.fulfill({ response, json: config });
  });
  await browser.page.goto(`${base}consent-embed-nl.html`);
  await placeholder().waitFor({ state: 'visible' });
  assert.equal(
    await placeholder().locator('p').textContent(),
    "Deze inhoud van VideoHost wordt pas geladen als u instemt met Externe video's.",
  );
  assert.equal(await placeholderButton('once').textContent(), 'Nu één keer tonen');
  assert.equal(await placeholderButton('allow').textContent(), "Externe video's toestaan");

  await browser.page.evaluate(() => {
    const map = document.createElement('iframe');
    map.title = 'Map';
    map.dataset.formsealPurpose = 'video';
    map.dataset.src = '/embed.html?map';
    map.dataset.formsealPlaceholder = 'De kaart komt van een andere dienst.';
    document.querySelector('main').append(map);
  });
  const late = browser.page.locator('formseal-placeholder').nth(1);
  await late.waitFor({ state: 'visible' });
  assert.equal(await late.locator('p').textContent(), 'De kaart komt van een andere dienst.');
  // Without a provider named, the placeholder names the embed's host.
  assert.equal(await late.locator('[role="group"]').getAttribute('aria-label'), '127.0.0.1');
  assert.deepEqual(providerRequests(), []);
});

for (const page of ['consent-embed.html', 'consent-embed-nl.html']) {
  test(`axe reports no violations on the placeholder (${page})`, async () => {
    const axeBrowser = await openBrowser({ bypassCSP: true });
    try {
      await axeBrowser.page.goto(`${base}${page}`);
      await axeBrowser.page.locator('formseal-placeholder').waitFor({ state: 'visible' });
      await axeBrowser.page.addScriptTag({ path: path.join(root, 'node_modules/axe-core/axe.min.js') });
      const violations = await axeBrowser.page.evaluate(async () => {
        const result = await window.axe.run(document.querySelector('formseal-placeholder'));
        return result.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(' ')) }));
      });
      assert.deepEqual(violations, []);
    } finally {
      await axeBrowser.close();
    }
  });
}
