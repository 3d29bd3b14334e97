/**
 * A job: the rows, the action and the options sent to the function, step after step, until it says
 * done. Short jobs run from the menu; long ones continue in the sidebar, one step per server call,
 * because Apps Script stops an execution after 6 minutes.
 */

/** A menu-driven job hands over to the sidebar after this long, leaving room for one more step. */
const HANDOVER_AFTER_MS = 4.5 * 60 * 1000;
/** Selections larger than this start in the sidebar at once. */
const SIDEBAR_START_ROWS = 5000;

/** How each action is worded: "Select the rows to {verb}", "{past} 3,500 of 20,000 rows…". */
const ACTIONS = Object.freeze({
  upload: { verb: 'upload', present: 'Uploading', past: 'Uploaded' },
  check: { verb: 'check', present: 'Checking', past: 'Checked' },
  remove: { verb: 'remove from the campaign', present: 'Removing', past: 'Removed' },
});

/** The order counts are shown in; a count the function adds later comes after these. */
const COUNT_ORDER = Object.freeze(['uploaded', 'removed', 'valid', 'rejected', 'invalid', 'failed', 'skipped']);

/** @typedef {'upload' | 'check' | 'remove'} Action */
/** @typedef {'selected' | 'pending'} Mode */

/**
 * @typedef {Object} Job everything needed to take the next step; it travels to the sidebar and back
 * @property {string} id
 * @property {Action} action
 * @property {Mode} mode
 * @property {string} spreadsheet_id
 * @property {number} sheet_id the sheet's gid
 * @property {string} sheet_name
 * @property {RowInterval[] | null} rows null in "pending" mode: the function finds the rows
 * @property {Record<string, string | number | boolean | null>} options
 * @property {string | null} cursor the last answer's cursor, untouched
 * @property {string} title what the job is, in words
 * @property {string} doneTitle the same once it has ended ("Uploaded 30 selected rows…")
 */

/**
 * Starts a job from a menu item: checks settings and selection, takes the lease, then runs it here
 * or in the sidebar.
 * @param {Action} action
 * @param {Mode} mode
 */
function startJob_(action, mode) {
  const spreadsheet = SpreadsheetApp.getActive();
  const sheet = spreadsheet.getActiveSheet();
  const settings = checkedSettings_();
  if (action === 'remove' && !settings.campaign) {
    throw userError_('Set the campaign to remove the rows from in CallMarker > Settings… first.');
  }
  const rows = mode === 'selected'
    ? selectedRowIntervals_(sheet, spreadsheet.getActiveRangeList(), settings.header_row, ACTIONS[action].verb)
    : null;
  if (action === 'remove' && rows && !confirmRemoval_(countRows_(rows), settings.campaign)) {
    return;
  }
  const job = newJob_(action, mode, spreadsheet, sheet, rows, settings);
  holdLease_(job.id);
  if (rows && countRows_(rows) > SIDEBAR_START_ROWS) {
    showSidebar_({ view: 'progress', job: job, answer: null });
    return;
  }
  runFromMenu_(job);
}

/**
 * The saved settings, refusing to start with settings that are not valid.
 * @returns {Settings}
 */
function checkedSettings_() {
  const checked = validateSettings_(loadSettings_());
  const problems = Object.values(checked.errors);
  if (problems.length > 0) {
    throw userError_('Fix the settings first (CallMarker > Settings…): ' + problems.join(' '));
  }
  return checked.settings;
}

/**
 * @param {number} count
 * @param {string} campaign
 * @returns {boolean}
 */
function confirmRemoval_(count, campaign) {
  const ui = SpreadsheetApp.getUi();
  const answer = ui.alert('Remove from campaign', 'Remove the customers of ' + plural_(count, 'selected row') +
    ' from campaign ' + campaign + '?', ui.ButtonSet.YES_NO);
  return answer === ui.Button.YES;
}

/**
 * @param {Action} action
 * @param {Mode} mode
 * @param {GoogleAppsScript.Spreadsheet.Spreadsheet} spreadsheet
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet
 * @param {RowInterval[] | null} rows
 * @param {Settings} settings
 * @returns {Job}
 */
function newJob_(action, mode, spreadsheet, sheet, rows, settings) {
  const what = rows ? plural_(countRows_(rows), 'selected row') : 'all pending rows';
  return {
    id: Utilities.getUuid(),
    action: action,
    mode: mode,
    spreadsheet_id: spreadsheet.getId(),
    sheet_id: sheet.getSheetId(),
    sheet_name: sheet.getName(),
    rows: rows,
    options: requestOptions_(settings),
    cursor: null,
    title: ACTIONS[action].present + ' ' + what + ' of "' + sheet.getName() + '"',
    doneTitle: ACTIONS[action].past + ' ' + what + ' of "' + sheet.getName() + '"',
  };
}

/**
 * The request body for the job's next step. The cursor is left out on the first step.
 * @param {Job} job
 * @returns {Record<string, unknown>}
 */
function requestBody_(job) {
  /** @type {Record<string, unknown>} */
  const body = {
    spreadsheet_id: job.spreadsheet_id,
    sheet_id: job.sheet_id,
    mode: job.mode,
    action: job.action,
    options: job.options,
  };
  if (job.mode === 'selected') {
    body.rows = job.rows;
  }
  if (job.cursor !== null) {
    body.cursor = job.cursor;
  }
  return body;
}

/**
 * One step: renew the lease, call the function, keep its cursor for the next step.
 * @param {Job} job changed in place: its cursor
 * @returns {Answer}
 */
function takeStep_(job) {
  holdLease_(job.id);
  const answer = callFunction_(requestBody_(job));
  if (!answer.done && answer.cursor === null) {
    // Calling again without a cursor would start the job over.
    throw userError_('The upload service stopped without saying where to go on. The rows it finished carry ' +
      'their status; select the rest and try again.');
  }
  job.cursor = answer.cursor;
  return answer;
}

