// Google Consent Mode v2 in the right order: with formseal's snippet first in <head> and the
// site's own gtag set-up after it (an external file, under the strict CSP), the dataLayer shows
// `consent default` before gtag's `config` on a first visit, and after a choice, on the next page
// view, the stored `consent update` before `config` too. Microsoft UET gets its consent default
// (and the stored update) before the site's own UET commands when the config maps it. A stored
// choice that no longer holds (a new notice) is taken back with `denied`.

import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, test } from 'node:test';

import { cspViolations, openBrowser } from './fixtures/browser.mjs';
import { startCollector } from './fixtures/collector.mjs';
import { ConsentPage, consentSite } from './fixtures/consent-page.mjs';
import { embed } from './fixtures/site.mjs';

let collector;
let browser;
let consent;
before(async () => {
  const site = consentSite({ banner: (b) => ({ ...b, consent: { ...b.consent, uet: true } }) });
  const files = site.files;
  site.files = (formFiles) => {
    const snippet = embed(formFiles[1]);
    return {
      ...files(formFiles),
      'gtag.html': `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>formseal Consent Mode order test page</title>
  <link rel="icon" href="/favicon.svg" type="image/svg+xml">
  ${snippet.script}
  <script src="/gtag-setup.js"></script>
</head>
<body>
  <main><h1>Bakery</h1></main>
  ${snippet.element}
</body>
</html>
`,
      // The site's own tags, as Google's and Microsoft's set-up snippets write them.
      'gtag-setup.js': `window.dataLayer = window.dataLayer || [];
function gtag() { dataLayer.push(arguments); }
gtag('js', new Date());
gtag('config', 'G-TEST123');
window.uetq = window.uetq || [];
window.uetq.push('event', 'page_view', {});
`,
    };
  };
  collector = await startCollector(site);
});
after(async () => {
  await collector?.stop();
});
beforeEach(async () => {
  browser = await openBrowser();
  consent = new ConsentPage(browser.page);
});
afterEach(async () => {
  const violations = cspViolations(browser);
  const errors = browser.pageErrors;
  await browser?.close();
  assert.deepEqual(violations, [], 'the strict CSP holds');
  assert.deepEqual(errors, [], 'no uncaught error on the page');
});

/** The dataLayer as [command, type-or-id] pairs, and the UET queue's commands. */
function queues(page) {
  return page.evaluate(() => ({
    data: (window.dataLayer ?? []).map((e) => [e[0], typeof e[1] === 'string' ? e[1] : '']),
    signals: (window.dataLayer ?? []).filter((e) => e[0] === 'consent').map((e) => e[2]),
    uet: (window.uetq ?? []).filter((e) => typeof e === 'string'),
  }));
}

test('a first visit: consent default before config; after Accept all and on the next view, update before config', async () => {
  await browser.page.goto(`${collector.url}gtag.html`);
  await consent.waitForState('banner');
  let { data, signals, uet } = await queues(browser.page);
  const at = (pair) => data.findIndex(([a, b]) => a === pair[0] && b === pair[1]);
  assert.ok(at(['consent', 'default']) >= 0, JSON.stringify(data));
  assert.ok(at(['consent', 'default']) < at(['config', 'G-TEST123']), JSON.stringify(data));
  assert.equal(signals[0].ad_storage, 'denied');
  assert.equal(signals[0].wait_for_update, 500);
  assert.equal(data.filter(([a, b]) => a === 'consent' && b === 'default').length, 1, 'one default');
  // UET: consent default before the site's own event.
  assert.deepEqual(uet.slice(0, 2), ['consent', 'default'], JSON.stringify(uet));
  assert.ok(uet.indexOf('event') > uet.indexOf('default'));

  await consent.bannerButton('accept-all').click();
  await consent.waitForState('hidden');
  ({ data, signals } = await queues(browser.page));
  assert.deepEqual(data.at(-1), ['consent', 'update']);
  assert.equal(signals.at(-1).ad_storage, 'granted');
  const uetUpdate = await browser.page.evaluate(() => window.uetq.slice(-3));
  assert.deepEqual(uetUpdate, ['consent', 'update', { ad_storage: 'granted' }]);

  await browser.page.reload();
  await consent.settingsButton.waitFor({ state: 'visible', timeout: 20000 });
  ({ data, signals, uet } = await queues(browser.page));
  const again = (pair) => data.findIndex(([a, b]) => a === pair[0] && b === pair[1]);
  assert.ok(again(['consent', 'default']) < again(['consent', 'update']), JSON.stringify(data));
  assert.ok(again(['consent', 'update']) < again(['config', 'G-TEST123']), JSON.stringify(data));
  assert.equal(signals[1].ad_storage, 'granted');
  assert.equal(data.filter(([a, b]) => a === 'consent' && b === 'update').length, 1, 'the loader sends no second update');
  assert.deepEqual(uet.slice(0, 3), ['consent', 'default', 'consent'], JSON.stringify(uet));
});

test('a stored grant under an old notice is taken back with denied once the loader sees the new one', async () => {
  await browser.page.goto(`${collector.url}gtag.html`);
  await consent.waitForState('banner');
  await consent.bannerButton('accept-all').click();
  await consent.waitForState('hidden');
  await consent.serveNotice('2099-01');
  await browser.page.reload();
  await consent.waitForState('banner');
  const { signals } = await queues(browser.page);
  // The Consent Mode script kept the stored grant (it cannot know the notice changed); the
  // loader takes it back before the banner asks again.
  assert.equal(signals[1].ad_storage, 'granted');
  assert.equal(signals.at(-1).ad_storage, 'denied');
  assert.equal(signals.at(-1).analytics_storage, 'denied');
});
