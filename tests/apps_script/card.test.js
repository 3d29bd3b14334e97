'use strict';
// The pre-flight card: before every upload or removal, what the function's preview says would happen,
// and nothing sent until Send; skipped for jobs up to the size the user chose.

const test = require('node:test');
const assert = require('node:assert/strict');
const { scenario, answer, preview, failure, plain, sidebarState, visible } = require('./addin');
const { createClock } = require('./fakes');

const LEASE = 'callmarker.lease.1204';

/** The preview of 20 selected rows: 17 to send, 3 invalid, a column CallMarker has no field for. */
function twentyRowPreview(fields = {}) {
  return preview({
    total_rows: 20, to_send: 17, invalid: 3,
    columns: [
      { column: 'Name', field: 'name', label: 'Name' },
      { column: 'Phone', field: 'number', label: 'Phone number' },
      { column: 'Email', field: 'email', label: 'Email' },
    ],
    unmapped_columns: ['Lead score', 'ציון'],
    options: [
      { name: 'campaign', label: 'Campaign', value: '11', text: '11' },
      { name: 'status', label: 'Status', value: 12, text: 'Follow Up' },
      { name: 'override', label: 'Update existing customers', value: true, text: 'Yes' },
    ],
    errors: [
      { row: 4, column: 'Phone', message: 'not a phone number: 12' },
      { row: 9, column: null, message: 'the row is empty but for a note' },
    ],
    ...fields,
  });
}

function cardOf(user) {
  const state = sidebarState(user.log.sidebars.at(-1));
  assert.equal(state.view, 'preflight');
  return { state, card: state.card };
}

test('Upload selected rows shows the card from the function\'s preview, and sends nothing else', () => {
  const { user, addIn, document } = scenario({ answers: [twentyRowPreview()] });
  addIn.saveSettings({ campaign: '11', campaign_name: 'Summer leads', status: '12', override: true });
  user.select('A2:A21');
  addIn.uploadSelectedRows();
  assert.deepEqual(user.log.alerts, []);
  assert.equal(user.log.requests.length, 1);
  assert.deepEqual(user.log.requests[0].json, {
    spreadsheet_id: 'sheet-abc123', sheet_id: 1204, mode: 'selected', action: 'preview', preview_action: 'upload',
    rows: [[2, 21]], options: { campaign: '11', override: true, status: 12 }, lang: 'en',
  });
  assert.equal(document.documentProperties.getProperty(LEASE), null, 'no lease until Send');
  const { card } = cardOf(user);
  assert.equal(visible(card.title), 'Upload 20 selected rows of "Leads"?');
  assert.deepEqual(card.facts.map((f) => [f.label, f.count, f.tone]), [['Rows to upload', '17', 'good'], ['Invalid, will not be sent', '3', 'bad']]);
  assert.deepEqual(card.options.map((o) => [o.label, visible(o.text)]), [
    ['Campaign', 'Summer leads (11)'], ['Status', 'Follow Up'], ['Update existing customers', 'Yes'],
  ]);
  assert.deepEqual(card.columns, [{ column: 'Name', label: 'Name' }, { column: 'Phone', label: 'Phone number' }, { column: 'Email', label: 'Email' }]);
  assert.equal(visible(card.unmapped), 'Not sent, CallMarker has no field for them: Lead score, ציון.');
  assert.deepEqual(card.errors.map((e) => [e.row, e.column, visible(e.text)]), [
    [4, 'Phone', 'Row 4 · Phone: not a phone number: 12'], [9, null, 'Row 9: the row is empty but for a note'],
  ]);
  assert.equal(card.send_label, 'Upload 17 rows');
  assert.equal(card.can_send, true);
});

test('Send takes the tab and the job runs in the sidebar; Cancel leaves everything as it was', () => {
  const { user, addIn, document } = scenario({ answers: [twentyRowPreview(), answer({ processed_rows: 20, total_rows: 20, counts: { uploaded: 17, invalid: 3 } })] });
  user.select('A2:A21');
  addIn.uploadSelectedRows();
  const { state } = cardOf(user);
  const sent = plain(addIn.sendJob(state.job, null));
  assert.equal(sent.confirm, null);
  assert.equal(JSON.parse(document.documentProperties.getProperty(LEASE)).job_id, state.job.id);
  const step = plain(addIn.runStep(sent.job));
  assert.equal(user.log.requests[1].json.action, 'upload');
  assert.equal(step.view.summary, 'Done: uploaded 17 · invalid 3.');
  assert.equal(document.documentProperties.getProperty(LEASE), null);
});

