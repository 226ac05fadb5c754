"""The store's part for recalls: where a partner's redistribution of an object went, and
dropping what of it still waits for an embargo. Mixed into the store's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exchange.store.codec import decode_body
from exchange.store.models import CollectionKind, Delivery
from exchange.store.sql import COLLECTION_COLUMNS, PARTNER_SUBMISSIONS, Db, collection_from_row

__all__ = ["RecallWrites"]


class RecallWrites:
    """Writes of the recall part, inside a store transaction."""

    _db: Db

    def deliveries(self, partner_account: str, stix_id: str) -> list[Delivery]:
        """For each country collection where the partner's submissions placed ``stix_id``, the
        newest version placed there, in collection order."""
        columns = ", ".join(f"c.{column}" for column in COLLECTION_COLUMNS.split(", "))
        rows = self._db.execute(
            f"SELECT {columns}, o.version, o.spec_version, o.body FROM placements p "
            "JOIN objects o ON o.pk = p.object_pk "
            "JOIN audience_members am ON am.audience_pk = p.audience_pk "
            "JOIN collections c ON c.pk = am.collection_pk "
            f"WHERE o.stix_id = ? AND c.kind = ? AND p.submission_pk IN ({PARTNER_SUBMISSIONS}) "
            "ORDER BY c.pk, o.version",
            (stix_id, CollectionKind.COUNTRY.value, partner_account),
        ).fetchall()
        newest: dict[int, Any] = {}
        for row in rows:  # ordered by collection, then version: the last row of each is the newest
            newest[int(row[0])] = row
        return [
            Delivery(
                collection_from_row(row[:8]), int(row[8]), str(row[9]), decode_body(bytes(row[10]))
            )
            for row in newest.values()
        ]

    def drop_held(self, partner_account: str, stix_id: str) -> int:
        rows = self._db.execute(
            "SELECT e.pk, e.object_pk FROM embargoed e JOIN objects o ON o.pk = e.object_pk "
            f"WHERE o.stix_id = ? AND e.submission_pk IN ({PARTNER_SUBMISSIONS})",
            (stix_id, partner_account),
        ).fetchall()
        self._db.executemany("DELETE FROM embargoed WHERE pk = ?", [(row[0],) for row in rows])
        self._collect_orphans([int(row[1]) for row in rows])
        return len(rows)

    def _collect_orphans(self, object_pks: Sequence[int]) -> None:
        raise NotImplementedError
