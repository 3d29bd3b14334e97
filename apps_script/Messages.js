/**
 * Every sentence the add-in shows, in English and in Hebrew, and the one way to fill one in.
 *
 * A message is a string, or {one, other} chosen by its count. Its placeholders:
 *   {name}   a value from outside (a sheet or column name, an email, the function's own sentence):
 *            wrapped in Unicode bidi isolates (FSI ... PDI) so that a Hebrew value cannot reorder the
 *            words around it, nor English words reorder a Hebrew sentence;
 *   {#name}  a count, written as 20,000;
 *   {=name}  our own text, already written (a phrase of counts, a colleague's isolated name).
 * Status values ("uploaded", "failed") are English machine words in the sheet; only labels are here.
 */

/** @typedef {'en' | 'he'} Language */
/** @typedef {string | {one: string, other: string}} Message */

/** @type {readonly Language[]} */
const LANGUAGES = Object.freeze(/** @type {Language[]} */ (['en', 'he']));
const FIRST_STRONG_ISOLATE = '\u2068';
const POP_DIRECTIONAL_ISOLATE = '\u2069';

/** @type {Readonly<Record<Language, Readonly<Record<string, Message>>>>} */
const MESSAGES = Object.freeze({
  en: Object.freeze({
    'menu.upload_selected': 'Upload selected rows',
    'menu.upload_pending': 'Upload all pending rows',
    'menu.check_selected': 'Check selected rows (no upload)',
    'menu.remove_selected': 'Remove selected rows from campaign',
    'menu.retry_failed': 'Retry failed rows',
    'menu.show_problem_rows': 'Show problem rows',
    'menu.settings': 'Settings…',
    'menu.help': 'Help',
    'menu.help_page': 'How it works',
    'menu.test_connection': 'Test connection',

    'count.uploaded': 'uploaded',
    'count.sent': 'sent (unconfirmed)',
    'count.rejected': 'rejected',
    'count.invalid': 'invalid',
    'count.failed': 'failed',
    'count.skipped': 'skipped',
    'count.valid': 'valid',
    'count.removed': 'removed',
    'count.part': '{=label} {#count}',
    'count.joiner': ' · ',
    'list.joiner': ', ',

    'progress.running': '{=parts} of {#total}…',
    'progress.done': '{=parts} of {#total}.',
    'progress.before_error': 'Before the error: {=parts} of {#total}.',
    'summary.done': 'Done: {=parts}.',
    'summary.nothing.upload': 'Done: no rows needed sending.',
    'summary.nothing.check': 'Done: no rows needed checking.',
    'summary.nothing.remove': 'Done: no rows needed removing.',
    'stop.before_any': 'Stopped before any row was sent.',
    'stop.after': 'Stopped: {=parts} of {#total}. The rest were left as they are.',

    'job.running.upload.selected': { one: 'Uploading 1 selected row of "{sheet}"', other: 'Uploading {#count} selected rows of "{sheet}"' },
    'job.running.upload.pending': 'Uploading all pending rows of "{sheet}"',
    'job.running.check.selected': { one: 'Checking 1 selected row of "{sheet}"', other: 'Checking {#count} selected rows of "{sheet}"' },
    'job.running.remove.selected': {
      one: 'Removing 1 selected row of "{sheet}" from the campaign',
      other: 'Removing {#count} selected rows of "{sheet}" from the campaign',
    },
    'job.done.upload.selected': { one: 'Upload ended: 1 selected row of "{sheet}"', other: 'Upload ended: {#count} selected rows of "{sheet}"' },
    'job.done.upload.pending': 'Upload ended: all pending rows of "{sheet}"',
    'job.done.check.selected': { one: 'Check ended: 1 selected row of "{sheet}"', other: 'Check ended: {#count} selected rows of "{sheet}"' },
    'job.done.remove.selected': { one: 'Removal ended: 1 selected row of "{sheet}"', other: 'Removal ended: {#count} selected rows of "{sheet}"' },
    'job.not_ours': 'This job does not belong to this spreadsheet. Close the sidebar and start again from the menu.',
    'step.no_cursor': 'The upload service stopped without saying where to go on. The rows it finished carry their status; ' +
      'select the rest and try again.',

    'problem.column': 'Row {=row} · {column}: {message}',
    'problem.row': 'Row {=row}: {message}',
    'columns.not_sent': 'Not sent, CallMarker has no field for them: {=columns}.',

    'retry.none': 'There are no rows to retry.',
    'retry.none_below_header': 'There are no rows to retry below the header row (row {#row}).',
    'retry.button': 'Retry failed rows ({#count})',
    'retry_failed.no_status_column': 'There is no "{column}" column on "{sheet}" yet: upload rows first, and each row gets its status there.',
    'retry_failed.none': 'No row of "{sheet}" has the status "{status}".',
    'retry_failed.too_many': '{#count} rows failed; one job takes at most {#max}. Select some of them and use "Upload selected rows".',
    'sheet.gone': 'The sheet "{sheet}" is no longer in this spreadsheet.',

    'select.upload': 'Select the rows to upload: the header row is row {#row}, so select rows below it that hold data.',
    'select.check': 'Select the rows to check: the header row is row {#row}, so select rows below it that hold data.',
    'select.remove': 'Select the rows to remove from the campaign: the header row is row {#row}, so select rows below it that hold data.',
    'select.too_many': 'You selected {#count} rows; one job takes at most {#max}. Select fewer rows, or use "Upload all pending rows".',

    'remove.no_campaign': 'Set the campaign to remove the rows from in Settings first (Extensions > CallMarker > Settings…).',
    'remove.confirm_title': 'Remove from campaign',
    'remove.confirm': {
      one: 'Remove the customer of 1 selected row from campaign {=campaign}?',
      other: 'Remove the customers of {#count} selected rows from campaign {=campaign}?',
    },
    'campaign.named': '{name} ({id})',
    'campaign.bare': '{id}',

    'card.title.upload.selected': { one: 'Upload 1 selected row of "{sheet}"?', other: 'Upload {#count} selected rows of "{sheet}"?' },
    'card.title.upload.pending': 'Upload the pending rows of "{sheet}"?',
    'card.title.remove.selected': {
      one: 'Remove 1 selected row of "{sheet}" from the campaign?',
      other: 'Remove {#count} selected rows of "{sheet}" from the campaign?',
    },
    'card.to_send.upload': 'Rows to upload',
    'card.to_send.remove': 'Customers to remove',
    'card.invalid': 'Invalid, will not be sent',
    'card.skipped': 'Uploaded before and unchanged, left alone',
    'card.left_for_later': 'Left for a later job (one job takes at most {#max} rows)',
    'card.campaign': 'Campaign',
    'card.no_campaign': 'none: customers are not added to a campaign',
    'card.send.upload': { one: 'Upload 1 row', other: 'Upload {#count} rows' },
    'card.send.remove': { one: 'Remove 1 customer', other: 'Remove {#count} customers' },
    'card.nothing': 'Nothing to send: every row is invalid or was uploaded before.',
    'card.heading': 'Before sending',
    'card.options_title': 'Sent with',
    'card.columns_title': 'Columns and their CallMarker fields',
    'card.column_header': 'Column',
    'card.field_header': 'CallMarker field',
    'card.problems_title': 'First problems',
    'card.problems_hint': 'Click a problem to go to its row.',
    'card.cancel': 'Cancel',
    'card.cancelled': 'Cancelled: nothing was sent.',
    'card.skip_hint': 'To skip this card for small jobs, set a size under Settings > Your preferences.',

    'settings.title': 'Settings for "{sheet}"',
    'settings.fix_first': 'Fix the settings of "{sheet}" first (Extensions > CallMarker > Settings…): {=problems}',
    'settings.error.campaign': 'Campaign is the campaign number in CallMarker, such as 11.',
    'settings.error.campaign_name': 'A campaign name goes with a campaign number: set the number too, or clear the name.',
    'settings.error.agent_name': 'An agent needs a campaign: set the campaign too, or clear the agent.',
    'settings.error.unique': 'Removing customers from other campaigns needs a campaign and "Update existing customers".',
    'settings.error.status': 'Status is one of: {=choices}.',
    'settings.error.default_region': 'Default phone region is a two-letter country code, such as IL; leave it empty for the upload service\'s own.',
    'settings.error.batch_size': 'Batch size is a whole number from 1 to {#max}; leave it empty for the upload service\'s own.',
    'settings.error.header_row': 'Header row is a row number: 1 or more.',
    'settings.error.language': 'Choose a language from the list.',
    'settings.error.skip_card_up_to': 'A whole number of rows from 0 to {#max}.',
    'settings.language.automatic': 'As my Google account ({=language})',
    'settings.inherited': 'Not saved for this sheet yet: these are the spreadsheet\'s earlier settings, used until someone saves.',
    'settings.never_changed': 'Never changed: these are the defaults.',
    'settings.changed': 'Last changed by {who}, {when}.',
    'settings.changed_hidden': 'Last changed {when}, by someone whose email Google does not show the add-in ' +
      '(an account outside your organisation, or a personal one).',
    'language.en': 'English',
    'language.he': 'עברית',
    'customer_status.1': 'Waiting',
    'customer_status.10': 'Not Interested',
    'customer_status.11': 'Interested',
    'customer_status.12': 'Follow Up',
    'customer_status.18': 'Completed',

    'lease.lock_busy': 'Another job is starting on this spreadsheet. Try again in a moment.',
    'lease.someone': 'Someone else',
    'lease.own.upload': 'You are already uploading rows from "{sheet}" (started {=age}), perhaps in another window. ' +
      'Wait for it to finish, or stop it in its sidebar.',
    'lease.own.check': 'You are already checking rows of "{sheet}" (started {=age}), perhaps in another window. ' +
      'Wait for it to finish, or stop it in its sidebar.',
    'lease.own.remove': 'You are already removing rows of "{sheet}" from the campaign (started {=age}), perhaps in another window. ' +
      'Wait for it to finish, or stop it in its sidebar.',
    'lease.busy.upload': '{=holder} is uploading rows from "{sheet}" (started {=age}). Try again when it finishes.',
    'lease.busy.check': '{=holder} is checking rows of "{sheet}" (started {=age}). Try again when it finishes.',
    'lease.busy.remove': '{=holder} is removing rows of "{sheet}" from the campaign (started {=age}). Try again when it finishes.',
    'lease.stale.upload': '{=holder} started uploading rows from "{sheet}" {=age}, and that job has not answered for {=silent}: ' +
      'the sidebar running it was probably closed. Take it over? That job will not go on; the rows it finished keep their status.',
    'lease.stale.check': '{=holder} started checking rows of "{sheet}" {=age}, and that job has not answered for {=silent}: ' +
      'the sidebar running it was probably closed. Take it over? That job will not go on; the rows it finished keep their status.',
    'lease.stale.remove': '{=holder} started removing rows of "{sheet}" from the campaign {=age}, and that job has not answered ' +
      'for {=silent}: the sidebar running it was probably closed. Take it over? That job will not go on; the rows it finished ' +
      'keep their status.',
    'lease.stale_title': 'Take over?',
    'lease.taken_over': '{=holder} took over "{sheet}", so this job stopped. The rows it finished keep their status.',
    'lease.lost': 'This job no longer holds "{sheet}", so it stopped. The rows it finished keep their status.',
    'lease.changed': 'Another job took "{sheet}" meanwhile. Try again.',
    'age.just_now': 'just now',
    'age.minutes': { one: '1 minute ago', other: '{#count} minutes ago' },
    'age.hours': { one: '1 hour ago', other: '{#count} hours ago' },
    'duration.minutes': { one: '1 minute', other: '{#count} minutes' },
    'duration.hours': { one: '1 hour', other: '{#count} hours' },

    'api.no_url': 'The add-in does not know where its upload service is. Ask whoever set up the add-in to run ' +
      'deploy/apps_script.sh with the function\'s URL.',
    'api.unreachable': 'Could not reach the upload service. Check your internet connection and try again; if it keeps failing, ' +
      'ask whoever set up the add-in to check that the function is deployed.',
    'api.unreadable': 'The upload service gave an answer the add-in cannot read. Try again; if it happens again, ask whoever ' +
      'set up the add-in to check that the add-in and the function are the same version.',
    'api.preview_unreadable': 'The upload service gave a preview the add-in cannot read, so nothing was sent. Try again; if it ' +
      'happens again, ask whoever set up the add-in to check that the add-in and the function are the same version.',
    'api.said': ' The service said: "{message}"',
    'api.400': 'The upload service could not understand the request.{=said} Reload the spreadsheet and try again; if it happens ' +
      'again, report it.',
    'api.401': 'The upload service did not accept your Google sign-in.{=said} Reload the spreadsheet and try again; if it keeps ' +
      'happening, ask whoever set up the add-in to check the audience the function accepts{=hint}.',
    'api.audience_hint': ' (the add-in signs in as {actual}, the function expects {expected})',
    'api.403': 'You are not allowed to upload from this spreadsheet.{=said} Check that you can edit this spreadsheet, or ask ' +
      'whoever set up the add-in to allow your account.',
    'api.404': 'The upload service could not find this spreadsheet or sheet.{=said} If the sheet was deleted or moved, select ' +
      'rows on an existing sheet and try again.',
    'api.404_address': 'The upload service was not found at its address. Ask whoever set up the add-in to run ' +
      'deploy/apps_script.sh again with the function\'s URL.',
    'api.413': 'Too many rows for one job.{=said} Select fewer rows and try again.',
    'api.422': 'The header row needs attention.{=said} Check the header row (set in Settings): it needs a phone column, such as ' +
      '"Phone" or "טלפון".',
    'api.429': 'The upload service is busy right now.{=said} Wait a minute, then try again.',
    'api.500': 'The upload service failed unexpectedly. Try again; if it keeps failing, tell whoever set up the add-in the time ' +
      'it happened.',
    'api.502': 'CallMarker could not be reached, or it refused the add-in\'s CallMarker token.{=said} Try again in a few minutes; ' +
      'if it keeps failing, ask whoever set up the add-in to check the CallMarker token.',
    'api.503': 'The upload service is not available right now. Try again in a few minutes.',
    'api.other': 'The upload service answered with an error (HTTP {#code}).{=said} Try again later.',
    'error.unexpected': 'Something went wrong in the CallMarker add-in: {detail}. Try again; if it happens again, tell whoever ' +
      'set up the add-in what you did and when.',

    'problems.none': 'There is no view of problem rows on "{sheet}" yet: it is made when a job finds rows that need attention.',
    'problems.title': 'Problem rows',
    'problems.open': 'Show the problem rows of "{sheet}"',
    'problems.explain': 'This opens the filter view "{view}": only the rows whose status needs attention. To see every row ' +
      'again, close the filter view with the × at the top of the sheet.',
    'select_row.bad': 'That row is not on the sheet any more.',

    'sidebar.progress': 'Progress',
    'sidebar.stop': 'Stop',
    'sidebar.stopping': 'Stopping after this step…',
    'sidebar.starting': 'Starting…',
    'sidebar.first_problems': 'First problems',
    'sidebar.problems_hint': 'Click a problem to go to its row. Every row\'s result is in the status columns at the end of the sheet.',
    'sidebar.show_problem_rows': 'Show problem rows',
    'sidebar.settings': 'Settings',
    'sidebar.sheet_settings_hint': 'For this sheet only, and the same for everyone who edits the spreadsheet.',
    'sidebar.preferences': 'Your preferences',
    'sidebar.preferences_hint': 'Yours alone, in every spreadsheet.',
    'sidebar.save': 'Save',
    'sidebar.saving': 'Saving…',
    'sidebar.saved': 'Saved.',
    'sidebar.not_saved_fields': 'Not saved: fix the fields marked in red.',
    'sidebar.not_saved': 'Not saved:',
    'sidebar.take_over': 'Take over',
    'sidebar.leave_it': 'Leave it',
    'field.campaign': 'Campaign number',
    'field.campaign.placeholder': 'such as 11',
    'field.campaign_name': 'Campaign name',
    'field.campaign_name.hint': 'CallMarker cannot list its campaigns, so the name you give here is shown beside the number ' +
      'before every upload.',
    'field.agent_name': 'Agent',
    'field.agent_name.placeholder': 'agent for every customer (optional)',
    'field.override': 'Update existing customers',
    'field.unique': 'Remove them from all other campaigns',
    'field.status': 'Status',
    'field.status.none': 'Leave as it is',
    'field.international': 'Numbers are international (\u2066+972…\u2069)',
    'field.default_region': 'Default phone region',
    'field.default_region.hint': 'For numbers written without a country code, such as 054-700-0000. Empty: the upload ' +
      'service\'s own (usually IL).',
    'field.batch_size': 'Batch size',
    'field.batch_size.hint': 'Customers per request to CallMarker. Empty: the upload service\'s own.',
    'field.header_row': 'Header row',
    'field.header_row.hint': 'The row that names the columns. Empty: row 1.',
    'field.language': 'Language',
    'field.skip_card_up_to': 'Skip the pre-flight card for jobs of up to (rows)',
    'field.skip_card_up_to.hint': '0: always show the card before an upload or a removal.',

    'help.title': 'CallMarker help',
    'help.intro': 'The CallMarker menu (under Extensions) sends the rows of this sheet to CallMarker and writes each row\'s ' +
      'result next to it. The header row (row 1, or the one set in Settings) names the columns: a phone column such as ' +
      '"Phone" or "טלפון" is required; "Name", "Email", "Follow-up date" and the other CallMarker fields are used when present.',
    'help.menu_title': 'The menu',
    'help.menu.upload_selected': 'Shows what would be sent (the pre-flight card), then sends the rows you selected. Select ' +
      'whole rows, cells, or several ranges (hold Ctrl or ⌘); the header row is left out.',
    'help.menu.upload_pending': 'Sends every row that was never uploaded, failed, or changed since it was uploaded, once the ' +
      'pre-flight card has said how many. Rows uploaded and unchanged, and rows CallMarker took without confirming them, are ' +
      'left alone.',
    'help.menu.check_selected': 'Checks the selected rows as an upload would (phone numbers, dates, fields) and writes what is ' +
      'wrong, without sending anything to CallMarker.',
    'help.menu.remove_selected': 'Removes the customers in the selected rows from the campaign set in Settings, once you confirm ' +
      'on the pre-flight card (or in a question).',
    'help.menu.retry_failed': 'Reads the status column of this sheet and uploads again exactly the rows whose status is "failed".',
    'help.menu.show_problem_rows': 'Opens the filter view that shows only the rows that need attention.',
    'help.menu.settings': 'Campaign, agent, status and the other options of this sheet, shared by everyone who edits the ' +
      'spreadsheet and stamped with who changed them last; and your own language and pre-flight card preferences.',
    'help.menu.test_connection': 'Checks that the add-in can reach the upload service, and says what to fix if it cannot.',
    'help.columns_title': 'The status columns',
    'help.columns_intro': 'Each job writes {#count} columns at the end of the header row:',
    'help.column.0': 'what happened to the row: one of the statuses below',
    'help.column.1': 'what to do about it, in words; empty when the row was uploaded without remarks',
    'help.column.2': 'when, and who ran the job',
    'help.column.3': 'a short code that lets "Upload all pending rows" see edits; leave it as it is',
    'help.statuses_title': 'Statuses',
    'help.statuses_intro': 'The status column holds one of these words, in English whatever the language, so that formulas ' +
      'and filters keep working:',
    'help.status_header': 'Status',
    'help.meaning_header': 'Meaning',
    'help.status.uploaded': 'CallMarker confirmed it received the customer.',
    'help.status.sent': 'CallMarker took the request but did not confirm each customer. "Upload all pending rows" leaves the ' +
      'row alone: check the customer in CallMarker.',
    'help.status.rejected': 'CallMarker refused the row; the message is its answer. Fix the row and upload it again.',
    'help.status.invalid': 'The row was not sent: the message names the column to fix.',
    'help.status.failed': 'The row could not be confirmed (no answer, a timeout). It is safe to send again: use "Retry failed rows".',
    'help.status.valid': 'Checking found nothing wrong; nothing was sent.',
    'help.status.removed': 'CallMarker confirmed it removed the customer from the campaign.',
    'help.counted_only': '"{status}" is only counted: the summary says how many rows "Upload all pending rows" left alone ' +
      'because they were uploaded before and have not changed. Those rows keep the status they had; "{status}" is never ' +
      'written into a cell.',
    'help.long_title': 'Before sending, and long jobs',
    'help.long': 'Before every upload or removal, a card in the sidebar shows how many rows will be sent, the campaign and ' +
      'options in words, which column goes to which CallMarker field and which are not sent, and the first problems; nothing ' +
      'is sent until you press its send button. You can skip the card for jobs up to a size you choose (Settings > Your ' +
      'preferences). The sidebar shows a progress bar and a Stop button; keep it open until the job ends. At the end the ' +
      'summary lists the first problems: click one to go to its row.',
    'help.one_job_title': 'One job per sheet at a time',
    'help.one_job': 'Each sheet runs one job at a time; different sheets of the spreadsheet can upload at once. If someone else ' +
      'runs a job on the sheet, you are told who, what, and since when. A job whose sidebar was closed stops answering; after a ' +
      'minute you may take the sheet over: you are asked first, and told whose job it was.',
    'help.language_title': 'Language',
    'help.language': 'The add-in speaks Hebrew or English, as your Google account does; you can choose otherwise in Settings > ' +
      'Your preferences.',
    'help.where_title': 'Where to look',
    'help.where': 'A row\'s message in its status column says what to fix. A message box names problems with the whole job ' +
      '(sign-in, access, the header row). For anything else, ask whoever set up the add-in: the function\'s logs have the details.',

    // Automatic upload, the log tab and the emails.
    'menu.automatic_upload': 'Automatic upload…',
    'sidebar.automatic_upload': 'Automatic upload of this tab…',
    'field.notify_carried': 'Email me how my job ended when it finished after I closed its sidebar',
    'field.notify_carried.hint': 'A job whose sidebar you close goes on by itself, within a minute (within an hour in the add-on); ' +
      'its end is in the "CallMarker log" tab either way.',
    'api.no_identity': 'Google gave the add-in no sign-in token for the upload service, so nothing was sent. Open the spreadsheet ' +
      'and use the CallMarker menu once (that renews the add-in\'s permissions); if it happens again, ask whoever set up the add-in.',
    'lease.busy_auto.upload': '{=holder}\'s automatic upload is sending rows from "{sheet}" (started {=age}). Try again when it finishes.',
    'lease.busy_auto.check': '{=holder}\'s check of rows of "{sheet}" goes on in an automatic run (started {=age}). Try again when it finishes.',
    'lease.busy_auto.remove': '{=holder}\'s removal of rows of "{sheet}" from the campaign goes on in an automatic run (started {=age}). ' +
      'Try again when it finishes.',
    'lease.own_auto.upload': 'Your automatic upload is sending rows from "{sheet}" (started {=age}). Try again when it finishes.',
    'lease.own_auto.check': 'Your check of rows of "{sheet}" goes on in an automatic run (started {=age}). Try again when it finishes.',
    'lease.own_auto.remove': 'Your removal of rows of "{sheet}" from the campaign goes on in an automatic run (started {=age}). ' +
      'Try again when it finishes.',
    'lease.stale_auto.upload': '{=holder}\'s automatic upload of "{sheet}" started {=age}, and has not gone on for {=silent}: its next ' +
      'run carries it on. Take it over? That job will not go on; the rows it finished keep their status.',
    'lease.stale_auto.check': '{=holder}\'s check of "{sheet}" started {=age}, and has not gone on for {=silent}: its next run carries ' +
      'it on. Take it over? That job will not go on; the rows it finished keep their status.',
    'lease.stale_auto.remove': '{=holder}\'s removal from the campaign of rows of "{sheet}" started {=age}, and has not gone on for ' +
      '{=silent}: its next run carries it on. Take it over? That job will not go on; the rows it finished keep their status.',

    'log.row': 'Row {=row}',
    'log.failed': 'Failed: {=message}',
    'log.taken_over': 'Taken over by {=holder}: this job did not go on; the rows it finished keep their status.',
    'log.waited': 'Waited for its next turn: {=busy}',
    'log.quiet': { one: 'Nothing new to send in 1 run since {since}.', other: 'Nothing new to send in {#count} runs since {since}.' },
    'log.still_invalid': { one: '1 row is still invalid.', other: '{#count} rows are still invalid.' },

    'automation.dialog_title': 'CallMarker: automatic upload',
    'automation.title': 'Automatic upload of "{sheet}"',
    'automation.intro': 'Uploads the tab\'s pending rows (new, failed, or edited since they were uploaded) with its saved settings, ' +
      'without anyone pressing the button.',
    'automation.off': 'Automatic upload is off for this tab.',
    'automation.on.schedule': 'Uploads the pending rows {=every}, as {who}, since {since}.',
    'automation.on.form': 'Uploads the pending rows when a form\'s answer arrives, as {who}, since {since}.',
    'automation.every_minutes': { one: 'every minute', other: 'every {#count} minutes' },
    'automation.every_hour': 'every hour',
    'automation.last_run': 'Last run {when}: {=text}',
    'automation.silent': 'It has not run since {since}. If {=holder} left, or their account was suspended, its runs stopped with ' +
      'it: turn the automatic upload on yourself to take it over.',
    'automation.continues': 'Still under way: it goes on at its next run.',
    'automation.waiting_silent': '{=holder}\'s job on "{sheet}" has not answered for {=silent}; the automatic upload takes the tab ' +
      'over once that job has been silent for {=after}.',
    'automation.choose': 'Upload the pending rows',
    'automation.mode.off': 'Off: only when someone uses the menu',
    'automation.mode.schedule': 'On a schedule',
    'automation.mode.form': 'When a Google Form\'s answer arrives in this tab',
    'automation.cost': '{#runs} runs a day. Each calls the upload service at least once ({=account} may make {#fetches} such calls ' +
      'a day) and takes a few seconds when nothing is new: about {#minutes} of its {#trigger_minutes} minutes of automatic runs a day.',
    'automation.account.consumer': 'a personal Google account',
    'automation.account.workspace': 'a Google Workspace account',
    'automation.addon_hourly': 'As an add-on, Google runs automatic uploads at most once an hour.',
    'automation.form_cost': 'One run for each answer that arrives.',
    'automation.form_missing': 'This tab does not receive a Google Form\'s answers: link a form to it (in the form, Responses > ' +
      'Link to Sheets) to use this.',
    'automation.runs_as': 'It runs as you, with your access to this spreadsheet and to the upload service, even when nobody has ' +
      'the spreadsheet open. You get an email when a run fails or leaves rows to fix (the same problem at most once an hour); ' +
      'every run is in the "CallMarker log" tab.',
    'automation.save': 'Save',
    'automation.close': 'Close',
    'automation.saving': 'Saving…',
    'automation.saved': 'Saved.',
    'automation.not_saved': 'Not saved:',
    'automation.confirm_yes': 'Yes',
    'automation.confirm_no': 'No',
    'automation.confirm_take_over': 'The automatic upload of "{sheet}" runs as {=holder}. Turn it on as yourself instead? The one ' +
      'before stops at its next run.',
    'automation.confirm_stop': 'The automatic upload of "{sheet}" runs as {=holder}. Turn it off? It stops at its next run.',
    'automation.mine_title': 'Your automatic uploads in this spreadsheet',
    'automation.stop': 'Stop',
    'automation.no_email': 'Google does not tell the add-in your email, so it cannot run uploads as you. Use an account of your ' +
      'organisation, or the account that owns the spreadsheet.',
    'automation.no_form': '"{sheet}" does not receive a Google Form\'s answers. Link a form to it, or choose a schedule.',
    'automation.too_many_triggers': 'Google allows 20 automatic triggers per person for this add-in, and yours are in use (in other ' +
      'spreadsheets too). Turn off an automatic upload you no longer need, then try again.',
    'automation.trigger_failed': 'Google did not let the add-in make its trigger: {message}',
    'automation.error.mode': 'Choose off, a schedule, or a form\'s answers.',
    'automation.error.schedule': 'Choose every 5, 15 or 30 minutes, or every hour.',
    'automation.error.addon_schedule': 'As an add-on, an automatic upload runs at most every hour.',

    'alert.subject': 'CallMarker: the automatic upload in "{spreadsheet}" needs attention',
    'alert.intro': 'The automatic upload you turned on in "{spreadsheet}" ran at {when} and needs attention.',
    'alert.tab': '"{sheet}": {=result}',
    'alert.first_problems': 'First problems:',
    'alert.open': 'Open the tab: {=url}',
    'alert.log': 'Every run is in the "{log}" tab.',
    'alert.why': 'You get this email because you turned on this automatic upload; the same problem is emailed at most once an ' +
      'hour. To stop it: Extensions > CallMarker > Automatic upload….',
    'notify.subject': 'CallMarker: your job on "{sheet}" ended',
    'notify.intro': 'Your job on "{sheet}" in "{spreadsheet}" went on after you closed its sidebar, and has ended:',
    'notify.why': 'You get this email because you asked for it under Settings > Your preferences.',

    'help.menu.automatic_upload': 'Uploads the tab\'s pending rows by itself, on a schedule or when a Google Form\'s answer ' +
      'arrives, as the person who turned it on; it shows who that is, and the last run.',
    'help.automatic_title': 'Automatic upload, and jobs that outlive their window',
    'help.automatic': 'Under Automatic upload… a tab can upload its pending rows by itself: every 5, 15 or 30 minutes or hourly (in ' +
      'the add-on, hourly), or when a Google Form\'s answer arrives. It runs as whoever turned it on, with the tab\'s saved ' +
      'settings, and waits when someone else\'s job holds the tab. A job that does not finish in one run goes on at the next, and ' +
      'a job whose sidebar you close goes on by itself: nothing is lost and nothing is sent twice. Whoever turned it on gets an ' +
      'email when a run fails or leaves rows to fix.',
    'help.log': 'Every job, from the menu or automatic, writes one row in the "{log}" tab: when, who, how it started, the tab, ' +
      'the counts, how long it took, how it ended, and a link to its first problem row. The newest {#max} rows are kept.',
    // What the function's named failures mean, Test connection, and retries of very many ranges.
    'api.status.cursor_invalid': 'This job cannot go on from where it stopped: the upload service no longer recognises its place ' +
      '(it was changed, or the service was deployed again).{=said} The rows done so far have their status: use "Upload all pending ' +
      'rows" to send the rest.',
    'api.status.sheets_token_mismatch': 'The upload service got the spreadsheet\'s access of another Google account than the one ' +
      'signed in.{=said} Reload the spreadsheet, signed in with one Google account only, and try again.',
    'api.status.sheets_api_disabled': 'The Google Sheets API is not enabled in the add-in\'s Cloud project.{=said} Ask whoever set ' +
      'up the add-in to enable it (Google Cloud console > APIs & Services > Library > Google Sheets API).',
    'api.status.cursor_too_large': 'This selection has too many separate ranges for one job to keep track of.{=said} The rows done ' +
      'so far have their status: use "Upload all pending rows" to go on, or select fewer, larger ranges.',
    'api.status.body_too_large': 'The selection is too scattered to send in one request.{=said} Select fewer, larger ranges and try ' +
      'again.',
    'api.status.callmarker_unreadable': 'CallMarker answered, several times in a row, something the upload service cannot read, so ' +
      'nothing more was sent.{=said} The rows sent are marked failed and are safe to send again; if it keeps happening, ask whoever ' +
      'set up the add-in to check CallMarker\'s address.',
    'api.status.status_columns_protected': 'Nothing was sent: the status columns of this sheet are protected from your account.{=said} ' +
      'Ask the spreadsheet\'s owner to add you to the protection\'s editors (Data > Protect sheets and ranges).',
    'api.status.statuses_not_written': 'Rows were sent to CallMarker, but their statuses could not be written into the sheet.{=said} ' +
      'Until they are, the sheet shows those rows as not sent: if the status column is protected, ask the spreadsheet\'s owner to ' +
      'let you edit it.',
    'retry.more_left': { one: 'A job takes at most {#max} separate ranges: these are retried first, and 1 more failed row waits for ' +
      'the next "Retry failed rows".', other: 'A job takes at most {#max} separate ranges: these are retried first, and {#count} more ' +
      'failed rows wait for the next "Retry failed rows".' },
    'connection.title': 'CallMarker: test connection',
    'connection.close': 'Close',
    'connection.fix': 'Fix: {=fix}',
    'connection.list': 'Connection checklist',
    'connection.attention': { one: '1 line needs attention.', other: '{#count} lines need attention.' },
    'connection.all_good': 'Everything the add-in needs is in order.',
    'connection.address': 'Function address',
    'connection.no_address': 'The add-in does not know where the upload function is.',
    'connection.no_address_fix': 'Push the add-in with deploy/apps_script.sh --function-url and the URL that deploy/function.sh printed.',
    'connection.no_answer': 'No answer from {url}.',
    'connection.no_answer_fix': 'Check that the function is deployed (deploy/function.sh prints its URL) and that the add-in was ' +
      'pushed with that URL.',
    'connection.reaching': 'Reaching the function',
    'connection.refused': 'The call was refused with HTTP {#code} before the function could answer.',
    'connection.401': 'Cloud Run did not accept the sign-in token (its audience, or its signature).',
    'connection.401_fix': 'Run deploy/function.sh again with --audiences set to the add-in\'s OAuth client id: it becomes a custom ' +
      'audience of the service.',
    'connection.403': 'Cloud Run says {email} may not call it.',
    'connection.403_fix': 'Ask the administrator to add you to the group (or domain) granted the Cloud Run Invoker role on the function.',
    'connection.404': 'Nothing answers at this address (HTTP 404).',
    'connection.404_fix': 'Push the add-in again with the URL that deploy/function.sh printed.',
    'connection.other': 'The function answered HTTP {#code} instead of its checklist.',
    'connection.other_fix': 'Test again in a minute; if it persists, push the add-in and deploy the function again (they must be ' +
      'the same version).',
    'connection.your_account': 'your account',
  }),

  he: Object.freeze({
    'menu.upload_selected': 'העלאת השורות שנבחרו',
    'menu.upload_pending': 'העלאת כל השורות הממתינות',
    'menu.check_selected': 'בדיקת השורות שנבחרו (בלי העלאה)',
    'menu.remove_selected': 'הסרת השורות שנבחרו מהקמפיין',
    'menu.retry_failed': 'שליחה חוזרת של שורות שנכשלו',
    'menu.show_problem_rows': 'הצגת השורות הבעייתיות',
    'menu.settings': 'הגדרות…',
    'menu.help': 'עזרה',
    'menu.help_page': 'איך זה עובד',
    'menu.test_connection': 'בדיקת חיבור',

    'count.uploaded': 'הועלו',
    'count.sent': 'נשלחו ללא אישור',
    'count.rejected': 'נדחו',
    'count.invalid': 'לא תקינות',
    'count.failed': 'נכשלו',
    'count.skipped': 'דולגו',
    'count.valid': 'תקינות',
    'count.removed': 'הוסרו',
    'count.part': '{=label} {#count}',
    'count.joiner': ' · ',
    'list.joiner': ', ',

    'progress.running': '{=parts} מתוך {#total}…',
    'progress.done': '{=parts} מתוך {#total}.',
    'progress.before_error': 'לפני השגיאה: {=parts} מתוך {#total}.',
    'summary.done': 'הסתיים: {=parts}.',
    'summary.nothing.upload': 'הסתיים: לא היו שורות לשלוח.',
    'summary.nothing.check': 'הסתיים: לא היו שורות לבדוק.',
    'summary.nothing.remove': 'הסתיים: לא היו שורות להסיר.',
    'stop.before_any': 'נעצר לפני שנשלחה שורה כלשהי.',
    'stop.after': 'נעצר: {=parts} מתוך {#total}. שאר השורות נשארו כפי שהיו.',

    'job.running.upload.selected': { one: 'מעלה שורה אחת שנבחרה מהגיליון "{sheet}"', other: 'מעלה {#count} שורות שנבחרו מהגיליון "{sheet}"' },
    'job.running.upload.pending': 'מעלה את כל השורות הממתינות מהגיליון "{sheet}"',
    'job.running.check.selected': { one: 'בודק שורה אחת שנבחרה מהגיליון "{sheet}"', other: 'בודק {#count} שורות שנבחרו מהגיליון "{sheet}"' },
    'job.running.remove.selected': {
      one: 'מסיר מהקמפיין שורה אחת שנבחרה מהגיליון "{sheet}"',
      other: 'מסיר מהקמפיין {#count} שורות שנבחרו מהגיליון "{sheet}"',
    },
    'job.done.upload.selected': { one: 'ההעלאה הסתיימה: שורה אחת שנבחרה מהגיליון "{sheet}"', other: 'ההעלאה הסתיימה: {#count} שורות שנבחרו מהגיליון "{sheet}"' },
    'job.done.upload.pending': 'ההעלאה הסתיימה: כל השורות הממתינות מהגיליון "{sheet}"',
    'job.done.check.selected': { one: 'הבדיקה הסתיימה: שורה אחת שנבחרה מהגיליון "{sheet}"', other: 'הבדיקה הסתיימה: {#count} שורות שנבחרו מהגיליון "{sheet}"' },
    'job.done.remove.selected': { one: 'ההסרה הסתיימה: שורה אחת שנבחרה מהגיליון "{sheet}"', other: 'ההסרה הסתיימה: {#count} שורות שנבחרו מהגיליון "{sheet}"' },
    'job.not_ours': 'העבודה הזאת לא שייכת לקובץ הזה. סגרו את החלונית והתחילו שוב מהתפריט.',
    'step.no_cursor': 'שירות ההעלאה עצר בלי לומר מאיפה להמשיך. השורות שהסתיימו מסומנות בסטטוס שלהן; בחרו את השאר ונסו שוב.',

    'problem.column': 'שורה {=row} · {column}: {message}',
    'problem.row': 'שורה {=row}: {message}',
    'columns.not_sent': 'לא נשלחו, אין להן שדה ב-CallMarker: {=columns}.',

    'retry.none': 'אין שורות לשליחה חוזרת.',
    'retry.none_below_header': 'אין שורות לשליחה חוזרת מתחת לשורת הכותרות (שורה {#row}).',
    'retry.button': 'שליחה חוזרת של שורות שנכשלו ({#count})',
    'retry_failed.no_status_column': 'אין עדיין עמודת "{column}" בגיליון "{sheet}": קודם העלו שורות, וכל שורה תקבל שם את הסטטוס שלה.',
    'retry_failed.none': 'אין בגיליון "{sheet}" שורות עם הסטטוס "{status}".',
    'retry_failed.too_many': 'נכשלו {#count} שורות; עבודה אחת מטפלת בעד {#max}. בחרו חלק מהן והשתמשו ב"העלאת השורות שנבחרו".',
    'sheet.gone': 'הגיליון "{sheet}" כבר לא נמצא בקובץ הזה.',

    'select.upload': 'בחרו את השורות להעלאה: שורת הכותרות היא שורה {#row}, אז בחרו שורות מתחתיה שיש בהן נתונים.',
    'select.check': 'בחרו את השורות לבדיקה: שורת הכותרות היא שורה {#row}, אז בחרו שורות מתחתיה שיש בהן נתונים.',
    'select.remove': 'בחרו את השורות להסרה מהקמפיין: שורת הכותרות היא שורה {#row}, אז בחרו שורות מתחתיה שיש בהן נתונים.',
    'select.too_many': 'נבחרו {#count} שורות; עבודה אחת מטפלת בעד {#max}. בחרו פחות שורות, או השתמשו ב"העלאת כל השורות הממתינות".',

    'remove.no_campaign': 'קודם קבעו בהגדרות את הקמפיין שממנו להסיר את השורות (תוספים > CallMarker > הגדרות…).',
    'remove.confirm_title': 'הסרה מהקמפיין',
    'remove.confirm': {
      one: 'להסיר את הלקוח של שורה אחת שנבחרה מהקמפיין {=campaign}?',
      other: 'להסיר את הלקוחות של {#count} שורות שנבחרו מהקמפיין {=campaign}?',
    },
    'campaign.named': '{name} ({id})',
    'campaign.bare': '{id}',

    'card.title.upload.selected': { one: 'להעלות שורה אחת שנבחרה מהגיליון "{sheet}"?', other: 'להעלות {#count} שורות שנבחרו מהגיליון "{sheet}"?' },
    'card.title.upload.pending': 'להעלות את השורות הממתינות מהגיליון "{sheet}"?',
    'card.title.remove.selected': {
      one: 'להסיר מהקמפיין שורה אחת שנבחרה מהגיליון "{sheet}"?',
      other: 'להסיר מהקמפיין {#count} שורות שנבחרו מהגיליון "{sheet}"?',
    },
    'card.to_send.upload': 'שורות שיועלו',
    'card.to_send.remove': 'לקוחות שיוסרו',
    'card.invalid': 'לא תקינות, לא יישלחו',
    'card.skipped': 'הועלו כבר ולא השתנו, יישארו כמו שהן',
    'card.left_for_later': 'יחכו לעבודה הבאה (עבודה אחת מטפלת בעד {#max} שורות)',
    'card.campaign': 'קמפיין',
    'card.no_campaign': 'ללא: הלקוחות לא יתווספו לקמפיין',
    'card.send.upload': { one: 'העלאת שורה אחת', other: 'העלאת {#count} שורות' },
    'card.send.remove': { one: 'הסרת לקוח אחד', other: 'הסרת {#count} לקוחות' },
    'card.nothing': 'אין מה לשלוח: כל השורות לא תקינות או שכבר הועלו.',
    'card.heading': 'לפני השליחה',
    'card.options_title': 'יישלח עם',
    'card.columns_title': 'העמודות והשדות שלהן ב-CallMarker',
    'card.column_header': 'עמודה',
    'card.field_header': 'שדה ב-CallMarker',
    'card.problems_title': 'הבעיות הראשונות',
    'card.problems_hint': 'לחיצה על בעיה מעבירה לשורה שלה.',
    'card.cancel': 'ביטול',
    'card.cancelled': 'בוטל: לא נשלח דבר.',
    'card.skip_hint': 'כדי לדלג על הכרטיס הזה בעבודות קטנות, קבעו גודל בהגדרות > ההעדפות שלך.',

    'settings.title': 'הגדרות לגיליון "{sheet}"',
    'settings.fix_first': 'קודם תקנו את ההגדרות של הגיליון "{sheet}" (תוספים > CallMarker > הגדרות…): {=problems}',
    'settings.error.campaign': 'קמפיין הוא מספר הקמפיין ב-CallMarker, למשל 11.',
    'settings.error.campaign_name': 'שם קמפיין בא יחד עם מספר קמפיין: קבעו גם את המספר, או מחקו את השם.',
    'settings.error.agent_name': 'נציג צריך קמפיין: קבעו גם קמפיין, או מחקו את הנציג.',
    'settings.error.unique': 'הסרת לקוחות מקמפיינים אחרים מחייבת קמפיין ואת "עדכון לקוחות קיימים".',
    'settings.error.status': 'סטטוס הוא אחד מאלה: {=choices}.',
    'settings.error.default_region': 'אזור ברירת המחדל הוא קוד מדינה בן שתי אותיות, למשל IL; השאירו ריק כדי להשתמש בזה של שירות ההעלאה.',
    'settings.error.batch_size': 'גודל מנה הוא מספר שלם מ-1 עד {#max}; השאירו ריק כדי להשתמש בזה של שירות ההעלאה.',
    'settings.error.header_row': 'שורת הכותרות היא מספר שורה: 1 ומעלה.',
    'settings.error.language': 'בחרו שפה מהרשימה.',
    'settings.error.skip_card_up_to': 'מספר שורות שלם מ-0 עד {#max}.',
    'settings.language.automatic': 'לפי חשבון Google שלי ({=language})',
    'settings.inherited': 'עוד לא נשמרו לגיליון הזה: אלה ההגדרות הקודמות של הקובץ, והן בתוקף עד שמישהו ישמור.',
    'settings.never_changed': 'לא שונו מעולם: אלה ברירות המחדל.',
    'settings.changed': 'שונו לאחרונה על ידי {who}, {when}.',
    'settings.changed_hidden': 'שונו לאחרונה {when}, על ידי מישהו ש-Google לא מראה לתוסף את כתובת המייל שלו ' +
      '(חשבון מחוץ לארגון שלכם, או חשבון פרטי).',
    'language.en': 'English',
    'language.he': 'עברית',
    'customer_status.1': 'ממתין',
    'customer_status.10': 'לא מעוניין',
    'customer_status.11': 'מעוניין',
    'customer_status.12': 'פולואפ',
    'customer_status.18': 'הושלם',

    'lease.lock_busy': 'עבודה אחרת מתחילה עכשיו בקובץ הזה. נסו שוב בעוד רגע.',
    'lease.someone': 'מישהו אחר',
    'lease.own.upload': 'כבר מתבצעת אצלך העלאה של שורות מהגיליון "{sheet}" (התחילה {=age}), אולי בחלון אחר. ' +
      'חכו שתסתיים, או עצרו אותה בחלונית שלה.',
    'lease.own.check': 'כבר מתבצעת אצלך בדיקה של שורות מהגיליון "{sheet}" (התחילה {=age}), אולי בחלון אחר. ' +
      'חכו שתסתיים, או עצרו אותה בחלונית שלה.',
    'lease.own.remove': 'כבר מתבצעת אצלך הסרה מהקמפיין של שורות מהגיליון "{sheet}" (התחילה {=age}), אולי בחלון אחר. ' +
      'חכו שתסתיים, או עצרו אותה בחלונית שלה.',
    'lease.busy.upload': 'העלאה של {=holder} מהגיליון "{sheet}" מתבצעת עכשיו (התחילה {=age}). נסו שוב כשתסתיים.',
    'lease.busy.check': 'בדיקה של {=holder} בגיליון "{sheet}" מתבצעת עכשיו (התחילה {=age}). נסו שוב כשתסתיים.',
    'lease.busy.remove': 'הסרה מהקמפיין של {=holder} מהגיליון "{sheet}" מתבצעת עכשיו (התחילה {=age}). נסו שוב כשתסתיים.',
    'lease.stale.upload': 'ההעלאה של {=holder} מהגיליון "{sheet}" התחילה {=age}, והיא לא עונה כבר {=silent}: כנראה שהחלונית ' +
      'שהריצה אותה נסגרה. להשתלט עליה? העבודה ההיא לא תמשיך; השורות שהיא סיימה שומרות על הסטטוס שלהן.',
    'lease.stale.check': 'הבדיקה של {=holder} בגיליון "{sheet}" התחילה {=age}, והיא לא עונה כבר {=silent}: כנראה שהחלונית ' +
      'שהריצה אותה נסגרה. להשתלט עליה? העבודה ההיא לא תמשיך; השורות שהיא סיימה שומרות על הסטטוס שלהן.',
    'lease.stale.remove': 'ההסרה מהקמפיין של {=holder} מהגיליון "{sheet}" התחילה {=age}, והיא לא עונה כבר {=silent}: כנראה ' +
      'שהחלונית שהריצה אותה נסגרה. להשתלט עליה? העבודה ההיא לא תמשיך; השורות שהיא סיימה שומרות על הסטטוס שלהן.',
    'lease.stale_title': 'להשתלט?',
    'lease.taken_over': 'הגיליון "{sheet}" עבר לעבודה של {=holder}, ולכן העבודה הזאת נעצרה. השורות שהיא סיימה שומרות על הסטטוס שלהן.',
    'lease.lost': 'העבודה הזאת כבר לא מחזיקה בגיליון "{sheet}", ולכן נעצרה. השורות שהיא סיימה שומרות על הסטטוס שלהן.',
    'lease.changed': 'בינתיים עבודה אחרת תפסה את הגיליון "{sheet}". נסו שוב.',
    'age.just_now': 'הרגע',
    'age.minutes': { one: 'לפני דקה', other: 'לפני {#count} דקות' },
    'age.hours': { one: 'לפני שעה', other: 'לפני {#count} שעות' },
    'duration.minutes': { one: 'דקה', other: '{#count} דקות' },
    'duration.hours': { one: 'שעה', other: '{#count} שעות' },

    'api.no_url': 'התוסף לא יודע איפה נמצא שירות ההעלאה שלו. בקשו ממי שהתקין את התוסף להריץ את deploy/apps_script.sh ' +
      'עם הכתובת של הפונקציה.',
    'api.unreachable': 'לא ניתן להגיע לשירות ההעלאה. בדקו את החיבור לאינטרנט ונסו שוב; אם זה ממשיך לקרות, בקשו ממי שהתקין ' +
      'את התוסף לבדוק שהפונקציה פרוסה.',
    'api.unreadable': 'שירות ההעלאה החזיר תשובה שהתוסף לא מצליח לקרוא. נסו שוב; אם זה חוזר, בקשו ממי שהתקין את התוסף ' +
      'לבדוק שהתוסף והפונקציה באותה גרסה.',
    'api.preview_unreadable': 'שירות ההעלאה החזיר תצוגה מקדימה שהתוסף לא מצליח לקרוא, ולכן לא נשלח דבר. נסו שוב; אם זה ' +
      'חוזר, בקשו ממי שהתקין את התוסף לבדוק שהתוסף והפונקציה באותה גרסה.',
    'api.said': ' השירות השיב: "{message}"',
    'api.400': 'שירות ההעלאה לא הבין את הבקשה.{=said} טענו מחדש את הקובץ ונסו שוב; אם זה חוזר, דווחו על כך.',
    'api.401': 'שירות ההעלאה לא קיבל את הכניסה שלכם ל-Google.{=said} טענו מחדש את הקובץ ונסו שוב; אם זה ממשיך, בקשו ממי ' +
      'שהתקין את התוסף לבדוק את ה-audience שהפונקציה מקבלת{=hint}.',
    'api.audience_hint': ' (התוסף נכנס בתור {actual}, והפונקציה מצפה ל-{expected})',
    'api.403': 'אין לכם הרשאה להעלות מהקובץ הזה.{=said} בדקו שיש לכם הרשאת עריכה לקובץ, או בקשו ממי שהתקין את התוסף ' +
      'לאשר את החשבון שלכם.',
    'api.404': 'שירות ההעלאה לא מצא את הקובץ או את הגיליון.{=said} אם הגיליון נמחק או הועבר, בחרו שורות בגיליון קיים ונסו שוב.',
    'api.404_address': 'שירות ההעלאה לא נמצא בכתובת שלו. בקשו ממי שהתקין את התוסף להריץ שוב את deploy/apps_script.sh ' +
      'עם הכתובת של הפונקציה.',
    'api.413': 'יותר מדי שורות לעבודה אחת.{=said} בחרו פחות שורות ונסו שוב.',
    'api.422': 'צריך לתקן את שורת הכותרות.{=said} בדקו את שורת הכותרות (נקבעת בהגדרות): צריכה להיות בה עמודת טלפון, ' +
      'למשל "טלפון" או "Phone".',
    'api.429': 'שירות ההעלאה עמוס כרגע.{=said} חכו דקה ונסו שוב.',
    'api.500': 'שירות ההעלאה נכשל באופן לא צפוי. נסו שוב; אם זה ממשיך, ספרו למי שהתקין את התוסף מתי זה קרה.',
    'api.502': 'לא ניתן להגיע ל-CallMarker, או שהוא סירב לטוקן ה-CallMarker של התוסף.{=said} נסו שוב בעוד כמה דקות; אם זה ' +
      'ממשיך, בקשו ממי שהתקין את התוסף לבדוק את הטוקן של CallMarker.',
    'api.503': 'שירות ההעלאה לא זמין כרגע. נסו שוב בעוד כמה דקות.',
    'api.other': 'שירות ההעלאה השיב בשגיאה (HTTP {#code}).{=said} נסו שוב מאוחר יותר.',
    'error.unexpected': 'משהו השתבש בתוסף CallMarker: {detail}. נסו שוב; אם זה חוזר, ספרו למי שהתקין את התוסף מה עשיתם ומתי.',

    'problems.none': 'עדיין אין בגיליון "{sheet}" תצוגה של שורות בעייתיות: היא נוצרת כשעבודה מוצאת שורות שצריך לטפל בהן.',
    'problems.title': 'שורות בעייתיות',
    'problems.open': 'הצגת השורות הבעייתיות בגיליון "{sheet}"',
    'problems.explain': 'כך נפתחת תצוגת הסינון "{view}": רק השורות שהסטטוס שלהן דורש טיפול. כדי לראות שוב את כל השורות, ' +
      'סגרו את תצוגת הסינון ב-× שבראש הגיליון.',
    'select_row.bad': 'השורה הזאת כבר לא נמצאת בגיליון.',

    'sidebar.progress': 'התקדמות',
    'sidebar.stop': 'עצירה',
    'sidebar.stopping': 'עוצר אחרי השלב הזה…',
    'sidebar.starting': 'מתחיל…',
    'sidebar.first_problems': 'הבעיות הראשונות',
    'sidebar.problems_hint': 'לחיצה על בעיה מעבירה לשורה שלה. התוצאה של כל שורה נמצאת בעמודות הסטטוס בסוף הגיליון.',
    'sidebar.show_problem_rows': 'הצגת השורות הבעייתיות',
    'sidebar.settings': 'הגדרות',
    'sidebar.sheet_settings_hint': 'לגיליון הזה בלבד, ואותן הגדרות לכל מי שעורך את הקובץ.',
    'sidebar.preferences': 'ההעדפות שלך',
    'sidebar.preferences_hint': 'שלך בלבד, בכל הקבצים.',
    'sidebar.save': 'שמירה',
    'sidebar.saving': 'שומר…',
    'sidebar.saved': 'נשמר.',
    'sidebar.not_saved_fields': 'לא נשמר: תקנו את השדות המסומנים באדום.',
    'sidebar.not_saved': 'לא נשמר:',
    'sidebar.take_over': 'להשתלט',
    'sidebar.leave_it': 'לא עכשיו',
    'field.campaign': 'מספר קמפיין',
    'field.campaign.placeholder': 'למשל 11',
    'field.campaign_name': 'שם הקמפיין',
    'field.campaign_name.hint': 'CallMarker לא מציג רשימה של הקמפיינים שלו, ולכן השם שתכתבו כאן יוצג ליד המספר לפני כל העלאה.',
    'field.agent_name': 'נציג',
    'field.agent_name.placeholder': 'נציג לכל הלקוחות (לא חובה)',
    'field.override': 'עדכון לקוחות קיימים',
    'field.unique': 'הסרתם מכל הקמפיינים האחרים',
    'field.status': 'סטטוס',
    'field.status.none': 'להשאיר כמו שהוא',
    'field.international': 'המספרים בפורמט בינלאומי (\u2066+972…\u2069)',
    'field.default_region': 'אזור טלפון ברירת מחדל',
    'field.default_region.hint': 'למספרים שנכתבו בלי קוד מדינה, כמו 054-700-0000. ריק: זה של שירות ההעלאה (בדרך כלל IL).',
    'field.batch_size': 'גודל מנה',
    'field.batch_size.hint': 'מספר הלקוחות בכל בקשה ל-CallMarker. ריק: זה של שירות ההעלאה.',
    'field.header_row': 'שורת הכותרות',
    'field.header_row.hint': 'השורה שבה שמות העמודות. ריק: שורה 1.',
    'field.language': 'שפה',
    'field.skip_card_up_to': 'לדלג על כרטיס הבדיקה המקדימה בעבודות של עד (שורות)',
    'field.skip_card_up_to.hint': '0: תמיד להציג את הכרטיס לפני העלאה או הסרה.',

    'help.title': 'עזרה ל-CallMarker',
    'help.intro': 'תפריט CallMarker (תחת "תוספים") שולח את השורות של הגיליון הזה ל-CallMarker וכותב ליד כל שורה את התוצאה ' +
      'שלה. שורת הכותרות (שורה 1, או זו שנקבעה בהגדרות) קובעת את שמות העמודות: חובה עמודת טלפון, למשל "טלפון" או "Phone"; ' +
      '"שם", "מייל", "תאריך חזרה" ושאר השדות של CallMarker נשלחים כשהם קיימים.',
    'help.menu_title': 'התפריט',
    'help.menu.upload_selected': 'מציג מה יישלח (כרטיס הבדיקה המקדימה), ואז שולח את השורות שבחרתם. אפשר לבחור שורות שלמות, ' +
      'תאים, או כמה טווחים (עם Ctrl או ⌘); שורת הכותרות לא נשלחת.',
    'help.menu.upload_pending': 'שולח כל שורה שעוד לא הועלתה, שנכשלה, או שהשתנתה מאז שהועלתה, אחרי שכרטיס הבדיקה המקדימה ' +
      'אומר כמה. שורות שהועלו ולא השתנו, ושורות ש-CallMarker קיבל בלי לאשר, לא נשלחות שוב.',
    'help.menu.check_selected': 'בודק את השורות שנבחרו כמו שהעלאה הייתה בודקת (מספרי טלפון, תאריכים, שדות) וכותב מה לא ' +
      'תקין, בלי לשלוח דבר ל-CallMarker.',
    'help.menu.remove_selected': 'מסיר את הלקוחות שבשורות שנבחרו מהקמפיין שנקבע בהגדרות, אחרי אישור בכרטיס הבדיקה המקדימה ' +
      '(או בשאלה).',
    'help.menu.retry_failed': 'קורא את עמודת הסטטוס של הגיליון ומעלה שוב בדיוק את השורות שהסטטוס שלהן "failed".',
    'help.menu.show_problem_rows': 'פותח את תצוגת הסינון שמראה רק את השורות שצריך לטפל בהן.',
    'help.menu.settings': 'קמפיין, נציג, סטטוס ושאר האפשרויות של הגיליון הזה, משותפות לכל מי שעורך את הקובץ ומסומנות במי ' +
      'ששינה אותן לאחרונה; וגם השפה וההעדפות שלך לכרטיס הבדיקה המקדימה.',
    'help.menu.test_connection': 'בודק שהתוסף מגיע לשירות ההעלאה, ואומר מה לתקן אם לא.',
    'help.columns_title': 'עמודות הסטטוס',
    'help.columns_intro': 'כל עבודה כותבת {#count} עמודות בסוף שורת הכותרות:',
    'help.column.0': 'מה קרה לשורה: אחד מהסטטוסים שלמטה',
    'help.column.1': 'מה לעשות, במילים; ריק כשהשורה הועלתה בלי הערות',
    'help.column.2': 'מתי, ומי הריץ את העבודה',
    'help.column.3': 'קוד קצר שמאפשר ל"העלאת כל השורות הממתינות" לזהות שינויים; אל תשנו אותו',
    'help.statuses_title': 'הסטטוסים',
    'help.statuses_intro': 'בעמודת הסטטוס מופיעה אחת מהמילים האלה, באנגלית בכל שפה, כדי שנוסחאות וסינונים ימשיכו לעבוד:',
    'help.status_header': 'סטטוס',
    'help.meaning_header': 'משמעות',
    'help.status.uploaded': 'CallMarker אישר שקיבל את הלקוח.',
    'help.status.sent': 'CallMarker קיבל את הבקשה אבל לא אישר כל לקוח בנפרד. "העלאת כל השורות הממתינות" לא שולחת את השורה ' +
      'שוב: בדקו את הלקוח ב-CallMarker.',
    'help.status.rejected': 'CallMarker דחה את השורה; ההודעה היא התשובה שלו. תקנו את השורה והעלו אותה שוב.',
    'help.status.invalid': 'השורה לא נשלחה: ההודעה מציינת איזו עמודה לתקן.',
    'help.status.failed': 'לא התקבל אישור לשורה (אין תשובה, תם הזמן). בטוח לשלוח אותה שוב: השתמשו ב"שליחה חוזרת של שורות שנכשלו".',
    'help.status.valid': 'הבדיקה לא מצאה בעיה; לא נשלח דבר.',
    'help.status.removed': 'CallMarker אישר שהסיר את הלקוח מהקמפיין.',
    'help.counted_only': '"{status}" רק נספר: הסיכום אומר בכמה שורות "העלאת כל השורות הממתינות" לא נגעה, כי הן הועלו כבר ' +
      'ולא השתנו. השורות האלה שומרות על הסטטוס שהיה להן; "{status}" לא נכתב אף פעם בתא.',
    'help.long_title': 'לפני השליחה, ועבודות ארוכות',
    'help.long': 'לפני כל העלאה או הסרה מוצג בחלונית כרטיס: כמה שורות יישלחו, הקמפיין והאפשרויות במילים, איזו עמודה הולכת ' +
      'לאיזה שדה ב-CallMarker ואילו לא נשלחות, והבעיות הראשונות; דבר לא נשלח עד שלוחצים על כפתור השליחה שלו. אפשר לדלג על ' +
      'הכרטיס בעבודות עד גודל שתבחרו (הגדרות > ההעדפות שלך). החלונית מציגה פס התקדמות וכפתור עצירה; השאירו אותה פתוחה ' +
      'עד שהעבודה מסתיימת. בסוף, הסיכום מציג את הבעיות הראשונות: לחיצה על בעיה מעבירה לשורה שלה.',
    'help.one_job_title': 'עבודה אחת בכל גיליון בכל פעם',
    'help.one_job': 'בכל גיליון רצה עבודה אחת בכל פעם; גיליונות שונים באותו קובץ יכולים להעלות במקביל. אם מישהו אחר מריץ ' +
      'עבודה בגיליון, תראו מי, מה, וממתי. עבודה שהחלונית שלה נסגרה מפסיקה לענות; אחרי דקה אפשר להשתלט על הגיליון: קודם ' +
      'תישאלו, ותראו של מי הייתה העבודה.',
    'help.language_title': 'שפה',
    'help.language': 'התוסף מדבר עברית או אנגלית, לפי חשבון Google שלך; אפשר לבחור אחרת בהגדרות > ההעדפות שלך.',
    'help.where_title': 'איפה לחפש',
    'help.where': 'ההודעה של שורה בעמודת הסטטוס אומרת מה לתקן. חלון הודעה מציין בעיות של העבודה כולה (כניסה, הרשאות, שורת ' +
      'הכותרות). לכל דבר אחר, פנו למי שהתקין את התוסף: ביומנים של הפונקציה יש את הפרטים.',

    // Automatic upload, the log tab and the emails.
    'menu.automatic_upload': 'העלאה אוטומטית…',
    'sidebar.automatic_upload': 'העלאה אוטומטית של הגיליון הזה…',
    'field.notify_carried': 'לשלוח לי מייל איך הסתיימה עבודה שלי שהסתיימה אחרי שסגרתי את החלונית שלה',
    'field.notify_carried.hint': 'עבודה שסגרת את החלונית שלה ממשיכה בעצמה, תוך דקה (בתוסף: תוך שעה); איך שהיא הסתיימה רשום ' +
      'בכל מקרה בלשונית "CallMarker log".',
    'api.no_identity': 'Google לא נתן לתוסף טוקן כניסה לשירות ההעלאה, ולכן לא נשלח דבר. פתחו את הקובץ והשתמשו פעם אחת ' +
      'בתפריט CallMarker (כך מתחדשות ההרשאות של התוסף); אם זה חוזר, פנו למי שהתקין את התוסף.',
    'lease.busy_auto.upload': 'ההעלאה האוטומטית של {=holder} שולחת שורות מהגיליון "{sheet}" (התחילה {=age}). נסו שוב כשתסתיים.',
    'lease.busy_auto.check': 'הבדיקה של {=holder} בגיליון "{sheet}" ממשיכה בהרצה אוטומטית (התחילה {=age}). נסו שוב כשתסתיים.',
    'lease.busy_auto.remove': 'ההסרה מהקמפיין של {=holder} מהגיליון "{sheet}" ממשיכה בהרצה אוטומטית (התחילה {=age}). ' +
      'נסו שוב כשתסתיים.',
    'lease.own_auto.upload': 'ההעלאה האוטומטית שלך שולחת שורות מהגיליון "{sheet}" (התחילה {=age}). נסו שוב כשתסתיים.',
    'lease.own_auto.check': 'הבדיקה שלך בגיליון "{sheet}" ממשיכה בהרצה אוטומטית (התחילה {=age}). נסו שוב כשתסתיים.',
    'lease.own_auto.remove': 'ההסרה שלך מהקמפיין מהגיליון "{sheet}" ממשיכה בהרצה אוטומטית (התחילה {=age}). נסו שוב כשתסתיים.',
    'lease.stale_auto.upload': 'ההעלאה האוטומטית של {=holder} מהגיליון "{sheet}" התחילה {=age}, ולא התקדמה כבר {=silent}: ' +
      'ההרצה הבאה שלה תמשיך אותה. להשתלט עליה? העבודה ההיא לא תמשיך; השורות שהיא סיימה שומרות על הסטטוס שלהן.',
    'lease.stale_auto.check': 'הבדיקה של {=holder} בגיליון "{sheet}" התחילה {=age}, ולא התקדמה כבר {=silent}: ההרצה הבאה ' +
      'שלה תמשיך אותה. להשתלט עליה? העבודה ההיא לא תמשיך; השורות שהיא סיימה שומרות על הסטטוס שלהן.',
    'lease.stale_auto.remove': 'ההסרה מהקמפיין של {=holder} מהגיליון "{sheet}" התחילה {=age}, ולא התקדמה כבר {=silent}: ' +
      'ההרצה הבאה שלה תמשיך אותה. להשתלט עליה? העבודה ההיא לא תמשיך; השורות שהיא סיימה שומרות על הסטטוס שלהן.',

    'log.row': 'שורה {=row}',
    'log.failed': 'נכשל: {=message}',
    'log.taken_over': 'הגיליון עבר לעבודה של {=holder}: העבודה הזאת לא המשיכה; השורות שהיא סיימה שומרות על הסטטוס שלהן.',
    'log.waited': 'חיכתה לתור הבא שלה: {=busy}',
    'log.quiet': { one: 'לא היה מה לשלוח בהרצה אחת מאז {since}.', other: 'לא היה מה לשלוח ב-{#count} הרצות מאז {since}.' },
    'log.still_invalid': { one: 'שורה אחת עדיין לא תקינה.', other: '{#count} שורות עדיין לא תקינות.' },

    'automation.dialog_title': 'CallMarker: העלאה אוטומטית',
    'automation.title': 'העלאה אוטומטית של הגיליון "{sheet}"',
    'automation.intro': 'מעלה את השורות הממתינות של הגיליון (חדשות, שנכשלו, או שהשתנו מאז שהועלו) עם ההגדרות השמורות שלו, ' +
      'בלי שמישהו ילחץ על הכפתור.',
    'automation.off': 'ההעלאה האוטומטית כבויה בגיליון הזה.',
    'automation.on.schedule': 'מעלה את השורות הממתינות {=every}, בשם {who}, מאז {since}.',
    'automation.on.form': 'מעלה את השורות הממתינות כשמגיעה תשובה לטופס, בשם {who}, מאז {since}.',
    'automation.every_minutes': { one: 'כל דקה', other: 'כל {#count} דקות' },
    'automation.every_hour': 'כל שעה',
    'automation.last_run': 'הרצה אחרונה {when}: {=text}',
    'automation.silent': 'היא לא רצה מאז {since}. אם {=holder} עזב/ה את הארגון, או שהחשבון הושעה, ההרצות נעצרו יחד איתו: ' +
      'הפעילו את ההעלאה האוטומטית בשמכם כדי לקחת אותה.',
    'automation.continues': 'עדיין בעבודה: ממשיכה בהרצה הבאה.',
    'automation.waiting_silent': 'העבודה של {=holder} בגיליון "{sheet}" לא עונה כבר {=silent}; ההעלאה האוטומטית תיקח את ' +
      'הגיליון כשהעבודה ההיא תהיה בשקט {=after}.',
    'automation.choose': 'להעלות את השורות הממתינות',
    'automation.mode.off': 'כבוי: רק כשמישהו משתמש בתפריט',
    'automation.mode.schedule': 'לפי לוח זמנים',
    'automation.mode.form': 'כשמגיעה לגיליון הזה תשובה מטופס Google',
    'automation.cost': '{#runs} הרצות ביום. כל אחת פונה לשירות ההעלאה לפחות פעם אחת ({=account} רשאי לבצע {#fetches} פניות ' +
      'כאלה ביום), ונמשכת כמה שניות כשאין שום דבר חדש: בערך {#minutes} מתוך {#trigger_minutes} הדקות של הרצות אוטומטיות ביום.',
    'automation.account.consumer': 'חשבון Google אישי',
    'automation.account.workspace': 'חשבון Google Workspace',
    'automation.addon_hourly': 'כתוסף, Google מריץ העלאות אוטומטיות לכל היותר פעם בשעה.',
    'automation.form_cost': 'הרצה אחת לכל תשובה שמגיעה.',
    'automation.form_missing': 'הגיליון הזה לא מקבל תשובות מטופס Google: כדי להשתמש בזה, קשרו אליו טופס (בטופס: תשובות > ' +
      'קישור לגיליון).',
    'automation.runs_as': 'היא רצה בשמך, עם ההרשאות שלך לקובץ ולשירות ההעלאה, גם כשאף אחד לא פתח את הקובץ. יישלח אליך מייל ' +
      'כשהרצה נכשלת או משאירה שורות לתיקון (על אותה בעיה לכל היותר פעם בשעה); כל הרצה רשומה בלשונית "CallMarker log".',
    'automation.save': 'שמירה',
    'automation.close': 'סגירה',
    'automation.saving': 'שומר…',
    'automation.saved': 'נשמר.',
    'automation.not_saved': 'לא נשמר:',
    'automation.confirm_yes': 'כן',
    'automation.confirm_no': 'לא',
    'automation.confirm_take_over': 'ההעלאה האוטומטית של הגיליון "{sheet}" רצה בשם {=holder}. להפעיל אותה בשמך במקום? ' +
      'הקודמת תיעצר בהרצה הבאה שלה.',
    'automation.confirm_stop': 'ההעלאה האוטומטית של הגיליון "{sheet}" רצה בשם {=holder}. לכבות אותה? היא תיעצר בהרצה הבאה שלה.',
    'automation.mine_title': 'ההעלאות האוטומטיות שלך בקובץ הזה',
    'automation.stop': 'עצירה',
    'automation.no_email': 'Google לא מוסר לתוסף את כתובת המייל שלך, ולכן הוא לא יכול להריץ העלאות בשמך. השתמשו בחשבון של ' +
      'הארגון, או בחשבון שבבעלותו הקובץ.',
    'automation.no_form': 'הגיליון "{sheet}" לא מקבל תשובות מטופס Google. קשרו אליו טופס, או בחרו לוח זמנים.',
    'automation.too_many_triggers': 'Google מאפשר 20 טריגרים אוטומטיים לאדם עבור התוסף הזה, וכולם בשימוש אצלך (גם בקבצים ' +
      'אחרים). כבו העלאה אוטומטית שכבר לא צריך, ונסו שוב.',
    'automation.trigger_failed': 'Google לא אפשר לתוסף ליצור את הטריגר שלו: {message}',
    'automation.error.mode': 'בחרו: כבוי, לוח זמנים, או תשובות לטופס.',
    'automation.error.schedule': 'בחרו כל 5, 15 או 30 דקות, או כל שעה.',
    'automation.error.addon_schedule': 'כתוסף, העלאה אוטומטית רצה לכל היותר פעם בשעה.',

    'alert.subject': 'CallMarker: ההעלאה האוטומטית בקובץ "{spreadsheet}" דורשת תשומת לב',
    'alert.intro': 'ההעלאה האוטומטית שהפעלת בקובץ "{spreadsheet}" רצה ב-{when} ודורשת תשומת לב.',
    'alert.tab': '"{sheet}": {=result}',
    'alert.first_problems': 'הבעיות הראשונות:',
    'alert.open': 'לפתיחת הגיליון: {=url}',
    'alert.log': 'כל הרצה רשומה בלשונית "{log}".',
    'alert.why': 'המייל הזה נשלח אליך כי הפעלת את ההעלאה האוטומטית הזאת; על אותה בעיה נשלח מייל לכל היותר פעם בשעה. כדי ' +
      'לעצור אותה: תוספים > CallMarker > העלאה אוטומטית….',
    'notify.subject': 'CallMarker: העבודה שלך בגיליון "{sheet}" הסתיימה',
    'notify.intro': 'העבודה שלך בגיליון "{sheet}" בקובץ "{spreadsheet}" המשיכה אחרי שסגרת את החלונית שלה, והסתיימה:',
    'notify.why': 'המייל הזה נשלח אליך כי ביקשת אותו בהגדרות > ההעדפות שלך.',

    'help.menu.automatic_upload': 'מעלה בעצמו את השורות הממתינות של הגיליון, לפי לוח זמנים או כשמגיעה תשובה מטופס Google, ' +
      'בשם מי שהפעיל אותו; מציג מי זה ואת ההרצה האחרונה.',
    'help.automatic_title': 'העלאה אוטומטית, ועבודות שממשיכות אחרי שהחלון נסגר',
    'help.automatic': 'תחת "העלאה אוטומטית…" אפשר להגדיר שגיליון יעלה בעצמו את השורות הממתינות שלו: כל 5, 15 או 30 דקות או ' +
      'כל שעה (בתוסף: כל שעה), או כשמגיעה תשובה מטופס Google. ההעלאה רצה בשם מי שהפעיל אותה, עם ההגדרות השמורות של הגיליון, ' +
      'ומחכה כשעבודה של מישהו אחר מחזיקה בגיליון. עבודה שלא מסתיימת בהרצה אחת ממשיכה בהרצה הבאה, ועבודה שסגרת את החלונית שלה ' +
      'ממשיכה בעצמה: שום דבר לא הולך לאיבוד ושום דבר לא נשלח פעמיים. מי שהפעיל את ההעלאה מקבל מייל כשהרצה נכשלת או משאירה ' +
      'שורות לתיקון.',
    'help.log': 'כל עבודה, מהתפריט או אוטומטית, כותבת שורה אחת בלשונית "{log}": מתי, מי, איך היא התחילה, הגיליון, הספירות, ' +
      'כמה זמן זה לקח, איך זה הסתיים, וקישור לשורה הבעייתית הראשונה. נשמרות {#max} השורות החדשות ביותר.',
    // What the function's named failures mean, Test connection, and retries of very many ranges.
    'api.status.cursor_invalid': 'אי אפשר להמשיך את העבודה הזאת מהמקום שבו נעצרה: שירות ההעלאה כבר לא מזהה את המקום שלה (הוא ' +
      'השתנה, או שהשירות נפרס מחדש).{=said} לשורות שכבר טופלו יש סטטוס: השתמשו ב"העלאת כל השורות הממתינות" כדי לשלוח את השאר.',
    'api.status.sheets_token_mismatch': 'שירות ההעלאה קיבל גישה לקובץ של חשבון Google אחר מזה שמחובר.{=said} טענו מחדש את ' +
      'הקובץ, כשאתם מחוברים לחשבון Google אחד בלבד, ונסו שוב.',
    'api.status.sheets_api_disabled': 'ה-API של Google Sheets לא מופעל בפרויקט הענן של התוסף.{=said} בקשו ממי שהתקין את ' +
      'התוסף להפעיל אותו (מסוף Google Cloud > APIs & Services > Library > Google Sheets API).',
    'api.status.cursor_too_large': 'בבחירה הזאת יש יותר מדי טווחים נפרדים כדי שעבודה אחת תעקוב אחריהם.{=said} לשורות שכבר ' +
      'טופלו יש סטטוס: השתמשו ב"העלאת כל השורות הממתינות" כדי להמשיך, או בחרו פחות טווחים וגדולים יותר.',
    'api.status.body_too_large': 'הבחירה מפוזרת מכדי לשלוח אותה בבקשה אחת.{=said} בחרו פחות טווחים וגדולים יותר ונסו שוב.',
    'api.status.callmarker_unreadable': 'CallMarker השיב כמה פעמים ברצף משהו ששירות ההעלאה לא מצליח לקרוא, ולכן לא נשלח דבר ' +
      'נוסף.{=said} השורות שנשלחו מסומנות failed ובטוח לשלוח אותן שוב; אם זה ממשיך לקרות, בקשו ממי שהתקין את התוסף לבדוק את ' +
      'הכתובת של CallMarker.',
    'api.status.status_columns_protected': 'לא נשלח דבר: עמודות הסטטוס של הגיליון הזה מוגנות מפני החשבון שלכם.{=said} ' +
      'בקשו מהבעלים של הקובץ להוסיף אתכם לעורכי ההגנה (נתונים > הגנה על גיליונות וטווחים).',
    'api.status.statuses_not_written': 'שורות נשלחו ל-CallMarker, אבל לא ניתן היה לכתוב את הסטטוסים שלהן בגיליון.{=said} ' +
      'עד שייכתבו, הגיליון מראה את השורות האלה כלא נשלחו: אם עמודת הסטטוס מוגנת, בקשו מהבעלים של הקובץ לאפשר לכם לערוך אותה.',
    'retry.more_left': { one: 'עבודה אחת מקבלת עד {#max} טווחים נפרדים: הם נשלחים שוב קודם, ועוד שורה אחת שנכשלה ממתינה ל"שליחה ' +
      'חוזרת של שורות שנכשלו" הבאה.', other: 'עבודה אחת מקבלת עד {#max} טווחים נפרדים: הם נשלחים שוב קודם, ועוד {#count} שורות ' +
      'שנכשלו ממתינות ל"שליחה חוזרת של שורות שנכשלו" הבאה.' },
    'connection.title': 'CallMarker: בדיקת חיבור',
    'connection.close': 'סגירה',
    'connection.fix': 'תיקון: {=fix}',
    'connection.list': 'רשימת בדיקות החיבור',
    'connection.attention': { one: 'שורה אחת דורשת טיפול.', other: '{#count} שורות דורשות טיפול.' },
    'connection.all_good': 'כל מה שהתוסף צריך תקין.',
    'connection.address': 'כתובת הפונקציה',
    'connection.no_address': 'התוסף לא יודע איפה נמצאת פונקציית ההעלאה.',
    'connection.no_address_fix': 'דחפו את התוסף עם deploy/apps_script.sh --function-url והכתובת ש-deploy/function.sh הדפיס.',
    'connection.no_answer': 'אין תשובה מ-{url}.',
    'connection.no_answer_fix': 'בדקו שהפונקציה פרוסה (deploy/function.sh מדפיס את הכתובת שלה) ושהתוסף נדחף עם הכתובת הזאת.',
    'connection.reaching': 'הגעה לפונקציה',
    'connection.refused': 'הקריאה נדחתה עם HTTP {#code} לפני שהפונקציה יכלה לענות.',
    'connection.401': 'Cloud Run לא קיבל את אסימון הכניסה (ה-audience שלו, או החתימה שלו).',
    'connection.401_fix': 'הריצו שוב את deploy/function.sh עם --audiences שמכיל את מזהה הלקוח (OAuth client id) של התוסף: הוא ' +
      'נעשה audience מותאם של השירות.',
    'connection.403': 'Cloud Run אומר ש-{email} לא רשאי לקרוא לה.',
    'connection.403_fix': 'בקשו ממנהל המערכת להוסיף אתכם לקבוצה (או לדומיין) שקיבלו את התפקיד Cloud Run Invoker על הפונקציה.',
    'connection.404': 'שום דבר לא עונה בכתובת הזאת (HTTP 404).',
    'connection.404_fix': 'דחפו את התוסף שוב עם הכתובת ש-deploy/function.sh הדפיס.',
    'connection.other': 'הפונקציה השיבה HTTP {#code} במקום רשימת הבדיקות שלה.',
    'connection.other_fix': 'בדקו שוב בעוד דקה; אם זה נמשך, דחפו את התוסף ופרסו את הפונקציה שוב (הם צריכים להיות באותה גרסה).',
    'connection.your_account': 'החשבון שלכם',
  }),
});

