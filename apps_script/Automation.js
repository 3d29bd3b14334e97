/**
 * Automatic upload: a tab's "Upload all pending rows", with its saved settings, on a schedule or when a
 * Google Form's answer arrives in it, run by installable triggers as the person who turned it on. The
 * same runs carry on the jobs that outlive one execution: an automatic job that reached Apps Script's
 * time limit, and a job whose sidebar was closed. Triggers are made and removed in one place only
 * (armTriggers_), from what the document says should run. The dialog that turns it on is
 * AutomationDialog.js.
 */

const AUTOMATION_PREFIX = 'callmarker.automation.';
/** The user's triggers in one spreadsheet, by what each is for (user properties, + the spreadsheet's id). */
const TRIGGERS_PREFIX = 'callmarker.triggers.';
/** A script bound to the spreadsheet may run every 5, 15 or 30 minutes, or hourly. */
const SCHEDULE_MINUTES = Object.freeze([5, 15, 30, 60]);
/** An editor add-on's time-driven triggers may run at most once an hour (Google's trigger guide for add-ons). */
const ADD_ON_SCHEDULE_MINUTES = Object.freeze([60]);
/** An automatic run starts no step after this long, leaving room for one: Apps Script stops an execution at 6 minutes. */
const AUTOMATIC_RUN_BUDGET_MS = 4.5 * 60 * 1000;
/** A job left unfinished is carried on by a one-off run this soon; in an add-on, after an hour. */
const FOLLOW_UP_AFTER_MS = 60 * 1000;
const ADD_ON_FOLLOW_UP_AFTER_MS = 60 * 60 * 1000;
/** A job whose heartbeat is this old is driven by nobody: its sidebar was closed, or its run ended. */
const CARRY_ON_AFTER_SILENT_MS = 2 * 60 * 1000;
/** An automatic run takes a tab from someone else's silent job only after this long: their own follow-up had its chances. */
const AUTOMATIC_TAKE_OVER_AFTER_MS = 2 * 60 * 60 * 1000;
/** Google starts a time-driven trigger within minutes of its time: a tab is due a little early rather than a whole interval late. */
const DUE_EARLY_MS = 90 * 1000;
/** The functions the triggers call; they must stay public (no "_"), as menu items do. */
const TRIGGER_FUNCTIONS = Object.freeze({ schedule: 'automaticUpload', follow_up: 'automaticFollowUp', form: 'automaticUploadOnFormSubmit' });
const LAST_RUN_OUTCOMES = Object.freeze(['done', 'problems', 'failed', 'waited', 'continues']);

/**
 * @typedef {Object} Automation a tab's automatic upload, in the document's properties
 * @property {string} owner the email of whoever turned it on: the triggers run as them
 * @property {'schedule' | 'form'} mode
 * @property {number} every_minutes one of SCHEDULE_MINUTES
 * @property {number} since when it was turned on
 * @property {Language} lang the owner's, for the log and the emails
 * @property {number | null} last_started_at when a run last started a job on the tab
 * @property {LastRun | null} last_run
 * @property {string | null} waited_for the job it last waited for: said once in the log, not at every run
 * @property {boolean} owed a form's answer arrived while the tab was busy: the follow-up run uploads it
 * @property {{since: number, runs: number, when: string} | null} quiet runs in a row that found nothing to
 *   send, told in one log row (when: that row's When)
 */

/**
 * @typedef {Object} LastRun
 * @property {number} at
 * @property {'done' | 'problems' | 'failed' | 'waited' | 'continues'} outcome
 * @property {string} text
 */

// ------------------------------------------------------------------------------ reading and deciding

/**
 * A tab's automatic upload, checked, or null.
 * @param {GoogleAppsScript.Properties.Properties} properties the document's
 * @param {number} sheetId
 * @returns {Automation | null}
 */
