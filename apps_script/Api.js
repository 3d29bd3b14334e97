/**
 * The one way the add-in calls the Cloud Function: POST JSON with the user's identity, check the
 * answer, and turn every failure into a sentence the user can act on.
 */

/** The function's own messages are shown, but never at any length. */
const MAX_SERVICE_MESSAGE_LENGTH = 300;

/**
 * Rows by outcome for the whole job so far: uploaded, rejected, invalid, failed, skipped, and any other
 * outcome the function counts for an action ("valid" when checking, "removed" when removing).
 * @typedef {Record<string, number>} Counts
 */

/**
 * @typedef {Object} Answer one step's answer; counts are for the whole job so far
 * @property {boolean} done
 * @property {string | null} cursor passed back untouched on the next call
 * @property {Counts} counts
 * @property {number} total_rows
 * @property {number} processed_rows
 * @property {{row: number, column: string | null, message: string}[]} errors the first 50
 * @property {RowInterval[]} retry_rows
 * @property {string} message
 */

/**
 * Sends one request to the function and returns its answer. Throws a user error on any failure.
 * @param {Record<string, unknown>} body
 * @returns {Answer}
 */
function callFunction_(body) {
  if (!CONFIG.functionUrl) {
    throw userError_('The add-in does not know where its upload service is. Ask whoever set up the add-in ' +
      'to run deploy/apps_script.sh with the function\'s URL.');
  }
  /** @type {GoogleAppsScript.URL_Fetch.HTTPResponse} */
  let response;
  try {
    response = UrlFetchApp.fetch(CONFIG.functionUrl, {
      method: 'post',
      contentType: 'application/json',
      payload: JSON.stringify(body),
      headers: functionHeaders_(),
      muteHttpExceptions: true,
      followRedirects: false,
    });
  } catch (_error) {
    // UrlFetchApp's own message names only the address; the user needs what to do instead.
    throw userError_('Could not reach the upload service. Check your internet connection and try again; ' +
      'if it keeps failing, ask whoever set up the add-in to check that the function is deployed.');
  }
  const code = response.getResponseCode();
  const text = response.getContentText();
  if (code === 200) {
    return parseAnswer_(text);
  }
  throw userError_(failureMessage_(code, serviceMessage_(text)));
}

/**
 * The headers of every call to the function. The ID token goes twice: Cloud Run's invoker check consumes
 * X-Serverless-Authorization (and strips that token's signature), while Authorization reaches the
 * function with its signature intact, so the function can verify the caller itself.
 * @returns {GoogleAppsScript.URL_Fetch.HttpHeaders}
 */
function functionHeaders_() {
  const bearer = 'Bearer ' + ScriptApp.getIdentityToken();
  return {
    Authorization: bearer,
    'X-Serverless-Authorization': bearer,
    'X-Sheets-Token': ScriptApp.getOAuthToken(),
  };
}

/**
 * @param {string} text
 * @returns {Answer}
 */
function parseAnswer_(text) {
  /** @type {any} */
  let answer;
  try {
    answer = JSON.parse(text);
  } catch (_error) {
    answer = null;
  }
  if (!answer || typeof answer.done !== 'boolean' || typeof answer.counts !== 'object' || answer.counts === null) {
    throw userError_('The upload service gave an answer the add-in cannot read. Try again; if it happens ' +
      'again, ask whoever set up the add-in to check that the add-in and the function are the same version.');
  }
  return {
    done: answer.done,
    cursor: typeof answer.cursor === 'string' ? answer.cursor : null,
    counts: readCounts_(answer.counts),
    total_rows: Number(answer.total_rows) || 0,
    processed_rows: Number(answer.processed_rows) || 0,
    errors: Array.isArray(answer.errors) ? answer.errors : [],
    retry_rows: Array.isArray(answer.retry_rows) ? answer.retry_rows : [],
    message: typeof answer.message === 'string' ? answer.message : '',
  };
}

/**
 * @param {Record<string, unknown>} counts as the function sent them
 * @returns {Counts} the five every job has, then any other count that is a number
 */