test('the card in Hebrew: every sentence Hebrew, the values from the sheet and the function set apart', () => {
  const { user, addIn } = scenario({ locale: 'iw', sheetName: 'לידים', answers: [twentyRowPreview({
    columns: [{ column: 'טלפון', field: 'number', label: 'מספר טלפון' }],
    options: [{ name: 'campaign', label: 'קמפיין', value: '11', text: '11' }, { name: 'status', label: 'סטטוס', value: 12, text: 'פולואפ' }],
    errors: [{ row: 38, column: 'טלפון', message: '"054-700-1234 ext. 5" כולל שלוחה' }],
    unmapped_columns: [],
  })] });
  addIn.saveSettings({ campaign: '11', campaign_name: 'מבצע קיץ' });
  user.select('A2:A21');
  addIn.uploadSelectedRows();
  const { state, card } = cardOf(user);
  assert.equal(state.job.lang, 'he');
  assert.equal(user.log.requests[0].json.lang, 'he');
  assert.equal(card.title, 'להעלות 20 שורות שנבחרו מהגיליון "\u2068לידים\u2069"?');
  assert.deepEqual(card.facts.map((f) => f.label), ['שורות שיועלו', 'לא תקינות, לא יישלחו']);
  assert.deepEqual(card.options.map((o) => [o.label, o.text]), [['קמפיין', '\u2068מבצע קיץ\u2069 (\u206811\u2069)'], ['סטטוס', '\u2068פולואפ\u2069']]);
  assert.equal(card.errors[0].text, 'שורה 38 · \u2068טלפון\u2069: \u2068"054-700-1234 ext. 5" כולל שלוחה\u2069');
  assert.equal(card.send_label, 'העלאת 17 שורות');
  assert.match(user.log.sidebars[0].getContent(), /<html lang="he" dir="rtl">/);
});

test('a campaign the function reports without its name in Settings, and no campaign at all, are both said', () => {
  const other = scenario({ answers: [twentyRowPreview({ options: [{ name: 'campaign', label: 'Campaign', value: '42', text: '42' }] })] });
  other.addIn.saveSettings({ campaign: '11', campaign_name: 'Summer leads' });
  other.user.select('A2:A21');
  other.addIn.uploadSelectedRows();
  assert.deepEqual(cardOf(other.user).card.options.map((o) => [o.label, visible(o.text)]), [['Campaign', '42']],
    'a sheet\'s own campaign column wins: the name of campaign 11 is not put on 42');

  const none = scenario({ answers: [twentyRowPreview({ options: [] })] });
  none.user.select('A2:A21');
  none.addIn.uploadSelectedRows();
  assert.deepEqual(cardOf(none.user).card.options.map((o) => [o.label, o.text]), [['Campaign', 'none: customers are not added to a campaign']]);
});

test('with nothing to send, Send is off and the card says why', () => {
  const { user, addIn } = scenario({ answers: [twentyRowPreview({ to_send: 0, invalid: 20 })] });
  user.select('A2:A21');
  addIn.uploadSelectedRows();
  const { card } = cardOf(user);
  assert.equal(card.can_send, false);
  assert.equal(card.nothing, 'Nothing to send: every row is invalid or was uploaded before.');
});

test('the card is skipped for jobs up to the size the user chose, and shown above it', () => {
  const small = scenario({ skipCardUpTo: 20, answers: [answer({ processed_rows: 20, total_rows: 20, counts: { uploaded: 20 } })] });
  small.user.select('A2:A21');
  small.addIn.uploadSelectedRows();
  assert.deepEqual(small.user.log.requests.map((r) => r.json.action), ['upload'], 'no preview for a job it would skip');

  const large = scenario({ skipCardUpTo: 19, answers: [twentyRowPreview()] });
  large.user.select('A2:A21');
  large.addIn.uploadSelectedRows();
  assert.deepEqual(large.user.log.requests.map((r) => r.json.action), ['preview']);
  assert.equal(cardOf(large.user).card.send_label, 'Upload 17 rows');
});

test('Upload all pending rows always asks how many first: a card above the size chosen, none up to it', () => {
  const many = scenario({ skipCardUpTo: 100, answers: [preview({ total_rows: 900, to_send: 640, skipped: 250, invalid: 10 })] });
  many.addIn.uploadPendingRows();
  const { card } = cardOf(many.user);
  assert.equal(visible(card.title), 'Upload the pending rows of "Leads"?');
  assert.deepEqual(card.facts.map((f) => [f.label, f.count]), [
    ['Rows to upload', '640'], ['Invalid, will not be sent', '10'], ['Uploaded before and unchanged, left alone', '250'],
  ]);
  assert.equal(many.user.log.requests[0].json.mode, 'pending');
  assert.ok(!('rows' in many.user.log.requests[0].json));

  const few = scenario({ skipCardUpTo: 100, answers: [preview({ total_rows: 900, to_send: 40, skipped: 860 }), answer({ processed_rows: 40, total_rows: 40, counts: { uploaded: 40, skipped: 860 } })] });
  few.addIn.uploadPendingRows();
  assert.deepEqual(few.user.log.requests.map((r) => r.json.action), ['preview', 'upload']);
  assert.equal(few.user.log.toasts.at(-1).message, 'Done: uploaded 40 · skipped 860.');

  // No job sends more than 50,000 rows: skipping the card up to that size skips it, and the preview, always.
  const always = scenario({ skipCardUpTo: 50000, answers: [answer({ processed_rows: 40, total_rows: 40, counts: { uploaded: 40 } })] });
  always.addIn.uploadPendingRows();
  assert.deepEqual(always.user.log.requests.map((r) => r.json.action), ['upload']);
});

