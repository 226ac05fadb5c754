"""The store's part for recalls: where a partner's redistribution of an object went, and
dropping what of it still waits for an embargo. Mixed into the store and its transaction."""

from __future__ import annotations

from collections.abc import Sequence

from exchange.store.codec import decode_body
from exchange.store.models import CollectionKind, Delivery
from exchange.store.sql import COLLECTION_COLUMNS, Db, collection_from_row

__all__ = ["RecallReads", "RecallWrites", "deliveries"]

_PARTNER_SUBMISSIONS = "SELECT pk FROM submissions WHERE partner_account = ?"


def deliveries(db: Db, partner_account: str, stix_id: str) -> list[Delivery]:
    """For each country collection where the partner's submissions placed ``stix_id``, the
    newest version placed there, in collection order."""
    columns = ", ".join(f"c.{column}" for column in COLLECTION_COLUMNS.split(", "))
    rows = db.execute(
        f"SELECT {columns}, o.version, o.spec_version, o.body FROM placements p "
        "JOIN objects o ON o.pk = p.object_pk "
        "JOIN audience_members am ON am.audience_pk = p.audience_pk "
        "JOIN collections c ON c.pk = am.collection_pk "
        f"WHERE o.stix_id = ? AND c.kind = ? AND p.submission_pk IN ({_PARTNER_SUBMISSIONS}) "
        "ORDER BY c.pk, o.version",
        (stix_id, CollectionKind.COUNTRY.value, partner_account),
    ).fetchall()
    newest: dict[int, Delivery] = {}
    for row in rows:  # ordered by version: the last one per collection is the newest
        collection = collection_from_row(row[:8])
        newest[collection.pk] = Delivery(collection, int(row[8]), str(row[9]), bytes(row[10]))
    return [
        Delivery(d.collection, d.version, d.spec_version, decode_body(d.body))
        for d in newest.values()
    ]


class RecallWrites:
    """Writes of the recall part, inside a store transaction."""

    _db: Db

    def deliveries(self, partner_account: str, stix_id: str) -> list[Delivery]:
        return deliveries(self._db, partner_account, stix_id)

    def drop_held(self, partner_account: str, stix_id: str) -> int:
        rows = self._db.execute(
            "SELECT e.pk, e.object_pk FROM embargoed e JOIN objects o ON o.pk = e.object_pk "
            f"WHERE o.stix_id = ? AND e.submission_pk IN ({_PARTNER_SUBMISSIONS})",
            (stix_id, partner_account),
        ).fetchall()
        self._db.executemany("DELETE FROM embargoed WHERE pk = ?", [(row[0],) for row in rows])
        self._collect_orphans([int(row[1]) for row in rows])
        return len(rows)

    def _collect_orphans(self, object_pks: Sequence[int]) -> None:
        raise NotImplementedError


class RecallReads:
    """Reads of the recall part."""

    def _connection(self) -> Db:
        raise NotImplementedError

    def deliveries(self, partner_account: str, stix_id: str) -> list[Delivery]:
        return deliveries(self._connection(), partner_account, stix_id)
