"""The CallMarker client against scripted answers (httpx.MockTransport): the protocol case by case."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callmarker_sheets.callmarker import (
    DEFAULT_BASE_URL,
    CallMarkerClient,
    CallMarkerRequestError,
    UploadReport,
)
from callmarker_sheets.callmarker_answers import parse_counts
from callmarker_sheets.i18n import translator
from callmarker_sheets.model import Outcome, RequestOptions, UploadItem
from callmarker_sheets.retry import RetryPolicy
from tests.words import visible

BASE = "https://callmarker.test/api/v1"
TOKEN = "t0k-SECRET-5f1e9c"
FAST = RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.01)

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


def number(row: int) -> str:
    return f"05{row:08d}"


def item(row: int, options: RequestOptions | None = None, **fields: Any) -> UploadItem:
    return UploadItem(
        row, options or RequestOptions(), {"number": number(row), "name": f"Lead {row}", **fields}
    )


def items(rows: Iterable[int], options: RequestOptions | None = None) -> list[UploadItem]:
    return [item(row, options) for row in rows]


def ok(created: int, restored: int = 0, not_valid: int = 0, **extra: Any) -> httpx.Response:
    message = (
        f"There are {created} new customers were created, {restored} were restored "
        f"and {not_valid} were not valid."
    )
    return httpx.Response(200, json={"success": True, "message": message, **extra})


def refuse(message: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"success": False, "message": message})


def customers_of(request: httpx.Request) -> list[dict[str, Any]]:
    customers: list[dict[str, Any]] = json.loads(request.content)["customers"]
    return customers


@dataclass
class FakeTime:
    """A clock that moves only when the client sleeps or a handler says a request took time."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Recorder:
    """Records every request body; ``answer`` decides the response."""

    answer: Handler
    bodies: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert str(request.url) == f"{BASE}/customers"
        self.bodies.append(json.loads(request.content))
        response = self.answer(request)
        if not isinstance(response, httpx.Response):
            response = await response
        return response


def client(recorder: Recorder, fake: FakeTime | None = None, **options: Any) -> CallMarkerClient:
    fake = fake or FakeTime()
    options.setdefault("retry", FAST)
    return CallMarkerClient(
        BASE,
        TOKEN,
        transport=httpx.MockTransport(recorder),
        sleep=fake.sleep,
        clock=fake.clock,
        **options,
    )


def upload(cm: CallMarkerClient, rows: list[UploadItem], deadline: float | None = None) -> UploadReport:
    return asyncio.run(cm.upload(rows, deadline=deadline))


def outcomes(report: UploadReport) -> dict[int, Outcome]:
    rows = [result.row for result in report.results]
    assert len(rows) == len(set(rows)), "a row got two results"
    return {result.row: result.outcome for result in report.results}


def messages(report: UploadReport) -> dict[int, str]:
    """Each row's message as a person reads it (the isolates around quoted values are invisible)."""
    return {result.row: visible(result.message) for result in report.results}


def accept_all(request: httpx.Request) -> httpx.Response:
    return ok(len(customers_of(request)))


# --- items produced while requests go out ----------------------------------------------------


def test_items_from_a_generator_are_sent_while_it_still_produces() -> None:
    produced: list[int] = []
    seen_at_first_request: list[int] = []

    def rows() -> Iterator[UploadItem]:
        for row in range(2, 1002):
            produced.append(row)
            yield item(row)

    def answer(request: httpx.Request) -> httpx.Response:
        if not seen_at_first_request:
            seen_at_first_request.append(len(produced))
        return accept_all(request)

    recorder = Recorder(answer)
    report = asyncio.run(client(recorder, batch_size=100, concurrency=1).upload(rows()))

    assert seen_at_first_request == [100]  # the first batch left before the other 900 rows existed
    assert sorted(outcomes(report)) == list(range(2, 1002))
    assert [len(b["customers"]) for b in recorder.bodies] == [100] * 10


def test_rows_left_at_the_deadline_come_back_unsent_even_from_a_generator() -> None:
    fake = FakeTime()

    def slow(request: httpx.Request) -> httpx.Response:
        fake.now += 10
        return accept_all(request)

    report = asyncio.run(
        client(Recorder(slow), fake, batch_size=100, concurrency=1).upload(
            (item(row) for row in range(2, 1002)), deadline=fake.now + 25
        )
    )

    sent = set(outcomes(report))
    assert sent == set(range(2, 202))
    assert sorted(i.row for i in report.unsent) == list(range(202, 1002))


# --- shape of the requests ------------------------------------------------------------------


def test_rows_are_grouped_by_options_batched_and_kept_in_sheet_order() -> None:
    campaign = RequestOptions(campaign="11", override=True)
    plain = RequestOptions()
    rows = [item(row, campaign if row % 3 == 0 else plain) for row in range(2, 32)]
    recorder = Recorder(accept_all)
    report = upload(client(recorder, batch_size=4, concurrency=1), rows)

    assert outcomes(report) == dict.fromkeys(range(2, 32), Outcome.UPLOADED)
    for_campaign = [body for body in recorder.bodies if body.get("campaign") == "11"]
    for_plain = [body for body in recorder.bodies if "campaign" not in body]
    assert len(for_campaign) == math.ceil(10 / 4)
    assert len(for_plain) == math.ceil(20 / 4)
    assert all(len(body["customers"]) <= 4 for body in recorder.bodies)
    sent_campaign = [c["number"] for body in for_campaign for c in body["customers"]]
    sent_plain = [c["number"] for body in for_plain for c in body["customers"]]
    assert sent_campaign == [number(r) for r in range(2, 32) if r % 3 == 0]
    assert sent_plain == [number(r) for r in range(2, 32) if r % 3 != 0]
    assert report.requests == len(recorder.bodies) == 8
    assert report.created == 30


