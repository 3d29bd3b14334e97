"""The Google Sheets edge: read the selected rows of a sheet, write each row's status back.

Every step costs a fixed number of Sheets API calls, whatever the number of rows: open is one
``spreadsheets.get`` and one ``spreadsheets.batchUpdate`` that changes nothing (Google accepts it only
from someone who may edit the spreadsheet), read is two ``values.batchGet``, write is one
``values.batchGet`` and one ``values.batchUpdate`` (plus one ``spreadsheets.batchUpdate`` the first
time: the status column's colours, the tab's filter view of problem rows, and grid columns when the
status columns do not fit). Calls that Google answers with 429 or 5xx are retried
with the shared :class:`~callmarker_sheets.retry.RetryPolicy`, never past the step's deadline. A read
whose ``values:batchGet`` URL would be longer than :data:`MAX_URL_BYTES` (many ranges, a long non-Latin
sheet title) is sent as ``values:batchGetByDataFilter``, a POST that carries the ranges in its body.

Errors (each raised ``from`` gspread's ``APIError`` or the ``requests`` exception underneath; each
carries the HTTP status and code the function answers with, see ``errors.py``)::

    SheetError                 400 anything else Google refused (a bad range, a bad request)
    ├── SheetNotFound          404 no such spreadsheet, or no sheet with that gid
    ├── SheetAccessDenied      403 the user may not read or edit it, or must sign in again
    │   └── SheetsApiDisabled  403 the Sheets API is not enabled in the Cloud project of the token
    ├── SheetQuotaExceeded     429 still answered after the last attempt (or when time ran out)
    └── SheetUnavailable       503 5xx or no answer (network, timeout) after the last attempt
"""

from __future__ import annotations

import hashlib
import operator
import re
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import gspread
import orjson
import requests
from google.auth.credentials import Credentials
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import AuthorizedSession
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from gspread.urls import SPREADSHEET_VALUES_BATCH_UPDATE_URL, SPREADSHEET_VALUES_BATCH_URL
from gspread.utils import absolute_range_name, rowcol_to_a1
from requests.adapters import BaseAdapter, HTTPAdapter

from callmarker_sheets.errors import ServiceError
from callmarker_sheets.fields import column_letter
from callmarker_sheets.i18n import N_, Text
from callmarker_sheets.redaction import redact_secrets
from callmarker_sheets.retry import RETRYABLE_STATUS, RetryPolicy, parse_retry_after

__all__ = [
    "GOOGLE_API_PREFIXES",
    "STATUS_COLUMNS",
    "PreviousStatus",
    "RetryingHTTPClient",
    "Selection",
    "Sheet",
    "SheetAccessDenied",
    "SheetError",
    "SheetInfo",
    "SheetNotFound",
    "SheetQuotaExceeded",
    "SheetRow",
    "SheetUnavailable",
    "SheetsApiDisabled",
    "StatusUpdate",
    "WriteReport",
    "a1_block",
    "a1_column",
    "batch_get_url_bytes",
    "connect",
    "find_status_columns",
    "matched_values",
    "merge_intervals",
    "region_from_locale",
    "row_fingerprint",
    "subtract_intervals",
]

#: The hosts gspread talks to: Sheets v4, and Drive v3 (create, delete, metadata).
GOOGLE_API_PREFIXES = ("https://sheets.googleapis.com/", "https://www.googleapis.com/")

#: The headers of the status columns, in the order they are created.
STATUS_COLUMNS = ("CallMarker status", "CallMarker message", "CallMarker time", "CallMarker fingerprint")

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRY = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=32.0)

#: Above this many separate intervals, read their enclosing span instead: every range is sent.
MAX_READ_RANGES = 100
#: A values:batchGet URL carries every range; Google's front end refuses URLs much longer than this.
MAX_URL_BYTES = 8000
#: A tall sheet read whole (pending mode) is read in parts of at most this many cells of its grid, each
#: part let go before the next but one is asked for: the function's memory stays bounded however tall
#: the sheet, where one read of 100,000 rows of 20 columns held some 350 MB.
PART_CELLS = 1_000_000
#: A request started before the step's deadline may end at most this long after it, so that a step
#: answers within the add-in's reach (45 s of budget + 10 s, under Apps Script's ~60 s UrlFetch limit).
LATE_REQUEST_S = 10.0
#: No attempt is given less time than this, even when the deadline is close or past.
MIN_ATTEMPT_S = 2.0
#: How Google says that an API is not enabled in the caller's project (google.rpc.ErrorInfo reason,
#: and the older errors[].reason).
_API_DISABLED_REASONS = frozenset({"SERVICE_DISABLED", "accessNotConfigured"})
_BATCH_GET_BY_DATA_FILTER_URL = "https://sheets.googleapis.com/v4/spreadsheets/%s/values:batchGetByDataFilter"

#: One spreadsheets.get tells the step all it needs of the sheet: its grid, and whether its status column
#: has its colours and its tab the filter view of problem rows already (only what finds them is asked).
_SPREADSHEET_FIELDS = (
    "properties.title,properties.locale,properties.timeZone,sheets.properties,"
    "sheets.conditionalFormats(ranges,booleanRule.condition),sheets.filterViews(filterViewId,title,range.sheetId),"
    "sheets.protectedRanges(range,unprotectedRanges,requestingUserCanEdit,warningOnly)"
)
#: The filter view each tab gets with its status columns; the add-in names it the same.
PROBLEM_ROWS_VIEW = "CallMarker: problem rows"
#: Statuses that need the user's attention: the filter view shows only rows with one of them.
PROBLEM_STATUSES = ("invalid", "rejected", "failed", "sent")
#: Each status's colours in the status column (background, text): green done, red to fix, amber not
#: confirmed. Google's own light palette, as Sheets' "Alternating colours" and chips use it.
STATUS_COLOURS: Mapping[str, tuple[str, str]] = {
    "uploaded": ("#e6f4ea", "#137333"),
    "removed": ("#e6f4ea", "#137333"),
    "invalid": ("#fce8e6", "#c5221f"),
    "rejected": ("#fce8e6", "#c5221f"),
    "failed": ("#fef7e0", "#b06000"),
    "sent": ("#fef7e0", "#b06000"),
}
#: Google's limit on the characters of one cell; a status cell is cut below it.
MAX_CELL_CHARS = 50_000
#: What the edit check looks for, and puts back if it ever found it: the check changes nothing.
EDIT_CHECK_TEXT = "callmarker-sheets: may this account edit the spreadsheet?"
_REGION = re.compile(r"^[A-Za-z]{2}$")


# ---------------------------------------------------------------------------------------------- errors


