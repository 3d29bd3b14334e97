"""The Cloud Function's HTTP entry point ``upload_rows``: check the caller and the request, run one step,
answer JSON.

Every failure is a ``ServiceError`` (``callmarker_sheets/errors.py``) that carries its own HTTP status
and code; it becomes ``{"error": {"code", "status", "message"}}`` here, in one place. Nothing is read
from the sheet or sent to CallMarker before the caller, the body and the cursor have been checked. An
answer never holds a stack trace, a token or a phone number.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import flask
import functions_framework

from callmarker_sheets import collector
from callmarker_sheets.auth import Caller, sheets_credentials, verify_caller
from callmarker_sheets.config import ConfigError, Settings, deployment_revision, get_settings
from callmarker_sheets.cursor import CursorSeal
from callmarker_sheets.diagnose import diagnose, is_diagnosis
from callmarker_sheets.errors import MethodNotAllowed, PayloadTooLarge, ServiceError
from callmarker_sheets.i18n import LANGUAGES, N_, translator
from callmarker_sheets.logs import configure_logging
from callmarker_sheets.preview import Preview, run_preview
from callmarker_sheets.redaction import Redactor
from callmarker_sheets.startup import Arrivals, process_started
from callmarker_sheets.upload import (
    MAX_BODY_BYTES,
    Job,
    Progress,
    StepAnswer,
    open_context,
    parse_body,
    run_step,
)

logger = logging.getLogger("callmarker_sheets.main")

_configured: tuple[Settings, Redactor] | None = None
#: On Cloud Run the first request of a cold start counts from the process's start: its caller has been
#: waiting while the instance started.
_arrivals = Arrivals(process_started() if deployment_revision() else None)


@functions_framework.http
def upload_rows(request: flask.Request) -> flask.Response:
    arrived = _arrivals.arrival()
    request_id = _request_id(request)
    redact = Redactor()
    # Until the body is read, its language is not known: English.
    t = translator("en")
    try:
        body = _body(request)
        t = translator(_language(body))
        if is_diagnosis(body):
            return _diagnosis(request, body, request_id)
        settings, redact = _settings()
        with collector.paused():
            caller, answer = _step(request, body, settings, arrived)
    except ServiceError as exc:
        level = logging.WARNING if exc.http_status < 500 else logging.ERROR
        logger.log(level, "refused (%s): %s", exc.code, exc.message, extra={"request_id": request_id})
        return _json(exc.http_status, redact.clean(exc.answer(t)))
    except Exception:
        logger.exception("step failed", extra={"request_id": request_id})
        message = t("Something went wrong on our side (request {request}). Try again.", request=request_id)
        return _json(500, {"error": {"code": 500, "status": "internal", "message": message}})
    if isinstance(answer, Preview):
        logger.info(
            "preview answered",
            extra={"request_id": request_id, "caller": caller.email, "counts": {"to_send": answer.to_send}},
        )
        return _json(200, redact.clean(answer.to_json()))
    logger.info(
        "step answered",
        extra={
            "request_id": request_id,
            "caller": caller.email,
            "counts": answer.counts,
            "done": answer.done,
        },
    )
    # The cursor is opaque and signed; the problem rows' link is made of ids only (the spreadsheet's, checked
    # by the schema, and two numbers), whose digits must not be masked as if they were a phone number.
    response = _json(200, redact.clean(answer.to_json(), keep=frozenset({"cursor", "problem_rows_url"})))
    # what the step left in cycles is collected once its answer is on its way, not while the user waits
    response.call_on_close(collector.collect)
    return response


def _language(body: object) -> str:
    """The language a body asks answers in, read before anything else of it is checked: so that even a
    refusal of the body is said in the user's language. English unless it is one of LANGUAGES."""
    lang = body.get("lang") if isinstance(body, dict) else None
    return lang if isinstance(lang, str) and lang in LANGUAGES else "en"


def _body(request: flask.Request) -> object:
    """The request's JSON, read only up to the size cap and parsed strictly (depth, constants, keys)."""
    if request.method != "POST":
        raise MethodNotAllowed(N_("Use POST."))
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise PayloadTooLarge(N_("The request body is larger than {#kb} kB.", kb=MAX_BODY_BYTES // 1024))
    return parse_body(_read_body(request))


def _step(
    request: flask.Request, body: object, settings: Settings, arrived: float
) -> tuple[Caller, StepAnswer | Preview]:
    """Caller, job, cursor and Sheets token, in that order and before anything else; then one step (or
    the preview of one, which writes and sends nothing)."""
    caller = verify_caller(request.headers.get("Authorization"), settings)
    job = Job.from_json(body, seal=CursorSeal(settings.cursor_signing_key, caller.subject))
    cursor = body.get("cursor") if isinstance(body, dict) else None
    Progress.decode(cursor, job)  # a forged, tampered or foreign cursor stops here, before any read
    credentials = sheets_credentials(request.headers.get("X-Sheets-Token"), caller, settings)
    context = open_context(job, settings, credentials, arrived=arrived, who=caller.email)
    if job.preview:
        return caller, run_preview(job, context, translator(job.lang))
    return caller, run_step(job, cursor, context)


def _read_body(request: flask.Request) -> bytes:
    """The body, read only up to one byte past the cap, whether or not its length was announced."""
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_BODY_BYTES:
        chunk = request.stream.read(MAX_BODY_BYTES + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_BODY_BYTES:
        raise PayloadTooLarge(N_("The request body is larger than {#kb} kB.", kb=MAX_BODY_BYTES // 1024))
    return b"".join(chunks)


def _diagnosis(request: flask.Request, body: dict[str, Any], request_id: str) -> flask.Response:
    """The "Test connection" checklist; it changes nothing, and answers even when not configured."""
    settings: Settings | ConfigError
    redact = Redactor()
    try:
        settings, redact = _settings()
    except ConfigError as exc:
        settings = exc
    report = diagnose(
        authorization=request.headers.get("Authorization"),
        sheets_token=request.headers.get("X-Sheets-Token"),
        body=body,
        settings=settings,
        revision=deployment_revision(),
        t=translator(_language(body)),
    )
    logger.info(
        "connection tested",
        extra={"request_id": request_id, "checks": {c.name: c.ok for c in report.checks}},
    )
    return _json(200, redact.clean(report.to_json()))


def _settings() -> tuple[Settings, Redactor]:
    global _configured  # noqa: PLW0603 - logging is set up once per instance, with the secrets to hide
    settings = get_settings()
    if _configured is None or _configured[0] is not settings:
        secrets = [settings.callmarker_token, settings.cursor_signing_key]
        configure_logging(settings.log_level, secrets=secrets)
        _configured = (settings, Redactor(secrets))
    return _configured


def _request_id(request: flask.Request) -> str:
    trace = request.headers.get("X-Cloud-Trace-Context", "")
    request_id = trace.split("/", 1)[0] if trace else ""
    # The id is echoed in answers and logs: only a trace id's own characters are kept from the caller.
    return request_id[:64] if request_id.isascii() and request_id.isalnum() else uuid.uuid4().hex[:16]


def _json(status: int, body: Any) -> flask.Response:
    response = flask.jsonify(body)
    response.status_code = status
    return response


# Everything imported up to here lives as long as the instance.
collector.freeze_imports()
