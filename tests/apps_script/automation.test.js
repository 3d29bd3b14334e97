'use strict';
// Automatic upload with the fakes of ScriptApp's triggers (time-driven and on form submit), MailApp,
// PropertiesService and LockService: turning it on and off, runs on a schedule and on a form's answer,
// jobs that outlive one execution (automatic ones, and a job whose sidebar was closed), one job per tab
// shared with people clicking, the "CallMarker log" tab, and the owner's emails.

const test = require('node:test');
const assert = require('node:assert/strict');
const { loadAddIn, answer, leads, plain, sidebarState, visible, FUNCTION_URL } = require('./addin');
const { FakeDocument, FakeUser, valuesSource, scriptedTransport, createClock, fireTrigger } = require('./fakes');

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const NO_CARD = JSON.stringify({ language: '', skip_card_up_to: 50000, notify_carried: false });

/**
 * A spreadsheet with a tab of leads (and, when asked, a tab that receives a Google Form's answers),
 * and people on it, each with their own add-in and a queue of the function's answers.
 */
function team(options = {}) {
  const clock = createClock();
  const document = new FakeDocument({
    id: 'team-sheet', name: 'Sales 2025', clock,
    sheets: options.sheets || [
      { name: 'Leads', sheetId: 0, source: valuesSource(leads(30)) },
      { name: 'Form answers', sheetId: 5, source: valuesSource([['Timestamp', 'Name', 'Phone']]), formUrl: 'https://docs.google.com/forms/d/f1/edit' },
    ],
  });
  const person = (email, extra = {}) => {
    const queue = [];
    const user = new FakeUser(document, {
      email,
      installationSource: options.installationSource,
      mailQuota: extra.mailQuota,
      fetch: scriptedTransport((request) => {
        if (queue.length === 0) {
          throw new Error(`no answer scripted for ${email}: ${request.payload}`);
        }
        const next = queue.shift();
        return typeof next === 'function' ? next(request) : next;
      }),
    });
    user.userProperties.setProperty('callmarker.preferences', extra.preferences || NO_CARD);
    const addIn = loadAddIn(user.globals(), { clock, config: { functionUrl: FUNCTION_URL } });
    return { user, addIn, answers: queue };
  };
  return { clock, document, person };
}

const mine = (document, who) => document.triggers.filter((t) => t.owner === who.user);
const fire = (who, trigger, event) => fireTrigger(trigger, who.addIn, event);
/** The log tab's rows as a reader sees them, header first. */
function logOf(document) {
  const sheet = document.sheets.find((s) => s.name === 'CallMarker log');
  return sheet ? sheet.source.values('FORMATTED_VALUE').map((row) => row.map((cell) => visible(cell))) : null;
}
/** A log row as an object by column. */
function logRow(document, index = 1) {
  const rows = logOf(document);
  return Object.fromEntries(rows[0].map((name, i) => [name, rows[index][i] === undefined ? '' : rows[index][i]]));
}
function turnOn(who, sheetId, mode = 'schedule', everyMinutes = 15, takeOver = false) {
  return plain(who.addIn.saveAutomation({ sheet_id: sheetId, mode, every_minutes: everyMinutes, take_over: takeOver }));
}

// ---------------------------------------------------------------- turning it on and off

