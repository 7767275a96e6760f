// The marketer's builder (www/builder.html, crates/builder): a newsletter made from the template
// with one more field is downloaded, accepted by `formseal check`, embedded with the snippet the
// builder shows (the same as `formseal embed`) and rendered by the real widget exactly as the
// preview showed it. A field without a purpose is flagged at its control and blocks the
// download; a reload keeps the work; fields move with the keyboard; axe finds nothing; keys are
// read from a JWK or a PEM (a private key is refused); and nothing is ever sent.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { openBrowser } from './fixtures/browser.mjs';
import { eventually, startCollector } from './fixtures/collector.mjs';
import { formsealBin, pkgDir, root, testKey } from './fixtures/paths.mjs';

let collector;
let browser;
before(async () => {
  collector = await startCollector();
  // axe is injected by a test: only that bypasses the page's CSP.
  browser = await openBrowser({ bypassCSP: true });
  await browser.page.setViewportSize({ width: 1400, height: 1000 });
});
after(async () => {
  await browser?.close();
  await collector?.stop();
});

/** Opens the builder on a fresh template (the newsletter unless `template` says otherwise). */
async function openBuilder(template = 'Newsletter sign-up') {
  const { page } = browser;
  await page.goto(`${collector.url}builder.html`);
  await page.locator('#b-template').selectOption({ label: template });
  await page.locator('#b-start').click();
  await page.locator('#b-preview .fs-title, #b-preview .fs-banner').first().waitFor();
  return page;
}

/** The preview's shadow root HTML. */
function previewHtml(page) {
  return page.locator('#b-preview').evaluate((host) => host.shadowRoot.innerHTML);
}

/** Adds a field, names it `id` with an English and Dutch label; returns its card. */
async function addField(page, id) {
  await page.getByRole('button', { name: 'Add field' }).click();
  const card = page.locator('li.b-card[data-field="field_1"]');
  await card.getByLabel('Label (en)').fill('Favourite bread');
  await card.getByLabel('Label (nl)').fill('Favoriete brood');
  await card.getByLabel('Id (the key in the sealed record)').fill(id);
  return page.locator(`li.b-card[data-field="${id}"]`);
}

