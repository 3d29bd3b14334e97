import re
from collections.abc import Sequence
from typing import Any

import pytest

from callmarker_sheets import validate as validate_module
from callmarker_sheets.fields import map_headers
from callmarker_sheets.model import RequestOptions, RowError, UploadItem
from callmarker_sheets.validate import JobOptions, check_job_options, day_first, validate_row, validate_rows

Row = tuple[int, list[str], list[object]]
Cell = Any  # a string (formatted and raw alike) or a (formatted, raw) pair as Sheets gives them


def split(cells: dict[str, Cell]) -> tuple[list[str], list[str], list[object]]:
    formatted: list[str] = []
    raw: list[object] = []
    for value in cells.values():
        if isinstance(value, tuple):
            formatted.append(value[0])
            raw.append(value[1])
        else:
            formatted.append(value)
            raw.append(value)
    return list(cells), formatted, raw


def run(cells: dict[str, Cell], options: JobOptions | None = None) -> UploadItem | list[RowError]:
    headers, formatted, raw = split(cells)
    return validate_row(7, formatted, raw, map_headers(headers), options or JobOptions())


def ok(cells: dict[str, Cell], options: JobOptions | None = None) -> UploadItem:
    result = run(cells, options)
    assert isinstance(result, UploadItem), result
    assert result.row == 7
    return result


def visible(text: str) -> str:
    """Text as a person reads it: the bidi isolates around values are invisible."""
    return re.sub("[\u2066-\u2069]", "", text)


def as_shown(error: RowError) -> RowError:
    """The error with its message as the sheet's message cell shows it: the column, then what is wrong.
    The message itself never names the column (it travels apart) and isolates every value it quotes."""
    assert error.column is None or not visible(error.message).startswith(f"{error.column} "), error
    shown = f"{error.column}: {visible(error.message)}" if error.column else visible(error.message)
    return RowError(error.row, error.column, shown)


def errors(cells: dict[str, Cell], options: JobOptions | None = None) -> list[RowError]:
    result = run(cells, options)
    assert isinstance(result, list), result
    assert all(e.row == 7 for e in result)
    return [as_shown(e) for e in result]


def one_error(cells: dict[str, Cell], options: JobOptions | None = None) -> RowError:
    found = errors(cells, options)
    assert len(found) == 1, found
    return found[0]


PHONE = "054-700-0000"
INTL = JobOptions(international=True)
CAMPAIGN = JobOptions(campaign="11")

# --- phone numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        "054-700-0000",
        "0547000000",
        "054 700 0000",
        "054.700.0000",
        "(054) 700-0000",
        "+972 54-700-0000",
        "+972547000000",
        "+972-54-700-0000",
        "972547000000",
        "00972547000000",
        ("547000000", 547000000),  # a number cell lost the leading zero
        ("547000000", 547000000.0),
        ("972547000000", 972547000000),
        ("5.47E+08", 547000000),
        "\u200e054-700-0000\u00a0",
        " \u202b054\u2013700\u20130000\u202c ",
    ],
)
def test_israeli_numbers_in_every_common_writing_become_national_digits(cell: Cell) -> None:
    assert ok({"Phone": cell}).customer == {"number": "0547000000"}


@pytest.mark.parametrize("cell", ["054-700-0000", ("547000000", 547000000), "+972 54 700 0000"])
def test_with_international_numbers_are_sent_as_e164(cell: Cell) -> None:
    item = ok({"Phone": cell}, INTL)
    assert item.customer["number"] == "+972547000000"
    assert item.options.international


def test_a_landline_is_a_valid_number() -> None:
    assert ok({"טלפון": "02-123-4567"}).customer["number"] == "021234567"


def test_an_impossible_number_is_refused_naming_column_and_value() -> None:
    error = one_error({"Phone": "12345"})
    assert error.column == "Phone"
    assert error.message == 'Phone: "12345" is not a valid phone number for Israel'


def test_the_column_is_named_as_the_user_wrote_it() -> None:
    error = one_error({"מספר טלפון": ("12345", 12345)})
    assert error.column == "מספר טלפון"
    # the value is isolated, so the number does not join a Hebrew run and show out of order
    assert error.message.startswith('מספר טלפון: "12345"')
    [raw] = run({"מספר טלפון": ("12345", 12345)})  # type: ignore[misc]
    assert raw.message.startswith('"\u206812345\u2069"')


