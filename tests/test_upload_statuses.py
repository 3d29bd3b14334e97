"""What a step writes in the status columns: the country of numbers, checking, formula errors, rows CallMarker
took without confirming them, answers it cannot read, rows left unsettled. In-process, over both emulators."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from gspread.utils import ValueInputOption

from callmarker_sheets.callmarker import DEFAULT_CONCURRENCY, CallMarkerClient
from callmarker_sheets.retry import RetryPolicy
from callmarker_sheets.sheet import STATUS_COLUMNS, connect
from callmarker_sheets.upload import CallMarkerUnreadable, run_step
from tests.emulators import callmarker, sheets
from tests.emulators.callmarker.transport import AsyncEmulatorTransport
from tests.emulators.wsgi_requests import WSGIAdapter
from tests.stack import ACCOUNT, CALLMARKER_TOKEN, CAMPAIGN
from tests.test_upload import HEADERS, World, job, leads
from tests.words import visible

STATUS, MESSAGE, TIME = STATUS_COLUMNS[:3]


def world_of(rows: Sequence[Sequence[str]], *, locale: str = "iw_IL", **answers: Any) -> Iterator[World]:
    """A sheet of ``rows`` typed in as a user would (formulas are formulas) in a spreadsheet of ``locale``."""
    sheets_app = sheets.create_app(sleep=lambda _s: None)
    callmarker_app = callmarker.create_app(tokens=[CALLMARKER_TOKEN], **ACCOUNT, **answers)
    spreadsheet = sheets_app.backend.create_spreadsheet("Leads", locale=locale, time_zone="Asia/Jerusalem")
    gc = connect(Credentials(token="ya29.test"), adapter=WSGIAdapter(sheets_app))
    sheet = gc.open_by_key(spreadsheet.id).sheet1
    sheet.update([HEADERS, *map(list, rows)], "A1", value_input_option=ValueInputOption.user_entered)
    try:
        yield World(sheets_app, callmarker_app, spreadsheet.id, 0)
    finally:
        callmarker_app.close()


def columns(world: World) -> dict[int, dict[str, str]]:
    """Each row's status columns as the sheet shows them."""
    values = world.sheet_values()
    where = {name: values[0].index(name) for name in (STATUS, MESSAGE, TIME)}
    return {
        n: {name: row[i] if len(row) > i else "" for name, i in where.items()}
        for n, row in enumerate(values[1:], start=2)
    }


# --- the country of a number ----------------------------------------------------------------------


def test_an_english_sheet_reads_local_numbers_in_the_functions_default_country() -> None:
    # An en_US spreadsheet, no region in the request: Israeli numbers are Israeli (DEFAULT_REGION=IL).
    for world in world_of([[f"'054-7{i:06d}", f"Lead {i}", "Cohen", ""] for i in range(5)], locale="en_US"):
        answer = run_step(job(rows=[[2, 6]]), None, world.context())
        assert answer.counts["uploaded"] == 5
        assert set(world.statuses().values()) == {"uploaded"}


def test_the_requests_region_wins_over_the_functions_default() -> None:
    for world in world_of([[f"'054-7{i:06d}", f"Lead {i}", "Cohen", ""] for i in range(3)]):
        answer = run_step(job(rows=[[2, 4]], options={"default_region": "US"}), None, world.context())
        assert answer.counts["invalid"] == 3
        assert "is not a valid phone number for the United States" in columns(world)[2][MESSAGE]


def test_without_a_region_in_the_request_the_functions_setting_decides_not_the_sheets_locale() -> None:
    for world in world_of([[f"'054-7{i:06d}", f"Lead {i}", "Cohen", ""] for i in range(3)], locale="he_IL"):
        context = world.context()
        context.default_region = "US"
        answer = run_step(job(rows=[[2, 4]]), None, context)
        assert answer.counts["invalid"] == 3


# --- checking keeps history -----------------------------------------------------------------------


def test_checking_uploaded_rows_keeps_their_status_and_time_and_writes_the_verdict() -> None:
    for world in world_of([*leads(4), ["054-7999999", "Fresh", "", ""]]):
        run_step(job(rows=[[2, 5]], options={"campaign": CAMPAIGN}), None, world.context())
        before = columns(world)
        sheet = connect(Credentials(token="ya29.test"), adapter=WSGIAdapter(world.sheets_app))
        sheet.open_by_key(world.spreadsheet_id).sheet1.update([["Edited"]], "B3")  # row 3 changed since

        checked = run_step(job(rows=[[2, 6]], action="check"), None, world.context())

        after = columns(world)
        for row in (2, 4, 5):
            assert after[row][STATUS] == "uploaded"
            assert after[row][TIME] == before[row][TIME]
            checked_at = r"Checked \d{4}-\d\d-\d\d \d\d:\d\d: "
            kept = r"nothing wrong found \(uploaded before, unchanged since\)"
            assert re.fullmatch(checked_at + kept, visible(after[row][MESSAGE]))
        assert (after[3][STATUS], after[3][MESSAGE]) == ("valid", "Ready to upload")
        assert (after[6][STATUS], after[6][MESSAGE]) == ("valid", "Ready to upload")
        assert checked.counts["valid"] == 5
        assert "3 keep their earlier status (unchanged since)" in checked.message

        world.callmarker_app.clear_requests()
        pending = run_step(job(mode="pending", rows=None), None, world.context())
        # Only the edited row and the row never uploaded are sent: checking erased no history.
        assert pending.counts["skipped"] == 3
        assert sum(r["customers"] for r in world.callmarker_app.requests) == 2


