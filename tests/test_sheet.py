"""The Sheets adapter through real gspread against the Sheets emulator, in-process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from werkzeug.serving import make_server

from callmarker_sheets.retry import RetryPolicy
from callmarker_sheets.sheet import (
    STATUS_COLUMNS,
    Selection,
    Sheet,
    SheetAccessDenied,
    SheetError,
    SheetNotFound,
    SheetQuotaExceeded,
    SheetUnavailable,
    StatusUpdate,
    connect,
)
from tests.emulators.sheets import SheetsApp, create_app
from tests.emulators.sheets.responses import seed
from tests.emulators.wsgi_requests import WSGIAdapter

TOKEN = "ya29.user-oauth-token-that-must-not-leak"
HEADERS = ["שם", "טלפון", "עיר"]
TAB = "לידים"


def lead(i: int) -> list[str]:
    return [f"לקוח {i}", f"054-7{i:06d}", "חיפה" if i % 2 else "תל אביב"]


@pytest.fixture
def app() -> SheetsApp:
    return create_app(sleep=lambda seconds: None)


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def client(app: SheetsApp, waits: list[float]) -> Any:
    return connect(
        Credentials(TOKEN),
        adapter=WSGIAdapter(app),
        retry=RetryPolicy(max_attempts=4, base_delay=1.0, max_delay=8.0),
        sleep=waits.append,
    )


def new_spreadsheet(
    app: SheetsApp,
    values: list[list[Any]],
    *,
    rows: int | None = None,
    cols: int | None = None,
    locale: str = "iw_IL",
    value_input: str = "RAW",
) -> str:
    """A spreadsheet holding ``values`` from A1 of its first sheet (gid 0); call counts start at zero."""
    sheet: dict[str, Any] = {"title": TAB, "values": values, "valueInputOption": value_input}
    if rows is not None:
        sheet["rowCount"] = rows
    if cols is not None:
        sheet["columnCount"] = cols
    meta = seed(
        app.backend,
        {"title": "Leads May", "locale": locale, "timeZone": "Asia/Jerusalem", "sheets": [sheet]},
    )
    app.backend.reset_calls()
    return str(meta["spreadsheetId"])


def cells(app: SheetsApp, spreadsheet_id: str, a1: str, option: str = "FORMATTED_VALUE") -> list[list[Any]]:
    """What the sheet holds, looked at from the emulator's side (not counted as an API call)."""
    answer = app.backend.values_get(spreadsheet_id, f"'{TAB}'!{a1}", value_option=option)
    return list(answer.get("values", []))


def statuses_for(selection: Selection, status: str = "uploaded", message: str = "") -> list[StatusUpdate]:
    return [
        StatusUpdate(
            row=row.number,
            status=status,
            message=message or f"row {row.number}",
            time="2024-05-01 10:00",
            fingerprint=selection.fingerprint(row),
            key=row.formatted[1],
        )
        for row in selection.rows
    ]


def total_calls(app: SheetsApp) -> int:
    return sum(app.backend.calls().values())


# ---------------------------------------------------------------------------------------------- open


def test_open_reads_the_properties_and_checks_the_user_may_edit_in_two_calls(
    app: SheetsApp, client: Any
) -> None:
    sid = new_spreadsheet(app, [HEADERS, lead(1)], rows=40, cols=6)
    sheet = Sheet.open(client, sid, 0)
    info = sheet.info
    assert (info.title, info.sheet_title, info.gid) == ("Leads May", TAB, 0)
    assert (info.locale, info.time_zone, info.default_region) == ("iw_IL", "Asia/Jerusalem", "IL")
    assert (info.row_count, info.column_count) == (40, 6)
    assert app.backend.calls() == {"spreadsheets.get": 1, "spreadsheets.batchUpdate": 1}


def test_open_finds_a_sheet_that_is_not_the_first(app: SheetsApp, client: Any) -> None:
    sid = new_spreadsheet(app, [HEADERS])
    app.backend.batch_update(
        sid, {"requests": [{"addSheet": {"properties": {"sheetId": 777, "title": "B"}}}]}
    )
    app.backend.reset_calls()
    assert Sheet.open(client, sid, 777).info.sheet_title == "B"
    assert app.backend.calls() == {"spreadsheets.get": 1, "spreadsheets.batchUpdate": 1}


