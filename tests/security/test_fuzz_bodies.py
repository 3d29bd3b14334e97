"""A fuzzer of request bodies: types, sizes, nesting, ids, intervals, options, cursors.

Its property: every answer is a 2xx or a JSON 4xx (or, to a valid request, the documented 502 of a
CallMarker that refuses its campaign), never a 500; nothing is read from Google Sheets,
sent to CallMarker or asked of Google's tokeninfo unless the body was a valid request by the documented
schema (README, "The HTTP contract"), written out again here as ``documented``; the worker's peak
memory stays under 300 MB. Most bodies go to the function in this process (functions-framework's app,
through its WSGI test client); a sample, and the heaviest bodies, go over HTTP to the function served
as a process of its own, whose memory is read from the kernel.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bench_function import peak_rss_mb
from tests.security.people import SECURITY_ENV, Cast, cast_of, danas_sheet, in_process, leads, traffic
from tests.stack import Stack, local_stack

IN_PROCESS_BODIES = 2_000
#: Big bodies take long to make and hold much data; the world is one per module, on purpose.
FUZZ = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
OVER_HTTP_BODIES = 60
PEAK_MEMORY_MB = 300

# ------------------------------------------------------------------------------- the documented schema

OPTION_CHECKS: dict[str, Any] = {
    "campaign": lambda v: (isinstance(v, str) and len(v) <= 100) or whole(v, 1, 10**15),
    "agent_name": lambda v: isinstance(v, str) and len(v) <= 200,
    "override": lambda v: isinstance(v, bool),
    "unique": lambda v: isinstance(v, bool),
    "international": lambda v: isinstance(v, bool),
    "status": lambda v: whole(v, 0, 1000) or (isinstance(v, str) and len(v) <= 10),
    "default_region": lambda v: isinstance(v, str) and len(v) <= 8,
    "batch_size": lambda v: whole(v, 1, 1000),
    "header_row": lambda v: whole(v, 1, 10_000_000),
}
FIELDS = {"spreadsheet_id", "sheet_id", "mode", "action", "options", "rows", "cursor"}


def whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def documented(body: object) -> bool:
    """Whether a (parsed) body is a request the README's contract allows, without a cursor."""
    if not isinstance(body, dict) or not set(body) <= FIELDS:
        return False
    spreadsheet_id = body.get("spreadsheet_id")
    if not isinstance(spreadsheet_id, str) or not re.fullmatch(r"[A-Za-z0-9_-]{20,100}", spreadsheet_id):
        return False
    if not whole(body.get("sheet_id"), 0, 2**31 - 1):
        return False
    mode, action = body.get("mode", "selected"), body.get("action", "upload")
    if mode not in ("selected", "pending") or action not in ("upload", "check", "remove"):
        return False
    options = body.get("options", {})
    if not isinstance(options, dict) or not set(options) <= set(OPTION_CHECKS):
        return False
    if not all(v is None or OPTION_CHECKS[k](v) for k, v in options.items()):
        return False
    if body.get("cursor") is not None:
        return False  # none of the fuzzer's cursors was given by the function
    rows = body.get("rows")
    if mode == "pending":
        return rows is None
    return (
        isinstance(rows, list)
        and 1 <= len(rows) <= 10_000
        and all(
            isinstance(p, list) and len(p) == 2 and all(whole(n, 1, 10_000_000) for n in p) and p[0] <= p[1]
            for p in rows
        )
    )


# ------------------------------------------------------------------------------------------ the world


@dataclass
class World:
    stack: Stack
    cast: Cast
    spreadsheet_id: str
    gid: int
    client: Any
    headers: dict[str, str]
    seen: dict[str, int] = field(default_factory=lambda: {"bodies": 0, "documented": 0, "served": 0})


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with local_stack(function_env=SECURITY_ENV) as stack:
        stack.start_function(process=True)
        cast = cast_of(stack)
        spreadsheet_id, gid = danas_sheet(stack, cast, leads(12))
        headers = {
            "Authorization": f"Bearer {cast.dana.id_token(stack)}",
            "X-Sheets-Token": cast.dana.sheets_token,
            "Content-Type": "application/json",
        }
        with in_process(stack) as client:
            yield World(stack, cast, spreadsheet_id, gid, client, headers)


