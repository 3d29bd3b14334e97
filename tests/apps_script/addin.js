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
 * @param {{ clock?: { now(): number }, config?: { functionUrl?: string, idTokenAudience?: string } }} [options]
 *   clock: what the add-in's nowMs_() reads; config: the values deploy/apps_script.sh would write.
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
  if (options.clock) {
    const clock = options.clock;
    context.nowMs_ = () => clock.now();
  }
  return context;
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
  const counts = { uploaded: 0, rejected: 0, invalid: 0, failed: 0, skipped: 0, ...(fields.counts || {}) };
  return {
    status: 200,
    json: {
      done: true, cursor: null, total_rows: 0, processed_rows: 0, errors: [], retry_rows: [], message: '',
      ...fields,
      counts,
    },
  };
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
    id: 'sheet-abc123', sheets: [{ name: 'Leads', sheetId: 1204, source: valuesSource(leads(options.dataRows ?? 20)) }],
  });
  const fetch = scriptedTransport(options.handler || answersInOrder(options.answers || []));
  const user = new FakeUser(document, { email: options.email, fetch });
  const addIn = loadAddIn(user.globals(), {
    clock: options.clock, config: options.config || { functionUrl: FUNCTION_URL },
  });
  return { document, user, addIn };
}

module.exports = { loadAddIn, plain, scriptFiles, FUNCTION_URL, leads, answer, failure, scenario };
