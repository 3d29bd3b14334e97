"""Each rule of the project's reading of CallMarker's API (spec/CALLMARKER.md), one test named after each.

The rules are held by the validation (before anything is sent), the client and the reading of answers
(what is sent and what an answer means), and the emulator (the behaviour the spec assumes).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest

from callmarker_sheets.callmarker import DEFAULT_BASE_URL, CallMarkerClient, UploadReport
from callmarker_sheets.callmarker_answers import CustomerState, Kind, parse_counts, read_answer
from callmarker_sheets.fields import map_headers
from callmarker_sheets.model import Outcome, RequestOptions, RowError, UploadItem
from callmarker_sheets.retry import RetryPolicy
from callmarker_sheets.validate import JobOptions, check_job_options, validate_row
from tests.emulators.callmarker import CallMarkerEmulator, create_app
from tests.emulators.callmarker.transport import AsyncEmulatorTransport
from tests.words import visible

TOKEN = "cm-spec-token-90ad"
BASE = "http://callmarker.spec/api/v1"
FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002)
ACCOUNT: dict[str, Any] = {"tokens": [TOKEN], "campaigns": {"11": ["Garret Robel"]}, "products": [5]}


def emulator(**settings: Any) -> CallMarkerEmulator:
    return create_app(**{**ACCOUNT, **settings})


def send(app: CallMarkerEmulator, items: list[UploadItem], **options: Any) -> UploadReport:
    client = CallMarkerClient(BASE, TOKEN, retry=FAST, transport=AsyncEmulatorTransport(app), **options)
    return asyncio.run(client.upload(items))


def item(row: int, options: RequestOptions | None = None, **fields: Any) -> UploadItem:
    return UploadItem(row, options or RequestOptions(), {"number": f"054700{row:04d}", **fields})


def row(cells: dict[str, Any], options: JobOptions | None = None) -> UploadItem | list[RowError]:
    return validate_row(
        2, list(cells.values()), list(cells.values()), map_headers(list(cells)), options or JobOptions()
    )


def refused(cells: dict[str, Any], options: JobOptions | None = None) -> str:
    result = row(cells, options)
    assert isinstance(result, list), result
    return "; ".join(e.message for e in result)


def customer(cells: dict[str, Any], options: JobOptions | None = None) -> dict[str, Any]:
    result = row(cells, options)
    assert isinstance(result, UploadItem), result
    return result.customer


PHONE = {"Phone": "054-700-0000"}


# --- Endpoint -------------------------------------------------------------------------------------


def test_spec_endpoint_post_base_customers_json_with_an_overridable_default_base() -> None:
    assert CallMarkerClient(DEFAULT_BASE_URL, TOKEN).url == "https://app.callmarker.com/api/v1/customers"
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"success": True, "message": "0 were not valid"})

    client = CallMarkerClient("https://proxy.test/cm/v1/", TOKEN, transport=httpx.MockTransport(answer))
    asyncio.run(client.upload([item(2)]))
    assert (seen[0].method, str(seen[0].url)) == ("POST", "https://proxy.test/cm/v1/customers")
    assert seen[0].headers["content-type"] == "application/json"


def test_spec_the_token_travels_in_the_body_and_nowhere_else(caplog: pytest.LogCaptureFixture) -> None:
    app = emulator(tokens=[], error_status=400)
    caplog.set_level(logging.DEBUG)
    report = send(app, [item(2)])
    body = app.requests[0]["body"]
    assert body["token"] == "<redacted>"  # the emulator logs it masked: it was in the body
    assert report.fatal is not None
    texts = [repr(report), *(r.message for r in report.results), *(r.getMessage() for r in caplog.records)]
    assert not [t for t in texts if TOKEN in t]


# --- Request-level options ------------------------------------------------------------------------


def test_spec_campaign_is_a_string_of_digits() -> None:
    assert RequestOptions(campaign="11").to_json() == {"campaign": "11"}
    assert [visible(p) for p in check_job_options(JobOptions(campaign="eleven"))] == [
        'Campaign "eleven" is not a campaign id: ids are whole numbers from 1.'
    ]


def test_spec_agent_name_takes_effect_only_with_a_campaign() -> None:
    assert "takes effect only with a campaign" in check_job_options(JobOptions(agent_name="Garret Robel"))[0]


def test_spec_customers_is_required_and_never_empty() -> None:
    app = emulator()
    assert send(app, []).requests == 0
    assert app.requests == []


def test_spec_remove_removes_from_the_campaign_and_needs_one() -> None:
    assert "choose the campaign" in check_job_options(JobOptions(remove=True))[0]
    app = emulator()
    send(app, [item(2)], batch_size=1)
    campaign = RequestOptions(campaign="11")
    send(app, [item(2, campaign)])
    send(app, [item(2, RequestOptions(campaign="11", remove=True))])
    assert app.backend.state()["customers"]["0547000002"]["removed_from"] == ["11"]


def test_spec_unique_needs_campaign_and_override() -> None:
    problems = check_job_options(JobOptions(unique=True))
    assert any("needs a campaign" in p for p in problems)
    assert any("needs Override" in p for p in problems)


def test_spec_status_is_one_of_1_10_11_12_18() -> None:
    assert check_job_options(JobOptions(status=12)) == []
    assert "Status 13 is not one of" in visible(check_job_options(JobOptions(status=13))[0])


def test_spec_international_numbers_are_sent_in_e164() -> None:
    assert customer({"Phone": "054-700-0000"}, JobOptions(international=True))["number"] == "+972547000000"


def test_spec_a_flag_that_is_off_is_left_out_of_the_json_never_sent_false() -> None:
    assert RequestOptions().to_json() == {}
    assert RequestOptions(override=True, international=True).to_json() == {
        "override": True,
        "international": True,
    }
    assert "blacklisted" not in customer({**PHONE, "Blacklist": "no"})
    assert customer({**PHONE, "Blacklist": "yes"})["blacklisted"] is True


# --- Customer object ------------------------------------------------------------------------------


def test_spec_number_is_required_and_local_unless_international() -> None:
    assert "every customer needs a phone number" in refused({"Phone": "", "Name": "Dana"})
    assert customer(PHONE)["number"] == "0547000000"


def test_spec_free_text_fields_are_sent_as_text() -> None:
    fields = {
        "Name": "Dana",
        "Last name": "Levi",
        "Email": "d@example.com",
        "CRM id": "644968",
        "Note": "=hi",
    }
    sent = customer({**PHONE, **fields})
    assert (sent["name"], sent["last_name"], sent["crm_id"], sent["note"]) == (
        "Dana",
        "Levi",
        "644968",
        "=hi",
    )


@pytest.mark.parametrize(
    ("written", "sent"),
    [
        ("24-10-2017", "2017-10-24"),
        ("24.02.2020 9:45 am", "2020-02-24 09:45"),
        ("2017-10-24", "2017-10-24"),
        ("+2 hours", "+2 hours"),
    ],
)
def test_spec_followup_date_in_a_documented_format(written: str, sent: str) -> None:
    assert customer({**PHONE, "Follow-up date": written})["followup_date"] == sent


def test_spec_followup_type_is_1_call_or_2_reminder() -> None:
    assert customer({**PHONE, "Follow-up type": "Reminder"})["followup_type"] == 2
    assert "is not one of" in refused({**PHONE, "Follow-up type": "3"})


def test_spec_a_customers_agent_needs_a_campaign_and_none_removes_it() -> None:
    assert "takes effect only within a campaign" in refused({**PHONE, "Agent": "Garret Robel"})
    assert customer({**PHONE, "Agent": "none"}, JobOptions(campaign="11"))["agent_name"] == "none"


def test_spec_custom_fields_have_a_positive_integer_id() -> None:
    assert customer({**PHONE, "custom_field_12": "x"})["custom_field_12"] == "x"
    with pytest.raises(Exception, match="custom_field_0"):
        map_headers(["Phone", "custom_field_0"])


def test_spec_min_and_max_hour_in_the_documented_forms() -> None:
    sent = customer({**PHONE, "Min hour": "8pm", "Max hour": "20:48"})
    assert (sent["min_hour"], sent["max_hour"]) == ("20:00", "20:48")


def test_spec_opportunity_fields_need_a_product_id() -> None:
    assert "fill Product id too" in visible(refused({**PHONE, "Opportunity CRM id": "A-1"}))
    assert customer({**PHONE, "Product id": "5", "product_field_123": "x"})["product_field_123"] == "x"


def test_spec_closing_an_opportunity_needs_its_agent_and_a_reason_goes_with_status_3_only() -> None:
    assert "needs Opportunity agent too" in visible(
        refused({**PHONE, "Product id": "5", "Opportunity status": "2"})
    )
    cells = {
        **PHONE,
        "Product id": "5",
        "Opportunity status": "2",
        "Opportunity agent": "Dana",
        "Reason id": "4",
    }
    assert "goes only with Opportunity status 3" in visible(refused(cells))


def test_spec_the_separator_decides_the_date_order() -> None:
    assert customer({**PHONE, "Follow-up date": "05-06-2024"})["followup_date"] == "2024-06-05"
    american = JobOptions(locale="en_US")
    assert customer({**PHONE, "Follow-up date": "05/06/2024"}, american)["followup_date"] == "2024-05-06"


def test_spec_a_date_that_does_not_exist_is_found_before_anything_is_sent() -> None:
    assert "is not a real date" in refused({**PHONE, "Follow-up date": "31-02-2024"})


# --- Responses ------------------------------------------------------------------------------------


def test_spec_success_and_message_are_relied_on_and_the_raw_message_is_kept() -> None:
    answer = read_answer(200, {}, json.dumps({"success": False, "message": "Be <b>kind</b>"}), ["0547000000"])
    assert answer.customers[0].message == "Be <b>kind</b>"
    assert read_answer(200, {}, json.dumps({"message": "no success"}), ["0547000000"]).kind is Kind.UNREADABLE


def test_spec_the_three_counts_are_read_when_the_message_has_that_shape_and_coped_without() -> None:
    counts = parse_counts("There are 2 new customers were created, 0 were restored and 1 were not valid.")
    assert (counts.created, counts.restored, counts.refused) == (2, 0, 1)
    assert parse_counts("Customers saved").refused is None


def test_spec_a_row_is_uploaded_only_when_success_true_confirmed_it() -> None:
    def saved(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"success": True, "message": "Saved"})

    client = CallMarkerClient(BASE, TOKEN, transport=httpx.MockTransport(saved))
    report = asyncio.run(client.upload([item(2), item(3)]))
    assert {r.outcome for r in report.results} == {Outcome.SENT}
    failing = CallMarkerClient(
        BASE, TOKEN, retry=FAST, transport=httpx.MockTransport(lambda r: httpx.Response(500))
    )
    assert {r.outcome for r in asyncio.run(failing.upload([item(2)])).results} == {Outcome.FAILED}


def test_spec_extra_fields_are_used_when_they_match_rows_by_number() -> None:
    body = {"success": True, "message": "Saved", "invalid_numbers": ["+972547000001"]}
    answer = read_answer(200, {}, json.dumps(body), ["0547000001", "0547000002"])
    assert [v.state for v in answer.customers] == [CustomerState.REFUSED, CustomerState.ACCEPTED]


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (200, {"success": False, "message": "x"}, Kind.ANSWERED),
        (422, {"success": False, "message": "x"}, Kind.ANSWERED),
        (503, {"success": False, "message": "x"}, Kind.RETRY),
        (502, "<html>502 Bad Gateway</html>", Kind.RETRY),
        (429, "", Kind.RETRY),
    ],
)
def test_spec_status_codes_200_false_4xx_5xx_html_and_429_are_each_understood(
    status: int, body: Any, kind: Kind
) -> None:
    text = body if isinstance(body, str) else json.dumps(body)
    assert read_answer(status, {}, text, ["0547000000"]).kind is kind


# --- Assumptions about behaviour ------------------------------------------------------------------


def test_spec_a_customer_is_identified_by_its_normalised_number() -> None:
    app = emulator()
    send(app, [UploadItem(2, RequestOptions(), {"number": "054-700-0002"})])
    send(app, [UploadItem(3, RequestOptions(), {"number": "0547000002", "name": "Again"})])
    assert list(app.backend.state()["customers"]) == ["0547000002"]


def test_spec_created_restored_and_not_valid_are_counted_and_existing_customers_in_none() -> None:
    app = emulator(refused_numbers=["0547000009"])
    first = send(app, [item(2), item(9)])
    again = send(app, [item(2)])
    assert (first.created, first.restored, first.refused) == (1, 0, 1)
    assert (again.created, again.restored, again.refused) == (0, 0, 0)


def test_spec_sending_the_same_customers_again_is_idempotent() -> None:
    app = emulator()
    send(app, [item(2, name="Dana")])
    before = app.backend.state()
    send(app, [item(2, name="Dana")])
    assert app.backend.state() == before


def test_spec_a_413_or_a_timeout_that_repeats_halves_the_batch() -> None:
    app = emulator(max_batch=2)
    report = send(app, [item(r) for r in range(2, 10)], batch_size=8, concurrency=1)
    assert [r["customers"] for r in app.requests][:3] == [8, 4, 2]
    assert {r.outcome for r in report.results} == {Outcome.UPLOADED}
    slow = emulator(next=["hang", "hang"], hang_seconds=1.0)
    report = send(slow, [item(r) for r in range(2, 10)], batch_size=8, concurrency=1, timeout=0.1)
    assert [r["customers"] for r in slow.requests] == [8, 8, 4, 4]
    assert {r.outcome for r in report.results} == {Outcome.UPLOADED}
    slow.close()


def test_spec_concurrency_is_modest_configurable_and_backs_off_on_429() -> None:
    app = emulator(next=["429"], retry_after=0)
    report = send(app, [item(2)], concurrency=2)
    assert (report.retries, [r.outcome for r in report.results]) == (1, [Outcome.UPLOADED])
    assert CallMarkerClient(BASE, TOKEN).concurrency == 4
