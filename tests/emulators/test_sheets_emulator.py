"""The Sheets emulator as gspread sees it: ranges, render options, USER_ENTERED by locale, controls."""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
from collections.abc import Callable, Iterator

import gspread
import pytest
import requests
from google.auth.transport.requests import AuthorizedSession
from google.oauth2.credentials import Credentials
from gspread.utils import ValueInputOption, ValueRenderOption

from tests.emulators.sheets import SheetsApp, create_app
from tests.emulators.sheets.responses import _dumps
from tests.emulators.wsgi_requests import WSGIAdapter

SHEETS = "https://sheets.googleapis.com/v4/spreadsheets"
RAW, USER_ENTERED = ValueInputOption.raw, ValueInputOption.user_entered


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def app(clock: FakeClock, slept: list[float]) -> SheetsApp:
    return create_app(clock=clock, sleep=slept.append)


@pytest.fixture
def session(app: SheetsApp) -> Iterator[AuthorizedSession]:
    session = AuthorizedSession(Credentials("emulator-token"))
    for prefix in ("https://sheets.googleapis.com/", "https://www.googleapis.com/"):
        session.mount(prefix, WSGIAdapter(app))
    yield session
    session.close()


@pytest.fixture
def gc(session: AuthorizedSession) -> gspread.Client:
    return gspread.Client(Credentials("emulator-token"), session=session)


@pytest.fixture
def new_sheet(gc: gspread.Client) -> Callable[..., gspread.Spreadsheet]:
    def make(locale: str = "en_US", title: str = "Leads") -> gspread.Spreadsheet:
        spreadsheet = gc.create(title)
        if locale != "en_US":
            spreadsheet.update_locale(locale)
        return gc.open_by_key(spreadsheet.id)

    return make


def api_error(call: Callable[[], object]) -> dict[str, object]:
    with pytest.raises(gspread.exceptions.APIError) as caught:
        call()
    return dict(caught.value.error)


# ---------------------------------------------------------------- spreadsheets and ranges


def test_new_spreadsheet_has_google_properties_and_one_sheet(
    new_sheet: Callable[..., gspread.Spreadsheet],
) -> None:
    spreadsheet = new_sheet()
    meta = spreadsheet.fetch_sheet_metadata()
    assert meta["properties"]["title"] == "Leads"
    assert meta["properties"]["locale"] == "en_US"
    assert meta["properties"]["timeZone"] == "Etc/GMT"
    assert meta["properties"]["defaultFormat"]["textFormat"]["fontSize"] == 10
    assert [c["colorType"] for c in meta["properties"]["spreadsheetTheme"]["themeColors"]][:2] == [
        "TEXT",
        "BACKGROUND",
    ]
    assert meta["sheets"] == [
        {
            "properties": {
                "sheetId": 0,
                "title": "Sheet1",
                "index": 0,
                "sheetType": "GRID",
                "gridProperties": {"rowCount": 1000, "columnCount": 26},
            }
        }
    ]


def test_locale_and_time_zone_are_set_with_update_spreadsheet_properties(
    new_sheet: Callable[..., gspread.Spreadsheet],
) -> None:
    spreadsheet = new_sheet(locale="he_IL")
    spreadsheet.update_timezone("Asia/Jerusalem")
    properties = spreadsheet.fetch_sheet_metadata()["properties"]
    assert (properties["locale"], properties["timeZone"]) == ("he_IL", "Asia/Jerusalem")


def test_deleted_spreadsheet_is_not_found_and_unknown_google_id_is_forbidden(
    gc: gspread.Client, new_sheet: Callable[..., gspread.Spreadsheet]
) -> None:
    spreadsheet = new_sheet()
    gc.del_spreadsheet(spreadsheet.id)
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        gc.open_by_key(spreadsheet.id)
    foreign = "1" + "x" * 43
    with pytest.raises(PermissionError):
        gc.open_by_key(foreign)


