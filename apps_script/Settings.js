/**
 * Settings of each sheet tab, shared by everyone who edits the spreadsheet and stamped with who
 * changed them last; and each user's own preferences (language, when to skip the pre-flight card).
 * The loading and saving functions take the properties to use, so that code without a user interface
 * (a time-driven trigger) reads them the same way.
 */

const SETTINGS_PREFIX = 'callmarker.settings.';
/** Where earlier versions kept one set of settings for the whole spreadsheet. */
const LEGACY_SETTINGS_PROPERTY = 'callmarker.settings';
const PREFERENCES_PROPERTY = 'callmarker.preferences';

/** CallMarker's customer statuses, as its API numbers them; their names are in the message tables. */
const CUSTOMER_STATUSES = Object.freeze([1, 10, 11, 12, 18]);

const MAX_BATCH_SIZE = 1000;
const DEFAULT_HEADER_ROW = 1;

/**
 * A setting left empty is not sent, so that the function's own configuration applies.
 * @typedef {Object} Settings
 * @property {string} campaign CallMarker campaign id, digits; '' for none
 * @property {string} campaign_name what the team calls that campaign; shown, never sent
 * @property {string} agent_name '' for none
 * @property {boolean} override update customers CallMarker already holds
 * @property {boolean} unique remove the customers from every other campaign
 * @property {number | null} status one of CUSTOMER_STATUSES, or null to leave statuses alone
 * @property {boolean} international numbers are written in E.164 (+972...)
 * @property {string} default_region two-letter region for numbers written locally; '' for the function's
 * @property {number | null} batch_size customers per CallMarker request; null for the function's
 * @property {number | null} header_row the sheet row that holds the column names; null for row 1
 */

/** @type {Readonly<Settings>} */
const DEFAULT_SETTINGS = Object.freeze({
  campaign: '',
  campaign_name: '',
  agent_name: '',
  override: false,
  unique: false,
  status: null,
  international: false,
  default_region: '',
  batch_size: null,
  header_row: null,
});

/**
 * @typedef {Object} TabSettings a tab's settings and who changed them last
 * @property {Settings} settings
 * @property {string} changed_by the email of whoever saved them, '' when Google did not tell it
 * @property {number | null} changed_at ms since the epoch; null when never saved for this tab
 * @property {boolean} inherited the spreadsheet-wide settings of an earlier version, not yet saved here
 */

/**
 * @typedef {Object} Preferences one user's own choices, in every spreadsheet
 * @property {'' | Language} language '' to follow the Google account's language
 * @property {number} skip_card_up_to jobs of at most this many rows start without the pre-flight card; 0: none
 * @property {boolean} notify_carried email me how my job ended when a follow-up run finished it after I closed its sidebar
 */

/** @type {Readonly<Preferences>} */
const DEFAULT_PREFERENCES = Object.freeze({ language: '', skip_card_up_to: 0, notify_carried: false });

/**
 * Checks what the settings form sent and turns it into Settings. Pure: no properties, no UI.
 * @param {Record<string, unknown>} form field name -> value as the form holds it (strings, booleans)
 * @param {Language} lang
 * @returns {{settings: Settings, errors: Record<string, string>}} errors: field name -> message
 */
