'use strict';
// A job from the menu and from the sidebar: steps, cursors, progress by outcome, the handover, stop and retry.

const test = require('node:test');
const assert = require('node:assert/strict');
const { noCard, answer, failure, plain, sidebarState, visible } = require('./addin');
const { createClock } = require('./fakes');

const MINUTE = 60 * 1000;
const LEASE = 'callmarker.lease.1204';

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

test('a menu job calls again with each cursor, untouched, and shows progress by outcome after each step', () => {
  const { user, addIn, document } = noCard({ dataRows: 4000, answers: twentyThousandRowSteps() });
  user.select('A:A');
  addIn.uploadPendingRows();
  const bodies = user.log.requests.map((r) => r.json);
  assert.equal(bodies.length, 4);
  assert.deepEqual(bodies.map((b) => b.cursor), [undefined, 'eyJvZmZzZXQiOjUwMDB9', 'a/b+c=d 2', 'ставка#3']);
  assert.ok(bodies.every((b) => b.mode === 'pending' && !('rows' in b)), 'pending jobs name no rows');
  assert.deepEqual(user.log.toasts.map((t) => t.message), [
    'Uploaded 4,999 · invalid 1 of 20,000…',
    'Uploaded 9,998 · invalid 2 of 20,000…',
    'Uploaded 14,997 · invalid 3 of 20,000…',
    'Done: uploaded 19,996 · invalid 4.',
  ]);
  assert.equal(document.documentProperties.getProperty(LEASE), null, 'the lease is given back');
  assert.deepEqual(user.log.alerts, []);
});

test('progress never counts invalid or failed rows as uploaded', () => {
  const { user, addIn } = noCard({ dataRows: 100, answers: [
    answer({ done: false, cursor: 'c', total_rows: 30000, processed_rows: 15000, counts: { uploaded: 14560, invalid: 24, failed: 416 } }),
    answer({ total_rows: 30000, processed_rows: 30000, counts: { uploaded: 29120, invalid: 47, failed: 833 }, retry_rows: [[5, 5]] }),
  ] });
  user.select('A2:A30');
  addIn.uploadSelectedRows();
  assert.equal(user.log.toasts[0].message, 'Uploaded 14,560 · invalid 24 · failed 416 of 30,000…');
  const state = sidebarState(user.log.sidebars[0]);
  assert.equal(state.answer_view.progress, 'Uploaded 29,120 · invalid 47 · failed 833 of 30,000.');
  assert.equal(state.answer_view.summary, 'Done: uploaded 29,120 · invalid 47 · failed 833.');
});

test('rows "all pending rows" left alone are counted in the summary, never in "… of" the job\'s rows', () => {
  const { user, addIn } = noCard({ answers: [
    answer({ done: false, cursor: 'c', total_rows: 40, processed_rows: 20, counts: { uploaded: 19, invalid: 1, skipped: 860 } }),
    answer({ total_rows: 40, processed_rows: 40, counts: { uploaded: 38, invalid: 2, skipped: 860 } }),
  ] });
  addIn.uploadPendingRows();
  assert.deepEqual(user.log.toasts.map((t) => t.message), ['Uploaded 19 · invalid 1 of 40…', 'Done: uploaded 38 · invalid 2 · skipped 860.']);
  const view = sidebarState(user.log.sidebars[0]).answer_view;
  assert.equal(view.progress, 'Uploaded 38 · invalid 2 of 40.');
  assert.deepEqual(view.counts.map((c) => [c.label, c.count, c.tone]), [['Uploaded', '38', 'good'], ['Invalid', '2', 'bad'], ['Skipped', '860', 'neutral']]);
});

