"""Cursors changed, forged, swapped and replayed, over HTTP against the served function.

A job is made to take several steps (a one-second budget, one CallMarker request at a time, each
slow), so the function hands out real cursors. Anything but the cursor it gave, for the job it gave
it for, to the person it gave it to, answers 400 ``cursor_invalid`` and touches nothing.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from callmarker_sheets.config import Secret
from callmarker_sheets.cursor import CursorSeal
from tests.security.people import (
    SECURITY_ENV,
    Cast,
    danas_sheet,
    leads,
    nothing_read_or_sent,
    refused,
    upload,
)
from tests.stack import Stack, local_stack

ROWS = 30


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    env = {**SECURITY_ENV, "TIME_BUDGET_S": "1", "CALLMARKER_CONCURRENCY": "1"}
    with local_stack(function_env=env, callmarker_settings={"latency": 0.3}) as s:
        s.start_function()
        yield s


@pytest.fixture(scope="module")
def job(stack: Stack, cast: Cast) -> dict[str, Any]:
    spreadsheet_id, gid = danas_sheet(stack, cast, leads(ROWS))
    return upload(spreadsheet_id, gid, rows=(2, ROWS + 1), options={"campaign": "11", "batch_size": 10})


@pytest.fixture(scope="module")
def first(stack: Stack, cast: Cast, job: dict[str, Any]) -> dict[str, Any]:
    """The first step's answer: ten rows done, and a cursor."""
    response = cast.dana.call(stack, job)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert answer["done"] is False
    assert answer["processed_rows"] == 10
    return answer


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def payload_of(cursor: str) -> dict[str, Any]:
    """What a cursor says: anyone holding one can read it (it holds no secret and no phone number)."""
    data: dict[str, Any] = json.loads(zlib.decompress(unb64(cursor.split(".", maxsplit=1)[0])))
    return data


def repacked(cursor: str, change: dict[str, Any]) -> str:
    """The cursor with its payload changed and its tag kept: what someone without the key can do."""
    payload = {**payload_of(cursor), **change}
    body = b64(zlib.compress(json.dumps(payload, separators=(",", ":")).encode()))
    return f"{body}.{cursor.split('.')[1]}"


def flipped(text: str, i: int) -> str:
    return text[:i] + ("A" if text[i] != "A" else "B") + text[i + 1 :]


def tampered(cursor: str) -> list[tuple[str, object]]:
    body, tag = cursor.split(".")
    return [
        ("first character", flipped(cursor, 0)),
        ("a middle character of the payload", flipped(cursor, len(body) // 2)),
        ("last character of the payload", flipped(cursor, len(body) - 1)),
        ("first character of the tag", flipped(cursor, len(body) + 1)),
        ("last character of the tag", flipped(cursor, len(cursor) - 1)),
        ("cut short", cursor[:-5]),
        ("without its tag", body),
        ("with a second tag", f"{cursor}.{tag}"),
        ("counts raised, tag kept", repacked(cursor, {"counts": {"uploaded": 1_000_004, "invalid": -5}})),
        ("every row done, tag kept", repacked(cursor, {"done": [2, ROWS - 1]})),
        ("ten million rows done, tag kept", repacked(cursor, {"done": [1, 10_000_000]})),
        (
            "an error in the product's own words, tag kept",
            repacked(cursor, {"errors": [{"row": 2, "column": None, "message": "Call 0547999999 now"}]}),
        ),
        ("unsigned, as cursors once were", b64(json.dumps(payload_of(cursor)).encode())),
        ("oversized", cursor + "A" * 200_000),
        ("a number", 17),
        ("an object", {"done": [[2, 31]]}),
        ("nested deep", [[[[[[[]]]]]]]),
    ]


def test_every_changed_or_forged_cursor_is_refused_and_touches_nothing(
    stack: Stack, cast: Cast, job: dict[str, Any], first: dict[str, Any]
) -> None:
    for what, cursor in tampered(first["cursor"]):
        with nothing_read_or_sent(stack):
            response = cast.dana.call(stack, {**job, "cursor": cursor})
        assert response.status_code == 400, (what, response.text[:300])
        assert response.json()["error"]["status"] in ("cursor_invalid", "bad_request"), what
        assert "0547999999" not in response.text


def test_a_cursor_of_another_job_is_refused(
    stack: Stack, cast: Cast, job: dict[str, Any], first: dict[str, Any]
) -> None:
    for other in ({**job, "rows": [[2, ROWS]]}, {**job, "action": "remove"}, {**job, "sheet_id": 1}):
        with nothing_read_or_sent(stack):
            response = cast.dana.call(stack, {**other, "cursor": first["cursor"]})
        error = refused(response, 400, "cursor_invalid")
        assert "another job" in error["message"]


def test_a_cursor_of_another_person_is_refused(
    stack: Stack, cast: Cast, job: dict[str, Any], first: dict[str, Any]
) -> None:
    # Wendy may edit the same sheet; Dana's cursor for the same job is still not hers to use.
    with nothing_read_or_sent(stack):
        response = cast.wendy.call(stack, {**job, "cursor": first["cursor"]})
    refused(response, 400, "cursor_invalid")


def test_a_cursor_of_another_deploy_is_refused(
    stack: Stack, cast: Cast, job: dict[str, Any], first: dict[str, Any]
) -> None:
    other_key = CursorSeal(Secret(b64(b"another deploy's key, 32 bytes!!")), cast.dana.subject)
    resealed = other_key.seal(payload_of(first["cursor"]))
    with nothing_read_or_sent(stack):
        response = cast.dana.call(stack, {**job, "cursor": resealed})
    refused(response, 400, "cursor_invalid")


def test_a_body_with_an_oversized_cursor_is_413(
    stack: Stack, cast: Cast, job: dict[str, Any], first: dict[str, Any]
) -> None:
    with nothing_read_or_sent(stack):
        response = cast.dana.call(stack, {**job, "cursor": first["cursor"] + "A" * 300_000})
    refused(response, 413, "body_too_large")


def test_the_cursor_as_given_finishes_the_job_with_every_row_once(
    stack: Stack, cast: Cast, job: dict[str, Any], first: dict[str, Any]
) -> None:
    payload = payload_of(first["cursor"])
    assert "054" not in json.dumps(payload)
    answers = [first]
    while not answers[-1]["done"]:
        response = cast.dana.call(stack, {**job, "cursor": answers[-1]["cursor"]})
        assert response.status_code == 200, response.text
        answers.append(response.json())
    assert answers[-1]["counts"]["uploaded"] == ROWS
    sent = [c["number"] for r in stack.callmarker_app.requests for c in r["body"].get("customers", [])]
    assert len(sent) == len(set(sent)) == ROWS