def test_the_body_holds_the_token_the_options_and_no_flag_that_is_off() -> None:
    recorder = Recorder(accept_all)
    options = RequestOptions(campaign="11", agent_name="Garret Robel", status=12, override=True)
    upload(client(recorder), [item(2, options), item(3, RequestOptions())])

    by_campaign = {body.get("campaign"): body for body in recorder.bodies}
    assert by_campaign["11"] == {
        "token": TOKEN,
        "campaign": "11",
        "agent_name": "Garret Robel",
        "status": 12,
        "override": True,
        "customers": [{"number": number(2), "name": "Lead 2"}],
    }
    assert by_campaign[None] == {"token": TOKEN, "customers": [{"number": number(3), "name": "Lead 3"}]}
    for body in recorder.bodies:
        for flag in ("remove", "unique", "international"):
            assert flag not in body


def test_no_more_requests_in_flight_than_the_concurrency() -> None:
    in_flight = 0
    most = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.005)
        in_flight -= 1
        return accept_all(request)

    report = upload(client(Recorder(slow), batch_size=2, concurrency=3), items(range(2, 26)))
    assert most == 3
    assert len(report.results) == 24
    assert report.requests == 12


def test_nothing_to_upload_makes_no_request() -> None:
    recorder = Recorder(accept_all)
    report = upload(client(recorder), [])
    assert report == UploadReport()
    assert recorder.bodies == []


def test_the_default_base_url_is_callmarkers() -> None:
    cm = CallMarkerClient(DEFAULT_BASE_URL + "/", TOKEN)
    assert cm.url == "https://app.callmarker.com/api/v1/customers"


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"concurrency": 0}, "concurrency"),
        ({"timeout": 0}, "timeout"),
        ({"max_split_requests": -1}, "max_split_requests"),
    ],
)
def test_bad_settings_are_refused(options: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        CallMarkerClient(BASE, TOKEN, **options)


def test_an_empty_token_is_refused() -> None:
    with pytest.raises(ValueError, match="token is empty"):
        CallMarkerClient(BASE, "  ")


# --- reading the answer ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "counts"),
    [
        ("There are 2 new customers were created, 0 were restored and 0 were not valid.", (2, 0, 0)),
        ("There are 10 new customers were created, 3 were restored and 1 were not valid.", (10, 3, 1)),
        ("1 customer created, 2 restored, 3 not valid", (1, 2, 3)),
        ("created: 4, restored: 0, not_valid: 2", (4, 0, 2)),
        ("2, created; 3, restored", (None, None, None)),
        ("Customers saved", (None, None, None)),
        ("יש 3 לקוחות חדשים", (None, None, None)),
    ],
)
def test_counts_are_read_from_the_message(message: str, counts: tuple[int | None, ...]) -> None:
    parsed = parse_counts(message)
    assert (parsed.created, parsed.restored, parsed.refused) == counts


def test_a_success_that_confirms_no_row_marks_the_rows_sent_with_its_words() -> None:
    recorder = Recorder(lambda request: httpx.Response(200, json={"success": True, "message": "Saved!"}))
    report = upload(client(recorder), items(range(2, 5)))
    assert outcomes(report) == dict.fromkeys(range(2, 5), Outcome.SENT)
    assert set(messages(report).values()) == {
        "CallMarker took the request but did not confirm each customer: Saved!"
    }
    assert (report.created, report.restored, report.refused) == (0, 0, 0)
    assert report.requests == 1  # nothing to find by sending again: no refusal was counted


def test_counts_are_summed_over_requests() -> None:
    recorder = Recorder(lambda request: ok(len(customers_of(request)) - 1, restored=1))
    report = upload(client(recorder, batch_size=5), items(range(2, 22)))
    assert (report.created, report.restored, report.refused) == (16, 4, 0)


# --- retries --------------------------------------------------------------------------------


def drop(request: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)


def read_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


async def hang(request: httpx.Request) -> httpx.Response:
    await asyncio.sleep(5)
    return accept_all(request)


FAULTS: dict[str, Handler] = {
    "429": lambda request: httpx.Response(429, json={"success": False, "message": "Too many requests"}),
    "408": lambda request: httpx.Response(408),
    "500": lambda request: httpx.Response(500, text="Internal Server Error"),
    "502 html": lambda request: httpx.Response(
        502, headers={"content-type": "text/html"}, text="<html><h1>502 Bad Gateway</h1></html>"
    ),
    "503": lambda request: refuse("Service unavailable", 503),
    "504": lambda request: httpx.Response(504),
    "520 empty": lambda request: httpx.Response(520),
    "dropped connection": drop,
    "httpx timeout": read_timeout,
    "hang": hang,
}