def test_a_left_to_right_header_is_left_as_it_is_in_messages() -> None:
    assert one_error({"Mobile": "12345"}).message.startswith('Mobile: "12345"')


@pytest.mark.parametrize("cell", ["call me", "054-700-000", "0547000000000", "+972", "*2700", "abc054"])
def test_text_that_is_no_phone_number_is_refused(cell: str) -> None:
    error = one_error({"Phone": cell})
    assert error.column == "Phone"
    assert f'"{cell}"' in error.message


def test_an_empty_number_is_refused() -> None:
    error = one_error({"Phone": "", "Name": "Dana"})
    assert error.column == "Phone"
    assert "empty" in error.message


def test_a_foreign_number_needs_international() -> None:
    error = one_error({"Phone": "+1 212-555-1234"})
    assert "United States" in error.message
    assert "International" in error.message
    assert ok({"Phone": "+1 212-555-1234"}, INTL).customer["number"] == "+12125551234"


def test_a_number_with_an_extension_is_refused() -> None:
    assert "extension" in one_error({"Phone": "054-700-0000 ext. 12"}).message


def test_another_default_region() -> None:
    us = JobOptions(default_region="US")
    assert ok({"Phone": "(212) 555-1234"}, us).customer["number"] == "2125551234"
    assert "United States" in one_error({"Phone": "555-1234"}, us).message


def test_a_row_column_can_turn_international_on() -> None:
    item = ok({"Phone": "+44 7911 123456", "International": ("TRUE", True)})
    assert item.customer["number"] == "+447911123456"
    assert item.options.international


# --- text, email --------------------------------------------------------------------------------------


def test_text_is_trimmed_of_spaces_and_direction_marks_and_otherwise_kept() -> None:
    item = ok(
        {
            "Phone": PHONE,
            "Name": "\u200f  דנה  כהן\u00a0\u200f",
            "Note": "=SUM(A1)  keeps  its spacing\nand lines",
            "Last name": "\u2067Levi\u2069",
        }
    )
    assert item.customer == {
        "number": "0547000000",
        "name": "דנה  כהן",
        "note": "=SUM(A1)  keeps  its spacing\nand lines",
        "last_name": "Levi",
    }


def test_empty_cells_are_left_out_and_short_rows_are_fine() -> None:
    headers = ["Phone", "Name", "Email", "Note", "Follow-up date"]
    item = validate_row(3, [PHONE, "", " "], [PHONE, "", " "], map_headers(headers), JobOptions())
    assert isinstance(item, UploadItem)
    assert item.customer == {"number": "0547000000"}


def test_text_fields_send_what_the_user_sees_but_not_scientific_notation() -> None:
    item = ok({"Phone": PHONE, "CRM id": ("6.45E+11", 644968000000), "custom_field_3": ("1,250", 1250)})
    assert item.customer["crm_id"] == "644968000000"
    assert item.customer["custom_field_3"] == "1,250"


def test_email_is_trimmed_not_lowercased() -> None:
    assert (
        ok({"Phone": PHONE, "Email": "  Dana.Cohen@Example.CO.IL "}).customer["email"]
        == "Dana.Cohen@Example.CO.IL"
    )


@pytest.mark.parametrize(
    "cell", ["dana.example.com", "dana @example.com", "a@b@example.com", "dana@localhost", "@x.com"]
)
def test_emails_that_cannot_be_addresses_are_refused(cell: str) -> None:
    error = one_error({"Phone": PHONE, "E-mail": cell})
    assert error.column == "E-mail"
    assert error.message == f'E-mail: "{cell}" is not an email address (name@example.com)'


# --- follow-up dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "sent"),
    [
        ("24-10-2017", "2017-10-24"),
        ("24.10.2017", "2017-10-24"),
        ("2017-10-24", "2017-10-24"),
        ("1-2-2024", "2024-02-01"),
        ("30-12-2019 15:34", "2019-12-30 15:34"),
        ("24-02-2020 9:45 am", "2020-02-24 09:45"),
        ("24-02-2020 9:45 PM", "2020-02-24 21:45"),
        ("24.02.2020 12am", "2020-02-24 00:00"),
        ("+2 hours", "+2 hours"),
        ("+1 Day", "+1 day"),
        ("+30 minutes", "+30 minutes"),
        ("+ 3 weeks", "+3 weeks"),
        ("+1 mins", "+1 minute"),
    ],
)
def test_documented_date_forms_are_sent_in_a_documented_form(cell: str, sent: str) -> None:
    assert ok({"Phone": PHONE, "Follow-up date": cell}).customer["followup_date"] == sent