test('rows CallMarker took without confirming them are counted as sent, apart from uploaded, and amber', () => {
  const { user, addIn } = noCard({ answers: [answer({ total_rows: 10, processed_rows: 10, counts: { uploaded: 6, sent: 3, failed: 1 } })] });
  user.select('A2:A11');
  addIn.uploadSelectedRows();
  const view = sidebarState(user.log.sidebars[0]).answer_view;
  assert.equal(view.progress, 'Uploaded 6 · sent (unconfirmed) 3 · failed 1 of 10.');
  assert.deepEqual(view.counts.map((c) => [c.name, c.label, c.count, c.tone]), [
    ['uploaded', 'Uploaded', '6', 'good'], ['sent', 'Sent (unconfirmed)', '3', 'unsure'], ['failed', 'Failed', '1', 'unsure'],
  ]);
});

test('the same counts in Hebrew: the order and the numbers stay, the words are Hebrew', () => {
  const { user, addIn } = noCard({ locale: 'iw', answers: [answer({ total_rows: 30000, processed_rows: 30000, counts: { uploaded: 29120, invalid: 47, failed: 833 } })] });
  user.select('A2:A11');
  addIn.uploadSelectedRows();
  assert.equal(user.log.toasts[0].message, 'הסתיים: הועלו 29,120 · לא תקינות 47 · נכשלו 833.');
  const view = sidebarState(user.log.sidebars[0]).answer_view;
  assert.equal(view.progress, 'הועלו 29,120 · לא תקינות 47 · נכשלו 833 מתוך 30,000.');
});

test('at the end the summary opens with the counts, the first errors and the rows to retry', () => {
  const { user, addIn } = noCard({ dataRows: 4000, answers: twentyThousandRowSteps() });
  addIn.uploadPendingRows();
  assert.equal(user.log.sidebars.length, 1);
  const state = sidebarState(user.log.sidebars[0]);
  assert.equal(state.view, 'summary');
  assert.equal(state.answer_view.summary, 'Done: uploaded 19,996 · invalid 4.');
  assert.equal(state.answer_view.progress, 'Uploaded 19,996 · invalid 4 of 20,000.');
  assert.equal(state.answer_view.title, 'Upload ended: all pending rows of "\u2068Leads\u2069"');
  assert.deepEqual(state.answer_view.errors.map((e) => visible(e.text)), ['Row 7 · Phone: not a phone number: 12']);
  assert.deepEqual(state.answer.retry_rows, [[7, 7], [9001, 9002]]);
  assert.equal(state.answer_view.retry_label, 'Retry failed rows (3)');
});

test('check and remove are worded as what they do', () => {
  const { user, addIn } = noCard({ answers: [answer({ done: false, cursor: 'x', processed_rows: 2, total_rows: 4, counts: { valid: 2 } }), answer({ processed_rows: 4, total_rows: 4, counts: { valid: 3, invalid: 1 } })] });
  user.select('A2:A5');
  addIn.checkSelectedRows();
  assert.equal(user.log.requests[0].json.action, 'check');
  assert.deepEqual(user.log.toasts.map((t) => t.message), ['Valid 2 of 4…', 'Done: valid 3 · invalid 1.']);
});

test('counts the function adds for an action are shown too, and nonsense counts are not', () => {
  const { user, addIn } = noCard({ answers: [answer({ processed_rows: 4, total_rows: 4, counts: { removed: 3, failed: 1, later_outcome: 2, bogus: 'many' } })] });
  addIn.saveSettings({ campaign: '11' });
  user.alertAnswers.push('YES');
  user.select('A2:A5');
  addIn.removeSelectedRows();
  assert.deepEqual(user.log.toasts.map((t) => t.message), ['Done: removed 3 · failed 1 · later_outcome 2.']);
});

