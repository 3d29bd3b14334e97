'use strict';
// The one call to the function: what is sent, what the user is told for every kind of failure (in
// their language), and how every answer is checked before any other code sees it.

const test = require('node:test');
const assert = require('node:assert/strict');
const { noCard, answer, failure, FUNCTION_URL, visible, plain } = require('./addin');

const LEASE = 'callmarker.lease.1204';

/** Runs "Upload selected rows" against one scripted outcome; returns the message box text, as seen. */
function messageFor(outcome, options = {}) {
  const { user, addIn, document } = noCard({
    handler: typeof outcome === 'function' ? outcome : () => outcome,
    ...options,
  });
  user.select('A2:A5');
  addIn.uploadSelectedRows();
  assert.equal(document.documentProperties.getProperty(LEASE), null, 'the lease is given back');
  assert.equal(user.log.alerts.length, 1, 'one message box');
  assert.equal(user.log.alerts[0].title, 'CallMarker');
  return visible(user.log.alerts[0].prompt);
}

test('the request: POST JSON to the function with the ID token (for Cloud Run and for the function), the Sheets token, the language and only the options set', () => {
  const { user, addIn } = noCard({ answers: [answer({ processed_rows: 4, total_rows: 4, counts: { uploaded: 4 } })] });
  user.select('A2:A5');
  addIn.uploadSelectedRows();
  const [request] = user.log.requests;
  assert.equal(request.url, FUNCTION_URL);
  assert.equal(request.method, 'POST');
  assert.equal(request.headers['Content-Type'], 'application/json');
  assert.equal(request.headers.Authorization, `Bearer ${user.idToken()}`);
  assert.equal(request.headers['X-Serverless-Authorization'], `Bearer ${user.idToken()}`, 'Cloud Run consumes this one');
  assert.equal(request.headers['X-Sheets-Token'], user.oauthToken);
  assert.equal(request.muteHttpExceptions, true, 'status codes are read, not thrown');
  assert.deepEqual(request.json, {
    spreadsheet_id: 'sheet-abc123', sheet_id: 1204, mode: 'selected', action: 'upload', rows: [[2, 5]], options: {}, lang: 'en',
  });
  assert.ok(!('cursor' in request.json), 'no cursor on the first call');
});

test('a Hebrew-speaking user\'s requests ask for answers in Hebrew', () => {
  const { user, addIn } = noCard({ locale: 'iw', answers: [answer({ processed_rows: 1, total_rows: 1, counts: { uploaded: 1 } })] });
  user.select('A2');
  addIn.uploadSelectedRows();
  assert.equal(user.log.requests[0].json.lang, 'he');
});

test('400: the request could not be understood, with the service\'s own sentence', () => {
  const message = messageFor(failure(400, 'rows must be pairs of row numbers'));
  assert.match(message, /^The upload service could not understand the request\. The service said: "rows must be pairs of row numbers" Reload the spreadsheet/);
});

test('401: sign-in refused; when the audiences differ, both are named', () => {
  assert.match(messageFor(failure(401, 'ID token expired')), /^The upload service did not accept your Google sign-in\. The service said: "ID token expired" Reload the spreadsheet and try again/);
  const withAudience = messageFor(failure(401, 'wrong audience'), {
    config: { functionUrl: FUNCTION_URL, idTokenAudience: 'expected-client.apps.googleusercontent.com' },
  });
  assert.match(withAudience, /the add-in signs in as client-id\.apps\.googleusercontent\.com, the function expects expected-client\.apps\.googleusercontent\.com/);
  const sameAudience = messageFor(failure(401, 'expired'), {
    config: { functionUrl: FUNCTION_URL, idTokenAudience: 'client-id.apps.googleusercontent.com' },
  });
  assert.doesNotMatch(sameAudience, /signs in as/);
});

test('403: not allowed, and what to check', () => {
  assert.match(messageFor(failure(403, 'yossi@example.com may not use this service')),
    /^You are not allowed to upload from this spreadsheet\. The service said: "yossi@example\.com may not use this service" Check that you can edit this spreadsheet/);
});