def test_an_unknown_gid_is_not_found(app: SheetsApp, client: Any) -> None:
    sid = new_spreadsheet(app, [HEADERS])
    with pytest.raises(SheetNotFound, match="gid 12345"):
        Sheet.open(client, sid, 12345)


def test_an_unknown_spreadsheet_is_not_found(client: Any) -> None:
    with pytest.raises(SheetNotFound, match="shared with you") as caught:
        Sheet.open(client, "no-such-spreadsheet", 0)
    assert caught.value.status == 404


def test_someone_elses_spreadsheet_is_access_denied_and_the_token_stays_secret(client: Any) -> None:
    with pytest.raises(SheetAccessDenied) as caught:
        Sheet.open(client, "1" + "x" * 43, 0)
    assert caught.value.status == 403
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)


def test_a_missing_or_expired_sign_in_is_access_denied(app: SheetsApp) -> None:
    sid = new_spreadsheet(app, [HEADERS])
    client = connect(Credentials(token=None), adapter=WSGIAdapter(app))
    with pytest.raises(SheetAccessDenied, match="sign-in"):
        Sheet.open(client, sid, 0)
    assert total_calls(app) == 0


# ---------------------------------------------------------------------------------------------- read


def test_a_header_row_below_the_grid_is_refused(app: SheetsApp, client: Any) -> None:
    sid = new_spreadsheet(app, [HEADERS], rows=10)
    with pytest.raises(SheetError, match="header row 11"):
        Sheet.open(client, sid, 0).read([(1, 10)], header_row=11)


def test_a_single_cell_reads_its_row_padded_to_the_headers(app: SheetsApp, client: Any) -> None:
    sid = new_spreadsheet(app, [HEADERS, lead(1), ["דנה", "0547000000"], lead(3)])
    selection = Sheet.open(client, sid, 0).read([(3, 3)])
    assert selection.headers == tuple(HEADERS)
    assert [(r.number, r.formatted) for r in selection.rows] == [(3, ("דנה", "0547000000", ""))]
    assert selection.empty_rows == ()
    assert selection.status_columns == {}
    assert selection.data_columns == (0, 1, 2)


def test_text_keeps_its_leading_zero_and_dates_come_raw_as_serials(app: SheetsApp, client: Any) -> None:
    sid = new_spreadsheet(
        app, [["שם", "טלפון", "תאריך"], ["דנה", "'0547000000", "2024-05-01"]], value_input="USER_ENTERED"
    )
    (row,) = Sheet.open(client, sid, 0).read([(2, 2)]).rows
    assert row.formatted[1] == "0547000000"
    assert row.raw[1] == "0547000000"
    assert row.raw[2] == 45413  # 2024-05-01 as a serial number, whatever the display format
    assert row.formatted[2] != ""


def test_a_block_reads_every_row_in_order(app: SheetsApp, client: Any) -> None:
    sid = new_spreadsheet(app, [HEADERS] + [lead(i) for i in range(1, 11)])
    selection = Sheet.open(client, sid, 0).read([(4, 8)])
    assert [r.number for r in selection.rows] == [4, 5, 6, 7, 8]
    assert [r.formatted for r in selection.rows] == [tuple(lead(i)) for i in range(3, 8)]


def test_several_overlapping_unsorted_ranges_read_each_row_once(app: SheetsApp, client: Any) -> None:
    sid = new_spreadsheet(app, [HEADERS] + [lead(i) for i in range(1, 21)])
    sheet = Sheet.open(client, sid, 0)
    selection = sheet.read([(15, 17), (3, 5), (4, 6), (20, 21), (9, 9)])
    assert [r.number for r in selection.rows] == [3, 4, 5, 6, 9, 15, 16, 17, 20, 21]
    assert all(r.formatted == tuple(lead(r.number - 1)) for r in selection.rows)
    assert app.backend.calls() == {"spreadsheets.get": 1, "spreadsheets.batchUpdate": 1, "values.batchGet": 2}


