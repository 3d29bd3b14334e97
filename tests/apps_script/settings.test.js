'use strict';
// Settings of each tab, shared by everyone who edits the spreadsheet, stamped with who changed them
// last; each user's own preferences; and only what the user set travels to the function.

const test = require('node:test');
const assert = require('node:assert/strict');
const { scenario, noCard, answer, plain, loadAddIn, sidebarState, leads, visible, FUNCTION_URL } = require('./addin');
const { FakeDocument, FakeUser, valuesSource, scriptedTransport, answersInOrder, createClock } = require('./fakes');

/** Two tabs, Dana and Yossi on them, a clock at 2025-01-05 09:00 UTC (11:00 in Jerusalem). */
function twoTabs() {
  const clock = createClock();
  const document = new FakeDocument({
    id: 'team-sheet',
    sheets: [{ name: 'Leads', sheetId: 0, source: valuesSource(leads(5)) }, { name: 'כנס', sheetId: 9, source: valuesSource(leads(5)) }],
  });
  const dana = new FakeUser(document, { email: 'dana@example.com', fetch: scriptedTransport(answersInOrder([answer(), answer()])) });
  const yossi = new FakeUser(document, { email: '', fetch: scriptedTransport(answersInOrder([answer()])) });
  for (const user of [dana, yossi]) {
    user.userProperties.setProperty('callmarker.preferences', JSON.stringify({ language: '', skip_card_up_to: 50000 }));
  }
  const config = { functionUrl: FUNCTION_URL };
  return { clock, document, dana, yossi, danaAddIn: loadAddIn(dana.globals(), { clock, config }), yossiAddIn: loadAddIn(yossi.globals(), { clock, config }) };
}

test('each tab has its own settings: a change on one tab leaves the other as it was', () => {
  const { dana, danaAddIn } = twoTabs();
  assert.equal(danaAddIn.saveSettings({ sheet_id: 0, campaign: '11', campaign_name: 'Summer leads' }).ok, true);
  assert.equal(danaAddIn.saveSettings({ sheet_id: 9, campaign: '42', status: '12' }).ok, true);
  dana.select('A2:A3');
  danaAddIn.uploadSelectedRows();
  dana.openSheet('כנס').select('A2:A3');
  danaAddIn.uploadSelectedRows();
  assert.deepEqual(dana.log.requests.map((r) => [r.json.sheet_id, r.json.options]), [
    [0, { campaign: '11' }],
    [9, { campaign: '42', status: 12 }],
  ]);
});

test('settings are shared by every editor, and say who changed them last and when', () => {
  const { clock, danaAddIn, yossi, yossiAddIn } = twoTabs();
  clock.advance(3 * 60 * 1000);
  const saved = plain(danaAddIn.saveSettings({ sheet_id: 0, campaign: '11', override: true }));
  assert.equal(visible(saved.view.changed), 'Last changed by dana@example.com, 2025-01-05 11:03.');

  // Yossi sees Dana's settings; his own save is stamped, though Google does not tell his email.
  yossiAddIn.showSettings();
  const seen = sidebarState(yossi.log.sidebars[0]).settings;
  assert.equal(seen.settings.campaign, '11');
  assert.equal(visible(seen.changed), 'Last changed by dana@example.com, 2025-01-05 11:03.');
  clock.advance(60 * 60 * 1000);
  const his = plain(yossiAddIn.saveSettings({ sheet_id: 0, campaign: '12', override: true }));
  assert.equal(visible(his.view.changed), 'Last changed 2025-01-05 12:03, by someone whose email Google does not show the add-in ' +
    '(an account outside your organisation, or a personal one).');
});

test('saving unchanged settings does not claim a change', () => {
  const { clock, danaAddIn, yossiAddIn } = twoTabs();
  danaAddIn.saveSettings({ sheet_id: 0, campaign: '11' });
  clock.advance(60 * 60 * 1000);
  const again = plain(yossiAddIn.saveSettings({ sheet_id: 0, campaign: '11' }));
  assert.equal(visible(again.view.changed), 'Last changed by dana@example.com, 2025-01-05 11:00.');
});

