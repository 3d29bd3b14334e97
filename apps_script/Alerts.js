/**
 * Emails to whoever turned an automatic upload on, when a run fails or leaves rows rejected, failed or
 * invalid: at most one email per run, and the same problem at most once an hour. And, for a person who
 * asked, how their job ended when a follow-up run finished it after they closed its sidebar. No email
 * holds a phone number: what comes from the sheet or the function is masked.
 */

/** When each problem was last emailed, per owner and spreadsheet (user properties, + the spreadsheet's id). */
const ALERTS_PREFIX = 'callmarker.alerts.';
const ALERT_REPEAT_AFTER_MS = 60 * 60 * 1000;
/** Problems remembered this long at most, so that the record stays small. */
const ALERT_MEMORY_MS = 24 * 60 * 60 * 1000;
const ALERT_LISTED_PROBLEMS = 5;
/** A run of digits this long (spaces, dashes, dots and brackets between them) could be a phone number. */
const HIDDEN_DIGITS = 5;

/**
 * Text from the sheet or the function with every run of HIDDEN_DIGITS or more digits (written with
 * spaces, dashes, dots, slashes or brackets between them, or a leading +) replaced by "…". Pure.
 * @param {string} text
 * @returns {string}
 */
function hideNumbers_(text) {
  return String(text).replace(/\+?\d[\d\s\-./()]*\d/g, (run) => ((run.match(/\d/g) || []).length >= HIDDEN_DIGITS ? '…' : run));
}

/**
 * What makes one problem the same as another, for "at most once an hour": the tab, and its kind of
 * failure, or the problems its rows have, wherever the rows are (a sorted sheet has the same problems),
 * each as often as it occurs (a new row with a problem is a new problem). Numbers are left out: they are
 * row numbers and values, which move. A failure's kind is its sentence without the values set in it (each
 * between FSI and PDI): "CallMarker could not be reached" is one problem whatever the service's own words
 * of the moment ("after 5 attempts", "no time left to retry"). Pure.
 * @param {TabRun} run
 * @returns {string}
 */
function problemSignature_(run) {
  const shape = (/** @type {string} */ text) => text.replace(/\d+/g, '#');
  if (run.outcome === 'failed') {
    let kind = run.text;
    const inner = /\u2068[^\u2068\u2069]*\u2069/g;
    while (kind !== (kind = kind.replace(inner, '\u2026'))) {
      // values inside values: the innermost go first
    }
    return run.sheet_id + ':failed:' + shape(kind);
  }
  return run.sheet_id + ':rows:' + run.errors.map((e) => shape((e.column || '') + '|' + e.message)).sort().join('\n');
}

/**
 * The signatures not emailed in the last hour. Pure.
 * @param {string[]} signatures
 * @param {Record<string, number>} sent signature -> when it was last emailed
 * @param {number} now
 * @returns {string[]}
 */
function freshProblems_(signatures, sent, now) {
  return signatures.filter((signature) => !(typeof sent[signature] === 'number' && now - sent[signature] < ALERT_REPEAT_AFTER_MS));
}

/**
 * At most one email for a run: its failed runs and runs that left rows to fix, when one of them was not
 * emailed in the last hour. Sent to the owner, who is the account the run runs as.
 * @param {GoogleAppsScript.Spreadsheet.Spreadsheet} spreadsheet
 * @param {string} owner
 * @param {TabRun[]} runs
 */
function alertOwner_(spreadsheet, owner, runs) {
  const problems = runs.filter((run) => run.automatic && (run.outcome === 'failed' || run.outcome === 'problems'));
  if (problems.length === 0) {
    return;
  }
  const userProperties = PropertiesService.getUserProperties();
  const key = ALERTS_PREFIX + spreadsheet.getId();
  const now = nowMs_();
  /** @type {Record<string, number>} */
  const sent = {};
  const saved = readJson_(userProperties.getProperty(key)) || {};
  for (const [signature, at] of Object.entries(saved)) {
    if (typeof at === 'number' && now - at < ALERT_MEMORY_MS) {
      sent[signature] = at;
    }
  }
  const signatures = problems.map(problemSignature_);
  if (freshProblems_(signatures, sent, now).length === 0) {
    return;
  }
  if (MailApp.getRemainingDailyQuota() < 1) {
    console.warn('No email about the automatic upload: the day\'s email quota is used up.');
    return;
  }
  const email = alertEmail_(problems[0].lang, spreadsheet.getName(), spreadsheet.getUrl(), problems,
    Utilities.formatDate(new Date(now), spreadsheet.getSpreadsheetTimeZone(), 'yyyy-MM-dd HH:mm'));
  MailApp.sendEmail({ to: owner, subject: email.subject, body: email.body, htmlBody: email.html, name: MENU_TITLE });
  for (const signature of signatures) {
    sent[signature] = now;
  }
  userProperties.setProperty(key, JSON.stringify(sent));
}