test('404 from the function: the sheet is gone; 404 from elsewhere: the address is wrong', () => {
  assert.match(messageFor(failure(404, 'no sheet with id 1204')), /^The upload service could not find this spreadsheet or sheet\. The service said: "no sheet with id 1204"/);
  assert.match(messageFor({ status: 404, headers: { 'Content-Type': 'text/html' }, body: '<html><body>Error 404 (Not Found)</body></html>' }),
    /^The upload service was not found at its address\. Ask whoever set up the add-in to run deploy\/apps_script\.sh again/);
});

test('413: too many rows', () => {
  assert.match(messageFor(failure(413, 'at most 50000 rows per job')), /^Too many rows for one job\. The service said: "at most 50000 rows per job" Select fewer rows/);
});

test('422: the header row, and where it is set', () => {
  assert.match(messageFor(failure(422, 'no phone column in row 1: add a column named Phone')),
    /^The header row needs attention\. The service said: "no phone column in row 1: add a column named Phone" Check the header row \(set in Settings\)/);
});

test('429: busy, wait a minute', () => {
  assert.match(messageFor(failure(429, 'too many jobs')), /^The upload service is busy right now\. .*Wait a minute, then try again\.$/);
});

test('500: failed unexpectedly, without internals', () => {
  const message = messageFor({ status: 500, body: 'Traceback (most recent call last): File "main.py"' });
  assert.equal(message, 'The upload service failed unexpectedly. Try again; if it keeps failing, tell whoever set up the add-in the time it happened.');
});

