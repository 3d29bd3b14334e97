'use strict';
// A job from the menu and from the sidebar: steps, cursors, progress, the handover, stop and retry.

const test = require('node:test');
const assert = require('node:assert/strict');
const { scenario, answer, failure, plain } = require('./addin');
const { createClock } = require('./fakes');

const MINUTE = 60 * 1000;

/** Steps of a 20,000-row job: 5,000 rows a step, cumulative counts, opaque cursors. */
function twentyThousandRowSteps() {
  const cursors = ['eyJvZmZzZXQiOjUwMDB9', 'a/b+c=d 2', 'ставка#3'];
  return [1, 2, 3, 4].map((step) => answer({
    done: step === 4,
    cursor: step === 4 ? null : cursors[step - 1],
    total_rows: 20000,
    processed_rows: step * 5000,
    counts: { uploaded: step * 5000 - step, invalid: step },
    errors: step === 4 ? [{ row: 7, column: 'Phone', message: 'not a phone number: 12' }] : [],
    retry_rows: step === 4 ? [[7, 7], [9001, 9002]] : [],
    message: step === 4 ? 'Uploaded 19,996 rows; 4 rows need attention.' : '',
  }));
}

test('a menu job calls again with each cursor, untouched, and shows progress after each step', () => {
  const { user, addIn, document } = scenario({ dataRows: 4000, answers: twentyThousandRowSteps() });
  user.select('A:A');
  addIn.uploadPendingRows();
  const bodies = user.log.requests.map((r) => r.json);
  assert.equal(bodies.length, 4);
  assert.deepEqual(bodies.map((b) => b.cursor), [undefined, 'eyJvZmZzZXQiOjUwMDB9', 'a/b+c=d 2', 'ставка#3']);
  assert.ok(bodies.every((b) => b.mode === 'pending' && !('rows' in b)), 'pending jobs name no rows');
  assert.deepEqual(user.log.toasts.map((t) => t.message), [
    'Uploaded 5,000 of 20,000 rows…',
    'Uploaded 10,000 of 20,000 rows…',
    'Uploaded 15,000 of 20,000 rows…',
    'Done: 19,996 uploaded, 4 invalid.',
  ]);
  assert.equal(document.documentProperties.getProperty('callmarker.lease'), null, 'the lease is given back');
  assert.deepEqual(user.log.alerts, []);
});

test('at the end the summary opens with the counts, the first errors and the rows to retry', () => {
  const { user, addIn } = scenario({ dataRows: 4000, answers: twentyThousandRowSteps() });
  addIn.uploadPendingRows();
  assert.equal(user.log.sidebars.length, 1);
  const state = JSON.parse(/id="state">([\s\S]*?)<\/script>/.exec(user.log.sidebars[0].getContent())[1]);
  assert.equal(state.view, 'summary');
  assert.equal(state.summary, 'Done: 19,996 uploaded, 4 invalid.');
  assert.equal(state.progress, 'Uploaded 20,000 of 20,000 rows.');
  assert.deepEqual(state.answer.errors, [{ row: 7, column: 'Phone', message: 'not a phone number: 12' }]);
  assert.deepEqual(state.answer.retry_rows, [[7, 7], [9001, 9002]]);
});

test('check and remove are worded as what they do', () => {
  const { user, addIn } = scenario({ answers: [answer({ done: false, cursor: 'x', processed_rows: 2, total_rows: 4 }), answer({ processed_rows: 4, total_rows: 4, counts: { valid: 3, invalid: 1 } })] });
  user.select('A2:A5');
  addIn.checkSelectedRows();
  assert.equal(user.log.requests[0].json.action, 'check');
  assert.deepEqual(user.log.toasts.map((t) => t.message), ['Checked 2 of 4 rows…', 'Done: 3 valid, 1 invalid.']);
});

test('counts the function adds for an action are shown too, and nonsense counts are not', () => {
  const { user, addIn } = scenario({ answers: [answer({ processed_rows: 4, total_rows: 4, counts: { removed: 3, failed: 1, later_outcome: 2, bogus: 'many' } })] });
  addIn.saveSettings({ campaign: '11' });
  user.select('A2:A5');
  addIn.removeSelectedRows();
  assert.deepEqual(user.log.toasts.map((t) => t.message), ['Done: 3 removed, 1 failed, 2 later_outcome.']);
});

