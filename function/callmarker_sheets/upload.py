"""One step of a job: read the rows, validate them, upload the valid ones, write every status back.

A step works within a time budget; when the budget runs low it starts no new batch, writes what it
finished and answers ``done: false`` with a cursor (``job.py``). The next call, with that cursor, goes
on where it stopped.

A step runs in phases, each its own function: read (the edge: one Sheets read) -> plan (pure: which
rows are the job's, which to act on, which wait) -> validate and upload (CallMarker, the edge) ->
statuses (pure: what each row's status cells say) -> write (the edge: one Sheets write) -> tally
(pure: the job's progress and the answer).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from google.auth.credentials import Credentials
from requests.adapters import BaseAdapter

from callmarker_sheets.callmarker import (
    CallMarkerClient,
    CallMarkerRequestError,
    CallMarkerUnreadableAnswer,
    UploadReport,
)
from callmarker_sheets.config import Settings
from callmarker_sheets.errors import BadRequest, PayloadTooLarge
from callmarker_sheets.fields import HeaderError, HeaderMap, column_letter, map_headers
from callmarker_sheets.i18n import ENGLISH, Translator, translator
from callmarker_sheets.job import (
    ACTIONS,
    LANGUAGES,
    MAX_BODY_BYTES,
    MAX_ERRORS,
    MAX_INTERVALS,
    MAX_JOB_ROWS,
    MAX_JSON_DEPTH,
    MAX_SHEET_ID,
    MAX_SHEET_ROWS,
    MODES,
    SPREADSHEET_ID,
    Action,
    Interval,
    Job,
    JobError,
    Mode,
    Progress,
    ProgressTooLarge,
    parse_body,
)
from callmarker_sheets.logs import redact
from callmarker_sheets.model import Outcome, RowError, RowResult, UploadItem
from callmarker_sheets.retry import RetryPolicy
from callmarker_sheets.sheet import (
    LATE_REQUEST_S,
    PreviousStatus,
    RowsNow,
    Selection,
    Sheet,
    SheetError,
    SheetInfo,
    SheetRow,
    StatusUpdate,
    connect,
    find_status_columns,
    is_locked,
    locks_any,
    merge_intervals,
    number_runs,
    status_column_places,
    subtract_intervals,
)
from callmarker_sheets.validate import (
    JobOptions,
    check_job_options,
    key_columns,
    raw_columns,
    validate_rows,
)

# The request and the cursor live in job.py; their names are kept here for the entry point and tests.
__all__ = [
    "ACTIONS",
    "LANGUAGES",
    "MAX_BODY_BYTES",
    "MAX_ERRORS",
    "MAX_INTERVALS",
    "MAX_JOB_ROWS",
    "MAX_JSON_DEPTH",
    "MAX_SHEET_ID",
    "MAX_SHEET_ROWS",
    "MODES",
    "SPREADSHEET_ID",
    "Action",
    "BadRequest",
    "CallMarkerRefused",
    "CallMarkerUnreachable",
    "CallMarkerUnreadable",
    "HeaderProblem",
    "Interval",
    "Job",
    "JobError",
    "Mode",
    "PayloadTooLarge",
    "Progress",
    "ProgressTooLarge",
    "StatusColumnsProtected",
    "StatusesNotWritten",
    "StepAnswer",
    "StepContext",
    "TooManyRows",
    "open_context",
    "parse_body",
    "run_step",
]

logger = logging.getLogger(__name__)

#: What validation says of a row: the customer to send, or what is wrong with it.
Verdict = UploadItem | list[RowError]

#: Statuses that pending mode leaves alone while the row is unchanged, and that checking keeps.
SETTLED = frozenset({Outcome.UPLOADED.value, Outcome.REMOVED.value, Outcome.SENT.value})
#: Statuses of rows refused as they are, by the function's checks or by CallMarker: unchanged since, such a
#: row would most likely be refused again, so pending mode takes it after every other pending row.
REFUSED = frozenset({Outcome.INVALID.value, Outcome.REJECTED.value})
#: Time kept for writing the statuses at the end of a step: at least this, or what reading took.
MIN_WRITE_RESERVE_S = 1.0
#: No batch is started later than this before the time kept for writing (batches in flight finish).
START_MARGIN_S = 1.0
#: When reading took the time kept for uploading, a step still sends one batch (so that every step moves
#: the job on) if it can end by the step's deadline, or within this long of now when that is later; never
#: later than half of ``LATE_REQUEST_S`` past the deadline, leaving the write the other half.
LAST_BATCH_S = 5.0


class TooManyRows(JobError):
    http_status = 413
    code = "too_many_rows"


class HeaderProblem(JobError):
    http_status = 422
    code = "header_row"


class CallMarkerRefused(JobError):
    """CallMarker refused the request itself (the token, the campaign): every batch would fail alike."""

    http_status = 502
    code = "callmarker_refused"


class CallMarkerUnreachable(JobError):
    """No batch of the step got through: CallMarker is down or unreachable. Rows are marked failed."""

    http_status = 502
    code = "callmarker_unreachable"


class CallMarkerUnreadable(JobError):
    """CallMarker answered, several times in a row, something this tool cannot read. Rows are marked
    failed: it may have taken them, but nothing confirms it."""

    http_status = 502
    code = "callmarker_unreadable"


class StatusColumnsProtected(JobError):
    """The status cells the step would write are in a range protected from the caller: nothing is sent,
    since the sheet could not say what became of the rows."""

    http_status = 403
    code = "status_columns_protected"


class StatusesNotWritten(JobError):
    """CallMarker took rows of the step, but Google Sheets did not take their statuses: the sheet does not
    show that they were sent, so uploading them again would send them again. The message says which."""

    http_status = 503
    code = "statuses_not_written"


#: At most this many row ranges are named in a message; the rest are counted.
RANGES_NAMED = 10


def row_ranges(rows: Iterable[int], t: Translator = ENGLISH) -> str:
    """Pure: rows as a person reads them, "2–500, 502, 10,234" (at most :data:`RANGES_NAMED` ranges, then
    how many more). Thousands are grouped and ranges joined by an en dash: no row number reads as a phone
    number, which every answer masks."""
    spans = number_runs(row for row in rows if row >= 1)
    named = ", ".join(f"{lo:,}" if lo == hi else f"{lo:,}\u2013{hi:,}" for lo, hi in spans[:RANGES_NAMED])
    if len(spans) <= RANGES_NAMED:
        return named
    return t("{=named} and {#count} more ranges", named=named, count=len(spans) - RANGES_NAMED)


# ------------------------------------------------------------------------------------------ step


@dataclass(frozen=True, slots=True)
class StepAnswer:
    """The answer to one step; ``to_json`` is what the add-in reads."""

    done: bool
    cursor: str | None
    counts: Mapping[str, int]
    total_rows: int
    processed_rows: int
    errors: Sequence[Mapping[str, Any]]
    retry_rows: Sequence[Interval]
    message: str
    unmapped_columns: Sequence[str] = ()
    lost_rows: Sequence[int] = ()
    #: The address of the tab's filter view of problem rows; None while it has none.
    problem_rows_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "cursor": self.cursor,
            "counts": dict(self.counts),
            "total_rows": self.total_rows,
            "processed_rows": self.processed_rows,
            "errors": list(self.errors),
            "retry_rows": [list(r) for r in self.retry_rows],
            "message": self.message,
            "unmapped_columns": list(self.unmapped_columns),
            "lost_rows": list(self.lost_rows),
            "problem_rows_url": self.problem_rows_url,
        }


COUNT_KEYS = ("uploaded", "rejected", "invalid", "failed", "skipped")
#: Counts an action adds to the five every answer has.
_EXTRA_COUNT: Mapping[str, tuple[str, ...]] = {
    "upload": ("sent",),
    "check": ("valid",),
    "remove": ("removed", "sent"),
}
#: Outcomes CallMarker confirmed.
CONFIRMED = frozenset({Outcome.UPLOADED, Outcome.REMOVED})
#: Outcomes that need no attention from the user (a row "sent" carries its own message).
GOOD = frozenset({Outcome.UPLOADED, Outcome.VALID, Outcome.REMOVED, Outcome.SKIPPED, Outcome.SENT})


@dataclass
class StepContext:
    """The edges one step talks to, and its clock.

    ``deadline`` (a ``clock()`` value) is when the step must be done, counted from the request's
    arrival (a cold start included); when None, ``budget_s`` from the start of ``run_step``.
    """

    sheet: Sheet
    client: CallMarkerClient | None
    budget_s: float
    default_region: str = "IL"
    max_rows: int = 50_000
    clock: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    deadline: float | None = None
    #: Who runs the job, as the time column names them ("dana@": the local part of their email).
    who: str = ""


def run_step(job: Job, cursor: object, ctx: StepContext) -> StepAnswer:
    """Read -> plan -> validate and upload -> statuses -> write -> tally, within ``ctx.budget_s``; the
    answer says how far the job got."""
    started = ctx.clock()
    deadline = ctx.deadline if ctx.deadline is not None else started + ctx.budget_s
    progress = Progress.decode(cursor, job)
    t = translator(job.lang)
    read = read_step(job, ctx, t, None if cursor is None else progress)
    read_s = ctx.clock() - started
    plan = plan_step(job, read, progress, first_step=cursor is None, max_rows=ctx.max_rows)
    read = narrowed(read, plan)
    check_status_cells(ctx.sheet.info, read.selection, plan.to_do, t)
    # Writing costs about what reading did: keep that for the end of the step, and stop starting
    # batches early enough that those in flight can finish before it.
    write_s = max(MIN_WRITE_RESERVE_S, read_s)
    work = _validate_and_upload(
        job,
        ctx,
        read,
        plan,
        t,
        deadline=deadline - write_s - START_MARGIN_S,
        hard_deadline=deadline - write_s,
        step_deadline=deadline,
    )
    # The rows' cells are not needed any more: let them go before the statuses are built and sent.
    selection = replace(read.selection, rows=(), previous={})
    rows_read = len(read.selection.rows)
    del read
    lost: tuple[int, ...] = ()
    if work.results:
        # Where the rows are now is asked for while their statuses are made.
        with ThreadPoolExecutor(max_workers=1) as ahead:
            now = ahead.submit(ctx.sheet.rows_now, selection, key_column=plan.key_column)
            updates = row_statuses(work, _stamp(ctx.now(), ctx.sheet.info.time_zone, ctx.who), t)
            lost = _write(ctx, selection, updates, plan.key_column, t, now)
    answer = _tally(job, progress, plan, work, lost, t, rows_read=rows_read)
    return replace(answer, problem_rows_url=ctx.sheet.info.problem_rows_url)


def check_status_cells(info: SheetInfo, selection: Selection, rows: Collection[int], t: Translator) -> None:
    """Pure: refuse the step, before anything is sent, when a status cell it would write (on ``rows``, and
    the headers of status columns still to add) is in a range protected from the caller."""
    if not info.locked:
        return
    columns, missing = status_column_places(selection.headers, selection.used_width)
    header = selection.header_row - 1
    blocked = sorted(
        column
        for name, column in columns.items()
        if (name in missing and is_locked(info.locked, header, column))
        or locks_any(info.locked, (row - 1 for row in rows), column)
    )
    if blocked:
        raise StatusColumnsProtected(
            t(
                "The status columns of this sheet ({=columns}) are protected, and your account may not edit "
                "them, so nothing was sent. Ask the spreadsheet's owner to let you edit them, or to take "
                "their protection off.",
                columns=", ".join(column_letter(c) for c in columns.values()),
            )
        )


def _write(  # noqa: PLR0917
    ctx: StepContext,
    selection: Selection,
    updates: Sequence[StatusUpdate],
    key_column: int,
    t: Translator,
    now: Future[RowsNow] | None = None,
) -> tuple[int, ...]:
    """The write phase: the statuses in the sheet; the rows whose statuses found no row (``lost``).
    ``now``: the sheet's rows as :meth:`Sheet.rows_now` reads them, asked for already. When Google
    Sheets does not take them, rows CallMarker took are named: the sheet cannot say so."""
    try:
        rows_now = now.result() if now is not None else None
        return ctx.sheet.write(selection, updates, key_column=key_column, as_now=rows_now).lost
    except SheetError as exc:
        # rows CallMarker took (or may have): uploading them again would send them again
        taken = [u.row for u in updates if u.status in SETTLED]
        if not taken:
            raise
        raise StatusesNotWritten(
            t(
                "{#count} rows were sent to CallMarker, but Google Sheets did not take their statuses "
                "({=reason}), so the sheet does not show it. Rows {=rows}: check them in CallMarker "
                "before you upload them again, or they are sent again.",
                count=len(taken),
                reason=exc.words(t).rstrip("."),
                rows=row_ranges(taken, t),
            )
        ) from exc


@dataclass(frozen=True, slots=True)
class PendingFound:
    """What pending mode's first step found in the whole sheet, read in parts: how many rows it leaves
    alone (uploaded and unchanged), and how many are pending (more than a job takes, perhaps)."""

    settled: int
    pending: int


@dataclass(frozen=True, slots=True)
class StepRead:
    """What the read phase found: the rows, their columns' fields, and the job's options for them.
    ``found``: pending mode's first step keeps whole only the rows its job takes, and counts the rest."""

    selection: Selection
    headers: HeaderMap
    options: JobOptions
    found: PendingFound | None = None