test('a tab never saved says so; one with the spreadsheet-wide settings of an earlier version says where they come from', () => {
  const { document, danaAddIn } = twoTabs();
  assert.equal(visible(plain(danaAddIn.settingsView_('en', document.sheets[0], danaAddIn.loadTabSettings_(document.documentProperties, 0), { language: '', skip_card_up_to: 0 })).changed),
    'Never changed: these are the defaults.');
  document.documentProperties.setProperty('callmarker.settings', JSON.stringify({
    campaign: '11', agent_name: '', override: true, unique: false, status: 12, international: false, default_region: 'IL', batch_size: 100, header_row: 1,
  }));
  const inherited = plain(danaAddIn.loadTabSettings_(document.documentProperties, 9));
  assert.equal(inherited.inherited, true);
  assert.equal(danaAddIn.changedText_('en', inherited, 'Asia/Jerusalem'),
    'Not saved for this sheet yet: these are the spreadsheet\'s earlier settings, used until someone saves.');
  assert.deepEqual(plain(danaAddIn.requestOptions_(inherited.settings)), { campaign: '11', override: true, status: 12 },
    'the old defaults (region IL, batch 100, header row 1) were not choices: the function\'s own apply');
});

test('only what the user set is sent: the function\'s own region and batch size apply otherwise', () => {
  const { user, addIn } = noCard({ answers: [answer(), answer()] });
  user.select('A2');
  addIn.uploadSelectedRows();
  assert.deepEqual(user.log.requests[0].json.options, {});

  addIn.saveSettings({ campaign: ' 11 ', campaign_name: 'Summer leads', agent_name: 'Dana', override: true, unique: true, status: '11',
    international: false, default_region: 'gb', batch_size: '200', header_row: '1' });
  addIn.uploadSelectedRows();
  assert.deepEqual(user.log.requests[1].json.options, {
    campaign: '11', agent_name: 'Dana', override: true, unique: true, status: 11, default_region: 'GB', batch_size: 200, header_row: 1,
  }, 'the campaign\'s name is ours alone: it is never sent');
});

test('each invalid setting gets its own message, in the user\'s language, and nothing is saved', () => {
  const { addIn, document } = scenario();
  const cases = [
    [{ unique: true }, 'unique', /needs a campaign and "Update existing customers"/],
    [{ campaign: '11', unique: true }, 'unique', /needs a campaign and "Update existing customers"/],
    [{ agent_name: 'Dana' }, 'agent_name', /An agent needs a campaign/],
    [{ campaign_name: 'Summer' }, 'campaign_name', /A campaign name goes with a campaign number/],
    [{ batch_size: '0' }, 'batch_size', /Batch size is a whole number from 1 to 1,000/],
    [{ batch_size: '1001' }, 'batch_size', /from 1 to 1,000/],
    [{ batch_size: '2.5' }, 'batch_size', /whole number/],
    [{ header_row: '0' }, 'header_row', /Header row is a row number: 1 or more/],
    [{ header_row: 'first' }, 'header_row', /1 or more/],
    [{ campaign: 'Summer leads' }, 'campaign', /campaign number in CallMarker, such as 11/],
    [{ status: '5' }, 'status', /Status is one of: 1 Waiting, 10 Not Interested, 11 Interested, 12 Follow Up, 18 Completed/],
    [{ default_region: 'ISR' }, 'default_region', /two-letter country code/],
    [{ language: 'fr' }, 'language', /Choose a language from the list/],
    [{ skip_card_up_to: '50001' }, 'skip_card_up_to', /from 0 to 50,000/],
  ];
  for (const [form, field, message] of cases) {
    const result = addIn.saveSettings(form);
    assert.equal(result.ok, false, JSON.stringify(form));
    assert.deepEqual(Object.keys(result.errors), [field], JSON.stringify(form));
    assert.match(result.errors[field], message);
  }
  assert.deepEqual(document.documentProperties.getKeys(), []);
  const hebrew = scenario({ locale: 'iw' }).addIn.saveSettings({ status: '5' });
  assert.equal(hebrew.errors.status, 'סטטוס הוא אחד מאלה: 1 ממתין, 10 לא מעוניין, 11 מעוניין, 12 פולואפ, 18 הושלם.');
});

test('the edges of the valid ranges are accepted, and empty means "not set"', () => {
  const { addIn } = scenario();
  assert.equal(addIn.saveSettings({ batch_size: '1', header_row: '1' }).ok, true);
  assert.equal(addIn.saveSettings({ batch_size: '1000', header_row: '40', skip_card_up_to: '50000' }).ok, true);
  assert.equal(addIn.saveSettings({ campaign: '7', override: true, unique: true, agent_name: 'Dana' }).ok, true);
  const empty = plain(addIn.saveSettings({ batch_size: '', header_row: '', default_region: '' }));
  assert.deepEqual([empty.view.settings.batch_size, empty.view.settings.header_row, empty.view.settings.default_region], [null, null, '']);
});

