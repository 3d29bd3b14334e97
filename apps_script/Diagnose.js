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

/** Opens the checklist dialog. The Help menu calls this. */
function testConnection() {
  const template = HtmlService.createTemplateFromFile('TestConnection');
  template.checks = checksForScript_(connectionChecklist_());
  const output = template.evaluate().setWidth(TEST_CONNECTION_WIDTH).setHeight(TEST_CONNECTION_HEIGHT);
  SpreadsheetApp.getUi().showModalDialog(output, 'CallMarker: test connection');
}

/**
 * @returns {ConnectionCheck[]}
 */
function connectionChecklist_() {
  if (!CONFIG.functionUrl) {
    return [{
      name: 'Function address', ok: false, detail: 'The add-in does not know where the upload function is.',
      fix: 'Push the add-in with deploy/apps_script.sh --function-url and the URL that deploy/function.sh printed.',
    }];
  }
  const address = { name: 'Function address', ok: true, detail: CONFIG.functionUrl, fix: '' };
  const spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
  /** @type {GoogleAppsScript.URL_Fetch.HTTPResponse} */
  let response;
  try {
    response = UrlFetchApp.fetch(CONFIG.functionUrl, {
      method: 'post',
      contentType: 'application/json',
      payload: JSON.stringify({
        action: 'diagnose', spreadsheet_id: spreadsheet.getId(), sheet_id: spreadsheet.getActiveSheet().getSheetId(),
      }),
      headers: functionHeaders_(),
      muteHttpExceptions: true,
      followRedirects: false,
    });
  } catch (_error) {
    return [{ ...address, ok: false, detail: 'No answer from ' + CONFIG.functionUrl + '.',
      fix: 'Check that the function is deployed (deploy/function.sh prints its URL) and that the add-in was pushed with that URL.' }];
  }
  const code = response.getResponseCode();
  const checks = code === 200 ? readChecks_(response.getContentText()) : null;
  if (checks) {
    return [address, ...checks];
  }
  return [address, frontDoorCheck_(code)];
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
 * @returns {ConnectionCheck}
 */
function frontDoorCheck_(code) {
  const name = 'Reaching the function';
  const detail = 'The call was refused with HTTP ' + code + ' before the function could answer.';
  switch (code) {
    case 401:
      return { name, ok: false, detail: detail + ' Cloud Run did not accept the sign-in token (its audience, or its signature).',
        fix: 'Run deploy/function.sh again with --audiences set to the add-in\'s OAuth client id: it becomes a custom audience of the service.' };
    case 403:
      return { name, ok: false, detail: detail + ' Cloud Run says ' + userEmail_() + ' may not call it.',
        fix: 'Ask the administrator to add you to the group (or domain) granted the Cloud Run Invoker role on the function.' };
    case 404:
      return { name, ok: false, detail: 'Nothing answers at this address (HTTP 404).',
        fix: 'Push the add-in again with the URL that deploy/function.sh printed.' };
    default:
      return { name, ok: false, detail: 'The function answered HTTP ' + code + ' instead of its checklist.',
        fix: 'Test again in a minute; if it persists, push the add-in and deploy the function again (they must be the same version).' };
  }
}

/** @returns {string} the signed-in user's email, or a phrase when it cannot be read */
function userEmail_() {
  try {
    return Session.getActiveUser().getEmail() || 'your account';
  } catch (_error) {
    return 'your account';
  }
}

/**
 * The checklist as JSON that can sit inside a <script> element: no "</script>" can end it early.
 * @param {ConnectionCheck[]} checks
 * @returns {string}
 */
function checksForScript_(checks) {
  return JSON.stringify(checks).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
