/**
 * Which rows a job is for: what the user selected, or the rows whose status says they failed, as
 * sorted, merged row intervals below the header row, within a cap.
 */

/** The most rows one job takes; beyond it the user is asked to select fewer rows. */
const MAX_SELECTED_ROWS = 50000;
/** The most separate [first, last] ranges one request to the function may hold (its schema's cap). */
const MAX_RANGES = 10000;

/** @typedef {[number, number]} RowInterval first and last sheet row, inclusive */

/**
 * Sorts and merges intervals; overlapping and adjacent ones become one. Pure.
 * @param {RowInterval[]} intervals
 * @returns {RowInterval[]}
 */
function mergeRowIntervals_(intervals) {
  const sorted = intervals
    .filter(([first, last]) => first <= last)
    .map(([first, last]) => /** @type {RowInterval} */ ([first, last]))
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  /** @type {RowInterval[]} */
  const merged = [];
  for (const interval of sorted) {
    const previous = merged[merged.length - 1];
    if (previous && interval[0] <= previous[1] + 1) {
      previous[1] = Math.max(previous[1], interval[1]);
    } else {
      merged.push(interval);
    }
  }
  return merged;
}

/**
 * The data rows among some selected row spans: rows at or above the header row and rows past the
 * last row with data are left out, the rest merged. Pure.
 * @param {RowInterval[]} spans the selected ranges' first and last rows
 * @param {number} headerRow
 * @param {number} lastDataRow the sheet's last row with content
 * @returns {RowInterval[]}
 */
function dataRowIntervals_(spans, headerRow, lastDataRow) {
  return mergeRowIntervals_(
    spans.map(([first, last]) => /** @type {RowInterval} */ ([Math.max(first, headerRow + 1), Math.min(last, lastDataRow)])),
  );
}

/**
 * @param {RowInterval[]} intervals
 * @returns {number}
 */
function countRows_(intervals) {
  return intervals.reduce((sum, [first, last]) => sum + (last - first + 1), 0);
}

/**
 * The rows whose cell in a status column holds exactly the given status, as intervals. Pure.
 * @param {unknown[][]} cells the status column's cells, one row each, from firstRow down
 * @param {number} firstRow the sheet row of cells[0]
 * @param {string} status
 * @returns {RowInterval[]}
 */
function rowsWithStatus_(cells, firstRow, status) {
  /** @type {RowInterval[]} */
  const rows = [];
  cells.forEach((cell, i) => {
    if (String(cell[0]).trim() === status) {
      rows.push([firstRow + i, firstRow + i]);
    }
  });
  return mergeRowIntervals_(rows);
}

/**
 * The 1-based column whose header is the given name, compared as the function compares them
 * (spacing and case do not matter), or 0 when there is none. Pure.
 * @param {unknown[]} headers
 * @param {string} name
 * @returns {number}
 */
function columnNamed_(headers, name) {
  const key = (/** @type {unknown} */ value) => String(value).trim().split(/\s+/).join(' ').toLowerCase();
  return headers.findIndex((header) => key(header) === key(name)) + 1;
}

/**
 * The data rows the user selected on the sheet, checked against the cap.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet the active sheet
 * @param {GoogleAppsScript.Spreadsheet.RangeList | null} rangeList its active range list
 * @param {number} headerRow
 * @param {Action} action what the rows are for, as in "Select the rows to upload"
 * @param {Language} lang
 * @returns {RowInterval[]}
 */
function selectedRowIntervals_(sheet, rangeList, headerRow, action, lang) {
  const ranges = rangeList ? rangeList.getRanges() : [];
  const spans = ranges.map((range) => /** @type {RowInterval} */ ([range.getRow(), range.getLastRow()]));
  const intervals = dataRowIntervals_(spans, headerRow, sheet.getLastRow());
  if (intervals.length === 0) {
    throw userError_(t_(lang, 'select.' + action, { row: headerRow }));
  }
  checkJobSize_(intervals, lang);
  return intervals;
}

/**
 * @param {RowInterval[]} intervals
 * @param {Language} lang
 */
function checkJobSize_(intervals, lang) {
  const count = countRows_(intervals);
  if (count > MAX_SELECTED_ROWS) {
    throw userError_(t_(lang, 'select.too_many', { count: count, max: MAX_SELECTED_ROWS }));
  }
}

/**
 * The rows of a sheet whose status is "failed", read from its status column.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet
 * @param {number} headerRow
 * @param {Language} lang
 * @returns {RowInterval[]}
 */
function failedRowIntervals_(sheet, headerRow, lang) {
  const lastRow = sheet.getLastRow();
  const lastColumn = sheet.getLastColumn();
  const headers = lastRow >= headerRow && lastColumn > 0 ? sheet.getRange(headerRow, 1, 1, lastColumn).getDisplayValues()[0] : [];
  const column = columnNamed_(headers, STATUS_COLUMNS[0]);
  if (!column) {
    throw userError_(t_(lang, 'retry_failed.no_status_column', { column: STATUS_COLUMNS[0], sheet: sheet.getName() }));
  }
  const cells = lastRow > headerRow ? sheet.getRange(headerRow + 1, column, lastRow - headerRow, 1).getDisplayValues() : [];
  const rows = rowsWithStatus_(cells, headerRow + 1, 'failed');
  if (rows.length === 0) {
    throw userError_(t_(lang, 'retry_failed.none', { sheet: sheet.getName(), status: 'failed' }));
  }
  const first = firstRanges_(rows, lang);
  checkJobSize_(first, lang);
  return first;
}

/**
 * The ranges of rows to retry that one job can take: the first MAX_RANGES of them. Rows that are not
 * failed are never bridged into a range to save ranges, since the function acts on every row of a range;
 * the failed rows past the cap keep their status and wait for the next retry, and the user is told how
 * many (a toast).
 * @param {RowInterval[]} intervals sorted, as read from the status column or an answer's retry_rows
 * @param {Language} lang
 * @returns {RowInterval[]}
 */
function firstRanges_(intervals, lang) {
  const { first, left } = splitRanges_(intervals, MAX_RANGES);
  if (left > 0) {
    SpreadsheetApp.getActive().toast(t_(lang, 'retry.more_left', { count: left, max: MAX_RANGES }), MENU_TITLE);
  }
  return first;
}

/**
 * The first `max` ranges, and how many rows the others hold. Pure.
 * @param {RowInterval[]} intervals
 * @param {number} max
 * @returns {{first: RowInterval[], left: number}}
 */
function splitRanges_(intervals, max) {
  return { first: intervals.slice(0, max), left: countRows_(intervals.slice(max)) };
}

/**
 * @param {GoogleAppsScript.Spreadsheet.Spreadsheet} spreadsheet
 * @param {number} sheetId a tab's gid
 * @returns {GoogleAppsScript.Spreadsheet.Sheet | null}
 */
function sheetById_(spreadsheet, sheetId) {
  return spreadsheet.getSheets().find((sheet) => sheet.getSheetId() === sheetId) || null;
}
