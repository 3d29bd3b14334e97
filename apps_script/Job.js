/**
 * A job: the rows, the action and the options sent to the function, step after step, until it says
 * done. Before an upload or a removal the pre-flight card shows what would happen (unless the job is
 * smaller than the user chose); the user's Send then starts the job in the sidebar. Jobs that skip the
 * card run from the menu, and hand over to the sidebar when they run long, because Apps Script stops
 * an execution after 6 minutes. Every job keeps a journal (Journal.js) from the moment it takes its tab,
 * and writes its row in the log when it ends (endJob_), however it ends and whoever ends it.
 */

/** A menu-driven job hands over to the sidebar after this long, leaving room for one more step. */
const HANDOVER_AFTER_MS = 4.5 * 60 * 1000;
/** Selections larger than this start in the sidebar at once. */
const SIDEBAR_START_ROWS = 5000;
const PROBLEM_ROWS_PREFIX = 'callmarker.problem_rows.';

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
 * @property {Record<string, string | number | boolean>} options only what the user set
 * @property {string | null} cursor the last answer's cursor, untouched
 * @property {Language} lang the language the job speaks, and asks the function to answer in
 * @property {string} title what the job is, in words
 * @property {string} done_title the same once it has ended ("Uploaded 30 selected rows…")
 */

/**
 * Starts a job from a menu item: checks settings and rows, then shows the pre-flight card, or takes
 * the tab's lease and runs the job here or in the sidebar.
 * @param {Action} action
 * @param {Mode} mode
 * @param {RowInterval[]} [presetRows] rows chosen by the add-in instead of the selection
 */
function startJob_(action, mode, presetRows) {
  const lang = userLanguage_();
  const spreadsheet = SpreadsheetApp.getActive();
  const sheet = spreadsheet.getActiveSheet();
  const settings = checkedSettings_(sheet, lang);
  if (action === 'remove' && !settings.campaign) {
    throw userError_(t_(lang, 'remove.no_campaign'));
  }
  const rows = presetRows || (mode === 'selected'
    ? selectedRowIntervals_(sheet, spreadsheet.getActiveRangeList(), headerRow_(settings), action, lang)
    : null);
  const job = newJob_(action, mode, spreadsheet, sheet, rows, settings, lang);
  const card = preflightCard_(job, settings);
  if (card) {
    showSidebar_({ view: 'preflight', job: job, card: card });
    return;
  }
  if (action === 'remove' && rows && !confirmRemoval_(job, settings)) {
    return;
  }
  if (!leaseFromMenu_(job)) {
    return;
  }
  if (rows && countRows_(rows) > SIDEBAR_START_ROWS) {
    armCarryOn_();
    showSidebar_({ view: 'progress', job: job });
    return;
  }
  runFromMenu_(job);
}

/**
 * The active tab's settings, refusing to start with settings that are not valid.
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet
 * @param {Language} lang
 * @returns {Settings}
 */
function checkedSettings_(sheet, lang) {
  const saved = loadTabSettings_(PropertiesService.getDocumentProperties(), sheet.getSheetId()).settings;
  const checked = validateSettings_(/** @type {Record<string, unknown>} */ (/** @type {unknown} */ (saved)), lang);
  const problems = Object.values(checked.errors);
  if (problems.length > 0) {
    throw userError_(t_(lang, 'settings.fix_first', { sheet: sheet.getName(), problems: problems.join(' ') }));
  }
  return checked.settings;
}

/**
 * The pre-flight card for a job, from the function's preview, or null when the job goes without one:
 * a check (it sends nothing), or a job no larger than the size up to which the user skips the card.
 * For "all pending rows" the size is known only from the preview.
 * @param {Job} job
 * @param {Settings} settings
 * @returns {CardView | null}
 */