@pytest.mark.parametrize(
    ("asked", "answered"),
    [
        ("Sheet1!A2:F", "Sheet1!A2:F1000"),
        ("Sheet1!A:A", "Sheet1!A1:A1000"),
        ("Sheet1!2:5", "Sheet1!A2:Z5"),
        ("Sheet1!A2:2", "Sheet1!A2:Z2"),
        ("Sheet1", "Sheet1!A1:Z1000"),
        ("'Sheet1'!D4:A1", "Sheet1!A1:D4"),
        ("A1:B2", "Sheet1!A1:B2"),
        ("Sheet1!B3", "Sheet1!B3"),
        ("Sheet1!A990:B2000", "Sheet1!A990:B1000"),
    ],
)
def test_ranges_are_read_and_named_as_google_does(
    new_sheet: Callable[..., gspread.Spreadsheet], asked: str, answered: str
) -> None:
    spreadsheet = new_sheet()
    assert spreadsheet.values_get(asked)["range"] == answered


def test_quoted_titles_with_apostrophes_and_spaces(new_sheet: Callable[..., gspread.Spreadsheet]) -> None:
    spreadsheet = new_sheet()
    spreadsheet.add_worksheet("It's mine", rows=10, cols=3)
    spreadsheet.values_update("'It''s mine'!A1", {"valueInputOption": "RAW"}, {"values": [["x", "y"]]})
    got = spreadsheet.values_get("'It''s mine'")
    assert got["range"] == "'It''s mine'!A1:C10"
    assert got["values"] == [["x", "y"]]


def test_a_title_that_looks_like_a_cell_is_quoted_in_answers(
    new_sheet: Callable[..., gspread.Spreadsheet],
) -> None:
    spreadsheet = new_sheet()
    spreadsheet.sheet1.update_title("D3")
    assert spreadsheet.values_get("'D3'!A1:B2")["range"] == "'D3'!A1:B2"


def test_ranges_past_the_grid_are_refused(new_sheet: Callable[..., gspread.Spreadsheet]) -> None:
    spreadsheet = new_sheet()
    error = api_error(lambda: spreadsheet.values_get("Sheet1!A1001"))
    assert error["code"] == 400
    assert error["status"] == "INVALID_ARGUMENT"
    assert "exceeds grid limits. Max rows: 1000, max columns: 26" in str(error["message"])
    error = api_error(lambda: spreadsheet.sheet1.update([["a", "b"]], "Z1", value_input_option=RAW))
    assert "exceeds grid limits" in str(error["message"])
    assert spreadsheet.values_get("Sheet1!Z1").get("values") is None


def test_unknown_sheet_is_a_parse_error(new_sheet: Callable[..., gspread.Spreadsheet]) -> None:
    spreadsheet = new_sheet()
    error = api_error(lambda: spreadsheet.values_get("Nope!A1"))
    assert (error["code"], error["message"]) == (400, "Unable to parse range: Nope!A1")


def test_writing_more_than_the_range_holds_is_refused(new_sheet: Callable[..., gspread.Spreadsheet]) -> None:
    spreadsheet = new_sheet()
    error = api_error(lambda: spreadsheet.sheet1.update([["a", "b", "c"]], "A1:B1", value_input_option=RAW))
    assert "but tried writing to column [C]" in str(error["message"])


def test_trailing_empties_are_trimmed_and_update_counts_match_google(
    new_sheet: Callable[..., gspread.Spreadsheet],
) -> None:
    ws = new_sheet().sheet1
    answer = ws.update(
        [["A1", "", "C1", ""], ["", "", "", ""], [1, None, 1.5, None]], "A1", value_input_option=RAW
    )
    assert answer["updatedRange"] == "Sheet1!A1:D3"
    assert (answer["updatedRows"], answer["updatedColumns"], answer["updatedCells"]) == (3, 4, 10)
    assert ws.spreadsheet.values_get("Sheet1!A1:D4")["values"] == [["A1", "", "C1"], [], ["1", "", "1.5"]]


# ---------------------------------------------------------------- render and input options