function readAutomation_(properties, sheetId) {
  const value = readJson_(properties.getProperty(AUTOMATION_PREFIX + sheetId));
  if (!value || !isText_(value.owner) || (value.mode !== 'schedule' && value.mode !== 'form') ||
      SCHEDULE_MINUTES.indexOf(value.every_minutes) < 0) {
    return null;
  }
  const run = value.last_run;
  const quiet = value.quiet;
  return {
    owner: value.owner,
    mode: value.mode,
    every_minutes: value.every_minutes,
    since: count_(value.since) || 0,
    lang: LANGUAGES.indexOf(value.lang) >= 0 ? value.lang : 'en',
    last_started_at: count_(value.last_started_at),
    last_run: isObject_(run) && count_(run.at) !== null && LAST_RUN_OUTCOMES.indexOf(run.outcome) >= 0 && typeof run.text === 'string'
      ? { at: run.at, outcome: run.outcome, text: shortText_(run.text) } : null,
    waited_for: typeof value.waited_for === 'string' ? value.waited_for : null,
    owed: value.owed === true,
    quiet: isObject_(quiet) && count_(quiet.since) !== null && count_(quiet.runs) !== null && typeof quiet.when === 'string'
      ? { since: quiet.since, runs: quiet.runs, when: quiet.when } : null,
  };
}

/**
 * @param {GoogleAppsScript.Properties.Properties} properties
 * @param {number} sheetId
 * @param {Automation} automation
 */
function writeAutomation_(properties, sheetId, automation) {
  properties.setProperty(AUTOMATION_PREFIX + sheetId, JSON.stringify(automation));
}

/**
 * Changes some fields of a tab's automatic upload, when it is still the owner's.
 * @param {GoogleAppsScript.Properties.Properties} properties
 * @param {number} sheetId
 * @param {string} owner
 * @param {Partial<Automation>} fields
 */
function updateAutomation_(properties, sheetId, owner, fields) {
  const automation = readAutomation_(properties, sheetId);
  if (automation && automation.owner === owner) {
    writeAutomation_(properties, sheetId, Object.assign(automation, fields));
  }
}

/**
 * Every tab's automatic upload in the spreadsheet.
 * @param {GoogleAppsScript.Properties.Properties} properties
 * @param {GoogleAppsScript.Spreadsheet.Spreadsheet} spreadsheet
 * @returns {{sheet: GoogleAppsScript.Spreadsheet.Sheet, automation: Automation}[]}
 */
function automationsOf_(properties, spreadsheet) {
  /** @type {{sheet: GoogleAppsScript.Spreadsheet.Sheet, automation: Automation}[]} */
  const found = [];
  for (const sheet of spreadsheet.getSheets()) {
    const automation = readAutomation_(properties, sheet.getSheetId());
    if (automation) {
      found.push({ sheet: sheet, automation: automation });
    }
  }
  return found;
}

/**
 * Whether a tab's schedule has come round. Pure.
 * @param {Automation} automation
 * @param {number} now
 * @returns {boolean}
 */
function scheduleDue_(automation, now) {
  return automation.mode === 'schedule' &&
    (automation.last_started_at === null || now - automation.last_started_at >= automation.every_minutes * 60 * 1000 - DUE_EARLY_MS);
}

/**
 * The triggers one person needs in one spreadsheet: a clock for their schedules (the shortest; one
 * clock serves every tab, as an add-on may have only one time-driven trigger per user and document),
 * one for form answers, and a one-off follow-up while a job of theirs is unfinished (in an add-on only
 * when no clock would carry it on anyway). Pure.
 * @param {Automation[]} automations the spreadsheet's
 * @param {Journal[]} journals the spreadsheet's
 * @param {string} owner
 * @param {boolean} addOn
 * @returns {{clock_minutes: number | null, form: boolean, follow_up_ms: number | null}}
 */
function triggersNeeded_(automations, journals, owner, addOn) {
  const mine = automations.filter((a) => a.owner === owner);
  const scheduled = mine.filter((a) => a.mode === 'schedule').map((a) => (addOn ? 60 : a.every_minutes));
  const clock = scheduled.length ? Math.min.apply(null, scheduled) : null;
  const unfinished = journals.some((j) => j.by === owner) || mine.some((a) => a.owed);
  /** @type {number | null} */
  let followUp = null;
  if (unfinished) {
    followUp = addOn ? (clock === null ? ADD_ON_FOLLOW_UP_AFTER_MS : null) : FOLLOW_UP_AFTER_MS;
  }
  return { clock_minutes: clock, form: mine.some((a) => a.mode === 'form'), follow_up_ms: followUp };
}