/**
 * Runs steps in this execution, with a progress toast after each, and hands over to the sidebar
 * when this execution has run long enough that another step could cross Apps Script's limit.
 * @param {Job} job
 */
function runFromMenu_(job) {
  const spreadsheet = SpreadsheetApp.getActive();
  const started = nowMs_();
  /** @type {Answer} */
  let answer;
  try {
    answer = takeStep_(job);
    while (!answer.done) {
      spreadsheet.toast(progressText_(job, answer), MENU_TITLE);
      if (nowMs_() - started >= HANDOVER_AFTER_MS) {
        showSidebar_({ view: 'progress', job: job, answer: answer });
        return; // the sidebar holds the lease from here
      }
      answer = takeStep_(job);
    }
  } catch (error) {
    releaseLease_(job.id);
    throw error;
  }
  releaseLease_(job.id);
  spreadsheet.toast(summaryText_(job, answer), MENU_TITLE);
  showSidebar_({ view: 'summary', job: job, answer: answer });
}

/**
 * Called by the sidebar for each step of a job it drives.
 * @param {Job} job
 * @returns {{job: Job, answer: Answer, progress: string, summary: string}}
 */
function runStep(job) {
  checkJob_(job);
  try {
    const answer = takeStep_(job);
    if (answer.done) {
      releaseLease_(job.id);
    }
    return { job: job, answer: answer, progress: progressText_(job, answer), summary: summaryText_(job, answer) };
  } catch (error) {
    releaseLease_(job.id);
    throw new Error(messageForUser_(error), { cause: error });
  }
}

/**
 * Called by the sidebar's Stop button once the step under way has finished: no step follows.
 * @param {Job} job
 * @param {Answer | null} answer the last answer, if any step finished
 * @returns {string} what was done, for the summary
 */
function stopJob(job, answer) {
  checkJob_(job);
  releaseLease_(job.id);
  if (!answer) {
    return 'Stopped before any row was sent.';
  }
  return 'Stopped. ' + ACTIONS[job.action].past + ' ' + formatCount_(answer.processed_rows) + ' of ' +
    plural_(answer.total_rows, 'row') + '; the rest were left as they are.';
}

/**
 * Called by the summary's "Retry failed rows" button: a new job, same action, for the given rows.
 * @param {Job} previous
 * @param {RowInterval[]} rows the previous answer's retry_rows
 * @returns {{job: Job}}
 */
function retryRows(previous, rows) {
  checkJob_(previous);
  try {
    const settings = checkedSettings_();
    const wellFormed = Array.isArray(rows) && rows.every((interval) => Array.isArray(interval) &&
      interval.length === 2 && interval.every((n) => Number.isInteger(n) && n >= 1));
    if (!wellFormed) {
      throw userError_('There are no rows to retry.');
    }
    const intervals = dataRowIntervals_(rows, settings.header_row, Number.MAX_SAFE_INTEGER);
    if (intervals.length === 0) {
      throw userError_('There are no rows to retry below the header row (row ' + settings.header_row + ').');
    }
    if (countRows_(intervals) > MAX_SELECTED_ROWS) {
      throw userError_('Too many rows to retry at once; select at most ' + formatCount_(MAX_SELECTED_ROWS) + '.');
    }
    const spreadsheet = SpreadsheetApp.getActive();
    const sheet = spreadsheet.getSheets().find((s) => s.getSheetId() === previous.sheet_id);
    if (!sheet) {
      throw userError_('The sheet "' + previous.sheet_name + '" is no longer in this spreadsheet.');
    }
    const job = newJob_(previous.action, 'selected', spreadsheet, sheet, intervals, settings);
    holdLease_(job.id);
    return { job: job };
  } catch (error) {
    throw new Error(messageForUser_(error), { cause: error });
  }
}

/**
 * The sidebar sends jobs back; make sure one still belongs to this spreadsheet before using it.
 * @param {Job} job
 */
function checkJob_(job) {
  if (!job || typeof job.id !== 'string' || !(job.action in ACTIONS) ||
      job.spreadsheet_id !== SpreadsheetApp.getActive().getId()) {
    throw new Error('This job does not belong to this spreadsheet. Close the sidebar and start again from the menu.');
  }
}

/**
 * "Uploaded 3,500 of 20,000 rows…" while running, "Uploaded 20,000 of 20,000 rows." when done.
 * @param {Job} job
 * @param {Answer} answer
 * @returns {string}
 */
function progressText_(job, answer) {
  return ACTIONS[job.action].past + ' ' + formatCount_(answer.processed_rows) + ' of ' +
    plural_(answer.total_rows, 'row') + (answer.done ? '.' : '…');
}

/**
 * The names of the counts in the order people read them: what went well first, then what needs work.
 * @param {Counts} counts
 * @returns {string[]}
 */
function countNames_(counts) {
  const known = COUNT_ORDER.filter((name) => name in counts);
  return known.concat(Object.keys(counts).filter((name) => COUNT_ORDER.indexOf(name) < 0));
}

/**
 * "Done: 118 uploaded, 2 invalid." Only the counts that are not zero.
 * @param {Job} job
 * @param {Answer} answer
 * @returns {string}
 */
function summaryText_(job, answer) {
  const counts = answer.counts;
  const parts = countNames_(counts)
    .filter((name) => counts[name] > 0)
    .map((name) => formatCount_(counts[name]) + ' ' + name);
  if (parts.length === 0) {
    return 'Done: no rows needed ' + (job.action === 'check' ? 'checking' : 'sending') + '.';
  }
  return 'Done: ' + parts.join(', ') + '.';
}