@pytest.mark.parametrize(
    ("locale", "cell", "sent"),
    [
        ("en_US", "10/24/2017", "2017-10-24"),
        ("en_US", "05/06/2024", "2024-05-06"),
        ("iw_IL", "24/10/2017", "2017-10-24"),
        ("he_IL", "05/06/2024", "2024-06-05"),
        ("en_GB", "05/06/2024 8:30", "2024-06-05 08:30"),
        ("de-DE", "05/06/2024", "2024-06-05"),
    ],
)
def test_a_slash_date_is_read_as_the_spreadsheets_locale_writes_dates(
    locale: str, cell: str, sent: str
) -> None:
    item = ok({"Phone": PHONE, "Follow-up date": cell}, JobOptions(locale=locale))
    assert item.customer["followup_date"] == sent


def test_a_slash_date_impossible_in_the_locales_reading_says_which_reading() -> None:
    us = one_error({"Phone": PHONE, "Follow-up date": "24/10/2017"}, JobOptions(locale="en_US"))
    assert us.message == (
        'Follow-up date: "24/10/2017" is not a real date (read as month/day/year, as this spreadsheet\'s '
        "locale reads it)"
    )
    il = one_error({"Phone": PHONE, "Follow-up date": "10/24/2017"}, JobOptions(locale="iw_IL"))
    assert "read as day/month/year" in il.message


def test_locales() -> None:
    assert day_first("iw_IL")
    assert day_first("he")
    assert day_first("en_GB")
    assert not day_first("en_US")
    assert not day_first("en-us")


def test_a_date_that_does_not_exist_is_refused() -> None:
    error = one_error({"Phone": PHONE, "Follow-up date": "31-02-2024"})
    assert error.column == "Follow-up date"
    assert error.message == 'Follow-up date: "31-02-2024" is not a real date (read as day-month-year)'
    assert "year-month-day" in one_error({"Phone": PHONE, "Follow-up date": "2024-13-01"}).message


@pytest.mark.parametrize(
    "cell",
    [
        "next week",
        "24-10-17",
        "24-10-2017 25:00",
        "24-10-2017 13pm",
        "+0 days",
        "-1 day",
        "+2 parsecs",
        "24/10",
    ],
)
def test_dates_the_api_cannot_read_are_refused(cell: str) -> None:
    error = one_error({"Phone": PHONE, "Follow-up date": cell})
    assert error.column == "Follow-up date"
    assert error.message.startswith(f'Follow-up date: "{cell}" ')


def test_a_date_cell_is_sent_from_its_serial_number() -> None:
    day = ok({"Phone": PHONE, "Follow-up date": ("24/10/2017", 43032)})
    assert day.customer["followup_date"] == "2017-10-24"
    at = ok({"Phone": PHONE, "Follow-up date": ("10/24/2017 15:34:00", 43032 + (15 * 60 + 34) / 1440)})
    assert at.customer["followup_date"] == "2017-10-24 15:34"


def test_a_date_cell_is_read_the_same_whatever_the_locale_or_time_zone() -> None:
    cells = {"Phone": PHONE, "Follow-up date": ("2017-10-24 09:05", 43032 + (9 * 60 + 5) / 1440)}
    for options in (JobOptions(locale="en_US", time_zone="America/New_York"), JobOptions()):
        assert ok(cells, options).customer["followup_date"] == "2017-10-24 09:05"


def test_a_number_typed_in_a_date_column_is_not_taken_for_a_date() -> None:
    for cell in (("45000", 45000), ("45,000", 45000), ("45000.5", 45000.5)):
        error = one_error({"Phone": PHONE, "Follow-up date": cell})
        assert "is not a date" in error.message


def test_a_time_cell_without_a_date_is_not_a_follow_up_date() -> None:
    assert one_error({"Phone": PHONE, "Follow-up date": ("12:00:00", 0.5)}).column == "Follow-up date"


