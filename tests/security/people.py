"""The people of the security tests, their Google tokens and their spreadsheets, on a local stack.

Dana owns the sheet; Wendy may edit it; Victor may only view it and Colin only comment; Mallory has an
allowed account of her own but no share. Everyone's ID token is signed by the stack's issuer, and
everyone's Sheets token is known to both Google stand-ins: tokeninfo says whose it is, the Sheets
emulator what it opens.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import functions_framework
import httpx
import pytest

from callmarker_sheets.config import get_settings
from callmarker_sheets.logs import LOGGER_NAME
from tests.emulators.identity import DEFAULT_EMAIL, DEFAULT_SUBJECT
from tests.emulators.sheets.responses import seed
from tests.stack import CAMPAIGN, MAIN, USER_OAUTH_TOKEN, Stack

#: Who the function admits in these tests: Workspace accounts of example.com, and one consumer account.
ALLOWED_DOMAIN = "example.com"
ALLOWED_CONSUMER = "boss@gmail.com"
SECURITY_ENV = {"ALLOWED_DOMAINS": ALLOWED_DOMAIN, "ALLOWED_EMAILS": ALLOWED_CONSUMER}
HEADERS = ["Phone", "First name", "Last name"]


@dataclass(frozen=True)
class Person:
    email: str
    subject: str
    sheets_token: str

    @property
    def domain(self) -> str:
        return self.email.partition("@")[2]

    def id_token(self, stack: Stack, **claims: Any) -> str:
        """A Google ID token of this person, issued now for the add-in; ``claims`` change it."""
        return stack.issuer.sign(**{"email": self.email, "sub": self.subject, "hd": self.domain, **claims})

    def call(self, stack: Stack, body: Mapping[str, Any]) -> httpx.Response:
        """One POST to the function with this person's two tokens, as the add-in sends them."""
        return stack.call(body, id_token=self.id_token(stack), sheets_token=self.sheets_token)


def person(stack: Stack, email: str, subject: str) -> Person:
    """A Google account on the stack: an access token tokeninfo and the Sheets emulator both know."""
    token = stack.issuer.grant(sub=subject, email=email)
    stack.sheets_app.backend.sign_in(token, email)
    return Person(email, subject, token)


@dataclass(frozen=True)
class Cast:
    dana: Person
    wendy: Person
    victor: Person
    colin: Person
    mallory: Person


def cast_of(stack: Stack) -> Cast:
    return Cast(
        dana=Person(DEFAULT_EMAIL, DEFAULT_SUBJECT, USER_OAUTH_TOKEN),
        wendy=person(stack, "wendy@example.com", "2000000000000000000001"),
        victor=person(stack, "victor@example.com", "2000000000000000000002"),
        colin=person(stack, "colin@example.com", "2000000000000000000003"),
        mallory=person(stack, "mallory@example.com", "2000000000000000000004"),
    )


def leads(n: int, first: int = 0) -> list[list[str]]:
    return [[f"054-7{first + i:06d}", f"Lead {first + i}", "Cohen"] for i in range(n)]


def danas_sheet(stack: Stack, cast: Cast, rows: Sequence[Sequence[str]]) -> tuple[str, int]:
    """A spreadsheet Dana owns, shared with Wendy (editor), Victor (viewer) and Colin (commenter)."""
    meta = seed(
        stack.sheets_app.backend,
        {
            "title": "Dana's leads",
            "locale": "iw_IL",
            "timeZone": "Asia/Jerusalem",
            "owner": cast.dana.email,
            "sheets": [{"values": [HEADERS, *map(list, rows)], "valueInputOption": "RAW"}],
        },
    )
    backend = stack.sheets_app.backend
    backend.share(meta["spreadsheetId"], cast.wendy.email, "writer")
    backend.share(meta["spreadsheetId"], cast.victor.email, "reader")
    backend.share(meta["spreadsheetId"], cast.colin.email, "commenter")
    return meta["spreadsheetId"], meta["sheets"][0]["properties"]["sheetId"]


def upload(spreadsheet_id: str, gid: int, rows: Sequence[int] = (2, 11), **more: Any) -> dict[str, Any]:
    body = {
        "spreadsheet_id": spreadsheet_id,
        "sheet_id": gid,
        "mode": "selected",
        "rows": [list(rows)],
        "action": "upload",
        "options": {"campaign": CAMPAIGN},
    }
    body.update(more)
    return body


@dataclass(frozen=True)
class Traffic:
    sheets_calls: int
    callmarker_requests: int
    tokeninfo_requests: int


def traffic(stack: Stack) -> Traffic:
    """Everything the function has asked of the world so far."""
    return Traffic(
        sheets_calls=sum(stack.sheets_app.backend.calls().values()),
        callmarker_requests=len(stack.callmarker_app.requests),
        tokeninfo_requests=stack.issuer.tokeninfo_requests,
    )


@contextmanager
def nothing_read_or_sent(stack: Stack, *, tokeninfo: bool = False) -> Iterator[None]:
    """The block makes no Sheets call and no CallMarker request (nor asks tokeninfo, unless allowed)."""
    before = traffic(stack)
    yield
    after = traffic(stack)
    assert after.sheets_calls == before.sheets_calls, "the sheet was read or written"
    assert after.callmarker_requests == before.callmarker_requests, "something was sent to CallMarker"
    if not tokeninfo:
        assert after.tokeninfo_requests == before.tokeninfo_requests, "Google was asked about the token"


def refused(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The error of an answer, after checking its status, its JSON shape and its code."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == status
    assert isinstance(error["message"], str)
    assert error["message"]
    if code is not None:
        assert error["status"] == code, error
    return dict(error)


@contextmanager
def in_process(stack: Stack, **env: str) -> Iterator[Any]:
    """The function as functions-framework builds it, in this process, with the stack's settings (and
    ``env`` on top): its WSGI test client. The package's logger is left as it was found."""
    logger = logging.getLogger(LOGGER_NAME)
    saved = (list(logger.handlers), logger.level, logger.propagate)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**stack.env(), **env}.items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        try:
            yield functions_framework.create_app(target="upload_rows", source=str(MAIN)).test_client()
        finally:
            get_settings.cache_clear()
            logger.handlers[:] = saved[0]
            logger.setLevel(saved[1])
            logger.propagate = saved[2]
