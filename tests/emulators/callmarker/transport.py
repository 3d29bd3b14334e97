"""httpx transports that reach the emulator in-process, the way a network would.

The emulator's dropped connection surfaces as ``httpx.RemoteProtocolError``; the async transport runs
the app in a worker thread, so latency and hangs leave the event loop free and requests truly overlap.
"""

from __future__ import annotations

import asyncio
import threading

import httpx

from tests.emulators.callmarker.app import CallMarkerEmulator, DroppedConnection, cancel_event


class EmulatorTransport(httpx.BaseTransport):
    """``httpx.WSGITransport`` to the emulator, with its dropped connections made network-like."""

    def __init__(self, app: CallMarkerEmulator) -> None:
        self._wsgi = httpx.WSGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self._wsgi.handle_request(request)
            content = response.read()
        except DroppedConnection as exc:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from exc
        return httpx.Response(response.status_code, headers=response.headers, content=content)


class AsyncEmulatorTransport(httpx.AsyncBaseTransport):
    """The emulator for ``httpx.AsyncClient``: each request in its own worker thread.

    When the caller cancels (a timeout around the request), the emulator's sleeps end early; the
    request itself still completes in the background, as it would on a real server.
    """

    def __init__(self, app: CallMarkerEmulator) -> None:
        self._sync = EmulatorTransport(app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        plain = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        cancelled = threading.Event()
        reset = cancel_event.set(cancelled)
        try:
            # to_thread copies this context, so the worker sees this request's event
            response = await asyncio.to_thread(self._sync.handle_request, plain)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        finally:
            cancel_event.reset(reset)
        response.request = request
        return response