def test_the_whole_sheet_leaves_out_the_header_and_rows_past_the_grid(app: SheetsApp, client: Any) -> None:
    sid = new_spreadsheet(app, [HEADERS] + [lead(i) for i in range(1, 6)], rows=12)
    selection = Sheet.open(client, sid, 0).read([(1, 5000)])
    assert [r.number for r in selection.rows] == [2, 3, 4, 5, 6]
    assert selection.empty_rows == (7, 8, 9, 10, 11, 12)


def test_empty_rows_in_the_middle_are_kept_apart(app: SheetsApp, client: Any) -> None:
    sid = new_spreadsheet(app, [HEADERS, lead(1), [], ["", "  ", ""], lead(4), [], lead(6)])
    selection = Sheet.open(client, sid, 0).read([(2, 7)])
    assert [r.number for r in selection.rows] == [2, 5, 7]
    assert selection.empty_rows == (3, 4, 6)


def test_a_title_row_above_the_headers(app: SheetsApp, client: Any) -> None:
    values = [["לידים מהכנס - מאי"], [], HEADERS, lead(1), lead(2)]
    sid = new_spreadsheet(app, values)
    selection = Sheet.open(client, sid, 0).read([(1, 5)], header_row=3)
    assert selection.header_row == 3
    assert selection.headers == tuple(HEADERS)
    assert [r.number for r in selection.rows] == [4, 5]
    assert selection.empty_rows == ()


def test_status_columns_are_not_data_columns(app: SheetsApp, client: Any) -> None:
    headers = [STATUS_COLUMNS[1], "שם", STATUS_COLUMNS[0], "טלפון"]
    sid = new_spreadsheet(app, [headers, ["bad phone", "דנה", "invalid", "12"], ["old", "", "failed", ""]])
    selection = Sheet.open(client, sid, 0).read([(2, 3)])
    assert selection.status_columns == {STATUS_COLUMNS[1]: 0, STATUS_COLUMNS[0]: 2}
    assert selection.data_columns == (1, 3)
    assert selection.user_values(selection.rows[0]) == ("דנה", "12")
    # A row holding nothing but an old status has no user data.
    assert selection.empty_rows == (3,)


# --------------------------------------------------------------------------------------------- write


def test_write_creates_the_status_columns_after_the_users_columns(app: SheetsApp, client: Any) -> None:
    sid = new_spreadsheet(app, [HEADERS, lead(1), lead(2), lead(3)])
    sheet = Sheet.open(client, sid, 0)
    selection = sheet.read([(2, 4)])
    report = sheet.write(selection, statuses_for(selection), key_column=1)

    assert report.written == (2, 3, 4)
    assert report.moved == {}
    assert report.lost == ()
    assert report.columns_added == STATUS_COLUMNS
    got = cells(app, sid, "A1:G4")
    assert got[0] == [*HEADERS, *STATUS_COLUMNS]
    for i, row in enumerate(got[1:], start=1):
        assert row[:3] == lead(i)
        assert row[3:6] == ["uploaded", f"row {i + 1}", "2024-05-01 10:00"]
        assert row[6] == selection.fingerprint(selection.rows[i - 1])


def test_the_grid_is_widened_once_when_the_status_columns_do_not_fit(app: SheetsApp, client: Any) -> None:
    sid = new_spreadsheet(app, [HEADERS, lead(1), lead(2)], cols=3)
    sheet = Sheet.open(client, sid, 0)
    selection = sheet.read([(2, 3)])
    sheet.write(selection, statuses_for(selection), key_column=1)
    assert app.backend.calls() == {
        "spreadsheets.get": 1,
        "values.batchGet": 3,
        "spreadsheets.batchUpdate": 2,  # the edit check, then the widening
        "values.batchUpdate": 1,
    }
    assert cells(app, sid, "A1:G1") == [[*HEADERS, *STATUS_COLUMNS]]

    # The next time the columns are there: no widening, the same columns reused.
    app.backend.reset_calls()
    again = Sheet.open(client, sid, 0)
    selection = again.read([(2, 3)])
    report = again.write(selection, statuses_for(selection, status="failed"), key_column=1)
    assert report.columns_added == ()
    assert app.backend.calls()["spreadsheets.batchUpdate"] == 1  # the edit check only
    assert [r[3] for r in cells(app, sid, "A2:G3")] == ["failed", "failed"]


