/**
 * "Automatic upload…": the dialog that turns a tab's automatic upload on, changes it, or stops it, and
 * says who runs it, how often, its last run, and what each schedule costs a day; and the line the
 * settings show about it. The runs themselves are in Automation.js.
 */

/** A schedule that has not started for this many of its intervals (and two hours) has probably lost its owner's account. */
const SILENT_SCHEDULE_INTERVALS = 3;
const SILENT_SCHEDULE_MIN_MS = 2 * 60 * 60 * 1000;
/** What one run costs when nothing is new (reading the tab and answering), for the estimate beside each schedule. */
const IDLE_RUN_SECONDS = 3;
/**
 * The daily quotas automatic runs spend, per user (Google's Apps Script quotas page): UrlFetch calls,
 * minutes of trigger runtime, and email recipients.
 */
const DAILY_QUOTAS = Object.freeze({
  consumer: Object.freeze({ fetches: 20000, trigger_minutes: 90, emails: 100 }),
  workspace: Object.freeze({ fetches: 100000, trigger_minutes: 360, emails: 1500 }),
});
/** The sentences the dialog's script shows as they are; every other one comes with its view. */
const AUTOMATION_TEXT_KEYS = Object.freeze(['automation.stop', 'automation.saving', 'automation.saved', 'automation.not_saved']);
const AUTOMATION_WIDTH = 560;
const AUTOMATION_HEIGHT = 600;

/** "Automatic upload…" in the menu: the dialog for the active tab. */
function showAutomation() {
  runMenuItem_(() => {
    const lang = userLanguage_();
    const spreadsheet = SpreadsheetApp.getActive();
    const template = HtmlService.createTemplateFromFile('Automation');
    template.lang = lang;
    template.dir = directionOf_(lang);
    template.state = jsonForScript_({
      view: automationView_(lang, spreadsheet, spreadsheet.getActiveSheet()),
      text: pageTexts_(lang, AUTOMATION_TEXT_KEYS.slice()),
    });
    const output = template.evaluate().setWidth(AUTOMATION_WIDTH).setHeight(AUTOMATION_HEIGHT);
    SpreadsheetApp.getUi().showModalDialog(output, t_(lang, 'automation.dialog_title'));
  });
}

/**
 * Called by the dialog's Save: turns a tab's automatic upload on (or changes it) or off. Someone else's
 * is replaced only once the user confirms it (take_over: true).
 * @param {Record<string, unknown>} form sheet_id, mode ('off' | 'schedule' | 'form'), every_minutes, take_over
 * @returns {{ok: boolean, confirm: string | null, view: AutomationView}}
 */
function saveAutomation(form) {
  const lang = userLanguage_();
  try {
    const input = form || {};
    const spreadsheet = SpreadsheetApp.getActive();
    const sheet = sheetById_(spreadsheet, Number(input.sheet_id));
    if (!sheet) {
      throw userError_(t_(lang, 'sheet.gone', { sheet: String(input.sheet_name || '') }));
    }
    const owner = runnerEmail_();
    if (!owner) {
      throw userError_(t_(lang, 'automation.no_email'));
    }
    const choice = readAutomationChoice_(input, isAddOn_(), lang);
    const properties = PropertiesService.getDocumentProperties();
    const sheetId = sheet.getSheetId();
    const current = readAutomation_(properties, sheetId);
    const someoneElses = current !== null && current.owner !== owner;
    if (choice.mode !== 'off') {
      checkedSettings_(sheet, lang);
      if (choice.mode === 'form' && !sheet.getFormUrl()) {
        throw userError_(t_(lang, 'automation.no_form', { sheet: sheet.getName() }));
      }
    }
    if (someoneElses && input.take_over !== true) {
      const key = choice.mode === 'off' ? 'automation.confirm_stop' : 'automation.confirm_take_over';
      return { ok: false, confirm: t_(lang, key, { holder: holderName_(lang, current.owner), sheet: sheet.getName() }), view: automationView_(lang, spreadsheet, sheet) };
    }
    const raw = properties.getProperty(AUTOMATION_PREFIX + sheetId);
    if (choice.mode === 'off') {
      properties.deleteProperty(AUTOMATION_PREFIX + sheetId);
    } else {
      const kept = current && !someoneElses ? current : null;
      writeAutomation_(properties, sheetId, {
        owner: owner, mode: choice.mode, every_minutes: choice.every_minutes, since: kept ? kept.since : nowMs_(), lang: lang,
        last_started_at: kept ? kept.last_started_at : null, last_run: kept ? kept.last_run : null, waited_for: null, owed: false,
        quiet: kept ? kept.quiet : null,
      });
    }
    try {
      armTriggers_(spreadsheet, owner);
    } catch (error) {
      if (raw === null) {
        properties.deleteProperty(AUTOMATION_PREFIX + sheetId);
      } else {
        properties.setProperty(AUTOMATION_PREFIX + sheetId, raw);
      }
      throw userError_(t_(lang, /too many triggers/i.test(errorText_(error, 'message')) ? 'automation.too_many_triggers' : 'automation.trigger_failed',
        { message: errorText_(error, 'message') || String(error) }));
    }
    return { ok: true, confirm: null, view: automationView_(lang, spreadsheet, sheet) };
  } catch (error) {
    throw new Error(messageForUser_(error, lang), { cause: error });
  }
}

