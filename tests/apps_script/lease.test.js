'use strict';
// Two editors, one spreadsheet: one job at a time, the second user told who holds it, stale leases expire.

const test = require('node:test');
const assert = require('node:assert/strict');
const { loadAddIn, answer, leads, FUNCTION_URL } = require('./addin');
const { FakeDocument, FakeUser, valuesSource, scriptedTransport, answersInOrder, createClock } = require('./fakes');

const MINUTE = 60 * 1000;

/** Dana starts a large job (it goes to the sidebar and holds the lease); Yossi is on the same spreadsheet. */
function twoEditors({ yossiAnswers = [], danaEmail = 'dana@example.com' } = {}) {
  const clock = createClock();
  const document = new FakeDocument({ id: 'shared-sheet', sheets: [{ name: 'Leads', sheetId: 0, source: valuesSource(leads(8000)) }] });
  const dana = new FakeUser(document, { email: danaEmail, fetch: scriptedTransport(answersInOrder([answer({ done: false, cursor: 'c1', processed_rows: 100, total_rows: 7000 })])) });
  const yossi = new FakeUser(document, { email: 'yossi@example.com', fetch: scriptedTransport(answersInOrder(yossiAnswers)) });
  const config = { functionUrl: FUNCTION_URL };
  const danaAddIn = loadAddIn(dana.globals(), { clock, config });
  const yossiAddIn = loadAddIn(yossi.globals(), { clock, config });
  dana.select('A2:A7001');
  danaAddIn.uploadSelectedRows();
  const job = JSON.parse(/id="state">([\s\S]*?)<\/script>/.exec(dana.log.sidebars[0].getContent())[1]).job;
  return { clock, document, dana, yossi, danaAddIn, yossiAddIn, job };
}

test('while Dana uploads, Yossi is told who is uploading and since when, and nothing is sent', () => {
  const { clock, yossi, yossiAddIn } = twoEditors();
  clock.advance(2 * MINUTE + 5000);
  yossi.select('A2:A10');
  yossiAddIn.uploadSelectedRows();
  assert.equal(yossi.log.requests.length, 0);
  assert.equal(yossi.log.alerts[0].prompt, 'Dana is uploading rows from this sheet (started 2 minutes ago). Try again when it finishes.');
});

test('the lease names the holder from the email, or says someone else when Google does not tell it', () => {
  const named = twoEditors({ danaEmail: 'dana.cohen@example.co.il' });
  named.yossi.select('A2');
  named.yossiAddIn.uploadSelectedRows();
  assert.match(named.yossi.log.alerts[0].prompt, /^Dana Cohen is uploading rows from this sheet \(started just now\)/);

  const anonymous = twoEditors({ danaEmail: '' });
  anonymous.yossi.select('A2');
  anonymous.yossiAddIn.uploadSelectedRows();
  assert.match(anonymous.yossi.log.alerts[0].prompt, /^Someone else is uploading rows from this sheet/);
});

test('the same user starting a second job is told it is their own', () => {
  const { dana, danaAddIn } = twoEditors();
  dana.select('A2:A10');
  danaAddIn.checkSelectedRows();
  assert.match(dana.log.alerts.at(-1).prompt, /^You are already uploading rows from this sheet \(started just now\), perhaps in another window/);
});

test('Dana\'s steps keep the lease alive; Yossi can start once her job is done', () => {
  const { clock, yossi, yossiAddIn, danaAddIn, job } = twoEditors({ yossiAnswers: [answer({ processed_rows: 9, total_rows: 9, counts: { uploaded: 9 } })] });
  clock.advance(4 * MINUTE);
  danaAddIn.runStep(job); // renews: 5 more minutes from now
  clock.advance(4 * MINUTE);
  yossi.select('A2:A10');
  yossiAddIn.uploadSelectedRows();
  assert.match(yossi.log.alerts[0].prompt, /^Dana is uploading rows from this sheet \(started 8 minutes ago\)/);

  danaAddIn.stopJob(job, null);
  yossiAddIn.uploadSelectedRows();
  assert.equal(yossi.log.requests.length, 1);
  assert.equal(yossi.log.alerts.length, 1, 'no second message box');
});

test('a lease left behind (sidebar closed) expires, and then another user can start', () => {
  const { clock, yossi, yossiAddIn, document } = twoEditors({ yossiAnswers: [answer({ processed_rows: 9, total_rows: 9 })] });
  clock.advance(5 * MINUTE - 1);
  yossi.select('A2:A10');
  yossiAddIn.uploadSelectedRows();
  assert.equal(yossi.log.requests.length, 0, 'still held a moment before it expires');
  clock.advance(1);
  yossiAddIn.uploadSelectedRows();
  assert.equal(yossi.log.requests.length, 1);
  assert.equal(document.documentProperties.getProperty('callmarker.lease'), null, 'Yossi gave his back');
});

test('a job whose lease was taken over after it expired is not continued', () => {
  const { clock, dana, danaAddIn, yossi, yossiAddIn, job } = twoEditors();
  clock.advance(6 * MINUTE);
  // Yossi's large job takes the expired lease and holds it.
  yossi.select('A2:A7001');
  yossiAddIn.uploadSelectedRows();
  assert.equal(yossi.log.alerts.length, 0);
  assert.throws(() => danaAddIn.runStep(job), /Yossi is uploading rows from this sheet/);
  assert.equal(dana.log.requests.length, 0, 'Dana sent nothing more');
});

test('while another execution holds the document lock, a job does not start', () => {
  const document = new FakeDocument();
  const dana = new FakeUser(document, { fetch: scriptedTransport(answersInOrder([])) });
  const yossi = new FakeUser(document, { email: 'yossi@example.com' });
  const addIn = loadAddIn(dana.globals(), { config: { functionUrl: FUNCTION_URL } });
  document.sheets[0].source = valuesSource(leads(5));
  yossi.holdDocumentLock();
  dana.select('A2');
  addIn.uploadSelectedRows();
  assert.equal(dana.log.requests.length, 0);
  assert.equal(dana.log.alerts[0].prompt, 'Another upload is starting on this spreadsheet. Try again in a moment.');
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
  const addIn = loadAddIn(dana.globals(), { config: { functionUrl: FUNCTION_URL } });
  dana.select('A2:A6');
  addIn.uploadSelectedRows();
  assert.equal(lockHeldDuringCall, false);
  assert.equal(document.lockOwner, null);
  // Taken and given back three times: to take the lease, to renew it before the step, to give it back.
  assert.deepEqual(dana.log.locks, ['acquired', 'released', 'acquired', 'released', 'acquired', 'released']);
});
