/**
 * Small helpers shared by the other files: the clock, user-facing errors, and how counts are written.
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
 * @param {Language} lang
 * @returns {string}
 */
function messageForUser_(error, lang) {
  if (isUserError_(error)) {
    return errorText_(error, 'message');
  }
  const detail = (errorText_(error, 'message') || String(error)).replace(/\.$/, '');
  return t_(lang, 'error.unexpected', { detail: detail });
}

/**
 * 20000 -> "20,000", the same in every language so that counts read the same for everyone.
 * @param {number} count
 * @returns {string}
 */
function formatCount_(count) {
  return String(Math.round(count)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * "dana.cohen@example.com" -> "Dana Cohen": how a colleague is named in messages.
 * @param {string} email
 * @returns {string}
 */
function displayName_(email) {
  return email
    .split('@')[0]
    .split(/[._-]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join(' ');
}

/**
 * The signed-in user's email, or '' where Google does not tell it (another domain, a personal account,
 * or a trigger that runs without a user).
 * @returns {string}
 */
function activeEmail_() {
  try {
    return Session.getActiveUser().getEmail() || '';
  } catch (_error) {
    return '';
  }
}

/**
 * The email of the account this execution runs as: the person at the sheet, or, in a trigger, the
 * person who made it. '' when Google tells neither.
 * @returns {string}
 */
function runnerEmail_() {
  try {
    return Session.getEffectiveUser().getEmail() || activeEmail_();
  } catch (_error) {
    return activeEmail_();
  }
}
