/**
 * Turns what the user selected into the sheet rows to send: sorted, merged row intervals below the
 * header row, within a cap.
 */

/** The most rows one job takes; beyond it the user is asked to select fewer rows. */
const MAX_SELECTED_ROWS = 50000;

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
 * The data rows the user selected on the sheet, checked against the cap.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet the active sheet
 * @param {GoogleAppsScript.Spreadsheet.RangeList | null} rangeList its active range list
 * @param {number} headerRow
 * @param {string} verb what the rows are for, as in "Select the rows to {verb}"
 * @returns {RowInterval[]}
 */
function selectedRowIntervals_(sheet, rangeList, headerRow, verb) {
  const ranges = rangeList ? rangeList.getRanges() : [];
  const spans = ranges.map((range) => /** @type {RowInterval} */ ([range.getRow(), range.getLastRow()]));
  const intervals = dataRowIntervals_(spans, headerRow, sheet.getLastRow());
  if (intervals.length === 0) {
    throw userError_('Select the rows to ' + verb + ': the header row is row ' + headerRow +
      ', so select rows below it that hold data.');
  }
  const count = countRows_(intervals);
  if (count > MAX_SELECTED_ROWS) {
    throw userError_('You selected ' + plural_(count, 'row') + '; one job takes at most ' +
      formatCount_(MAX_SELECTED_ROWS) + '. Select fewer rows, or use "Upload all pending rows".');
  }
  return intervals;
}
