'use strict';
// The sidebar in headless Chromium: the page the add-in renders, with google.script.run calling the
// add-in's real server functions (loaded in a vm with the fakes) and scripted answers of the function,
// in English and in Hebrew (right to left). The README's pictures of the sidebar are taken here.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { scenario, answer, preview, failure, visible, leads } = require('./addin');
const { createClock } = require('./fakes');

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const IMAGES = path.resolve(__dirname, '..', '..', 'docs', 'img');
const SIDEBAR_SIZE = { width: 300, height: 720 };
const LEASE = 'callmarker.lease.1204';

// In the page before its own scripts: google.script.run as Apps Script shapes it, each call sent
// to Node by the exposed __callServer binding, its value or error handed to the handlers set.
const GOOGLE_SCRIPT_STUB = `(() => {
  const runner = (onSuccess, onFailure) => new Proxy({}, {
    get(_target, name) {
      if (name === 'withSuccessHandler') return (handler) => runner(handler, onFailure);
      if (name === 'withFailureHandler') return (handler) => runner(onSuccess, handler);
      if (name === 'withUserObject') return () => runner(onSuccess, onFailure);
      return (...args) => {
        window.__callServer(String(name), JSON.stringify(args)).then((outcome) => {
          if (outcome.ok) { if (onSuccess) onSuccess(JSON.parse(outcome.value)); }
          else if (onFailure) { onFailure(new Error(outcome.message)); }
        });
      };
    },
  });
  window.google = { script: { run: runner(null, null), host: { close() {} } } };
})();`;

let browser;
let userDataDir;
let pageServer;
const pages = new Map();

test.before(async () => {
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'callmarker-chromium-'));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: SIDEBAR_SIZE,
  });
  pageServer = http.createServer((request, response) => {
    const html = pages.get(request.url);
    response.writeHead(html ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    response.end(html || 'not found');
  });
  await new Promise((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
});

test.after(async () => {
  if (browser) {
    await browser.close();
  }
  if (pageServer) {
    await new Promise((resolve) => pageServer.close(resolve));
  }
  fs.rmSync(userDataDir, { recursive: true, force: true });
});

/**
 * Runs start(user, addIn) (a menu item that opens the sidebar), then loads that sidebar in a page.
 * onCall(name, nth, page) runs before each server call, and may wait: the page waits with it.
 * pageOf(user) says which page the menu item opened: the sidebar, unless told (a dialog).
 */
async function openSidebar({ scenarioOptions = {}, start, onCall, clock = false, pageOf = (user) => user.log.sidebars.at(-1).getContent() }) {
  const setup = scenario(scenarioOptions);
  start(setup.user, setup.addIn);
  const html = pageOf(setup.user);
  const page = await browser.newPage();
  if (clock) {
    await page.clock.install();
  }
  const calls = [];
  await page.exposeFunction('__callServer', async (name, argsJson) => {
    const args = JSON.parse(argsJson);
    calls.push({ name, args });
    if (onCall) {
      await onCall(name, calls.filter((c) => c.name === name).length, page, setup);
    }
    // As in Apps Script: only top-level functions whose names do not end in "_" can be called.
    if (name.endsWith('_') || typeof setup.addIn[name] !== 'function') {
      return { ok: false, message: `Script function not found: ${name}` };
    }
    try {
      const value = setup.addIn[name](...args);
      return { ok: true, value: JSON.stringify(value === undefined ? null : value) };
    } catch (error) {
      return { ok: false, message: `Error: ${error.message}` };
    }
  });
  await page.addInitScript(GOOGLE_SCRIPT_STUB);
  const address = `/sidebar-${pages.size}`;
  pages.set(address, html);
  const { port } = pageServer.address();
  await page.goto(`http://127.0.0.1:${port}${address}`);
  return { page, calls, ...setup };
}

/**
 * A picture for the docs, redrawn when asked (UPDATE_DOCS_IMAGES=1) or missing, so that a test run
 * leaves the working tree as it found it; either way the picture is taken and checked.
 */
async function picture(page, name, clip) {
  const redraw = process.env.UPDATE_DOCS_IMAGES === '1' || !fs.existsSync(path.join(IMAGES, name));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'callmarker-picture-'));
  const file = redraw ? path.join(IMAGES, name) : path.join(scratch, name);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await page.screenshot({ path: file, clip });
    assert.ok(fs.statSync(file).size > 1000, `${name} was drawn`);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** The height of the page's content, for a picture of all of it. */