/**
 * @typedef {Object} PlannedTab a tab an automatic run works on
 * @property {number} sheet_id
 * @property {Journal | null} journal an unfinished job of the owner's, to carry on
 * @property {Automation | null} automation
 */

/**
 * What one run of the owner's triggers does, in order: their unfinished jobs first, then their tabs
 * whose schedule came round, whose form answer arrived (this run's tab), or whose answer is owed. Pure.
 * @param {{sheet_id: number, automation: Automation}[]} automations
 * @param {Journal[]} journals
 * @param {string} owner
 * @param {'schedule' | 'follow_up' | 'form'} why
 * @param {number | null} formSheetId the tab a form's answer arrived in
 * @param {number} now
 * @returns {PlannedTab[]}
 */
function automaticPlan_(automations, journals, owner, why, formSheetId, now) {
  /** @type {PlannedTab[]} */
  const plan = [];
  const automationOf = (/** @type {number} */ sheetId) => {
    const found = automations.find((a) => a.sheet_id === sheetId);
    return found ? found.automation : null;
  };
  for (const journal of journals.slice().sort((a, b) => a.started_at - b.started_at)) {
    if (journal.by === owner) {
      plan.push({ sheet_id: journal.job.sheet_id, journal: journal, automation: automationOf(journal.job.sheet_id) });
    }
  }
  for (const { sheet_id: sheetId, automation } of automations) {
    if (automation.owner !== owner || plan.some((p) => p.sheet_id === sheetId)) {
      continue;
    }
    const due = automation.mode === 'schedule' ? scheduleDue_(automation, now) : automation.owed || (why === 'form' && formSheetId === sheetId);
    if (due) {
      plan.push({ sheet_id: sheetId, journal: null, automation: automation });
    }
  }
  return plan;
}

// ------------------------------------------------------------------------------ triggers

/** @returns {boolean} whether this runs as an add-on installed from the Marketplace, not as a script bound to the spreadsheet */
function isAddOn_() {
  return ScriptApp.getInstallationSource() !== ScriptApp.InstallationSource.NONE;
}

/**
 * Makes the triggers one person's automatic uploads and unfinished jobs need in this spreadsheet, and
 * removes the ones they no longer need. It runs as that person: nobody can see or remove another
 * person's triggers, so a person's triggers are kept by their own runs.
 * @param {GoogleAppsScript.Spreadsheet.Spreadsheet} spreadsheet
 * @param {string} owner
 */
function armTriggers_(spreadsheet, owner) {
  const properties = PropertiesService.getDocumentProperties();
  const addOn = isAddOn_();
  const need = triggersNeeded_(automationsOf_(properties, spreadsheet).map((a) => a.automation), journalsOf_(properties, spreadsheet), owner, addOn);
  const userProperties = PropertiesService.getUserProperties();
  const key = TRIGGERS_PREFIX + spreadsheet.getId();
  const saved = readJson_(userProperties.getProperty(key)) || {};
  const existing = ScriptApp.getProjectTriggers();
  const exists = (/** @type {unknown} */ id) => typeof id === 'string' && existing.some((t) => t.getUniqueId() === id);
  const savedClock = isObject_(saved.clock) ? saved.clock : null;
  /** @type {{clock: {id: string, every_minutes: number} | null, form: string | null, follow_up: string | null}} */
  const kept = {
    clock: savedClock && exists(savedClock.id) && savedClock.every_minutes === need.clock_minutes
      ? { id: savedClock.id, every_minutes: savedClock.every_minutes } : null,
    form: need.form && exists(saved.form) ? saved.form : null,
    follow_up: need.follow_up_ms !== null && exists(saved.follow_up) ? saved.follow_up : null,
  };
  const keptIds = [kept.clock ? kept.clock.id : null, kept.form, kept.follow_up];
  const recorded = [savedClock ? savedClock.id : null, saved.form, saved.follow_up];
  const ours = /** @type {string[]} */ (Object.values(TRIGGER_FUNCTIONS));
  for (const trigger of existing) {
    const id = trigger.getUniqueId();
    // In a bound script every trigger of the project is this spreadsheet's; an add-on's are told apart
    // by the record, or, for form triggers, by their spreadsheet.
    const here = recorded.indexOf(id) >= 0 || !addOn || trigger.getTriggerSourceId() === spreadsheet.getId();
    if (ours.indexOf(trigger.getHandlerFunction()) >= 0 && here && keptIds.indexOf(id) < 0) {
      ScriptApp.deleteTrigger(trigger);
    }
  }
  try {
    if (need.clock_minutes !== null && !kept.clock) {
      const builder = ScriptApp.newTrigger(TRIGGER_FUNCTIONS.schedule).timeBased();
      const made = (need.clock_minutes >= 60 ? builder.everyHours(need.clock_minutes / 60) : builder.everyMinutes(need.clock_minutes)).create();
      kept.clock = { id: made.getUniqueId(), every_minutes: need.clock_minutes };
    }
    if (need.form && !kept.form) {
      kept.form = ScriptApp.newTrigger(TRIGGER_FUNCTIONS.form).forSpreadsheet(spreadsheet).onFormSubmit().create().getUniqueId();
    }
    if (need.follow_up_ms !== null && !kept.follow_up) {
      kept.follow_up = ScriptApp.newTrigger(TRIGGER_FUNCTIONS.follow_up).timeBased().after(need.follow_up_ms).create().getUniqueId();
    }
  } finally {
    userProperties.setProperty(key, JSON.stringify(kept));
  }
}

