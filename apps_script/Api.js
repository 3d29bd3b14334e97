/**
 * The one way the add-in calls the Cloud Function: POST JSON with the user's identity, check the
 * answer, and turn every failure into a sentence the user can act on. Everything the function answers
 * is checked here before any other code sees it.
 */

/** The function's own messages are shown, but never at any length. */
const MAX_SERVICE_MESSAGE_LENGTH = 300;
/** How many problems an answer or a preview lists at most; the sheet holds every row's own. */
const MAX_LISTED_ERRORS = 50;
const MAX_LISTED_COLUMNS = 200;
const MAX_COLUMN_NAME_LENGTH = 200;

/**
 * Rows by outcome for the whole job so far: uploaded, sent, rejected, invalid, failed, skipped, and any
 * other outcome the function counts for an action ("valid" when checking, "removed" when removing).
 * @typedef {Record<string, number>} Counts
 */

/** @typedef {{row: number, column: string | null, message: string}} RowProblem */

/**
 * @typedef {Object} Answer one step's answer; counts are for the whole job so far
 * @property {boolean} done
 * @property {string | null} cursor passed back untouched on the next call
 * @property {Counts} counts
 * @property {number} total_rows
 * @property {number} processed_rows
 * @property {RowProblem[]} errors the first 50
 * @property {RowInterval[]} retry_rows
 * @property {string[]} unmapped_columns headers that mean nothing to CallMarker: their cells are not sent
 * @property {string | null} problem_rows_url the filter view of this tab's problem rows, once there is one
 * @property {string} message
 */

/**
 * @typedef {Object} Preview what a job would do, from the function's read-only preview action
 * @property {number} total_rows
 * @property {number} to_send
 * @property {number} invalid
 * @property {number} skipped
 * @property {number} left_for_later
 * @property {{column: string, field: string, label: string}[]} columns
 * @property {string[]} unmapped_columns
 * @property {{name: string, label: string, value: unknown, text: string}[]} options
 * @property {RowProblem[]} errors the first 50
 */

/**
 * Sends one request to the function and returns its JSON answer, not yet checked. Throws a user error,
 * in the request's language, on any failure.
 * @param {Record<string, unknown>} body
 * @returns {unknown}
 */
function callFunction_(body) {
  const lang = body.lang === 'he' ? 'he' : 'en';
  if (!CONFIG.functionUrl) {
    throw userError_(t_(lang, 'api.no_url'));
  }
  checkIdentityToken_(lang);
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
    throw userError_(t_(lang, 'api.unreachable'));
  }
  const code = response.getResponseCode();
  const text = response.getContentText();
  if (code === 200) {
    try {
      return JSON.parse(text);
    } catch (_error) {
      throw userError_(t_(lang, 'api.unreadable'));
    }
  }
  throw userError_(failureMessage_(code, serviceMessage_(text), lang, serviceStatus_(text)));
}

/**
 * Google documents ScriptApp.getIdentityToken() for the effective user, and a trigger runs as the
 * person who made it; should Google give no token (or refuse it), nothing is sent and the user is told
 * why, rather than calling the function with an empty sign-in.
 * @param {Language} lang
 */
