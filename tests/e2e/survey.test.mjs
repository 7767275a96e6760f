// The example survey in a real browser: pages one at a time with branching both ways, Back
// keeping answers, answers of hidden fields never sent, a file upload sealed in the browser and
// opened byte for byte by `formseal decrypt --out`, an oversized file refused before anything is
// sent, the prize draw's contact details in an envelope of their own, a keyboard-only walk that
// axe finds clean on every page, and a privacy request answered with `formseal subject --export`.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { openBrowser, submissions } from './fixtures/browser.mjs';
import { eventually, startCollector } from './fixtures/collector.mjs';
import { leaks } from './fixtures/newsletter.mjs';
import { formsealBin, root, testKey } from './fixtures/paths.mjs';
import { SurveyPage, byteLeaks, randomPng, surveySite } from './fixtures/survey-page.mjs';

/** A collector with the survey and privacy pages, and a browser on the survey, for one test. */
async function visit(t, { site = surveySite(), browserOptions = {}, file = 'survey.html' } = {}) {
  const collector = await startCollector(site);
  t.after(() => collector.stop());
  const browser = await openBrowser(browserOptions);
  t.after(() => browser.close());
  const survey = new SurveyPage(browser.page);
  await survey.open(`${collector.url}${file}`);
  return { collector, browser, survey };
}

/**
 * Asserts that `read()` comes to return `want`: the widget re-renders asynchronously after an
 * input, so the value is read again for a few seconds before the assertion fails.
 */
async function settles(read, want, what) {
  let got;
  try {
    await eventually(async () => JSON.stringify((got = await read())) === JSON.stringify(want), {
      ms: 5000,
      what,
    });
  } catch {
    // The assertion below shows what was read instead.
  }
  assert.deepEqual(got, want, what);
}

const secret = (label) => `${label} ${randomBytes(6).toString('hex')}`;

/** The records of the collector, by kind. */
function byKind(records) {
  const kinds = {};
  for (const record of records) (kinds[record.kind] ??= []).push(record);
  return kinds;
}

test('the survey branches both ways, shows progress, checks each page and Back keeps answers', async (t) => {
  const { collector, browser, survey } = await visit(t);
  assert.equal(await survey.pageId(), 'experience');
  await settles(() => survey.progress(), 'Page 1 of 3', 'the progress line');
  await settles(() => survey.backButton.isVisible(), false, 'backButton visible');

  // Each page is checked before Next: the required channel and satisfaction are missing.
  await survey.nextButton.click();
  await eventually(async () => (await survey.error('channel').innerText()) !== '', {
    what: 'the error under the channel',
  });
  assert.equal(await survey.pageId(), 'experience');

  // One way: unhappy, online → the problems page, then straight to the priorities.
  await survey.choose('channel', 'online');
  await survey.choose('satisfaction', '2');
  await settles(() => survey.progress(), 'Page 1 of 4', 'the progress line');
  await survey.next();
  assert.equal(await survey.pageId(), 'problems');
  await settles(() => survey.progress(), 'Page 2 of 4', 'the progress line');
  assert.equal((await survey.pageTitle.innerText()).trim(), 'What went wrong');
  await eventually(
    () => survey.pageTitle.evaluate((h) => h.getRootNode().activeElement === h),
    { what: 'focus on the page title' },
  );
  await settles(() => survey.fieldShown('details'), false, 'details shown');
  await survey.option('problems', 0).check();
  await settles(() => survey.fieldShown('details'), true, 'details shown');
  const details = secret('The parcel arrived late');
  await survey.field('details').fill(details);
  await survey.next();
  assert.equal(await survey.pageId(), 'priorities', 'the store page is skipped');
  await settles(() => survey.progress(), 'Page 3 of 4', 'the progress line');

  // Back keeps what was answered on each page.
  await survey.back();
  assert.equal(await survey.pageId(), 'problems');
  assert.equal(await survey.option('problems', 0).isChecked(), true);
  assert.equal(await survey.field('details').inputValue(), details);
  await survey.back();
  assert.equal(await survey.pageId(), 'experience');
  assert.equal(await survey.choice('channel', 'online').isChecked(), true);
  assert.equal(await survey.choice('satisfaction', '2').isChecked(), true);

  // The other way: happy, in a store → no problems page, the store page instead.
  await survey.choose('satisfaction', '5');
  await survey.choose('channel', 'store');
  await settles(() => survey.progress(), 'Page 1 of 4', 'the progress line');
  await survey.next();
  assert.equal(await survey.pageId(), 'store');
  await settles(() => survey.progress(), 'Page 2 of 4', 'the progress line');
  await survey.matrixCell('store_visit', 0, 3).check();
  await survey.matrixCell('store_visit', 1, 4).check();
  await survey.next();
  assert.equal(await survey.pageId(), 'priorities');
  await survey.back();
  assert.equal(await survey.matrixCell('store_visit', 0, 3).isChecked(), true);
  assert.equal(await survey.matrixCell('store_visit', 1, 4).isChecked(), true);
  await survey.next();
  await survey.next();
  assert.equal(await survey.pageId(), 'prize-draw');
  await settles(() => survey.progress(), 'Page 4 of 4', 'the progress line');
  await settles(() => survey.nextButton.isVisible(), false, 'nextButton visible');
  await settles(() => survey.submitButton.isVisible(), true, 'submitButton visible');

  await survey.submit();
  await survey.waitForState('sent');
  await eventually(() => collector.count() === 1, { what: 'one stored record' });
  const [record] = collector.decrypt();
  assert.equal(record.kind, 'submission');
  assert.equal(record.values.channel, 'store');
  assert.equal(record.values.satisfaction, 5);
  assert.deepEqual(record.values.store_visit, { staff: '4', clean: '5' });
  assert.equal(record.values.problems, undefined);
  assert.deepEqual(leaks(browser.requests, [details]), []);
});