function preflightCard_(job, settings) {
  if (job.action === 'check') {
    return null;
  }
  const upTo = loadPreferences_(PropertiesService.getUserProperties()).skip_card_up_to;
  const skips = (/** @type {number} */ count) => upTo > 0 && count <= upTo;
  // No job sends more than MAX_SELECTED_ROWS (the rest wait for the next one): a user who skips the
  // card up to that size skips it for every job, and "all pending rows" needs no preview to know it.
  const known = job.rows ? countRows_(job.rows) : MAX_SELECTED_ROWS;
  if (skips(known)) {
    return null;
  }
  checkTabFree_(leaseRequest_(job, null));
  const preview = previewJob_(job);
  if (!job.rows && skips(preview.to_send)) {
    return null;
  }
  return cardView_(job, preview, settings);
}

/**
 * Asks the function what the job would do. It writes nothing and sends nothing.
 * @param {Job} job
 * @returns {Preview}
 */
function previewJob_(job) {
  const body = requestBody_(job);
  body.preview_action = job.action;
  body.action = 'preview';
  delete body.cursor;
  return parsePreview_(callFunction_(body), job.lang);
}

/**
 * When the card was skipped, a removal is still confirmed: it takes customers out of a campaign.
 * @param {Job} job
 * @param {Settings} settings
 * @returns {boolean}
 */
function confirmRemoval_(job, settings) {
  const ui = SpreadsheetApp.getUi();
  const answer = ui.alert(t_(job.lang, 'remove.confirm_title'), t_(job.lang, 'remove.confirm', {
    count: countRows_(job.rows || []), campaign: campaignText_(job.lang, settings),
  }), ui.ButtonSet.YES_NO);
  return answer === ui.Button.YES;
}

/**
 * @param {Action} action
 * @param {Mode} mode
 * @param {GoogleAppsScript.Spreadsheet.Spreadsheet} spreadsheet
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet
 * @param {RowInterval[] | null} rows
 * @param {Settings} settings
 * @param {Language} lang
 * @returns {Job}
 */
function newJob_(action, mode, spreadsheet, sheet, rows, settings, lang) {
  const kind = action + '.' + mode;
  const words = { count: rows ? countRows_(rows) : 0, sheet: sheet.getName() };
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
    lang: lang,
    title: t_(lang, 'job.running.' + kind, words),
    done_title: t_(lang, 'job.done.' + kind, words),
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
    lang: job.lang,
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
 * @param {Job} job
 * @param {string | null} takeOver the job id of a stale lease the user agreed to take over
 * @returns {LeaseRequest}
 */
function leaseRequest_(job, takeOver) {
  return {
    sheet_id: job.sheet_id, sheet_name: job.sheet_name, job_id: job.id, action: job.action,
    email: activeEmail_(), lang: job.lang, take_over: takeOver,
  };
}

/**
 * Takes the tab's lease from a menu item; a stale one after a question naming whose it was.
 * @param {Job} job
 * @returns {boolean} false when the user chose not to take over
 */
function leaseFromMenu_(job) {
  const taken = takeLease_(leaseRequest_(job, null));
  if (!taken.stale) {
    openManualJournal_(job);
    return true;
  }
  const ui = SpreadsheetApp.getUi();
  const answer = ui.alert(t_(job.lang, 'lease.stale_title'),
    takeOverQuestion_(job.lang, taken.stale, job.sheet_name, nowMs_()), ui.ButtonSet.YES_NO);
  if (answer !== ui.Button.YES) {
    return false;
  }
  const again = takeLease_(leaseRequest_(job, taken.stale.job_id));
  if (again.stale) {
    // Another stale lease took its place meanwhile: the question was about a different job.
    throw userError_(t_(job.lang, 'lease.changed', { sheet: job.sheet_name }));
  }
  openManualJournal_(job);
  return true;
}

/**
 * The journal of a job a person started, once it holds its tab: who runs it, and whether they want its
 * end by email should it end after its window closed.
 * @param {Job} job
 */
function openManualJournal_(job) {
  openJournal_(job, runnerEmail_(), 'manual', loadPreferences_(PropertiesService.getUserProperties()).notify_carried);
}

/**
 * Takes the tab's lease for the sidebar: a stale one is returned as a question for the sidebar to ask.
 * @param {Job} job
 * @param {string | null} takeOver
 * @returns {{job: Job, confirm: string | null, take_over: string | null}}
 */
function leaseFromSidebar_(job, takeOver) {
  const taken = takeLease_(leaseRequest_(job, takeOver));
  if (taken.stale) {
    return { job: job, confirm: takeOverQuestion_(job.lang, taken.stale, job.sheet_name, nowMs_()), take_over: taken.stale.job_id };
  }
  openManualJournal_(job);
  armCarryOn_();
  return { job: job, confirm: null, take_over: null };
}

/**
 * One step: beat the lease, call the function, keep its cursor for the next step.
 * @param {Job} job changed in place: its cursor
 * @returns {Answer}
 */
function takeStep_(job) {
  const lost = beatLease_(job.sheet_id, job.sheet_name, job.id, job.lang);
  if (lost) {
    throw userError_(lost);
  }
  const answer = parseAnswer_(callFunction_(requestBody_(job)), job.spreadsheet_id, job.lang);
  if (answer.problem_rows_url) {
    PropertiesService.getDocumentProperties().setProperty(PROBLEM_ROWS_PREFIX + job.sheet_id, answer.problem_rows_url);
  }
  if (!answer.done && answer.cursor === null) {
    // Calling again without a cursor would start the job over.
    throw userError_(t_(job.lang, 'step.no_cursor'));
  }
  job.cursor = answer.cursor;
  recordStep_(job, answer);
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
      spreadsheet.toast(answerView_(job, answer).progress, MENU_TITLE);
      if (nowMs_() - started >= HANDOVER_AFTER_MS) {
        armCarryOn_();
        showSidebar_({ view: 'progress', job: job, answer: answer });
        return; // the sidebar holds the lease from here
      }
      answer = takeStep_(job);
    }
  } catch (error) {
    endJob_(job, { error: error });
    throw error;
  }
  endJob_(job, { answer: answer });
  spreadsheet.toast(summaryText_(job, answer), MENU_TITLE);
  showSidebar_({ view: 'summary', job: job, answer: answer });
}