def _wanted(job: Job, row_count: int, max_rows: int, t: Translator) -> tuple[Interval, ...]:
    """The rows to read: the selection below the header row, or every row below it in pending mode."""
    if job.mode == "selected":
        wanted = merge_intervals(job.rows, first=job.header_row + 1)
        if not wanted:
            raise BadRequest(
                t("No rows below the header row (row {=row}) were selected.", row=job.header_row)
            )
    else:
        wanted = ((job.header_row + 1, max(row_count, job.header_row + 1)),)
    selected_count = sum(hi - lo + 1 for lo, hi in wanted)
    if job.mode == "selected" and selected_count > max_rows:
        raise TooManyRows(
            t(
                "{#count} rows are selected; one job takes at most {#max}. Select fewer rows and upload them "
                "in parts.",
                count=selected_count,
                max=max_rows,
            )
        )
    return wanted


def read_step(
    job: Job, ctx: StepContext, t: Translator = ENGLISH, progress: Progress | None = None
) -> StepRead:
    """The read phase: the rows from the sheet, their headers mapped, the options checked against them.

    A first step reads every row of the job whole (the selection's, as shown and raw, with the header
    row, in two calls at once). Pending mode's first step reads every row of the sheet, in parts
    (``_read_pending``), and keeps whole only the rows its job takes. A later one (``progress``)
    reads whole only the rows still to do, and of the job's other rows only the columns that tell a
    repeated number; raw values only of the columns validation reads them by (numbers, dates,
    checkboxes), as the last step's header row gave them (pending mode's first step reads its header
    row first for them). If the header row moved the columns meanwhile, the rows are read again, whole.
    """
    info = ctx.sheet.info
    wanted = _wanted(job, info.row_count, ctx.max_rows, t)
    columns = progress.columns if progress is not None else None
    if columns is None and job.mode == "pending":
        # Pending mode reads every row of the sheet: its header row first (one call more), so that raw
        # values are asked for only of the columns validation reads them by, not of every cell.
        headers = _mapped(ctx.sheet.read_header(job.header_row), job, t)
        columns = (tuple(sorted(raw_columns(headers))), key_columns(headers))
        parted = _read_pending(job, ctx, wanted, columns) if progress is None else None
        if parted is not None:
            selection, found = parted
            headers = _mapped(selection.headers, job, t)
            if raw_columns(headers) <= set(columns[0]) and key_columns(headers) == columns[1]:
                return _checked_read(job, ctx, selection, headers, t, found=found)
            # the columns moved since the header row was read: the rows are read again, whole
            columns = None
    if columns is None:
        selection = ctx.sheet.read(wanted, header_row=job.header_row)
        headers = _mapped(selection.headers, job, t)
    else:
        raw, keys = columns
        whole, other = _rows_to_read(job, wanted, progress)
        selection = ctx.sheet.read(
            whole, header_row=job.header_row, raw_columns=raw, keys=other, key_columns=keys
        )
        headers = _mapped(selection.headers, job, t)
        if not raw_columns(headers) <= set(raw) or key_columns(headers) != keys:
            # the columns moved since they were read: read the rows again, as the sheet is now
            selection = ctx.sheet.read(wanted, header_row=job.header_row)
            headers = _mapped(selection.headers, job, t)
    return _checked_read(job, ctx, selection, headers, t)