# ----------------------------------------------------------------------------------------- the bodies

ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
ID_TEXT = st.text(alphabet=string.ascii_letters + string.digits + "-_/.%?#", max_size=110)
MANY_RANGES = [[2 + 3 * i, 3 + 3 * i] for i in range(10_001)]
PAIR = st.lists(st.integers(min_value=-2, max_value=10_000_002), min_size=2, max_size=2)
NEAR_PAIR = st.one_of(
    st.tuples(st.integers(1, 60), st.integers(0, 40)).map(lambda t: [t[0], t[0] + t[1]]),
    PAIR,
    st.lists(st.integers(1, 50), min_size=0, max_size=3),
    ANY_JSON,
)
ROWS = st.one_of(
    st.lists(NEAR_PAIR, min_size=1, max_size=12),
    st.just([[1, 10_000_000]]),
    st.just([[2, 1_000_000_000]]),
    st.sampled_from([MANY_RANGES[:10_000], MANY_RANGES]),  # at the cap on separate ranges, and one past it
    ANY_JSON,
)
OPTION_VALUE = st.one_of(
    st.sampled_from([None, True, False, 0, 1, 25, 1000, 1001, -1, "11", "IL", "x" * 201, 10_000_000]),
    ANY_JSON,
)
OPTIONS = st.one_of(
    st.dictionaries(st.sampled_from([*OPTION_CHECKS, "colour", "__proto__", ""]), OPTION_VALUE, max_size=6),
    st.just({"campaign": "11"}),
    ANY_JSON,
)


GOOD_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "campaign": st.sampled_from(["11", None, "12", 11]),
        "agent_name": st.sampled_from([None, "Dana Levi", "Nobody"]),
        "override": st.booleans(),
        "unique": st.booleans(),
        "international": st.booleans(),
        "status": st.sampled_from([None, 1, 10, 12, 18, "11", 7]),
        "default_region": st.sampled_from(["IL", "US", "il", "ZZ"]),
        "batch_size": st.integers(1, 1000),
        "header_row": st.sampled_from([1, 1, 1, 2, 12, 5000]),
    },
)


def bodies(world: World) -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    """Valid requests, requests one or two fields away from valid, and anything at all."""
    good_id = world.spreadsheet_id
    ids = st.one_of(
        st.just(good_id),
        st.sampled_from(
            [
                "zzz/../" + good_id,
                "../" + good_id,
                good_id + "/values/A1",
                good_id + "?fields=*",
                "%2e%2e%2f" + good_id,
                " " + good_id,
                good_id.upper(),
                "1" + "x" * 43,  # well formed, never issued: someone else's spreadsheet
                "a" * 101,
                "",
            ]
        ),
        ID_TEXT,
        ANY_JSON,
    )
    fields = {
        "spreadsheet_id": ids,
        "sheet_id": st.one_of(st.just(world.gid), st.integers(-3, 2**40), ANY_JSON),
        "mode": st.one_of(st.sampled_from(["selected", "pending", "all"]), ANY_JSON),
        "action": st.one_of(st.sampled_from(["upload", "check", "remove", "delete"]), ANY_JSON),
        "options": st.one_of(GOOD_OPTIONS, OPTIONS),
        "rows": ROWS,
        "cursor": st.one_of(st.none(), st.text(max_size=60), ANY_JSON),
        "colour": ANY_JSON,
    }
    # What a valid request becomes when one or two of its fields go wrong (a valid value may still come:
    # the rows or the options, sometimes).
    wrong = {
        "spreadsheet_id": ids.filter(lambda v: v != good_id),
        "sheet_id": st.one_of(st.integers(-3, -1), st.integers(2**31, 2**40), ANY_JSON),
        "mode": st.one_of(st.just("all"), ANY_JSON),
        "action": st.one_of(st.just("delete"), ANY_JSON),
        "options": OPTIONS,
        "rows": ROWS,
        "cursor": st.one_of(st.text(min_size=1, max_size=60), ANY_JSON),
        "colour": ANY_JSON,
    }
    selected = st.fixed_dictionaries(
        {
            "spreadsheet_id": st.just(good_id),
            "sheet_id": st.just(world.gid),
            "rows": st.lists(
                st.tuples(st.integers(1, 16), st.integers(0, 6)).map(lambda t: [t[0], t[0] + t[1]]),
                min_size=1,
                max_size=4,
            ),
        },
        optional={
            "mode": st.just("selected"),
            # Mostly checks: an upload costs the same Sheets calls and a CallMarker client besides.
            "action": st.sampled_from(["check", "check", "check", "upload", "remove"]),
            "options": GOOD_OPTIONS,
        },
    )
    pending = st.fixed_dictionaries(
        {"spreadsheet_id": st.just(good_id), "sheet_id": st.just(world.gid), "mode": st.just("pending")},
        optional={"action": st.sampled_from(["check", "upload"]), "options": GOOD_OPTIONS},
    )
    valid = st.one_of(selected, pending)
    changes = st.lists(st.sampled_from(sorted(wrong)), min_size=1, max_size=2, unique=True).flatmap(
        lambda names: st.fixed_dictionaries({name: wrong[name] for name in names})
    )
    near = st.tuples(valid, changes).map(lambda pair: {**pair[0], **pair[1]})
    anything = st.fixed_dictionaries({}, optional=fields)
    return {"anything": anything, "near": near, "valid": valid}


RAW_BODIES = st.sampled_from(
    [
        b"",
        b"null",
        b"[]",
        b"{",
        b'{"spreadsheet_id": NaN}',
        b'{"sheet_id": 1e999}',
        b'{"sheet_id": 0, "sheet_id": 1}',
        b"\xff\xfe{}",
        b"[" * 2000 + b"]" * 2000,
        b'{"cursor": ' + b"[" * 2000 + b"]" * 2000 + b"}",
        b'{"options": ' + b'{"a":' * 3000 + b"1" + b"}" * 3001,
        b'{"rows": [' + b"[2, 3]," * 40_000 + b"[2, 3]]}",
        b" " * 300_000,
    ]
)


