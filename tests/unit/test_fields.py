import pytest

from callmarker_sheets.fields import (
    CATALOGUE,
    CUSTOMER_FIELDS,
    REQUEST_FIELDS,
    HeaderError,
    Kind,
    Level,
    MissingNumberColumn,
    column_letter,
    map_headers,
)
from tests.words import visible


def fields_of(*headers: str) -> list[str | None]:
    mapping = map_headers(["Phone", *headers])
    return [mapping.columns.get(i + 1) for i in range(len(headers))]


def test_the_catalogue_holds_every_option_and_field_of_the_api() -> None:
    assert set(REQUEST_FIELDS) == {
        "campaign",
        "agent_name",
        "override",
        "remove",
        "unique",
        "status",
        "international",
    }
    assert set(CUSTOMER_FIELDS) == {
        "number",
        "name",
        "last_name",
        "email",
        "crm_id",
        "source",
        "source_medium",
        "source_campaign",
        "followup_date",
        "followup_type",
        "note",
        "agent_name",
        "min_hour",
        "max_hour",
        "blacklisted",
        "product_id",
        "opportunity_crm_id",
        "opportunity_status",
        "opportunity_agent_name",
        "opportunity_not_purchased_reason_id",
    }
    kinds = {(f.level, f.name): f.kind for f in CATALOGUE}
    assert kinds[Level.CUSTOMER, "followup_date"] is Kind.DATE
    assert kinds[Level.CUSTOMER, "min_hour"] is Kind.HOUR
    assert kinds[Level.CUSTOMER, "blacklisted"] is Kind.FLAG
    assert kinds[Level.REQUEST, "international"] is Kind.FLAG
    assert kinds[Level.REQUEST, "campaign"] is Kind.ID
    assert set(REQUEST_FIELDS["status"].allowed) == {1, 10, 11, 12, 18}
    assert set(CUSTOMER_FIELDS["followup_type"].allowed) == {1, 2}
    assert set(CUSTOMER_FIELDS["opportunity_status"].allowed) == {2, 3}


def test_every_api_name_is_a_header_of_its_own_field() -> None:
    for f in CATALOGUE:
        if f.name in ("number", "agent_name"):
            continue
        assert fields_of(f.name) == [f.name]
    assert map_headers(["number"]).columns == {0: "number"}


@pytest.mark.parametrize(
    "header",
    ["Phone", "Phone number", "Mobile", "Cell", "Tel", "Telephone", "טלפון", "נייד", "מספר טלפון", "פלאפון"],
)
def test_phone_headers(header: str) -> None:
    assert map_headers(["Name", header]).fields["number"] == 1


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("First name", "name"),
        ("Name", "name"),
        ("Full name", "name"),
        ("שם", "name"),
        ("שם פרטי", "name"),
        ("שם מלא", "name"),
        ("Last name", "last_name"),
        ("Surname", "last_name"),
        ("שם משפחה", "last_name"),
        ("Email", "email"),
        ("E-mail", "email"),
        ("אימייל", "email"),
        ("מייל", "email"),
        ('דוא"ל', "email"),
        ("דוא״ל", "email"),  # with the Hebrew gershayim
        ("Note", "note"),
        ("Notes", "note"),
        ("Comment", "note"),
        ("הערה", "note"),
        ("הערות", "note"),
        ("Source", "source"),
        ("מקור", "source"),
        ("Follow up", "followup_date"),
        ("Follow-up date", "followup_date"),
        ("Callback", "followup_date"),
        ("תאריך חזרה", "followup_date"),
        ("פולואפ", "followup_date"),
        ("Agent", "agent_name"),
        ("נציג", "agent_name"),
        ("Campaign", "campaign"),
        ("קמפיין", "campaign"),
        ("Status", "status"),
        ("סטטוס", "status"),
        ("Blacklist", "blacklisted"),
        ("Do not call", "blacklisted"),
        ("רשימה שחורה", "blacklisted"),
        ("custom_field_12", "custom_field_12"),
        ("Custom field 12", "custom_field_12"),
        ("product_field_123", "product_field_123"),
        ("Product field 123", "product_field_123"),
        ("Product ID", "product_id"),
        ("Opportunity status", "opportunity_status"),
        ("Min hour", "min_hour"),
        ("Max hour", "max_hour"),
        ("UTM source", "source"),
        ("utm_campaign", "source_campaign"),
    ],
)
def test_english_and_hebrew_headers(header: str, field: str) -> None:
    assert fields_of(header) == [field]


