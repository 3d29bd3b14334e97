/**
 * The "Automatic upload" dialog's own script. It runs in the browser, never on the server: Automation.html
 * writes this function's source into the page (pageScript_ in Menu.js). Every sentence it shows comes
 * from the server already written; the page places them, and calls saveAutomation and stopAutomation.
 */

/**
 * google.script.run: every other property is a server function of the add-in.
 * @typedef {{
 *   withSuccessHandler: (handler: (value: any) => void) => AutomationRun,
 *   withFailureHandler: (handler: (error: Error) => void) => AutomationRun,
 * } & Record<string, any>} AutomationRun
 */

function automationPage_() {
  'use strict';
  /** @param {string} id */
  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
  /** @param {string} id */
  const button = (id) => /** @type {HTMLButtonElement} */ (document.getElementById(id));
  const every = /** @type {HTMLSelectElement} */ ($('every'));

  /** @type {{view: any, text: Record<string, string>}} */
  const state = JSON.parse($('state').textContent || '{}');
  const text = state.text;
  /** @type {any} */
  let view = state.view;

  /**
   * @param {(value: any) => void} onSuccess
   * @param {(error: Error) => void} onFailure
   * @returns {AutomationRun}
   */
  function server(onSuccess, onFailure) {
    const run = /** @type {AutomationRun} */ (/** @type {any} */ (window).google.script.run);
    return run.withSuccessHandler(onSuccess).withFailureHandler(onFailure);
  }

  /**
   * @param {unknown} error
   * @returns {string}
   */
  function readable(error) {
    const message = error && typeof error === 'object' && 'message' in error ? String(error.message) : String(error);
    return message.replace(/^(Error|Exception|ScriptError):\s*/, '');
  }

  /** @returns {string} the mode chosen */
  function chosenMode() {
    const checked = /** @type {HTMLInputElement | null} */ (document.querySelector('input[name=mode]:checked'));
    return checked ? checked.value : 'off';
  }

  function showCost() {
    const schedule = view.schedules.find((/** @type {{minutes: number}} */ s) => String(s.minutes) === every.value);
    $('cost').textContent = schedule ? schedule.cost : '';
    const scheduled = chosenMode() === 'schedule';
    every.disabled = !scheduled;
    $('cost').hidden = !scheduled;
    $('schedule-note').hidden = !scheduled || !view.schedule_note;
  }

  /** @param {any} next */
  function render(next) {
    view = next;
    $('title').textContent = view.title;
    $('status').textContent = view.status;
    $('last-run').textContent = view.last_run;
    $('last-run').hidden = !view.last_run;
    $('warning').textContent = view.warning;
    $('warning').hidden = !view.warning;
    every.textContent = '';
    view.schedules.forEach((/** @type {{minutes: number, label: string}} */ schedule) => {
      every.add(new Option(schedule.label, String(schedule.minutes)));
    });
    every.value = String(view.every_minutes);
    $('schedule-note').textContent = view.schedule_note;
    const form = /** @type {HTMLInputElement} */ ($('mode-form'));
    form.disabled = !view.form_available;
    $('form-note').textContent = view.form_note;
    const mode = /** @type {HTMLInputElement} */ ($('mode-' + view.mode));
    mode.checked = true;
    const mine = $('mine');
    mine.textContent = '';
    view.mine.forEach((/** @type {{sheet_id: number, sheet_name: string, text: string}} */ entry) => {
      const item = document.createElement('li');
      const name = document.createElement('b');
      name.dir = 'auto';
      name.textContent = entry.sheet_name;
      const stop = document.createElement('button');
      stop.type = 'button';
      stop.textContent = text['automation.stop'];
      stop.addEventListener('click', () => {
        stop.disabled = true;
        server(render, (error) => {
          stop.disabled = false;
          $('save-status').textContent = text['automation.not_saved'] + ' ' + readable(error);
        }).stopAutomation(entry.sheet_id, view.sheet_id);
      });
      item.append(name, ': ' + entry.text, stop);
      mine.appendChild(item);
    });
    $('mine-block').hidden = view.mine.length === 0;
    showCost();
  }

  /** @param {boolean} takeOver */
  function save(takeOver) {
    button('save').disabled = true;
    $('confirm').hidden = true;
    $('save-status').textContent = text['automation.saving'];
    server((/** @type {any} */ result) => {
      button('save').disabled = false;
      if (result.confirm) {
        $('save-status').textContent = '';
        $('confirm-text').textContent = result.confirm;
        $('confirm').hidden = false;
        return;
      }
      render(result.view);
      $('save-status').textContent = text['automation.saved'];
    }, (error) => {
      button('save').disabled = false;
      $('save-status').textContent = text['automation.not_saved'] + ' ' + readable(error);
    }).saveAutomation({ sheet_id: view.sheet_id, sheet_name: view.sheet_name, mode: chosenMode(), every_minutes: Number(every.value), take_over: takeOver });
  }

  $('automation-form').addEventListener('submit', (event) => {
    event.preventDefault();
    save(false);
  });
  document.querySelectorAll('input[name=mode]').forEach((input) => input.addEventListener('change', showCost));
  every.addEventListener('change', showCost);
  button('confirm-yes').addEventListener('click', () => save(true));
  button('confirm-no').addEventListener('click', () => {
    $('confirm').hidden = true;
  });
  button('close').addEventListener('click', () => {
    /** @type {any} */ (window).google.script.host.close();
  });
  render(view);
}