/**
 * Called by the card's Send button, and again with take_over once the user agreed to take over a
 * stale lease: takes the tab's lease so that the sidebar can run the job.
 * @param {Job} job
 * @param {string | null} takeOver
 * @returns {{job: Job, confirm: string | null, take_over: string | null}}
 */
function sendJob(job, takeOver) {
  checkJob_(job);
  try {
    return leaseFromSidebar_(job, typeof takeOver === 'string' ? takeOver : null);
  } catch (error) {
    throw new Error(messageForUser_(error, job.lang), { cause: error });
  }
}

/**
 * Called by the sidebar for each step of a job it drives.
 * @param {Job} job
 * @returns {{job: Job, answer: Answer, view: AnswerView}}
 */
function runStep(job) {
  checkJob_(job);
  try {
    const answer = takeStep_(job);
    if (answer.done) {
      endJob_(job, { answer: answer });
    }
    return { job: job, answer: answer, view: answerView_(job, answer) };
  } catch (error) {
    endJob_(job, { error: error });
    throw new Error(messageForUser_(error, job.lang), { cause: error });
  }
}

/**
 * Called by the sidebar every HEARTBEAT_MS while a job runs, so that a job whose sidebar was closed
 * can be told from one whose step is slow.
 * @param {Job} job
 * @returns {{held: boolean, message: string}} held false: someone took the tab over; stop
 */
function heartbeat(job) {
  checkJob_(job);
  let lost = null;
  try {
    lost = beatLease_(job.sheet_id, job.sheet_name, job.id, job.lang);
  } catch (_error) {
    // A beat that could not happen (the document lock was busy) loses nothing: the next beat, or the
    // next step, says whether the job still holds the tab.
  }
  return { held: !lost, message: lost || '' };
}

/**
 * Called by the sidebar's Stop button once the step under way has finished: no step follows.
 * @param {Job} job
 * @param {Answer | null} answer the last answer, if any step finished
 * @returns {string} what was done, for the summary
 */
function stopJob(job, answer) {
  checkJob_(job);
  /** @type {string} */
  let said;
  if (!answer || !isObject_(answer.counts)) {
    said = t_(job.lang, 'stop.before_any');
  } else {
    const parts = partsOfTotal_(countParts_(readCounts_(answer.counts), job.action, job.lang));
    said = t_(job.lang, 'stop.after', { parts: countsPhrase_(parts, job.lang), total: count_(answer.total_rows) || 0 });
  }
  endJob_(job, { stopped: said });
  return said;
}

