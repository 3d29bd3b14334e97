"""The CallMarker client: sends upload items in batches and gives every row an outcome.

What an answer means is decided in ``callmarker_answers.py``; this module sends, retries, and re-sends
parts of a batch when an answer did not settle every row.

Errors (mostly carried in the report, because a job must end with an outcome per row)::

    CallMarkerError                 the root
    ├── CallMarkerRequestError      CallMarker refused the request itself (token, campaign, agent...)
    ├── CallMarkerUnavailable       no usable answer after the retries (network, timeouts, 5xx)
    └── CallMarkerUnreadableAnswer  answers this tool cannot read, several in a row

Only programming errors raise (an empty token, a batch size of zero): ``ValueError``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import re
import ssl
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field

import httpx
import orjson

from callmarker_sheets.callmarker_answers import Answer, Counts, CustomerState, Kind, read_answer, same_number
from callmarker_sheets.i18n import ENGLISH, N_, Np_, Text, Translator, isolate
from callmarker_sheets.model import Outcome, RequestOptions, RowResult, UploadItem
from callmarker_sheets.redaction import MASK, redact_secrets
from callmarker_sheets.retry import RetryPolicy, parse_retry_after

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_SPLIT_REQUESTS",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUT",
    "MAX_QUOTE",
    "CallMarkerClient",
    "CallMarkerError",
    "CallMarkerRequestError",
    "CallMarkerUnavailable",
    "CallMarkerUnreadableAnswer",
    "UploadReport",
]

DEFAULT_BASE_URL = "https://app.callmarker.com/api/v1"
DEFAULT_TIMEOUT = 30.0
DEFAULT_BATCH_SIZE = 500
DEFAULT_CONCURRENCY = 4
DEFAULT_RETRY = RetryPolicy()
#: Extra requests one upload may spend on finding the rows CallMarker refused inside a batch.
DEFAULT_MAX_SPLIT_REQUESTS = 200
#: Single customers refused alone with the same words, with nothing accepted between them, that make a
#: refusal one of the request (the token, the campaign, the agent): the upload stops.
ALIKE_REFUSALS = 3
#: Answers this tool cannot read, one after another, that stop the upload.
UNREADABLE_IN_A_ROW = 3
#: The most of CallMarker's words one row's message quotes.
MAX_QUOTE = 300

logger = logging.getLogger(__name__)

# Runs of digits long enough to be (part of) a phone number: masked in log records and excerpts.
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


class CallMarkerUnreadableAnswer(CallMarkerError):
    """CallMarker answered, several times in a row, something this tool cannot read."""


@dataclass(slots=True)
class UploadReport:
    """What one ``upload`` call did.

    ``results`` holds one result per row that got an outcome, ``unsent`` the rows that did not (never
    started because of the deadline): together they hold every item once. The counts are summed as
    CallMarker reported them, each request's counts once (a part of a batch sent again to find its
    refused rows is not counted again). ``sends`` counts, per row, the requests that carried it.
    """

    results: list[RowResult] = field(default_factory=list)
    unsent: list[UploadItem] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    split_requests: int = 0
    created: int = 0
    restored: int = 0
    refused: int = 0
    sends: Counter[int] = field(default_factory=Counter)
    fatal: CallMarkerRequestError | None = None
    #: The last time CallMarker could not be reached or gave no usable answer after the retries.
    unavailable: CallMarkerUnavailable | None = None
    #: Set when the upload stopped because CallMarker's answers could not be read.
    unreadable: CallMarkerUnreadableAnswer | None = None

    def sends_per_customer(self) -> tuple[float, int]:
        """Mean and most requests that carried one row, over the rows sent at least once."""
        if not self.sends:
            return 0.0, 0
        return sum(self.sends.values()) / len(self.sends), max(self.sends.values())


# What one request (with its retries) came to. Private: the report is the public face.
@dataclass(frozen=True, slots=True)
class _Read:
    answer: Answer


@dataclass(frozen=True, slots=True)
class _Unavailable:
    error: CallMarkerUnavailable
    # True when our own time limit, not CallMarker, cut the request short.
    cut_by_us: bool = False


@dataclass(frozen=True, slots=True)
class _NotStarted:
    why: str  # "stopped", "time" or "budget"


@dataclass(frozen=True, slots=True)
class _TooSlow:
    """The batch timed out twice in a row: it may be too large for CallMarker to answer in time."""


_Result = _Read | _Unavailable | _NotStarted | _TooSlow
#: Timeouts in a row, on the same batch, that halve it rather than send it whole again.
TIMEOUTS_THAT_HALVE = 2


@dataclass(slots=True)
class _Job:
    report: UploadReport
    #: The upload's HTTP client, open while its workers run.
    http: httpx.AsyncClient
    batch_size: int
    deadline: float | None
    # Requests still running then are abandoned (their rows end FAILED: not confirmed, safe to retry).
    hard_deadline: float | None = None
    # The slowest request so far: a new one is not started unless this much time is left.
    longest: float = 0.0
    unreadable_in_a_row: int = 0
    #: Why the upload stopped, in words to be put in the job's language; None while it goes on.
    stopped_because: Text | None = None
    #: Per request options, single customers refused alone, by CallMarker's words, since the last
    #: request with those options that CallMarker accepted.
    alike: dict[RequestOptions, dict[str, set[int]]] = field(default_factory=dict)

    @property
    def stopped(self) -> bool:
        return self.stopped_because is not None

    def stop(self, because: Text) -> None:
        if self.stopped_because is None:
            self.stopped_because = because

    def finish(self, items: Iterable[UploadItem], outcome: Outcome, message: str) -> None:
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
        t: Translator = ENGLISH,
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
        #: The language of the rows' messages (the job's).
        self.t = t

    def __repr__(self) -> str:
        return f"CallMarkerClient({self.base_url!r}, token={MASK!r})"

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
        When the upload stops (CallMarker refused the request itself, or its answers cannot be read),
        every row not settled yet ends FAILED, saying why.
        """
        report = UploadReport()
        # httpx's per-phase timeouts (5 s by default) must not cut a request shorter than ours.
        http = httpx.AsyncClient(transport=self._transport, timeout=self.timeout, verify=_tls())
        job = _Job(report, http, self.batch_size, deadline, hard_deadline)
        feed = _Feed(items, self.batch_size)
        async with http:
            if feed.any():
                async with asyncio.TaskGroup() as workers:
                    for _ in range(self.concurrency):
                        workers.create_task(self._work(job, feed))
        rest = report.unsent + feed.rest()
        if job.stopped_because is not None:
            report.unsent = []
            job.finish(rest, Outcome.FAILED, self._stopped_message(job.stopped_because))
        else:
            report.unsent = rest
        mean, most = report.sends_per_customer()
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
                "sends_per_customer": {"mean": round(mean, 3), "max": most},
                "fatal": self._masked(report.fatal.message) if report.fatal else None,
            },
        )
        return report

    async def _work(self, job: _Job, feed: _Feed) -> None:
        while not job.stopped and self._has_time(job):
            batch = feed.next()
            if batch is None:
                return
            options, items = batch
            # The batch size may have dropped (a 413) since this batch was cut.
            if len(items) > job.batch_size:
                feed.put_back(options, items[job.batch_size :])
                items = items[: job.batch_size]
            await self._run(job, options, items, again=False, counted=True)

    def _has_time(self, job: _Job, wait: float = 0.0) -> bool:
        return job.deadline is None or self._clock() + wait + job.longest < job.deadline

    async def _run(
        self,
        job: _Job,
        options: RequestOptions,
        items: list[UploadItem],
        *,
        again: bool,
        counted: bool,
        halved_for_time: bool = False,
    ) -> None:
        """Send ``items`` (``again``: customers sent before, in a request that did not settle them;
        ``halved_for_time``: a half of a batch that timed out, not to be halved for that again)."""
        if len(items) > job.batch_size:
            # The batch size dropped (a 413) after this part was cut.
            for start in range(0, len(items), job.batch_size):
                part = items[start : start + job.batch_size]
                await self._run(
                    job, options, part, again=again, counted=counted, halved_for_time=halved_for_time
                )
            return
        may_halve = not (again or halved_for_time)
        result = await self._post(job, options, items, again=again, may_halve=may_halve)
        await self._settle(job, options, items, result, again=again, counted=counted)

    async def _settle(
        self,
        job: _Job,
        options: RequestOptions,
        items: list[UploadItem],
        result: _Result,
        *,
        again: bool,
        counted: bool,
    ) -> None:
        """Give every item of one request an outcome from its answer, sending parts again when needed."""
        match result:
            case _NotStarted(why="stopped"):
                job.finish(
                    items, Outcome.FAILED, self._stopped_message(job.stopped_because or N_("it stopped"))
                )
            case _NotStarted(why="time") if not again:
                job.report.unsent.extend(items)
            case _NotStarted(why=why):
                job.finish(items, Outcome.FAILED, self._unsettled_message(why))
            case _Unavailable(error, cut_by_us):
                if not cut_by_us:
                    job.report.unavailable = error
                job.finish(items, Outcome.FAILED, error.message)
            case _TooSlow():
                await self._halve(job, options, items, counted=counted, for_time=True)
            case _Read(answer):
                await self._answered(job, options, items, answer, counted=counted)

    async def _answered(
        self,
        job: _Job,
        options: RequestOptions,
        items: list[UploadItem],
        answer: Answer,
        *,
        counted: bool,
    ) -> None:
        if answer.kind is not Kind.UNREADABLE:
            job.unreadable_in_a_row = 0
        match answer.kind:
            case Kind.REFUSED:
                words = self._quote(answer.message)
                if job.report.fatal is None:
                    job.report.fatal = CallMarkerRequestError(words, status_code=answer.status)
                job.stop(N_("CallMarker refused the request ({words})", words=words))
                job.finish(
                    items, Outcome.REJECTED, self.t("CallMarker refused the request: {words}", words=words)
                )
            case Kind.TOO_LARGE:
                if len(items) == 1:
                    job.finish(
                        items, Outcome.REJECTED, self.t("CallMarker refused the row as too large (HTTP 413)")
                    )
                    return
                await self._halve(job, options, items, counted=counted)
            case Kind.UNREADABLE:
                job.unreadable_in_a_row += 1
                words = self._masked(answer.excerpt)
                job.finish(
                    items,
                    Outcome.FAILED,
                    self.t(
                        "CallMarker answered something this tool cannot read ({words}); not confirmed, "
                        "safe to retry",
                        words=words,
                    ),
                )
                if job.unreadable_in_a_row >= UNREADABLE_IN_A_ROW and job.report.unreadable is None:
                    job.report.unreadable = CallMarkerUnreadableAnswer(
                        self.t("CallMarker answered something this tool cannot read ({words})", words=words),
                        status_code=answer.status,
                    )
                    job.stop(
                        N_(
                            "CallMarker answered something this tool cannot read, {#n} times in a row",
                            n=UNREADABLE_IN_A_ROW,
                        )
                    )
            case Kind.ANSWERED:
                await self._read(job, options, items, answer, counted=counted)
            case _:  # RETRY answers are retried by _post and never reach here
                raise AssertionError(f"unexpected answer {answer.kind}")

    async def _read(
        self,
        job: _Job,
        options: RequestOptions,
        items: list[UploadItem],
        answer: Answer,
        *,
        counted: bool,
    ) -> None:
        """Rows the answer settles get their outcome; the others are found by sending parts again."""
        if counted:
            job.report.created += answer.counts.created or 0
            job.report.restored += answer.counts.restored or 0
            job.report.refused += answer.counts.refused or 0
        if answer.success and any(v.state is CustomerState.ACCEPTED for v in answer.customers):
            job.alike.pop(options, None)
        unknown: list[UploadItem] = []
        accepted: list[UploadItem] = []
        for item, verdict in zip(items, answer.customers, strict=True):
            if verdict.state is CustomerState.ACCEPTED:
                accepted.append(item)
            elif verdict.state is CustomerState.REFUSED:
                job.finish([item], Outcome.REJECTED, self._refusal(item, verdict.message, answer.success))
            else:
                unknown.append(item)
        job.finish(accepted, Outcome.UPLOADED, "")
        if len(items) == 1 and not answer.success and not answer.customers[0].named:
            self._refused_alone(job, options, items[0], answer.message)
        if not unknown:
            return
        if not answer.success:
            # Refused without saying which customers: each half is sent again on its own, so its answer
            # is about fewer customers. Nothing of a refused request was counted yet.
            await self._send_halves(job, options, unknown, counted=counted)
        elif not answer.consistent:
            # Counts that cannot all be true: each half is sent again, to be answered on its own.
            await self._send_halves(job, options, unknown, counted=False)
        elif answer.refused_among_unknown is None:
            # One message for every row of the request: no customer's number in it.
            words = self._masked(answer.message)
            message = (
                self.t("CallMarker took the request but did not confirm each customer: {words}", words=words)
                if words
                else self.t("CallMarker took the request but did not confirm each customer, and said nothing")
            )
            job.finish(unknown, Outcome.SENT, message)
        else:
            await self._find_counted(job, options, unknown, answer.refused_among_unknown)

    async def _halve(
        self,
        job: _Job,
        options: RequestOptions,
        items: list[UploadItem],
        *,
        counted: bool,
        for_time: bool = False,
    ) -> None:
        """A batch too large (a 413, or timeouts in a row): it and every later batch are cut in half.

        Halves of a batch that timed out are not halved again for timing out: then it is more likely
        that CallMarker is down than that a batch of that size is too much for it.
        """
        job.batch_size = max(1, min(job.batch_size, len(items) // 2))
        # CallMarker did not settle the request: its halves are sent as new batches.
        for half in _halves(items):
            await self._run(job, options, half, again=False, counted=counted, halved_for_time=for_time)

    async def _send_halves(
        self,
        job: _Job,
        options: RequestOptions,
        items: list[UploadItem],
        *,
        counted: bool,
    ) -> None:
        for half in _halves(items):
            if half:
                await self._run(job, options, half, again=True, counted=counted)

    async def _find_counted(
        self,
        job: _Job,
        options: RequestOptions,
        items: list[UploadItem],
        refused: int,
    ) -> None:
        """Find the ``refused`` customers among ``items`` that an accepted request counted but did not
        name: a first part is sent again, and the rest's count is what is left of the count, known
        without sending it. The first part is sized to hold about one of them (half, for one), so
        that fewer customers are sent again, and each time in a part at most half as large."""
        if refused == 0:
            job.finish(items, Outcome.UPLOADED, "")
            return
        if len(items) == 1:
            job.finish(items, Outcome.REJECTED, self._refusal(items[0], "", True))
            return
        if refused >= len(items):
            # Every one of them counted as refused: worth checking rather than taking on trust.
            await self._send_halves(job, options, items, counted=False)
            return
        size = math.ceil(len(items) / (refused + 1))
        first, second = items[:size], items[size:]
        result = await self._post(job, options, first, again=True)
        await self._settle(job, options, first, result, again=True, counted=False)
        in_first = _refused_in(result, len(first))
        if in_first is not None and 0 <= refused - in_first <= len(second):
            await self._find_counted(job, options, second, refused - in_first)
        else:
            await self._run(job, options, second, again=True, counted=False)

    def _refused_alone(self, job: _Job, options: RequestOptions, item: UploadItem, message: str) -> None:
        """A customer refused alone, without being named: if others keep being refused alike, with
        nothing accepted between, it is the request (the token, the campaign, the agent) that is wrong."""
        words = self._quote(message)
        alike = job.alike.setdefault(options, {}).setdefault(words, set())
        alike.add(item.row)
        if len(alike) >= ALIKE_REFUSALS and job.report.fatal is None:
            job.report.fatal = CallMarkerRequestError(words)
            job.stop(N_("CallMarker refused every customer alike ({words})", words=words))

    async def _post(
        self,
        job: _Job,
        options: RequestOptions,
        items: list[UploadItem],
        *,
        again: bool,
        may_halve: bool = False,
    ) -> _Result:
        """One request with its retries. Never raises for what CallMarker or the network does.

        With ``may_halve``, a batch that timed out twice in a row is given back to be halved.
        """
        if job.stopped:
            return _NotStarted("stopped")
        if not self._has_time(job):
            return _NotStarted("time")
        if again:
            if job.report.split_requests >= self.max_split_requests:
                return _NotStarted("budget")
            job.report.split_requests += 1
        body = {"token": self._token, **options.to_json(), "customers": [item.customer for item in items]}
        # the same compact UTF-8 JSON httpx would write, made once for every attempt
        content = orjson.dumps(body)
        del body
        numbers = [str(item.customer.get("number", "")) for item in items]
        attempt = timeouts = 0
        while True:
            attempt += 1
            job.report.requests += 1
            job.report.sends.update(item.row for item in items)
            if attempt > 1:
                job.report.retries += 1
            limit = self.timeout
            if job.hard_deadline is not None:
                limit = max(0.001, min(limit, job.hard_deadline - self._clock()))
            started = self._clock()
            answer: Answer | None = None
            problem: Text | None = None
            timed_out = False
            cut_short = False
            retry_after: float | None = None
            try:
                async with asyncio.timeout(limit):
                    response = await job.http.post(self.url, content=content, headers=_JSON)
            except TimeoutError:
                problem, timed_out = N_("no answer within {=limit} s", limit=f"{limit:g}"), True
                cut_short = limit < self.timeout
                timeouts += not cut_short
            except httpx.TimeoutException as exc:
                problem = N_(
                    "no answer within {=limit} s ({=kind})", limit=f"{limit:g}", kind=type(exc).__name__
                )
                timed_out = True
                timeouts += 1
            except httpx.TransportError as exc:
                problem = N_("connection failed ({=kind})", kind=type(exc).__name__)
            else:
                answer = read_answer(response.status_code, response.headers, response.content, numbers)
                if answer.kind is Kind.RETRY:
                    problem = N_("HTTP {=status}", status=answer.status)
                    retry_after = parse_retry_after(answer.retry_after)
            duration = self._clock() - started
            job.longest = max(job.longest, duration)
            self._log(
                items,
                attempt=attempt,
                answer=answer,
                duration=duration,
                problem=str(problem or ""),
                again=again,
            )
            if answer is not None and answer.kind is not Kind.RETRY:
                return _Read(answer)
            if not timed_out:
                timeouts = 0
            if may_halve and timeouts >= TIMEOUTS_THAT_HALVE and len(items) > 1 and not job.stopped:
                return _TooSlow()
            wait = self.retry.delay(attempt, retry_after)
            if not self.retry.should_retry(attempt, retry_after):
                why = Np_("after {#n} attempt", "after {#n} attempts", attempt)
            elif job.stopped:
                why = N_("the job stopped")
            elif not self._has_time(job, wait):
                why = N_("no time left to retry in this step")
            else:
                await self._sleep(wait)
                continue
            return _Unavailable(
                CallMarkerUnavailable(
                    self.t(
                        "Not confirmed by CallMarker ({=problem}, {=why}); safe to retry",
                        problem=problem or N_("no answer"),
                        why=why,
                    ),
                    status_code=answer.status if answer is not None else None,
                ),
                cut_by_us=cut_short,
            )

    def _refusal(self, item: UploadItem, words: str, success: bool | None) -> str:
        """A refused row's message: CallMarker's words about it, or what its count said. Words about
        several customers keep only this row's own number."""
        number = str(item.customer.get("number", ""))
        own = _PHONE_LIKE.sub(
            lambda m: m.group() if same_number(m.group(), number) else "***", self._quote(words)
        )
        if success and own:
            return self.t("CallMarker did not accept the number {number} ({words})", number=number, words=own)
        if success:
            return self.t("CallMarker did not accept the number {number} (not valid)", number=number)
        # CallMarker's own words about the row are the whole message: set apart, as any value quoted.
        return isolate(own) if own else self.t("CallMarker refused this customer")

    def _stopped_message(self, because: Text) -> str:
        return self.t(
            "Not uploaded: the upload stopped because {=because}. Safe to upload again once that is fixed.",
            because=because,
        )

    def _unsettled_message(self, why: str) -> str:
        if why == "time":
            return self.t(
                "Not confirmed by CallMarker: its answer did not say whether this row was taken, and this "
                "step had no time left to find out; safe to upload again"
            )
        return self.t(
            "Not confirmed by CallMarker: its answer did not say whether this row was taken, and this "
            "step had no requests left to find out; safe to upload again"
        )

    def _quote(self, text: str) -> str:
        """CallMarker's words as they may reach a cell: redacted, on one line, at most MAX_QUOTE long."""
        words = " ".join(self._redact(text).split())
        return words if len(words) <= MAX_QUOTE else words[: MAX_QUOTE - 1] + "…"

    def _masked(self, text: str) -> str:
        """CallMarker's words as they may reach a log or stand for many rows: phone numbers masked too."""
        return _PHONE_LIKE.sub("***", self._quote(text))

    def _redact(self, text: str) -> str:
        return redact_secrets(text, (self._token,))

    def _log(
        self,
        items: list[UploadItem],
        *,
        attempt: int,
        answer: Answer | None,
        duration: float,
        problem: str,
        again: bool,
    ) -> None:
        counts = Counts()
        level = logging.WARNING
        what, text = "no usable answer", problem
        if answer is not None:
            counts = answer.counts
            match answer.kind:
                case Kind.ANSWERED:
                    what, text = ("accepted" if answer.success else "refused"), answer.message
                    # a request that went well is one of a hundred in a step: the step's own line counts them
                    level = logging.DEBUG if answer.success else logging.WARNING
                case Kind.REFUSED:
                    what, text = "refused the request", answer.message
                case Kind.TOO_LARGE:
                    what, text = "too large", ""
                case Kind.UNREADABLE:
                    what, text = "unreadable", answer.excerpt
        if not logger.isEnabledFor(level):
            return
        logger.log(
            level,
            "CallMarker request: %d customers, attempt %d, HTTP %s, %.3f s, %s: %s",
            len(items),
            attempt,
            answer.status if answer is not None else "-",
            duration,
            what,
            self._masked(text),
            extra={
                "customers": len(items),
                "attempt": attempt,
                "http_status": answer.status if answer is not None else None,
                "duration": round(duration, 3),
                "split": again,
                "result": what,
                "counts": {"created": counts.created, "restored": counts.restored, "refused": counts.refused},
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


_JSON = {"Content-Type": "application/json"}


@functools.cache
def _tls() -> ssl.SSLContext:
    """The TLS context every upload shares: making one loads the CA bundle, about 18 ms each time."""
    return httpx.create_ssl_context()


def _halves(items: list[UploadItem]) -> tuple[list[UploadItem], list[UploadItem]]:
    middle = math.ceil(len(items) / 2)
    return items[:middle], items[middle:]


def _refused_in(result: _Result, size: int) -> int | None:
    """How many customers an answer to ``size`` customers counted or named as refused; None when it
    cannot be told (not a readable success, or counts that do not add up)."""
    if not isinstance(result, _Read):
        return None
    answer = result.answer
    if answer.kind is not Kind.ANSWERED or not answer.success or not answer.consistent:
        return None
    if answer.counts.refused is not None:
        refused = answer.counts.refused
    elif answer.unknown:
        return None
    else:
        refused = sum(v.state is CustomerState.REFUSED for v in answer.customers)
    return refused if 0 <= refused <= size else None
