"""The CallMarker client: sends upload items in batches and gives every row an outcome.

Errors (mostly carried in the report, because a job must end with an outcome per row)::

    CallMarkerError                 the root
    ├── CallMarkerRequestError      CallMarker refused the request itself (token, campaign, agent...)
    └── CallMarkerUnavailable       no usable answer after the retries (network, timeouts, 5xx, junk)

Only programming errors raise (an empty token, a batch size of zero): ``ValueError``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from callmarker_sheets.model import Outcome, RequestOptions, RowResult, UploadItem
from callmarker_sheets.redaction import redact_secrets
from callmarker_sheets.retry import RETRYABLE_STATUS, RetryPolicy, parse_retry_after

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_SPLIT_REQUESTS",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUT",
    "CallMarkerClient",
    "CallMarkerError",
    "CallMarkerRequestError",
    "CallMarkerUnavailable",
    "Counts",
    "UploadReport",
    "parse_counts",
]

DEFAULT_BASE_URL = "https://app.callmarker.com/api/v1"
DEFAULT_TIMEOUT = 30.0
DEFAULT_BATCH_SIZE = 500
DEFAULT_CONCURRENCY = 4
DEFAULT_RETRY = RetryPolicy()
#: Extra requests one upload may spend on finding the rows CallMarker refused inside a batch.
DEFAULT_MAX_SPLIT_REQUESTS = 200

logger = logging.getLogger(__name__)

_REDACTED = "[redacted]"
# Words that mark a refusal of the request as a whole, not of one of its customers.
_REQUEST_LEVEL_WORDS = ("token", "campaign", "agent")
# The emulator (and plausibly CallMarker) names the failing customer: "customers[3].followup_date: ...".
_CUSTOMER_INDEX = re.compile(r"customers\[(\d+)\]\.?")
# A count is a number followed by words ending in its label ("2 new customers were created"), or the
# label followed by ":" or "=" and a number; punctuation between them ends the match, so the number of
# one count is never read as another's.
_COUNT = r"(?:(\d+)[^\W\d]*(?:\s+[^\W\d]+)*?\s+{label}\b|\b{label}\s*[:=]\s*(\d+))"
_CREATED = re.compile(_COUNT.format(label="created"), re.IGNORECASE)
_RESTORED = re.compile(_COUNT.format(label="restored"), re.IGNORECASE)
_NOT_VALID = re.compile(_COUNT.format(label=r"not[\s_-]*valid"), re.IGNORECASE)
# Runs of digits long enough to be (part of) a phone number: masked in log records.
_PHONE_LIKE = re.compile(r"\+?\d[\d\s-]{4,}\d")


class CallMarkerError(Exception):
    """Something CallMarker (or the way to it) did; ``message`` is fit to show a user."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r})"

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, CallMarkerError)
            and (other.message, other.status_code) == (self.message, self.status_code)
        )

    def __hash__(self) -> int:
        return hash((type(self), self.message, self.status_code))


class CallMarkerRequestError(CallMarkerError):
    """CallMarker refused the request as a whole: every request like it would fail the same way."""


class CallMarkerUnavailable(CallMarkerError):
    """No usable answer after the retries: the rows are not confirmed and safe to send again."""


@dataclass(frozen=True, slots=True)
class Counts:
    """The three counts of CallMarker's success message; None where the message did not say."""

    created: int | None = None
    restored: int | None = None
    not_valid: int | None = None


def parse_counts(message: str) -> Counts:
    """Read "There are 2 new customers were created, 0 were restored and 0 were not valid." tolerantly."""

    def find(pattern: re.Pattern[str]) -> int | None:
        match = pattern.search(message)
        return int(match.group(1) or match.group(2)) if match else None

    return Counts(find(_CREATED), find(_RESTORED), find(_NOT_VALID))


