"""One step of a job: read the rows, validate them, upload the valid ones, write every status back.

A job is one click in the add-in: the selected rows (or every pending row) and an action. A step
works within a time budget; when the budget runs low it starts no new batch, writes what it finished
and answers ``done: false`` with a cursor. The next call, with that cursor, goes on where it stopped.

The cursor is the job's progress, carried by the caller: the rows already finished, the counts so
far, the first errors and the rows worth retrying. It is signed with the deploy's key for the caller
and bound to its job by a hash of the request (``cursor.py``), so it can be neither forged nor
replayed against another sheet, selection or person. It holds no phone number.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
import math
import queue
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, cast
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
from callmarker_sheets.cursor import CursorSeal, CursorTooLarge
from callmarker_sheets.errors import BadRequest, CursorInvalid, PayloadTooLarge, ServiceError
from callmarker_sheets.fields import HeaderError, map_headers
from callmarker_sheets.logs import redact
from callmarker_sheets.model import Outcome, RowError, RowResult, UploadItem
from callmarker_sheets.retry import RetryPolicy
from callmarker_sheets.sheet import (
    PreviousStatus,
    Selection,
    Sheet,
    SheetRow,
    StatusUpdate,
    connect,
    merge_intervals,
)
from callmarker_sheets.validate import JobOptions, check_job_options, validate_rows

logger = logging.getLogger(__name__)

Mode = Literal["selected", "pending"]
Action = Literal["upload", "check", "remove"]
Interval = tuple[int, int]

MODES: tuple[Mode, ...] = ("selected", "pending")
ACTIONS: tuple[Action, ...] = ("upload", "check", "remove")
#: How many errors an answer lists (the sheet holds every row's own message).
MAX_ERRORS = 50
#: Statuses that pending mode leaves alone while the row is unchanged, and that checking keeps.
SETTLED = frozenset({Outcome.UPLOADED.value, Outcome.REMOVED.value, Outcome.SENT.value})
#: Time kept for writing the statuses at the end of a step: at least this, or what reading took.
MIN_WRITE_RESERVE_S = 1.0
#: No batch is started later than this before the time kept for writing (batches in flight finish).
START_MARGIN_S = 1.0
#: The largest request body taken, in bytes (the cursor and the selection included).
MAX_BODY_BYTES = 256 * 1024
#: How deep a request's JSON may nest: a request needs three levels (body, rows, a pair).
MAX_JSON_DEPTH = 8
#: The most [first, last] pairs in ``rows``: the add-in sends one per selected range, and a retry one per
#: run of failed rows, far fewer than this.
MAX_INTERVALS = 10_000
#: Google Sheets holds at most 10 million cells in a spreadsheet, so no row number is larger.
MAX_SHEET_ROWS = 10_000_000
#: Sheet ids (gids) are 32-bit numbers in the Sheets API.
MAX_SHEET_ID = 2**31 - 1
#: Google's file ids: letters, digits, "-" and "_" (44 of them in a spreadsheet made today).
SPREADSHEET_ID = re.compile(r"^[A-Za-z0-9_\-]{20,100}$")
#: The most rows a job's cursor may say are done: MAX_ROWS can be set up to this.
MAX_JOB_ROWS = 1_000_000
_BODY_FIELDS = frozenset(
    {"spreadsheet_id", "sheet_id", "mode", "action", "options", "rows", "cursor", "lang"}
)
#: The languages the add-in asks answers in.
LANGUAGES = ("en", "he")
_COUNT_NAMES = frozenset(outcome.value for outcome in Outcome)


class JobError(ServiceError):
    """The job cannot go on; ``http_status``, ``code`` and ``message`` are what the caller is answered."""

    http_status = 400
    code = "bad_request"


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


class ProgressTooLarge(JobError):
    """The job's progress no longer fits in a cursor (only a selection of very many separate rows)."""

    http_status = 413
    code = "cursor_too_large"