# --- hours ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "sent"),
    [
        ("8pm", "20:00"),
        ("8 PM", "20:00"),
        ("08:16 AM", "08:16"),
        ("08:16 pm", "20:16"),
        ("20:48", "20:48"),
        ("12am", "00:00"),
        ("12pm", "12:00"),
        ("9:00:00", "09:00"),
        (("9:00:00", 0.375), "09:00"),
        (("8", 8), "08:00"),
        (("23:59:00", 1439 / 1440), "23:59"),
    ],
)
def test_hours_in_the_documented_forms_and_time_cells(cell: Cell, sent: str) -> None:
    assert ok({"Phone": PHONE, "Min hour": cell}).customer["min_hour"] == sent


@pytest.mark.parametrize(
    "cell", ["25:00", "24:00", "13pm", "0am", "8:75", "noon", "8.30", ("1/1/2024 8:00", 45292.3)]
)
def test_hours_that_do_not_exist_are_refused(cell: Cell) -> None:
    error = one_error({"Phone": PHONE, "Max hour": cell})
    assert error.column == "Max hour"


def test_min_hour_after_max_hour_is_refused() -> None:
    error = one_error({"Phone": PHONE, "Min hour": "20:00", "Max hour": "8am"})
    assert error.column == "Min hour"
    assert error.message == 'Min hour: "20:00" is after Max hour "8am"'
    assert ok({"Phone": PHONE, "Min hour": "8am", "Max hour": "08:00"}).customer["max_hour"] == "08:00"


# --- flags ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell", ["yes", "Yes", "TRUE", "true", "1", "✓", "✔", "x", "X", "v", "כן", ("TRUE", True), ("1", 1)]
)
def test_flags_on(cell: Cell) -> None:
    assert ok({"Phone": PHONE, "Blacklist": cell}).customer == {"number": "0547000000", "blacklisted": True}


@pytest.mark.parametrize("cell", ["no", "No", "false", "FALSE", "0", "לא", "", ("FALSE", False), ("0", 0)])
def test_flags_off_are_left_out(cell: Cell) -> None:
    assert ok({"Phone": PHONE, "Blacklist": cell}).customer == {"number": "0547000000"}


def test_any_other_flag_word_is_refused_naming_the_accepted_ones() -> None:
    error = one_error({"Phone": PHONE, "Do not call": "maybe"})
    assert error.column == "Do not call"
    assert error.message.startswith('Do not call: "maybe" is not yes or no: write yes, true, 1, x, v or כן')
    assert "no, false, 0, לא" in error.message


def test_request_flag_columns_decide_for_their_row_and_empty_cells_follow_the_job() -> None:
    job = JobOptions(campaign="11", override=True)
    assert not ok({"Phone": PHONE, "Override": "no"}, job).options.override
    assert ok({"Phone": PHONE, "Override": ""}, job).options.override
    assert ok({"Phone": PHONE, "Override": "yes"}, CAMPAIGN).options.override
    assert ok({"Phone": PHONE}, job).options == RequestOptions(campaign="11", override=True)


# --- remove as a column -------------------------------------------------------------------------------------


def test_a_row_cannot_turn_removing_on_by_itself() -> None:
    error = one_error({"Phone": PHONE, "remove": "yes"}, CAMPAIGN)
    assert error.column == "remove"
    assert "Remove in the sidebar" in error.message


def test_a_row_cannot_escape_a_removal_chosen_for_the_job() -> None:
    job = JobOptions(campaign="11", remove=True)
    assert one_error({"Phone": PHONE, "remove": "no"}, job).column == "remove"
    assert ok({"Phone": PHONE, "remove": "yes"}, job).options.remove
    assert ok({"Phone": PHONE, "remove": ""}, job).options.remove
    assert not ok({"Phone": PHONE, "remove": "no"}, CAMPAIGN).options.remove


# --- enums and ids ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("1", 1),
        (("1", 1), 1),
        ("Call", 1),
        ("call", 1),
        ("שיחה", 1),
        ("Reminder", 2),
        ("תזכורת", 2),
        (("2", 2.0), 2),
    ],
)
def test_followup_type(cell: Cell, value: int) -> None:
    item = ok({"Phone": PHONE, "Follow-up date": "+1 day", "Follow-up type": cell})
    assert item.customer["followup_type"] == value


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("Interested", 11),
        ("not interested", 10),
        ("Follow Up", 12),
        ("Waiting", 1),
        ("Completed", 18),
        (("12", 12.0), 12),
        ("18", 18),
        ("מעוניין", 11),
    ],
)
def test_status_column_sets_the_rows_request_status(cell: Cell, value: int) -> None:
    assert ok({"Phone": PHONE, "Status": cell}).options.status == value


