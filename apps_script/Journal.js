/**
 * A job's journal: the job (with its cursor), who runs it, and how far it got, kept in the document's
 * properties from the moment it takes its tab until it ends. A job outlives the execution that started
 * it (the sidebar drives it step by step; an automatic run stops before Apps Script's limit), so the
 * journal is what a follow-up run carries on, and what the log row says when the job ends, whoever
 * ends it. One journal per tab, as one job per tab.
 */

const JOURNAL_PREFIX = 'callmarker.job.';
/**
 * A property holds at most 9 kB; a journal (a cursor with the first problems, a selection of many
 * ranges) can be larger, so it is kept in pieces of at most this many characters (3 bytes each at most).
 */
const JOURNAL_PIECE_CHARS = 2500;
const JOURNAL_PIECES_MARK = 'pieces:';

/**
 * @typedef {Object} Journal
 * @property {Job} job as the last step left it: its cursor is where the next step goes on
 * @property {string} by the email of whoever runs the job; a follow-up run carries on only its own
 * @property {'manual' | 'schedule' | 'form'} origin
 * @property {number} started_at
 * @property {boolean} carried a follow-up run has carried it on since
 * @property {boolean} notify email its end to whoever ran it, when a follow-up run finished it
 * @property {Counts | null} counts the last answer's, for the whole job so far
 * @property {number} total_rows
 * @property {number | null} first_problem_row
 * @property {number} steps
 */

/**
 * Starts the journal of a job that has just taken its tab. A job that has one already keeps it: asked
 * twice for the tab, it must not lose its cursor.
 * @param {Job} job
 * @param {string} by
 * @param {'manual' | 'schedule' | 'form'} origin
 * @param {boolean} notify
 * @returns {Journal}
 */
function openJournal_(job, by, origin, notify) {
  const properties = PropertiesService.getDocumentProperties();
  const existing = readJournal_(properties, job.sheet_id);
  if (existing && existing.job.id === job.id) {
    return existing;
  }
  /** @type {Journal} */
  const journal = {
    job: job, by: by, origin: origin, started_at: nowMs_(), carried: false, notify: notify,
    counts: null, total_rows: job.rows ? countRows_(job.rows) : 0, first_problem_row: null, steps: 0,
  };
  writeJournal_(properties, journal);
  return journal;
}

/**
 * After a step: the job's cursor and how far it got. A job whose journal is gone (someone took its
 * tab over, and the job's end was logged then) is not written again.
 * @param {Job} job
 * @param {Answer} answer
 */
function recordStep_(job, answer) {
  const properties = PropertiesService.getDocumentProperties();
  const journal = readJournal_(properties, job.sheet_id);
  if (!journal || journal.job.id !== job.id) {
    return;
  }
  journal.job = job;
  journal.counts = answer.counts;
  journal.total_rows = answer.total_rows;
  journal.first_problem_row = answer.errors.length ? answer.errors[0].row : journal.first_problem_row;
  journal.steps += 1;
  writeJournal_(properties, journal);
}

/**
 * @param {GoogleAppsScript.Properties.Properties} properties
 * @param {Journal} journal
 */
function writeJournal_(properties, journal) {
  writeInPieces_(properties, JOURNAL_PREFIX + journal.job.sheet_id, JSON.stringify(journal));
}

/**
 * A tab's journal, checked: a value that is not a journal (edited by hand, half written) is none.
 * @param {GoogleAppsScript.Properties.Properties} properties
 * @param {number} sheetId
 * @returns {Journal | null}
 */
