"""Structured logs: one JSON object per line on stdout, in the shape Cloud Logging reads.

Every record passes through a filter that applies the package's one redaction (``redaction.py``):
secrets in every form, tokens and phone numbers are masked before a line is written.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from callmarker_sheets.config import Secret
from callmarker_sheets.redaction import Redactor, redact

__all__ = ["LOGGER_NAME", "TRACE_FIELD", "JsonFormatter", "RedactingFilter", "configure_logging", "redact"]

#: The package's logger; modules log to children of it (``callmarker_sheets.upload``...).
LOGGER_NAME = "callmarker_sheets"
#: Cloud Logging groups the lines of one request under this field; pass it as ``extra={"trace": ...}``.
TRACE_FIELD = "logging.googleapis.com/trace"

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and becomes a field.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class RedactingFilter(logging.Filter):
    """Rewrites each record so its message, its exception text and its fields are redacted.

    It sits on the handler, not the logger: a logger's filters do not see its children's records.
    """

    def __init__(self, secrets: Iterable[str | Secret] = ()) -> None:
        super().__init__()
        self._redact = Redactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # mismatched %-args: keep the template rather than raise here
            message = str(record.msg)
        record.msg = self._redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        record.exc_info = None  # the text above is all the formatter may use
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _RECORD_ATTRIBUTES:
                setattr(record, key, self._redact.clean(value))
        return True


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
