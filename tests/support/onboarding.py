"""Bringing a test partner to the point where it may submit: due diligence approved by two
admins, active, and an agreement. The default terms pass objects through unchanged (no
default TLP marking added, victim data redacted only where there is any) so that tests about
TAXII itself see their objects as sent; agreement tests give their own terms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exchange.partners.vetting import Criterion, Finding
from exchange.sharing.accounts import IssuedAccount
from exchange.sharing.service import Hub
from exchange.store.models import Role

FIRST_ADMIN = "vetting-admin-1"
SECOND_ADMIN = "vetting-admin-2"


def pass_through_terms(countries: Sequence[str], **overrides: Any) -> dict[str, Any]:
    terms: dict[str, Any] = {
        "valid_from": "2020-01-01T00:00:00Z",
        "legal_basis": "Test agreement",
        "purpose": "Testing the hub",
        "categories": ["threat", "attack", "victim"],
        "victim_data": "redact",
        "tlp": {"default": None, "highest_accepted": "red", "never_redistribute": ["red"]},
        "recipients": {"countries": list(countries)},
        # TAXII tests post unsigned; signing has its own tests (test_keys_*, test_signed_push).
        "signatures_required": False,
    }
    terms.update(overrides)
    return terms


def ensure_admins(hub: Hub) -> tuple[str, str]:
    existing = {account.username for account in hub.accounts()}
    for name in (FIRST_ADMIN, SECOND_ADMIN):
        if name not in existing:
            hub.create_account(Role.ADMIN, name)
    return FIRST_ADMIN, SECOND_ADMIN


def vet(hub: Hub, username: str) -> None:
    first, second = ensure_admins(hub)
    hub.open_review(username, admin=first)
    for criterion in Criterion:
        hub.assess(username, criterion, Finding.MET, "test evidence", admin=first)
    hub.approve_review(username, admin=first)
    hub.approve_review(username, admin=second)
    hub.activate_partner(username, admin=first)


def onboard(hub: Hub, username: str, countries: Sequence[str], **terms: Any) -> IssuedAccount:
    """A new partner, vetted and active, under pass-through terms for ``countries``."""
    issued = hub.create_account(Role.PARTNER, username)
    vet(hub, username)
    hub.set_agreement(username, pass_through_terms(countries, **terms), admin=FIRST_ADMIN)
    return issued