test('rows beyond one job are said on the card', () => {
  const { user, addIn } = scenario({ answers: [preview({ total_rows: 62000, to_send: 50000, left_for_later: 12000 })] });
  addIn.uploadPendingRows();
  assert.deepEqual(cardOf(user).card.facts.map((f) => [f.label, f.count]), [
    ['Rows to upload', '50,000'], ['Left for a later job (one job takes at most 50,000 rows)', '12,000'],
  ]);
});

test('a removal shows the card, which is its confirmation: no other question is asked', () => {
  const { user, addIn } = scenario({ answers: [preview({ total_rows: 4, to_send: 4, options: [{ name: 'campaign', label: 'Campaign', value: '11', text: '11' }] })] });
  addIn.saveSettings({ campaign: '11', campaign_name: 'Summer leads' });
  user.select('A2:A5');
  addIn.removeSelectedRows();
  assert.deepEqual(user.log.alerts, []);
  assert.equal(user.log.requests[0].json.preview_action, 'remove');
  const { card } = cardOf(user);
  assert.equal(visible(card.title), 'Remove 4 selected rows of "Leads" from the campaign?');
  assert.deepEqual(card.facts.map((f) => f.label), ['Customers to remove']);
  assert.equal(card.send_label, 'Remove 4 customers');
});

test('checking rows sends nothing, so it shows no card', () => {
  const { user, addIn } = scenario({ answers: [answer({ processed_rows: 4, total_rows: 4, counts: { valid: 4 } })] });
  user.select('A2:A5');
  addIn.checkSelectedRows();
  assert.deepEqual(user.log.requests.map((r) => r.json.action), ['check']);
});

test('a busy tab is said before any preview', () => {
  const clock = createClock();
  const { user, addIn, document } = scenario({ clock, answers: [] });
  document.documentProperties.setProperty(LEASE, JSON.stringify({
    job_id: 'other', action: 'upload', email: 'yossi@example.com', started_at: clock.now(), heartbeat_at: clock.now(),
  }));
  user.select('A2:A5');
  addIn.uploadSelectedRows();
  assert.equal(user.log.requests.length, 0);
  assert.match(visible(user.log.alerts[0].prompt), /^Yossi is uploading rows from "Leads"/);
});

test('Send on a tab whose lease went stale asks the sidebar to confirm the take-over, naming the holder', () => {
  const clock = createClock();
  const { user, addIn, document } = scenario({ clock, answers: [twentyRowPreview()] });
  document.documentProperties.setProperty(LEASE, JSON.stringify({
    job_id: 'yossis-job', action: 'remove', email: 'yossi.levi@example.com', started_at: clock.now() - 10 * 60000, heartbeat_at: clock.now() - 90000,
  }));
  user.select('A2:A21');
  addIn.uploadSelectedRows();
  const { state } = cardOf(user);
  const asked = plain(addIn.sendJob(state.job, null));
  assert.equal(asked.take_over, 'yossis-job');
  assert.equal(visible(asked.confirm), 'Yossi Levi started removing rows of "Leads" from the campaign 10 minutes ago, and that job has not answered ' +
    'for 1 minute: the sidebar running it was probably closed. Take it over? That job will not go on; the rows it finished keep their status.');
  assert.equal(JSON.parse(document.documentProperties.getProperty(LEASE)).job_id, 'yossis-job', 'asking takes nothing');
  const taken = plain(addIn.sendJob(state.job, asked.take_over));
  assert.equal(taken.confirm, null);
  assert.equal(JSON.parse(document.documentProperties.getProperty(LEASE)).job_id, state.job.id);
});

test('a preview the add-in cannot read stops the job before anything is sent', () => {
  const { user, addIn } = scenario({ answers: [{ status: 200, json: { preview: { to_send: 'all' } } }] });
  user.select('A2:A21');
  addIn.uploadSelectedRows();
  assert.equal(user.log.requests.length, 1);
  assert.match(user.log.alerts[0].prompt, /gave a preview the add-in cannot read, so nothing was sent/);
  assert.deepEqual(user.log.sidebars, []);
});

test('a function that refuses the preview is heard as any refusal is', () => {
  const { user, addIn } = scenario({ answers: [failure(422, 'no phone column in row 1')] });
  user.select('A2:A21');
  addIn.uploadSelectedRows();
  assert.match(visible(user.log.alerts[0].prompt), /^The header row needs attention\. The service said: "no phone column in row 1"/);
});