def test_status_columns_moved_by_the_user_are_reused_where_they_are(app: SheetsApp, client: Any) -> None:
    headers = [STATUS_COLUMNS[2], "שם", STATUS_COLUMNS[0], "טלפון", "הערות", STATUS_COLUMNS[3]]
    rows = [
        [headers[0], *headers[1:]],
        ["", "דנה", "", "054-7000001", "VIP"],
        ["", "אבי", "", "054-7000002", ""],
    ]
    sid = new_spreadsheet(app, rows)
    sheet = Sheet.open(client, sid, 0)
    selection = sheet.read([(2, 3)])
    assert selection.data_columns == (1, 3, 4)
    updates = [
        StatusUpdate(
            r.number, "rejected", "=campaign unknown", "10:00", selection.fingerprint(r), r.formatted[3]
        )
        for r in selection.rows
    ]
    report = sheet.write(selection, updates, key_column=3)

    assert report.columns_added == (STATUS_COLUMNS[1],)
    got = cells(app, sid, "A1:H3")
    assert got[0] == [*headers, STATUS_COLUMNS[1]]
    assert got[1] == [
        "10:00",
        "דנה",
        "rejected",
        "054-7000001",
        "VIP",
        updates[0].fingerprint,
        "=campaign unknown",
    ]
    assert got[2] == [
        "10:00",
        "אבי",
        "rejected",
        "054-7000002",
        "",
        updates[1].fingerprint,
        "=campaign unknown",
    ]


def test_new_status_columns_never_land_on_data_without_a_header(app: SheetsApp, client: Any) -> None:
    sid = new_spreadsheet(app, [HEADERS, [*lead(1), "", "a note without a header"]])
    sheet = Sheet.open(client, sid, 0)
    selection = sheet.read([(2, 2)])
    sheet.write(selection, statuses_for(selection), key_column=1)
    got = cells(app, sid, "A1:I2")
    assert got[1][:5] == [*lead(1), "", "a note without a header"]
    assert got[0][5:9] == list(STATUS_COLUMNS)
    assert got[1][5] == "uploaded"


def test_a_message_starting_with_equals_stays_text(app: SheetsApp, client: Any) -> None:
    sid = new_spreadsheet(app, [HEADERS, lead(1)])
    sheet = Sheet.open(client, sid, 0)
    selection = sheet.read([(2, 2)])
    sheet.write(selection, statuses_for(selection, status="invalid", message="=1+1"), key_column=1)
    assert cells(app, sid, "E2", option="FORMULA") == [["=1+1"]]
    assert cells(app, sid, "E2", option="FORMATTED_VALUE") == [["=1+1"]]


def test_a_second_read_sees_the_previous_status_for_pending_mode(app: SheetsApp, client: Any) -> None:
    sid = new_spreadsheet(app, [HEADERS, lead(1), lead(2)])
    sheet = Sheet.open(client, sid, 0)
    first = sheet.read([(2, 3)])
    sheet.write(first, statuses_for(first), key_column=1)
    app.backend.values_update(sid, f"'{TAB}'!C3", {"values": [["באר שבע"]]}, input_option="RAW")

    second = sheet.read([(2, 3)])
    assert second.previous[2].status == "uploaded"
    assert second.previous[2].fingerprint == second.fingerprint(second.rows[0])
    assert second.previous[3].fingerprint != second.fingerprint(second.rows[1]), "row 3 was edited"
    # The status cells do not count as user data: the unedited row's fingerprint is unchanged.
    assert second.fingerprint(second.rows[0]) == first.fingerprint(first.rows[0])


