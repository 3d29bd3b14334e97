'use strict';
// The one call to the function: what is sent, and what the user is told for every kind of failure.

const test = require('node:test');
const assert = require('node:assert/strict');
const { scenario, answer, failure, FUNCTION_URL } = require('./addin');

/** Runs "Upload selected rows" against one scripted outcome; returns the message box text. */
function messageFor(outcome, options = {}) {
  const { user, addIn, document } = scenario({
    handler: typeof outcome === 'function' ? outcome : () => outcome,
    ...options,
  });
  user.select('A2:A5');
  addIn.uploadSelectedRows();
  assert.equal(document.documentProperties.getProperty('callmarker.lease'), null, 'the lease is given back');
  assert.equal(user.log.alerts.length, 1, 'one message box');
  assert.equal(user.log.alerts[0].title, 'CallMarker');
  return user.log.alerts[0].prompt;
}

test('the request: POST JSON to the function with the ID token (for Cloud Run and for the function) and the Sheets token', () => {
  const { user, addIn } = scenario({ answers: [answer({ processed_rows: 4, total_rows: 4, counts: { uploaded: 4 } })] });
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
    spreadsheet_id: 'sheet-abc123', sheet_id: 1204, mode: 'selected', action: 'upload', rows: [[2, 5]],
    options: request.json.options,
  });
  assert.ok(!('cursor' in request.json), 'no cursor on the first call');
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
  const { user, addIn } = scenario({ config: { functionUrl: '' } });
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
    const { user, addIn } = scenario({ handler: () => outcome, config: { functionUrl: FUNCTION_URL, idTokenAudience: 'x' } });
    user.select('A2');
    addIn.uploadSelectedRows();
    const prompt = user.log.alerts[0].prompt;
    assert.ok(!prompt.includes(user.idToken().split('.')[1]) && !prompt.includes(user.oauthToken), `${outcome.status}`);
  }
});