function readJournal_(properties, sheetId) {
  const value = readJson_(readInPieces_(properties, JOURNAL_PREFIX + sheetId));
  if (!value || !isObject_(value.job)) {
    return null;
  }
  const job = value.job;
  const valid = typeof job.id === 'string' && job.action in MAIN_OUTCOME && (job.mode === 'selected' || job.mode === 'pending') &&
    job.sheet_id === sheetId && typeof job.spreadsheet_id === 'string' && (job.cursor === null || typeof job.cursor === 'string') &&
    LANGUAGES.indexOf(job.lang) >= 0 && isObject_(job.options) && (job.mode === 'pending' || readIntervals_(job.rows).length > 0) &&
    typeof value.by === 'string' && count_(value.started_at) !== null;
  if (!valid) {
    return null;
  }
  return {
    job: /** @type {Job} */ (job),
    by: value.by,
    origin: JOB_ORIGINS.indexOf(value.origin) >= 0 ? value.origin : 'manual',
    started_at: value.started_at,
    carried: value.carried === true,
    notify: value.notify === true,
    counts: isObject_(value.counts) ? readCounts_(value.counts) : null,
    total_rows: count_(value.total_rows) || 0,
    first_problem_row: count_(value.first_problem_row),
    steps: count_(value.steps) || 0,
  };
}

/**
 * Every journal of the spreadsheet's tabs.
 * @param {GoogleAppsScript.Properties.Properties} properties
 * @param {GoogleAppsScript.Spreadsheet.Spreadsheet} spreadsheet
 * @returns {Journal[]}
 */
function journalsOf_(properties, spreadsheet) {
  return spreadsheet.getSheets().map((sheet) => readJournal_(properties, sheet.getSheetId())).filter((j) => j !== null);
}

/**
 * Ends a tab's journal, when it is this job's.
 * @param {GoogleAppsScript.Properties.Properties} properties
 * @param {number} sheetId
 * @param {string} jobId
 * @returns {Journal | null} the journal that ended, or null when the job had none any more
 */
function closeJournal_(properties, sheetId, jobId) {
  const journal = readJournal_(properties, sheetId);
  if (!journal || journal.job.id !== jobId) {
    return null;
  }
  deleteInPieces_(properties, JOURNAL_PREFIX + sheetId);
  return journal;
}

/**
 * Writes a text under a key, in pieces when it is too long for one property; all pieces in one call.
 * @param {GoogleAppsScript.Properties.Properties} properties
 * @param {string} key
 * @param {string} text
 */
function writeInPieces_(properties, key, text) {
  const before = piecesOf_(properties.getProperty(key));
  if (text.length <= JOURNAL_PIECE_CHARS) {
    properties.setProperty(key, text);
  } else {
    /** @type {Record<string, string>} */
    const values = {};
    const count = Math.ceil(text.length / JOURNAL_PIECE_CHARS);
    for (let i = 0; i < count; i += 1) {
      values[key + '#' + i] = text.slice(i * JOURNAL_PIECE_CHARS, (i + 1) * JOURNAL_PIECE_CHARS);
    }
    values[key] = JOURNAL_PIECES_MARK + count;
    properties.setProperties(values);
  }
  const now = piecesOf_(properties.getProperty(key));
  for (let i = now; i < before; i += 1) {
    properties.deleteProperty(key + '#' + i);
  }
}

/**
 * @param {GoogleAppsScript.Properties.Properties} properties
 * @param {string} key
 * @returns {string | null}
 */
function readInPieces_(properties, key) {
  const head = properties.getProperty(key);
  const count = piecesOf_(head);
  if (count === 0) {
    return head;
  }
  let text = '';
  for (let i = 0; i < count; i += 1) {
    const piece = properties.getProperty(key + '#' + i);
    if (piece === null) {
      return null;
    }
    text += piece;
  }
  return text;
}

/**
 * @param {GoogleAppsScript.Properties.Properties} properties
 * @param {string} key
 */
function deleteInPieces_(properties, key) {
  const count = piecesOf_(properties.getProperty(key));
  for (let i = 0; i < count; i += 1) {
    properties.deleteProperty(key + '#' + i);
  }
  properties.deleteProperty(key);
}

/**
 * How many pieces a head value announces; 0 for a value kept whole.
 * @param {string | null} head
 * @returns {number}
 */
function piecesOf_(head) {
  if (!head || head.indexOf(JOURNAL_PIECES_MARK) !== 0) {
    return 0;
  }
  const count = Number(head.slice(JOURNAL_PIECES_MARK.length));
  return Number.isInteger(count) && count > 0 && count < 200 ? count : 0;
}
