'use strict';
// Every sentence in both languages: the same messages and placeholders in each, and every value from
// outside set apart by Unicode bidi isolates, in the order the sentence names them, so that a Hebrew
// header or value cannot reorder the words around it (nor English words a Hebrew sentence).

const test = require('node:test');
const assert = require('node:assert/strict');
const { scenario, declared, plain } = require('./addin');

const FSI = '\u2068';
const PDI = '\u2069';
const OPENERS = new Set(['\u2066', '\u2067', '\u2068']);
const PLACEHOLDER = /\{([#=]?)([a-z_]+)\}/g;

const { addIn } = scenario();
const MESSAGES = declared(addIn, 'MESSAGES');

/** A message's texts: one, or its singular and plural forms. */
function forms(message) {
  return typeof message === 'string' ? [message] : [message.one, message.other];
}

function placeholders(text) {
  return [...text.matchAll(PLACEHOLDER)].map(([, kind, name]) => ({ kind, name }));
}

/**
 * Hebrew values that would visibly reorder a sentence if they were not isolated: right-to-left words
 * with digits and quotes at their ends, as headers and cells hold them.
 */
function hebrewValue(name, i) {
  const values = ['טלפון', 'לידים "כנס" 2025', 'דנה כהן', '054-700-1234 שלוחה 5', 'מבצע קיץ 11', 'שם משפחה:'];
  return `${values[i % values.length]} ${name}`;
}

/**
 * The isolated runs of a text at the outer level, in logical order. Throws when the isolates do not
 * nest: a PDI without an opener, or an opener never closed.
 */
function isolatedRuns(text) {
  const runs = [];
  let depth = 0;
  let start = -1;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (OPENERS.has(ch)) {
      if (depth === 0) {
        start = i + 1;
      }
      depth += 1;
    } else if (ch === PDI) {
      assert.ok(depth > 0, `a PDI closes nothing at ${i} in ${JSON.stringify(text)}`);
      depth -= 1;
      if (depth === 0) {
        runs.push({ opener: text[start - 1], content: text.slice(start, i) });
      }
    }
  }
  assert.equal(depth, 0, `an isolate is never closed in ${JSON.stringify(text)}`);
  return runs;
}

test('both languages have the same messages, with the same placeholders and plural forms', () => {
  const en = Object.keys(MESSAGES.en).sort();
  const he = Object.keys(MESSAGES.he).sort();
  assert.deepEqual(he, en);
  for (const key of en) {
    const english = MESSAGES.en[key];
    const hebrew = MESSAGES.he[key];
    assert.equal(typeof hebrew, typeof english, key);
    const names = (message) => [...new Set(forms(message).flatMap((text) => placeholders(text).map((p) => p.kind + p.name)))].sort();
    assert.deepEqual(names(hebrew), names(english), key);
  }
});

test('every message, in both languages, isolates each value from outside, in the order it names them', () => {
  let rendered = 0;
  for (const lang of ['en', 'he']) {
    for (const [key, message] of Object.entries(MESSAGES[lang])) {
      for (const [form, count] of forms(message).length === 2 ? [[0, 1], [1, 7654]] : [[0, 7654]]) {
        const text = forms(message)[form];
        const params = forms(message).length === 2 ? { count } : {};
        // What must come out isolated, in logical order: each value from outside, and the few
        // literal runs a message isolates itself (a "+972" that must read left to right).
        const expected = [];
        const tokens = /\{([#=]?)([a-z_]+)\}|([\u2066\u2067\u2068])([^\u2069]*)\u2069/g;
        let i = 0;
        for (const [, kind, name, opener, literal] of text.matchAll(tokens)) {
          if (opener) {
            expected.push({ opener, content: literal });
            continue;
          }
          if (name === 'count') {
            params.count = count;
          } else if (kind === '#') {
            params[name] = 1234;
          } else if (kind === '=') {
            params[name] = `[${name}]`; // our own words, already written
          } else if (!(name in params)) {
            params[name] = hebrewValue(name, i);
          }
          if (kind === '') {
            expected.push({ opener: FSI, content: params[name] });
          }
          i += 1;
        }
        const out = addIn.t_(lang, key, params);
        rendered += 1;
        assert.doesNotMatch(out, /\{[#=]?[a-z_]+\}/, `${lang} ${key}: a placeholder is left`);
        const runs = isolatedRuns(out);
        assert.deepEqual(runs, expected, `${lang} ${key}: isolates in the order of the sentence`);
        let outside = out;
        for (const run of runs) {
          outside = outside.replace(run.opener + run.content + PDI, '');
        }
        for (const { content } of expected) {
          assert.ok(!outside.includes(content), `${lang} ${key}: "${content}" appears outside its isolate`);
        }
        if (placeholders(text).some((p) => p.name === 'column')) {
          assert.equal(out.split(params.column).length - 1, 1, `${lang} ${key}: the column is named once`);
        }
      }
    }
  }
  assert.ok(rendered > 400, `${rendered} renderings`);
});

test('a problem row never names its column twice, whatever language the function wrote its message in', () => {
  const line = (lang, column, message) => addIn.problemView_(lang, { row: 38, column, message }).text;
  // The function already isolated the header inside its own message: the line does not repeat it.
  assert.equal(line('he', 'טלפון', `${FSI}טלפון${PDI} "054-700-1234 ext. 5" has an extension`),
    `שורה 38: ${FSI}${FSI}טלפון${PDI} "054-700-1234 ext. 5" has an extension${PDI}`);
  assert.equal(line('en', 'Phone', 'Phone "12" is too short'), `Row 38: ${FSI}Phone "12" is too short${PDI}`);
  // A message that does not name the column gets it once, set apart.
  assert.equal(line('he', 'טלפון', 'יש בו שלוחה'), `שורה 38 · ${FSI}טלפון${PDI}: ${FSI}יש בו שלוחה${PDI}`);
  assert.equal(line('en', 'שם', 'is empty'), `Row 38 · ${FSI}שם${PDI}: ${FSI}is empty${PDI}`);
  assert.equal(line('en', null, 'CallMarker refused it'), `Row 38: ${FSI}CallMarker refused it${PDI}`);
  // A message that uses the column's word in passing still gets the column.
  assert.equal(line('he', 'טלפון', '"054-700" קצר מדי למספר טלפון'), `שורה 38 · ${FSI}טלפון${PDI}: ${FSI}"054-700" קצר מדי למספר טלפון${PDI}`);
});

test('a value cannot break out of its isolate with direction controls of its own', () => {
  const cases = [
    ['ends early\u2069 then "quoted"', 'stray PDI dropped'],
    ['\u2067opens and never closes', 'opener closed'],
    ['\u202eoverride\u202c and embedding', 'embeddings dropped'],
    [`${FSI}balanced${PDI} stays`, 'balanced kept'],
  ];
  for (const [value, why] of cases) {
    const out = addIn.t_('he', 'sheet.gone', { sheet: value });
    const runs = isolatedRuns(out);
    assert.equal(runs.length, 1, why);
    assert.ok(!/[\u202a-\u202e]/.test(out), why);
  }
  assert.equal(addIn.isolate_(`${FSI}balanced${PDI} stays`), `${FSI}${FSI}balanced${PDI} stays${PDI}`);
});

test('counts read the same in both languages; plural forms follow the count', () => {
  assert.equal(addIn.t_('en', 'card.send.upload', { count: 1 }), 'Upload 1 row');
  assert.equal(addIn.t_('en', 'card.send.upload', { count: 30000 }), 'Upload 30,000 rows');
  assert.equal(addIn.t_('he', 'card.send.upload', { count: 1 }), 'העלאת שורה אחת');
  assert.equal(addIn.t_('he', 'card.send.upload', { count: 30000 }), 'העלאת 30,000 שורות');
  assert.throws(() => addIn.t_('en', 'card.send.upload', {}), /needs count/);
  assert.throws(() => addIn.t_('en', 'no.such.message'), /No message no.such.message/);
});

test('the language comes from the Google account, Hebrew for both of Google\'s codes', () => {
  for (const [locale, lang] of [['iw', 'he'], ['he', 'he'], ['iw_IL', 'he'], ['he-IL', 'he'], ['en', 'en'], ['en_GB', 'en'], ['ru', 'en'], ['', 'en'], ['hex', 'en']]) {
    assert.equal(addIn.languageOf_(locale), lang, locale);
  }
  assert.deepEqual(plain(declared(addIn, 'LANGUAGES')), ['en', 'he']);
});
