// worker_phone.cjs: the worker page on a phone, in a real browser (Debian's chromium,
// headless, driven by playwright-core). Started by tests/test_worker_browser.sh, which runs
// katto and makes the worker; this files two callback requests the way callback.c stores
// them (sealed with the key the server derives from its secret), then as a worker on a
// 360 px touch screen: signs in, claims one, sees its number, closes it as reached, and
// sees it gone. Every page must fit the width (no sideways scrolling). Screenshots go to
// $KATTO_TEST_ARTIFACTS. Exit 0: passed; 1: failed; 77: chromium cannot start here.
'use strict';

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`worker_phone: ${name} is not set (run tests/test_worker_browser.sh)`);
    process.exit(2);
  }
  return v;
}

const base = need('KATTO_URL');
const token = need('KATTO_WORKER_TOKEN');
const dbPath = need('KATTO_DB');
const secretPath = need('KATTO_SECRET_FILE');
const artifacts = need('KATTO_TEST_ARTIFACTS');
const chromiumPath = need('CHROMIUM');
const { chromium } = require(need('KATTO_PLAYWRIGHT'));

const NUMBER = '+358401234567';
const WIDTH = 360;

// AES-256-GCM as crypto.c seals: nonce | ciphertext | tag, the column name as associated data.
function seal(key, plain, aad) {
  const nonce = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(aad));
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]).toString('hex');
}

function sql(statement) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', dbPath, statement], {
    encoding: 'utf8',
  }).trim();
}

// Two requests of the Helsinki team: K-4821 (to call) and K-3907 (its window has passed).
function fileRequests() {
  const secret = Buffer.from(fs.readFileSync(secretPath, 'utf8').trim(), 'hex');
  // HKDF-SHA256, empty salt, the purpose as info: crypto_derive_key().
  const key = Buffer.from(
    crypto.hkdfSync('sha256', secret, Buffer.alloc(0), 'number-encryption', 32));
  const now = Math.floor(Date.now() / 1000);
  const row = (ref, contact, number, topic, created, due) =>
    `INSERT INTO callback_requests (ref, team, city, lang, time_window, contact_key, ` +
    `number_enc, topic_enc, notify_sender, created_at, due_at, notified, purge_at) VALUES ` +
    `('${ref}', 'hel-outreach', 'Helsinki', 'fi', 'now', '${contact}', ` +
    `X'${seal(key, number, 'callback_requests.number_enc')}', ` +
    `X'${seal(key, topic, 'callback_requests.topic_enc')}', 0, ${created}, ${due}, 1, ` +
    `${now + 14 * 86400});`;
  sql(row('K-3907', 'c0ffee02', '+358407654321', 'debt', now - 7200, now - 600) +
      row('K-4821', 'c0ffee01', NUMBER, 'eviction', now - 300, now + 7200));
}

async function fitsTheScreen(page, what) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= WIDTH, `${what}: ${width} px wide, more than ${WIDTH}: sideways scrolling`);
}

// Taps a button and waits for the page the form leads to.
async function tapAndLoad(page, button) {
  await Promise.all([page.waitForNavigation(), button.tap()]);
}

async function run(browser) {
  const context = await browser.newContext({
    viewport: { width: WIDTH, height: 740 },
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 2,
  });
  const page = await context.newPage();

  // Signed out: only the sign-in form.
  await page.goto(`${base}/worker`);
  assert.equal(await page.locator('input[name=token]').count(), 1);
  assert.equal(await page.getByText('K-4821').count(), 0);
  assert.equal(await page.locator('script').count(), 0, 'the page runs no JavaScript');
  await fitsTheScreen(page, 'sign-in page');
  await page.screenshot({ path: path.join(artifacts, 'worker-phone-sign-in.png') });

  await page.locator('input[name=token]').fill(token);
  await tapAndLoad(page, page.getByRole('button', { name: /Kirjaudu sisään/ }));
  const request = page.locator('article', { hasText: 'K-4821' });
  assert.equal(await request.count(), 1, 'signed in, the request is listed');
  assert.match(await request.innerText(), /eviction/);
  assert.doesNotMatch(await page.content(), /401234567/, 'the list never shows a number');
  assert.equal(await page.locator('article.overdue', { hasText: 'K-3907' }).count(), 1,
    'a request past its window is highlighted');
  const cookies = await context.cookies();
  assert.ok(cookies.some((c) => c.name === 'katto_worker' && c.httpOnly &&
    c.sameSite === 'Strict'), 'the session cookie is HttpOnly and SameSite=Strict');

  // Claim: large enough to tap.
  const claim = request.getByRole('button', { name: /Otan tämän/ });
  const box = await claim.boundingBox();
  assert.ok(box.height >= 48 && box.width >= 200, `claim button is ${box.width}x${box.height}`);
  await tapAndLoad(page, claim);
  assert.match(await request.innerText(), /Sinun/);
  await fitsTheScreen(page, 'list');
  await page.screenshot({ path: path.join(artifacts, 'worker-phone.png'), fullPage: true });

  // The number, as a link that calls it.
  await tapAndLoad(page, request.getByRole('button', { name: /Näytä numero/ }));
  const call = page.locator('a.call');
  assert.equal((await call.innerText()).trim(), NUMBER);
  assert.equal(await call.getAttribute('href'), `tel:${NUMBER}`);
  await fitsTheScreen(page, 'number page');
  await page.screenshot({ path: path.join(artifacts, 'worker-phone-number.png'), fullPage: true });

  // Close as reached: no outcome is chosen beforehand, so one stray tap closes nothing.
  const outcome = page.locator('select[name=outcome]');
  assert.equal(await outcome.evaluate((el) => el.checkValidity()), false);
  await outcome.selectOption('reached');
  // The request is gone, the other one stays.
  await tapAndLoad(page, page.getByRole('button', { name: /Sulje ja poista numero/ }));
  assert.equal(await page.locator('article', { hasText: 'K-4821' }).count(), 0);
  assert.equal(await page.locator('article', { hasText: 'K-3907' }).count(), 1);
  await fitsTheScreen(page, 'list after closing');
  assert.equal(sql("SELECT outcome || ',' || (number_enc IS NULL) || ',' || topic FROM " +
    "callback_requests WHERE ref = 'K-4821'"), 'reached,1,eviction');
  await context.close();
}

async function main() {
  fs.mkdirSync(artifacts, { recursive: true });
  fileRequests();
  let browser;
  try {
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true });
  } catch (e) {
    console.error(`worker_phone: SKIP: chromium cannot start here: ${e.message.split('\n')[0]}`);
    process.exit(77);
  }
  try {
    await run(browser);
  } finally {
    await browser.close();
  }
  console.log(`worker_phone: ok, screenshots in ${artifacts}`);
}

main().catch((e) => {
  console.error(`worker_phone: FAILED: ${e.stack || e}`);
  process.exit(1);
});
