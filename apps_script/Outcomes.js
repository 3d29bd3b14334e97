/**
 * What the function reports about rows: the statuses it writes into the status columns, the counts it
 * answers, and the one order and wording in which the add-in shows those counts everywhere (the toast,
 * the progress line, the summary and the sidebar's table).
 */

/** The status columns the function writes, as it names them in the header row. */
const STATUS_COLUMNS = Object.freeze(['CallMarker status', 'CallMarker message', 'CallMarker time', 'CallMarker fingerprint']);

/**
 * The values the function writes into the status column: stable English words that formulas and
 * filters depend on. Only their labels are translated.
 */
const ROW_STATUSES = Object.freeze(['uploaded', 'sent', 'rejected', 'invalid', 'failed', 'valid', 'removed']);

/** Outcomes that are counted but never written into a cell: the row keeps its earlier status. */
const COUNTED_ONLY = Object.freeze(['skipped']);

/** The order counts are read in: what went well first, then what needs work. Later counts follow. */
const COUNT_ORDER = Object.freeze(['uploaded', 'removed', 'valid', 'sent', 'rejected', 'invalid', 'failed', 'skipped']);

/** The count that says an action did what it was asked: shown first, even while it is 0. */
const MAIN_OUTCOME = Object.freeze({ upload: 'uploaded', check: 'valid', remove: 'removed' });

/** How each outcome is coloured: green done, red to fix, amber not confirmed (worth sending again). */
const OUTCOME_TONE = Object.freeze({
  uploaded: 'good', removed: 'good', valid: 'good',
  rejected: 'bad', invalid: 'bad',
  failed: 'unsure', sent: 'unsure',
  skipped: 'neutral',
});

/**
 * @typedef {Object} CountPart one count as every view shows it
 * @property {string} name the outcome, as the function names it
 * @property {string} label its label in the user's language
 * @property {number} count
 * @property {string} tone good | bad | unsure | neutral
 */

/**
 * The counts to show, in reading order: the action's main outcome always, the others when not 0. Pure.
 * @param {Counts} counts
 * @param {Action} action
 * @param {Language} lang
 * @returns {CountPart[]}
 */
function countParts_(counts, action, lang) {
  const main = MAIN_OUTCOME[action];
  const names = COUNT_ORDER.filter((name) => name in counts || name === main)
    .concat(Object.keys(counts).filter((name) => COUNT_ORDER.indexOf(name) < 0));
  return names
    .filter((name) => name === main || counts[name] > 0)
    .map((name) => ({
      name: name,
      label: countLabel_(lang, name),
      count: counts[name] || 0,
      tone: /** @type {Record<string, string>} */ (OUTCOME_TONE)[name] || 'neutral',
    }));
}

/**
 * The parts that make up a job's total: rows only counted (skipped by "all pending rows") are not among
 * the rows the job does, so "… of 40" never counts them. Pure.
 * @param {CountPart[]} parts
 * @returns {CountPart[]}
 */
function partsOfTotal_(parts) {
  return parts.filter((part) => COUNTED_ONLY.indexOf(part.name) < 0);
}

/**
 * A count's label; a count the function adds later, before the add-in knows it, shows its own name.
 * @param {Language} lang
 * @param {string} name
 * @returns {string}
 */
function countLabel_(lang, name) {
  return hasMessage_(lang, 'count.' + name) ? t_(lang, 'count.' + name) : name;
}

/**
 * "uploaded 29,120 · invalid 47 · failed 833": the counts as one phrase.
 * @param {CountPart[]} parts
 * @param {Language} lang
 * @returns {string}
 */
function countsPhrase_(parts, lang) {
  return parts.map((part) => t_(lang, 'count.part', { label: part.label, count: part.count })).join(t_(lang, 'count.joiner'));
}

/**
 * A sentence that starts with a phrase of ours gets its capital letter (Hebrew has none).
 * @param {string} text
 * @returns {string}
 */
function capitalized_(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