def _checked_read(
    job: Job,
    ctx: StepContext,
    selection: Selection,
    headers: HeaderMap,
    t: Translator,
    *,
    found: PendingFound | None = None,
) -> StepRead:
    """The rows read, with the job's options for them, checked against their headers."""
    info = ctx.sheet.info
    # The country of a number comes from the request or the function's setting, never from the sheet's
    # locale: many Israeli teams keep English (en_US) sheets.
    options = job.job_options(
        default_region=ctx.default_region,
        locale=info.locale,
        time_zone=_zone_or_none(info.time_zone),
    )
    problems = check_job_options(options, headers, t)
    if problems:
        raise BadRequest(" ".join(problems))
    return StepRead(selection, headers, options, found)


def _read_pending(
    job: Job, ctx: StepContext, wanted: Sequence[Interval], columns: tuple[tuple[int, ...], tuple[int, ...]]
) -> tuple[Selection, PendingFound] | None:
    """Pending mode's first step reads the whole sheet in parts, and of each part keeps whole only the
    rows its job takes (pending ones, up to a job's size); of the others only the columns that tell a
    repeated number. However tall the sheet, no more than two parts and one job's rows are held.
    None when the header row changed while the parts were read."""
    raw, keys = columns
    joined: Selection | None = None
    settled = pending = soonest = 0
    refused_kept: list[int] = []  # kept whole while the job has room, until rows to try sooner need it

    def taken(shown: Selection) -> list[int]:
        """Of a part's rows as shown, those the job takes: pending ones, while the job has room."""
        nonlocal settled, pending, soonest
        found = pending_rows(shown)
        settled += found.settled
        pending += len(found.soonest) + len(found.refused)
        first = found.soonest[: max(0, ctx.max_rows - soonest)]
        soonest += len(first)
        later = found.refused[: max(0, ctx.max_rows - soonest - len(refused_kept))]
        refused_kept.extend(later)
        return first + later

    parts = ctx.sheet.read_parts(
        wanted, header_row=job.header_row, raw_columns=raw, whole=taken, key_columns=keys
    )
    for part in parts:
        if joined is not None and part.headers != joined.headers:
            return None
        joined = part if joined is None else joined.joined(part)
        over = len(joined.rows) - ctx.max_rows
        if over > 0:
            # rows to try sooner, further down, take the room of rows refused as they are: those wait
            let_go = set(refused_kept[-over:])
            del refused_kept[-over:]
            joined = joined.narrowed({row.number for row in joined.rows if row.number not in let_go}, keys)
    if joined is None:
        return None
    return joined, PendingFound(settled=settled, pending=pending)