test('answers of a page that ends up hidden are not sent, whatever was typed', async (t) => {
  const { collector, browser, survey } = await visit(t);
  await survey.choose('channel', 'online');
  await survey.choose('satisfaction', '2');
  await survey.next();
  assert.equal(await survey.pageId(), 'problems');
  await survey.option('problems', 1).check();
  await survey.option('problems', 'other').check();
  const other = secret('Rude driver');
  await survey.option('problems', 'other-text').fill(other);
  const details = secret('The box was crushed');
  await survey.field('details').fill(details);
  await survey.next();
  await survey.back();
  await survey.back();
  assert.equal(await survey.pageId(), 'experience');

  // Happier after all: the problems page, and every answer on it, drops out.
  await survey.choose('satisfaction', '5');
  await settles(() => survey.progress(), 'Page 1 of 3', 'the progress line');
  await survey.next();
  assert.equal(await survey.pageId(), 'priorities');
  await survey.next();
  assert.equal(await survey.pageId(), 'prize-draw');
  await survey.submit();
  await survey.waitForState('sent');
  await eventually(() => collector.count() === 1, { what: 'one stored record' });
  const [record] = collector.decrypt();
  assert.equal(record.values.satisfaction, 5);
  for (const hidden of ['problems', 'details', 'photo']) {
    assert.equal(hidden in record.values, false, `${hidden} was sent: ${JSON.stringify(record.values)}`);
  }
  assert.equal(JSON.stringify(record).includes(other.split(' ')[2]), false);
  assert.equal(submissions(browser).length, 1);
  assert.deepEqual(leaks(browser.requests, [details, other]), []);
});

/** Walks to the problems page, ticks delivery and shows the photo field. */
async function toPhoto(survey) {
  await survey.choose('channel', 'online');
  await survey.choose('satisfaction', '1');
  await survey.next();
  await survey.option('problems', 0).check();
  await settles(() => survey.fieldShown('photo'), true, 'photo shown');
}

/** From the problems page to the end, submitted. */
async function finish(survey) {
  await survey.next();
  await survey.next();
  assert.equal(await survey.pageId(), 'prize-draw');
  await survey.submit();
  await survey.waitForState('sent');
}

