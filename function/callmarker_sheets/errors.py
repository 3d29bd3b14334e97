"""Every error the function answers with: one tree, each class carrying its own HTTP status and code.

``main.py`` turns any of them into ``{"error": {"code": <status>, "status": <code>, "message"}}`` in one
place; the message is written to be shown to the caller (and is redacted once more on its way out), in
the request's language when it was made as a :class:`~callmarker_sheets.i18n.Text`::

    ServiceError                            500 internal       the root
    ├── MethodNotAllowed                    405 method_not_allowed
    ├── BadRequest                          400 bad_request    the body is not a request this function takes
    │   └── CursorInvalid                   400 cursor_invalid forged, tampered with, oversized, or another
    │                                                          job's, another caller's or another deploy's
    ├── PayloadTooLarge                     413 body_too_large
    ├── ConfigError (config.py)             500 not_configured a setting is missing or malformed
    ├── AuthError (auth.py)                 who is calling
    │   ├── Unauthenticated                 401 unauthenticated
    │   ├── Forbidden                       403 forbidden
    │   │   └── SheetsTokenMismatch         403 sheets_token_mismatch
    │   └── VerificationUnavailable         503 auth_unavailable
    ├── JobError (job.py)                   the job cannot go on
    │   ├── ProgressTooLarge                413 cursor_too_large
    │   ├── TooManyRows (upload.py)         413 too_many_rows
    │   ├── HeaderProblem (upload.py)       422 header_row
    │   ├── CallMarkerRefused (upload.py)   502 callmarker_refused
    │   ├── CallMarkerUnreachable           502 callmarker_unreachable
    │   ├── CallMarkerUnreadable            502 callmarker_unreadable
    │   ├── StatusColumnsProtected          403 status_columns_protected before anything is sent
    │   └── StatusesNotWritten              503 statuses_not_written rows sent, their statuses not taken
    └── SheetError (sheet.py)               400 sheets_refused
        ├── SheetNotFound                   404 not_found
        ├── SheetAccessDenied               403 no_access
        │   └── SheetsApiDisabled           403 sheets_api_disabled
        ├── SheetQuotaExceeded              429 sheets_quota
        └── SheetUnavailable                503 sheets_unavailable

This module imports only ``i18n`` of the package, so every module can hang its errors from it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from callmarker_sheets.i18n import ENGLISH, Text, Translator

__all__ = [
    "BadRequest",
    "CursorInvalid",
    "MethodNotAllowed",
    "PayloadTooLarge",
    "ServiceError",
]


class ServiceError(Exception):
    """An error the function answers with. ``message`` is what the caller reads (in English; ``words(t)``
    in the language of a translator, when the message was made as a ``Text``)."""

    http_status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"

    def __init__(self, message: str | Text) -> None:
        super().__init__(str(message))
        self.text = message if isinstance(message, Text) else None
        self.message = str(message)

    def words(self, t: Translator = ENGLISH) -> str:
        """The message in the language of ``t`` (as it is, when it was made in words already)."""
        return self.text(t) if self.text is not None else self.message

    def answer(self, t: Translator = ENGLISH) -> dict[str, Any]:
        """The JSON body of the answer, before redaction, in the language of ``t``."""
        return {"error": {"code": self.http_status, "status": self.code, "message": self.words(t)}}


class MethodNotAllowed(ServiceError):
    http_status = 405
    code = "method_not_allowed"


class BadRequest(ServiceError):
    """The body is not a request this function takes; nothing was read or sent."""

    http_status = 400
    code = "bad_request"


class CursorInvalid(BadRequest):
    """The cursor is not one this function gave this caller for this job; nothing was read or sent."""

    code = "cursor_invalid"


class PayloadTooLarge(ServiceError):
    http_status = 413
    code = "body_too_large"
