"""The one table from hub errors to HTTP: every error is a TAXII error message (TAXII 2.1 3.6.1).

Nothing from an exception but its client-safe ``detail`` reaches the client; an unexpected error
becomes a generic 500 body with a request id, and its details go to the log only.
"""

from __future__ import annotations

import logging
import uuid

import orjson
from starlette.requests import Request
from starlette.responses import Response

from exchange import errors
from exchange.accounts.throttle import Throttled
from exchange.taxii.media import TAXII_21

__all__ = ["STATUS_BY_ERROR", "error_response", "handle_exchange_error", "handle_unexpected"]

log = logging.getLogger("exchange.http")

STATUS_BY_ERROR: dict[type[errors.ExchangeError], int] = {
    errors.InvalidRequest: 400,
    errors.InvalidEnvelope: 400,
    errors.AuthenticationFailed: 401,
    errors.NotAllowed: 403,
    errors.NotFound: 404,
    errors.NotAcceptable: 406,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.QuotaExceeded: 429,
    Throttled: 429,
}

_AUTHENTICATE = 'Basic realm="exchange", charset="UTF-8", Bearer realm="exchange"'


def error_response(
    status: int, title: str, description: str, *, retry_after: int | None = None
) -> Response:
    """A TAXII error message with the given HTTP status (and ``Retry-After``, RFC 9110 10.2.3)."""
    body = {"title": title, "description": description, "http_status": str(status)}
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = _AUTHENTICATE
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(
        orjson.dumps(body), status_code=status, media_type=TAXII_21, headers=headers or None
    )


def _status_for(error: errors.ExchangeError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[kind]
    return 500


async def handle_exchange_error(request: Request, exc: Exception) -> Response:
    """Map a hub error to its TAXII error body."""
    assert isinstance(exc, errors.ExchangeError)
    status = _status_for(exc)
    if status == 500:
        return await handle_unexpected(request, exc)
    retry_after = exc.retry_after if isinstance(exc, Throttled) else None
    return error_response(status, exc.title, exc.detail, retry_after=retry_after)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """A generic 500: the client gets a request id, the log gets the details."""
    request_id = str(uuid.uuid4())
    log.error(
        "unexpected error %s on %s %s",
        request_id,
        request.method,
        request.url.path,
        exc_info=exc,
    )
    return error_response(
        500, "Internal error", f"the hub could not complete the request (request id {request_id})"
    )