/**
 * @typedef {Object} Ending how a job ended: done (its last answer), stopped by an error, stopped by its
 *   user, or taken over by someone
 * @property {Answer} [answer]
 * @property {unknown} [error]
 * @property {string} [stopped] what the user was told
 * @property {string} [taken_by] the email of whoever took the tab over
 * @property {string} [result] the log's sentence, when the caller words it
 * @property {((top: unknown[]) => boolean) | null} [replaces] whether the log's newest row is this job's to replace
 */

/**
 * Ends a job: gives its tab back, writes its row in the log, and closes its journal; when a follow-up
 * run finished the job after its window closed, tells whoever ran it, if they asked. A job whose
 * journal is already closed (someone took its tab over) was logged then, and is not logged twice.
 * @param {Job} job
 * @param {Ending} ending
 * @returns {LogEntry | null} the log's row, when this call ended the job
 */
function endJob_(job, ending) {
  releaseLease_(job.sheet_id, job.id, job.lang);
  const journal = closeJournal_(PropertiesService.getDocumentProperties(), job.sheet_id, job.id);
  if (!journal) {
    return null;
  }
  const entry = logEntry_(job, journal, ending);
  const spreadsheet = SpreadsheetApp.getActive();
  writeLog_(spreadsheet, entry, ending.replaces || null);
  if (journal.carried && journal.notify && journal.origin === 'manual') {
    notifyJobEnd_(spreadsheet, journal.by, entry);
  }
  return entry;
}

/**
 * The log's row for a job that ended. Pure but for the language and the clock.
 * @param {Job} job
 * @param {Journal} journal
 * @param {Ending} ending
 * @returns {LogEntry}
 */
function logEntry_(job, journal, ending) {
  const answer = ending.answer || null;
  /** @type {string} */
  let result;
  if (ending.result) {
    result = ending.result;
  } else if (answer) {
    result = summaryText_(job, answer);
  } else if (ending.stopped) {
    result = ending.stopped;
  } else if (ending.taken_by !== undefined) {
    result = t_(job.lang, 'log.taken_over', { holder: holderName_(job.lang, ending.taken_by) });
  } else {
    result = t_(job.lang, 'log.failed', { message: messageForUser_(ending.error, job.lang) });
  }
  return {
    started_at: journal.started_at,
    ended_at: nowMs_(),
    by: journal.by,
    origin: journal.origin,
    carried: journal.carried,
    sheet_name: job.sheet_name,
    sheet_id: job.sheet_id,
    action: job.action,
    mode: job.mode,
    rows: job.rows ? countRows_(job.rows) : answer ? answer.total_rows : journal.counts ? journal.total_rows : null,
    counts: answer ? answer.counts : (journal.counts || {}),
    result: result,
    first_problem_row: answer && answer.errors.length ? answer.errors[0].row : journal.first_problem_row,
    lang: job.lang,
  };
}

/**
 * A job whose tab was taken over from it, with the taker's confirmation: its journal ends, and its row
 * in the log says who took the tab.
 * @param {number} sheetId
 * @param {string} jobId
 * @param {string} takenBy
 */
function endTakenOverJob_(sheetId, jobId, takenBy) {
  const journal = closeJournal_(PropertiesService.getDocumentProperties(), sheetId, jobId);
  if (journal) {
    writeLog_(SpreadsheetApp.getActive(), logEntry_(journal.job, journal, { taken_by: takenBy }), null);
  }
}

/**
 * Called by the summary's "Retry failed rows" button: a new job, same action, for the given rows,
 * through the card like any other.
 * @param {Job} previous
 * @param {RowInterval[]} rows the previous answer's retry_rows
 * @returns {{job: Job, card: CardView | null, confirm: string | null, take_over: string | null}}
 */