test('remove without the card asks first, needs a campaign, and sends nothing when the user says no', () => {
  const noCampaign = noCard();
  noCampaign.user.select('A2:A5');
  noCampaign.addIn.removeSelectedRows();
  assert.match(noCampaign.user.log.alerts[0].prompt, /Set the campaign to remove the rows from/);
  assert.equal(noCampaign.user.log.requests.length, 0);

  const declined = noCard();
  declined.addIn.saveSettings({ campaign: '11', campaign_name: 'Summer leads' });
  declined.user.select('A2:A5');
  declined.user.alertAnswers.push('NO');
  declined.addIn.removeSelectedRows();
  assert.equal(visible(declined.user.log.alerts[0].prompt), 'Remove the customers of 4 selected rows from campaign Summer leads (11)?');
  assert.equal(declined.user.log.alerts[0].buttons, 'YES_NO');
  assert.equal(declined.user.log.requests.length, 0);
  assert.equal(declined.document.documentProperties.getProperty(LEASE), null);

  const confirmed = noCard({ answers: [answer({ processed_rows: 4, total_rows: 4, counts: { removed: 4 } })] });
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
  const { user, addIn, document } = noCard({ dataRows: 4000, answers: steps, clock });
  user.select('A2:A4001');
  addIn.uploadSelectedRows();
  // 100 s, 200 s: go on; 300 s >= 270 s: hand over after the third answer.
  assert.equal(user.log.requests.length, 3);
  assert.equal(user.log.sidebars.length, 1);
  const state = sidebarState(user.log.sidebars[0]);
  assert.equal(state.view, 'progress');
  assert.equal(state.job.cursor, 'ставка#3');
  assert.equal(state.answer_view.progress, 'Uploaded 14,997 · invalid 3 of 20,000…');
  const lease = JSON.parse(document.documentProperties.getProperty(LEASE));
  assert.equal(lease.job_id, state.job.id, 'the sidebar goes on under the same lease');
  assert.equal(lease.action, 'upload');

  // The sidebar then takes the last step.
  const result = plain(addIn.runStep(state.job));
  assert.equal(user.log.requests[3].json.cursor, 'ставка#3');
  assert.equal(result.answer.done, true);
  assert.equal(result.view.summary, 'Done: uploaded 19,996 · invalid 4.');
  assert.equal(document.documentProperties.getProperty(LEASE), null);
});

test('a menu job that finishes before 4.5 minutes never opens the progress sidebar', () => {
  const clock = createClock();
  const steps = twentyThousandRowSteps().map((step) => () => {
    clock.advance(60 * 1000);
    return step;
  });
  const { user, addIn } = noCard({ dataRows: 4000, answers: steps, clock });
  user.select('A2:A4001');
  addIn.uploadSelectedRows();
  assert.equal(user.log.requests.length, 4);
  assert.equal(user.log.sidebars.length, 1);
  assert.equal(sidebarState(user.log.sidebars[0]).view, 'summary');
});

test('a selection of more than 5,000 rows starts in the sidebar before any call', () => {
  const { user, addIn, document } = noCard({ dataRows: 6000 });
  user.select('A2:A5001', 'A5002:A5002');
  addIn.uploadSelectedRows();
  assert.equal(user.log.requests.length, 0);
  const state = sidebarState(user.log.sidebars[0]);
  assert.equal(state.view, 'progress');
  assert.deepEqual(state.job.rows, [[2, 5002]]);
  assert.equal(visible(state.job.title), 'Uploading 5,001 selected rows of "Leads"');
  assert.ok(document.documentProperties.getProperty(LEASE));
});

test('runStep beats the lease; stopJob gives it back and says how far the job got', () => {
  const clock = createClock();
  const { user, addIn, document } = noCard({ dataRows: 6000, clock, answers: twentyThousandRowSteps() });
  user.select('A2:A6001');
  addIn.uploadSelectedRows();
  const job = sidebarState(user.log.sidebars[0]).job;
  const heartbeat = () => JSON.parse(document.documentProperties.getProperty(LEASE)).heartbeat_at;
  const before = heartbeat();
  clock.advance(2 * MINUTE);
  const first = plain(addIn.runStep(job));
  assert.equal(heartbeat(), before + 2 * MINUTE, 'beaten');
  assert.equal(first.view.progress, 'Uploaded 4,999 · invalid 1 of 20,000…');
  const second = plain(addIn.runStep(first.job));
  assert.equal(user.log.requests[1].json.cursor, 'eyJvZmZzZXQiOjUwMDB9');
  const text = addIn.stopJob(second.job, second.answer);
  assert.equal(text, 'Stopped: uploaded 9,998 · invalid 2 of 20,000. The rest were left as they are.');
  assert.equal(document.documentProperties.getProperty(LEASE), null);
  assert.equal(addIn.stopJob(job, null), 'Stopped before any row was sent.');
});