@pytest.mark.parametrize("raw_columns", [None, (1, 2)], ids=["every column raw", "some columns raw"])
def test_rows_not_kept_whole_are_read_as_narrowing_would_keep_them(
    app: SheetsApp, client: Any, raw_columns: tuple[int, ...] | None
) -> None:
    values: list[list[Any]] = [["שם", "טלפון", "תאריך", "סכום"]]
    for i in range(1, 13):
        phone = "" if i == 5 else f"'054700{i:04d}" if i % 3 else f"54700{i:04d}"
        values.append([f"לקוח {i}", phone, f"2024-05-{i:02d}", str(i * 1000)])
    values.append(["", "", "", ""])
    sid = new_spreadsheet(app, values, value_input="USER_ENTERED")
    sheet = Sheet.open(client, sid, 0)
    first = sheet.read([(2, 14)], raw_columns=raw_columns)
    sheet.write(first, statuses_for(first)[:6], key_column=1)

    kept = {3, 8, 9, 12}
    asked: list[Selection] = []

    def whole(shown: Selection) -> set[int]:
        asked.append(shown)
        return kept

    at_once = sheet.read([(2, 14)], raw_columns=raw_columns, whole=whole, key_columns=(1,))
    everything = sheet.read([(2, 14)], raw_columns=raw_columns)
    narrowed = everything.narrowed(kept, (1,))

    # what `whole` was shown: every row with anything in it, as the user sees it, with its status
    (shown,) = asked
    assert [row.formatted for row in shown.rows] == [row.formatted for row in everything.rows]
    assert shown.previous == everything.previous
    # and what was kept: the same as narrowing a whole read, raw values included
    assert at_once.rows == narrowed.rows
    assert at_once.keys == narrowed.keys
    assert at_once.previous == narrowed.previous
    assert at_once.key_columns == narrowed.key_columns == (1,)
    assert at_once.empty_rows == everything.empty_rows == (14,)
    assert 6 not in {row.number for row in at_once.keys}, "a row with a blank key cell holds no number"
    assert any(row.raw[0] != row.formatted[0] for row in at_once.keys), "a number typed without its 0"


def test_narrowing_keeps_the_rows_already_read_by_their_keys_in_sheet_order(
    app: SheetsApp, client: Any
) -> None:
    sid = new_spreadsheet(app, [HEADERS] + [lead(i) for i in range(1, 9)])
    sheet = Sheet.open(client, sid, 0)
    part = sheet.read([(2, 9)], whole=lambda shown: {3, 4, 5, 7}, key_columns=(1,))
    assert [row.number for row in part.keys] == [2, 6, 8, 9]

    narrowed = part.narrowed({4, 7}, (1,))
    assert [row.number for row in narrowed.rows] == [4, 7]
    assert [row.number for row in narrowed.keys] == [2, 3, 5, 6, 8, 9]
    assert all(row.formatted == (lead(row.number - 1)[1],) for row in narrowed.keys)


def test_statuses_follow_their_rows_when_the_sheet_is_sorted(app: SheetsApp, client: Any) -> None:
    sid = new_spreadsheet(app, [HEADERS] + [lead(i) for i in range(1, 9)])
    sheet = Sheet.open(client, sid, 0)
    selection = sheet.read([(2, 9)])
    updates = [
        StatusUpdate(r.number, "uploaded", f"for {r.formatted[1]}", "t", "fp", r.formatted[1])
        for r in selection.rows
    ]
    # The user sorts by phone, descending, while the upload runs.
    app.backend.batch_update(
        sid,
        {
            "requests": [
                {
                    "sortRange": {
                        "range": {"sheetId": 0, "startRowIndex": 1, "endRowIndex": 9},
                        "sortSpecs": [{"dimensionIndex": 1, "sortOrder": "DESCENDING"}],
                    }
                }
            ]
        },
    )
    report = sheet.write(selection, updates, key_column=1)

    assert report.lost == ()
    assert report.moved == {r: 11 - r for r in range(2, 10)}  # descending phones: the order reversed
    for phone, status, message in ((r[1], r[3], r[4]) for r in cells(app, sid, "A2:E9")):
        assert status == "uploaded"
        assert message == f"for {phone}"


