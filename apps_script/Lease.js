/**
 * One job at a time on each sheet tab: a lease in the document's properties, naming the job, its
 * action and who runs it, changed only under the document lock. A lease outlives one execution (the
 * sidebar drives a job over many), so the lock alone cannot do this. Whoever runs the job beats a
 * heartbeat; a lease whose heartbeat stopped for a minute may be taken over, once someone confirms it.
 * Nothing here shows anything: a time-driven trigger can take and give back leases the same way.
 */

const LEASE_PREFIX = 'callmarker.lease.';
/** A lease whose heartbeat is older than this is stale: its job is no longer driven by anyone. */
const STALE_AFTER_MS = 60 * 1000;
/** The sidebar beats this often while a job runs, whatever the step under way. */
const HEARTBEAT_MS = 20 * 1000;
const LOCK_WAIT_MS = 10 * 1000;

/**
 * @typedef {Object} Lease
 * @property {string} job_id
 * @property {Action} action
 * @property {string} email the holder's, '' when Google does not tell it
 * @property {number} started_at ms since the epoch
 * @property {number} heartbeat_at ms since the epoch: the last sign that someone drives the job
 * @property {boolean} [automatic] an automatic run drives the job, not a person's window
 * @property {boolean} [parked] its run ran out of time and left it to the follow-up run
 */

/**
 * What a lease means for a job that wants the tab. Pure.
 *  free: nobody holds it, or this job does; own: the same user's other job, alive;
 *  held: someone else's job, alive; stale: another job whose heartbeat stopped.
 * @param {Lease | null} lease
 * @param {string} jobId
 * @param {string} email
 * @param {number} now
 * @returns {'free' | 'own' | 'held' | 'stale'}
 */
function leaseVerdict_(lease, jobId, email, now) {
  if (!lease || lease.job_id === jobId) {
    return 'free';
  }
  if (now - lease.heartbeat_at >= STALE_AFTER_MS) {
    return 'stale';
  }
  return lease.email && lease.email === email ? 'own' : 'held';
}

/**
 * Runs fn while holding the document lock, which is held only for the few reads and writes of fn.
 * @template T
 * @param {Language} lang
 * @param {() => T} fn
 * @returns {T}
 */
function withDocumentLock_(lang, fn) {
  const lock = LockService.getDocumentLock();
  if (!lock.tryLock(LOCK_WAIT_MS)) {
    throw userError_(t_(lang, 'lease.lock_busy'));
  }
  try {
    return fn();
  } finally {
    lock.releaseLock();
  }
}

/**
 * @param {GoogleAppsScript.Properties.Properties} properties
 * @param {number} sheetId
 * @returns {Lease | null}
 */
function readLease_(properties, sheetId) {
  const lease = readJson_(properties.getProperty(LEASE_PREFIX + sheetId));
  // A lease that cannot be read is treated as absent rather than block the tab for good.
  if (!lease || typeof lease.job_id !== 'string' || typeof lease.heartbeat_at !== 'number') {
    return null;
  }
  for (const flag of ['automatic', 'parked']) {
    if (lease[flag] !== undefined && lease[flag] !== true) {
      delete lease[flag];
    }
  }
  return /** @type {Lease} */ (lease);
}

/**
 * @typedef {Object} LeaseRequest
 * @property {number} sheet_id
 * @property {string} sheet_name for messages
 * @property {string} job_id
 * @property {Action} action
 * @property {string} email who asks, '' when unknown
 * @property {Language} lang
 * @property {string | null} [take_over] the job id of a stale lease the user agreed to take over
 * @property {boolean} [automatic] asked by an automatic run
 * @property {boolean} [carry_on] an automatic run asks to carry on this job: only when nobody drives it
 *   (its lease is parked, or silent for CARRY_ON_AFTER_SILENT_MS), else the answer says it is driven
 */

/**
 * Takes the tab's lease for a job, or beats its heartbeat when the job holds it already. A live lease
 * of another job refuses with a user error that names its holder and action; a stale one is taken only
 * when the request names it in take_over, else it is returned for the caller to ask the user.
 * @param {LeaseRequest} request
 * @returns {{lease: Lease, stale: null, driven: false} | {lease: null, stale: Lease, driven: false} | {lease: null, stale: null, driven: true}}
 */
function takeLease_(request) {
  /** @type {Lease | null} */
  let replaced = null;
  const taken = withDocumentLock_(request.lang, () => {
    const properties = PropertiesService.getDocumentProperties();
    const now = nowMs_();
    const lease = readLease_(properties, request.sheet_id);
    if (request.carry_on && lease && lease.job_id === request.job_id && !lease.parked && now - lease.heartbeat_at < CARRY_ON_AFTER_SILENT_MS) {
      return { lease: null, stale: null, driven: /** @type {const} */ (true) };
    }
    const verdict = leaseVerdict_(lease, request.job_id, request.email, now);
    if (lease && (verdict === 'held' || verdict === 'own')) {
      throw userError_(busyMessage_(request.lang, lease, verdict, request.sheet_name, now));
    }
    // The same user's stale job is theirs to replace without a question: they closed its sidebar.
    const ownStale = lease && verdict === 'stale' && lease.email && lease.email === request.email;
    if (lease && verdict === 'stale' && !ownStale && request.take_over !== lease.job_id) {
      return { lease: null, stale: lease, driven: /** @type {const} */ (false) };
    }
    /** @type {Lease} */
    const held = {
      job_id: request.job_id,
      action: request.action,
      email: request.email,
      started_at: lease && verdict === 'free' ? lease.started_at : now,
      heartbeat_at: now,
    };
    if (request.automatic) {
      held.automatic = true;
    }
    properties.setProperty(LEASE_PREFIX + request.sheet_id, JSON.stringify(held));
    replaced = lease && verdict === 'stale' ? lease : null;
    return { lease: held, stale: null, driven: /** @type {const} */ (false) };
  });
  const gone = /** @type {Lease | null} */ (replaced);
  if (gone) {
    // The job whose tab this was does not go on: its end is logged now, under the taker's name.
    endTakenOverJob_(request.sheet_id, gone.job_id, request.email);
  }
  return taken;
}

