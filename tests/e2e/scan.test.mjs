// `formseal scan` on the consent test site with the real loader and banner (crates/cli/tests/
// scan.rs covers the command on hand-made pages): a page that gates its analytics passes before
// consent, Accept all on the real first layer brings the analytics cookies, attributed to their
// purpose by the banner config, and a page that runs the same script ungated fails the scan.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { startCollector } from './fixtures/collector.mjs';
import { consentSite } from './fixtures/consent-page.mjs';
import { chromiumPath, formsealBin } from './fixtures/paths.mjs';

let collector;
let config;
before(async () => {
  const site = consentSite();
  collector = await startCollector({
    ...site,
    // The analytics script without formseal's gating, as a site that forgot it would have it.
    files: (formFiles) => ({
      ...site.files(formFiles),
      'leaky.html': '<!doctype html><html lang="en"><title>leaky</title><script src="/analytics.js"></script></html>\n',
    }),
  });
  config = path.join(collector.dir, 'form-1-cookies.json');
});
after(async () => {
  await collector?.stop();
});

function scan(...args) {
  const run = spawnSync(formsealBin, ['scan', ...args, '--config', config, '--chromium', chromiumPath, '--format', 'json'], {
    encoding: 'utf8',
    timeout: 120000,
  });
  assert.equal(run.error, undefined);
  return { code: run.status, report: JSON.parse(run.stdout || 'null'), stderr: run.stderr };
}

const cookies = (findings) => findings.filter((f) => f.kind === 'cookie').map((f) => [f.name, f.purpose]);

test('a page with its analytics gated passes; Accept all on the real banner brings the analytics cookies', () => {
  const { code, report, stderr } = scan(`${collector.url}consent.html`, '--accept-all');
  assert.equal(code, 0, stderr);
  assert.deepEqual(report.findings, [], 'nothing before consent');
  assert.equal(report.findings_needing_consent, 0);
  assert.deepEqual(cookies(report.accept_all), [
    ['_ga', 'analytics'],
    ['_ga_ABC123', 'analytics'],
    ['basket', 'unknown'],
  ]);
  assert.deepEqual(report.suggested_cookies, ['basket']);
});

test('the same script ungated fails the scan, with its cookies attributed', () => {
  const { code, report } = scan(`${collector.url}leaky.html`);
  assert.equal(code, 1);
  assert.deepEqual(cookies(report.findings), [
    ['_ga', 'analytics'],
    ['_ga_ABC123', 'analytics'],
    ['basket', 'unknown'],
  ]);
  assert.equal(report.findings_needing_consent, 3);
});