function readCounts_(counts) {
  /** @type {Counts} */
  const read = { uploaded: 0, rejected: 0, invalid: 0, failed: 0, skipped: 0 };
  for (const [name, value] of Object.entries(counts)) {
    if (typeof value === 'number' && Number.isFinite(value)) {
      read[name] = value;
    }
  }
  return read;
}

/**
 * The function's own message from a failure body {"error": {"code", "message"}}, or null when the
 * body is not the function's (a proxy's HTML page, an empty body).
 * @param {string} text
 * @returns {string | null}
 */
function serviceMessage_(text) {
  try {
    const body = JSON.parse(text);
    const message = body && body.error && body.error.message;
    if (typeof message === 'string' && message.trim()) {
      const trimmed = message.trim();
      return trimmed.length > MAX_SERVICE_MESSAGE_LENGTH ? trimmed.slice(0, MAX_SERVICE_MESSAGE_LENGTH - 1) + '…' : trimmed;
    }
  } catch (_error) {
    // not JSON: not the function speaking
  }
  return null;
}

/**
 * What to tell the user for a failed call. serviceMessage is the function's sentence, when it sent one.
 * @param {number} code
 * @param {string | null} serviceMessage
 * @returns {string}
 */
function failureMessage_(code, serviceMessage) {
  const said = serviceMessage ? ' The service said: "' + serviceMessage + '"' : '';
  switch (code) {
    case 400:
      return 'The upload service could not understand the request.' + said +
        ' Reload the spreadsheet and try again; if it happens again, report it.';
    case 401:
      return 'The upload service did not accept your Google sign-in.' + said +
        ' Reload the spreadsheet and try again; if it keeps happening, ask whoever set up the add-in to ' +
        'check the audience the function accepts' + audienceHint_() + '.';
    case 403:
      return 'You are not allowed to upload from this spreadsheet.' + said +
        ' Check that you can edit this spreadsheet, or ask whoever set up the add-in to allow your account.';
    case 404:
      if (!serviceMessage) {
        return 'The upload service was not found at its address. Ask whoever set up the add-in to run ' +
          'deploy/apps_script.sh again with the function\'s URL.';
      }
      return 'The upload service could not find this spreadsheet or sheet.' + said +
        ' If the sheet was deleted or moved, select rows on an existing sheet and try again.';
    case 413:
      return 'Too many rows for one job.' + said + ' Select fewer rows and try again.';
    case 422:
      return 'The header row needs attention.' + said + ' Check the header row (set in Settings): it needs ' +
        'a phone column, such as "Phone" or "טלפון".';
    case 429:
      return 'The upload service is busy right now.' + said + ' Wait a minute, then try again.';
    case 500:
      return 'The upload service failed unexpectedly. Try again; if it keeps failing, tell whoever set up ' +
        'the add-in the time it happened.';
    case 502:
      return 'CallMarker could not be reached, or it refused the add-in\'s CallMarker token.' + said +
        ' Try again in a few minutes; if it keeps failing, ask whoever set up the add-in to check the ' +
        'CallMarker token.';
    case 503:
    case 504:
      return 'The upload service is not available right now. Try again in a few minutes.';
    default:
      return 'The upload service answered with an error (HTTP ' + code + ').' + said + ' Try again later.';
  }
}

/**
 * When the ID token was issued to another audience than the one the function was deployed to
 * accept, says both: that is a setup mistake, not the user's. Reads only the token's public claims.
 * @returns {string}
 */
function audienceHint_() {
  if (!CONFIG.idTokenAudience) {
    return '';
  }
  try {
    const payload = ScriptApp.getIdentityToken().split('.')[1] || '';
    const padded = payload + '='.repeat((4 - (payload.length % 4)) % 4);
    const claims = JSON.parse(Utilities.newBlob(Utilities.base64DecodeWebSafe(padded)).getDataAsString());
    if (claims.aud && claims.aud !== CONFIG.idTokenAudience) {
      return ' (the add-in signs in as ' + claims.aud + ', the function expects ' + CONFIG.idTokenAudience + ')';
    }
  } catch (_error) {
    // the hint is a courtesy; the main message stands without it
  }
  return '';
}