def failing_first(fault: Handler, times: int = 1) -> Handler:
    calls = 0

    def answer(request: httpx.Request) -> httpx.Response | Awaitable[httpx.Response]:
        nonlocal calls
        calls += 1
        return fault(request) if calls <= times else accept_all(request)

    return answer


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_passing_fault_is_retried_after_a_pause(fault: str) -> None:
    fake = FakeTime()
    recorder = Recorder(failing_first(FAULTS[fault]))
    report = upload(client(recorder, fake, timeout=0.05, concurrency=1), items(range(2, 7)))

    assert outcomes(report) == dict.fromkeys(range(2, 7), Outcome.UPLOADED)
    assert (report.requests, report.retries) == (2, 1)
    assert len(fake.sleeps) == 1
    assert recorder.bodies[0] == recorder.bodies[1]


TIMEOUTS = ("httpx timeout", "hang")


@pytest.mark.parametrize("fault", [name for name in FAULTS if name not in TIMEOUTS])
def test_a_lasting_fault_ends_failed_never_uploaded(fault: str) -> None:
    fake = FakeTime()
    recorder = Recorder(FAULTS[fault])
    report = upload(client(recorder, fake, timeout=0.05, concurrency=1), items(range(2, 7)))

    assert outcomes(report) == dict.fromkeys(range(2, 7), Outcome.FAILED)
    assert all("safe to retry" in message for message in messages(report).values())
    assert report.requests == FAST.max_attempts
    assert report.retries == FAST.max_attempts - 1
    assert len(fake.sleeps) == FAST.max_attempts - 1
    assert report.fatal is None
    assert report.unavailable is not None
    assert report.unavailable.message == messages(report)[2]


@pytest.mark.parametrize("fault", TIMEOUTS)
def test_a_batch_that_keeps_timing_out_is_halved_once_then_ends_failed(fault: str) -> None:
    recorder = Recorder(FAULTS[fault])
    report = upload(client(recorder, timeout=0.05, concurrency=1, batch_size=8), items(range(2, 10)))

    # Twice whole, then each half with every attempt: a lasting outage is not halved down to rows.
    assert [len(body["customers"]) for body in recorder.bodies] == [8, 8] + [4] * 2 * FAST.max_attempts
    assert outcomes(report) == dict.fromkeys(range(2, 10), Outcome.FAILED)
    assert all("safe to retry" in message for message in messages(report).values())


def test_a_batch_too_large_to_answer_in_time_is_halved_and_so_are_the_next() -> None:
    async def slow_when_large(request: httpx.Request) -> httpx.Response:
        if len(customers_of(request)) > 4:
            await asyncio.sleep(5)
        return accept_all(request)

    recorder = Recorder(slow_when_large)
    report = upload(client(recorder, timeout=0.05, concurrency=1, batch_size=8), items(range(2, 26)))

    assert outcomes(report) == dict.fromkeys(range(2, 26), Outcome.UPLOADED)
    assert [len(body["customers"]) for body in recorder.bodies] == [8, 8, 4, 4, 4, 4, 4, 4]


def test_retry_after_is_honoured() -> None:
    fake = FakeTime()
    busy = failing_first(lambda request: httpx.Response(429, headers={"Retry-After": "7"}), times=2)
    report = upload(client(Recorder(busy), fake), items(range(2, 4)))

    assert outcomes(report) == {2: Outcome.UPLOADED, 3: Outcome.UPLOADED}
    assert len(fake.sleeps) == 2
    assert all(7 <= wait <= FAST.max_retry_after for wait in fake.sleeps)


def test_a_retry_after_longer_than_the_policy_allows_is_not_waited_for() -> None:
    fake = FakeTime()
    recorder = Recorder(lambda request: httpx.Response(503, headers={"Retry-After": "3600"}))
    report = upload(client(recorder, fake), items(range(2, 4)))

    assert outcomes(report) == {2: Outcome.FAILED, 3: Outcome.FAILED}
    assert fake.sleeps == []
    assert report.requests == 1


def test_the_wait_between_attempts_grows() -> None:
    fake = FakeTime()
    policy = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=100.0)
    recorder = Recorder(FAULTS["500"])
    upload(client(recorder, fake, retry=policy), items(range(2, 3)))
    assert len(fake.sleeps) == 5
    # Full jitter: each wait is at most its doubling ceiling.
    assert all(0 <= wait <= 2**n for n, wait in enumerate(fake.sleeps))


# --- the deadline ---------------------------------------------------------------------------


def test_no_batch_starts_when_the_deadline_is_near_and_those_rows_come_back_unsent() -> None:
    fake = FakeTime()

    def one_second(request: httpx.Request) -> httpx.Response:
        fake.now += 1.0
        return accept_all(request)

    recorder = Recorder(one_second)
    rows = items(range(2, 12))
    report = upload(client(recorder, fake, batch_size=2, concurrency=1), rows, deadline=fake.now + 2.5)

    # After the first request took 1 s, a second fits before the deadline, a third does not.
    assert len(recorder.bodies) == 2
    assert outcomes(report) == dict.fromkeys(range(2, 6), Outcome.UPLOADED)
    assert [unsent.row for unsent in report.unsent] == list(range(6, 12))


def test_no_retry_begins_whose_wait_would_pass_the_deadline() -> None:
    fake = FakeTime()
    recorder = Recorder(lambda request: httpx.Response(429, headers={"Retry-After": "10"}))
    report = upload(client(recorder, fake), items(range(2, 4)), deadline=fake.now + 5)

    assert fake.sleeps == []
    assert outcomes(report) == {2: Outcome.FAILED, 3: Outcome.FAILED}
    assert all("no time left" in message for message in messages(report).values())
    assert report.unsent == []


