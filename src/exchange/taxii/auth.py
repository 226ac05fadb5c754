"""Reading credentials from the ``Authorization`` header: HTTP Basic (RFC 7617) or Bearer.

Every attempt goes through the node's throttle (``exchange.accounts.throttle``): a locked-out
credential id or client address is refused with 429 before any lookup or hash, failed attempts
are counted, and an authenticated credential spends one request of its per-minute budget.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Annotated

from fastapi import Depends, Request

from exchange.accounts.throttle import Throttle, client_key, token_digest
from exchange.accounts.tokens import parse_token
from exchange.errors import AuthenticationFailed
from exchange.sharing.service import Hub
from exchange.store.models import Account

__all__ = ["CurrentAccount", "HubDep", "current_account", "get_hub"]

log = logging.getLogger("exchange.auth")

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
        return _authenticate(request, hub, value, None)
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationFailed("malformed Basic credentials") from None
        username, sep, password = decoded.partition(":")
        if not sep:
            raise AuthenticationFailed("malformed Basic credentials")
        return _authenticate(request, hub, password, username)
    raise AuthenticationFailed("use the Basic or Bearer authentication scheme")


def _authenticate(request: Request, hub: Hub, token: str, username: str | None) -> Account:
    """``hub.authenticate`` behind the node's throttle (when the app has one)."""
    throttle: Throttle | None = getattr(request.app.state, "throttle", None)
    credential_id = parse_token(token)
    if throttle is None or credential_id is None:
        # A malformed token costs nothing to refuse and is not counted.
        return hub.authenticate(token, username=username)
    address = client_key(request.client.host if request.client else None)
    digest = token_digest(token)
    throttle.check_attempt(credential_id, address, digest)
    known_wrong = throttle.known_wrong(digest)
    if known_wrong is not None:
        # This exact secret already failed against this stored hash: refuse it again without
        # another scrypt and without counting it twice (a client stuck on a stale token).
        account = _account_by_credential(hub, credential_id)
        if account is None or account.token_hash == known_wrong:
            raise AuthenticationFailed("the credentials are not valid")
    try:
        account = hub.authenticate(token, username=username)
    except AuthenticationFailed:
        _count_failure(hub, throttle, credential_id, address, digest, username)
        raise
    throttle.admit(credential_id, digest)
    return account


def _account_by_credential(hub: Hub, credential_id: str) -> Account | None:
    # The hub's authenticate() says only "refused"; telling a wrong secret (which cost a
    # scrypt) from an unknown id, a disabled account or a wrong user name takes one more read,
    # made only after a refusal.
    return hub.account_by_credential(credential_id)


def _count_failure(
    hub: Hub,
    throttle: Throttle,
    credential_id: str,
    address: str,
    digest: bytes,
    username: str | None,
) -> None:
    """Count a refusal that was a guess: an unknown credential id or a wrong secret.

    A disabled account or a user name that does not match the token cost no hash and are not
    guesses; they are refused (401) without counting.
    """
    account = _account_by_credential(hub, credential_id)
    if account is None:
        started = throttle.unknown_credential(digest, address)
    elif not account.active or (username is not None and username != account.username):
        throttle.forget(digest)
        return
    else:
        started = throttle.wrong_secret(digest, account.token_hash, credential_id, address)
    for lockout in started:
        # The credential id is public (it names the account, the secret is never logged); a
        # client address is personal data and is logged only as a per-process pseudonym.
        name = lockout.key if lockout.scope == "credential" else throttle.pseudonym(lockout.key)
        log.warning(
            "authentication: %s %s locked out for %d s after repeated failed attempts",
            lockout.scope,
            name,
            lockout.seconds,
        )


CurrentAccount = Annotated[Account, Depends(current_account)]
