'use strict';
// deploy/apps_script.sh against a fake clasp on PATH (fake_clasp.js: clasp 3.4.1's options and behaviour)
// that records what it was asked to do and keeps Google's side in a state file.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const fakeClasp = require('./fake_clasp.js');

const REPO = path.resolve(__dirname, '..', '..');
const FAKE = path.join(__dirname, 'fake_clasp.js');
const FUNCTION_URL = 'https://me-west1-sales-tools.cloudfunctions.net/callmarker-upload';
const AUDIENCE = '1234-abc.apps.googleusercontent.com';
const SPREADSHEET = '1AbCdEfLeadsSheet';

/** A copy of the repository's deploy script and add-in in a scratch folder, and a fake clasp. */
function workspace() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'callmarker-deploy-'));
  fs.mkdirSync(path.join(root, 'deploy'));
  fs.copyFileSync(path.join(REPO, 'deploy', 'apps_script.sh'), path.join(root, 'deploy', 'apps_script.sh'));
  fs.cpSync(path.join(REPO, 'apps_script'), path.join(root, 'apps_script'), {
    recursive: true, filter: (source) => path.basename(source) !== '.clasp.json',
  });
  const bin = path.join(root, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'clasp'), `#!/bin/sh\nexec "${process.execPath}" "${FAKE}" "$@"\n`, { mode: 0o755 });
  const log = path.join(root, 'clasp.log');
  const stateFile = path.join(root, 'google.json');
  const deploy = (args, env = {}) => {
    fs.rmSync(log, { force: true });
    const result = spawnSync('bash', [path.join(root, 'deploy', 'apps_script.sh'), ...args], {
      encoding: 'utf8',
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: root, CLASP_LOG: log, FAKE_CLASP_STATE: stateFile, ...env },
    });
    const calls = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
    return { ...result, calls };
  };
  const google = () => JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  return { root, deploy, google, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

test('the fake clasp parses as clasp 3.4.1 does', () => {
  assert.deepEqual(fakeClasp.parse(['create', '--title', 'T', '--parentId=1x']),
    { command: 'create-script', options: { '--title': 'T', '--parentId': '1x' }, args: [] });
  assert.deepEqual(fakeClasp.parse(['--json', 'version', 'v1']).args, ['v1']);
  assert.deepEqual(fakeClasp.parse(['deploy', '-V', '3', '-i', 'AKfy1']).options, { '--versionNumber': '3', '--deploymentId': 'AKfy1' });
  for (const wrong of [['push', '--yes'], ['create', '--parent-id', 'x'], ['version', 'a', 'b'], ['publish'], ['push', '--force=1']]) {
    assert.throws(() => fakeClasp.parse(wrong), fakeClasp.Refused, wrong.join(' '));
  }
});

test('first run: creates a script bound to the existing spreadsheet, then pushes the configured add-in', (t) => {
  const { root, deploy, google, cleanup } = workspace();
  t.after(cleanup);
  const { status, stderr, calls } = deploy(['--function-url', FUNCTION_URL, '--audience', AUDIENCE, '--spreadsheet-id', SPREADSHEET]);
  assert.equal(status, 0, stderr);
  assert.deepEqual(calls.map((c) => c.args), [
    ['create', '--title', 'CallMarker', '--parentId', SPREADSHEET],
    ['push', '--force'],
  ]);
  assert.ok(calls.every((c) => !c.refused), 'clasp accepted every call');
  const state = google();
  const [scriptId] = Object.keys(state.scripts);
  assert.equal(state.scripts[scriptId].boundTo, SPREADSHEET, 'bound to the spreadsheet the user named');
  assert.equal(state.createdFiles, undefined, 'no new spreadsheet was made');
  assert.notEqual(calls[0].cwd, path.join(root, 'apps_script'), 'clasp create runs apart from the add-in');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(root, 'apps_script', '.clasp.json'), 'utf8')), { scriptId, rootDir: '.' });

  const [pushed] = state.scripts[scriptId].pushes;
  const committed = fs.readdirSync(path.join(REPO, 'apps_script')).filter((n) => /\.(js|html)$/.test(n) || n === 'appsscript.json');
  assert.deepEqual(Object.keys(pushed).sort(), committed.sort());
  assert.match(pushed['Config.js'], new RegExp(`"functionUrl": "${FUNCTION_URL}"`));
  assert.match(pushed['Config.js'], new RegExp(`"idTokenAudience": "${AUDIENCE}"`));
  const manifest = JSON.parse(pushed['appsscript.json']);
  assert.deepEqual(manifest.urlFetchWhitelist, ['https://me-west1-sales-tools.cloudfunctions.net/']);
  assert.equal(manifest.runtimeVersion, 'V8');
  assert.equal(manifest.timeZone, 'Asia/Jerusalem', 'our manifest, not the one clasp create made');
  assert.ok(!('Code.js' in pushed), 'nothing of the default project is pushed');

  // The add-in in the repository is left as it was: the configured copy is pushed, not written back.
  assert.equal(fs.readFileSync(path.join(root, 'apps_script', 'Config.js'), 'utf8'), fs.readFileSync(path.join(REPO, 'apps_script', 'Config.js'), 'utf8'));
});

