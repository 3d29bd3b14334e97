"""Structured logs: one JSON object per line on stdout, in the shape Cloud Logging reads.

Every record passes through a filter that masks phone numbers and removes tokens before it is written.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from callmarker_sheets.config import Secret

__all__ = ["LOGGER_NAME", "TRACE_FIELD", "JsonFormatter", "RedactingFilter", "configure_logging", "redact"]

#: The package's logger; modules log to children of it (``callmarker_sheets.upload``...).
LOGGER_NAME = "callmarker_sheets"
#: Cloud Logging groups the lines of one request under this field; pass it as ``extra={"trace": ...}``.
TRACE_FIELD = "logging.googleapis.com/trace"

# A run of 7 or more digits, optionally with a leading + and single spaces or dashes between digits:
# 054-700-0000, +972 54 700 0000, 0547000000. Longer runs (ids, dates) are masked too: over-masking
# a log line costs little, a leaked number costs a customer's privacy.
_PHONE = re.compile(r"\+?\d(?:[ \-]?\d){6,}")
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*")
# JWTs (ID tokens) and Google OAuth access tokens, even without the word Bearer before them.
_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*")
_GOOGLE_ACCESS_TOKEN = re.compile(r"\bya29\.[A-Za-z0-9_\-.]+")
_MASK = "***"

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and becomes a field.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given secrets, bearer tokens and phone numbers masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, _MASK)
    text = _BEARER.sub("Bearer " + _MASK, text)
    text = _JWT.sub(_MASK, text)
    text = _GOOGLE_ACCESS_TOKEN.sub(_MASK, text)
    return _PHONE.sub(_mask_phone, text)


def _mask_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return f"***-**-{digits[-3:]}"


class RedactingFilter(logging.Filter):
    """Rewrites each record so its message, its exception text and its string fields are redacted.

    It sits on the handler, not the logger: a logger's filters do not see its children's records.
    """

    def __init__(self, secrets: Iterable[str | Secret] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s.reveal() if isinstance(s, Secret) else s for s in secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # mismatched %-args: keep the template rather than raise here
            message = str(record.msg)
        record.msg = redact(message, self._secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets)
        record.exc_info = None  # the text above is all the formatter may use
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self._secrets)
        for key, value in list(record.__dict__.items()):
            if key not in _RECORD_ATTRIBUTES:
                setattr(record, key, self._clean(value))
        return True

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return redact(value, self._secrets)
        if isinstance(value, Secret):
            return _MASK
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        if isinstance(value, dict):
            return {str(k): self._clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._clean(v) for v in value]
        if value is None or isinstance(value, bool | int | float):
            return value
        return redact(str(value), self._secrets)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``severity``, ``message``, ``time``, ``logger``, and the ``extra`` fields.

    ``extra={"trace": "projects/p/traces/t"}`` is written as ``logging.googleapis.com/trace``.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        if record.exc_text:
            entry["message"] += "\n" + record.exc_text
        elif record.exc_info:
            entry["message"] += "\n" + self.formatException(record.exc_info)
        for key, value in record.__dict__.items():
            if key in _RECORD_ATTRIBUTES:
                continue
            entry[TRACE_FIELD if key == "trace" else key] = value
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(
    level: str | int = "INFO",
    *,
    secrets: Iterable[str | Secret] = (),
    stream: TextIO | None = None,
) -> logging.Logger:
    """Send the package's logs to ``stream`` (stdout by default) as redacted JSON lines.

    ``secrets`` are removed wherever they appear (pass the CallMarker token). Calling it again replaces
    the handler it installed before, so it is safe to call once per cold start and again in tests.
    """
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        if getattr(handler, "_callmarker_sheets", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(stream if stream is not None else sys.stdout)
    handler._callmarker_sheets = True  # type: ignore[attr-defined]
    handler.addFilter(RedactingFilter(secrets))
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level.upper() if isinstance(level, str) else level)
    # The root logger (functions-framework's, or the platform's) would print the same record unredacted.
    logger.propagate = False
    return logger