/**
 * A message in a language, its placeholders filled. Pure.
 * @param {Language} lang
 * @param {string} key
 * @param {Record<string, string | number>} [params]
 * @returns {string}
 */
function t_(lang, key, params = {}) {
  const table = MESSAGES[lang] || MESSAGES.en;
  const message = table[key];
  if (message === undefined) {
    throw new Error('No message ' + key + ' in ' + lang);
  }
  const text = typeof message === 'string' ? message : params.count === 1 ? message.one : message.other;
  return text.replace(/\{([#=]?)([a-z_]+)\}/g, (_whole, kind, name) => {
    if (!(name in params)) {
      throw new Error('The message ' + key + ' needs ' + name);
    }
    const value = params[name];
    if (kind === '#') {
      return formatCount_(Number(value));
    }
    return kind === '=' ? String(value) : isolate_(String(value));
  });
}

/**
 * @param {Language} lang
 * @param {string} key
 * @returns {boolean}
 */
function hasMessage_(lang, key) {
  return Object.prototype.hasOwnProperty.call(MESSAGES[lang], key);
}

/**
 * A value set apart from the text around it (Unicode's first-strong isolate), so that its direction
 * neither takes nor gives order. Isolates or embeddings it carries from outside are balanced first,
 * so that it cannot end our isolate early nor leak into the sentence after it. Pure.
 * @param {string} text
 * @returns {string}
 */
function isolate_(text) {
  let open = 0;
  let kept = '';
  for (const ch of text.replace(/[\u202a-\u202e]/g, '')) {
    if (ch === '\u2066' || ch === '\u2067' || ch === '\u2068') {
      open += 1;
    } else if (ch === '\u2069') {
      if (open === 0) {
        continue;
      }
      open -= 1;
    }
    kept += ch;
  }
  return FIRST_STRONG_ISOLATE + kept + POP_DIRECTIONAL_ISOLATE.repeat(open + 1);
}

/**
 * The add-in's language for a Google locale: Hebrew for "he" or "iw" (Google's older code), else English.
 * @param {string} locale
 * @returns {Language}
 */
function languageOf_(locale) {
  return /^(he|iw)([-_]|$)/i.test(String(locale || '')) ? 'he' : 'en';
}

/**
 * The language the user chose in their preferences, else their Google account's.
 * @returns {Language}
 */
function userLanguage_() {
  try {
    const chosen = loadPreferences_(PropertiesService.getUserProperties()).language;
    if (chosen) {
      return chosen;
    }
  } catch (_error) {
    // Preferences cannot be read in every authorization mode; the account's language still can.
  }
  return languageOf_(Session.getActiveUserLocale());
}

/**
 * @param {Language} lang
 * @returns {'rtl' | 'ltr'}
 */
function directionOf_(lang) {
  return lang === 'he' ? 'rtl' : 'ltr';
}

/**
 * How long ago a moment was, in words: "just now", "2 minutes ago", "1 hour ago".
 * @param {Language} lang
 * @param {number} thenMs
 * @param {number} nowMs
 * @returns {string}
 */
function describeAge_(lang, thenMs, nowMs) {
  const minutes = Math.floor(Math.max(0, nowMs - thenMs) / 60000);
  if (minutes < 1) {
    return t_(lang, 'age.just_now');
  }
  if (minutes < 60) {
    return t_(lang, 'age.minutes', { count: minutes });
  }
  return t_(lang, 'age.hours', { count: Math.floor(minutes / 60) });
}

/**
 * A length of time in words, at least a minute: "3 minutes", "2 hours".
 * @param {Language} lang
 * @param {number} ms
 * @returns {string}
 */
function describeDuration_(lang, ms) {
  const minutes = Math.max(1, Math.floor(ms / 60000));
  return minutes < 60 ? t_(lang, 'duration.minutes', { count: minutes }) : t_(lang, 'duration.hours', { count: Math.floor(minutes / 60) });
}

/**
 * The messages a page needs, written in the user's language, for its script to show as they are.
 * @param {Language} lang
 * @param {string[]} keys
 * @returns {Record<string, string>}
 */
function pageTexts_(lang, keys) {
  /** @type {Record<string, string>} */
  const texts = {};
  for (const key of keys) {
    texts[key] = t_(lang, key);
  }
  return texts;
}