@dataclass(frozen=True, slots=True)
class PendingRows:
    """The rows pending mode takes, in the order it takes them, and how many it leaves alone."""

    #: Not sent yet, edited since, or not settled (failed): in sheet order.
    soonest: list[int]
    #: Refused as they are (invalid or rejected) and unchanged since: taken when a job has room left.
    refused: list[int]
    #: Uploaded (or removed, or sent) and unchanged since: left alone.
    settled: int


def pending_rows(selection: Selection) -> PendingRows:
    """Pure: the rows pending mode takes (not uploaded, or edited since), those to try soonest first."""
    soonest: list[int] = []
    refused: list[int] = []
    for row in selection.rows:
        standing = _unchanged_status(selection, row)
        if standing in SETTLED:
            continue
        (refused if standing in REFUSED else soonest).append(row.number)
    return PendingRows(soonest, refused, len(selection.rows) - len(soonest) - len(refused))


def _mapped(header: Sequence[str], job: Job, t: Translator) -> HeaderMap:
    try:
        return map_headers(header, ignore=set(find_status_columns(header).values()))
    except HeaderError as exc:
        raise HeaderProblem(
            t("Row {=row} (the header row): {=problems}", row=job.header_row, problems=exc.words(t))
        ) from exc


def _rows_to_read(
    job: Job, wanted: Sequence[Interval], progress: Progress | None
) -> tuple[Sequence[Interval], Sequence[Interval]]:
    """The rows a step reads whole, and those of which it reads only the key columns: a first step
    reads every row whole (pending mode tells an unchanged row by all its cells); a later one, only
    the rows still to do."""
    if progress is None:
        return wanted, ()
    if job.mode == "selected":
        return subtract_intervals(wanted, progress.done), progress.done
    if progress.rows is None:
        return wanted, ()
    whole = subtract_intervals(progress.rows, progress.done)
    return whole, subtract_intervals(wanted, whole)


