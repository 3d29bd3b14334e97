"""The CallMarker emulator's HTTP face: POST /api/v1/customers and the /_control/ endpoints (WSGI).

It parses requests, applies faults and shapes answers; the rules live in models.py.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import BadRequest as HTTPBadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from tests.emulators.callmarker.dialects import Dialect
from tests.emulators.callmarker.faults import BEFORE_APPLY, SETTING_NAMES, Faults
from tests.emulators.callmarker.models import (
    BadRequest,
    CallMarkerBackend,
    CustomerErrors,
    InvalidToken,
    count_customers,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

SEED_KEYS = frozenset(
    {"tokens", "campaigns", "agents", "products", "not_purchased_reasons", "customers", "refused_numbers"}
)
#: Settings of how answers are shaped, beside the fault settings.
ANSWER_SETTINGS = frozenset({"error_status", "answers"})
REDACTED = "<redacted>"
BAD_GATEWAY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
#: A page a misconfigured server or a captive portal answers with 200.
MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>CallMarker</title></head><body>We'll be back soon.</body></html>"
)

#: Set by the in-process transport for each request: set() when the caller gave up, so that latency
#: and hangs stop sleeping for nobody.
cancel_event: ContextVar[threading.Event | None] = ContextVar("callmarker_emulator_cancel", default=None)
#: When the request being answered arrived (``time.monotonic()``, the machine's clock), for the log.
_arrived: ContextVar[float | None] = ContextVar("callmarker_emulator_arrived", default=None)


class DroppedConnection(ConnectionAbortedError):
    """The emulator hung up without answering. A served app has already shut the socket when this is
    raised (werkzeug then treats the connection as dropped); in-process, the transport turns it into
    ``httpx.RemoteProtocolError``."""


class CallMarkerEmulator:
    """A WSGI app with its own state: ``backend`` (the account), ``faults`` and ``requests`` (the log)."""

    def __init__(self, **settings: Any) -> None:
        unknown = sorted(set(settings) - SEED_KEYS - SETTING_NAMES - ANSWER_SETTINGS)
        if unknown:
            raise TypeError(f"unknown CallMarker emulator setting: {unknown[0]}")
        self._initial = dict(settings)
        self.backend = CallMarkerBackend()
        self.faults = Faults()
        self._requests: list[dict[str, Any]] = []
        self._requests_lock = threading.Lock()
        self._closing = threading.Event()
        self.error_status = 200
        self.dialect = Dialect()
        self._url_map = Map(
            [
                Rule("/api/v1/customers", endpoint="customers", methods=["POST"]),
                Rule("/_control/reset", endpoint="reset", methods=["POST"]),
                Rule("/_control/seed", endpoint="seed", methods=["POST"]),
                Rule("/_control/state", endpoint="state", methods=["GET"]),
                Rule("/_control/requests", endpoint="requests", methods=["GET", "DELETE"]),
                Rule("/_control/faults", endpoint="faults", methods=["GET", "POST", "DELETE"]),
            ]
        )
        self.reset()

    # --- The same controls as /_control/, for in-process callers -------------------------------------

    def reset(self) -> None:
        """Back to the state ``create_app`` made: its settings, no customers, no faults beyond its own."""
        self.backend.reset()
        self.backend.seed(**{k: v for k, v in self._initial.items() if k in SEED_KEYS})
        self.faults.reset()
        self.dialect, self.error_status = Dialect(), 200
        self.configure(**{k: v for k, v in self._initial.items() if k not in SEED_KEYS})
        self.clear_requests()

    def configure(self, **settings: Any) -> None:
        """Change fault settings (see faults.FaultSettings), ``error_status`` and ``answers`` (the
        settings of a dialects.Dialect; null for the documented shape)."""
        dialect = self.dialect
        if "answers" in settings:
            dialect = Dialect.from_settings(settings.pop("answers"))
        status = self.error_status
        if "error_status" in settings:
            status = settings.pop("error_status")
            if not isinstance(status, int) or not 200 <= status <= 599:
                raise ValueError("error_status must be an HTTP status code")
        self.faults.configure(**settings)
        self.dialect, self.error_status = dialect, status
        self.backend.customer_errors = dialect.backend_errors

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._requests_lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._requests_lock:
            self._requests.clear()

    def close(self) -> None:
        """Wake every sleeping request (latency, hangs), e.g. when a test ends."""
        self._closing.set()

    # --- WSGI ---------------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, _ = self._url_map.bind_to_environ(environ).match()
            response = getattr(self, f"_on_{endpoint}")(request)
        except DroppedConnection:
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                with contextlib.suppress(OSError):  # the client may have gone already
                    sock.shutdown(socket.SHUT_RDWR)
            raise
        except HTTPException as exc:
            response = _json({"success": False, "message": exc.description}, exc.code or 500)
        return response(environ, start_response)

    def _on_customers(self, request: Request) -> Response:
        _arrived.set(time.monotonic())
        try:
            body = json.loads(request.get_data())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            answer = _json({"success": False, "message": "the body must be a JSON object"}, self.error_status)
            return self._logged(body, answer, None)
        customers = count_customers(body)
        try:
            self.backend.check_token(body)
        except InvalidToken as exc:
            return self._logged(body, _json({"success": False, "message": exc.message}, 401), None)

        settings = self.faults.settings
        self._sleep(settings.latency + settings.latency_per_customer * customers)
        if settings.max_batch is not None and customers > settings.max_batch:
            message = f"too many customers in one request: {customers} (at most {settings.max_batch})"
            return self._logged(body, _json({"success": False, "message": message}, 413), None)

        fault = self.faults.draw()
        if fault in BEFORE_APPLY:
            return self._logged(body, _fault_answer(fault, settings.retry_after), fault)
        dialect = self.dialect
        try:
            result = self.backend.upload(body)
        except InvalidToken as exc:  # the token was removed meanwhile
            answer = _json({"success": False, "message": exc.message}, 401)
        except CustomerErrors as exc:
            answer = _json(dialect.refusal(exc.message, exc.errors), self.error_status)
        except BadRequest as exc:
            answer = _json(dialect.refusal(exc.message), self.error_status)
        else:
            answer = _json(dialect.success_answer(result), 200)

        if fault == "drop":
            self._log(body, None, fault)
            raise DroppedConnection("the emulator dropped the connection")
        if fault == "hang":
            self._log(body, answer.status_code, fault)
            self._sleep(settings.hang_seconds)
            return answer
        if fault is not None:
            answer = _fault_answer(fault, settings.retry_after, answer)
        return self._logged(body, answer, fault)

    def _on_reset(self, request: Request) -> Response:
        self.reset()
        return _json({"success": True}, 200)

    def _on_seed(self, request: Request) -> Response:
        settings = _json_body(request)
        unknown = sorted(set(settings) - SEED_KEYS)
        if unknown:
            return _json({"success": False, "message": f"unknown seed key: {unknown[0]}"}, 400)
        try:
            self.backend.seed(**settings)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            return _json({"success": False, "message": f"seed not understood: {exc}"}, 400)
        return _json({"success": True}, 200)

    def _on_state(self, request: Request) -> Response:
        return _json(self.backend.state(), 200)

    def _on_requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.clear_requests()
            return _json({"success": True}, 200)
        requests = self.requests
        return _json({"requests": requests, "count": len(requests)}, 200)

    def _on_faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.faults.reset()
        elif request.method == "POST":
            try:
                self.configure(**_json_body(request))
            except (TypeError, ValueError) as exc:
                return _json({"success": False, "message": str(exc)}, 400)
        snapshot = {**self.faults.snapshot(), "error_status": self.error_status}
        return _json({**snapshot, "answers": self.dialect.snapshot()}, 200)

    # --- Helpers -------------------------------------------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            # never called with the backend's lock held: a slow request must not stall the others
            (cancel_event.get() or self._closing).wait(seconds)

    def _logged(self, body: Any, answer: Response, fault: str | None) -> Response:
        self._log(body, answer.status_code, fault)
        return answer

    def _log(self, body: Any, status: int | None, fault: str | None) -> None:
        if isinstance(body, dict) and "token" in body:
            body = {**body, "token": REDACTED}
        answered = time.monotonic()
        entry = {
            "body": body,
            "status": status,
            "fault": fault,
            "customers": count_customers(body),
            "arrived": _arrived.get() or answered,
            "answered": answered,
        }
        with self._requests_lock:
            self._requests.append(entry)


def _json(data: Any, status: int) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json")


def _json_body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(request.get_data() or b"{}")
    except ValueError:
        raise HTTPBadRequest("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise HTTPBadRequest("the body must be a JSON object")
    return data


def _fault_answer(fault: str, retry_after: float | None, applied: Response | None = None) -> Response:
    if fault == "429":
        answer = _json({"success": False, "message": "Too many requests, slow down"}, 429)
        if retry_after is not None:
            answer.headers["Retry-After"] = f"{retry_after:g}"
        return answer
    if fault == "503":
        return _json({"success": False, "message": "Service temporarily unavailable"}, 503)
    if fault == "500":
        return _json({"success": False, "message": "Internal server error"}, 500)
    if fault == "502_html":
        return Response(BAD_GATEWAY_PAGE, status=502, mimetype="text/html")
    if fault == "malformed":
        assert applied is not None
        text = applied.get_data()
        return Response(text[: len(text) // 2], status=200, mimetype="application/json")
    if fault == "html_200":
        return Response(MAINTENANCE_PAGE, status=200, mimetype="text/html")
    if fault == "empty_200":
        return Response(b"", status=200, mimetype="application/json")
    raise AssertionError(f"no answer for fault {fault}")
