"""The Sheets adapter at Google's limits: URLs that would be too long, retries that would outlive the step,
and a Sheets API that is not enabled for the user's token."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from google.oauth2.credentials import Credentials

from callmarker_sheets.retry import RetryPolicy
from callmarker_sheets.sheet import (
    DEFAULT_TIMEOUT,
    LATE_REQUEST_S,
    MAX_URL_BYTES,
    MIN_ATTEMPT_S,
    RetryingHTTPClient,
    Sheet,
    SheetError,
    SheetQuotaExceeded,
    SheetsApiDisabled,
    a1_block,
    batch_get_url_bytes,
    connect,
    matched_values,
)
from tests.emulators.sheets import SheetsApp, create_app
from tests.emulators.sheets.responses import seed
from tests.emulators.wsgi_requests import WSGIAdapter
from tests.test_sheet import statuses_for

TOKEN = "ya29.user-token"
#: 100 characters of Hebrew: each is 2 bytes of UTF-8, 6 characters once percent-encoded in a URL.
LONG_TITLE = ("לידים מאירוע הכנס השנתי של החברה " * 4)[:100]
PARAMS = {"valueRenderOption": "FORMATTED_VALUE"}


class Clock:
    """A clock that moves only when the client sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def spreadsheet(app: SheetsApp, title: str, rows: int) -> str:
    values = [["שם", "טלפון"], *([f"לקוח {i}", f"054-7{i:06d}"] for i in range(2, rows + 1))]
    meta = seed(
        app.backend, {"title": "Leads", "locale": "iw_IL", "sheets": [{"title": title, "values": values}]}
    )
    app.backend.reset_calls()
    return str(meta["spreadsheetId"])


def every_other_row(first: int, count: int) -> list[tuple[int, int]]:
    return [(first + 2 * i, first + 2 * i) for i in range(count)]


def test_the_url_of_101_ranges_of_a_long_hebrew_title_would_be_far_over_8_kb() -> None:
    ranges = [a1_block(LONG_TITLE, row, 1, row, 26) for row in range(1, 102)]
    assert len(LONG_TITLE) == 100
    assert batch_get_url_bytes("1" * 44, ranges, PARAMS) > 6 * MAX_URL_BYTES  # about 54 kB
    assert batch_get_url_bytes("1" * 44, ranges[:3], PARAMS) < MAX_URL_BYTES


@pytest.mark.parametrize("title", ["Leads", LONG_TITLE])
def test_a_selection_of_100_separate_rows_reads_the_same_whatever_the_title(title: str) -> None:
    app = create_app(sleep=lambda seconds: None)
    spreadsheet_id = spreadsheet(app, title, 260)
    client = connect(Credentials(TOKEN), adapter=WSGIAdapter(app))
    sheet = Sheet.open(client, spreadsheet_id, 0)
    wanted = every_other_row(3, 100)  # 101 ranges with the header row

    selection = sheet.read(wanted)

    assert [row.number for row in selection.rows] == [lo for lo, _ in wanted]
    assert [row.formatted for row in selection.rows] == [(f"לקוח {n}", f"054-7{n:06d}") for n, _ in wanted]
    calls = app.backend.calls()
    long_url = title == LONG_TITLE
    # one request per render either way: a POST with the ranges in its body when the URL would be too long
    assert calls.get("values.batchGetByDataFilter", 0) == (2 if long_url else 0)
    assert calls.get("values.batchGet", 0) == (0 if long_url else 2)


def test_statuses_are_written_on_a_sheet_with_a_long_hebrew_title() -> None:
    app = create_app(sleep=lambda seconds: None)
    spreadsheet_id = spreadsheet(app, LONG_TITLE, 40)
    sheet = Sheet.open(connect(Credentials(TOKEN), adapter=WSGIAdapter(app)), spreadsheet_id, 0)
    selection = sheet.read(every_other_row(3, 10))
    report = sheet.write(selection, statuses_for(selection), key_column=1)

    assert report.written == tuple(row.number for row in selection.rows)
    again = sheet.read([(2, 40)])
    assert [again.previous[n].status for n in report.written] == ["uploaded"] * 10