/**
 * Called by the dialog's list of the user's automatic uploads: stops one, on any tab.
 * @param {number} sheetId the tab whose automatic upload stops
 * @param {number} viewSheetId the tab the dialog shows
 * @returns {AutomationView}
 */
function stopAutomation(sheetId, viewSheetId) {
  const lang = userLanguage_();
  try {
    const spreadsheet = SpreadsheetApp.getActive();
    const owner = runnerEmail_();
    const properties = PropertiesService.getDocumentProperties();
    const automation = Number.isInteger(sheetId) ? readAutomation_(properties, sheetId) : null;
    if (automation && automation.owner === owner) {
      properties.deleteProperty(AUTOMATION_PREFIX + sheetId);
      armTriggers_(spreadsheet, owner);
    }
    const sheet = sheetById_(spreadsheet, Number(viewSheetId)) || spreadsheet.getActiveSheet();
    return automationView_(lang, spreadsheet, sheet);
  } catch (error) {
    throw new Error(messageForUser_(error, lang), { cause: error });
  }
}

/**
 * What the dialog sent, checked. Pure.
 * @param {Record<string, unknown>} form
 * @param {boolean} addOn
 * @param {Language} lang
 * @returns {{mode: 'off' | 'schedule' | 'form', every_minutes: number}}
 */
function readAutomationChoice_(form, addOn, lang) {
  const mode = form.mode;
  if (mode !== 'off' && mode !== 'schedule' && mode !== 'form') {
    throw userError_(t_(lang, 'automation.error.mode'));
  }
  const allowed = addOn ? ADD_ON_SCHEDULE_MINUTES : SCHEDULE_MINUTES;
  const minutes = mode === 'schedule' ? Number(form.every_minutes) : allowed[allowed.length - 1];
  if (allowed.indexOf(minutes) < 0) {
    throw userError_(t_(lang, addOn ? 'automation.error.addon_schedule' : 'automation.error.schedule'));
  }
  return { mode: mode, every_minutes: minutes };
}

/**
 * @typedef {Object} AutomationView what the dialog shows, every sentence already written
 * @property {number} sheet_id
 * @property {string} sheet_name
 * @property {string} title
 * @property {'off' | 'schedule' | 'form'} mode
 * @property {number} every_minutes
 * @property {string} status who runs it, how, since when; or that it is off
 * @property {string} last_run
 * @property {string} warning a schedule that stopped running
 * @property {{minutes: number, label: string, cost: string}[]} schedules
 * @property {string} schedule_note the add-on's limit, when it applies
 * @property {boolean} form_available
 * @property {string} form_note
 * @property {{sheet_id: number, sheet_name: string, text: string}[]} mine the user's automatic uploads in this spreadsheet
 */

/**
 * @param {Language} lang
 * @param {GoogleAppsScript.Spreadsheet.Spreadsheet} spreadsheet
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet
 * @returns {AutomationView}
 */
function automationView_(lang, spreadsheet, sheet) {
  const properties = PropertiesService.getDocumentProperties();
  const timeZone = spreadsheet.getSpreadsheetTimeZone();
  const now = nowMs_();
  const me = runnerEmail_();
  const addOn = isAddOn_();
  const automation = readAutomation_(properties, sheet.getSheetId());
  const quota = DAILY_QUOTAS[accountKind_(me)];
  const minutes = addOn ? ADD_ON_SCHEDULE_MINUTES : SCHEDULE_MINUTES;
  return {
    sheet_id: sheet.getSheetId(),
    sheet_name: sheet.getName(),
    title: t_(lang, 'automation.title', { sheet: sheet.getName() }),
    mode: automation ? automation.mode : 'off',
    every_minutes: automation ? automation.every_minutes : minutes[addOn ? 0 : 1],
    status: automationStatus_(lang, automation, timeZone),
    last_run: automation && automation.last_run
      ? t_(lang, 'automation.last_run', { when: Utilities.formatDate(new Date(automation.last_run.at), timeZone, 'yyyy-MM-dd HH:mm'), text: automation.last_run.text })
      : '',
    warning: automationWarning_(lang, automation, timeZone, now),
    schedules: minutes.map((n) => ({ minutes: n, label: scheduleLabel_(lang, n), cost: scheduleCost_(lang, n, quota, accountKind_(me)) })),
    schedule_note: addOn ? t_(lang, 'automation.addon_hourly') : '',
    form_available: Boolean(sheet.getFormUrl()),
    form_note: sheet.getFormUrl() ? t_(lang, 'automation.form_cost') : t_(lang, 'automation.form_missing'),
    mine: automationsOf_(properties, spreadsheet).filter((a) => a.automation.owner === me).map((a) => ({
      sheet_id: a.sheet.getSheetId(), sheet_name: a.sheet.getName(), text: automationStatus_(lang, a.automation, timeZone),
    })),
  };
}

