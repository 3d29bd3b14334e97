"""The CallMarker emulator keeps CallMarker's rules: checks, counts, flags and state, through HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.emulators.callmarker import create_app
from tests.emulators.callmarker.app import CallMarkerEmulator
from tests.emulators.callmarker.transport import EmulatorTransport

TOKEN = "cm-secret-token-7f3a"
SETTINGS: dict[str, Any] = {
    "tokens": [TOKEN],
    "campaigns": {"11": ["Garret Robel"], "12": ["Dana Levi"]},
    "agents": [{"name": "Dana Levi", "crm_name": "dlevi"}, "Noa Cohen"],
    "products": [5],
    "not_purchased_reasons": [2],
}


@pytest.fixture
def app() -> CallMarkerEmulator:
    return create_app(**SETTINGS)


@pytest.fixture
def client(app: CallMarkerEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://callmarker.test") as client:
        yield client


def upload(client: httpx.Client, customers: list[Any], **options: Any) -> httpx.Response:
    return client.post("/api/v1/customers", json={"token": TOKEN, **options, "customers": customers})


def success(created: int, restored: int, not_valid: int) -> dict[str, Any]:
    return {
        "success": True,
        "message": f"There are {created} new customers were created, {restored} were restored "
        f"and {not_valid} were not valid.",
    }


def state(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/_control/state")
    assert response.status_code == 200
    return response.json()


def customer(client: httpx.Client, number: str) -> dict[str, Any]:
    return state(client)["customers"][number]


# --- Token ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [{"customers": [{"number": "0547000000"}]}, {"token": "wrong", "customers": []}]
)
def test_a_missing_or_unknown_token_is_401(client: httpx.Client, body: dict[str, Any]) -> None:
    response = client.post("/api/v1/customers", json=body)
    assert response.status_code == 401
    assert response.json() == {"success": False, "message": "Invalid token"}
    assert state(client)["customers"] == {}


# --- Success and the counts ----------------------------------------------------------------------------


def test_the_vendor_sample_request_creates_two_customers(client: httpx.Client) -> None:
    response = upload(
        client,
        [
            {"number": "0547000000", "name": "Israel", "last_name": "Israeli"},
            {
                "number": "0547111111",
                "name": "Ariel",
                "last_name": "Ariel",
                "crm_id": "644968",
                "source": "Facebook",
                "followup_date": "24-10-2017",
                "note": "Some useful info here. Can be a long text",
            },
        ],
        agent_name="Garret Robel",
        campaign="11",
        override=True,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == success(2, 0, 0)
    ariel = customer(client, "0547111111")
    assert ariel["crm_id"] == "644968"
    assert ariel["followup_at"] == "2017-10-24T00:00"
    assert ariel["followup_type"] == 1  # Call is the default with a followup date
    # override with a followup date moves the status to 12 Follow Up; without one it stays 1 Waiting
    assert ariel["campaigns"] == {"11": 12}
    assert customer(client, "0547000000")["campaigns"] == {"11": 1}
    assert ariel["agents"] == {"11": "Garret Robel"}


def test_numbers_are_normalised_and_invalid_ones_counted_not_stored(client: httpx.Client) -> None:
    response = upload(
        client,
        [
            {"number": "054-700-0000"},
            {"number": "03 555 1234"},  # 9 digits, a landline
            {"number": "547000000"},  # no leading zero
            {"number": "054-700-00000"},  # 11 digits
            {"number": "+972547000000"},  # E.164 without international
            {"number": "054x7000000"},
            {"number": ""},
        ],
    )
    assert response.json() == success(2, 0, 5)
    assert sorted(state(client)["customers"]) == ["035551234", "0547000000"]


def test_international_numbers_are_e164(client: httpx.Client) -> None:
    response = upload(
        client,
        [
            {"number": "+972547000000"},
            {"number": "+1 212-555-0100"},
            {"number": "0547000000"},
            {"number": "+0123"},
        ],
        international=True,
    )
    assert response.json() == success(2, 0, 2)
    assert sorted(state(client)["customers"]) == ["+12125550100", "+972547000000"]


def test_a_number_sent_twice_counts_once_and_existing_customers_count_nowhere(client: httpx.Client) -> None:
    assert upload(client, [{"number": "0547000000"}, {"number": "054 700 0000"}]).json() == success(1, 0, 0)
    assert upload(client, [{"number": "0547000000"}, {"number": "0547000001"}]).json() == success(1, 0, 0)


def test_without_override_existing_customers_keep_their_data_but_join_the_campaign(
    client: httpx.Client,
) -> None:
    upload(client, [{"number": "0547000000", "name": "Dana", "custom_field_3": "VIP"}])
    response = upload(
        client, [{"number": "0547000000", "name": "Other", "note": "x"}], campaign="11", status=11
    )
    assert response.json() == success(0, 0, 0)
    dana = customer(client, "0547000000")
    assert dana["name"] == "Dana"
    assert "note" not in dana
    assert dana["custom_field_3"] == "VIP"
    assert dana["campaigns"] == {"11": 11}  # a new membership takes the request's status


def test_override_updates_the_data_sent_and_keeps_the_rest(client: httpx.Client) -> None:
    upload(client, [{"number": "0547000000", "name": "Dana", "email": "d@example.com"}], campaign="11")
    response = upload(client, [{"number": "0547000000", "name": "Dana Levi"}], campaign="11", override=True)
    assert response.json() == success(0, 0, 0)
    assert customer(client, "0547000000") | {"campaigns": None} == {
        "name": "Dana Levi",
        "email": "d@example.com",
        "campaigns": None,
        "agents": {},
        "removed_from": [],
        "deleted": False,
    }


def test_override_false_is_still_override(client: httpx.Client) -> None:
    upload(client, [{"number": "0547000000", "name": "Dana"}])
    upload(client, [{"number": "0547000000", "name": "Changed"}], override=False)
    assert customer(client, "0547000000")["name"] == "Changed"


@pytest.mark.parametrize("value", [False, 0, "", None, "false"])
def test_every_if_set_flag_is_on_when_present(client: httpx.Client, value: Any) -> None:
    upload(client, [{"number": "0547000000"}, {"number": "0547000001"}], campaign="11")
    upload(client, [{"number": "0547000000"}], campaign="12")
    # remove
    upload(client, [{"number": "0547000001"}], campaign="11", remove=value)
    assert customer(client, "0547000001")["campaigns"] == {}
    # unique (with override)
    upload(client, [{"number": "0547000000"}], campaign="12", override=value, unique=value)
    assert customer(client, "0547000000")["campaigns"] == {"12": 1}
    # international
    assert upload(client, [{"number": "+972521234567"}], international=value).json() == success(1, 0, 0)
    # blacklisted
    upload(client, [{"number": "0547000002", "blacklisted": value}])
    assert state(client)["blacklist"] == ["0547000002"]


def test_a_customer_removed_from_a_campaign_comes_back_restored(client: httpx.Client) -> None:
    upload(client, [{"number": "0547000000"}, {"number": "0547000001"}], campaign="11")
    assert upload(client, [{"number": "0547000000"}], campaign="11", remove=True).json() == success(0, 0, 0)
    gone = customer(client, "0547000000")
    assert gone["campaigns"] == {}
    assert gone["removed_from"] == ["11"]
    response = upload(client, [{"number": "0547000000"}, {"number": "0547000001"}], campaign="11")
    assert response.json() == success(0, 1, 0)
    assert customer(client, "0547000000")["campaigns"] == {"11": 1}


def test_a_deleted_customer_comes_back_restored(app: CallMarkerEmulator, client: httpx.Client) -> None:
    seeded = client.post(
        "/_control/seed",
        json={"customers": {"0547000000": {"name": "Old", "campaigns": {"11": 18}, "deleted": True}}},
    )
    assert seeded.status_code == 200
    assert customer(client, "0547000000")["deleted"] is True
    response = upload(client, [{"number": "0547000000", "name": "New"}], campaign="12")
    assert response.json() == success(0, 1, 0)
    back = customer(client, "0547000000")
    assert (back["deleted"], back["name"], back["campaigns"], back["removed_from"]) == (
        False,
        "New",
        {"12": 1},
        ["11"],
    )


def test_remove_does_not_create_customers(client: httpx.Client) -> None:
    assert upload(client, [{"number": "0547000000"}], campaign="11", remove=True).json() == success(0, 0, 0)
    assert state(client)["customers"] == {}


def test_unique_removes_from_every_other_campaign(client: httpx.Client) -> None:
    upload(client, [{"number": "0547000000"}], campaign="11")
    upload(client, [{"number": "0547000000"}], campaign="12")
    upload(client, [{"number": "0547000000"}], campaign="12", override=True, unique=True)
    assert customer(client, "0547000000")["campaigns"] == {"12": 1}
    assert customer(client, "0547000000")["removed_from"] == ["11"]


def test_unique_without_override_is_accepted_and_has_no_effect(client: httpx.Client) -> None:
    upload(client, [{"number": "0547000000"}], campaign="11")
    upload(client, [{"number": "0547000000"}], campaign="12", unique=True)
    assert customer(client, "0547000000")["campaigns"] == {"11": 1, "12": 1}
    assert upload(client, [{"number": "0547000000"}], unique=True, override=True).json()["success"] is True


def test_status_with_override_updates_and_without_campaign_updates_every_campaign(
    client: httpx.Client,
) -> None:
    upload(client, [{"number": "0547000000"}], campaign="11")
    upload(client, [{"number": "0547000000"}], campaign="12")
    upload(client, [{"number": "0547000000"}], campaign="11", status=11)
    assert customer(client, "0547000000")["campaigns"] == {"11": 1, "12": 1}  # no override: unchanged
    upload(client, [{"number": "0547000000"}], campaign="11", status=11, override=True)
    assert customer(client, "0547000000")["campaigns"] == {"11": 11, "12": 1}
    upload(client, [{"number": "0547000000"}], status="18")
    assert customer(client, "0547000000")["campaigns"] == {"11": 18, "12": 18}


def test_agents_by_name_crm_name_and_none(client: httpx.Client) -> None:
    upload(client, [{"number": "0547000000"}], campaign="12", agent_name="dlevi")
    assert customer(client, "0547000000")["agents"] == {"12": "Dana Levi"}
    upload(client, [{"number": "0547000000", "agent_name": "none"}], campaign="12", agent_name="Dana Levi")
    assert customer(client, "0547000000")["agents"] == {"12": "Dana Levi"}  # no override: kept
    upload(client, [{"number": "0547000000", "agent_name": "none"}], campaign="12", override=True)
    assert customer(client, "0547000000")["agents"] == {}


def test_hours_are_read_in_every_documented_form(client: httpx.Client) -> None:
    upload(client, [{"number": "0547000000", "min_hour": "08:16 AM", "max_hour": "8pm"}])
    upload(client, [{"number": "0547000001", "min_hour": "9:00", "max_hour": "20:48"}])
    assert [(c["min_hour"], c["max_hour"]) for c in state(client)["customers"].values()] == [
        ("08:16", "20:00"),
        ("09:00", "20:48"),
    ]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("05-03-2024", "2024-03-05T00:00"),
        ("5.3.2024 15:34", "2024-03-05T15:34"),
        ("2024-03-05", "2024-03-05T00:00"),
        ("03/05/2024", "2024-03-05T00:00"),
        ("24-02-2020 9:45 am", "2020-02-24T09:45"),
        ("24-02-2020 12:10 AM", "2020-02-24T00:10"),
        ("29-02-2024 9:45pm", "2024-02-29T21:45"),
        ("+2 hours", "+2 hours"),
        ("+1 day", "+1 day"),
    ],
)
def test_followup_dates_in_every_documented_form(client: httpx.Client, sent: str, stored: str) -> None:
    assert upload(client, [{"number": "0547000000", "followup_date": sent}]).json() == success(1, 0, 0)
    assert customer(client, "0547000000")["followup_at"] == stored


def test_opportunities_open_update_and_close(client: httpx.Client) -> None:
    upload(client, [{"number": "0547000000", "product_id": 5, "product_field_7": "gold"}])
    upload(client, [{"number": "0547000000", "product_id": "5", "opportunity_crm_id": "OP-1"}])
    upload(
        client,
        [
            {
                "number": "0547000000",
                "product_id": 5,
                "opportunity_status": 3,
                "opportunity_agent_name": "Noa Cohen",
                "opportunity_not_purchased_reason_id": 2,
            }
        ],
    )
    assert state(client)["opportunities"] == [
        {
            "number": "0547000000",
            "product_id": 5,
            "status": "not_purchased",
            "crm_id": "OP-1",
            "agent_name": "Noa Cohen",
            "not_purchased_reason_id": 2,
            "product_fields": {"product_field_7": "gold"},
        }
    ]
    upload(client, [{"number": "0547000000", "product_id": 5}])  # closed: a new one opens
    assert [o["status"] for o in state(client)["opportunities"]] == ["not_purchased", "open"]


# --- Idempotency ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"campaign": "11", "agent_name": "Garret Robel"},
        {"campaign": "11", "override": True, "status": 11},
        {"campaign": "12", "override": True, "unique": True},
        {"status": 18},
        {"campaign": "11", "remove": True},
    ],
)
def test_sending_the_same_request_again_leaves_the_same_state(
    client: httpx.Client, options: dict[str, Any]
) -> None:
    upload(client, [{"number": "0547000000"}, {"number": "0547000001"}], campaign="11")
    batch = [
        {"number": "0547000000", "name": "Dana", "followup_date": "01-02-2030 10:00", "blacklisted": True},
        {
            "number": "0547000002",
            "product_id": 5,
            "opportunity_status": 2,
            "opportunity_agent_name": "Noa Cohen",
        },
        {"number": "12345"},
    ]
    first = upload(client, batch, **options)
    assert first.json()["success"] is True
    after_first = state(client)
    second = upload(client, batch, **options)
    assert second.json()["success"] is True
    assert state(client) == after_first
    assert second.json() == success(0, 0, 1)


# --- Request-level errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"customers": []}, "customers is required and must be a non-empty array of customer objects"),
        ({"customers": None}, "customers is required and must be a non-empty array of customer objects"),
        ({"campaign": "99"}, "campaign '99' does not exist"),
        ({"agent_name": "Garret Robel"}, "agent_name needs campaign: an agent is assigned within a campaign"),
        ({"campaign": "11", "agent_name": "Nobody"}, "agent_name: unknown agent 'Nobody'"),
        (
            {"campaign": "11", "agent_name": "Dana Levi"},
            "agent_name: agent 'Dana Levi' is not assigned to campaign 11",
        ),
        ({"status": 2}, "status must be one of 1, 10, 11, 12, 18"),
        ({"status": "Waiting"}, "status must be one of 1, 10, 11, 12, 18"),
        ({"remove": True}, "remove needs campaign: which campaign should the customers be removed from?"),
        ({"overide": True}, "unknown parameter: overide"),
    ],
)
def test_request_level_errors_say_what_to_fix(
    client: httpx.Client, options: dict[str, Any], message: str
) -> None:
    body = {"token": TOKEN, "customers": [{"number": "0547000000"}], **options}
    response = client.post("/api/v1/customers", json=body)
    assert response.status_code == 200
    assert response.json() == {"success": False, "message": message}
    assert state(client)["customers"] == {}


def test_a_body_that_is_not_json_is_refused(client: httpx.Client) -> None:
    response = client.post("/api/v1/customers", content=b"token=x&customers=1")
    assert response.json() == {"success": False, "message": "the body must be a JSON object"}


@pytest.mark.parametrize("status", [400, 422])
def test_error_status_is_a_setting(status: int) -> None:
    app = create_app(**SETTINGS, error_status=status)
    with httpx.Client(transport=EmulatorTransport(app), base_url="http://callmarker.test") as client:
        response = upload(client, [{"number": "0547000000"}], campaign="99")
        assert response.status_code == status
        assert response.json()["success"] is False
        assert upload(client, [{"number": "0547000000"}]).status_code == 200


# --- Per-customer errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "options", "message"),
    [
        ({"followup_date": "2024/03/05"}, {}, "followup_date: invalid date format"),
        ({"followup_date": "31-02-2024"}, {}, "followup_date: date does not exist"),
        ({"followup_date": "05-03-2024 25:00"}, {}, "followup_date: time does not exist"),
        ({"followup_date": "tomorrow"}, {}, "followup_date: invalid date format"),
        ({"followup_date": 20240305}, {}, "followup_date: invalid date format"),
        ({"followup_type": 3}, {}, "followup_type: must be 1 (Call) or 2 (Reminder)"),
        ({"min_hour": "eight"}, {}, "min_hour: unreadable hour (use 8pm, 08:16 AM or 20:48)"),
        ({"max_hour": "13pm"}, {}, "max_hour: unreadable hour (use 8pm, 08:16 AM or 20:48)"),
        ({"max_hour": "20"}, {}, "max_hour: unreadable hour (use 8pm, 08:16 AM or 20:48)"),
        (
            {"agent_name": "Garret Robel"},
            {},
            "agent_name: needs campaign: an agent is assigned within a campaign",
        ),
        ({"agent_name": "Nobody"}, {"campaign": "11"}, "agent_name: unknown agent 'Nobody'"),
        ({"opportunity_crm_id": "OP-1"}, {}, "opportunity_crm_id: needs product_id"),
        ({"product_field_3": "x"}, {}, "product_field_3: needs product_id"),
        ({"product_id": 6}, {}, "product_id: unknown product 6"),
        (
            {"product_id": 5, "opportunity_status": 4},
            {},
            "opportunity_status: must be 2 (Purchased) or 3 (Not purchased)",
        ),
        (
            {"product_id": 5, "opportunity_status": 2},
            {},
            "opportunity_agent_name: is required to close an opportunity",
        ),
        (
            {
                "product_id": 5,
                "opportunity_status": 2,
                "opportunity_agent_name": "Noa Cohen",
                "opportunity_not_purchased_reason_id": 2,
            },
            {},
            "opportunity_not_purchased_reason_id: only with opportunity_status 3",
        ),
        (
            {
                "product_id": 5,
                "opportunity_status": 3,
                "opportunity_agent_name": "Noa Cohen",
                "opportunity_not_purchased_reason_id": 9,
            },
            {},
            "opportunity_not_purchased_reason_id: unknown reason 9",
        ),
        (
            {"custom_field_abc": "x"},
            {},
            "custom_field_abc: the id after custom_field_ must be a positive integer",
        ),
        (
            {"custom_field_0": "x"},
            {},
            "custom_field_0: the id after custom_field_ must be a positive integer",
        ),
        (
            {"product_field_-1": "x"},
            {},
            "product_field_-1: the id after product_field_ must be a positive integer",
        ),
        ({"phone": "0547000000"}, {}, "phone: unknown field"),
        ({"name": ["a"]}, {}, "name: must be text or a number"),
    ],
)
def test_a_bad_customer_field_fails_the_request_naming_position_and_field(
    client: httpx.Client, fields: dict[str, Any], options: dict[str, Any], message: str
) -> None:
    customers = [{"number": "0547000000"}, {"number": "0547000001"}, {"number": "0547000002", **fields}]
    response = upload(client, customers, **options)
    assert response.json() == {"success": False, "message": f"customers[2].{message}"}
    assert state(client)["customers"] == {}  # nothing of a refused request is applied


def test_a_customer_without_number_or_not_an_object_is_an_error(client: httpx.Client) -> None:
    assert upload(client, [{"name": "x"}]).json() == {
        "success": False,
        "message": "customers[0].number: is required",
    }
    assert upload(client, [{"number": "0547000000"}, "0547000001"]).json() == {
        "success": False,
        "message": "customers[1]: must be an object",
    }


# --- Controls ------------------------------------------------------------------------------------------


def test_seed_adds_and_reset_returns_to_the_settings(client: httpx.Client) -> None:
    seeded = client.post("/_control/seed", json={"tokens": ["second"], "campaigns": {"20": ["Noa Cohen"]}})
    assert seeded.status_code == 200
    body = {
        "token": "second",
        "campaign": "20",
        "agent_name": "Noa Cohen",
        "customers": [{"number": "0547000000"}],
    }
    assert client.post("/api/v1/customers", json=body).json() == success(1, 0, 0)
    assert client.post("/_control/reset").status_code == 200
    assert state(client) == {"customers": {}, "blacklist": [], "opportunities": []}
    assert client.post("/api/v1/customers", json=body).status_code == 401  # the seeded token is gone
    assert upload(client, [{"number": "0547000000"}], campaign="11").json() == success(1, 0, 0)


def test_seed_refuses_what_it_does_not_know(client: httpx.Client) -> None:
    response = client.post("/_control/seed", json={"users": ["x"]})
    assert response.status_code == 400
    assert response.json() == {"success": False, "message": "unknown seed key: users"}


def test_the_requests_log_keeps_every_request_in_order_with_its_times_and_the_token_redacted(
    client: httpx.Client,
) -> None:
    upload(client, [{"number": "0547000000"}, {"number": "0547000001"}], campaign="11")
    upload(client, [{"number": "0547000000"}], campaign="99")
    client.post("/api/v1/customers", json={"token": "not-the-token", "customers": [{"number": "0547000000"}]})
    log = client.get("/_control/requests").json()
    assert log["count"] == 3
    assert [(r["status"], r["fault"], r["customers"]) for r in log["requests"]] == [
        (200, None, 2),
        (200, None, 1),
        (401, None, 1),
    ]
    assert log["requests"][0]["body"] == {
        "token": "<redacted>",
        "campaign": "11",
        "customers": [{"number": "0547000000"}, {"number": "0547000001"}],
    }
    assert all(r["arrived"] <= r["answered"] for r in log["requests"])
    assert log["requests"][0]["answered"] <= log["requests"][1]["arrived"]
    assert TOKEN not in client.get("/_control/requests").text
    assert "not-the-token" not in client.get("/_control/requests").text
    assert client.delete("/_control/requests").status_code == 200
    assert client.get("/_control/requests").json() == {"requests": [], "count": 0}


def test_unknown_paths_and_methods_answer_json(client: httpx.Client) -> None:
    assert client.post("/api/v1/leads", json={}).status_code == 404
    wrong_method = client.get("/api/v1/customers")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["success"] is False


def test_create_app_refuses_unknown_settings() -> None:
    with pytest.raises(TypeError, match="unknown CallMarker emulator setting: token"):
        create_app(token="t")
