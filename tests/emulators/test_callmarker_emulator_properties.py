"""Properties of the CallMarker emulator that retries rely on, checked over many generated requests."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.emulators.callmarker import create_app, normalise_number
from tests.emulators.callmarker.transport import EmulatorTransport

TOKEN = "cm-secret-token-7f3a"

local_numbers = st.builds(
    lambda digits, separators: "".join(d + s for d, s in zip(digits, separators, strict=False)),
    st.from_regex(r"0[0-9]{8,9}", fullmatch=True),
    st.lists(st.sampled_from(["", "", "-", " "]), min_size=10, max_size=10),
).map(lambda text: text.rstrip(" -"))


@given(local_numbers)
def test_a_local_number_is_known_by_its_digits(text: str) -> None:
    digits = text.replace("-", "").replace(" ", "")
    assert normalise_number(text, international=False) == digits


@given(st.text(alphabet="0123456789-+ ()x", max_size=14))
def test_a_local_number_is_valid_only_as_9_or_10_digits_from_0(text: str) -> None:
    digits = text.replace("-", "").replace(" ", "")
    valid = digits.isdigit() and digits.startswith("0") and len(digits) in (9, 10)
    assert normalise_number(text, international=False) == (digits if valid else None)


customers = st.lists(
    st.fixed_dictionaries(
        {"number": st.sampled_from(["0547000000", "054-700-0001", "0547000002", "03 555 1234", "12345"])},
        optional={
            "name": st.sampled_from(["Dana", "דנה", "Noa"]),
            "followup_date": st.sampled_from(["05-03-2030", "2030-03-05 10:00", "+2 hours"]),
            "custom_field_4": st.sampled_from(["a", "b"]),
            "blacklisted": st.just(True),
            "product_id": st.just(5),
            "agent_name": st.sampled_from(["Garret Robel", "none"]),
        },
    ),
    min_size=1,
    max_size=6,
)
options = st.fixed_dictionaries(
    {"campaign": st.sampled_from(["11", "12"])},
    optional={
        "override": st.just(True),
        "unique": st.just(True),
        "status": st.sampled_from([1, 11, 18]),
        "remove": st.just(True),
    },
)


@settings(max_examples=60, deadline=None)
@given(earlier=st.lists(st.tuples(customers, options), max_size=3), batch=customers, request_options=options)
def test_sending_a_request_again_changes_nothing(
    earlier: list[tuple[list[dict[str, Any]], dict[str, Any]]],
    batch: list[dict[str, Any]],
    request_options: dict[str, Any],
) -> None:
    app = create_app(tokens=[TOKEN], campaigns={"11": ["Garret Robel"], "12": ["Garret Robel"]}, products=[5])
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://callmarker.test") as client:

        def send(customers: list[dict[str, Any]], extra: dict[str, Any]) -> dict[str, Any]:
            answer = client.post("/api/v1/customers", json={"token": TOKEN, **extra, "customers": customers})
            assert answer.status_code == 200
            result: dict[str, Any] = answer.json()
            assert result["success"] is True, result["message"]
            return result

        for previous, previous_options in earlier:
            send(previous, previous_options)
        send(batch, request_options)
        after_once = client.get("/_control/state").json()
        again = send(batch, request_options)
        assert client.get("/_control/state").json() == after_once
        not_valid = sum(1 for c in batch if c["number"] == "12345")
        assert again["message"] == (
            f"There are 0 new customers were created, 0 were restored and {not_valid} were not valid."
        )
