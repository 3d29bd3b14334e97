"""`python -m callmarker_sheets upload ...`: the same job from a terminal, here against the emulators."""

from __future__ import annotations

import json
from collections.abc import Iterator

import google.auth
import pytest
from google.oauth2.credentials import Credentials

from callmarker_sheets.__main__ import main
from callmarker_sheets.config import get_settings
from tests.rowgen import make_rows, sheet_of
from tests.stack import CALLMARKER_TOKEN, CAMPAIGN, USER_OAUTH_TOKEN, Stack, local_stack


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    with local_stack() as s:
        monkeypatch.setenv("CALLMARKER_TOKEN", CALLMARKER_TOKEN)
        monkeypatch.setenv("CALLMARKER_BASE_URL", f"{s.callmarker.url}/api/v1")
        monkeypatch.setenv("SHEETS_EMULATOR_HOST", s.sheets.host)
        monkeypatch.delenv("ID_TOKEN_AUDIENCES", raising=False)
        monkeypatch.delenv("ALLOWED_EMAILS", raising=False)
        # this machine's Application Default Credentials (gcloud auth application-default login)
        monkeypatch.setattr(google.auth, "default", lambda scopes=None: (Credentials(USER_OAUTH_TOKEN), None))
        get_settings.cache_clear()
        yield s


def test_the_command_line_uploads_rows_and_prints_the_answer(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    _, rows, expected = make_rows(120, invalid_share=0.1, seed=4)
    spreadsheet_id, gid = stack.new_spreadsheet(sheet_of(rows))

    code = main(["upload", "--spreadsheet", spreadsheet_id, "--gid", str(gid), "--rows", "2-61,62-121",
                 "--campaign", CAMPAIGN, "--batch-size", "25"])  # fmt: skip

    assert code == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["done"] is True
    assert answer["counts"]["uploaded"] == sum(e.valid for e in expected)
    assert answer["counts"]["invalid"] == sum(not e.valid for e in expected)
    assert len(stack.callmarker_app.backend.state()["customers"]) == answer["counts"]["uploaded"]


def test_the_command_line_says_what_is_wrong_and_exits_1(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["upload", "--spreadsheet", "1" + "x" * 43, "--rows", "2-5"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert CALLMARKER_TOKEN not in err