def test_a_deadline_already_passed_sends_nothing() -> None:
    fake = FakeTime()
    recorder = Recorder(accept_all)
    rows = items(range(2, 6))
    report = upload(client(recorder, fake), rows, deadline=fake.now)
    assert recorder.bodies == []
    assert report.results == []
    assert report.unsent == rows


# --- 413 ------------------------------------------------------------------------------------


def test_a_batch_too_large_is_halved_and_the_rest_of_the_call_uses_the_smaller_size() -> None:
    def at_most_three(request: httpx.Request) -> httpx.Response:
        if len(customers_of(request)) > 3:
            return httpx.Response(413, text="Request Entity Too Large")
        return accept_all(request)

    recorder = Recorder(at_most_three)
    report = upload(client(recorder, batch_size=8, concurrency=1), items(range(2, 34)))

    assert outcomes(report) == dict.fromkeys(range(2, 34), Outcome.UPLOADED)
    sizes = [len(body["customers"]) for body in recorder.bodies]
    # 8 -> 4 -> 2: then the batch size stays at 2 for the rest of the call.
    assert sizes[:3] == [8, 4, 2]
    assert sum(1 for size in sizes if size > 3) == 2
    assert report.created == 32


# --- finding the rows CallMarker refused ----------------------------------------------------

BAD = {number(5), number(11), number(12)}


def counting_not_valid(request: httpx.Request) -> httpx.Response:
    sent = [c["number"] for c in customers_of(request)]
    bad = sum(1 for n in sent if n in BAD)
    return ok(len(sent) - bad, not_valid=bad)


def test_rows_are_told_in_the_jobs_language_with_callmarkers_words_and_numbers_set_apart() -> None:
    report = upload(
        client(Recorder(counting_not_valid), batch_size=16, t=translator("he")), items(range(2, 18))
    )
    assert report.results
    message = next(r.message for r in report.results if r.row == 5)
    assert message == f"CallMarker לא קיבל את המספר \u2068{number(5)}\u2069 (לא תקין)"

    stopped = upload(
        client(Recorder(lambda request: refuse("Invalid token", status=401)), t=translator("he")),
        items(range(2, 4)),
    )
    assert {r.message for r in stopped.results} == {"CallMarker דחה את הבקשה: \u2068Invalid token\u2069"}


def test_not_valid_customers_are_isolated_by_splitting() -> None:
    recorder = Recorder(counting_not_valid)
    report = upload(client(recorder, batch_size=16), items(range(2, 18)))

    bad_rows = {5, 11, 12}
    assert outcomes(report) == {
        row: Outcome.REJECTED if row in bad_rows else Outcome.UPLOADED for row in range(2, 18)
    }
    assert messages(report)[5] == f"CallMarker did not accept the number {number(5)} (not valid)"
    assert report.split_requests > 0
    assert report.requests == 1 + report.split_requests
    # The first answer's counts, not those of the re-sent halves.
    assert (report.created, report.refused) == (13, 3)


def test_a_field_naming_the_not_valid_numbers_saves_the_splitting() -> None:
    def naming(request: httpx.Request) -> httpx.Response:
        sent = [c["number"] for c in customers_of(request)]
        bad = [n for n in sent if n in BAD]
        return ok(len(sent) - len(bad), not_valid=len(bad), invalid_numbers=bad)

    report = upload(client(Recorder(naming), batch_size=16), items(range(2, 18)))
    assert {row for row, outcome in outcomes(report).items() if outcome is Outcome.REJECTED} == {5, 11, 12}
    assert report.split_requests == 0
    assert report.requests == 1


def test_per_customer_errors_with_reasons_are_shown() -> None:
    def naming(request: httpx.Request) -> httpx.Response:
        sent = [c["number"] for c in customers_of(request)]
        errors = [{"number": n, "error": "number too short"} for n in sent if n in BAD]
        return ok(len(sent) - len(errors), not_valid=len(errors), errors=errors)

    report = upload(client(Recorder(naming), batch_size=16), items(range(2, 18)))
    assert messages(report)[11] == f"CallMarker did not accept the number {number(11)} (number too short)"
    assert report.split_requests == 0


@pytest.mark.parametrize("names", ["a number not sent", "fewer numbers than the count"])
def test_a_field_that_does_not_match_the_count_is_not_trusted(names: str) -> None:
    def misleading(request: httpx.Request) -> httpx.Response:
        response = counting_not_valid(request)
        sent_bad = [c["number"] for c in customers_of(request) if c["number"] in BAD]
        named = ["0500000000"] if names == "a number not sent" else sent_bad[:1]
        return httpx.Response(200, json={**response.json(), "invalid_numbers": named})

    report = upload(client(Recorder(misleading), batch_size=16), items(range(2, 18)))
    assert {row for row, outcome in outcomes(report).items() if outcome is Outcome.REJECTED} == {5, 11, 12}


def test_rows_refused_by_a_failing_batch_are_found_by_splitting() -> None:
    def refusing(request: httpx.Request) -> httpx.Response:
        if any(c["number"] in BAD for c in customers_of(request)):
            return refuse("Invalid phone number format")
        return accept_all(request)

    report = upload(client(Recorder(refusing), batch_size=16), items(range(2, 18)))

    assert outcomes(report) == {
        row: Outcome.REJECTED if row in {5, 11, 12} else Outcome.UPLOADED for row in range(2, 18)
    }
    assert messages(report)[5] == "Invalid phone number format"
    assert report.fatal is None
    assert report.created == 13


