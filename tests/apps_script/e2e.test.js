'use strict';
// The add-in end to end: the real apps_script/*.js run from the menu and the sidebar's server calls,
// over real HTTP, against the real function on 127.0.0.1 and both emulators (python -m tests.e2e_stack);
// every row's status is then read back from the Sheets emulator, CallMarker's state from its emulator,
// and the sheet is pictured. It runs once in Hebrew and once in English: Dana uploads three ranges of
// one tab while Yossi uploads all of another tab; Yossi's sidebar is closed half-way, and Rivka takes
// his stale lease over, once she confirms, to upload the rest of his tab.
//
// These users skip the pre-flight card (a preference) for their first jobs; then Dana uploads the rest of
// her tab through the card: the function's preview over HTTP, then Send.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { loadAddIn, plain, sidebarState, visible } = require('./addin');
const { FakeDocument, FakeUser, httpTransport, sheetsApiSource, createClock } = require('./fakes');
const { startStack, stopStack } = require('./stack');

const ROOT = path.resolve(__dirname, '..', '..');
const MINUTE = 60 * 1000;
const SCREENSHOT = path.join(ROOT, 'docs', 'img', 'sheet-statuses.png');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// 3,300 data rows, a tenth of them wrong; CallMarker slow enough, and the function's budget small
// enough, that 3,000 rows take several steps: the add-in's loop has to resume from the cursor. A second
// tab of 1,500 rows, sent 50 customers a request (its own settings), takes several steps too.
const STACK_ARGS = ['--rows', '3300', '--invalid-share', '0.1', '--seed', '2', '--budget', '3', '--latency', '0.4',
  '--second-tab-rows', '1500', '--second-tab-seed', '5'];
const SETTINGS = { campaign: '11', batch_size: '100' };
const SECOND_TAB_SETTINGS = { campaign: '11', batch_size: '50' };
// Three ranges, chosen with Ctrl held: a block from the header row down (the header is left out), a
// block of a few cells, and whole rows. Rows 1002-1101, 1961-2010 and 3152 onwards stay unselected;
// row 1978, in the second gap, holds the number that row 2176 repeats.
const SELECTION = ['A1:P1001', 'B1102:D1960', '2011:3151'];
const SELECTED_INTERVALS = [[2, 1001], [1102, 1960], [2011, 3151]];
const SELECTED_COUNT = 3000;
/** Everyone here skips the card: one job never sends more than 50,000 rows. */
const NO_CARD = { language: '', skip_card_up_to: 50000 };

const STATUS = 'CallMarker status';
const MESSAGE = 'CallMarker message';
const SHOWN_ROWS = 25;

/** What each language's sentences look like, as the add-in writes them. */
const WORDS = {
  en: {
    locale: 'en_US',
    progress: /^Uploaded ([\d,]+)(?: · invalid [\d,]+)? of 3,000…$/,
    done: (tally) => `Done: uploaded ${formatCount(tally.uploaded)} · invalid ${formatCount(tally.invalid)}.`,
    doneProgress: (tally) => `Uploaded ${formatCount(tally.uploaded)} · invalid ${formatCount(tally.invalid)} of 3,000.`,
    takeOver: (tab) => new RegExp(`^Yossi started uploading rows from "${tab}" (\\d+ minutes ago), and that job has not answered for \\d+ minutes: ` +
      'the sidebar running it was probably closed\\. Take it over\\?'),
    takenBy: (tab) => `Rivka took over "${tab}", so this job stopped. The rows it finished keep their status.`,
    lost: (tab) => `This job no longer holds "${tab}", so it stopped. The rows it finished keep their status.`,
    repeated: /is already on row \d+$/,
    // the function's own words in a message cell, outside the values it quotes
    ownWords: /^[^\u0590-\u05FF]*[A-Za-z][^\u0590-\u05FF]*$/,
  },
  he: {
    locale: 'iw',
    progress: /^הועלו ([\d,]+)(?: · לא תקינות [\d,]+)? מתוך 3,000…$/,
    done: (tally) => `הסתיים: הועלו ${formatCount(tally.uploaded)} · לא תקינות ${formatCount(tally.invalid)}.`,
    doneProgress: (tally) => `הועלו ${formatCount(tally.uploaded)} · לא תקינות ${formatCount(tally.invalid)} מתוך 3,000.`,
    takeOver: (tab) => new RegExp(`^ההעלאה של Yossi מהגיליון "${tab}" התחילה לפני \\d+ דקות, והיא לא עונה כבר \\d+ דקות: ` +
      'כנראה שהחלונית שהריצה אותה נסגרה\\. להשתלט עליה\\?'),
    takenBy: (tab) => `הגיליון "${tab}" עבר לעבודה של Rivka, ולכן העבודה הזאת נעצרה. השורות שהיא סיימה שומרות על הסטטוס שלהן.`,
    lost: (tab) => `העבודה הזאת כבר לא מחזיקה בגיליון "${tab}", ולכן נעצרה. השורות שהיא סיימה שומרות על הסטטוס שלהן.`,
    repeated: /כבר מופיע בשורה \d+$/,
    ownWords: /[\u0590-\u05FF]/,
  },
};

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
 * What a row must end as, given which rows were in its job. A row generated as a repeat of an earlier
 * number is wrong only when a row before it with that number is in the job too.
 */