def test_a_row_whose_number_was_deleted_is_lost_and_nothing_written_there(
    app: SheetsApp, client: Any
) -> None:
    sid = new_spreadsheet(app, [HEADERS] + [lead(i) for i in range(1, 6)])
    sheet = Sheet.open(client, sid, 0)
    selection = sheet.read([(2, 6)])
    updates = statuses_for(selection)
    # Row 4 (lead 3) is deleted meanwhile: rows 5 and 6 move up.
    app.backend.batch_update(
        sid,
        {
            "requests": [
                {
                    "deleteDimension": {
                        "range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 3, "endIndex": 4}
                    }
                }
            ]
        },
    )
    report = sheet.write(selection, updates, key_column=1)

    assert report.lost == (4,)
    assert report.moved == {5: 4, 6: 5}
    assert report.written == (2, 3, 4, 5)
    got = cells(app, sid, "A2:E6")
    assert [(r[1], r[4]) for r in got] == [
        (lead(1)[1], "row 2"),
        (lead(2)[1], "row 3"),
        (lead(4)[1], "row 5"),
        (lead(5)[1], "row 6"),
    ]


def test_a_key_found_on_two_rows_is_lost_rather_than_guessed(app: SheetsApp, client: Any) -> None:
    sid = new_spreadsheet(app, [HEADERS, lead(1), lead(2), lead(3)])
    sheet = Sheet.open(client, sid, 0)
    selection = sheet.read([(2, 2)])
    # Someone inserts a row above, and another row now holds the same number.
    app.backend.batch_update(
        sid,
        {
            "requests": [
                {
                    "insertDimension": {
                        "range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 1, "endIndex": 2}
                    }
                }
            ]
        },
    )
    app.backend.values_update(sid, f"'{TAB}'!A5", {"values": [lead(1)]}, input_option="RAW")
    assert [r[1] for r in cells(app, sid, "A3:C5")] == [lead(1)[1], lead(2)[1], lead(1)[1]]
    report = sheet.write(selection, statuses_for(selection), key_column=1)
    assert report.lost == (2,)
    assert report.written == ()
    assert all(len(r) <= 3 for r in cells(app, sid, "A2:G5"))


# --------------------------------------------------------------------------------- constant calls


@pytest.mark.parametrize("n", [10, pytest.param(50_000, marks=pytest.mark.slow)])
def test_open_read_and_write_cost_the_same_few_calls_for_any_size(
    app: SheetsApp, client: Any, n: int
) -> None:
    header = [*HEADERS, *STATUS_COLUMNS]
    sid = new_spreadsheet(app, [header] + [lead(i) for i in range(1, n + 1)], cols=len(header))
    sheet = Sheet.open(client, sid, 0)
    selection = sheet.read([(2, n + 1)])
    report = sheet.write(selection, statuses_for(selection), key_column=1)

    assert len(selection.rows) == n
    assert len(report.written) == n
    # The first write colours the status column and adds the filter view of problem rows: one more call.
    assert app.backend.calls() == {
        "spreadsheets.get": 1,
        "spreadsheets.batchUpdate": 2,
        "values.batchGet": 3,
        "values.batchUpdate": 1,
    }
    assert cells(app, sid, f"D{n + 1}:E{n + 1}") == [["uploaded", f"row {n + 1}"]]

    app.backend.reset_calls()
    again = Sheet.open(client, sid, 0)
    again.write(again.read([(2, n + 1)]), statuses_for(selection), key_column=1)
    assert app.backend.calls() == {
        "spreadsheets.get": 1,
        "spreadsheets.batchUpdate": 1,  # the edit check alone: the colours and the view are found
        "values.batchGet": 3,
        "values.batchUpdate": 1,
    }