test('a schedule is turned on with one time-driven trigger, run as whoever turned it on; the settings say who and how often', () => {
  const { document, clock, person } = team();
  const dana = person('dana.cohen@example.co.il');
  assert.ok(dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' }).ok);
  clock.advance(4 * MINUTE);
  const saved = turnOn(dana, 0, 'schedule', 15);
  assert.equal(saved.ok, true);
  const triggers = mine(document, dana);
  assert.equal(triggers.length, 1);
  assert.deepEqual([triggers[0].handler, triggers[0].type, triggers[0].everyMs], ['automaticUpload', 'CLOCK', 15 * MINUTE]);
  assert.equal(visible(saved.view.status), 'Uploads the pending rows every 15 minutes, as dana.cohen@example.co.il, since 2025-01-05 11:04.');
  dana.addIn.showSettings();
  assert.equal(visible(sidebarState(dana.user.log.sidebars[0]).settings.automatic), visible(saved.view.status));
  // Another tab on a schedule is served by the same trigger, at the shorter interval.
  document.sheets[1].formUrl = null;
  assert.ok(dana.addIn.saveSettings({ sheet_id: 5 }).ok);
  turnOn(dana, 5, 'schedule', 5);
  assert.deepEqual(mine(document, dana).map((t) => [t.handler, t.everyMs]), [['automaticUpload', 5 * MINUTE]]);
});

test('each schedule shows what it costs a day in the quotas of the account that runs it', () => {
  const { person } = team();
  const dana = person('dana@example.co.il');
  const workspace = plain(dana.addIn.automationView_('en', ...viewOf(dana)));
  assert.deepEqual(workspace.schedules.map((s) => s.label), ['every 5 minutes', 'every 15 minutes', 'every 30 minutes', 'every hour']);
  assert.equal(visible(workspace.schedules[1].cost), '96 runs a day. Each calls the upload service at least once (a Google Workspace account may make ' +
    '100,000 such calls a day) and takes a few seconds when nothing is new: about 5 of its 360 minutes of automatic runs a day.');
  const gmail = person('dana.levi@gmail.com');
  const consumer = plain(gmail.addIn.automationView_('en', ...viewOf(gmail)));
  assert.equal(visible(consumer.schedules[0].cost), '288 runs a day. Each calls the upload service at least once (a personal Google account may make ' +
    '20,000 such calls a day) and takes a few seconds when nothing is new: about 15 of its 90 minutes of automatic runs a day.');
  assert.equal(consumer.schedule_note, '', 'a bound script may run every few minutes');
});

/** The arguments of automationView_ after the language: the spreadsheet and its first tab, as that user sees them. */
function viewOf(who) {
  const spreadsheet = who.addIn.SpreadsheetApp.getActive();
  return [spreadsheet, spreadsheet.getSheets()[0]];
}

test('as an add-on, a schedule runs at most hourly, the dialog says so, and the fake refuses what Google refuses', () => {
  const { document, person } = team({ installationSource: 'APPS_MARKETPLACE_DOMAIN_ADD_ON' });
  const dana = person('dana@example.com');
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' });
  const view = plain(dana.addIn.automationView_('en', ...viewOf(dana)));
  assert.deepEqual(view.schedules.map((s) => s.minutes), [60]);
  assert.equal(view.schedule_note, 'As an add-on, Google runs automatic uploads at most once an hour.');
  assert.throws(() => dana.addIn.saveAutomation({ sheet_id: 0, mode: 'schedule', every_minutes: 15 }),
    /As an add-on, an automatic upload runs at most every hour/);
  // What the add-in never asks of an add-on, Google would refuse: a trigger more often than hourly, a second clock.
  const { ScriptApp } = dana.user.globals();
  assert.throws(() => ScriptApp.newTrigger('automaticUpload').timeBased().everyMinutes(15).create(), /more frequently than once per hour/);
  assert.throws(() => ScriptApp.newTrigger('automaticFollowUp').timeBased().after(MINUTE).create(), /more frequently than once per hour/);
  assert.equal(turnOn(dana, 0, 'schedule', 60).ok, true);
  assert.deepEqual(mine(document, dana).map((t) => [t.handler, t.everyMs]), [['automaticUpload', HOUR]]);
  assert.throws(() => ScriptApp.newTrigger('automaticFollowUp').timeBased().after(HOUR).create(), /one trigger of each type/);
});

test('on form submit: only a tab that receives a form\'s answers, with one form trigger', () => {
  const { document, person } = team();
  const dana = person('dana@example.com');
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' });
  dana.addIn.saveSettings({ sheet_id: 5, campaign: '11' });
  assert.throws(() => dana.addIn.saveAutomation({ sheet_id: 0, mode: 'form' }),
    (error) => visible(error.message) === '"Leads" does not receive a Google Form\'s answers. Link a form to it, or choose a schedule.');
  const view = plain(dana.addIn.automationView_('en', ...viewOf(dana)));
  assert.equal(view.form_available, false);
  assert.match(view.form_note, /does not receive a Google Form's answers/);
  assert.equal(turnOn(dana, 5, 'form').ok, true);
  assert.deepEqual(mine(document, dana).map((t) => [t.handler, t.type]), [['automaticUploadOnFormSubmit', 'ON_FORM_SUBMIT']]);
});

test('turning it off removes the trigger; its owner can stop it from any tab; settings that are not valid keep it off', () => {
  const { document, person } = team();
  const dana = person('dana@example.com');
  document.documentProperties.setProperty('callmarker.settings.0', JSON.stringify({ settings: { unique: true } }));
  assert.throws(() => dana.addIn.saveAutomation({ sheet_id: 0, mode: 'schedule', every_minutes: 15 }), (error) =>
    /^Fix the settings of "Leads" first/.test(visible(error.message)));
  assert.equal(mine(document, dana).length, 0);
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' });
  turnOn(dana, 0);
  assert.equal(mine(document, dana).length, 1);
  const fromOtherTab = plain(dana.addIn.stopAutomation(0, 5));
  assert.equal(fromOtherTab.sheet_id, 5);
  assert.deepEqual(fromOtherTab.mine, []);
  assert.equal(mine(document, dana).length, 0);
  turnOn(dana, 0);
  assert.equal(turnOn(dana, 0, 'off').ok, true);
  assert.equal(mine(document, dana).length, 0);
  assert.equal(document.documentProperties.getProperty('callmarker.automation.0'), null);
});

test('someone else\'s automatic upload is replaced only once confirmed; the old owner\'s trigger then stops itself', () => {
  const { document, clock, person } = team();
  const dana = person('dana@example.com');
  const yossi = person('yossi@example.com');
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' });
  turnOn(dana, 0);
  const asked = turnOn(yossi, 0);
  assert.equal(asked.ok, false);
  assert.equal(visible(asked.confirm), 'The automatic upload of "Leads" runs as Dana. Turn it on as yourself instead? The one before stops at its next run.');
  assert.match(visible(JSON.parse(document.documentProperties.getProperty('callmarker.automation.0')).owner), /^dana@/);
  assert.equal(turnOn(yossi, 0, 'schedule', 30, true).ok, true);
  assert.equal(JSON.parse(document.documentProperties.getProperty('callmarker.automation.0')).owner, 'yossi@example.com');
  // Dana's trigger fires as Dana: the tab is not hers any more, so it runs nothing and removes itself.
  clock.advance(15 * MINUTE);
  fire(dana, mine(document, dana)[0]);
  assert.deepEqual(dana.user.log.requests, []);
  assert.deepEqual(mine(document, dana), []);
  assert.equal(mine(document, yossi).length, 1);
});

test('the trigger limit is said plainly, and nothing is turned on', () => {
  const { document, person } = team();
  const dana = person('dana@example.com');
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' });
  const { ScriptApp } = dana.user.globals();
  for (let i = 0; i < 20; i += 1) {
    ScriptApp.newTrigger('somethingElse').timeBased().everyHours(1).create();
  }
  assert.throws(() => dana.addIn.saveAutomation({ sheet_id: 0, mode: 'schedule', every_minutes: 15 }),
    /Google allows 20 automatic triggers per person for this add-in/);
  assert.equal(document.documentProperties.getProperty('callmarker.automation.0'), null);
});

// ---------------------------------------------------------------- runs

test('a scheduled run uploads the tab\'s pending rows with its settings, and writes one row in a log tab it makes', () => {
  const { document, clock, person } = team();
  const dana = person('dana@example.com');
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11', batch_size: '50' });
  turnOn(dana, 0);
  clock.advance(15 * MINUTE);
  dana.answers.push(answer({ total_rows: 30, processed_rows: 30, counts: { uploaded: 28, invalid: 2 }, errors: [
    { row: 7, column: 'Phone', message: 'Phone "054-700" is too short' }, { row: 19, column: 'Email', message: 'Email "x@" is not an email address' },
  ] }));
  fire(dana, mine(document, dana)[0]);
  const [request] = dana.user.log.requests;
  assert.deepEqual(plain(request.json), { spreadsheet_id: 'team-sheet', sheet_id: 0, mode: 'pending', action: 'upload', options: { campaign: '11', batch_size: 50 }, lang: 'en' });
  assert.equal(request.headers.Authorization, `Bearer ${dana.user.idToken()}`);
  const log = document.sheet('CallMarker log');
  assert.deepEqual(logOf(document)[0], ['When', 'Who', 'How', 'Tab', 'Action', 'Mode', 'Rows', 'uploaded', 'removed', 'valid', 'sent', 'rejected',
    'invalid', 'failed', 'skipped', 'Duration', 'Result', 'First problem']);
  assert.equal(log.getFrozenRows(), 1);
  assert.equal(log.protections.length, 1);
  assert.equal(log.protections[0].isWarningOnly(), true, 'a warning, so that any editor\'s add-in keeps writing it');
  const row = logRow(document);
  assert.deepEqual({ ...row, Duration: undefined }, {
    When: '2025-01-05 11:15:00', Who: 'dana@example.com', How: 'schedule', Tab: 'Leads', Action: 'upload', Mode: 'pending', Rows: '30',
    uploaded: '28', removed: '', valid: '', sent: '', rejected: '', invalid: '2', failed: '', skipped: '', Duration: undefined,
    Result: 'Done: uploaded 28 · invalid 2.',
    'First problem': '=HYPERLINK("https://docs.google.com/spreadsheets/d/team-sheet/edit#gid=0&range=A7", "Row 7")',
  });
  assert.equal(row.Duration, '0:00');
  // The settings show the last run.
  dana.addIn.showSettings();
  assert.match(visible(sidebarState(dana.user.log.sidebars[0]).settings.automatic), /Last run 2025-01-05 11:15: Done: uploaded 28 · invalid 2\.$/);
});

test('a schedule runs when it comes round, not at every firing of a shorter one', () => {
  const { document, clock, person } = team({ sheets: [
    { name: 'Leads', sheetId: 0, source: valuesSource(leads(5)) }, { name: 'Events', sheetId: 2, source: valuesSource(leads(5)) },
  ] });
  const dana = person('dana@example.com');
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' });
  dana.addIn.saveSettings({ sheet_id: 2, campaign: '12' });
  turnOn(dana, 0, 'schedule', 5);
  turnOn(dana, 2, 'schedule', 30);
  const sent = [];
  for (let i = 0; i < 7; i += 1) {
    clock.advance(5 * MINUTE);
    dana.answers.push(answer({ total_rows: 0 }), answer({ total_rows: 0 }));
    const before = dana.user.log.requests.length;
    fire(dana, mine(document, dana).find((t) => t.handler === 'automaticUpload'));
    sent.push(dana.user.log.requests.slice(before).map((r) => r.json.sheet_id));
    dana.answers.length = 0;
  }
  assert.deepEqual(sent, [[0, 2], [0], [0], [0], [0], [0], [0, 2]], 'the half-hourly tab again once 30 minutes have passed');
});

test('a form\'s answer runs its tab\'s upload; an answer in another tab runs nothing', () => {
  const { document, person } = team();
  const dana = person('dana@example.com');
  dana.addIn.saveSettings({ sheet_id: 5, campaign: '11' });
  turnOn(dana, 5, 'form');
  const trigger = mine(document, dana)[0];
  dana.answers.push(answer({ total_rows: 1, processed_rows: 1, counts: { uploaded: 1 } }));
  fire(dana, trigger, document.formAnswer('Form answers', ['2025-01-05 11:00', 'Noa', '054-7000001']));
  assert.deepEqual(dana.user.log.requests.map((r) => [r.json.sheet_id, r.json.mode]), [[5, 'pending']]);
  assert.equal(logRow(document).How, 'form');
  document.sheets[0].source.rows.push(['Lead x', '054-7999999', 'x@example.com']);
  fire(dana, trigger, { range: document.sheets[0].getRange(32, 1, 1, 3), values: [], namedValues: {} });
  assert.equal(dana.user.log.requests.length, 1, 'nothing for the tab that is not automated');
});

test('a run that outlives one execution leaves its job to a follow-up run a minute later, which finishes it: one log row, nothing sent twice', () => {
  const { document, clock, person } = team();
  const dana = person('dana@example.com');
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' });
  turnOn(dana, 0);
  let step = 0;
  const slowStep = (fields) => () => {
    clock.advance(2 * MINUTE); // each step takes two minutes of the execution's six
    step += 1;
    return answer({ total_rows: 30, processed_rows: 6 * step, counts: { uploaded: 6 * step }, ...fields });
  };
  dana.answers.push(slowStep({ done: false, cursor: 'c1' }), slowStep({ done: false, cursor: 'c2' }), slowStep({ done: false, cursor: 'c3' }));
  clock.advance(15 * MINUTE);
  fire(dana, mine(document, dana)[0]);
  assert.deepEqual(dana.user.log.requests.map((r) => r.json.cursor), [undefined, 'c1', 'c2'], 'three steps, then no step past the limit');
  const journal = JSON.parse(document.documentProperties.getProperty('callmarker.job.0'));
  assert.equal(journal.job.cursor, 'c3');
  assert.equal(logOf(document), null, 'no row yet: the job is not over');
  const lease = JSON.parse(document.documentProperties.getProperty('callmarker.lease.0'));
  assert.deepEqual([lease.automatic, lease.parked], [true, true]);
  const followUp = mine(document, dana).find((t) => t.handler === 'automaticFollowUp');
  assert.ok(followUp, 'a follow-up run is armed');
  assert.equal(followUp.atMs - clock.now(), MINUTE);
  assert.deepEqual(document.dueTriggers(), []);
  clock.advance(MINUTE);
  assert.deepEqual(document.dueTriggers(), [followUp]);
  dana.answers.push(answer({ total_rows: 30, processed_rows: 30, counts: { uploaded: 30 } }));
  fire(dana, followUp);
  assert.deepEqual(dana.user.log.requests.map((r) => r.json.cursor), [undefined, 'c1', 'c2', 'c3']);
  assert.deepEqual(mine(document, dana).map((t) => t.handler), ['automaticUpload'], 'the follow-up removed itself');
  assert.equal(document.documentProperties.getProperty('callmarker.job.0'), null);
  assert.equal(document.documentProperties.getProperty('callmarker.lease.0'), null);
  const row = logRow(document);
  assert.deepEqual([row.How, row.uploaded, row.Result, row.Duration, row.When], ['schedule, carried on', '30', 'Done: uploaded 30.', '7:00', '2025-01-05 11:15:00']);
  assert.equal(logOf(document).length, 2, 'one row for the whole job');
});

test('runs that find nothing new are told in one log row, counted, until one finds something', () => {
  const { document, clock, person } = team();
  const dana = person('dana@example.com');
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' });
  turnOn(dana, 0, 'schedule', 5);
  const trigger = mine(document, dana)[0];
  for (let i = 0; i < 3; i += 1) {
    clock.advance(5 * MINUTE);
    dana.answers.push(answer({ total_rows: 0, counts: { skipped: 30 } }));
    fire(dana, trigger);
  }
  assert.equal(logOf(document).length, 2);
  assert.equal(logRow(document).Result, 'Nothing new to send in 3 runs since 2025-01-05 11:05.');
  assert.equal(logRow(document).When, '2025-01-05 11:15:00');
  clock.advance(5 * MINUTE);
  dana.answers.push(answer({ total_rows: 2, processed_rows: 2, counts: { uploaded: 2, skipped: 30 } }));
  fire(dana, trigger);
  clock.advance(5 * MINUTE);
  dana.answers.push(answer({ total_rows: 0, counts: { skipped: 32 } }));
  fire(dana, trigger);
  assert.deepEqual(logOf(document).slice(1).map((row) => row[16]), [
    'Nothing new to send in 1 run since 2025-01-05 11:25.', 'Done: uploaded 2 · skipped 30.', 'Nothing new to send in 3 runs since 2025-01-05 11:05.',
  ]);
});

test('rows still invalid at every run do not fill the log: runs that send nothing share a row that says so', () => {
  const { document, clock, person } = team();
  const dana = person('dana@example.com');
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' });
  turnOn(dana, 0, 'schedule', 5);
  const stillInvalid = () => answer({ total_rows: 2, processed_rows: 2, counts: { invalid: 2, skipped: 28 },
    errors: [{ row: 4, column: 'Email', message: 'Email "x@" is not an email address' }, { row: 9, column: 'Email', message: 'Email "y@" is not an email address' }] });
  for (let i = 0; i < 2; i += 1) {
    clock.advance(5 * MINUTE);
    dana.answers.push(stillInvalid());
    fire(dana, mine(document, dana)[0]);
  }
  assert.equal(logOf(document).length, 2);
  const row = logRow(document);
  assert.deepEqual([row.Result, row.invalid, row.skipped], ['Nothing new to send in 2 runs since 2025-01-05 11:05. 2 rows are still invalid.', '2', '28']);
  assert.equal(dana.user.log.emails.length, 1, 'the invalid rows were emailed once');
});

// ---------------------------------------------------------------- one job per tab

test('an automatic run that finds a person\'s job on the tab waits for its next turn, and says so in the log once', () => {
  const { document, clock, person } = team({ sheets: [{ name: 'Leads', sheetId: 0, source: valuesSource(leads(8000)) }] });
  const dana = person('dana@example.com');
  const yossi = person('yossi@example.com');
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' });
  turnOn(dana, 0, 'schedule', 5);
  // Yossi's large upload goes to his sidebar, which holds the tab and beats its heartbeat.
  yossi.user.select('A2:A7001');
  yossi.addIn.uploadSelectedRows();
  const job = sidebarState(yossi.user.log.sidebars[0]).job;
  const trigger = mine(document, dana).find((t) => t.handler === 'automaticUpload');
  for (let i = 0; i < 2; i += 1) {
    clock.advance(5 * MINUTE);
    yossi.addIn.heartbeat(job);
    fire(dana, trigger);
  }
  assert.deepEqual(dana.user.log.requests, [], 'nothing sent while the tab is his');
  assert.equal(logOf(document).length, 2, 'one row for the two runs that waited');
  assert.equal(logRow(document).Result, 'Waited for its next turn: Yossi is uploading rows from "Leads" (started 5 minutes ago). Try again when it finishes.');
  // His job ends; the next run goes on.
  yossi.addIn.stopJob(job, null);
  clock.advance(5 * MINUTE);
  dana.answers.push(answer({ total_rows: 7000, processed_rows: 7000, counts: { uploaded: 7000 } }));
  fire(dana, trigger);
  assert.equal(dana.user.log.requests.length, 1);
  assert.equal(logRow(document).Result, 'Done: uploaded 7,000.');
});

test('a person who clicks during an automatic run is told whose automatic upload holds the tab', () => {
  const { document, clock, person } = team();
  const dana = person('dana.cohen@example.com');
  const yossi = person('yossi@example.com', { preferences: JSON.stringify({ language: 'he', skip_card_up_to: 50000 }) });
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' });
  turnOn(dana, 0);
  clock.advance(15 * MINUTE);
  dana.answers.push(() => {
    yossi.user.select('A2:A5');
    yossi.addIn.uploadSelectedRows();
    return answer({ total_rows: 30, processed_rows: 30, counts: { uploaded: 30 } });
  });
  fire(dana, mine(document, dana)[0]);
  assert.deepEqual(yossi.user.log.requests, []);
  assert.equal(yossi.user.log.alerts[0].prompt,
    'ההעלאה האוטומטית של \u2068Dana Cohen\u2069 שולחת שורות מהגיליון "\u2068Leads\u2069" (התחילה הרגע). נסו שוב כשתסתיים.');
  const english = person('rivka@example.com');
  dana.answers.push(() => {
    english.user.select('A2:A5');
    english.addIn.uploadSelectedRows();
    return answer({ total_rows: 0 });
  });
  clock.advance(15 * MINUTE);
  fire(dana, mine(document, dana)[0]);
  assert.equal(visible(english.user.log.alerts[0].prompt),
    'Dana Cohen\'s automatic upload is sending rows from "Leads" (started just now). Try again when it finishes.');
});

// ---------------------------------------------------------------- a job whose sidebar was closed

function closedSidebar(preferences = NO_CARD) {
  const { document, clock, person } = team({ sheets: [{ name: 'Leads', sheetId: 0, source: valuesSource(leads(8000)) }] });
  const dana = person('dana@example.com', { preferences });
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' });
  dana.user.select('A2:A7001');
  dana.addIn.uploadSelectedRows();
  const job = sidebarState(dana.user.log.sidebars[0]).job;
  dana.answers.push(answer({ done: false, cursor: 's1', total_rows: 7000, processed_rows: 2000, counts: { uploaded: 2000 } }));
  const first = plain(dana.addIn.runStep(job));
  return { document, clock, dana, job: first.job };
}

test('a job whose sidebar is closed is carried on by a follow-up run from its cursor, and logged once with its whole count', () => {
  const { document, clock, dana, job } = closedSidebar();
  const followUp = () => mine(document, dana).find((t) => t.handler === 'automaticFollowUp');
  // While the sidebar beats, the follow-up leaves the job alone and comes back.
  clock.advance(MINUTE);
  dana.addIn.heartbeat(job);
  fire(dana, followUp());
  assert.equal(dana.user.log.requests.length, 1);
  assert.ok(followUp(), 'armed again');
  // The sidebar is closed: two minutes without a heartbeat, and the follow-up carries the job on.
  clock.advance(2 * MINUTE);
  dana.answers.push(answer({ done: false, cursor: 's2', total_rows: 7000, processed_rows: 5000, counts: { uploaded: 5000 } }),
    answer({ total_rows: 7000, processed_rows: 7000, counts: { uploaded: 6990, invalid: 10 }, errors: [{ row: 40, column: 'Phone', message: 'too short' }] }));
  fire(dana, followUp());
  assert.deepEqual(dana.user.log.requests.map((r) => [r.json.mode, JSON.stringify(r.json.rows), r.json.cursor]), [
    ['selected', '[[2,7001]]', undefined], ['selected', '[[2,7001]]', 's1'], ['selected', '[[2,7001]]', 's2'],
  ]);
  assert.equal(followUp(), undefined, 'nothing left to carry on');
  const row = logRow(document);
  assert.deepEqual([row.How, row.Mode, row.Rows, row.uploaded, row.invalid, row.Result], [
    'manual, carried on', 'selected', '7000', '6990', '10', 'Done: uploaded 6,990 · invalid 10.',
  ]);
  assert.deepEqual(dana.user.log.emails, [], 'she did not ask for an email');
  // Her sidebar, opened again on that job, is told the job is no longer hers to drive.
  assert.throws(() => dana.addIn.runStep(job), /no longer holds "\u2068Leads\u2069"/);
});

test('whoever asked gets the end of their carried-on job by email', () => {
  const { document, clock, dana } = closedSidebar(JSON.stringify({ language: 'he', skip_card_up_to: 50000, notify_carried: true }));
  clock.advance(3 * MINUTE);
  dana.answers.push(answer({ total_rows: 7000, processed_rows: 7000, counts: { uploaded: 7000 } }));
  fire(dana, mine(document, dana).find((t) => t.handler === 'automaticFollowUp'));
  assert.equal(dana.user.log.emails.length, 1);
  const email = dana.user.log.emails[0];
  assert.equal(email.to, 'dana@example.com');
  assert.equal(visible(email.subject), 'CallMarker: העבודה שלך בגיליון "Leads" הסתיימה');
  assert.match(visible(email.body), /^העבודה שלך בגיליון "Leads" בקובץ "Sales 2025" המשיכה אחרי שסגרת את החלונית שלה, והסתיימה:\nהסתיים: הועלו 7,000\./);
  assert.match(email.htmlBody, /^<div dir="rtl" lang="he">/);
});

test('a job taken over from a closed sidebar ends in the log under the taker\'s name, and is not carried on', () => {
  const { document, clock, dana } = closedSidebar();
  const other = new FakeUser(document, { email: 'rivka@example.com', fetch: scriptedTransport(() => answer({ total_rows: 9, processed_rows: 9, counts: { uploaded: 9 } })) });
  other.userProperties.setProperty('callmarker.preferences', NO_CARD);
  const otherAddIn = loadAddIn(other.globals(), { clock, config: { functionUrl: FUNCTION_URL } });
  clock.advance(90 * SECOND);
  other.alertAnswers.push('YES');
  other.select('A2:A10');
  otherAddIn.uploadSelectedRows();
  assert.equal(other.log.requests.length, 1);
  const rows = logOf(document);
  assert.equal(rows.length, 3);
  assert.deepEqual([rows[2][1], rows[2][16]], ['dana@example.com', 'Taken over by Rivka: this job did not go on; the rows it finished keep their status.']);
  assert.equal(rows[2][7], '2000', 'with what it had done');
  clock.advance(MINUTE);
  fire({ addIn: loadAddIn(dana.user.globals(), { clock, config: { functionUrl: FUNCTION_URL } }) }, mine(document, dana).find((t) => t.handler === 'automaticFollowUp'));
  assert.equal(dana.user.log.requests.length, 1, 'the follow-up did not carry it on');
});

// ---------------------------------------------------------------- emails

test('a failing run sends its owner one email, with the counts and no phone number, and the same problem at most once an hour', () => {
  const { document, clock, person } = team();
  const dana = person('dana@example.com');
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' });
  turnOn(dana, 0, 'schedule', 15);
  const trigger = mine(document, dana)[0];
  const refused = { status: 502, json: { error: { code: 502, message: 'CallMarker refused the upload for 054-700-1234: invalid token' } } };
  for (const wait of [15, 15, 15, 15, 15]) {
    clock.advance(wait * MINUTE);
    dana.answers.push(refused);
    fire(dana, trigger);
  }
  assert.equal(logOf(document).length, 6, 'a log row for every run');
  assert.match(logRow(document).Result, /^Failed: CallMarker could not be reached, or it refused/);
  assert.equal(dana.user.log.emails.length, 2, 'the first run, then once the hour had passed');
  const email = dana.user.log.emails[0];
  assert.equal(email.to, 'dana@example.com');
  assert.equal(email.name, 'CallMarker');
  assert.equal(visible(email.subject), 'CallMarker: the automatic upload in "Sales 2025" needs attention');
  const body = visible(email.body);
  assert.match(body, /^The automatic upload you turned on in "Sales 2025" ran at 2025-01-05 11:15 and needs attention\.\n\n"Leads": Failed: CallMarker/);
  assert.match(body, /Open the tab: https:\/\/docs\.google\.com\/spreadsheets\/d\/team-sheet\/edit#gid=0\n/);
  assert.match(body, /Every run is in the "CallMarker log" tab\./);
  assert.ok(!/054|1234/.test(email.body + email.htmlBody + email.subject), 'no phone number');
});

test('rows left invalid are emailed with the first problems, numbers hidden; new problem rows are a new problem', () => {
  const { document, clock, person } = team();
  const dana = person('dana@example.com');
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' });
  turnOn(dana, 0, 'schedule', 5);
  const trigger = mine(document, dana)[0];
  const problems = (rows) => answer({ total_rows: 30, processed_rows: 30, counts: { uploaded: 30 - rows.length, invalid: rows.length },
    errors: rows.map((row) => ({ row, column: 'טלפון', message: `טלפון "+972 54-700 ${row}00" is not a valid phone number for Israel` })) });
  clock.advance(5 * MINUTE);
  dana.answers.push(problems([7, 12]));
  fire(dana, trigger);
  clock.advance(5 * MINUTE);
  dana.answers.push(problems([7, 12]));
  fire(dana, trigger);
  assert.equal(dana.user.log.emails.length, 1, 'the same rows again: no second email within the hour');
  clock.advance(5 * MINUTE);
  dana.answers.push(problems([7, 12, 31]));
  fire(dana, trigger);
  assert.equal(dana.user.log.emails.length, 2, 'a new row with a problem is a new problem');
  const body = visible(dana.user.log.emails[1].body);
  assert.match(body, /"Leads": Done: uploaded 27 · invalid 3\.\nFirst problems:\n {2}Row 7: טלפון "…" is not a valid phone number for Israel\n {2}Row 12: /);
  assert.ok(!/700|972/.test(dana.user.log.emails.map((e) => e.body + e.htmlBody).join('')));
});

test('without email quota left, the run still ends and is logged', () => {
  const { document, clock, person } = team();
  const dana = person('dana@example.com', { mailQuota: 0 });
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' });
  turnOn(dana, 0);
  clock.advance(15 * MINUTE);
  dana.answers.push({ status: 503, json: { error: { code: 503, message: 'unavailable' } } });
  fire(dana, mine(document, dana)[0]);
  assert.deepEqual(dana.user.log.emails, []);
  assert.match(logRow(document).Result, /^Failed: The upload service is not available right now/);
});

test('should Google give a trigger no sign-in token, nothing is sent and the owner is told why', () => {
  const { document, clock, person } = team();
  const dana = person('dana@example.com');
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' });
  turnOn(dana, 0);
  dana.user.identityToken = () => '';
  clock.advance(15 * MINUTE);
  fire(dana, mine(document, dana)[0]);
  assert.deepEqual(dana.user.log.requests, []);
  assert.match(logRow(document).Result, /^Failed: Google gave the add-in no sign-in token for the upload service, so nothing was sent/);
  assert.equal(dana.user.log.emails.length, 1);
});

test('an automatic upload whose tab\'s settings became invalid fails before sending, and says why', () => {
  const { document, clock, person } = team();
  const dana = person('dana@example.com');
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' });
  turnOn(dana, 0);
  document.documentProperties.setProperty('callmarker.settings.0', JSON.stringify({ settings: { unique: true } }));
  clock.advance(15 * MINUTE);
  fire(dana, mine(document, dana)[0]);
  assert.deepEqual(dana.user.log.requests, []);
  assert.match(logRow(document).Result, /^Failed: Fix the settings of "Leads" first/);
  assert.equal(dana.user.log.emails.length, 1);
});

test('a tab that was deleted takes its automatic upload with it', () => {
  const { document, clock, person } = team();
  const dana = person('dana@example.com');
  dana.addIn.saveSettings({ sheet_id: 5, campaign: '11' });
  turnOn(dana, 5, 'schedule', 15);
  document.sheets.splice(1, 1);
  clock.advance(15 * MINUTE);
  fire(dana, mine(document, dana)[0]);
  assert.deepEqual(dana.user.log.requests, []);
  assert.deepEqual(mine(document, dana), []);
});

// ---------------------------------------------------------------- the log and the journal

test('the log keeps the newest 5,000 jobs, newest first, and text that looks like a formula stays text', () => {
  const { document, clock, person } = team({ sheets: [{ name: '=HYPERLINK("x")', sheetId: 0, source: valuesSource(leads(5)) }] });
  const dana = person('dana@example.com');
  dana.addIn.saveSettings({ sheet_id: 0, campaign: '11' });
  const log = document.insertSheet('CallMarker log');
  log.source.rows.push(['When']);
  for (let i = 0; i < 5000; i += 1) {
    log.source.rows.push([`old ${i}`]);
  }
  turnOn(dana, 0);
  clock.advance(15 * MINUTE);
  dana.answers.push(answer({ total_rows: 5, processed_rows: 5, counts: { uploaded: 5 } }));
  fire(dana, mine(document, dana)[0]);
  const rows = logOf(document);
  assert.equal(rows.length, 5001);
  assert.equal(rows[1][3], '=HYPERLINK("x")', 'the tab\'s name, kept as the text it is');
  assert.equal(log.source.rows[1][3], '=HYPERLINK("x")');
  assert.equal(rows[2][0], 'old 0');
  assert.equal(rows[5000][0], 'old 4998', 'the oldest row went');
});

test('a journal too long for one property is kept in pieces, each under the 9 kB limit', () => {
  const { document, person } = team();
  const dana = person('dana@example.com');
  const properties = document.documentProperties;
  const rows = Array.from({ length: 900 }, (_, i) => [2 + 3 * i, 2 + 3 * i]);
  const job = { id: 'j1', action: 'upload', mode: 'selected', spreadsheet_id: 'team-sheet', sheet_id: 0, sheet_name: 'Leads', rows,
    options: {}, cursor: 'x'.repeat(6000), lang: 'he', title: 'מעלה', done_title: 'הסתיים' };
  dana.addIn.writeJournal_(properties, { job, by: 'dana@example.com', origin: 'manual', started_at: 1, carried: false, notify: false,
    counts: null, total_rows: 900, first_problem_row: null, steps: 0 });
  const pieces = properties.getKeys().filter((k) => k.startsWith('callmarker.job.0#'));
  assert.ok(pieces.length >= 4, `${pieces.length} pieces`);
  assert.ok(properties.getKeys().every((k) => Buffer.byteLength(properties.getProperty(k)) <= 9 * 1024));
  assert.deepEqual(plain(dana.addIn.readJournal_(properties, 0).job), job);
  // A shorter journal written over it leaves no stale piece behind.
  dana.addIn.writeJournal_(properties, { ...plain(dana.addIn.readJournal_(properties, 0)), job: { ...job, rows: [[2, 3]], cursor: 'c' } });
  assert.deepEqual(properties.getKeys().filter((k) => k.startsWith('callmarker.job.')), ['callmarker.job.0']);
  properties.setProperty('callmarker.job.0', '{"job": {"id": 7}}');
  assert.equal(dana.addIn.readJournal_(properties, 0), null, 'a journal that is not one is none');
});

test('the decisions are pure: which triggers a person needs, and what a run does first', () => {
  const { person } = team();
  const { addIn } = person('dana@example.com');
  const auto = (owner, mode, every, extra = {}) => ({ owner, mode, every_minutes: every, last_started_at: null, owed: false, ...extra });
  const journal = (by, sheetId, startedAt = 0) => ({ by, started_at: startedAt, job: { sheet_id: sheetId } });
  assert.deepEqual(plain(addIn.triggersNeeded_([auto('d', 'schedule', 30), auto('d', 'schedule', 5), auto('y', 'schedule', 5)], [], 'd', false)),
    { clock_minutes: 5, form: false, follow_up_ms: null });
  assert.deepEqual(plain(addIn.triggersNeeded_([auto('d', 'form', 60)], [journal('d', 1)], 'd', false)), { clock_minutes: null, form: true, follow_up_ms: MINUTE });
  assert.deepEqual(plain(addIn.triggersNeeded_([auto('d', 'schedule', 60)], [journal('d', 1)], 'd', true)), { clock_minutes: 60, form: false, follow_up_ms: null },
    'an add-on\'s hourly clock carries the job on: no second time-driven trigger');
  assert.deepEqual(plain(addIn.triggersNeeded_([auto('d', 'form', 60, { owed: true })], [], 'd', true)), { clock_minutes: null, form: true, follow_up_ms: HOUR });
  assert.deepEqual(plain(addIn.triggersNeeded_([], [journal('y', 1)], 'd', false)), { clock_minutes: null, form: false, follow_up_ms: null });
  const plan = plain(addIn.automaticPlan_([
    { sheet_id: 1, automation: auto('d', 'schedule', 15, { last_started_at: 1000 }) },
    { sheet_id: 2, automation: auto('d', 'schedule', 15, { last_started_at: 1000 - 14 * MINUTE }) },
    { sheet_id: 3, automation: auto('d', 'form', 60) },
    { sheet_id: 4, automation: auto('y', 'schedule', 5) },
    { sheet_id: 5, automation: auto('d', 'schedule', 5) },
  ], [journal('d', 5, 10), journal('d', 1, 5), journal('y', 4)], 'd', 'form', 3, 1000));
  assert.deepEqual(plan.map((p) => [p.sheet_id, Boolean(p.journal)]), [[1, true], [5, true], [2, false], [3, false]]);
  assert.equal(addIn.hideNumbers_('Phone "+972 (54) 700-1234" or 054.700.1234, row 118'), 'Phone "…" or …, row 118');
});

test('a failure is the same problem, for the hourly email, whatever the service said of it that time', () => {
  const { addIn } = team().person('dana@example.com');
  const failed = (text, sheetId = 0) => ({ sheet_id: sheetId, outcome: 'failed', text, errors: [] });
  const unreachable = (detail) => addIn.t_('en', 'log.failed', {
    message: addIn.failureMessage_(502, `CallMarker could not be reached (${detail}). The rows are marked failed.`, 'en'),
  });
  const first = unreachable('Not confirmed by CallMarker (HTTP 503, after 5 attempts); safe to retry');
  const second = unreachable('Not confirmed by CallMarker (HTTP 503, no time left to retry in this step); safe to retry');
  assert.notEqual(first, second);
  assert.equal(addIn.problemSignature_(failed(first)), addIn.problemSignature_(failed(second)));
  // another kind of failure, or the same on another tab, is another problem
  const refused = addIn.t_('en', 'log.failed', { message: addIn.failureMessage_(403, 'Not allowed.', 'en') });
  assert.notEqual(addIn.problemSignature_(failed(first)), addIn.problemSignature_(failed(refused)));
  assert.notEqual(addIn.problemSignature_(failed(first)), addIn.problemSignature_(failed(first, 5)));
});
