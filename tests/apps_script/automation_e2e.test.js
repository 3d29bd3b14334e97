'use strict';
// The automatic upload end to end: the real apps_script/*.js, fired as Google fires installable
// triggers, over real HTTP against the function and both emulators (python -m tests.e2e_stack). Dana
// turns on an upload every 15 minutes. Its first run outlives one execution and its follow-up finishes
// it; rows appended, one inserted in the middle and the sheet sorted are then each uploaded once by the
// next run, while Yossi, who clicks meanwhile, is told whose upload holds the tab; a failing CallMarker
// gives its log rows and exactly one email, and the rows it failed go at the next run once it is back.

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { loadAddIn, plain, visible } = require('./addin');
const { FakeDocument, FakeUser, httpTransport, sheetsApiSource, createClock, fireTrigger } = require('./fakes');
const { startStack, stopStack } = require('./stack');

const MINUTE = 60 * 1000;
// 400 rows, a few wrong; CallMarker slow enough, batches small enough and the function's budget short
// enough that uploading them takes several steps.
const STACK_ARGS = ['--rows', '400', '--invalid-share', '0.05', '--seed', '3', '--budget', '1', '--latency', '0.4'];
const SETTINGS = { campaign: '11', batch_size: '130' };
/** How long each step takes on the add-in's clock during the first run: two steps fill an execution. */
const SLOW_STEP_MS = 150 * 1000;
const STATUS = 'CallMarker status';
/** Whoever writes into the sheet besides the function: a form, Zapier, a colleague. */
const HELPER_TOKEN = 'ya29.e2e-automation-helper';

/** A new lead, as a landing page would add it: a number no generated row has (054-99x-xxxx). */
function newLead(i) {
  const n = String(i).padStart(5, '0');
  return { row: [`054-99${n[0]}-${n.slice(1)}`, `New ${i}`, 'Lead', `new${i}@example.com`], number: `05499${n}` };
}

