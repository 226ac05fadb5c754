"""The hub's error hierarchy.

One root, :class:`ExchangeError`, and leaves named by meaning. Errors carry a short title and a
detail that is safe to show to the client who caused them; they carry no HTTP status: the HTTP
layer maps them in one table (``exchange.taxii.errors``). This module imports nothing of the
project, so every layer may raise these.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationFailed",
    "ConfigError",
    "Conflict",
    "ExchangeError",
    "InvalidEnvelope",
    "InvalidRequest",
    "NotAcceptable",
    "NotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "QuotaExceeded",
    "StoreError",
    "UnsupportedMediaType",
]


class ExchangeError(Exception):
    """Root of every error the hub raises on purpose."""

    title = "Exchange error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title

    def diagnostics(self) -> str:
        """A human explanation, for command-line output and logs."""
        return f"{self.title}: {self.detail}"


class AuthenticationFailed(ExchangeError):
    """No credential, or one that does not match an active account."""

    title = "Authentication required"


class NotAllowed(ExchangeError):
    """The caller is known, may see the resource, but may not do this to it."""

    title = "Not allowed"


class NotFound(ExchangeError):
    """The resource does not exist, or the caller may not know that it exists."""

    title = "Not found"


class InvalidRequest(ExchangeError):
    """A parameter, header or cursor the hub cannot act on."""

    title = "Invalid request"


class InvalidEnvelope(ExchangeError):
    """A request body that is not a TAXII envelope (or STIX bundle) at all."""

    title = "Invalid envelope"


class PayloadTooLarge(ExchangeError):
    """A request body over the configured limit."""

    title = "Payload too large"


class QuotaExceeded(ExchangeError):
    """The caller has used up a quota (objects per day, say)."""

    title = "Quota exceeded"


class UnsupportedMediaType(ExchangeError):
    """A request body in a media type the endpoint does not take."""

    title = "Unsupported media type"


class NotAcceptable(ExchangeError):
    """The client accepts no media type the endpoint can answer in."""

    title = "Not acceptable"


class Conflict(ExchangeError):
    """The request contradicts what is already stored (a name already taken, say)."""

    title = "Conflict"


class ConfigError(ExchangeError):
    """Settings or files in ``config/`` that the hub cannot use."""

    title = "Configuration error"


class StoreError(ExchangeError):
    """The store is missing, not initialised, or at a schema version this code does not know."""

    title = "Store error"
