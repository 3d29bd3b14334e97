'use strict';
/**
 * Fakes of the Apps Script services the add-in uses, for running apps_script/*.js under Node.
 *
 * Shape:
 *   const document = new FakeDocument({ id, sheets: [{ name, sheetId, source }] });
 *   const user = new FakeUser(document, { email, fetch, identityToken, oauthToken });
 *   user.select('A2:C10', 'A20:A30');               // the user's active range list
 *   const addIn = loadAddIn(user.globals(), { clock }); // see addin.js
 *   addIn.uploadSelectedRows();
 *   user.log.requests / toasts / alerts / sidebars / dialogs / menus
 *
 * A FakeDocument is what every editor shares: its sheets, DocumentProperties and the document lock.
 * A FakeUser is one person's execution: their selection, email, locale, tokens, UI, UrlFetchApp and
 * UserProperties. Two FakeUsers on one FakeDocument are two editors of one spreadsheet.
 *
 * Authorization modes, as Google's add-on guide describes them: user.authMode is 'FULL' unless a test
 * runs code with user.inAuthMode('NONE' | 'LIMITED', fn). In NONE only menus, the user's locale,
 * Utilities and Logger work; in LIMITED the document and properties work too, but not the network,
 * the user's email, or dialogs and sidebars. Anything else throws as Apps Script does.
 *
 * Where the cells come from: each sheet has a `source` with
 *   { maxRows(), maxColumns(), values(render) } (render: 'FORMATTED_VALUE' | 'UNFORMATTED_VALUE',
 *   values as the Sheets API returns them: rows of cells, trailing empty rows left out).
 * valuesSource(rows) keeps them in memory; sheetsApiSource({ baseUrl, spreadsheetId, sheetTitle })
 * reads them from a Sheets v4 API (the emulator in tests/emulators/sheets) over HTTP on every call.
 *
 * Where UrlFetchApp sends requests: `fetch` is a transport, request -> { status, headers, body }.
 *   scriptedTransport(handler) calls handler(request) in-process; handler returns
 *     { status, json } or { status, body, headers }, or throws to play an unreachable host.
 *   httpTransport({ allowedHosts }) makes real HTTP calls, synchronously as UrlFetchApp does: each
 *     call runs `fetch` in a child Node process and waits for it (spawnSync). It refuses any host
 *     that is not in allowedHosts (loopback by default), so no test can reach the internet.
 *     The server it calls must not run on the test's main thread, which is blocked during the call:
 *     run it in another process (the Python emulators) or a worker thread (see fakes.test.js).
 * Every request, either way, is recorded in user.log.requests with its parsed JSON payload.
 *
 * Installable triggers, as Google's trigger guides describe them: ScriptApp.newTrigger(...) records a
 * trigger on the FakeDocument (document.triggers), owned by the user who made it; document.dueTriggers()
 * says which clock triggers have come due on the document's clock (new FakeDocument({ clock })), and
 * fireTrigger(trigger, addIn, event) runs its function as Google would: as its owner, in AuthMode.FULL,
 * with no user interface (SpreadsheetApp.getUi() throws) and no selection. The limits a real project
 * meets are kept: 20 triggers per user per script; everyMinutes only 1, 5, 10, 15 or 30; and in an
 * add-on (new FakeUser(document, { installationSource: 'APPS_MARKETPLACE_DOMAIN_ADD_ON' })) one
 * trigger of each type per user per document and no time-driven trigger more often than hourly.
 * MailApp.sendEmail records each email in user.log.emails, within user.mailQuota a day.
 *
 * Sheets held in memory (valuesSource) can be written as SpreadsheetApp writes them: setValues,
 * inserted and deleted rows, new sheets (insertSheet), frozen rows and protections.
 */

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const vm = require('node:vm');

const APPS_SCRIPT_DIR = path.resolve(__dirname, '..', '..', 'apps_script');
/** Apps Script refuses a property value over 9 kB, and a property store over 500 kB. */
const MAX_PROPERTY_VALUE_BYTES = 9 * 1024;
const MAX_PROPERTY_STORE_BYTES = 500 * 1024;
/** Installable triggers per user per script. */
const MAX_TRIGGERS_PER_USER = 20;
/** The intervals ClockTriggerBuilder.everyMinutes accepts. */
const EVERY_MINUTES = Object.freeze([1, 5, 10, 15, 30]);
const HOUR_MS = 60 * 60 * 1000;
/** UrlFetchApp gives up after about 60 s. */
const FETCH_TIMEOUT_MS = 60 * 1000;
const LOOPBACK_HOSTS = Object.freeze(['127.0.0.1', 'localhost', '[::1]', '::1']);

// ---------------------------------------------------------------- cells

/**
 * Cells held in memory: rows of values, row 1 first.
 * @param {unknown[][]} rows
 * @param {{ maxRows?: number, maxColumns?: number, display?: (value: unknown) => string }} [options]
 */
function valuesSource(rows, options = {}) {
  const display = options.display || ((value) => (value === null || value === undefined ? '' : String(value)));
  const trimmed = () => {
    let last = rows.length;
    while (last > 0 && rows[last - 1].every((cell) => cell === '' || cell === null || cell === undefined)) {
      last -= 1;
    }
    return rows.slice(0, last);
  };
  return {
    rows,
    maxRows: () => Math.max(options.maxRows || 1000, rows.length),
    maxColumns: () => Math.max(options.maxColumns || 26, ...rows.map((row) => row.length)),
    values: (render) => trimmed().map((row) => (render === 'FORMATTED_VALUE' ? row.map(display) : row.slice())),
  };
}

/**
 * Cells read from a Sheets v4 API over HTTP (synchronously), fresh on every call.
 * @param {{ baseUrl: string, spreadsheetId: string, sheetTitle: string, accessToken?: string,
 *   transport?: (request: object) => { status: number, body: string } }} options
 */