@dataclass(slots=True)
class UploadReport:
    """What one ``upload`` call did.

    ``results`` holds one result per row that got an outcome, ``unsent`` the rows that did not (never
    started because of the deadline or a request-level error): together they hold every item once.
    The counts are summed as CallMarker reported them, each request's counts once (a batch re-sent to
    find its not-valid rows is not counted again).
    """

    results: list[RowResult] = field(default_factory=list)
    unsent: list[UploadItem] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    split_requests: int = 0
    created: int = 0
    restored: int = 0
    not_valid: int = 0
    fatal: CallMarkerRequestError | None = None
    #: The last time CallMarker could not be reached or gave no usable answer after the retries.
    unavailable: CallMarkerUnavailable | None = None


# What one request (with its retries) came to. Private: the report is the public face.
@dataclass(frozen=True, slots=True)
class _Answer:
    success: bool
    message: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Refused:
    error: CallMarkerRequestError


@dataclass(frozen=True, slots=True)
class _Unavailable:
    error: CallMarkerUnavailable
    # True when our own time limit, not CallMarker, cut the request short.
    cut_by_us: bool = False


@dataclass(frozen=True, slots=True)
class _TooLarge:
    pass


@dataclass(frozen=True, slots=True)
class _NotStarted:
    over_budget: bool


_Result = _Answer | _Refused | _Unavailable | _TooLarge | _NotStarted


@dataclass(frozen=True, slots=True)
class _Fallback:
    """The outcome for rows a split could not resolve within the split budget."""

    outcome: Outcome
    message: str


@dataclass(slots=True)
class _Job:
    report: UploadReport
    batch_size: int
    deadline: float | None
    # Requests still running then are abandoned (their rows end FAILED: not confirmed, safe to retry).
    hard_deadline: float | None = None
    # The slowest request so far: a new one is not started unless this much time is left.
    longest: float = 0.0

    @property
    def stopped(self) -> bool:
        return self.report.fatal is not None

    def finish(self, items: Sequence[UploadItem], outcome: Outcome, message: str) -> None:
        self.report.results.extend(RowResult(item.row, outcome, message) for item in items)


