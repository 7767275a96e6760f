// Content a single-page site adds after the loader started (a framework's render, innerHTML, a
// route change with history.pushState) follows the choice in force: gated scripts, iframes and
// images stay inert before a grant and under a refusal, and are activated when their purpose is
// granted, whether they came before or after the decision, and on a returning visitor's page.

import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';

import { consentSpec } from './fixtures/consent-page.mjs';

let browser;
let consent;
let url;
const spec = consentSpec();
beforeEach(() => ({ browser, consent, url } = spec));

/** What a framework's render would add: a gated analytics script, a marketing iframe and image. */
function render(page, id) {
  return page.evaluate((id) => {
    const view = document.createElement('section');
    view.id = id;
    view.innerHTML = `<iframe title="video" data-formseal-purpose="marketing" data-src="about:blank#${id}"></iframe>
<img alt="" data-formseal-purpose="marketing" data-src="/favicon.svg?img-${id}">`;
    const script = document.createElement('script');
    script.type = 'text/plain';
    script.dataset.formsealPurpose = 'analytics';
    script.src = '/analytics.js';
    view.append(script);
    document.querySelector('main').append(view);
  }, id);
}

/** The `src` of the late iframe and image of view `id` ('' while inert). */
function sources(page, id) {
  return page.evaluate((id) => [...document.querySelectorAll(`#${id} iframe, #${id} img`)].map((el) => el.getAttribute('src') ?? ''), id);
}

test('before a choice late content stays inert; Accept all activates it, and what comes after', async () => {
  await browser.page.goto(url);
  await consent.waitForState('banner');
  await render(browser.page, 'before');
  await browser.page.waitForTimeout(300);
  assert.deepEqual(await sources(browser.page, 'before'), ['', '']);
  assert.equal(await consent.analyticsRuns(), 0);

  await consent.bannerButton('accept-all').click();
  await consent.waitForState('hidden');
  // The page's own gated script and the late one: both run once.
  await consent.waitForAnalyticsRuns(2);
  assert.deepEqual(await sources(browser.page, 'before'), ['about:blank#before', '/favicon.svg?img-before']);

  // A route change renders a new view after the grant: active at once.
  await browser.page.evaluate(() => history.pushState({}, '', '/consent.html?route=2'));
  await render(browser.page, 'after');
  await browser.page.waitForFunction(() => document.querySelector('#after iframe')?.getAttribute('src'));
  assert.deepEqual(await sources(browser.page, 'after'), ['about:blank#after', '/favicon.svg?img-after']);
  await consent.waitForAnalyticsRuns(3);
  await browser.page.waitForTimeout(300);
  assert.equal(await consent.analyticsRuns(), 3, 'each gated script runs once');
});

test('after Reject all late content stays inert, on this page view and the next', async () => {
  await browser.page.goto(url);
  await consent.waitForState('banner');
  await consent.bannerButton('reject-all').click();
  await consent.waitForState('hidden');
  await render(browser.page, 'late');
  await browser.page.waitForTimeout(500);
  assert.deepEqual(await sources(browser.page, 'late'), ['', '']);
  assert.equal(await consent.analyticsRuns(), 0);

  await browser.page.reload();
  await consent.settingsButton.waitFor({ state: 'visible', timeout: 20000 });
  await render(browser.page, 'next');
  await browser.page.waitForTimeout(500);
  assert.deepEqual(await sources(browser.page, 'next'), ['', '']);
  assert.equal(await consent.analyticsRuns(), 0);
});

test("a returning visitor's grant activates content rendered long after start", async () => {
  await browser.page.goto(url);
  await consent.waitForState('banner');
  await consent.bannerButton('accept-all').click();
  await consent.waitForState('hidden');
  await browser.page.reload();
  await consent.settingsButton.waitFor({ state: 'visible', timeout: 20000 });
  await consent.waitForAnalyticsRuns(1);
  await render(browser.page, 'late');
  await browser.page.waitForFunction(() => document.querySelector('#late img')?.getAttribute('src'));
  assert.deepEqual(await sources(browser.page, 'late'), ['about:blank#late', '/favicon.svg?img-late']);
  await consent.waitForAnalyticsRuns(2);
});