function sheetsApiSource(options) {
  const transport = options.transport || httpTransport();
  const base = options.baseUrl.replace(/\/$/, '') + '/v4/spreadsheets/' + encodeURIComponent(options.spreadsheetId);
  const get = (url) => {
    const headers = options.accessToken ? { authorization: 'Bearer ' + options.accessToken } : {};
    const response = transport({ url, method: 'GET', headers, payload: undefined });
    if (response.status !== 200) {
      throw new Error(`Sheets API answered ${response.status} for ${url}: ${response.body.slice(0, 200)}`);
    }
    return JSON.parse(response.body);
  };
  const properties = () => {
    const meta = get(base + '?fields=sheets.properties');
    const sheet = meta.sheets.find((s) => s.properties.title === options.sheetTitle);
    if (!sheet) {
      throw new Error(`no sheet titled ${options.sheetTitle} in ${options.spreadsheetId}`);
    }
    return sheet.properties;
  };
  return {
    maxRows: () => properties().gridProperties.rowCount,
    maxColumns: () => properties().gridProperties.columnCount,
    values: (render) => {
      const range = encodeURIComponent(`'${options.sheetTitle.replace(/'/g, "''")}'`);
      const answer = get(`${base}/values/${range}?majorDimension=ROWS&valueRenderOption=${render || 'FORMATTED_VALUE'}`);
      return answer.values || [];
    },
  };
}

// ---------------------------------------------------------------- A1 notation

function columnNumber(letters) {
  return letters.toUpperCase().split('').reduce((n, c) => n * 26 + (c.charCodeAt(0) - 64), 0);
}

function columnLetters(n) {
  let letters = '';
  for (let rest = n; rest > 0; rest = Math.floor((rest - 1) / 26)) {
    letters = String.fromCharCode(65 + ((rest - 1) % 26)) + letters;
  }
  return letters;
}

/**
 * "B3", "A2:C10", "A:A", "B:D", "3:7" -> { row, column, lastRow, lastColumn } on a sheet of the given size.
 */
function parseA1(a1, maxRows, maxColumns) {
  const part = /^([A-Za-z]*)(\d*)$/;
  const [start, end = start] = a1.split(':');
  const [, c1, r1] = part.exec(start) || [];
  const [, c2, r2] = part.exec(end) || [];
  if (c1 === undefined || c2 === undefined || (!c1 && !r1) || (!c2 && !r2)) {
    throw new Error(`Range not found: ${a1}`);
  }
  const box = {
    row: r1 ? Number(r1) : 1,
    column: c1 ? columnNumber(c1) : 1,
    lastRow: r2 ? Number(r2) : maxRows,
    lastColumn: c2 ? columnNumber(c2) : maxColumns,
  };
  return {
    row: Math.min(box.row, box.lastRow),
    lastRow: Math.max(box.row, box.lastRow),
    column: Math.min(box.column, box.lastColumn),
    lastColumn: Math.max(box.column, box.lastColumn),
  };
}

// ---------------------------------------------------------------- spreadsheet

class FakeRange {
  constructor(sheet, box) {
    this.sheet = sheet;
    this.box = box;
  }
  getSheet() { return this.sheet; }
  getRow() { return this.box.row; }
  getLastRow() { return this.box.lastRow; }
  getNumRows() { return this.box.lastRow - this.box.row + 1; }
  getColumn() { return this.box.column; }
  getLastColumn() { return this.box.lastColumn; }
  getNumColumns() { return this.box.lastColumn - this.box.column + 1; }
  getA1Notation() {
    const { row, column, lastRow, lastColumn } = this.box;
    const first = columnLetters(column) + row;
    const last = columnLetters(lastColumn) + lastRow;
    return first === last ? first : `${first}:${last}`;
  }
  /** Selects the range for the user whose execution is running, as clicking it would. */
  activate() {
    const user = this.sheet.spreadsheet.executing;
    user.activeSheet = this.sheet;
    user.selection = [this];
    user.currentCell = new FakeRange(this.sheet, { row: this.box.row, column: this.box.column, lastRow: this.box.row, lastColumn: this.box.column });
    user.log.activations.push({ sheet: this.sheet.name, range: this.getA1Notation() });
    return this;
  }
  /** Makes this cell the current one; the selection stays when the cell is in it, as Apps Script does. */
  activateAsCurrentCell() {
    const user = this.sheet.spreadsheet.executing;
    const inSelection = user.activeSheet === this.sheet && user.selection.some((range) => range.contains(this.box.row, this.box.column));
    if (!inSelection) {
      user.activeSheet = this.sheet;
      user.selection = [this];
    }
    user.currentCell = this;
    user.log.activations.push({ sheet: this.sheet.name, currentCell: this.getA1Notation() });
    return this;
  }
  contains(row, column) {
    return row >= this.box.row && row <= this.box.lastRow && column >= this.box.column && column <= this.box.lastColumn;
  }
  getValues() { return this.read('UNFORMATTED_VALUE', ''); }
  getDisplayValues() { return this.read('FORMATTED_VALUE', ''); }
  /**
   * Writes cells as Range.setValues does: the grid must match the range. A string that starts with an
   * apostrophe is kept as the text after it, as Sheets keeps it; any other string is stored as given.
   */
  setValues(values) {
    if (!Array.isArray(values) || values.length !== this.getNumRows() || values.some((row) => !Array.isArray(row) || row.length !== this.getNumColumns())) {
      throw new Error(`The number of rows or columns in the data does not match the range (${this.getA1Notation()}).`);
    }
    const rows = this.sheet.writableRows();
    values.forEach((row, r) => {
      const at = this.box.row - 1 + r;
      while (rows.length <= at) {
        rows.push([]);
      }
      row.forEach((value, c) => {
        const column = this.box.column - 1 + c;
        while (rows[at].length < column) {
          rows[at].push('');
        }
        rows[at][column] = typeof value === 'string' && value.startsWith("'") ? value.slice(1) : value;
      });
    });
    return this;
  }
  setValue(value) { return this.setValues([[value]]); }
  setFontWeight(weight) { this.sheet.formats.push({ range: this.getA1Notation(), fontWeight: weight }); return this; }
  read(render, empty) {
    const values = this.sheet.source.values(render);
    const out = [];
    for (let r = this.box.row; r <= this.box.lastRow; r += 1) {
      const row = values[r - 1] || [];
      const cells = [];
      for (let c = this.box.column; c <= this.box.lastColumn; c += 1) {
        cells.push(row[c - 1] === undefined ? empty : row[c - 1]);
      }
      out.push(cells);
    }
    return out;
  }
}