function expectedStatus(row, inJob = () => true) {
  if (row.kind === 'phone_repeated') {
    return row.same_number_rows.some(inJob) ? 'invalid' : 'uploaded';
  }
  return row.valid ? 'uploaded' : 'invalid';
}

/** A message cell without the values it quotes (each between FSI and PDI): the function's own words. */
function ownWords(message) {
  return message.replace(/\u2068[^\u2069]*\u2069/g, '');
}

/**
 * Rows whose status is not what it should be, and the invalid rows whose message does not say why, in
 * the job's language.
 */
function wrongRows(expected, rows, column, inJob, words) {
  const wrong = [];
  let invalid = 0;
  for (const row of expected) {
    if (!inJob(row.row)) {
      continue;
    }
    const cells = rows[row.row - 1] || [];
    const status = cells[column.status] || '';
    const message = cells[column.message] || '';
    const want = expectedStatus(row, inJob);
    if (status !== want) {
      wrong.push(`row ${row.row} (${row.kind}): "${status}" ${message}`);
    } else if (want === 'invalid') {
      invalid += 1;
      if (row.kind !== 'phone_repeated' && !message.includes(`\u2068${row.column}\u2069: `)) {
        wrong.push(`row ${row.row} (${row.kind}): the message does not name ${row.column} first: ${message}`);
      }
      if (row.kind === 'phone_repeated' && !words.repeated.test(message)) {
        wrong.push(`row ${row.row}: the message does not say where the number is already: ${message}`);
      }
      if (!words.ownWords.test(ownWords(message))) {
        wrong.push(`row ${row.row}: the message is not in the job's language: ${message}`);
      }
    }
  }
  return { wrong, invalid };
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

/** A Sheets API Color ({red, green, blue} from 0 to 1, a channel left out when 0) as CSS. */
function cssColour(colour) {
  const channel = (name) => Math.round(255 * ((colour && colour[name]) || 0));
  return `rgb(${channel('red')}, ${channel('green')}, ${channel('blue')})`;
}

/**
 * The style the sheet's conditional formatting gives a cell, as Sheets applies it: the first rule (in
 * the sheet's order) whose range holds the cell and whose condition its value meets. Only the
 * conditions this project's rules use (TEXT_EQ) are read; any other rule is left out of the picture.
 */
function conditionalStyle(rules, row, col, text) {
  for (const rule of rules) {
    const inRange = rule.ranges.some((r) => row >= (r.startRowIndex || 0) && (r.endRowIndex === undefined || row < r.endRowIndex) &&
      col >= (r.startColumnIndex || 0) && (r.endColumnIndex === undefined || col < r.endColumnIndex));
    const condition = rule.booleanRule && rule.booleanRule.condition;
    if (inRange && condition && condition.type === 'TEXT_EQ' && String(text).toLowerCase() === String(condition.values[0].userEnteredValue).toLowerCase()) {
      const format = rule.booleanRule.format || {};
      const text = format.textFormat && format.textFormat.foregroundColor;
      return `background:${cssColour(format.backgroundColor)};${text ? `color:${cssColour(text)};` : ''}`;
    }
  }
  return '';
}

/**
 * A Google Sheets grid of the given cells: column letters, row numbers, gridlines, numbers to the
 * right, text in its own direction (Hebrew right to left), each cell coloured by the sheet's own
 * conditional formatting rules, read from the Sheets emulator. Columns not in `widths` are hidden,
 * shown as Sheets shows hidden columns: a narrow marker.
 * @param {{ formatted: string[][], raw: unknown[][], widths: Record<number, number>, rules: any[], title: string }} sheet
 */
function sheetGridHtml({ formatted, raw, widths, rules, title }) {
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
      const style = text ? conditionalStyle(rules, r, c, text) : '';
      return `<td dir="${direction(text)}" class="${classes.join(' ')}" style="${style}">${escapeHtml(text)}</td>`;
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

// ---------------------------------------------------------------- the jobs, then what they left

for (const lang of ['he', 'en']) {
  const words = WORDS[lang];
  describe(`In ${lang === 'he' ? 'Hebrew' : 'English'}: two tabs uploaded at once, and a stale lease taken over`, () => {
    let stack;
    let info;
    let clock;
    let document;
    let dana;
    let yossi;
    let rivka;
    let sources;
    /** Each tab after the jobs, read back from the Sheets emulator: formatted and raw. */
    const finalSheet = {};
    let column;
    let secondColumn;
    /** The tabs' leases at the moment Yossi's first step was answered, while Dana's job was under way. */
    let leasesDuringBoth = null;
    let danaResult;
    let yossiJob;
    let rivkaQuestion;
    let yossiBeatDuringRivka = null;

    /** One person at the spreadsheet, with their own add-in, language and HTTP transport. */
    const person = (email, transport) => {
      const user = new FakeUser(document, {
        email, locale: words.locale, fetch: transport, identityToken: info.id_token, oauthToken: info.sheets_token,
      });
      user.userProperties.setProperty('callmarker.preferences', JSON.stringify(NO_CARD));
      return { user, addIn: loadAddIn(user.globals(), { clock, config: { functionUrl: info.function_url } }) };
    };

    before(async () => {
      stack = startStack(STACK_ARGS);
      info = await stack.info;
      clock = createClock(Date.now());
      const source = (title) => sheetsApiSource({
        baseUrl: info.sheets_url, spreadsheetId: info.spreadsheet_id, sheetTitle: title, accessToken: info.sheets_token,
      });
      sources = { first: source(info.sheet_title), second: source(info.second_tab.sheet_title) };
      document = new FakeDocument({
        id: info.spreadsheet_id, name: 'Leads', sheets: [
          { name: info.sheet_title, sheetId: info.sheet_id, source: sources.first },
          { name: info.second_tab.sheet_title, sheetId: info.second_tab.sheet_id, source: sources.second },
        ],
      });
      const http = httpTransport();
      const lease = (sheetId) => JSON.parse(document.documentProperties.getProperty(`callmarker.lease.${sheetId}`) || 'null');

      // Yossi starts on the second tab while Dana's second step is about to leave. His first step
      // takes five minutes on his clock, so his menu hands the job to his sidebar, which he closes.
      let yossiSteps = 0;
      yossi = person('yossi@example.com', (request) => {
        yossiSteps += 1;
        const response = http(request);
        if (yossiSteps === 1) {
          leasesDuringBoth = { first: lease(info.sheet_id), second: lease(info.second_tab.sheet_id) };
          clock.advance(5 * MINUTE);
        }
        return response;
      });
      let danaSteps = 0;
      dana = person('dana@example.com', (request) => {
        danaSteps += 1;
        if (danaSteps === 2) {
          yossi.user.openSheet(info.second_tab.sheet_title).select('A:A');
          yossi.addIn.uploadSelectedRows();
        }
        return http(request);
      });
      // While Rivka's job runs, Yossi's sidebar, were it opened again, would learn who holds his tab.
      rivka = person('rivka@example.com', (request) => {
        if (yossiBeatDuringRivka === null) {
          yossiBeatDuringRivka = plain(yossi.addIn.heartbeat(yossiJob));
        }
        return http(request);
      });

      assert.ok(dana.addIn.saveSettings({ sheet_id: info.sheet_id, ...SETTINGS }).ok);
      assert.ok(yossi.addIn.saveSettings({ sheet_id: info.second_tab.sheet_id, ...SECOND_TAB_SETTINGS }).ok);

      // Dana: three ranges of the first tab, from the menu; once her job outlasts the menu, her sidebar
      // drives it, beating its heartbeat between steps as the page does.
      dana.user.select(...SELECTION);
      dana.addIn.uploadSelectedRows();
      const handedOver = sidebarState(dana.user.log.sidebars.at(-1));
      danaResult = { view: handedOver.answer_view, answer: handedOver.answer, job: handedOver.job, sidebarSteps: 0 };
      while (!danaResult.answer.done) {
        clock.advance(20 * 1000);
        assert.equal(plain(dana.addIn.heartbeat(danaResult.job)).held, true);
        const step = plain(dana.addIn.runStep(danaResult.job));
        danaResult = { ...step, sidebarSteps: danaResult.sidebarSteps + 1 };
      }

      // Yossi's sidebar was closed after his first step: nothing beats his lease any more.
      yossiJob = sidebarState(yossi.user.log.sidebars.at(-1)).job;
      clock.advance(2 * MINUTE);
      rivka.user.openSheet(info.second_tab.sheet_title);
      rivka.user.alertAnswers.push('YES');
      rivka.addIn.uploadPendingRows();
      rivkaQuestion = rivka.user.log.alerts[0];

      for (const [name, tab] of Object.entries(sources)) {
        finalSheet[name] = { formatted: tab.values('FORMATTED_VALUE'), raw: tab.values('UNFORMATTED_VALUE') };
      }
      const columnsOf = (header) => ({ status: header.indexOf(STATUS), message: header.indexOf(MESSAGE), phone: 0 });
      column = columnsOf(finalSheet.first.formatted[0]);
      secondColumn = columnsOf(finalSheet.second.formatted[0]);
    });

    after(async () => {
      if (stack && stack.child.exitCode === null && stack.child.signalCode === null) {
        await stopStack(stack);
      }
    });

    test('Dana\'s job ran over several steps, each resuming from the last, progress told by outcome in her language', (t) => {
      assert.deepEqual(dana.user.log.alerts.map((a) => a.prompt), []);
      const requests = dana.user.log.requests;
      assert.ok(requests.length >= 3, `the function answered "not done" at least twice (${requests.length} requests)`);
      assert.ok(requests.every((r) => r.url === info.function_url && r.method === 'POST'));
      assert.ok(requests.every((r) => r.headers.Authorization === 'Bearer ' + info.id_token));
      assert.ok(requests.every((r) => r.headers['X-Sheets-Token'] === info.sheets_token));
      assert.ok(requests.every((r) => r.json.lang === lang), 'every request asks for answers in her language');
      assert.ok(requests.every((r) => JSON.stringify(r.json.rows) === JSON.stringify(SELECTED_INTERVALS)));
      assert.deepEqual(requests[0].json.options, { campaign: '11', batch_size: 100 }, 'only what she set');
      assert.equal(requests[0].json.cursor, undefined);
      assert.ok(requests.slice(1).every((r) => typeof r.json.cursor === 'string' && r.json.cursor !== ''));
      assert.equal(new Set(requests.slice(1).map((r) => r.json.cursor)).size, requests.length - 1, 'each step moved on');

      // Progress notices from the menu, then the sidebar took over (her clock ran past 4.5 minutes).
      const toasts = dana.user.log.toasts.map((toast) => toast.message);
      assert.ok(toasts.length >= 1 && danaResult.sidebarSteps >= 1, `${toasts.length} notices, ${danaResult.sidebarSteps} sidebar steps`);
      const progress = toasts.map((text) => {
        const match = words.progress.exec(text);
        assert.ok(match, text);
        return Number(match[1].replace(/,/g, ''));
      });
      assert.ok(progress[0] > 0 && progress.at(-1) < SELECTED_COUNT, String(progress));
      t.diagnostic(`${requests.length} steps; uploaded after the menu's steps: ${progress.join(', ')}`);
      assert.equal(document.documentProperties.getProperty(`callmarker.lease.${info.sheet_id}`), null, 'the lease is given back');
    });

    test('two tabs uploaded at once: each job held its own tab while the other ran', () => {
      assert.ok(leasesDuringBoth, 'Yossi\'s first step was answered');
      assert.equal(leasesDuringBoth.first.job_id, danaResult.job.id, 'Dana\'s job held the first tab');
      assert.equal(leasesDuringBoth.first.email, 'dana@example.com');
      assert.equal(leasesDuringBoth.second.job_id, yossiJob.id, 'Yossi\'s held the second, at the same time');
      assert.equal(leasesDuringBoth.second.action, 'upload');
      const [first] = yossi.user.log.requests;
      assert.equal(first.json.sheet_id, info.second_tab.sheet_id);
      assert.deepEqual(first.json.rows, [[2, 1501]]);
      assert.deepEqual(first.json.options, { campaign: '11', batch_size: 50 }, 'the second tab\'s own settings');
      assert.equal(first.json.lang, lang);
      assert.deepEqual(yossi.user.log.alerts, [], 'neither job was refused');
    });

    test('the tab Yossi left was taken over only once Rivka confirmed, and his job does not go on', () => {
      const tab = info.second_tab.sheet_title;
      assert.equal(rivkaQuestion.buttons, 'YES_NO');
      assert.match(visible(rivkaQuestion.prompt), words.takeOver(tab));
      const requests = rivka.user.log.requests;
      assert.ok(requests.length >= 1 && requests.every((r) => r.json.mode === 'pending' && r.json.sheet_id === info.second_tab.sheet_id));
      assert.ok(requests.every((r) => r.json.lang === lang && r.json.options.batch_size === 50));
      assert.equal(rivka.user.log.alerts.length, 1, 'no other message box');
      assert.equal(yossiBeatDuringRivka.held, false);
      assert.equal(visible(yossiBeatDuringRivka.message), words.takenBy(tab));
      assert.throws(() => yossi.addIn.runStep(yossiJob), (error) => visible(error.message) === words.lost(tab));
      assert.equal(yossi.user.log.requests.length, 1, 'Yossi sent nothing after his first step');
      assert.equal(document.documentProperties.getProperty(`callmarker.lease.${info.second_tab.sheet_id}`), null, 'Rivka gave hers back');
    });

    test('every selected row of Dana\'s tab has its own status: uploaded, or invalid naming the column to fix', () => {
      const { wrong, invalid } = wrongRows(info.expected, finalSheet.first.formatted, column, isSelected, words);
      assert.deepEqual(wrong.slice(0, 10), []);
      assert.ok(invalid > 100, `invalid rows were among the selection (${invalid})`);
      const repeatsOfUnselected = info.expected.filter((row) => isSelected(row.row) && row.kind === 'phone_repeated' &&
        !row.same_number_rows.some(isSelected));
      assert.ok(repeatsOfUnselected.length > 0, 'a number repeated only from an unselected row is uploaded');
    });

    test('rows left out of Dana\'s selection have no status', () => {
      const marked = [];
      for (let row = 2; row <= finalSheet.first.formatted.length; row += 1) {
        const status = (finalSheet.first.formatted[row - 1] || [])[column.status] || '';
        if (!isSelected(row) && status) {
          marked.push(row);
        }
      }
      assert.deepEqual(marked, []);
      assert.equal(info.expected.length, 3300, 'the gaps and the rows below the selection hold data');
    });

    test('every row of the second tab ends with its status, between Yossi\'s job and Rivka\'s', () => {
      const { wrong, invalid } = wrongRows(info.second_tab.expected, finalSheet.second.formatted, secondColumn, () => true, words);
      assert.deepEqual(wrong.slice(0, 10), []);
      assert.ok(invalid > 50, `invalid rows (${invalid})`);
      const statuses = finalSheet.second.formatted.slice(1).map((row) => row[secondColumn.status]);
      assert.equal(statuses.filter(Boolean).length, 1500);
    });

    test('the summary Dana was shown counts exactly the statuses in her tab', () => {
      const tally = {};
      for (const row of finalSheet.first.formatted.slice(1)) {
        const status = row[column.status];
        if (status) {
          tally[status] = (tally[status] || 0) + 1;
        }
      }
      assert.deepEqual(Object.keys(tally).sort(), ['invalid', 'uploaded']);
      assert.equal(tally.uploaded + tally.invalid, SELECTED_COUNT);
      assert.equal(danaResult.view.summary, words.done(tally));
      assert.equal(danaResult.view.progress, words.doneProgress(tally));
      assert.deepEqual(danaResult.answer.counts, { uploaded: tally.uploaded, sent: 0, rejected: 0, invalid: tally.invalid, failed: 0, skipped: 0 });
      assert.deepEqual(danaResult.answer.retry_rows, []);
    });

    test('CallMarker holds exactly the uploaded rows of both tabs, each sent once', () => {
      const get = (url) => {
        const response = httpTransport()({ url, method: 'GET', headers: {}, payload: undefined });
        assert.equal(response.status, 200, url);
        return JSON.parse(response.body);
      };
      const uploaded = [[finalSheet.first, column], [finalSheet.second, secondColumn]].flatMap(([sheet, col]) => sheet.formatted.slice(1)
        .filter((row) => row[col.status] === 'uploaded')
        .map((row) => nationalNumber(row[col.phone])));
      const { customers } = get(info.callmarker_state_url);
      assert.deepEqual(Object.keys(customers).sort(), [...new Set(uploaded)].sort());
      assert.ok(Object.values(customers).every((c) => c.campaigns && c.campaigns[info.campaign]), 'in campaign 11');
      const sent = get(info.callmarker_requests_url).requests.flatMap((r) => (r.body.customers || []).map((c) => c.number));
      assert.deepEqual([...sent].sort(), [...uploaded].sort(), 'each uploaded row sent once, across tabs, steps and the take-over');
    });

    test('no token reaches the sheet or what anyone was shown', () => {
      const shown = [dana, yossi, rivka].map(({ user }) => JSON.stringify(user.log.toasts) + JSON.stringify(user.log.alerts) +
        user.log.sidebars.map((s) => s.getContent()).join('')).join('');
      const everything = JSON.stringify(finalSheet) + shown;
      assert.ok(!everything.includes(info.id_token));
      assert.ok(!everything.includes(info.sheets_token));
      assert.ok(!everything.includes(info.id_token.split('.')[2]), 'not even the signature');
    });

    test('the rest of Dana\'s tab goes through the pre-flight card: the function\'s preview over HTTP, then Send; ' +
      'the status column is coloured and its problem rows have a filter view', () => {
      const uploadedBefore = finalSheet.first.formatted.slice(1).filter((row) => row[column.status] === 'uploaded').length;
      dana.user.userProperties.setProperty('callmarker.preferences', JSON.stringify({ language: '', skip_card_up_to: 0 }));
      const asked = dana.user.log.requests.length;
      dana.addIn.uploadPendingRows();
      const previewRequest = dana.user.log.requests[asked];
      assert.equal(dana.user.log.requests.length, asked + 1, 'the preview alone: nothing is sent before Send');
      assert.deepEqual([previewRequest.json.action, previewRequest.json.preview_action, previewRequest.json.mode, previewRequest.json.lang],
        ['preview', 'upload', 'pending', lang]);
      const state = sidebarState(dana.user.log.sidebars.at(-1));
      assert.equal(state.view, 'preflight');
      const card = state.card;
      const fact = (name) => Number((card.facts.find((f) => f.name === name) || { count: '0' }).count.replace(/,/g, ''));
      assert.equal(fact('skipped'), uploadedBefore, 'rows uploaded before and unchanged are left alone');
      assert.ok(fact('to_send') > 0 && fact('invalid') > 0, JSON.stringify(card.facts));
      assert.ok(card.columns.some((c) => c.column === 'טלפון'), 'each column with its CallMarker field');
      assert.ok(card.options.some((o) => visible(o.text).includes('11')), 'the campaign');
      assert.ok(card.errors.length > 0 && card.errors.every((e) => e.row > 1));
      assert.equal(card.can_send, true);

      const sent = plain(dana.addIn.sendJob(state.job, null));
      assert.equal(sent.confirm, null);
      let step = plain(dana.addIn.runStep(sent.job));
      while (!step.answer.done) {
        clock.advance(20 * 1000);
        step = plain(dana.addIn.runStep(step.job));
      }
      assert.equal(step.answer.counts.uploaded, fact('to_send'), 'the card said how many would be uploaded');
      assert.equal(step.answer.counts.skipped, fact('skipped'));

      const tab = sources.first.values('FORMATTED_VALUE');
      const statuses = tab.slice(1).map((row) => row[column.status]).filter(Boolean);
      assert.equal(statuses.length, info.expected.length, 'every row of the tab has its status now');
      assert.deepEqual([...new Set(statuses)].sort(), ['invalid', 'uploaded']);

      const response = httpTransport()({
        url: `${info.sheets_url}/v4/spreadsheets/${info.spreadsheet_id}?fields=sheets(properties.sheetId,conditionalFormats,filterViews)`,
        method: 'GET', headers: { Authorization: `Bearer ${info.sheets_token}` }, payload: undefined,
      });
      assert.equal(response.status, 200, response.body);
      const sheet = JSON.parse(response.body).sheets.find((s) => (s.properties.sheetId || 0) === info.sheet_id);
      const colours = {};
      for (const rule of sheet.conditionalFormats) {
        assert.deepEqual(rule.ranges.map((r) => [r.startColumnIndex, r.endColumnIndex]), [[column.status, column.status + 1]]);
        colours[rule.booleanRule.condition.values[0].userEnteredValue] = rule.booleanRule.format.backgroundColor;
      }
      assert.deepEqual(Object.keys(colours).sort(), ['failed', 'invalid', 'rejected', 'removed', 'sent', 'uploaded']);
      assert.ok(colours.uploaded.green > colours.uploaded.red && colours.invalid.red > colours.invalid.green, 'green and red');
      const [view] = sheet.filterViews;
      assert.equal(view.title, 'CallMarker: problem rows');
      assert.equal(view.filterSpecs[0].columnIndex, column.status);
      assert.equal(step.answer.problem_rows_url,
        `https://docs.google.com/spreadsheets/d/${info.spreadsheet_id}/edit#gid=${info.sheet_id}&fvid=${view.filterViewId}`);
      assert.equal(document.documentProperties.getProperty(`callmarker.lease.${info.sheet_id}`), null);
    });

    if (lang === 'en') {
      test('the sheet as the user sees it afterwards, pictured for the docs', async () => {
        const finalFirst = finalSheet.first;
        const header = finalFirst.formatted[0];
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
        const response = httpTransport()({
          url: `${info.sheets_url}/v4/spreadsheets/${info.spreadsheet_id}?fields=sheets(properties.sheetId,conditionalFormats)`,
          method: 'GET', headers: { Authorization: `Bearer ${info.sheets_token}` }, payload: undefined,
        });
        const sheet = JSON.parse(response.body).sheets.find((s) => (s.properties.sheetId || 0) === info.sheet_id);
        const rules = sheet.conditionalFormats || [];
        assert.ok(rules.length > 0, 'the sheet carries its status colours');
        const html = sheetGridHtml({
          formatted: finalFirst.formatted.slice(0, SHOWN_ROWS + 1),
          raw: finalFirst.raw.slice(0, SHOWN_ROWS + 1),
          widths,
          rules,
          title: info.sheet_title,
        });
        assert.match(html, /style="background:rgb\(230, 244, 234\)/, 'an uploaded row is green');
        assert.match(html, /style="background:rgb\(252, 232, 230\)/, 'an invalid row is red');
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
    }

    test('the stack shuts down cleanly when its stdin closes', async () => {
      const { code, signal } = await stopStack(stack);
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, stack.stderr());
    });
  });
}
