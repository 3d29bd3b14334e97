"""What a request asks for, checked, and the job's progress between steps (the signed cursor).

A job is one click in the add-in: the selected rows (or every pending row) and an action. Its request
is checked field by field here before anything is read or sent. Its progress, the cursor, is carried
by the caller: the rows already finished, the counts so far, the first errors and the rows worth
retrying. It is signed with the deploy's key for the caller and bound to its job by a hash of the
request (``cursor.py``), so it can be neither forged nor replayed against another sheet, selection or
person. It holds no phone number.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from callmarker_sheets.cursor import CursorSeal, CursorTooLarge
from callmarker_sheets.errors import BadRequest, CursorInvalid, PayloadTooLarge, ServiceError
from callmarker_sheets.i18n import N_
from callmarker_sheets.model import Outcome
from callmarker_sheets.sheet import merge_intervals
from callmarker_sheets.validate import JobOptions

Mode = Literal["selected", "pending"]
Action = Literal["upload", "check", "remove"]
Interval = tuple[int, int]

MODES: tuple[Mode, ...] = ("selected", "pending")
ACTIONS: tuple[Action, ...] = ("upload", "check", "remove")

#: How many errors an answer lists (the sheet holds every row's own message).
MAX_ERRORS = 50
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
    {"spreadsheet_id", "sheet_id", "mode", "action", "options", "rows", "cursor", "lang", "preview_action"}
)
#: The action that asks what a job would do, read-only, and the actions it may ask about.
PREVIEW = "preview"
PREVIEW_ACTIONS: tuple[Action, ...] = ("upload", "remove")
#: The languages the add-in asks answers in.
LANGUAGES = ("en", "he")
_COUNT_NAMES = frozenset(outcome.value for outcome in Outcome)


class JobError(ServiceError):
    """The job cannot go on; ``http_status``, ``code`` and ``message`` are what the caller is answered."""

    http_status = 400
    code = "bad_request"


class ProgressTooLarge(JobError):
    """The job's progress no longer fits in a cursor (only a selection of very many separate rows)."""

    http_status = 413
    code = "cursor_too_large"


# --------------------------------------------------------------------------------------- request