test('the fake catches the old way: --type sheets makes a new spreadsheet and ignores --parentId', (t) => {
  const { root, cleanup } = workspace();
  t.after(cleanup);
  const dir = fs.mkdtempSync(path.join(root, 'scratch-'));
  const env = { ...process.env, CLASP_LOG: path.join(root, 'clasp.log'), FAKE_CLASP_STATE: path.join(root, 'google.json') };
  const result = spawnSync(process.execPath, [FAKE, 'create', '--type', 'sheets', '--title', 'CallMarker', '--parentId', SPREADSHEET], { cwd: dir, env, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const state = JSON.parse(fs.readFileSync(path.join(root, 'google.json'), 'utf8'));
  const [script] = Object.values(state.scripts);
  assert.notEqual(script.boundTo, SPREADSHEET);
  assert.deepEqual(state.createdFiles, [script.boundTo]);
});

test('the pushed Config.js is valid Apps Script that the add-in reads', (t) => {
  const { deploy, google, cleanup } = workspace();
  t.after(cleanup);
  assert.equal(deploy(['--function-url', FUNCTION_URL, '--spreadsheet-id', 'x']).status, 0);
  const [script] = Object.values(google().scripts);
  const vm = require('node:vm');
  const context = vm.createContext({});
  vm.runInContext(`${script.pushes[0]['Config.js']}\nthis.config = CONFIG;`, context);
  assert.deepEqual({ ...context.config }, { functionUrl: FUNCTION_URL, idTokenAudience: '' });
});

test('running again pushes the same add-in to the same script, creating nothing', (t) => {
  const { deploy, google, cleanup } = workspace();
  t.after(cleanup);
  const options = ['--function-url', FUNCTION_URL, '--audience', AUDIENCE, '--spreadsheet-id', SPREADSHEET];
  assert.equal(deploy(options).status, 0);
  const { status, calls } = deploy(options);
  assert.equal(status, 0);
  assert.deepEqual(calls.map((c) => c.args), [['push', '--force']]);
  const scripts = Object.values(google().scripts);
  assert.equal(scripts.length, 1);
  assert.equal(scripts[0].pushes.length, 2);
  assert.deepEqual(scripts[0].pushes[1], scripts[0].pushes[0]);
});

test('the settings can come from the environment, and the script id from .clasp.json', (t) => {
  const { root, deploy, google, cleanup } = workspace();
  t.after(cleanup);
  // a script made by hand in the spreadsheet (Extensions > Apps Script), known to Google
  fs.writeFileSync(path.join(root, 'google.json'), JSON.stringify({ next: 9, scripts: { '1xExisting': { boundTo: SPREADSHEET, manifest: null, pushes: [], versions: [], deployments: {} } } }));
  fs.writeFileSync(path.join(root, 'apps_script', '.clasp.json'), JSON.stringify({ scriptId: '1xExisting', rootDir: '.' }));
  const { status, stderr, calls } = deploy([], { FUNCTION_URL, ID_TOKEN_AUDIENCE: AUDIENCE });
  assert.equal(status, 0, stderr);
  assert.deepEqual(calls.map((c) => c.args), [['push', '--force']]);
  const [pushed] = google().scripts['1xExisting'].pushes;
  assert.match(pushed['Config.js'], new RegExp(AUDIENCE.replace(/\./g, '\\.')));
});

test('--addon: a standalone project, pushed, versioned and deployed; the next run updates the same deployment', (t) => {
  const { root, deploy, google, cleanup } = workspace();
  t.after(cleanup);
  const first = deploy(['--addon', '--function-url', FUNCTION_URL, '--audience', AUDIENCE, '--description', 'first release']);
  assert.equal(first.status, 0, first.stderr);
  assert.deepEqual(first.calls.map((c) => c.args), [
    ['create', '--type', 'standalone', '--title', 'CallMarker for Google Sheets'],
    ['push', '--force'],
    ['--json', 'create-version', 'first release'],
    ['--json', 'create-deployment', '--versionNumber', '1', '--description', 'first release'],
  ]);
  assert.ok(first.calls.every((c) => !c.refused), 'clasp accepted every call');
  let state = google();
  const [scriptId] = Object.keys(state.scripts);
  const script = state.scripts[scriptId];
  assert.equal(script.boundTo, null, 'standalone: bound to no spreadsheet');
  const [deploymentId] = Object.keys(script.deployments);
  assert.deepEqual(script.deployments[deploymentId], { versionNumber: 1, description: 'first release' });
  assert.equal(script.versions[0].files['Config.js'], script.pushes[0]['Config.js'], 'the version holds what was pushed');
  assert.match(first.stdout, new RegExp(`^script_id=${scriptId}$`, 'm'));
  assert.match(first.stdout, /^version=1$/m);
  assert.match(first.stderr, /Google Workspace Marketplace SDK > App Configuration/);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(root, 'apps_script', 'addon', '.clasp.json'), 'utf8')), { scriptId, rootDir: '.', deploymentId });
  assert.equal(fs.existsSync(path.join(root, 'apps_script', '.clasp.json')), false, 'the bound script is left alone');

  const second = deploy(['--addon', '--function-url', FUNCTION_URL, '--audience', AUDIENCE, '--description', 'second release']);
  assert.equal(second.status, 0, second.stderr);
  assert.deepEqual(second.calls.map((c) => c.args), [
    ['push', '--force'],
    ['--json', 'create-version', 'second release'],
    ['--json', 'create-deployment', '--versionNumber', '2', '--description', 'second release', '--deploymentId', deploymentId],
  ]);
  state = google();
  assert.deepEqual(Object.keys(state.scripts), [scriptId], 'no second project');
  assert.deepEqual(state.scripts[scriptId].deployments, { [deploymentId]: { versionNumber: 2, description: 'second release' } });
  assert.match(second.stdout, /^version=2$/m);
});