async function contentHeight(page, selector) {
  return page.$eval(selector, (element) => Math.ceil(element.getBoundingClientRect().bottom + 12));
}

/** A job of 12,000 selected rows (it starts in the sidebar), answered in four steps of 3,000. */
function twelveThousandRows({ extraAnswers = [], hebrew = false } = {}) {
  const steps = [1, 2, 3, 4].map((step) => answer({
    done: step === 4,
    cursor: step === 4 ? null : `cursor ${step}/opaque+=`,
    total_rows: 12000,
    processed_rows: step * 3000,
    counts: { uploaded: step * 3000 - (step === 4 ? 3 : 0), invalid: step === 4 ? 2 : 0, failed: step === 4 ? 1 : 0 },
    errors: step === 4 ? [
      { row: 118, column: hebrew ? 'טלפון' : 'Phone', message: hebrew ? '"054-700" קצר מדי למספר טלפון' : 'not a phone number: 054-700' },
      { row: 2017, column: hebrew ? 'תאריך חזרה' : 'Follow-up date', message: hebrew ? '31-02-2025 אינו תאריך' : '31-02-2025 is not a date' },
    ] : [],
    retry_rows: step === 4 ? [[5000, 5000]] : [],
    message: step === 4 ? (hebrew ? 'הועלו 11,997 שורות; 3 דורשות טיפול.' : 'Uploaded 11,997 rows; 3 need attention.') : '',
    problem_rows_url: step === 4 ? 'https://docs.google.com/spreadsheets/d/sheet-abc123/edit#gid=1204&fvid=42' : null,
  }));
  const rows = leads(12000);
  if (hebrew) {
    rows[0] = ['שם', 'טלפון', 'מייל'];
  }
  return { rows, skipCardUpTo: 50000, locale: hebrew ? 'iw' : 'en', sheetName: hebrew ? 'לידים' : 'Leads', answers: [...steps, ...extraAnswers] };
}

const selectTwelveThousand = (user, addIn) => {
  user.select('A2:C12001');
  addIn.uploadSelectedRows();
};

test('settings: the saved ones are shown with who changed them, and a change is saved for the tab', async () => {
  const { page, document, user } = await openSidebar({
    start: (_user, addIn) => {
      addIn.saveSettings({ campaign: '11', campaign_name: 'Summer leads', agent_name: 'דנה', override: true, status: '12', batch_size: '250' });
      addIn.showSettings();
    },
  });
  assert.equal(visible(await page.textContent('#settings-title')), 'Settings for "Leads"');
  assert.match(visible(await page.textContent('#settings-changed')), /^Last changed by dana@example\.com, \d{4}-\d\d-\d\d \d\d:\d\d\.$/);
  assert.equal(await page.inputValue('#campaign'), '11');
  assert.equal(await page.inputValue('#campaign_name'), 'Summer leads');
  assert.equal(await page.inputValue('#agent_name'), 'דנה');
  assert.equal(await page.isChecked('#override'), true);
  assert.equal(await page.isChecked('#unique'), false);
  assert.equal(await page.inputValue('#status'), '12');
  assert.equal(await page.inputValue('#default_region'), '', 'empty: the upload service\'s own');
  assert.equal(await page.inputValue('#batch_size'), '250');
  assert.equal(await page.inputValue('#header_row'), '');
  assert.equal(await page.inputValue('#language'), '');
  assert.equal(await page.isVisible('#job'), false, 'no job panel without a job');
  assert.equal(await page.textContent('#settings-automatic'), 'Automatic upload is off for this tab.');

  await page.fill('#campaign', '42');
  await page.check('#unique');
  await page.selectOption('#status', '18');
  await page.fill('#default_region', 'gb');
  await page.fill('#skip_card_up_to', '25');
  await page.click('#save');
  await page.waitForSelector('#save-status:has-text("Saved.")');
  const saved = JSON.parse(document.documentProperties.getProperty('callmarker.settings.1204'));
  assert.deepEqual(saved.settings, {
    campaign: '42', campaign_name: 'Summer leads', agent_name: 'דנה', override: true, unique: true, status: 18, international: false,
    default_region: 'GB', batch_size: 250, header_row: null,
  });
  assert.equal(saved.changed_by, 'dana@example.com');
  assert.equal(await page.inputValue('#default_region'), 'GB', 'the form shows what was saved');
  await page.click('#open-automation');
  await waitFor(() => user.log.dialogs.length === 1);
  assert.equal(user.log.dialogs[0].title, 'CallMarker: automatic upload', 'the settings open the automatic upload of the tab');
  await page.close();
});

