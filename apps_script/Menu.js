/**
 * The CallMarker menu and the windows it opens. The work behind each item lives in the other files.
 */

const MENU_TITLE = 'CallMarker';
const HELP_WIDTH = 560;
const HELP_HEIGHT = 620;

/**
 * @param {GoogleAppsScript.Events.SheetsOnOpen} [_event]
 */
function onOpen(_event) {
  SpreadsheetApp.getUi()
    .createMenu(MENU_TITLE)
    .addItem('Upload selected rows', 'uploadSelectedRows')
    .addItem('Upload all pending rows', 'uploadPendingRows')
    .addItem('Check selected rows (no upload)', 'checkSelectedRows')
    .addItem('Remove selected rows from campaign', 'removeSelectedRows')
    .addSeparator()
    .addItem('Settings…', 'showSettings')
    .addItem('Help', 'showHelp')
    .addToUi();
}

/**
 * @param {GoogleAppsScript.Events.AddonOnInstall} event
 */
function onInstall(event) {
  onOpen(/** @type {any} */ (event));
}

function uploadSelectedRows() {
  runMenuItem_(() => startJob_('upload', 'selected'));
}

function uploadPendingRows() {
  runMenuItem_(() => startJob_('upload', 'pending'));
}

function checkSelectedRows() {
  runMenuItem_(() => startJob_('check', 'selected'));
}

function removeSelectedRows() {
  runMenuItem_(() => startJob_('remove', 'selected'));
}

function showSettings() {
  runMenuItem_(() => showSidebar_({ view: 'settings', job: null, answer: null }));
}

function showHelp() {
  const output = HtmlService.createHtmlOutputFromFile('Help').setWidth(HELP_WIDTH).setHeight(HELP_HEIGHT);
  SpreadsheetApp.getUi().showModalDialog(output, 'CallMarker help');
}

/**
 * Runs a menu item and shows any failure as a message box, worded for the user.
 * @param {() => void} work
 */
function runMenuItem_(work) {
  try {
    work();
  } catch (error) {
    if (!isUserError_(error)) {
      console.error(errorText_(error, 'stack') || String(error));
    }
    const ui = SpreadsheetApp.getUi();
    ui.alert(MENU_TITLE, messageForUser_(error), ui.ButtonSet.OK);
  }
}

/**
 * Opens the sidebar: settings, a job's progress, or a job's summary.
 * @param {{view: 'settings' | 'progress' | 'summary', job: Job | null, answer: Answer | null}} state
 */
function showSidebar_(state) {
  const template = HtmlService.createTemplateFromFile('Sidebar');
  template.state = jsonForScript_({
    view: state.view,
    job: state.job,
    answer: state.answer,
    progress: state.job && state.answer ? progressText_(state.job, state.answer) : '',
    summary: state.job && state.answer && state.answer.done ? summaryText_(state.job, state.answer) : '',
    settings: loadSettings_(),
    statuses: CUSTOMER_STATUSES,
    count_order: COUNT_ORDER,
    max_batch_size: MAX_BATCH_SIZE,
  });
  SpreadsheetApp.getUi().showSidebar(template.evaluate().setTitle(MENU_TITLE));
}

/**
 * JSON that can sit inside a <script> element: no "</script>" can end it early.
 * @param {unknown} value
 * @returns {string}
 */
function jsonForScript_(value) {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