/**
 * @typedef {Object} Email
 * @property {string} subject
 * @property {string} body plain text
 * @property {string} html the same, escaped, in the language's direction
 */

/**
 * The email about a run that needs attention: each tab's closing sentence, its first problems, a link
 * to the tab, and where every run is told. Pure but for the language.
 * @param {Language} lang
 * @param {string} spreadsheetName
 * @param {string} spreadsheetUrl
 * @param {TabRun[]} problems
 * @param {string} when the run's time, in the spreadsheet's time zone
 * @returns {Email}
 */
function alertEmail_(lang, spreadsheetName, spreadsheetUrl, problems, when) {
  const name = hideNumbers_(spreadsheetName);
  /** @type {string[]} */
  const lines = [t_(lang, 'alert.intro', { spreadsheet: name, when: when }), ''];
  for (const run of problems) {
    lines.push(t_(lang, 'alert.tab', { sheet: hideNumbers_(run.sheet_name), result: hideNumbers_(run.text) }));
    const listed = run.errors.slice(0, ALERT_LISTED_PROBLEMS).map((problem) => '  ' + problemView_(lang, {
      row: problem.row, column: problem.column === null ? null : hideNumbers_(problem.column), message: hideNumbers_(problem.message),
    }).text);
    if (listed.length) {
      lines.push(t_(lang, 'alert.first_problems'));
      Array.prototype.push.apply(lines, listed);
    }
    lines.push(t_(lang, 'alert.open', { url: tabUrl_(spreadsheetUrl, run.sheet_id) }), '');
  }
  lines.push(t_(lang, 'alert.log', { log: LOG_SHEET_NAME }), t_(lang, 'alert.why'));
  return emailOf_(lang, t_(lang, 'alert.subject', { spreadsheet: name }), lines);
}

/**
 * Tells a person how their job ended, when a follow-up run finished it after they closed its sidebar.
 * @param {GoogleAppsScript.Spreadsheet.Spreadsheet} spreadsheet
 * @param {string} to
 * @param {LogEntry} entry
 */
function notifyJobEnd_(spreadsheet, to, entry) {
  if (!to) {
    return;
  }
  try {
    if (MailApp.getRemainingDailyQuota() < 1) {
      return;
    }
    const lang = entry.lang;
    const name = hideNumbers_(spreadsheet.getName());
    const lines = [
      t_(lang, 'notify.intro', { sheet: hideNumbers_(entry.sheet_name), spreadsheet: name }),
      hideNumbers_(entry.result),
      t_(lang, 'alert.open', { url: tabUrl_(spreadsheet.getUrl(), entry.sheet_id) }),
      '',
      t_(lang, 'alert.log', { log: LOG_SHEET_NAME }),
      t_(lang, 'notify.why'),
    ];
    const email = emailOf_(lang, t_(lang, 'notify.subject', { sheet: hideNumbers_(entry.sheet_name) }), lines);
    MailApp.sendEmail({ to: to, subject: email.subject, body: email.body, htmlBody: email.html, name: MENU_TITLE });
  } catch (error) {
    console.error('The email about a job\'s end was not sent: ' + (errorText_(error, 'message') || String(error)));
  }
}

/**
 * A tab's address: the spreadsheet's, opened on that tab.
 * @param {string} spreadsheetUrl
 * @param {number} sheetId
 * @returns {string}
 */
function tabUrl_(spreadsheetUrl, sheetId) {
  return spreadsheetUrl.replace(/[?#].*$/, '') + '#gid=' + sheetId;
}

/**
 * An email's plain and HTML bodies from its lines. Pure.
 * @param {Language} lang
 * @param {string} subject
 * @param {string[]} lines
 * @returns {Email}
 */
function emailOf_(lang, subject, lines) {
  const html = '<div dir="' + directionOf_(lang) + '" lang="' + lang + '">' +
    lines.map((line) => (line ? '<p>' + escapeHtml_(line).replace(/(https:\/\/[^\s<]+)/g, '<a href="$1">$1</a>') + '</p>' : '')).join('') +
    '</div>';
  return { subject: subject, body: lines.join('\n'), html: html };
}