test('settings: each invalid field gets its message beside it, and nothing is saved', async () => {
  const { page, document } = await openSidebar({ start: (_user, addIn) => addIn.showSettings() });
  await page.check('#unique');
  await page.fill('#agent_name', 'Dana');
  await page.fill('#batch_size', '5000');
  await page.fill('#header_row', '0');
  await page.click('#save');
  await page.waitForSelector('#save-status:has-text("Not saved")');
  assert.match(await page.textContent('#unique-error'), /needs a campaign and "Update existing customers"/);
  assert.match(await page.textContent('#agent_name-error'), /An agent needs a campaign/);
  assert.match(await page.textContent('#batch_size-error'), /from 1 to 1,000/);
  assert.match(await page.textContent('#header_row-error'), /1 or more/);
  assert.equal(await page.textContent('#campaign-error'), '');
  assert.equal(await page.getAttribute('#batch_size', 'aria-invalid'), 'true');
  assert.equal(document.documentProperties.getProperty('callmarker.settings.1204'), null);

  await page.fill('#campaign', '7');
  await page.check('#override');
  await page.fill('#batch_size', '1000');
  await page.fill('#header_row', '2');
  await page.click('#save');
  await page.waitForSelector('#save-status:has-text("Saved.")');
  assert.equal(await page.textContent('#unique-error'), '');
  assert.equal(await page.getAttribute('#batch_size', 'aria-invalid'), null);
  assert.equal(JSON.parse(document.documentProperties.getProperty('callmarker.settings.1204')).settings.header_row, 2);
  await page.close();
});

test('settings in Hebrew: right to left, in Hebrew; choosing English reopens the sidebar in English', async () => {
  const { page, calls, user } = await openSidebar({ scenarioOptions: { locale: 'iw' }, start: (_user, addIn) => addIn.showSettings() });
  assert.equal(await page.$eval('body', (body) => body.ownerDocument.defaultView.getComputedStyle(body).direction), 'rtl');
  assert.equal(await page.textContent('summary'), 'הגדרות');
  assert.equal(await page.textContent('label[for=campaign]'), 'מספר קמפיין');
  assert.deepEqual(await page.$$eval('#language option', (options) => options.map((o) => o.textContent)), ['לפי חשבון Google שלי (עברית)', 'English', 'עברית']);
  assert.equal(await page.$eval('#status option[value="12"]', (o) => o.textContent), '12 · פולואפ');
  await page.selectOption('#language', 'en');
  await page.click('#save');
  await page.waitForSelector('#save-status:has-text("נשמר.")');
  await waitFor(() => calls.length === 2);
  assert.deepEqual(calls.map((c) => c.name), ['saveSettings', 'showSettings']);
  assert.match(user.log.sidebars.at(-1).getContent(), /<html lang="en" dir="ltr">/);
  await page.close();
});