def test_enum_values_that_are_not_documented_are_refused_with_the_list() -> None:
    error = one_error({"Phone": PHONE, "Status": ("5", 5)})
    assert error.message == (
        'Status: "5" is not one of: 1 Waiting, 10 Not Interested, 11 Interested, 12 Follow Up, 18 Completed'
    )
    assert one_error({"Phone": PHONE, "Follow-up type": "Meeting"}).message == (
        'Follow-up type: "Meeting" is not one of: 1 Call, 2 Reminder'
    )
    assert one_error({"Phone": PHONE, "Status": ("12.5", 12.5)}).column == "Status"


@pytest.mark.parametrize(("cell", "sent"), [("3", "3"), (("3", 3), "3"), (("3", 3.0), "3"), (" 17 ", "17")])
def test_product_ids(cell: Cell, sent: str) -> None:
    assert ok({"Phone": PHONE, "Product": cell}).customer["product_id"] == sent


@pytest.mark.parametrize("cell", ["0", ("0", 0), "-1", ("-1", -1), "abc", ("1.5", 1.5), "3a", "9" * 40])
def test_ids_are_positive_whole_numbers(cell: Cell) -> None:
    error = one_error({"Phone": PHONE, "Product ID": cell})
    assert error.column == "Product ID"
    assert "whole numbers from 1" in error.message


def test_a_campaign_column_sends_rows_to_their_campaigns() -> None:
    headers = ["Phone", "Campaign"]
    rows: list[Row] = [(2, [PHONE, "11"], [PHONE, 11]), (3, ["054-700-0001", "12"], ["054-700-0001", "12"])]
    items = list(validate_rows(rows, map_headers(headers), JobOptions(campaign="9")))
    assert [item.options.campaign for item in items if isinstance(item, UploadItem)] == ["11", "12"]
    assert ok({"Phone": PHONE, "Campaign": ""}, JobOptions(campaign="9")).options.campaign == "9"
    assert one_error({"Phone": PHONE, "Campaign": "Summer"}).column == "Campaign"


# --- rules between fields -----------------------------------------------------------------------------------


def test_a_rows_agent_needs_a_campaign() -> None:
    error = one_error({"Phone": PHONE, "Agent": "Dana"})
    assert error.column == "Agent"
    assert error.message.startswith('Agent: "Dana" takes effect only within a campaign')
    assert ok({"Phone": PHONE, "Agent": "Dana"}, CAMPAIGN).customer["agent_name"] == "Dana"
    assert ok({"Phone": PHONE, "Agent": "Dana", "Campaign": "4"}).options.campaign == "4"


def test_the_jobs_agent_needs_a_campaign_on_every_row() -> None:
    job = JobOptions(agent_name="Garret Robel")
    assert [visible(p) for p in check_job_options(job)] == [
        'The agent "Garret Robel" takes effect only with a campaign: choose a campaign.'
    ]
    headers = map_headers(["Phone", "Campaign"])
    assert check_job_options(job, headers) == []
    error = one_error({"Phone": PHONE, "Campaign": ""}, job)
    assert error.column == "Campaign"
    assert "Garret Robel" in error.message
    assert ok({"Phone": PHONE, "Campaign": "11"}, job).options == RequestOptions(
        campaign="11", agent_name="Garret Robel"
    )


def test_unique_needs_campaign_and_override() -> None:
    error = one_error({"Phone": PHONE, "Unique": "yes"}, CAMPAIGN)
    assert error.column == "Unique"
    assert "Override" in error.message
    assert one_error({"Phone": PHONE, "Unique": "yes"}, JobOptions(override=True)).column == "Unique"
    item = ok({"Phone": PHONE, "Unique": "yes", "Override": "yes"}, CAMPAIGN)
    assert item.options == RequestOptions(campaign="11", override=True, unique=True)
    job = JobOptions(campaign="11", override=True, unique=True)
    assert one_error({"Phone": PHONE, "Override": "no"}, job).column == "Override"


@pytest.mark.parametrize(
    "header", ["Opportunity CRM id", "Opportunity agent", "product_field_5", "Not purchased reason"]
)
def test_opportunity_fields_need_a_product(header: str) -> None:
    error = one_error({"Phone": PHONE, header: "4"})
    assert error.column == header
    assert error.message.startswith(f'{header}: "4" belongs to a product\'s opportunity')


