// Takes the README's screenshot of the builder at desktop width: the newsletter template with a
// new field that still lacks a purpose (its inline error showing) beside the live preview.
// Needs `cargo xtask wasm` and the debug `formseal` binary, like the specs.
//
//   node tests/e2e/builder-screenshot.mjs docs/builder.png

import { openBrowser } from './fixtures/browser.mjs';
import { startCollector } from './fixtures/collector.mjs';

const out = process.argv[2] ?? 'docs/builder.png';
const collector = await startCollector();
const browser = await openBrowser();
try {
  const { page } = browser;
  await page.setViewportSize({ width: 1440, height: 1000 });
  await page.goto(`${collector.url}builder.html`);
  await page.locator('#b-template').selectOption({ label: 'Newsletter sign-up' });
  await page.locator('#b-start').click();
  await page.locator('#b-preview .fs-title').waitFor();
  await page.getByRole('button', { name: 'Add field' }).click();
  const card = page.locator('li.b-card[data-field="field_1"]');
  await card.getByLabel('Label (en)').fill('Favourite bread');
  await card.getByLabel('Label (nl)').fill('Favoriete brood');
  await card.getByLabel('Id (the key in the sealed record)').fill('bread');
  await page.locator('li.b-card[data-field="bread"] fieldset.b-purposes').scrollIntoViewIfNeeded();
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await collector.stop();
}
