"""Errors as Google's APIs put them on the wire: an HTTP code, a canonical status and a message."""

from __future__ import annotations

from typing import Any

STATUS_BY_CODE = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """An answer other than 2xx. `body()` is the JSON Google sends; `headers` go with it."""

    def __init__(
        self, code: int, message: str, *, status: str | None = None, headers: dict[str, str] | None = None
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_BY_CODE.get(code, "UNKNOWN")
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "status": self.status}}


class DriveError(ApiError):
    """Drive v3 errors carry an `errors` list and no status."""

    def __init__(self, code: int, message: str, *, reason: str):
        super().__init__(code, message)
        self.reason = reason

    def body(self) -> dict[str, Any]:
        detail = {"domain": "global", "reason": self.reason, "message": self.message}
        return {"error": {"errors": [detail], "code": self.code, "message": self.message}}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found() -> ApiError:
    return ApiError(404, "Requested entity was not found.")


def permission_denied() -> ApiError:
    return ApiError(403, "The caller does not have permission")


def protected_cell() -> ApiError:
    """Google's answer to an edit of a cell in a range protected from the caller."""
    return ApiError(
        403,
        "You are trying to edit a protected cell or object. Please contact the spreadsheet owner to remove "
        "protection if you need to edit.",
    )


def unauthenticated() -> ApiError:
    return ApiError(
        401,
        "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie "
        "or other valid authentication credential. "
        "See https://developers.google.com/identity/sign-in/web/devconsole-project.",
    )


def quota_exceeded(kind: str, retry_after: float | None) -> ApiError:
    """kind: 'Read' or 'Write'."""
    message = (
        f"Quota exceeded for quota metric '{kind} requests' and limit '{kind} requests per minute per user' "
        "of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'."
    )
    headers = (
        {"Retry-After": str(int(retry_after) if float(retry_after).is_integer() else retry_after)}
        if (retry_after is not None)
        else {}
    )
    return ApiError(429, message, headers=headers)


def server_error(code: int) -> ApiError:
    if code == 503:
        return ApiError(503, "The service is currently unavailable.")
    return ApiError(code, "Internal error encountered.")