class SheetError(ServiceError):
    """Google Sheets refused or could not do what was asked. The message says what a user can do;
    ``status`` is Google's HTTP status, when it answered."""

    http_status = 400
    code = "sheets_refused"

    def __init__(self, message: str | Text, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SheetNotFound(SheetError):
    """No such spreadsheet (or not shared with the user), or no sheet with that gid in it."""

    http_status = 404
    code = "not_found"


class SheetAccessDenied(SheetError):
    """The user may not read or edit the spreadsheet, or their sign-in has expired."""

    http_status = 403
    code = "no_access"


class SheetsApiDisabled(SheetAccessDenied):
    """Google Sheets API is not enabled in the Cloud project the user's token was issued for."""

    code = "sheets_api_disabled"


class SheetQuotaExceeded(SheetError):
    """Google kept answering 429 (too many requests per minute) until the last attempt."""

    http_status = 429
    code = "sheets_quota"


class SheetUnavailable(SheetError):
    """Google answered 5xx, or did not answer at all, until the last attempt."""

    http_status = 503
    code = "sheets_unavailable"


# ----------------------------------------------------------------------------------------- connection


class RetryingHTTPClient(HTTPClient):
    """gspread's HTTP client, with bounded retries of 429/5xx/network failures and errors of our own.

    Unlike gspread's BackOffHTTPClient it gives up after ``retry.max_attempts``, waits with full
    jitter, honours Retry-After, and never sleeps for real when tests pass their own ``sleep``.
    With a ``deadline`` (a ``clock()`` value) no wait is taken that would end after it, and no attempt
    runs later than :data:`LATE_REQUEST_S` past it.
    """

    def __init__(
        self,
        auth: Credentials,
        session: requests.Session | None = None,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float | None = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(auth, session)
        # gspread leaves auth unset when a session is given; its Client.expiry reads it.
        self.auth = auth
        self.retry = retry
        self.sleep = sleep
        self.timeout = timeout
        self._timeout = timeout  # gspread types its own as a pair as well
        self.deadline = deadline
        self.clock = clock

    def _attempt_timeout(self) -> float | None:
        if self.deadline is None:
            return self._timeout
        left = max(MIN_ATTEMPT_S, self.deadline + LATE_REQUEST_S - self.clock())
        return left if self._timeout is None else min(self._timeout, left)

    def _wait_fits(self, wait: float) -> bool:
        return self.deadline is None or self.clock() + wait <= self.deadline

    def request(  # noqa: PLR0917 (gspread's own signature, which its endpoint methods call)
        self,
        method: str,
        endpoint: str,
        params: Any = None,
        data: bytes | None = None,
        json: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Any = None,
    ) -> requests.Response:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.session.request(
                    method=method,
                    url=endpoint,
                    json=json,
                    params=params,
                    data=data,
                    files=files,
                    headers=headers,
                    timeout=self._attempt_timeout(),
                )
            except RefreshError as exc:
                raise SheetAccessDenied(
                    N_(
                        "Google did not accept the sign-in for this spreadsheet (it may have expired): "
                        "reload the sheet and try again."
                    ),
                    status=401,
                ) from exc
            except (requests.ConnectionError, requests.Timeout) as exc:
                # A write retried after a lost answer repeats the same values into the same cells;
                # only appendDimension could run twice, which leaves a few empty columns more.
                wait = self.retry.delay(attempt)
                if self.retry.should_retry(attempt) and self._wait_fits(wait):
                    self.sleep(wait)
                    continue
                raise SheetUnavailable(
                    N_(
                        "Google Sheets did not answer after {#n} attempts ({=kind}): try again in a few "
                        "minutes.",
                        n=attempt,
                        kind=type(exc).__name__,
                    )
                ) from exc
            except requests.RequestException as exc:
                raise SheetError(
                    N_("The request to Google Sheets could not be made ({=kind}).", kind=type(exc).__name__)
                ) from exc
            if response.ok:
                return response
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if _retryable(response) and self.retry.should_retry(attempt, retry_after):
                wait = self.retry.delay(attempt, retry_after)
                if self._wait_fits(wait):
                    self.sleep(wait)
                    continue
            error = APIError(response)
            raise _sheet_error(error, attempt, self._secrets()) from error

    def _secrets(self) -> tuple[str, ...]:
        token = getattr(self.auth, "token", None)
        return (token,) if isinstance(token, str) and token else ()


def _retryable(response: requests.Response) -> bool:
    if response.status_code in RETRYABLE_STATUS or response.status_code >= 500:
        return True
    # Drive reports its per-user rate limits as 403 rather than 429.
    if response.status_code == 403:
        try:
            reasons = {e.get("reason") for e in response.json()["error"].get("errors", [])}
        except (ValueError, KeyError, TypeError, AttributeError):
            return False
        return bool(reasons & {"rateLimitExceeded", "userRateLimitExceeded"})
    return False


def _api_disabled(response: requests.Response) -> bool:
    """A 403 that says the API is not enabled for the token's project, by reason, not by wording."""
    try:
        error = response.json()["error"]
        reasons = {d.get("reason") for d in error.get("details", []) if isinstance(d, dict)}
        reasons |= {e.get("reason") for e in error.get("errors", []) if isinstance(e, dict)}
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    return bool(reasons & _API_DISABLED_REASONS)


def _sheet_error(error: APIError, attempts: int, secrets: Sequence[str]) -> SheetError:
    code = error.response.status_code
    said = redact_secrets(str(error.error.get("message") or "").strip(), secrets)
    google = N_(" (Google said: {said})", said=said) if said else ""
    if code == 404:
        return SheetNotFound(
            N_(
                "The spreadsheet was not found{=google}: check the link, and that it is shared with you.",
                google=google,
            ),
            status=code,
        )
    if code == 403 and _api_disabled(error.response):
        return SheetsApiDisabled(
            N_(
                "The Sheets API is not enabled in the script's Cloud project: enable the Google Sheets API "
                "in the Google Cloud project of the add-in's script (APIs & Services > Library)."
            ),
            status=code,
        )
    if code in (401, 403) and not _retryable(error.response):
        return SheetAccessDenied(
            N_(
                "Google refused access to the spreadsheet (HTTP {=code}){=google}: make sure you can edit "
                "it, or sign in again.",
                code=code,
                google=google,
            ),
            status=code,
        )
    if code in {429, 403}:
        return SheetQuotaExceeded(
            N_(
                "Google Sheets is limiting requests (HTTP {=code}) and still refused after {#n} attempts: "
                "wait a minute, then upload the pending rows again.",
                code=code,
                n=attempts,
            ),
            status=code,
        )
    if code >= 500 or code in RETRYABLE_STATUS:
        return SheetUnavailable(
            N_(
                "Google Sheets failed (HTTP {=code}) after {#n} attempts{=google}: try again in a few "
                "minutes.",
                code=code,
                n=attempts,
                google=google,
            ),
            status=code,
        )
    return SheetError(
        N_("Google Sheets refused the request (HTTP {=code}){=google}.", code=code, google=google),
        status=code,
    )


class _EmulatorAdapter(HTTPAdapter):
    """Sends what was meant for a Google API host to ``http://{host}``: the emulator convention."""

    def __init__(self, host: str) -> None:
        super().__init__()
        self._host = host

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        request.url = urlunsplit(("http", self._host, parts.path, parts.query, parts.fragment))
        # The emulator is on this machine: an HTTPS_PROXY meant for Google must not be used for it.
        kwargs["proxies"] = {}
        return super().send(request, **kwargs)


def connect(
    credentials: Credentials,
    *,
    emulator_host: str | None = None,
    adapter: BaseAdapter | None = None,
    retry: RetryPolicy | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
    deadline: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> gspread.Client:
    """A gspread client whose requests retry per ``retry`` and fail with :class:`SheetError`.

    ``credentials``: any google-auth credentials (the user's OAuth token as
    ``google.oauth2.credentials.Credentials(token)``, or a service account).
    ``emulator_host`` ("127.0.0.1:8085", as in SHEETS_EMULATOR_HOST) sends every Google API request
    to ``http://{emulator_host}`` instead. ``adapter`` (a requests adapter, such as an in-process
    WSGI one) is mounted for the Google API hosts instead. ``sleep`` is how retries wait;
    ``deadline`` (a ``clock()`` value) is when the step must be done: retries stop short of it.
    """
    if emulator_host and adapter is not None:
        raise ValueError("give emulator_host or adapter, not both")
    session = AuthorizedSession(credentials)
    mounted = _EmulatorAdapter(emulator_host) if emulator_host else adapter
    if mounted is not None:
        for prefix in GOOGLE_API_PREFIXES:
            session.mount(prefix, mounted)
    http = RetryingHTTPClient(
        credentials,
        session,
        retry=retry or DEFAULT_RETRY,
        sleep=sleep,
        timeout=timeout,
        deadline=deadline,
        clock=clock,
    )
    client = gspread.Client(credentials, session=session)
    client.http_client = http
    return client


# --------------------------------------------------------------------------------------- pure parts


def merge_intervals(
    intervals: Iterable[tuple[int, int]], *, first: int = 1, last: int | None = None
) -> tuple[tuple[int, int], ...]:
    """Sorted, disjoint, non-adjacent inclusive intervals covering the same rows, clipped to
    ``[first, last]`` (``last=None``: no upper bound). Reversed intervals are read as written backwards.
    """
    clipped = []
    for a, b in intervals:
        lo, hi = min(a, b), max(a, b)
        lo = max(lo, first)
        if last is not None:
            hi = min(hi, last)
        if lo <= hi:
            clipped.append((lo, hi))
    clipped.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in clipped:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def subtract_intervals(
    intervals: Iterable[tuple[int, int]], taken: Iterable[tuple[int, int]]
) -> tuple[tuple[int, int], ...]:
    """The rows of ``intervals`` that are not in ``taken``, as sorted disjoint intervals."""
    left: list[tuple[int, int]] = []
    away = list(merge_intervals(taken))
    j = 0
    for first, hi in merge_intervals(intervals):
        while j < len(away) and away[j][1] < first:
            j += 1
        k, lo = j, first
        while lo <= hi:
            if k >= len(away) or away[k][0] > hi:
                left.append((lo, hi))
                break
            if away[k][0] > lo:
                left.append((lo, away[k][0] - 1))
            lo = max(lo, away[k][1] + 1)
            k += 1
    return tuple(left)


def a1_block(sheet_title: str, first_row: int, first_col: int, last_row: int, last_col: int) -> str:
    """The A1 range of a block, 1-based inclusive, on the named sheet: ``'Leads'!B2:D9``."""
    start = rowcol_to_a1(first_row, first_col)
    end = rowcol_to_a1(last_row, last_col)
    return absolute_range_name(sheet_title, start if start == end else f"{start}:{end}")


def a1_column(sheet_title: str, col: int) -> str:
    """The A1 range of a whole column, 1-based: ``'Leads'!C:C`` (it grows with rows inserted later)."""
    letters = rowcol_to_a1(1, col)[:-1]
    return absolute_range_name(sheet_title, f"{letters}:{letters}")


def region_from_locale(locale: str | None) -> str | None:
    """The two-letter region of a spreadsheet locale (``iw_IL`` -> ``IL``); None when it has none."""
    if not locale:
        return None
    parts = re.split(r"[_-]", locale)
    for part in reversed(parts[1:]):
        if _REGION.match(part):
            return part.upper()
    return None


def row_fingerprint(values: Sequence[str]) -> str:
    """A short stable hash of a row's cells as the user sees them (trailing blank cells ignored).

    Pending mode compares it with the one written at upload time to tell an edited row.
    """
    return _text_fingerprint([v if type(v) is str else str(v) for v in values])


def _text_fingerprint(cells: Sequence[str]) -> str:
    """:func:`row_fingerprint` of cells that are text already."""
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    # orjson writes the same bytes as json.dumps(cells, ensure_ascii=False, separators=(",", ":")) did
    # when the fingerprints already in sheets were made (tests/test_sheet_pure.py holds it to that); a
    # tuple as a list.
    return hashlib.sha256(orjson.dumps(cells[:end] if end < len(cells) else cells)).digest()[:8].hex()


def batch_get_url_bytes(spreadsheet_id: str, ranges: Sequence[str], params: Mapping[str, str]) -> int:
    """The length of the values:batchGet URL gspread would send for these ranges, percent-encoded."""
    url = SPREADSHEET_VALUES_BATCH_URL % spreadsheet_id
    prepared = requests.Request("GET", url, params={**params, "ranges": list(ranges)}).prepare()
    return len(prepared.url or "")


def matched_values(ranges: Sequence[str], answer: object) -> list[list[list[Any]]]:
    """The values of each asked range, in order, from a batchGetByDataFilter answer.

    Each matched range names the request's filters it matched, which is how it is found; a range
    that no answer names cannot be read as empty (it may hold rows), so that refuses the answer.
    """
    wrong = SheetError(N_("Google Sheets gave an answer the function cannot read for the rows; try again."))
    if not isinstance(answer, dict) or not isinstance(answer.get("valueRanges", []), list):
        raise wrong
    found: dict[str, list[list[Any]]] = {}
    for matched in answer.get("valueRanges", []):
        if not isinstance(matched, dict) or not isinstance(matched.get("valueRange", {}), dict):
            raise wrong
        values = matched.get("valueRange", {}).get("values", [])
        if not isinstance(values, list):
            raise wrong
        for data_filter in matched.get("dataFilters", []):
            a1 = data_filter.get("a1Range") if isinstance(data_filter, dict) else None
            if isinstance(a1, str):
                found[a1] = values
    missing = [r for r in ranges if r not in found]
    if missing:
        raise SheetError(
            N_(
                "Google Sheets answered no values for {#missing} of the {#asked} ranges asked; try again.",
                missing=len(missing),
                asked=len(ranges),
            )
        )
    return [found[r] for r in ranges]


#: How Sheets shows a long number in a cell formatted as "Automatic": 6.45E+11.
_SCIENTIFIC = re.compile(r"-?\d(?:[.,]\d+)?E\+\d+")


def _key_rows(
    wanted: Sequence[tuple[int, int]],
    span: tuple[int, int],
    runs: Sequence[tuple[int, int]],
    shown: Sequence[list[list[Any]]],
    raw: Sequence[list[list[Any]]],
) -> tuple[SheetRow, ...]:
    """The rows of ``wanted`` with their key cells only (``Selection.key_columns``, in order); rows whose
    key cells are all blank are left out: they hold no number."""
    rows_wanted = {row for lo, hi in wanted for row in range(lo, hi + 1)}
    lo = span[0]
    key_rows: list[SheetRow] = []
    for offset in range(span[1] - lo + 1):
        if lo + offset not in rows_wanted:
            continue
        cells: list[str] = []
        values: list[object] = []
        for (c0, c1), block, raw_block in zip(runs, shown, raw, strict=True):
            one = block[offset] if offset < len(block) else []
            raw_one = raw_block[offset] if offset < len(raw_block) else []
            for j in range(c1 - c0 + 1):
                text = str(one[j]) if j < len(one) else ""
                value = raw_one[j] if j < len(raw_one) else ""
                cells.append(text)
                values.append(text if value == text else value)
        if any(not _is_blank(c) for c in cells):
            key_rows.append(SheetRow(lo + offset, tuple(cells), tuple(values)))
    return tuple(key_rows)


def _number(row: SheetRow) -> int:
    return row.number


def _raw_place(runs: Sequence[tuple[int, int]], column: int) -> tuple[int, int]:
    """Which of ``runs`` (the column runs of a raw read) holds ``column``, and at what offset in it;
    (-1, -1) for none."""
    for i, (c0, c1) in enumerate(runs):
        if c0 <= column <= c1:
            return i, column - c0
    return -1, -1


def _picker(columns: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """The cells of ``columns`` of a row, as a tuple (operator.itemgetter, always a tuple)."""
    if not columns:
        return lambda _cells: ()
    if len(columns) == 1:
        (only,) = columns
        return lambda cells: (cells[only],)
    return operator.itemgetter(*columns)


def _shared(shown: str, raw: object) -> object:
    """A raw value, or the shown string itself when they are equal (most text): one string, not two."""
    return shown if shown == raw else raw


def _decoded(response: requests.Response) -> Any:
    """A Google answer's JSON (orjson: a tall sheet's answer is megabytes, and it is read on every step)."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise SheetError(
            N_("Google Sheets gave an answer the function cannot read for the rows; try again.")
        ) from None


def _is_blank(value: object) -> bool:
    return value is None or not str(value).strip()


def _header_key(value: object) -> str:
    return " ".join(str(value).split()).casefold()


def find_status_columns(headers: Sequence[str]) -> dict[str, int]:
    """Status column name -> 0-based column index, for the status columns present in ``headers``."""
    wanted = {_header_key(name): name for name in STATUS_COLUMNS}
    found: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = wanted.get(_header_key(header))
        if name is not None and name not in found:
            found[name] = index
    return found


def status_column_places(headers: Sequence[str], used_width: int) -> tuple[dict[str, int], list[str]]:
    """Pure: where each status column is (0-based), and which of them are not there yet: those go to the
    right of every column in use (``used_width``), in their order."""
    columns = find_status_columns(headers)
    missing = [name for name in STATUS_COLUMNS if name not in columns]
    start = max(len(headers), used_width)
    for offset, name in enumerate(missing):
        columns[name] = start + offset
    return columns, missing


def number_runs(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """Pure: the runs of consecutive numbers among ``numbers`` (any order, repeats allowed), as sorted
    inclusive intervals: [7, 1, 3, 2] -> [(1, 3), (7, 7)]. What :func:`merge_intervals` makes of rows
    taken one by one, for a fraction of the work."""
    runs: list[tuple[int, int]] = []
    ordered = sorted(set(numbers))
    if not ordered:
        return runs
    start = previous = ordered[0]
    for n in ordered[1:]:
        if n != previous + 1:
            runs.append((start, previous))
            start = n
        previous = n
    runs.append((start, previous))
    return runs


def _trimmed(cells: Sequence[object]) -> list[str]:
    out = ["" if c is None else str(c) for c in cells]
    while out and _is_blank(out[-1]):
        out.pop()
    return out


def _colour(hex_rgb: str) -> dict[str, float]:
    return {name: int(hex_rgb[i : i + 2], 16) / 255 for name, i in (("red", 1), ("green", 3), ("blue", 5))}


def status_colour_rules(gid: int, column: int, header_row: int) -> list[dict[str, Any]]:
    """``addConditionalFormatRule`` requests that colour the status column (0-based ``column``) below
    the header row, one rule per status: the range has no end, so rows added later are coloured too."""
    cells = {
        "sheetId": gid,
        "startRowIndex": header_row,
        "startColumnIndex": column,
        "endColumnIndex": column + 1,
    }
    return [
        {
            "addConditionalFormatRule": {
                "index": 0,
                "rule": {
                    "ranges": [cells],
                    "booleanRule": {
                        "condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": status}]},
                        "format": {
                            "backgroundColor": _colour(background),
                            "textFormat": {"foregroundColor": _colour(text)},
                        },
                    },
                },
            }
        }
        for status, (background, text) in STATUS_COLOURS.items()
    ]


def problem_rows_filter_view(gid: int, column: int, header_row: int, width: int) -> dict[str, Any]:
    """An ``addFilterView`` request: the tab from its header row, showing only the rows whose status
    (0-based ``column``) needs attention. A custom formula tests the first data row, relative to the
    range, as Sheets' own "Custom formula is" does."""
    cell = f"{column_letter(column)}{header_row + 1}"
    formula = "=OR(" + ",".join(f'{cell}="{status}"' for status in PROBLEM_STATUSES) + ")"
    return {
        "addFilterView": {
            "filter": {
                "title": PROBLEM_ROWS_VIEW,
                "range": {
                    "sheetId": gid,
                    "startRowIndex": header_row - 1,
                    "startColumnIndex": 0,
                    "endColumnIndex": width,
                },
                "filterSpecs": [
                    {
                        "columnIndex": column,
                        "filterCriteria": {
                            "condition": {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": formula}]}
                        },
                    }
                ],
            }
        }
    }


def coloured_columns(rules: object, gid: int) -> frozenset[int]:
    """Columns of the sheet that our status colours cover already, from its ``conditionalFormats``."""
    found: set[int] = set()
    for rule in rules if isinstance(rules, list) else []:
        boolean = rule.get("booleanRule") if isinstance(rule, dict) else None
        condition = boolean.get("condition") if isinstance(boolean, dict) else None
        if not isinstance(condition, dict) or condition.get("type") != "TEXT_EQ":
            continue
        values = condition.get("values")
        first = values[0] if isinstance(values, list) and values and isinstance(values[0], dict) else {}
        if first.get("userEnteredValue") != "uploaded" or not isinstance(rule.get("ranges"), list):
            continue
        for cells in rule["ranges"]:
            if not isinstance(cells, dict) or cells.get("sheetId", 0) != gid:
                continue
            start, end = cells.get("startColumnIndex"), cells.get("endColumnIndex")
            if isinstance(start, int) and end == start + 1:
                found.add(start)
    return frozenset(found)


#: A block of a sheet's cells, 0-based and end-exclusive: (first row, end row, first column, end column),
#: None for a side that runs to the grid's edge.
Block = tuple[int, int | None, int, int | None]


def _block(grid: object, gid: int) -> Block | None:
    """A GridRange of the sheet ``gid`` as a block; None when it is of another sheet or not readable."""
    if not isinstance(grid, dict) or grid.get("sheetId", 0) != gid:
        return None
    sides = [
        grid.get(name) for name in ("startRowIndex", "endRowIndex", "startColumnIndex", "endColumnIndex")
    ]
    if not all(side is None or (isinstance(side, int) and side >= 0) for side in sides):
        return None
    r0, r1, c0, c1 = sides
    return (r0 or 0, r1, c0 or 0, c1)


def locked_blocks(protected: object, gid: int) -> tuple[tuple[Block, tuple[Block, ...]], ...]:
    """The blocks of the sheet protected from the caller, each with its holes (``unprotectedRanges``),
    from its ``protectedRanges``: those Google says the caller may not edit, warnings left out. A range
    that cannot be read is taken as the whole sheet: it is safer to stop than to be refused the write."""
    found: list[tuple[Block, tuple[Block, ...]]] = []
    for entry in protected if isinstance(protected, list) else []:
        if not isinstance(entry, dict) or entry.get("warningOnly") is True:
            continue
        if entry.get("requestingUserCanEdit") is True:
            continue
        grid = entry.get("range")
        if isinstance(grid, dict) and grid.get("sheetId", 0) != gid:
            continue
        holes = entry.get("unprotectedRanges")
        found.append(
            (
                _block(grid, gid) or (0, None, 0, None),
                tuple(b for b in (_block(h, gid) for h in (holes if isinstance(holes, list) else [])) if b),
            )
        )
    return tuple(found)


def _inside(block: Block, row: int, column: int) -> bool:
    r0, r1, c0, c1 = block
    return r0 <= row and (r1 is None or row < r1) and c0 <= column and (c1 is None or column < c1)


def is_locked(locked: Sequence[tuple[Block, Sequence[Block]]], row: int, column: int) -> bool:
    """Pure: whether the cell (0-based) is protected from the caller."""
    return any(
        _inside(block, row, column) and not any(_inside(hole, row, column) for hole in holes)
        for block, holes in locked
    )


def locks_any(locked: Sequence[tuple[Block, Sequence[Block]]], rows: Iterable[int], column: int) -> bool:
    """Pure: whether any cell of ``column`` on ``rows`` (0-based) is protected from the caller; looked at
    by runs of rows, cell by cell only where a protection has holes in the column."""
    blocks = [(block, holes) for block, holes in locked if _inside(block, block[0], column)]
    if not blocks:
        return False
    for lo, hi in number_runs(row for row in rows if row >= 0):
        for (r0, r1, _, _), holes in blocks:
            first, last = max(lo, r0), hi if r1 is None else min(hi, r1 - 1)
            if first > last:
                continue
            if not holes or any(is_locked(locked, row, column) for row in range(first, last + 1)):
                return True
    return False


def problem_rows_view(views: object, gid: int) -> int | None:
    """The id of the tab's filter view of problem rows, from its ``filterViews``; None when it has none."""
    for view in views if isinstance(views, list) else []:
        if (
            isinstance(view, dict)
            and view.get("title") == PROBLEM_ROWS_VIEW
            and view.get("range", {}).get("sheetId", 0) == gid
            and isinstance(view.get("filterViewId"), int)
        ):
            return int(view["filterViewId"])
    return None


# -------------------------------------------------------------------------------------------- types


@dataclass(frozen=True, slots=True)
class SheetInfo:
    """What one ``spreadsheets.get`` tells about the spreadsheet and the sheet (tab) of the job."""

    spreadsheet_id: str
    title: str
    gid: int
    sheet_title: str
    locale: str | None
    time_zone: str | None
    row_count: int
    column_count: int
    #: Columns that carry the status colours (conditional formatting) already.
    coloured_columns: frozenset[int] = frozenset()
    #: The filterViewId of the tab's filter view of problem rows, when it has one.
    problem_rows_view: int | None = None
    #: The sheet's blocks protected from the caller (Data > Protect sheets and ranges), with their holes.
    locked: tuple[tuple[Block, tuple[Block, ...]], ...] = ()

    @property
    def problem_rows_url(self) -> str | None:
        """The address that opens the tab with its filter view of problem rows, or None."""
        if self.problem_rows_view is None:
            return None
        return (
            f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit"
            f"#gid={self.gid}&fvid={self.problem_rows_view}"
        )

    @property
    def default_region(self) -> str | None:
        """Where phone numbers without a country code are from, by the spreadsheet's locale."""
        return region_from_locale(self.locale)


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One sheet row, padded to the header width: what the user sees, and the raw values.

    ``raw`` holds numbers as numbers and dates as serial numbers (days since 1899-12-30).
    """

    number: int
    formatted: tuple[str, ...]
    raw: tuple[object, ...]


@dataclass(frozen=True, slots=True)
class PreviousStatus:
    """What the status columns of a row held when it was read (blank strings when empty)."""

    status: str = ""
    message: str = ""
    time: str = ""
    fingerprint: str = ""


@dataclass(frozen=True, slots=True)
class Selection:
    """The header and the selected rows of a sheet, read in two calls.

    Column indexes are 0-based, the same as in ``SheetRow.formatted``. ``status_columns`` maps each
    status column present to its index: they are not user data. ``rows`` holds the rows with at
    least one non-blank user cell, in sheet order; ``empty_rows`` the numbers of the others.
    """

    info: SheetInfo
    header_row: int
    headers: tuple[str, ...]
    status_columns: Mapping[str, int]
    rows: tuple[SheetRow, ...]
    empty_rows: tuple[int, ...]
    previous: Mapping[int, PreviousStatus] = field(default_factory=dict)
    #: Columns holding anything in the header or in a row read: new status columns go to the right.
    used_width: int = 0
    #: Other rows, of which only the columns ``key_columns`` (0-based) were read, in sheet order: their
    #: cells are those columns' alone. Rows whose key cells are all blank are left out.
    keys: tuple[SheetRow, ...] = ()
    key_columns: tuple[int, ...] = ()
    #: The last row Google answered for (below it, the rows asked for hold nothing); 0 for none.
    answered_through: int = 0

    #: Indexes of the user's columns: every header column that is not a status column.
    data_columns: tuple[int, ...] = field(init=False, default=())
    _user_cells: Callable[[Sequence[str]], tuple[str, ...]] = field(
        init=False, default=_picker(()), repr=False, compare=False
    )

    def __post_init__(self) -> None:
        status = set(self.status_columns.values())
        # worked out once: every row's fingerprint needs it
        data_columns = tuple(i for i in range(len(self.headers)) if i not in status)
        object.__setattr__(self, "data_columns", data_columns)
        object.__setattr__(self, "_user_cells", _picker(data_columns))

    def narrowed(self, rows: Collection[int], key_columns: Sequence[int]) -> Selection:
        """The same selection with only ``rows`` whole: of every other row, only its ``key_columns``
        (``keys``, with those already there; rows whose key cells are all blank left out)."""
        columns = tuple(c for c in key_columns if c < len(self.headers))
        pick = _picker(columns)
        keys = tuple(
            SheetRow(row.number, shown, pick(row.raw))
            for row in self.rows
            if row.number not in rows
            for shown in (pick(row.formatted),)
            if any(cell.strip() for cell in shown)
        )
        if self.keys:  # rows already read by their key cells alone stay, in sheet order
            keys = tuple(sorted((*self.keys, *keys), key=_number))
        return replace(
            self,
            rows=tuple(row for row in self.rows if row.number in rows),
            previous={n: p for n, p in self.previous.items() if n in rows},
            keys=keys,
            key_columns=columns,
        )

    def joined(self, later: Selection) -> Selection:
        """This selection and ``later`` (a part of the same sheet below it, read with the same header
        row) as one."""
        return replace(
            self,
            rows=self.rows + later.rows,
            empty_rows=self.empty_rows + later.empty_rows,
            previous={**self.previous, **later.previous},
            used_width=max(self.used_width, later.used_width),
            keys=self.keys + later.keys,
            key_columns=self.key_columns or later.key_columns,
            answered_through=max(self.answered_through, later.answered_through),
        )

    def user_values(self, row: SheetRow) -> tuple[str, ...]:
        """The formatted values of a row's user columns (status columns left out)."""
        return self._user_cells(row.formatted)

    def fingerprint(self, row: SheetRow) -> str:
        """:func:`row_fingerprint` of the row's user columns."""
        return _text_fingerprint(self._user_cells(row.formatted))


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """The status to write on one row. ``key`` is the row's key cell (its phone number) as read."""

    row: int
    status: str
    message: str
    time: str
    fingerprint: str
    key: str


@dataclass(frozen=True, slots=True)
class WriteReport:
    """What a write did: rows written (where they are now), rows found elsewhere, rows lost.

    ``moved`` maps a row number as read to where its key was found; ``lost`` holds rows whose key
    could not be found exactly once, so nothing was written for them.
    """

    written: tuple[int, ...]
    moved: Mapping[int, int]
    lost: tuple[int, ...]
    columns_added: tuple[str, ...] = ()
    #: The filter view of the tab's problem rows (its filterViewId), when there is one.
    problem_rows_view: int | None = None


# -------------------------------------------------------------------------------------------- sheet


#: How many of a sheet's first cells the edit check looks through for one not protected from the caller.
EDIT_CHECK_CELLS = 10_000


#: What a row of an answer is replaced by once it is read, so that its cells can go (never changed).
_READ: list[Any] = []

#: The header row and the key column as Google answered them (:meth:`Sheet.rows_now`).
RowsNow = tuple[list[list[Any]], list[list[Any]]]


@dataclass(frozen=True, slots=True)
class _Asked:
    """The ranges of one read (:meth:`Sheet.read`): the header row and the rows as shown, the columns
    read raw, and the key columns of other rows."""

    header_row: int
    wanted: Sequence[tuple[int, int]]
    #: The row intervals asked for: ``wanted``, or the one interval spanning them when they are many.
    spans: Sequence[tuple[int, int]]
    raw_columns: Collection[int] | None
    raw_runs: Sequence[tuple[int, int]]
    key_wanted: Sequence[tuple[int, int]]
    key_span: tuple[int, int] | None
    key_runs: Sequence[tuple[int, int]]
    shown_ranges: list[str]
    raw_ranges: list[str]
    key_ranges: list[str]


@dataclass(slots=True)
class _Answers:
    """Google's answers to an :class:`_Asked`: what the cells show (decoded), their raw values (not yet)."""

    formatted: list[list[list[Any]]]
    raw: requests.Response | None
    scientific: bool

    def answered_through(self, asked: _Asked) -> int:
        """The last row Google answered for (0 for none)."""
        return _answered_through(asked.spans, self.formatted[1 : 1 + len(asked.spans)])


def _answered_through(spans: Sequence[tuple[int, int]], shown: Sequence[list[list[Any]]]) -> int:
    """The last row of ``spans`` that Google's answer (``shown``, a block per span) holds; 0 for none:
    Google leaves out the rows below a range's last one with anything in it."""
    last = 0
    for (lo, hi), block in zip(spans, shown, strict=True):
        if block:
            last = max(last, lo + min(len(block), hi - lo + 1) - 1)
    return last


def edit_check_cell(info: SheetInfo) -> tuple[int, int]:
    """Pure: the cell (0-based) the edit check writes to: the first, in reading order, not protected from
    the caller (a header row is often protected), or the first cell when none of the first are."""
    width = max(info.column_count, 1)
    for index in range(min(EDIT_CHECK_CELLS, max(info.row_count, 1) * width)):
        row, column = divmod(index, width)
        if not is_locked(info.locked, row, column):
            return row, column
    return 0, 0


def _check_can_edit(http: HTTPClient, info: SheetInfo) -> None:
    """Ask Google to replace, in a cell of the sheet, a text by itself: a write that changes nothing and
    that Google refuses (403, SheetAccessDenied) to anyone who may only view or comment. The cell is one
    not protected from the caller (``edit_check_cell``): a protected header row must not pass for a
    spreadsheet the caller may not edit.

    The Sheets API has no "can edit" field and Drive's ``capabilities.canEdit`` needs a Drive scope the
    add-in does not hold; this asks with the spreadsheets scope alone; whether the status columns
    themselves may be edited is told by the sheet's protected ranges (``SheetInfo.locked``).
    """
    row, column = edit_check_cell(info)
    cell = {
        "sheetId": info.gid,
        "startRowIndex": row,
        "endRowIndex": row + 1,
        "startColumnIndex": column,
        "endColumnIndex": column + 1,
    }
    find = {
        "find": EDIT_CHECK_TEXT,
        "replacement": EDIT_CHECK_TEXT,
        "matchCase": True,
        "matchEntireCell": True,
        "range": cell,
    }
    http.batch_update(info.spreadsheet_id, {"requests": [{"findReplace": find}]})


class Sheet:
    """One sheet (tab) of a spreadsheet: read a selection, write statuses, in constant calls."""

    def __init__(self, http: HTTPClient, info: SheetInfo) -> None:
        self._http = http
        self.info = info

    @classmethod
    def open(cls, client: gspread.Client, spreadsheet_id: str, gid: int, *, check_edit: bool = True) -> Sheet:
        """Fetch the spreadsheet's properties and find the sheet by gid, then (``check_edit``) prove that
        the user may edit it, before any cell is read: two calls."""
        meta = client.http_client.spreadsheets_get(spreadsheet_id, params={"fields": _SPREADSHEET_FIELDS})
        props = meta.get("properties", {})
        for sheet in meta.get("sheets", []):
            sp = sheet.get("properties", {})
            if int(sp.get("sheetId", -1)) == int(gid):
                grid = sp.get("gridProperties", {})
                info = SheetInfo(
                    spreadsheet_id=spreadsheet_id,
                    title=str(props.get("title", "")),
                    gid=int(gid),
                    sheet_title=str(sp.get("title", "")),
                    locale=props.get("locale"),
                    time_zone=props.get("timeZone"),
                    row_count=int(grid.get("rowCount", 0)),
                    column_count=int(grid.get("columnCount", 0)),
                    coloured_columns=coloured_columns(sheet.get("conditionalFormats", []), int(gid)),
                    problem_rows_view=problem_rows_view(sheet.get("filterViews", []), int(gid)),
                    locked=locked_blocks(sheet.get("protectedRanges", []), int(gid)),
                )
                if check_edit:
                    _check_can_edit(client.http_client, info)
                return cls(client.http_client, info)
        raise SheetNotFound(
            N_(
                "The spreadsheet has no sheet with gid {=gid}: it may have been deleted. Select the rows "
                "again in the sheet you want to upload.",
                gid=gid,
            )
        )

    # ---------------------------------------------------------------------------------------- read

    def _check_header_row(self, header_row: int) -> None:
        if header_row < 1:
            raise ValueError("header_row must be 1 or more")
        if header_row > self.info.row_count:
            raise SheetError(
                N_(
                    "The header row {=row} is below the last row of the sheet ({=last}).",
                    row=header_row,
                    last=self.info.row_count,
                )
            )

    def read_header(self, header_row: int) -> tuple[str, ...]:
        """The header row as the user sees it, trailing blank cells left out: one call."""
        info = self.info
        self._check_header_row(header_row)
        width = max(info.column_count, 1)
        (cells,) = self._batch_get(
            [a1_block(info.sheet_title, header_row, 1, header_row, width)],
            {"valueRenderOption": "FORMATTED_VALUE"},
        )
        return tuple(_trimmed(cells[0] if cells else []))

    def read_parts(
        self,
        intervals: Sequence[tuple[int, int]],
        *,
        header_row: int = 1,
        raw_columns: Collection[int] | None = None,
        part_cells: int | None = None,
        whole: Callable[[Selection], Collection[int]] | None = None,
        key_columns: Sequence[int] = (),
    ) -> Iterator[Selection]:
        """The rows of ``intervals`` as :meth:`read` gives them (``whole`` and ``key_columns`` as there),
        in parts of at most ``part_cells`` cells of the grid (each part with the header row; the parts of
        one interval as even as can be), in sheet order. While the caller looks at one part, the next is
        asked for, so that Google's work, the wait and the function's overlap; no more than two parts are
        held at once."""
        info = self.info
        wanted = merge_intervals(intervals, first=header_row + 1, last=info.row_count)
        most = max(1, (part_cells or PART_CELLS) // max(info.column_count, 1))
        parts: list[tuple[tuple[int, int], ...]] = []
        for first, last in wanted:
            size = -(-(last - first + 1) // -(-(last - first + 1) // most))  # even parts of at most `most`
            parts += [((lo, min(last, lo + size - 1)),) for lo in range(first, last + 1, size)]

        def asked_for(rows: Sequence[tuple[int, int]]) -> _Asked:
            return self._asked(rows, header_row=header_row, raw_columns=raw_columns)

        def built(asked: _Asked, answers: _Answers) -> Selection:
            return self._built(asked, answers, whole=whole, key_columns=key_columns)

        if not parts:
            empty = asked_for(())
            yield built(empty, self._fetched(empty))
            return

        # While one part is made into rows, the next is asked for and decoded: Google's work, the wait
        # and the function's overlap. A grid is often far taller than its data: once Google answers a part
        # short (its data ends there), the rest of the grid is asked for in one read, not in parts that
        # would come back empty.
        with ThreadPoolExecutor(max_workers=1) as ahead:
            asked = asked_for(parts[0])
            coming: Future[_Answers] | None = ahead.submit(self._fetched, asked)
            rows, rest = parts[0], parts[1:]
            while coming is not None:
                answers, this = coming.result(), asked
                coming = None
                if rest:
                    if answers.answered_through(this) < rows[-1][1]:
                        rest = [tuple(interval for later in rest for interval in later)]
                    rows, rest = rest[0], rest[1:]
                    asked = asked_for(rows)
                    coming = ahead.submit(self._fetched, asked)
                part = built(this, answers)
                del answers
                yield part
                del part

    def read(
        self,
        intervals: Sequence[tuple[int, int]],
        *,
        header_row: int = 1,
        raw_columns: Collection[int] | None = None,
        keys: Sequence[tuple[int, int]] = (),
        key_columns: Sequence[int] = (),
        whole: Callable[[Selection], Collection[int]] | None = None,
    ) -> Selection:
        """The header row and the selected rows (inclusive sheet row intervals), in two calls made at once:
        what the user sees, and the raw values.

        Rows at or above ``header_row`` are never data rows; rows past the grid are left out.
        ``raw_columns`` (0-based; None: all) are the columns whose raw values are asked for; the others'
        raw values are what the cells show, except where a cell shows a number in scientific notation
        (its digits are then asked for, in one more call). ``keys`` are more rows, of which only
        ``key_columns`` are read (``Selection.keys``): a step that acts on some rows reads no more of
        the others than it needs. ``whole`` (pure) is given the rows as shown (their raw values not read
        yet) and answers which of them are kept whole; of the others only ``key_columns`` are kept, as
        ``Selection.narrowed`` keeps them, and their raw values are not looked at.
        """
        asked = self._asked(
            intervals, header_row=header_row, raw_columns=raw_columns, keys=keys, key_columns=key_columns
        )
        return self._built(asked, self._fetched(asked), whole=whole, key_columns=key_columns)

    def _asked(
        self,
        intervals: Sequence[tuple[int, int]],
        *,
        header_row: int,
        raw_columns: Collection[int] | None,
        keys: Sequence[tuple[int, int]] = (),
        key_columns: Sequence[int] = (),
    ) -> _Asked:
        """The ranges :meth:`read` asks for."""
        info = self.info
        self._check_header_row(header_row)
        width = max(info.column_count, 1)
        wanted = merge_intervals(intervals, first=header_row + 1, last=info.row_count)
        spans = wanted if len(wanted) <= MAX_READ_RANGES else [(wanted[0][0], wanted[-1][1])]
        title = info.sheet_title
        everything = [(0, width - 1)]
        raw_runs = everything if raw_columns is None else number_runs(c for c in raw_columns if c < width)
        key_wanted = merge_intervals(keys, first=header_row + 1, last=info.row_count) if key_columns else []
        key_span = (key_wanted[0][0], key_wanted[-1][1]) if key_wanted else None
        key_runs = number_runs(c for c in key_columns if c < width)
        shown_ranges = [a1_block(title, header_row, 1, header_row, width)]
        shown_ranges += [a1_block(title, lo, 1, hi, width) for lo, hi in spans]
        raw_ranges = [a1_block(title, lo, c0 + 1, hi, c1 + 1) for lo, hi in spans for c0, c1 in raw_runs]
        key_ranges = (
            [a1_block(title, key_span[0], c0 + 1, key_span[1], c1 + 1) for c0, c1 in key_runs]
            if key_span
            else []
        )
        return _Asked(
            header_row=header_row,
            wanted=wanted,
            spans=spans,
            raw_columns=raw_columns,
            raw_runs=raw_runs,
            key_wanted=key_wanted,
            key_span=key_span,
            key_runs=key_runs,
            shown_ranges=shown_ranges,
            raw_ranges=raw_ranges,
            key_ranges=key_ranges,
        )

    def _fetched(self, asked: _Asked) -> _Answers:
        """Google's answers to ``asked``: what the rows show, decoded, and their raw values, not yet."""
        # The two renders are independent: ask for both at once, so a step waits for Google once. Each
        # answer is decoded in its turn, and let go row by row as it is read: a tall sheet's two answers,
        # decoded at once, would hold every cell three times.
        shown_params = {"valueRenderOption": "FORMATTED_VALUE"}
        raw_params = {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER"}
        raw_asked = asked.raw_ranges + asked.key_ranges
        with ThreadPoolExecutor(max_workers=1) as other:
            shown = other.submit(self._ask, asked.shown_ranges + asked.key_ranges, shown_params)
            raw_answer = self._ask(raw_asked, raw_params) if raw_asked else None
            shown_answer = shown.result()
        # A number shown in scientific notation (1.23E+15) needs its digits: none can be where Google's
        # answer has no "E+" at all, and a look at its bytes is cheaper than one at every cell.
        scientific = b"E+" in shown_answer.content
        formatted = self._values(shown_answer, asked.shown_ranges + asked.key_ranges)
        return _Answers(formatted, raw_answer, scientific=scientific)

    def _built(
        self,
        asked: _Asked,
        answers: _Answers,
        *,
        whole: Callable[[Selection], Collection[int]] | None,
        key_columns: Sequence[int],
    ) -> Selection:
        """The :class:`Selection` of Google's ``answers`` to ``asked`` (the rest of :meth:`read`)."""
        info = self.info
        header_row, wanted, spans = asked.header_row, asked.wanted, asked.spans
        raw_columns, raw_runs = asked.raw_columns, asked.raw_runs
        raw_ranges, key_ranges = asked.raw_ranges, asked.key_ranges
        key_wanted, key_span, key_runs = asked.key_wanted, asked.key_span, asked.key_runs
        formatted, raw_answer, scientific = answers.formatted, answers.raw, answers.scientific
        answers.formatted, answers.raw = [], None  # let go as they are read
        header_cells = _trimmed(formatted[0][0] if formatted[0] else [])
        headers = tuple(header_cells)
        status_columns = find_status_columns(headers)
        status_indexes = set(status_columns.values())
        n = len(headers)
        used_width = len(headers)
        status_at = [status_columns.get(name, -1) for name in STATUS_COLUMNS] if status_columns else []
        status_cells = _picker(status_at) if status_at and min(status_at) >= 0 else None

        # What the rows show, first.
        # every row of a span is selected, unless the spans were merged into one (gaps read, not kept)
        selected = None if spans is wanted else {row for lo, hi in wanted for row in range(lo, hi + 1)}
        user_columns = [i for i in range(n) if i not in status_indexes]
        blanks = ("",) * n
        first_user = user_columns[0] if user_columns else n
        shown_rows: list[tuple[int, int, int, tuple[str, ...]]] = []  # (row, span, offset, cells to n)
        empty: list[int] = []
        previous: dict[int, PreviousStatus] = {}
        answered_through = _answered_through(spans, formatted[1 : 1 + len(spans)])
        for s, ((lo, hi), shown) in enumerate(zip(spans, formatted[1 : 1 + len(spans)], strict=True)):
            for offset in range(min(hi - lo + 1, len(shown))):
                number = lo + offset
                if selected is not None and number not in selected:
                    continue
                cells = tuple(map(str, shown[offset]))
                shown[offset] = _READ
                used = len(cells)
                while used and not cells[used - 1].strip():
                    used -= 1
                used_width = max(used_width, used)
                # the last cell with anything in it is the user's, or else the user's cells are looked at
                # (the first of them most often holds something)
                if not used or (
                    used - 1 in status_indexes
                    and not (first_user < used and cells[first_user].strip())
                    and not any(cells[i].strip() for i in user_columns if i < used)
                ):
                    empty.append(number)
                    continue
                padded = (
                    cells
                    if len(cells) == n
                    else cells[:n]
                    if len(cells) > n
                    else cells + blanks[len(cells) :]
                )
                shown_rows.append((number, s, offset, padded))
                if status_at:
                    status, message, time, fingerprint = (
                        status_cells(padded)
                        if status_cells is not None
                        else (padded[i] if i >= 0 else "" for i in status_at)
                    )
                    if status or message or time or fingerprint:
                        previous[number] = PreviousStatus(status, message, time, fingerprint)
            for offset in range(len(shown), hi - lo + 1):
                if selected is None or lo + offset in selected:
                    empty.append(lo + offset)  # past the last row Google answered: nothing in it
        empty.sort()
        key_shown = formatted[1 + len(spans) :]
        del formatted
        whole_raw = raw_columns is None
        kept: Collection[int] | None = None
        # A key cell shown in scientific notation may need its digits asked for: then every row is whole.
        if whole is not None and (whole_raw or not scientific or set(key_columns) <= set(raw_columns or ())):
            # the rows as shown, their shown values standing in for the raw ones (not read yet)
            as_shown = tuple(SheetRow(number, padded, padded) for number, _, _, padded in shown_rows)
            kept = set(
                whole(
                    Selection(
                        info=info,
                        header_row=header_row,
                        headers=headers,
                        status_columns=status_columns,
                        rows=as_shown,
                        empty_rows=(),
                        previous=previous,
                    )
                )
            )
            del as_shown
        picked = tuple(c for c in key_columns if c < n)
        pick_keys = _picker(picked)
        # where each key column's raw value is in the raw answer's blocks: (column, run, offset in the run)
        places = [(c, *_raw_place(raw_runs, c)) for c in picked]

        # Then their raw values: a raw value equal to what is shown (most text) shares its string.
        raw = self._values(raw_answer, raw_ranges + key_ranges) if raw_answer is not None else []
        del raw_answer
        raw_blocks = raw[: len(raw_ranges)]
        runs = len(raw_runs)
        rows: list[SheetRow] = []
        left: list[SheetRow] = []
        for number, s, offset, padded in shown_rows:
            if kept is not None and number not in kept:
                # not kept whole: its key cells alone, as Selection.narrowed keeps them
                key_cells = pick_keys(padded)
                if not any(map(str.strip, key_cells)):
                    continue
                key_values: list[object] = []
                for c, run, at in places:
                    cell = padded[c]
                    if run < 0:  # a column not read raw keeps what it shows
                        key_values.append(cell)
                        continue
                    block = raw_blocks[s * runs + run]
                    values = block[offset] if offset < len(block) else ()
                    key_values.append(
                        _shared(cell, values[at]) if at < len(values) else ("" if whole_raw else cell)
                    )
                left.append(SheetRow(number, key_cells, tuple(key_values)))
                continue
            if not raw_runs:
                rows.append(SheetRow(number, padded, padded))
                continue
            if not whole_raw:
                # the columns not read raw keep what they show; of the others, only what differs
                raws: list[object] = list(padded)
                for (c0, _), block in zip(
                    raw_runs, raw_blocks[s * len(raw_runs) : (s + 1) * len(raw_runs)], strict=True
                ):
                    if offset < len(block):
                        for c, value in enumerate(block[offset][: max(0, n - c0)], start=c0):
                            if value != padded[c]:
                                raws[c] = value
                        block[offset] = _READ
                rows.append(SheetRow(number, padded, tuple(raws)))
                continue
            raws = []
            block = raw_blocks[s] if s < len(raw_blocks) else []
            if offset < len(block):
                raws = block[offset]
                block[offset] = _READ
            if len(raws) != n:
                raws = raws[:n] if len(raws) > n else [*raws, *[""] * (n - len(raws))]
            rows.append(SheetRow(number, padded, tuple(map(_shared, padded, raws))))
        del shown_rows
        if not whole_raw and rows and scientific:
            rows = self._with_digits(rows, spans, raw_columns or (), status_indexes, n)
        key_rows = (
            _key_rows(key_wanted, key_span, key_runs, key_shown, raw[len(raw_ranges) :]) if key_span else ()
        )
        if kept is not None:
            previous = {number: p for number, p in previous.items() if number in kept}
            key_rows = tuple(sorted((*key_rows, *left), key=_number)) if key_rows else tuple(left)
        return Selection(
            info=info,
            header_row=header_row,
            headers=headers,
            status_columns=status_columns,
            rows=tuple(rows),
            empty_rows=tuple(empty),
            previous=previous,
            used_width=used_width,
            keys=key_rows,
            answered_through=answered_through,
            key_columns=picked
            if kept is not None
            else tuple(c for c0, c1 in key_runs for c in range(c0, c1 + 1)),
        )

    def _with_digits(
        self,
        rows: list[SheetRow],
        spans: Sequence[tuple[int, int]],
        raw_columns: Collection[int],
        status_indexes: Collection[int],
        width: int,
    ) -> list[SheetRow]:
        """Rows whose cells show a number in scientific notation (1.23E+15) in a column read as shown,
        with that column's raw values (the digits typed) asked for: one more call, only then."""
        plain = [c for c in range(width) if c not in raw_columns and c not in status_indexes]
        columns = sorted(
            {
                c
                for row in rows
                for c in plain
                if "E+" in row.formatted[c] and _SCIENTIFIC.fullmatch(row.formatted[c])
            }
        )
        if not columns:
            return rows
        title = self.info.sheet_title
        runs = number_runs(columns)
        ranges = [a1_block(title, lo, c0 + 1, hi, c1 + 1) for lo, hi in spans for c0, c1 in runs]
        blocks = self._batch_get(
            ranges, {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER"}
        )
        digits: dict[tuple[int, int], object] = {}
        for i, (lo, _) in enumerate(spans):
            for (c0, _), block in zip(runs, blocks[i * len(runs) : (i + 1) * len(runs)], strict=True):
                for offset, values in enumerate(block):
                    for j, value in enumerate(values):
                        if c0 + j in columns:
                            digits[(lo + offset, c0 + j)] = value
        fixed = []
        for row in rows:
            if any((row.number, c) in digits for c in columns):
                raw = list(row.raw)
                for c in columns:
                    raw[c] = digits.get((row.number, c), raw[c])
                fixed.append(SheetRow(row.number, row.formatted, tuple(raw)))
            else:
                fixed.append(row)
        return fixed

    def _batch_get(self, ranges: list[str], params: dict[str, Any]) -> list[list[list[Any]]]:
        """The values of each range, in order (an empty list for a range with nothing in it).

        One ``values:batchGet``, or one ``values:batchGetByDataFilter`` when the GET's URL would be
        longer than :data:`MAX_URL_BYTES`.
        """
        return self._values(self._ask(ranges, params), ranges)

    def _ask(self, ranges: list[str], params: dict[str, Any]) -> requests.Response:
        """Google's answer to one read of ``ranges``, not decoded yet."""
        spreadsheet_id = self.info.spreadsheet_id
        if batch_get_url_bytes(spreadsheet_id, ranges, params) > MAX_URL_BYTES:
            body = {"dataFilters": [{"a1Range": r} for r in ranges], **params}
            return self._http.request("post", _BATCH_GET_BY_DATA_FILTER_URL % spreadsheet_id, json=body)
        url = SPREADSHEET_VALUES_BATCH_URL % spreadsheet_id
        return self._http.request("get", url, params={**params, "ranges": ranges})

    def _values(self, response: requests.Response, ranges: list[str]) -> list[list[list[Any]]]:
        """The values of each range from an answer of ``_ask``, checked."""
        if response.request is not None and response.request.method == "POST":
            return matched_values(ranges, _decoded(response))
        answer = _decoded(response)
        value_ranges = answer.get("valueRanges", []) if isinstance(answer, dict) else []
        if not isinstance(value_ranges, list):
            value_ranges = []
        if len(value_ranges) != len(ranges):
            raise SheetError(
                N_(
                    "Google Sheets answered {#got} ranges for the {#asked} asked; try again.",
                    got=len(value_ranges),
                    asked=len(ranges),
                )
            )
        values = [vr.get("values", []) if isinstance(vr, dict) else None for vr in value_ranges]
        if not all(isinstance(v, list) for v in values):
            raise SheetError(
                N_("Google Sheets gave an answer the function cannot read for the rows; try again.")
            )
        return values  # type: ignore[return-value]

    # --------------------------------------------------------------------------------------- write

    def rows_now(self, selection: Selection, *, key_column: int) -> RowsNow:
        """The header row and the key column as they are now, in one call: what :meth:`write` reads
        first (it may be read while the statuses are being made)."""
        info = self.info
        width = max(info.column_count, 1)
        header_range = a1_block(info.sheet_title, selection.header_row, 1, selection.header_row, width)
        key_range = a1_column(info.sheet_title, key_column + 1)
        header_values, key_values = self._batch_get(
            [header_range, key_range], {"valueRenderOption": "FORMATTED_VALUE"}
        )
        return header_values, key_values

    def write(
        self,
        selection: Selection,
        statuses: Sequence[StatusUpdate],
        *,
        key_column: int,
        as_now: RowsNow | None = None,
    ) -> WriteReport:
        """Write each status on the row it belongs to, in one read and one write call.

        ``key_column`` is the 0-based index of the key (phone number) column. The header row and
        that column are read again first (``as_now``, when :meth:`rows_now` was read already): a row
        whose key cell changed since it was read (the sheet was sorted, rows were inserted) is written
        where its key now is, if exactly one row holds it, and reported lost otherwise. Missing status
        columns are added to the right of the user's columns. Values are written RAW, so a message
        starting with "=" stays text.
        """
        if key_column < 0 or key_column in selection.status_columns.values():
            raise ValueError(f"key_column {key_column} is not one of the user's columns")
        if not statuses:
            return WriteReport(written=(), moved={}, lost=())
        info = self.info
        header_values, key_values = as_now or self.rows_now(selection, key_column=key_column)

        headers = _trimmed(header_values[0] if header_values else [])
        columns, missing = status_column_places(headers, selection.used_width)
        needed = max(columns.values()) + 1
        status_column = columns[STATUS_COLUMNS[0]]
        view = self._prepare_columns(
            append=max(0, needed - info.column_count),
            status_column=status_column,
            header_row=selection.header_row,
            width=needed,
        )

        # key_values[i] is row i + 1: the whole-column range starts at row 1.
        now = [str(r[0]) if r else "" for r in key_values]
        rows_by_key: dict[str, list[int]] = defaultdict(list)
        for index, value in enumerate(now):
            if index + 1 > selection.header_row:
                rows_by_key[value].append(index + 1)

        def key_at(row: int) -> str:
            return now[row - 1] if row - 1 < len(now) else ""

        targets: dict[int, StatusUpdate] = {}
        moved: dict[int, int] = {}
        lost: list[int] = []
        stray: list[StatusUpdate] = []
        for update in statuses:
            if key_at(update.row) == update.key and update.row not in targets:
                targets[update.row] = update
            else:
                stray.append(update)
        for update in stray:
            found = rows_by_key.get(update.key, []) if update.key.strip() else []
            if len(found) == 1 and found[0] not in targets:
                targets[found[0]] = update
                moved[update.row] = found[0]
            else:
                lost.append(update.row)

        data = self._status_ranges(columns, targets)
        if missing:
            first = columns[missing[0]]
            data.insert(
                0,
                {
                    "range": a1_block(
                        info.sheet_title,
                        selection.header_row,
                        first + 1,
                        selection.header_row,
                        first + len(missing),
                    ),
                    "values": [list(missing)],
                },
            )
        if data:
            # tens of thousands of cells: orjson writes the body that json.dumps would, five times faster
            body = orjson.dumps({"valueInputOption": "RAW", "data": data})
            del data
            self._http.request(
                "post",
                SPREADSHEET_VALUES_BATCH_UPDATE_URL % info.spreadsheet_id,
                data=body,
                headers={"Content-Type": "application/json"},
            )
        return WriteReport(
            written=tuple(sorted(targets)),
            moved=moved,
            lost=tuple(sorted(lost)),
            columns_added=tuple(missing),
            problem_rows_view=view,
        )

    def _prepare_columns(self, *, append: int, status_column: int, header_row: int, width: int) -> int | None:
        """In one ``spreadsheets.batchUpdate``, and only when something is missing: the columns the
        status columns need past the grid, the status column's colours, and the tab's filter view of
        problem rows. Returns the filter view's id (None when Google did not say it)."""
        info = self.info
        requests: list[dict[str, Any]] = []
        if append:
            requests.append(
                {"appendDimension": {"sheetId": info.gid, "dimension": "COLUMNS", "length": append}}
            )
        if status_column not in info.coloured_columns:
            requests += status_colour_rules(info.gid, status_column, header_row)
        if info.problem_rows_view is None:
            requests.append(problem_rows_filter_view(info.gid, status_column, header_row, width))
        if not requests:
            return info.problem_rows_view
        answer = self._http.batch_update(info.spreadsheet_id, {"requests": requests})
        view = info.problem_rows_view
        for reply in answer.get("replies", []) if isinstance(answer, dict) else []:
            made = reply.get("addFilterView", {}).get("filter", {}) if isinstance(reply, dict) else {}
            if isinstance(made.get("filterViewId"), int):
                view = made["filterViewId"]
        self.info = replace(
            info,
            column_count=info.column_count + append,
            coloured_columns=info.coloured_columns | {status_column},
            problem_rows_view=view,
        )
        return view

    def _status_ranges(
        self, columns: Mapping[str, int], targets: Mapping[int, StatusUpdate]
    ) -> list[dict[str, Any]]:
        """Value ranges for every target row: one block per run of adjacent rows and adjacent columns."""
        field_of = {
            STATUS_COLUMNS[0]: lambda u: u.status,
            STATUS_COLUMNS[1]: lambda u: u.message,
            STATUS_COLUMNS[2]: lambda u: u.time,
            STATUS_COLUMNS[3]: lambda u: u.fingerprint,
        }
        by_index = {index: field_of[name] for name, index in columns.items()}
        data: list[dict[str, Any]] = []
        for col_lo, col_hi in number_runs(by_index):
            getters = [by_index[c] for c in range(col_lo, col_hi + 1)]
            for row_lo, row_hi in number_runs(targets):
                values = [[_cell(get(targets[r])) for get in getters] for r in range(row_lo, row_hi + 1)]
                data.append(
                    {
                        "range": a1_block(self.info.sheet_title, row_lo, col_lo + 1, row_hi, col_hi + 1),
                        "values": values,
                    }
                )
        return data


def _cell(value: object) -> str:
    """A status value as written: below Google's limit on a cell, which counts UTF-16 code units."""
    text = str(value)
    if len(text) < MAX_CELL_CHARS // 2:  # even if every character took two units
        return text
    units = text.encode("utf-16-le")
    if len(units) // 2 < MAX_CELL_CHARS:
        return text
    # Room for the ellipsis; a character cut in half at the end is dropped.
    return units[: 2 * (MAX_CELL_CHARS - 2)].decode("utf-16-le", errors="ignore") + "…"