class FakeRangeList {
  constructor(ranges) { this.ranges = ranges; }
  getRanges() { return this.ranges.slice(); }
}

class FakeProtection {
  constructor(sheet) {
    this.sheet = sheet;
    this.description = '';
    this.warningOnly = false;
  }
  setDescription(description) { this.description = String(description); return this; }
  getDescription() { return this.description; }
  setWarningOnly(warningOnly) { this.warningOnly = warningOnly === true; return this; }
  isWarningOnly() { return this.warningOnly; }
}

class FakeSheet {
  constructor(spreadsheet, { name, sheetId, source, formUrl }) {
    this.spreadsheet = spreadsheet;
    this.name = name;
    this.sheetId = sheetId;
    this.source = source || valuesSource([]);
    this.formUrl = formUrl || null;
    this.protections = [];
    this.formats = [];
    this.frozenRows = 0;
  }
  getName() { return this.name; }
  getSheetId() { return this.sheetId; }
  getParent() { return this.spreadsheet; }
  activate() {
    const user = this.spreadsheet.executing;
    if (user.activeSheet !== this) {
      user.activeSheet = this;
      user.selection = [];
    }
    return this;
  }
  getMaxRows() { return this.source.maxRows(); }
  getMaxColumns() { return this.source.maxColumns(); }
  /** The sheet's rows, to write into: only a sheet held in memory can be written here. */
  writableRows() {
    if (!Array.isArray(this.source.rows)) {
      throw new Error(`the fake writes only sheets held in memory; "${this.name}" reads its cells from elsewhere`);
    }
    return this.source.rows;
  }
  insertRowsAfter(afterPosition, howMany) {
    const rows = this.writableRows();
    while (rows.length < afterPosition) {
      rows.push([]);
    }
    rows.splice(afterPosition, 0, ...Array.from({ length: howMany }, () => []));
    return this;
  }
  insertRowAfter(afterPosition) { return this.insertRowsAfter(afterPosition, 1); }
  deleteRows(rowPosition, howMany) {
    const rows = this.writableRows();
    if (rowPosition < 1 || rowPosition + howMany - 1 > this.getMaxRows()) {
      throw new Error('Those rows are out of bounds.');
    }
    rows.splice(rowPosition - 1, howMany);
  }
  setFrozenRows(rows) { this.frozenRows = rows; }
  getFrozenRows() { return this.frozenRows || 0; }
  /** The URL of the Google Form whose answers this sheet receives, or null. */
  getFormUrl() { return this.formUrl || null; }
  protect() {
    const protection = new FakeProtection(this);
    this.protections.push(protection);
    return protection;
  }
  getProtections(_type) { return this.protections.slice(); }
  getLastRow() { return this.source.values('UNFORMATTED_VALUE').length; }
  getLastColumn() {
    return Math.max(0, ...this.source.values('UNFORMATTED_VALUE').map((row) => row.length));
  }
  getRange(a1OrRow, column, numRows = 1, numColumns = 1) {
    if (typeof a1OrRow === 'string') {
      return new FakeRange(this, parseA1(a1OrRow, this.getMaxRows(), this.getMaxColumns()));
    }
    return new FakeRange(this, {
      row: a1OrRow, column, lastRow: a1OrRow + numRows - 1, lastColumn: column + numColumns - 1,
    });
  }
}

/** One spreadsheet as every editor shares it. */
class FakeDocument {
  /**
   * @param {{ id?: string, name?: string, sheets?: object[], timeZone?: string, clock?: { now(): number } }} [options]
   *   clock: what time-driven triggers are due by (the add-in's clock, when a test moves time)
   */
  constructor({ id = 'spreadsheet-1', name = 'Leads', sheets = [{ name: 'Leads', sheetId: 0 }], timeZone = 'Asia/Jerusalem', clock } = {}) {
    this.id = id;
    this.name = name;
    this.timeZone = timeZone;
    this.clock = clock || { now: () => Date.now() };
    /** Every user's installable triggers on this document (see FakeTriggerBuilder). */
    this.triggers = [];
    this.triggerCount = 0;
    /** The user whose execution is running: tests are single-threaded, so it is the last one to call in. */
    this.executing = null;
    this.sheets = sheets.map((sheet) => new FakeSheet(this, sheet));
    this.documentProperties = new FakeProperties();
    this.scriptProperties = new FakeProperties();
    this.lockOwner = null;
  }
  sheet(name) {
    const found = this.sheets.find((s) => s.name === name);
    if (!found) {
      throw new Error(`no sheet ${name}`);
    }
    return found;
  }
  /** A new sheet at the end, held in memory, as Spreadsheet.insertSheet makes it. */
  insertSheet(name) {
    if (this.sheets.some((s) => s.name === name)) {
      throw new Error(`A sheet with the name "${name}" already exists. Please enter another name.`);
    }
    const sheetId = 1 + Math.max(0, ...this.sheets.map((s) => s.sheetId));
    const sheet = new FakeSheet(this, { name, sheetId, source: valuesSource([]) });
    this.sheets.push(sheet);
    return sheet;
  }
  /** The clock triggers whose time has come, on the document's clock: a recurring one once per interval. */
  dueTriggers() {
    const now = this.clock.now();
    return this.triggers.filter((t) => t.type === 'CLOCK' && (t.everyMs
      ? now - (t.lastFiredAt === null ? t.createdAt : t.lastFiredAt) >= t.everyMs
      : t.lastFiredAt === null && now >= t.atMs));
  }
  /** An answer of a Google Form arriving in a sheet: its row appended, and the event a trigger gets. */
  formAnswer(sheetName, values) {
    const sheet = this.sheet(sheetName);
    const rows = sheet.writableRows();
    rows.push(values.slice());
    const header = rows[0] || [];
    const row = rows.length;
    return {
      range: sheet.getRange(row, 1, 1, values.length),
      values: values.map(String),
      namedValues: Object.fromEntries(header.map((name, i) => [name, [String(values[i] === undefined ? '' : values[i])]])),
    };
  }
}

