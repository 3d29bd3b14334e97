'use strict';
// The menu, the help dialog, the manifest and the settings as a user meets them.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { scenario, answer, plain } = require('./addin');
const { APPS_SCRIPT_DIR, FakeUser } = require('./fakes');

test('onOpen builds the CallMarker menu, each item bound to a function the add-in defines', () => {
  const { user, addIn } = scenario();
  addIn.onOpen({ authMode: 'LIMITED' });
  assert.equal(user.log.menus.length, 1);
  const menu = user.log.menus[0];
  assert.equal(menu.title, 'CallMarker');
  assert.deepEqual(menu.items.map((item) => item.caption || '—'), [
    'Upload selected rows', 'Upload all pending rows', 'Check selected rows (no upload)',
    'Remove selected rows from campaign', '—', 'Settings…', 'Help',
  ]);
  for (const item of menu.items.filter((i) => i.functionName)) {
    assert.equal(typeof addIn[item.functionName], 'function', item.functionName);
    assert.ok(!item.functionName.endsWith('_'), 'menu items cannot call private functions');
  }
});

test('onInstall builds the same menu', () => {
  const { user, addIn } = scenario();
  addIn.onInstall({ authMode: 'FULL' });
  assert.equal(user.log.menus[0].items.length, 7);
});

test('Help opens a dialog that explains every menu item and the status columns', () => {
  const { user, addIn } = scenario();
  addIn.showHelp();
  assert.equal(user.log.dialogs.length, 1);
  const { output, title, modal } = user.log.dialogs[0];
  assert.equal(title, 'CallMarker help');
  assert.equal(modal, true);
  const html = output.getContent();
  for (const words of ['Upload selected rows', 'Upload all pending rows', 'Check selected rows', 'Remove selected rows',
    'Settings', 'status columns', 'Stop', 'Retry failed rows']) {
    assert.ok(html.includes(words), words);
  }
});

test('the manifest asks for exactly the scopes the add-in needs, on V8', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(APPS_SCRIPT_DIR, 'appsscript.json'), 'utf8'));
  assert.equal(manifest.runtimeVersion, 'V8');
  assert.deepEqual([...manifest.oauthScopes].sort(), [
    'https://www.googleapis.com/auth/script.container.ui',
    'https://www.googleapis.com/auth/script.external_request',
    'https://www.googleapis.com/auth/spreadsheets',
    'https://www.googleapis.com/auth/userinfo.email',
    'openid',
  ]);
  assert.ok(manifest.urlFetchWhitelist.every((prefix) => /^https:\/\/[^/]+\/$/.test(prefix)));
});

test('Settings opens the sidebar with the saved settings filled in', () => {
  const { user, addIn } = scenario();
  addIn.saveSettings({ campaign: '11', agent_name: 'דנה', override: true, status: '12', batch_size: '250' });
  addIn.showSettings();
  assert.equal(user.log.sidebars.length, 1);
  const sidebar = user.log.sidebars[0];
  assert.equal(sidebar.getTitle(), 'CallMarker');
  const state = JSON.parse(/<script type="application\/json" id="state">([\s\S]*?)<\/script>/.exec(sidebar.getContent())[1]);
  assert.equal(state.view, 'settings');
  assert.deepEqual(state.settings, {
    campaign: '11', agent_name: 'דנה', override: true, unique: false, status: 12, international: false,
    default_region: 'IL', batch_size: 250, header_row: 1,
  });
});

