/**
 * "Test connection": asks the function for its checklist (an action that changes nothing) and shows it
 * in a dialog, each failed line with its fix. What the function cannot say (it was never reached, or
 * Cloud Run refused the call first) is said here.
 */

const TEST_CONNECTION_WIDTH = 520;
const TEST_CONNECTION_HEIGHT = 460;
/** The most lines, and characters a line, taken from the function's answer. */
const MAX_CHECKS = 12;
const MAX_CHECK_TEXT = 400;

/**
 * @typedef {Object} ConnectionCheck one line of the checklist
 * @property {string} name
 * @property {boolean | null} ok null: not checked
 * @property {string} detail
 * @property {string} fix one sentence; empty when the line passed
 */

/** Opens the checklist dialog, in the user's language. The Help menu calls this. */
function testConnection() {
  const lang = userLanguage_();
  const checks = connectionChecklist_(lang);
  const template = HtmlService.createTemplateFromFile('TestConnection');
  template.lang = lang;
  template.dir = directionOf_(lang);
  template.checks = checksForScript_(checks, lang);
  template.texts = checksForScript_([], lang, pageTexts_(lang, ['connection.close', 'connection.list']));
  const output = template.evaluate().setWidth(TEST_CONNECTION_WIDTH).setHeight(TEST_CONNECTION_HEIGHT);
  SpreadsheetApp.getUi().showModalDialog(output, t_(lang, 'connection.title'));
}

/**
 * @param {Language} lang
 * @returns {ConnectionCheck[]}
 */
function connectionChecklist_(lang) {
  if (!CONFIG.functionUrl) {
    return [{
      name: t_(lang, 'connection.address'), ok: false, detail: t_(lang, 'connection.no_address'),
      fix: t_(lang, 'connection.no_address_fix'),
    }];
  }
  const address = { name: t_(lang, 'connection.address'), ok: true, detail: CONFIG.functionUrl, fix: '' };
  const spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
  /** @type {GoogleAppsScript.URL_Fetch.HTTPResponse} */
  let response;
  try {
    response = UrlFetchApp.fetch(CONFIG.functionUrl, {
      method: 'post',
      contentType: 'application/json',
      payload: JSON.stringify({
        action: 'diagnose', spreadsheet_id: spreadsheet.getId(), sheet_id: spreadsheet.getActiveSheet().getSheetId(), lang: lang,
      }),
      headers: functionHeaders_(),
      muteHttpExceptions: true,
      followRedirects: false,
    });
  } catch (_error) {
    return [{ ...address, ok: false, detail: t_(lang, 'connection.no_answer', { url: CONFIG.functionUrl }),
      fix: t_(lang, 'connection.no_answer_fix') }];
  }
  const code = response.getResponseCode();
  const checks = code === 200 ? readChecks_(response.getContentText()) : null;
  if (checks) {
    return [address, ...checks];
  }
  return [address, frontDoorCheck_(code, lang)];
}

/**
 * The function's checklist from its answer, each line checked; null when the answer is not one.
 * @param {string} text
 * @returns {ConnectionCheck[] | null}
 */
function readChecks_(text) {
  /** @type {any} */
  let answer;
  try {
    answer = JSON.parse(text);
  } catch (_error) {
    return null;
  }
  if (!answer || !Array.isArray(answer.checks) || !answer.checks.length) {
    return null;
  }
  const clip = (/** @type {unknown} */ value) => String(value || '').slice(0, MAX_CHECK_TEXT);
  return answer.checks.slice(0, MAX_CHECKS).map((/** @type {any} */ check) => ({
    name: clip(check && check.name),
    ok: check && typeof check.ok === 'boolean' ? check.ok : null,
    detail: clip(check && check.detail),
    fix: clip(check && check.fix),
  }));
}

/**
 * The line for a call that did not get the function's checklist back.
 * @param {number} code
 * @param {Language} lang
 * @returns {ConnectionCheck}
 */
function frontDoorCheck_(code, lang) {
  const name = t_(lang, 'connection.reaching');
  const refused = t_(lang, 'connection.refused', { code: code });
  switch (code) {
    case 401:
      return { name, ok: false, detail: refused + ' ' + t_(lang, 'connection.401'), fix: t_(lang, 'connection.401_fix') };
    case 403:
      return { name, ok: false, detail: refused + ' ' + t_(lang, 'connection.403', { email: userEmail_(lang) }),
        fix: t_(lang, 'connection.403_fix') };
    case 404:
      return { name, ok: false, detail: t_(lang, 'connection.404'), fix: t_(lang, 'connection.404_fix') };
    default:
      return { name, ok: false, detail: t_(lang, 'connection.other', { code: code }), fix: t_(lang, 'connection.other_fix') };
  }
}

/**
 * @param {Language} lang
 * @returns {string} the signed-in user's email, or a phrase when it cannot be read
 */
function userEmail_(lang) {
  try {
    return Session.getActiveUser().getEmail() || t_(lang, 'connection.your_account');
  } catch (_error) {
    return t_(lang, 'connection.your_account');
  }
}

/**
 * The checklist as JSON that can sit inside a <script> element (no "</script>" can end it early), each
 * line with its fix as shown and the summary under it, in the user's language; or, given texts, those.
 * @param {ConnectionCheck[]} checks
 * @param {Language} lang
 * @param {Record<string, string>} [texts]
 * @returns {string}
 */
function checksForScript_(checks, lang, texts) {
  const failed = checks.filter((check) => check.ok === false).length;
  const value = texts || {
    checks: checks.map((check) => ({ ...check, fix_line: check.fix ? t_(lang, 'connection.fix', { fix: isolate_(check.fix) }) : '' })),
    summary: failed ? t_(lang, 'connection.attention', { count: failed }) : t_(lang, 'connection.all_good'),
  };
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
