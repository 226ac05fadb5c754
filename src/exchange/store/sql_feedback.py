"""The store's part for feedback: which partners delivered an object to a collection, and the
sightings routed back to them, with their counts per object. Mixed into the store and its
transaction.

Who delivered an object to a country collection is known from the placements that made it
visible there (each carries the submission, and so the partner, that made it) and from the
co-deliveries of partners that sent the same version to a country that already held it.
"""

from __future__ import annotations

from typing import Any

from exchange.store.feedback_models import FeedbackSighting, FeedbackSummary
from exchange.store.models import Collection
from exchange.store.sql import Db

__all__ = ["FeedbackReads", "FeedbackWrites"]

_SIGHTING_COLUMNS = (
    "partner_account, sighting_id, object_id, version, false_positive, sighted_count, "
    "sighted_at, reported_at"
)


class FeedbackWrites:
    """Writes of the feedback part, inside a store transaction."""

    _db: Db

    def record_sighting(self, sighting: FeedbackSighting) -> None:
        # A newer version of a sighting replaces the older in the counts; an older one is ignored.
        self._db.execute(
            f"INSERT INTO feedback_sightings ({_SIGHTING_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (partner_account, sighting_id) DO UPDATE SET "
            "object_id = excluded.object_id, version = excluded.version, "
            "false_positive = excluded.false_positive, sighted_count = excluded.sighted_count, "
            "sighted_at = excluded.sighted_at, reported_at = excluded.reported_at "
            "WHERE feedback_sightings.version < excluded.version",
            (
                sighting.partner_account,
                sighting.sighting_id,
                sighting.object_id,
                sighting.version,
                sighting.false_positive,
                sighting.count,
                sighting.sighted_at,
                sighting.reported_at,
            ),
        )


class FeedbackReads:
    """Reads of the feedback part."""

    def _connection(self) -> Db:
        raise NotImplementedError

    def contributors_of(self, stix_id: str, collection: Collection) -> list[str]:
        # Placements whose audience includes the collection, and co-deliveries to it.
        rows = (
            self._connection()
            .execute(
                "SELECT s.partner_account FROM objects o "
                "JOIN placements p ON p.object_pk = o.pk "
                "JOIN audience_members am ON am.audience_pk = p.audience_pk "
                "JOIN submissions s ON s.pk = p.submission_pk "
                "WHERE o.stix_id = ? AND am.collection_pk = ? "
                "UNION "
                "SELECT s.partner_account FROM objects o "
                "JOIN co_deliveries d ON d.object_pk = o.pk "
                "JOIN submissions s ON s.pk = d.submission_pk "
                "WHERE o.stix_id = ? AND d.collection_pk = ? "
                "ORDER BY 1",
                (stix_id, collection.pk, stix_id, collection.pk),
            )
            .fetchall()
        )
        return [str(row[0]) for row in rows]

    def feedback_summary(
        self, partner_account: str, *, after: str | None = None, limit: int = 1000
    ) -> list[FeedbackSummary]:
        where = "partner_account = ?"
        params: list[Any] = [partner_account]
        if after is not None:
            where += " AND object_id > ?"
            params.append(after)
        params.append(limit)
        rows = (
            self._connection()
            .execute(
                "SELECT object_id, "
                "sum(CASE WHEN false_positive THEN 0 ELSE 1 END), "
                "sum(CASE WHEN false_positive THEN 0 ELSE sighted_count END), "
                "sum(CASE WHEN false_positive THEN 1 ELSE 0 END), "
                "max(CASE WHEN false_positive THEN NULL ELSE sighted_at END), "
                "max(reported_at) "
                f"FROM feedback_sightings WHERE {where} "
                "GROUP BY object_id ORDER BY object_id LIMIT ?",
                params,
            )
            .fetchall()
        )
        return [
            FeedbackSummary(
                object_id=str(row[0]),
                sightings=int(row[1]),
                times_seen=int(row[2]),
                false_positives=int(row[3]),
                last_sighted=None if row[4] is None else int(row[4]),
                last_reported=int(row[5]),
            )
            for row in rows
        ]

    def feedback_sightings(self, partner_account: str) -> list[FeedbackSighting]:
        rows = self._connection().execute(
            f"SELECT {_SIGHTING_COLUMNS} FROM feedback_sightings WHERE partner_account = ? "
            "ORDER BY reported_at, sighting_id",
            (partner_account,),
        )
        return [
            FeedbackSighting(
                partner_account=str(row[0]),
                sighting_id=str(row[1]),
                object_id=str(row[2]),
                version=int(row[3]),
                false_positive=bool(row[4]),
                count=int(row[5]),
                sighted_at=int(row[6]),
                reported_at=int(row[7]),
            )
            for row in rows
        ]
