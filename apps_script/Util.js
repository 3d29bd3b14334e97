/**
 * Small helpers shared by the other files: the clock, user-facing errors, and number and age wording.
 */

const USER_ERROR_NAME = 'CallMarkerUserError';

/**
 * The current time in milliseconds. Tests replace this function to move time forward.
 * @returns {number}
 */
function nowMs_() {
  return Date.now();
}

/**
 * An error whose message is written for the person at the sheet and is shown to them as it is.
 * @param {string} message
 * @returns {Error}
 */
function userError_(message) {
  const error = new Error(message);
  error.name = USER_ERROR_NAME;
  return error;
}

/**
 * @param {unknown} error
 * @returns {boolean}
 */
function isUserError_(error) {
  return errorText_(error, 'name') === USER_ERROR_NAME;
}

/**
 * A property of something thrown, read without instanceof: services throw errors of their own kinds.
 * @param {unknown} error
 * @param {'name' | 'message' | 'stack'} property
 * @returns {string}
 */
function errorText_(error, property) {
  const value = error !== null && typeof error === 'object' ? /** @type {Record<string, unknown>} */ (error)[property] : undefined;
  return typeof value === 'string' ? value : '';
}

/**
 * The message to show for any error: a user error as it is, anything else with a hint to report it.
 * @param {unknown} error
 * @returns {string}
 */
function messageForUser_(error) {
  if (isUserError_(error)) {
    return errorText_(error, 'message');
  }
  const detail = (errorText_(error, 'message') || String(error)).replace(/\.$/, '');
  return 'Something went wrong in the CallMarker add-in: ' + detail + '. Try again; if it happens again, ' +
    'tell whoever set up the add-in what you did and when.';
}

/**
 * 20000 -> "20,000", the same in every locale so that messages read the same for everyone.
 * @param {number} count
 * @returns {string}
 */
function formatCount_(count) {
  return String(Math.round(count)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * "1 row" / "3,500 rows".
 * @param {number} count
 * @param {string} noun singular
 * @returns {string}
 */
function plural_(count, noun) {
  return formatCount_(count) + ' ' + noun + (count === 1 ? '' : 's');
}

/**
 * How long ago a moment was, in words: "just now", "2 minutes ago", "1 hour ago".
 * @param {number} thenMs
 * @param {number} nowMs
 * @returns {string}
 */
function describeAge_(thenMs, nowMs) {
  const minutes = Math.floor(Math.max(0, nowMs - thenMs) / 60000);
  if (minutes < 1) {
    return 'just now';
  }
  if (minutes < 60) {
    return plural_(minutes, 'minute') + ' ago';
  }
  return plural_(Math.floor(minutes / 60), 'hour') + ' ago';
}