/**
 * Runs an installable trigger's function as Google runs it: as the trigger's owner, in AuthMode.FULL,
 * without a user interface, with the event Google passes (authMode and triggerUid added).
 * @param {object} trigger from document.triggers
 * @param {Record<string, Function>} addIn the owner's add-in (loadAddIn of the owner's globals)
 * @param {object} [event] more of the event: a form answer's range, values, namedValues
 */
function fireTrigger(trigger, addIn, event = {}) {
  const document = trigger.owner.document;
  if (!document.triggers.includes(trigger)) {
    throw new Error(`trigger ${trigger.id} was deleted: it does not fire`);
  }
  trigger.lastFiredAt = document.clock.now();
  trigger.fired += 1;
  const when = new Date(trigger.lastFiredAt);
  const clockFields = trigger.type === 'CLOCK' ? {
    year: when.getUTCFullYear(), month: when.getUTCMonth() + 1, 'day-of-month': when.getUTCDate(), hour: when.getUTCHours(),
    minute: when.getUTCMinutes(), second: when.getUTCSeconds(), timezone: 'UTC',
  } : {};
  return trigger.owner.asTrigger(() => addIn[trigger.handler]({ authMode: 'FULL', triggerUid: trigger.id, ...clockFields, ...event }));
}

/** The spreadsheet as one user's execution sees it: their active sheet and selection. */
class FakeSpreadsheet {
  constructor(user) { this.user = user; }
  getId() { return this.user.document.id; }
  getName() { return this.user.document.name; }
  getUrl() { return `https://docs.google.com/spreadsheets/d/${this.user.document.id}/edit`; }
  getSheets() { return this.user.document.sheets.slice(); }
  getSheetByName(name) { return this.user.document.sheets.find((s) => s.name === name) || null; }
  getActiveSheet() { return this.user.activeSheet; }
  getActiveRangeList() {
    return this.user.selection.length ? new FakeRangeList(this.user.selection) : null;
  }
  getActiveRange() { return this.user.selection[this.user.selection.length - 1] || null; }
  getCurrentCell() { return this.user.currentCell || null; }
  getSpreadsheetTimeZone() { return this.user.document.timeZone; }
  insertSheet(name) { return this.user.document.insertSheet(name); }
  toast(message, title, timeoutSeconds) {
    this.user.log.toasts.push({ message: String(message), title, timeoutSeconds });
  }
}

// ---------------------------------------------------------------- UI and HTML

const ButtonSet = Object.freeze({ OK: 'OK', OK_CANCEL: 'OK_CANCEL', YES_NO: 'YES_NO', YES_NO_CANCEL: 'YES_NO_CANCEL' });
const Button = Object.freeze({ OK: 'OK', CANCEL: 'CANCEL', YES: 'YES', NO: 'NO', CLOSE: 'CLOSE' });

class FakeMenu {
  constructor(ui, title, addon = false) {
    this.ui = ui;
    this.title = title;
    this.addon = addon;
    this.items = [];
  }
  addItem(caption, functionName) {
    this.items.push({ caption, functionName });
    return this;
  }
  addSeparator() {
    this.items.push({ separator: true });
    return this;
  }
  addSubMenu(menu) {
    this.items.push({ subMenu: menu.title, items: menu.items });
    return this;
  }
  addToUi() { this.ui.user.log.menus.push({ title: this.title, addon: this.addon, items: this.items.slice() }); }
}

class FakeUi {
  constructor(user) {
    this.user = user;
    this.ButtonSet = ButtonSet;
    this.Button = Button;
  }
  createMenu(title) { return new FakeMenu(this, title); }
  /** Under Extensions, titled with the add-on's name (the script project's title for a bound script). */
  createAddonMenu() { return new FakeMenu(this, 'CallMarker', true); }
  /** alert(prompt) · alert(prompt, buttons) · alert(title, prompt, buttons); answers come from user.alertAnswers. */
  alert(...args) {
    this.user.requireMode('Ui.alert', ['FULL']);
    this.user.requireWindow();
    const [title, prompt, buttons] = args.length === 3 ? args : args.length === 2 && args[1] in ButtonSet
      ? [null, args[0], args[1]] : [null, args[0], ButtonSet.OK];
    const answer = this.user.alertAnswers.length ? this.user.alertAnswers.shift()
      : buttons === ButtonSet.YES_NO || buttons === ButtonSet.YES_NO_CANCEL ? Button.YES : Button.OK;
    this.user.log.alerts.push({ title, prompt: String(prompt), buttons, answer });
    return answer;
  }
  showSidebar(output) {
    this.user.requireMode('Ui.showSidebar', ['FULL']);
    this.user.requireWindow();
    this.user.log.sidebars.push(output);
  }
  showModalDialog(output, title) {
    this.user.requireMode('Ui.showModalDialog', ['FULL']);
    this.user.requireWindow();
    this.user.log.dialogs.push({ output, title, modal: true });
  }
  showModelessDialog(output, title) {
    this.user.requireMode('Ui.showModelessDialog', ['FULL']);
    this.user.requireWindow();
    this.user.log.dialogs.push({ output, title, modal: false });
  }
}

