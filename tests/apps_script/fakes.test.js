'use strict';
// The fakes themselves: real HTTP from UrlFetchApp, cells read from a Sheets API, A1 ranges, templates.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Worker } = require('node:worker_threads');
const { once } = require('node:events');
const {
  FakeDocument, FakeUser, httpTransport, sheetsApiSource, parseA1, valuesSource, scriptedTransport,
} = require('./fakes');
const { loadAddIn, answer, plain } = require('./addin');

// A local HTTP server on its own thread: the test's thread is blocked while UrlFetchApp waits.
// Each path answers from its list in turn (the last answer repeats); every request is posted back.
const SERVER = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const served = {};
const server = http.createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => { body += chunk; });
  request.on('end', () => {
    const path = request.url.split('?')[0];
    parentPort.postMessage({ method: request.method, url: request.url, headers: request.headers, body });
    const answers = workerData.answers[path] || [{ status: 404, body: 'no route ' + path }];
    const index = Math.min(served[path] = (served[path] ?? -1) + 1, answers.length - 1);
    const answer = answers[index];
    response.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers || {}) });
    response.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
  });
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (message) => { if (message === 'close') server.close(() => process.exit(0)); });
`;

async function startServer(answers) {
  const worker = new Worker(SERVER, { eval: true, workerData: { answers } });
  const requests = [];
  const [{ port }] = await once(worker, 'message');
  worker.on('message', (message) => requests.push(message));
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    // Messages from the worker arrive once this thread is free again.
    settle: () => new Promise((resolve) => setTimeout(resolve, 50)),
    close: async () => {
      worker.postMessage('close');
      await once(worker, 'exit');
    },
  };
}

test('UrlFetchApp over real HTTP: the request arrives whole and the answer comes back', async () => {
  const server = await startServer({ '/upload': [{ status: 200, body: { hello: 'שלום' }, headers: { 'x-request-id': 'r-1' } }] });
  try {
    const user = new FakeUser(new FakeDocument(), { fetch: httpTransport() });
    const { UrlFetchApp } = user.globals();
    const response = UrlFetchApp.fetch(`${server.url}/upload?x=1`, {
      method: 'post', contentType: 'application/json', payload: JSON.stringify({ rows: [[2, 3]] }),
      headers: { Authorization: 'Bearer id-token', 'X-Sheets-Token': 'oauth' }, muteHttpExceptions: true,
    });
    assert.equal(response.getResponseCode(), 200);
    assert.deepEqual(JSON.parse(response.getContentText()), { hello: 'שלום' });
    assert.equal(response.getHeaders()['x-request-id'], 'r-1');
    await server.settle();
    assert.equal(server.requests.length, 1);
    const [received] = server.requests;
    assert.equal(received.method, 'POST');
    assert.equal(received.url, '/upload?x=1');
    assert.equal(received.headers.authorization, 'Bearer id-token');
    assert.equal(received.headers['x-sheets-token'], 'oauth');
    assert.equal(received.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(received.body), { rows: [[2, 3]] });
  } finally {
    await server.close();
  }
});

test('UrlFetchApp over real HTTP: error statuses throw unless muted, as Apps Script does', async () => {
  const server = await startServer({ '/upload': [{ status: 429, body: { error: { code: 429, message: 'busy' } } }] });
  try {
    const { UrlFetchApp } = new FakeUser(new FakeDocument(), { fetch: httpTransport() }).globals();
    assert.throws(() => UrlFetchApp.fetch(`${server.url}/upload`), /returned code 429/);
    const muted = UrlFetchApp.fetch(`${server.url}/upload`, { muteHttpExceptions: true });
    assert.equal(muted.getResponseCode(), 429);
    assert.equal(JSON.parse(muted.getContentText()).error.message, 'busy');
  } finally {
    await server.close();
  }
});

test('UrlFetchApp over real HTTP: a closed port is unreachable', async () => {
  const server = await startServer({});
  const closedUrl = server.url;
  await server.close();
  const { UrlFetchApp } = new FakeUser(new FakeDocument(), { fetch: httpTransport() }).globals();
  assert.throws(() => UrlFetchApp.fetch(`${closedUrl}/upload`), /Address unavailable/);
});

test('the real-HTTP transport refuses any host off this machine, before any connection', () => {
  const transport = httpTransport();
  for (const url of ['https://example.com/', 'http://10.0.0.1/', 'https://europe-west1-x.cloudfunctions.net/upload_rows']) {
    assert.throws(() => transport({ url, method: 'GET', headers: {} }), /refused: .* is not among the hosts tests may reach/);
  }
});

test('the add-in runs a whole job against a function served over HTTP', async () => {
  const server = await startServer({
    '/upload_rows': [
      { status: 200, body: answer({ done: false, cursor: 'step-2', processed_rows: 2, total_rows: 4 }).json },
      { status: 200, body: answer({ done: true, processed_rows: 4, total_rows: 4, counts: { uploaded: 4 } }).json },
    ],
  });
  try {
    const document = new FakeDocument({ sheets: [{ name: 'Leads', sheetId: 3, source: valuesSource([['Phone'], ['0547000001'], ['0547000002'], ['0547000003'], ['0547000004']]) }] });
    const user = new FakeUser(document, { fetch: httpTransport() });
    user.userProperties.setProperty('callmarker.preferences', JSON.stringify({ language: '', skip_card_up_to: 100 }));
    const addIn = loadAddIn(user.globals(), { config: { functionUrl: `${server.url}/upload_rows` } });
    user.select('A:A');
    addIn.uploadSelectedRows();
    assert.deepEqual(user.log.alerts, []);
    assert.deepEqual(user.log.toasts.map((t) => t.message), ['Uploaded 0 of 4…', 'Done: uploaded 4.']);
    await server.settle();
    assert.deepEqual(server.requests.map((r) => JSON.parse(r.body).cursor), [undefined, 'step-2']);
    assert.deepEqual(JSON.parse(server.requests[0].body).rows, [[2, 5]]);
    assert.equal(server.requests[0].headers.authorization, `Bearer ${user.idToken()}`);
  } finally {
    await server.close();
  }
});

test('a sheet can read its cells from a Sheets v4 API over HTTP', async () => {
  const values = [['Name', 'Phone'], ['Dana', '054-700-0000'], ['Yossi', '052-123-4567']];
  const server = await startServer({
    '/v4/spreadsheets/abc': [{ status: 200, body: { sheets: [{ properties: { sheetId: 9, title: 'לידים', gridProperties: { rowCount: 1000, columnCount: 26 } } }] } }],
    "/v4/spreadsheets/abc/values/'%D7%9C%D7%99%D7%93%D7%99%D7%9D'": [{ status: 200, body: { range: "'לידים'!A1:B3", majorDimension: 'ROWS', values } }],
  });
  try {
    const source = sheetsApiSource({ baseUrl: server.url, spreadsheetId: 'abc', sheetTitle: 'לידים', accessToken: 'ya29.test' });
    const document = new FakeDocument({ sheets: [{ name: 'לידים', sheetId: 9, source }] });
    const sheet = document.sheets[0];
    assert.equal(sheet.getMaxRows(), 1000);
    assert.equal(sheet.getLastRow(), 3);
    assert.deepEqual(sheet.getRange('A2:B3').getDisplayValues(), values.slice(1));
    assert.deepEqual(sheet.getRange(3, 1, 1, 3).getValues(), [['Yossi', '052-123-4567', '']]);
    await server.settle();
    assert.ok(server.requests.every((r) => r.headers.authorization === 'Bearer ya29.test'));
    assert.ok(server.requests.some((r) => /valueRenderOption=FORMATTED_VALUE/.test(r.url)));

    // And the add-in clips a whole-column selection to the rows the API holds.
    const user = new FakeUser(document, { fetch: scriptedTransport(() => answer()) });
    const addIn = loadAddIn(user.globals(), { config: { functionUrl: 'https://function.test/upload' } });
    user.select('B:B');
    addIn.uploadSelectedRows();
    assert.deepEqual(plain(user.log.requests[0].json.rows), [[2, 3]]);
  } finally {
    await server.close();
  }
});

test('A1 notation: cells, blocks, whole columns and whole rows', () => {
  assert.deepEqual(parseA1('B3', 1000, 26), { row: 3, lastRow: 3, column: 2, lastColumn: 2 });
  assert.deepEqual(parseA1('A2:C10', 1000, 26), { row: 2, lastRow: 10, column: 1, lastColumn: 3 });
  assert.deepEqual(parseA1('B:D', 1000, 26), { row: 1, lastRow: 1000, column: 2, lastColumn: 4 });
  assert.deepEqual(parseA1('3:7', 1000, 26), { row: 3, lastRow: 7, column: 1, lastColumn: 26 });
  assert.deepEqual(parseA1('AA10:AB12', 1000, 30), { row: 10, lastRow: 12, column: 27, lastColumn: 28 });
  assert.throws(() => parseA1('!!', 1000, 26), /Range not found/);
});

test('the fake HtmlService evaluates printing scriptlets over the script\'s globals, and refuses anything else', () => {
  const user = new FakeUser(new FakeDocument());
  const globals = user.globals();
  loadAddIn(globals);
  const template = globals.HtmlService.createTemplateFromFile('Help');
  template.lang = 'en';
  template.dir = 'ltr';
  template.content = '<p>a & b</p>';
  const html = template.evaluate().getContent();
  assert.match(html, /<html lang="en" dir="ltr">/, '<?= ?> prints the property, escaped');
  assert.match(html, /<p>a & b<\/p>/, '<?!= ?> prints it as it is');
  const sidebar = globals.HtmlService.createTemplateFromFile('Sidebar');
  sidebar.lang = 'he';
  sidebar.dir = 'rtl';
  sidebar.state = '{}';
  assert.match(sidebar.evaluate().getContent(), /<summary>הגדרות<\/summary>/, 'a global function of the script, called with a property');
  assert.throws(() => globals.HtmlService.createTemplateFromFile('Help').evaluate(), /"lang" is not defined/);
  const scriptlet = new (require('./fakes').FakeUser)(new FakeDocument()).globals().HtmlService;
  assert.throws(() => scriptlet.createHtmlOutputFromFile('NoSuchFile'), /No HTML file named NoSuchFile/);
});

test('the add-in\'s pages use printing scriptlets only, the ones the fake renders as Apps Script does', () => {
  const fs = require('node:fs');
  const path = require('node:path');
  const { APPS_SCRIPT_DIR } = require('./fakes');
  const pages = fs.readdirSync(APPS_SCRIPT_DIR).filter((name) => name.endsWith('.html'));
  assert.ok(pages.length >= 4);
  for (const name of pages) {
    assert.doesNotMatch(fs.readFileSync(path.join(APPS_SCRIPT_DIR, name), 'utf8'), /<\?(?![!=])/, name);
  }
});

test('properties refuse a value over 9 kB, as Apps Script does', () => {
  const { PropertiesService } = new FakeUser(new FakeDocument()).globals();
  assert.throws(() => PropertiesService.getDocumentProperties().setProperty('k', 'x'.repeat(9 * 1024 + 1)), /Argument too large/);
});
