"""Partners that sign: onboarded through a running hub's admin API under an agreement that
requires signatures, with a freshly generated Ed25519 key registered for them."""

from __future__ import annotations

from dataclasses import dataclass

from exchange.signing.keys import PrivateKey, generate_private_key, public_key_info
from tests.support.onboarding import pass_through_terms
from tests.support.server import Credential, HubProcess

__all__ = ["Signer", "onboard_signer"]


@dataclass(frozen=True)
class Signer:
    """A partner with its registered signing key."""

    credential: Credential
    private: PrivateKey
    key_id: str
    countries: tuple[str, ...]


def onboard_signer(hub: HubProcess, username: str, countries: tuple[str, ...]) -> Signer:
    """A vetted, active partner whose agreement (to ``countries``) requires signatures, with a
    freshly generated key registered through the admin API."""
    credential = hub.onboard_partner(
        username, countries, pass_through_terms(countries, signatures_required=True)
    )
    private = generate_private_key()
    info = public_key_info(private.public_key())
    registered = hub._admin_call(
        "POST", f"/admin/partners/{username}/keys", "admin", {"public_key": info.pem()}
    )
    assert registered["key_id"] == info.key_id
    return Signer(credential, private, info.key_id, countries)
