'use strict';
// Editors of one spreadsheet: one job at a time on each tab, the others told who holds it and for
// what; two tabs at once; a lease whose heartbeat stopped taken over after a minute, once confirmed.

const test = require('node:test');
const assert = require('node:assert/strict');
const { loadAddIn, answer, leads, FUNCTION_URL, plain, sidebarState, visible } = require('./addin');
const { FakeDocument, FakeUser, valuesSource, scriptedTransport, answersInOrder, createClock } = require('./fakes');

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const NO_CARD = JSON.stringify({ language: '', skip_card_up_to: 50000 });

/**
 * A spreadsheet with two tabs, Leads (gid 0) and לידים חמים (gid 7). Dana starts a large upload on
 * Leads (it goes to the sidebar and holds that tab's lease); Yossi is on the same spreadsheet.
 */
function twoEditors({ yossiAnswers = [], danaEmail = 'dana@example.com', danaAction = 'upload', yossiLocale = 'en' } = {}) {
  const clock = createClock();
  const document = new FakeDocument({
    id: 'shared-sheet',
    sheets: [
      { name: 'Leads', sheetId: 0, source: valuesSource(leads(8000)) },
      { name: 'לידים חמים', sheetId: 7, source: valuesSource(leads(300)) },
    ],
  });
  const dana = new FakeUser(document, { email: danaEmail, fetch: scriptedTransport(answersInOrder([answer({ done: false, cursor: 'c1', processed_rows: 100, total_rows: 7000 })])) });
  const yossi = new FakeUser(document, { email: 'yossi@example.com', locale: yossiLocale, fetch: scriptedTransport(answersInOrder(yossiAnswers)) });
  dana.userProperties.setProperty('callmarker.preferences', NO_CARD);
  yossi.userProperties.setProperty('callmarker.preferences', NO_CARD);
  const config = { functionUrl: FUNCTION_URL };
  const danaAddIn = loadAddIn(dana.globals(), { clock, config });
  const yossiAddIn = loadAddIn(yossi.globals(), { clock, config });
  dana.select('A2:A7001');
  if (danaAction === 'upload') {
    danaAddIn.uploadSelectedRows();
  } else {
    danaAddIn.checkSelectedRows();
  }
  const job = sidebarState(dana.log.sidebars[0]).job;
  return { clock, document, dana, yossi, danaAddIn, yossiAddIn, job };
}

test('while Dana uploads, Yossi is told who is uploading which tab and since when, and nothing is sent', () => {
  const { clock, yossi, yossiAddIn, danaAddIn, job } = twoEditors();
  clock.advance(50 * SECOND);
  danaAddIn.heartbeat(job);
  clock.advance(50 * SECOND);
  danaAddIn.heartbeat(job);
  clock.advance(25 * SECOND);
  yossi.select('A2:A10');
  yossiAddIn.uploadSelectedRows();
  assert.equal(yossi.log.requests.length, 0);
  assert.equal(visible(yossi.log.alerts[0].prompt), 'Dana is uploading rows from "Leads" (started 2 minutes ago). Try again when it finishes.');
});

test('the lease names the action: checking and removing are not called uploading', () => {
  const { yossi, yossiAddIn } = twoEditors({ danaAction: 'check' });
  yossi.select('A2');
  yossiAddIn.uploadSelectedRows();
  assert.equal(visible(yossi.log.alerts[0].prompt), 'Dana is checking rows of "Leads" (started just now). Try again when it finishes.');
});

test('Yossi reads who holds the tab in his own language', () => {
  const { yossi, yossiAddIn } = twoEditors({ yossiLocale: 'he' });
  yossi.select('A2');
  yossiAddIn.uploadSelectedRows();
  assert.equal(yossi.log.alerts[0].prompt, 'העלאה של \u2068Dana\u2069 מהגיליון "\u2068Leads\u2069" מתבצעת עכשיו (התחילה הרגע). נסו שוב כשתסתיים.');
});

test('the lease names the holder from the email, or says someone else when Google does not tell it', () => {
  const named = twoEditors({ danaEmail: 'dana.cohen@example.co.il' });
  named.yossi.select('A2');
  named.yossiAddIn.uploadSelectedRows();
  assert.match(visible(named.yossi.log.alerts[0].prompt), /^Dana Cohen is uploading rows from "Leads" \(started just now\)/);

  const anonymous = twoEditors({ danaEmail: '' });
  anonymous.yossi.select('A2');
  anonymous.yossiAddIn.uploadSelectedRows();
  assert.match(visible(anonymous.yossi.log.alerts[0].prompt), /^Someone else is uploading rows from "Leads"/);
});

test('the same user starting a second job on the tab is told it is their own', () => {
  const { dana, danaAddIn } = twoEditors();
  dana.select('A2:A10');
  danaAddIn.checkSelectedRows();
  assert.match(visible(dana.log.alerts.at(-1).prompt), /^You are already uploading rows from "Leads" \(started just now\), perhaps in another window/);
});