/**
 * Arms a follow-up for a job a sidebar drives, so that the job is carried on if the sidebar is closed.
 * A job never fails for want of it: it is said in the execution's log instead.
 */
function armCarryOn_() {
  const owner = runnerEmail_();
  if (!owner) {
    return; // a follow-up run could not tell this person's jobs from anyone else's
  }
  try {
    armTriggers_(SpreadsheetApp.getActive(), owner);
  } catch (error) {
    console.error('No follow-up run was armed: ' + (errorText_(error, 'message') || String(error)));
  }
}

// ------------------------------------------------------------------------------ the runs

/**
 * The time-driven trigger of a person's schedules (one for all their tabs of the spreadsheet).
 * @param {GoogleAppsScript.Events.TimeDriven} event
 */
function automaticUpload(event) {
  runAutomatically_('schedule', event);
}

/**
 * The one-off run that carries on unfinished jobs. It removes itself first: a one-off trigger stays in
 * the project's list after it fired.
 * @param {GoogleAppsScript.Events.TimeDriven} event
 */
function automaticFollowUp(event) {
  for (const trigger of ScriptApp.getProjectTriggers()) {
    if (event && trigger.getUniqueId() === event.triggerUid) {
      ScriptApp.deleteTrigger(trigger);
    }
  }
  runAutomatically_('follow_up', event);
}

/**
 * The trigger of a spreadsheet that receives a Google Form's answers: the answer's range says its tab.
 * @param {GoogleAppsScript.Events.SheetsOnFormSubmit} event
 */
function automaticUploadOnFormSubmit(event) {
  runAutomatically_('form', event);
}

/**
 * @typedef {Object} TabRun what an automatic run did on one tab, for the owner's email
 * @property {number} sheet_id
 * @property {string} sheet_name
 * @property {boolean} automatic the job was an automatic upload (a carried-on job of a person's is not)
 * @property {Language} lang
 * @property {'done' | 'problems' | 'failed' | 'waited' | 'continues'} outcome
 * @property {string} text the closing sentence
 * @property {RowProblem[]} errors the first problems the function named
 * @property {Automation | null} automation
 */

/**
 * One run of a person's triggers: their unfinished jobs, then their tabs that are due, within one
 * execution's time; then at most one email about what needs attention, and the triggers still needed.
 * @param {'schedule' | 'follow_up' | 'form'} why
 * @param {GoogleAppsScript.Events.TimeDriven | GoogleAppsScript.Events.SheetsOnFormSubmit | undefined} event
 */