# --------------------------------------------------------------------------------------- request


def parse_body(raw: bytes) -> object:
    """The request body as JSON, strictly: at most ``MAX_BODY_BYTES``, UTF-8, nested at most
    ``MAX_JSON_DEPTH`` deep, no NaN or Infinity, no key given twice."""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES // 1024} kB.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The request body must be JSON in UTF-8.") from None
    if _nests_deeper(text, MAX_JSON_DEPTH):
        raise BadRequest(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")
    try:
        return json.loads(
            text, parse_constant=_no_constant, parse_float=_finite, object_pairs_hook=_no_repeated_keys
        )
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError, as are the hooks' refusals
        raise BadRequest("The request body is not valid JSON.") from None


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")


def _nests_deeper(text: str, limit: int) -> bool:
    """Whether the brackets of a JSON text nest deeper than ``limit`` (those in strings do not count).

    Each pass strips the innermost pairs, in C; a pair still there after ``limit`` passes is deeper.
    """
    skeleton = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    for _ in range(limit):
        skeleton = _INNERMOST.sub("", skeleton)
        if not skeleton:
            return False
    return _INNERMOST.search(skeleton) is not None


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number too large")
    return value


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    body = dict(pairs)
    if len(body) != len(pairs):
        raise ValueError("a key given twice")
    return body


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _text(value: object, longest: int) -> bool:
    return isinstance(value, str) and len(value) <= longest


#: Every option a request may carry: what it must be, checked before anything is read or sent.
#: (What its value means is checked with the sheet's columns: ``validate.check_job_options``.)
_OPTIONS: Mapping[str, tuple[Callable[[object], bool], str]] = {
    "campaign": (
        lambda v: _text(v, 100) or _whole(v, 1, 10**15),
        "a campaign id (digits)",
    ),
    "agent_name": (lambda v: _text(v, 200), "an agent's name of at most 200 characters"),
    "override": (lambda v: isinstance(v, bool), "true or false"),
    "unique": (lambda v: isinstance(v, bool), "true or false"),
    "international": (lambda v: isinstance(v, bool), "true or false"),
    "status": (lambda v: _whole(v, 0, 1000) or _text(v, 10), "a customer status number"),
    "default_region": (lambda v: _text(v, 8), "a two-letter country code"),
    "batch_size": (lambda v: _whole(v, 1, 1000), "a whole number from 1 to 1000"),
    "header_row": (
        lambda v: _whole(v, 1, MAX_SHEET_ROWS),
        f"a row number from 1 to {MAX_SHEET_ROWS:,}",
    ),
}


def _named(name: object) -> str:
    """A name from the request, quoted for a message: cut short, so a message stays a sentence."""
    text = json.dumps(name, ensure_ascii=False)
    return text if len(text) <= 42 else text[:40] + '…"'


@dataclass(frozen=True, slots=True)
class Job:
    """What the add-in asked for, checked, and who asked. Built by :meth:`from_json`; the same on
    every step. ``seal`` signs and opens the job's cursors for its caller."""

    spreadsheet_id: str
    sheet_id: int
    mode: Mode
    rows: tuple[Interval, ...]
    action: Action
    options: Mapping[str, Any]
    seal: CursorSeal = field(compare=False, repr=False)
    header_row: int = 1
    batch_size: int | None = None
    #: The language of the person, for the words of the answer; not part of what the job is.
    lang: str = "en"

    @classmethod
    def from_json(cls, body: object, *, seal: CursorSeal) -> Job:
        """The job a request body asks for, or ``BadRequest`` naming the first thing wrong with it.

        Every field is checked for type and range here, before anything is read or sent; unknown fields
        and options are refused rather than ignored.
        """
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
        for name in body:
            if name not in _BODY_FIELDS:
                raise BadRequest(f"Unknown field {_named(name)}.")
        spreadsheet_id = body.get("spreadsheet_id")
        if not isinstance(spreadsheet_id, str) or not SPREADSHEET_ID.match(spreadsheet_id):
            raise BadRequest(
                "spreadsheet_id must be the spreadsheet's id, as in its address: 20 to 100 letters, "
                "digits, '-' or '_'."
            )
        sheet_id = body.get("sheet_id")
        if not _whole(sheet_id, 0, MAX_SHEET_ID):
            raise BadRequest("sheet_id must be the sheet's gid, a whole number of 0 or more.")
        mode = body.get("mode", "selected")
        if not isinstance(mode, str) or mode not in MODES:
            raise BadRequest(f"mode must be one of {', '.join(MODES)}.")
        action = body.get("action", "upload")
        if not isinstance(action, str) or action not in ACTIONS:
            raise BadRequest(f"action must be one of {', '.join(ACTIONS)}.")
        options = body.get("options", {})
        if not isinstance(options, dict):
            raise BadRequest("options must be a JSON object.")
        for name, value in options.items():
            if name not in _OPTIONS:
                raise BadRequest(f"Unknown option {_named(name)}.")
            fits, what = _OPTIONS[name]
            if value is not None and not fits(value):
                raise BadRequest(f"Option {name!r} must be {what}.")
        lang = body.get("lang", "en")
        if not isinstance(lang, str) or lang not in LANGUAGES:
            raise BadRequest(f"lang must be one of {', '.join(LANGUAGES)}.")
        cursor = body.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise CursorInvalid("cursor must be the string the previous answer gave.")
        rows: tuple[Interval, ...] = ()
        if mode == "selected":
            rows = _parse_rows(body.get("rows"))
        elif body.get("rows") is not None:
            raise BadRequest("rows are sent only in selected mode; pending mode takes every pending row.")
        header_row = options.get("header_row")
        return cls(
            spreadsheet_id=spreadsheet_id,
            sheet_id=cast(int, sheet_id),
            mode=mode,
            rows=rows,
            action=action,
            options={k: v for k, v in options.items() if v is not None},
            seal=seal,
            header_row=header_row if header_row is not None else 1,
            batch_size=options.get("batch_size"),
            lang=lang,
        )

    def key(self) -> str:
        """A short hash of everything that defines the job, its caller included: a cursor belongs to
        exactly one job of one person."""
        canonical = json.dumps(
            [
                self.seal.subject,
                self.spreadsheet_id,
                self.sheet_id,
                self.mode,
                self.rows,
                self.action,
                dict(self.options),
            ],
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def row_span(self) -> tuple[Interval, ...]:
        """The rows the job may act on: the selection below the header row, or every row below it."""
        if self.mode == "selected":
            return merge_intervals(self.rows, first=self.header_row + 1)
        return ((self.header_row + 1, MAX_SHEET_ROWS),)

    def job_options(self, *, default_region: str, locale: str | None, time_zone: str | None) -> JobOptions:
        o = self.options
        campaign = o.get("campaign")
        status = o.get("status")
        if isinstance(status, str):
            status = int(status) if status.strip().isdigit() else -1
        return JobOptions(
            campaign=str(campaign).strip() or None if campaign is not None else None,
            agent_name=(o.get("agent_name") or "").strip() or None,
            override=bool(o.get("override", False)),
            remove=self.action == "remove",
            unique=bool(o.get("unique", False)),
            status=status,
            international=bool(o.get("international", False)),
            default_region=(o.get("default_region") or default_region).strip().upper(),
            **({"locale": locale} if locale else {}),
            **({"time_zone": time_zone} if time_zone else {}),
        )


def _parse_rows(value: object) -> tuple[Interval, ...]:
    if not isinstance(value, list) or not value:
        raise BadRequest("rows must list the selected rows as [first, last] pairs, e.g. [[2, 10]].")
    if len(value) > MAX_INTERVALS:
        raise BadRequest(
            f"rows lists {len(value):,} separate ranges; a job takes at most {MAX_INTERVALS:,}. "
            "Select fewer, larger ranges."
        )
    rows: list[Interval] = []
    for pair in value:
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(_whole(n, 1, MAX_SHEET_ROWS) for n in pair)
            or pair[0] > pair[1]
        ):
            raise BadRequest(
                f"rows: {_named(pair)} is not a [first, last] pair of row numbers from 1 to "
                f"{MAX_SHEET_ROWS:,}."
            )
        rows.append((pair[0], pair[1]))
    return tuple(merge_intervals(rows))


# ---------------------------------------------------------------------------------------- cursor


@dataclass
class Progress:
    """What the job has done so far; travels as the signed, opaque ``cursor`` between steps.

    ``done`` and ``retry`` are sorted, disjoint row intervals, kept inside the job's rows.
    """

    job: str
    done: list[Interval] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[dict[str, Any]] = field(default_factory=list)
    retry: list[Interval] = field(default_factory=list)
    seal: CursorSeal | None = field(default=None, repr=False, compare=False)

    def encode(self) -> str:
        """The cursor for the next step. The first errors are left out if the rest would not fit."""
        if self.seal is None:
            raise RuntimeError("a progress is encoded with its job's seal (Progress.decode gives it)")
        payload: dict[str, Any] = {
            "job": self.job,
            "done": _pack(self.done),
            "counts": {str(k): v for k, v in self.counts.items() if v},
            "errors": self.errors[:MAX_ERRORS],
            "retry": _pack(self.retry),
        }
        try:
            return self.seal.seal(payload)
        except CursorTooLarge:
            pass
        try:
            return self.seal.seal({**payload, "errors": []})
        except CursorTooLarge as exc:
            raise ProgressTooLarge(
                "The job's progress no longer fits in its cursor (the selection has too many separate "
                'rows). The rows done so far have their status: run "Upload all pending rows" to go on.'
            ) from exc

    @classmethod
    def decode(cls, cursor: object, job: Job) -> Progress:
        """The progress a cursor carries, checked: signed by this deploy for this job's caller, of this
        job, and every interval clipped to the job's rows. Anything else is ``CursorInvalid``."""
        if cursor is None:
            return cls(job.key(), seal=job.seal)
        payload = job.seal.open(cursor)
        if payload.get("job") != job.key():
            raise CursorInvalid("cursor belongs to another job: start the job again.")
        try:
            span = job.row_span()
            progress = cls(
                job=job.key(),
                done=_clip(_unpack(payload["done"]), span),
                counts=_counts(payload["counts"]),
                errors=_errors(payload["errors"]),
                retry=_clip(_unpack(payload["retry"]), span),
                seal=job.seal,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CursorInvalid("cursor is not one this function gave: start the job again.") from exc
        if sum(hi - lo + 1 for lo, hi in progress.done) > MAX_JOB_ROWS:
            raise CursorInvalid("cursor is not one this function gave: start the job again.")
        return progress


def _pack(intervals: Sequence[Interval]) -> list[int]:
    """Sorted disjoint intervals as the gaps and lengths between them: [[5, 9], [12, 12]] -> [5, 4, 3, 0].
    Small numbers compress well, whatever the row numbers."""
    flat: list[int] = []
    end = 0
    for lo, hi in intervals:
        flat += [lo - end, hi - lo]
        end = hi
    return flat


def _unpack(flat: object) -> list[Interval]:
    if not isinstance(flat, list) or len(flat) % 2:
        raise ValueError("intervals come in pairs")
    intervals: list[Interval] = []
    end = 0
    for gap, length in zip(flat[::2], flat[1::2], strict=True):
        if not _whole(gap, 1, MAX_SHEET_ROWS) or not _whole(length, 0, MAX_SHEET_ROWS):
            raise ValueError("not an interval")
        lo = end + gap
        end = lo + length
        if end > MAX_SHEET_ROWS:
            raise ValueError("past the last row a sheet can have")
        intervals.append((lo, end))
    return intervals


def _clip(intervals: Sequence[Interval], span: Sequence[Interval]) -> list[Interval]:
    """The parts of sorted disjoint ``intervals`` inside sorted disjoint ``span``."""
    clipped: list[Interval] = []
    i = j = 0
    while i < len(intervals) and j < len(span):
        lo, hi = max(intervals[i][0], span[j][0]), min(intervals[i][1], span[j][1])
        if lo <= hi:
            clipped.append((lo, hi))
        if intervals[i][1] < span[j][1]:
            i += 1
        else:
            j += 1
    return clipped


def _counts(value: object) -> Counter[str]:
    if not isinstance(value, dict):
        raise ValueError("counts are an object")
    counts: Counter[str] = Counter()
    for name, n in value.items():
        if name not in _COUNT_NAMES or not _whole(n, 0, MAX_JOB_ROWS):
            raise ValueError("not a count")
        counts[name] = n
    return counts


def _errors(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_ERRORS:
        raise ValueError("errors are a short list")
    errors = []
    for error in value:
        if (
            not isinstance(error, dict)
            or set(error) != {"row", "column", "message"}
            or not _whole(error["row"], 1, MAX_SHEET_ROWS)
            or not (error["column"] is None or _text(error["column"], 1000))
            or not _text(error["message"], 5000)
        ):
            raise ValueError("not an error")
        errors.append(dict(error))
    return errors


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


def run_step(job: Job, cursor: object, ctx: StepContext) -> StepAnswer:
    """Read -> validate -> upload -> write, within ``ctx.budget_s``; the answer says how far the job got."""
    started = ctx.clock()
    deadline = ctx.deadline if ctx.deadline is not None else started + ctx.budget_s
    progress = Progress.decode(cursor, job)
    info = ctx.sheet.info

    if job.mode == "selected":
        wanted = merge_intervals(job.rows, first=job.header_row + 1)
        if not wanted:
            raise BadRequest(f"No rows below the header row (row {job.header_row}) were selected.")
    else:
        wanted = ((job.header_row + 1, max(info.row_count, job.header_row + 1)),)
    selected_count = sum(hi - lo + 1 for lo, hi in wanted)
    if job.mode == "selected" and selected_count > ctx.max_rows:
        raise TooManyRows(
            f"{selected_count:,} rows are selected; one job takes at most {ctx.max_rows:,}. "
            "Select fewer rows and upload them in parts."
        )

    selection = ctx.sheet.read(wanted, header_row=job.header_row)
    read_s = ctx.clock() - started
    try:
        headers = map_headers(selection.headers, ignore=set(selection.status_columns.values()))
    except HeaderError as exc:
        raise HeaderProblem(f"Row {job.header_row} (the header row): {exc}") from exc
    # The country of a number comes from the request or the function's setting, never from the sheet's
    # locale: many Israeli teams keep English (en_US) sheets.
    options = job.job_options(
        default_region=ctx.default_region,
        locale=info.locale,
        time_zone=_zone_or_none(info.time_zone),
    )
    problems = check_job_options(options, headers)
    if problems:
        raise BadRequest(" ".join(problems))

    done = _IntervalSet(progress.done)
    # The job's rows: every non-empty selected row; in pending mode, those not uploaded and unchanged
    # (rows this job finished stay in, so the totals hold across steps).
    job_rows = [
        row
        for row in selection.rows
        if job.mode == "selected" or row.number in done or not _settled(selection, row)
    ]
    if job.mode == "pending" and cursor is None:
        progress.counts[Outcome.SKIPPED] += len(selection.rows) - len(job_rows)
    # A selection larger than a job was refused above; pending rows beyond it wait for the next job.
    left_for_later = max(0, len(job_rows) - ctx.max_rows)
    job_rows = job_rows[: ctx.max_rows]

    # Every row read is validated, so a number already on another row is caught even when that row
    # was uploaded earlier (pending mode) or in an earlier step; only the job's rows not done are acted on.
    # Validation runs in a thread ahead of the client, which draws batches from it: the first requests
    # leave while later rows are still being checked, and the statuses' fingerprints are made meanwhile.
    to_do = {row.number for row in job_rows if row.number not in done}
    key_column = headers.fields["number"]
    results: list[RowResult] = []
    marks: dict[int, tuple[str, str]] = {}  # row -> (fingerprint, key) for its status
    # Checking keeps history: a row uploaded (or removed, or sent) and unchanged since keeps that
    # status and time, and gets the check's verdict as its message.
    kept: dict[int, PreviousStatus] = {}

    def valid_items() -> Iterator[UploadItem]:
        verdicts = validate_rows(((r.number, r.formatted, r.raw) for r in selection.rows), headers, options)
        for row, verdict in zip(selection.rows, verdicts, strict=True):
            if row.number not in to_do:
                continue
            marks[row.number] = (selection.fingerprint(row), row.formatted[key_column])
            if job.action == "check" and _settled(selection, row, marks[row.number][0]):
                kept[row.number] = selection.previous[row.number]
            if isinstance(verdict, list):
                results.append(_invalid(row.number, verdict))
            elif job.action == "check":
                results.append(RowResult(row.number, Outcome.VALID, "Ready to upload"))
            else:
                yield verdict

    report = UploadReport()
    if job.action == "check":
        list(valid_items())  # gives every row its result and yields nothing to send
    else:
        if ctx.client is None:
            raise RuntimeError("a CallMarker client is needed to upload")
        # Writing costs about what reading did: keep that for the end of the step, and stop starting
        # batches early enough that those in flight can finish before it.
        write_s = max(MIN_WRITE_RESERVE_S, read_s)
        items = _Ahead(valid_items())
        try:
            report = _upload(ctx, items, deadline - write_s - START_MARGIN_S, deadline - write_s)
        finally:
            items.close()
        if job.action == "remove":
            report.results = [_removed(r) for r in report.results]
        results.extend(report.results)

    # The rows' cells are not needed any more: let them go before the statuses are built and sent.
    rows_read, job_size = len(selection.rows), len(job_rows)
    selection = replace(selection, rows=(), previous={})
    del job_rows

    stamp = _stamp(ctx.now(), info.time_zone)
    updates = [
        StatusUpdate(
            row=r.row,
            status=r.outcome.value,
            # CallMarker's answer counts the whole batch ("100 new customers were created"), which
            # would read as being about this one row: a confirmed row needs no message.
            message="" if r.outcome in CONFIRMED else r.message,
            time=stamp,
            fingerprint=marks[r.row][0],
            key=marks[r.row][1],
        )
        if r.row not in kept
        else _kept(r, kept[r.row], stamp, marks[r.row])
        for r in sorted(results, key=lambda r: r.row)
    ]
    lost = ctx.sheet.write(selection, updates, key_column=key_column).lost if updates else ()

    for r in results:
        progress.counts[r.outcome] += 1
        done.add(r.row)
        if r.outcome is Outcome.FAILED:
            progress.retry.append((r.row, r.row))
        if r.outcome not in GOOD and len(progress.errors) < MAX_ERRORS:
            progress.errors.extend(_answer_errors(r)[: MAX_ERRORS - len(progress.errors)])
    progress.retry = list(merge_intervals(progress.retry))
    progress.done = done.intervals()

    finished = not report.unsent
    counts = {key: progress.counts.get(key, 0) for key in (*COUNT_KEYS, *_EXTRA_COUNT[job.action])}
    processed = sum(n for key, n in counts.items() if key != Outcome.SKIPPED)
    sends_mean, sends_max = report.sends_per_customer()
    logger.info(
        "step finished",
        extra={
            "job": progress.job,
            "action": job.action,
            "mode": job.mode,
            "rows_read": rows_read,
            "rows_finished": len(results),
            "rows_left": len(report.unsent),
            "counts": counts,
            "requests": report.requests,
            "retries": report.retries,
            "sends_per_customer": {"mean": round(sends_mean, 3), "max": sends_max},
            "lost_rows": len(lost),
        },
    )
    if report.fatal is not None:
        raise CallMarkerRefused(_refusal(report.fatal))
    if report.unreadable is not None:
        raise CallMarkerUnreadable(_unreadable(report.unreadable))
    if report.unavailable is not None and not any(r.outcome in GOOD for r in report.results):
        raise CallMarkerUnreachable(
            f"CallMarker could not be reached ({redact(str(report.unavailable))}). The rows are marked "
            "failed and nothing was lost: try again in a few minutes."
        )
    return StepAnswer(
        done=finished,
        cursor=None if finished else progress.encode(),
        counts=counts,
        total_rows=job_size,
        processed_rows=processed,
        errors=progress.errors,
        retry_rows=progress.retry,
        message=_summary(
            job.action,
            counts,
            job_size,
            finished=finished,
            lost=lost,
            left_for_later=left_for_later,
            kept=len(kept),
        ),
        unmapped_columns=headers.unmapped,
        lost_rows=lost,
    )


def open_context(
    job: Job,
    settings: Settings,
    credentials: Credentials,
    *,
    sheets_adapter: BaseAdapter | None = None,
    arrived: float | None = None,
) -> StepContext:
    """Connect the step's edges: the job's sheet (one Sheets call) and, unless only checking, CallMarker.

    ``arrived`` (a ``time.monotonic()`` value, default now) is when the request's time began: the step's
    deadline is the time budget after it, and no Sheets retry waits past it, opening the sheet included.
    """
    deadline = (time.monotonic() if arrived is None else arrived) + settings.time_budget_s
    gc = connect(
        credentials,
        emulator_host=settings.sheets_emulator_host,
        adapter=sheets_adapter,
        deadline=deadline,
    )
    sheet = Sheet.open(gc, job.spreadsheet_id, job.sheet_id)
    client = None
    if job.action != "check":
        client = CallMarkerClient(
            settings.callmarker_base_url,
            settings.callmarker_token.reveal(),
            timeout=settings.callmarker_timeout_s,
            batch_size=job.batch_size or settings.callmarker_batch_size,
            concurrency=settings.callmarker_concurrency,
            retry=RetryPolicy(max_attempts=settings.callmarker_max_attempts),
        )
    return StepContext(
        sheet=sheet,
        client=client,
        budget_s=settings.time_budget_s,
        default_region=settings.default_region,
        max_rows=settings.max_rows,
        deadline=deadline,
    )


def _upload(
    ctx: StepContext, items: Iterator[UploadItem], deadline: float, hard_deadline: float
) -> UploadReport:
    client = cast(CallMarkerClient, ctx.client)
    if deadline <= ctx.clock():
        # Reading took the whole budget: still send one batch, so every step moves the job on.
        first = list(itertools.islice(items, client.batch_size))
        report = asyncio.run(client.upload(first))
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


def _settled(selection: Selection, row: SheetRow, fingerprint: str | None = None) -> bool:
    """Uploaded (or removed, or sent) before, and not edited since: pending mode leaves it alone."""
    previous = selection.previous.get(row.number)
    return (
        previous is not None
        and previous.status in SETTLED
        and previous.fingerprint == (fingerprint or selection.fingerprint(row))
    )


def _kept(result: RowResult, previous: PreviousStatus, stamp: str, mark: tuple[str, str]) -> StatusUpdate:
    """A checked row that keeps its earlier status and time; the check's verdict is its message."""
    verdict = "nothing wrong found" if result.outcome is Outcome.VALID else result.message
    return StatusUpdate(
        row=result.row,
        status=previous.status,
        message=f"Checked {stamp}: {verdict} ({previous.status} before, unchanged since)",
        time=previous.time,
        fingerprint=mark[0],
        key=mark[1],
    )


def _invalid(row: int, errors: Sequence[RowError]) -> RowResult:
    return RowResult(row, Outcome.INVALID, "; ".join(e.message for e in errors), tuple(errors))


def _removed(result: RowResult) -> RowResult:
    if result.outcome is Outcome.UPLOADED:
        return RowResult(result.row, Outcome.REMOVED, result.message, result.errors)
    return result


def _answer_errors(result: RowResult) -> list[dict[str, Any]]:
    """Errors for the answer: no phone number leaves the sheet, so messages are masked."""
    if result.errors:
        return [{"row": e.row, "column": e.column, "message": redact(e.message)} for e in result.errors]
    return [{"row": result.row, "column": None, "message": redact(result.message)}]


def _refusal(error: CallMarkerRequestError) -> str:
    return (
        f"CallMarker refused the upload: {redact(str(error))}. Nothing more was sent; "
        "the rows already sent keep their status. Check the campaign and agent in Settings, "
        "or ask the administrator to check the CallMarker token."
    )


def _unreadable(error: CallMarkerUnreadableAnswer) -> str:
    return (
        f"{redact(str(error))}, several times in a row, so nothing more was sent. The rows sent are "
        "marked failed: CallMarker may have taken them, but nothing confirms it, and sending them "
        "again is safe. If it keeps happening, ask the administrator to check CALLMARKER_BASE_URL."
    )


def _stamp(now: datetime, time_zone: str | None) -> str:
    zone = _zone_or_none(time_zone)
    local = now.astimezone(ZoneInfo(zone)) if zone else now.astimezone(UTC)
    return local.strftime("%Y-%m-%d %H:%M")


def _zone_or_none(name: str | None) -> str | None:
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


_VERBS: Mapping[str, tuple[str, str]] = {
    "upload": ("Uploaded", "uploaded"),
    "check": ("Checked", "valid"),
    "remove": ("Removed", "removed"),
}


def _summary(
    action: Action,
    counts: Mapping[str, int],
    total: int,
    *,
    finished: bool,
    lost: Sequence[int],
    left_for_later: int = 0,
    kept: int = 0,
) -> str:
    verb, good = _VERBS[action]
    parts = [f"{verb} {counts.get(good, 0):,} of {total:,} rows"]
    if counts.get("sent"):
        parts.append(
            f"{counts['sent']:,} sent, but CallMarker did not confirm them row by row "
            "(see the CallMarker message column)"
        )
    attention = sum(counts.get(key, 0) for key in ("invalid", "rejected", "failed"))
    if attention:
        parts.append(f"{attention:,} need attention (see the CallMarker message column)")
    if kept:
        parts.append(f"{kept:,} keep their earlier status (unchanged since)")
    if counts.get("skipped"):
        parts.append(f"{counts['skipped']:,} unchanged rows skipped")
    if lost:
        parts.append(f"{len(lost):,} statuses not written because their rows moved")
    if left_for_later:
        parts.append(f"{left_for_later:,} more pending rows wait for the next run (a job takes {total:,})")
    return "; ".join(parts) + ("." if finished else "; continuing…")


class _IntervalSet:
    """A set of row numbers kept as sorted intervals (the cursor's ``done``)."""

    def __init__(self, intervals: Iterable[Interval] = ()) -> None:
        self._rows: set[int] = {n for lo, hi in intervals for n in range(lo, hi + 1)}

    def __contains__(self, row: object) -> bool:
        return row in self._rows

    def add(self, row: int) -> None:
        self._rows.add(row)

    def intervals(self) -> list[Interval]:
        return list(merge_intervals((n, n) for n in self._rows))