def test_a_message_naming_the_customer_isolates_it_directly() -> None:
    def refusing(request: httpx.Request) -> httpx.Response:
        for index, customer in enumerate(customers_of(request)):
            if customer["number"] in BAD:
                return refuse(f"customers[{index}].followup_date: invalid date format")
        return accept_all(request)

    report = upload(client(Recorder(refusing), batch_size=16), items(range(2, 18)))

    assert {row for row, outcome in outcomes(report).items() if outcome is Outcome.REJECTED} == {5, 11, 12}
    assert messages(report)[12] == "followup_date: invalid date format"
    # Each refused customer costs two requests: itself alone, and the rest.
    assert report.split_requests == 6
    assert report.fatal is None


def test_rows_left_unsettled_when_the_split_budget_is_spent_are_failed_never_rejected() -> None:
    def refusing(request: httpx.Request) -> httpx.Response:
        if any(c["number"] in BAD for c in customers_of(request)):
            return refuse("Invalid phone number format")
        return accept_all(request)

    report = upload(client(Recorder(refusing), batch_size=16, max_split_requests=2), items(range(2, 18)))

    assert report.split_requests == 2
    assert report.requests == 3
    assert len(report.results) == 16
    result = outcomes(report)
    # The batch, then its halves (8 and 8): both refused, and no request left to look inside them.
    assert result == dict.fromkeys(range(2, 18), Outcome.FAILED)
    for message in messages(report).values():
        assert message.startswith("Not confirmed by CallMarker: its answer did not say whether this row")
        assert "safe to upload again" in message
        assert "Invalid phone number format" not in message  # another row's refusal is not this row's


# --- refusals of the request as a whole -----------------------------------------------------


@pytest.mark.parametrize("message", ["Invalid token", "Campaign 99 not found", "Agent is not assigned"])
def test_a_refusal_of_every_customer_alike_stops_the_job_whatever_its_words(message: str) -> None:
    recorder = Recorder(lambda request: refuse(message))
    rows = items(range(2, 12))
    report = upload(client(recorder, batch_size=2, concurrency=1), rows)

    # [2, 3] refused; 2 alone, 3 alone refused alike; [4, 5] refused; 4 alone: the third alike.
    assert [len(body["customers"]) for body in recorder.bodies] == [2, 1, 1, 2, 1]
    assert report.fatal == CallMarkerRequestError(message)
    result = outcomes(report)
    assert {row for row, o in result.items() if o is Outcome.REJECTED} == {2, 3, 4}
    assert messages(report)[2] == message
    # Every other row has an outcome that says the upload stopped and that it is safe to send again.
    assert {row for row, o in result.items() if o is Outcome.FAILED} == set(range(5, 12))
    assert messages(report)[9] == (
        f"Not uploaded: the upload stopped because CallMarker refused every customer alike ({message}). "
        "Safe to upload again once that is fixed."
    )
    assert report.unsent == []


def test_one_customer_refused_with_words_about_the_campaign_does_not_stop_the_job() -> None:
    bad = number(7)

    def refusing(request: httpx.Request) -> httpx.Response:
        if any(c["number"] == bad for c in customers_of(request)):
            return refuse("The customer could not be added to the campaign")
        return accept_all(request)

    report = upload(client(Recorder(refusing), batch_size=8), items(range(2, 26)))
    assert report.fatal is None
    assert outcomes(report) == {
        row: Outcome.REJECTED if row == 7 else Outcome.UPLOADED for row in range(2, 26)
    }
    assert messages(report)[7] == "The customer could not be added to the campaign"


def test_refusals_alike_with_an_acceptance_between_them_are_not_of_the_request() -> None:
    bad = {number(2), number(3), number(5), number(6)}

    def refusing(request: httpx.Request) -> httpx.Response:
        if any(c["number"] in bad for c in customers_of(request)):
            return refuse("Invalid email")
        return accept_all(request)

    report = upload(client(Recorder(refusing), batch_size=2, concurrency=1), items(range(2, 10)))
    assert report.fatal is None
    assert {row for row, o in outcomes(report).items() if o is Outcome.REJECTED} == {2, 3, 5, 6}


@pytest.mark.parametrize("status", [401, 403])
def test_an_unauthorised_answer_stops_the_job(status: int) -> None:
    recorder = Recorder(lambda request: refuse("Invalid token", status))
    report = upload(client(recorder, batch_size=2, concurrency=1), items(range(2, 8)))

    assert len(recorder.bodies) == 1
    assert report.fatal == CallMarkerRequestError("Invalid token", status_code=status)
    assert len(report.results) + len(report.unsent) == 6
    assert report.retries == 0


def test_a_wrong_base_url_stops_the_job() -> None:
    recorder = Recorder(lambda request: httpx.Response(404, text="<html>Not Found</html>"))
    report = upload(client(recorder, batch_size=2, concurrency=1), items(range(2, 8)))
    assert report.fatal == CallMarkerRequestError("CallMarker answered HTTP 404", status_code=404)
    assert len(recorder.bodies) == 1