/** The Sheets v4 API of the emulator, as someone else writing into the sheet uses it. */
function sheetsWriter(info) {
  const http = httpTransport();
  const base = `${info.sheets_url}/v4/spreadsheets/${encodeURIComponent(info.spreadsheet_id)}`;
  const tab = `'${info.sheet_title.replace(/'/g, "''")}'`;
  const call = (method, url, body) => {
    const response = http({
      url, method, headers: { authorization: `Bearer ${HELPER_TOKEN}`, 'content-type': 'application/json' },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.equal(response.status, 200, `${method} ${url}: ${response.body.slice(0, 300)}`);
    return JSON.parse(response.body);
  };
  const batchUpdate = (requests) => call('POST', `${base}:batchUpdate`, { requests });
  const put = (row, rows) => call('PUT', `${base}/values/${encodeURIComponent(`${tab}!A${row}`)}?valueInputOption=USER_ENTERED`, { values: rows });
  return {
    /** Rows written under the last one, where a form's answers or Zapier's rows land. */
    append: (rows, lastRow) => put(lastRow + 1, rows),
    insertRow: (row, values) => {
      batchUpdate([{ insertDimension: { range: { sheetId: info.sheet_id, dimension: 'ROWS', startIndex: row - 1, endIndex: row }, inheritFromBefore: true } }]);
      put(row, [values]);
    },
    sortByName: (lastRow, lastColumn) => batchUpdate([{ sortRange: {
      range: { sheetId: info.sheet_id, startRowIndex: 1, endRowIndex: lastRow, startColumnIndex: 0, endColumnIndex: lastColumn },
      sortSpecs: [{ dimensionIndex: 1, sortOrder: 'ASCENDING' }],
    } }]),
  };
}

describe('Automatic upload end to end: follow-up runs, rows added between runs, a failing CallMarker', () => {
  let stack;
  let info;
  let clock;
  let document;
  let dana;
  let yossi;
  let writer;
  let source;
  const get = (url) => JSON.parse(httpTransport()({ url, method: 'GET', headers: {}, payload: undefined }).body);
  const control = (method, path, body) => httpTransport()({
    url: `${info.callmarker_url}/_control/${path}`, method, headers: { 'content-type': 'application/json' }, payload: body && JSON.stringify(body),
  });
  /** Numbers CallMarker took (answers 200), each as often as it was sent. */
  const taken = () => get(info.callmarker_requests_url).requests.filter((r) => r.status === 200)
    .flatMap((r) => (r.body.customers || []).map((c) => c.number));
  const statusOf = (number) => {
    const rows = source.values('FORMATTED_VALUE');
    const column = rows[0].indexOf(STATUS);
    return rows.filter((row) => String(row[0]).replace(/\D/g, '').replace(/^972/, '0') === number).map((row) => row[column]);
  };
  const logRows = () => document.sheets.find((s) => s.name === 'CallMarker log').source.values('FORMATTED_VALUE')
    .map((row) => row.map((cell) => visible(cell)));
  const clockTrigger = () => document.triggers.find((t) => t.owner === dana.user && t.handler === 'automaticUpload');
  const fireDue = () => {
    for (const trigger of document.dueTriggers()) {
      fireTrigger(trigger, dana.addIn);
    }
  };

  /** One person at the spreadsheet, their add-in over real HTTP, and a hook run before each request. */
  const person = (email, locale, hook) => {
    const http = httpTransport();
    const user = new FakeUser(document, {
      email, locale, identityToken: info.id_token, oauthToken: info.sheets_token,
      fetch: (request) => {
        hook(request);
        return http(request);
      },
    });
    return { user, addIn: loadAddIn(user.globals(), { clock, config: { functionUrl: info.function_url } }) };
  };

  let slow = false;
  let onDanasRequest = null;
  const phases = {};

  before(async () => {
    stack = startStack(STACK_ARGS);
    info = await stack.info;
    clock = createClock(Date.now());
    source = sheetsApiSource({ baseUrl: info.sheets_url, spreadsheetId: info.spreadsheet_id, sheetTitle: info.sheet_title, accessToken: HELPER_TOKEN });
    document = new FakeDocument({ id: info.spreadsheet_id, name: 'Sales', clock, sheets: [{ name: info.sheet_title, sheetId: info.sheet_id, source }] });
    writer = sheetsWriter(info);
    dana = person('dana@example.com', 'en_US', () => {
      if (slow) {
        clock.advance(SLOW_STEP_MS);
      }
      if (onDanasRequest) {
        const hook = onDanasRequest;
        onDanasRequest = null;
        hook();
      }
    });
    yossi = person('yossi@example.com', 'iw', () => {});
    assert.ok(dana.addIn.saveSettings({ sheet_id: info.sheet_id, ...SETTINGS }).ok);
    assert.ok(dana.addIn.saveAutomation({ sheet_id: info.sheet_id, mode: 'schedule', every_minutes: 15 }).ok);

    // The first run: every row is pending; two slow steps fill its execution, the follow-up finishes.
    clock.advance(15 * MINUTE);
    slow = true;
    fireTrigger(clockTrigger(), dana.addIn);
    slow = false;
    phases.first = {
      requests: dana.user.log.requests.length,
      journal: plain(dana.addIn.readJournal_(document.documentProperties, info.sheet_id)),
      followUps: document.triggers.filter((t) => t.handler === 'automaticFollowUp').length,
      logged: document.sheets.some((s) => s.name === 'CallMarker log'),
    };
    clock.advance(MINUTE);
    fireDue();
    phases.followUp = { requests: dana.user.log.requests.length, log: logRows(), taken: taken() };

    // Between runs: 20 leads appended, one inserted in the middle, then the whole sheet sorted by name.
    const appended = Array.from({ length: 20 }, (_, i) => newLead(i + 1));
    const inserted = newLead(99);
    writer.append(appended.map((lead) => lead.row), source.values('FORMATTED_VALUE').length);
    writer.insertRow(120, inserted.row);
    const values = source.values('FORMATTED_VALUE');
    writer.sortByName(values.length, Math.max(...values.map((row) => row.length)));
    phases.added = [...appended, inserted].map((lead) => lead.number);
    const before = taken().length;
    onDanasRequest = () => {
      yossi.user.select('A2:A5');
      yossi.addIn.uploadSelectedRows();
    };
    clock.advance(15 * MINUTE);
    fireTrigger(clockTrigger(), dana.addIn);
    phases.second = { sent: taken().slice(before), log: logRows() };

    phases.emailsBefore = dana.user.log.emails.length;
    // CallMarker fails: every request answered 503 for two runs; five more leads wait meanwhile.
    const late = Array.from({ length: 5 }, (_, i) => newLead(200 + i));
    writer.append(late.map((lead) => lead.row), source.values('FORMATTED_VALUE').length);
    assert.equal(control('POST', 'faults', { rate_503: 1, retry_after: null, latency: 0 }).status, 200);
    for (let run = 0; run < 2; run += 1) {
      clock.advance(15 * MINUTE);
      fireTrigger(clockTrigger(), dana.addIn);
    }
    phases.failing = { log: logRows(), emails: dana.user.log.emails.slice(phases.emailsBefore), statuses: late.map((lead) => statusOf(lead.number)) };
    assert.equal(control('DELETE', 'faults').status, 200);
    const beforeBack = taken().length;
    clock.advance(15 * MINUTE);
    fireTrigger(clockTrigger(), dana.addIn);
    phases.back = { sent: taken().slice(beforeBack), late: late.map((lead) => lead.number), statuses: late.map((lead) => statusOf(lead.number)) };
  });

  after(async () => {
    if (stack && stack.child.exitCode === null && stack.child.signalCode === null) {
      await stopStack(stack);
    }
  });

  test('the first run outlived its execution: two steps, then a follow-up a minute later finished the job from its cursor', () => {
    assert.equal(phases.first.requests, 2, 'no step past four and a half minutes');
    assert.ok(phases.first.journal && typeof phases.first.journal.job.cursor === 'string', 'the job and its cursor were kept');
    assert.equal(phases.first.followUps, 1);
    assert.equal(phases.first.logged, false, 'the job was not over');
    const requests = dana.user.log.requests.slice(0, phases.followUp.requests);
    assert.ok(requests.length >= 3, `${requests.length} steps`);
    assert.ok(requests.every((r) => r.json.mode === 'pending' && r.json.sheet_id === info.sheet_id));
    assert.deepEqual(requests[0].json.options, { campaign: '11', batch_size: 130 });
    assert.equal(requests[2].json.cursor, phases.first.journal.job.cursor, 'the follow-up went on from the kept cursor');
    assert.equal(phases.followUp.log.length, 2, 'one log row for the whole job');
    const [header, row] = phases.followUp.log;
    const cell = (name) => row[header.indexOf(name)];
    assert.equal(cell('How'), 'schedule, carried on');
    assert.equal(Number(cell('uploaded')) + Number(cell('invalid')), 400);
  });

  test('after the first job every valid row is uploaded, each number taken by CallMarker once', () => {
    const numbers = phases.followUp.taken;
    assert.ok(numbers.length > 350, `${numbers.length} numbers`);
    assert.equal(new Set(numbers).size, numbers.length);
  });

  test('rows appended, one inserted in the middle and the sheet sorted are each uploaded once by the next run, and only they', () => {
    assert.deepEqual([...phases.second.sent].sort(), [...phases.added].sort());
    for (const number of phases.added) {
      assert.deepEqual(statusOf(number), ['uploaded'], number);
    }
    const [header, row] = phases.second.log;
    assert.equal(row[header.indexOf('uploaded')], '21');
    assert.match(row[header.indexOf('Result')], /^Done: uploaded 21 · invalid \d+ · skipped \d{3}\.$/);
  });

  test('the rows left invalid were emailed once: the sorted sheet had the same problems, not new ones', () => {
    assert.equal(phases.emailsBefore, 1);
    const email = dana.user.log.emails[0];
    assert.match(visible(email.body), new RegExp(`\\n"${info.sheet_title}": Done: uploaded \\d+ · invalid \\d+\\.\\nFirst problems:\\n  Row \\d+`));
    // No phone number of the sheet is in any email, however it was written there.
    const phones = source.values('FORMATTED_VALUE').slice(1).map((row) => String(row[0]).replace(/\D/g, '')).filter((digits) => digits.length >= 7);
    for (const sent of dana.user.log.emails) {
      const digits = (sent.subject + sent.body + sent.htmlBody).replace(/https:\/\/\S+/g, '').replace(/\D/g, '');
      assert.deepEqual(phones.filter((phone) => digits.includes(phone.slice(-7))), []);
    }
  });

  test('Yossi, who clicked during that run, was told whose automatic upload held the tab, and sent nothing', () => {
    assert.deepEqual(yossi.user.log.requests, []);
    assert.equal(yossi.user.log.alerts.length, 1);
    assert.equal(visible(yossi.user.log.alerts[0].prompt),
      `ההעלאה האוטומטית של Dana שולחת שורות מהגיליון "${info.sheet_title}" (התחילה הרגע). נסו שוב כשתסתיים.`);
  });

  test('a failing CallMarker gave a log row for each run and exactly one email, without phone numbers', () => {
    const [header, second, first] = phases.failing.log;
    for (const row of [first, second]) {
      assert.match(row[header.indexOf('Result')], /^Failed: CallMarker could not be reached, or it refused the add-in's CallMarker token\. /);
      assert.equal(row[header.indexOf('How')], 'schedule');
    }
    assert.deepEqual(phases.failing.statuses, Array(5).fill(['failed']), 'the five new rows are marked failed, to be sent again');
    assert.equal(phases.failing.emails.length, 1);
    const email = phases.failing.emails[0];
    assert.equal(email.to, 'dana@example.com');
    assert.match(visible(email.body), new RegExp(`\\n"${info.sheet_title}": Failed: CallMarker could not be reached`));
    assert.ok(!/0549|054-99/.test(email.body + email.htmlBody), 'no phone number');
  });

  test('once CallMarker is back, the next run sends the failed rows, each once', () => {
    assert.deepEqual([...phases.back.sent].sort(), [...phases.back.late].sort());
    assert.deepEqual(phases.back.statuses, Array(5).fill(['uploaded']));
    const all = taken();
    assert.equal(new Set(all).size, all.length, 'no number was taken twice, across every run');
  });

  test('the stack shuts down cleanly when its stdin closes', async () => {
    const { code, signal } = await stopStack(stack);
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, stack.stderr());
  });
});
