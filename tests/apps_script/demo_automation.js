'use strict';
/**
 * The automatic upload for `make demo`: the add-in's real files, with Google's services faked (fakes.js),
 * over real HTTP against the demo's function and Sheets emulator. Reads one JSON object on stdin:
 *   { function_url, sheets_url, spreadsheet_id, spreadsheet_name, sheet_id, sheet_title, id_token, sheets_token, email,
 *     settings: { campaign, batch_size, ... }, every_minutes, runs }
 * turns on the tab's automatic upload as `email`, fires its trigger `runs` times, one interval apart
 * (with any follow-up run that comes due), and prints one JSON object: each run's seconds, the function's
 * answers, the log tab's rows as the add-in wrote them, the emails and the triggers left.
 */

const { loadAddIn } = require('./addin');
const { FakeDocument, FakeUser, httpTransport, sheetsApiSource, createClock, fireTrigger } = require('./fakes');

const MINUTE = 60 * 1000;

function main(input) {
  const clock = createClock(Date.now());
  const source = sheetsApiSource({ baseUrl: input.sheets_url, spreadsheetId: input.spreadsheet_id, sheetTitle: input.sheet_title, accessToken: input.sheets_token });
  const document = new FakeDocument({
    id: input.spreadsheet_id, name: input.spreadsheet_name, clock, sheets: [{ name: input.sheet_title, sheetId: input.sheet_id, source }],
  });
  const http = httpTransport();
  const answers = [];
  const user = new FakeUser(document, {
    email: input.email, identityToken: input.id_token, oauthToken: input.sheets_token,
    fetch: (request) => {
      const response = http(request);
      answers.push({ status: response.status, ...JSON.parse(response.body) });
      return response;
    },
  });
  const addIn = loadAddIn(user.globals(), { clock, config: { functionUrl: input.function_url } });
  const saved = addIn.saveSettings({ sheet_id: input.sheet_id, ...input.settings });
  if (!saved.ok) {
    throw new Error(`the settings were refused: ${JSON.stringify(saved.errors)}`);
  }
  const turnedOn = addIn.saveAutomation({ sheet_id: input.sheet_id, mode: 'schedule', every_minutes: input.every_minutes });
  const runs = [];
  for (let run = 0; run < input.runs; run += 1) {
    clock.advance(input.every_minutes * MINUTE);
    for (let executions = 0; document.dueTriggers().length > 0 && executions < 20; executions += 1) {
      const trigger = document.dueTriggers()[0];
      const started = Date.now();
      const before = answers.length;
      fireTrigger(trigger, addIn);
      runs.push({ trigger: trigger.handler, seconds: (Date.now() - started) / 1000, steps: answers.length - before });
      clock.advance(MINUTE);
    }
  }
  const log = document.sheets.find((sheet) => sheet.name === 'CallMarker log');
  return {
    status: String(turnedOn.view.status),
    runs,
    answers: answers.map((a) => ({ status: a.status, done: a.done, counts: a.counts, message: a.message, error: a.error })),
    log: log ? log.source.values('FORMATTED_VALUE') : [],
    emails: user.log.emails.map((e) => ({ to: e.to, subject: e.subject })),
    triggers: document.triggers.map((t) => t.handler),
  };
}

let text = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { text += chunk; });
process.stdin.on('end', () => {
  try {
    process.stdout.write(JSON.stringify(main(JSON.parse(text))) + '\n');
  } catch (error) {
    process.stderr.write(String(error && error.stack ? error.stack : error) + '\n');
    process.exitCode = 1;
  }
});
