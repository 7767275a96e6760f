// The banner's accessibility (axe-core on both layers, in English and Dutch, and on the
// loader's first layer with the wasm blocked) and forms that
// follow the banner: a field whose only purpose the visitor refused on the banner is not shown
// and not sent; once granted on the banner it is shown and sent. axe is injected by the test,
// so this context alone bypasses the page's CSP.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, afterEach, before, beforeEach, test } from 'node:test';

import { openBrowser } from './fixtures/browser.mjs';
import { eventually, startCollector } from './fixtures/collector.mjs';
import { ConsentPage, consentSite, holdWidget } from './fixtures/consent-page.mjs';
import { FormPage } from './fixtures/form-page.mjs';
import { root } from './fixtures/paths.mjs';

let collector;
let browser;
let consent;
before(async () => {
  // The banner also asks about the newsletter form's personalisation purpose, and the form has
  // no consent box of its own for it: the banner is the only place to grant it.
  collector = await startCollector(
    consentSite({
      form: (form) => ({ ...form, fields: form.fields.filter((f) => f.id !== 'personalisation_consent') }),
      banner: (banner) => {
        const personalisation = { ...banner.purposes[1], id: 'personalisation', cookies: [] };
        return { ...banner, purposes: [...banner.purposes, personalisation] };
      },
    }),
  );
});
after(async () => {
  await collector?.stop();
});
beforeEach(async () => {
  browser = await openBrowser({ bypassCSP: true });
  consent = new ConsentPage(browser.page);
});
afterEach(async () => {
  await browser?.close();
});

async function axe() {
  await browser.page.addScriptTag({ path: path.join(root, 'node_modules/axe-core/axe.min.js') });
  return browser.page.evaluate(async () => {
    const result = await window.axe.run(document);
    return result.violations.map((v) => ({
      id: v.id,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
}

for (const page of ['consent.html', 'consent-nl.html']) {
  test(`axe reports no violations on the banner and the settings layer (${page})`, async () => {
    await browser.page.goto(`${collector.url}${page}`);
    await consent.waitForState('banner');
    assert.deepEqual(await axe(), [], 'first layer');
    await consent.bannerButton('choose').click();
    await consent.waitForState('settings');
    assert.deepEqual(await axe(), [], 'settings layer');
  });
}

for (const page of ['consent.html', 'consent-nl.html']) {
  test(`axe reports no violations on the loader's first layer, without wasm (${page})`, async () => {
    await holdWidget(browser.context, { abort: true });
    await browser.page.goto(`${collector.url}${page}`);
    await consent.waitForState('banner');
    assert.equal(await consent.dialog.count(), 0, 'the widget is not there');
    assert.deepEqual(await axe(), [], 'the loader\'s first layer');
  });
}

test('a field whose purpose was refused on the banner is not shown, and shown once granted', async () => {
  const form = new FormPage(browser.page);
  await browser.page.goto(`${collector.url}consent-form.html`);
  await consent.waitForState('banner');
  await consent.bannerButton('reject-all').click();
  await consent.waitForState('hidden');
  await browser.page.reload();
  await form.ready();
  assert.equal(await form.field('postcode').count(), 0, 'refused on the banner: not shown');
  assert.equal(await form.field('email').count(), 1);

  await browser.page.evaluate(() => formseal.consent.set({ personalisation: true }));
  await browser.page.reload();
  await form.ready();
  await form.field('email').fill('baker@example.com');
  await form.field('postcode').fill('7411 AB');
  await form.field('newsletter_consent').check();
  await form.submit();
  await form.waitForState('sent');
  await eventually(
    () => collector.decrypt().some((r) => r.form === 'newsletter'),
    { what: 'the sign-up stored' },
  );
  const signup = collector.decrypt().find((r) => r.form === 'newsletter');
  assert.equal(signup.values.postcode, '7411', 'granted on the banner: sent (minimised)');
  assert.ok(signup.consent.granted.includes('personalisation'));
});
