/**
 * The CallMarker menu under Extensions, and the windows it opens. The work behind each item lives in
 * the other files.
 */

const MENU_TITLE = 'CallMarker';
const HELP_WIDTH = 600;
const HELP_HEIGHT = 640;

/** The sentences the sidebar's script shows as they are; every other one comes with a view. */
const SIDEBAR_TEXT_KEYS = Object.freeze([
  'sidebar.saving', 'sidebar.saved', 'sidebar.not_saved_fields', 'sidebar.not_saved', 'sidebar.stop', 'sidebar.stopping',
  'sidebar.starting', 'sidebar.show_problem_rows', 'card.cancelled',
]);

/**
 * Builds the menu. It must work in every authorization mode Google runs it in: in AuthMode.NONE (the
 * add-on is installed for this user but not yet used in this spreadsheet) only the user's locale may
 * be read, so the menu speaks the Google account's language; in LIMITED and FULL the user's own
 * language preference is read too. Nothing else is touched: no document, no network.
 * @param {GoogleAppsScript.Events.SheetsOnOpen} [event]
 */
function onOpen(event) {
  const lang = event && event.authMode === ScriptApp.AuthMode.NONE
    ? languageOf_(Session.getActiveUserLocale())
    : userLanguage_();
  const text = (/** @type {string} */ key) => t_(lang, key);
  const ui = SpreadsheetApp.getUi();
  const menu = ui.createAddonMenu()
    .addItem(text('menu.upload_selected'), 'uploadSelectedRows')
    .addItem(text('menu.upload_pending'), 'uploadPendingRows')
    .addItem(text('menu.check_selected'), 'checkSelectedRows')
    .addItem(text('menu.remove_selected'), 'removeSelectedRows')
    .addSeparator()
    .addItem(text('menu.retry_failed'), 'retryFailedRows')
    .addItem(text('menu.show_problem_rows'), 'showProblemRows')
    .addSeparator()
    .addItem(text('menu.settings'), 'showSettings')
    .addItem(text('menu.automatic_upload'), 'showAutomation');
  menu.addSubMenu(ui.createMenu(text('menu.help'))
    .addItem(text('menu.help_page'), 'showHelp')
    .addItem(text('menu.test_connection'), 'testConnection'));
  menu.addToUi();
}

/**
 * An add-on's onOpen does not run when it is installed; Google's guidance is to build the menu here.
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

function retryFailedRows() {
  runMenuItem_(() => {
    const lang = userLanguage_();
    const sheet = SpreadsheetApp.getActive().getActiveSheet();
    const settings = checkedSettings_(sheet, lang);
    startJob_('upload', 'selected', failedRowIntervals_(sheet, headerRow_(settings), lang));
  });
}

function showSettings() {
  runMenuItem_(() => showSidebar_({ view: 'settings' }));
}

function showHelp() {
  runMenuItem_(() => {
    const lang = userLanguage_();
    const template = HtmlService.createTemplateFromFile('Help');
    template.lang = lang;
    template.dir = directionOf_(lang);
    template.content = helpContent_(lang);
    const output = template.evaluate().setWidth(HELP_WIDTH).setHeight(HELP_HEIGHT);
    SpreadsheetApp.getUi().showModalDialog(output, t_(lang, 'help.title'));
  });
}

/**
 * Runs a menu item and shows any failure as a message box, worded for the user in their language.
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
    ui.alert(MENU_TITLE, messageForUser_(error, userLanguage_()), ui.ButtonSet.OK);
  }
}

/**
 * @typedef {Object} SidebarState
 * @property {'settings' | 'preflight' | 'progress' | 'summary'} view
 * @property {Job} [job]
 * @property {Answer} [answer]
 * @property {CardView} [card]
 */

/**
 * Opens the sidebar: settings, a job's pre-flight card, its progress, or its summary. It speaks the
 * job's language, right to left in Hebrew.
 * @param {SidebarState} state
 */
function showSidebar_(state) {
  const job = state.job || null;
  const lang = job ? job.lang : userLanguage_();
  const spreadsheet = SpreadsheetApp.getActive();
  const sheet = (job && sheetById_(spreadsheet, job.sheet_id)) || spreadsheet.getActiveSheet();
  const template = HtmlService.createTemplateFromFile('Sidebar');
  template.lang = lang;
  template.dir = directionOf_(lang);
  template.state = jsonForScript_({
    view: state.view,
    job: job,
    answer: state.answer || null,
    answer_view: job && state.answer ? answerView_(job, state.answer) : null,
    card: state.card || null,
    settings: settingsView_(lang, sheet, loadTabSettings_(PropertiesService.getDocumentProperties(), sheet.getSheetId()),
      loadPreferences_(PropertiesService.getUserProperties())),
    text: pageTexts_(lang, SIDEBAR_TEXT_KEYS.slice()),
    heartbeat_ms: HEARTBEAT_MS,
  });
  SpreadsheetApp.getUi().showSidebar(template.evaluate().setTitle(MENU_TITLE));
}

/**
 * The contents of an HTML file of the project, for a template to include (Google's add-on pattern).
 * @param {string} name
 * @returns {string}
 */
function include_(name) {
  return HtmlService.createHtmlOutputFromFile(name).getContent();
}

/**
 * The source of a page's script, to run in the browser: the script is kept in a .js file of the
 * project so that it gets the same type check and lint as the rest, and its function is written into
 * the page as text. It never runs on the server.
 * @param {string} name the function's name, such as "sidebarPage_"
 * @returns {string}
 */
function pageScript_(name) {
  const page = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (globalThis))[name];
  if (typeof page !== 'function') {
    throw new Error('No page script named ' + name);
  }
  return '(' + String(page).replace(/<\/(script)/gi, '<\\/$1') + ')();';
}

/**
 * JSON that can sit inside a <script> element: no "</script>" can end it early.
 * @param {unknown} value
 * @returns {string}
 */
function jsonForScript_(value) {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