test('a failed step from the sidebar gives the lease back and explains itself', () => {
  const { user, addIn, document } = noCard({ dataRows: 6000, answers: [failure(502, 'CallMarker did not answer')] });
  user.select('A2:A6001');
  addIn.uploadSelectedRows();
  const job = sidebarState(user.log.sidebars[0]).job;
  assert.throws(() => addIn.runStep(job), (error) => /^CallMarker could not be reached/.test(error.message));
  assert.equal(document.documentProperties.getProperty(LEASE), null);
});

test('the sidebar cannot drive a job of another spreadsheet', () => {
  const { addIn } = noCard();
  assert.throws(() => addIn.runStep({ id: 'x', action: 'upload', spreadsheet_id: 'someone-elses', sheet_id: 1204, cursor: null }),
    /does not belong to this spreadsheet/);
  assert.throws(() => addIn.runStep(null), /does not belong to this spreadsheet/);
  assert.throws(() => addIn.heartbeat({ id: 'x', action: 'drop', spreadsheet_id: 'sheet-abc123', sheet_id: 1204 }), /does not belong/);
});

test('an answer that is not done but has no cursor stops the job instead of starting it over', () => {
  const { user, addIn } = noCard({ answers: [answer({ done: false, cursor: null, processed_rows: 1, total_rows: 3 })] });
  user.select('A2:A4');
  addIn.uploadSelectedRows();
  assert.equal(user.log.requests.length, 1);
  assert.match(user.log.alerts[0].prompt, /stopped without saying where to go on/);
});

test('Retry failed rows starts a new job of the same action on those rows', () => {
  const { user, addIn, document } = noCard({ dataRows: 4000, answers: [...twentyThousandRowSteps(), answer({ processed_rows: 3, total_rows: 3, counts: { valid: 3 } })] });
  user.select('A2:A4001');
  addIn.checkSelectedRows();
  const state = sidebarState(user.log.sidebars[0]);
  const retry = plain(addIn.retryRows(state.job, state.answer.retry_rows));
  assert.equal(retry.job.action, 'check');
  assert.equal(retry.card, null, 'a check shows no card');
  assert.equal(retry.confirm, null);
  assert.deepEqual(retry.job.rows, [[7, 7], [9001, 9002]]);
  assert.notEqual(retry.job.id, state.job.id);
  assert.equal(JSON.parse(document.documentProperties.getProperty(LEASE)).job_id, retry.job.id);
  const result = plain(addIn.runStep(retry.job));
  assert.deepEqual(user.log.requests[4].json.rows, [[7, 7], [9001, 9002]]);
  assert.ok(!('cursor' in user.log.requests[4].json));
  assert.equal(result.answer.done, true);
});

test('Retry refuses rows that are not rows', () => {
  const { user, addIn } = noCard({ answers: [answer()] });
  user.select('A2');
  addIn.uploadSelectedRows();
  const job = sidebarState(user.log.sidebars[0]).job;
  assert.throws(() => addIn.retryRows(job, 'all'), /There are no rows to retry/);
  assert.throws(() => addIn.retryRows(job, [[1, 1]]), /no rows to retry below the header row/);
  assert.throws(() => addIn.retryRows(job, [[2, 'x']]), /There are no rows to retry/);
});