@dataclass(slots=True)
class Plan:
    """Which rows a step acts on. ``job_size``: how many rows the job has (rows finished in earlier
    steps count, so that totals hold across steps); ``to_do``: the numbers of those not finished yet."""

    job_size: int
    to_do: set[int]
    done: _IntervalSet
    #: The index of the phone column: the key a row's status is written by.
    key_column: int
    unmapped: tuple[str, ...] = ()
    #: Rows of the sheet pending mode leaves alone (uploaded and unchanged), counted on the first step.
    skipped: int = 0
    #: Pending rows beyond one job's size: they wait for the next job.
    left_for_later: int = 0
    #: Pending mode's first step: the job's rows, for the cursor (later steps read only those).
    rows: tuple[Interval, ...] | None = None
    #: For the cursor: the columns a later step reads raw, and those that tell a repeated number.
    columns: tuple[tuple[int, ...], tuple[int, ...]] | None = None


def plan_step(job: Job, read: StepRead, progress: Progress, *, first_step: bool, max_rows: int) -> Plan:
    """The plan phase, pure: the job's rows among those read, and which of them this step acts on."""
    selection = read.selection
    done = _IntervalSet(progress.done)
    plan = Plan(
        job_size=0,
        to_do=set(),
        done=done,
        key_column=read.headers.fields["number"],
        unmapped=read.headers.unmapped,
        columns=(tuple(sorted(raw_columns(read.headers))), key_columns(read.headers)),
    )
    if job.mode == "selected":
        # The job's rows: every non-empty selected row; those finished in earlier steps were not read
        # again, and count as they did (so that totals hold across steps).
        plan.to_do = {row.number for row in selection.rows if row.number not in done}
        plan.job_size = len(done) + len(plan.to_do)
        return plan
    if progress.rows is not None and not first_step:
        # Pending mode's later steps: the job's rows are those its first step found.
        found = _IntervalSet(progress.rows)
        plan.to_do = {row.number for row in selection.rows if row.number in found and row.number not in done}
        plan.job_size = len(found)
        plan.left_for_later = progress.later
        return plan
    if read.found is not None:
        # Pending mode's first step, read in parts: the rows kept whole are the job's.
        plan.skipped = read.found.settled
        plan.left_for_later = max(0, read.found.pending - max_rows)
        plan.job_size = len(selection.rows)
        plan.to_do = {row.number for row in selection.rows}
        plan.rows = tuple(number_runs(row.number for row in selection.rows))
        return plan
    # Pending mode: the rows not uploaded and unchanged (rows this job finished stay in, so the totals
    # hold across steps).
    pending = pending_rows(selection)
    plan.skipped = pending.settled if first_step else 0
    # Pending rows beyond a job's size wait for the next job: rows refused as they are, unchanged, last.
    finished = [row.number for row in selection.rows if row.number in done]
    order = finished + [n for n in (*pending.soonest, *pending.refused) if n not in done]
    plan.left_for_later = max(0, len(order) - max_rows)
    chosen = set(order[:max_rows])
    job_rows = [row for row in selection.rows if row.number in chosen]
    plan.job_size = len(job_rows)
    plan.to_do = {row.number for row in job_rows if row.number not in done}
    plan.rows = tuple(number_runs(row.number for row in job_rows))
    return plan


def narrowed(read: StepRead, plan: Plan) -> StepRead:
    """What a step goes on with once its plan is made: the rows it acts on whole, and of the others only
    the columns that tell a repeated number (pending mode reads a whole sheet to find its rows: most of
    them are not needed whole after that)."""
    selection = read.selection
    if selection.keys or len(plan.to_do) == len(selection.rows):
        return read
    return replace(read, selection=selection.narrowed(plan.to_do, key_columns(read.headers)))


def checked_rows(read: StepRead, plan: Plan, t: Translator = ENGLISH) -> Iterator[tuple[SheetRow, Verdict]]:
    """Each row the step acts on, in sheet order, with what validation says of it: a number already on
    another row of the job (acted on or not, finished or not) is caught too. The rows not acted on are
    looked at only for their numbers."""
    selection = read.selection
    to_do = [row for row in selection.rows if row.number in plan.to_do]
    if selection.keys:
        others: Iterable[SheetRow] = selection.keys
        others_headers: HeaderMap | None = read.headers.narrowed(selection.key_columns)
    else:
        others = (row for row in selection.rows if row.number not in plan.to_do)
        others_headers = None
    verdicts = validate_rows(
        ((row.number, row.formatted, row.raw) for row in to_do),
        read.headers,
        read.options,
        t,
        others=((row.number, row.formatted, row.raw) for row in others),
        others_headers=others_headers,
    )
    return zip(to_do, verdicts, strict=True)


@dataclass(slots=True)
class _Work:
    """What validating and uploading gave: a result per row acted on, and what its status needs."""

    results: list[RowResult]
    #: row -> (fingerprint, key) for its status
    marks: dict[int, tuple[str, str]]
    #: Checked rows that keep their earlier status (uploaded, removed or sent, unchanged since).
    kept: dict[int, PreviousStatus]
    report: UploadReport