test('progress: the bar advances by outcome, then the summary lists problems that go to their rows, and retries', async () => {
  const seen = [];
  const { page, user, calls, document } = await openSidebar({
    scenarioOptions: twelveThousandRows({ extraAnswers: [answer({ processed_rows: 1, total_rows: 1, counts: { uploaded: 1 } })] }),
    start: selectTwelveThousand,
    onCall: async (name, _nth, page) => {
      if (name !== 'runStep') {
        return;
      }
      // The page asks for a step only once it has shown the one before.
      seen.push([await page.getAttribute('#bar', 'aria-valuenow'), await page.textContent('#progress-text')]);
    },
  });
  await page.waitForSelector('#summary:not([hidden])');
  assert.deepEqual(seen.slice(0, 4), [
    ['0', 'Starting…'],
    ['25', 'Uploaded 3,000 of 12,000…'],
    ['50', 'Uploaded 6,000 of 12,000…'],
    ['75', 'Uploaded 9,000 of 12,000…'],
  ]);
  assert.equal(await page.getAttribute('#bar', 'aria-valuenow'), '100');
  assert.equal(visible(await page.textContent('#job-title')), 'Upload ended: 12,000 selected rows of "Leads"');
  assert.equal(await page.textContent('#progress-text'), 'Uploaded 11,997 · invalid 2 · failed 1 of 12,000.');
  assert.equal(await page.textContent('#summary-text'), 'Done: uploaded 11,997 · invalid 2 · failed 1.');
  assert.equal(await page.textContent('#service-message'), 'Uploaded 11,997 rows; 3 need attention.');
  assert.deepEqual(await page.$$eval('#counts tr', (rows) => rows.map((r) => [r.className, r.innerText.replace(/\s+/g, ' ').trim()])),
    [['tone-good', 'Uploaded 11,997'], ['tone-bad', 'Invalid 2'], ['tone-unsure', 'Failed 1']]);
  assert.deepEqual(await page.$$eval('#errors li', (items) => items.map((i) => i.textContent)), [
    'Row 118 · \u2068Phone\u2069: \u2068not a phone number: 054-700\u2069',
    'Row 2017 · \u2068Follow-up date\u2069: \u2068' + '31-02-2025 is not a date\u2069',
  ]);
  assert.equal(await page.isVisible('#stop'), false);
  assert.equal(await page.getAttribute('#problem-rows', 'href'), 'https://docs.google.com/spreadsheets/d/sheet-abc123/edit#gid=1204&fvid=42');
  assert.equal(await page.textContent('#problem-rows'), 'Show problem rows');
  // The cursors went through the browser and back untouched.
  assert.deepEqual(user.log.requests.map((r) => r.json.cursor), [undefined, 'cursor 1/opaque+=', 'cursor 2/opaque+=', 'cursor 3/opaque+=']);
  assert.equal(document.documentProperties.getProperty(LEASE), null);

  await page.click('#errors li:nth-child(2) button');
  await waitFor(() => calls.some((c) => c.name === 'selectRow'));
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(calls.at(-1), { name: 'selectRow', args: [1204, 2017, 'Follow-up date'] });
  assert.deepEqual(user.selection.map((r) => r.getA1Notation()), ['A2017:Z2017']);

  assert.equal(await page.textContent('#retry'), 'Retry failed rows (1)');
  await page.click('#retry');
  await page.waitForSelector('#summary-text:has-text("Done: uploaded 1.")');
  assert.deepEqual(user.log.requests[4].json.rows, [[5000, 5000]]);
  assert.deepEqual(calls.map((c) => c.name), ['runStep', 'runStep', 'runStep', 'runStep', 'selectRow', 'retryRows', 'runStep']);
  await page.close();
});

test('the summary in Hebrew, right to left, each Hebrew header and message kept in its place', async () => {
  const { page } = await openSidebar({ scenarioOptions: twelveThousandRows({ hebrew: true }), start: selectTwelveThousand });
  await page.waitForSelector('#summary:not([hidden])');
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  assert.equal(await page.textContent('#job-title'), 'ההעלאה הסתיימה: 12,000 שורות שנבחרו מהגיליון "\u2068לידים\u2069"');
  assert.equal(await page.textContent('#summary-text'), 'הסתיים: הועלו 11,997 · לא תקינות 2 · נכשלו 1.');
  assert.deepEqual(await page.$$eval('#counts tr', (rows) => rows.map((r) => r.innerText.replace(/\s+/g, ' ').trim())),
    ['הועלו 11,997', 'לא תקינות 2', 'נכשלו 1']);
  assert.deepEqual(await page.$$eval('#errors li', (items) => items.map((i) => i.textContent)), [
    'שורה 118 · \u2068טלפון\u2069: \u2068"054-700" קצר מדי למספר טלפון\u2069',
    'שורה 2017 · \u2068תאריך חזרה\u2069: \u2068' + '31-02-2025 אינו תאריך\u2069',
  ]);
  assert.equal(await page.textContent('#retry'), 'שליחה חוזרת של שורות שנכשלו (1)');
  assert.equal(await page.textContent('#problem-rows'), 'הצגת השורות הבעייתיות');
  await picture(page, 'sidebar-he.png', { x: 0, y: 0, width: SIDEBAR_SIZE.width, height: await contentHeight(page, '#job') });
  await page.close();
});

test('Stop: the step under way finishes, no step follows, the lease is given back', async () => {
  const { page, user, calls, document } = await openSidebar({
    scenarioOptions: twelveThousandRows(),
    start: selectTwelveThousand,
    onCall: async (name, nth, page) => {
      if (name === 'runStep' && nth === 2) {
        await page.click('#stop'); // pressed while the second step runs
        assert.equal(await page.textContent('#stop'), 'Stopping after this step…');
      }
    },
  });
  await page.waitForSelector('#summary:not([hidden])');
  assert.equal(await page.textContent('#summary-text'), 'Stopped: uploaded 6,000 of 12,000. The rest were left as they are.');
  assert.deepEqual(calls.map((c) => c.name), ['runStep', 'runStep', 'stopJob']);
  assert.equal(user.log.requests.length, 2);
  assert.equal(document.documentProperties.getProperty(LEASE), null);
  assert.equal(await page.isVisible('#stop'), false);
  await page.close();
});

