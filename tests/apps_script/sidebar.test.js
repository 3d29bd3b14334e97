'use strict';
// The sidebar in headless Chromium: the HTML the add-in renders, with google.script.run calling the
// add-in's real server functions (loaded in a vm with the fakes) and scripted answers of the function.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { scenario, answer, failure } = require('./addin');
const { createClock } = require('./fakes');

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const SCREENSHOT = path.resolve(__dirname, '..', '..', 'docs', 'img', 'sidebar-progress.png');
const SIDEBAR_SIZE = { width: 300, height: 720 };

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
 */
async function openSidebar({ scenarioOptions = {}, start, onCall }) {
  const setup = scenario(scenarioOptions);
  start(setup.user, setup.addIn);
  const html = setup.user.log.sidebars.at(-1).getContent();
  const page = await browser.newPage();
  const calls = [];
  await page.exposeFunction('__callServer', async (name, argsJson) => {
    const args = JSON.parse(argsJson);
    calls.push({ name, args });
    if (onCall) {
      await onCall(name, calls.filter((c) => c.name === name).length, page);
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

/** A job of 12,000 selected rows (it starts in the sidebar), answered in four steps of 3,000. */
function twelveThousandRows(extraAnswers = []) {
  const steps = [1, 2, 3, 4].map((step) => answer({
    done: step === 4,
    cursor: step === 4 ? null : `cursor ${step}/opaque+=`,
    total_rows: 12000,
    processed_rows: step * 3000,
    counts: { uploaded: step * 3000 - 3, invalid: step === 4 ? 2 : 0, failed: step === 4 ? 1 : 0 },
    errors: step === 4 ? [
      { row: 118, column: 'Phone', message: 'not a phone number: 054-700' },
      { row: 2017, column: 'Follow-up date', message: '31-02-2025 is not a date' },
    ] : [],
    retry_rows: step === 4 ? [[5000, 5000]] : [],
    message: step === 4 ? 'Uploaded 11,997 rows; 3 need attention.' : '',
  }));
  return {
    dataRows: 12000,
    answers: [...steps, ...extraAnswers],
  };
}

const selectTwelveThousand = (user, addIn) => {
  user.select('A2:C12001');
  addIn.uploadSelectedRows();
};

test('settings: the saved ones are shown, and a change is saved for the spreadsheet', async () => {
  const { page, document } = await openSidebar({
    start: (_user, addIn) => {
      addIn.saveSettings({ campaign: '11', agent_name: 'דנה', override: true, status: '12', batch_size: '250' });
      addIn.showSettings();
    },
  });
  assert.equal(await page.inputValue('#campaign'), '11');
  assert.equal(await page.inputValue('#agent_name'), 'דנה');
  assert.equal(await page.isChecked('#override'), true);
  assert.equal(await page.isChecked('#unique'), false);
  assert.equal(await page.inputValue('#status'), '12');
  assert.equal(await page.inputValue('#default_region'), 'IL');
  assert.equal(await page.inputValue('#batch_size'), '250');
  assert.equal(await page.inputValue('#header_row'), '1');
  assert.equal(await page.isVisible('#job'), false, 'no job panel without a job');

  await page.fill('#campaign', '42');
  await page.check('#unique');
  await page.selectOption('#status', '18');
  await page.fill('#default_region', 'gb');
  await page.click('#save');
  await page.waitForSelector('#save-status:has-text("Saved.")');
  assert.deepEqual(JSON.parse(document.documentProperties.getProperty('callmarker.settings')), {
    campaign: '42', agent_name: 'דנה', override: true, unique: true, status: 18, international: false,
    default_region: 'GB', batch_size: 250, header_row: 1,
  });
  assert.equal(await page.inputValue('#default_region'), 'GB', 'the form shows what was saved');
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
  assert.equal(document.documentProperties.getProperty('callmarker.settings'), null);

  await page.fill('#campaign', '7');
  await page.check('#override');
  await page.fill('#batch_size', '1000');
  await page.fill('#header_row', '2');
  await page.click('#save');
  await page.waitForSelector('#save-status:has-text("Saved.")');
  assert.equal(await page.textContent('#unique-error'), '');
  assert.equal(await page.getAttribute('#batch_size', 'aria-invalid'), null);
  assert.equal(JSON.parse(document.documentProperties.getProperty('callmarker.settings')).header_row, 2);
  await page.close();
});

test('progress: the bar advances step by step, then the summary offers to retry the failed rows', async () => {
  const seen = [];
  const { page, user, calls, document } = await openSidebar({
    scenarioOptions: twelveThousandRows([answer({ processed_rows: 1, total_rows: 1, counts: { uploaded: 1 } })]),
    start: selectTwelveThousand,
    onCall: async (name, nth, page) => {
      if (name !== 'runStep') {
        return;
      }
      // The page asks for a step only once it has shown the one before.
      seen.push([await page.getAttribute('#bar', 'aria-valuenow'), await page.textContent('#progress-text')]);
      if (nth === 3) {
        fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
        await page.screenshot({ path: SCREENSHOT, clip: { x: 0, y: 0, width: SIDEBAR_SIZE.width, height: 240 } });
      }
    },
  });
  await page.waitForSelector('#summary:not([hidden])');
  assert.deepEqual(seen.slice(0, 4), [
    ['0', 'Starting…'],
    ['25', 'Uploaded 3,000 of 12,000 rows…'],
    ['50', 'Uploaded 6,000 of 12,000 rows…'],
    ['75', 'Uploaded 9,000 of 12,000 rows…'],
  ]);
  assert.equal(await page.getAttribute('#bar', 'aria-valuenow'), '100');
  assert.equal(await page.textContent('#job-title'), 'Uploaded 12,000 selected rows of "Leads"');
  assert.equal(await page.textContent('#progress-text'), 'Uploaded 12,000 of 12,000 rows.');
  assert.equal(await page.textContent('#summary-text'), 'Done: 11,997 uploaded, 2 invalid, 1 failed.');
  assert.equal(await page.textContent('#service-message'), 'Uploaded 11,997 rows; 3 need attention.');
  assert.deepEqual(await page.$$eval('#counts tr', (rows) => rows.map((r) => r.innerText.replace(/\s+/g, ' ').trim())),
    ['Uploaded 11,997', 'Invalid 2', 'Failed 1']);
  assert.deepEqual(await page.$$eval('#errors li', (items) => items.map((i) => i.textContent)), [
    'Row 118 · Phone: not a phone number: 054-700',
    'Row 2017 · Follow-up date: 31-02-2025 is not a date',
  ]);
  // column names are isolated, so a Hebrew one cannot reorder the row number and the message
  assert.deepEqual(await page.$$eval('#errors li bdi', (items) => items.map((i) => i.textContent)), ['Phone', 'Follow-up date']);
  assert.equal(await page.isVisible('#stop'), false);
  assert.equal(await page.textContent('#retry'), 'Retry failed rows (1)');
  // The cursors went through the browser and back untouched.
  assert.deepEqual(user.log.requests.map((r) => r.json.cursor), [undefined, 'cursor 1/opaque+=', 'cursor 2/opaque+=', 'cursor 3/opaque+=']);
  assert.equal(document.documentProperties.getProperty('callmarker.lease'), null);

  await page.click('#retry');
  await page.waitForSelector('#summary-text:has-text("Done: 1 uploaded.")');
  assert.deepEqual(user.log.requests[4].json.rows, [[5000, 5000]]);
  assert.deepEqual(calls.map((c) => c.name), ['runStep', 'runStep', 'runStep', 'runStep', 'retryRows', 'runStep']);
  assert.ok(fs.statSync(SCREENSHOT).size > 1000, 'the screenshot was written');
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
  assert.equal(await page.textContent('#summary-text'), 'Stopped. Uploaded 6,000 of 12,000 rows; the rest were left as they are.');
  assert.deepEqual(calls.map((c) => c.name), ['runStep', 'runStep', 'stopJob']);
  assert.equal(user.log.requests.length, 2);
  assert.equal(document.documentProperties.getProperty('callmarker.lease'), null);
  assert.equal(await page.isVisible('#stop'), false);
  await page.close();
});

test('a failed step is shown as a sentence, with how far the job got', async () => {
  const { page, calls, document } = await openSidebar({
    scenarioOptions: { dataRows: 12000, answers: [twelveThousandRows().answers[0], failure(502, 'CallMarker did not answer in time')] },
    start: selectTwelveThousand,
  });
  await page.waitForSelector('#job-error:not([hidden])');
  assert.equal(await page.textContent('#job-error'),
    'CallMarker could not be reached, or it refused the add-in\'s CallMarker token. The service said: "CallMarker did not answer in time" ' +
    'Try again in a few minutes; if it keeps failing, ask whoever set up the add-in to check the CallMarker token.');
  assert.equal(await page.textContent('#summary-text'), 'Before the error, 3,000 of 12,000 rows were done.');
  assert.equal(await page.isVisible('#stop'), false);
  assert.deepEqual(calls.map((c) => c.name), ['runStep', 'runStep']);
  assert.equal(document.documentProperties.getProperty('callmarker.lease'), null);
  await page.close();
});

test('a job handed over from the menu goes on in the sidebar from its cursor', async () => {
  const clock = createClock();
  const steps = twelveThousandRows().answers.map((step) => () => {
    clock.advance(3 * 60 * 1000);
    return step;
  });
  const { page, user } = await openSidebar({
    scenarioOptions: { dataRows: 4000, answers: steps, clock },
    start: (u, addIn) => {
      u.select('A2:A4001');
      addIn.uploadSelectedRows();
      assert.equal(u.log.requests.length, 2, 'the menu took two steps before handing over');
    },
  });
  await page.waitForSelector('#summary:not([hidden])');
  assert.equal(await page.textContent('#summary-text'), 'Done: 11,997 uploaded, 2 invalid, 1 failed.');
  assert.deepEqual(user.log.requests.map((r) => r.json.cursor), [undefined, 'cursor 1/opaque+=', 'cursor 2/opaque+=', 'cursor 3/opaque+=']);
  await page.close();
});