class CallMarkerClient:
    """Uploads customers to CallMarker's ``POST {base_url}/customers``.

    One ``httpx.AsyncClient`` per ``upload`` call; ``transport`` is passed to it (tests give the
    emulator's in-process transport or an ``httpx.MockTransport``). ``sleep`` and ``clock`` are the
    seams for waiting and for the deadline.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        batch_size: int = DEFAULT_BATCH_SIZE,
        concurrency: int = DEFAULT_CONCURRENCY,
        retry: RetryPolicy = DEFAULT_RETRY,
        max_split_requests: int = DEFAULT_MAX_SPLIT_REQUESTS,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(token, str) or not token.strip():
            raise ValueError("the CallMarker token is empty")
        if not base_url or not base_url.strip():
            raise ValueError("the CallMarker base URL is empty")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if max_split_requests < 0:
            raise ValueError("max_split_requests must not be negative")
        self.base_url = base_url.strip().rstrip("/")
        self.timeout = timeout
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.retry = retry
        self.max_split_requests = max_split_requests
        self._token = token
        self._transport = transport
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:
        return f"CallMarkerClient({self.base_url!r}, token={_REDACTED!r})"

    @property
    def url(self) -> str:
        return f"{self.base_url}/customers"

    async def upload(
        self,
        items: Iterable[UploadItem],
        *,
        deadline: float | None = None,
        hard_deadline: float | None = None,
    ) -> UploadReport:
        """Send ``items`` and return an outcome for each one sent.

        ``items`` may be a generator: batches are cut as workers ask for them, so producing the items
        (validating rows) overlaps with the first requests instead of delaying them.
        ``deadline`` (a ``clock()`` value): no request or retry is started that would not end by then.
        ``hard_deadline``: a request still running then is given up (its rows end FAILED).
        """
        report = UploadReport()
        job = _Job(report, self.batch_size, deadline, hard_deadline)
        feed = _Feed(items, self.batch_size)
        if feed.any():
            # httpx's per-phase timeouts (5 s by default) must not cut a request shorter than ours.
            http_client = httpx.AsyncClient(transport=self._transport, timeout=self.timeout)
            async with http_client as http, asyncio.TaskGroup() as workers:
                for _ in range(self.concurrency):
                    workers.create_task(self._work(job, http, feed))
        report.unsent.extend(feed.rest())
        logger.info(
            "CallMarker upload: %d rows, %d unsent, %d requests, %d retries, %d split requests",
            len(report.results),
            len(report.unsent),
            report.requests,
            report.retries,
            report.split_requests,
            extra={
                "rows": len(report.results),
                "unsent": len(report.unsent),
                "requests": report.requests,
                "retries": report.retries,
                "split_requests": report.split_requests,
                "fatal": _PHONE_LIKE.sub("***", report.fatal.message) if report.fatal else None,
            },
        )
        return report

    async def _work(self, job: _Job, http: httpx.AsyncClient, feed: _Feed) -> None:
        while not job.stopped and self._has_time(job):
            batch = feed.next()
            if batch is None:
                return
            options, items = batch
            # The batch size may have dropped (a 413) since this batch was cut.
            if len(items) > job.batch_size:
                feed.put_back(options, items[job.batch_size :])
                items = items[: job.batch_size]
            await self._run(job, http, options, items, split=False, counted=True, fallback=None)

    def _has_time(self, job: _Job, wait: float = 0.0) -> bool:
        return job.deadline is None or self._clock() + wait + job.longest < job.deadline

    async def _run(
        self,
        job: _Job,
        http: httpx.AsyncClient,
        options: RequestOptions,
        items: list[UploadItem],
        *,
        split: bool,
        counted: bool,
        fallback: _Fallback | None,
    ) -> None:
        if not split and len(items) > job.batch_size:
            # The batch size dropped (a 413) after this part was cut.
            for start in range(0, len(items), job.batch_size):
                part = items[start : start + job.batch_size]
                await self._run(job, http, options, part, split=False, counted=counted, fallback=fallback)
            return
        result = await self._post(job, http, options, items, split=split)
        await self._handle(job, http, options, items, result, counted=counted, fallback=fallback)

    async def _handle(
        self,
        job: _Job,
        http: httpx.AsyncClient,
        options: RequestOptions,
        items: list[UploadItem],
        result: _Result,
        *,
        counted: bool,
        fallback: _Fallback | None,
    ) -> None:
        """Give every item of one request an outcome from its answer, splitting when needed."""
        match result:
            case _NotStarted(over_budget=True) if fallback is not None:
                job.finish(items, fallback.outcome, fallback.message)
            case _NotStarted():
                job.report.unsent.extend(items)
            case _Refused(error):
                if job.report.fatal is None:
                    job.report.fatal = error
                job.finish(items, Outcome.REJECTED, f"CallMarker refused the request: {error.message}")
            case _Unavailable(error, cut_by_us):
                if not cut_by_us:
                    job.report.unavailable = error
                job.finish(items, Outcome.FAILED, error.message)
            case _TooLarge():
                if len(items) == 1:
                    job.finish(items, Outcome.REJECTED, "CallMarker refused the row as too large (HTTP 413)")
                    return
                job.batch_size = max(1, min(job.batch_size, len(items) // 2))
                left, right = _halves(items)
                for half in (left, right):
                    await self._run(job, http, options, half, split=False, counted=counted, fallback=fallback)
            case _Answer(success=True) as answer:
                await self._accepted(job, http, options, items, answer, counted=counted)
            case _Answer(success=False) as answer:
                await self._refused(job, http, options, items, answer, counted=counted)

    async def _accepted(
        self,
        job: _Job,
        http: httpx.AsyncClient,
        options: RequestOptions,
        items: list[UploadItem],
        answer: _Answer,
        *,
        counted: bool,
    ) -> None:
        counts = parse_counts(answer.message)
        if counted:
            job.report.created += counts.created or 0
            job.report.restored += counts.restored or 0
            job.report.not_valid += counts.not_valid or 0
        not_valid = counts.not_valid or 0
        if not_valid <= 0:
            job.finish(items, Outcome.UPLOADED, answer.message)
            return
        if not_valid >= len(items):
            _reject_not_valid(job, items)
            return
        named = _named_numbers(answer.data)
        matched = [item for item in items if _digits(item.customer.get("number")) in named]
        if len({_digits(item.customer.get("number")) for item in matched}) == not_valid:
            for item in matched:
                reason = self._redact(named[_digits(item.customer.get("number"))] or "not valid")
                job.finish(
                    [item],
                    Outcome.REJECTED,
                    f"CallMarker did not accept the number {item.customer.get('number')} ({reason})",
                )
            rejected = {id(item) for item in matched}
            accepted = [item for item in items if id(item) not in rejected]
            job.finish(accepted, Outcome.UPLOADED, answer.message)
            return
        await self._find_not_valid(job, http, options, items, not_valid=not_valid, message=answer.message)

    async def _find_not_valid(
        self,
        job: _Job,
        http: httpx.AsyncClient,
        options: RequestOptions,
        items: list[UploadItem],
        *,
        not_valid: int,
        message: str,
    ) -> None:
        """Re-send halves of an accepted batch until its ``not_valid`` customers are isolated."""
        fallback = _Fallback(
            Outcome.FAILED,
            f"CallMarker accepted the batch but counted {not_valid} of its numbers as not valid without "
            "naming them; not confirmed for this row, safe to retry",
        )
        left, right = _halves(items)
        first = await self._post(job, http, options, left, split=True)
        await self._handle(job, http, options, left, first, counted=False, fallback=fallback)
        if isinstance(first, _Answer) and first.success:
            remaining = not_valid - (parse_counts(first.message).not_valid or 0)
            # The first half accounts for part of the count: the rest is known without asking again.
            if remaining <= 0:
                job.finish(right, Outcome.UPLOADED, message)
                return
            if remaining >= len(right):
                _reject_not_valid(job, right)
                return
        await self._run(job, http, options, right, split=True, counted=False, fallback=fallback)

    async def _refused(
        self,
        job: _Job,
        http: httpx.AsyncClient,
        options: RequestOptions,
        items: list[UploadItem],
        answer: _Answer,
        *,
        counted: bool,
    ) -> None:
        message = answer.message
        index = _customer_index(message)
        if index is None and _names_the_request(message):
            error = CallMarkerRequestError(message)
            await self._handle(job, http, options, items, _Refused(error), counted=counted, fallback=None)
            return
        if len(items) == 1:
            job.finish(items, Outcome.REJECTED, _CUSTOMER_INDEX.sub("", message, count=1))
            return
        fallback = _Fallback(Outcome.REJECTED, message)
        if index is not None and index < len(items):
            # CallMarker named the customer: send it alone (which confirms the name) and the rest together.
            suspect, rest = [items[index]], items[:index] + items[index + 1 :]
            for part in (suspect, rest):
                await self._run(job, http, options, part, split=True, counted=counted, fallback=fallback)
            return
        parts = list(_halves(items))
        answers = [await self._post(job, http, options, part, split=True) for part in parts]
        if _alike(answers) and all(len(part) >= 2 for part in parts):
            # Two rows refused for the same reason can fail both halves alike; a refusal of the request
            # itself fails every quarter too.
            parts = [quarter for part in parts for quarter in _halves(part)]
            answers = [await self._post(job, http, options, part, split=True) for part in parts]
            if _alike(answers):
                assert isinstance(answers[0], _Answer)
                error = CallMarkerRequestError(answers[0].message)
                await self._handle(job, http, options, items, _Refused(error), counted=counted, fallback=None)
                return
        for part, result in zip(parts, answers, strict=True):
            await self._handle(job, http, options, part, result, counted=counted, fallback=fallback)

    async def _post(
        self,
        job: _Job,
        http: httpx.AsyncClient,
        options: RequestOptions,
        items: list[UploadItem],
        *,
        split: bool,
    ) -> _Result:
        """One request with its retries. Never raises for what CallMarker or the network does."""
        if job.stopped or not self._has_time(job):
            return _NotStarted(over_budget=False)
        if split:
            if job.report.split_requests >= self.max_split_requests:
                return _NotStarted(over_budget=True)
            job.report.split_requests += 1
        body = {"token": self._token, **options.to_json(), "customers": [item.customer for item in items]}
        attempt = 0
        while True:
            attempt += 1
            job.report.requests += 1
            if attempt > 1:
                job.report.retries += 1
            limit = self.timeout
            if job.hard_deadline is not None:
                limit = max(0.001, min(limit, job.hard_deadline - self._clock()))
            started = self._clock()
            status: int | None = None
            retry_after: float | None = None
            outcome: _Result | None = None
            cut_short = False
            try:
                async with asyncio.timeout(limit):
                    response = await http.post(self.url, json=body)
            except TimeoutError:
                problem = f"no answer within {limit:g} s"
                cut_short = limit < self.timeout
            except httpx.TransportError as exc:
                problem = f"connection failed ({type(exc).__name__})"
            else:
                status = response.status_code
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                outcome, problem = self._classify(response)
            duration = self._clock() - started
            job.longest = max(job.longest, duration)
            self._log(
                items,
                attempt=attempt,
                status=status,
                duration=duration,
                outcome=outcome,
                problem=problem,
                split=split,
            )
            if outcome is not None:
                return outcome
            wait = self.retry.delay(attempt, retry_after)
            if not self.retry.should_retry(attempt, retry_after):
                why = f"after {attempt} attempt{'s' if attempt > 1 else ''}"
            elif job.stopped:
                why = "the job stopped"
            elif not self._has_time(job, wait):
                why = "no time left to retry in this step"
            else:
                await self._sleep(wait)
                continue
            return _Unavailable(
                CallMarkerUnavailable(
                    f"Not confirmed by CallMarker ({problem}, {why}); safe to retry",
                    status_code=status,
                ),
                cut_by_us=cut_short,
            )

    def _classify(self, response: httpx.Response) -> tuple[_Result | None, str]:
        """The answer of one response, or None and what went wrong when it is worth another try."""
        status = response.status_code
        data = _json_object(response)
        message = self._redact(str(data.get("message", ""))) if data is not None else ""
        if status in (401, 403):
            text = message or f"HTTP {status}"
            return _Refused(CallMarkerRequestError(text, status_code=status)), ""
        if status == 413:
            return _TooLarge(), ""
        if status in RETRYABLE_STATUS or status >= 500:
            return None, f"HTTP {status}"
        if data is None or not isinstance(data.get("success"), bool):
            if 200 <= status < 300:
                return None, f"HTTP {status} with an unreadable body"
            # A 404 or a redirect without CallMarker's JSON: most likely a wrong base URL.
            error = CallMarkerRequestError(f"CallMarker answered HTTP {status}", status_code=status)
            return _Refused(error), ""
        return _Answer(data["success"], message, data), ""

    def _redact(self, text: str) -> str:
        return redact_secrets(text, (self._token,))

    def _log(
        self,
        items: list[UploadItem],
        *,
        attempt: int,
        status: int | None,
        duration: float,
        outcome: _Result | None,
        problem: str,
        split: bool,
    ) -> None:
        match outcome:
            case _Answer(success=success, message=message):
                what, text = ("accepted" if success else "refused"), message
            case _Refused(error):
                what, text = "refused the request", error.message
            case _TooLarge():
                what, text = "too large", ""
            case _:
                what, text = "no usable answer", problem
        counts = parse_counts(text) if isinstance(outcome, _Answer) else Counts()
        level = logging.INFO if isinstance(outcome, _Answer) and outcome.success else logging.WARNING
        masked = _PHONE_LIKE.sub("***", self._redact(text))
        logger.log(
            level,
            "CallMarker request: %d customers, attempt %d, HTTP %s, %.3f s, %s: %s",
            len(items),
            attempt,
            status if status is not None else "-",
            duration,
            what,
            masked,
            extra={
                "customers": len(items),
                "attempt": attempt,
                "http_status": status,
                "duration": round(duration, 3),
                "split": split,
                "result": what,
                "counts": {
                    "created": counts.created,
                    "restored": counts.restored,
                    "not_valid": counts.not_valid,
                },
            },
        )


class _Feed:
    """Batches of items with equal request options, cut in the items' order as workers ask for them.

    A batch is handed out as soon as its group has ``batch_size`` items (or the items end), so a
    generator of items is consumed only as fast as requests go out.
    """

    def __init__(self, items: Iterable[UploadItem], batch_size: int) -> None:
        self._items: Iterator[UploadItem] = iter(items)
        self._size = batch_size
        self._open: dict[RequestOptions, list[UploadItem]] = {}
        self._ready: deque[tuple[RequestOptions, list[UploadItem]]] = deque()
        self._ended = False

    def any(self) -> bool:
        """Whether there is anything to send (cuts the first batch to know)."""
        batch = self.next()
        if batch is None:
            return False
        self.put_back(*batch)
        return True

    def next(self) -> tuple[RequestOptions, list[UploadItem]] | None:
        while not self._ready and not self._ended:
            self._pull()
        return self._ready.popleft() if self._ready else None

    def put_back(self, options: RequestOptions, items: list[UploadItem]) -> None:
        self._ready.appendleft((options, items))

    def rest(self) -> list[UploadItem]:
        """Every item not handed out (the items' producer is run to its end)."""
        left = [item for _, batch in self._ready for item in batch]
        left += [item for group in self._open.values() for item in group]
        left += self._items
        self._ready.clear()
        self._open.clear()
        self._ended = True
        return left

    def _pull(self) -> None:
        for item in self._items:
            group = self._open.setdefault(item.options, [])
            group.append(item)
            if len(group) >= self._size:
                self._ready.append((item.options, self._open.pop(item.options)))
                return
        self._ended = True
        self._ready.extend(self._open.items())
        self._open.clear()


def _halves(items: list[UploadItem]) -> tuple[list[UploadItem], list[UploadItem]]:
    middle = len(items) // 2
    return items[:middle], items[middle:]


def _reject_not_valid(job: _Job, items: Sequence[UploadItem]) -> None:
    for item in items:
        number = item.customer.get("number")
        job.finish([item], Outcome.REJECTED, f"CallMarker did not accept the number {number} (not valid)")


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _alike(answers: list[_Result]) -> bool:
    """True when every answer is the same refusal, one that names no customer."""
    first = answers[0]
    return (
        isinstance(first, _Answer)
        and not first.success
        and _customer_index(first.message) is None
        and all(
            isinstance(other, _Answer) and (other.success, other.message) == (False, first.message)
            for other in answers[1:]
        )
    )


def _customer_index(message: str) -> int | None:
    match = _CUSTOMER_INDEX.search(message)
    return int(match.group(1)) if match else None


def _names_the_request(message: str) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in _REQUEST_LEVEL_WORDS)


def _digits(value: object) -> str:
    return "".join(ch for ch in str(value) if ch.isdigit()) if value is not None else ""


def _named_numbers(data: dict[str, Any]) -> dict[str, str | None]:
    """Numbers that fields beyond ``success`` and ``message`` name, with a reason when one is given.

    CallMarker's partial-success answer is not documented; this reads the likely shapes: a list of
    numbers, a list of objects with a ``number``, or an object keyed by number.
    """
    named: dict[str, str | None] = {}
    for key, value in data.items():
        if key in ("success", "message"):
            continue
        if isinstance(value, list):
            for entry in value:
                if isinstance(entry, str | int) and not isinstance(entry, bool):
                    named[_digits(entry)] = None
                elif isinstance(entry, dict) and "number" in entry:
                    reason = entry.get("message") or entry.get("error") or entry.get("reason")
                    named[_digits(entry["number"])] = str(reason) if reason else None
        elif isinstance(value, dict):
            for number, reason in value.items():
                if _digits(number):
                    named[_digits(number)] = str(reason) if isinstance(reason, str) and reason else None
    named.pop("", None)
    return named