function runAutomatically_(why, event) {
  const spreadsheet = SpreadsheetApp.getActive();
  const owner = runnerEmail_();
  if (!spreadsheet || !owner) {
    console.error('An automatic run found no spreadsheet or no owner, and did nothing.');
    return;
  }
  const started = nowMs_();
  const properties = PropertiesService.getDocumentProperties();
  const formSheetId = why === 'form' && event && 'range' in event && event.range ? event.range.getSheet().getSheetId() : null;
  /** @type {TabRun[]} */
  const runs = [];
  try {
    const automations = automationsOf_(properties, spreadsheet).map((a) => ({ sheet_id: a.sheet.getSheetId(), automation: a.automation }));
    const plan = automaticPlan_(automations, journalsOf_(properties, spreadsheet), owner, why, formSheetId, started);
    for (const tab of plan) {
      if (nowMs_() - started >= AUTOMATIC_RUN_BUDGET_MS) {
        if (tab.automation && tab.automation.mode === 'form' && !tab.journal) {
          updateAutomation_(properties, tab.sheet_id, owner, { owed: true });
        }
        continue;
      }
      const run = runTab_(spreadsheet, tab, owner, started);
      if (run) {
        runs.push(run);
      }
    }
    alertOwner_(spreadsheet, owner, runs);
  } catch (error) {
    console.error('An automatic run stopped: ' + (errorText_(error, 'stack') || String(error)));
  } finally {
    try {
      armTriggers_(spreadsheet, owner);
    } catch (error) {
      console.error('The triggers could not be made: ' + (errorText_(error, 'message') || String(error)));
    }
  }
}

/**
 * Runs one tab's job for as long as the run's time allows: a new "Upload all pending rows", or the
 * owner's unfinished job carried on. A tab another job holds is waited for.
 * @param {GoogleAppsScript.Spreadsheet.Spreadsheet} spreadsheet
 * @param {PlannedTab} tab
 * @param {string} owner
 * @param {number} runStarted
 * @returns {TabRun | null} null when there was nothing to do
 */
function runTab_(spreadsheet, tab, owner, runStarted) {
  const properties = PropertiesService.getDocumentProperties();
  const sheet = sheetById_(spreadsheet, tab.sheet_id);
  if (!sheet) {
    // The tab was deleted: its automatic upload and unfinished job go with it.
    properties.deleteProperty(AUTOMATION_PREFIX + tab.sheet_id);
    if (tab.journal) {
      closeJournal_(properties, tab.sheet_id, tab.journal.job.id);
    }
    return null;
  }
  const automation = tab.automation;
  const journal = tab.journal;
  const automatic = journal ? journal.origin !== 'manual' : true;
  const lang = journal ? journal.job.lang : /** @type {Automation} */ (automation).lang;
  /** @type {TabRun} */
  const run = {
    sheet_id: tab.sheet_id, sheet_name: sheet.getName(), automatic: automatic, lang: lang, outcome: 'done', text: '', errors: [],
    automation: automatic ? automation : null,
  };
  /** @type {Job} */
  let job;
  if (journal) {
    job = journal.job;
  } else {
    try {
      job = newJob_('upload', 'pending', spreadsheet, sheet, null, checkedSettings_(sheet, lang), lang);
    } catch (error) {
      return endedBeforeStart_(spreadsheet, sheet, run, owner, messageForUser_(error, lang));
    }
  }
  const waited = automaticLease_(job, owner, journal !== null);
  if (waited === 'driven') {
    return null; // its sidebar, or another run, drives it still
  }
  if (waited) {
    return waitedFor_(spreadsheet, sheet, run, owner, waited, job);
  }
  if (journal) {
    journal.carried = true;
    writeJournal_(properties, journal);
  } else {
    openJournal_(job, owner, /** @type {Automation} */ (automation).mode, false);
    updateAutomation_(properties, tab.sheet_id, owner, { last_started_at: nowMs_(), owed: false, waited_for: null });
  }
  /** @type {Answer | null} */
  let answer = null;
  try {
    while (!answer || !answer.done) {
      if (nowMs_() - runStarted >= AUTOMATIC_RUN_BUDGET_MS) {
        // The journal keeps the job and its cursor; the follow-up run goes on from there.
        parkLease_(job.sheet_id, job.id, job.lang);
        run.outcome = 'continues';
        run.text = t_(lang, 'automation.continues');
        noteRun_(properties, run, owner);
        return run;
      }
      answer = takeStep_(job);
    }
  } catch (error) {
    const entry = endJob_(job, { error: error });
    run.outcome = 'failed';
    run.text = entry ? entry.result : messageForUser_(error, lang);
    noteRun_(properties, run, owner);
    return run;
  }
  const quiet = automatic && !journal && nothingSent_(answer.counts);
  const entry = quiet ? endQuietJob_(spreadsheet, job, answer, owner) : endJob_(job, { answer: answer });
  const problems = ['rejected', 'failed', 'invalid'].some((name) => (answer.counts[name] || 0) > 0);
  run.outcome = problems ? 'problems' : 'done';
  run.text = entry ? entry.result : summaryText_(job, answer);
  run.errors = answer.errors;
  if (!quiet) {
    updateAutomation_(properties, tab.sheet_id, owner, { quiet: null });
  }
  noteRun_(properties, run, owner);
  return run;
}

