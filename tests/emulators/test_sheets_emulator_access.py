"""The Sheets emulator knows whose each token is and who may do what with a spreadsheet, as Google does;
it answers findReplace, the request the function's edit check makes, and refuses a cell too long."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.emulators import sheets
from tests.emulators.sheets.responses import SheetsApp, seed
from tests.emulators.wsgi_requests import WSGIAdapter

OWNER, EDITOR = "owner@example.com", "editor@example.com"
VIEWER, STRANGER = "viewer@example.com", "x@evil.com"
DENIED = {
    "error": {"code": 403, "message": "The caller does not have permission", "status": "PERMISSION_DENIED"}
}
FIRST_CELL = {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 1, "startColumnIndex": 0, "endColumnIndex": 1}


@pytest.fixture
def app() -> SheetsApp:
    app = sheets.create_app()
    for email in (OWNER, EDITOR, VIEWER, STRANGER):
        app.backend.sign_in(f"token-of-{email}", email)
    return app


def owned(app: SheetsApp, values: list[list[Any]] | None = None) -> str:
    sheet = {"values": values or [["a", "b"], ["c", "d"]], "valueInputOption": "RAW"}
    spreadsheet_id = str(seed(app.backend, {"owner": OWNER, "sheets": [sheet]})["spreadsheetId"])
    app.backend.share(spreadsheet_id, EDITOR, "writer")
    app.backend.share(spreadsheet_id, VIEWER, "reader")
    return spreadsheet_id


def call(app: SheetsApp, method: str, path: str, email: str | None, body: Any = None) -> tuple[int, Any]:
    session = requests.Session()
    session.mount("https://", WSGIAdapter(app))
    headers = {"Authorization": f"Bearer token-of-{email}" if email else "Bearer unknown"}
    response = session.request(method, f"https://sheets.googleapis.com{path}", json=body, headers=headers)
    return response.status_code, response.json() if response.content else None


def find_replace(**scope: Any) -> dict[str, Any]:
    request = {"find": "check", "replacement": "check", "matchEntireCell": True, **(scope or {"sheetId": 0})}
    return {"requests": [{"findReplace": request}]}


@pytest.mark.parametrize(
    ("email", "read", "write"),
    [(OWNER, 200, 200), (EDITOR, 200, 200), (VIEWER, 200, 403), (STRANGER, 403, 403), (None, 403, 403)],
)
def test_each_account_may_do_what_it_was_shared(
    app: SheetsApp, email: str | None, read: int, write: int
) -> None:
    sid = owned(app)
    status, answer = call(app, "GET", f"/v4/spreadsheets/{sid}", email)
    assert status == read
    if status == 403:
        assert answer == DENIED
    status, _ = call(app, "POST", f"/v4/spreadsheets/{sid}:batchUpdate", email, find_replace())
    assert status == write
    write_a1 = {"valueInputOption": "RAW", "data": [{"range": "A1", "values": [["a"]]}]}
    status, _ = call(app, "POST", f"/v4/spreadsheets/{sid}/values:batchUpdate", email, write_a1)
    assert status == write


def test_drive_hides_a_file_from_who_cannot_open_it_and_lets_only_its_owner_delete_it(app: SheetsApp) -> None:
    sid = owned(app)
    assert call(app, "GET", f"/drive/v3/files/{sid}", STRANGER)[0] == 404
    assert call(app, "GET", f"/drive/v3/files/{sid}", VIEWER)[0] == 200
    status, answer = call(app, "DELETE", f"/drive/v3/files/{sid}", EDITOR)
    assert status == 403
    assert answer["error"]["errors"][0]["reason"] == "insufficientFilePermissions"
    assert call(app, "DELETE", f"/drive/v3/files/{sid}", OWNER)[0] == 204


def test_a_spreadsheet_without_an_owner_is_open_to_every_token(app: SheetsApp) -> None:
    meta = seed(app.backend, {"sheets": [{"values": [["a"]]}]})
    assert call(app, "GET", f"/v4/spreadsheets/{meta['spreadsheetId']}", None)[0] == 200


def test_accounts_and_sharing_are_set_through_the_controls_too(app: SheetsApp) -> None:
    sid = owned(app)
    account = {"token": "t2", "email": "New@Example.com"}
    assert call(app, "POST", "/_emulator/accounts", OWNER, account)[0] == 200
    share = {"spreadsheetId": sid, "email": "new@example.com", "role": "writer"}
    assert call(app, "POST", "/_emulator/share", OWNER, share)[0] == 200
    assert app.backend.spreadsheets[sid].role("new@example.com") == "writer"
    assert call(app, "POST", "/_emulator/share", OWNER, {**share, "role": "owner"})[0] == 400


def test_find_replace_changes_what_it_finds_and_counts_it(app: SheetsApp) -> None:
    sid = owned(app, [["Phone", "Note"], ["054", "call back"], ["055", "Call later"], ["call", "x"]])
    body = {"requests": [{"findReplace": {"find": "call", "replacement": "ring", "sheetId": 0}}]}
    status, answer = call(app, "POST", f"/v4/spreadsheets/{sid}:batchUpdate", OWNER, body)
    assert status == 200
    counts = {"valuesChanged": 3, "rowsChanged": 3, "sheetsChanged": 1, "occurrencesChanged": 3}
    assert answer["replies"] == [{"findReplace": counts}]
    values = app.backend.values_get(sid, "A1:B4")["values"]
    assert values == [["Phone", "Note"], ["054", "ring back"], ["055", "ring later"], ["ring", "x"]]


def test_find_replace_of_a_text_the_first_cell_does_not_hold_changes_nothing(app: SheetsApp) -> None:
    sid = owned(app)
    status, answer = call(
        app, "POST", f"/v4/spreadsheets/{sid}:batchUpdate", EDITOR, find_replace(range=FIRST_CELL)
    )
    assert status == 200
    assert answer == {"spreadsheetId": sid, "replies": [{"findReplace": {}}]}
    assert app.backend.values_get(sid, "A1:B2")["values"] == [["a", "b"], ["c", "d"]]


@pytest.mark.parametrize(
    "request_",
    [
        {"find": "", "sheetId": 0},
        {"find": "x"},
        {"find": "x", "sheetId": 0, "allSheets": True},
        {"find": "x", "sheetId": 12345},
        {"find": "x", "allSheets": True, "includeFormulas": True},
    ],
)
def test_find_replace_refuses_what_google_refuses(app: SheetsApp, request_: dict[str, Any]) -> None:
    sid = owned(app)
    body = {"requests": [{"findReplace": request_}]}
    status, answer = call(app, "POST", f"/v4/spreadsheets/{sid}:batchUpdate", OWNER, body)
    assert status == 400
    assert answer["error"]["status"] == "INVALID_ARGUMENT"


def test_a_cell_longer_than_googles_limit_is_refused(app: SheetsApp) -> None:
    sid = owned(app)
    for value, status in (("x" * 50_000, 200), ("x" * 50_001, 400), ("\U0001f4de" * 25_001, 400)):
        body = {"valueInputOption": "RAW", "data": [{"range": "A1", "values": [[value]]}]}
        assert call(app, "POST", f"/v4/spreadsheets/{sid}/values:batchUpdate", OWNER, body)[0] == status


def test_a_protected_range_is_edited_only_by_the_owner_and_its_editors(app: SheetsApp) -> None:
    """Data > Protect sheets and ranges: column B of the first tab, for the owner and one editor; Google
    refuses anyone else's edit of its cells, whatever else they may edit, and says so."""
    sid = owned(app, [["a", "b", "c"], ["d", "e", "f"]])
    other = "other@example.com"
    app.backend.sign_in(f"token-of-{other}", other)
    app.backend.share(sid, other, "writer")
    app.backend.protect(sid, 0, columns=(1, 2), editors=[EDITOR])
    fields = "sheets.protectedRanges(range,requestingUserCanEdit,warningOnly,editors)"
    status, answer = call(app, "GET", f"/v4/spreadsheets/{sid}?fields={fields}", other)
    assert status == 200
    # the editors are shown only to whoever may edit the range
    assert answer["sheets"][0]["protectedRanges"] == [
        {"range": {"sheetId": 0, "startColumnIndex": 1, "endColumnIndex": 2}, "requestingUserCanEdit": False}
    ]
    _, answer = call(app, "GET", f"/v4/spreadsheets/{sid}?fields={fields}", EDITOR)
    assert answer["sheets"][0]["protectedRanges"][0]["requestingUserCanEdit"] is True
    assert answer["sheets"][0]["protectedRanges"][0]["editors"] == {"users": [EDITOR, OWNER]}

    def write(email: str, a1: str) -> tuple[int, Any]:
        body = {"valueInputOption": "RAW", "data": [{"range": a1, "values": [["x"]]}]}
        return call(app, "POST", f"/v4/spreadsheets/{sid}/values:batchUpdate", email, body)

    status, answer = write(other, "B2")
    assert status == 403
    assert answer["error"]["message"].startswith("You are trying to edit a protected cell or object.")
    assert write(other, "C2")[0] == 200  # the rest of the tab is theirs to edit
    assert write(EDITOR, "B2")[0] == 200
    assert write(OWNER, "B1")[0] == 200
    # a batch with one protected range writes nothing
    both = {
        "valueInputOption": "RAW",
        "data": [{"range": "A2", "values": [["y"]]}, {"range": "B1", "values": [["y"]]}],
    }
    assert call(app, "POST", f"/v4/spreadsheets/{sid}/values:batchUpdate", other, both)[0] == 403
    assert (
        call(app, "POST", f"/v4/spreadsheets/{sid}/values:batchClear", other, {"ranges": ["B:B"]})[0] == 403
    )
    assert call(app, "POST", f"/v4/spreadsheets/{sid}:batchUpdate", other, find_replace())[0] == 403
    assert (
        call(app, "POST", f"/v4/spreadsheets/{sid}:batchUpdate", other, find_replace(range=FIRST_CELL))[0]
        == 200
    )
    _, values = call(app, "GET", f"/v4/spreadsheets/{sid}/values/A1:C2", OWNER)
    assert values["values"] == [["a", "x", "c"], ["d", "x", "x"]]


def test_a_warning_only_protection_lets_every_editor_edit(app: SheetsApp) -> None:
    sid = owned(app)
    app.backend.protect(sid, 0, warning_only=True)
    _, answer = call(app, "GET", f"/v4/spreadsheets/{sid}?fields=sheets.protectedRanges", EDITOR)
    assert answer["sheets"][0]["protectedRanges"][0]["warningOnly"] is True
    assert answer["sheets"][0]["protectedRanges"][0]["requestingUserCanEdit"] is True
    body = {"valueInputOption": "RAW", "data": [{"range": "A1", "values": [["z"]]}]}
    assert call(app, "POST", f"/v4/spreadsheets/{sid}/values:batchUpdate", EDITOR, body)[0] == 200