def _validate_and_upload(
    job: Job,
    ctx: StepContext,
    read: StepRead,
    plan: Plan,
    t: Translator,
    *,
    deadline: float,
    hard_deadline: float,
    step_deadline: float,
) -> _Work:
    """The validate and upload phase: the planned rows are validated and acted on, and a number
    already on another row is caught even when that row was uploaded earlier (pending mode) or in an
    earlier step (``checked_rows``). Validation runs in a thread ahead of the client, which draws
    batches from it: the first requests leave while later rows are still being checked, and the
    statuses' fingerprints are made meanwhile; the event loop never waits for it."""
    selection, key_column = read.selection, plan.key_column
    work = _Work(results=[], marks={}, kept={}, report=UploadReport())
    ready = t("Ready to upload")

    def valid_items() -> Iterator[UploadItem]:
        for row, verdict in checked_rows(read, plan, t):
            work.marks[row.number] = (selection.fingerprint(row), row.formatted[key_column])
            # Checking keeps history: a row uploaded (or removed, or sent) and unchanged since keeps
            # that status and time, and gets the check's verdict as its message.
            if job.action == "check" and _settled(selection, row, work.marks[row.number][0]):
                work.kept[row.number] = selection.previous[row.number]
            if isinstance(verdict, list):
                work.results.append(invalid_result(row.number, verdict, t))
            elif job.action == "check":
                work.results.append(RowResult(row.number, Outcome.VALID, ready))
            else:
                yield verdict

    if job.action == "check":
        list(valid_items())  # gives every row its result and yields nothing to send
        return work
    if ctx.client is None:
        raise RuntimeError("a CallMarker client is needed to upload")
    items = _Ahead(valid_items())
    try:
        work.report = _upload(ctx, items, deadline, hard_deadline, step_deadline)
    finally:
        items.close()
    if job.action == "remove":
        work.report.results = [_removed(r) for r in work.report.results]
    work.results.extend(work.report.results)
    return work


def row_statuses(work: _Work, stamp: str, t: Translator = ENGLISH) -> list[StatusUpdate]:
    """The statuses phase, pure: what each finished row's status cells say, in row order."""
    return [
        StatusUpdate(
            row=r.row,
            status=r.outcome.value,
            # CallMarker's answer counts the whole batch ("100 new customers were created"), which
            # would read as being about this one row: a confirmed row needs no message.
            message="" if r.outcome in CONFIRMED else r.message,
            time=stamp,
            fingerprint=work.marks[r.row][0],
            key=work.marks[r.row][1],
        )
        if r.row not in work.kept
        else _kept(r, work.kept[r.row], stamp, work.marks[r.row], t)
        for r in sorted(work.results, key=lambda r: r.row)
    ]


def _tally(  # noqa: PLR0917 - the phases before it, and its language
    job: Job,
    progress: Progress,
    plan: Plan,
    work: _Work,
    lost: Sequence[int],
    t: Translator,
    *,
    rows_read: int,
) -> StepAnswer:
    """The tally phase: the job's progress moves on by this step's results, and becomes the answer
    (or the error that stopped the job, once every row of the step has its status)."""
    report = work.report
    progress.counts[Outcome.SKIPPED] += plan.skipped
    for r in work.results:
        progress.counts[r.outcome] += 1
        plan.done.add(r.row)
        if r.outcome is Outcome.FAILED:
            progress.retry.append((r.row, r.row))
        if r.outcome not in GOOD and len(progress.errors) < MAX_ERRORS:
            progress.errors.extend(answer_errors(r)[: MAX_ERRORS - len(progress.errors)])
    progress.retry = list(merge_intervals(progress.retry))
    progress.done = plan.done.intervals()
    if plan.rows is not None and job.mode == "pending":
        progress.rows, progress.later = list(plan.rows), plan.left_for_later
    progress.columns = plan.columns

    finished = not report.unsent
    counts = {key: progress.counts.get(key, 0) for key in (*COUNT_KEYS, *_EXTRA_COUNT[job.action])}
    processed = sum(n for key, n in counts.items() if key != Outcome.SKIPPED)
    _log_step(job, progress, work, counts, lost, rows_read=rows_read)
    if report.fatal is not None:
        raise CallMarkerRefused(_refusal(report.fatal, t))
    if report.unreadable is not None:
        raise CallMarkerUnreadable(_unreadable(report.unreadable, t))
    if report.unavailable is not None and not any(r.outcome in GOOD for r in report.results):
        raise CallMarkerUnreachable(
            t(
                "CallMarker could not be reached ({said}). The rows are marked failed and nothing was lost: "
                "try again in a few minutes.",
                said=redact(report.unavailable.message),
            )
        )
    return StepAnswer(
        done=finished,
        cursor=None if finished else progress.encode(),
        counts=counts,
        total_rows=plan.job_size,
        processed_rows=processed,
        errors=progress.errors,
        retry_rows=progress.retry,
        message=_summary(
            job.action,
            counts,
            plan.job_size,
            finished=finished,
            lost=lost,
            left_for_later=plan.left_for_later,
            kept=len(work.kept),
            t=t,
        ),
        unmapped_columns=plan.unmapped,
        lost_rows=lost,
    )


def _log_step(
    job: Job,
    progress: Progress,
    work: _Work,
    counts: Mapping[str, int],
    lost: Sequence[int],
    *,
    rows_read: int,
) -> None:
    report = work.report
    sends_mean, sends_max = report.sends_per_customer()
    logger.info(
        "step finished",
        extra={
            "job": progress.job,
            "action": job.action,
            "mode": job.mode,
            "rows_read": rows_read,
            "rows_finished": len(work.results),
            "rows_left": len(report.unsent),
            "counts": counts,
            "requests": report.requests,
            "retries": report.retries,
            "sends_per_customer": {"mean": round(sends_mean, 3), "max": sends_max},
            "lost_rows": len(lost),
        },
    )