def test_render_options_and_date_render_options(new_sheet: Callable[..., gspread.Spreadsheet]) -> None:
    ws = new_sheet().sheet1
    ws.update([["=4/2", "2017-10-24", "text", 0.5, "TRUE"]], "A1", value_input_option=USER_ENTERED)

    def read(**params: str | None) -> list[object]:
        return ws.spreadsheet.values_get("Sheet1!A1:E1", params=dict(params))["values"][0]

    assert read(valueRenderOption="FORMATTED_VALUE") == ["2", "2017-10-24", "text", "0.5", "TRUE"]
    assert read(valueRenderOption="UNFORMATTED_VALUE") == [2, 43032, "text", 0.5, True]
    assert read(valueRenderOption="UNFORMATTED_VALUE", dateTimeRenderOption="FORMATTED_STRING") == [
        2,
        "2017-10-24",
        "text",
        0.5,
        True,
    ]
    assert read(valueRenderOption="FORMULA") == ["=4/2", 43032, "text", 0.5, True]


def test_columns_major_dimension(new_sheet: Callable[..., gspread.Spreadsheet]) -> None:
    ws = new_sheet().sheet1
    ws.update([["a", "b"], ["c"]], "A1", value_input_option=RAW)
    got = ws.spreadsheet.values_get("Sheet1!A1:B2", params={"majorDimension": "COLUMNS"})
    assert got["values"] == [["a", "c"], ["b"]]


def test_raw_keeps_text_as_given_even_a_formula(new_sheet: Callable[..., gspread.Spreadsheet]) -> None:
    ws = new_sheet().sheet1
    ws.update([["=1+1", "0547000000", "TRUE"]], "A1", value_input_option=RAW)
    for option in ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"):
        assert ws.get("A1:C1", value_render_option=ValueRenderOption(option)) == [
            ["=1+1", "0547000000", "TRUE"]
        ]


def test_user_entered_formula_keeps_its_text_and_shows_its_value(
    new_sheet: Callable[..., gspread.Spreadsheet],
) -> None:
    ws = new_sheet().sheet1
    ws.update([["=1+1", "=(2+3)*4^2", "=SOMETHING(A1)"]], "A1", value_input_option=USER_ENTERED)
    assert ws.get("A1:C1", value_render_option=ValueRenderOption.formula) == [
        ["=1+1", "=(2+3)*4^2", "=SOMETHING(A1)"]
    ]
    assert ws.get("A1:B1", value_render_option=ValueRenderOption.unformatted) == [[2, 80]]


@pytest.mark.parametrize(
    ("locale", "typed", "shown", "raw"),
    [
        ("en_US", "0547000000", "547000000", 547000000),
        ("he_IL", "0547000000", "547000000", 547000000),
        ("en_US", "054-700-0000", "054-700-0000", "054-700-0000"),
        ("he_IL", "'0547000000", "0547000000", "0547000000"),
        ("en_US", "24/10/2017", "24/10/2017", "24/10/2017"),
        ("en_GB", "24/10/2017", "24/10/2017", 43032),
        ("he_IL", "24/10/2017", "24/10/2017", 43032),
        ("iw_IL", "24.10.2017", "24.10.2017", 43032),
        ("en_US", "10/24/2017", "10/24/2017", 43032),
        ("en_GB", "10/24/2017", "10/24/2017", "10/24/2017"),
        ("en_US", "2017-10-24", "2017-10-24", 43032),
        ("en_US", "15:34", "15:34", 0.6486111111),
        ("en_GB", "24/10/2017 15:34", "24/10/2017 15:34:00", 43032.6486111111),
        ("en_US", "12%", "12%", 0.12),
        ("en_US", "$1,234.50", "$1,234.50", 1234.5),
        ("en_US", "1,234.5", "1234.5", 1234.5),
        ("de_DE", "1.234,5", "1234,5", 1234.5),
        ("en_US", "true", "TRUE", True),
        ("en_US", "+972547000000", "972547000000", 972547000000),
        ("en_US", "Artur 2", "Artur 2", "Artur 2"),
    ],
)
def test_user_entered_parsing_follows_the_locale(
    new_sheet: Callable[..., gspread.Spreadsheet], locale: str, typed: str, shown: str, raw: object
) -> None:
    ws = new_sheet(locale=locale).sheet1
    ws.update([[typed]], "A1", value_input_option=USER_ENTERED)
    assert ws.get("A1", value_render_option=ValueRenderOption.formatted) == [[shown]]
    unformatted = ws.get("A1", value_render_option=ValueRenderOption.unformatted)[0][0]
    if isinstance(raw, float):
        assert unformatted == pytest.approx(raw)
    else:
        assert unformatted == raw