def test_matched_ranges_are_found_by_the_filter_they_name_not_by_their_order() -> None:
    answer = {
        "valueRanges": [
            {"valueRange": {"values": [["b"]]}, "dataFilters": [{"a1Range": "'S'!A2"}]},
            {"valueRange": {}, "dataFilters": [{"a1Range": "'S'!A3"}]},
            {"valueRange": {"values": [["a"]]}, "dataFilters": [{"a1Range": "'S'!A1"}]},
        ]
    }
    assert matched_values(["'S'!A1", "'S'!A2", "'S'!A3"], answer) == [[["a"]], [["b"]], []]


@pytest.mark.parametrize(
    "answer",
    [
        {"valueRanges": [{"valueRange": {"values": [["a"]]}, "dataFilters": [{"a1Range": "'S'!A1"}]}]},
        {"valueRanges": "nope"},
        [],
        {"valueRanges": [{"valueRange": {"values": "x"}, "dataFilters": [{"a1Range": "'S'!A1"}]}]},
    ],
)
def test_a_matched_answer_missing_a_range_or_malformed_is_refused(answer: object) -> None:
    with pytest.raises(SheetError):
        matched_values(["'S'!A1", "'S'!A2"], answer)


# ----------------------------------------------------------------------------------------- deadlines


def answering(responses: Iterable[tuple[int, dict[str, str], dict[str, Any]]]) -> WSGIAdapter:
    """An adapter whose app answers the given (status, headers, body) in turn, then 200 {}."""
    queue = list(responses)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        status, headers, body = queue.pop(0) if queue else (200, {}, {})
        start_response(f"{status} X", [("Content-Type", "application/json"), *headers.items()])
        return [json.dumps(body).encode()]

    return WSGIAdapter(app)


QUOTA = {"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}


def test_a_wait_that_would_pass_the_deadline_is_not_taken() -> None:
    clock = Clock()
    adapter = answering([(429, {"Retry-After": "20"}, QUOTA)] * 3)
    client = connect(
        Credentials(TOKEN),
        adapter=adapter,
        retry=RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=32.0),
        sleep=clock.sleep,
        clock=clock,
        deadline=30.0,
    )
    with pytest.raises(SheetQuotaExceeded):
        client.http_client.request("get", "https://sheets.googleapis.com/v4/spreadsheets/x")
    assert clock.waits == [20.0]  # the second 20 s wait would have ended at 40 s, past the deadline
    assert clock.now <= 30.0


def test_without_a_deadline_the_same_answers_are_waited_out() -> None:
    clock = Clock()
    adapter = answering([(429, {"Retry-After": "20"}, QUOTA)] * 3)
    client = connect(Credentials(TOKEN), adapter=adapter, sleep=clock.sleep, clock=clock)
    client.http_client.request("get", "https://sheets.googleapis.com/v4/spreadsheets/x")
    assert clock.waits == [20.0, 20.0, 20.0]


def test_an_attempt_never_runs_long_past_the_deadline() -> None:
    clock = Clock()
    http = RetryingHTTPClient(Credentials(TOKEN), deadline=45.0, clock=clock)
    assert http._attempt_timeout() == DEFAULT_TIMEOUT
    clock.now = 40.0
    assert http._attempt_timeout() == pytest.approx(45.0 + LATE_REQUEST_S - 40.0)
    clock.now = 60.0
    assert http._attempt_timeout() == MIN_ATTEMPT_S


def test_a_sheets_api_not_enabled_in_the_scripts_project_is_named_as_such() -> None:
    body = {
        "error": {
            "code": 403,
            "message": "Google Sheets API has not been used in project 123456 before or it is disabled.",
            "status": "PERMISSION_DENIED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "SERVICE_DISABLED",
                    "domain": "googleapis.com",
                    "metadata": {"service": "sheets.googleapis.com", "consumer": "projects/123456"},
                }
            ],
        }
    }
    client = connect(Credentials(TOKEN), adapter=answering([(403, {}, body)]))
    with pytest.raises(SheetsApiDisabled, match="not enabled in the script's Cloud project"):
        Sheet.open(client, "1abc", 0)


def test_the_older_access_not_configured_reason_is_read_too() -> None:
    body = {
        "error": {
            "code": 403,
            "message": "Access Not Configured.",
            "errors": [{"reason": "accessNotConfigured"}],
        }
    }
    client = connect(Credentials(TOKEN), adapter=answering([(403, {}, body)]))
    with pytest.raises(SheetsApiDisabled):
        Sheet.open(client, "1abc", 0)
