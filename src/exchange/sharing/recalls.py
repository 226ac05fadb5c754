"""Recalls: a partner takes back an object it contributed, in every country that received it.

A recall happens when a partner sends a version with ``revoked: true`` or deletes the object
from its inbox (TAXII DELETE). Each country collection that received the object under the
partner's submissions gets a revoking version of what it received: the same object as that
country saw it (after the agreement's transforms), with ``revoked: true`` and a newer
``modified``. So a TAXII client's next pull shows the object revoked, and exports, which leave
revoked objects out, stop listing it. What still waited for an embargo is dropped. The audit
log records the recall and the countries that had received the object.

A country where another partner also delivered the same object receives the revocation too: a
revocation speaks for the object, and only the contributor who shared it may take it back.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

import orjson

from exchange.sharing.audit import AuditLog
from exchange.stix.objects import ObjectVersion, check_object
from exchange.stix.timestamps import format_version
from exchange.store.models import Account, Collection, Submission
from exchange.store.protocol import Transaction

__all__ = ["Recall", "Recalls", "revoking_version"]


@dataclass(frozen=True, slots=True)
class Recall:
    """What one recall did."""

    stix_id: str
    countries: tuple[str, ...]  # where a revoking version was placed now
    already_revoked: tuple[str, ...]  # where the object was revoked before
    held_dropped: int  # redistribution still waiting for an embargo, dropped


def revoking_version(delivered: bytes, at_least: int) -> ObjectVersion | None:
    """The delivered object with ``revoked: true`` and a newer ``modified`` (``at_least`` µs,
    or just after the delivered version); None for objects that cannot be revoked (no
    ``modified``, such as cyber-observables) or that are revoked already."""
    obj = orjson.loads(delivered)
    if not isinstance(obj, dict) or "modified" not in obj or obj.get("revoked") is True:
        return None
    checked = check_object(obj)
    if not isinstance(checked, ObjectVersion):
        return None
    obj["revoked"] = True
    obj["modified"] = format_version(max(at_least, checked.version + 1))
    revoked = check_object(obj)
    return revoked if isinstance(revoked, ObjectVersion) else None


class Recalls(AuditLog):
    """Taking an object back from every country collection it reached."""

    def _recall_submission(self, tx: Transaction, account: Account, stix_id: str) -> int:
        """A submission row for a recall made by deleting (the revoking versions' placements
        belong to it, so retention and narrowing treat them like the partner's others)."""
        agreement = self._store.current_agreement(account.id)
        return tx.add_submission(
            Submission(
                partner_account=account.id,
                agreement_id=agreement.agreement_id if agreement else "none",
                agreement_version=agreement.version if agreement else 0,
                status_id=f"recall-{uuid.uuid4()}",
                received_at=self._now_us(),
                accepted=0,
                refused=0,
            )
        )

    def _recall(
        self,
        tx: Transaction,
        account: Account,
        stix_id: str,
        *,
        at_least: int,
        submission_pk: int,
        how: str,
    ) -> Recall:
        """Place revoking versions in every country collection that received ``stix_id`` from
        this partner, drop what of it is held, and record the recall in the audit log."""
        groups: dict[bytes, list[Collection]] = defaultdict(list)
        revoked_before: list[str] = []
        for delivery in tx.deliveries(account.id, stix_id):
            if orjson.loads(delivery.body).get("revoked") is True:
                revoked_before.append(delivery.collection.country or "")
            else:
                groups[delivery.body].append(delivery.collection)
        reached: list[str] = []
        for body, collections in groups.items():
            revoked = revoking_version(body, at_least)
            if revoked is None:
                continue
            tx.place(collections, [revoked], target=None, submission_pk=submission_pk)
            reached.extend(c.country or "" for c in collections)
        recall = Recall(
            stix_id,
            tuple(sorted(reached)),
            tuple(sorted(revoked_before)),
            tx.drop_held(account.id, stix_id),
        )
        self._audit(
            tx,
            "recall",
            account.username,
            f"object:{stix_id}",
            {
                "partner": account.id,
                "object": stix_id,
                "how": how,
                "revoked_in": list(recall.countries),
                "already_revoked_in": list(recall.already_revoked),
                "held_dropped": recall.held_dropped,
            },
            account.id,
        )
        return recall