def test_serial_numbers_count_days_from_1899_12_30(new_sheet: Callable[..., gspread.Spreadsheet]) -> None:
    ws = new_sheet(locale="en_GB").sheet1
    ws.update([["01/01/2024"], ["31/12/1899"]], "A1", value_input_option=USER_ENTERED)
    serials = [row[0] for row in ws.get("A1:A2", value_render_option=ValueRenderOption.unformatted)]
    expected = [(dt.date(2024, 1, 1) - dt.date(1899, 12, 30)).days, 1]
    assert serials == expected


# ---------------------------------------------------------------- batch calls and structure


def test_batch_get_and_batch_update_many_ranges(new_sheet: Callable[..., gspread.Spreadsheet]) -> None:
    spreadsheet = new_sheet()
    answer = spreadsheet.values_batch_update(
        {
            "valueInputOption": "RAW",
            "data": [
                {"range": "Sheet1!A1:B1", "values": [["a", "b"]]},
                {"range": "Sheet1!A4:B4", "values": [["c", "d"]]},
            ],
        }
    )
    assert (answer["totalUpdatedRows"], answer["totalUpdatedColumns"], answer["totalUpdatedCells"]) == (
        2,
        2,
        4,
    )
    got = spreadsheet.values_batch_get(["Sheet1!A1:B1", "Sheet1!A:A"])
    assert [v["range"] for v in got["valueRanges"]] == ["Sheet1!A1:B1", "Sheet1!A1:A1000"]
    assert got["valueRanges"][1]["values"] == [["a"], [], [], ["c"]]


def test_batch_update_with_one_bad_range_writes_nothing(
    new_sheet: Callable[..., gspread.Spreadsheet],
) -> None:
    spreadsheet = new_sheet()
    body = {
        "valueInputOption": "RAW",
        "data": [{"range": "Sheet1!A1", "values": [["kept?"]]}, {"range": "Sheet1!A5000", "values": [["x"]]}],
    }
    assert api_error(lambda: spreadsheet.values_batch_update(body))["code"] == 400
    assert "values" not in spreadsheet.values_get("Sheet1!A1")


def test_append_finds_the_table_and_grows_the_sheet(new_sheet: Callable[..., gspread.Spreadsheet]) -> None:
    spreadsheet = new_sheet()
    spreadsheet.sheet1.resize(rows=2, cols=3)
    ws = spreadsheet.sheet1
    first = ws.append_row(["a", "b"], value_input_option=RAW)
    assert "tableRange" not in first
    second = ws.append_rows([["c", "d"], ["e", "f"]], value_input_option=RAW)
    assert second["tableRange"] == "Sheet1!A1:B1"
    assert second["updates"]["updatedRange"] == "Sheet1!A2:B3"
    assert ws.get_all_values() == [["a", "b"], ["c", "d"], ["e", "f"]]
    assert spreadsheet.fetch_sheet_metadata()["sheets"][0]["properties"]["gridProperties"]["rowCount"] == 3


def test_clear_and_batch_clear_keep_the_grid(new_sheet: Callable[..., gspread.Spreadsheet]) -> None:
    ws = new_sheet().sheet1
    ws.update([["a", "b"], ["c", "d"]], "A1", value_input_option=RAW)
    assert ws.spreadsheet.values_clear("Sheet1!A1")["clearedRange"] == "Sheet1!A1"
    ws.batch_clear(["B1:B2"])
    assert ws.spreadsheet.values_get("Sheet1")["values"] == [[], ["c"]]
    ws.clear()
    assert "values" not in ws.spreadsheet.values_get("Sheet1")


