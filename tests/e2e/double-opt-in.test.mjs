// Double opt-in end to end, with a real SMTP server on 127.0.0.1 (nodemailer's `smtp-server`):
// a visitor signs up on a Dutch page → `formseal confirm` mails the address a Dutch link to the
// collector → opening the link confirms nothing, its button does → `decrypt` and `export` show
// the record confirmed → a second `confirm` sends nothing. Neither the store nor the collector's
// log ever holds the address or the token.

import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import { SMTPServer } from 'smtp-server';

import { openBrowser } from './fixtures/browser.mjs';
import { eventually, startCollector, testForm } from './fixtures/collector.mjs';
import { FormPage } from './fixtures/form-page.mjs';
import { fillNewsletter, randomAnswers } from './fixtures/newsletter.mjs';
import { formsealBin, testKey } from './fixtures/paths.mjs';

let collector;
let browser;
let smtp;
const mails = [];
/** What the SMTP server refuses for good (550): every sender, or these recipients. */
const refuse = { sender: false, recipients: new Set() };

/** An SMTP server on a free loopback port that keeps every mail it takes, raw. */
async function startSmtp() {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onMailFrom(address, session, callback) {
      callback(refuse.sender ? Object.assign(new Error('sender refused'), { responseCode: 550 }) : null);
    },
    onRcptTo(address, session, callback) {
      const refused = refuse.recipients.has(address.address);
      callback(refused ? Object.assign(new Error('no such mailbox'), { responseCode: 550 }) : null);
    },
    onData(stream, session, callback) {
      const chunks = [];
      stream.on('data', (chunk) => chunks.push(chunk));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** The headers (lower-cased names) and the decoded text body of a simple one-part mail. */
function parseMail(raw) {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = rest.join('\n\n');
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  if (encoding === 'quoted-printable') {
    body = Buffer.from(
      body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex) => String.fromCharCode(parseInt(hex, 16))),
      'latin1',
    ).toString('utf8');
  } else if (encoding === 'base64') {
    body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  return { headers, body };
}

/** An encoded-word subject (`=?utf-8?b?...?=` or `?q?`), decoded. */
function decodeSubject(subject) {
  return subject.replace(/=\?utf-8\?([bq])\?([^?]*)\?=\s*/gi, (_, kind, text) =>
    kind.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(
          text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (__, h) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8'),
  );
}

/**
 * `formseal confirm` on the collector's store, printing how many it mailed. Run asynchronously:
 * the SMTP server lives in this very process and must go on answering meanwhile.
 */
async function confirm(...extra) {
  const { stdout } = await promisify(execFile)(
    formsealBin,
    [
      'confirm',
      '--db',
      collector.db,
      '--key',
      testKey.privatePem,
      '--form',
      path.join(collector.dir, 'form-0-newsletter.json'),
      '--smtp',
      `smtp://127.0.0.1:${smtp.server.address().port}`,
      '--from',
      'Shop <news@shop.example>',
      '--collector',
      collector.url,
      '--actor',
      'e2e',
      ...extra,
    ],
    { encoding: 'utf8' },
  );
  return stdout.trim();
}

before(async () => {
  smtp = await startSmtp();
  const form = testForm((f) => {
    f.purposes[0].double_opt_in = true;
    f.purposes[0].confirm_within_days = 7;
    return f;
  });
  collector = await startCollector({ forms: [form], pages: { 'nl.html': { lang: 'nl' } } });
  browser = await openBrowser();
});
after(async () => {
  await browser?.close();
  await collector?.stop();
  await new Promise((resolve) => (smtp ? smtp.close(resolve) : resolve()));
});

test('a sign-up is mailed once in its language and confirmed by the click, not the link', async () => {
  const answers = randomAnswers();
  const address = answers.email.trim().toLowerCase();
  const form = new FormPage(browser.page);
  await form.open(`${collector.url}nl.html`);
  await fillNewsletter(form, answers);
  await form.submit();
  await form.waitForState('sent');
  await eventually(() => collector.count() === 1, { what: 'one stored record' });

  const [signup] = collector.decrypt();
  assert.equal(signup.confirm.lang, 'nl');
  assert.match(signup.confirm.token, /^[\w-]{22}$/);
  assert.equal(signup.confirmed, false, 'not confirmed before anyone clicked');
  const token = signup.confirm.token;

  assert.equal(await confirm('--dry-run'), '1', 'a dry run counts the one sign-up');
  assert.equal(mails.length, 0, 'a dry run sends nothing');
  assert.equal(await confirm(), '1');
  assert.equal(mails.length, 1);
  const [mail] = mails;
  assert.deepEqual(mail.to, [address]);
  assert.equal(mail.from, 'news@shop.example');
  const { headers, body } = parseMail(mail.raw);
  assert.equal(decodeSubject(headers.subject), 'Bevestig je aanmelding: Blijf op de hoogte');
  assert.match(body, /heeft zich met dit e-mailadres aangemeld voor "Blijf op de hoogte"/);
  const link = `${collector.url}v1/confirm/${token}?lang=nl`;
  assert.ok(body.includes(link), `the mail links to ${link}:\n${body}`);

  // What a mail scanner does: open the link. That confirms nothing.
  const page = browser.page;
  await page.goto(link);
  assert.equal(await page.locator('html').getAttribute('lang'), 'nl');
  assert.equal(await page.locator('h1').textContent(), 'Bevestig je aanmelding');
  assert.equal(collector.decrypt()[0].confirmed, false, 'opening the link confirms nothing');

  await page.getByRole('button', { name: 'Ja, bevestigen' }).click();
  await page.getByText('je aanmelding is bevestigd').waitFor();
  const [confirmed] = collector.decrypt();
  assert.match(confirmed.confirmed, /^\d{4}-\d\d-\d\dT\d\d:00:00Z$/, 'confirmed, to the hour');

  const csv = execFileSync(
    formsealBin,
    ['export', '--format', 'csv', '--key', testKey.privatePem, '--db', collector.db],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const [header, row] = csv.trim().split(/\r?\n/);
  const column = header.split(',').indexOf('confirmed');
  assert.ok(column > 0, header);
  assert.equal(row.split(',')[column], confirmed.confirmed);

  // Every later run finds nothing new to send.
  assert.equal(await confirm(), '0');
  assert.equal(mails.length, 1, 'a record is never mailed twice');

  const log = collector.log();
  assert.ok(log.includes('/v1/confirm/'), 'the collector logged the click');
  const store = ['', '-wal', '-shm']
    .map((suffix) => collector.db + suffix)
    .filter(existsSync)
    .map((file) => readFileSync(file).toString('latin1'))
    .join('');
  for (const [what, secret] of [
    ['address', address],
    ['token', token],
  ]) {
    assert.ok(!log.includes(secret), `the collector's log holds the ${what}`);
    assert.ok(!store.includes(secret), `the store holds the ${what}`);
  }
  const audit = execFileSync(formsealBin, ['audit', '--db', collector.db], { encoding: 'utf8' });
  const confirms = audit
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    .filter((line) => line.action === 'confirm');
  assert.deepEqual(
    confirms.map((line) => [line.actor, line.records]),
    [
      ['e2e', 1],
      ['e2e', 0],
    ],
  );
});

test('a server that refuses the sender keeps every sign-up; a refused address is not tried again', async () => {
  const addresses = [];
  for (let i = 0; i < 3; i += 1) {
    const answers = randomAnswers();
    addresses.push(answers.email.trim().toLowerCase());
    const form = new FormPage(browser.page);
    await form.open(`${collector.url}en.html`);
    await fillNewsletter(form, answers);
    await form.submit();
    await form.waitForState('sent');
  }
  await eventually(() => collector.count() === 4, { what: 'three more records' });
  const before = mails.length;

  refuse.sender = true;
  await assert.rejects(confirm(), (err) => {
    assert.match(err.stderr, /refused 3 mails in a row for good/);
    return true;
  });
  refuse.sender = false;
  assert.equal(mails.length, before, 'nothing went out');
  assert.equal(await confirm('--dry-run'), '3', 'all three are still to mail');

  refuse.recipients.add(addresses[0]);
  assert.equal(await confirm(), '2');
  assert.deepEqual(
    mails.slice(before).map((mail) => mail.to[0]).sort(),
    addresses.slice(1).sort(),
  );
  assert.equal(await confirm('--dry-run'), '0', 'the refused address is not tried again');
});