def open_context(
    job: Job,
    settings: Settings,
    credentials: Credentials,
    *,
    sheets_adapter: BaseAdapter | None = None,
    arrived: float | None = None,
    who: str = "",
) -> StepContext:
    """Connect the step's edges: the job's sheet (one Sheets call) and, unless only checking, CallMarker.

    ``arrived`` (a ``time.monotonic()`` value, default now) is when the request's time began: the step's
    deadline is the time budget after it, and no Sheets retry waits past it, opening the sheet included.
    ``who`` is the caller's email: the time column names them by its local part.
    """
    deadline = (time.monotonic() if arrived is None else arrived) + settings.time_budget_s
    gc = connect(
        credentials,
        emulator_host=settings.sheets_emulator_host,
        adapter=sheets_adapter,
        deadline=deadline,
    )
    # A preview writes nothing: the caller reads with their own token, and Google refuses a sheet they
    # cannot read; whether they may edit it is proved by the step that writes (docs/security.md).
    sheet = Sheet.open(gc, job.spreadsheet_id, job.sheet_id, check_edit=not job.preview)
    client = None
    if job.action != "check" and not job.preview:
        client = CallMarkerClient(
            settings.callmarker_base_url,
            settings.callmarker_token.reveal(),
            timeout=settings.callmarker_timeout_s,
            batch_size=job.batch_size or settings.callmarker_batch_size,
            concurrency=settings.callmarker_concurrency,
            retry=RetryPolicy(max_attempts=settings.callmarker_max_attempts),
            t=translator(job.lang),
        )
    return StepContext(
        sheet=sheet,
        client=client,
        budget_s=settings.time_budget_s,
        default_region=settings.default_region,
        max_rows=settings.max_rows,
        deadline=deadline,
        who=signature(who),
    )


def _upload(
    ctx: StepContext,
    items: Iterator[UploadItem],
    deadline: float,
    hard_deadline: float,
    step_deadline: float,
) -> UploadReport:
    client = cast(CallMarkerClient, ctx.client)
    now = ctx.clock()
    if deadline <= now:
        # Reading took the time kept for uploading: still send one batch, so every step moves the job
        # on, but within the step's reach (LAST_BATCH_S); the rest is left for the next step.
        end = min(max(step_deadline, now + LAST_BATCH_S), step_deadline + LATE_REQUEST_S / 2)
        first = list(itertools.islice(items, client.batch_size))
        report = asyncio.run(client.upload(first, deadline=end, hard_deadline=end))
        report.unsent.extend(items)
        return report
    return asyncio.run(client.upload(items, deadline=deadline, hard_deadline=hard_deadline))


class _Ahead(Iterator[UploadItem]):
    """Runs ``source`` in a thread of its own, a few batches ahead of whoever iterates: its CPU work
    (validating rows) overlaps with the event loop's waiting for CallMarker instead of holding the
    requests back. Items cross in chunks, so the two threads seldom wait for each other."""

    _END = object()

    def __init__(self, source: Iterator[UploadItem], *, chunk: int = 500, chunks_ahead: int = 8) -> None:
        self._chunk = chunk
        self._queue: queue.Queue[object] = queue.Queue(maxsize=chunks_ahead)
        self._buffer: deque[UploadItem] = deque()
        self._stop = threading.Event()
        self._ended = False
        self._thread = threading.Thread(target=self._run, args=(source,), name="validate", daemon=True)
        self._thread.start()

    def _run(self, source: Iterator[UploadItem]) -> None:
        try:
            chunk: list[UploadItem] = []
            for item in source:
                chunk.append(item)
                if len(chunk) >= self._chunk:
                    self._put(chunk)
                    chunk = []
            self._put(chunk)
            self._put(self._END)
        except BaseException as exc:  # handed to the consumer, which raises it in its own thread
            self._put(_Failure(exc))

    def _put(self, value: object) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(value, timeout=0.1)
                return
            except queue.Full:
                continue

    def __next__(self) -> UploadItem:
        while not self._buffer:
            if self._ended:
                raise StopIteration
            value = self._queue.get()
            if value is self._END:
                self._ended = True
            elif isinstance(value, _Failure):
                self._ended = True
                raise value.error
            else:
                self._buffer.extend(cast(list[UploadItem], value))
        return self._buffer.popleft()

    def close(self) -> None:
        """Stop the thread if it is still producing (the consumer gave up), and wait for it."""
        self._stop.set()
        self._thread.join()


@dataclass(frozen=True, slots=True)
class _Failure:
    error: BaseException


def _unchanged_status(selection: Selection, row: SheetRow, fingerprint: str | None = None) -> str | None:
    """The status the row's status cells give it, when its cells are unchanged since (its fingerprint is
    the one written with that status); None when it has none, or was edited since."""
    previous = selection.previous.get(row.number)
    if previous is None or not (previous.status in SETTLED or previous.status in REFUSED):
        return None
    return previous.status if previous.fingerprint == (fingerprint or selection.fingerprint(row)) else None


def _settled(selection: Selection, row: SheetRow, fingerprint: str | None = None) -> bool:
    """Uploaded (or removed, or sent) before, and not edited since: pending mode leaves it alone."""
    return _unchanged_status(selection, row, fingerprint) in SETTLED