def test_insert_delete_and_sort_rows_move_cells(new_sheet: Callable[..., gspread.Spreadsheet]) -> None:
    ws = new_sheet().sheet1
    ws.update([["name"], ["carol"], ["alice"], ["bob"]], "A1", value_input_option=RAW)
    ws.insert_row(["dave"], index=2)
    ws.delete_rows(3)  # carol
    assert ws.col_values(1) == ["name", "dave", "alice", "bob"]
    ws.sort((1, "asc"), range="A2:A4")
    assert ws.col_values(1) == ["name", "alice", "bob", "dave"]
    ws.insert_cols([["x"]], col=1)
    assert ws.row_values(1) == ["x", "name"]
    assert ws.spreadsheet.fetch_sheet_metadata()["sheets"][0]["properties"]["gridProperties"] == {
        "rowCount": 1000,
        "columnCount": 27,
    }


def test_sheet_batch_update_is_atomic(new_sheet: Callable[..., gspread.Spreadsheet]) -> None:
    spreadsheet = new_sheet()
    body = {
        "requests": [
            {"addSheet": {"properties": {"title": "Status"}}},
            {"deleteSheet": {"sheetId": 0}},
            {"addSheet": {"properties": {"title": "Status"}}},
        ]
    }
    error = api_error(lambda: spreadsheet.batch_update(body))
    assert error["message"] == (
        'Invalid requests[2].addSheet: A sheet with the name "Status" already exists. '
        "Please enter another name."
    )
    assert [ws.title for ws in spreadsheet.worksheets()] == ["Sheet1"]


def test_a_failed_batch_leaves_every_cell_as_it_was(new_sheet: Callable[..., gspread.Spreadsheet]) -> None:
    spreadsheet = new_sheet()
    ws = spreadsheet.sheet1
    ws.update([["b", "x", "1"], ["a", "y", "2"], ["c", "z", "3"]], "A1")
    before = ws.get_all_values()
    grid = {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 3, "startColumnIndex": 0, "endColumnIndex": 3}
    value = {"userEnteredValue": {"stringValue": "r"}}
    columns = {"sheetId": 0, "dimension": "COLUMNS"}
    changes: list[dict[str, object]] = [
        {"findReplace": {"find": "x", "replacement": "X", "range": grid}},
        {"repeatCell": {"range": {**grid, "endRowIndex": 1}, "cell": value, "fields": "userEnteredValue"}},
        {
            "updateCells": {
                "start": {"sheetId": 0, "rowIndex": 2, "columnIndex": 0},
                "rows": [{"values": [{"userEnteredValue": {"numberValue": 7}}]}],
                "fields": "userEnteredValue",
            }
        },
        {"sortRange": {"range": grid, "sortSpecs": [{"dimensionIndex": 0}]}},
        {"insertDimension": {"range": {**columns, "startIndex": 1, "endIndex": 2}}},
        {"deleteDimension": {"range": {**columns, "startIndex": 0, "endIndex": 1}}},
        {
            "updateSheetProperties": {
                "properties": {"sheetId": 0, "gridProperties": {"columnCount": 1}},
                "fields": "gridProperties.columnCount",
            }
        },
    ]
    unknown_sheet = {"deleteSheet": {"sheetId": 12345}}
    for batch in [*([change] for change in changes), changes]:
        api_error(lambda: spreadsheet.batch_update({"requests": [*batch, unknown_sheet]}))  # noqa: B023
        assert ws.get_all_values() == before
        grid_properties = spreadsheet.fetch_sheet_metadata()["sheets"][0]["properties"]["gridProperties"]
        assert grid_properties["columnCount"] == 26
    # What a batch changed stays changed when a later one fails.
    spreadsheet.batch_update({"requests": changes[:1]})
    api_error(lambda: spreadsheet.batch_update({"requests": [*changes[1:], unknown_sheet]}))
    assert ws.get_all_values() == [["b", "X", "1"], ["a", "y", "2"], ["c", "z", "3"]]