def test_one_missing_product_is_one_error() -> None:
    error = one_error({"Phone": PHONE, "Opportunity status": "Purchased", "Opportunity agent": "Dana"})
    assert error.column == "Opportunity status"
    assert "Opportunity agent" in error.message


def test_closing_an_opportunity_needs_its_agent() -> None:
    error = one_error({"Phone": PHONE, "Product": "3", "Opportunity status": "Purchased"})
    assert (
        error.message
        == 'Opportunity status: "Purchased" closes the opportunity, which needs Opportunity agent too'
    )
    item = ok({"Phone": PHONE, "Product": "3", "Opportunity status": "לא נרכש", "Opportunity agent": "Dana"})
    assert item.customer["opportunity_status"] == 3


def test_a_not_purchased_reason_goes_only_with_not_purchased() -> None:
    cells = {"Phone": PHONE, "Product": "3", "Opportunity agent": "Dana", "Not purchased reason": "4"}
    error = one_error({**cells, "Opportunity status": "Purchased"})
    assert error.column == "Not purchased reason"
    assert one_error(cells).column == "Not purchased reason"
    item = ok({**cells, "Opportunity status": ("3", 3)})
    assert item.customer["opportunity_not_purchased_reason_id"] == "4"


def test_a_wrong_cell_does_not_also_break_the_rules_that_depend_on_it() -> None:
    cells = {"Phone": PHONE, "Product": "shoes", "Opportunity status": "Sold", "Not purchased reason": "4"}
    found = errors(cells)
    assert [e.column for e in found] == ["Product", "Opportunity status"]


def test_every_error_of_a_row_is_reported_in_column_order() -> None:
    found = errors(
        {
            "Status": "Hot",
            "Phone": "12345",
            "Email": "nope",
            "Follow-up date": "31-02-2024",
            "Min hour": "25:00",
            "Blacklist": "maybe",
        }
    )
    assert [e.column for e in found] == [
        "Status",
        "Phone",
        "Email",
        "Follow-up date",
        "Min hour",
        "Blacklist",
    ]


def test_a_full_row() -> None:
    item = ok(
        {
            "טלפון": ("547000000", 547000000),
            "שם": "ישראל",
            "שם משפחה": "ישראלי",
            "Email": "israel@example.co.il",
            "CRM id": ("644968", 644968),
            "מקור": "Facebook",
            "Source medium": "cpc",
            "Source campaign": "summer",
            "תאריך חזרה": ("24/10/2017", 43032),
            "Follow-up type": "תזכורת",
            "הערות": "Some useful info here",
            "נציג": "none",
            "custom_field_12": "VIP",
            "Min hour": "8am",
            "Max hour": "8pm",
            "רשימה שחורה": ("FALSE", False),
            "Product": "3",
            "Opportunity CRM id": "A-1",
            "Opportunity status": "Not purchased",
            "Opportunity agent": "Dana",
            "Not purchased reason": "4",
            "product_field_123": "red",
        },
        CAMPAIGN,
    )
    assert item.options == RequestOptions(campaign="11")
    assert item.customer == {
        "number": "0547000000",
        "name": "ישראל",
        "last_name": "ישראלי",
        "email": "israel@example.co.il",
        "crm_id": "644968",
        "source": "Facebook",
        "source_medium": "cpc",
        "source_campaign": "summer",
        "followup_date": "2017-10-24",
        "followup_type": 2,
        "note": "Some useful info here",
        "agent_name": "none",
        "custom_field_12": "VIP",
        "min_hour": "08:00",
        "max_hour": "20:00",
        "product_id": "3",
        "opportunity_crm_id": "A-1",
        "opportunity_status": 3,
        "opportunity_agent_name": "Dana",
        "opportunity_not_purchased_reason_id": "4",
        "product_field_123": "red",
    }


# --- the job ------------------------------------------------------------------------------------------------


