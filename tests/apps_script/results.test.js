'use strict';
// From results back to the sheet: "Retry failed rows" from the status column, a problem row selected
// on its tab, and the filter view of the problem rows.

const test = require('node:test');
const assert = require('node:assert/strict');
const { scenario, answer, preview, plain, sidebarState, visible, leads } = require('./addin');
const { FakeDocument, valuesSource } = require('./fakes');

/** Leads with the status columns a job wrote: rows 3, 4, 7 and 12 failed; row 5 was sent, unconfirmed. */
function sheetWithStatuses({ headerRow = 1 } = {}) {
  const rows = leads(12).map((row, i) => {
    if (i === 0) {
      return [...row, 'CallMarker status', 'CallMarker message', 'CallMarker time', 'CallMarker fingerprint'];
    }
    const sheetRow = i + 1;
    const status = [3, 4, 7, 12].includes(sheetRow) ? 'failed' : sheetRow === 5 ? 'sent' : sheetRow === 6 ? 'invalid' : 'uploaded';
    return [...row, status, '', '2025-01-05 11:00 · dana@', 'f' + sheetRow];
  });
  const above = Array.from({ length: headerRow - 1 }, () => ['Team leads, week 2']);
  return new FakeDocument({ id: 'sheet-abc123', sheets: [{ name: 'Leads', sheetId: 1204, source: valuesSource([...above, ...rows]) }] });
}

test('Retry failed rows reads the status column and uploads exactly the failed rows, after the card', () => {
  const { user, addIn } = scenario({ document: sheetWithStatuses(), answers: [preview({ total_rows: 4, to_send: 4 })] });
  user.select('B9'); // the selection does not matter
  addIn.retryFailedRows();
  assert.deepEqual(user.log.alerts, []);
  const [request] = user.log.requests;
  assert.equal(request.json.action, 'preview');
  assert.equal(request.json.preview_action, 'upload');
  assert.deepEqual(request.json.rows, [[3, 4], [7, 7], [12, 12]], '"sent" and the rest are left alone');
  const state = sidebarState(user.log.sidebars[0]);
  assert.equal(visible(state.card.title), 'Upload 4 selected rows of "Leads"?');
});

test('Retry failed rows without the card runs at once, and finds the status column wherever it was moved', () => {
  const document = sheetWithStatuses({ headerRow: 3 });
  const { user, addIn } = scenario({ document, skipCardUpTo: 100, answers: [answer({ processed_rows: 4, total_rows: 4, counts: { uploaded: 4 } })] });
  addIn.saveSettings({ header_row: '3' });
  addIn.retryFailedRows();
  assert.deepEqual(user.log.requests.map((r) => [r.json.action, r.json.rows]), [['upload', [[5, 6], [9, 9], [14, 14]]]]);
  assert.equal(user.log.requests[0].json.options.header_row, 3);
  assert.equal(user.log.toasts.at(-1).message, 'Done: uploaded 4.');
});

test('Retry failed rows says plainly when there is no status column, or no failed row', () => {
  const fresh = scenario();
  fresh.addIn.retryFailedRows();
  assert.equal(visible(fresh.user.log.alerts[0].prompt), 'There is no "CallMarker status" column on "Leads" yet: upload rows first, and each row gets its status there.');

  const document = sheetWithStatuses();
  document.sheets[0].source.rows.forEach((row, i) => {
    if (i > 0 && row[3] === 'failed') {
      row[3] = 'uploaded';
    }
  });
  const clean = scenario({ document, locale: 'iw' });
  clean.addIn.retryFailedRows();
  assert.equal(clean.user.log.alerts[0].prompt, 'אין בגיליון "\u2068Leads\u2069" שורות עם הסטטוס "\u2068failed\u2069".');
  assert.equal(clean.user.log.requests.length, 0);
});

test('the rows with a status, from a column\'s cells: exact words only, merged into intervals', () => {
  const { addIn } = scenario();
  const cells = [['failed'], [' failed '], ['Failed'], ['uploaded'], ['failed'], [''], ['failed']];
  assert.deepEqual(plain(addIn.rowsWithStatus_(cells, 2, 'failed')), [[2, 3], [6, 6], [8, 8]]);
});

