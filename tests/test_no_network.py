"""The tests' guard against the network (``tests/conftest.py``): Google is out of reach, loopback is not."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.conftest import NetworkRefused


def test_a_google_host_is_refused_by_name_before_any_packet_leaves() -> None:
    with pytest.raises((NetworkRefused, httpx.ConnectError), match=r"oauth2\.googleapis\.com"):
        httpx.get("https://oauth2.googleapis.com/tokeninfo", timeout=2)


def test_an_outside_address_is_refused() -> None:
    with socket.socket() as sock, pytest.raises(NetworkRefused, match=r"8\.8\.8\.8"):
        sock.connect(("8.8.8.8", 443))


def test_the_loopback_stays_open() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
