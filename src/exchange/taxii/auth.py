"""Reading credentials from the ``Authorization`` header: HTTP Basic (RFC 7617) or Bearer."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Depends, Request

from exchange.errors import AuthenticationFailed
from exchange.sharing.service import Hub
from exchange.store.models import Account

__all__ = ["CurrentAccount", "HubDep", "current_account", "get_hub"]

_MAX_HEADER = 1024


def get_hub(request: Request) -> Hub:
    """The hub service the app was built with."""
    hub: Hub = request.app.state.hub
    return hub


HubDep = Annotated[Hub, Depends(get_hub)]


def current_account(request: Request, hub: HubDep) -> Account:
    """The authenticated account, or ``AuthenticationFailed`` (401)."""
    header = request.headers.get("authorization")
    if not header:
        raise AuthenticationFailed("send the account's token as HTTP Basic password or Bearer")
    if len(header) > _MAX_HEADER:
        raise AuthenticationFailed("the Authorization header is too long")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer":
        return hub.authenticate(value)
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationFailed("malformed Basic credentials") from None
        username, sep, password = decoded.partition(":")
        if not sep:
            raise AuthenticationFailed("malformed Basic credentials")
        return hub.authenticate(password, username=username)
    raise AuthenticationFailed("use the Basic or Bearer authentication scheme")


CurrentAccount = Annotated[Account, Depends(current_account)]
