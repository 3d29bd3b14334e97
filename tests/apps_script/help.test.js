'use strict';
// Help says what is true: its statuses and status columns are checked against the function's own code
// (the Outcome enum and STATUS_COLUMNS), in both languages.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { scenario, declared, plain } = require('./addin');

const FUNCTION_DIR = path.resolve(__dirname, '..', '..', 'function', 'callmarker_sheets');
/** Statuses the function is gaining; Help may list them before its enum does. */
const ARRIVING = ['sent'];

/** The values of the Outcome enum in model.py. */
function outcomes() {
  const source = fs.readFileSync(path.join(FUNCTION_DIR, 'model.py'), 'utf8');
  const body = /class Outcome\(StrEnum\):\n([\s\S]*?)(?=\n\S)/.exec(source)[1];
  return [...body.matchAll(/^ {4}[A-Z_]+ = "([a-z_]+)"/gm)].map((m) => m[1]);
}

/** STATUS_COLUMNS in sheet.py. */
function statusColumns() {
  const source = fs.readFileSync(path.join(FUNCTION_DIR, 'sheet.py'), 'utf8');
  const tuple = /^STATUS_COLUMNS = \(([^)]*)\)/m.exec(source)[1];
  return [...tuple.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
}

function helpOf(locale, options = {}) {
  const { user, addIn } = scenario({ locale, ...options });
  addIn.showHelp();
  return { html: user.log.dialogs[0].output.getContent(), title: user.log.dialogs[0].title, addIn };
}

test('the function\'s code is read as it is: the enum and the columns are found', () => {
  assert.ok(outcomes().length >= 7, outcomes().join(', '));
  assert.equal(statusColumns().length, 4);
});

for (const locale of ['en', 'iw']) {
  test(`Help (${locale}) lists every status the function writes, and only those, and says skipped is only counted`, () => {
    const { html } = helpOf(locale);
    const written = [...html.matchAll(/<tr data-status="([a-z_]+)">/g)].map((m) => m[1]);
    const counted = [...html.matchAll(/data-counted="([a-z_]+)"/g)].map((m) => m[1]);
    const known = [...new Set([...outcomes(), ...ARRIVING])];
    assert.deepEqual([...written, ...counted].sort(), known.sort(), 'every outcome, each once');
    assert.deepEqual(counted, ['skipped']);
    for (const status of written) {
      const row = new RegExp(`<tr data-status="${status}"><td><code>${status}</code> <span class="label">[^<]+</span></td><td>([^<]+)</td></tr>`).exec(html);
      assert.ok(row && row[1].length > 20, `${status} is explained`);
    }
  });

  test(`Help (${locale}) names the status columns the function writes, in its order`, () => {
    const { html } = helpOf(locale);
    assert.deepEqual([...html.matchAll(/<li data-column="([^"]+)">/g)].map((m) => m[1]), statusColumns());
  });
}

test('skipped is never written into a cell, as Help says: the function only counts it', () => {
  const sources = fs.readdirSync(FUNCTION_DIR).filter((f) => f.endsWith('.py')).map((f) => fs.readFileSync(path.join(FUNCTION_DIR, f), 'utf8')).join('\n');
  assert.doesNotMatch(sources, /RowResult\([^)]*Outcome\.SKIPPED/);
  assert.doesNotMatch(sources, /status\s*=\s*["']skipped["']/);
  assert.match(sources, /counts\[Outcome\.SKIPPED\] \+=/);
});

test('the add-in\'s own lists agree with the function\'s code', () => {
  const { addIn } = scenario();
  assert.deepEqual(plain(declared(addIn, 'STATUS_COLUMNS')), statusColumns());
  const statuses = [...plain(declared(addIn, 'ROW_STATUSES')), ...plain(declared(addIn, 'COUNTED_ONLY'))];
  assert.deepEqual(statuses.sort(), [...new Set([...outcomes(), ...ARRIVING])].sort());
  const order = plain(declared(addIn, 'COUNT_ORDER'));
  assert.deepEqual([...order].sort(), statuses.sort(), 'every outcome has its place in the counts');
});

test('Help explains every menu item in the user\'s language, Test connection included', () => {
  const { html, title } = helpOf('en');
  assert.equal(title, 'CallMarker help');
  for (const words of ['Upload selected rows', 'Upload all pending rows', 'Check selected rows', 'Remove selected rows', 'Retry failed rows',
    'Show problem rows', 'Settings', 'Automatic upload…', 'The status columns', 'Stop', 'pre-flight card', 'CallMarker log']) {
    assert.ok(html.includes(words), words);
  }
  assert.ok(html.includes('<dt>Test connection</dt>'));

  const hebrew = helpOf('iw');
  assert.equal(hebrew.title, 'עזרה ל-CallMarker');
  for (const words of ['העלאת השורות שנבחרו', 'שליחה חוזרת של שורות שנכשלו', 'עמודות הסטטוס', 'כרטיס הבדיקה המקדימה']) {
    assert.ok(hebrew.html.includes(words), words);
  }
  const words = hebrew.html.split('<body>')[1].replace(/<[^>]*>/g, '').replace(/&[a-z]+;|&#\d+;/g, ' ')
    .replace(/CallMarker (status|message|time|fingerprint|log)|CallMarker|Phone|Ctrl|Google|failed|uploaded|sent|rejected|invalid|valid|removed|skipped/g, '');
  assert.deepEqual(words.match(/[A-Za-z]{3,}/g), null, 'no English left in the Hebrew help but names and status words');
});