test('an uploaded file is sealed in the browser and comes back byte for byte from decrypt --out', async (t) => {
  const { collector, browser, survey } = await visit(t);
  await toPhoto(survey);
  const png = randomPng();
  await survey.field('photo').setInputFiles({
    name: 'broken parcel.png',
    mimeType: 'image/png',
    buffer: png,
  });
  await finish(survey);
  await eventually(() => collector.count() === 1, { what: 'one stored record' });

  const out = mkdtempSync(path.join(tmpdir(), 'formseal-e2e-out-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const dir = path.join(out, 'opened');
  execFileSync(formsealBin, ['decrypt', '--db', collector.db, '--key', testKey.privatePem, '--out', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const records = readFileSync(path.join(dir, 'records.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  assert.equal(records.length, 1);
  const photo = records[0].values.photo;
  assert.equal(photo.type, 'image/png');
  assert.equal(photo.size, png.length);
  assert.equal(photo.data, undefined, 'the bytes are in the file, not the record');
  const saved = readFileSync(path.join(dir, photo.saved_as));
  assert.ok(saved.equals(png), 'the file decrypted is the file uploaded');

  // The file's bytes never left the page in any spelling.
  assert.equal(submissions(browser).length, 1);
  assert.deepEqual(byteLeaks(browser.requests, png), []);
});

test('an oversized file is refused with a visible message before anything is sent', async (t) => {
  const { collector, browser, survey } = await visit(t);
  await toPhoto(survey);
  const before = browser.requests.length;
  // One byte over the example's 2 MiB limit, starting like a PNG.
  const big = Buffer.concat([randomPng(2), randomBytes(2 * 1024 * 1024 + 1)]);
  await survey.field('photo').setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: big });
  await eventually(async () => /too large/i.test(await survey.error('photo').innerText()), {
    what: 'the "too large" message under the photo field',
  });
  assert.equal(await survey.error('photo').isVisible(), true);
  assert.equal(await survey.field('photo').getAttribute('aria-invalid'), 'true');
  assert.deepEqual(
    browser.requests.slice(before).map((r) => `${r.method} ${r.url}`),
    [],
    'nothing was requested after the file was chosen',
  );
  assert.equal(submissions(browser).length, 0);

  // The survey still goes through, without the refused file.
  await finish(survey);
  await eventually(() => collector.count() === 1, { what: 'one stored record' });
  const [record] = collector.decrypt();
  assert.equal('photo' in record.values, false);
  assert.deepEqual(record.values.problems, ['delivery']);
  assert.deepEqual(byteLeaks(browser.requests, big), []);
});

/** Answers the survey the short way and enters the prize draw with `email`. */
async function enterDraw(survey, email) {
  await survey.choose('channel', 'online');
  await survey.choose('satisfaction', '4');
  await survey.choose('recommend', '9');
  await survey.next();
  assert.equal(await survey.pageId(), 'priorities');
  await survey.next();
  await settles(() => survey.fieldShown('draw_email'), false, 'draw_email shown');
  await survey.field('draw_consent').check();
  await settles(() => survey.fieldShown('draw_email'), true, 'draw_email shown');
  await survey.field('draw_email').fill(email);
  await survey.submit();
  await survey.waitForState('sent');
}

test('the prize draw: two records, the answers without the e-mail and under another subject', async (t) => {
  const { collector, browser, survey } = await visit(t);
  const local = `draw.${randomBytes(5).toString('hex')}`;
  await enterDraw(survey, `${local}@Example.NL`);
  await eventually(() => collector.count() === 2, { what: 'two stored records' });
  const kinds = byKind(collector.decrypt());
  assert.deepEqual(Object.keys(kinds).sort(), ['reward-entry', 'submission']);
  const [answers] = kinds.submission;
  const [reward] = kinds['reward-entry'];

  assert.equal(answers.values.satisfaction, 4);
  assert.equal(answers.values.recommend, 9);
  assert.deepEqual(Object.keys(answers.values).sort(), ['channel', 'recommend', 'satisfaction']);
  const answersText = JSON.stringify(answers).toLowerCase();
  assert.equal(answersText.includes(local), false, 'the answers carry the e-mail');
  assert.equal(answersText.includes('prize_draw'), false, 'the answers carry the reward consent');

  assert.equal(reward.values.draw_email, `${local}@example.nl`);
  assert.equal('satisfaction' in reward.values, false);
  assert.notEqual(answers.subject, reward.subject);
  assert.notEqual(answers.id, reward.id);
  // The reward is the visitor's (their subject id); the answers are not.
  const subject = await browser.page.evaluate(() => localStorage.getItem('formseal:subject'));
  assert.equal(reward.subject, subject);
  assert.equal(submissions(browser).length, 2);
  assert.deepEqual(leaks(browser.requests, [`${local}@example.nl`, local]), []);
});

test('an e-mail typed for the draw and then unticked is not sent, and no reward record is made', async (t) => {
  const { collector, browser, survey } = await visit(t);
  await survey.choose('channel', 'online');
  await survey.choose('satisfaction', '3');
  await survey.next();
  await survey.next();
  assert.equal(await survey.pageId(), 'prize-draw');
  // Ticked without an e-mail: the now required address is asked for, nothing is sent.
  await survey.field('draw_consent').check();
  await survey.submit();
  await eventually(async () => (await survey.error('draw_email').innerText()) !== '', {
    what: 'the error under the e-mail',
  });
  assert.equal(submissions(browser).length, 0);
  const local = `changed.${randomBytes(5).toString('hex')}`;
  await survey.field('draw_email').fill(`${local}@example.nl`);
  await survey.field('draw_consent').uncheck();
  await settles(() => survey.fieldShown('draw_email'), false, 'draw_email shown');
  await survey.submitButton.click();
  await survey.waitForState('sent');
  await eventually(() => collector.count() === 1, { what: 'one stored record' });
  const records = collector.decrypt();
  assert.deepEqual(records.map((r) => r.kind), ['submission']);
  assert.equal(JSON.stringify(records).includes(local), false);
  assert.equal(submissions(browser).length, 1);
  assert.deepEqual(leaks(browser.requests, [`${local}@example.nl`, local]), []);
});

/** The focused element inside the widget: id, class, aria-label, type. */
function focused(page) {
  return page.evaluate(() => {
    let active = document.activeElement;
    while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
    return {
      id: active?.id ?? '',
      className: typeof active?.className === 'string' ? active.className : '',
      label: active?.getAttribute?.('aria-label') ?? '',
      type: active?.type ?? '',
      tag: active?.tagName?.toLowerCase() ?? '',
    };
  });
}

/** Presses Tab (or `key`, e.g. Shift+Tab) until `want(focused)` holds, at most 60 times. */
async function tabTo(page, want, what, key = 'Tab') {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press(key);
    const now = await focused(page);
    if (want(now)) return now;
  }
  throw new Error(`Tab never reached ${what}`);
}

/** axe-core's violations on the page as it is now. */
async function axeViolations(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) {
    await page.addScriptTag({ path: path.join(root, 'node_modules/axe-core/axe.min.js') });
  }
  return page.evaluate(async () => {
    const result = await window.axe.run(document);
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
}

test('keyboard only through every page to a stored record, axe clean on each page', async (t) => {
  const { collector, browser, survey } = await visit(t, { browserOptions: { bypassCSP: true } });
  const page = browser.page;
  const id = (field) => `fs-satisfaction-${field}`;
  const pressNext = async (to) => {
    await tabTo(page, (f) => f.className.includes('fs-next'), 'Next');
    await page.keyboard.press('Enter');
    await eventually(async () => (await survey.pageId()) === to, { what: `page ${to}` });
    // The widget moves focus to the new page's heading once it is shown.
    await eventually(async () => (await focused(page)).className === 'fs-page-title', {
      what: `focus on the title of page ${to}`,
    });
    assert.deepEqual(await axeViolations(page), [], `axe on page ${to}`);
  };

  assert.deepEqual(await axeViolations(page), [], 'axe on page experience');
  // Radios: Tab into the group, Space ticks the focused one, arrows move the choice.
  await tabTo(page, (f) => f.id === id('channel-0'), 'the channel');
  await page.keyboard.press('Space');
  await page.keyboard.press('ArrowRight');
  assert.equal(await survey.choice('channel', 'store').isChecked(), true);
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).id, id('satisfaction-0'));
  await page.keyboard.press('Space');
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
  assert.equal(await survey.choice('satisfaction', '4').isChecked(), true);
  await pressNext('store');

  // The matrix: one radio group per statement.
  for (const row of [0, 1, 2]) {
    await tabTo(page, (f) => f.id === id(`store_visit-${row}-0`), `matrix row ${row}`);
    await page.keyboard.press('Space');
    await page.keyboard.press('ArrowRight');
  }
  await pressNext('priorities');

  // The ranking, by its buttons: Low prices down two places, then Friendly service up one.
  const rankingIs = (order) =>
    eventually(
      async () => JSON.stringify(await survey.ranking('priorities')) === JSON.stringify(order),
      { what: `the ranking ${order.join(', ')}` },
    );
  await tabTo(page, (f) => f.label === 'Move down: Low prices', 'Move down: Low prices');
  await page.keyboard.press('Enter');
  await rankingIs(['quality', 'price', 'speed', 'service']);
  // Focus goes with the moved option, so pressing again moves it further.
  const focusOn = (label) =>
    eventually(async () => (await focused(page)).label === label, { what: `focus on ${label}` });
  await focusOn('Move down: Low prices');
  await page.keyboard.press('Enter');
  await rankingIs(['quality', 'speed', 'price', 'service']);
  await focusOn('Move down: Low prices');
  // At the end of the list its Move down is disabled: focus moves to its Move up.
  await page.keyboard.press('Enter');
  await focusOn('Move up: Low prices');
  await rankingIs(['quality', 'speed', 'service', 'price']);
  await tabTo(
    page,
    (f) => f.label === 'Move up: Friendly service',
    'Move up: Friendly service',
    'Shift+Tab',
  );
  await page.keyboard.press('Enter');
  await rankingIs(['quality', 'service', 'speed', 'price']);
  await pressNext('prize-draw');

  await tabTo(page, (f) => f.id === id('draw_consent'), 'the draw consent box');
  await page.keyboard.press('Space');
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).id, id('draw_email'));
  await page.keyboard.type('Keys.Only@Example.NL');
  assert.deepEqual(await axeViolations(page), [], 'axe on page prize-draw with the e-mail shown');
  await tabTo(page, (f) => f.className.includes('fs-submit'), 'Submit');
  await survey.humanPause();
  await page.keyboard.press('Enter');
  await survey.waitForState('sent');

  await eventually(() => collector.count() === 2, { what: 'two stored records' });
  const kinds = byKind(collector.decrypt());
  const [answers] = kinds.submission;
  assert.deepEqual(answers.values, {
    channel: 'store',
    satisfaction: 4,
    store_visit: { staff: '2', clean: '2', queue: '2' },
    priorities: ['quality', 'service', 'speed', 'price'],
  });
  assert.equal(kinds['reward-entry'][0].values.draw_email, 'keys.only@example.nl');
});

