"""Reading CallMarker's answers (callmarker_answers.py): every shape, case by case, and a property."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callmarker_sheets.callmarker_answers import (
    Answer,
    CustomerState,
    Kind,
    boolean,
    excerpt,
    parse_counts,
    read_answer,
    same_number,
)

NUMBERS = [f"05{row:08d}" for row in range(2, 12)]  # ten customers, rows 2..11
ACCEPTED, REFUSED, UNKNOWN = CustomerState.ACCEPTED, CustomerState.REFUSED, CustomerState.UNKNOWN
DOCUMENTED = (
    "There are {created} new customers were created, {restored} were restored and {nv} were not valid."
)


def read(body: Any, status: int = 200, numbers: list[str] = NUMBERS, retry_after: str = "") -> Answer:
    text = body if isinstance(body, str | bytes) else json.dumps(body)
    return read_answer(status, {"Retry-After": retry_after} if retry_after else {}, text, numbers)


def states(answer: Answer) -> list[CustomerState]:
    return [v.state for v in answer.customers]


def refused(answer: Answer) -> dict[int, str]:
    return {i: v.message for i, v in enumerate(answer.customers) if v.state is REFUSED}


def documented(created: int, restored: int = 0, nv: int = 0, **extra: Any) -> dict[str, Any]:
    return {"success": True, "message": DOCUMENTED.format(created=created, restored=restored, nv=nv), **extra}


# --- the request as a whole ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_refuse_the_request_as_a_whole_with_its_words(status: int) -> None:
    answer = read({"success": False, "message": "Invalid token"}, status)
    assert (answer.kind, answer.message) == (Kind.REFUSED, "Invalid token")
    assert read("<html>Forbidden</html>", status).message == f"HTTP {status}"


@pytest.mark.parametrize("status", [301, 302, 404, 405, 410])
def test_a_redirect_or_a_missing_page_is_a_wrong_address_for_every_request(status: int) -> None:
    answer = read("<html>Not Found</html>", status)
    assert (answer.kind, answer.message) == (Kind.REFUSED, f"CallMarker answered HTTP {status}")


def test_413_says_the_batch_is_too_large() -> None:
    assert read("Request Entity Too Large", 413).kind is Kind.TOO_LARGE


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 520])
def test_not_now_answers_are_worth_another_try_with_their_retry_after(status: int) -> None:
    answer = read("<html>busy</html>", status, retry_after="7")
    assert (answer.kind, answer.retry_after) == (Kind.RETRY, "7")


@pytest.mark.parametrize(
    "body",
    [
        "<!DOCTYPE html><html><body>We'll be back soon.</body></html>",
        "",
        '{"success": tr',
        "[1, 2]",
        '"ok"',
        {"status": "ok"},
        {"success": "yes"},
        {"success": 2},
        {"success": None, "message": "Saved"},
        {"message": "There are 2 new customers were created", "errors": {}},
    ],
)
def test_a_2xx_answer_without_a_readable_success_is_unreadable(body: Any) -> None:
    answer = read(body)
    assert answer.kind is Kind.UNREADABLE
    assert answer.customers == ()
    assert answer.excerpt


@pytest.mark.parametrize(
    ("value", "meaning"),
    [
        *[(True, True), (False, False), ("true", True), (" TRUE ", True), ("false", False), (1, True)],
        *[(0, False), ("1", True), ("0", False), ("yes", None), (2, None), (None, None), ([], None)],
        (1.0, None),
    ],
)
def test_obvious_booleans_are_read_as_success(value: object, meaning: bool | None) -> None:
    assert boolean(value) is meaning


def test_success_written_as_text_or_as_a_number_is_read() -> None:
    assert (
        states(read({"success": "true", "message": DOCUMENTED.format(created=10, restored=0, nv=0)}))
        == [ACCEPTED] * 10
    )
    assert read({"success": 0, "message": "Campaign not found"}).success is False


def test_an_excerpt_is_one_short_line_without_tags() -> None:
    assert excerpt(b"<html>\r\n<h1>502   Bad\nGateway</h1></html>") == "502 Bad Gateway"
    assert excerpt("") == "an empty answer"
    long = excerpt("x" * 500)
    assert len(long) == 80
    assert long.endswith("…")


# --- counts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "created", "restored", "refused"),
    [
        ("There are 2 new customers were created, 0 were restored and 0 were not valid.", 2, 0, 0),
        ("There are 10 new customers were created, 3 were restored and 1 were not valid.", 10, 3, 1),
        ("1 customer created, 2 restored, 3 not valid", 1, 2, 3),
        ("created: 4, restored: 0, not_valid: 2", 4, 0, 2),
        ("5 created, 2 failed", 5, None, 2),
        ("created=5; invalid=1", 5, None, 1),
        ("3 customers rejected", None, None, 3),
        ("Saved 4 customers; 1 skipped and 2 failed", None, None, 3),
        ("2 errors", None, None, 2),
        ("2, created; 3, restored", None, None, None),
        ("Customers saved", None, None, None),
        ("יש 3 לקוחות חדשים", None, None, None),
    ],
)
def test_counts_are_read_in_every_wording(
    message: str, created: int | None, restored: int | None, refused: int | None
) -> None:
    counts = parse_counts(message)
    assert (counts.created, counts.restored, counts.refused) == (created, restored, refused)


def test_updated_existing_and_duplicates_are_counts_of_customers_taken() -> None:
    counts = parse_counts("4 updated, 2 existing, 1 duplicate, 0 failed")
    assert (counts.updated, counts.existing, counts.words["duplicate"], counts.refused) == (4, 2, 1, 0)


def test_a_count_of_zero_refusals_confirms_every_customer() -> None:
    answer = read(documented(10))
    assert states(answer) == [ACCEPTED] * 10
    assert answer.refused_among_unknown == 0


@pytest.mark.parametrize(
    "body",
    [
        {"success": True, "message": "Customers saved", "counts": {"created": 10, "failed": 0}},
        {"success": True, "message": "OK", "data": {"summary": {"invalid": 0, "created": 9, "existing": 1}}},
        {"success": True, "message": "OK", "failedCount": 0},
        {"success": True, "message": "OK", "number_of_errors": "0"},
    ],
)
def test_counts_in_fields_are_read_whatever_their_nesting(body: dict[str, Any]) -> None:
    assert states(read(body)) == [ACCEPTED] * 10


def test_a_count_of_refusals_without_names_leaves_the_customers_to_be_found() -> None:
    answer = read(documented(8, nv=2))
    assert states(answer) == [UNKNOWN] * 10
    assert (answer.refused_among_unknown, answer.consistent) == (2, True)


def test_one_customer_and_one_refusal_counted_is_that_customer() -> None:
    answer = read(documented(0, nv=1), numbers=NUMBERS[:1])
    assert refused(answer) == {0: "counted as not valid"}
    assert read({"success": True, "message": "0 created, 1 failed"}, numbers=NUMBERS[:1]).customers[
        0
    ].message == ("counted as failed")


def test_a_success_that_neither_counts_nor_lists_refusals_confirms_nobody() -> None:
    answer = read({"success": True, "message": "Saved!"})
    assert states(answer) == [UNKNOWN] * 10
    assert (answer.refused_among_unknown, answer.consistent) == (None, True)


@pytest.mark.parametrize(
    "body",
    [
        documented(8, nv=12),  # more refusals than customers
        {"success": True, "message": "1 failed", "counts": {"failed": 2}},  # two counts that disagree
        documented(8, nv=1, invalid_numbers=[NUMBERS[0], NUMBERS[1]]),  # more named than counted
    ],
)
def test_counts_that_cannot_all_be_true_settle_nothing(body: dict[str, Any]) -> None:
    answer = read(body)
    assert ACCEPTED not in states(answer)
    assert not answer.consistent or answer.refused_among_unknown is None


# --- lists of refusals and of results ------------------------------------------------------------


@pytest.mark.parametrize(
    "listed",
    [
        {"invalid_numbers": [NUMBERS[3], NUMBERS[7]]},
        {"not_valid": ["+972" + NUMBERS[3][1:], "972" + NUMBERS[7][1:]]},  # E.164, with or without +
        {"failed": [int(NUMBERS[3]), NUMBERS[7][:3] + "-" + NUMBERS[7][3:6] + "-" + NUMBERS[7][6:]]},
        {
            "errors": [
                {"number": NUMBERS[3], "error": "number too short"},
                {"phone": NUMBERS[7], "reason": "x"},
            ]
        },
        {"data": {"rejected": {NUMBERS[3]: "blocked", NUMBERS[7]: ["unknown prefix"]}}},
        {"result": {"failures": [{"mobile": NUMBERS[3], "message": "too short"}, {"index": 7}]}},
        {"failed_indexes": [3, 7]},
        {"errors": ["customers[3].number: invalid", "customers.7.number is not valid"]},
        {"skipped": [f"Number {NUMBERS[3]} could not be added", f"{NUMBERS[7]}: not a valid number"]},
    ],
)
def test_a_list_of_refusals_is_read_whatever_its_key_shape_and_nesting(listed: dict[str, Any]) -> None:
    answer = read({"success": True, "message": "Customers saved", **listed})
    assert set(refused(answer)) == {3, 7}
    assert [s for i, s in enumerate(states(answer)) if i not in (3, 7)] == [ACCEPTED] * 8
    assert all(answer.customers[i].named for i in (3, 7))


def test_a_list_and_a_count_that_agree_confirm_the_others() -> None:
    answer = read(documented(9, nv=1, invalid_numbers=[NUMBERS[4]]))
    assert refused(answer) == {4: ""}
    assert states(answer).count(ACCEPTED) == 9


def test_an_empty_list_of_refusals_confirms_everyone() -> None:
    assert states(read({"success": True, "message": "Saved", "errors": []})) == [ACCEPTED] * 10
    assert states(read({"success": True, "message": "Saved", "data": {"invalid": {}}})) == [ACCEPTED] * 10


def test_a_list_naming_fewer_than_the_count_leaves_the_rest_to_be_found() -> None:
    answer = read(documented(7, nv=3, invalid_numbers=[NUMBERS[1]]))
    assert set(refused(answer)) == {1}
    assert states(answer).count(UNKNOWN) == 9
    assert answer.refused_among_unknown == 2


def test_a_list_naming_a_number_not_sent_confirms_nobody_else() -> None:
    answer = read({"success": True, "message": "Saved", "invalid_numbers": ["0509999999", NUMBERS[2]]})
    assert refused(answer) == {2: ""}
    assert ACCEPTED not in states(answer)


def test_results_for_every_customer_are_read_one_by_one() -> None:
    results: list[dict[str, Any]] = [
        {"number": n, "status": ["created", "updated", "existing", "duplicate", "not valid"][i % 5]}
        for i, n in enumerate(NUMBERS)
    ]
    results[9] = {"number": NUMBERS[9], "success": False, "errors": ["The number is too short."]}
    answer = read({"success": True, "message": "Done", "data": {"results": results}})
    assert set(refused(answer)) == {4, 9}
    assert answer.customers[9].message == "The number is too short."
    assert states(answer).count(ACCEPTED) == 8


def test_results_that_leave_a_customer_out_do_not_confirm_it() -> None:
    results = [{"number": n, "status": "created"} for n in NUMBERS[:9]]
    answer = read({"success": True, "message": "Done", "results": results})
    assert states(answer) == [ACCEPTED] * 9 + [UNKNOWN]


def test_a_reason_in_words_of_acceptance_with_a_negation_is_a_refusal() -> None:
    answer = read({"success": True, "message": "Saved", "results": {NUMBERS[0]: "not a valid number"}})
    assert answer.customers[0].state is REFUSED
    status = read(
        {"success": True, "message": "Saved", "results": [{"number": NUMBERS[1], "status": "not valid"}]}
    )
    assert status.customers[1].state is REFUSED


def test_a_long_reason_is_not_taken_for_a_status() -> None:
    # Free text under a customer's number says something, but not which way: the key decides.
    answer = read(
        {"success": True, "message": "Saved", "details": {NUMBERS[0]: "customer was created and valid"}}
    )
    assert answer.customers[0].state is UNKNOWN


def test_an_entry_whose_number_and_index_disagree_names_nobody() -> None:
    answer = read({"success": True, "message": "Saved", "errors": [{"index": 1, "number": NUMBERS[5]}]})
    assert refused(answer) == {}
    assert ACCEPTED not in states(answer)


def test_a_number_that_could_be_two_customers_names_neither() -> None:
    numbers = ["0547000001", "+972547000001"]  # the same digits, national and international
    answer = read({"success": True, "message": "Saved", "invalid": ["547000001"]}, numbers=numbers)
    assert states(answer) == [UNKNOWN, UNKNOWN]


def test_dates_and_ids_in_an_answer_are_not_taken_for_numbers() -> None:
    answer = read(documented(10, timestamp="2024-05-01 10:00:00", request_id=12345678901, invalid=[]))
    assert states(answer) == [ACCEPTED] * 10


# --- refusals ------------------------------------------------------------------------------------


def test_a_refusal_naming_customers_i_is_about_that_customer() -> None:
    answer = read({"success": False, "message": "customers[3].followup_date: invalid date format"})
    assert refused(answer) == {3: "followup_date: invalid date format"}
    assert states(answer).count(UNKNOWN) == 9


def test_a_refusal_naming_a_number_is_about_that_customer() -> None:
    answer = read({"success": False, "message": f"Number {NUMBERS[6]} could not be added to the campaign"})
    assert refused(answer) == {6: f"Number {NUMBERS[6]} could not be added to the campaign"}


def test_a_refusal_naming_nobody_settles_nobody() -> None:
    answer = read({"success": False, "message": "Campaign 99 not found"}, 400)
    assert (answer.kind, answer.success) == (Kind.ANSWERED, False)
    assert states(answer) == [UNKNOWN] * 10


def test_a_refusal_of_a_request_of_one_customer_is_about_that_customer() -> None:
    answer = read({"success": False, "message": "Campaign 99 not found"}, numbers=NUMBERS[:1])
    assert refused(answer) == {0: "Campaign 99 not found"}
    assert not answer.customers[0].named


def test_a_frameworks_422_without_success_names_its_customers() -> None:
    body = {
        "message": "The given data was invalid.",
        "errors": {
            "customers.2.email": ["The customers.2.email must be a valid email address."],
            "customers.5.agent_name": ["The selected customers.5.agent_name is invalid."],
        },
    }
    answer = read(body, 422)
    assert set(refused(answer)) == {2, 5}
    assert answer.customers[2].message == "The email must be a valid email address."
    assert states(answer).count(UNKNOWN) == 8


def test_a_4xx_cannot_confirm_a_customer() -> None:
    body = {"success": True, "results": [{"number": n, "status": "created"} for n in NUMBERS]}
    assert ACCEPTED not in states(read(body, 400))


def test_a_4xx_page_that_is_not_json_refuses_without_names() -> None:
    answer = read("<html>Bad Request</html>", 400)
    assert states(answer) == [UNKNOWN] * 10
    single = read("<html>Bad Request</html>", 400, numbers=NUMBERS[:1])
    assert refused(single) == {0: "HTTP 400: Bad Request"}


def test_an_index_beyond_the_request_names_nobody() -> None:
    answer = read({"success": False, "message": "customers[10].email: invalid"})
    assert states(answer) == [UNKNOWN] * 10


# --- never a confirmation from nothing ----------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30) | st.sampled_from(NUMBERS),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["success", "message", "errors", "invalid", "results", "number", "status", "index",
                         "created", "failed", "data", NUMBERS[0], "customers.1.email"]) | st.text(max_size=8),
        children,
        max_size=4,
    ),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(body=json_values, status=st.sampled_from([200, 201, 204, 400, 404, 409, 422, 429, 500]))
def test_any_answer_is_read_without_error_and_only_a_success_confirms(body: object, status: int) -> None:
    answer = read_answer(status, {}, json.dumps(body), NUMBERS)
    if answer.kind is Kind.ANSWERED:
        assert len(answer.customers) == len(NUMBERS)
    else:
        assert answer.customers == ()
    if ACCEPTED in states(answer):
        assert 200 <= status < 300
        assert answer.success is not None


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("054-700-0000", "0547000000", True),
        ("+972547000000", "0547000000", True),
        ("972 54 700 0000", "+972547000000", True),
        (547000000, "0547000000", True),
        ("0547000001", "0547000000", False),
        ("12345", "0000012345", False),  # too short to be anyone's number
        ("tel: 054\u2011700\u20110000", "+972547000000", True),  # non-breaking hyphens
    ],
)
def test_one_number_however_written(one: object, other: str, same: bool) -> None:
    assert same_number(one, other) is same


# --- customers named with words that confirm nothing ----------------------------------------------


def test_a_customer_named_beside_the_refusals_with_words_of_its_own_is_refused_not_confirmed() -> None:
    numbers = NUMBERS[:3]
    answer = read(
        {
            "success": True,
            "message": "Customers saved",
            "details": {
                numbers[0]: "not a valid number",
                numbers[1]: "customers[1].agent_name: unknown agent 'X'",
            },
        },
        numbers=numbers,
    )
    assert states(answer) == [REFUSED, REFUSED, ACCEPTED]
    assert refused(answer)[1] == "agent_name: unknown agent 'X'"


def test_a_list_cannot_confirm_a_customer_it_names_with_words_that_say_nothing_of_its_fate() -> None:
    numbers = NUMBERS[:2]
    answer = read(
        {
            "success": True,
            "message": "Customers saved",
            "details": {numbers[0]: "see the agent column"},
            "failed": [],
        },
        numbers=numbers,
    )
    assert states(answer)[0] is UNKNOWN
