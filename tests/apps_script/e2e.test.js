'use strict';
// The add-in end to end: the real apps_script/*.js run from the menu, over real HTTP, against the real
// function on 127.0.0.1 and both emulators (python -m tests.e2e_stack); every row's status is then
// read back from the Sheets emulator, CallMarker's state from its emulator, and the sheet is pictured.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { chromium } = require('playwright-core');
const { loadAddIn } = require('./addin');
const { FakeDocument, FakeUser, httpTransport, sheetsApiSource } = require('./fakes');

const ROOT = path.resolve(__dirname, '..', '..');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
const STARTUP_MS = 60 * 1000;
const SHUTDOWN_MS = 15 * 1000;
const SCREENSHOT = path.join(ROOT, 'docs', 'img', 'sheet-statuses.png');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// 3,300 data rows, a tenth of them wrong; CallMarker slow enough, and the function's budget small
// enough, that 3,000 rows take several steps: the add-in's loop has to resume from the cursor.
const STACK_ARGS = ['--rows', '3300', '--invalid-share', '0.1', '--seed', '2', '--budget', '3', '--latency', '0.4'];
const SETTINGS = { campaign: '11', batch_size: '100' };
// Three ranges, chosen with Ctrl held: a block from the header row down (the header is left out), a
// block of a few cells, and whole rows. Rows 1002-1101, 1961-2010 and 3152 onwards stay unselected;
// row 1978, in the second gap, holds the number that row 2176 repeats.
const SELECTION = ['A1:P1001', 'B1102:D1960', '2011:3151'];
const SELECTED_INTERVALS = [[2, 1001], [1102, 1960], [2011, 3151]];
const SELECTED_COUNT = 3000;

const STATUS = 'CallMarker status';
const MESSAGE = 'CallMarker message';
const SHOWN_ROWS = 25;

