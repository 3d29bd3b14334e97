'use strict';
/**
 * The local stack of the end-to-end tests, from Node: `python -m tests.e2e_stack` (the function and
 * both emulators on 127.0.0.1), started with the given arguments; its one JSON line describes it.
 */

const path = require('node:path');
const { spawn } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
const STARTUP_MS = 60 * 1000;
const SHUTDOWN_MS = 15 * 1000;

/**
 * Starts python -m tests.e2e_stack; `info` resolves with its one JSON line.
 * @param {string[]} args
 */
function startStack(args) {
  const child = spawn(PYTHON, ['-m', 'tests.e2e_stack', ...args], {
    cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-4000); });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const info = new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the stack did not start in ${STARTUP_MS / 1000} s: ${stderr}`)), STARTUP_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${path.relative(ROOT, PYTHON)} (make setup creates it): ${error.message}`));
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const end = out.indexOf('\n');
      if (end >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(out.slice(0, end)));
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the stack exited (${code ?? signal}) before it was ready: ${stderr}`));
    });
  });
  return { child, info, exited, stderr: () => stderr };
}

/** Ends the stack: stdin closed first (its way to stop), SIGTERM if it lingers, SIGKILL as a last resort. */
async function stopStack(stack) {
  const timeout = (ms) => new Promise((resolve) => setTimeout(() => resolve(null), ms).unref());
  stack.child.stdin.end();
  let outcome = await Promise.race([stack.exited, timeout(SHUTDOWN_MS)]);
  if (!outcome) {
    stack.child.kill('SIGTERM');
    outcome = await Promise.race([stack.exited, timeout(SHUTDOWN_MS)]);
  }
  if (!outcome) {
    stack.child.kill('SIGKILL');
    outcome = await stack.exited;
  }
  return outcome;
}

module.exports = { ROOT, startStack, stopStack };