function validateSettings_(form, lang) {
  /** @type {Record<string, string>} */
  const errors = {};
  const text = (/** @type {string} */ name) => formText_(form, name);
  const flag = (/** @type {string} */ name) => form[name] === true || form[name] === 'true' || form[name] === 'on';

  const campaign = text('campaign');
  if (campaign && !/^\d+$/.test(campaign)) {
    errors.campaign = t_(lang, 'settings.error.campaign');
  }
  const campaignName = text('campaign_name').slice(0, 100);
  if (campaignName && !campaign) {
    errors.campaign_name = t_(lang, 'settings.error.campaign_name');
  }
  const agentName = text('agent_name');
  if (agentName && !campaign) {
    errors.agent_name = t_(lang, 'settings.error.agent_name');
  }
  const override = flag('override');
  const unique = flag('unique');
  if (unique && (!campaign || !override)) {
    errors.unique = t_(lang, 'settings.error.unique');
  }
  const statusText = text('status');
  /** @type {number | null} */
  let status = null;
  if (statusText) {
    status = Number(statusText);
    if (!/^\d+$/.test(statusText) || CUSTOMER_STATUSES.indexOf(status) < 0) {
      errors.status = t_(lang, 'settings.error.status', {
        choices: CUSTOMER_STATUSES.map((n) => n + ' ' + customerStatusLabel_(lang, n)).join(', '),
      });
    }
  }
  const region = text('default_region').toUpperCase();
  if (region && !/^[A-Z]{2}$/.test(region)) {
    errors.default_region = t_(lang, 'settings.error.default_region');
  }
  const batchSize = wholeNumber_(text('batch_size'));
  if (batchSize === undefined || (batchSize !== null && (batchSize < 1 || batchSize > MAX_BATCH_SIZE))) {
    errors.batch_size = t_(lang, 'settings.error.batch_size', { max: MAX_BATCH_SIZE });
  }
  const headerRow = wholeNumber_(text('header_row'));
  if (headerRow === undefined || (headerRow !== null && headerRow < 1)) {
    errors.header_row = t_(lang, 'settings.error.header_row');
  }
  return {
    settings: {
      campaign: campaign,
      campaign_name: campaignName,
      agent_name: agentName,
      override: override,
      unique: unique,
      status: errors.status ? null : status,
      international: flag('international'),
      default_region: errors.default_region ? '' : region,
      batch_size: batchSize === undefined ? null : batchSize,
      header_row: headerRow === undefined ? null : headerRow,
    },
    errors: errors,
  };
}

/**
 * Checks the user's preferences from the same form. Pure.
 * @param {Record<string, unknown>} form
 * @param {Language} lang
 * @returns {{preferences: Preferences, errors: Record<string, string>}}
 */
function validatePreferences_(form, lang) {
  /** @type {Record<string, string>} */
  const errors = {};
  const language = formText_(form, 'language');
  if (language && LANGUAGES.indexOf(/** @type {Language} */ (language)) < 0) {
    errors.language = t_(lang, 'settings.error.language');
  }
  const under = wholeNumber_(formText_(form, 'skip_card_up_to'));
  if (under === undefined || (under !== null && under > MAX_SELECTED_ROWS)) {
    errors.skip_card_up_to = t_(lang, 'settings.error.skip_card_up_to', { max: MAX_SELECTED_ROWS });
  }
  const notify = form.notify_carried;
  return {
    preferences: {
      language: errors.language ? '' : /** @type {'' | Language} */ (language),
      skip_card_up_to: typeof under === 'number' ? under : 0,
      notify_carried: notify === true || notify === 'true' || notify === 'on',
    },
    errors: errors,
  };
}

/**
 * @param {Record<string, unknown>} form
 * @param {string[]} names
 * @returns {Record<string, unknown>} the named fields the form has
 */
function pickFields_(form, names) {
  /** @type {Record<string, unknown>} */
  const picked = {};
  for (const name of names) {
    if (Object.prototype.hasOwnProperty.call(form, name)) {
      picked[name] = form[name];
    }
  }
  return picked;
}

/**
 * A form field as trimmed text; absent or null is ''.
 * @param {Record<string, unknown>} form
 * @param {string} name
 * @returns {string}
 */
function formText_(form, name) {
  const value = form[name];
  return value === undefined || value === null ? '' : String(value).trim();
}

/**
 * "12" -> 12, "" -> null (not set), "1.5" or "ten" -> undefined (not a whole number).
 * @param {string} value
 * @returns {number | null | undefined}
 */
function wholeNumber_(value) {
  if (value === '') {
    return null;
  }
  return /^\d+$/.test(value) ? Number(value) : undefined;
}

/**
 * A tab's settings: its own, else the spreadsheet-wide ones of an earlier version, else the defaults.
 * Settings that no longer pass validation are returned as they are: a job refuses them, with the reason.
 * @param {GoogleAppsScript.Properties.Properties} properties the document's
 * @param {number} sheetId the tab's gid
 * @returns {TabSettings}
 */