def parse_body(raw: bytes) -> object:
    """The request body as JSON, strictly: at most ``MAX_BODY_BYTES``, UTF-8, nested at most
    ``MAX_JSON_DEPTH`` deep, no NaN or Infinity, no key given twice."""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(N_("The request body is larger than {#kb} kB.", kb=MAX_BODY_BYTES // 1024))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(N_("The request body must be JSON in UTF-8.")) from None
    if _nests_deeper(text, MAX_JSON_DEPTH):
        raise BadRequest(N_("The request body nests deeper than {#depth} levels.", depth=MAX_JSON_DEPTH))
    try:
        return json.loads(
            text, parse_constant=_no_constant, parse_float=_finite, object_pairs_hook=_no_repeated_keys
        )
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError, as are the hooks' refusals
        raise BadRequest(N_("The request body is not valid JSON.")) from None


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
    #: Only to see what ``action`` would do: nothing is written or sent (the pre-flight card).
    preview: bool = False

    @classmethod
    def from_json(cls, body: object, *, seal: CursorSeal) -> Job:
        """The job a request body asks for, or ``BadRequest`` naming the first thing wrong with it.

        Every field is checked for type and range here, before anything is read or sent; unknown fields
        and options are refused rather than ignored.
        """
        if not isinstance(body, dict):
            raise BadRequest(N_("The request body must be a JSON object."))
        for name in body:
            if name not in _BODY_FIELDS:
                raise BadRequest(N_("Unknown field {name}.", name=_named(name)))
        spreadsheet_id = body.get("spreadsheet_id")
        if not isinstance(spreadsheet_id, str) or not SPREADSHEET_ID.match(spreadsheet_id):
            raise BadRequest(
                N_(
                    "spreadsheet_id must be the spreadsheet's id, as in its address: 20 to 100 letters, "
                    "digits, '-' or '_'."
                )
            )
        sheet_id = body.get("sheet_id")
        if not _whole(sheet_id, 0, MAX_SHEET_ID):
            raise BadRequest(N_("sheet_id must be the sheet's gid, a whole number of 0 or more."))
        mode = body.get("mode", "selected")
        if not isinstance(mode, str) or mode not in MODES:
            raise BadRequest(N_("mode must be one of {=modes}.", modes=", ".join(MODES)))
        action = body.get("action", "upload")
        preview_action = body.get("preview_action")
        preview = action == PREVIEW
        if preview:
            if not isinstance(preview_action, str) or preview_action not in PREVIEW_ACTIONS:
                raise BadRequest(
                    N_("preview_action must be one of {=actions}.", actions=", ".join(PREVIEW_ACTIONS))
                )
            if body.get("cursor") is not None:
                raise BadRequest(N_("A preview takes no cursor: it looks at a job before its first step."))
            action = preview_action
        elif preview_action is not None:
            raise BadRequest(N_("preview_action is sent only with the action 'preview'."))
        if not isinstance(action, str) or action not in ACTIONS:
            raise BadRequest(N_("action must be one of {=actions}.", actions=", ".join((*ACTIONS, PREVIEW))))
        options = body.get("options", {})
        if not isinstance(options, dict):
            raise BadRequest(N_("options must be a JSON object."))
        for name, value in options.items():
            if name not in _OPTIONS:
                raise BadRequest(N_("Unknown option {name}.", name=_named(name)))
            fits, what = _OPTIONS[name]
            if value is not None and not fits(value):
                raise BadRequest(N_("Option {name} must be {=what}.", name=repr(name), what=what))
        lang = body.get("lang", "en")
        if not isinstance(lang, str) or lang not in LANGUAGES:
            raise BadRequest(N_("lang must be one of {=languages}.", languages=", ".join(LANGUAGES)))
        cursor = body.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise CursorInvalid(N_("cursor must be the string the previous answer gave."))
        rows: tuple[Interval, ...] = ()
        if mode == "selected":
            rows = _parse_rows(body.get("rows"))
        elif body.get("rows") is not None:
            raise BadRequest(N_("rows are sent only in selected mode; pending mode takes every pending row."))
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
            preview=preview,
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
        raise BadRequest(N_("rows must list the selected rows as [first, last] pairs, e.g. [[2, 10]]."))
    if len(value) > MAX_INTERVALS:
        raise BadRequest(
            N_(
                "rows lists {#count} separate ranges; a job takes at most {#max}. Select fewer, larger "
                "ranges.",
                count=len(value),
                max=MAX_INTERVALS,
            )
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
                N_(
                    "rows: {pair} is not a [first, last] pair of row numbers from 1 to {#max}.",
                    pair=_named(pair),
                    max=MAX_SHEET_ROWS,
                )
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
    #: Pending mode: the job's rows, as its first step found them (the rows not uploaded, or edited since,
    #: up to a job's size), so that later steps need not read every row again to find them. None: not
    #: known (selected mode, whose rows are the selection; or a job whose rows do not fit in a cursor).
    rows: list[Interval] | None = None
    #: Pending mode: the pending rows beyond the job's size, as its first step counted them.
    later: int = 0
    #: The columns (0-based) whose raw values the last step read, and those that tell a repeated
    #: number, as its header row mapped them: a later step asks for those alone. None: not known.
    columns: tuple[tuple[int, ...], tuple[int, ...]] | None = None

    def encode(self) -> str:
        """The cursor for the next step. What only saves work is left out if the rest would not fit:
        the first errors, then the job's rows (later steps then find them again)."""
        if self.seal is None:
            raise RuntimeError("a progress is encoded with its job's seal (Progress.decode gives it)")
        payload: dict[str, Any] = {
            "job": self.job,
            "done": _pack(self.done),
            "counts": {str(k): v for k, v in self.counts.items() if v},
            "errors": self.errors[:MAX_ERRORS],
            "retry": _pack(self.retry),
            "rows": None if self.rows is None else _pack(self.rows),
            "later": self.later,
            "columns": None if self.columns is None else [list(self.columns[0]), list(self.columns[1])],
        }
        for leaner in (payload, {**payload, "errors": []}):
            try:
                return self.seal.seal(leaner)
            except CursorTooLarge:
                pass
        try:
            return self.seal.seal({**payload, "errors": [], "rows": None})
        except CursorTooLarge as exc:
            raise ProgressTooLarge(
                N_(
                    "The job's progress no longer fits in its cursor (the selection has too many separate "
                    'rows). The rows done so far have their status: run "Upload all pending rows" to go on.'
                )
            ) from exc

    @classmethod
    def decode(cls, cursor: object, job: Job) -> Progress:
        """The progress a cursor carries, checked: signed by this deploy for this job's caller, of this
        job, and every interval clipped to the job's rows. Anything else is ``CursorInvalid``."""
        if cursor is None:
            return cls(job.key(), seal=job.seal)
        payload = job.seal.open(cursor)
        if payload.get("job") != job.key():
            raise CursorInvalid(N_("cursor belongs to another job: start the job again."))
        try:
            span = job.row_span()
            progress = cls(
                job=job.key(),
                done=_clip(_unpack(payload["done"]), span),
                counts=_counts(payload["counts"]),
                errors=_errors(payload["errors"]),
                retry=_clip(_unpack(payload["retry"]), span),
                seal=job.seal,
                # what only saves work may be left out: then it is not known, and found again
                rows=None if payload.get("rows") is None else _clip(_unpack(payload["rows"]), span),
                later=_count(payload.get("later", 0)),
                columns=_columns(payload.get("columns")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CursorInvalid(N_("cursor is not one this function gave: start the job again.")) from exc
        job_rows = sum(hi - lo + 1 for lo, hi in progress.rows or ())
        if sum(hi - lo + 1 for lo, hi in progress.done) > MAX_JOB_ROWS or job_rows > MAX_JOB_ROWS:
            raise CursorInvalid(N_("cursor is not one this function gave: start the job again."))
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


#: Google Sheets holds at most 18,278 columns (A to ZZZ).
MAX_COLUMNS = 18_278


def _columns(value: object) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError("columns are two lists")
    raw, keys = value
    for indexes in (raw, keys):
        if not isinstance(indexes, list) or not all(_whole(i, 0, MAX_COLUMNS - 1) for i in indexes):
            raise ValueError("not column indexes")
    return tuple(raw), tuple(keys)


def _count(value: object) -> int:
    if not _whole(value, 0, MAX_SHEET_ROWS):
        raise ValueError("not a count of rows")
    return cast(int, value)


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