/**
 * Takes the tab for an automatic job, or for a job it carries on. A tab another live job holds is waited
 * for; a silent job of someone else's is taken over only once it has been silent for
 * AUTOMATIC_TAKE_OVER_AFTER_MS; a job carried on is left alone while something still drives it.
 * @param {Job} job
 * @param {string} owner
 * @param {boolean} carryOn
 * @returns {{job_id: string, text: string} | 'driven' | null} null once the job holds the tab
 */
function automaticLease_(job, owner, carryOn) {
  /** @type {LeaseRequest} */
  const request = {
    sheet_id: job.sheet_id, sheet_name: job.sheet_name, job_id: job.id, action: job.action, email: owner, lang: job.lang,
    take_over: null, automatic: true, carry_on: carryOn,
  };
  try {
    const taken = takeLease_(request);
    if (taken.driven) {
      return 'driven';
    }
    if (!taken.stale) {
      return null;
    }
    const silent = nowMs_() - taken.stale.heartbeat_at;
    if (silent < AUTOMATIC_TAKE_OVER_AFTER_MS) {
      return {
        job_id: taken.stale.job_id,
        text: t_(job.lang, 'automation.waiting_silent', {
          holder: holderName_(job.lang, taken.stale.email), sheet: job.sheet_name, silent: describeDuration_(job.lang, silent),
          after: describeDuration_(job.lang, AUTOMATIC_TAKE_OVER_AFTER_MS),
        }),
      };
    }
    const again = takeLease_(Object.assign({}, request, { take_over: taken.stale.job_id }));
    return again.stale ? { job_id: again.stale.job_id, text: t_(job.lang, 'lease.changed', { sheet: job.sheet_name }) } : null;
  } catch (error) {
    if (!isUserError_(error)) {
      throw error;
    }
    const lease = readLease_(PropertiesService.getDocumentProperties(), job.sheet_id);
    return { job_id: lease ? lease.job_id : '', text: errorText_(error, 'message') };
  }
}

/**
 * An automatic run that found the tab taken: it waits for its next turn, says so in the log once per
 * job it waits for, and a form's answer is owed to the follow-up run.
 * @param {GoogleAppsScript.Spreadsheet.Spreadsheet} spreadsheet
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet
 * @param {TabRun} run
 * @param {string} owner
 * @param {{job_id: string, text: string}} waited
 * @param {Job} job the job that did not start (or go on)
 * @returns {TabRun}
 */
function waitedFor_(spreadsheet, sheet, run, owner, waited, job) {
  const properties = PropertiesService.getDocumentProperties();
  const automation = readAutomation_(properties, sheet.getSheetId());
  run.outcome = 'waited';
  run.text = t_(run.lang, 'log.waited', { busy: waited.text });
  // A person's job carried on (its sidebar was closed) waits without a word: it goes on at the next run.
  if (run.automatic && automation && automation.owner === owner) {
    if (automation.waited_for !== waited.job_id) {
      const now = nowMs_();
      writeLog_(spreadsheet, {
        started_at: now, ended_at: now, by: owner, origin: automation.mode, carried: false, sheet_name: sheet.getName(),
        sheet_id: sheet.getSheetId(), action: job.action, mode: job.mode, rows: null, counts: {}, result: run.text, first_problem_row: null,
        lang: run.lang,
      });
    }
    updateAutomation_(properties, sheet.getSheetId(), owner, { waited_for: waited.job_id, owed: automation.mode === 'form' || automation.owed });
  }
  noteRun_(properties, run, owner);
  return run;
}

