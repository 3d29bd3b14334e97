"""Log lines are Cloud Logging JSON, and no phone number or token gets into them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callmarker_sheets.auth import Caller
from callmarker_sheets.config import Secret
from callmarker_sheets.logs import LOGGER_NAME, TRACE_FIELD, configure_logging, redact

CALLMARKER_TOKEN = "cm-live-7f3a9c2e5b1d"
ID_TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJlbWFpbCI6ImRhbmFAZXhhbXBsZS5jb20ifQ.c2lnbmF0dXJl"
ACCESS_TOKEN = "ya29.a0AfB_byC-x1y2z3"


@pytest.fixture(autouse=True)
def restore_package_logger() -> Iterator[None]:
    # Other modules' tests read the package's records with caplog: leave the logger as it was.
    logger = logging.getLogger(LOGGER_NAME)
    before = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:] = before[0]
    logger.setLevel(before[1])  # setLevel, not assignment: it also clears the loggers' level cache
    logger.propagate = before[2]


@pytest.fixture
def stream() -> io.StringIO:
    out = io.StringIO()
    configure_logging("DEBUG", secrets=[Secret(CALLMARKER_TOKEN)], stream=out)
    return out


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_one_json_object_per_line_in_cloud_loggings_shape(stream: io.StringIO) -> None:
    log = logging.getLogger(f"{LOGGER_NAME}.upload")
    log.info(
        "step finished: %d rows",
        120,
        extra={
            "request_id": "req-1",
            "caller": Caller(email="dana@example.com", domain="example.com", subject="1098"),
            "counts": {"uploaded": 118, "invalid": 2},
            "trace": "projects/p/traces/abc",
        },
    )
    log.warning("שורה 5: מספר טלפון חסר")
    first, second = lines(stream)
    assert first["severity"] == "INFO"
    assert first["message"] == "step finished: 120 rows"
    assert first["logger"] == "callmarker_sheets.upload"
    assert first["request_id"] == "req-1"
    assert first["caller"] == {"email": "dana@example.com", "domain": "example.com", "subject": "1098"}
    assert first["counts"] == {"uploaded": 118, "invalid": 2}
    assert first[TRACE_FIELD] == "projects/p/traces/abc"
    assert "trace" not in first
    assert first["time"].endswith("+00:00")
    assert second["severity"] == "WARNING"
    assert second["message"] == "שורה 5: מספר טלפון חסר"


def test_level_filters_records() -> None:
    out = io.StringIO()
    configure_logging("WARNING", stream=out)
    log = logging.getLogger(f"{LOGGER_NAME}.auth")
    log.info("hidden")
    log.error("shown")
    assert [line["message"] for line in lines(out)] == ["shown"]


def test_configuring_twice_does_not_double_lines() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("INFO", stream=first)
    configure_logging("INFO", stream=second)
    logging.getLogger(LOGGER_NAME).info("once")
    assert first.getvalue() == ""
    assert len(lines(second)) == 1


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("054-700-0000", "***-**-000"),
        ("0547000123", "***-**-123"),
        ("+972547000456", "***-**-456"),
        ("+972 54 700 0789", "***-**-789"),
        ("03-123-4567", "***-**-567"),
    ],
)
def test_phone_numbers_keep_only_their_last_three_digits(
    stream: io.StringIO, number: str, masked: str
) -> None:
    logging.getLogger(LOGGER_NAME).info("row 12: %s rejected", number, extra={"number": number})
    (line,) = lines(stream)
    assert line["message"] == f"row 12: {masked} rejected"
    assert line["number"] == masked


def test_short_numbers_are_left_alone(stream: io.StringIO) -> None:
    logging.getLogger(LOGGER_NAME).info("rows 2-40 of 512, batch 3, status 10")
    assert lines(stream)[0]["message"] == "rows 2-40 of 512, batch 3, status 10"


def test_tokens_are_removed_everywhere(stream: io.StringIO) -> None:
    log = logging.getLogger(f"{LOGGER_NAME}.main")
    log.info(
        "headers: Authorization: Bearer %s X-Sheets-Token: %s body token=%s",
        ID_TOKEN,
        ACCESS_TOKEN,
        CALLMARKER_TOKEN,
        extra={
            "request": {"body": {"token": CALLMARKER_TOKEN, "numbers": ["054-700-0000"]}},
            "raw": ID_TOKEN,
        },
    )
    try:
        raise RuntimeError(f"CallMarker refused token {CALLMARKER_TOKEN} for 0547000000")
    except RuntimeError:
        log.exception("upload failed")
    text = stream.getvalue()
    for secret in (ID_TOKEN, ACCESS_TOKEN, CALLMARKER_TOKEN, "0547000000", "054-700-0000", "c2lnbmF0dXJl"):
        assert secret not in text
    info, error = lines(stream)
    assert info["message"] == "headers: Authorization: Bearer *** X-Sheets-Token: *** body token=***"
    assert info["request"] == {"body": {"token": "***", "numbers": ["***-**-000"]}}
    assert info["raw"] == "***"
    assert error["severity"] == "ERROR"
    assert error["message"].startswith("upload failed\nTraceback")
    assert "RuntimeError: CallMarker refused token *** for ***-**-000" in error["message"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer opaque_Token-abc.DEF~x/y+z==", "Authorization: Bearer ***"),
        ("authorization=bearer sk.live.1", "authorization=Bearer ***"),
        (f"id token {ID_TOKEN} seen", "id token *** seen"),
        (f"sheets token {ACCESS_TOKEN}", "sheets token ***"),
    ],
)
def test_bearer_tokens_of_any_shape_are_removed(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_a_secret_value_passed_as_a_field_is_masked(stream: io.StringIO) -> None:
    logging.getLogger(LOGGER_NAME).info("settings", extra={"token": Secret("whatever-it-is")})
    assert lines(stream)[0]["token"] == "***"
    assert "whatever-it-is" not in stream.getvalue()


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_lines_are_not_repeated_by_the_root_logger(stream: io.StringIO) -> None:
    # The platform's root handler would print each record a second time, in plain text.
    root_handler = Collect()
    logging.getLogger().addHandler(root_handler)
    try:
        logging.getLogger(f"{LOGGER_NAME}.upload").warning("number 0547000000")
    finally:
        logging.getLogger().removeHandler(root_handler)
    assert root_handler.records == []
    assert len(lines(stream)) == 1


def test_bad_format_arguments_do_not_break_the_caller(stream: io.StringIO) -> None:
    logging.getLogger(LOGGER_NAME).info("%d rows", "many")
    assert lines(stream)[0]["message"] == "%d rows"


digits = st.text(alphabet="0123456789", min_size=7, max_size=15)
separator = st.sampled_from(["", " ", "-"])


@given(number=digits, separators=st.lists(separator, min_size=14, max_size=14), plus=st.booleans())
def test_no_run_of_seven_digits_survives(number: str, separators: list[str], plus: bool) -> None:
    written = (
        ("+" if plus else "")
        + number[0]
        + "".join(s + d for s, d in zip(separators, number[1:], strict=False))
    )
    masked = redact(f"call {written} today")
    assert masked == f"call ***-**-{number[-3:]} today"