test('a failed step is shown as a sentence, with how far the job got', async () => {
  const base = twelveThousandRows();
  const { page, calls, document } = await openSidebar({
    scenarioOptions: { ...base, answers: [base.answers[0], failure(502, 'CallMarker did not answer in time')] },
    start: selectTwelveThousand,
  });
  await page.waitForSelector('#job-error:not([hidden])');
  assert.equal(visible(await page.textContent('#job-error')),
    'CallMarker could not be reached, or it refused the add-in\'s CallMarker token. The service said: "CallMarker did not answer in time" ' +
    'Try again in a few minutes; if it keeps failing, ask whoever set up the add-in to check the CallMarker token.');
  assert.equal(await page.textContent('#summary-text'), 'Before the error: uploaded 3,000 of 12,000.');
  assert.equal(await page.isVisible('#stop'), false);
  assert.deepEqual(calls.map((c) => c.name), ['runStep', 'runStep']);
  assert.equal(document.documentProperties.getProperty(LEASE), null);
  await page.close();
});

test('a job handed over from the menu goes on in the sidebar from its cursor', async () => {
  const clock = createClock();
  const base = twelveThousandRows();
  const steps = base.answers.map((step) => () => {
    clock.advance(3 * 60 * 1000);
    return step;
  });
  const { page, user } = await openSidebar({
    scenarioOptions: { ...base, rows: leads(4000), answers: steps, clock },
    start: (u, addIn) => {
      u.select('A2:A4001');
      addIn.uploadSelectedRows();
      assert.equal(u.log.requests.length, 2, 'the menu took two steps before handing over');
    },
  });
  await page.waitForSelector('#summary:not([hidden])');
  assert.equal(await page.textContent('#summary-text'), 'Done: uploaded 11,997 · invalid 2 · failed 1.');
  assert.deepEqual(user.log.requests.map((r) => r.json.cursor), [undefined, 'cursor 1/opaque+=', 'cursor 2/opaque+=', 'cursor 3/opaque+=']);
  await page.close();
});

test('the heartbeat keeps the tab while a step runs; when someone takes the tab over, the job stops and says who', async () => {
  const clock = createClock();
  let heartbeatSeen = null;
  const { page, calls, user, document } = await openSidebar({
    clock: true,
    scenarioOptions: { ...twelveThousandRows(), clock },
    start: selectTwelveThousand,
    onCall: async (name, nth, page) => {
      if (name === 'runStep' && nth === 2) {
        // A slow step: the sidebar beats on its own meanwhile.
        clock.advance(50 * 1000);
        await page.clock.runFor(20 * 1000);
        await waitFor(() => calls.some((c) => c.name === 'heartbeat'));
        await new Promise((resolve) => setTimeout(resolve, 30));
        heartbeatSeen = JSON.parse(document.documentProperties.getProperty(LEASE)).heartbeat_at;
      }
      if (name === 'runStep' && nth === 3) {
        // Yossi took the tab over (the sidebar looked closed to him); the next beat learns it.
        document.documentProperties.setProperty(LEASE, JSON.stringify({
          job_id: 'yossis-job', action: 'upload', email: 'yossi@example.com', started_at: clock.now(), heartbeat_at: clock.now(),
        }));
        await page.clock.runFor(20 * 1000);
        await waitFor(() => calls.filter((c) => c.name === 'heartbeat').length >= 2);
        await page.waitForSelector('#job-error:not([hidden])');
      }
    },
  });
  await page.waitForSelector('#job-error:has-text("took over")');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(heartbeatSeen, clock.now(), 'the beat moved the lease\'s heartbeat to the moment it came');
  assert.equal(visible(await page.textContent('#job-error')), 'Yossi took over "Leads", so this job stopped. The rows it finished keep their status.');
  assert.equal(calls.filter((c) => c.name === 'runStep').length, 3, 'no step after the one under way');
  assert.equal(user.log.requests.length, 2, 'the step under way found the tab taken and sent nothing');
  assert.equal(JSON.parse(document.documentProperties.getProperty(LEASE)).job_id, 'yossis-job', 'Yossi keeps the tab');
  await page.close();
});

