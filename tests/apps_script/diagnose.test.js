'use strict';
/* global window, document */
// "Test connection" in the add-in: the request it makes, the checklist it shows (rendered in headless
// Chromium), and what it says when the function is never reached or Cloud Run refuses the call first.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { scenario, visible } = require('./addin');

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'];

const CHECKLIST = {
  ok: false,
  checks: [
    { name: 'Sign-in', ok: true, detail: 'Accepted: dana@example.com, audience 1234.apps.googleusercontent.com.', fix: '' },
    { name: 'Google Sheets', ok: false, detail: 'The Sheets API is not enabled in the script\'s Cloud project.',
      fix: 'Enable it: Google Cloud console, the project of the add-in\'s script, APIs & Services > Library > Google Sheets API > Enable.' },
    { name: 'CallMarker token', ok: true, detail: 'Configured (from Secret Manager).', fix: '' },
    { name: 'Function version', ok: true, detail: 'callmarker-sheets 0.1.0, Cloud Run revision callmarker-upload-00007-xaw', fix: '' },
  ],
};

let browser;
let userDataDir;

test.before(async () => {
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'callmarker-chromium-'));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 520, height: 460 },
  });
});

test.after(async () => {
  if (browser) await browser.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
});

/** Runs "Test connection" against the given answers; the dialog it opened, rendered, as a user reads it. */
async function testConnection(options, expectedTitle = 'CallMarker: test connection') {
  const { user, addIn } = scenario(options);
  addIn.testConnection();
  assert.equal(user.log.dialogs.length, 1);
  const { output, title, modal } = user.log.dialogs[0];
  assert.equal(title, expectedTitle);
  assert.equal(modal, true);
  const page = await browser.newPage();
  await page.setContent(output.getContent());
  // google.script.host, as the dialog's frame has it
  await page.evaluate(() => { window.google = { script: { host: { close: () => { window.closedByHost = true; } } } }; });
  const lines = (await page.$$eval('#checks li', (items) => items.map((li) => ({
    state: li.className,
    text: [...li.children].map((c) => c.textContent),
  })))).map((line) => ({ ...line, text: line.text.map(visible) }));
  const summary = await page.textContent('#summary');
  const direction = await page.evaluate(() => document.documentElement.dir);
  const close = await page.textContent('#close');
  await page.click('#close');
  const closed = await page.evaluate(() => window.closedByHost === true);
  await page.close();
  return { user, lines, summary, closed, direction, close };
}

test('the request: the diagnose action for this spreadsheet and sheet, with the ID token for Cloud Run and the function', async () => {
  const { user } = await testConnection({ answers: [{ status: 200, json: CHECKLIST }] });
  const [request] = user.log.requests;
  assert.equal(request.method, 'POST');
  assert.deepEqual(request.json, { action: 'diagnose', spreadsheet_id: 'sheet-abc123', sheet_id: 1204, lang: 'en' });
  assert.equal(request.headers.Authorization, `Bearer ${user.idToken()}`);
  assert.equal(request.headers['X-Serverless-Authorization'], `Bearer ${user.idToken()}`);
  assert.equal(request.headers['X-Sheets-Token'], user.oauthToken);
});

test('the checklist: each line marked, a failed line with its fix, and a summary', async () => {
  const { lines, summary, closed } = await testConnection({ answers: [{ status: 200, json: CHECKLIST }] });
  assert.deepEqual(lines.map((l) => l.state), ['ok', 'ok', 'failed', 'ok', 'ok']);
  assert.deepEqual(lines[0].text.slice(0, 2), ['✓', 'Function address']);
  assert.deepEqual(lines[2].text, ['✗', 'Google Sheets', 'The Sheets API is not enabled in the script\'s Cloud project.',
    'Fix: Enable it: Google Cloud console, the project of the add-in\'s script, APIs & Services > Library > Google Sheets API > Enable.']);
  assert.equal(lines[1].text.length, 3, 'a line that passed shows no fix');
  assert.equal(summary, '1 line needs attention.');
  assert.ok(closed, 'Close closes the dialog');
});

test('lines are text: markup from the answer is shown, not run, and cannot end the script early', async () => {
  const evil = { checks: [{ name: '</script><script>window.pwned = 1</script>', ok: null, detail: '<b>bold</b>', fix: 'x' }] };
  const { lines, summary } = await testConnection({ answers: [{ status: 200, json: evil }] });
  assert.deepEqual(lines[1].text, ['–', '</script><script>window.pwned = 1</script>', '<b>bold</b>', 'Fix: x']);
  assert.equal(lines[1].state, 'skipped');
  assert.equal(summary, 'Everything the add-in needs is in order.');
});

test('Cloud Run refusing the account first (its HTML 403) says to ask for the invoker role', async () => {
  const { lines } = await testConnection({ answers: [{ status: 403, headers: { 'Content-Type': 'text/html' }, body: '<html>403</html>' }] });
  assert.equal(lines[1].state, 'failed');
  assert.match(lines[1].text[2], /refused with HTTP 403 before the function could answer/);
  assert.match(lines[1].text[3], /Cloud Run Invoker role/);
});

test('Cloud Run refusing the token (401) says to add the client id as a custom audience', async () => {
  const { lines } = await testConnection({ answers: [{ status: 401, body: '<html>401</html>' }] });
  assert.match(lines[1].text[3], /--audiences .*custom audience/);
});

test('no function address, or no answer at all: one failed line that says what to do', async () => {
  const unset = await testConnection({ config: { functionUrl: '' } });
  assert.deepEqual(unset.lines.map((l) => l.state), ['failed']);
  assert.match(unset.lines[0].text[3], /deploy\/apps_script\.sh --function-url/);
  assert.equal(unset.user.log.requests.length, 0);

  const down = await testConnection({ handler: () => { throw new Error('DNS error'); } });
  assert.equal(down.lines[0].state, 'failed');
  assert.match(down.lines[0].text[2], /^No answer from https:/);
});

test('in Hebrew: the dialog reads right to left, its own lines and words in Hebrew, the function\'s lines set apart', async () => {
  const hebrew = await testConnection({ locale: 'iw', answers: [{ status: 200, json: CHECKLIST }] }, 'CallMarker: בדיקת חיבור');
  assert.equal(hebrew.user.log.requests[0].json.lang, 'he');
  assert.equal(hebrew.direction, 'rtl');
  assert.equal(hebrew.close, 'סגירה');
  assert.equal(hebrew.summary, 'שורה אחת דורשת טיפול.');
  assert.deepEqual(hebrew.lines[0].text.slice(0, 2), ['✓', 'כתובת הפונקציה']);
  assert.match(hebrew.lines[2].text[3], /^תיקון: Enable it: /);

  const refused = await testConnection({ locale: 'iw', answers: [{ status: 403, body: '<html>403</html>' }] }, 'CallMarker: בדיקת חיבור');
  assert.equal(refused.lines[1].text[1], 'הגעה לפונקציה');
  assert.match(refused.lines[1].text[2], /^הקריאה נדחתה עם HTTP 403 לפני שהפונקציה יכלה לענות\. Cloud Run אומר ש-/);
  assert.match(refused.lines[1].text[3], /Cloud Run Invoker/);
});