test('two tabs upload at once: a job on one tab does not hold the other', () => {
  const { clock, yossi, yossiAddIn, danaAddIn, job, document } = twoEditors({
    yossiAnswers: [
      answer({ done: false, cursor: 'y1', processed_rows: 150, total_rows: 300, counts: { uploaded: 150 } }),
      answer({ processed_rows: 300, total_rows: 300, counts: { uploaded: 300 } }),
    ],
  });
  yossi.openSheet('לידים חמים').select('A2:A301');
  yossiAddIn.uploadSelectedRows();
  assert.deepEqual(yossi.log.alerts, []);
  assert.deepEqual(yossi.log.requests.map((r) => [r.json.sheet_id, r.json.cursor]), [[7, undefined], [7, 'y1']]);
  assert.equal(yossi.log.toasts.at(-1).message, 'Done: uploaded 300.');
  // Dana's job on Leads went on holding its own tab all along.
  clock.advance(10 * SECOND);
  assert.equal(plain(danaAddIn.heartbeat(job)).held, true);
  assert.equal(JSON.parse(document.documentProperties.getProperty('callmarker.lease.0')).job_id, job.id);
  assert.equal(document.documentProperties.getProperty('callmarker.lease.7'), null, 'Yossi gave his back');
});

test('Dana\'s heartbeat keeps the lease alive through a slow step; Yossi can start once her job is done', () => {
  const { clock, yossi, yossiAddIn, danaAddIn, job } = twoEditors({ yossiAnswers: [answer({ processed_rows: 9, total_rows: 9, counts: { uploaded: 9 } })] });
  for (let beat = 0; beat < 12; beat += 1) {
    clock.advance(20 * SECOND); // the sidebar beats every 20 s while a step runs
    danaAddIn.heartbeat(job);
  }
  yossi.select('A2:A10');
  yossiAddIn.uploadSelectedRows();
  assert.match(visible(yossi.log.alerts[0].prompt), /^Dana is uploading rows from "Leads" \(started 4 minutes ago\)/);

  danaAddIn.stopJob(job, null);
  yossiAddIn.uploadSelectedRows();
  assert.equal(yossi.log.requests.length, 1);
  assert.equal(yossi.log.alerts.length, 1, 'no second message box');
});

test('a lease whose heartbeat stopped a minute ago is taken over only once Yossi confirms, naming Dana', () => {
  const { clock, yossi, yossiAddIn, document, job } = twoEditors({ yossiAnswers: [answer({ processed_rows: 9, total_rows: 9, counts: { uploaded: 9 } })] });
  clock.advance(59 * SECOND);
  yossi.select('A2:A10');
  yossiAddIn.uploadSelectedRows();
  assert.match(visible(yossi.log.alerts[0].prompt), /^Dana is uploading/, 'still alive a moment before a minute');
  assert.equal(yossi.log.alerts[0].buttons, 'OK');

  clock.advance(2 * MINUTE + SECOND);
  yossi.alertAnswers.push('NO');
  yossiAddIn.uploadSelectedRows();
  const question = yossi.log.alerts[1];
  assert.equal(question.title, 'Take over?');
  assert.equal(question.buttons, 'YES_NO');
  assert.equal(visible(question.prompt), 'Dana started uploading rows from "Leads" 3 minutes ago, and that job has not answered for 3 minutes: ' +
    'the sidebar running it was probably closed. Take it over? That job will not go on; the rows it finished keep their status.');
  assert.equal(yossi.log.requests.length, 0, 'no means nothing is sent');
  assert.equal(JSON.parse(document.documentProperties.getProperty('callmarker.lease.0')).job_id, job.id, 'and Dana\'s lease stays');

  yossi.alertAnswers.push('YES');
  yossiAddIn.uploadSelectedRows();
  assert.equal(yossi.log.requests.length, 1);
  assert.equal(yossi.log.toasts.at(-1).message, 'Done: uploaded 9.');
  assert.equal(document.documentProperties.getProperty('callmarker.lease.0'), null, 'Yossi gave his back');
});

test('a job whose lease was taken over stops, and says who took it', () => {
  const { clock, dana, danaAddIn, yossi, yossiAddIn, job } = twoEditors();
  clock.advance(2 * MINUTE);
  yossi.alertAnswers.push('YES');
  yossi.select('A2:A7001'); // large: goes to his sidebar, holding the lease
  yossiAddIn.uploadSelectedRows();
  assert.equal(yossi.log.alerts[0].title, 'Take over?');
  const beat = plain(danaAddIn.heartbeat(job));
  assert.equal(beat.held, false);
  assert.equal(visible(beat.message), 'Yossi took over "Leads", so this job stopped. The rows it finished keep their status.');
  assert.throws(() => danaAddIn.runStep(job), (error) => /^Yossi took over "Leads"/.test(visible(error.message)));
  assert.equal(dana.log.requests.length, 0, 'Dana sent nothing more');
  assert.ok(JSON.parse(yossi.document.documentProperties.getProperty('callmarker.lease.0')).job_id !== job.id);
});

test('a heartbeat that cannot take the document lock is not taken for a lost tab', () => {
  const { dana, danaAddIn, yossi, job } = twoEditors();
  yossi.holdDocumentLock();
  assert.deepEqual(plain(danaAddIn.heartbeat(job)), { held: true, message: '' });
  yossi.releaseDocumentLock();
  assert.deepEqual(dana.log.alerts, []);
});