test('template → new field with a purpose → download: check accepts it, embed matches, the widget renders the preview', async () => {
  const page = await openBuilder();
  const card = await addField(page, 'bread');

  // No purpose yet: an inline error at the purposes, and the download is refused.
  const purposes = card.locator('fieldset.b-purposes');
  await assert.doesNotReject(purposes.getByText('serves no purpose').waitFor());
  assert.equal(await purposes.getAttribute('aria-invalid'), 'true');
  let downloaded = false;
  page.once('download', () => (downloaded = true));
  // aria-disabled, not disabled: the button stays focusable and says why it refuses.
  await page.locator('#b-download').click({ force: true });
  await page.getByText('Not downloaded. Fix the problem listed above first.').waitFor();
  assert.equal(downloaded, false, 'a config with a problem must not download');
  assert.match(await page.locator('#b-summary-title').textContent(), /1 problem/);

  // One tick fixes it.
  await purposes.getByLabel('Newsletter (newsletter)').check();
  await page.getByText('No problems: ready to download').waitFor();
  assert.equal(await purposes.getAttribute('aria-invalid'), null);
  // The purpose lists the fields it covers, the new one last.
  const covers = page.locator('li.b-card[data-purpose="newsletter"] .b-covers');
  assert.match(await covers.textContent(), /^Covers: email, name, .*, bread$/);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('#b-download').click(),
  ]);
  assert.equal(download.suggestedFilename(), 'newsletter.json');
  const dl = path.join(collector.dir, 'www', 'dl');
  mkdirSync(dl, { recursive: true });
  const file = path.join(dl, 'newsletter.json');
  await download.saveAs(file);
  const config = JSON.parse(readFileSync(file, 'utf8'));
  const bread = config.fields.find((f) => f.id === 'bread');
  assert.deepEqual(bread.purposes, ['newsletter']);
  assert.deepEqual(bread.label, { en: 'Favourite bread', nl: 'Favoriete brood' });
  // `formseal check` exits 0 only for a config without problems.
  const checked = execFileSync(formsealBin, ['check', file], { encoding: 'utf8' });
  assert.match(checked, /no problems found/);

  // The snippet is exactly `formseal embed`'s for the downloaded file.
  const snippet = await page.locator('#b-snippet').inputValue();
  const embedded = execFileSync(formsealBin, ['embed', file, '--pkg', pkgDir], { encoding: 'utf8' });
  assert.equal(snippet, embedded);

  // The real widget, embedded with that snippet, renders what the preview showed.
  const preview = await previewHtml(page);
  const [script, element] = snippet.trim().split('\n');
  writeFileSync(
    path.join(collector.dir, 'www', 'embedded.html'),
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Embedded</title>${script}</head>` +
      `<body><main>${element.replace('/forms/newsletter.json', '/dl/newsletter.json')}</main></body></html>`,
  );
  const site = await browser.context.newPage();
  await site.goto(`${collector.url}embedded.html`);
  await site.locator('formseal-form[data-state="idle"]').waitFor();
  const rendered = await site
    .locator('formseal-form')
    .evaluate((host) => host.shadowRoot.innerHTML);
  await site.close();
  assert.ok(rendered.includes('Favourite bread'));
  assert.equal(rendered, preview);
});

test('the preview shows what would be sent, minimised, and sends nothing', async () => {
  const before = browser.requests.length;
  const page = await openBuilder();
  const email = page.locator('#b-preview').locator('input[type="email"]');
  await email.fill('  Ann.Baker@Example.COM ');
  await page.locator('#b-preview').locator('input[type="date"]').fill('1990-05-17');
  // The newsletter needs its consent box ticked before anything could be sent.
  const notYet = page.locator('#b-not-yet');
  await notYet.getByText('newsletter_consent', { exact: false }).first().waitFor();
  await page.locator('#b-preview').locator('#fs-newsletter-newsletter_consent').check();
  const plaintext = page.locator('#b-plaintext');
  await eventually(async () => (await plaintext.count()) === 1, { what: 'the plaintext' });
  const sent = JSON.parse(await plaintext.textContent());
  assert.equal(sent.length, 1);
  assert.equal(sent[0].form, 'newsletter');
  assert.equal(sent[0].values.email, 'ann.baker@example.com');
  // The date of birth is minimised to an age band only when personalisation is granted.
  assert.equal(sent[0].values.birth_date, undefined);
  assert.deepEqual(sent[0].consent.granted, ['newsletter']);

  // Submitting the preview checks the answers and seals nothing.
  await page.locator('#b-preview').locator('button.fs-submit').click();
  await page.locator('#b-preview').locator('form[data-state="sent"]').waitFor();

  // Language and width.
  await page.locator('#b-preview-lang').selectOption('nl');
  await page.locator('#b-preview').getByText('Blijf op de hoogte').waitFor();
  await page.getByRole('button', { name: 'Mobile' }).click();
  const width = await page.locator('#b-preview').evaluate((e) => e.getBoundingClientRect().width);
  assert.ok(width <= 360, `mobile preview is ${width}px wide`);

  const made = browser.requests.slice(before);
  assert.ok(made.length > 0);
  for (const request of made) {
    assert.equal(request.method, 'GET', `${request.method} ${request.url}`);
    assert.ok(request.url.startsWith(collector.url), request.url);
    assert.ok(!/ann\.baker/i.test(`${request.url} ${request.body ?? ''}`));
    assert.ok(!request.url.includes('/v1/submissions'), request.url);
  }
});

test('a reload keeps the work', async () => {
  const page = await openBuilder('Contact form');
  const card = await addField(page, 'order_number');
  await card.getByLabel('Answering your question (reply)').check();
  await page.locator('#b-texts-title-en').fill('Write to the bakery');
  await page.reload();
  await page.locator('#b-preview .fs-title').waitFor();
  assert.equal(await page.locator('#b-texts-title-en').inputValue(), 'Write to the bakery');
  assert.equal(await page.locator('li.b-card[data-field="order_number"]').count(), 1);
  assert.equal(await page.locator('#b-preview .fs-title').textContent(), 'Write to the bakery');
});

test('fields move with the keyboard alone, focus staying on the pressed button', async () => {
  const page = await openBuilder('Contact form');
  const order = () =>
    page.locator('li.b-card[data-field]').evaluateAll((cards) => cards.map((c) => c.dataset.field));
  assert.deepEqual((await order()).slice(0, 2), ['name', 'email']);

  const name = page.locator('li.b-card[data-field="name"]');
  await name.getByRole('button', { name: 'Move down' }).focus();
  await page.keyboard.press('Enter');
  await eventually(async () => (await order())[1] === 'name', { what: 'name moved down' });
  assert.deepEqual((await order()).slice(0, 3), ['email', 'name', 'topic']);
  const focused = () =>
    page.evaluate(() => {
      const active = document.activeElement;
      return `${active?.closest('li')?.dataset.field} ${active?.textContent}`;
    });
  await eventually(async () => (await focused()) === 'name Move down', { what: 'focus kept' });
  await page.keyboard.press('Space');
  await eventually(async () => (await order())[2] === 'name', { what: 'name moved again' });
  assert.match(await page.locator('.b-live').textContent(), /Moved name to position 3 of 4/);

  // Shift+Tab reaches "Move up" next to it.
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(), 'name Move up');
  await page.keyboard.press('Enter');
  await eventually(async () => (await order())[1] === 'name', { what: 'name moved up' });
  // The preview follows the order.
  const labels = await page
    .locator('#b-preview')
    .evaluate((host) => [...host.shadowRoot.querySelectorAll('.fs-slot label')].map((l) => l.textContent));
  assert.ok(labels.findIndex((l) => l.startsWith('Name')) === 1, labels.join(' | '));
});

test('public keys: a PEM is read with its key id, a private key is refused', async () => {
  const page = await openBuilder();
  const jwk = JSON.parse(readFileSync(testKey.publicJwk, 'utf8'));
  const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  await page.locator('#b-key-text').fill(pem);
  await page.getByRole('button', { name: 'Use this key' }).click();
  await page.getByText(`Key ${testKey.kid} is now the form's key.`).waitFor();
  assert.match(await page.locator('.b-kids').textContent(), new RegExp(`${testKey.kid} \\(2048-bit RSA\\)`));

  await page.locator('#b-key-text').fill(readFileSync(testKey.privatePem, 'utf8'));
  await page.getByRole('button', { name: 'Use this key' }).click();
  await page.getByText('This is a private key.', { exact: false }).waitFor();
  await page.locator('#b-key-text').fill('{"kty": "RSA", "n": "AQAB", "e": "AQAB"}');
  await page.getByRole('button', { name: 'Use this key' }).click();
  await page.getByText('This key cannot be used', { exact: false }).waitFor();
  // The form keeps its key.
  assert.match(await page.locator('.b-kids').textContent(), new RegExp(testKey.kid));
});

