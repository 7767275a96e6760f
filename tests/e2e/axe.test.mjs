// axe-core finds no accessibility violation on the rendered form (and the demo page around
// it). axe is injected by the test, so this context alone bypasses the page's CSP.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { openBrowser } from './fixtures/browser.mjs';
import { startCollector } from './fixtures/collector.mjs';
import { FormPage } from './fixtures/form-page.mjs';
import { root } from './fixtures/paths.mjs';

let collector;
let browser;
before(async () => {
  collector = await startCollector();
  browser = await openBrowser({ bypassCSP: true });
});
after(async () => {
  await browser?.close();
  await collector?.stop();
});

for (const [name, page] of [
  ['the demo page (nl)', ''],
  ['the test page (en)', 'en.html'],
]) {
  test(`axe reports no violations on ${name}`, async () => {
    const form = new FormPage(browser.page);
    await form.open(`${collector.url}${page}`);
    await browser.page.addScriptTag({ path: path.join(root, 'node_modules/axe-core/axe.min.js') });
    const violations = await browser.page.evaluate(async () => {
      const result = await window.axe.run(document);
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => n.target.join(' ')),
      }));
    });
    assert.deepEqual(violations, []);
  });
}
