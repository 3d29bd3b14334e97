"""The entry point: every error the function can raise becomes its own status and code in one place,
the answer is redacted, and a body is read only up to its cap."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from callmarker_sheets.errors import ServiceError
from callmarker_sheets.sheet import (
    SheetAccessDenied,
    SheetError,
    SheetNotFound,
    SheetQuotaExceeded,
    SheetUnavailable,
)
from callmarker_sheets.upload import (
    MAX_BODY_BYTES,
    CallMarkerRefused,
    CallMarkerUnreachable,
    HeaderProblem,
    ProgressTooLarge,
    TooManyRows,
)
from tests.security.people import SECURITY_ENV, Cast, cast_of, danas_sheet, in_process, leads, upload
from tests.stack import CALLMARKER_TOKEN, Stack, local_stack


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with local_stack(function_env=SECURITY_ENV) as s:
        yield s


@pytest.fixture(scope="module")
def cast(stack: Stack) -> Cast:
    return cast_of(stack)


@pytest.fixture(scope="module")
def body(stack: Stack, cast: Cast) -> dict[str, Any]:
    return upload(*danas_sheet(stack, cast, leads(4)), rows=(2, 5))


@pytest.fixture
def client(stack: Stack) -> Iterator[Any]:
    with in_process(stack) as c:
        yield c


def headers(stack: Stack, cast: Cast) -> dict[str, str]:
    return {"Authorization": f"Bearer {cast.dana.id_token(stack)}", "X-Sheets-Token": cast.dana.sheets_token}


Post = Callable[..., Any]


@pytest.fixture
def post(stack: Stack, cast: Cast, body: dict[str, Any], client: Any) -> Post:
    """POST Dana's request (or ``body``) with her tokens (and ``extra`` headers) to the function."""

    def send(other: dict[str, Any] | None = None, **extra: str) -> Any:
        return client.post("/", json=other or body, headers={**headers(stack, cast), **extra})

    return send


def step_fails_with(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """Make the step raise ``error``, in the function functions-framework loaded (``main``)."""

    def fail(*_args: object) -> None:
        raise error

    monkeypatch.setattr(sys.modules["main"], "run_step", fail)


def answer(response: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(response.get_data(as_text=True))
    return data


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (SheetNotFound("gone"), 404, "not_found"),
        (SheetAccessDenied("no"), 403, "no_access"),
        (SheetQuotaExceeded("slow down"), 429, "sheets_quota"),
        (SheetUnavailable("down"), 503, "sheets_unavailable"),
        (SheetError("bad range"), 400, "sheets_refused"),
        (TooManyRows("too many"), 413, "too_many_rows"),
        (HeaderProblem("no phone column"), 422, "header_row"),
        (CallMarkerRefused("campaign"), 502, "callmarker_refused"),
        (CallMarkerUnreachable("down"), 502, "callmarker_unreachable"),
        (ProgressTooLarge("fragmented"), 413, "cursor_too_large"),
    ],
)
def test_every_error_carries_its_own_status_and_code(
    post: Post, monkeypatch: pytest.MonkeyPatch, error: ServiceError, status: int, code: str
) -> None:
    step_fails_with(monkeypatch, error)
    response = post()
    assert response.status_code == status
    assert answer(response) == {"error": {"code": status, "status": code, "message": error.message}}