def test_an_unknown_refusal_of_every_request_is_found_to_be_request_level() -> None:
    recorder = Recorder(lambda request: refuse("Account suspended"))
    report = upload(client(recorder, batch_size=8, concurrency=1), items(range(2, 34)))

    assert report.fatal == CallMarkerRequestError("Account suspended")
    # 8, then 4, 2, 1, 1, then 2, 1: three customers refused alone alike; no other batch is tried.
    assert [len(body["customers"]) for body in recorder.bodies] == [8, 4, 2, 1, 1, 2, 1]
    result = outcomes(report)
    assert {row for row, o in result.items() if o is Outcome.REJECTED} == {2, 3, 4}
    assert {row for row, o in result.items() if o is Outcome.FAILED} == set(range(5, 34))


def test_two_refused_rows_in_both_halves_are_not_taken_for_a_request_level_error() -> None:
    bad = {number(3), number(8)}

    def refusing(request: httpx.Request) -> httpx.Response:
        if any(c["number"] in bad for c in customers_of(request)):
            return refuse("Invalid email address")
        return accept_all(request)

    report = upload(client(Recorder(refusing), batch_size=8), items(range(2, 10)))
    assert report.fatal is None
    assert outcomes(report) == {
        row: Outcome.REJECTED if row in {3, 8} else Outcome.UPLOADED for row in range(2, 10)
    }


def test_a_request_level_error_in_one_worker_stops_the_others() -> None:
    def refusing_campaign(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content).get("campaign") == "99":
            return refuse("Unknown campaign")
        return accept_all(request)

    rows = items(range(2, 6), RequestOptions(campaign="99")) + items(range(6, 400))
    recorder = Recorder(refusing_campaign)
    report = upload(client(recorder, batch_size=4, concurrency=2), rows)

    assert report.fatal == CallMarkerRequestError("Unknown campaign")
    # The other worker finishes what it has in flight and starts nothing more.
    assert len(recorder.bodies) < 20
    assert sorted(result.row for result in report.results) == list(range(2, 400))
    assert report.unsent == []


# --- secrets and logs -----------------------------------------------------------------------


def test_the_token_and_the_numbers_never_reach_a_message_a_report_or_a_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0

    def echoing(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        token = json.loads(request.content)["token"]
        sent = customers_of(request)
        if calls == 1:
            return httpx.Response(500, text=f"<pre>token={token}</pre>")
        if any(c["number"] == number(3) for c in sent):
            return refuse(f"customers[0].number: {number(3)} is not valid for token {token}")
        if calls > 6:
            return refuse(f"Invalid token {token}", 401)
        return ok(len(sent))

    caplog.set_level(logging.DEBUG, logger="callmarker_sheets")
    cm = client(Recorder(echoing), batch_size=2, concurrency=1)
    report = upload(cm, items(range(2, 20)))

    assert report.fatal is not None
    assert report.fatal.status_code == 401
    texts = [repr(cm), repr(report), str(report.fatal), repr(report.fatal)]
    texts += [result.message for result in report.results]
    for record in caplog.records:
        texts.append(record.getMessage())
        texts.extend(repr(value) for value in vars(record).values())
    assert texts
    assert not [text for text in texts if TOKEN in text]
    logged = [record.getMessage() for record in caplog.records]
    assert len(logged) >= 7
    assert not [text for text in logged for row in range(2, 20) if number(row) in text]


def test_one_log_record_per_request_with_its_figures(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="callmarker_sheets.callmarker")
    upload(client(Recorder(failing_first(FAULTS["503"])), concurrency=1), items(range(2, 5)))

    records = [record for record in caplog.records if hasattr(record, "attempt")]
    assert [(r.attempt, r.http_status, r.customers) for r in records] == [(1, 503, 3), (2, 200, 3)]  # type: ignore[attr-defined]
    assert records[1].counts == {"created": 3, "restored": 0, "refused": 0}  # type: ignore[attr-defined]
    # a failed request is a warning; one that went well is a detail (a step holds a hundred of them)
    assert [r.levelno for r in records] == [logging.WARNING, logging.DEBUG]


def test_requests_that_went_well_leave_no_line_at_info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="callmarker_sheets.callmarker")
    upload(client(Recorder(failing_first(FAULTS["503"])), concurrency=1), items(range(2, 5)))

    records = [record for record in caplog.records if hasattr(record, "attempt")]
    assert [(r.attempt, r.http_status) for r in records] == [(1, 503)]  # type: ignore[attr-defined]
    summary = next(record for record in caplog.records if hasattr(record, "sends_per_customer"))
    assert summary.sends_per_customer == {"mean": 2.0, "max": 2}


# --- answers this tool cannot read ----------------------------------------------------------

UNREADABLE: dict[str, Handler] = {
    "200 html": lambda request: httpx.Response(200, text="<html><body>We'll be back soon</body></html>"),
    "200 empty": lambda request: httpx.Response(200),
    "200 truncated json": lambda request: httpx.Response(200, text='{"success": tr'),
    "200 json without success": lambda request: httpx.Response(200, json={"status": "ok"}),
    "200 success neither true nor false": lambda request: httpx.Response(200, json={"success": "maybe"}),
}


