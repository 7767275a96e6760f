// Each page loads only what it shows: one wasm build per widget kind. Asserted on the files the
// browser requested: a sign-up page fetches the sign-up build and nothing of the survey or the
// banner, a banner-only page the loader, the first layer and the record build (the consent
// build's dialog only once Choose is opened) and no form build, a returning visitor's banner-only page the loader alone, a survey page the survey build. Two builds on one page each mount only their own elements, and the sign-up
// build fails closed on a config only the survey build renders.

import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, test } from 'node:test';

import { cspViolations, openBrowser } from './fixtures/browser.mjs';
import { startCollector, testForm } from './fixtures/collector.mjs';
import { ConsentPage, consentForm } from './fixtures/consent-page.mjs';
import { FormPage } from './fixtures/form-page.mjs';
import { embed } from './fixtures/site.mjs';
import { exampleConfig } from './fixtures/survey-page.mjs';

const SIGNUP = ['/pkg/formseal-signup.js', '/pkg/formseal-signup_bg.wasm'];
const SURVEY = ['/pkg/formseal-survey.js', '/pkg/formseal-survey_bg.wasm'];
const CONSENT = ['/pkg/formseal-consent.js', '/pkg/formseal-consent_bg.wasm'];
const RECORD = ['/pkg/formseal-record.js', '/pkg/formseal-record_bg.wasm'];
const LOADER = '/pkg/formseal-loader.js';
const FIRST_LAYER = '/pkg/formseal-first-layer.js';
// The example banner maps Google Consent Mode: its snippet has the Consent Mode script first.
const CONSENT_MODE = '/pkg/formseal-consent-mode.js';

