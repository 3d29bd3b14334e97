"""The CallMarker emulator's answer shapes (dialects.py), refused numbers and unreadable faults."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.emulators.callmarker import create_app
from tests.emulators.callmarker.app import MAINTENANCE_PAGE, CallMarkerEmulator
from tests.emulators.callmarker.dialects import INVALID_DATA, SAVED, Dialect
from tests.emulators.callmarker.transport import EmulatorTransport

TOKEN = "cm-dialect-token-3b8e"
GOOD, REFUSED, UNKNOWN_AGENT = "0547000001", "0547000002", "Moshe Nobody"


@pytest.fixture
def app() -> Iterator[CallMarkerEmulator]:
    emulator = create_app(tokens=[TOKEN], campaigns={"11": ["Dana Levi"]}, refused_numbers=[REFUSED])
    yield emulator
    emulator.close()


def post(app: CallMarkerEmulator, customers: list[dict[str, Any]], **answers: Any) -> httpx.Response:
    if answers:
        app.configure(answers=answers)
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://callmarker.test") as client:
        return client.post(
            "/api/v1/customers", json={"token": TOKEN, "campaign": "11", "customers": customers}
        )


def three(app: CallMarkerEmulator, **answers: Any) -> httpx.Response:
    """A good customer, a number the account refuses, and a customer with an agent it does not know."""
    customers = [{"number": GOOD}, {"number": REFUSED}, {"number": "0547000003", "agent_name": UNKNOWN_AGENT}]
    return post(app, customers, **answers)


def test_a_refused_number_is_counted_not_valid_and_not_stored(app: CallMarkerEmulator) -> None:
    answer = post(app, [{"number": GOOD}, {"number": REFUSED}])
    assert answer.json() == {
        "success": True,
        "message": "There are 1 new customers were created, 0 were restored and 1 were not valid.",
    }
    assert set(app.backend.state()["customers"]) == {GOOD}


def test_the_documented_shape_refuses_a_request_naming_its_first_bad_customer(
    app: CallMarkerEmulator,
) -> None:
    answer = three(app)
    assert (answer.status_code, answer.json()) == (
        200,
        {"success": False, "message": "customers[2].agent_name: unknown agent 'Moshe Nobody'"},
    )
    assert app.backend.state()["customers"] == {}


@pytest.mark.parametrize(
    ("form", "value"), [("bool", True), ("string", "true"), ("int", 1)]
)  # fmt: skip
def test_success_is_written_as_the_dialect_says(app: CallMarkerEmulator, form: str, value: object) -> None:
    assert post(app, [{"number": GOOD}], success=form).json()["success"] == value


@pytest.mark.parametrize(
    ("counts", "message", "extra"),
    [
        ("short", "1 created, 0 restored, 2 failed", {}),
        ("keyed", "created: 1, restored: 0, failed: 2", {}),
        ("fields", SAVED, {"counts": {"created": 1, "restored": 0, "failed": 2}}),
        ("none", SAVED, {}),
    ],
)
def test_counts_are_worded_as_the_dialect_says(
    app: CallMarkerEmulator, counts: str, message: str, extra: dict[str, Any]
) -> None:
    answer = three(app, counts=counts, refusal_word="failed", customer_errors="skip")
    assert answer.json() == {"success": True, "message": message, **extra}
    assert set(app.backend.state()["customers"]) == {GOOD}


REASON = "customers[2].agent_name: unknown agent 'Moshe Nobody'"


@pytest.mark.parametrize(
    ("listing", "listed"),
    [
        ("numbers", [REFUSED, "0547000003"]),
        ("e164", ["+972547000002", "+972547000003"]),
        (
            "objects",
            [{"phone": REFUSED, "error": "not a valid number"}, {"phone": "0547000003", "error": REASON}],
        ),
        ("keyed", {REFUSED: "not a valid number", "0547000003": REASON}),
        ("indexes", [1, 2]),
        (
            "results",
            [
                {"phone": GOOD, "status": "created"},
                {"phone": REFUSED, "status": "invalid", "message": "not a valid number"},
                {"phone": "0547000003", "status": "invalid", "message": REASON},
            ],
        ),
    ],
)
def test_refused_customers_are_listed_where_and_as_the_dialect_says(
    app: CallMarkerEmulator, listing: str, listed: Any
) -> None:
    key = "failed_indexes" if listing == "indexes" else "errors"
    answer = three(
        app,
        listing=listing,
        list_key=key,
        nest=["data"],
        number_key="phone",
        refusal_word="invalid",
        customer_errors="skip",
    )
    assert answer.json()["data"] == {key: listed}


def test_an_empty_list_is_sent_or_left_out(app: CallMarkerEmulator) -> None:
    assert post(app, [{"number": GOOD}], listing="numbers").json()["invalid_numbers"] == []
    assert "invalid_numbers" not in post(app, [{"number": "0547000009"}], omit_empty=True).json()


def test_customers_in_error_are_answered_in_a_frameworks_shape(app: CallMarkerEmulator) -> None:
    app.configure(error_status=422)
    answer = three(app, customer_errors="all")
    assert (answer.status_code, answer.json()) == (
        422,
        {
            "message": INVALID_DATA,
            "errors": {"customers.2.agent_name": ["The customers.2.agent_name unknown agent 'Moshe Nobody'"]},
        },
    )
    assert app.backend.state()["customers"] == {}


def test_customers_in_error_can_be_refused_without_being_named(app: CallMarkerEmulator) -> None:
    answer = three(app, customer_errors="unattributed")
    assert answer.json() == {"success": False, "message": "agent_name: unknown agent 'Moshe Nobody'"}
    assert app.backend.state()["customers"] == {}


def test_a_refusal_of_the_request_keeps_the_documented_shape_in_every_dialect(
    app: CallMarkerEmulator,
) -> None:
    app.configure(answers={"customer_errors": "all", "success": "int"})
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://callmarker.test") as client:
        answer = client.post(
            "/api/v1/customers", json={"token": TOKEN, "campaign": "99", "customers": [{"number": GOOD}]}
        )
    assert answer.json() == {"success": 0, "message": "campaign '99' does not exist"}


def test_the_dialect_is_shown_and_reset_with_the_faults(app: CallMarkerEmulator) -> None:
    app.configure(answers={"counts": "none", "nest": ["data"]})
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://callmarker.test") as client:
        shown = client.get("/_control/faults").json()["answers"]
        assert (shown["counts"], shown["nest"]) == ("none", ["data"])
        assert client.post("/_control/faults", json={"answers": {"counts": "loud"}}).status_code == 400
        client.post("/_control/reset")
        assert client.get("/_control/faults").json()["answers"] == Dialect().snapshot()


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"counts": "loud"}, "answers.counts"),
        ({"listing": "csv"}, "answers.listing"),
        ({"listing": "indexes", "list_key": "failed"}, "index"),
        ({"colour": "red"}, "unknown answers setting"),
    ],
)
def test_a_dialect_that_cannot_be_is_refused(settings: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Dialect.from_settings(settings)


def test_refused_numbers_must_be_numbers() -> None:
    with pytest.raises(ValueError, match="refused_numbers"):
        create_app(tokens=[TOKEN], refused_numbers=["12-34"])


@pytest.mark.parametrize(
    ("fault", "body"), [("html_200", MAINTENANCE_PAGE.encode()), ("empty_200", b"")]
)  # fmt: skip
def test_an_unreadable_200_comes_after_the_customers_were_stored(
    app: CallMarkerEmulator, fault: str, body: bytes
) -> None:
    app.configure(next=[fault])
    answer = post(app, [{"number": GOOD}])
    assert (answer.status_code, answer.content) == (200, body)
    assert set(app.backend.state()["customers"]) == {GOOD}
    assert app.requests[-1]["fault"] == fault