/**
 * "Uploads the pending rows every 15 minutes, as dana@example.com, since 2026-11-28 12:04." Pure but for the language.
 * @param {Language} lang
 * @param {Automation | null} automation
 * @param {string} timeZone
 * @returns {string}
 */
function automationStatus_(lang, automation, timeZone) {
  if (!automation) {
    return t_(lang, 'automation.off');
  }
  const since = Utilities.formatDate(new Date(automation.since), timeZone, 'yyyy-MM-dd HH:mm');
  return automation.mode === 'form'
    ? t_(lang, 'automation.on.form', { who: automation.owner, since: since })
    : t_(lang, 'automation.on.schedule', { every: scheduleLabel_(lang, automation.every_minutes), who: automation.owner, since: since });
}

/**
 * The line the settings show about the tab's automatic upload: who runs it, and its last run.
 * @param {Language} lang
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet
 * @param {string} timeZone the spreadsheet's
 * @returns {string}
 */
function automationLine_(lang, sheet, timeZone) {
  const automation = readAutomation_(PropertiesService.getDocumentProperties(), sheet.getSheetId());
  const parts = [automationStatus_(lang, automation, timeZone)];
  if (automation && automation.last_run) {
    parts.push(t_(lang, 'automation.last_run', {
      when: Utilities.formatDate(new Date(automation.last_run.at), timeZone, 'yyyy-MM-dd HH:mm'), text: automation.last_run.text,
    }));
  }
  const warning = automationWarning_(lang, automation, timeZone, nowMs_());
  return parts.concat(warning ? [warning] : []).join(' ');
}

/**
 * A schedule that has stopped running: its owner's account was probably suspended or removed. Pure but for the language.
 * @param {Language} lang
 * @param {Automation | null} automation
 * @param {string} timeZone
 * @param {number} now
 * @returns {string}
 */
function automationWarning_(lang, automation, timeZone, now) {
  if (!automation || automation.mode !== 'schedule') {
    return '';
  }
  const last = automation.last_started_at === null ? automation.since : automation.last_started_at;
  const silentFor = Math.max(SILENT_SCHEDULE_MIN_MS, SILENT_SCHEDULE_INTERVALS * automation.every_minutes * 60 * 1000);
  if (now - last < silentFor) {
    return '';
  }
  return t_(lang, 'automation.silent', {
    since: Utilities.formatDate(new Date(last), timeZone, 'yyyy-MM-dd HH:mm'), holder: holderName_(lang, automation.owner),
  });
}

/**
 * @param {Language} lang
 * @param {number} minutes
 * @returns {string}
 */
function scheduleLabel_(lang, minutes) {
  return minutes >= 60 ? t_(lang, 'automation.every_hour') : t_(lang, 'automation.every_minutes', { count: minutes });
}

/**
 * What a schedule costs a day, in the quotas Apps Script counts per user: runs, calls to the upload
 * service (UrlFetch), and minutes of trigger runtime when nothing is new. Pure but for the language.
 * @param {Language} lang
 * @param {number} minutes
 * @param {{fetches: number, trigger_minutes: number, emails: number}} quota
 * @param {'consumer' | 'workspace'} kind
 * @returns {string}
 */
function scheduleCost_(lang, minutes, quota, kind) {
  const runs = Math.floor(24 * 60 / minutes);
  return t_(lang, 'automation.cost', {
    runs: runs,
    fetches: quota.fetches,
    minutes: Math.max(1, Math.ceil(runs * IDLE_RUN_SECONDS / 60)),
    trigger_minutes: quota.trigger_minutes,
    account: t_(lang, 'automation.account.' + kind),
  });
}

/**
 * A personal Google account has the consumer quotas; any other is taken for a Workspace account. Pure.
 * @param {string} email
 * @returns {'consumer' | 'workspace'}
 */
function accountKind_(email) {
  return /@(gmail|googlemail)\.com$/i.test(email) ? 'consumer' : 'workspace';
}