function retryRows(previous, rows) {
  checkJob_(previous);
  const lang = previous.lang;
  try {
    const spreadsheet = SpreadsheetApp.getActive();
    const sheet = sheetById_(spreadsheet, previous.sheet_id);
    if (!sheet) {
      throw userError_(t_(lang, 'sheet.gone', { sheet: previous.sheet_name }));
    }
    const settings = checkedSettings_(sheet, lang);
    const intervals = firstRanges_(readIntervals_(rows), lang);
    if (intervals.length === 0) {
      throw userError_(t_(lang, 'retry.none'));
    }
    const below = dataRowIntervals_(intervals, headerRow_(settings), Number.MAX_SAFE_INTEGER);
    if (below.length === 0) {
      throw userError_(t_(lang, 'retry.none_below_header', { row: headerRow_(settings) }));
    }
    checkJobSize_(below, lang);
    const job = newJob_(previous.action, 'selected', spreadsheet, sheet, below, settings, lang);
    const card = preflightCard_(job, settings);
    if (card) {
      return { job: job, card: card, confirm: null, take_over: null };
    }
    return Object.assign({ card: null }, leaseFromSidebar_(job, null));
  } catch (error) {
    throw new Error(messageForUser_(error, lang), { cause: error });
  }
}

/**
 * The sidebar sends jobs back; make sure one still belongs to this spreadsheet before using it.
 * @param {Job} job
 */
function checkJob_(job) {
  if (!job || typeof job.id !== 'string' || !(job.action in MAIN_OUTCOME) ||
      job.spreadsheet_id !== SpreadsheetApp.getActive().getId() || !Number.isInteger(job.sheet_id)) {
    throw new Error(t_(userLanguage_(), 'job.not_ours'));
  }
  if (LANGUAGES.indexOf(job.lang) < 0) {
    job.lang = 'en';
  }
}

/**
 * "Done: uploaded 118 · invalid 2." Only the counts that are not zero.
 * @param {Job} job
 * @param {Answer} answer
 * @returns {string}
 */
function summaryText_(job, answer) {
  const parts = countParts_(answer.counts, job.action, job.lang).filter((part) => part.count > 0);
  if (parts.length === 0) {
    return t_(job.lang, 'summary.nothing.' + job.action);
  }
  return t_(job.lang, 'summary.done', { parts: countsPhrase_(parts, job.lang) });
}

/**
 * @typedef {Object} ProblemView one problem row, as the sidebar lists it
 * @property {number} row
 * @property {string | null} column
 * @property {string} text
 */

/**
 * "Row 118 · Phone: not a phone number", never naming the column twice: a message that starts with
 * the column's name (as the function words "Phone "12" is too short") is shown after the row alone. Pure.
 * @param {Language} lang
 * @param {RowProblem} problem
 * @returns {ProblemView}
 */
