"""The CallMarker client against the CallMarker emulator, in-process: what ends up in CallMarker."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from typing import Any

import pytest

from callmarker_sheets.callmarker import CallMarkerClient, CallMarkerRequestError, UploadReport
from callmarker_sheets.model import Outcome, RequestOptions, UploadItem
from callmarker_sheets.retry import RetryPolicy
from tests.emulators.callmarker import CallMarkerEmulator, create_app
from tests.emulators.callmarker.transport import AsyncEmulatorTransport
from tests.words import visible

BASE = "http://callmarker.emulator/api/v1"
TOKEN = "t0k-emulated-8d2b"
FAST = RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.005)
FLAGS = ("override", "remove", "unique", "international")
CAMPAIGN = RequestOptions(campaign="11", agent_name="Garret Robel", override=True)
PLAIN = RequestOptions()
# CallMarker counts these as not valid (too short, not local): they must end REJECTED, not uploaded.
NOT_VALID_ROWS = frozenset({40, 2777, 6001, 9998})


@pytest.fixture
def app() -> Iterator[CallMarkerEmulator]:
    emulator = create_app(tokens=[TOKEN], campaigns={"11": ["Garret Robel"]})
    yield emulator
    emulator.close()


def client(app: CallMarkerEmulator, **options: Any) -> CallMarkerClient:
    options.setdefault("retry", FAST)
    return CallMarkerClient(
        BASE, options.pop("token", TOKEN), transport=AsyncEmulatorTransport(app), **options
    )


def upload(cm: CallMarkerClient, rows: list[UploadItem]) -> UploadReport:
    return asyncio.run(cm.upload(rows))


def number(row: int) -> str:
    return "12-34" if row in NOT_VALID_ROWS else f"05{row:08d}"


def lead(row: int) -> UploadItem:
    """A row as validation would hand it over: a third go to campaign 11, the rest without a campaign."""
    options = CAMPAIGN if row % 3 == 0 else PLAIN
    customer: dict[str, Any] = {
        "number": number(row),
        "name": f"ישראל {row}",
        "last_name": "Israeli",
        "email": f"lead{row}@example.co.il",
        "crm_id": str(100000 + row),
        "note": "=not a formula",
    }
    if options is CAMPAIGN:
        customer["custom_field_7"] = f"source {row % 5}"
    return UploadItem(row, options, customer)


def job(rows: int = 10_000) -> list[UploadItem]:
    return [lead(row) for row in range(2, rows + 2)]


def plain_job(rows: int) -> list[UploadItem]:
    return [UploadItem(row.row, PLAIN, row.customer) for row in job(rows)]


def by_outcome(report: UploadReport) -> dict[Outcome, set[int]]:
    rows = [result.row for result in report.results]
    assert len(rows) == len(set(rows)), "a row got two results"
    grouped: dict[Outcome, set[int]] = {}
    for result in report.results:
        grouped.setdefault(result.outcome, set()).add(result.row)
    return grouped


def assert_held_as_sent(app: CallMarkerEmulator, items: list[UploadItem]) -> None:
    customers = app.backend.state()["customers"]
    for sent in items:
        held = customers.get(sent.customer["number"])
        assert held is not None, f"row {sent.row} is not in CallMarker"
        assert {key: held.get(key) for key in sent.customer if key != "number"} == {
            key: value for key, value in sent.customer.items() if key != "number"
        }
        if sent.options is CAMPAIGN:
            assert held["campaigns"] == {"11": 1}
            assert held["agents"] == {"11": "Garret Robel"}
        else:
            assert held["campaigns"] == {}


def assert_no_flag_off(app: CallMarkerEmulator) -> None:
    for request in app.requests:
        body = request["body"]
        assert body["token"] != TOKEN  # the emulator's log redacts it
        for flag in FLAGS:
            assert body.get(flag, True) is True, f"{flag} sent while off"
        if "campaign" not in body:
            assert not set(FLAGS) & set(body)


def test_a_ten_thousand_row_job_lands_once_with_the_data_sent(app: CallMarkerEmulator) -> None:
    rows = job()
    report = upload(client(app), rows)

    valid = [row for row in rows if row.row not in NOT_VALID_ROWS]
    outcomes = by_outcome(report)
    assert outcomes == {Outcome.UPLOADED: {row.row for row in valid}, Outcome.REJECTED: set(NOT_VALID_ROWS)}
    assert report.unsent == []
    assert report.fatal is None
    # Each valid row is one customer, held once, with what was sent.
    assert len(app.backend.state()["customers"]) == len(valid)
    assert_held_as_sent(app, valid)
    assert (report.created, report.restored, report.refused) == (len(valid), 0, len(NOT_VALID_ROWS))
    rejected = {
        result.row: visible(result.message) for result in report.results if result.row in NOT_VALID_ROWS
    }
    assert rejected[40] == "CallMarker did not accept the number 12-34 (not valid)"
    assert_no_flag_off(app)
    batches = sum(
        math.ceil(sum(1 for row in rows if row.options is group) / 500) for group in (PLAIN, CAMPAIGN)
    )
    assert report.requests == len(app.requests) == batches + report.split_requests
    assert report.split_requests <= 4 * 2 * 10


def test_a_job_with_a_fifth_of_the_requests_failing_ends_with_every_valid_row_uploaded(
    app: CallMarkerEmulator,
) -> None:
    app.configure(
        # Every kind of fault once, then a fifth of the requests at random.
        next=["429", "500", "503", "502", "malformed", "drop", "hang"],
        rate_429=0.04,
        retry_after=0,
        rate_500=0.03,
        rate_503=0.03,
        rate_502_html=0.03,
        rate_malformed=0.03,
        rate_drop=0.02,
        rate_hang=0.02,
        hang_seconds=5,
        seed=20240,
    )
    cm = client(app, batch_size=250, timeout=0.5, retry=RetryPolicy(max_attempts=3, base_delay=0.001))
    rows = job()
    uploaded: set[int] = set()
    pending = rows
    reports = []
    for _ in range(5):
        report = upload(cm, pending)
        reports.append(report)
        outcomes = by_outcome(report)
        assert report.fatal is None
        assert not outcomes.get(Outcome.UPLOADED, set()) & uploaded
        uploaded |= outcomes.get(Outcome.UPLOADED, set())
        # Nothing is called uploaded that CallMarker does not hold.
        assert_held_as_sent(app, [row for row in rows if row.row in outcomes.get(Outcome.UPLOADED, set())])
        assert outcomes.get(Outcome.REJECTED, set()) <= NOT_VALID_ROWS
        again = outcomes.get(Outcome.FAILED, set())
        pending = [row for row in pending if row.row in again] + report.unsent
        if not pending:
            break

    assert pending == []
    assert uploaded == {row.row for row in rows} - NOT_VALID_ROWS
    assert len(app.backend.state()["customers"]) == len(uploaded)
    assert_no_flag_off(app)
    faults = [request["fault"] for request in app.requests if request["fault"] is not None]
    assert set(faults) == {"429", "500", "503", "502_html", "malformed", "drop", "hang"}
    assert len(faults) >= 0.1 * len(app.requests)
    assert sum(report.retries for report in reports) > 0


def test_a_wrong_token_stops_at_the_first_request(app: CallMarkerEmulator) -> None:
    report = upload(client(app, token="not-the-token", batch_size=100, concurrency=1), plain_job(1000))

    assert report.fatal == CallMarkerRequestError("Invalid token", status_code=401)
    assert len(app.requests) == 1
    # The rows of the refused request are rejected with CallMarker's words; every other row says
    # the upload stopped before it was sent.
    assert by_outcome(report) == {Outcome.REJECTED: set(range(2, 102)), Outcome.FAILED: set(range(102, 1002))}
    messages = {result.row: visible(result.message) for result in report.results}
    assert messages[2] == "CallMarker refused the request: Invalid token"
    assert messages[500].startswith("Not uploaded: the upload stopped because CallMarker refused the request")
    assert report.unsent == []
    assert app.backend.state()["customers"] == {}


def test_an_unknown_campaign_stops_the_job_and_other_rows_are_not_lost(app: CallMarkerEmulator) -> None:
    unknown = RequestOptions(campaign="99")
    rows = [UploadItem(row, unknown, {"number": number(row)}) for row in range(300, 310)] + job(200)
    report = upload(client(app, batch_size=50, concurrency=1), rows)

    assert report.fatal == CallMarkerRequestError("campaign '99' does not exist")
    # Its rows were sent last (their batch filled last): a few halvings until three customers were
    # refused alone alike, then nothing more.
    sizes = [len(r["body"]["customers"]) for r in app.requests if r["body"].get("campaign") == "99"]
    assert sizes == [10, 5, 3, 2, 1, 1, 1]
    assert [r["body"].get("campaign") for r in app.requests][-7:] == ["99"] * 7
    assert sorted(result.row for result in report.results) == sorted(row.row for row in rows)
    outcomes = by_outcome(report)
    assert outcomes[Outcome.REJECTED] - NOT_VALID_ROWS == {300, 301, 302}
    # The other rows of campaign 99, and those whose batch had not left yet, say the upload stopped.
    sent = {c["number"] for r in app.requests for c in r["body"]["customers"]}
    never_sent = {row.row for row in rows if row.customer["number"] not in sent}
    assert outcomes[Outcome.FAILED] == set(range(303, 310)) | never_sent
    assert_held_as_sent(app, [row for row in rows if row.row in outcomes[Outcome.UPLOADED]])


def test_customers_with_a_bad_field_are_found_and_the_rest_uploaded(app: CallMarkerEmulator) -> None:
    rows = job(300)
    bad = {17: "31-02-2024", 250: "tomorrow-ish"}
    for row, date in bad.items():
        rows[row - 2].customer["followup_date"] = date
    report = upload(client(app, batch_size=100), rows)

    outcomes = by_outcome(report)
    assert outcomes[Outcome.REJECTED] == set(bad) | (NOT_VALID_ROWS & set(range(2, 302)))
    messages = {result.row: visible(result.message) for result in report.results}
    assert messages[17].startswith("followup_date: ")
    assert messages[250].startswith("followup_date: ")
    assert report.fatal is None
    assert_held_as_sent(app, [row for row in rows if row.row in outcomes[Outcome.UPLOADED]])
    assert len(outcomes[Outcome.UPLOADED]) == 300 - len(outcomes[Outcome.REJECTED])


def test_a_batch_limit_is_found_by_halving(app: CallMarkerEmulator) -> None:
    app.configure(max_batch=100)
    rows = job(2000)
    report = upload(client(app, batch_size=500, concurrency=2), rows)

    assert by_outcome(report)[Outcome.UPLOADED] == {row.row for row in rows} - NOT_VALID_ROWS
    too_large = [request for request in app.requests if request["status"] == 413]
    assert 0 < len(too_large) <= 6
    assert_held_as_sent(app, [row for row in rows if row.row not in NOT_VALID_ROWS])


def test_an_answer_lost_after_the_customers_were_stored_is_failed_then_safe_to_send_again(
    app: CallMarkerEmulator,
) -> None:
    app.configure(next=["hang"], hang_seconds=5)
    rows = plain_job(50)
    cm = client(app, timeout=0.2, retry=RetryPolicy(max_attempts=1))
    first = upload(cm, rows)

    assert by_outcome(first) == {Outcome.FAILED: {row.row for row in rows}}
    assert all("safe to retry" in result.message for result in first.results)
    stored = len(app.backend.state()["customers"])
    assert stored == 50 - len(NOT_VALID_ROWS & set(range(2, 52)))

    second = upload(cm, rows)
    assert by_outcome(second)[Outcome.UPLOADED] == {row.row for row in rows} - NOT_VALID_ROWS
    assert len(app.backend.state()["customers"]) == stored
    assert second.created == 0


def test_a_retried_request_after_a_500_does_not_duplicate(app: CallMarkerEmulator) -> None:
    app.configure(next=["500", "drop", "503"])
    rows = job(40)
    report = upload(client(app, concurrency=1), rows)

    assert by_outcome(report)[Outcome.UPLOADED] == {row.row for row in rows} - NOT_VALID_ROWS
    assert report.retries == 3
    assert len(app.backend.state()["customers"]) == 40 - len(NOT_VALID_ROWS & set(range(2, 42)))


@pytest.mark.parametrize("fault", ["malformed", "html_200", "empty_200"])
def test_an_unreadable_answer_after_storing_is_failed_once_and_safe_to_send_again(
    app: CallMarkerEmulator, fault: str
) -> None:
    app.configure(next=[fault])
    rows = plain_job(50)
    cm = client(app, concurrency=1)
    first = upload(cm, rows)

    assert by_outcome(first) == {Outcome.FAILED: {row.row for row in rows}}
    assert len(app.requests) == 1  # not retried as if CallMarker had been down
    assert all(
        r.message.startswith("CallMarker answered something this tool cannot read") for r in first.results
    )
    stored = len(app.backend.state()["customers"])
    assert stored == 50 - len(NOT_VALID_ROWS & set(range(2, 52)))

    second = upload(cm, rows)
    assert by_outcome(second)[Outcome.UPLOADED] == {row.row for row in rows} - NOT_VALID_ROWS
    assert len(app.backend.state()["customers"]) == stored