def test_a_number_twice_in_one_job_is_an_error_on_the_second_row() -> None:
    headers = map_headers(["Phone", "Email"])
    rows: list[Row] = [
        (12, ["054-700-0000", "a@example.com"], ["054-700-0000", "a@example.com"]),
        (13, ["052-222-2222", ""], ["052-222-2222", ""]),
        (14, ["547000000", "b@example.com"], [547000000, "b@example.com"]),
    ]
    first, second, third = validate_rows(rows, headers, JobOptions())
    assert isinstance(first, UploadItem)
    assert isinstance(second, UploadItem)
    assert isinstance(third, list)
    assert [as_shown(e) for e in third] == [RowError(14, "Phone", "Phone: 054-700-0000 is already on row 12")]


def test_a_repeat_is_found_even_when_the_first_row_has_other_errors() -> None:
    headers = map_headers(["Phone", "Email"])
    rows = [(2, [PHONE, "bad"], [PHONE, "bad"]), (3, [PHONE, "nope"], [PHONE, "nope"])]
    first, second = validate_rows(rows, headers, JobOptions())
    assert isinstance(first, list)
    assert [e.column for e in first] == ["Email"]
    assert isinstance(second, list)
    assert [as_shown(e).message for e in second] == [
        'Email: "nope" is not an email address (name@example.com)',
        "Phone: 054-700-0000 is already on row 2",
    ]


def test_the_same_number_may_go_to_two_campaigns() -> None:
    headers = map_headers(["Phone", "Campaign"])
    rows = [(2, [PHONE, "11"], [PHONE, "11"]), (3, [PHONE, "12"], [PHONE, "12"])]
    assert all(isinstance(r, UploadItem) for r in validate_rows(rows, headers, JobOptions()))


def test_international_repeats_are_shown_in_international_form() -> None:
    headers = map_headers(["Phone"])
    rows = [(2, ["+44 7911 123456"], ["+44 7911 123456"]), (3, ["+447911123456"], ["+447911123456"])]
    second = list(validate_rows(rows, headers, INTL))[1]
    assert isinstance(second, list)
    assert [as_shown(e) for e in second] == [
        RowError(3, "Phone", "Phone: +44 7911 123456 is already on row 2")
    ]


def test_the_jobs_other_rows_are_looked_at_for_their_numbers_only() -> None:
    headers = map_headers(["Campaign", "Email", "Phone"])
    keys = headers.narrowed((0, 2))  # the campaign and phone columns alone, as a later step reads them
    others: list[Row] = [
        (2, ["11", PHONE], ["11", PHONE]),
        (3, ["12", "052-222-2222"], [12, "052-222-2222"]),
        (4, ["11", "not a number"], ["11", "not a number"]),  # nothing to repeat: no error of its own
        (9, ["11", "053-333-3333"], ["11", "053-333-3333"]),  # after every row acted on
    ]
    rows: list[Row] = [
        (5, ["11", "a@example.com", "547000000"], ["11", "a@example.com", 547000000]),
        (6, ["11", "b@example.com", "052-222-2222"], ["11", "b@example.com", "052-222-2222"]),
        (7, ["12", "c@example.com", "052-222-2222"], ["12", "c@example.com", "052-222-2222"]),
        (8, ["11", "d@example.com", "053-333-3333"], ["11", "d@example.com", "053-333-3333"]),
    ]
    five, six, seven, eight = validate_rows(rows, headers, JobOptions(), others=others, others_headers=keys)
    assert isinstance(five, list)
    assert [as_shown(e) for e in five] == [RowError(5, "Phone", "Phone: 054-700-0000 is already on row 2")]
    assert isinstance(six, UploadItem)  # row 3 holds that number in another campaign
    assert isinstance(seven, list)
    assert [as_shown(e).message for e in seven] == ["Phone: 052-222-2222 is already on row 3"]
    assert isinstance(eight, UploadItem)  # row 9 comes after it: the repeat is row 9's


def test_a_row_with_no_valid_number_does_not_make_every_other_rows_number_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    headers = map_headers(["Phone"])
    read: list[object] = []
    key = validate_module._RowValidator.key

    def watched(self: Any, formatted: Sequence[object], raw: Sequence[object]) -> Any:
        read.append(formatted[0])
        return key(self, formatted, raw)

    monkeypatch.setattr(validate_module._RowValidator, "key", watched)
    others: list[Row] = [(n, [f"052-{n:07d}"], [f"052-{n:07d}"]) for n in range(2, 40)]
    others.append((40, ["054-700-0000"], ["054-700-0000"]))
    arabic = "\u0660\u0665\u0664-\u0667\u0660\u0660-\u0660\u0660\u0660\u0660"  # 054-700-0000
    rows: list[Row] = [(41, ["not a phone"], ["not a phone"]), (42, [arabic], [arabic])]
    bad, repeat = validate_rows(rows, headers, JobOptions(), others=others)
    assert isinstance(bad, list)
    assert isinstance(repeat, list)
    assert [as_shown(e).message for e in repeat] == ["Phone: 054-700-0000 is already on row 40"]
    # of the other rows, only the one whose number ends as row 42's was read in full, not the 38 others
    assert [cell for cell in read if cell not in ("not a phone", arabic)] == ["054-700-0000"]