# --------------------------------------------------------------------------------------- the property


def check_answer(world: World, body: object, status: int, text: str, before: Any) -> None:
    after = traffic(world.stack)
    touched = after != before
    assert status != 500, (status, text[:500], repr(body)[:300])
    answer = json.loads(text)
    if status == 200:
        assert isinstance(answer["done"], bool)
    else:
        # A valid request may also meet CallMarker refusing its campaign (502), as documented.
        assert 400 <= status < 500 or (status in (502, 503) and documented(body)), (status, text[:300])
        assert answer["error"]["code"] == status
        assert isinstance(answer["error"]["status"], str)
        assert isinstance(answer["error"]["message"], str)
    if not documented(body):
        assert status in (400, 413), (status, text[:300], repr(body)[:300])
        assert not touched, (before, after, repr(body)[:300])


def post_in_process(world: World, data: bytes) -> tuple[int, str]:
    response = world.client.post("/", data=data, headers=world.headers)
    return response.status_code, response.get_data(as_text=True)


def parsed(data: bytes) -> object:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None  # not JSON: not a request


#: What the bodies are, one in ten each: raw bytes, valid requests (each runs a whole step), requests
#: one or two fields away from valid, and anything at all.
KINDS = ("raw", "valid", "near", "near", "near", "near", "anything", "anything", "anything", "anything")


@settings(FUZZ, max_examples=IN_PROCESS_BODIES)
@given(data=st.data())
def test_no_body_gets_a_500_or_reaches_google_or_callmarker_unless_valid(world: World, data: Any) -> None:
    kind = data.draw(st.sampled_from(KINDS), label="kind")
    if kind == "raw":
        raw = data.draw(RAW_BODIES, label="raw body")
        body = parsed(raw)
    else:
        body = data.draw(bodies(world)[kind], label="body")
        raw = json.dumps(body).encode()
    before = traffic(world.stack)
    status, text = post_in_process(world, raw)
    check_answer(world, body, status, text, before)
    world.seen["bodies"] += 1
    world.seen["documented"] += documented(body)
    world.seen["served"] += status == 200


def test_the_fuzzer_sent_enough_bodies_of_both_kinds(world: World) -> None:
    assert world.seen["bodies"] >= IN_PROCESS_BODIES
    # Valid requests are there too, or the property above would say little about them.
    assert world.seen["documented"] >= 50
    assert world.seen["served"] >= 20


@settings(FUZZ, max_examples=OVER_HTTP_BODIES)
@given(data=st.data())
def test_the_served_function_holds_the_same_property(world: World, data: Any) -> None:
    body = data.draw(bodies(world)[data.draw(st.sampled_from(KINDS[1:]), label="kind")], label="body")
    before = traffic(world.stack)
    response = world.stack.http.post(world.stack.function_url or "", json=body, headers=world.headers)
    check_answer(world, body, response.status_code, response.text, before)


HEAVY: list[tuple[str, bytes]] = [
    ("10 MB", b'{"rows": [' + b"[2, 3], " * 1_300_000 + b"[2, 3]]}"),
    ("600,000 pairs", b'{"rows": [' + b"[2,3]," * 600_000 + b"[2,3]]}"),
    ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000),
    ("just under the cap", b'{"rows": [' + b"[2, 3], " * 32_700 + b"[2, 3]]}"),
]


def test_the_served_function_stays_small_under_the_heaviest_bodies(world: World) -> None:
    url = world.stack.function_url or ""
    # Valid bodies that ask for the most: the whole grid, a pending job below a header far down.
    sheet = {"spreadsheet_id": world.spreadsheet_id, "sheet_id": world.gid}
    heavy_valid = [
        {**sheet, "rows": [[1, 10_000_000]]},
        {**sheet, "rows": [[2 + 2 * i, 2 + 2 * i] for i in range(10_000)]},
        {**sheet, "mode": "pending", "options": {"header_row": 9_999_999}},
    ]
    for body in heavy_valid:
        before = traffic(world.stack)
        response = world.stack.http.post(url, json=body, headers=world.headers)
        check_answer(world, body, response.status_code, response.text, before)
    for name, data in HEAVY:
        before = traffic(world.stack)
        response = world.stack.http.post(url, content=data, headers=world.headers)
        assert response.status_code in (400, 413), name
        check_answer(
            world, parsed(data) if len(data) < 300_000 else None, response.status_code, response.text, before
        )
    pid = world.stack.function_pid
    assert pid is not None
    peak = peak_rss_mb(pid)  # gunicorn's worker's, not only its master's
    assert 0 < peak < PEAK_MEMORY_MB, f"the worker peaked at {peak:.0f} MB"
