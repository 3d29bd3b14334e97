/**
 * The "CallMarker log" tab: one row per job, manual or automatic, newest first, written by the add-in
 * alone. It is made on first use, protected with a warning for anyone who edits it by hand, and keeps
 * the newest LOG_MAX_ROWS jobs.
 */

const LOG_SHEET_NAME = 'CallMarker log';
/** Where the log tab's gid is kept, so that a tab renamed by hand is still found. */
const LOG_SHEET_PROPERTY = 'callmarker.log_sheet';
const LOG_MAX_ROWS = 5000;
/** How a job was started, as the log's How column says it. */
const JOB_ORIGINS = Object.freeze(['manual', 'schedule', 'form']);
/** Spreadsheet ids are letters, digits, - and _: anything else is not put into a link. */
const SPREADSHEET_ID_PATTERN = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * @typedef {Object} LogEntry one ended job
 * @property {number} started_at ms since the epoch
 * @property {number} ended_at
 * @property {string} by the email of whoever ran it ('' when Google did not tell it)
 * @property {'manual' | 'schedule' | 'form'} origin
 * @property {boolean} carried a follow-up run finished it, after its window closed or its run ran out of time
 * @property {string} sheet_name
 * @property {number} sheet_id
 * @property {Action} action
 * @property {Mode} mode
 * @property {number | null} rows the rows of the job (selected, or pending ones the function counted); null when not known
 * @property {Counts} counts
 * @property {string} result the closing sentence, in the job's language
 * @property {number | null} first_problem_row
 * @property {Language} lang
 */

/**
 * The log's columns: stable English names, as the status columns have, so that formulas keep working;
 * a count for each outcome, in the order counts are read everywhere. Pure.
 * @returns {string[]}
 */
function logColumns_() {
  return ['When', 'Who', 'How', 'Tab', 'Action', 'Mode', 'Rows'].concat(COUNT_ORDER, ['Duration', 'Result', 'First problem']);
}

/**
 * A log row's cells. Pure. Text from outside (a tab's name, the function's sentence) is written as
 * text even when it starts like a formula; the link to the first problem row is ours.
 * @param {LogEntry} entry
 * @param {string} spreadsheetId
 * @param {string} timeZone the spreadsheet's
 * @returns {(string | number)[]}
 */
function logRow_(entry, spreadsheetId, timeZone) {
  const how = (JOB_ORIGINS.indexOf(entry.origin) >= 0 ? entry.origin : 'manual') + (entry.carried ? ', carried on' : '');
  const counts = COUNT_ORDER.map((name) => {
    const n = entry.counts[name];
    return typeof n === 'number' && n > 0 ? n : '';
  });
  return [
    Utilities.formatDate(new Date(entry.started_at), timeZone, 'yyyy-MM-dd HH:mm:ss'),
    asText_(entry.by),
    how,
    asText_(entry.sheet_name),
    entry.action,
    entry.mode,
    entry.rows === null ? '' : entry.rows,
  ].concat(counts, [
    durationText_(entry.ended_at - entry.started_at),
    asText_(entry.result),
    problemLink_(entry, spreadsheetId),
  ]);
}

/**
 * A cell value that Sheets keeps as the text it is: one that would start a formula gets the apostrophe
 * that tells Sheets "text". Pure.
 * @param {string} text
 * @returns {string}
 */
function asText_(text) {
  return /^[=+\-@']/.test(text) ? '\'' + text : text;
}

/**
 * "1:05:09", "4:12", "0:03": minutes and seconds, hours when there are any. Pure.
 * @param {number} ms
 * @returns {string}
 */
function durationText_(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const two = (/** @type {number} */ n) => String(n).padStart(2, '0');
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return hours > 0 ? hours + ':' + two(minutes) + ':' + two(seconds % 60) : minutes + ':' + two(seconds % 60);
}

/**
 * A link to the first problem row, as a formula made only of our own parts, or ''.
 * @param {LogEntry} entry
 * @param {string} spreadsheetId
 * @returns {string}
 */
function problemLink_(entry, spreadsheetId) {
  const row = entry.first_problem_row;
  if (row === null || !Number.isInteger(row) || row < 1 || !SPREADSHEET_ID_PATTERN.test(spreadsheetId) || !Number.isInteger(entry.sheet_id)) {
    return '';
  }
  const url = rowUrl_(spreadsheetId, entry.sheet_id, row);
  return '=HYPERLINK("' + url + '", "' + t_(entry.lang, 'log.row', { row: String(row) }) + '")';
}

/**
 * The address that opens a tab at a row.
 * @param {string} spreadsheetId
 * @param {number} sheetId
 * @param {number} row
 * @returns {string}
 */
function rowUrl_(spreadsheetId, sheetId, row) {
  return 'https://docs.google.com/spreadsheets/d/' + spreadsheetId + '/edit#gid=' + sheetId + '&range=A' + row;
}

/**
 * Writes one job's row at the top of the log tab, making the tab first if there is none, and drops the
 * oldest rows past the cap. A log that cannot be written never fails the job it describes.
 * @param {GoogleAppsScript.Spreadsheet.Spreadsheet} spreadsheet
 * @param {LogEntry} entry
 * @param {((top: unknown[]) => boolean) | null} [replaces] given the newest row's cells, whether this row
 *   takes its place rather than going above it
 */
function writeLog_(spreadsheet, entry, replaces) {
  try {
    withDocumentLock_(entry.lang, () => {
      const sheet = logSheet_(spreadsheet);
      const row = logRow_(entry, spreadsheet.getId(), spreadsheet.getSpreadsheetTimeZone());
      const top = sheet.getLastRow() >= 2 ? sheet.getRange(2, 1, 1, row.length).getDisplayValues()[0] : null;
      if (!(replaces && top && replaces(top))) {
        sheet.insertRowAfter(1);
      }
      sheet.getRange(2, 1, 1, row.length).setValues([row]);
      const excess = sheet.getLastRow() - 1 - LOG_MAX_ROWS;
      if (excess > 0) {
        sheet.deleteRows(LOG_MAX_ROWS + 2, excess);
      }
    });
  } catch (error) {
    console.error('The log row of job ' + entry.action + ' on ' + entry.sheet_id + ' was not written: ' + (errorText_(error, 'message') || String(error)));
  }
}

/**
 * The log tab, made on first use: its header row frozen, and a warning for anyone who edits it by hand
 * (a protection that only warns lets the add-in, running as any editor, keep writing it).
 * @param {GoogleAppsScript.Spreadsheet.Spreadsheet} spreadsheet
 * @returns {GoogleAppsScript.Spreadsheet.Sheet}
 */
function logSheet_(spreadsheet) {
  const properties = PropertiesService.getDocumentProperties();
  const known = Number(properties.getProperty(LOG_SHEET_PROPERTY));
  const found = (Number.isInteger(known) && properties.getProperty(LOG_SHEET_PROPERTY) !== null && sheetById_(spreadsheet, known)) ||
    spreadsheet.getSheetByName(LOG_SHEET_NAME);
  if (found) {
    return found;
  }
  const sheet = spreadsheet.insertSheet(LOG_SHEET_NAME);
  const columns = logColumns_();
  sheet.getRange(1, 1, 1, columns.length).setValues([columns]).setFontWeight('bold');
  sheet.setFrozenRows(1);
  sheet.protect().setDescription('Written by the CallMarker add-in: one row per job.').setWarningOnly(true);
  properties.setProperty(LOG_SHEET_PROPERTY, String(sheet.getSheetId()));
  return sheet;
}