test('502: CallMarker unreachable or refusing the token', () => {
  assert.match(messageFor(failure(502, 'CallMarker refused the API token')),
    /^CallMarker could not be reached, or it refused the add-in's CallMarker token\. The service said: "CallMarker refused the API token" Try again in a few minutes/);
});

test('503: not available right now', () => {
  assert.equal(messageFor({ status: 503, body: 'Service Unavailable' }), 'The upload service is not available right now. Try again in a few minutes.');
});

test('another status: its number, and try later', () => {
  assert.match(messageFor({ status: 418, body: '' }), /answered with an error \(HTTP 418\)\. Try again later\.$/);
});

test('an unreachable function: check the connection, then the deployment', () => {
  const message = messageFor(() => {
    throw new Error('connect ECONNREFUSED');
  });
  assert.match(message, /^Could not reach the upload service\. Check your internet connection and try again/);
  assert.doesNotMatch(message, /ECONNREFUSED|cloudfunctions/, 'no address or internals');
});

test('failures are told in Hebrew to a Hebrew-speaking user, the service\'s own sentence set apart', () => {
  const { user, addIn } = noCard({ locale: 'he', handler: () => failure(403, 'yossi@example.com may not use this service') });
  user.select('A2');
  addIn.uploadSelectedRows();
  const prompt = user.log.alerts[0].prompt;
  assert.equal(prompt, 'אין לכם הרשאה להעלות מהקובץ הזה. השירות השיב: "\u2068yossi@example.com may not use this service\u2069" ' +
    'בדקו שיש לכם הרשאת עריכה לקובץ, או בקשו ממי שהתקין את התוסף לאשר את החשבון שלכם.');
});

test('a 200 answer that is not the function\'s: a clear message, not a crash', () => {
  assert.match(messageFor({ status: 200, body: '<html>Sign in</html>' }), /^The upload service gave an answer the add-in cannot read/);
  assert.match(messageFor({ status: 200, json: { ok: true } }), /^The upload service gave an answer the add-in cannot read/);
});

test('a long service message is cut short', () => {
  const message = messageFor(failure(400, 'x'.repeat(5000)));
  assert.ok(message.length < 600, `message of ${message.length} characters`);
  assert.match(message, /x…"/);
});

test('an add-in pushed without the function\'s address says so and sends nothing', () => {
  const { user, addIn } = noCard({ config: { functionUrl: '' } });
  user.select('A2');
  addIn.uploadSelectedRows();
  assert.equal(user.log.requests.length, 0);
  assert.match(user.log.alerts[0].prompt, /does not know where its upload service is.*deploy\/apps_script\.sh/);
});

test('the committed Config.js carries no address: it is written at deploy time', () => {
  const { FakeDocument, FakeUser } = require('./fakes');
  const { loadAddIn } = require('./addin');
  const user = new FakeUser(new FakeDocument());
  const addIn = loadAddIn(user.globals());
  user.select('A2');
  addIn.uploadSelectedRows();
  assert.equal(user.log.requests.length, 0);
  assert.equal(user.log.alerts.length, 1);
});

test('no failure message carries a token', () => {
  const outcomes = [400, 401, 403, 404, 413, 422, 429, 500, 502, 503].map((code) => failure(code, `failure ${code}`));
  for (const outcome of outcomes) {
    const { user, addIn } = noCard({ handler: () => outcome, config: { functionUrl: FUNCTION_URL, idTokenAudience: 'x' } });
    user.select('A2');
    addIn.uploadSelectedRows();
    const prompt = user.log.alerts[0].prompt;
    assert.ok(!prompt.includes(user.idToken().split('.')[1]) && !prompt.includes(user.oauthToken), `${outcome.status}`);
  }
});

test('an answer is checked item by item: malformed problems, intervals, columns and counts are left out', () => {
  const { addIn } = noCard();
  const checked = plain(addIn.parseAnswer_({
    done: true,
    cursor: '',
    counts: { uploaded: 5, sent: 2, failed: -1, later_outcome: 3, bogus: 'many', 'Not A Name': 4, valid: 1.5 },
    total_rows: 10,
    processed_rows: '10',
    errors: [{ row: 3, column: 'טלפון', message: 'too short' }, { row: 0, message: 'x' }, { row: 4, column: 7, message: 'x' }, 'row 5', { row: 6, message: 'no column' }],
    retry_rows: [[7, 7], [9, 8], [0, 2], [3, 'x'], [12, 14, 15], [20, 21]],
    unmapped_columns: ['Lead score', '', 12, 'x'.repeat(300)],
    problem_rows_url: 'https://docs.google.com/spreadsheets/d/sheet-abc123/edit#gid=1204&fvid=77',
    message: 42,
  }, 'sheet-abc123', 'en'));
  assert.deepEqual(checked.counts, { uploaded: 5, sent: 2, rejected: 0, invalid: 0, failed: 0, skipped: 0, later_outcome: 3 });
  assert.equal(checked.cursor, null);
  assert.equal(checked.processed_rows, 0, 'a count that is not a number is not taken');
  assert.deepEqual(checked.errors, [{ row: 3, column: 'טלפון', message: 'too short' }, { row: 6, column: null, message: 'no column' }]);
  assert.deepEqual(checked.retry_rows, [[7, 7], [20, 21]]);
  assert.equal(checked.unmapped_columns.length, 2);
  assert.equal(checked.unmapped_columns[0], 'Lead score');
  assert.ok(checked.unmapped_columns[1].length <= 200);
  assert.equal(checked.problem_rows_url, 'https://docs.google.com/spreadsheets/d/sheet-abc123/edit#gid=1204&fvid=77');
  assert.equal(checked.message, '');
});

test('a problem-rows link is kept only when it points into this very spreadsheet', () => {
  const { addIn } = noCard();
  const link = (url) => addIn.parseAnswer_({ done: true, counts: {}, problem_rows_url: url }, 'sheet-abc123', 'en').problem_rows_url;
  assert.equal(link('https://docs.google.com/spreadsheets/d/sheet-abc123/edit#gid=1204&fvid=9'), 'https://docs.google.com/spreadsheets/d/sheet-abc123/edit#gid=1204&fvid=9');
  for (const url of [
    'https://docs.google.com/spreadsheets/d/another-sheet/edit#gid=1&fvid=2',
    'https://evil.example/spreadsheets/d/sheet-abc123/',
    'javascript:alert(1)//https://docs.google.com/spreadsheets/d/sheet-abc123/',
    'https://docs.google.com/spreadsheets/d/sheet-abc123/edit#gid=1"><script>',
    'http://docs.google.com/spreadsheets/d/sheet-abc123/edit',
    null, 12,
  ]) {
    assert.equal(link(url), null, String(url));
  }
});

test('a preview that does not give its numbers is refused as a whole; its lists are checked item by item', () => {
  const { addIn } = noCard();
  assert.throws(() => addIn.parsePreview_({ preview: { total_rows: 10, to_send: '10', invalid: 0, skipped: 0, left_for_later: 0 } }, 'en'),
    /gave a preview the add-in cannot read, so nothing was sent/);
  assert.throws(() => addIn.parsePreview_({ total_rows: 1 }, 'en'), /cannot read/);
  const checked = plain(addIn.parsePreview_({ preview: {
    action: 'upload', total_rows: 10, to_send: 8, invalid: 2, skipped: 0, left_for_later: 0,
    columns: [{ column: 'טלפון', field: 'number', label: 'Phone number' }, { column: 'Email' }, { column: 'שם', field: 'name' }],
    unmapped_columns: ['Lead score'],
    options: [{ name: 'status', label: 'Status', value: 12, text: 'Follow Up' }, { name: 'campaign', label: 'Campaign', value: { x: 1 } }, { label: 'no name' }],
    errors: [{ row: 4, column: 'טלפון', message: 'too short' }],
  } }, 'en'));
  assert.deepEqual(checked.columns, [{ column: 'טלפון', field: 'number', label: 'Phone number' }, { column: 'שם', field: 'name', label: 'name' }]);
  assert.deepEqual(checked.options, [
    { name: 'status', label: 'Status', value: 12, text: 'Follow Up' },
    { name: 'campaign', label: 'Campaign', value: null, text: '' },
  ]);
});

test('the failures the function names are each explained in words, with what to do, in both languages', () => {
  const named = (status, code, message, locale) => {
    const { user, addIn } = noCard({ locale, handler: () => ({ status: code, json: { error: { code, status, message } } }) });
    user.select('A2:A5');
    addIn.uploadSelectedRows();
    return visible(user.log.alerts[0].prompt);
  };
  assert.match(named('cursor_invalid', 400, 'cursor is not one this function gave you'),
    /^This job cannot go on from where it stopped.*The service said: "cursor is not one this function gave you".*use "Upload all pending rows" to send the rest\.$/);
  assert.match(named('sheets_token_mismatch', 403, 'another account'), /Reload the spreadsheet, signed in with one Google account only/);
  assert.match(named('sheets_api_disabled', 403, 'not enabled'), /Google Sheets API is not enabled in the add-in's Cloud project.*APIs & Services > Library/);
  assert.match(named('cursor_too_large', 413, 'too big'), /too many separate ranges.*"Upload all pending rows" to go on/);
  assert.match(named('body_too_large', 413, 'over 256 kB'), /too scattered to send in one request.*Select fewer, larger ranges/);
  assert.match(named('callmarker_unreadable', 502, 'HTML page'), /cannot read, so nothing more was sent.*safe to send again/);
  assert.match(named('statuses_not_written', 503, '30 rows were sent to CallMarker ... Rows 2–31: check them in CallMarker'),
    /^Rows were sent to CallMarker, but their statuses could not be written.*"30 rows were sent.*Rows 2–31: check them in CallMarker".*protected/);
  assert.match(named('statuses_not_written', 503, 'x', 'iw'), /^שורות נשלחו ל-CallMarker, אבל לא ניתן היה לכתוב/);
  assert.match(named('status_columns_protected', 403, 'The status columns of this sheet (E, F, G, H) are protected'),
    /^Nothing was sent: the status columns of this sheet are protected.*"The status columns of this sheet \(E, F, G, H\) are protected".*Protect sheets and ranges/);
  assert.match(named('status_columns_protected', 403, 'x', 'iw'), /^לא נשלח דבר: עמודות הסטטוס/);
  assert.match(named('cursor_invalid', 400, 'x', 'iw'), /^אי אפשר להמשיך את העבודה הזאת.*"העלאת כל השורות הממתינות"/);
  assert.match(named('body_too_large', 413, 'x', 'iw'), /^הבחירה מפוזרת מכדי לשלוח אותה בבקשה אחת/);
  // a name the add-in does not know is heard by its HTTP code, as before
  assert.match(named('some_new_status', 413, 'x'), /^Too many rows for one job\./);
});