def test_notes_and_formats_come_back_through_fields(new_sheet: Callable[..., gspread.Spreadsheet]) -> None:
    spreadsheet = new_sheet()
    ws = spreadsheet.sheet1
    ws.update_note("B2", "call after 5")
    ws.format("A1", {"textFormat": {"bold": True}, "backgroundColor": {"red": 1}})
    assert ws.get_notes() == [[""], ["", "call after 5"]]
    got = spreadsheet.fetch_sheet_metadata(
        {
            "fields": "sheets.data.rowData.values.userEnteredFormat",
            "ranges": "Sheet1!A1",
            "includeGridData": "false",
        }
    )
    assert got == {
        "sheets": [
            {
                "data": [
                    {
                        "rowData": [
                            {
                                "values": [
                                    {
                                        "userEnteredFormat": {
                                            "textFormat": {"bold": True},
                                            "backgroundColor": {"red": 1},
                                            "backgroundColorStyle": {"rgbColor": {"red": 1}},
                                        }
                                    }
                                ]
                            }
                        ]
                    }
                ]
            }
        ]
    }


# ---------------------------------------------------------------- controls


def test_read_quota_answers_429_with_googles_body_until_the_minute_passes(
    app: SheetsApp, clock: FakeClock, new_sheet: Callable[..., gspread.Spreadsheet]
) -> None:
    spreadsheet = new_sheet()
    app.backend.set_quota(reads_per_minute=2)
    spreadsheet.values_get("Sheet1!A1")
    clock.now += 30
    spreadsheet.values_get("Sheet1!A1")
    error = api_error(lambda: spreadsheet.values_get("Sheet1!A1"))
    assert error["code"] == 429
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert str(error["message"]).startswith(
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' "
        "of service 'sheets.googleapis.com'"
    )
    spreadsheet.values_update("Sheet1!A1", {"valueInputOption": "RAW"}, {"values": [["writes are apart"]]})
    clock.now += 30.5  # the first read is now more than a minute old
    assert spreadsheet.values_get("Sheet1!A1")["values"] == [["writes are apart"]]


def test_write_quota_names_write_requests_and_can_send_retry_after(
    app: SheetsApp, session: AuthorizedSession, new_sheet: Callable[..., gspread.Spreadsheet]
) -> None:
    spreadsheet = new_sheet()
    app.backend.set_quota(writes_per_minute=0, retry_after=7)
    response = session.put(
        f"{SHEETS}/{spreadsheet.id}/values/A1", params={"valueInputOption": "RAW"}, json={"values": [["x"]]}
    )
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert "'Write requests'" in response.json()["error"]["message"]


def test_injected_storm_fails_the_next_calls_in_order(
    app: SheetsApp, new_sheet: Callable[..., gspread.Spreadsheet]
) -> None:
    spreadsheet = new_sheet()
    app.backend.inject_errors([503, 500, 429])
    statuses = [api_error(lambda: spreadsheet.values_get("Sheet1!A1"))["status"] for _ in range(3)]
    assert statuses == ["UNAVAILABLE", "INTERNAL", "RESOURCE_EXHAUSTED"]
    assert spreadsheet.values_get("Sheet1!A1")["range"] == "Sheet1!A1"


def test_calls_are_counted_by_kind_and_can_be_reset(
    app: SheetsApp, new_sheet: Callable[..., gspread.Spreadsheet]
) -> None:
    spreadsheet = new_sheet()
    app.backend.reset_calls()
    spreadsheet.values_batch_get(["Sheet1!A1"])
    spreadsheet.values_batch_get(["Sheet1!A2"])
    spreadsheet.values_batch_update({"valueInputOption": "RAW", "data": []})
    spreadsheet.fetch_sheet_metadata()
    assert app.backend.calls() == {"values.batchGet": 2, "values.batchUpdate": 1, "spreadsheets.get": 1}
    app.backend.reset_calls()
    assert app.backend.calls() == {}


