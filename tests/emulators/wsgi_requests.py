"""A `requests` transport adapter that answers from a WSGI app in-process, with no socket.

    session.mount("https://sheets.googleapis.com/", WSGIAdapter(app))

The app sees what a WSGI server would give it: the raw path in REQUEST_URI, PATH_INFO decoded,
the query string, every header as HTTP_*, and the body.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.response import HTTPResponse

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WSGIAdapter(BaseAdapter):
    """Serve every request sent through this adapter from `app`."""

    def __init__(self, app: WSGIApp) -> None:
        super().__init__()
        self.app = app

    def send(  # noqa: PLR0917 - the signature is BaseAdapter.send
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        url = urlsplit(request.url or "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, bytes):
            body = b"".join(body)
        raw_path = url.path or "/"
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method or "GET",
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
            "QUERY_STRING": url.query,
            "REQUEST_URI": raw_path + ("?" + url.query if url.query else ""),
            "RAW_URI": raw_path + ("?" + url.query if url.query else ""),
            "SERVER_NAME": url.hostname or "localhost",
            "SERVER_PORT": str(url.port or (443 if url.scheme == "https" else 80)),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": url.scheme or "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in request.headers.items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key != "CONTENT_LENGTH":
                environ["HTTP_" + key] = value
        environ.setdefault("HTTP_HOST", url.netloc)

        started: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[..., Any]:
            started["status"], started["headers"] = status, headers
            return lambda data: None

        chunks = self.app(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

        code, _, reason = started["status"].partition(" ")
        response = requests.Response()
        response.status_code = int(code)
        response.reason = reason
        response.headers = CaseInsensitiveDict(started["headers"])
        response.raw = HTTPResponse(
            body=io.BytesIO(content), headers=started["headers"], status=int(code), preload_content=False
        )
        response._content = content
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass
