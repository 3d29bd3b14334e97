/**
 * The Help window's contents, in the user's language, built from the same lists the add-in works
 * with: the menu items, the status columns and the statuses the function writes.
 */

/** The menu's items in the order Help explains them. */
const HELP_MENU_ITEMS = Object.freeze(['upload_selected', 'upload_pending', 'check_selected', 'remove_selected',
  'retry_failed', 'show_problem_rows', 'settings', 'automatic_upload', 'test_connection']);

/**
 * @param {Language} lang
 * @returns {string} HTML, every text escaped
 */
function helpContent_(lang) {
  const text = (/** @type {string} */ key, /** @type {Record<string, string | number>} */ params = {}) => escapeHtml_(t_(lang, key, params));
  const menu = HELP_MENU_ITEMS.map((item) => '<dt>' + text('menu.' + item) + '</dt><dd>' + text('help.menu.' + item) + '</dd>').join('');
  const columns = STATUS_COLUMNS.map((name, i) => '<li data-column="' + escapeHtml_(name) + '"><b>' + escapeHtml_(name) +
    '</b>: ' + text('help.column.' + i) + '</li>').join('');
  const statuses = ROW_STATUSES.map((status) => '<tr data-status="' + status + '"><td><code>' + status + '</code> ' +
    '<span class="label">' + escapeHtml_(countLabel_(lang, status)) + '</span></td><td>' + text('help.status.' + status) + '</td></tr>').join('');
  const countedOnly = COUNTED_ONLY.map((status) => '<p data-counted="' + status + '">' + text('help.counted_only', { status: status }) + '</p>').join('');
  return [
    '<p>' + text('help.intro') + '</p>',
    '<h3>' + text('help.menu_title') + '</h3><dl>' + menu + '</dl>',
    '<h3>' + text('help.columns_title') + '</h3><p>' + text('help.columns_intro', { count: STATUS_COLUMNS.length }) + '</p><ul>' + columns + '</ul>',
    '<h3>' + text('help.statuses_title') + '</h3><p>' + text('help.statuses_intro') + '</p>',
    '<table><thead><tr><th>' + text('help.status_header') + '</th><th>' + text('help.meaning_header') + '</th></tr></thead><tbody>' +
      statuses + '</tbody></table>' + countedOnly,
    '<h3>' + text('help.long_title') + '</h3><p>' + text('help.long') + '</p>',
    '<h3>' + text('help.one_job_title') + '</h3><p>' + text('help.one_job') + '</p>',
    '<h3>' + text('help.automatic_title') + '</h3><p>' + text('help.automatic') + '</p><p>' + text('help.log', { log: LOG_SHEET_NAME, max: LOG_MAX_ROWS }) + '</p>',
    '<h3>' + text('help.language_title') + '</h3><p>' + text('help.language') + '</p>',
    '<h3>' + text('help.where_title') + '</h3><p>' + text('help.where') + '</p>',
  ].join('\n');
}

/**
 * @param {string} text
 * @returns {string}
 */
function escapeHtml_(text) {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&#39;' })[c] || c);
}