function loadTabSettings_(properties, sheetId) {
  const saved = readJson_(properties.getProperty(SETTINGS_PREFIX + sheetId));
  if (saved && typeof saved.settings === 'object' && saved.settings !== null) {
    return {
      settings: Object.assign({}, DEFAULT_SETTINGS, saved.settings),
      changed_by: typeof saved.changed_by === 'string' ? saved.changed_by : '',
      changed_at: typeof saved.changed_at === 'number' ? saved.changed_at : null,
      inherited: false,
    };
  }
  const legacy = readJson_(properties.getProperty(LEGACY_SETTINGS_PROPERTY));
  if (legacy) {
    // Earlier versions always sent a region, a batch size and a header row: their defaults then meant
    // "not chosen", so they are left unset and the function's own configuration applies.
    /** @type {Settings} */
    const settings = Object.assign({}, DEFAULT_SETTINGS, legacy);
    if (settings.default_region === 'IL') {
      settings.default_region = '';
    }
    if (settings.batch_size === 100) {
      settings.batch_size = null;
    }
    if (settings.header_row === DEFAULT_HEADER_ROW) {
      settings.header_row = null;
    }
    return { settings: settings, changed_by: '', changed_at: null, inherited: true };
  }
  return { settings: Object.assign({}, DEFAULT_SETTINGS), changed_by: '', changed_at: null, inherited: false };
}

/**
 * @param {GoogleAppsScript.Properties.Properties} properties the document's
 * @param {number} sheetId
 * @param {Settings} settings valid settings
 * @param {string} who the email of whoever saves them, or ''
 * @param {number} now
 * @returns {TabSettings}
 */
function saveTabSettings_(properties, sheetId, settings, who, now) {
  const saved = { settings: settings, changed_by: who, changed_at: now };
  properties.setProperty(SETTINGS_PREFIX + sheetId, JSON.stringify(saved));
  return { settings: settings, changed_by: who, changed_at: now, inherited: false };
}

/**
 * @param {GoogleAppsScript.Properties.Properties} userProperties
 * @returns {Preferences}
 */
function loadPreferences_(userProperties) {
  const saved = readJson_(userProperties.getProperty(PREFERENCES_PROPERTY));
  return saved ? validatePreferences_(saved, 'en').preferences : Object.assign({}, DEFAULT_PREFERENCES);
}

/**
 * A property's JSON object, or null when it is absent or unreadable: a value edited by hand into
 * something else must not block every upload.
 * @param {string | null} text
 * @returns {Record<string, any> | null}
 */
function readJson_(text) {
  if (!text) {
    return null;
  }
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch (_error) {
    return null;
  }
}

/**
 * @param {Settings} settings
 * @returns {number}
 */
function headerRow_(settings) {
  return settings.header_row || DEFAULT_HEADER_ROW;
}

/**
 * The settings as the function's "options" object: only what the user set, so that the function's
 * own configuration (its default region, its batch size) applies to the rest.
 * @param {Settings} settings
 * @returns {Record<string, string | number | boolean>}
 */
function requestOptions_(settings) {
  /** @type {Record<string, string | number | boolean>} */
  const options = {};
  if (settings.campaign) {
    options.campaign = settings.campaign;
  }
  if (settings.agent_name) {
    options.agent_name = settings.agent_name;
  }
  for (const flag of /** @type {const} */ (['override', 'unique', 'international'])) {
    if (settings[flag]) {
      options[flag] = true;
    }
  }
  if (settings.status !== null) {
    options.status = settings.status;
  }
  if (settings.default_region) {
    options.default_region = settings.default_region;
  }
  if (settings.batch_size !== null) {
    options.batch_size = settings.batch_size;
  }
  if (settings.header_row !== null) {
    options.header_row = settings.header_row;
  }
  return options;
}

/**
 * "Summer leads (11)", or "11" when the team gave the campaign no name.
 * @param {Language} lang
 * @param {Settings} settings
 * @returns {string} our own text, its values isolated
 */
function campaignText_(lang, settings) {
  return settings.campaign_name
    ? t_(lang, 'campaign.named', { name: settings.campaign_name, id: settings.campaign })
    : t_(lang, 'campaign.bare', { id: settings.campaign });
}

/**
 * @param {Language} lang
 * @param {number} status
 * @returns {string}
 */
function customerStatusLabel_(lang, status) {
  return t_(lang, 'customer_status.' + status);
}

/**
 * Called by the sidebar's Save button: saves the tab's settings and the user's preferences, each only
 * when every field is valid. Who changed the tab's settings is recorded only when they changed.
 * @param {Record<string, unknown>} form the fields, and sheet_id: the tab the sidebar was opened on
 * @returns {{ok: boolean, errors: Record<string, string>, view: SettingsView, reload: boolean}}
 */