/**
 * Tells, without taking anything, whether another live job holds the tab: a user error naming it.
 * Used before the preview, so that a busy tab is said before the card rather than after it.
 * @param {LeaseRequest} request
 */
function checkTabFree_(request) {
  const lease = readLease_(PropertiesService.getDocumentProperties(), request.sheet_id);
  const now = nowMs_();
  const verdict = leaseVerdict_(lease, request.job_id, request.email, now);
  if (lease && (verdict === 'held' || verdict === 'own')) {
    throw userError_(busyMessage_(request.lang, lease, verdict, request.sheet_name, now));
  }
}

/**
 * The heartbeat of a job that holds its lease.
 * @param {number} sheetId
 * @param {string} sheetName
 * @param {string} jobId
 * @param {Language} lang
 * @returns {string | null} null while the job holds the tab; once it was taken over, what to tell
 *   (who took it): the job must stop
 */
function beatLease_(sheetId, sheetName, jobId, lang) {
  return withDocumentLock_(lang, () => {
    const properties = PropertiesService.getDocumentProperties();
    const lease = readLease_(properties, sheetId);
    if (!lease || lease.job_id !== jobId) {
      return takenOverMessage_(lang, lease, sheetName);
    }
    lease.heartbeat_at = nowMs_();
    properties.setProperty(LEASE_PREFIX + sheetId, JSON.stringify(lease));
    return null;
  });
}

/**
 * Leaves a job's lease to the follow-up run that will carry the job on: the tab stays the job's, and
 * the follow-up need not wait for its heartbeat to fall silent.
 * @param {number} sheetId
 * @param {string} jobId
 * @param {Language} lang
 */
function parkLease_(sheetId, jobId, lang) {
  withDocumentLock_(lang, () => {
    const properties = PropertiesService.getDocumentProperties();
    const lease = readLease_(properties, sheetId);
    if (lease && lease.job_id === jobId) {
      lease.parked = true;
      properties.setProperty(LEASE_PREFIX + sheetId, JSON.stringify(lease));
    }
  });
}

/**
 * Gives the lease back if this job still holds it.
 * @param {number} sheetId
 * @param {string} jobId
 * @param {Language} lang
 */
function releaseLease_(sheetId, jobId, lang) {
  withDocumentLock_(lang, () => {
    const properties = PropertiesService.getDocumentProperties();
    const lease = readLease_(properties, sheetId);
    if (lease && lease.job_id === jobId) {
      properties.deleteProperty(LEASE_PREFIX + sheetId);
    }
  });
}

/**
 * "Dana is uploading rows from "Leads" (started 2 minutes ago). Try again when it finishes."
 * @param {Language} lang
 * @param {Lease} lease
 * @param {'held' | 'own'} verdict
 * @param {string} sheetName
 * @param {number} now
 * @returns {string}
 */
function busyMessage_(lang, lease, verdict, sheetName, now) {
  const action = lease.action in MAIN_OUTCOME ? lease.action : 'upload';
  const age = describeAge_(lang, lease.started_at, now);
  const kind = lease.automatic === true ? '_auto.' : '.';
  if (verdict === 'own') {
    return t_(lang, 'lease.own' + kind + action, { sheet: sheetName, age: age });
  }
  return t_(lang, 'lease.busy' + kind + action, { holder: holderName_(lang, lease.email), sheet: sheetName, age: age });
}

/**
 * The question before taking over a stale lease: whose job, which action, how long it has been silent.
 * @param {Language} lang
 * @param {Lease} lease
 * @param {string} sheetName
 * @param {number} now
 * @returns {string}
 */
function takeOverQuestion_(lang, lease, sheetName, now) {
  const action = lease.action in MAIN_OUTCOME ? lease.action : 'upload';
  return t_(lang, 'lease.stale' + (lease.automatic === true ? '_auto.' : '.') + action, {
    holder: holderName_(lang, lease.email),
    sheet: sheetName,
    age: describeAge_(lang, lease.started_at, now),
    silent: describeDuration_(lang, now - lease.heartbeat_at),
  });
}

/**
 * @param {Language} lang
 * @param {Lease | null} lease the lease now, if any
 * @param {string} sheetName
 * @returns {string}
 */
function takenOverMessage_(lang, lease, sheetName) {
  return lease
    ? t_(lang, 'lease.taken_over', { holder: holderName_(lang, lease.email), sheet: sheetName })
    : t_(lang, 'lease.lost', { sheet: sheetName });
}

/**
 * A colleague's name, isolated, or "Someone else" when Google does not tell who it was.
 * @param {Language} lang
 * @param {string} email
 * @returns {string} our own text, the name isolated
 */
function holderName_(lang, email) {
  return email ? isolate_(displayName_(email)) : t_(lang, 'lease.someone');
}