test('settings are saved for every editor of the spreadsheet and sent with each job', () => {
  const { user, addIn, document } = scenario({ answers: [answer()] });
  const saved = addIn.saveSettings({
    campaign: ' 11 ', agent_name: 'Dana', override: true, unique: true, status: '11', international: false,
    default_region: 'il', batch_size: '200', header_row: '1',
  });
  assert.equal(saved.ok, true);
  assert.deepEqual(plain(saved.errors), {});

  const colleague = new FakeUser(document, { email: 'yossi@example.com' });
  const { loadAddIn } = require('./addin');
  assert.deepEqual(plain(loadAddIn(colleague.globals()).loadSettings_()), plain(saved.settings));

  user.select('A2:A3');
  addIn.uploadSelectedRows();
  assert.deepEqual(user.log.requests[0].json.options, {
    campaign: '11', agent_name: 'Dana', override: true, unique: true, status: 11, international: false,
    default_region: 'IL', batch_size: 200, header_row: 1,
  });
});

test('a spreadsheet without settings uses the defaults; unset options travel as null or false', () => {
  const { user, addIn } = scenario({ answers: [answer()] });
  user.select('A2');
  addIn.uploadSelectedRows();
  assert.deepEqual(user.log.requests[0].json.options, {
    campaign: null, agent_name: null, override: false, unique: false, status: null, international: false,
    default_region: 'IL', batch_size: 100, header_row: 1,
  });
});

test('each invalid setting gets its own message and nothing is saved', () => {
  const { addIn, document } = scenario();
  const cases = [
    [{ unique: true }, 'unique', /needs a campaign and "Update existing customers"/],
    [{ campaign: '11', unique: true }, 'unique', /needs a campaign and "Update existing customers"/],
    [{ agent_name: 'Dana' }, 'agent_name', /An agent needs a campaign/],
    [{ batch_size: '0' }, 'batch_size', /Batch size is a whole number from 1 to 1,000/],
    [{ batch_size: '1001' }, 'batch_size', /from 1 to 1,000/],
    [{ batch_size: '2.5' }, 'batch_size', /whole number/],
    [{ header_row: '0' }, 'header_row', /Header row is a row number: 1 or more/],
    [{ header_row: 'first' }, 'header_row', /1 or more/],
    [{ campaign: 'Summer leads' }, 'campaign', /campaign number in CallMarker, such as 11/],
    [{ status: '5' }, 'status', /Status is one of: 1 Waiting, 10 Not Interested, 11 Interested, 12 Follow Up, 18 Completed/],
    [{ default_region: 'ISR' }, 'default_region', /two-letter country code/],
  ];
  for (const [form, field, message] of cases) {
    const result = addIn.saveSettings(form);
    assert.equal(result.ok, false, JSON.stringify(form));
    assert.deepEqual(Object.keys(result.errors), [field], JSON.stringify(form));
    assert.match(result.errors[field], message);
  }
  assert.equal(document.documentProperties.getProperty('callmarker.settings'), null);
});

test('the edges of the valid ranges are accepted', () => {
  const { addIn } = scenario();
  assert.equal(addIn.saveSettings({ batch_size: '1', header_row: '1' }).ok, true);
  assert.equal(addIn.saveSettings({ batch_size: '1000', header_row: '40' }).ok, true);
  assert.equal(addIn.saveSettings({ campaign: '7', override: true, unique: true, agent_name: 'Dana' }).ok, true);
});

test('a job does not start with settings that are not valid', () => {
  const { user, addIn, document } = scenario();
  // Settings written by an older version, or by hand: the job refuses them instead of sending them.
  document.documentProperties.setProperty('callmarker.settings', JSON.stringify({ unique: true, batch_size: 5000 }));
  user.select('A2');
  addIn.uploadSelectedRows();
  assert.equal(user.log.requests.length, 0);
  assert.match(user.log.alerts[0].prompt, /^Fix the settings first \(CallMarker > Settings…\): .*campaign.*Batch size/);
});

test('unreadable saved settings fall back to the defaults', () => {
  const { addIn, document } = scenario();
  document.documentProperties.setProperty('callmarker.settings', '{not json');
  assert.equal(addIn.loadSettings_().batch_size, 100);
});

test('no secret is stored in any properties, shown in a cell, toast, message or sidebar', () => {
  const { user, addIn, document } = scenario({
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