test('the consent banner template previews its record', async () => {
  const page = await openBuilder('Consent banner');
  // The preview's first layer is the one visitors see: painted by the first-layer module with
  // the loader's texts from the same config, node for node.
  const [preview, painted] = await page.evaluate(async () => {
    const { bannerText } = await import('/pkg/formseal-loader.js');
    const { paintFirstLayer } = await import('/pkg/formseal-first-layer.js');
    const config = JSON.parse(localStorage.getItem('formseal:builder'));
    const host = document.createElement('div');
    const section = paintFirstLayer(host.attachShadow({ mode: 'open' }), config, config.languages[0], undefined, bannerText);
    const shown = document.querySelector('#b-preview').shadowRoot.querySelectorAll('section.fs-banner');
    return [[...shown].map((s) => s.outerHTML), section.outerHTML];
  });
  assert.deepEqual(preview, [painted], 'one first layer, the loader\'s');
  await page.locator('#b-preview').locator('button[data-action="accept-all"]').first().click();
  const plaintext = page.locator('#b-plaintext');
  await plaintext.waitFor();
  const [record] = JSON.parse(await plaintext.textContent());
  assert.equal(record.kind, 'consent');
  assert.ok(record.consent.granted.length > 0);
  // Nothing of the banner's decision is kept in the builder's storage.
  const kept = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('formseal:consent')));
  assert.deepEqual(kept, []);
});

