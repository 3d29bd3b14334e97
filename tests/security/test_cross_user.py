"""Callers who reach for what is not theirs: another person's Sheets token, a sheet they cannot open, a
sheet they may only view. Over HTTP against the served function; the Sheets emulator knows who each
token belongs to and who may do what with Dana's sheet, as Google does."""

from __future__ import annotations

from typing import Any

import pytest

from callmarker_sheets.sheet import EDIT_CHECK_TEXT
from tests.security.people import (
    Cast,
    danas_sheet,
    leads,
    nothing_read_or_sent,
    refused,
    traffic,
    upload,
)
from tests.stack import Stack


@pytest.fixture
def sheet(stack: Stack, cast: Cast) -> tuple[str, int]:
    return danas_sheet(stack, cast, leads(10))


def cells(stack: Stack, spreadsheet_id: str) -> list[list[Any]]:
    """What the sheet holds, seen from the emulator's side."""
    backend = stack.sheets_app.backend
    return list(backend.values_get(spreadsheet_id, "A1:Z100").get("values", []))


def test_another_persons_sheets_token_is_refused_before_the_sheet_is_opened(
    stack: Stack, cast: Cast, sheet: tuple[str, int]
) -> None:
    # Mallory is an allowed caller; she sends her own ID token with Dana's Sheets token.
    with nothing_read_or_sent(stack, tokeninfo=True):
        response = stack.call(
            upload(*sheet), id_token=cast.mallory.id_token(stack), sheets_token=cast.dana.sheets_token
        )
    error = refused(response, 403, "sheets_token_mismatch")
    assert cast.dana.sheets_token not in error["message"]


@pytest.mark.parametrize(
    "grant",
    [{"audience": "other-app.example"}, {"scopes": ["openid", "email"]}, {"expires_in": -1}],
    ids=["of another application", "without the spreadsheets scope", "expired"],
)
def test_a_sheets_token_dana_holds_but_cannot_use_here_is_refused(
    stack: Stack, cast: Cast, sheet: tuple[str, int], grant: dict[str, Any]
) -> None:
    token = stack.issuer.grant(sub=cast.dana.subject, email=cast.dana.email, **grant)
    with nothing_read_or_sent(stack, tokeninfo=True):
        response = stack.call(upload(*sheet), id_token=cast.dana.id_token(stack), sheets_token=token)
    refused(response, 401, "unauthenticated")


def test_a_sheet_the_caller_cannot_open_is_403_and_nothing_is_read_or_sent(
    stack: Stack, cast: Cast, sheet: tuple[str, int]
) -> None:
    before = traffic(stack)
    calls_before = stack.sheets_app.backend.calls()
    response = cast.mallory.call(stack, upload(*sheet))
    refused(response, 403, "no_access")
    calls = stack.sheets_app.backend.calls()
    # One attempt to open it, which Google refused: no cell was read.
    assert calls.get("spreadsheets.get", 0) - calls_before.get("spreadsheets.get", 0) == 1
    assert calls.get("values.batchGet", 0) == calls_before.get("values.batchGet", 0)
    assert traffic(stack).callmarker_requests == before.callmarker_requests
    assert "Lead" not in response.text


@pytest.mark.parametrize("who", ["victor", "colin"], ids=["viewer", "commenter"])
def test_a_sheet_the_caller_may_only_view_is_403_before_any_cell_is_read(
    stack: Stack, cast: Cast, sheet: tuple[str, int], who: str
) -> None:
    calls_before = stack.sheets_app.backend.calls()
    requests_before = len(stack.callmarker_app.requests)
    content = cells(stack, sheet[0])
    for action in ("upload", "check", "remove"):
        response = getattr(cast, who).call(stack, upload(*sheet, action=action))
        error = refused(response, 403, "no_access")
        assert "edit" in error["message"]
    calls = stack.sheets_app.backend.calls()
    assert calls.get("values.batchGet", 0) == calls_before.get("values.batchGet", 0), "a cell was read"
    assert calls.get("values.batchUpdate", 0) == calls_before.get("values.batchUpdate", 0)
    assert len(stack.callmarker_app.requests) == requests_before
    assert cells(stack, sheet[0]) == content


def test_an_editor_it_is_shared_with_is_served(stack: Stack, cast: Cast, sheet: tuple[str, int]) -> None:
    response = cast.wendy.call(stack, upload(*sheet))
    assert response.status_code == 200, response.text
    assert response.json()["counts"]["uploaded"] == 10
    assert cells(stack, sheet[0])[1][3] == "uploaded"


def test_the_edit_check_leaves_the_sheet_as_it_was(stack: Stack, cast: Cast) -> None:
    # Even when the first cell holds exactly what the check looks for, nothing changes.
    spreadsheet_id, gid = danas_sheet(stack, cast, leads(3))
    stack.sheets_app.backend.values_update(
        spreadsheet_id, "A1", {"values": [[EDIT_CHECK_TEXT]]}, input_option="RAW"
    )
    response = cast.dana.call(stack, upload(spreadsheet_id, gid, rows=(2, 4), action="check"))
    refused(response, 422, "header_row")  # a sheet whose first header is that text has no phone column
    assert cells(stack, spreadsheet_id)[0][0] == EDIT_CHECK_TEXT
