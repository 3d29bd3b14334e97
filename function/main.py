"""The Cloud Function's HTTP entry point ``upload_rows``: check the caller, run one step, answer JSON.

Every failure becomes ``{"error": {"code", "message"}}`` with its HTTP status, here and only here.
An answer never holds a stack trace, a token or a phone number.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, cast

import flask
import functions_framework

from callmarker_sheets.auth import AuthError, sheets_credentials, verify_caller
from callmarker_sheets.config import ConfigError, Settings, deployment_revision, get_settings
from callmarker_sheets.diagnose import diagnose, is_diagnosis
from callmarker_sheets.logs import configure_logging, redact
from callmarker_sheets.sheet import (
    SheetAccessDenied,
    SheetError,
    SheetNotFound,
    SheetQuotaExceeded,
    SheetUnavailable,
)
from callmarker_sheets.startup import Arrivals, process_started
from callmarker_sheets.upload import Job, JobError, open_context, run_step

logger = logging.getLogger("callmarker_sheets.main")

#: Sheets errors -> (HTTP status, code) of the answer.
_SHEET_ERRORS: tuple[tuple[type[SheetError], int, str], ...] = (
    (SheetNotFound, 404, "not_found"),
    (SheetAccessDenied, 403, "no_access"),
    (SheetQuotaExceeded, 429, "sheets_quota"),
    (SheetUnavailable, 503, "sheets_unavailable"),
    (SheetError, 400, "sheets_refused"),
)
_configured: Settings | None = None
#: On Cloud Run the first request of a cold start counts from the process's start: its caller has been
#: waiting while the instance started.
_arrivals = Arrivals(process_started() if deployment_revision() else None)


@functions_framework.http
def upload_rows(request: flask.Request) -> flask.Response:
    arrived = _arrivals.arrival()
    request_id = _request_id(request)
    if request.method == "POST" and is_diagnosis(request.get_json(silent=True)):
        return _diagnosis(request, request_id)
    try:
        settings = _settings()
    except ConfigError as exc:
        logger.critical("configuration error: %s", exc, extra={"request_id": request_id})
        return _error(500, "not_configured", f"The function is not configured: {exc}")
    if request.method != "POST":
        return _error(405, "method_not_allowed", "Use POST.")
    try:
        caller = verify_caller(request.headers.get("Authorization"), settings)
        body = request.get_json(silent=True)
        job = Job.from_json(body)  # refuses anything but a JSON object
        cursor = cast(dict[str, Any], body).get("cursor")
        credentials = sheets_credentials(settings, request.headers.get("X-Sheets-Token"))
        answer = run_step(job, cursor, open_context(job, settings, credentials, arrived=arrived))
    except AuthError as exc:
        logger.warning("caller refused: %s", exc, extra={"request_id": request_id})
        code = {401: "unauthenticated", 403: "forbidden"}.get(exc.http_status, "auth_unavailable")
        return _error(exc.http_status, code, str(exc))
    except JobError as exc:
        logger.warning("job refused: %s", exc.message, extra={"request_id": request_id})
        return _error(exc.http_status, exc.code, exc.message)
    except SheetError as exc:
        status, code = next((s, c) for kind, s, c in _SHEET_ERRORS if isinstance(exc, kind))
        logger.warning("Google Sheets: %s", exc, extra={"request_id": request_id})
        return _error(status, code, str(exc))
    except Exception:
        logger.exception("step failed", extra={"request_id": request_id})
        return _error(500, "internal", f"Something went wrong on our side (request {request_id}). Try again.")
    logger.info(
        "step answered",
        extra={
            "request_id": request_id,
            "caller": caller.email,
            "counts": answer.counts,
            "done": answer.done,
        },
    )
    return flask.jsonify(answer.to_json())


def _diagnosis(request: flask.Request, request_id: str) -> flask.Response:
    """The "Test connection" checklist; it changes nothing, and answers even when not configured."""
    settings: Settings | ConfigError
    try:
        settings = _settings()
    except ConfigError as exc:
        settings = exc
    report = diagnose(
        authorization=request.headers.get("Authorization"),
        sheets_token=request.headers.get("X-Sheets-Token"),
        body=cast(dict[str, Any], request.get_json(silent=True)),
        settings=settings,
        revision=deployment_revision(),
    )
    logger.info(
        "connection tested",
        extra={"request_id": request_id, "checks": {c.name: c.ok for c in report.checks}},
    )
    return flask.jsonify(report.to_json())


def _settings() -> Settings:
    global _configured  # noqa: PLW0603 - logging is set up once per instance, with the token to hide
    settings = get_settings()
    if _configured is not settings:
        configure_logging(settings.log_level, secrets=[settings.callmarker_token])
        _configured = settings
    return settings


def _request_id(request: flask.Request) -> str:
    trace = request.headers.get("X-Cloud-Trace-Context", "")
    return trace.split("/", 1)[0] if trace else uuid.uuid4().hex[:16]


def _error(status: int, code: str, message: str) -> flask.Response:
    body: dict[str, Any] = {"error": {"code": status, "status": code, "message": redact(message)}}
    response = flask.jsonify(body)
    response.status_code = status
    return response