test('a user who closed their own sidebar starts again on the tab without a question', () => {
  const { clock, dana, danaAddIn } = twoEditors();
  clock.advance(2 * MINUTE);
  dana.select('A2:A7001');
  danaAddIn.uploadSelectedRows();
  assert.deepEqual(dana.log.alerts, []);
  assert.equal(dana.log.sidebars.length, 2, 'the new job went to the sidebar');
});

test('while another execution holds the document lock, a job does not start', () => {
  const document = new FakeDocument();
  const dana = new FakeUser(document, { fetch: scriptedTransport(answersInOrder([])) });
  const yossi = new FakeUser(document, { email: 'yossi@example.com' });
  dana.userProperties.setProperty('callmarker.preferences', NO_CARD);
  const addIn = loadAddIn(dana.globals(), { config: { functionUrl: FUNCTION_URL } });
  document.sheets[0].source = valuesSource(leads(5));
  yossi.holdDocumentLock();
  dana.select('A2');
  addIn.uploadSelectedRows();
  assert.equal(dana.log.requests.length, 0);
  assert.equal(dana.log.alerts[0].prompt, 'Another job is starting on this spreadsheet. Try again in a moment.');
  yossi.releaseDocumentLock();
});

test('the document lock is held only around the lease, never across a call to the function', () => {
  const document = new FakeDocument({ sheets: [{ name: 'Leads', sheetId: 0, source: valuesSource(leads(5)) }] });
  let lockHeldDuringCall = null;
  const dana = new FakeUser(document, {
    fetch: scriptedTransport(() => {
      lockHeldDuringCall = document.lockOwner !== null;
      return answer({ processed_rows: 5, total_rows: 5 });
    }),
  });
  dana.userProperties.setProperty('callmarker.preferences', NO_CARD);
  const addIn = loadAddIn(dana.globals(), { config: { functionUrl: FUNCTION_URL } });
  dana.select('A2:A6');
  addIn.uploadSelectedRows();
  assert.equal(lockHeldDuringCall, false);
  assert.equal(document.lockOwner, null);
  // Taken and given back four times: to take the lease, to beat it before the step, to give it back,
  // and to write the job's row in the log.
  assert.deepEqual(dana.log.locks, ['acquired', 'released', 'acquired', 'released', 'acquired', 'released', 'acquired', 'released']);
});

test('leases work without any window, as a time-driven trigger would use them', () => {
  const clock = createClock();
  const document = new FakeDocument({ sheets: [{ name: 'Leads', sheetId: 3, source: valuesSource(leads(5)) }] });
  const trigger = new FakeUser(document, { email: '' });
  const addIn = loadAddIn(trigger.globals(), { clock, config: { functionUrl: FUNCTION_URL } });
  const request = { sheet_id: 3, sheet_name: 'Leads', job_id: 'nightly-1', action: 'upload', email: 'automation@example.com', lang: 'en', take_over: null };
  const taken = plain(addIn.takeLease_(request));
  assert.equal(taken.stale, null);
  assert.deepEqual(taken.lease, { job_id: 'nightly-1', action: 'upload', email: 'automation@example.com', started_at: clock.now(), heartbeat_at: clock.now() });
  clock.advance(90 * SECOND);
  const other = { ...request, job_id: 'nightly-2', email: 'rivka@example.com' };
  const second = plain(addIn.takeLease_(other));
  assert.equal(second.lease, null, 'a stale lease of someone else is reported, never taken silently');
  assert.equal(second.stale.job_id, 'nightly-1');
  assert.equal(plain(addIn.takeLease_({ ...other, take_over: 'nightly-1' })).lease.job_id, 'nightly-2');
  addIn.releaseLease_(3, 'nightly-2', 'en');
  assert.equal(document.documentProperties.getProperty('callmarker.lease.3'), null);
  assert.deepEqual(trigger.log.alerts, []);
  assert.deepEqual(trigger.log.sidebars, []);
});

test('the verdict on a lease, for every case', () => {
  const { danaAddIn: addIn } = twoEditors();
  const now = 1_000_000;
  const lease = { job_id: 'a', action: 'upload', email: 'dana@example.com', started_at: now - 5 * MINUTE, heartbeat_at: now - 30 * SECOND };
  assert.equal(addIn.leaseVerdict_(null, 'b', 'yossi@example.com', now), 'free');
  assert.equal(addIn.leaseVerdict_(lease, 'a', 'dana@example.com', now), 'free');
  assert.equal(addIn.leaseVerdict_(lease, 'b', 'yossi@example.com', now), 'held');
  assert.equal(addIn.leaseVerdict_(lease, 'b', 'dana@example.com', now), 'own');
  assert.equal(addIn.leaseVerdict_({ ...lease, heartbeat_at: now - 60 * SECOND }, 'b', 'yossi@example.com', now), 'stale');
  assert.equal(addIn.leaseVerdict_({ ...lease, heartbeat_at: now - 60 * SECOND + 1 }, 'b', 'yossi@example.com', now), 'held');
});