/** 2772 -> "2,772", as the add-in writes counts. */
function formatCount(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function isSelected(row) {
  return SELECTED_INTERVALS.some(([first, last]) => row >= first && row <= last);
}

/** An Israeli number as CallMarker keeps it (national digits, 0547000000), from however the cell shows it. */
function nationalNumber(text) {
  const digits = String(text).replace(/\D/g, '');
  if (digits.startsWith('972')) {
    return '0' + digits.slice(3);
  }
  return digits.startsWith('0') ? digits : '0' + digits;
}

/**
 * What a selected row must end as. A row generated as a repeat of an earlier number is wrong only when
 * a row before it with that number is in the job too.
 */
function expectedStatus(row) {
  if (row.kind === 'phone_repeated') {
    return row.same_number_rows.some(isSelected) ? 'invalid' : 'uploaded';
  }
  return row.valid ? 'uploaded' : 'invalid';
}

// ---------------------------------------------------------------- the Python stack

/** Starts python -m tests.e2e_stack and resolves with its one JSON line. */
function startStack() {
  const child = spawn(PYTHON, ['-m', 'tests.e2e_stack', ...STACK_ARGS], {
    cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-4000); });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const info = new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the stack did not start in ${STARTUP_MS / 1000} s: ${stderr}`)), STARTUP_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${path.relative(ROOT, PYTHON)} (make setup creates it): ${error.message}`));
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const end = out.indexOf('\n');
      if (end >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(out.slice(0, end)));
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the stack exited (${code ?? signal}) before it was ready: ${stderr}`));
    });
  });
  return { child, info, exited, stderr: () => stderr };
}

/** Ends the stack: stdin closed first (its way to stop), SIGTERM if it lingers, SIGKILL as a last resort. */
async function stopStack(stack) {
  const timeout = (ms) => new Promise((resolve) => setTimeout(() => resolve(null), ms).unref());
  stack.child.stdin.end();
  let outcome = await Promise.race([stack.exited, timeout(SHUTDOWN_MS)]);
  if (!outcome) {
    stack.child.kill('SIGTERM');
    outcome = await Promise.race([stack.exited, timeout(SHUTDOWN_MS)]);
  }
  if (!outcome) {
    stack.child.kill('SIGKILL');
    outcome = await stack.exited;
  }
  return outcome;
}

// ---------------------------------------------------------------- the sheet as a picture

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function columnLetters(n) {
  let letters = '';
  for (let rest = n; rest > 0; rest = Math.floor((rest - 1) / 26)) {
    letters = String.fromCharCode(65 + ((rest - 1) % 26)) + letters;
  }
  return letters;
}

/**
 * A cell's writing direction by the script most of its letters are in: a Hebrew name reads right to
 * left, an English message that quotes a Hebrew header (טלפון "054-700" is too short) left to right.
 */
function direction(text) {
  const hebrew = (String(text).match(/[\u0590-\u05FF]/g) || []).length;
  const latin = (String(text).match(/[A-Za-z]/g) || []).length;
  if (hebrew === 0 && latin === 0) {
    return 'auto';
  }
  return hebrew > latin ? 'rtl' : 'ltr';
}

/**
 * A Google Sheets grid of the given cells: column letters, row numbers, gridlines, numbers to the
 * right, text in its own direction (Hebrew right to left), status cells tinted by status. Columns
 * not in `widths` are hidden, shown as Sheets shows hidden columns: a narrow marker.
 * @param {{ formatted: string[][], raw: unknown[][], widths: Record<number, number>, statusColumn: number, title: string }} sheet
 */
function sheetGridHtml({ formatted, raw, widths, statusColumn, title }) {
  const width = Math.max(...formatted.map((row) => row.length));
  const spans = []; // runs of visible columns and of hidden ones, left to right
  for (let c = 0; c < width; c += 1) {
    const visible = c in widths;
    const last = spans[spans.length - 1];
    if (!visible && last && last.hidden) {
      last.columns.push(c);
    } else {
      spans.push({ hidden: !visible, columns: [c] });
    }
  }
  const cols = spans.flatMap((span) => (span.hidden ? ['<col style="width:9px">']
    : span.columns.map((c) => `<col style="width:${widths[c]}px">`)));
  const head = spans.flatMap((span) => (span.hidden
    ? [`<th class="hidden" title="${span.columns.map((c) => columnLetters(c + 1)).join(', ')} hidden">◂▸</th>`]
    : span.columns.map((c) => `<th>${columnLetters(c + 1)}</th>`)));
  const body = formatted.map((row, r) => {
    const cells = spans.flatMap((span) => (span.hidden ? ['<td class="hidden"></td>'] : span.columns.map((c) => {
      const text = row[c] === undefined ? '' : row[c];
      const value = raw[r] ? raw[r][c] : undefined;
      const classes = [];
      if (typeof value === 'number') {
        classes.push('number');
      } else if (typeof value === 'boolean') {
        classes.push('boolean');
      }
      if (c === statusColumn && r > 0 && text) {
        classes.push(`status-${String(text).replace(/[^a-z]/g, '')}`);
      }
      return `<td dir="${direction(text)}" class="${classes.join(' ')}">${escapeHtml(text)}</td>`;
    })));
    return `<tr class="${r === 0 ? 'frozen' : ''}"><th class="row">${r + 1}</th>${cells.join('')}</tr>`;
  });
  return `<!doctype html><html><head><meta charset="utf-8"><style>
    body { margin: 0; background: #fff; font: 13px 'Liberation Sans', Arial, sans-serif; color: #202124; }
    #sheet { display: inline-block; border: 1px solid #c4c7c5; }
    table { border-collapse: collapse; table-layout: fixed; }
    th, td { height: 21px; padding: 0 4px; border: 1px solid #e2e3e3; white-space: nowrap; overflow: hidden;
      text-overflow: clip; text-align: start; }
    thead th, th.row { background: #f8f9fa; color: #5f6368; font-weight: normal; font-size: 11px; text-align: center;
      border-color: #c4c7c5; }
    thead th:first-child { width: 46px; }
    th.hidden, td.hidden { padding: 0; background: #f1f3f4; color: #80868b; font-size: 8px; letter-spacing: -1px; }
    tr.frozen td, tr.frozen th { border-bottom: 3px solid #c4c7c5; font-weight: bold; }
    td.number { text-align: right; }
    td.boolean { text-align: center; }
    td.status-uploaded { background: #e6f4ea; color: #137333; }
    td.status-invalid { background: #fce8e6; color: #c5221f; }
    td.status-rejected { background: #fef7e0; color: #b06000; }
    td.status-failed { background: #fef7e0; color: #b06000; }
    #tabs { background: #f1f3f4; border-top: 1px solid #c4c7c5; padding: 0 0 0 52px; height: 30px; }
    #tabs span { display: inline-block; height: 29px; line-height: 29px; padding: 0 18px; background: #e1e9f7;
      color: #0b57d0; font-weight: bold; }
  </style></head><body><div id="sheet"><table>
    <colgroup><col style="width:46px">${cols.join('')}</colgroup>
    <thead><tr><th></th>${head.join('')}</tr></thead>
    <tbody>${body.join('\n')}</tbody>
  </table><div id="tabs"><span>${escapeHtml(title)}</span></div></div></body></html>`;
}

async function screenshot(html, file) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'callmarker-chromium-'));
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 2000, height: 900 },
  });
  try {
    const page = await browser.newPage();
    await page.setContent(html);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await page.locator('#sheet').screenshot({ path: file });
  } finally {
    await browser.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- the job, once, then what it left

describe('Upload selected rows, from the menu to CallMarker and back into the sheet', () => {
  let stack;
  let info;
  let user;
  let document;
  let sheetSource;
  /** Sheet rows after the job, read back from the Sheets emulator: formatted and raw. */
  let finalSheet;
  let column;

  before(async () => {
    stack = startStack();
    info = await stack.info;
    sheetSource = sheetsApiSource({
      baseUrl: info.sheets_url, spreadsheetId: info.spreadsheet_id, sheetTitle: info.sheet_title, accessToken: info.sheets_token,
    });
    document = new FakeDocument({
      id: info.spreadsheet_id, name: 'Leads', sheets: [{ name: info.sheet_title, sheetId: info.sheet_id, source: sheetSource }],
    });
    user = new FakeUser(document, {
      email: 'dana@example.com', fetch: httpTransport(), identityToken: info.id_token, oauthToken: info.sheets_token,
    });
    const addIn = loadAddIn(user.globals(), { config: { functionUrl: info.function_url } });
    const saved = addIn.saveSettings(SETTINGS);
    assert.ok(saved.ok, JSON.stringify(saved.errors));

    user.select(...SELECTION);
    addIn.uploadSelectedRows();

    finalSheet = { formatted: sheetSource.values('FORMATTED_VALUE'), raw: sheetSource.values('UNFORMATTED_VALUE') };
    const header = finalSheet.formatted[0];
    column = { status: header.indexOf(STATUS), message: header.indexOf(MESSAGE), phone: 0 };
  });

  after(async () => {
    if (stack && stack.child.exitCode === null && stack.child.signalCode === null) {
      await stopStack(stack);
    }
  });

  test('the job ran to the end without an alert, over several steps, each resuming from the last', (t) => {
    assert.deepEqual(user.log.alerts.map((a) => a.prompt), []);
    const requests = user.log.requests;
    assert.ok(requests.length >= 2, `the function answered "not done" at least once (${requests.length} requests)`);
    assert.ok(requests.every((r) => r.url === info.function_url && r.method === 'POST'));
    assert.ok(requests.every((r) => r.headers.Authorization === 'Bearer ' + info.id_token));
    assert.ok(requests.every((r) => r.headers['X-Sheets-Token'] === info.sheets_token));
    assert.ok(requests.every((r) => JSON.stringify(r.json.rows) === JSON.stringify(SELECTED_INTERVALS)));
    assert.equal(requests[0].json.cursor, undefined);
    assert.ok(requests.slice(1).every((r) => typeof r.json.cursor === 'string' && r.json.cursor !== ''));
    assert.equal(new Set(requests.slice(1).map((r) => r.json.cursor)).size, requests.length - 1, 'each step moved on');
    assert.equal(requests[0].json.options.campaign, '11');

    // A progress notice after every step but the last, then the summary.
    const toasts = user.log.toasts.map((t) => t.message);
    assert.equal(toasts.length, requests.length);
    const progress = toasts.slice(0, -1).map((text) => {
      const match = /^Uploaded ([\d,]+) of 3,000 rows…$/.exec(text);
      assert.ok(match, text);
      return Number(match[1].replace(/,/g, ''));
    });
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b));
    assert.ok(progress[0] > 0 && progress[progress.length - 1] < SELECTED_COUNT, String(progress));
    assert.match(toasts[toasts.length - 1], /^Done: /);
    t.diagnostic(`${requests.length} steps; rows done after each but the last: ${progress.join(', ')}`);
    assert.equal(document.documentProperties.getProperty('callmarker.lease'), null, 'the lease is given back');
  });

  test('every selected row has its own status: uploaded, or invalid naming the column to fix', () => {
    const wrong = [];
    let invalidSeen = 0;
    for (const row of info.expected) {
      if (!isSelected(row.row)) {
        continue;
      }
      const cells = finalSheet.formatted[row.row - 1] || [];
      const status = cells[column.status] || '';
      const message = cells[column.message] || '';
      const want = expectedStatus(row);
      if (status !== want) {
        wrong.push(`row ${row.row} (${row.kind}): "${status}" ${message}`);
      } else if (want === 'invalid') {
        invalidSeen += 1;
        if (row.kind !== 'phone_repeated' && !message.includes(row.column)) {
          wrong.push(`row ${row.row} (${row.kind}): the message does not name ${row.column}: ${message}`);
        }
        if (row.kind === 'phone_repeated' && !/is already on row \d+/.test(message)) {
          wrong.push(`row ${row.row}: the message does not say where the number is already: ${message}`);
        }
      }
    }
    assert.deepEqual(wrong.slice(0, 10), []);
    assert.ok(invalidSeen > 100, `invalid rows were among the selection (${invalidSeen})`);
    const repeatsOfUnselected = info.expected.filter((row) => isSelected(row.row) && row.kind === 'phone_repeated' &&
      !row.same_number_rows.some(isSelected));
    assert.ok(repeatsOfUnselected.length > 0, 'a number repeated only from an unselected row is uploaded');
  });

  test('rows left out of the selection have no status', () => {
    const marked = [];
    for (let row = 2; row <= finalSheet.formatted.length; row += 1) {
      const status = (finalSheet.formatted[row - 1] || [])[column.status] || '';
      if (!isSelected(row) && status) {
        marked.push(row);
      }
    }
    assert.deepEqual(marked, []);
    assert.equal(info.expected.length, 3300, 'the gaps and the rows below the selection hold data');
  });

  test('the summary the user was shown counts exactly the statuses in the sheet', () => {
    const tally = {};
    for (const row of finalSheet.formatted.slice(1)) {
      const status = row[column.status];
      if (status) {
        tally[status] = (tally[status] || 0) + 1;
      }
    }
    assert.deepEqual(Object.keys(tally).sort(), ['invalid', 'uploaded']);
    assert.equal(tally.uploaded + tally.invalid, SELECTED_COUNT);

    const toast = user.log.toasts[user.log.toasts.length - 1].message;
    assert.equal(toast, `Done: ${formatCount(tally.uploaded)} uploaded, ${formatCount(tally.invalid)} invalid.`);
    const sidebar = user.log.sidebars[user.log.sidebars.length - 1].getContent();
    const state = JSON.parse(/id="state">([\s\S]*?)<\/script>/.exec(sidebar)[1]);
    assert.equal(state.view, 'summary');
    assert.equal(state.summary, toast);
    assert.equal(state.progress, 'Uploaded 3,000 of 3,000 rows.');
    assert.deepEqual(state.answer.counts, { uploaded: tally.uploaded, rejected: 0, invalid: tally.invalid, failed: 0, skipped: 0, sent: 0 });
    assert.deepEqual(state.answer.retry_rows, []);
  });

  test('CallMarker holds exactly the uploaded rows, each once, in the campaign', () => {
    const get = (url) => {
      const response = httpTransport()({ url, method: 'GET', headers: {}, payload: undefined });
      assert.equal(response.status, 200, url);
      return JSON.parse(response.body);
    };
    const { customers } = get(info.callmarker_state_url);
    const uploaded = finalSheet.formatted.slice(1)
      .filter((row) => row[column.status] === 'uploaded')
      .map((row) => nationalNumber(row[column.phone]));
    assert.equal(new Set(uploaded).size, uploaded.length);
    assert.deepEqual(Object.keys(customers).sort(), [...uploaded].sort());
    assert.ok(Object.values(customers).every((c) => c.campaigns && c.campaigns[info.campaign]), 'in campaign 11');

    const sent = get(info.callmarker_requests_url).requests.flatMap((r) => (r.body.customers || []).map((c) => c.number));
    assert.equal(sent.length, uploaded.length, 'no customer was sent twice, across steps or within one');
  });

  test('no token reaches the sheet or what the user is shown', () => {
    const everything = JSON.stringify(finalSheet.formatted) + JSON.stringify(user.log.toasts) +
      user.log.sidebars.map((s) => s.getContent()).join('');
    assert.ok(!everything.includes(info.id_token));
    assert.ok(!everything.includes(info.sheets_token));
    assert.ok(!everything.includes(info.id_token.split('.')[2]), 'not even the signature');
  });

  test('the sheet as the user sees it afterwards, pictured for the docs', async () => {
    const header = finalSheet.formatted[0];
    const widths = {};
    // The contact's columns and the status columns; the deal and call-window columns, and the
    // fingerprint, are hidden as a user would hide them, so the picture stays legible.
    const shown = {
      טלפון: 125, שם: 60, 'Last name': 75, Email: 190, Source: 75, 'Follow-up date': 125, 'Follow-up type': 95,
      Note: 175, [STATUS]: 115, [MESSAGE]: 470, 'CallMarker time': 120,
    };
    header.forEach((name, c) => {
      if (name in shown) {
        widths[c] = shown[name];
      }
    });
    assert.equal(Object.keys(widths).length, Object.keys(shown).length, 'every column to show is in the sheet');
    const html = sheetGridHtml({
      formatted: finalSheet.formatted.slice(0, SHOWN_ROWS + 1),
      raw: finalSheet.raw.slice(0, SHOWN_ROWS + 1),
      widths,
      statusColumn: column.status,
      title: info.sheet_title,
    });
    // The picture in the docs is redrawn when asked (UPDATE_DOCS_IMAGES=1) or missing: its time column
    // changes on every run, and a test run should leave the working tree as it found it.
    const redraw = process.env.UPDATE_DOCS_IMAGES === '1' || !fs.existsSync(SCREENSHOT);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'callmarker-sheet-'));
    const file = redraw ? SCREENSHOT : path.join(scratch, path.basename(SCREENSHOT));
    try {
      await screenshot(html, file);
      const png = fs.readFileSync(file);
      const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
      assert.ok(width > 1200 && height > (SHOWN_ROWS + 2) * 21, `the whole grid is in the picture (${width}×${height})`);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });

  test('the stack shuts down cleanly when its stdin closes', async () => {
    const { code, signal } = await stopStack(stack);
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, stack.stderr());
  });
});
