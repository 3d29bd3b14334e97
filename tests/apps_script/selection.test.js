'use strict';
// Which rows a selection becomes: every shape a user can select, the header row, and the cap.

const test = require('node:test');
const assert = require('node:assert/strict');
const { noCard, answer, plain, visible } = require('./addin');

/** Selects, runs "Upload selected rows", and returns the rows the function was asked for. */
function uploadedRows(dataRows, ...a1) {
  const { user, addIn } = noCard({ dataRows, answers: [answer()] });
  user.select(...a1);
  addIn.uploadSelectedRows();
  assert.deepEqual(user.log.alerts, [], 'no message box');
  assert.equal(user.log.requests.length, 1);
  return plain(user.log.requests[0].json.rows);
}

/** Selects, runs a menu item, and returns the message box it showed (no request may be made). */
function refusal(options, menuItem, ...a1) {
  const { user, addIn, document } = noCard(options);
  user.select(...a1);
  addIn[menuItem]();
  assert.equal(user.log.requests.length, 0, 'nothing is sent');
  assert.equal(document.documentProperties.getProperty('callmarker.lease.1204'), null, 'no lease is left behind');
  assert.equal(user.log.alerts.length, 1);
  return visible(user.log.alerts[0].prompt);
}

test('one cell is its row', () => {
  assert.deepEqual(uploadedRows(20, 'B5'), [[5, 5]]);
});

test('a block of cells is its rows', () => {
  assert.deepEqual(uploadedRows(20, 'A2:C10'), [[2, 10]]);
});

test('several ranges stay apart and come sorted', () => {
  assert.deepEqual(uploadedRows(20, 'A12:C14', 'B3', 'A6:A8'), [[3, 3], [6, 8], [12, 14]]);
});

test('overlapping ranges are merged', () => {
  assert.deepEqual(uploadedRows(20, 'A2:A10', 'C5:C12', 'B9:B11'), [[2, 12]]);
});

test('adjacent ranges are merged', () => {
  assert.deepEqual(uploadedRows(20, 'A2:A4', 'A5:C6', 'B7'), [[2, 7]]);
});

test('the same row selected twice is sent once', () => {
  assert.deepEqual(uploadedRows(20, 'A4', 'C4'), [[4, 4]]);
});

test('a selection that includes the header row leaves it out', () => {
  assert.deepEqual(uploadedRows(20, 'A1:B5'), [[2, 5]]);
});

test('whole columns become the rows that hold data', () => {
  assert.deepEqual(uploadedRows(20, 'A:A'), [[2, 21]]);
  assert.deepEqual(uploadedRows(20, 'B:D'), [[2, 21]]);
});

test('whole rows are their rows', () => {
  assert.deepEqual(uploadedRows(20, '3:7'), [[3, 7]]);
});

test('rows past the last row with data are left out', () => {
  assert.deepEqual(uploadedRows(20, 'A15:A400'), [[15, 21]]);
});

test('a range selected bottom-up is the same rows', () => {
  assert.deepEqual(uploadedRows(20, 'C9:A3'), [[3, 9]]);
});

test('only the header row selected: the user is told to select rows below it', () => {
  const prompt = refusal({ answers: [] }, 'uploadSelectedRows', 'A1:C1');
  assert.match(prompt, /^Select the rows to upload: the header row is row 1/);
});

test('nothing usable selected: a clear message, in the words of the menu item', () => {
  assert.match(refusal({}, 'uploadSelectedRows'), /^Select the rows to upload: the header row is row 1/);
  assert.match(refusal({}, 'checkSelectedRows', 'A1'), /^Select the rows to check: the header row is row 1/);
  assert.match(refusal({ dataRows: 5 }, 'uploadSelectedRows', 'A30:B40'), /select rows below it that hold data/);
});

test('the header row set in Settings is the one left out', () => {
  const { user, addIn } = noCard({ answers: [answer()] });
  assert.equal(addIn.saveSettings({ header_row: '3' }).ok, true);
  user.select('A1:A3');
  addIn.uploadSelectedRows();
  assert.match(visible(user.log.alerts[0].prompt), /^Select the rows to upload: the header row is row 3/);
  user.select('A2:A6');
  addIn.uploadSelectedRows();
  assert.deepEqual(plain(user.log.requests[0].json.rows), [[4, 6]]);
  assert.equal(user.log.requests[0].json.options.header_row, 3);
});

test('more rows than the cap: the user is told the cap and what to do instead', () => {
  const prompt = refusal({ dataRows: 50001 }, 'uploadSelectedRows', 'A:A');
  assert.equal(prompt, 'You selected 50,001 rows; one job takes at most 50,000. Select fewer rows, or use "Upload all pending rows".');
});

test('exactly the cap is accepted (and starts in the sidebar, being large)', () => {
  const { user, addIn } = noCard({ dataRows: 50001 });
  user.select('A2:A50001');
  addIn.uploadSelectedRows();
  assert.deepEqual(user.log.alerts, []);
  assert.equal(user.log.sidebars.length, 1);
});

test('merging row intervals agrees with counting rows one by one', () => {
  const { addIn } = noCard();
  let seed = 7;
  const random = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let round = 0; round < 300; round += 1) {
    const intervals = Array.from({ length: 1 + random(6) }, () => {
      const first = 1 + random(40);
      return [first, first + random(8)];
    });
    const expected = new Set(intervals.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i)));
    const merged = plain(addIn.mergeRowIntervals_(intervals));
    const covered = merged.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i));
    assert.deepEqual(covered, [...expected].sort((x, y) => x - y), JSON.stringify(intervals));
    for (let i = 1; i < merged.length; i += 1) {
      assert.ok(merged[i][0] > merged[i - 1][1] + 1, 'merged intervals neither touch nor overlap');
    }
  }
});
