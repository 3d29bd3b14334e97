"""The wire side of the emulator: a WSGI app that routes Google's URLs to `SheetsBackend` and shapes answers.

Paths are read raw (REQUEST_URI), as Google does, so that a sheet title holding `/` or `:` survives.
Test controls live under `/_emulator/`, a prefix Google never uses: `reset`, `calls`, `latency`,
`quota`, `errors`, `spreadsheets` (seed one), `accounts` (`{"token", "email"}`: whose access token it
is) and `share` (`{"spreadsheetId", "email", "role"}`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import orjson
from werkzeug.wrappers import Request, Response

from .exceptions import ApiError, bad_request, unauthenticated
from .models import SheetsBackend, apply_fields, parse_fields

_SHEETS = re.compile(r"^/v4/spreadsheets(?:/([^/:]+))?(.*)$")
_DRIVE = re.compile(r"^/drive/v3/files(?:/([^/]+))?$")
#: Where dispatch leaves the kind of API call a request was, for the call log.
_KIND = "sheets_emulator.kind"


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        _dumps(body), status=status, headers=headers, content_type="application/json; charset=UTF-8"
    )


def _dumps(body: Any) -> bytes:
    """Compact UTF-8 JSON. orjson writes a large answer several times faster than json.dumps, and the
    same JSON, but for what it writes otherwise or refuses: NaN and infinities (null to orjson, NaN to
    json), keys that are not strings, integers past 64 bits. Those answers, and any with a null in
    them (rare in answers), are written by json.dumps as before."""
    try:
        data = orjson.dumps(body)
    except TypeError:  # orjson.JSONEncodeError is one
        data = b"null"
    if b"null" in data:
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return data


def _flag(value: str | None) -> bool:
    return (value or "").lower() == "true"


class SheetsApp:
    """WSGI callable. `backend` holds the state; `sleep` is how latency is spent (injectable)."""

    def __init__(self, backend: SheetsBackend, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.backend = backend
        self.sleep = sleep

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        arrived = time.monotonic()
        request = Request(environ)
        try:
            response = self.dispatch(request, environ)
        except ApiError as exc:
            response = _json(exc.body(), exc.code, exc.headers)
        kind = environ.get(_KIND)
        if kind is not None:
            self.backend.controls.record(kind, arrived, time.monotonic(), response.status_code)
        return response(environ, start_response)

    # ------------------------------------------------------------ routing

    def dispatch(self, request: Request, environ: dict[str, Any]) -> Response:
        raw = environ.get("REQUEST_URI") or environ.get("RAW_URI") or quote(environ.get("PATH_INFO", ""))
        path = raw.split("?", 1)[0]
        if "://" in path:  # an absolute URI in the request line
            path = "/" + path.split("://", 1)[1].split("/", 1)[1]
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if path.startswith("/_emulator/"):
            return self.control(request, path[len("/_emulator/") :])
        route = self.route(request.method, path)
        if route is None:
            return _json({"error": {"code": 404, "message": "Not Found", "status": "NOT_FOUND"}}, 404)
        kind, handler = route
        environ[_KIND] = kind  # for the call log
        if not request.headers.get("Authorization") and "key" not in query:
            raise unauthenticated()
        if self.backend.controls.latency:
            self.sleep(self.backend.controls.latency)  # spent on failures too, as a real round trip is
        self.backend.controls.admit(kind)
        self.backend.authorize(kind, _file_id(path), request.headers.get("Authorization"))
        result = handler(request, query)
        if result is None:
            return Response(status=204)
        if "fields" in query and kind.startswith("values."):
            result = apply_fields(result, parse_fields(query["fields"][0]))
        return _json(result)

    def route(
        self, method: str, path: str
    ) -> tuple[str, Callable[[Request, dict[str, list[str]]], Any]] | None:
        m = _DRIVE.match(path)
        if m:
            file_id = unquote(m.group(1)) if m.group(1) else None
            if file_id is None:
                if method == "POST":
                    return "drive.files.create", lambda r, q: self.backend.drive_create(_body(r))
                if method == "GET":
                    return "drive.files.list", lambda r, q: self.backend.drive_list(
                        _one(q, "q"), _one(q, "fields")
                    )
                return None
            if method == "GET":
                return "drive.files.get", lambda r, q: self.backend.drive_get(file_id, _one(q, "fields"))
            if method == "DELETE":
                return "drive.files.delete", lambda r, q: self.backend.drive_delete(file_id)
            return None
        m = _SHEETS.match(path)
        if not m:
            return None
        sid = unquote(m.group(1)) if m.group(1) else None
        rest = m.group(2)
        if sid is None:
            if method == "POST" and rest == "":
                return "spreadsheets.create", lambda r, q: self.backend.create(_body(r))
            return None
        if rest == "" and method == "GET":
            return "spreadsheets.get", lambda r, q: self.backend.spreadsheet_json(
                sid,
                ranges=q.get("ranges"),
                include_grid_data=_flag(_one(q, "includeGridData")),
                fields=_one(q, "fields"),
            )
        if rest == ":batchUpdate" and method == "POST":
            return "spreadsheets.batchUpdate", lambda r, q: self.backend.batch_update(sid, _body(r))
        if rest == "/values:batchGet" and method == "GET":
            return "values.batchGet", lambda r, q: self.backend.values_batch_get(
                sid, q.get("ranges", []), **_render(q)
            )
        if rest == "/values:batchGetByDataFilter" and method == "POST":
            return "values.batchGetByDataFilter", lambda r, q: self.backend.values_batch_get_by_data_filter(
                sid, _body(r)
            )
        if rest == "/values:batchUpdate" and method == "POST":
            return "values.batchUpdate", lambda r, q: self.backend.values_batch_update(sid, _body(r))
        if rest == "/values:batchClear" and method == "POST":
            return "values.batchClear", lambda r, q: self.backend.values_batch_clear(
                sid, _body(r).get("ranges") or []
            )
        if not rest.startswith("/values/"):
            return None
        raw_range = rest[len("/values/") :]
        if method == "POST" and raw_range.endswith(":append"):
            text = unquote(raw_range[: -len(":append")])
            return "values.append", lambda r, q: self.backend.values_append(
                sid,
                text,
                _body(r),
                input_option=_one(q, "valueInputOption"),
                insert_option=_one(q, "insertDataOption"),
                include_values=_flag(_one(q, "includeValuesInResponse")),
            )
        if method == "POST" and raw_range.endswith(":clear"):
            text = unquote(raw_range[: -len(":clear")])
            return "values.clear", lambda r, q: self.backend.values_clear(sid, text)
        text = unquote(raw_range)
        if method == "GET":
            return "values.get", lambda r, q: self.backend.values_get(sid, text, **_render(q))
        if method == "PUT":
            return "values.update", lambda r, q: self.backend.values_update(
                sid,
                text,
                _body(r),
                input_option=_one(q, "valueInputOption"),
                include_values=_flag(_one(q, "includeValuesInResponse")),
                value_option=_one(q, "responseValueRenderOption") or "FORMATTED_VALUE",
                datetime_option=_one(q, "responseDateTimeRenderOption") or "SERIAL_NUMBER",
            )
        return None

    # ------------------------------------------------------------ test controls

    def control(self, request: Request, name: str) -> Response:
        backend = self.backend
        method = request.method
        if name == "reset" and method == "POST":
            backend.reset()
            return _json({})
        if name == "calls":
            if method == "DELETE":
                backend.reset_calls()
            return _json({"calls": backend.calls()})
        if name == "log" and method == "GET":
            return _json({"log": backend.call_log()})
        if name == "latency" and method in ("POST", "PUT"):
            seconds = _body(request).get("seconds", 0)
            try:
                backend.set_latency(float(seconds))
            except (TypeError, ValueError) as exc:
                raise bad_request(f"latency: {exc}") from None
            return _json({"seconds": backend.controls.latency})
        if name == "quota" and method in ("POST", "PUT"):
            body = _body(request)
            backend.set_quota(
                reads_per_minute=body.get("readsPerMinute"),
                writes_per_minute=body.get("writesPerMinute"),
                retry_after=body.get("retryAfter"),
            )
            return _json(body)
        if name == "errors" and method == "POST":
            codes = _body(request).get("codes") or []
            try:
                backend.inject_errors([int(c) for c in codes])
            except (TypeError, ValueError) as exc:
                raise bad_request(f"errors: {exc}") from None
            return _json({"codes": codes})
        if name == "spreadsheets" and method == "POST":
            return _json(seed(backend, _body(request)))
        if name == "accounts" and method == "POST":
            body = _body(request)
            token, email = body.get("token"), body.get("email")
            if not isinstance(token, str) or not isinstance(email, str) or not token or "@" not in email:
                raise bad_request("accounts: give a token and an email")
            backend.sign_in(token, email)
            return _json({"email": email.lower()})
        if name == "share" and method == "POST":
            body = _body(request)
            try:
                backend.share(str(body.get("spreadsheetId")), str(body.get("email")), str(body.get("role")))
            except (KeyError, ValueError) as exc:
                raise bad_request(f"share: {exc}") from None
            return _json(body)
        return _json({"error": {"code": 404, "message": f"No control {name!r}", "status": "NOT_FOUND"}}, 404)


def seed(backend: SheetsBackend, body: dict[str, Any]) -> dict[str, Any]:
    """Create a spreadsheet with content in one step, outside quotas and call counts.

    body: {"title", "locale", "timeZone", "owner", "sheets": [{"title", "rowCount", "columnCount",
    "values", "valueInputOption"}]}; answers as spreadsheets.get does. With an "owner" (an email), only
    that account and those it is shared with may use the spreadsheet.
    """
    sheets = body.get("sheets") or [{}]
    props = [
        {
            "title": s.get("title", f"Sheet{i + 1}"),
            "gridProperties": {
                "rowCount": s.get("rowCount", max(1000, len(s.get("values") or []))),
                "columnCount": s.get("columnCount", max([26, *(len(r) for r in s.get("values") or [])])),
            },
        }
        for i, s in enumerate(sheets)
    ]
    spreadsheet = backend.create_spreadsheet(
        body.get("title", "Untitled spreadsheet"),
        locale=body.get("locale", "en_US"),
        time_zone=body.get("timeZone", "Etc/GMT"),
        sheets=props,
        owner=body.get("owner"),
    )
    for sheet_props, s in zip(props, sheets, strict=True):
        if s.get("values"):
            backend.values_update(
                spreadsheet.id,
                f"'{sheet_props['title'].replace(chr(39), chr(39) * 2)}'!A1",
                {"values": s["values"]},
                input_option=s.get("valueInputOption", "USER_ENTERED"),
            )
    return backend.spreadsheet_json(spreadsheet.id)


def _file_id(path: str) -> str | None:
    """The spreadsheet (or Drive file) a path is about, if any."""
    m = _DRIVE.match(path) or _SHEETS.match(path)
    return unquote(m.group(1)) if m and m.group(1) else None


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _render(query: dict[str, list[str]]) -> dict[str, str]:
    return {
        "value_option": _one(query, "valueRenderOption") or "FORMATTED_VALUE",
        "datetime_option": _one(query, "dateTimeRenderOption") or "SERIAL_NUMBER",
        "major": _one(query, "majorDimension") or "ROWS",
    }


def _body(request: Request) -> dict[str, Any]:
    data = request.get_data()
    if not data:
        return {}
    try:
        body = json.loads(data)
    except ValueError:
        raise bad_request("Invalid JSON payload received. Unexpected token.") from None
    if not isinstance(body, dict):
        raise bad_request("Invalid JSON payload received. Expected an object.")
    return body
