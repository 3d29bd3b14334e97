#!/usr/bin/env node
'use strict';
// A fake `clasp` for the deploy script's tests. It parses its arguments as clasp 3.4.1 does and behaves as
// its commands do, with Google's side kept in a JSON file ($FAKE_CLASP_STATE); every call is appended to
// $CLASP_LOG with its folder and the files there. The rules, from @google/clasp 3.4.1 (the version pinned
// in package.json; node_modules/@google/clasp/build/src/):
// - commands/program.js: global options -A/--auth <file>, -u/--user <name>, --adc, --json,
//   --allow-symlinks, -I/--ignore <file>, -P/--project <file>; an unknown command is an error (exit 1).
// - Commander 13 (clasp's parser): an unknown option, or more arguments than a command declares, is an
//   error ("error: unknown option", "error: too many arguments"), exit 1.
// - commands/create-script.js (create-script, alias create): --type (default standalone), --title,
//   --parentId, --rootDir. A folder that already has .clasp.json is refused ("Project file already
//   exists."). --type docs|forms|sheets|slides creates a NEW container file with the script bound to it,
//   and --parentId is not used; standalone (also webapp, api) calls projects.create with --parentId,
//   which binds the script to that existing file. Then the new project is pulled (appsscript.json and
//   Code.js) and .clasp.json written.
// - commands/push.js: -f/--force, -w/--watch. When appsscript.json changed and --force is missing, a
//   run with no terminal skips the push ("Skipping push.") and still exits 0.
// - commands/create-version.js (alias version): one optional [description]; --json prints
//   {"versionNumber": N}.
// - commands/create-deployment.js (alias deploy): -V/--versionNumber, -d/--description,
//   -i/--deploymentId; without -V it creates a version first; with -i it updates that deployment;
//   --json prints {"deploymentId", "versionNumber", "description"}.

const fs = require('fs');
const path = require('path');

const GLOBAL_VALUES = { '-A': '--auth', '--auth': '--auth', '-u': '--user', '--user': '--user', '-I': '--ignore', '--ignore': '--ignore', '-P': '--project', '--project': '--project' };
const GLOBAL_FLAGS = { '--adc': '--adc', '--json': '--json', '--allow-symlinks': '--allow-symlinks' };
const COMMANDS = {
  'create-script': { values: { '--type': '--type', '--title': '--title', '--parentId': '--parentId', '--rootDir': '--rootDir' }, flags: {}, args: 0 },
  push: { values: {}, flags: { '-f': '--force', '--force': '--force', '-w': '--watch', '--watch': '--watch' }, args: 0 },
  'create-version': { values: {}, flags: {}, args: 1 },
  'create-deployment': { values: { '-V': '--versionNumber', '--versionNumber': '--versionNumber', '-d': '--description', '--description': '--description', '-i': '--deploymentId', '--deploymentId': '--deploymentId' }, flags: {}, args: 0 },
};
const ALIASES = { create: 'create-script', version: 'create-version', deploy: 'create-deployment' };
const CONTAINERS = { docs: 'document', forms: 'form', sheets: 'spreadsheet', slides: 'presentation' };
const STANDALONE = new Set(['standalone', 'webapp', 'api']);

class Refused extends Error {}

/** The command, its options and its arguments, as clasp's parser reads them; throws Refused. */
function parse(argv) {
  const options = {};
  const args = [];
  let command = null;
  const rest = [...argv];
  while (rest.length) {
    const arg = rest.shift();
    if (!arg.startsWith('-')) {
      if (command === null) {
        command = ALIASES[arg] || arg;
        if (!COMMANDS[command]) throw new Refused(`Unknown command "clasp ${arg}"`);
      } else {
        args.push(arg);
      }
      continue;
    }
    const [flag, ...inline] = arg.split('=');
    const spec = command ? COMMANDS[command] : { values: {}, flags: {} };
    const valueName = spec.values[flag] || GLOBAL_VALUES[flag];
    const flagName = spec.flags[flag] || GLOBAL_FLAGS[flag];
    if (valueName) {
      const value = inline.length ? inline.join('=') : rest.shift();
      if (value === undefined) throw new Refused(`error: option '${flag}' argument missing`);
      options[valueName] = value;
    } else if (flagName && !inline.length) {
      options[flagName] = true;
    } else {
      throw new Refused(`error: unknown option '${arg}'`);
    }
  }
  if (command === null) throw new Refused('error: a command is needed');
  if (args.length > COMMANDS[command].args) {
    throw new Refused(`error: too many arguments for '${command}'. Expected ${COMMANDS[command].args} arguments but got ${args.length}.`);
  }
  return { command, options, args };
}

function load(file) {
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : { scripts: {}, next: 1 };
}