def test_each_call_is_logged_with_its_kind_status_and_when_it_arrived_and_was_answered(
    app: SheetsApp, session: AuthorizedSession, new_sheet: Callable[..., gspread.Spreadsheet]
) -> None:
    spreadsheet = new_sheet()
    app.backend.reset_calls()
    app.backend.inject_errors([503])
    assert api_error(lambda: spreadsheet.values_get("Sheet1!A1"))["status"] == "UNAVAILABLE"
    spreadsheet.values_batch_get(["Sheet1!A1", "Sheet1!B1"])
    log = session.get("https://sheets.googleapis.com/_emulator/log").json()["log"]
    assert [(call["kind"], call["status"]) for call in log] == [("values.get", 503), ("values.batchGet", 200)]
    assert all(call["arrived"] <= call["answered"] for call in log)
    assert log[0]["answered"] <= log[1]["arrived"]
    session.delete("https://sheets.googleapis.com/_emulator/calls")
    assert app.backend.call_log() == []


def test_latency_is_spent_on_every_api_call(
    app: SheetsApp, slept: list[float], new_sheet: Callable[..., gspread.Spreadsheet]
) -> None:
    spreadsheet = new_sheet()
    app.backend.set_latency(0.25)
    spreadsheet.values_get("Sheet1!A1")
    spreadsheet.values_clear("Sheet1!A1")
    assert slept == [0.25, 0.25]


def test_controls_over_http(
    session: AuthorizedSession, new_sheet: Callable[..., gspread.Spreadsheet]
) -> None:
    spreadsheet = new_sheet()
    base = "https://sheets.googleapis.com/_emulator"
    assert session.delete(f"{base}/calls").json() == {"calls": {}}
    assert session.post(f"{base}/errors", json={"codes": [503]}).status_code == 200
    assert session.get(f"{SHEETS}/{spreadsheet.id}").status_code == 503
    assert session.get(f"{base}/calls").json() == {"calls": {"spreadsheets.get": 1}}
    session.post(f"{base}/quota", json={"readsPerMinute": 0})
    assert session.get(f"{SHEETS}/{spreadsheet.id}").status_code == 429
    seeded = session.post(
        f"{base}/spreadsheets",
        json={
            "title": "Seeded",
            "locale": "he_IL",
            "sheets": [{"title": "לידים", "values": [["שם"], ["0547000000"]]}],
        },
    ).json()
    assert seeded["properties"]["locale"] == "he_IL"
    session.post(f"{base}/reset")
    assert session.get(f"{SHEETS}/{seeded['spreadsheetId']}").status_code == 404


def test_a_request_without_credentials_is_unauthenticated(app: SheetsApp) -> None:
    bare = requests.Session()
    bare.mount("https://sheets.googleapis.com/", WSGIAdapter(app))
    response = bare.get(f"{SHEETS}/anything")
    assert response.status_code == 401
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"


# ---------------------------------------------------------------- size


@pytest.mark.slow
def test_100000_rows_written_and_read_back(new_sheet: Callable[..., gspread.Spreadsheet]) -> None:
    spreadsheet = new_sheet()
    ws = spreadsheet.sheet1
    rows = [[f"{r}-{c}" for c in range(15)] for r in range(100_000)]
    rows[500][3] = "054-700-0000"
    ws.resize(rows=100_001, cols=15)
    answer = ws.update(rows, "A2", value_input_option=RAW)
    assert answer["updatedRange"] == "Sheet1!A2:O100001"
    assert answer["updatedCells"] == 1_500_000
    got = spreadsheet.values_batch_get(["Sheet1!A2:O100001"])["valueRanges"][0]["values"]
    assert got == rows


def test_served_on_localhost(tmp_path: object) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.emulators.sheets", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.startswith("Sheets emulator listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1].strip()
        created = requests.post(
            f"{url}/drive/v3/files",
            json={"name": "served", "mimeType": "application/vnd.google-apps.spreadsheet"},
            headers={"Authorization": "Bearer t"},
            timeout=10,
        )
        assert created.status_code == 200
        got = requests.get(
            f"{url}/v4/spreadsheets/{created.json()['id']}", headers={"Authorization": "Bearer t"}, timeout=10
        )
        assert got.json()["properties"]["title"] == "served"
    finally:
        server.terminate()
        server.wait(timeout=10)


