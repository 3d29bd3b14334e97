/**
 * Going from a job's results to the sheet: the filter view of the problem rows, and a problem row
 * selected on its own tab.
 */

/** The filter view the function keeps on each tab, as it names it. */
const PROBLEM_ROWS_VIEW = 'CallMarker: problem rows';
const PROBLEM_ROWS_WIDTH = 420;
const PROBLEM_ROWS_HEIGHT = 170;

/**
 * "Show problem rows" in the menu: a small window whose link opens the filter view the function
 * reported for this tab (Apps Script cannot switch the user's view of the sheet by itself).
 */
function showProblemRows() {
  runMenuItem_(() => {
    const lang = userLanguage_();
    const sheet = SpreadsheetApp.getActive().getActiveSheet();
    const url = PropertiesService.getDocumentProperties().getProperty(PROBLEM_ROWS_PREFIX + sheet.getSheetId());
    if (!url) {
      throw userError_(t_(lang, 'problems.none', { sheet: sheet.getName() }));
    }
    const template = HtmlService.createTemplateFromFile('ProblemRows');
    template.lang = lang;
    template.dir = directionOf_(lang);
    template.url = url;
    template.open = t_(lang, 'problems.open', { sheet: sheet.getName() });
    template.explain = t_(lang, 'problems.explain', { view: PROBLEM_ROWS_VIEW });
    const output = template.evaluate().setWidth(PROBLEM_ROWS_WIDTH).setHeight(PROBLEM_ROWS_HEIGHT);
    SpreadsheetApp.getUi().showModelessDialog(output, t_(lang, 'problems.title'));
  });
}

/**
 * Called by the sidebar when a problem is clicked: selects the row on its tab, with the problem's
 * cell as the current cell when its column is found.
 * @param {number} sheetId
 * @param {number} row
 * @param {string | null} column the header as the function named it
 * @returns {boolean}
 */
function selectRow(sheetId, row, column) {
  const lang = userLanguage_();
  const spreadsheet = SpreadsheetApp.getActive();
  const sheet = Number.isInteger(sheetId) ? sheetById_(spreadsheet, sheetId) : null;
  if (!sheet || !Number.isInteger(row) || row < 1 || row > sheet.getMaxRows()) {
    throw new Error(t_(lang, 'select_row.bad'));
  }
  sheet.activate();
  sheet.getRange(row, 1, 1, sheet.getMaxColumns()).activate();
  if (typeof column === 'string' && column) {
    const headerRow = headerRow_(loadTabSettings_(PropertiesService.getDocumentProperties(), sheetId).settings);
    const lastColumn = sheet.getLastColumn();
    const index = lastColumn > 0 ? columnNamed_(sheet.getRange(headerRow, 1, 1, lastColumn).getDisplayValues()[0], column) : 0;
    if (index) {
      sheet.getRange(row, index).activateAsCurrentCell();
    }
  }
  return true;
}
