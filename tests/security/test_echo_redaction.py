"""A CallMarker that echoes its token back, in every disguise, and the whole request with it.

The function runs as a process of its own with DEBUG logs, against a stand-in for CallMarker that
puts the token (as sent, upper-cased, base64 in both alphabets with and without padding and inside a
longer encoded text, URL-encoded) and the request it received into its answers. No form of the token
reaches an answer, a log line or a cell; no phone number reaches an answer or a log line.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from tests.security.people import SECURITY_ENV, Cast, cast_of, danas_sheet, leads, upload
from tests.stack import Served, Stack, local_stack, serve

#: A token with characters that every encoding changes.
TOKEN = "cm/Live+tok=7f3a9c&2e5b 1d"


def disguises(token: str) -> list[str]:
    raw = token.encode()
    forms = [
        token,
        token.upper(),
        token.lower(),
        quote(token, safe=""),
        quote_plus(token),
        json.dumps(token)[1:-1],
    ]
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode()
        forms += [whole, whole.rstrip("=")]
        forms += [encode(prefix + raw + b"}").decode() for prefix in (b'{"t":"', b"tok=", b"x")]
    return forms


def recognisable(token: str) -> list[str]:
    """Pieces that betray the token in any of its disguises (what a leak would contain)."""
    raw = token.encode()
    pieces = {token, token.upper(), token.lower(), quote(token, safe=""), quote_plus(token)}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for offset in (0, 1, 2):
            encoded = encode(b"\0" * offset + raw).decode()
            pieces.add(encoded[4 * -(-offset // 3) : 4 * ((offset + len(raw)) // 3)])
    return sorted(pieces)


def echoing_callmarker(refuse_all: bool) -> Callable[..., Iterable[bytes]]:
    """Answers every request with the token's disguises and the request as it came. With ``refuse_all``
    every request is refused, naming the token; otherwise the first customer of a batch is not valid."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        request = json.loads(environ["wsgi.input"].read(length) or b"{}")
        customers = request.get("customers") or []
        echo = f"token {' '.join(disguises(request.get('token', '')))} for request {json.dumps(request)}"
        if refuse_all:
            answer: dict[str, Any] = {"success": False, "message": f"Invalid token: {echo}"}
        elif len(customers) == 1:
            answer = {"success": False, "message": f"Number not valid: {echo}"}
        else:
            answer = {
                "success": True,
                "message": f"There are {len(customers) - 1} new customers were created, 0 were restored "
                "and 1 were not valid.",
                "invalid": [{"number": customers[0]["number"], "message": echo}],
            }
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(answer).encode()]

    return app


@pytest.fixture(scope="module", params=[False, True], ids=["row refused", "request refused"])
def echo(request: pytest.FixtureRequest) -> Iterator[tuple[Stack, Cast, list[dict[str, Any]]]]:
    refuse_all: bool = request.param
    served: Served = serve(echoing_callmarker(refuse_all), "echoing-callmarker")
    env = {
        **SECURITY_ENV,
        "CALLMARKER_TOKEN": TOKEN,
        "CALLMARKER_BASE_URL": f"{served.url}/api/v1",
        "CALLMARKER_MAX_ATTEMPTS": "1",
        "LOG_LEVEL": "DEBUG",
    }
    try:
        with local_stack(function_env=env) as stack:
            stack.start_function(process=True)
            cast = cast_of(stack)
            spreadsheet_id, gid = danas_sheet(stack, cast, leads(12))
            answers = []
            for rows, batch in (((2, 7), 6), ((8, 8), 1), ((9, 13), 5)):
                body = upload(spreadsheet_id, gid, rows=rows, options={"campaign": "11", "batch_size": batch})
                response = cast.dana.call(stack, body)
                assert response.status_code in (200, 502), response.text
                answers.append({"status": response.status_code, "text": response.text})
            stack.kill_function()  # its logs are complete
            yield stack, cast, answers
    finally:
        served.close()


def leaks(text: str, token: str) -> list[str]:
    return [piece for piece in recognisable(token) if piece.lower() in text.lower()]


def test_no_disguise_of_the_token_reaches_an_answer(echo: tuple[Stack, Cast, list[dict[str, Any]]]) -> None:
    _, _, answers = echo
    assert answers
    for answer in answers:
        assert leaks(answer["text"], TOKEN) == []


def test_no_disguise_of_the_token_reaches_the_logs(echo: tuple[Stack, Cast, list[dict[str, Any]]]) -> None:
    stack, _, _ = echo
    log = stack.function_log()
    assert "CallMarker request" in log  # the echoes were logged, redacted
    assert leaks(log, TOKEN) == []


def test_no_disguise_of_the_token_reaches_a_cell(echo: tuple[Stack, Cast, list[dict[str, Any]]]) -> None:
    stack, cast, _ = echo
    backend = stack.sheets_app.backend
    for spreadsheet in list(backend.spreadsheets.values()):
        if spreadsheet.owner != cast.dana.email:
            continue
        values = backend.values_get(spreadsheet.id, "A1:Z100").get("values", [])
        assert any("CallMarker" in str(cell) for row in values for cell in row)  # statuses were written
        assert leaks(json.dumps(values, ensure_ascii=False), TOKEN) == []


def test_no_phone_number_reaches_an_answer_or_the_logs(
    echo: tuple[Stack, Cast, list[dict[str, Any]]],
) -> None:
    stack, _, answers = echo
    numbers = [row[0] for row in leads(12)]
    runs = {re.sub(r"\D", "", n) for n in numbers}
    texts = [a["text"] for a in answers] + [stack.function_log()]
    for text in texts:
        digits_only = re.sub(r"[\s\-]", "", text)
        for number in numbers:
            assert number not in text
        for run in runs:
            assert run not in digits_only


def test_a_cell_holds_no_other_rows_number(echo: tuple[Stack, Cast, list[dict[str, Any]]]) -> None:
    """CallMarker's echo of a whole request names every customer of it: a row's message keeps only its
    own number, so a cell never tells one lead's number to whoever reads another's row."""
    stack, cast, _ = echo
    backend = stack.sheets_app.backend
    checked = 0
    for spreadsheet in list(backend.spreadsheets.values()):
        if spreadsheet.owner != cast.dana.email:
            continue
        values = backend.values_get(spreadsheet.id, "A1:Z100").get("values", [])
        header = values[0]
        message = header.index("CallMarker message")
        phones = {i: re.sub(r"\D", "", row[0]) for i, row in enumerate(values[1:], start=1) if row and row[0]}
        for i, row in enumerate(values[1:], start=1):
            text = re.sub(r"\D", "", row[message]) if len(row) > message else ""
            others = [p for j, p in phones.items() if j != i and p and p in text]
            assert others == [], f"row {i + 1}'s message names another row's number"
            checked += bool(text)
    assert checked, "some message quoted CallMarker's words"
