'use strict';
/**
 * Loads the real apps_script/*.js files into one vm context, as Apps Script loads a project's files
 * into one global scope, with the fakes of fakes.js as its services; and the scenarios the tests share.
 */

const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { APPS_SCRIPT_DIR, FakeDocument, FakeUser, valuesSource, scriptedTransport, answersInOrder } = require('./fakes');

/** The project's script files, in the order clasp pushes them (by name). */
function scriptFiles() {
  return fs.readdirSync(APPS_SCRIPT_DIR).filter((name) => name.endsWith('.js')).sort();
}

/**
 * @param {Record<string, unknown>} globals from FakeUser.globals()
 * @param {{ clock?: { now(): number }, config?: { functionUrl?: string, idTokenAudience?: string },
 *   extraScripts?: Record<string, string> }} [options]
 *   clock: what the add-in's nowMs_() reads; config: the values deploy/apps_script.sh would write;
 *   extraScripts: more files of the project, name -> source (files other parts of the project add).
 * @returns {Record<string, any>} the context: every global function of the add-in
 */
function loadAddIn(globals, options = {}) {
  const context = vm.createContext({ ...globals, console });
  for (const name of scriptFiles()) {
    const file = path.join(APPS_SCRIPT_DIR, name);
    // With a config, Config.js is replaced as deploy/apps_script.sh replaces it in the pushed copy.
    const source = name === 'Config.js' && options.config
      ? `const CONFIG = Object.freeze(${JSON.stringify({ functionUrl: '', idTokenAudience: '', ...options.config })});`
      : fs.readFileSync(file, 'utf8');
    vm.runInContext(source, context, { filename: file });
  }
  for (const [name, source] of Object.entries(options.extraScripts || {})) {
    vm.runInContext(source, context, { filename: name });
  }
  if (globals.HtmlService && globals.HtmlService.useScope) {
    globals.HtmlService.useScope(context);
  }
  if (options.clock) {
    const clock = options.clock;
    context.nowMs_ = () => clock.now();
  }
  return context;
}

/** A name declared with const at the top of an add-in file (not a property of the global object). */
function declared(addIn, name) {
  return vm.runInContext(name, addIn);
}

/** A value from the vm context as a plain object of this realm, for deepStrictEqual. */
function plain(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}


// ---------------------------------------------------------------- scenarios shared by the tests

const FUNCTION_URL = 'https://europe-west1-sales-tools.cloudfunctions.net/upload_rows';

/** A header row and n leads with Israeli numbers: row 2 is the first lead. */
function leads(n) {
  const rows = [['Name', 'Phone', 'Email']];
  for (let i = 0; i < n; i += 1) {
    rows.push([`Lead ${i + 1}`, `054-7${String(i).padStart(6, '0')}`, `lead${i + 1}@example.com`]);
  }
  return rows;
}

/**
 * An answer of the function, 200, with counts for the whole job so far.
 * @param {Record<string, unknown>} [fields]
 */
function answer(fields = {}) {
  const counts = { uploaded: 0, sent: 0, rejected: 0, invalid: 0, failed: 0, skipped: 0, ...(fields.counts || {}) };
  return {
    status: 200,
    json: {
      done: true, cursor: null, total_rows: 0, processed_rows: 0, errors: [], retry_rows: [], message: '',
      unmapped_columns: [], lost_rows: [], problem_rows_url: null,
      ...fields,
      counts,
    },
  };
}

/**
 * The function's answer to a preview: what a job would do, in the contract's shape.
 * @param {Record<string, unknown>} [fields]
 */
function preview(fields = {}) {
  return {
    status: 200,
    json: {
      preview: {
        action: 'upload', total_rows: 0, to_send: 0, invalid: 0, skipped: 0, left_for_later: 0,
        columns: [], unmapped_columns: [], options: [], errors: [],
        ...fields,
      },
    },
  };
}

/**
 * Text as a reader sees it: without the invisible bidi isolates that keep its values in order. The
 * isolates themselves are checked by messages.test.js.
 */
function visible(text) {
  return String(text).replace(/[\u2066-\u2069]/g, '');
}

/** The state JSON a sidebar was opened with. */
function sidebarState(output) {
  return JSON.parse(/id="state">([\s\S]*?)<\/script>/.exec(output.getContent())[1]);
}

/** A failure of the function, in its {"error": {"code", "message"}} shape. */
function failure(status, message) {
  return { status, json: { error: { code: status, message } } };
}

/**
 * A spreadsheet with one sheet of leads, one user on it, and the add-in loaded for that user.
 * @param {{ dataRows?: number, answers?: object[], handler?: Function, email?: string, clock?: object,
 *   document?: FakeDocument, config?: object }} [options]
 */
function scenario(options = {}) {
  const document = options.document || new FakeDocument({
    id: 'sheet-abc123', sheets: [{ name: options.sheetName || 'Leads', sheetId: 1204, source: valuesSource(options.rows || leads(options.dataRows ?? 20)) }],
  });
  const fetch = scriptedTransport(options.handler || answersInOrder(options.answers || []));
  const user = new FakeUser(document, { email: options.email, locale: options.locale, fetch });
  const addIn = loadAddIn(user.globals(), {
    clock: options.clock, config: options.config || { functionUrl: FUNCTION_URL }, extraScripts: options.extraScripts,
  });
  if (options.skipCardUpTo !== undefined) {
    user.userProperties.setProperty('callmarker.preferences', JSON.stringify({ language: '', skip_card_up_to: options.skipCardUpTo }));
  }
  return { document, user, addIn };
}

/**
 * A scenario whose user skips the pre-flight card for every job (the card is tested on its own), so
 * that a menu item runs the job at once as before the card existed.
 */
function noCard(options = {}) {
  return scenario({ skipCardUpTo: 50000, ...options });
}

module.exports = {
  loadAddIn, plain, declared, scriptFiles, FUNCTION_URL, leads, answer, preview, failure, scenario, noCard, sidebarState, visible,
};