/** Polls a condition of this process (the page's calls) for up to 5 s. */
async function waitFor(condition) {
  for (let i = 0; i < 250 && !condition(); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.ok(condition(), 'waited for a condition that did not come');
}

// ---------------------------------------------------------------- the pre-flight card

function cardScenario({ hebrew = false, extraAnswers = [] } = {}) {
  const rows = leads(40);
  rows[0] = hebrew ? ['שם', 'טלפון', 'מייל', 'ציון ליד'] : ['Name', 'Phone', 'Email', 'Lead score'];
  return {
    rows,
    locale: hebrew ? 'iw' : 'en',
    sheetName: hebrew ? 'לידים' : 'Leads',
    answers: [preview({
      total_rows: 40, to_send: 37, invalid: 3,
      columns: hebrew
        ? [{ column: 'שם', field: 'name', label: 'שם' }, { column: 'טלפון', field: 'number', label: 'מספר טלפון' }, { column: 'מייל', field: 'email', label: 'אימייל' }]
        : [{ column: 'Name', field: 'name', label: 'Name' }, { column: 'Phone', field: 'number', label: 'Phone number' }, { column: 'Email', field: 'email', label: 'Email' }],
      unmapped_columns: [hebrew ? 'ציון ליד' : 'Lead score'],
      options: [
        { name: 'campaign', label: hebrew ? 'קמפיין' : 'Campaign', value: '11', text: '11' },
        { name: 'status', label: hebrew ? 'סטטוס' : 'Status', value: 12, text: hebrew ? 'פולואפ' : 'Follow Up' },
        { name: 'override', label: hebrew ? 'עדכון לקוחות קיימים' : 'Update existing customers', value: true, text: hebrew ? 'כן' : 'Yes' },
      ],
      errors: [
        { row: 7, column: hebrew ? 'טלפון' : 'Phone', message: hebrew ? '"054-700" קצר מדי למספר טלפון' : '"054-700" is too short for a phone number' },
        { row: 19, column: hebrew ? 'מייל' : 'Email', message: hebrew ? '"dana@" אינה כתובת מייל' : '"dana@" is not an email address' },
        { row: 33, column: null, message: hebrew ? 'השורה ריקה חוץ מהערה' : 'the row is empty but for a note' },
      ],
    }), ...extraAnswers],
  };
}

const uploadForty = (user, addIn) => {
  addIn.saveSettings({ campaign: '11', campaign_name: addIn.userLanguage_() === 'he' ? 'מבצע קיץ' : 'Summer leads', status: '12', override: true });
  user.select('A2:C41');
  addIn.uploadSelectedRows();
};

test('the card shows what would be sent; a problem goes to its row; Send runs the job to its summary', async () => {
  const { page, calls, user, document } = await openSidebar({
    scenarioOptions: cardScenario({ extraAnswers: [answer({ total_rows: 40, processed_rows: 40, counts: { uploaded: 37, invalid: 3 } })] }),
    start: uploadForty,
  });
  await page.waitForSelector('#card:not([hidden])');
  assert.equal(visible(await page.textContent('#card-title')), 'Upload 40 selected rows of "Leads"?');
  assert.deepEqual(await page.$$eval('#card-facts tr', (rows) => rows.map((r) => r.innerText.replace(/\s+/g, ' ').trim())),
    ['Rows to upload 37', 'Invalid, will not be sent 3']);
  assert.deepEqual(await page.$$eval('#card-options dt, #card-options dd', (cells) => cells.map((c) => c.textContent.replace(/[\u2066-\u2069]/g, ''))),
    ['Campaign', 'Summer leads (11)', 'Status', 'Follow Up', 'Update existing customers', 'Yes']);
  assert.deepEqual(await page.$$eval('#card-columns tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent))),
    [['Name', 'Name'], ['Phone', 'Phone number'], ['Email', 'Email']]);
  assert.equal(visible(await page.textContent('#card-unmapped')), 'Not sent, CallMarker has no field for them: Lead score.');
  assert.equal(await page.$$eval('#card-problems li', (items) => items.length), 3);
  assert.equal(await page.textContent('#send'), 'Upload 37 rows');
  assert.equal(document.documentProperties.getProperty(LEASE), null, 'nothing taken before Send');
  await picture(page, 'preflight-card.png', { x: 0, y: 0, width: SIDEBAR_SIZE.width, height: await contentHeight(page, '#card') });

  await page.click('#card-problems li:first-child button');
  await waitFor(() => calls.some((c) => c.name === 'selectRow'));
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(calls.find((c) => c.name === 'selectRow').args, [1204, 7, 'Phone']);
  assert.equal(user.currentCell.getA1Notation(), 'B7');

  await page.click('#send');
  await page.waitForSelector('#summary-text:has-text("Done: uploaded 37 · invalid 3.")');
  assert.equal(await page.isVisible('#card'), false);
  assert.deepEqual(calls.map((c) => c.name), ['selectRow', 'sendJob', 'runStep']);
  assert.deepEqual(user.log.requests.map((r) => r.json.action), ['preview', 'upload']);
  await page.close();
});

test('the card in Hebrew reads right to left, and Cancel sends nothing', async () => {
  const { page, calls, user } = await openSidebar({ scenarioOptions: cardScenario({ hebrew: true }), start: uploadForty });
  await page.waitForSelector('#card:not([hidden])');
  assert.equal(await page.$eval('body', (body) => body.ownerDocument.defaultView.getComputedStyle(body).direction), 'rtl');
  assert.equal(await page.textContent('#card-title'), 'להעלות 40 שורות שנבחרו מהגיליון "\u2068לידים\u2069"?');
  assert.deepEqual(await page.$$eval('#card-options dd', (cells) => cells.map((c) => c.textContent)),
    ['\u2068מבצע קיץ\u2069 (\u206811\u2069)', '\u2068פולואפ\u2069', '\u2068כן\u2069']);
  assert.equal(await page.textContent('#card-problems li:first-child'), 'שורה 7 · \u2068טלפון\u2069: \u2068"054-700" קצר מדי למספר טלפון\u2069');
  assert.equal(await page.textContent('#send'), 'העלאת 37 שורות');
  await page.click('#cancel');
  assert.equal(await page.textContent('#notice'), 'בוטל: לא נשלח דבר.');
  assert.equal(await page.isVisible('#card'), false);
  assert.deepEqual(calls, []);
  assert.equal(user.log.requests.length, 1, 'the preview only');
  await page.close();
});

test('Send on a tab left by a closed sidebar asks, naming whose it was; taking over runs the job', async () => {
  const clock = createClock();
  const { page, calls, document } = await openSidebar({
    scenarioOptions: { ...cardScenario({ extraAnswers: [answer({ total_rows: 40, processed_rows: 40, counts: { uploaded: 37, invalid: 3 } })] }), clock },
    start: (user, addIn) => {
      user.document.documentProperties.setProperty(LEASE, JSON.stringify({
        job_id: 'rivkas-job', action: 'upload', email: 'rivka@example.com', started_at: clock.now() - 5 * 60000, heartbeat_at: clock.now() - 2 * 60000,
      }));
      uploadForty(user, addIn);
    },
  });
  await page.waitForSelector('#card:not([hidden])');
  await page.click('#send');
  await page.waitForSelector('#confirm:not([hidden])');
  assert.equal(visible(await page.textContent('#confirm-text')), 'Rivka started uploading rows from "Leads" 5 minutes ago, and that job has not ' +
    'answered for 2 minutes: the sidebar running it was probably closed. Take it over? That job will not go on; the rows it finished keep their status.');
  assert.equal(JSON.parse(document.documentProperties.getProperty(LEASE)).job_id, 'rivkas-job');
  await page.click('#take-over');
  await page.waitForSelector('#summary-text:has-text("Done: uploaded 37")');
  assert.deepEqual(calls.map((c) => c.name), ['sendJob', 'sendJob', 'runStep']);
  assert.deepEqual(calls[1].args[1], 'rivkas-job');
  await page.close();
});

test('a tab that is no longer the job\'s own ends the card with a sentence, not a crash', async () => {
  const { page } = await openSidebar({
    scenarioOptions: cardScenario(),
    start: (user, addIn) => {
      uploadForty(user, addIn);
      const clock = Date.now();
      user.document.documentProperties.setProperty(LEASE, JSON.stringify({
        job_id: 'live-job', action: 'check', email: 'yossi@example.com', started_at: clock, heartbeat_at: clock + 10 * 60000,
      }));
    },
  });
  await page.waitForSelector('#card:not([hidden])');
  await page.click('#send');
  await page.waitForSelector('#job-error:not([hidden])');
  assert.match(visible(await page.textContent('#job-error')), /^Yossi is checking rows of "Leads" \(started just now\)\. Try again when it finishes\.$/);
  await page.close();
});

// ---------------------------------------------------------------- the "Automatic upload" dialog

const dialogPage = (user) => user.log.dialogs.at(-1).output.getContent();
/** The dialog's size, as the add-in opens it (AUTOMATION_WIDTH × AUTOMATION_HEIGHT). */
const DIALOG_SIZE = { width: 560, height: 600 };

test('automatic upload: a schedule is chosen with its cost a day, saved with its trigger, and stopped from the list', async () => {
  const { page, document, user } = await openSidebar({
    pageOf: dialogPage,
    start: (_user, addIn) => {
      addIn.saveSettings({ campaign: '11' });
      addIn.showAutomation();
    },
  });
  assert.equal(user.log.dialogs[0].title, 'CallMarker: automatic upload');
  assert.equal(visible(await page.textContent('#title')), 'Automatic upload of "Leads"');
  assert.equal(await page.textContent('#status'), 'Automatic upload is off for this tab.');
  assert.equal(await page.isChecked('#mode-off'), true);
  assert.equal(await page.isDisabled('#every'), true);
  assert.equal(await page.isDisabled('#mode-form'), true, 'this tab receives no form\'s answers');
  assert.match(await page.textContent('#form-note'), /does not receive a Google Form's answers/);
  await page.check('#mode-schedule');
  assert.deepEqual(await page.$$eval('#every option', (options) => options.map((o) => o.textContent)),
    ['every 5 minutes', 'every 15 minutes', 'every 30 minutes', 'every hour']);
  assert.match(await page.textContent('#cost'), /^96 runs a day\./);
  await page.selectOption('#every', '5');
  assert.match(await page.textContent('#cost'), /^288 runs a day\. .*about 15 of its 360 minutes/);
  await page.click('#save');
  await page.waitForSelector('#save-status:has-text("Saved.")');
  assert.match(visible(await page.textContent('#status')), /^Uploads the pending rows every 5 minutes, as dana@example\.com, since /);
  assert.deepEqual(document.triggers.map((t) => [t.handler, t.everyMs]), [['automaticUpload', 5 * 60 * 1000]]);
  assert.equal(await page.isVisible('#mine-block'), true);
  await page.click('#mine button');
  await page.waitForSelector('#mine-block', { state: 'hidden' });
  assert.equal(await page.textContent('#status'), 'Automatic upload is off for this tab.');
  assert.deepEqual(document.triggers, []);
  await page.close();
});

test('automatic upload in Hebrew: right to left; someone else\'s is taken over only after a yes', async () => {
  const { page, document } = await openSidebar({
    scenarioOptions: { locale: 'iw' },
    pageOf: dialogPage,
    start: (_user, addIn) => {
      addIn.saveSettings({ campaign: '11' });
      addIn.saveSettings({ campaign: '11' });
      // Yossi turned it on, hourly, two days ago; his runs stopped the next day.
      const day = 24 * 60 * 60 * 1000;
      addIn.PropertiesService.getDocumentProperties().setProperty('callmarker.automation.1204', JSON.stringify({
        owner: 'yossi.levi@example.com', mode: 'schedule', every_minutes: 60, since: Date.now() - 2 * day, lang: 'he',
        last_started_at: Date.now() - day, last_run: { at: Date.now() - day, outcome: 'done', text: 'הסתיים: הועלו 48.' },
        waited_for: null, owed: false, quiet: null,
      }));
      addIn.showAutomation();
    },
  });
  assert.equal(await page.$eval('body', (body) => body.ownerDocument.defaultView.getComputedStyle(body).direction), 'rtl');
  assert.match(visible(await page.textContent('#status')), /^מעלה את השורות הממתינות כל שעה, בשם yossi\.levi@example\.com, מאז /);
  assert.match(visible(await page.textContent('#last-run')), /^הרצה אחרונה .*: הסתיים: הועלו 48\.$/);
  assert.match(visible(await page.textContent('#warning')), /^היא לא רצה מאז .*Yossi Levi/);
  assert.equal(await page.isChecked('#mode-schedule'), true);
  await page.setViewportSize(DIALOG_SIZE);
  await picture(page, 'automation-he.png', { x: 0, y: 0, width: DIALOG_SIZE.width, height: await contentHeight(page, '#automation-form') });
  await page.click('#save');
  await page.waitForSelector('#confirm', { state: 'visible' });
  assert.equal(visible(await page.textContent('#confirm-text')),
    'ההעלאה האוטומטית של הגיליון "Leads" רצה בשם Yossi Levi. להפעיל אותה בשמך במקום? הקודמת תיעצר בהרצה הבאה שלה.');
  assert.equal(JSON.parse(document.documentProperties.getProperty('callmarker.automation.1204')).owner, 'yossi.levi@example.com');
  await page.click('#confirm-yes');
  await page.waitForSelector('#save-status:has-text("נשמר.")');
  assert.equal(JSON.parse(document.documentProperties.getProperty('callmarker.automation.1204')).owner, 'dana@example.com');
  assert.equal(await page.textContent('#warning'), '');
  await page.close();
});
