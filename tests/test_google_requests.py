"""Every Sheets request the function makes, held to Google's Sheets v4 discovery document: the judge
itself (tests/discovery.py), and the requests of whole jobs through the stack."""

from __future__ import annotations

import json

import pytest

from tests import discovery
from tests.rowgen import make_rows, sheet_of
from tests.stack import CAMPAIGN, local_stack

SHEETS = "https://sheets.googleapis.com"
SID = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"


def test_the_discovery_document_is_googles_with_its_revision() -> None:
    doc = discovery.document("sheets.v4")
    assert doc["rootUrl"] == "https://sheets.googleapis.com/"
    assert doc["revision"].isdigit()
    assert discovery.document("drive.v3")["servicePath"] == "drive/v3/"


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", f"/v4/spreadsheets/{SID}?fields=properties.title,sheets.properties", None),
        (
            "GET",
            f"/v4/spreadsheets/{SID}/values:batchGet?valueRenderOption=UNFORMATTED_VALUE"
            "&dateTimeRenderOption=SERIAL_NUMBER&ranges=%27Leads%27%21A1%3AZ1&ranges=%27Leads%27%21A2%3AZ9",
            None,
        ),
        (
            "POST",
            f"/v4/spreadsheets/{SID}/values:batchGetByDataFilter",
            {"dataFilters": [{"a1Range": "'L'!A1"}], "valueRenderOption": "FORMATTED_VALUE"},
        ),
        (
            "POST",
            f"/v4/spreadsheets/{SID}/values:batchUpdate",
            {"valueInputOption": "RAW", "data": [{"range": "'L'!E1", "values": [["x", 1, True]]}]},
        ),
        ("GET", f"/v4/spreadsheets/{SID}/values/%27Leads%2F2024%27%21A1%3AB2?majorDimension=ROWS", None),
        ("GET", "/drive/v3/files/abc?fields=id,name,capabilities(canEdit)", None),
    ],
)
def test_requests_as_google_describes_them_pass(method: str, url: str, body: object) -> None:
    raw = json.dumps(body).encode() if body is not None else None
    assert discovery.check(method, SHEETS + url, raw) == []


@pytest.mark.parametrize(
    ("method", "url", "body", "problem"),
    [
        ("GET", f"/v4/spreadsheets/{SID}?feilds=properties", None, "unknown query parameter 'feilds'"),
        ("GET", f"/v4/spreadsheets/{SID}?fields=properties.name", None, "fields mask path 'properties.name'"),
        (
            "GET",
            f"/v4/spreadsheets/{SID}?fields=sheets(properties(title,gid))",
            None,
            "sheets.properties.gid",
        ),
        ("GET", f"/v4/spreadsheets/{SID}?includeGridData=yes", None, "not a boolean"),
        (
            "GET",
            f"/v4/spreadsheets/{SID}/values:batchGet?ranges=A1&valueRenderOption=RAW",
            None,
            "'RAW' is not one of",
        ),
        (
            "GET",
            f"/v4/spreadsheets/{SID}/values:batchGet?ranges=A1&majorDimension=ROWS&majorDimension=COLUMNS",
            None,
            "given 2 times",
        ),
        (
            "POST",
            f"/v4/spreadsheets/{SID}/values:batchUpdate",
            {"valueInputOption": "RAW", "data": [{"range": "A1", "value": [["x"]]}]},
            "unknown field 'value'",
        ),
        (
            "POST",
            f"/v4/spreadsheets/{SID}/values:batchUpdate",
            {"valueInputOption": "PLAIN", "data": []},
            "'PLAIN' is not one of",
        ),
        (
            "POST",
            f"/v4/spreadsheets/{SID}:batchUpdate",
            {"requests": [{"appendDimension": {"sheetId": 0, "dimension": "COLUMNS", "length": "four"}}]},
            "expected an integer",
        ),
        ("PUT", f"/v4/spreadsheets/{SID}/values:batchGet?ranges=A1", None, "no method"),
        ("GET", f"/v4/spreadsheets/{SID}/values:batchGetByDataFilter", None, "no method"),
    ],
)
def test_requests_google_would_refuse_are_named(method: str, url: str, body: object, problem: str) -> None:
    raw = json.dumps(body).encode() if body is not None else None
    problems = discovery.check(method, SHEETS + url, raw)
    assert any(problem in p for p in problems), problems


def test_a_fields_mask_is_read_with_its_parentheses() -> None:
    assert discovery.parse_fields("a.b,c(d,e/f),g") == [("a", "b"), ("c", "d"), ("c", "e", "f"), ("g",)]


def test_every_request_of_whole_jobs_is_as_google_describes_it() -> None:
    with local_stack() as stack:
        stack.start_function()
        _, rows, _ = make_rows(300, invalid_share=0.05, seed=4)
        spreadsheet_id, gid = stack.new_spreadsheet(sheet_of(rows))
        long_id, long_gid = stack.new_spreadsheet(sheet_of(rows))
        long_title = ("לידים מהכנס השנתי " * 6)[:100]
        rename = {"properties": {"sheetId": long_gid, "title": long_title}, "fields": "title"}
        stack.sheets_app.backend.batch_update(long_id, {"requests": [{"updateSheetProperties": rename}]})
        scattered = [[row, row] for row in range(2, 260, 2)]  # 129 intervals: the enclosing span is read

        stack.run_job(
            {
                "spreadsheet_id": spreadsheet_id,
                "sheet_id": gid,
                "rows": [[2, 301]],
                "options": {"campaign": CAMPAIGN},
            }
        )
        stack.run_job({"spreadsheet_id": spreadsheet_id, "sheet_id": gid, "mode": "pending"})
        stack.run_job(
            {"spreadsheet_id": spreadsheet_id, "sheet_id": gid, "rows": [[2, 40]], "action": "check"}
        )
        stack.run_job(
            {"spreadsheet_id": long_id, "sheet_id": long_gid, "rows": scattered[:90], "action": "check"}
        )
        stack.run_job({"spreadsheet_id": long_id, "sheet_id": long_gid, "rows": scattered})
        diagnosis = stack.call({"action": "diagnose", "spreadsheet_id": spreadsheet_id, "sheet_id": gid})
        assert diagnosis.json()["ok"] is True

        seen = stack.google_requests.seen
        kinds = {discovery.find_method(method, path).id for method, path, _, _ in seen}  # type: ignore[union-attr]
        assert kinds >= {
            "sheets.spreadsheets.get",
            "sheets.spreadsheets.values.batchGet",
            "sheets.spreadsheets.values.batchGetByDataFilter",
            "sheets.spreadsheets.values.batchUpdate",
        }
        gets = [names for method, path, names, _ in seen if method == "GET" and path.endswith(spreadsheet_id)]
        assert gets
        assert all(names == ("fields",) for names in gets)
        assert stack.google_requests.problems() == []