@pytest.mark.parametrize(
    "header",
    [
        "  PHONE NUMBER: ",
        "phone_number",
        "Phone-Number*",
        "\u200fטלפון\u200f",
        "ＰＨＯＮＥ",
        "phone\u00a0number",
    ],
)
def test_headers_fold_case_spacing_punctuation_and_width(header: str) -> None:
    assert map_headers([header]).columns == {0: "number"}


def test_the_header_is_kept_as_written_for_messages() -> None:
    mapping = map_headers(["  מספר טלפון: ", "E-mail*"])
    assert mapping.header("number") == "מספר טלפון"
    assert mapping.header("email") == "E-mail"
    assert mapping.headers == ("  מספר טלפון: ", "E-mail*")


def test_a_column_named_agent_is_the_customers_agent() -> None:
    mapping = map_headers(["Phone", "agent_name", "Campaign"])
    assert mapping.columns[1] == "agent_name"
    assert CUSTOMER_FIELDS["agent_name"].level is Level.CUSTOMER
    assert mapping.columns[2] == "campaign"


def test_remove_is_recognised_only_by_its_api_name() -> None:
    assert fields_of("remove", "Delete", "Remove from list") == ["remove", None, None]


def test_unmapped_headers_are_reported_once_and_empty_ones_not_at_all() -> None:
    mapping = map_headers(["Phone", "Lead score", "", "  ", "Shoe size", "Name"])
    assert mapping.unmapped == ("Lead score", "Shoe size")
    assert mapping.columns == {0: "number", 5: "name"}


def test_ignored_columns_are_neither_mapped_nor_reported() -> None:
    mapping = map_headers(["Phone", "Mobile", "CallMarker status"], ignore={1, 2})
    assert mapping.columns == {0: "number"}
    assert mapping.unmapped == ()


def test_two_columns_for_one_field_stop_the_job_naming_both() -> None:
    with pytest.raises(HeaderError) as caught:
        map_headers(["Name", "Phone", "Email", "נייד"])
    message = visible(str(caught.value))
    assert 'B ("Phone")' in message
    assert 'D ("נייד")' in message
    assert "Phone" in message
    assert "keep one" in message


def test_every_header_problem_is_reported_together() -> None:
    with pytest.raises(HeaderError) as caught:
        map_headers(["Phone", "Name", "שם", "custom_field_0"])
    assert len(caught.value.problems) == 2
    assert 'C ("שם")' in visible(caught.value.problems[0])
    assert 'D ("custom_field_0")' in visible(caught.value.problems[1])


@pytest.mark.parametrize("header", ["custom_field_0", "custom_field_abc", "Custom field", "product_field_-3"])
def test_a_custom_or_product_field_needs_a_positive_id(header: str) -> None:
    with pytest.raises(HeaderError, match="whole number from 1"):
        map_headers(["Phone", header])


def test_the_same_custom_field_written_twice_is_a_duplicate() -> None:
    with pytest.raises(HeaderError, match="Custom field 12"):
        map_headers(["Phone", "custom_field_12", "Custom field 012"])


def test_a_sheet_without_a_phone_column_is_refused() -> None:
    with pytest.raises(MissingNumberColumn, match="phone number") as caught:
        map_headers(["Name", "Email"])
    assert isinstance(caught.value, HeaderError)


def test_a_phone_column_left_out_is_missing() -> None:
    with pytest.raises(MissingNumberColumn):
        map_headers(["Phone", "Name"], ignore={0})


@pytest.mark.parametrize(("index", "letters"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")])
def test_column_letters(index: int, letters: str) -> None:
    assert column_letter(index) == letters
