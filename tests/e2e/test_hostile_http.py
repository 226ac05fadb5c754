"""Slow and idle clients against a real ``exchange serve``, over raw sockets on 127.0.0.1.

A client that opens connections and sends nothing, sends its headers a byte at a time, sends
oversized headers or trickles its body must not keep a normal client from being served, and the
server closes its connection within a bounded time (``EXCHANGE_HEADER_TIMEOUT_SECONDS``,
``EXCHANGE_BODY_TIMEOUT_SECONDS``, ``EXCHANGE_KEEP_ALIVE_SECONDS``,
``EXCHANGE_MAX_HEADER_BYTES``; short here so the tests are quick).
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.server import HubProcess, start_hub

HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 3.0
KEEP_ALIVE = 2
MAX_HEADER_BYTES = 8192
SLACK = 2.5  # seconds the server may take beyond a bound (timers, a loaded machine)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    process = start_hub(
        tmp_path_factory.mktemp("hostile-http"),
        extra_env={
            "EXCHANGE_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
            "EXCHANGE_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
            "EXCHANGE_KEEP_ALIVE_SECONDS": str(KEEP_ALIVE),
            "EXCHANGE_MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
        },
    )
    try:
        yield process
    finally:
        process.stop()


def connect(hub: HubProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", hub.port), timeout=30)
    sock.settimeout(30)
    return sock


def read_until_closed(sock: socket.socket, limit: float = 30) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and when it closed it."""
    received = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        received += chunk
    return received, time.monotonic()


def served_quickly(hub: HubProcess) -> None:
    """A normal client gets its answer at once."""
    started = time.monotonic()
    analyst = hub.accounts["analyst-fr"]
    response = requests.get(
        hub.discovery,
        auth=analyst.auth,
        headers={"Accept": "application/taxii+json;version=2.1"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert time.monotonic() - started < 2


def taxii_error(received: bytes, status: int) -> dict[str, object]:
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), received[:300]
    assert b"application/taxii+json;version=2.1" in head
    assert b"connection: close" in head.lower()
    error = json.loads(body)
    assert error["http_status"] == str(status), error
    assert error["title"], error
    return dict(error)


def test_an_idle_connection_is_closed_and_does_not_block_others(guarded: HubProcess) -> None:
    with connect(guarded) as sock:
        opened = time.monotonic()
        served_quickly(guarded)
        received, closed = read_until_closed(sock)
        assert received == b""  # nothing was asked, nothing is answered
        assert HEADER_TIMEOUT - 0.5 <= closed - opened <= HEADER_TIMEOUT + SLACK


def test_headers_sent_a_byte_at_a_time_get_a_408(guarded: HubProcess) -> None:
    with connect(guarded) as sock:
        opened = time.monotonic()
        request = b"GET /taxii2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
        sent = 0
        sock.settimeout(0.3)
        try:
            for byte in request:
                sock.sendall(bytes([byte]))
                sent += 1
                if time.monotonic() - opened > HEADER_TIMEOUT + SLACK:
                    break
                time.sleep(0.1)
                if sent == 20:
                    served_quickly(guarded)
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.settimeout(30)
        received, closed = read_until_closed(sock)
        assert sent < len(request)  # the server did not wait for the whole trickle
        error = taxii_error(received, 408)
        assert "headers" in str(error["description"])
        assert closed - opened <= HEADER_TIMEOUT + SLACK


def test_oversized_headers_get_a_431(guarded: HubProcess) -> None:
    with connect(guarded) as sock:
        request = b"GET /taxii2/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        request += b"".join(b"X-Pad-%d: %s\r\n" % (n, b"p" * 1000) for n in range(20))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        received, _ = read_until_closed(sock, limit=10)
        taxii_error(received, 431)
        served_quickly(guarded)


def _post_head(hub: HubProcess, length: int) -> bytes:
    partner = hub.accounts["demo-partner-a"]
    assert partner.inbox is not None
    credentials = base64.b64encode(f"{partner.username}:{partner.token}".encode()).decode()
    return (
        f"POST /hub/collections/{partner.inbox}/objects/ HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{hub.port}\r\n"
        f"Authorization: Basic {credentials}\r\n"
        "Accept: application/taxii+json;version=2.1\r\n"
        "Content-Type: application/taxii+json;version=2.1\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def test_a_body_slower_than_a_trickle_gets_a_408(guarded: HubProcess) -> None:
    with connect(guarded) as sock:
        sock.sendall(_post_head(guarded, 10_000))
        headers_in = time.monotonic()
        sent = 0
        sock.settimeout(0.3)
        try:
            while time.monotonic() - headers_in < BODY_TIMEOUT + SLACK:
                sock.sendall(b" " * 10)
                sent += 10
                if sent == 50:
                    served_quickly(guarded)
                time.sleep(0.25)
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.settimeout(30)
        received, closed = read_until_closed(sock)
        assert sent < 10_000
        error = taxii_error(received, 408)
        assert "body" in str(error["description"])
        assert BODY_TIMEOUT - 0.5 <= closed - headers_in <= BODY_TIMEOUT + SLACK + 0.5


def test_many_idle_connections_do_not_block_a_normal_client(guarded: HubProcess) -> None:
    opened = time.monotonic()
    idle = [connect(guarded) for _ in range(100)]
    half = [connect(guarded) for _ in range(20)]
    for sock in half:
        sock.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\n")  # headers never finished
    try:
        for _ in range(5):
            served_quickly(guarded)
        for sock in idle + half:
            _, closed = read_until_closed(sock)
            assert closed - opened <= HEADER_TIMEOUT + SLACK + 1
    finally:
        for sock in idle + half:
            sock.close()
    served_quickly(guarded)


def test_an_idle_keep_alive_connection_is_closed(guarded: HubProcess) -> None:
    with connect(guarded) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = b""
        while b"\r\n\r\n" not in first:
            first += sock.recv(65536)
        answered = time.monotonic()
        assert first.startswith(b"HTTP/1.1 ")
        _, closed = read_until_closed(sock)
        assert closed - answered <= max(KEEP_ALIVE, HEADER_TIMEOUT) + SLACK


def test_the_bounds_are_settings(tmp_path: Path) -> None:
    from exchange.settings import Settings

    defaults = Settings(data_dir=tmp_path)
    assert defaults.header_timeout_seconds == 10
    assert defaults.body_timeout_seconds == 120
    assert defaults.keep_alive_seconds == 5
    assert defaults.max_header_bytes == 64 * 1024
    assert defaults.max_connections == 1000
    for name in ("header_timeout_seconds", "body_timeout_seconds", "max_header_bytes"):
        assert Settings.model_fields[name].description
