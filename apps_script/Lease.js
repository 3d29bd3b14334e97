/**
 * One job at a time per spreadsheet: a short lease in the document's properties, changed only under
 * the document lock. A lease outlives one execution (the sidebar drives a job over many), so the
 * lock alone cannot do this; a lease that is not renewed expires.
 */

const LEASE_PROPERTY = 'callmarker.lease';
/** Renewed before every step; a step takes about a minute at most, so this survives a slow one. */
const LEASE_MS = 5 * 60 * 1000;
const LOCK_WAIT_MS = 10 * 1000;

/**
 * @typedef {Object} Lease
 * @property {string} job_id
 * @property {string} email the holder's, '' when Google does not tell it
 * @property {number} started_at ms since the epoch
 * @property {number} expires_at ms since the epoch
 */

/**
 * Runs fn while holding the document lock, which is held only for the few reads and writes of fn.
 * @template T
 * @param {() => T} fn
 * @returns {T}
 */
function withDocumentLock_(fn) {
  const lock = LockService.getDocumentLock();
  if (!lock.tryLock(LOCK_WAIT_MS)) {
    throw userError_('Another upload is starting on this spreadsheet. Try again in a moment.');
  }
  try {
    return fn();
  } finally {
    lock.releaseLock();
  }
}

/**
 * @param {GoogleAppsScript.Properties.Properties} properties
 * @returns {Lease | null}
 */
function readLease_(properties) {
  const saved = properties.getProperty(LEASE_PROPERTY);
  if (!saved) {
    return null;
  }
  try {
    return JSON.parse(saved);
  } catch (_error) {
    return null; // unreadable: treat as expired rather than block every upload
  }
}

/**
 * Takes the lease for a job, or renews it when the job holds it already.
 * Throws a user error naming the holder when another job holds a live lease.
 * @param {string} jobId
 * @returns {Lease}
 */
function holdLease_(jobId) {
  const email = Session.getActiveUser().getEmail() || '';
  return withDocumentLock_(() => {
    const properties = PropertiesService.getDocumentProperties();
    const now = nowMs_();
    const lease = readLease_(properties);
    if (lease && lease.job_id !== jobId && lease.expires_at > now) {
      throw userError_(busyMessage_(lease, email, now));
    }
    /** @type {Lease} */
    const held = {
      job_id: jobId,
      email: email,
      started_at: lease && lease.job_id === jobId ? lease.started_at : now,
      expires_at: now + LEASE_MS,
    };
    properties.setProperty(LEASE_PROPERTY, JSON.stringify(held));
    return held;
  });
}

/**
 * Gives the lease back if this job still holds it.
 * @param {string} jobId
 */
function releaseLease_(jobId) {
  withDocumentLock_(() => {
    const properties = PropertiesService.getDocumentProperties();
    const lease = readLease_(properties);
    if (lease && lease.job_id === jobId) {
      properties.deleteProperty(LEASE_PROPERTY);
    }
  });
}

/**
 * @param {Lease} lease
 * @param {string} myEmail
 * @param {number} now
 * @returns {string}
 */
function busyMessage_(lease, myEmail, now) {
  const started = 'started ' + describeAge_(lease.started_at, now);
  if (lease.email && lease.email === myEmail) {
    return 'You are already uploading rows from this sheet (' + started + '), perhaps in another window. ' +
      'Wait for it to finish, or stop it in its sidebar.';
  }
  const holder = lease.email ? displayName_(lease.email) : 'Someone else';
  return holder + ' is uploading rows from this sheet (' + started + '). Try again when it finishes.';
}

/**
 * "dana.cohen@example.com" -> "Dana Cohen".
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