# ---------------------------------------------------------------- conditional formats and filter views


def test_conditional_format_rules_and_filter_views_are_kept_and_answered_as_google_does(
    new_sheet: Callable[..., gspread.Spreadsheet],
) -> None:
    spreadsheet = new_sheet()
    gid = spreadsheet.sheet1.id
    column = {"sheetId": gid, "startRowIndex": 1, "startColumnIndex": 3, "endColumnIndex": 4}
    rule = {
        "ranges": [column],
        "booleanRule": {
            "condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": "uploaded"}]},
            "format": {"backgroundColor": {"red": 0.9, "green": 0.95, "blue": 0.9}},
        },
    }
    view = {
        "title": "CallMarker: problem rows",
        "range": {"sheetId": gid, "startRowIndex": 0, "startColumnIndex": 0, "endColumnIndex": 4},
        "filterSpecs": [
            {
                "columnIndex": 3,
                "filterCriteria": {
                    "condition": {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": '=D2="failed"'}]}
                },
            }
        ],
    }
    replies = spreadsheet.batch_update(
        {
            "requests": [
                {"addConditionalFormatRule": {"rule": rule, "index": 0}},
                {"addFilterView": {"filter": view}},
            ]
        }
    )["replies"]
    assert replies[0] == {}, "Google's Response has no reply for addConditionalFormatRule"
    made = replies[1]["addFilterView"]["filter"]
    assert isinstance(made["filterViewId"], int)
    assert {k: v for k, v in made.items() if k != "filterViewId"} == view

    got = spreadsheet.fetch_sheet_metadata(
        {"fields": "sheets(properties.sheetId,conditionalFormats,filterViews)"}
    )
    [sheet] = got["sheets"]
    [stored] = sheet["conditionalFormats"]
    assert stored["ranges"] == [column]
    # a Color is answered with its ColorStyle twin, as Sheets does
    assert stored["booleanRule"]["format"]["backgroundColorStyle"] == {
        "rgbColor": {"red": 0.9, "green": 0.95, "blue": 0.9}
    }
    assert sheet["filterViews"] == [made]
    # a sheet with neither answers neither field, as Google leaves empty lists out
    other = new_sheet(title="Empty")
    assert "conditionalFormats" not in other.fetch_sheet_metadata()["sheets"][0]

    # A rule outside the grid, and a filter view id already taken, are refused and change nothing.
    wide = {**rule, "ranges": [{**column, "startColumnIndex": 40, "endColumnIndex": 41}]}
    error = api_error(
        lambda: spreadsheet.batch_update({"requests": [{"addConditionalFormatRule": {"rule": wide}}]})
    )
    assert error["code"] == 400
    again = {**view, "filterViewId": made["filterViewId"]}
    error = api_error(lambda: spreadsheet.batch_update({"requests": [{"addFilterView": {"filter": again}}]}))
    assert error["code"] == 400
    after = spreadsheet.fetch_sheet_metadata({"fields": "sheets(conditionalFormats,filterViews)"})["sheets"][
        0
    ]
    assert (len(after["conditionalFormats"]), len(after["filterViews"])) == (1, 1)


@pytest.mark.parametrize(
    "body",
    [
        {"values": [["שלום", 1, 1.5, 1e16, -0.0, True, ""]], "range": "Sheet1!A1"},
        {"values": [[math.nan, math.inf, -math.inf]]},
        {"none": None, "text": "null"},
        {1: "a key that is not a string"},
        {"big": 2**70},
    ],
)
def test_answers_are_the_json_that_json_dumps_writes(body: dict[object, object]) -> None:
    expected = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    # repr: NaN written as null would read back as None, 1e16 as 1e+16 reads back alike
    assert repr(json.loads(_dumps(body))) == repr(json.loads(expected))