function problemView_(lang, problem) {
  const plain = (/** @type {string} */ text) => text.replace(/[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim();
  const named = problem.column !== null && plain(problem.message).indexOf(plain(problem.column)) === 0;
  const text = problem.column !== null && !named
    ? t_(lang, 'problem.column', { row: String(problem.row), column: problem.column, message: problem.message })
    : t_(lang, 'problem.row', { row: String(problem.row), message: problem.message });
  return { row: problem.row, column: problem.column, text: text };
}

/**
 * @typedef {Object} AnswerView an answer as the sidebar shows it, every sentence already written
 * @property {string} title
 * @property {number} percent
 * @property {string} progress
 * @property {string} summary '' until the job is done
 * @property {string} before_error how far the job got, for when the next step fails
 * @property {{name: string, label: string, count: string, tone: string}[]} counts
 * @property {ProblemView[]} errors
 * @property {RowInterval[]} retry_rows
 * @property {string} retry_label '' when no row is worth retrying
 * @property {string | null} problem_rows_url
 * @property {string} unmapped
 * @property {string} message the function's own sentence
 */

/**
 * @param {Job} job
 * @param {Answer} answer
 * @returns {AnswerView}
 */
function answerView_(job, answer) {
  const lang = job.lang;
  const parts = countParts_(answer.counts, job.action, lang);
  const phrase = countsPhrase_(partsOfTotal_(parts), lang);
  const retryCount = countRows_(answer.retry_rows);
  return {
    title: answer.done ? job.done_title : job.title,
    percent: answer.total_rows > 0 ? Math.min(100, Math.floor(100 * answer.processed_rows / answer.total_rows)) : (answer.done ? 100 : 0),
    progress: capitalized_(t_(lang, answer.done ? 'progress.done' : 'progress.running', { parts: phrase, total: answer.total_rows })),
    summary: answer.done ? summaryText_(job, answer) : '',
    before_error: t_(lang, 'progress.before_error', { parts: phrase, total: answer.total_rows }),
    counts: parts.map((part) => ({
      name: part.name, label: capitalized_(part.label), count: formatCount_(part.count), tone: part.tone,
    })),
    errors: answer.errors.map((problem) => problemView_(lang, problem)),
    retry_rows: answer.retry_rows,
    retry_label: retryCount > 0 ? t_(lang, 'retry.button', { count: retryCount }) : '',
    problem_rows_url: answer.problem_rows_url,
    unmapped: unmappedText_(lang, answer.unmapped_columns),
    message: answer.message,
  };
}

/**
 * @param {Language} lang
 * @param {string[]} columns
 * @returns {string}
 */
function unmappedText_(lang, columns) {
  return columns.length === 0 ? '' : t_(lang, 'columns.not_sent', { columns: columns.map(isolate_).join(t_(lang, 'list.joiner')) });
}

/**
 * @typedef {Object} CardView the pre-flight card, every sentence already written
 * @property {string} title
 * @property {{name: string, label: string, count: string, tone: string}[]} facts
 * @property {{label: string, text: string}[]} options
 * @property {{column: string, label: string}[]} columns
 * @property {string} unmapped
 * @property {ProblemView[]} errors
 * @property {string} send_label
 * @property {boolean} can_send
 * @property {string} nothing why Send is off, when it is
 */

/**
 * The card: the rows to send, the campaign and options in words, each column and its CallMarker
 * field, the columns that will not be sent, and the first problems. Pure but for the language.
 * @param {Job} job
 * @param {Preview} preview
 * @param {Settings} settings
 * @returns {CardView}
 */
function cardView_(job, preview, settings) {
  const lang = job.lang;
  const fact = (/** @type {string} */ name, /** @type {number} */ count, /** @type {string} */ tone) =>
    ({
      name: name,
      label: t_(lang, 'card.' + name + (name === 'to_send' ? '.' + job.action : ''), { max: MAX_SELECTED_ROWS }),
      count: formatCount_(count),
      tone: tone,
    });
  const facts = [fact('to_send', preview.to_send, 'good')];
  if (preview.invalid > 0) {
    facts.push(fact('invalid', preview.invalid, 'bad'));
  }
  if (preview.skipped > 0) {
    facts.push(fact('skipped', preview.skipped, 'neutral'));
  }
  if (preview.left_for_later > 0) {
    facts.push(fact('left_for_later', preview.left_for_later, 'neutral'));
  }
  const options = preview.options.map((option) => {
    // CallMarker cannot list campaigns: the name the team gave the campaign in Settings stands beside its id.
    const ours = option.name === 'campaign' && settings.campaign && String(option.value) === settings.campaign;
    return { label: option.label, text: ours ? campaignText_(lang, settings) : isolate_(option.text) };
  });
  if (!preview.options.some((option) => option.name === 'campaign')) {
    options.unshift({ label: t_(lang, 'card.campaign'), text: settings.campaign ? campaignText_(lang, settings) : t_(lang, 'card.no_campaign') });
  }
  return {
    title: t_(lang, 'card.title.' + job.action + '.' + job.mode, { count: job.rows ? countRows_(job.rows) : preview.total_rows, sheet: job.sheet_name }),
    facts: facts,
    options: options,
    columns: preview.columns.map((c) => ({ column: c.column, label: c.label })),
    unmapped: unmappedText_(lang, preview.unmapped_columns),
    errors: preview.errors.map((problem) => problemView_(lang, problem)),
    send_label: t_(lang, 'card.send.' + job.action, { count: preview.to_send }),
    can_send: preview.to_send > 0,
    nothing: preview.to_send > 0 ? '' : t_(lang, 'card.nothing'),
  };
}