def test_checking_an_uploaded_row_that_now_fails_validation_says_so_and_keeps_its_status() -> None:
    for world in world_of(leads(2)):
        run_step(job(rows=[[2, 3]]), None, world.context())
        answer = run_step(
            job(rows=[[2, 3]], action="check", options={"default_region": "US"}), None, world.context()
        )
        after = columns(world)
        assert after[2][STATUS] == "uploaded"
        assert "is not a valid phone number for the United States (uploaded before" in visible(
            after[2][MESSAGE]
        )
        assert answer.counts["invalid"] == 2


# --- formula errors -------------------------------------------------------------------------------


def test_a_cell_showing_a_formula_error_makes_its_row_invalid_naming_the_column_and_the_error() -> None:
    rows = [
        ["054-7000001", "=NOSUCHFUNCTION()", "Cohen", ""],
        ["054-7000002", "Dana", "=1/0", ""],
        ["=NOSUCHFUNCTION()", "Avi", "Levi", ""],
        ["054-7000004", "Noa", "Cohen", ""],
    ]
    for world in world_of(rows):
        answer = run_step(job(rows=[[2, 5]]), None, world.context())
        shown = columns(world)
        assert answer.counts["invalid"] == 3
        assert visible(shown[2][MESSAGE]) == (
            'First name: "#NAME?" is a formula error, not a value: fix the formula or type the value'
        )
        assert visible(shown[3][MESSAGE]).startswith('Last name: "#DIV/0!" is a formula error')
        assert visible(shown[4][MESSAGE]).startswith('Phone: "#NAME?" is a formula error')
        assert shown[5][STATUS] == "uploaded"
        sent = [c for r in world.callmarker_app.requests for c in r["body"]["customers"]]
        assert [c["name"] for c in sent] == ["Noa"]


# --- CallMarker took the rows without confirming them ------------------------------------------------


def test_rows_callmarker_took_without_confirming_are_sent_counted_apart_and_left_alone_when_pending() -> None:
    for world in world_of(leads(6), answers={"counts": "none"}):
        answer = run_step(job(rows=[[2, 7]]), None, world.context())
        assert answer.counts["sent"] == 6
        assert answer.counts["uploaded"] == 0
        assert answer.message == (
            "Uploaded 0 of 6 rows; 6 sent, but CallMarker did not confirm them row by row "
            "(see the CallMarker message column)."
        )
        assert answer.retry_rows == []
        assert {visible(c[MESSAGE]) for c in columns(world).values()} == {
            "CallMarker took the request but did not confirm each customer: Customers saved"
        }
        world.callmarker_app.clear_requests()
        again = run_step(job(mode="pending", rows=None), None, world.context())
        assert again.counts["skipped"] == 6
        assert world.callmarker_app.requests == []


# --- answers this tool cannot read, rows left unsettled --------------------------------------------


def test_answers_that_cannot_be_read_stop_the_job_with_that_sentence() -> None:
    for world in world_of(leads(30), rate_html_200=1.0):
        with pytest.raises(CallMarkerUnreadable) as stopped:
            run_step(job(rows=[[2, 31]]), None, world.context(batch_size=2))
        assert visible(stopped.value.message).startswith(
            "CallMarker answered something this tool cannot read (CallMarker We'll be back soon.), several "
            "times in a "
            "row, so nothing more was sent."
        )
        assert (stopped.value.http_status, stopped.value.code) == (502, "callmarker_unreadable")
        assert set(world.statuses().values()) == {"failed"}
        # The third unreadable answer stops it; requests already in flight still end.
        assert 3 <= len(world.callmarker_app.requests) < 3 + DEFAULT_CONCURRENCY


def test_rows_left_unsettled_are_failed_with_a_neutral_message_and_worth_retrying() -> None:
    refused = "0547000003"
    for world in world_of(leads(8), refused_numbers=[refused]):
        context = world.context()
        context.client = CallMarkerClient(
            "https://callmarker.test/api/v1",
            CALLMARKER_TOKEN,
            retry=RetryPolicy(max_attempts=1),
            max_split_requests=0,
            transport=AsyncEmulatorTransport(world.callmarker_app),
        )
        answer = run_step(job(rows=[[2, 9]]), None, context)

        assert answer.counts["failed"] == 8
        assert answer.counts["rejected"] == 0
        assert answer.retry_rows == [(2, 9)]
        messages = Counter(c[MESSAGE] for c in columns(world).values())
        assert list(messages) == [
            "Not confirmed by CallMarker: its answer did not say whether this row was taken, and this step "
            "had no requests left to find out; safe to upload again"
        ]
