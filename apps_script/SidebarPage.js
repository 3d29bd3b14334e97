/**
 * The sidebar's own script. It runs in the browser, never on the server: Sidebar.html writes this
 * function's source into the page (pageScript_ in Menu.js), so that it is kept, type-checked and
 * linted like the rest of the add-in. Every sentence it shows comes from the server already written
 * in the user's language; the page only places them, and calls the server for each step of a job.
 */

/**
 * google.script.run: every other property is a server function of the add-in.
 * @typedef {{
 *   withSuccessHandler: (handler: (value: any) => void) => ServerRun,
 *   withFailureHandler: (handler: (error: Error) => void) => ServerRun,
 * } & Record<string, any>} ServerRun
 */

function sidebarPage_() {
  'use strict';
  const FIELDS = ['campaign', 'campaign_name', 'agent_name', 'override', 'unique', 'status', 'international',
    'default_region', 'batch_size', 'header_row', 'language', 'skip_card_up_to', 'notify_carried'];

  /** @param {string} id */
  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
  /** @param {string} id */
  const field = (id) => /** @type {HTMLInputElement} */ (document.getElementById(id));
  /** @param {string} id */
  const button = (id) => /** @type {HTMLButtonElement} */ (document.getElementById(id));

  /** @type {any} */
  const state = JSON.parse($('state').textContent || '{}');
  /** @type {Record<string, string>} */
  const text = state.text;
  /** @type {any} */
  let job = state.job;
  /** @type {any} */
  let answer = state.answer;
  /** @type {any} */
  let lastView = state.answer_view;
  let stopRequested = false;
  let lost = false;
  /** @type {number | null} */
  let beating = null;

  /**
   * @param {(value: any) => void} onSuccess
   * @param {(error: Error) => void} onFailure
   * @returns {ServerRun}
   */
  function server(onSuccess, onFailure) {
    const run = /** @type {ServerRun} */ (/** @type {any} */ (window).google.script.run);
    return run.withSuccessHandler(onSuccess).withFailureHandler(onFailure);
  }

  /**
   * google.script.run reports a server error as "Error: <message>" or "Exception: <message>".
   * @param {unknown} error
   * @returns {string}
   */
  function readable(error) {
    const message = error && typeof error === 'object' && 'message' in error ? String(error.message) : String(error);
    return message.replace(/^(Error|Exception|ScriptError):\s*/, '');
  }

  // ---- lists shared by the card and the summary

  /**
   * @param {HTMLElement} body a table's tbody
   * @param {{label: string, count: string, tone: string}[]} counts
   */
  function fillCounts(body, counts) {
    body.textContent = '';
    counts.forEach((count) => {
      const row = document.createElement('tr');
      row.className = 'tone-' + count.tone;
      const label = document.createElement('td');
      label.textContent = count.label;
      const number = document.createElement('td');
      number.className = 'n';
      number.textContent = count.count;
      row.append(label, number);
      body.appendChild(row);
    });
  }

  /**
   * Each problem is a button that selects its row on its tab.
   * @param {HTMLElement} list
   * @param {{row: number, column: string | null, text: string}[]} problems
   */
  function fillProblems(list, problems) {
    list.textContent = '';
    problems.forEach((problem) => {
      const item = document.createElement('li');
      const link = document.createElement('button');
      link.type = 'button';
      link.className = 'link';
      link.textContent = problem.text;
      link.addEventListener('click', () => {
        $('select-error').hidden = true;
        server(() => undefined, (error) => {
          $('select-error').textContent = readable(error);
          $('select-error').hidden = false;
        }).selectRow(job.sheet_id, problem.row, problem.column);
      });
      item.appendChild(link);
      list.appendChild(item);
    });
  }

  // ---- the pre-flight card

  /** @param {any} card */
  function showCard(card) {
    $('job').hidden = true;
    $('notice').hidden = true;
    $('confirm').hidden = true;
    $('card').hidden = false;
    $('card-title').textContent = card.title;
    fillCounts(/** @type {HTMLTableElement} */ ($('card-facts')).tBodies[0], card.facts);
    const options = $('card-options');
    options.textContent = '';
    card.options.forEach((/** @type {{label: string, text: string}} */ option) => {
      const term = document.createElement('dt');
      term.textContent = option.label;
      const value = document.createElement('dd');
      value.textContent = option.text;
      options.append(term, value);
    });
    const columns = /** @type {HTMLTableElement} */ ($('card-columns')).tBodies[0];
    columns.textContent = '';
    card.columns.forEach((/** @type {{column: string, label: string}} */ column) => {
      const row = columns.insertRow();
      const header = row.insertCell();
      header.dir = 'auto';
      header.textContent = column.column;
      row.insertCell().textContent = column.label;
    });
    $('card-unmapped').textContent = card.unmapped;
    $('card-unmapped').hidden = !card.unmapped;
    fillProblems($('card-problems'), card.errors);
    $('card-problems-block').hidden = card.errors.length === 0;
    $('card-nothing').textContent = card.nothing;
    $('card-nothing').hidden = !card.nothing;
    button('send').textContent = card.send_label;
    button('send').disabled = !card.can_send;
    button('cancel').disabled = false;
  }

  function send() {
    button('send').disabled = true;
    button('cancel').disabled = true;
    server(onLease, onStartFailed).sendJob(job, null);
  }

  function cancel() {
    $('card').hidden = true;
    $('notice').textContent = text['card.cancelled'];
    $('notice').hidden = false;
  }

  /**
   * The lease was taken, or a stale one needs the user's word before it is taken over.
   * @param {{job: any, confirm: string | null, take_over: string | null}} result
   */
  function onLease(result) {
    job = result.job;
    if (result.confirm) {
      $('confirm-text').textContent = result.confirm;
      $('confirm').hidden = false;
      button('take-over').disabled = false;
      button('take-over').onclick = () => {
        button('take-over').disabled = true;
        server(onLease, onStartFailed).sendJob(job, result.take_over);
      };
      return;
    }
    $('confirm').hidden = true;
    $('card').hidden = true;
    startRunning();
  }

  function leaveIt() {
    $('confirm').hidden = true;
    $('card').hidden = true;
    $('notice').textContent = text['card.cancelled'];
    $('notice').hidden = false;
  }

  /** @param {Error} error */
  function onStartFailed(error) {
    $('confirm').hidden = true;
    $('card').hidden = true;
    $('job').hidden = false;
    $('job-title').textContent = job.title;
    $('running-actions').hidden = true;
    $('summary').hidden = true;
    $('job-error').textContent = readable(error);
    $('job-error').hidden = false;
  }

  // ---- a job under way

  function startRunning() {
    answer = null;
    lastView = null;
    stopRequested = false;
    lost = false;
    showJob();
    showProgress(0, text['sidebar.starting']);
    startHeartbeat();
    nextStep();
  }

  function showJob() {
    $('card').hidden = true;
    $('job').hidden = false;
    $('job-title').textContent = job.title;
    $('summary').hidden = true;
    $('job-error').hidden = true;
    $('running-actions').hidden = false;
    button('stop').disabled = false;
    button('stop').textContent = text['sidebar.stop'];
  }

  /**
   * @param {number} percent
   * @param {string} line
   */
  function showProgress(percent, line) {
    $('bar-fill').style.width = percent + '%';
    $('bar').setAttribute('aria-valuenow', String(percent));
    $('progress-text').textContent = line;
  }

  function nextStep() {
    if (lost) {
      return;
    }
    if (stopRequested) {
      stop();
      return;
    }
    server(onStep, onStepFailed).runStep(job);
  }

  /** @param {{job: any, answer: any, view: any}} result */
  function onStep(result) {
    job = result.job;
    answer = result.answer;
    lastView = result.view;
    showProgress(lastView.percent, lastView.progress);
    if (answer.done) {
      stopHeartbeat();
      showSummary(lastView, lastView.summary);
    } else {
      nextStep();
    }
  }

  /** @param {Error} error */
  function onStepFailed(error) {
    stopHeartbeat();
    showFailure(readable(error));
  }

  /** @param {string} message */
  function showFailure(message) {
    $('running-actions').hidden = true;
    $('job-error').textContent = message;
    $('job-error').hidden = false;
    if (lastView) {
      showSummary(lastView, lastView.before_error);
    }
  }

  // A heartbeat while the job runs, whatever the step under way: the tab's lease says someone drives it.
  function startHeartbeat() {
    stopHeartbeat();
    beating = window.setInterval(() => {
      server(onBeat, () => undefined).heartbeat(job);
    }, state.heartbeat_ms);
  }

  function stopHeartbeat() {
    if (beating !== null) {
      window.clearInterval(beating);
      beating = null;
    }
  }

  /** @param {{held: boolean, message: string}} result */
  function onBeat(result) {
    if (!result.held && !lost) {
      lost = true;
      stopHeartbeat();
      showFailure(result.message);
    }
  }

  function requestStop() {
    stopRequested = true;
    button('stop').disabled = true;
    button('stop').textContent = text['sidebar.stopping'];
  }

  function stop() {
    server((/** @type {string} */ line) => {
      stopHeartbeat();
      showSummary(lastView, line);
    }, onStepFailed).stopJob(job, answer);
  }

  /**
   * @param {any} view the last answer's view, or null when no step finished
   * @param {string} line the summary's sentence
   */
  function showSummary(view, line) {
    $('job-title').textContent = job.done_title;
    $('running-actions').hidden = true;
    $('summary').hidden = false;
    $('summary-text').textContent = line;
    $('service-message').textContent = view ? view.message : '';
    fillCounts(/** @type {HTMLTableElement} */ ($('counts')).tBodies[0], view ? view.counts : []);
    $('unmapped').textContent = view ? view.unmapped : '';
    $('unmapped').hidden = !(view && view.unmapped);
    fillProblems($('errors'), view ? view.errors : []);
    $('errors-block').hidden = !(view && view.errors.length > 0);
    const link = /** @type {HTMLAnchorElement} */ ($('problem-rows'));
    if (view && view.problem_rows_url) {
      link.href = view.problem_rows_url;
      link.hidden = false;
    } else {
      link.removeAttribute('href');
      link.hidden = true;
    }
    button('retry').hidden = !(view && view.retry_label);
    button('retry').disabled = false;
    button('retry').textContent = view ? view.retry_label : '';
  }

  function retry() {
    button('retry').disabled = true;
    server((/** @type {any} */ result) => {
      job = result.job;
      if (result.card) {
        showCard(result.card);
      } else {
        onLease(result);
      }
    }, (error) => {
      button('retry').disabled = false;
      $('job-error').textContent = readable(error);
      $('job-error').hidden = false;
    }).retryRows(job, answer.retry_rows);
  }

  // ---- settings

  /** @param {any} view */
  function fillSettings(view) {
    $('settings-title').textContent = view.title;
    $('settings-changed').textContent = view.changed;
    $('settings-automatic').textContent = view.automatic;
    const status = /** @type {HTMLSelectElement} */ ($('status'));
    while (status.options.length > 1) {
      status.remove(1);
    }
    view.statuses.forEach((/** @type {{value: number, label: string}} */ choice) => {
      status.add(new Option(choice.label, String(choice.value)));
    });
    const language = /** @type {HTMLSelectElement} */ ($('language'));
    language.textContent = '';
    view.languages.forEach((/** @type {{value: string, label: string}} */ choice) => {
      language.add(new Option(choice.label, choice.value));
    });
    field('batch_size').max = String(view.max_batch_size);
    const values = Object.assign({}, view.settings, view.preferences);
    FIELDS.forEach((name) => {
      const input = field(name);
      const value = values[name];
      if (input.type === 'checkbox') {
        input.checked = value === true;
      } else {
        input.value = value === null || value === undefined ? '' : String(value);
      }
    });
  }

  /** @returns {Record<string, unknown>} */
  function readSettings() {
    /** @type {Record<string, unknown>} */
    const form = { sheet_id: state.settings.sheet_id, sheet_name: state.settings.sheet_name };
    FIELDS.forEach((name) => {
      const input = field(name);
      form[name] = input.type === 'checkbox' ? input.checked : input.value;
    });
    return form;
  }

  /** @param {Record<string, string>} errors */
  function showFieldErrors(errors) {
    FIELDS.forEach((name) => {
      const message = errors[name] || '';
      $(name + '-error').textContent = message;
      if (message) {
        field(name).setAttribute('aria-invalid', 'true');
      } else {
        field(name).removeAttribute('aria-invalid');
      }
    });
  }

  /** @param {Event} event */
  function saveSettings(event) {
    event.preventDefault();
    button('save').disabled = true;
    $('save-status').textContent = text['sidebar.saving'];
    server((/** @type {any} */ result) => {
      button('save').disabled = false;
      showFieldErrors(result.errors);
      if (!result.ok) {
        $('save-status').textContent = text['sidebar.not_saved_fields'];
        return;
      }
      fillSettings(result.view);
      $('save-status').textContent = text['sidebar.saved'];
      if (result.reload) {
        // The language changed: the sidebar opens again, written in it.
        server(() => undefined, () => undefined).showSettings();
      }
    }, (error) => {
      button('save').disabled = false;
      $('save-status').textContent = text['sidebar.not_saved'] + ' ' + readable(error);
    }).saveSettings(readSettings());
  }

  fillSettings(state.settings);
  $('settings-form').addEventListener('submit', saveSettings);
  button('send').addEventListener('click', send);
  button('cancel').addEventListener('click', cancel);
  button('leave-it').addEventListener('click', leaveIt);
  button('stop').addEventListener('click', requestStop);
  button('retry').addEventListener('click', retry);
  button('open-automation').addEventListener('click', () => {
    server(() => undefined, () => undefined).showAutomation();
  });
  /** @type {HTMLDetailsElement} */ ($('settings-panel')).open = state.view === 'settings';
  if (state.view === 'preflight') {
    showCard(state.card);
  } else if (state.view === 'progress') {
    showJob();
    showProgress(lastView ? lastView.percent : 0, lastView ? lastView.progress : text['sidebar.starting']);
    startHeartbeat();
    nextStep();
  } else if (state.view === 'summary') {
    showJob();
    showProgress(lastView.percent, lastView.progress);
    showSummary(lastView, lastView.summary);
  }
}
