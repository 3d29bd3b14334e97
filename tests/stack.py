"""The whole product on this machine: both emulators, an ID-token issuer and the function, on 127.0.0.1.

End-to-end tests, the demo and the benchmark use it. The emulators are served from threads of this
process (their state stays inspectable); the function runs under functions-framework, either in a
thread or as a process of its own (so a test can kill it in the middle of a step). The benchmark also
serves the emulators as processes of their own (``SheetsProcess``, ``CallMarkerProcess``), so that
their work shares no interpreter with whatever measures them; it reaches their state over HTTP.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import secrets
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
from google.oauth2.credentials import Credentials
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from callmarker_sheets.sheet import connect
from tests.emulators import callmarker, sheets
from tests.emulators.identity import CERTS_PATH, DEFAULT_EMAIL, TOKENINFO_PATH, TokenIssuer
from tests.emulators.identity import create_app as identity_app

ROOT = Path(__file__).resolve().parent.parent
MAIN = ROOT / "function" / "main.py"
CALLMARKER_TOKEN = "cm-local-token-7f3a9c"
USER_OAUTH_TOKEN = "ya29.local-user-token"
#: The token the tests' own Sheets client uses: its requests are told apart from the function's.
TEST_CLIENT_OAUTH_TOKEN = "ya29.local-test-client-token"
CAMPAIGN = "11"
AGENTS = ("Garret Robel", "Dana Levi")
#: What the CallMarker account behind the demo and the tests holds (tests/rowgen.py's rows use these).
ACCOUNT: dict[str, Any] = {
    "campaigns": {CAMPAIGN: list(AGENTS)},
    "agents": [*AGENTS, "Dana Cohen", "יוסי"],
    "products": [3, 5],
    "not_purchased_reasons": [4],
}


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """One line per request is noise in test and demo output."""


@dataclass
class Served:
    """A WSGI app served on 127.0.0.1 from a daemon thread."""

    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class GoogleRequests:
    """WSGI middleware in front of the Sheets emulator: every request made with the user's token (the
    function's) is held to Google's discovery documents (``tests/discovery.py``) as it passes."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self._authorization = f"Bearer {token}"
        #: (method, path, sorted query names, problems) of each request the function made.
        self.seen: list[tuple[str, str, tuple[str, ...], list[str]]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_AUTHORIZATION") == self._authorization:
            from tests import discovery

            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            raw = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
            if environ.get("QUERY_STRING") and "?" not in raw:
                raw += "?" + environ["QUERY_STRING"]
            path, _, query = raw.partition("?")
            method = environ["REQUEST_METHOD"]
            problems = discovery.check(method, raw, body)
            names = tuple(sorted({pair.split("=", 1)[0] for pair in query.split("&") if pair}))
            with self._lock:
                self.seen.append((method, path, names, problems))
        return self.app(environ, start_response)

    def problems(self) -> list[str]:
        with self._lock:
            return [p for *_, problems in self.seen for p in problems]


def serve(app: Any, name: str) -> Served:
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    return Served(server, thread)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    """Emulators and an issuer, served; ``start_function`` adds the function."""

    callmarker_settings: Mapping[str, Any] = field(default_factory=dict)
    function_env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sheets_app = sheets.create_app()
        self.callmarker_app = callmarker.create_app(
            tokens=[CALLMARKER_TOKEN], **{**ACCOUNT, **self.callmarker_settings}
        )
        self.issuer = TokenIssuer()
        self.google_requests = GoogleRequests(self.sheets_app, USER_OAUTH_TOKEN)
        # The user's Google access token, as Google knows it: whose it is (tokeninfo), and what it opens.
        self.issuer.grant(USER_OAUTH_TOKEN, email=DEFAULT_EMAIL, expires_in=24 * 3600)
        self.sheets_app.backend.sign_in(USER_OAUTH_TOKEN, DEFAULT_EMAIL)
        #: This stack's own cursor-signing key, as each deploy makes one.
        self.cursor_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        self._served = [
            serve(self.google_requests, "sheets-emulator"),
            serve(self.callmarker_app, "callmarker-emulator"),
            serve(identity_app(self.issuer), "identity-emulator"),
        ]
        self.sheets, self.callmarker, self.identity = self._served
        self.function_url: str | None = None
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None
        self._function: Served | None = None
        self._saved_env: dict[str, str | None] = {}
        self.http = httpx.Client(timeout=120.0)

    # ------------------------------------------------------------------------------ the function

    def env(self) -> dict[str, str]:
        """The function's environment, pointed at the emulators."""
        return {
            "CALLMARKER_TOKEN": CALLMARKER_TOKEN,
            "CALLMARKER_BASE_URL": f"{self.callmarker.url}/api/v1",
            "SHEETS_EMULATOR_HOST": self.sheets.host,
            "ID_TOKEN_AUDIENCES": self.issuer.audience,
            "ID_TOKEN_CERTS_URL": f"{self.identity.url}{CERTS_PATH}",
            "TOKENINFO_URL": f"{self.identity.url}{TOKENINFO_PATH}",
            "CURSOR_SIGNING_KEY": self.cursor_key,
            "ALLOWED_EMAILS": DEFAULT_EMAIL,
            "LOG_LEVEL": "WARNING",
            **self.function_env,
        }

    def start_function(
        self, *, process: bool = False, front: Callable[[Any], Any] | None = None, cold_start_s: float = 0.0
    ) -> str:
        """Serve ``upload_rows`` with functions-framework: in a thread, or as its own process.

        ``front`` wraps the function's WSGI app (in a thread only), as Cloud Run's front end stands
        before it (``tests/cloud_run.py``). ``cold_start_s`` (a process only) is how long its process
        waits before starting the server, as a slow container start would.
        """
        if front is not None and process:
            raise ValueError("a front end wraps the function served in a thread")
        if cold_start_s and not process:
            raise ValueError("a cold start is a process's")
        if process:
            port = free_port()
            arguments = [
                "--target",
                "upload_rows",
                "--source",
                str(MAIN),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
            command = [sys.executable, "-m", "functions_framework", *arguments]
            if cold_start_s:
                command = [
                    sys.executable,
                    "-c",
                    f"import runpy, sys, time; time.sleep({cold_start_s!r}); "
                    f"sys.argv = ['functions_framework', *{arguments!r}]; "
                    "runpy.run_module('functions_framework', run_name='__main__', alter_sys=True)",
                ]
            self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - kept open while it runs
            self._process = subprocess.Popen(
                command,
                env={**os.environ, **self.env()},
                cwd=ROOT,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
            self.function_url = f"http://127.0.0.1:{port}/"
            self._wait_for_function()
        else:
            import functions_framework

            from callmarker_sheets.config import get_settings

            for key, value in self.env().items():
                self._saved_env.setdefault(key, os.environ.get(key))
                os.environ[key] = value
            get_settings.cache_clear()
            app = functions_framework.create_app(target="upload_rows", source=str(MAIN))
            self._function = serve(front(app) if front is not None else app, "function")
            self.function_url = f"{self._function.url}/"
        return self.function_url

    @property
    def function_pid(self) -> int | None:
        """The function's process id when it runs as its own process (its memory can be read)."""
        return self._process.pid if self._process is not None else None

    def function_log(self) -> str:
        """What the function's process printed (its JSON logs)."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read()

    def _wait_for_function(self, timeout: float = 30.0) -> None:
        assert self._process is not None
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._process.poll() is not None:
                raise RuntimeError(f"the function exited: {self.function_log()[-2000:]}")
            try:
                self.http.get(self.function_url or "", timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the function did not start in time")

    def kill_function(self) -> None:
        """End the function's process at once, wherever it is (as a crashed instance would)."""
        if self._process is not None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
            self._process = None

    # ------------------------------------------------------------------------------- the sheet

    def sheets_client(self) -> Any:
        """A gspread client on the Sheets emulator, as a user's browser would reach Google."""
        return connect(Credentials(token=TEST_CLIENT_OAUTH_TOKEN), emulator_host=self.sheets.host)

    def new_spreadsheet(
        self,
        rows: Sequence[Sequence[object]],
        *,
        title: str = "Leads",
        locale: str = "iw_IL",
        time_zone: str = "Asia/Jerusalem",
        value_input: str = "USER_ENTERED",
    ) -> tuple[str, int]:
        """A spreadsheet whose first sheet holds ``rows`` typed in as a user would; (id, gid)."""
        spreadsheet = self.sheets_app.backend.create_spreadsheet(title, locale=locale, time_zone=time_zone)
        gc = self.sheets_client()
        sheet = gc.open_by_key(spreadsheet.id).sheet1
        width = max(len(r) for r in rows)
        if sheet.row_count < len(rows) or sheet.col_count < width:
            sheet.resize(rows=max(sheet.row_count, len(rows) + 10), cols=max(sheet.col_count, width + 4))
        sheet.update([list(r) for r in rows], "A1", value_input_option=value_input)
        self.sheets_app.backend.reset_calls()
        return spreadsheet.id, sheet.id

    def read_sheet(self, spreadsheet_id: str, *, render: str = "FORMATTED_VALUE") -> list[list[str]]:
        gc = self.sheets_client()
        values: list[list[str]] = gc.open_by_key(spreadsheet_id).sheet1.get_values(value_render_option=render)
        return values

    # --------------------------------------------------------------------------- calling it

    def id_token(self, **claims: Any) -> str:
        return self.issuer.sign(**claims)

    def call(
        self,
        body: Mapping[str, Any],
        *,
        id_token: str | None = None,
        sheets_token: str = USER_OAUTH_TOKEN,
        for_cloud_run: bool = True,
    ) -> httpx.Response:
        """One POST to the function, as the add-in makes it: the ID token for Cloud Run's invoker check
        (X-Serverless-Authorization) and for the function (Authorization), unless ``for_cloud_run`` is off."""
        assert self.function_url, "start_function() first"
        bearer = f"Bearer {id_token or self.id_token()}"
        headers = {"Authorization": bearer, "X-Sheets-Token": sheets_token}
        if for_cloud_run:
            headers["X-Serverless-Authorization"] = bearer
        return self.http.post(self.function_url, json=dict(body), headers=headers)

    def run_job(self, body: Mapping[str, Any], *, max_steps: int = 1000) -> list[dict[str, Any]]:
        """Call until ``done``, passing each cursor back, as the add-in's loop does; every answer."""
        answers: list[dict[str, Any]] = []
        cursor = None
        for _ in range(max_steps):
            response = self.call({**body, **({"cursor": cursor} if cursor else {})})
            if response.status_code != 200:
                step = len(answers) + 1
                raise RuntimeError(f"step {step} answered {response.status_code}: {response.text}")
            answer = response.json()
            answers.append(answer)
            if answer["done"]:
                return answers
            cursor = answer["cursor"]
        raise RuntimeError(f"the job did not finish in {max_steps} steps")

    # -------------------------------------------------------------------------------- closing

    def close(self) -> None:
        self.kill_function()
        if self._function is not None:
            self._function.close()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if self._saved_env:
            from callmarker_sheets.config import get_settings

            get_settings.cache_clear()
        for served in self._served:
            served.close()
        self.callmarker_app.close()
        self.http.close()


@contextmanager
def local_stack(**kwargs: Any) -> Iterator[Stack]:
    """A stack closed on exit; a job that ran without failing also has every Sheets request the
    function made held to Google's discovery documents."""
    stack = Stack(**kwargs)
    try:
        yield stack
    finally:
        stack.close()
    problems = stack.google_requests.problems()
    assert not problems, "requests that Google's discovery documents do not allow:\n" + "\n".join(problems)


# ---------------------------------------------------------------- the emulators as processes of their own


def stop_process_group(process: subprocess.Popen[Any], *, timeout: float = 10.0) -> None:
    """Stop a process started in a session of its own, and every process of its group: politely
    (SIGTERM), then at once after ``timeout``. Returns once none of them is left."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)  # a child (gunicorn's worker) may outlive its parent by a moment


class EmulatorProcess:
    """An emulator served by ``python -m tests.emulators.<name>`` as a process of its own, on 127.0.0.1.

    It shares no interpreter (no GIL) with its caller; its state is seeded and inspected over HTTP,
    through its control endpoints. What it prints goes to a temporary file (``output()``).
    """

    def __init__(self, name: str, *arguments: str, timeout: float = 30.0) -> None:
        self.name = name
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - kept open while it runs
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"tests.emulators.{name}", "--port", "0", *arguments],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._output,
            start_new_session=True,
        )
        self.url = self._served_at(timeout)
        self.http = httpx.Client(base_url=self.url, timeout=300.0)

    def _served_at(self, timeout: float) -> str:
        """The URL from the line the emulator prints once it serves (``... on http://127.0.0.1:N...``)."""
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline().decode() if ready else ""
        found = re.search(r"http://[^/\s]+", line)
        if found is None:
            self.close()
            raise RuntimeError(f"the {self.name} emulator did not start: {line!r} {self.output()[-2000:]}")
        return found.group(0)

    @property
    def host(self) -> str:
        return self.url.removeprefix("http://")

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        """What the emulator wrote to its standard error (werkzeug's request lines, tracebacks)."""
        self._output.seek(0)
        return self._output.read().decode(errors="replace")

    def close(self) -> None:
        stop_process_group(self.process)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._output.close()
        if hasattr(self, "http"):
            self.http.close()

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, path, json=body)
        response.raise_for_status()
        return response.json()


class SheetsProcess(EmulatorProcess):
    """The Sheets emulator in a process of its own; its ``/_emulator/`` controls as methods."""

    def __init__(self, *, timeout: float = 30.0) -> None:
        super().__init__("sheets", timeout=timeout)

    def seed(
        self,
        values: Sequence[Sequence[object]],
        *,
        columns: int,
        rows: int | None = None,
        title: str = "Leads",
        locale: str = "iw_IL",
        time_zone: str = "Asia/Jerusalem",
    ) -> tuple[str, int]:
        """A spreadsheet whose first sheet holds ``values`` typed in as a user would (USER_ENTERED),
        outside quotas, latency and call counts; (id, gid)."""
        sheet = {
            "title": "Sheet1",
            "rowCount": rows if rows is not None else len(values) + 10,
            "columnCount": columns,
            "values": [list(row) for row in values],
            "valueInputOption": "USER_ENTERED",
        }
        body = {"title": title, "locale": locale, "timeZone": time_zone, "sheets": [sheet]}
        answer = self._json("POST", "/_emulator/spreadsheets", body)
        return str(answer["spreadsheetId"]), int(answer["sheets"][0]["properties"]["sheetId"])

    def set_latency(self, seconds: float) -> None:
        self._json("POST", "/_emulator/latency", {"seconds": seconds})

    def calls(self) -> dict[str, int]:
        return dict(self._json("GET", "/_emulator/calls")["calls"])

    def call_log(self) -> list[dict[str, Any]]:
        """Each API call since the last reset: kind, arrived, answered (``time.monotonic()``), status."""
        return list(self._json("GET", "/_emulator/log")["log"])

    def reset_calls(self) -> None:
        self._json("DELETE", "/_emulator/calls")

    def values(self, spreadsheet_id: str, a1_range: str) -> list[list[str]]:
        """The formatted values of a range, read as the tests' own client (an API call, counted)."""
        response = self.http.get(
            f"/v4/spreadsheets/{spreadsheet_id}/values/{a1_range}",
            headers={"Authorization": f"Bearer {TEST_CLIENT_OAUTH_TOKEN}"},
        )
        response.raise_for_status()
        return list(response.json().get("values", []))


class CallMarkerProcess(EmulatorProcess):
    """The CallMarker emulator in a process of its own, holding ``ACCOUNT`` and ``settings`` (the
    settings of ``create_app``); its ``/_control/`` endpoints as methods."""

    def __init__(self, *, timeout: float = 30.0, **settings: Any) -> None:
        arguments = ["--token", CALLMARKER_TOKEN, "--settings", json.dumps({**ACCOUNT, **settings})]
        super().__init__("callmarker", *arguments, timeout=timeout)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v1"

    def configure(self, **settings: Any) -> None:
        """Change fault settings (latency, latency_per_customer, rates...) as ``configure`` does."""
        self._json("POST", "/_control/faults", settings)

    def requests(self) -> list[dict[str, Any]]:
        """Every request received since the last clear, with its body (the token redacted), status,
        fault, and when it arrived and was answered (``time.monotonic()``)."""
        return list(self._json("GET", "/_control/requests")["requests"])

    def clear_requests(self) -> None:
        self._json("DELETE", "/_control/requests")

    def state(self) -> dict[str, Any]:
        """The account: its customers, campaigns, agents... (``/_control/state``)."""
        return dict(self._json("GET", "/_control/state"))


def env_for_processes(stack: Stack, sheets: SheetsProcess, callmarker: CallMarkerProcess) -> dict[str, str]:
    """The environment of a function served beside ``stack`` but pointed at emulator processes."""
    return {**stack.env(), "CALLMARKER_BASE_URL": callmarker.api_url, "SHEETS_EMULATOR_HOST": sheets.host}