@pytest.mark.parametrize("shape", list(UNREADABLE))
def test_an_unreadable_answer_is_not_retried_and_its_rows_fail_with_an_excerpt(shape: str) -> None:
    recorder = Recorder(failing_first(UNREADABLE[shape]))
    report = upload(client(recorder, concurrency=1), items(range(2, 7)))

    assert report.requests == 1  # CallMarker may have stored them: not sent again as for an outage
    assert outcomes(report) == dict.fromkeys(range(2, 7), Outcome.FAILED)
    message = messages(report)[2]
    assert message.startswith("CallMarker answered something this tool cannot read (")
    assert message.endswith("); not confirmed, safe to retry")
    assert report.unavailable is None
    assert report.unreadable is None


def test_unreadable_answers_several_times_in_a_row_stop_the_upload() -> None:
    recorder = Recorder(UNREADABLE["200 html"])
    report = upload(client(recorder, batch_size=2, concurrency=1), items(range(2, 20)))

    assert len(recorder.bodies) == 3
    assert report.unreadable is not None
    assert (
        visible(report.unreadable.message)
        == "CallMarker answered something this tool cannot read (We'll be back soon)"
    )
    assert outcomes(report) == dict.fromkeys(range(2, 20), Outcome.FAILED)
    assert messages(report)[19] == (
        "Not uploaded: the upload stopped because CallMarker answered something this tool cannot read, "
        "3 times in a row. Safe to upload again once that is fixed."
    )


def test_a_readable_answer_between_unreadable_ones_keeps_the_upload_going() -> None:
    calls = 0

    def every_other(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return UNREADABLE["200 empty"](request) if calls % 2 else accept_all(request)  # type: ignore[return-value]

    report = upload(client(Recorder(every_other), batch_size=2, concurrency=1), items(range(2, 22)))
    assert report.unreadable is None
    assert len(report.results) == 20
    assert sum(o is Outcome.UPLOADED for o in outcomes(report).values()) == 10


# --- fewer re-sends -------------------------------------------------------------------------


def test_a_count_of_refusals_is_found_without_sending_the_half_it_settles() -> None:
    bad = number(3)

    def counting(request: httpx.Request) -> httpx.Response:
        sent = [c["number"] for c in customers_of(request)]
        return ok(len(sent) - (bad in sent), not_valid=int(bad in sent))

    recorder = Recorder(counting)
    report = upload(client(recorder, batch_size=16), items(range(2, 18)))

    assert outcomes(report) == {
        row: Outcome.REJECTED if row == 3 else Outcome.UPLOADED for row in range(2, 18)
    }
    # 16, then the first half of each part that still holds the refusal: 8, 4, 2, 1.
    assert [len(body["customers"]) for body in recorder.bodies] == [16, 8, 4, 2, 1]
    assert report.sends[17] == 1  # the second half of the batch was settled by the count alone
    assert max(report.sends.values()) == 5 == 1 + math.ceil(math.log2(16))


def test_the_part_sent_to_find_counted_refusals_is_sized_to_hold_about_one() -> None:
    bad = {number(row) for row in (5, 20, 33)}

    def counting(request: httpx.Request) -> httpx.Response:
        sent = [c["number"] for c in customers_of(request)]
        wrong = sum(n in bad for n in sent)
        return ok(len(sent) - wrong, not_valid=wrong)

    recorder = Recorder(counting)
    report = upload(client(recorder, batch_size=40), items(range(2, 42)))

    assert {row for row, o in outcomes(report).items() if o is Outcome.REJECTED} == {5, 20, 33}
    sizes = [len(body["customers"]) for body in recorder.bodies]
    assert sizes[:2] == [40, 10]  # three counted among 40: a first part of a quarter
    assert sum(sizes[1:]) < 40 * 2  # fewer re-sends than halving down to each of them
    assert max(report.sends.values()) <= 1 + math.ceil(math.log2(40))


def test_customers_of_an_accepted_request_are_never_sent_again() -> None:
    bad = {number(4), number(9), number(13)}

    def refusing(request: httpx.Request) -> httpx.Response:
        if any(c["number"] in bad for c in customers_of(request)):
            return refuse("Invalid data")
        return accept_all(request)

    recorder = Recorder(refusing)
    upload(client(recorder, batch_size=16), items(range(2, 18)))
    accepted: set[str] = set()
    for body in recorder.bodies:
        sent = {c["number"] for c in body["customers"]}
        assert not sent & accepted
        if not sent & bad:
            accepted |= sent


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=40),
    bad_share=st.floats(min_value=0, max_value=1),
    seed=st.integers(0, 10**6),
    style=st.sampled_from(["counted", "refused", "named"]),
)
def test_without_faults_no_customer_is_sent_more_than_once_per_halving(
    size: int, bad_share: float, seed: int, style: str
) -> None:
    chooser = random.Random(seed)
    rows = list(range(2, size + 2))
    bad = {number(row) for row in rows if chooser.random() < bad_share}

    def answer(request: httpx.Request) -> httpx.Response:
        sent = [c["number"] for c in customers_of(request)]
        wrong = [i for i, n in enumerate(sent) if n in bad]
        if style == "counted":
            return ok(len(sent) - len(wrong), not_valid=len(wrong))
        if not wrong:
            return accept_all(request)
        if style == "named":
            return refuse(f"customers[{wrong[0]}].email: invalid")
        return refuse("Invalid data")

    report = upload(client(Recorder(answer), batch_size=size, max_split_requests=10_000), items(rows))

    assert max(report.sends.values()) <= 1 + math.ceil(math.log2(size))
    result = outcomes(report)
    if report.fatal is None:
        assert result == {row: Outcome.REJECTED if number(row) in bad else Outcome.UPLOADED for row in rows}
    else:  # every customer refused alike: the upload stopped, and no good row was called rejected
        assert style == "refused"
        assert all(number(row) in bad for row, o in result.items() if o is Outcome.REJECTED)
        assert Outcome.UPLOADED not in result.values() or len(bad) < size