test('remove asks first, needs a campaign, and sends nothing when the user says no', () => {
  const noCampaign = scenario();
  noCampaign.user.select('A2:A5');
  noCampaign.addIn.removeSelectedRows();
  assert.match(noCampaign.user.log.alerts[0].prompt, /Set the campaign to remove the rows from/);
  assert.equal(noCampaign.user.log.requests.length, 0);

  const declined = scenario();
  declined.addIn.saveSettings({ campaign: '11' });
  declined.user.select('A2:A5');
  declined.user.alertAnswers.push('NO');
  declined.addIn.removeSelectedRows();
  assert.equal(declined.user.log.alerts[0].prompt, 'Remove the customers of 4 selected rows from campaign 11?');
  assert.equal(declined.user.log.alerts[0].buttons, 'YES_NO');
  assert.equal(declined.user.log.requests.length, 0);
  assert.equal(declined.document.documentProperties.getProperty('callmarker.lease'), null);

  const confirmed = scenario({ answers: [answer({ processed_rows: 4, total_rows: 4, counts: { uploaded: 4 } })] });
  confirmed.addIn.saveSettings({ campaign: '11' });
  confirmed.user.select('A2:A5');
  confirmed.addIn.removeSelectedRows();
  assert.equal(confirmed.user.log.requests[0].json.action, 'remove');
  assert.equal(confirmed.user.log.requests[0].json.options.campaign, '11');
});

test('a menu job hands over to the sidebar once it has run 4.5 minutes, keeping the lease', () => {
  const clock = createClock();
  const steps = twentyThousandRowSteps().map((step) => () => {
    clock.advance(100 * 1000); // each step takes 100 s
    return step;
  });
  const { user, addIn, document } = scenario({ dataRows: 4000, answers: steps, clock });
  user.select('A2:A4001');
  addIn.uploadSelectedRows();
  // 100 s, 200 s: go on; 300 s >= 270 s: hand over after the third answer.
  assert.equal(user.log.requests.length, 3);
  assert.equal(user.log.sidebars.length, 1);
  const state = JSON.parse(/id="state">([\s\S]*?)<\/script>/.exec(user.log.sidebars[0].getContent())[1]);
  assert.equal(state.view, 'progress');
  assert.equal(state.job.cursor, 'ставка#3');
  assert.equal(state.progress, 'Uploaded 15,000 of 20,000 rows…');
  const lease = JSON.parse(document.documentProperties.getProperty('callmarker.lease'));
  assert.equal(lease.job_id, state.job.id, 'the sidebar goes on under the same lease');

  // The sidebar then takes the last step.
  const result = plain(addIn.runStep(state.job));
  assert.equal(user.log.requests[3].json.cursor, 'ставка#3');
  assert.equal(result.answer.done, true);
  assert.equal(result.summary, 'Done: 19,996 uploaded, 4 invalid.');
  assert.equal(document.documentProperties.getProperty('callmarker.lease'), null);
});

test('a menu job that finishes before 4.5 minutes never opens the progress sidebar', () => {
  const clock = createClock();
  const steps = twentyThousandRowSteps().map((step) => () => {
    clock.advance(60 * 1000);
    return step;
  });
  const { user, addIn } = scenario({ dataRows: 4000, answers: steps, clock });
  user.select('A2:A4001');
  addIn.uploadSelectedRows();
  assert.equal(user.log.requests.length, 4);
  assert.equal(user.log.sidebars.length, 1);
  assert.match(user.log.sidebars[0].getContent(), /"view":"summary"/);
});

test('a selection of more than 5,000 rows starts in the sidebar before any call', () => {
  const { user, addIn, document } = scenario({ dataRows: 6000 });
  user.select('A2:A5001', 'A5002:A5002');
  addIn.uploadSelectedRows();
  assert.equal(user.log.requests.length, 0);
  const state = JSON.parse(/id="state">([\s\S]*?)<\/script>/.exec(user.log.sidebars[0].getContent())[1]);
  assert.equal(state.view, 'progress');
  assert.deepEqual(state.job.rows, [[2, 5002]]);
  assert.equal(state.job.title, 'Uploading 5,001 selected rows of "Leads"');
  assert.ok(document.documentProperties.getProperty('callmarker.lease'));
});