test('axe reports no violations on a survey page showing its errors, nor on the request page', async (t) => {
  const { collector, browser, survey } = await visit(t, { browserOptions: { bypassCSP: true } });
  await survey.nextButton.click();
  await eventually(async () => (await survey.error('satisfaction').innerText()) !== '', {
    what: 'the errors of the first page',
  });
  assert.deepEqual(await axeViolations(browser.page), [], 'axe on the first page with its errors');
  const request = new SurveyPage(browser.page, { formId: 'privacy-request' });
  await request.open(`${collector.url}privacy.html`);
  assert.deepEqual(await axeViolations(browser.page), [], 'axe on the access-request page');
});

test('an access request carries the subject id, and subject --export returns exactly its records', async (t) => {
  const { collector, browser, survey } = await visit(t);
  // The visitor took the survey with the prize draw first (the answers are anonymous, the
  // reward entry is theirs) ...
  await enterDraw(survey, `first.${randomBytes(4).toString('hex')}@example.nl`);
  await eventually(() => collector.count() === 2, { what: 'the survey records' });

  // ... then asks what is held about them.
  const request = new SurveyPage(browser.page, { formId: 'privacy-request' });
  await request.open(`${collector.url}privacy.html`);
  const email = `asker.${randomBytes(4).toString('hex')}@example.nl`;
  await request.field('email').fill(email);
  await request.field('name').fill('Ada Asker');
  await request.submit();
  await request.waitForState('sent');
  const subject = await browser.page.evaluate(() => localStorage.getItem('formseal:subject'));
  assert.match(subject ?? '', /^[A-Za-z0-9_-]{16,}$/);

  // Another visitor's request, which must stay out of the export.
  const other = await openBrowser();
  t.after(() => other.close());
  const otherRequest = new SurveyPage(other.page, { formId: 'privacy-request' });
  await otherRequest.open(`${collector.url}privacy.html`);
  await otherRequest.field('email').fill(`other.${randomBytes(4).toString('hex')}@example.nl`);
  await otherRequest.submit();
  await otherRequest.waitForState('sent');
  await eventually(() => collector.count() === 4, { what: 'four stored records' });

  const records = collector.decrypt();
  const asked = records.filter((r) => r.kind === 'access-request' && r.subject === subject);
  assert.equal(asked.length, 1);
  assert.equal(asked[0].values.email, email);
  assert.equal(asked[0].form, 'privacy-request');
  const theirs = records.filter((r) => r.subject === subject);
  assert.deepEqual(theirs.map((r) => r.kind).sort(), ['access-request', 'reward-entry']);

  // Both requests are open until answered.
  const open = () => cli(['requests', '--db', collector.db, '--key', testKey.privatePem]);
  const before = open();
  assert.deepEqual(before.map((r) => r.kind), ['access-request', 'access-request']);
  assert.ok(before.some((r) => r.subject === subject));

  const out = mkdtempSync(path.join(tmpdir(), 'formseal-e2e-subject-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const file = path.join(out, 'subject.json');
  // A subject id is base64url and starts with `-` one time in 64: after `--`, so clap does not
  // take it for an option.
  cli(['subject', '--db', collector.db, '--key', testKey.privatePem, '--export', file, '--', subject]);
  const exported = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(exported.subject, subject);
  assert.deepEqual(
    exported.records.map((r) => r.envelope.id).sort(),
    theirs.map((r) => r.id).sort(),
  );
  assert.ok(exported.records.every((r) => r.envelope.subject === subject));

  // Answered: only the other visitor's request is still open.
  const after = open();
  assert.equal(after.length, 1);
  assert.notEqual(after[0].subject, subject);
});

/** Runs the formseal CLI; its stdout as JSON lines. */
function cli(args) {
  const out = execFileSync(formsealBin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line));
}

test('an erasure request, answered by erase --subject, leaves none of its records and an audit entry', async (t) => {
  const { collector, browser, survey } = await visit(t);
  await enterDraw(survey, `gone.${randomBytes(4).toString('hex')}@example.nl`);
  const request = new SurveyPage(browser.page, { formId: 'erasure-request' });
  await request.open(`${collector.url}erasure.html`);
  await request.field('email').fill(`gone.${randomBytes(4).toString('hex')}@example.nl`);
  await request.submit();
  await request.waitForState('sent');
  const subject = await browser.page.evaluate(() => localStorage.getItem('formseal:subject'));

  // Another visitor who stays.
  const other = await openBrowser();
  t.after(() => other.close());
  const otherSurvey = new SurveyPage(other.page);
  await otherSurvey.open(`${collector.url}survey.html`);
  await enterDraw(otherSurvey, `stays.${randomBytes(4).toString('hex')}@example.nl`);
  await eventually(() => collector.count() === 5, { what: 'five stored records' });

  const records = collector.decrypt();
  const theirs = records.filter((r) => r.subject === subject);
  assert.deepEqual(theirs.map((r) => r.kind).sort(), ['erasure-request', 'reward-entry']);
  const open = cli(['requests', '--db', collector.db, '--key', testKey.privatePem]);
  assert.deepEqual(open.map((r) => [r.kind, r.subject]), [['erasure-request', subject]]);

  // `--subject=ID`: an id may start with `-` (see the access request above).
  cli(['erase', `--subject=${subject}`, '--db', collector.db, '--key', testKey.privatePem]);
  const left = collector.decrypt();
  assert.deepEqual(left.filter((r) => r.subject === subject), []);
  assert.deepEqual(
    left.map((r) => r.id).sort(),
    records.filter((r) => r.subject !== subject).map((r) => r.id).sort(),
    'only that subject\'s records are gone',
  );
  assert.deepEqual(cli(['requests', '--db', collector.db, '--key', testKey.privatePem]), []);

  // The audit log names the erasure by a hash of the subject id, never the id itself.
  const audit = cli(['audit', '--db', collector.db]);
  const tag = `subject sha256:${createHash('sha256').update(subject).digest('base64url')}`;
  const erasures = audit.filter((line) => line.action === 'erase');
  assert.equal(erasures.length, 1);
  assert.ok(erasures[0].detail.includes(tag), erasures[0].detail);
  assert.equal(JSON.stringify(audit).includes(subject), false);
});
