// A visitor signs up with random answers on the demo page. Nothing they typed may leave the
// page in any spelling, every request goes to the collector on 127.0.0.1, and the data team
// opens exactly the minimised answers from the store.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { openBrowser, submissions } from './fixtures/browser.mjs';
import { sealAndOpen, startCollector, testForm, eventually } from './fixtures/collector.mjs';
import { FormPage } from './fixtures/form-page.mjs';
import { fillNewsletter, leaks, randomAnswers, secrets } from './fixtures/newsletter.mjs';

let collector;
let browser;
before(async () => {
  collector = await startCollector();
  browser = await openBrowser();
});
after(async () => {
  await browser?.close();
  await collector?.stop();
});

test('a sign-up sends only ciphertext and decrypts to the minimised answers', async () => {
  const answers = randomAnswers();
  const form = new FormPage(browser.page);
  await form.open(collector.url);
  await fillNewsletter(form, answers);
  await form.submit();
  await form.waitForState('sent');
  await eventually(() => collector.count() === 1, { what: 'one stored record' });

  const found = leaks(browser.requests, secrets(answers));
  assert.deepEqual(found, [], 'a value the visitor typed left the page');
  for (const request of browser.requests) {
    assert.equal(new URL(request.url).hostname, '127.0.0.1', `request to ${request.url}`);
  }
  const posts = submissions(browser);
  assert.ok(posts.length >= 1, 'the widget posted the submission');
  for (const post of posts) {
    assert.match(post.headers['content-type'], /^application\/jose/);
    assert.equal(post.headers.cookie, undefined, 'no cookie is sent');
    // A compact JWE: five base64url parts, nothing else.
    assert.match(post.body.toString('utf8').trim(), /^[\w-]+\.[\w-]*\.[\w-]+\.[\w-]+\.[\w-]+$/);
  }

  const [record] = collector.decrypt();
  const expected = sealAndOpen(testForm(), answers);
  assert.deepEqual(record.values, expected.values);
  assert.equal(record.values.email, answers.email.trim().toLowerCase());
  assert.equal(record.form, 'newsletter');
  assert.equal(record.kind, 'submission');
  assert.deepEqual(record.consent.granted.sort(), expected.consent.granted.sort());
});