def test_an_unexpected_failure_is_a_plain_500(post: Post, monkeypatch: pytest.MonkeyPatch) -> None:
    step_fails_with(monkeypatch, KeyError(f"internal detail {CALLMARKER_TOKEN}"))
    response = post()
    assert response.status_code == 500
    error = answer(response)["error"]
    assert error["status"] == "internal"
    assert "internal detail" not in error["message"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_an_answer_is_redacted_once_more_on_its_way_out(post: Post, monkeypatch: pytest.MonkeyPatch) -> None:
    encoded = base64.b64encode(CALLMARKER_TOKEN.encode()).decode()
    said = f"CallMarker said: token {CALLMARKER_TOKEN.upper()} ({encoded}) for 054-7000001"
    step_fails_with(monkeypatch, CallMarkerRefused(said))
    text = post().get_data(as_text=True)
    assert CALLMARKER_TOKEN.upper() not in text
    assert encoded not in text
    assert "054-7000001" not in text
    assert "***-**-001" in text


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"CURSOR_SIGNING_KEY": ""}, "CURSOR_SIGNING_KEY"),
        ({"CURSOR_SIGNING_KEY": "c2hvcnQ"}, "CURSOR_SIGNING_KEY"),
        ({"SHEETS_CREDENTIALS": "service_account"}, "SHEETS_CREDENTIALS=service_account"),
    ],
)
def test_a_function_not_configured_says_so_without_saying_what(
    stack: Stack, cast: Cast, body: dict[str, Any], env: dict[str, str], words: str
) -> None:
    with in_process(stack, **env) as client:
        response = client.post("/", json=body, headers=headers(stack, cast))
    assert response.status_code == 500
    error = answer(response)["error"]
    assert error["status"] == "not_configured"
    assert words not in error["message"]
    assert len(stack.callmarker_app.requests) == 0


def test_only_post_is_served(stack: Stack, client: Any) -> None:
    response = client.get("/")
    assert response.status_code == 405
    assert answer(response)["error"]["status"] == "method_not_allowed"


def test_a_body_announced_larger_than_the_cap_is_413_before_the_caller_is_checked(
    stack: Stack, client: Any
) -> None:
    big = b"{" + b" " * MAX_BODY_BYTES + b"}"
    response = client.post("/", data=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert answer(response)["error"]["status"] == "body_too_large"


def test_a_body_sent_without_a_length_is_read_only_up_to_the_cap(stack: Stack, cast: Cast) -> None:
    # Over real HTTP: a chunked body of 1 MB never announces its length.
    stack.start_function()

    def chunks() -> Iterator[bytes]:
        yield b'{"rows": ['
        for _ in range(100_000):
            yield b"[2, 3], "
        yield b"[2, 3]]}"

    response = stack.http.post(stack.function_url or "", content=chunks(), headers=headers(stack, cast))
    assert response.status_code == 413, response.text
    assert response.json()["error"]["status"] == "body_too_large"


def test_a_request_id_from_outside_is_echoed_only_when_it_looks_like_one(
    post: Post, monkeypatch: pytest.MonkeyPatch
) -> None:
    step_fails_with(monkeypatch, RuntimeError("boom"))
    message = answer(post(**{"X-Cloud-Trace-Context": "<script>alert(1)</script>/1;o=1"}))["error"]["message"]
    assert "<script>" not in message
    trace = "105445aa7843bc8bf206b12000100000"
    message = answer(post(**{"X-Cloud-Trace-Context": f"{trace}/1;o=1"}))["error"]["message"]
    assert trace in message


def test_refusals_and_previews_are_answered_in_the_requests_language(
    post: Post, body: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = post({**body, "lang": "he", "colour": "red"})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["message"] == 'שדה לא מוכר \u2068"colour"\u2069.'
    english = post({**body, "colour": "red"})
    assert english.get_json()["error"]["message"] == 'Unknown field \u2068"colour"\u2069.'

    step_fails_with(monkeypatch, RuntimeError("boom"))
    failed = post({**body, "lang": "he"})
    assert failed.status_code == 500
    assert failed.get_json()["error"]["message"].startswith("משהו השתבש אצלנו (בקשה ")
    monkeypatch.undo()

    preview = post({**body, "lang": "he", "action": "preview", "preview_action": "upload"})
    assert preview.status_code == 200, preview.get_json()
    answer = preview.get_json()["preview"]
    assert (answer["total_rows"], answer["to_send"]) == (4, 4)
    assert [c["label"] for c in answer["columns"]][:1] == ["טלפון"]