function page(...snippets) {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>formseal bundles test page</title>
  <link rel="icon" href="/favicon.svg" type="image/svg+xml">
  ${snippets.map((s) => s.script).join('\n  ')}
</head>
<body>
  <main>
    <h1>Bakery</h1>
    ${snippets.map((s) => s.element).join('\n    ')}
  </main>
</body>
</html>
`;
}

let collector;
let browser;
before(async () => {
  collector = await startCollector({
    forms: [testForm(), consentForm(), exampleConfig('survey')],
    files: ([newsletter, banner, survey]) => {
      const [signup, loader, surveyed] = [newsletter, banner, survey].map(embed);
      // The survey's config with the sign-up build's script: a snippet edited by hand.
      const wrong = { script: signup.script, element: surveyed.element };
      return {
        'signup.html': page(signup),
        'banner.html': page(loader),
        'survey.html': page(surveyed),
        'signup-banner.html': page(signup, loader),
        'signup-survey.html': page(signup, surveyed),
        'wrong-build.html': page(wrong),
        // A banner config with fields, served as a plain file: `formseal serve` and `check`
        // refuse it, and so must the consent build, which does not even read them.
        'banner-fields.json': JSON.stringify({ ...consentForm(), fields: testForm().fields }),
        'banner-fields.html': page({
          script: loader.script,
          element: loader.element.replace(/src="[^"]*"/, 'src="/banner-fields.json"'),
        }),
      };
    },
  });
});
after(async () => {
  await collector?.stop();
});
beforeEach(async () => {
  browser = await openBrowser();
});
afterEach(async () => {
  const violations = cspViolations(browser);
  await browser?.close();
  assert.deepEqual(violations, [], 'no CSP violation');
});

/** The paths under /pkg/ the browser requested so far. */
function requested() {
  return [...new Set(browser.requests.map((r) => new URL(r.url).pathname))].filter((p) =>
    p.startsWith('/pkg/'),
  );
}

/** Every host element of `selector` on the page, with its data-state and whether it rendered. */
function hosts(selector) {
  return browser.page.evaluate(
    (sel) =>
      [...document.querySelectorAll(sel)].map((h) => ({
        state: h.getAttribute('data-state'),
        rendered: Boolean(h.shadowRoot?.querySelector('form, section, dialog')),
      })),
    selector,
  );
}

test('a sign-up page loads the sign-up build and no survey or banner code', async () => {
  const form = new FormPage(browser.page);
  await form.open(`${collector.url}signup.html`);
  await browser.page.waitForLoadState('networkidle');
  assert.deepEqual(requested().sort(), [...SIGNUP].sort());
});

test('a banner-only page loads the loader, the first layer and the record build; the dialog comes with Choose', async () => {
  const consent = new ConsentPage(browser.page);
  await browser.page.goto(`${collector.url}banner.html`);
  await consent.bannerButton('reject-all').waitFor({ state: 'visible', timeout: 20000 });
  await browser.page.waitForLoadState('networkidle');
  // The idle fetch brings the record build (it registers with the loader when ready).
  await browser.page.waitForFunction(() => window.formseal?.recorder, null, { timeout: 20000 });
  const files = requested();
  assert.deepEqual(files.sort(), [LOADER, FIRST_LAYER, CONSENT_MODE, ...RECORD].sort(), `a banner-only page requested ${files}`);

  await consent.bannerButton('choose').click();
  await consent.dialog.waitFor({ state: 'visible', timeout: 20000 });
  const now = requested();
  assert.ok(CONSENT.every((f) => now.includes(f)), `Choose loads the consent build: ${now}`);
  assert.ok(now.every((f) => !SIGNUP.includes(f) && !SURVEY.includes(f)), `no form build: ${now}`);
});

// A first visit to the banner-only page that rejects all, until its record is delivered:
// nothing is left in the queue for a build to send on the next view.
async function rejectAndDeliver() {
  const consent = new ConsentPage(browser.page);
  await browser.page.goto(`${collector.url}banner.html`);
  await consent.bannerButton('reject-all').click();
  await consent.waitForSealed();
  await browser.page.waitForFunction(() => (JSON.parse(localStorage.getItem('formseal:queue:cookies') ?? '[]')).length === 0, null, {
    timeout: 20000,
  });
}

test('Reject all on a first visit is sealed by the record build alone: one record, no dialog code', async () => {
  await rejectAndDeliver();
  const files = requested();
  assert.ok(RECORD.every((f) => files.includes(f)), `requested ${files}`);
  assert.ok(CONSENT.every((f) => !files.includes(f)), `the consent build stays unloaded: ${files}`);
  const posts = browser.requests.filter((r) => r.method === 'POST');
  assert.equal(posts.length, 1, `one consent record posted: ${posts.map((p) => p.url)}`);
});

test('a returning visitor loads the loader (and the Consent Mode script) alone: no first layer, no wasm', async () => {
  await rejectAndDeliver();
  browser.requests.length = 0;
  await browser.page.reload();
  await browser.page.locator('formseal-settings').waitFor({ state: 'attached', timeout: 20000 });
  await browser.page.waitForLoadState('networkidle');
  assert.deepEqual(requested().sort(), [CONSENT_MODE, LOADER].sort());
  assert.equal(await browser.page.evaluate(() => document.querySelector('formseal-consent').shadowRoot), null);
});

test('a survey page loads the survey build only', async () => {
  await browser.page.goto(`${collector.url}survey.html`);
  // A survey shows its first page and Next; the submit button waits for the last page.
  await browser.page.locator('formseal-form form.fs-form').waitFor({ timeout: 20000 });
  await browser.page.waitForLoadState('networkidle');
  assert.deepEqual(requested().sort(), [...SURVEY].sort());
});

test('a form and the banner on one page: each build mounts its own element', async () => {
  const consent = new ConsentPage(browser.page);
  const form = new FormPage(browser.page);
  await browser.page.goto(`${collector.url}signup-banner.html`);
  await form.ready();
  await consent.bannerButton('reject-all').waitFor({ state: 'visible', timeout: 20000 });
  await browser.page.waitForLoadState('networkidle');
  const files = requested();
  assert.ok(SIGNUP.every((f) => files.includes(f)), `requested ${files}`);
  assert.ok(!files.some((f) => SURVEY.includes(f)), `requested ${files}`);
  assert.deepEqual(await hosts('formseal-form'), [{ state: 'idle', rendered: true }]);
  // The banner's choice reaches the form through the stored choice, and the consent API is the
  // record build's (Reject all needs no dialog): the sign-up build added nothing to
  // `window.formseal`.
  await consent.bannerButton('reject-all').click();
  await consent.waitForState('hidden');
  await browser.page.waitForFunction(() => window.formseal?.recorder);
  const api = await browser.page.evaluate(() => Object.keys(window.formseal ?? {}).sort());
  assert.deepEqual(api, ['consent', 'recorder']);
});

test('a sign-up form and a survey on one page: the survey build mounts both, once', async () => {
  await browser.page.goto(`${collector.url}signup-survey.html`);
  await browser.page.waitForFunction(
    () =>
      [...document.querySelectorAll('formseal-form')].every(
        (h) => h.shadowRoot?.querySelector('form.fs-form'),
      ),
    null,
    { timeout: 20000 },
  );
  await browser.page.waitForLoadState('networkidle');
  assert.deepEqual(await hosts('formseal-form'), [
    { state: 'idle', rendered: true },
    { state: 'idle', rendered: true },
  ]);
  const messages = browser.console.filter((m) => m.type === 'error');
  assert.deepEqual(messages, []);
});

test('the sign-up build fails closed on a survey and names the build that renders it', async () => {
  await browser.page.goto(`${collector.url}wrong-build.html`);
  await browser.page.waitForFunction(
    () => document.querySelector('formseal-form')?.getAttribute('data-state') === 'error',
    null,
    { timeout: 20000 },
  );
  assert.deepEqual(await hosts('formseal-form'), [{ state: 'error', rendered: false }]);
  assert.ok(
    browser.console.some((m) => m.type === 'error' && m.text.includes('formseal-survey.js')),
    JSON.stringify(browser.console),
  );
  assert.equal(browser.requests.filter((r) => r.method === 'POST').length, 0);
});

test('the consent build fails closed on a banner config with fields, which it leaves unread', async () => {
  await browser.page.goto(`${collector.url}banner-fields.html`);
  await browser.page.waitForFunction(
    () => document.querySelector('formseal-consent')?.getAttribute('data-state') === 'error',
    null,
    { timeout: 20000 },
  );
  assert.deepEqual(await hosts('formseal-consent'), [{ state: 'error', rendered: false }]);
  assert.ok(
    browser.console.some(
      (m) => m.type === 'error' && m.text.includes('a consent banner has no fields'),
    ),
    JSON.stringify(browser.console),
  );
  assert.equal(browser.requests.filter((r) => r.method === 'POST').length, 0);
});
