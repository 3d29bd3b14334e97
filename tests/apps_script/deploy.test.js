'use strict';
// deploy/apps_script.sh against a fake clasp on PATH that records what it was asked to do.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const REPO = path.resolve(__dirname, '..', '..');
const FUNCTION_URL = 'https://me-west1-sales-tools.cloudfunctions.net/callmarker-upload';
const AUDIENCE = '1234-abc.apps.googleusercontent.com';

// Records its arguments, its folder, and the files there; `create` answers as clasp does, with a
// .clasp.json and a default manifest in the current folder.
const FAKE_CLASP = `#!/usr/bin/env node
const fs = require('fs');
const path = require('path');
const cwd = process.cwd();
const files = {};
for (const name of fs.readdirSync(cwd)) files[name] = fs.readFileSync(path.join(cwd, name), 'utf8');
fs.appendFileSync(process.env.CLASP_LOG, JSON.stringify({ args: process.argv.slice(2), cwd, files }) + '\\n');
if (process.argv[2] === 'create') {
  fs.writeFileSync('.clasp.json', JSON.stringify({ scriptId: '1xNewScriptId', rootDir: cwd }));
  fs.writeFileSync('appsscript.json', JSON.stringify({ timeZone: 'America/New_York' }));
  fs.writeFileSync('Code.js', 'function myFunction() {}');
}
`;

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
  fs.writeFileSync(path.join(bin, 'clasp'), FAKE_CLASP, { mode: 0o755 });
  const log = path.join(root, 'clasp.log');
  const deploy = (args, env = {}) => {
    const result = spawnSync('bash', [path.join(root, 'deploy', 'apps_script.sh'), ...args], {
      encoding: 'utf8',
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: root, CLASP_LOG: log, ...env },
    });
    return { ...result, calls: fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map(JSON.parse) : [] };
  };
  return { root, deploy, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

test('first run: creates a script bound to the spreadsheet, then pushes the configured add-in', (t) => {
  const { root, deploy, cleanup } = workspace();
  t.after(cleanup);
  const { status, stderr, calls } = deploy(['--function-url', FUNCTION_URL, '--audience', AUDIENCE, '--spreadsheet-id', '1AbCdEf']);
  assert.equal(status, 0, stderr);
  assert.deepEqual(calls.map((c) => c.args), [
    ['create', '--type', 'sheets', '--title', 'CallMarker', '--parentId', '1AbCdEf'],
    ['push', '--force'],
  ]);
  assert.notEqual(calls[0].cwd, path.join(root, 'apps_script'), 'clasp create runs apart from the add-in');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(root, 'apps_script', '.clasp.json'), 'utf8')), { scriptId: '1xNewScriptId', rootDir: '.' });

  const pushed = calls[1].files;
  assert.deepEqual(JSON.parse(pushed['.clasp.json']), { scriptId: '1xNewScriptId', rootDir: '.' });
  const committed = fs.readdirSync(path.join(REPO, 'apps_script')).filter((n) => /\.(js|html)$/.test(n) || n === 'appsscript.json');
  assert.deepEqual(Object.keys(pushed).filter((n) => n !== '.clasp.json').sort(), committed.sort());
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

test('the pushed Config.js is valid Apps Script that the add-in reads', (t) => {
  const { deploy, cleanup } = workspace();
  t.after(cleanup);
  const { calls } = deploy(['--function-url', FUNCTION_URL, '--spreadsheet-id', 'x']);
  const vm = require('node:vm');
  const context = vm.createContext({});
  vm.runInContext(`${calls[1].files['Config.js']}\nthis.config = CONFIG;`, context);
  assert.deepEqual({ ...context.config }, { functionUrl: FUNCTION_URL, idTokenAudience: '' });
});

test('running again pushes the same add-in to the same script, creating nothing', (t) => {
  const { deploy, cleanup } = workspace();
  t.after(cleanup);
  const options = ['--function-url', FUNCTION_URL, '--audience', AUDIENCE, '--spreadsheet-id', '1AbCdEf'];
  assert.equal(deploy(options).status, 0);
  const { status, calls } = deploy(options);
  assert.equal(status, 0);
  assert.deepEqual(calls.map((c) => c.args[0]), ['create', 'push', 'push']);
  assert.deepEqual(calls[2].files, calls[1].files);
});

test('the settings can come from the environment, and the script id from .clasp.json', (t) => {
  const { root, deploy, cleanup } = workspace();
  t.after(cleanup);
  fs.writeFileSync(path.join(root, 'apps_script', '.clasp.json'), JSON.stringify({ scriptId: '1xExisting', rootDir: '.' }));
  const { status, stderr, calls } = deploy([], { FUNCTION_URL, ID_TOKEN_AUDIENCE: AUDIENCE });
  assert.equal(status, 0, stderr);
  assert.deepEqual(calls.map((c) => c.args), [['push', '--force']]);
  assert.equal(JSON.parse(calls[0].files['.clasp.json']).scriptId, '1xExisting');
  assert.match(calls[0].files['Config.js'], new RegExp(AUDIENCE.replace(/\./g, '\\.')));
});

test('--dry-run prints the commands and runs none', (t) => {
  const { root, deploy, cleanup } = workspace();
  t.after(cleanup);
  const { status, stdout, calls } = deploy(['--dry-run', '--function-url', FUNCTION_URL, '--spreadsheet-id', '1AbCdEf']);
  assert.equal(status, 0);
  assert.deepEqual(calls, []);
  assert.match(stdout, /^\+ \(cd \S+ && clasp create --type sheets --title CallMarker --parentId 1AbCdEf\)$/m);
  assert.match(stdout, /^\+ \(cd \S+ && clasp push --force\)$/m);
  assert.equal(fs.existsSync(path.join(root, 'apps_script', '.clasp.json')), false, 'nothing written');
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

  fs.copyFileSync(path.join(root, 'apps_script', '.clasp.json.example'), path.join(root, 'apps_script', '.clasp.json'));
  const placeholder = deploy(['--function-url', FUNCTION_URL]);
  assert.notEqual(placeholder.status, 0);
  assert.match(placeholder.stderr, /still holds the example's placeholder/);

  const unknown = deploy(['--function-url', FUNCTION_URL, '--frobnicate']);
  assert.notEqual(unknown.status, 0);
  assert.match(unknown.stderr, /unknown option: --frobnicate/);
  assert.deepEqual(unknown.calls, []);
});