test('--dry-run prints the commands and runs none', (t) => {
  const { root, deploy, cleanup } = workspace();
  t.after(cleanup);
  const bound = deploy(['--dry-run', '--function-url', FUNCTION_URL, '--spreadsheet-id', SPREADSHEET]);
  assert.equal(bound.status, 0, bound.stderr);
  assert.deepEqual(bound.calls, []);
  assert.match(bound.stdout, new RegExp(`^\\+ \\(cd \\S+ && clasp create --title CallMarker --parentId ${SPREADSHEET}\\)$`, 'm'));
  assert.match(bound.stdout, /^\+ \(cd \S+ && clasp push --force\)$/m);
  assert.equal(fs.existsSync(path.join(root, 'apps_script', '.clasp.json')), false, 'nothing written');

  const addon = deploy(['--dry-run', '--addon', '--function-url', FUNCTION_URL, '--description', 'v']);
  assert.equal(addon.status, 0, addon.stderr);
  assert.deepEqual(addon.calls, []);
  assert.match(addon.stdout, /clasp create --type standalone --title CallMarker\\ for\\ Google\\ Sheets\)$/m);
  assert.match(addon.stdout, /clasp --json create-version v\)$/m);
  assert.match(addon.stdout, /clasp --json create-deployment --versionNumber NEW_VERSION --description v\)$/m);
  assert.equal(fs.existsSync(path.join(root, 'apps_script', 'addon')), false, 'nothing written');
});

test('missing or wrong settings: a clear message and nothing run', (t) => {
  const { root, deploy, cleanup } = workspace();
  t.after(cleanup);
  const noUrl = deploy(['--spreadsheet-id', 'x']);
  assert.notEqual(noUrl.status, 0);
  assert.match(noUrl.stderr, /the function's URL is missing: pass --function-url URL or set FUNCTION_URL/);

  const plainHttp = deploy(['--function-url', 'http://example.test/f', '--spreadsheet-id', 'x']);
  assert.notEqual(plainHttp.status, 0);
  assert.match(plainHttp.stderr, /must start with https:\/\//);

  const noScript = deploy(['--function-url', FUNCTION_URL]);
  assert.notEqual(noScript.status, 0);
  assert.match(noScript.stderr, /apps_script\/\.clasp\.json is missing: copy apps_script\/\.clasp\.json\.example/);

  const addonWithSheet = deploy(['--addon', '--function-url', FUNCTION_URL, '--spreadsheet-id', 'x']);
  assert.notEqual(addonWithSheet.status, 0);
  assert.match(addonWithSheet.stderr, /the add-on \(--addon\) is a standalone project/);

  fs.copyFileSync(path.join(root, 'apps_script', '.clasp.json.example'), path.join(root, 'apps_script', '.clasp.json'));
  const placeholder = deploy(['--function-url', FUNCTION_URL]);
  assert.notEqual(placeholder.status, 0);
  assert.match(placeholder.stderr, /still holds the example's placeholder/);

  const unknown = deploy(['--function-url', FUNCTION_URL, '--frobnicate']);
  assert.notEqual(unknown.status, 0);
  assert.match(unknown.stderr, /unknown option: --frobnicate/);
  assert.deepEqual(unknown.calls, []);
});