test('a job does not start with saved settings that are not valid', () => {
  const { user, addIn, document } = noCard();
  // Settings written by an older version, or by hand: the job refuses them instead of sending them.
  document.documentProperties.setProperty('callmarker.settings.1204', JSON.stringify({ settings: { unique: true, batch_size: 5000 } }));
  user.select('A2');
  addIn.uploadSelectedRows();
  assert.equal(user.log.requests.length, 0);
  assert.match(visible(user.log.alerts[0].prompt), /^Fix the settings of "Leads" first \(Extensions > CallMarker > Settings…\): .*campaign.*Batch size/);
});

test('unreadable saved settings fall back to the defaults', () => {
  const { addIn, document } = scenario();
  document.documentProperties.setProperty('callmarker.settings.1204', '{not json');
  assert.equal(addIn.loadTabSettings_(document.documentProperties, 1204).settings.batch_size, null);
});

test('preferences are the user\'s own: a colleague keeps theirs, and a language change reopens the sidebar in it', () => {
  const { dana, yossi, danaAddIn, yossiAddIn } = twoTabs();
  const result = plain(danaAddIn.saveSettings({ sheet_id: 0, language: 'he', skip_card_up_to: '100' }));
  assert.equal(result.ok, true);
  assert.equal(result.reload, true);
  assert.equal(result.view.title, 'הגדרות לגיליון "\u2068Leads\u2069"');
  assert.deepEqual(JSON.parse(dana.userProperties.getProperty('callmarker.preferences')), { language: 'he', skip_card_up_to: 100, notify_carried: false });
  assert.equal(yossi.userProperties.getProperty('callmarker.preferences'), JSON.stringify({ language: '', skip_card_up_to: 50000 }));
  yossiAddIn.onOpen({ authMode: 'LIMITED' });
  assert.equal(yossi.log.menus[0].items[0].caption, 'Upload selected rows');
});

test('the settings form shows the saved settings of the tab it was opened on', () => {
  const { user, addIn } = scenario();
  addIn.saveSettings({ campaign: '11', campaign_name: 'מבצע קיץ', agent_name: 'דנה', override: true, status: '12', batch_size: '250' });
  addIn.showSettings();
  const state = sidebarState(user.log.sidebars[0]);
  assert.equal(state.view, 'settings');
  assert.equal(state.settings.sheet_id, 1204);
  assert.equal(visible(state.settings.title), 'Settings for "Leads"');
  assert.deepEqual(state.settings.settings, {
    campaign: '11', campaign_name: 'מבצע קיץ', agent_name: 'דנה', override: true, unique: false, status: 12, international: false,
    default_region: '', batch_size: 250, header_row: null,
  });
});

test('no secret is stored in any properties, shown in a cell, toast, message or sidebar', () => {
  const { user, addIn, document } = noCard({
    answers: [answer({ done: false, cursor: 'c1', processed_rows: 1, total_rows: 3 }), { status: 401, json: { error: { code: 401, message: 'bad token' } } }],
    config: { functionUrl: 'https://f.example/upload', idTokenAudience: 'other-client.apps.googleusercontent.com' },
  });
  addIn.saveSettings({ campaign: '11' });
  user.select('A2:A4');
  addIn.uploadSelectedRows();
  assert.equal(user.log.requests.length, 2);
  const secrets = [user.idToken(), user.oauthToken];
  const seen = JSON.stringify({
    documentProperties: document.documentProperties.getProperties(),
    scriptProperties: document.scriptProperties.getProperties(),
    userProperties: user.userProperties.getProperties(),
    toasts: user.log.toasts,
    alerts: user.log.alerts,
    sidebars: user.log.sidebars.map((s) => s.getContent()),
    cells: document.sheets[0].source.rows,
  });
  for (const secret of secrets) {
    assert.ok(!seen.includes(secret));
    assert.ok(!seen.includes(secret.slice(0, 20)), 'not even a piece of it');
  }
  // The tokens do travel, in the headers of the request to the function and nowhere else in it.
  assert.equal(user.log.requests[0].headers.Authorization, `Bearer ${user.idToken()}`);
  assert.equal(user.log.requests[0].headers['X-Sheets-Token'], user.oauthToken);
  assert.ok(!user.log.requests[0].payload.includes(user.oauthToken));
});