function main(argv) {
  const cwd = process.cwd();
  const files = {};
  for (const name of fs.readdirSync(cwd)) {
    if (fs.statSync(path.join(cwd, name)).isFile()) files[name] = fs.readFileSync(path.join(cwd, name), 'utf8');
  }
  const record = { args: argv, cwd, files };
  const stateFile = process.env.FAKE_CLASP_STATE;
  const state = load(stateFile);
  const save = () => fs.writeFileSync(stateFile, JSON.stringify(state, null, 2));
  const log = (extra) => fs.appendFileSync(process.env.CLASP_LOG, JSON.stringify({ ...record, ...extra }) + '\n');
  let parsed;
  try {
    parsed = parse(argv);
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    log({ refused: error.message });
    process.stderr.write(error.message + '\n');
    return 1;
  }
  const { command, options, args } = parsed;
  const json = (value) => process.stdout.write(JSON.stringify(value, null, 2) + '\n');
  const project = () => {
    if (!fs.existsSync('.clasp.json')) throw new Refused('Project settings not found.');
    const { scriptId } = JSON.parse(fs.readFileSync('.clasp.json', 'utf8'));
    if (!state.scripts[scriptId]) throw new Refused(`Requested entity was not found: script ${scriptId}`);
    return state.scripts[scriptId];
  };
  try {
    if (command === 'create-script') {
      if (fs.existsSync('.clasp.json')) throw new Refused('Project file already exists.');
      const type = (options['--type'] || 'standalone').toLowerCase();
      const scriptId = `1xScript${state.next++}`;
      let boundTo = null;
      if (STANDALONE.has(type)) {
        boundTo = options['--parentId'] || null;
      } else if (CONTAINERS[type]) {
        boundTo = `1xNew${CONTAINERS[type]}${state.next++}`; // a new file; --parentId is not read
        state.createdFiles = [...(state.createdFiles || []), boundTo];
      } else {
        throw new Refused(`Invalid script type "${type}". Valid types are: standalone, webapp, api, docs, forms, sheets, slides.`);
      }
      state.scripts[scriptId] = { title: options['--title'] || path.basename(cwd), boundTo, manifest: null, pushes: [], versions: [], deployments: {} };
      fs.writeFileSync('.clasp.json', JSON.stringify({ scriptId, rootDir: '', parentId: boundTo || undefined }, null, 2));
      fs.writeFileSync('appsscript.json', JSON.stringify({ timeZone: 'America/New_York', runtimeVersion: 'V8' }));
      fs.writeFileSync('Code.js', 'function myFunction() {}\n');
      if (options['--json']) json({ scriptId, parentId: boundTo, files: ['appsscript.json', 'Code.js'] });
    } else if (command === 'push') {
      const script = project();
      const pushed = Object.fromEntries(Object.entries(files).filter(([name]) => /\.(js|gs|html)$/.test(name) || name === 'appsscript.json'));
      if (script.manifest !== pushed['appsscript.json'] && !options['--force']) {
        process.stdout.write('Skipping push.\n'); // no terminal to confirm the manifest on
      } else {
        script.manifest = pushed['appsscript.json'];
        script.pushes.push(pushed);
        process.stdout.write(`Pushed ${Object.keys(pushed).length} files.\n`);
      }
    } else if (command === 'create-version') {
      const script = project();
      if (!script.pushes.length) throw new Refused('The script has no content to version.');
      script.versions.push({ description: args[0] || '', files: script.pushes[script.pushes.length - 1] });
      const versionNumber = script.versions.length;
      if (options['--json']) json({ versionNumber }); else process.stdout.write(`Created version ${versionNumber}\n`);
    } else if (command === 'create-deployment') {
      const script = project();
      const description = options['--description'] || '';
      let versionNumber = options['--versionNumber'] ? Number(options['--versionNumber']) : undefined;
      if (versionNumber === undefined) {
        script.versions.push({ description, files: script.pushes[script.pushes.length - 1] });
        versionNumber = script.versions.length;
      }
      if (!Number.isInteger(versionNumber) || versionNumber < 1 || versionNumber > script.versions.length) {
        throw new Refused(`INVALID_ARGUMENT: version ${options['--versionNumber']} does not exist`);
      }
      let deploymentId = options['--deploymentId'];
      if (deploymentId && !script.deployments[deploymentId]) throw new Refused(`Requested entity was not found: deployment ${deploymentId}`);
      deploymentId = deploymentId || `AKfy${state.next++}`;
      script.deployments[deploymentId] = { versionNumber, description };
      if (options['--json']) json({ deploymentId, versionNumber, description }); else process.stdout.write(`Deployed ${deploymentId} @${versionNumber}\n`);
    }
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    save();
    log({ refused: error.message });
    process.stderr.write(error.message + '\n');
    return 1;
  }
  save();
  log({});
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}

module.exports = { parse, Refused };
