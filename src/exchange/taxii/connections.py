"""Bounding slow and idle clients at the HTTP connection, for ``exchange serve``.

uvicorn closes a keep-alive connection that stays idle after a response (``timeout_keep_alive``)
but waits for ever on a connection that never sends a request, on headers that trickle in a byte
at a time, and on a body that never ends. :class:`GuardedHttpProtocol` (uvicorn's httptools
protocol with timers) bounds each of them:

- from the moment a connection opens, or a response on it ends, the client has
  ``header_timeout`` seconds to complete the next request's headers, and at most
  ``max_header_bytes`` for them (431 beyond);
- once the headers are in, it has ``body_timeout`` seconds to send the whole body.

When a bound is passed the client gets a TAXII error message (408, RFC 9110 section 15.5.9;
nothing when it had sent nothing at all) and the connection is closed. Each connection waits on
the event loop, so slow clients never hold a worker; what they could hold is a connection slot
(``limit_concurrency``), and the timers give it back.

The bounds travel in the server's :class:`GuardedConfig`, which selects the protocol too: with
several server processes uvicorn pickles the Config for each of them, so the bounds must be
data on it rather than a class made at run time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Final

import orjson
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from exchange.taxii.media import TAXII_21

__all__ = ["ConnectionLimits", "GuardedConfig", "GuardedHttpProtocol"]

_REASONS: Final = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class ConnectionLimits:
    """The bounds one server applies to every connection (seconds, bytes)."""

    def __init__(self, *, header_timeout: float, body_timeout: float, max_header_bytes: int):
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.max_header_bytes = max_header_bytes


def _error_bytes(status: int, title: str, description: str) -> bytes:
    body = orjson.dumps({"title": title, "description": description, "http_status": str(status)})
    head = (
        b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
        % (status, _REASONS[status], TAXII_21.encode("ascii"), len(body))
    )
    return head + body


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline, a body deadline and a header size
    bound (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not isinstance(config, GuardedConfig):
            raise TypeError("GuardedHttpProtocol needs a GuardedConfig, which carries its limits")
        self.limits = config.connection_limits
        super().__init__(config, server_state, app_state, _loop)
        self._deadline: asyncio.TimerHandle | None = None
        self._awaiting_headers = True
        self._in_message = False
        self._header_bytes = 0

    # Timers ----------------------------------------------------------------------------------
    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport is None or self.transport.is_closing():
            return
        if self._awaiting_headers:
            if self._header_bytes:
                self._refuse(408, "Request timeout", "the request headers came too slowly")
            else:
                self.transport.close()  # an idle connection: nothing to answer
            return
        if self.cycle is not None and not self.cycle.response_started:
            self._refuse(408, "Request timeout", "the request body came too slowly")
        else:
            self.transport.close()

    def _refuse(self, status: int, title: str, description: str) -> None:
        self.transport.write(_error_bytes(status, title, description))
        self.transport.close()

    # Connection and parser callbacks ---------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._awaiting_headers and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > self.limits.max_header_bytes:
                self._disarm()
                limit = self.limits.max_header_bytes
                self._refuse(
                    431,
                    "Request header fields too large",
                    f"the request line and headers are larger than {limit} bytes",
                )

    def on_message_begin(self) -> None:
        self._in_message = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._header_bytes = 0
        self._arm(self.limits.body_timeout)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_message = False
        if self.cycle is not None and self.cycle.response_complete:
            self._await_headers()  # answered early (413, 415): the rest of the body is read
        else:
            self._disarm()  # the application has the request; no client deadline meanwhile
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self._in_message:
            # Waiting for the next request on this connection (uvicorn's keep-alive timer runs
            # too; the shorter one closes an idle connection).
            self._await_headers()

    def _await_headers(self) -> None:
        if self.transport.is_closing():
            return
        self._awaiting_headers = True
        self._header_bytes = 0
        self._arm(self.limits.header_timeout)


class GuardedConfig(Config):
    """uvicorn's Config for a server whose connections :class:`GuardedHttpProtocol` bounds.

    It selects that protocol and carries its ``connection_limits``; every attribute pickles, as
    uvicorn needs when it hands the Config to worker processes.
    """

    def __init__(
        self,
        app: Callable[..., Any] | str,
        *,
        connection_limits: ConnectionLimits,
        **options: Any,
    ) -> None:
        super().__init__(app, http=GuardedHttpProtocol, **options)
        self.connection_limits = connection_limits