class FakeHtmlOutput {
  constructor(content) {
    this.content = content;
    this.title = '';
    this.width = null;
    this.height = null;
  }
  getContent() { return this.content; }
  setTitle(title) { this.title = title; return this; }
  getTitle() { return this.title; }
  setWidth(width) { this.width = width; return this; }
  getWidth() { return this.width; }
  setHeight(height) { this.height = height; return this; }
  getHeight() { return this.height; }
  setSandboxMode() { return this; }
  setXFrameOptionsMode() { return this; }
  addMetaTag() { return this; }
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/**
 * A template from a file. Renders the printing scriptlets <?= expression ?> (escaped) and
 * <?!= expression ?> (as it is): each expression is evaluated as Apps Script does, with the template's
 * properties as variables over the script's global scope (the add-in's functions, such as include_).
 * Non-printing scriptlets (<? code ?>) are refused, so a template that relies on more than this fake
 * understands fails loudly instead of rendering wrong.
 */
class FakeHtmlTemplate {
  constructor(source, scope) {
    Object.defineProperty(this, 'source', { value: source, enumerable: false });
    Object.defineProperty(this, 'scope', { value: scope, enumerable: false });
  }
  evaluate() {
    const html = this.source.replace(/<\?(!?=)?\s*([\s\S]*?)\s*\?>/g, (whole, kind, expression) => {
      if (!kind) {
        throw new Error(`the fake HtmlService renders only printing scriptlets, not ${whole}`);
      }
      const value = this.evalInScope(expression);
      return kind === '!=' ? String(value) : escapeHtml(value);
    });
    return new FakeHtmlOutput(html);
  }
  evalInScope(expression) {
    const properties = { ...this };
    if (/^[A-Za-z_$][\w$]*$/.test(expression) && !(expression in properties) && !(this.scope && expression in this.scope)) {
      throw new Error(`ReferenceError: "${expression}" is not defined.`);
    }
    if (!this.scope) {
      if (!(expression in properties)) {
        throw new Error(`no script is loaded to evaluate ${expression}`);
      }
      return properties[expression];
    }
    // The template's properties shadow the script's globals, as in Apps Script.
    const run = vm.runInContext(`(function (__properties) { with (__properties) { return (${expression}); } })`, this.scope);
    return run(properties);
  }
}

function readHtmlFile(name) {
  const file = path.join(APPS_SCRIPT_DIR, name.endsWith('.html') ? name : `${name}.html`);
  if (!fs.existsSync(file)) {
    throw new Error(`No HTML file named ${name} was found.`);
  }
  return fs.readFileSync(file, 'utf8');
}

/**
 * HtmlService for one execution; loadAddIn gives it the script's global scope (useScope), which its
 * templates' scriptlets evaluate in.
 */
function fakeHtmlService() {
  let scope = null;
  return {
    createHtmlOutputFromFile: (name) => new FakeHtmlOutput(readHtmlFile(name)),
    createTemplateFromFile: (name) => new FakeHtmlTemplate(readHtmlFile(name), scope),
    createHtmlOutput: (html = '') => new FakeHtmlOutput(html),
    SandboxMode: Object.freeze({ IFRAME: 'IFRAME', NATIVE: 'NATIVE' }),
    XFrameOptionsMode: Object.freeze({ ALLOWALL: 'ALLOWALL', DEFAULT: 'DEFAULT' }),
    useScope: (context) => { scope = context; },
  };
}

// ---------------------------------------------------------------- properties and locks

class FakeProperties {
  constructor() { this.values = new Map(); }
  getProperty(key) { return this.values.has(key) ? this.values.get(key) : null; }
  setProperty(key, value) {
    const text = String(value);
    if (Buffer.byteLength(text, 'utf8') > MAX_PROPERTY_VALUE_BYTES) {
      throw new Error('Argument too large: value');
    }
    const others = [...this.values].filter(([k]) => k !== String(key))
      .reduce((sum, [k, v]) => sum + Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8'), 0);
    if (others + Buffer.byteLength(String(key), 'utf8') + Buffer.byteLength(text, 'utf8') > MAX_PROPERTY_STORE_BYTES) {
      throw new Error('You have exceeded the property storage quota. Please remove some properties and try again.');
    }
    this.values.set(String(key), text);
    return this;
  }
  setProperties(properties, deleteAllOthers = false) {
    if (deleteAllOthers) {
      this.values.clear();
    }
    for (const [key, value] of Object.entries(properties)) {
      this.setProperty(key, value);
    }
    return this;
  }
  getProperties() { return Object.fromEntries(this.values); }
  getKeys() { return [...this.values.keys()]; }
  deleteProperty(key) { this.values.delete(key); return this; }
  deleteAllProperties() { this.values.clear(); return this; }
}

/**
 * The document lock as one execution holds it. Tests are single-threaded, so contention is played
 * by another user holding the lock (user.holdDocumentLock()); tryLock then fails at once.
 */
class FakeLock {
  constructor(user) { this.user = user; }
  tryLock(_timeoutMs) {
    const document = this.user.document;
    if (document.lockOwner && document.lockOwner !== this.user) {
      return false;
    }
    document.lockOwner = this.user;
    this.user.log.locks.push('acquired');
    return true;
  }
  waitLock(timeoutMs) {
    if (!this.tryLock(timeoutMs)) {
      throw new Error('Lock timeout: another process was holding the lock for too long.');
    }
  }
  hasLock() { return this.user.document.lockOwner === this.user; }
  releaseLock() {
    if (this.hasLock()) {
      this.user.document.lockOwner = null;
      this.user.log.locks.push('released');
    }
  }
}

// ---------------------------------------------------------------- HTTP

class FakeHTTPResponse {
  constructor({ status, headers = {}, body = '' }) {
    this.status = status;
    this.headers = headers;
    this.body = body;
  }
  getResponseCode() { return this.status; }
  getContentText() { return this.body; }
  getHeaders() { return { ...this.headers }; }
  getAllHeaders() { return { ...this.headers }; }
}

/**
 * A transport that answers in-process. handler(request) returns { status, json } or
 * { status, body, headers }; throwing plays a host that cannot be reached.
 */
function scriptedTransport(handler) {
  return (request) => {
    const answer = handler(request);
    if ('json' in answer) {
      return { status: answer.status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(answer.json) };
    }
    return { status: answer.status, headers: answer.headers || {}, body: answer.body || '' };
  };
}

/** A handler that serves answers in order and refuses any request past the last one. */
function answersInOrder(answers) {
  const queue = answers.slice();
  return (request) => {
    if (queue.length === 0) {
      throw new Error(`unexpected request to ${request.url}: no answer left`);
    }
    const next = queue.shift();
    return typeof next === 'function' ? next(request) : next;
  };
}

// Runs in a child process: one fetch, its outcome as JSON on stdout.
const CHILD_FETCH = `
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', async () => {
  const request = JSON.parse(input);
  try {
    const response = await fetch(request.url, {
      method: request.method, headers: request.headers, body: request.body,
      redirect: 'manual', signal: AbortSignal.timeout(request.timeoutMs),
    });
    const headers = {};
    response.headers.forEach((value, name) => { headers[name] = value; });
    process.stdout.write(JSON.stringify({ status: response.status, headers, body: await response.text() }));
  } catch (error) {
    process.stdout.write(JSON.stringify({ error: String(error && error.cause ? error.cause.code || error.cause : error) }));
  }
});
`;

/**
 * A transport that makes a real HTTP call and blocks until it is answered, as UrlFetchApp does.
 * @param {{ allowedHosts?: readonly string[], timeoutMs?: number }} [options]
 */
function httpTransport(options = {}) {
  const allowedHosts = options.allowedHosts || LOOPBACK_HOSTS;
  const timeoutMs = options.timeoutMs || FETCH_TIMEOUT_MS;
  return (request) => {
    const url = new URL(request.url);
    if (!allowedHosts.includes(url.hostname)) {
      throw new Error(`refused: ${url.hostname} is not among the hosts tests may reach`);
    }
    const child = spawnSync(process.execPath, ['-e', CHILD_FETCH], {
      input: JSON.stringify({ url: request.url, method: request.method, headers: request.headers, body: request.payload, timeoutMs }),
      encoding: 'utf8',
      timeout: timeoutMs + 5000,
      maxBuffer: 256 * 1024 * 1024,
    });
    if (child.status !== 0 || !child.stdout) {
      throw new Error(`fetch process failed: ${child.error || child.stderr}`);
    }
    const outcome = JSON.parse(child.stdout);
    if (outcome.error) {
      throw new Error(`Address unavailable: ${request.url} (${outcome.error})`);
    }
    return outcome;
  };
}

class FakeUrlFetchApp {
  constructor(user, transport) {
    this.user = user;
    this.transport = transport;
  }
  fetch(url, params = {}) {
    const headers = { ...(params.headers || {}) };
    if (params.contentType) {
      headers['Content-Type'] = params.contentType;
    }
    const payload = params.payload === undefined ? undefined : String(params.payload);
    const request = {
      url: String(url),
      method: String(params.method || 'get').toUpperCase(),
      headers,
      payload,
      json: payload !== undefined && /json/.test(params.contentType || '') ? JSON.parse(payload) : undefined,
      muteHttpExceptions: params.muteHttpExceptions === true,
      followRedirects: params.followRedirects !== false,
    };
    this.user.log.requests.push(request);
    if (!this.transport) {
      throw new Error('this FakeUser was given no fetch transport');
    }
    let answer;
    try {
      answer = this.transport(request);
    } catch (error) {
      throw new Error(`Address unavailable: ${request.url}` + (error && error.message ? ` (${error.message})` : ''), { cause: error });
    }
    const response = new FakeHTTPResponse(answer);
    if (response.status >= 400 && !request.muteHttpExceptions) {
      throw new Error(`Request failed for ${request.url} returned code ${response.status}. Truncated server response: ${response.body.slice(0, 100)}`);
    }
    return response;
  }
}

// ---------------------------------------------------------------- triggers and mail

/** A trigger as ScriptApp returns it: a view of a record in document.triggers. */
class FakeTrigger {
  constructor(record) { this.record = record; }
  getUniqueId() { return this.record.id; }
  getHandlerFunction() { return this.record.handler; }
  getEventType() { return this.record.type; }
  getTriggerSource() { return this.record.type === 'CLOCK' ? 'CLOCK' : 'SPREADSHEETS'; }
  getTriggerSourceId() { return this.record.type === 'CLOCK' ? null : this.record.owner.document.id; }
}

/**
 * ScriptApp.newTrigger(functionName) for one user. What create() refuses, and why:
 * - everyMinutes(n) other than 1, 5, 10, 15 or 30 (ClockTriggerBuilder's reference);
 * - more than 20 triggers for one user of one script (Apps Script's quotas page);
 * - in an add-on, a second trigger of one type for the same user and document, and a time-driven
 *   trigger that runs more often than once an hour (the editor add-ons' trigger guide; a one-off
 *   trigger sooner than an hour is read as "more often" too, the careful reading).
 */
class FakeTriggerBuilder {
  constructor(user, handler) {
    this.user = user;
    this.spec = { handler: String(handler), type: null, everyMs: null, afterMs: null };
  }
  timeBased() {
    this.spec.type = 'CLOCK';
    return this;
  }
  forSpreadsheet(spreadsheet) {
    const id = typeof spreadsheet === 'string' ? spreadsheet : spreadsheet.getId();
    if (id !== this.user.document.id) {
      throw new Error('Add-ons and bound scripts may only create triggers for the file they are used in.');
    }
    return this;
  }
  onFormSubmit() {
    this.spec.type = 'ON_FORM_SUBMIT';
    return this;
  }
  everyMinutes(n) {
    if (!EVERY_MINUTES.includes(n)) {
      throw new Error('Exception: The value passed to everyMinutes is invalid: it must be 1, 5, 10, 15 or 30.');
    }
    this.spec.everyMs = n * 60 * 1000;
    return this;
  }
  everyHours(n) {
    if (!Number.isInteger(n) || n < 1) {
      throw new Error('Exception: The value passed to everyHours is invalid.');
    }
    this.spec.everyMs = n * HOUR_MS;
    return this;
  }
  after(ms) {
    this.spec.afterMs = Math.max(0, Math.floor(ms));
    return this;
  }
  create() {
    const user = this.user;
    user.requireMode('ScriptApp.newTrigger', ['FULL']);
    const document = user.document;
    const spec = this.spec;
    if (!spec.type || (spec.type === 'CLOCK' && spec.everyMs === null && spec.afterMs === null)) {
      throw new Error('Exception: The trigger is missing a schedule or an event.');
    }
    const mine = document.triggers.filter((t) => t.owner === user);
    if (mine.length >= MAX_TRIGGERS_PER_USER) {
      throw new Error('Exception: This script has too many triggers. Triggers must be deleted from the script before more can be added.');
    }
    if (user.installationSource !== 'NONE') {
      if (mine.some((t) => t.type === spec.type)) {
        throw new Error(`Exception: An add-on can only have one trigger of each type, per user, per document (${spec.type}).`);
      }
      if (spec.type === 'CLOCK' && (spec.everyMs !== null ? spec.everyMs : spec.afterMs) < HOUR_MS) {
        throw new Error('Exception: Add-ons cannot create time-based triggers that run more frequently than once per hour.');
      }
    }
    document.triggerCount += 1;
    const now = document.clock.now();
    const record = {
      id: `trigger-${document.triggerCount}`, owner: user, handler: spec.handler, type: spec.type,
      everyMs: spec.everyMs, atMs: spec.afterMs === null ? null : now + spec.afterMs, createdAt: now, lastFiredAt: null, fired: 0,
    };
    document.triggers.push(record);
    return new FakeTrigger(record);
  }
}

/** ScriptApp's trigger functions for one user, on their document. */
function fakeTriggerService(user) {
  const own = () => user.document.triggers.filter((t) => t.owner === user);
  return {
    newTrigger: (handler) => new FakeTriggerBuilder(user, handler),
    getProjectTriggers: () => {
      user.requireMode('ScriptApp.getProjectTriggers', ['FULL']);
      return own().map((t) => new FakeTrigger(t));
    },
    getUserTriggers: (spreadsheet) => {
      user.requireMode('ScriptApp.getUserTriggers', ['FULL']);
      return spreadsheet.getId() === user.document.id ? own().filter((t) => t.type !== 'CLOCK').map((t) => new FakeTrigger(t)) : [];
    },
    deleteTrigger: (trigger) => {
      user.requireMode('ScriptApp.deleteTrigger', ['FULL']);
      const at = user.document.triggers.indexOf(trigger.record);
      if (at < 0 || trigger.record.owner !== user) {
        throw new Error('Exception: No trigger of yours with that id.');
      }
      user.document.triggers.splice(at, 1);
    },
  };
}

/** MailApp for one user: each email is recorded in user.log.emails; the day's quota is user.mailQuota. */
function fakeMailApp(user) {
  return {
    getRemainingDailyQuota: () => {
      user.requireMode('MailApp.getRemainingDailyQuota', ['FULL']);
      return user.mailQuota;
    },
    sendEmail: (...args) => {
      user.requireMode('MailApp.sendEmail', ['FULL']);
      const message = args.length === 1 ? { ...args[0] } : { to: args[0], subject: args[1], body: args[2], ...(args[3] || {}) };
      const recipients = String(message.to || '').split(',').map((r) => r.trim()).filter(Boolean);
      if (recipients.length === 0 || typeof message.subject !== 'string' || typeof message.body !== 'string') {
        throw new Error('Exception: Invalid argument: an email needs a recipient, a subject and a body.');
      }
      if (user.mailQuota < recipients.length) {
        throw new Error('Exception: Service invoked too many times for one day: email.');
      }
      user.mailQuota -= recipients.length;
      user.log.emails.push({ from: user.email, ...message });
    },
  };
}

// ---------------------------------------------------------------- tokens and users

/** An unsigned token shaped like a Google ID token, with the claims the add-in may read. */
function fakeIdentityToken(claims) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.${crypto.randomBytes(16).toString('base64url')}`;
}

/** Apps Script's byte arrays hold signed bytes. */
function signedBytes(buffer) {
  return [...buffer].map((b) => (b > 127 ? b - 256 : b));
}

function bufferOf(data) {
  return Array.isArray(data) ? Buffer.from(data.map((b) => b & 0xff)) : Buffer.from(String(data), 'utf8');
}

/** Utilities.formatDate for the patterns the add-in uses (yyyy, MM, dd, HH, mm, ss), in a time zone. */
function formatDate(date, timeZone, pattern) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(date).map((part) => [part.type, part.value]));
  const known = { yyyy: parts.year, MM: parts.month, dd: parts.day, HH: parts.hour, mm: parts.minute, ss: parts.second };
  return pattern.replace(/yyyy|MM|dd|HH|mm|ss/g, (token) => known[token]);
}

const Utilities = Object.freeze({
  formatDate,
  getUuid: () => crypto.randomUUID(),
  sleep: () => {},
  base64DecodeWebSafe: (text) => signedBytes(Buffer.from(String(text), 'base64url')),
  base64EncodeWebSafe: (data) => bufferOf(data).toString('base64').replace(/\+/g, '-').replace(/\//g, '_'),
  newBlob: (data) => {
    const buffer = bufferOf(data);
    return { getDataAsString: () => buffer.toString('utf8'), getBytes: () => signedBytes(buffer) };
  },
});

/** One person's execution on a FakeDocument. */
class FakeUser {
  /**
   * @param {FakeDocument} document
   * @param {{ email?: string, locale?: string, fetch?: Function, identityToken?: string | (() => string),
   *   oauthToken?: string, activeSheet?: string, installationSource?: string, mailQuota?: number }} [options]
   *   installationSource: 'NONE' (a script bound to the spreadsheet, the default) or
   *   'APPS_MARKETPLACE_DOMAIN_ADD_ON' (the add-on an administrator installed for the domain)
   */
  constructor(document, options = {}) {
    this.document = document;
    this.email = options.email === undefined ? 'dana@example.com' : options.email;
    this.locale = options.locale || 'en';
    this.identityToken = options.identityToken || fakeIdentityToken({
      iss: 'https://accounts.google.com', aud: 'client-id.apps.googleusercontent.com', email: this.email, email_verified: true,
    });
    this.oauthToken = options.oauthToken || `ya29.${crypto.randomBytes(24).toString('base64url')}`;
    this.activeSheet = options.activeSheet ? document.sheet(options.activeSheet) : document.sheets[0];
    this.selection = [];
    this.currentCell = null;
    this.alertAnswers = [];
    this.authMode = 'FULL';
    this.inTrigger = false;
    this.installationSource = options.installationSource || 'NONE';
    this.mailQuota = options.mailQuota === undefined ? 100 : options.mailQuota;
    this.userProperties = new FakeProperties();
    this.urlFetchApp = new FakeUrlFetchApp(this, options.fetch || null);
    this.log = {
      requests: [], toasts: [], alerts: [], sidebars: [], dialogs: [], menus: [], locks: [], activations: [], emails: [],
    };
  }

  /** Sets the active range list, as the user selecting ranges with Ctrl held: select('A2:C5', 'A9'). */
  select(...a1Ranges) {
    this.selection = a1Ranges.map((a1) => this.activeSheet.getRange(a1));
    return this;
  }

  /** Makes another tab the active one, as clicking it does. */
  openSheet(name) {
    this.activeSheet = this.document.sheet(name);
    this.selection = [];
    return this;
  }

  /** Runs fn as Google runs a trigger in an authorization mode ('NONE', 'LIMITED'); FULL again after. */
  inAuthMode(mode, fn) {
    const before = this.authMode;
    this.authMode = mode;
    try {
      return fn();
    } finally {
      this.authMode = before;
    }
  }

  /**
   * Runs fn as an installable trigger runs: AuthMode.FULL, no window to show anything in, nothing
   * selected, the spreadsheet's first sheet active. Everything is as it was afterwards.
   */
  asTrigger(fn) {
    const before = { authMode: this.authMode, inTrigger: this.inTrigger, activeSheet: this.activeSheet, selection: this.selection };
    Object.assign(this, { authMode: 'FULL', inTrigger: true, activeSheet: this.document.sheets[0], selection: [] });
    try {
      return fn();
    } finally {
      Object.assign(this, before);
    }
  }

  /** A trigger has no window: SpreadsheetApp.getUi() and everything shown in it fail, as Google says. */
  requireWindow() {
    if (this.inTrigger) {
      throw new Error('Exception: Cannot call SpreadsheetApp.getUi() from this context.');
    }
  }

  /** Throws as Apps Script does when a service is called in a mode that does not allow it. */
  requireMode(name, modes) {
    if (!modes.includes(this.authMode)) {
      throw new Error(`Exception: You do not have permission to call ${name} (AuthMode.${this.authMode}).`);
    }
  }

  /** Plays another execution holding the document lock (for contention). */
  holdDocumentLock() { this.document.lockOwner = this; }
  releaseDocumentLock() {
    if (this.document.lockOwner === this) {
      this.document.lockOwner = null;
    }
  }

  idToken() { return typeof this.identityToken === 'function' ? this.identityToken() : this.identityToken; }

  /**
   * The global names an Apps Script execution of this user sees. Each service checks the
   * authorization mode it is called in (see the top of this file).
   */
  globals() {
    const user = this;
    const spreadsheet = new FakeSpreadsheet(user);
    const ui = new FakeUi(user);
    const document = () => {
      user.requireMode('SpreadsheetApp.getActive', ['LIMITED', 'FULL']);
      user.document.executing = user;
      return spreadsheet;
    };
    const account = {
      getEmail: () => {
        user.requireMode('Session.getActiveUser', ['FULL']);
        return user.email;
      },
    };
    const properties = (name, store) => () => {
      user.requireMode(`PropertiesService.${name}`, ['LIMITED', 'FULL']);
      return store();
    };
    const urlFetchApp = {
      fetch: (url, params) => {
        user.requireMode('UrlFetchApp.fetch', ['FULL']);
        return user.urlFetchApp.fetch(url, params);
      },
    };
    return {
      SpreadsheetApp: {
        getActive: document,
        getActiveSpreadsheet: document,
        getActiveSheet: () => document().getActiveSheet(),
        getActiveRangeList: () => document().getActiveRangeList(),
        getUi: () => {
          user.requireWindow();
          return ui;
        },
      },
      UrlFetchApp: urlFetchApp,
      ScriptApp: {
        getIdentityToken: () => {
          user.requireMode('ScriptApp.getIdentityToken', ['FULL']);
          return user.idToken();
        },
        getOAuthToken: () => {
          user.requireMode('ScriptApp.getOAuthToken', ['FULL']);
          return user.oauthToken;
        },
        AuthMode: Object.freeze({ NONE: 'NONE', LIMITED: 'LIMITED', FULL: 'FULL' }),
        EventType: Object.freeze({ CLOCK: 'CLOCK', ON_OPEN: 'ON_OPEN', ON_EDIT: 'ON_EDIT', ON_FORM_SUBMIT: 'ON_FORM_SUBMIT', ON_CHANGE: 'ON_CHANGE' }),
        InstallationSource: Object.freeze({
          APPS_MARKETPLACE_DOMAIN_ADD_ON: 'APPS_MARKETPLACE_DOMAIN_ADD_ON', NONE: 'NONE', WEB_STORE_ADD_ON: 'WEB_STORE_ADD_ON',
        }),
        getInstallationSource: () => user.installationSource,
        ...fakeTriggerService(user),
      },
      MailApp: fakeMailApp(user),
      PropertiesService: {
        getDocumentProperties: properties('getDocumentProperties', () => user.document.documentProperties),
        getScriptProperties: properties('getScriptProperties', () => user.document.scriptProperties),
        getUserProperties: properties('getUserProperties', () => user.userProperties),
      },
      LockService: {
        getDocumentLock: () => {
          user.requireMode('LockService.getDocumentLock', ['LIMITED', 'FULL']);
          return new FakeLock(user);
        },
      },
      HtmlService: fakeHtmlService(),
      Session: {
        getActiveUser: () => account,
        getEffectiveUser: () => account,
        getActiveUserLocale: () => user.locale,
        getScriptTimeZone: () => 'Asia/Jerusalem',
      },
      Utilities,
      Logger: { log: (...args) => { user.log.logged = (user.log.logged || []).concat([args.join(' ')]); } },
    };
  }
}

/** A clock tests move by hand; loadAddIn(…, { clock }) makes the add-in read it. */
function createClock(startMs = Date.UTC(2025, 0, 5, 9, 0, 0)) {
  let now = startMs;
  return {
    now: () => now,
    advance: (ms) => { now += ms; },
  };
}

module.exports = {
  APPS_SCRIPT_DIR,
  LOOPBACK_HOSTS,
  fireTrigger,
  FakeDocument,
  FakeUser,
  FakeProperties,
  valuesSource,
  sheetsApiSource,
  scriptedTransport,
  answersInOrder,
  httpTransport,
  fakeIdentityToken,
  createClock,
  parseA1,
};