def _kept(
    result: RowResult, previous: PreviousStatus, stamp: str, mark: tuple[str, str], t: Translator
) -> StatusUpdate:
    """A checked row that keeps its earlier status and time; the check's verdict is its message."""
    verdict = t("nothing wrong found") if result.outcome is Outcome.VALID else result.message
    return StatusUpdate(
        row=result.row,
        status=previous.status,
        message=t(
            "Checked {stamp}: {=verdict} ({status} before, unchanged since)",
            stamp=stamp,
            verdict=verdict,
            status=previous.status,
        ),
        time=previous.time,
        fingerprint=mark[0],
        key=mark[1],
    )


def invalid_result(row: int, errors: Sequence[RowError], t: Translator = ENGLISH) -> RowResult:
    """An invalid row: its message cell names each column once, before what is wrong with it
    ("Phone: "12" is not a phone number"), as the sidebar shows each problem after its row."""
    message = t.word("; ").join(
        t("{column}: {=message}", column=e.column, message=e.message) if e.column else e.message
        for e in errors
    )
    return RowResult(row, Outcome.INVALID, message, tuple(errors))


def _removed(result: RowResult) -> RowResult:
    if result.outcome is Outcome.UPLOADED:
        return RowResult(result.row, Outcome.REMOVED, result.message, result.errors)
    return result


def answer_errors(result: RowResult) -> list[dict[str, Any]]:
    """Errors for the answer: no phone number leaves the sheet, so messages are masked."""
    if result.errors:
        return [{"row": e.row, "column": e.column, "message": redact(e.message)} for e in result.errors]
    return [{"row": result.row, "column": None, "message": redact(result.message)}]


def _refusal(error: CallMarkerRequestError, t: Translator) -> str:
    return t(
        "CallMarker refused the upload: {said}. Nothing more was sent; the rows already sent keep their "
        "status. Check the campaign and agent in Settings, or ask the administrator to check the "
        "CallMarker token.",
        said=redact(error.message),
    )


def _unreadable(error: CallMarkerUnreadableAnswer, t: Translator) -> str:
    return t(
        "{=said}, several times in a row, so nothing more was sent. The rows sent are marked failed: "
        "CallMarker may have taken them, but nothing confirms it, and sending them again is safe. If it "
        "keeps happening, ask the administrator to check CALLMARKER_BASE_URL.",
        said=redact(error.message),
    )


def _stamp(now: datetime, time_zone: str | None, who: str = "") -> str:
    """The time column: when, in the spreadsheet's time zone, and who ran the job ("… · dana@")."""
    zone = _zone_or_none(time_zone)
    local = now.astimezone(ZoneInfo(zone)) if zone else now.astimezone(UTC)
    when = local.strftime("%Y-%m-%d %H:%M")
    return f"{when} · {who}" if who else when


def signature(email: str) -> str:
    """How the time column names a person: the local part of their email, "dana@" (colleagues know
    each other by it; the domain is the same for all of them)."""
    local, at, _ = email.partition("@")
    return f"{local}@" if at and local else ""


def _zone_or_none(name: str | None) -> str | None:
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def _summary(
    action: Action,
    counts: Mapping[str, int],
    total: int,
    *,
    finished: bool,
    lost: Sequence[int],
    left_for_later: int = 0,
    kept: int = 0,
    t: Translator = ENGLISH,
) -> str:
    """The answer's one sentence, in the job's language."""
    done = {"upload": "uploaded", "check": "valid", "remove": "removed"}[action]
    first = {
        "upload": t.plural(
            "Uploaded {#good} of {#n} row", "Uploaded {#good} of {#n} rows", total, good=counts.get(done, 0)
        ),
        "check": t.plural(
            "Checked {#good} of {#n} row", "Checked {#good} of {#n} rows", total, good=counts.get(done, 0)
        ),
        "remove": t.plural(
            "Removed {#good} of {#n} row", "Removed {#good} of {#n} rows", total, good=counts.get(done, 0)
        ),
    }[action]
    parts = [first]
    if counts.get("sent"):
        parts.append(
            t(
                "{#sent} sent, but CallMarker did not confirm them row by row (see the CallMarker message "
                "column)",
                sent=counts["sent"],
            )
        )
    attention = sum(counts.get(key, 0) for key in ("invalid", "rejected", "failed"))
    if attention:
        parts.append(t("{#n} need attention (see the CallMarker message column)", n=attention))
    if kept:
        parts.append(t("{#n} keep their earlier status (unchanged since)", n=kept))
    if counts.get("skipped"):
        parts.append(t("{#n} unchanged rows skipped", n=counts["skipped"]))
    if lost:
        parts.append(t("{#n} statuses not written because their rows moved", n=len(lost)))
    if left_for_later:
        parts.append(
            t(
                "{#n} more pending rows wait for the next run (a job takes {#max})",
                n=left_for_later,
                max=total,
            )
        )
    return t.word("; ").join(parts) + (t.word(".") if finished else t.word("; continuing…"))


class _IntervalSet:
    """A set of row numbers kept as sorted intervals (the cursor's ``done``)."""

    def __init__(self, intervals: Iterable[Interval] = ()) -> None:
        self._rows: set[int] = {n for lo, hi in intervals for n in range(lo, hi + 1)}

    def __contains__(self, row: object) -> bool:
        return row in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, row: int) -> None:
        self._rows.add(row)

    def intervals(self) -> list[Interval]:
        return number_runs(n for n in self._rows if n >= 1)