test('runStep renews the lease; stopJob gives it back and says how far the job got', () => {
  const clock = createClock();
  const { user, addIn, document } = scenario({ dataRows: 6000, clock, answers: twentyThousandRowSteps() });
  user.select('A2:A6001');
  addIn.uploadSelectedRows();
  const job = JSON.parse(/id="state">([\s\S]*?)<\/script>/.exec(user.log.sidebars[0].getContent())[1]).job;
  const expiry = () => JSON.parse(document.documentProperties.getProperty('callmarker.lease')).expires_at;
  const before = expiry();
  clock.advance(2 * MINUTE);
  const first = plain(addIn.runStep(job));
  assert.equal(expiry(), before + 2 * MINUTE, 'renewed');
  assert.equal(first.progress, 'Uploaded 5,000 of 20,000 rows…');
  const second = plain(addIn.runStep(first.job));
  assert.equal(user.log.requests[1].json.cursor, 'eyJvZmZzZXQiOjUwMDB9');
  const text = addIn.stopJob(second.job, second.answer);
  assert.equal(text, 'Stopped. Uploaded 10,000 of 20,000 rows; the rest were left as they are.');
  assert.equal(document.documentProperties.getProperty('callmarker.lease'), null);
  assert.equal(addIn.stopJob(job, null), 'Stopped before any row was sent.');
});

test('a failed step from the sidebar gives the lease back and explains itself', () => {
  const { user, addIn, document } = scenario({ dataRows: 6000, answers: [failure(502, 'CallMarker did not answer')] });
  user.select('A2:A6001');
  addIn.uploadSelectedRows();
  const job = JSON.parse(/id="state">([\s\S]*?)<\/script>/.exec(user.log.sidebars[0].getContent())[1]).job;
  assert.throws(() => addIn.runStep(job), (error) => /^CallMarker could not be reached/.test(error.message));
  assert.equal(document.documentProperties.getProperty('callmarker.lease'), null);
});

test('the sidebar cannot drive a job of another spreadsheet', () => {
  const { addIn } = scenario();
  assert.throws(() => addIn.runStep({ id: 'x', action: 'upload', spreadsheet_id: 'someone-elses', cursor: null }),
    /does not belong to this spreadsheet/);
  assert.throws(() => addIn.runStep(null), /does not belong to this spreadsheet/);
});

test('an answer that is not done but has no cursor stops the job instead of starting it over', () => {
  const { user, addIn } = scenario({ answers: [answer({ done: false, cursor: null, processed_rows: 1, total_rows: 3 })] });
  user.select('A2:A4');
  addIn.uploadSelectedRows();
  assert.equal(user.log.requests.length, 1);
  assert.match(user.log.alerts[0].prompt, /stopped without saying where to go on/);
});

test('Retry failed rows starts a new job of the same action on those rows', () => {
  const { user, addIn, document } = scenario({ dataRows: 4000, answers: [...twentyThousandRowSteps(), answer({ processed_rows: 3, total_rows: 3, counts: { uploaded: 3 } })] });
  user.select('A2:A4001');
  addIn.checkSelectedRows();
  const state = JSON.parse(/id="state">([\s\S]*?)<\/script>/.exec(user.log.sidebars[0].getContent())[1]);
  const retry = plain(addIn.retryRows(state.job, state.answer.retry_rows));
  assert.equal(retry.job.action, 'check');
  assert.deepEqual(retry.job.rows, [[7, 7], [9001, 9002]]);
  assert.notEqual(retry.job.id, state.job.id);
  assert.equal(JSON.parse(document.documentProperties.getProperty('callmarker.lease')).job_id, retry.job.id);
  const result = plain(addIn.runStep(retry.job));
  assert.deepEqual(user.log.requests[4].json.rows, [[7, 7], [9001, 9002]]);
  assert.ok(!('cursor' in user.log.requests[4].json));
  assert.equal(result.answer.done, true);
});

test('Retry refuses rows that are not rows', () => {
  const { user, addIn } = scenario({ answers: [answer()] });
  user.select('A2');
  addIn.uploadSelectedRows();
  const job = JSON.parse(/id="state">([\s\S]*?)<\/script>/.exec(user.log.sidebars[0].getContent())[1]).job;
  assert.throws(() => addIn.retryRows(job, 'all'), /There are no rows to retry/);
  assert.throws(() => addIn.retryRows(job, [[1, 1]]), /no rows to retry below the header row/);
  assert.throws(() => addIn.retryRows(job, [[2, 'x']]), /There are no rows to retry/);
});
