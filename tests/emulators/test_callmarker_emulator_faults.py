"""The CallMarker emulator's faults, its transports and its served mode behave as a flaky network would."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.emulators.callmarker import create_app
from tests.emulators.callmarker.app import CallMarkerEmulator
from tests.emulators.callmarker.transport import AsyncEmulatorTransport, EmulatorTransport

TOKEN = "cm-secret-token-7f3a"
BASE = "http://callmarker.test"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app() -> Iterator[CallMarkerEmulator]:
    app = create_app(tokens=[TOKEN], campaigns={"11": ["Garret Robel"]})
    yield app
    app.close()


@pytest.fixture
def client(app: CallMarkerEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=EmulatorTransport(app), base_url=BASE) as client:
        yield client


def body(*numbers: str, **options: Any) -> dict[str, Any]:
    return {"token": TOKEN, **options, "customers": [{"number": n} for n in numbers]}


def numbers(client: httpx.Client) -> list[str]:
    return sorted(client.get("/_control/state").json()["customers"])


def set_faults(client: httpx.Client, **settings: Any) -> httpx.Response:
    return client.post("/_control/faults", json=settings)


def log(client: httpx.Client) -> list[tuple[int | None, str | None]]:
    return [(r["status"], r["fault"]) for r in client.get("/_control/requests").json()["requests"]]


CREATED_ONE = {
    "success": True,
    "message": "There are 1 new customers were created, 0 were restored and 0 were not valid.",
}


# --- Scripted faults -----------------------------------------------------------------------------------


def test_429_and_503_answer_before_anything_is_applied(client: httpx.Client) -> None:
    assert set_faults(client, next=["429", "503"], retry_after=3).status_code == 200
    limited = client.post("/api/v1/customers", json=body("0547000000"))
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "3"
    assert limited.json()["success"] is False
    unavailable = client.post("/api/v1/customers", json=body("0547000000"))
    assert unavailable.status_code == 503
    assert unavailable.json()["success"] is False
    assert numbers(client) == []
    assert client.post("/api/v1/customers", json=body("0547000000")).json() == CREATED_ONE
    assert log(client) == [(429, "429"), (503, "503"), (200, None)]


def test_429_without_retry_after(client: httpx.Client) -> None:
    set_faults(client, next=["429"], retry_after=None)
    limited = client.post("/api/v1/customers", json=body("0547000000"))
    assert limited.status_code == 429
    assert "retry-after" not in limited.headers


def test_500_happens_after_the_customers_were_applied(client: httpx.Client) -> None:
    set_faults(client, next=["500"])
    failed = client.post("/api/v1/customers", json=body("0547000000"))
    assert failed.status_code == 500
    assert failed.json()["success"] is False
    assert numbers(client) == ["0547000000"]
    # the client's retry finds the customer there: nothing is created twice
    again = client.post("/api/v1/customers", json=body("0547000000"))
    assert again.json()["message"].startswith("There are 0 new customers were created")


def test_502_is_a_proxy_html_page_after_applying(client: httpx.Client) -> None:
    set_faults(client, next=["502_html"])
    page = client.post("/api/v1/customers", json=body("0547000000"))
    assert page.status_code == 502
    assert page.headers["content-type"].startswith("text/html")
    assert "<html>" in page.text
    assert "502 Bad Gateway" in page.text
    assert numbers(client) == ["0547000000"]


def test_malformed_is_a_truncated_200_after_applying(client: httpx.Client) -> None:
    set_faults(client, next=["malformed"])
    broken = client.post("/api/v1/customers", json=body("0547000000"))
    assert broken.status_code == 200
    assert broken.headers["content-type"].startswith("application/json")
    assert broken.text
    with pytest.raises(json.JSONDecodeError):
        broken.json()
    assert numbers(client) == ["0547000000"]


def test_drop_is_a_remote_protocol_error_after_applying(client: httpx.Client) -> None:
    set_faults(client, next=["drop"])
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/api/v1/customers", json=body("0547000000"))
    assert numbers(client) == ["0547000000"]
    assert log(client) == [(None, "drop")]


def test_hang_applies_then_answers_once_it_has_slept(client: httpx.Client) -> None:
    set_faults(client, next=["hang"], hang_seconds=0.05)
    answer = client.post("/api/v1/customers", json=body("0547000000"))
    assert answer.json() == CREATED_ONE
    assert log(client) == [(200, "hang")]


def test_the_script_is_followed_in_order_then_answers_are_normal(client: httpx.Client) -> None:
    set_faults(client, next=["ok", "500", "502", "ok"])
    statuses = [client.post("/api/v1/customers", json=body(f"054700000{i}")).status_code for i in range(5)]
    assert statuses == [200, 500, 502, 200, 200]
    assert numbers(client) == [f"054700000{i}" for i in range(5)]


def test_max_batch_answers_413_without_applying_or_using_the_script(client: httpx.Client) -> None:
    set_faults(client, max_batch=2, next=["429"])
    too_big = client.post("/api/v1/customers", json=body("0547000000", "0547000001", "0547000002"))
    assert too_big.status_code == 413
    assert too_big.json() == {
        "success": False,
        "message": "too many customers in one request: 3 (at most 2)",
    }
    assert numbers(client) == []
    assert client.post("/api/v1/customers", json=body("0547000000", "0547000001")).status_code == 429
    assert client.post("/api/v1/customers", json=body("0547000000", "0547000001")).status_code == 200


def test_a_bad_token_is_answered_before_any_fault(client: httpx.Client) -> None:
    set_faults(client, next=["500"])
    wrong = client.post("/api/v1/customers", json={"token": "wrong", "customers": [{"number": "0547000000"}]})
    assert wrong.status_code == 401
    assert client.post("/api/v1/customers", json=body("0547000000")).status_code == 500


# --- Random faults -------------------------------------------------------------------------------------


def test_random_faults_follow_the_seed(client: httpx.Client) -> None:
    def run() -> list[int]:
        client.post("/_control/reset")
        set_faults(client, rate_429=0.3, rate_500=0.2, rate_drop=0.1, seed=7)
        statuses = []
        for i in range(40):
            try:
                statuses.append(client.post("/api/v1/customers", json=body(f"05470000{i:02d}")).status_code)
            except httpx.RemoteProtocolError:
                statuses.append(0)
        return statuses

    first = run()
    assert set(first) == {0, 200, 429, 500}
    assert run() == first
    # every customer not refused by a 429 was applied, whatever the answer said
    assert len(numbers(client)) == 40 - first.count(429)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"rate_429": 0.7, "rate_500": 0.7}, "the fault rates add up to more than 1"),
        ({"rate_hang": 2}, "rate_hang must be between 0 and 1"),
        ({"latency": -1}, "latency must not be negative"),
        ({"next": ["timeout"]}, "unknown fault 'timeout' in next"),
        ({"rate_504": 0.1}, "unknown fault setting: rate_504"),
        ({"max_batch": 0}, "max_batch must be at least 1 (or null for no limit)"),
        ({"error_status": "bad"}, "error_status must be an HTTP status code"),
    ],
)
def test_bad_fault_settings_are_refused(client: httpx.Client, settings: dict[str, Any], message: str) -> None:
    response = set_faults(client, **settings)
    assert response.status_code == 400
    assert response.json()["message"].startswith(message)


def test_fault_settings_merge_can_be_read_back_and_cleared(client: httpx.Client) -> None:
    set_faults(client, rate_429=0.1, retry_after=2)
    shown = set_faults(client, next=["drop"], error_status=422).json()
    assert (shown["rate_429"], shown["retry_after"], shown["next"], shown["error_status"]) == (
        0.1,
        2,
        ["drop"],
        422,
    )
    cleared = client.delete("/_control/faults").json()
    assert (cleared["rate_429"], cleared["next"]) == (0.0, [])
    assert client.post("/api/v1/customers", json=body("0547000000")).status_code == 200


def test_create_app_takes_fault_settings() -> None:
    app = create_app(tokens=[TOKEN], next=["503"], error_status=400)
    with httpx.Client(transport=EmulatorTransport(app), base_url=BASE) as client:
        assert client.post("/api/v1/customers", json=body("0547000000")).status_code == 503
        assert client.post("/api/v1/customers", json=body("0547000000")).status_code == 200
        assert client.post("/api/v1/customers", json={"token": TOKEN, "customers": []}).status_code == 400


# --- The async transport -------------------------------------------------------------------------------


def test_async_transport_answers_and_turns_a_drop_into_a_remote_protocol_error(
    app: CallMarkerEmulator,
) -> None:
    app.configure(next=["ok", "drop"])

    async def main() -> tuple[httpx.Response, BaseException | None]:
        async with httpx.AsyncClient(transport=AsyncEmulatorTransport(app), base_url=BASE) as client:
            ok = await client.post("/api/v1/customers", json=body("0547000000"))
            try:
                await client.post("/api/v1/customers", json=body("0547000001"))
            except httpx.RemoteProtocolError as exc:
                return ok, exc
            return ok, None

    ok, dropped = asyncio.run(main())
    assert ok.json() == CREATED_ONE
    assert isinstance(dropped, httpx.RemoteProtocolError)
    assert sorted(app.backend.state()["customers"]) == ["0547000000", "0547000001"]


def test_a_hanging_request_does_not_block_the_others(app: CallMarkerEmulator) -> None:
    app.configure(next=["hang"], hang_seconds=120)

    async def main() -> tuple[bool, dict[str, Any]]:
        async with httpx.AsyncClient(transport=AsyncEmulatorTransport(app), base_url=BASE) as client:
            hanging = asyncio.create_task(client.post("/api/v1/customers", json=body("0547000000")))
            while not app.requests:  # the hanging request has been applied and is now asleep
                await asyncio.sleep(0.01)
            quick = await client.post("/api/v1/customers", json=body("0547000001"))
            still_hanging = not hanging.done()
            hanging.cancel()
            with pytest.raises(asyncio.CancelledError):
                await hanging
            return still_hanging, quick.json()

    assert run_bounded(main) == (True, CREATED_ONE)


def test_a_timeout_around_a_hang_ends_the_hang(app: CallMarkerEmulator) -> None:
    # If cancelling did not wake the worker thread, asyncio.run would wait the whole 120 s for it
    # when it shuts its executor down, and run_bounded would report that.
    app.configure(next=["hang"], hang_seconds=120)

    async def main() -> bool:
        async with httpx.AsyncClient(transport=AsyncEmulatorTransport(app), base_url=BASE) as client:
            try:
                await asyncio.wait_for(client.post("/api/v1/customers", json=body("0547000000")), 0.1)
            except TimeoutError:
                return True
            return False

    assert run_bounded(main) is True
    assert list(app.backend.state()["customers"]) == ["0547000000"]  # applied before it hung


def test_latency_is_slept_outside_the_lock_and_grows_with_the_batch(app: CallMarkerEmulator) -> None:
    app.configure(latency_per_customer=0.5)  # 200 customers: 100 s; one customer: half a second

    async def main() -> tuple[bool, dict[str, Any]]:
        async with httpx.AsyncClient(transport=AsyncEmulatorTransport(app), base_url=BASE) as client:
            big = body(*(f"05471{i:05d}" for i in range(200)))
            slow = asyncio.create_task(client.post("/api/v1/customers", json=big))
            quick = await client.post("/api/v1/customers", json=body("0547000000"))
            slow_pending = not slow.done()
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            return slow_pending, quick.json()

    assert run_bounded(main) == (True, CREATED_ONE)


def test_concurrent_requests_are_applied_atomically(app: CallMarkerEmulator) -> None:
    # 20 requests of 50 numbers each, overlapping: every number is created exactly once overall.
    batches = [[f"05470{(i * 25 + j):05d}" for j in range(50)] for i in range(20)]
    app.configure(latency=0.01)

    async def main() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=AsyncEmulatorTransport(app), base_url=BASE) as client:
            return await asyncio.gather(*(client.post("/api/v1/customers", json=body(*b)) for b in batches))

    answers = run_bounded(main)
    created = [int(a.json()["message"].split()[2]) for a in answers]
    unique = {n for b in batches for n in b}
    assert sum(created) == len(unique) == len(app.backend.state()["customers"])


def run_bounded(main: Any) -> Any:
    """Run ``asyncio.run(main())`` in a thread and fail, rather than wait, if it never finishes."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(main())
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the event loop was still waiting for the emulator"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# --- Served mode ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served() -> Iterator[str]:
    port = free_port()
    settings = json.dumps({"campaigns": {"11": ["Garret Robel"]}})
    command = [sys.executable, "-m", "tests.emulators.callmarker", "--port", str(port)]
    command += ["--token", TOKEN, "--settings", settings]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'function'}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready.strip() == f"CallMarker emulator ready on http://127.0.0.1:{port}/api/v1"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_served_mode_answers_on_localhost(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as client:
        sent = body("054-700-0000", campaign="11", agent_name="Garret Robel")
        assert client.post("/api/v1/customers", json=sent).json() == CREATED_ONE
        assert numbers(client) == ["0547000000"]
        assert client.post("/api/v1/customers", json={"token": "x", "customers": []}).status_code == 401


def test_served_mode_really_drops_the_connection(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as client:
        set_faults(client, next=["drop", "429"])
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/api/v1/customers", json=body("0547000000"))
        assert client.post("/api/v1/customers", json=body("0547000001")).status_code == 429
        assert numbers(client) == ["0547000000"]
        assert log(client) == [(None, "drop"), (429, "429")]