def test_a_per_customer_list_in_any_nesting_saves_the_splitting() -> None:
    def listing(request: httpx.Request) -> httpx.Response:
        sent = [c["number"] for c in customers_of(request)]
        results = [{"phone": n, "status": "failed" if n in BAD else "created"} for n in sent]
        return httpx.Response(200, json={"success": True, "message": "Done", "data": {"results": results}})

    report = upload(client(Recorder(listing), batch_size=16), items(range(2, 18)))
    assert {row for row, o in outcomes(report).items() if o is Outcome.REJECTED} == {5, 11, 12}
    assert report.requests == 1
    assert set(report.sends.values()) == {1}


def test_a_frameworks_422_naming_customers_rejects_them_and_uploads_the_rest() -> None:
    def validating(request: httpx.Request) -> httpx.Response:
        sent = [c["number"] for c in customers_of(request)]
        errors = {f"customers.{i}.number": ["The number is invalid."] for i, n in enumerate(sent) if n in BAD}
        if errors:
            return httpx.Response(422, json={"message": "The given data was invalid.", "errors": errors})
        return accept_all(request)

    report = upload(client(Recorder(validating), batch_size=16), items(range(2, 18)))
    assert outcomes(report) == {
        row: Outcome.REJECTED if row in {5, 11, 12} else Outcome.UPLOADED for row in range(2, 18)
    }
    assert messages(report)[11] == "The number is invalid."
    assert report.fatal is None
    assert max(report.sends.values()) == 2


def test_a_count_larger_than_the_list_finds_the_rest_by_count() -> None:
    def partly_named(request: httpx.Request) -> httpx.Response:
        sent = [c["number"] for c in customers_of(request)]
        bad = [n for n in sent if n in BAD]
        return ok(len(sent) - len(bad), not_valid=len(bad), invalid_numbers=bad[:1])

    report = upload(client(Recorder(partly_named), batch_size=16), items(range(2, 18)))
    assert {row for row, o in outcomes(report).items() if o is Outcome.REJECTED} == {5, 11, 12}
    assert max(report.sends.values()) <= 5


def test_a_rows_message_is_about_it_cut_short_and_without_the_token() -> None:
    def wordy(request: httpx.Request) -> httpx.Response:
        token = json.loads(request.content)["token"]
        return refuse(f"Refused for token {token}: " + "this is why " * 100)

    report = upload(client(Recorder(wordy), concurrency=1), items([2]))
    message = messages(report)[2]
    assert len(message) == 300
    assert message.endswith("…")
    assert TOKEN not in message
    assert message.startswith("Refused for token ***: this is why")


def test_rows_left_unsettled_when_the_time_runs_out_are_failed_and_say_so() -> None:
    fake = FakeTime()

    def slow_counting(request: httpx.Request) -> httpx.Response:
        fake.now += 1.0
        return counting_not_valid(request)

    report = upload(client(Recorder(slow_counting), fake, batch_size=16), items(range(2, 18)), fake.now + 2.5)
    result = outcomes(report)
    assert len(result) == 16
    assert report.unsent == []
    unsettled = [m for m in messages(report).values() if "no time left" in m]
    assert unsettled
    assert all(m.startswith("Not confirmed by CallMarker: its answer did not say") for m in unsettled)
    assert {row for row, o in result.items() if o is Outcome.REJECTED} <= {5, 11, 12}


def test_sends_count_every_request_that_carried_a_row() -> None:
    report = upload(
        client(Recorder(failing_first(FAULTS["503"], times=2)), concurrency=1), items(range(2, 5))
    )
    assert report.sends == {2: 3, 3: 3, 4: 3}
    assert report.sends_per_customer() == (3.0, 3)
    assert UploadReport().sends_per_customer() == (0.0, 0)


def test_words_about_several_customers_keep_only_each_rows_own_number() -> None:
    def naming_two(request: httpx.Request) -> httpx.Response:
        sent = [c["number"] for c in customers_of(request)]
        named = [n for n in sent if n in (number(3), number(4))]
        if named:
            return refuse(f"Numbers {' and '.join(named)} are blocked")
        return accept_all(request)

    report = upload(client(Recorder(naming_two)), items(range(2, 6)))
    assert messages(report)[3] == f"Numbers {number(3)} and *** are blocked"
    assert messages(report)[4] == f"Numbers *** and {number(4)} are blocked"
    assert outcomes(report) == {
        2: Outcome.UPLOADED,
        3: Outcome.REJECTED,
        4: Outcome.REJECTED,
        5: Outcome.UPLOADED,
    }


def test_a_message_shared_by_the_rows_of_a_request_names_no_customer() -> None:
    saved = f"Saved, last one was {number(3)}"
    recorder = Recorder(lambda request: httpx.Response(200, json={"success": True, "message": saved}))
    report = upload(client(recorder), items([2, 3]))
    assert set(messages(report).values()) == {
        "CallMarker took the request but did not confirm each customer: Saved, last one was ***"
    }
