"""Partners' feedback collections: one per partner, made with its inbox or on first use.

A feedback collection holds the sightings police analysts reported about the partner's objects,
as the hub routed them under the partner's agreement. Only the partner reads it; nobody writes
to it directly (``exchange.sharing.access``). Its id is derived from the partner's account id,
so making it is idempotent, also when two hub nodes make it at once.
"""

from __future__ import annotations

import uuid

from exchange.errors import Conflict
from exchange.sharing.base import HubBase
from exchange.store.models import Account, Collection, CollectionKind, Role

__all__ = ["FeedbackCollections", "feedback_collection_id"]

_NAMESPACE = uuid.UUID("3b0f6c52-8d4e-4a57-9f0e-1c2d7a9b6e43")


def feedback_collection_id(account_id: str) -> str:
    """The id of a partner's feedback collection (a name-based UUID of the account id)."""
    return str(uuid.uuid5(_NAMESPACE, f"feedback:{account_id}"))


class FeedbackCollections(HubBase):
    """Making partners' feedback collections."""

    def ensure_feedback_collection(self, account: Account) -> Collection:
        """The partner's feedback collection, made now if it has none."""
        collection_id = feedback_collection_id(account.id)
        found = self._store.collection(collection_id)
        if found is not None:
            return found
        try:
            return self._store.add_collection(
                collection_id=collection_id,
                kind=CollectionKind.FEEDBACK,
                title=f"Feedback for {account.display_name}",
                description="Sightings police analysts reported about this partner's objects "
                "(seen, or false positive), with member countries named or withheld as the "
                "sharing agreement says. Read-only.",
                owner_account=account.id,
            )
        except Conflict:  # made meanwhile by another request or node
            found = self._store.collection(collection_id)
            if found is None:
                raise
            return found

    def ensure_feedback_collections(self) -> int:
        """Give every partner that lacks one its feedback collection; return how many were
        made (partners created before feedback existed get theirs here)."""
        made = 0
        for account in self._store.accounts():
            if account.role is not Role.PARTNER:
                continue
            if self._store.collection(feedback_collection_id(account.id)) is None:
                self.ensure_feedback_collection(account)
                made += 1
        return made