test('axe reports no violations on the builder, with a problem shown', async () => {
  const page = await openBuilder();
  await page.getByRole('button', { name: 'Add field' }).click();
  await page.locator('li.b-card[data-field="field_1"] fieldset.b-purposes[aria-invalid="true"]').waitFor();
  await page.addScriptTag({ path: path.join(root, 'node_modules/axe-core/axe.min.js') });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document);
    return result.violations.map((v) => ({
      id: v.id,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
    }));
  });
  assert.deepEqual(violations, []);
});

test('mouse: a field dragged onto another takes its place; remove takes it out of the preview', async () => {
  const page = await openBuilder('Contact form');
  const order = () =>
    page.locator('li.b-card[data-field]').evaluateAll((cards) => cards.map((c) => c.dataset.field));
  await page
    .locator('li.b-card[data-field="message"]')
    .dragTo(page.locator('li.b-card[data-field="name"]'));
  await eventually(async () => (await order())[0] === 'message', { what: 'message dragged first' });
  assert.deepEqual(await order(), ['message', 'name', 'email', 'topic']);

  await page.locator('li.b-card[data-field="topic"]').getByRole('button', { name: 'Remove' }).click();
  assert.deepEqual(await order(), ['message', 'name', 'email']);
  await eventually(
    async () =>
      !(await previewHtml(page)).includes('fs-contact-topic') &&
      (await previewHtml(page)).includes('fs-contact-message'),
    { what: 'the preview without the topic' },
  );
});

test('a new language lists every missing translation, each shown at its control', async () => {
  const page = await openBuilder('Contact form');
  const languages = page.getByLabel('Languages (comma-separated, e.g. en, nl)');
  await languages.fill('en, nl, de');
  await languages.blur();
  const missing = page.locator('#b-missing-translations li');
  await eventually(async () => (await missing.count()) > 5, { what: 'missing translations' });
  assert.match(await missing.first().textContent(), /missing translation for "de"/);
  // The title's German input exists now and is marked invalid until it is filled.
  const title = page.locator('#b-texts-title-de');
  assert.equal(await title.getAttribute('aria-invalid'), 'true');
  await title.fill('Kontakt');
  await eventually(async () => (await title.getAttribute('aria-invalid')) === null, {
    what: 'the German title accepted',
  });
  // Download stays blocked while any translation is missing.
  await page.locator('#b-download').click({ force: true });
  await page.getByText(/Not downloaded\. Fix the \d+ problems listed above first\./).waitFor();
});

test('a survey field moves to another page, and the reload keeps it there', async () => {
  const page = await openBuilder('Customer survey');
  const card = page.locator('li.b-card[data-field]').first();
  const id = await card.getAttribute('data-field');
  await card.locator('summary').click();
  const select = card.getByLabel('Page', { exact: true });
  const pages = await select.locator('option').allTextContents();
  assert.ok(pages.length > 1, pages.join(', '));
  await select.selectOption({ index: pages.length - 1 });
  const stored = async () =>
    JSON.parse(await page.evaluate(() => localStorage.getItem('formseal:builder')));
  await eventually(async () => (await stored()).pages.at(-1).fields.includes(id), {
    what: `${id} on the last page`,
  });
  assert.ok(!(await stored()).pages[0].fields.includes(id));
});

test('starting from a template can be undone; opening a file that is not JSON says so', async () => {
  const page = await openBuilder('Contact form');
  await page.locator('#b-texts-title-en').fill('My own title');
  await page.locator('#b-template').selectOption({ label: 'Newsletter sign-up' });
  await page.locator('#b-start').click();
  await page.locator('#b-preview').getByText('Stay in touch').waitFor();
  await page.locator('#b-undo').click();
  assert.equal(await page.locator('#b-texts-title-en').inputValue(), 'My own title');
  assert.ok(await page.locator('#b-undo').isHidden());

  await page.locator('#b-open').setInputFiles({
    name: 'broken.json',
    mimeType: 'application/json',
    buffer: Buffer.from('{"formseal": 1,'),
  });
  await page.getByText('broken.json is not valid JSON', { exact: false }).waitFor();
  // Nothing already made is lost.
  assert.equal(await page.locator('#b-texts-title-en').inputValue(), 'My own title');
});
