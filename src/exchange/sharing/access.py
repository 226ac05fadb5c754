"""Who may read and write which collection (pure).

The rule table, in full:

============  ===========  ==================  ===========  ============
role          own inbox    country collection  shared       own feedback
============  ===========  ==================  ===========  ============
partner       read, write  -                   as granted   read
analyst       (has none)   own country: read   as granted   (has none)
admin         (has none)   -                   read, write  (has none)
============  ===========  ==================  ===========  ============

Other partners' inboxes and feedback collections are invisible to everyone; only the hub writes
to feedback collections (the sightings analysts report, routed under the partner's agreement).
A collection an account can neither read nor write is, to that account, a collection that does
not exist (the HTTP layer answers 404).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from exchange.store.models import Account, Collection, CollectionKind, Grant, Role

__all__ = ["Access", "access_to"]


@dataclass(frozen=True, slots=True)
class Access:
    """What one account may do with one collection."""

    can_read: bool
    can_write: bool

    @property
    def visible(self) -> bool:
        """Whether the account may know the collection exists."""
        return self.can_read or self.can_write


_NONE = Access(can_read=False, can_write=False)


def access_to(account: Account, collection: Collection, grants: Iterable[Grant]) -> Access:
    """The access ``account`` has to ``collection``, given the account's grants."""
    if not account.active:
        return _NONE
    if collection.kind is CollectionKind.INBOX:
        owns = account.role is Role.PARTNER and collection.owner_account == account.id
        return Access(can_read=owns, can_write=owns)
    if collection.kind is CollectionKind.FEEDBACK:
        owns = account.role is Role.PARTNER and collection.owner_account == account.id
        return Access(can_read=owns, can_write=False)
    if collection.kind is CollectionKind.COUNTRY:
        reads = account.role is Role.ANALYST and account.country == collection.country
        return Access(can_read=reads, can_write=False)
    if account.role is Role.ADMIN:
        return Access(can_read=True, can_write=True)
    for grant in grants:
        if grant.collection_id == collection.id and grant.account_id == account.id:
            return Access(can_read=grant.can_read, can_write=grant.can_write)
    return _NONE