def test_scattered_rows_still_cost_one_write(app: SheetsApp, client: Any) -> None:
    sid = new_spreadsheet(app, [HEADERS] + [lead(i) for i in range(1, 401)])
    sheet = Sheet.open(client, sid, 0)
    selection = sheet.read([(r, r) for r in range(2, 402, 2)])
    assert len(selection.rows) == 200
    sheet.write(selection, statuses_for(selection), key_column=1)
    assert total_calls(app) == 7  # the first write of a sheet adds its status colours and filter view
    got = cells(app, sid, "D2:D401")
    got += [[]] * (400 - len(got))  # the API leaves out trailing empty rows
    assert [row[0] if row else "" for row in got] == ["uploaded", ""] * 200


# ------------------------------------------------------------------------------------------ retries


def test_a_quota_storm_ends_with_everything_read_and_written(
    app: SheetsApp, client: Any, waits: list[float]
) -> None:
    sid = new_spreadsheet(app, [HEADERS] + [lead(i) for i in range(1, 31)])
    app.backend.set_quota(retry_after=5)
    # Three refusals before each of the five calls: the client never needs more than its four attempts.
    app.backend.inject_errors([429, 429, 503])
    sheet = Sheet.open(client, sid, 0)
    app.backend.inject_errors([429, 500, 429])
    selection = sheet.read([(2, 31)])
    app.backend.inject_errors([429, 429, 429])
    sheet.write(selection, statuses_for(selection), key_column=1)

    assert len(selection.rows) == 30
    assert [r[3] for r in cells(app, sid, "A2:G31")] == ["uploaded"] * 30
    assert len(waits) == 9
    # Retry-After is a floor for every 429; 5xx waits are full-jitter within the policy's ceiling.
    assert all(w >= 5 for w in waits[:2])
    assert 0 <= waits[2] <= 4.0


def test_429_until_the_last_attempt_is_quota_exceeded(
    app: SheetsApp, client: Any, waits: list[float]
) -> None:
    sid = new_spreadsheet(app, [HEADERS, lead(1)])
    app.backend.inject_errors([429] * 4)
    with pytest.raises(SheetQuotaExceeded, match="after 4 attempts") as caught:
        Sheet.open(client, sid, 0)
    assert caught.value.status == 429
    assert len(waits) == 3
    assert TOKEN not in str(caught.value)


def test_5xx_until_the_last_attempt_is_unavailable(app: SheetsApp, client: Any) -> None:
    sid = new_spreadsheet(app, [HEADERS, lead(1)])
    sheet = Sheet.open(client, sid, 0)
    # a read asks for its two renders at once: both fail on each of their four attempts
    app.backend.inject_errors([503, 500, 503, 503] * 2)
    with pytest.raises(SheetUnavailable, match="try again") as caught:
        sheet.read([(2, 2)])
    assert caught.value.status == 503


def test_a_server_that_does_not_answer_is_unavailable(waits: list[float]) -> None:
    client = connect(
        Credentials(TOKEN),
        emulator_host="127.0.0.1:9",  # discard port: nothing listens, the connection is refused
        retry=RetryPolicy(max_attempts=2),
        sleep=waits.append,
        timeout=5,
    )
    with pytest.raises(SheetUnavailable, match="did not answer after 2 attempts") as caught:
        Sheet.open(client, "anything", 0)
    assert TOKEN not in str(caught.value)
    assert len(waits) == 1


# ---------------------------------------------------------------------------------- emulator host


@pytest.fixture
def served(app: SheetsApp) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def test_emulator_host_sends_every_call_to_the_local_emulator(app: SheetsApp, served: str) -> None:
    sid = new_spreadsheet(app, [HEADERS, lead(1), lead(2)])
    client = connect(Credentials(TOKEN), emulator_host=served)
    sheet = Sheet.open(client, sid, 0)
    selection = sheet.read([(2, 3)])
    sheet.write(selection, statuses_for(selection), key_column=1)
    assert [r[3] for r in cells(app, sid, "A2:G3")] == ["uploaded", "uploaded"]
    assert total_calls(app) == 7
    # gspread's own calls go there too: Drive, then Sheets.
    created = client.create("Made through gspread")
    assert created.id in app.backend.spreadsheets