test('clicking a problem selects its row on its own tab, with the problem\'s cell current', () => {
  const document = new FakeDocument({
    id: 'sheet-abc123',
    sheets: [{ name: 'Leads', sheetId: 1204, source: valuesSource(leads(50)) }, { name: 'Other', sheetId: 5, source: valuesSource(leads(3)) }],
  });
  const { user, addIn } = scenario({ document });
  user.openSheet('Other');
  assert.equal(addIn.selectRow(1204, 38, 'phone'), true);
  assert.equal(user.activeSheet.getName(), 'Leads');
  assert.deepEqual(user.selection.map((r) => r.getA1Notation()), ['A38:Z38']);
  assert.equal(user.currentCell.getA1Notation(), 'B38', 'the Phone column, found as the function names it');
  addIn.selectRow(1204, 12, null);
  assert.deepEqual(user.selection.map((r) => r.getA1Notation()), ['A12:Z12']);
  assert.equal(user.currentCell.getA1Notation(), 'A12');
  assert.throws(() => addIn.selectRow(1204, 0, null), /That row is not on the sheet any more/);
  assert.throws(() => addIn.selectRow(99, 3, null), /That row is not on the sheet any more/);
  assert.throws(() => addIn.selectRow(1204, 5000, null), /That row is not on the sheet any more/);
  assert.throws(() => addIn.selectRow('1204', 3, null), /That row is not on the sheet any more/);
});

test('Show problem rows opens the filter view the function reported for the tab, and says when there is none', () => {
  const url = 'https://docs.google.com/spreadsheets/d/sheet-abc123/edit#gid=1204&fvid=8812';
  const { user, addIn, document } = scenario({ skipCardUpTo: 100, answers: [answer({ processed_rows: 4, total_rows: 4, counts: { uploaded: 2, invalid: 2 }, problem_rows_url: url })] });
  addIn.showProblemRows();
  assert.equal(visible(user.log.alerts[0].prompt), 'There is no view of problem rows on "Leads" yet: it is made when a job finds rows that need attention.');
  user.select('A2:A5');
  addIn.uploadSelectedRows();
  assert.equal(document.documentProperties.getProperty('callmarker.problem_rows.1204'), url);
  assert.equal(sidebarState(user.log.sidebars[0]).answer_view.problem_rows_url, url);
  addIn.showProblemRows();
  const dialog = user.log.dialogs.at(-1);
  assert.equal(dialog.title, 'Problem rows');
  assert.equal(dialog.modal, false);
  const html = dialog.output.getContent();
  assert.match(html, /<base target="_top">/, 'the link opens in the spreadsheet\'s own tab');
  assert.ok(html.includes(`href="${url.replace(/&/g, '&amp;')}"`));
  assert.match(visible(html), /Show the problem rows of &quot;Leads&quot;<\/a>/);
  assert.match(visible(html), /the filter view &quot;CallMarker: problem rows&quot;/);
});

test('Retry failed rows never asks for more than 10,000 ranges: the first are retried, and how many rows wait is said', () => {
  // 10,003 failed rows, each between two uploaded ones: 10,003 separate ranges. The uploaded rows between
  // them are never bridged into a range, since the function acts on every row of a range.
  const header = ['Phone', 'Name', 'Email', 'CallMarker status', 'CallMarker message', 'CallMarker time', 'CallMarker fingerprint'];
  const rows = [header];
  for (let i = 0; i < 20006; i += 1) {
    rows.push([`054-7${String(i).padStart(6, '0')}`, 'Lead', '', i % 2 === 0 ? 'failed' : 'uploaded', '', '', '']);
  }
  const document = new FakeDocument({ id: 'sheet-abc123', sheets: [{ name: 'Leads', sheetId: 1204, source: valuesSource(rows) }] });
  const { user, addIn } = scenario({ document, skipCardUpTo: 50000, answers: [answer({ processed_rows: 10000, total_rows: 10000, counts: { uploaded: 10000 } })] });
  addIn.retryFailedRows();
  // A job this large is driven from the sidebar: the job it was handed holds the rows it will send.
  const { job: started } = sidebarState(user.log.sidebars[0]);
  assert.equal(started.rows.length, 10000);
  assert.deepEqual(started.rows.slice(0, 2), [[2, 2], [4, 4]]);
  assert.deepEqual(started.rows.at(-1), [20000, 20000]);
  const step = plain(addIn.runStep(started));
  assert.equal(user.log.requests[0].json.rows.length, 10000);
  assert.equal(step.answer.counts.uploaded, 10000);
  assert.equal(user.log.toasts[0].message, 'A job takes at most 10,000 separate ranges: these are retried first, and 3 more failed rows ' +
    'wait for the next "Retry failed rows".');

  // The summary's retry of a step's retry_rows is held to the same cap.
  const pairs = Array.from({ length: 10001 }, (_, i) => [2 + 2 * i, 2 + 2 * i]);
  const again = scenario({ document, skipCardUpTo: 50000, answers: [] });
  const job = { id: 'j', action: 'upload', mode: 'selected', spreadsheet_id: 'sheet-abc123', sheet_id: 1204, sheet_name: 'Leads',
    rows: [[2, 3]], options: {}, cursor: null, lang: 'en', title: '', done_title: '' };
  const retried = plain(again.addIn.retryRows(job, pairs));
  assert.equal(retried.job.rows.length, 10000);
  assert.match(again.user.log.toasts[0].message, /and 1 more failed row waits for the next "Retry failed rows"\.$/);
});