/**
 * An automatic upload that could not start (its tab's settings are not valid): one log row, and the
 * owner is told.
 * @param {GoogleAppsScript.Spreadsheet.Spreadsheet} spreadsheet
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet
 * @param {TabRun} run
 * @param {string} owner
 * @param {string} message
 * @returns {TabRun}
 */
function endedBeforeStart_(spreadsheet, sheet, run, owner, message) {
  const properties = PropertiesService.getDocumentProperties();
  const automation = /** @type {Automation} */ (run.automation);
  const now = nowMs_();
  run.outcome = 'failed';
  run.text = t_(run.lang, 'log.failed', { message: message });
  writeLog_(spreadsheet, {
    started_at: now, ended_at: now, by: owner, origin: automation.mode, carried: false, sheet_name: sheet.getName(),
    sheet_id: sheet.getSheetId(), action: 'upload', mode: 'pending', rows: null, counts: {}, result: run.text, first_problem_row: null, lang: run.lang,
  });
  updateAutomation_(properties, sheet.getSheetId(), owner, { last_started_at: now });
  noteRun_(properties, run, owner);
  return run;
}

/**
 * Whether a job sent nothing: no row went to CallMarker (rows left invalid, or skipped, are not sent). Pure.
 * @param {Counts} counts
 * @returns {boolean}
 */
function nothingSent_(counts) {
  return ['uploaded', 'sent', 'rejected', 'failed', 'removed'].every((name) => !counts[name]);
}

/**
 * Ends an automatic job that found nothing to send. Runs in a row that find nothing are told in one
 * log row, kept at the top and counted, rather than a row each every few minutes.
 * @param {GoogleAppsScript.Spreadsheet.Spreadsheet} spreadsheet
 * @param {Job} job
 * @param {Answer} answer
 * @param {string} owner
 * @returns {LogEntry | null}
 */
function endQuietJob_(spreadsheet, job, answer, owner) {
  const properties = PropertiesService.getDocumentProperties();
  const automation = readAutomation_(properties, job.sheet_id);
  const previous = automation && automation.owner === owner ? automation.quiet : null;
  const quiet = { since: previous ? previous.since : nowMs_(), runs: previous ? previous.runs + 1 : 1, when: '' };
  const timeZone = spreadsheet.getSpreadsheetTimeZone();
  const invalid = answer.counts.invalid || 0;
  const result = t_(job.lang, 'log.quiet', { count: quiet.runs, since: Utilities.formatDate(new Date(quiet.since), timeZone, 'yyyy-MM-dd HH:mm') }) +
    (invalid > 0 ? ' ' + t_(job.lang, 'log.still_invalid', { count: invalid }) : '');
  const entry = endJob_(job, {
    answer: answer,
    result: result,
    replaces: previous ? (/** @type {unknown[]} */ top) => String(top[0]) === previous.when && String(top[3]) === job.sheet_name &&
      String(top[2]) === (automation ? automation.mode : '') : null,
  });
  if (entry) {
    quiet.when = Utilities.formatDate(new Date(entry.started_at), timeZone, 'yyyy-MM-dd HH:mm:ss');
    updateAutomation_(properties, job.sheet_id, owner, { quiet: quiet });
  }
  return entry;
}

/**
 * Keeps what a run did as the tab's last run, for the settings and the dialog.
 * @param {GoogleAppsScript.Properties.Properties} properties
 * @param {TabRun} run
 * @param {string} owner
 */
function noteRun_(properties, run, owner) {
  if (run.automatic) {
    updateAutomation_(properties, run.sheet_id, owner, { last_run: { at: nowMs_(), outcome: run.outcome, text: shortText_(run.text) } });
  }
}