function checkIdentityToken_(lang) {
  /** @type {string} */
  let token;
  try {
    token = ScriptApp.getIdentityToken() || '';
  } catch (_error) {
    token = '';
  }
  if (!token) {
    throw userError_(t_(lang, 'api.no_identity'));
  }
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
 * A step's answer, checked: anything that is not the function's answer is refused as a whole, and
 * each listed item that is not what it should be is left out.
 * @param {unknown} value the parsed JSON
 * @param {string} spreadsheetId the job's, which a problem-rows link must point into
 * @param {Language} lang
 * @returns {Answer}
 */
function parseAnswer_(value, spreadsheetId, lang) {
  const answer = /** @type {Record<string, any>} */ (isObject_(value) ? value : {});
  if (typeof answer.done !== 'boolean' || !isObject_(answer.counts)) {
    throw userError_(t_(lang, 'api.unreadable'));
  }
  return {
    done: answer.done,
    cursor: typeof answer.cursor === 'string' && answer.cursor ? answer.cursor : null,
    counts: readCounts_(answer.counts),
    total_rows: count_(answer.total_rows) || 0,
    processed_rows: count_(answer.processed_rows) || 0,
    errors: readProblems_(answer.errors),
    retry_rows: readIntervals_(answer.retry_rows),
    unmapped_columns: readColumnNames_(answer.unmapped_columns),
    problem_rows_url: readProblemRowsUrl_(answer.problem_rows_url, spreadsheetId),
    message: shortText_(answer.message),
  };
}

/**
 * The preview action's answer, checked as strictly: a card must not show numbers nobody gave.
 * @param {unknown} value the parsed JSON, {"preview": {...}}
 * @param {Language} lang
 * @returns {Preview}
 */
function parsePreview_(value, lang) {
  const preview = /** @type {Record<string, any>} */ (isObject_(value) && isObject_(value.preview) ? value.preview : {});
  const numbers = ['total_rows', 'to_send', 'invalid', 'skipped', 'left_for_later'].map((name) => count_(preview[name]));
  if (numbers.some((n) => n === null)) {
    throw userError_(t_(lang, 'api.preview_unreadable'));
  }
  const [totalRows, toSend, invalid, skipped, leftForLater] = /** @type {number[]} */ (numbers);
  const columns = (Array.isArray(preview.columns) ? preview.columns : [])
    .filter((c) => isObject_(c) && isText_(c.column) && isText_(c.field))
    .slice(0, MAX_LISTED_COLUMNS)
    .map((c) => ({ column: shortText_(c.column, MAX_COLUMN_NAME_LENGTH), field: shortText_(c.field, MAX_COLUMN_NAME_LENGTH),
      label: isText_(c.label) ? shortText_(c.label, MAX_COLUMN_NAME_LENGTH) : shortText_(c.field, MAX_COLUMN_NAME_LENGTH) }));
  const options = (Array.isArray(preview.options) ? preview.options : [])
    .filter((o) => isObject_(o) && isText_(o.name) && isText_(o.label))
    .slice(0, 20)
    .map((o) => {
      const plainValue = typeof o.value === 'string' || typeof o.value === 'number' || typeof o.value === 'boolean' ? o.value : null;
      return {
        name: shortText_(o.name, 50),
        label: shortText_(o.label, 100),
        value: plainValue,
        text: isText_(o.text) ? shortText_(o.text, 200) : plainValue === null ? '' : String(plainValue).slice(0, 200),
      };
    });
  return {
    total_rows: totalRows,
    to_send: toSend,
    invalid: invalid,
    skipped: skipped,
    left_for_later: leftForLater,
    columns: columns,
    unmapped_columns: readColumnNames_(preview.unmapped_columns),
    options: options,
    errors: readProblems_(preview.errors),
  };
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, any>}
 */
function isObject_(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * @param {unknown} value
 * @returns {value is string}
 */
function isText_(value) {
  return typeof value === 'string' && value.trim() !== '';
}

/**
 * A whole number of rows, or null when the value is not one.
 * @param {unknown} value
 * @returns {number | null}
 */
function count_(value) {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null;
}

/**
 * @param {unknown} value
 * @param {number} [max]
 * @returns {string}
 */
function shortText_(value, max = MAX_SERVICE_MESSAGE_LENGTH) {
  if (typeof value !== 'string') {
    return '';
  }
  const trimmed = value.trim();
  return trimmed.length > max ? trimmed.slice(0, max - 1) + '…' : trimmed;
}

/**
 * @param {Record<string, unknown>} counts as the function sent them
 * @returns {Counts} the six every job has, then any other count that is a whole number
 */
function readCounts_(counts) {
  /** @type {Counts} */
  const read = { uploaded: 0, sent: 0, rejected: 0, invalid: 0, failed: 0, skipped: 0 };
  for (const [name, value] of Object.entries(counts)) {
    const n = count_(value);
    if (n !== null && /^[a-z_]{1,40}$/.test(name)) {
      read[name] = n;
    }
  }
  return read;
}

/**
 * @param {unknown} list
 * @returns {RowProblem[]}
 */
function readProblems_(list) {
  return (Array.isArray(list) ? list : [])
    .filter((e) => isObject_(e) && count_(e.row) !== null && e.row >= 1 && typeof e.message === 'string' &&
      (e.column === null || e.column === undefined || typeof e.column === 'string'))
    .slice(0, MAX_LISTED_ERRORS)
    .map((e) => ({ row: e.row, column: isText_(e.column) ? shortText_(e.column, MAX_COLUMN_NAME_LENGTH) : null, message: shortText_(e.message) }));
}

/**
 * @param {unknown} list
 * @returns {RowInterval[]}
 */
function readIntervals_(list) {
  return (Array.isArray(list) ? list : [])
    .filter((pair) => Array.isArray(pair) && pair.length === 2 && pair.every((n) => count_(n) !== null && n >= 1) && pair[0] <= pair[1])
    .map((pair) => /** @type {RowInterval} */ ([pair[0], pair[1]]));
}

/**
 * @param {unknown} list
 * @returns {string[]}
 */
function readColumnNames_(list) {
  return (Array.isArray(list) ? list : []).filter(isText_).slice(0, MAX_LISTED_COLUMNS).map((name) => shortText_(name, MAX_COLUMN_NAME_LENGTH));
}

/**
 * A link to a filter view of this very spreadsheet, or null: the add-in opens no other address.
 * @param {unknown} url
 * @param {string} spreadsheetId
 * @returns {string | null}
 */
function readProblemRowsUrl_(url, spreadsheetId) {
  if (typeof url !== 'string' || url.length > 500) {
    return null;
  }
  const prefix = 'https://docs.google.com/spreadsheets/d/' + spreadsheetId + '/';
  return url.indexOf(prefix) === 0 && /^[\w\-./?#=&%:]+$/.test(url) ? url : null;
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
    if (isText_(message)) {
      return shortText_(message);
    }
  } catch (_error) {
    // not JSON: not the function speaking
  }
  return null;
}

/**
 * The function's own name for a failure, from {"error": {"status"}}: one of the names it documents, or
 * null (another body, or a name the add-in does not know).
 * @param {string} text
 * @returns {string | null}
 */
function serviceStatus_(text) {
  try {
    const body = JSON.parse(text);
    const status = body && body.error && body.error.status;
    return typeof status === 'string' && SERVICE_STATUSES.indexOf(status) >= 0 ? status : null;
  } catch (_error) {
    return null;
  }
}

/**
 * Failures the function names, each explained in words of its own (with what to do), beyond what its
 * HTTP code says.
 */
const SERVICE_STATUSES = Object.freeze([
  'cursor_invalid', 'sheets_token_mismatch', 'sheets_api_disabled', 'cursor_too_large', 'body_too_large', 'callmarker_unreadable',
  'statuses_not_written', 'status_columns_protected',
]);

/**
 * What to tell the user for a failed call. serviceMessage is the function's sentence, and status its
 * name for the failure, when it sent them.
 * @param {number} code
 * @param {string | null} serviceMessage
 * @param {Language} lang
 * @param {string | null} [status]
 * @returns {string}
 */
function failureMessage_(code, serviceMessage, lang, status = null) {
  const said = serviceMessage ? t_(lang, 'api.said', { message: serviceMessage }) : '';
  if (status) {
    return t_(lang, 'api.status.' + status, { said: said });
  }
  switch (code) {
    case 400:
    case 403:
    case 413:
    case 422:
    case 429:
      return t_(lang, 'api.' + code, { said: said });
    case 401:
      return t_(lang, 'api.401', { said: said, hint: audienceHint_(lang) });
    case 404:
      return serviceMessage ? t_(lang, 'api.404', { said: said }) : t_(lang, 'api.404_address');
    case 500:
      return t_(lang, 'api.500');
    case 502:
      return t_(lang, 'api.502', { said: said });
    case 503:
    case 504:
      return t_(lang, 'api.503');
    default:
      return t_(lang, 'api.other', { said: said, code: code });
  }
}

/**
 * When the ID token was issued to another audience than the one the function was deployed to
 * accept, says both: that is a setup mistake, not the user's. Reads only the token's public claims.
 * @param {Language} lang
 * @returns {string}
 */
function audienceHint_(lang) {
  if (!CONFIG.idTokenAudience) {
    return '';
  }
  try {
    const payload = ScriptApp.getIdentityToken().split('.')[1] || '';
    const padded = payload + '='.repeat((4 - (payload.length % 4)) % 4);
    const claims = JSON.parse(Utilities.newBlob(Utilities.base64DecodeWebSafe(padded)).getDataAsString());
    if (claims.aud && claims.aud !== CONFIG.idTokenAudience) {
      return t_(lang, 'api.audience_hint', { actual: String(claims.aud), expected: CONFIG.idTokenAudience });
    }
  } catch (_error) {
    // the hint is a courtesy; the main message stands without it
  }
  return '';
}
