""" "Test connection" on the function's side: one call that changes nothing and answers a checklist, each
failed line with its fix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from google.auth.credentials import Credentials
from google.oauth2.credentials import Credentials as OAuthCredentials

from callmarker_sheets import __version__
from callmarker_sheets.auth import Caller, Unauthenticated
from callmarker_sheets.config import ConfigError, Secret, Settings
from callmarker_sheets.diagnose import diagnose
from callmarker_sheets.sheet import Sheet, SheetsApiDisabled
from tests.stack import Stack, local_stack
from tests.words import visible

REVISION = "callmarker-upload-00007-xaw"


@pytest.fixture
def stack() -> Iterator[Stack]:
    with local_stack(function_env={"K_REVISION": REVISION, "ALLOWED_DOMAINS": "example.com"}) as s:
        s.start_function()
        yield s


def checklist(stack: Stack, body: dict[str, Any], **call: Any) -> dict[str, dict[str, Any]]:
    response = stack.call({"action": "diagnose", **body}, **call)
    assert response.status_code == 200, response.text
    # each line as a person reads it: the isolates around the values it quotes are invisible
    return {
        check["name"]: {k: visible(v) if isinstance(v, str) else v for k, v in check.items()}
        for check in response.json()["checks"]
    }


def test_everything_in_order_and_nothing_changed(stack: Stack) -> None:
    spreadsheet_id, gid = stack.new_spreadsheet(
        [["Name", "Phone"], ["Dana", "054-7000000"]], title="Leads May"
    )
    before = stack.read_sheet(spreadsheet_id)
    stack.sheets_app.backend.reset_calls()

    checks = checklist(stack, {"spreadsheet_id": spreadsheet_id, "sheet_id": gid})
    calls = stack.sheets_app.backend.calls()

    assert [c["ok"] for c in checks.values()] == [True, True, True, True]
    assert checks["Sign-in"]["detail"] == (
        f"Accepted: dana@example.com (Workspace domain example.com), audience {stack.issuer.audience}."
    )
    assert 'Reached "Leads May"' in checks["Google Sheets"]["detail"]
    assert checks["CallMarker token"]["detail"] == "Configured (from Secret Manager)."
    assert (
        checks["Function version"]["detail"]
        == f"callmarker-sheets {__version__}, Cloud Run revision {REVISION}"
    )
    assert stack.read_sheet(spreadsheet_id) == before
    assert stack.callmarker_app.requests == []
    # the edit check is a batchUpdate that changes nothing: the sheet reads the same as before
    assert calls == {"spreadsheets.get": 1, "spreadsheets.batchUpdate": 1}


def test_a_token_for_another_audience_names_both_and_the_fix(stack: Stack) -> None:
    other = "999-other.apps.googleusercontent.com"
    checks = checklist(stack, {"spreadsheet_id": "x", "sheet_id": 0}, id_token=stack.id_token(aud=other))
    sign_in = checks["Sign-in"]
    assert sign_in["ok"] is False
    assert f"audience {other}" in sign_in["detail"]
    assert sign_in["fix"] == f"Deploy the function with --audiences {other} (the add-in's OAuth client id)."
    assert checks["Google Sheets"]["ok"] is None  # nothing is read for a caller not admitted
    assert stack.sheets_app.backend.calls() == {}


def test_an_account_not_allowed_is_told_whom_to_ask(stack: Stack) -> None:
    token = stack.id_token(email="mallory@elsewhere.example", hd="elsewhere.example")
    sign_in = checklist(stack, {"spreadsheet_id": "x"}, id_token=token)["Sign-in"]
    assert sign_in["ok"] is False
    assert sign_in["fix"].startswith("Ask the administrator to allow mallory@elsewhere.example")


def test_a_spreadsheet_the_user_cannot_open_fails_the_sheets_line(stack: Stack) -> None:
    checks = checklist(stack, {"spreadsheet_id": "1" + "x" * 43, "sheet_id": 0})
    assert checks["Sign-in"]["ok"] is True
    assert checks["Google Sheets"]["ok"] is False
    assert checks["Google Sheets"]["fix"]


SETTINGS = Settings(
    callmarker_token=Secret("t"),
    id_token_audiences=("aud",),
    allowed_domains=frozenset({"example.com"}),
    cursor_signing_key=Secret("k" * 43),
)


def accept(_authorization: str | None, _settings: Settings) -> Caller:
    return Caller("dana@example.com", "example.com")


def own_token(sheets_token: str | None, _caller: Caller, _settings: Settings) -> Credentials:
    """The Sheets token taken as the caller's own (tokeninfo is exercised over HTTP above)."""
    if not sheets_token:
        raise Unauthenticated("X-Sheets-Token header is missing: the add-in sends the user's Google token")
    return OAuthCredentials(token=sheets_token)


def test_a_sheets_api_not_enabled_in_the_scripts_project_is_named_with_its_fix() -> None:
    def disabled(_credentials: Credentials, _spreadsheet_id: str, _gid: int, _settings: Settings) -> Sheet:
        raise SheetsApiDisabled("disabled", status=403)

    report = diagnose(
        authorization="Bearer a.b.c",
        sheets_token="ya29.t",
        body={"spreadsheet_id": "1" + "a" * 43, "sheet_id": 0},
        settings=SETTINGS,
        revision=None,
        open_sheet=disabled,
        verify=accept,
        credentials_for=own_token,
    )
    sheets = report.checks[1]
    assert (sheets.name, sheets.ok) == ("Google Sheets", False)
    assert sheets.detail == "The Sheets API is not enabled in the script's Cloud project."
    assert "Google Sheets API > Enable" in sheets.fix
    assert report.ok is False
    assert report.checks[-1].detail.endswith("not running on Cloud Run")


def test_without_a_callmarker_token_the_function_still_answers_the_checklist() -> None:
    report = diagnose(
        authorization=None,
        sheets_token=None,
        body={},
        settings=ConfigError("CALLMARKER_TOKEN is required: the CallMarker API token"),
        revision=REVISION,
    )
    by_name = {c.name: c for c in report.checks}
    assert by_name["CallMarker token"].ok is False
    assert "deploy/function.sh" in by_name["CallMarker token"].fix
    assert by_name["Sign-in"].ok is None
    assert report.to_json()["ok"] is False


def test_a_missing_sheets_token_says_to_push_the_add_in_again() -> None:
    report = diagnose(
        authorization="Bearer a.b.c",
        sheets_token=None,
        body={"spreadsheet_id": "1" + "a" * 43},
        settings=SETTINGS,
        revision=None,
        verify=accept,
        credentials_for=own_token,
    )
    assert report.checks[1].ok is False
    assert "deploy/apps_script.sh" in report.checks[1].fix


def test_the_checklist_speaks_the_requests_language(stack: Stack) -> None:
    spreadsheet_id, gid = stack.new_spreadsheet([["שם", "טלפון"], ["דנה", "054-7000000"]], title="לידים")
    checks = checklist(stack, {"spreadsheet_id": spreadsheet_id, "sheet_id": gid, "lang": "he"})
    assert list(checks) == ["כניסה", "Google Sheets", "טוקן CallMarker", "גרסת הפונקציה"]
    assert checks["כניסה"]["detail"].startswith("התקבלה: dana@example.com")
    assert checks["Google Sheets"]["detail"].startswith('הגענו אל "לידים"')
