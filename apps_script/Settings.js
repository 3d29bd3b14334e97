/**
 * The add-in's settings: defaults, validation, and storage in the document's properties so that
 * every editor of the spreadsheet uploads with the same campaign and options.
 */

const SETTINGS_PROPERTY = 'callmarker.settings';

/** CallMarker's customer statuses, as the API numbers them. */
const CUSTOMER_STATUSES = Object.freeze({ 1: 'Waiting', 10: 'Not Interested', 11: 'Interested', 12: 'Follow Up', 18: 'Completed' });

const MAX_BATCH_SIZE = 1000;

/**
 * @typedef {Object} Settings
 * @property {string} campaign CallMarker campaign id, digits; '' for none
 * @property {string} agent_name '' for none
 * @property {boolean} override update customers CallMarker already holds
 * @property {boolean} unique remove the customers from every other campaign
 * @property {number | null} status one of CUSTOMER_STATUSES, or null to leave statuses alone
 * @property {boolean} international numbers are written in E.164 (+972...)
 * @property {string} default_region two-letter region for numbers written locally
 * @property {number} batch_size customers per CallMarker request
 * @property {number} header_row the sheet row that holds the column names
 */

/** @type {Readonly<Settings>} */
const DEFAULT_SETTINGS = Object.freeze({
  campaign: '',
  agent_name: '',
  override: false,
  unique: false,
  status: null,
  international: false,
  default_region: 'IL',
  batch_size: 100,
  header_row: 1,
});

/**
 * Checks what the settings form sent and turns it into Settings. Pure: no properties, no UI.
 * @param {Record<string, unknown>} form field name -> value as the form holds it (strings, booleans)
 * @returns {{settings: Settings, errors: Record<string, string>}} errors: field name -> message
 */
function validateSettings_(form) {
  /** @type {Record<string, string>} */
  const errors = {};
  const text = (/** @type {string} */ name) => String(form[name] === undefined || form[name] === null ? '' : form[name]).trim();
  const flag = (/** @type {string} */ name) => form[name] === true || form[name] === 'true' || form[name] === 'on';

  const campaign = text('campaign');
  if (campaign && !/^\d+$/.test(campaign)) {
    errors.campaign = 'Campaign is the campaign number in CallMarker, such as 11.';
  }
  const agentName = text('agent_name');
  if (agentName && !campaign) {
    errors.agent_name = 'An agent needs a campaign: set the campaign too, or clear the agent.';
  }
  const override = flag('override');
  const unique = flag('unique');
  if (unique && (!campaign || !override)) {
    errors.unique = 'Removing customers from other campaigns needs a campaign and "Update existing customers".';
  }
  const statusText = text('status');
  /** @type {number | null} */
  let status = null;
  if (statusText) {
    status = Number(statusText);
    if (!Object.prototype.hasOwnProperty.call(CUSTOMER_STATUSES, statusText)) {
      errors.status = 'Status is one of: ' + Object.entries(CUSTOMER_STATUSES).map(([n, name]) => n + ' ' + name).join(', ') + '.';
    }
  }
  const region = text('default_region').toUpperCase() || DEFAULT_SETTINGS.default_region;
  if (!/^[A-Z]{2}$/.test(region)) {
    errors.default_region = 'Default phone region is a two-letter country code, such as IL.';
  }
  const batchSize = wholeNumber_(text('batch_size'), DEFAULT_SETTINGS.batch_size);
  if (batchSize === null || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    errors.batch_size = 'Batch size is a whole number from 1 to ' + formatCount_(MAX_BATCH_SIZE) + '.';
  }
  const headerRow = wholeNumber_(text('header_row'), DEFAULT_SETTINGS.header_row);
  if (headerRow === null || headerRow < 1) {
    errors.header_row = 'Header row is a row number: 1 or more.';
  }
  return {
    settings: {
      campaign: campaign,
      agent_name: agentName,
      override: override,
      unique: unique,
      status: status,
      international: flag('international'),
      default_region: region,
      batch_size: batchSize === null ? DEFAULT_SETTINGS.batch_size : batchSize,
      header_row: headerRow === null ? DEFAULT_SETTINGS.header_row : headerRow,
    },
    errors: errors,
  };
}

/**
 * "12" -> 12, "" -> fallback, "1.5" or "ten" -> null.
 * @param {string} value
 * @param {number} fallback
 * @returns {number | null}
 */
function wholeNumber_(value, fallback) {
  if (value === '') {
    return fallback;
  }
  return /^\d+$/.test(value) ? Number(value) : null;
}

/**
 * The saved settings, or the defaults for a spreadsheet that has none.
 * @returns {Settings}
 */
function loadSettings_() {
  const saved = PropertiesService.getDocumentProperties().getProperty(SETTINGS_PROPERTY);
  if (!saved) {
    return Object.assign({}, DEFAULT_SETTINGS);
  }
  try {
    return Object.assign({}, DEFAULT_SETTINGS, JSON.parse(saved));
  } catch (_error) {
    // A value edited by hand into something unreadable must not block every upload.
    return Object.assign({}, DEFAULT_SETTINGS);
  }
}

/**
 * Called by the sidebar's Save button. Saves only when every field is valid.
 * @param {Record<string, unknown>} form
 * @returns {{ok: boolean, settings: Settings, errors: Record<string, string>}}
 */
function saveSettings(form) {
  const result = validateSettings_(form || {});
  const ok = Object.keys(result.errors).length === 0;
  if (ok) {
    PropertiesService.getDocumentProperties().setProperty(SETTINGS_PROPERTY, JSON.stringify(result.settings));
  }
  return { ok: ok, settings: result.settings, errors: result.errors };
}

/**
 * The settings as the function's "options" object: unset text is null, flags are booleans.
 * @param {Settings} settings
 * @returns {Record<string, string | number | boolean | null>}
 */
function requestOptions_(settings) {
  return {
    campaign: settings.campaign || null,
    agent_name: settings.agent_name || null,
    override: settings.override,
    unique: settings.unique,
    status: settings.status,
    international: settings.international,
    default_region: settings.default_region,
    batch_size: settings.batch_size,
    header_row: settings.header_row,
  };
}