function saveSettings(form) {
  const lang = userLanguage_();
  const input = form || {};
  const spreadsheet = SpreadsheetApp.getActive();
  const sheet = input.sheet_id === undefined || input.sheet_id === null ? spreadsheet.getActiveSheet()
    : sheetById_(spreadsheet, Number(input.sheet_id));
  if (!sheet) {
    throw userError_(t_(lang, 'sheet.gone', { sheet: String(input.sheet_name || '') }));
  }
  const documentProperties = PropertiesService.getDocumentProperties();
  const userProperties = PropertiesService.getUserProperties();
  let tab = loadTabSettings_(documentProperties, sheet.getSheetId());
  let preferences = loadPreferences_(userProperties);
  const checked = validateSettings_(input, lang);
  // A form without the preference fields leaves them as they are.
  const chosen = validatePreferences_(Object.assign({}, preferences, pickFields_(input, ['language', 'skip_card_up_to', 'notify_carried'])), lang);
  const errors = Object.assign({}, checked.errors, chosen.errors);
  const ok = Object.keys(errors).length === 0;
  if (ok) {
    if (tab.inherited || JSON.stringify(tab.settings) !== JSON.stringify(checked.settings)) {
      tab = saveTabSettings_(documentProperties, sheet.getSheetId(), checked.settings, activeEmail_(), nowMs_());
    }
    userProperties.setProperty(PREFERENCES_PROPERTY, JSON.stringify(chosen.preferences));
    preferences = chosen.preferences;
  }
  const shown = ok ? userLanguage_() : lang;
  return {
    ok: ok,
    errors: errors,
    view: settingsView_(shown, sheet, ok ? tab : Object.assign({}, tab, { settings: checked.settings }), ok ? preferences : chosen.preferences),
    reload: shown !== lang,
  };
}

/**
 * @typedef {Object} SettingsView what the settings form shows
 * @property {number} sheet_id
 * @property {string} sheet_name
 * @property {string} title
 * @property {Settings} settings
 * @property {Preferences} preferences
 * @property {string} changed what the form says about who changed the settings last
 * @property {string} automatic the tab's automatic upload: who runs it, how often, its last run
 * @property {{value: number, label: string}[]} statuses
 * @property {{value: string, label: string}[]} languages
 * @property {number} max_batch_size
 */

/**
 * @param {Language} lang
 * @param {GoogleAppsScript.Spreadsheet.Sheet} sheet
 * @param {TabSettings} tab
 * @param {Preferences} preferences
 * @returns {SettingsView}
 */
function settingsView_(lang, sheet, tab, preferences) {
  const automatic = languageOf_(Session.getActiveUserLocale());
  const timeZone = SpreadsheetApp.getActive().getSpreadsheetTimeZone();
  return {
    sheet_id: sheet.getSheetId(),
    sheet_name: sheet.getName(),
    title: t_(lang, 'settings.title', { sheet: sheet.getName() }),
    settings: tab.settings,
    preferences: preferences,
    changed: changedText_(lang, tab, timeZone),
    automatic: automationLine_(lang, sheet, timeZone),
    statuses: CUSTOMER_STATUSES.map((n) => ({ value: n, label: n + ' · ' + customerStatusLabel_(lang, n) })),
    languages: [{ value: '', label: t_(lang, 'settings.language.automatic', { language: t_(lang, 'language.' + automatic) }) }]
      .concat(LANGUAGES.map((code) => ({ value: code, label: t_(lang, 'language.' + code) }))),
    max_batch_size: MAX_BATCH_SIZE,
  };
}

/**
 * Who changed a tab's settings last, and when, in the spreadsheet's time zone.
 * @param {Language} lang
 * @param {TabSettings} tab
 * @param {string} timeZone
 * @returns {string}
 */
function changedText_(lang, tab, timeZone) {
  if (tab.inherited) {
    return t_(lang, 'settings.inherited');
  }
  if (tab.changed_at === null) {
    return t_(lang, 'settings.never_changed');
  }
  const when = Utilities.formatDate(new Date(tab.changed_at), timeZone, 'yyyy-MM-dd HH:mm');
  return tab.changed_by
    ? t_(lang, 'settings.changed', { who: tab.changed_by, when: when })
    : t_(lang, 'settings.changed_hidden', { when: when });
}
