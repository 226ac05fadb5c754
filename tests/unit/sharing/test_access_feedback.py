"""The access rule for feedback collections (pure): the owning partner reads, nobody writes,
everyone else does not see it (not even admins, as with inboxes)."""

from __future__ import annotations

import uuid

import pytest

from exchange.sharing.access import access_to
from exchange.store.models import Account, Collection, CollectionKind, Grant, Role


def _account(role: Role, *, country: str | None = None, active: bool = True) -> Account:
    return Account(str(uuid.uuid4()), "u", role, "u", country, "c" * 16, "h", active, "t")


OWNER = _account(Role.PARTNER)
FEEDBACK = Collection(1, str(uuid.uuid4()), CollectionKind.FEEDBACK, "t", "", OWNER.id, None, "t")


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        (OWNER, (True, False)),
        (_account(Role.PARTNER), (False, False)),
        (_account(Role.ANALYST, country="FR"), (False, False)),
        (_account(Role.ADMIN), (False, False)),
        (_account(Role.PARTNER, active=False), (False, False)),
    ],
)
def test_only_the_owner_reads_and_nobody_writes(
    account: Account, expected: tuple[bool, bool]
) -> None:
    access = access_to(account, FEEDBACK, [])
    assert (access.can_read, access.can_write) == expected


def test_a_disabled_owner_loses_access() -> None:
    disabled = Account(OWNER.id, "u", Role.PARTNER, "u", None, "c" * 16, "h", False, "t")
    assert not access_to(disabled, FEEDBACK, []).visible


def test_grants_do_not_open_a_feedback_collection() -> None:
    analyst = _account(Role.ANALYST, country="FR")
    grant = Grant(FEEDBACK.id, analyst.id, can_read=True, can_write=True)
    assert not access_to(analyst, FEEDBACK, [grant]).visible
    owner_grant = Grant(FEEDBACK.id, OWNER.id, can_read=True, can_write=True)
    access = access_to(OWNER, FEEDBACK, [owner_grant])
    assert (access.can_read, access.can_write) == (True, False)
