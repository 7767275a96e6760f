// A queued envelope's proof of work is solved again when it can no longer be sent: when its
// challenge expired while the browser was offline (the visitor closed the laptop for longer
// than a challenge lives), and when the collector refused it (403). Either way exactly one
// record arrives, carried by a new solution, and no request carries what the visitor typed.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';

import { openBrowser, submissions } from './fixtures/browser.mjs';
import { eventually, startCollector } from './fixtures/collector.mjs';
import { FormPage } from './fixtures/form-page.mjs';
import { fillNewsletter, leaks, randomAnswers, secrets } from './fixtures/newsletter.mjs';

let collector;
let browser;
beforeEach(async () => {
  collector = await startCollector();
  // A browser per test: a clock installed in one cannot be taken out again.
  browser = await openBrowser();
});
afterEach(async () => {
  await browser?.close();
  await collector?.stop();
});

/** The posts of submissions that got an answer, as { status, altcha }, in order. */
function answeredPosts(page) {
  const posts = [];
  page.on('response', (response) => {
    const request = response.request();
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/v1/submissions') {
      posts.push({ status: response.status(), altcha: request.headers().altcha });
    }
  });
  return posts;
}

/** The proof of work of the one envelope in the newsletter's queue: { payload, expires }. */
async function queuedProof(page) {
  const queue = await page.evaluate(() => localStorage.getItem('formseal:queue:newsletter'));
  const entries = JSON.parse(queue ?? '[]');
  assert.equal(entries.length, 1, 'one envelope is queued');
  return entries[0].pow;
}

/** The challenge a solution in an `Altcha` header solves. */
const challengeOf = (header) =>
  JSON.parse(Buffer.from(header, 'base64').toString('utf8')).challenge;

/** Checks that one record is stored, and still one a while later (no late duplicate). */
async function exactlyOneStays() {
  await eventually(() => collector.count() === 1, { ms: 30000, what: 'one stored record' });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(collector.count(), 1);
}

test('a proof of work that expired while the browser was offline is solved again', async () => {
  const { page, context } = browser;
  // The browser's clock, so that the challenge's lifetime passes in a moment there; the
  // collector's stays real, and the widget decides on its own clock whether to solve again.
  await context.clock.install();
  const posts = answeredPosts(page);
  const answers = randomAnswers();
  const form = new FormPage(page);
  await form.open(`${collector.url}en.html`);
  await fillNewsletter(form, answers);
  await context.setOffline(true);
  await form.submit();
  await form.waitForState('retrying');
  const expired = await queuedProof(page);
  assert.ok(expired?.payload, 'the queued envelope keeps the proof of work it was sent with');

  // The laptop lid closed until a minute past the challenge's expiry, then opened again.
  const now = await page.evaluate(() => Date.now());
  await context.clock.fastForward(Math.ceil(expired.expires - now) + 60_000);
  await context.setOffline(false);
  await form.waitForState('sent', 30000);
  await exactlyOneStays();

  assert.ok(
    submissions(browser).some((r) => r.headers.altcha === expired.payload),
    'the post made offline carried the proof that then expired',
  );
  const accepted = posts.filter((p) => p.status === 201 || p.status === 200);
  assert.equal(accepted.length, 1, `one post was accepted: ${JSON.stringify(posts)}`);
  assert.ok(accepted[0].altcha, 'the accepted post carried a proof of work');
  assert.notEqual(accepted[0].altcha, expired.payload, 'the expired proof was not sent again');
  assert.notEqual(challengeOf(accepted[0].altcha), challengeOf(expired.payload));
  assert.deepEqual(leaks(browser.requests, secrets(answers)), [], 'a typed value left the page');
});

test('a proof of work the collector refuses is solved again', async () => {
  const { page } = browser;
  const posts = answeredPosts(page);
  let refused;
  // The collector's answer to a solution it no longer takes (expired, or its key changed).
  await page.route('**/v1/submissions', (route) => {
    if (refused !== undefined) return route.continue();
    refused = route.request().headers().altcha;
    return route.fulfill({
      status: 403,
      contentType: 'text/plain',
      body: 'the proof of work expired',
    });
  });
  const answers = randomAnswers();
  const form = new FormPage(page);
  await form.open(`${collector.url}en.html`);
  await fillNewsletter(form, answers);
  await form.submit();
  await form.waitForState('sent', 30000);
  await exactlyOneStays();

  assert.ok(refused, 'the refused post carried a proof of work');
  assert.deepEqual(
    posts.map((p) => p.status),
    [403, 201],
    `a refusal, then one accepted post: ${JSON.stringify(posts)}`,
  );
  assert.notEqual(challengeOf(posts[1].altcha), challengeOf(refused), 'a new challenge was solved');
  assert.deepEqual(leaks(browser.requests, secrets(answers)), [], 'a typed value left the page');
});
