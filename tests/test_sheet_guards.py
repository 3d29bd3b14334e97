"""What the Sheets edge refuses or cuts: a user who may not edit is stopped before any cell is read, and
no cell it writes reaches Google's limit; messages quote a cell only in part."""

from __future__ import annotations

from typing import Any

import pytest
from google.oauth2.credentials import Credentials

from callmarker_sheets.retry import RetryPolicy
from callmarker_sheets.sheet import (
    EDIT_CHECK_TEXT,
    MAX_CELL_CHARS,
    Sheet,
    SheetAccessDenied,
    StatusUpdate,
    connect,
)
from callmarker_sheets.validate import MAX_QUOTED_CHARS, quoted
from tests.emulators.sheets import SheetsApp, create_app
from tests.emulators.sheets.responses import seed
from tests.emulators.wsgi_requests import WSGIAdapter

OWNER, VIEWER, EDITOR = "owner@example.com", "viewer@example.com", "editor@example.com"
HEADERS = ["Phone", "Name"]


@pytest.fixture
def app() -> SheetsApp:
    app = create_app(sleep=lambda seconds: None)
    for email in (OWNER, VIEWER, EDITOR):
        app.backend.sign_in(f"ya29.{email}", email)
    return app


def client_of(app: SheetsApp, email: str) -> Any:
    return connect(Credentials(f"ya29.{email}"), adapter=WSGIAdapter(app), retry=RetryPolicy(max_attempts=1))


def shared_sheet(app: SheetsApp, rows: list[list[str]]) -> str:
    sheet = {"values": [HEADERS, *rows], "valueInputOption": "RAW"}
    spreadsheet_id = str(seed(app.backend, {"owner": OWNER, "sheets": [sheet]})["spreadsheetId"])
    app.backend.share(spreadsheet_id, VIEWER, "reader")
    app.backend.share(spreadsheet_id, EDITOR, "writer")
    app.backend.reset_calls()
    return spreadsheet_id


def test_a_viewer_is_refused_before_any_cell_is_read(app: SheetsApp) -> None:
    sid = shared_sheet(app, [["054-7000001", "Dana"]])
    with pytest.raises(SheetAccessDenied, match="make sure you can edit it") as info:
        Sheet.open(client_of(app, VIEWER), sid, 0)
    assert info.value.http_status == 403
    assert info.value.code == "no_access"
    assert app.backend.calls() == {"spreadsheets.get": 1, "spreadsheets.batchUpdate": 1}


@pytest.mark.parametrize("email", [OWNER, EDITOR])
def test_an_editor_opens_it_and_the_check_changes_nothing(app: SheetsApp, email: str) -> None:
    sid = shared_sheet(app, [["054-7000001", "Dana"]])
    app.backend.values_update(sid, "B1", {"values": [[EDIT_CHECK_TEXT]]}, input_option="RAW")
    sheet = Sheet.open(client_of(app, email), sid, 0)
    assert sheet.info.sheet_title
    assert app.backend.values_get(sid, "A1:B2")["values"] == [
        ["Phone", EDIT_CHECK_TEXT],
        ["054-7000001", "Dana"],
    ]


def test_the_check_finds_its_text_and_puts_it_back_unchanged(app: SheetsApp) -> None:
    sid = shared_sheet(app, [])
    app.backend.values_update(sid, "A1", {"values": [[EDIT_CHECK_TEXT]]}, input_option="RAW")
    Sheet.open(client_of(app, OWNER), sid, 0)
    assert app.backend.values_get(sid, "A1")["values"] == [[EDIT_CHECK_TEXT]]


@pytest.mark.parametrize(
    "message",
    ["x" * 60_000, "\U0001f4de" * 30_000, "a" + "\U0001f4de" * 24_999, "ok " * 16_666],
    ids=["ascii", "astral", "astral at the cut", "just under"],
)
def test_no_cell_written_reaches_googles_limit(app: SheetsApp, message: str) -> None:
    sid = shared_sheet(app, [["054-7000001", "Dana"]])
    sheet = Sheet.open(client_of(app, OWNER), sid, 0)
    selection = sheet.read([(2, 2)])
    update = StatusUpdate(2, "rejected", message, "2024-05-01 10:00", "f" * 16, "054-7000001")
    sheet.write(selection, [update], key_column=0)
    header, row = app.backend.values_get(sid, "A1:F2")["values"]
    written = row[header.index("CallMarker message")]
    assert len(written.encode("utf-16-le")) // 2 < MAX_CELL_CHARS
    if len(message.encode("utf-16-le")) // 2 < MAX_CELL_CHARS:
        assert written == message
    else:
        assert written.endswith("…")
        assert message.startswith(written[:-1])


def test_a_message_quotes_a_long_cell_only_in_part() -> None:
    assert quoted("short") == "short"
    long = "0547000000 ext " + "9" * 500
    assert len(quoted(long)) == MAX_QUOTED_CHARS
    assert quoted(long).endswith("…")
    assert long.startswith(quoted(long)[:-1])