def test_job_options_that_cannot_work_are_explained() -> None:
    assert check_job_options(JobOptions()) == []
    assert check_job_options(JobOptions(campaign="11", override=True, unique=True, status=12)) == []
    problems = check_job_options(
        JobOptions(
            campaign="Summer sale",
            unique=True,
            status=5,
            default_region="XX",
            time_zone="Mars/Olympus",
        )
    )
    assert [visible(p) for p in problems] == [
        'Campaign "Summer sale" is not a campaign id: ids are whole numbers from 1.',
        "Unique (remove from all other campaigns) needs Override (update existing customers).",
        "Status 5 is not one of: 1 Waiting, 10 Not Interested, 11 Interested, 12 Follow Up, 18 Completed.",
        '"XX" is not a country code such as IL or US.',
        '"Mars/Olympus" is not a time zone such as Asia/Jerusalem.',
    ]
    assert check_job_options(JobOptions(remove=True, unique=True, override=True)) == [
        "Unique (remove from all other campaigns) needs a campaign: choose a campaign.",
        "Remove takes customers out of a campaign: choose the campaign.",
    ]


def test_job_options_become_request_options() -> None:
    options = JobOptions(campaign="11", agent_name="Dana", override=True, status=12, international=True)
    assert options.request_options() == RequestOptions(
        campaign="11", agent_name="Dana", status=12, override=True, international=True
    )
    assert options.request_options().to_json() == {
        "campaign": "11",
        "agent_name": "Dana",
        "status": 12,
        "override": True,
        "international": True,
    }


# --- formula errors ----------------------------------------------------------------------------------

# What Google Sheets shows for each type of its API's ErrorValue, and for a formula still loading.
SHOWN_ERRORS = ["#ERROR!", "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"]


@pytest.mark.parametrize("error", SHOWN_ERRORS)
@pytest.mark.parametrize(
    ("column", "other"),
    [
        ("Name", {}),
        ("Note", {}),
        ("Email", {}),
        ("Follow-up date", {}),
        ("Blacklist", {}),
        ("Product id", {}),
        ("Campaign", {}),
        ("Agent", {"Campaign": "11"}),
        ("custom_field_4", {}),
    ],
)
def test_a_cell_showing_a_formula_error_is_never_sent_as_data(
    error: str, column: str, other: dict[str, str]
) -> None:
    error_found = one_error({"Phone": PHONE, **other, column: error})
    assert error_found.column == column
    assert error_found.message == (
        f'{column}: "{error}" is a formula error, not a value: fix the formula or type the value'
    )


@pytest.mark.parametrize("error", SHOWN_ERRORS)
def test_a_phone_cell_showing_a_formula_error_says_so_rather_than_that_it_is_empty(error: str) -> None:
    found = one_error({"Phone": error, "Name": "Dana"})
    assert (found.column, found.message) == (
        "Phone",
        f'Phone: "{error}" is a formula error, not a value: fix the formula or type the value',
    )


def test_a_formula_still_loading_is_not_sent_either() -> None:
    found = one_error({"Phone": PHONE, "Name": "Loading..."})
    assert found.message == (
        'Name: "Loading..." is still being calculated: wait until the sheet shows its value, '
        "then upload again"
    )


def test_a_formula_error_that_rules_between_columns_depend_on_gives_one_message() -> None:
    # A product id in error: its opportunity fields do not also say the product is missing.
    found = one_error({"Phone": PHONE, "Product id": "#REF!", "Opportunity CRM id": "A-7"})
    assert found.column == "Product id"


def test_text_that_merely_mentions_an_error_is_data() -> None:
    assert ok({"Phone": PHONE, "Note": "the sheet showed #N/A yesterday"}).customer["note"] == (
        "the sheet showed #N/A yesterday"
    )
