"""The store's part for agreements: partners, agreement versions, submissions,
embargoes, quotas, retention and the change record. Mixed into the store and its transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from exchange.errors import Conflict
from exchange.stix.objects import ObjectVersion
from exchange.store.codec import decode_body
from exchange.store.models import (
    AddOutcome,
    AgreementVersion,
    Change,
    Collection,
    CollectionKind,
    Submission,
)
from exchange.store.sql import (
    COLLECTION_COLUMNS,
    IN_LIST,
    PARTNER_SUBMISSIONS,
    Db,
    collection_from_row,
    integrity_errors,
    json_list,
    json_text,
)

__all__ = ["AgreementReads", "AgreementWrites"]

_AGREEMENT_COLUMNS = "agreement_id, version, partner_account, status, terms, created_by, created_at"
_SUBMISSION_COLUMNS = (
    "partner_account, agreement_id, agreement_version, status_id, received_at, accepted, refused"
)


def _agreement(row: Any) -> AgreementVersion:
    return AgreementVersion(row[0], int(row[1]), row[2], row[3], bytes(row[4]), row[5], row[6])


class AgreementWrites:
    """Writes of the agreements part, inside a store transaction."""

    _db: Db
    _object_rows: dict[bytes, int]
    _ids_read: set[str]

    # Provided by the transaction class this is mixed into.
    def _object_pks(self, objects: Sequence[ObjectVersion]) -> dict[bytes, int]:
        raise NotImplementedError

    def _audience_pk(self, members: Sequence[Collection]) -> int:
        raise NotImplementedError

    def place(
        self,
        audience: Sequence[Collection],
        objects: Sequence[ObjectVersion],
        *,
        target: Collection | None,
        date_added: int | None = None,
        submission_pk: int | None = None,
    ) -> list[AddOutcome]:
        raise NotImplementedError

    # ---------------------------------------------------------------------------------------
    def _co_deliver(
        self,
        obj: ObjectVersion,
        audience: Sequence[Collection],
        holders: Mapping[int, tuple[bytes, int]],
        submission_pk: int,
    ) -> None:
        """Note that this submission delivers ``obj`` to members that already hold it."""
        row = self._db.execute(
            "SELECT pk FROM objects WHERE stix_id = ? AND version = ? AND digest = ?",
            (obj.stix_id, obj.version, obj.digest),
        ).fetchone()
        if row is None:
            return
        self._db.executemany(
            "INSERT INTO co_deliveries (object_pk, collection_pk, submission_pk) "
            "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [
                (int(row[0]), member.pk, submission_pk)
                for member in audience
                if member.pk in holders and holders[member.pk][0] == obj.digest
            ],
        )

    def _members(self, audience_pk: int) -> list[Collection]:
        return [
            collection_from_row(row)
            for row in self._db.execute(
                f"SELECT {', '.join('c.' + c for c in COLLECTION_COLUMNS.split(', '))} "
                "FROM audience_members am JOIN collections c ON c.pk = am.collection_pk "
                "WHERE am.audience_pk = ?",
                (audience_pk,),
            )
        ]

    def _hand_over(
        self, partner_account: str, object_pk: int, date_added: int, dropped: Sequence[Collection]
    ) -> None:
        """Keep visible, under another partner's submission, what that partner co-delivered to
        collections the given partner's placement is about to leave."""
        if not dropped:
            return
        rows = self._db.execute(
            "SELECT d.collection_pk, d.submission_pk FROM co_deliveries d "
            "JOIN submissions s ON s.pk = d.submission_pk "
            f"WHERE d.object_pk = ? AND d.collection_pk {IN_LIST} AND s.partner_account != ?",
            (object_pk, json_list([c.pk for c in dropped]), partner_account),
        ).fetchall()
        by_submission: dict[int, list[Collection]] = defaultdict(list)
        wanted = {c.pk: c for c in dropped}
        for collection_pk, submission_pk in rows:
            collection = wanted.get(int(collection_pk))
            if collection is not None and collection not in by_submission[int(submission_pk)]:
                by_submission[int(submission_pk)].append(collection)
        taken: set[int] = set()
        for submission_pk, candidates in by_submission.items():
            collections = [c for c in candidates if c.pk not in taken]
            if not collections:
                continue
            taken.update(c.pk for c in collections)
            # The object has been visible there since date_added: it keeps that position.
            self._db.execute(
                "INSERT INTO placements (audience_pk, date_added, object_pk, submission_pk) "
                "VALUES (?, ?, ?, ?)",
                (self._audience_pk(collections), date_added, object_pk, submission_pk),
            )
            self._db.execute(
                f"DELETE FROM co_deliveries WHERE object_pk = ? AND collection_pk {IN_LIST} "
                "AND submission_pk = ?",
                (object_pk, json_list([c.pk for c in collections]), submission_pk),
            )

    def add_submission(self, submission: Submission) -> int:
        row = self._db.execute(
            f"INSERT INTO submissions ({_SUBMISSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "RETURNING pk",
            (
                submission.partner_account,
                submission.agreement_id,
                submission.agreement_version,
                submission.status_id,
                submission.received_at,
                submission.accepted,
                submission.refused,
            ),
        ).fetchone()
        return int(row[0])

    def add_usage(self, partner_account: str, day: str, objects: int) -> int:
        self._db.execute(
            "INSERT INTO quota_usage (partner_account, day, objects) VALUES (?, ?, ?) "
            "ON CONFLICT (partner_account, day) "
            "DO UPDATE SET objects = quota_usage.objects + excluded.objects",
            (partner_account, day, objects),
        )
        row = self._db.execute(
            "SELECT objects FROM quota_usage WHERE partner_account = ? AND day = ?",
            (partner_account, day),
        ).fetchone()
        return int(row[0])

    def embargo(
        self,
        objects: Sequence[ObjectVersion],
        countries: Sequence[str],
        *,
        due_at: int,
        submission_pk: int,
    ) -> None:
        codes = json_text(countries)
        pks = self._object_pks(objects)
        self._db.executemany(
            "INSERT INTO embargoed (due_at, object_pk, submission_pk, countries) "
            "VALUES (?, ?, ?, ?)",
            [(due_at, pks[obj.digest], submission_pk, codes) for obj in objects],
        )

    def _country_collections(self, codes: Sequence[str]) -> list[Collection]:
        rows = self._db.execute(
            f"SELECT {COLLECTION_COLUMNS} FROM collections "
            f"WHERE kind = ? AND country {IN_LIST} ORDER BY pk",
            (CollectionKind.COUNTRY.value, json_list(codes)),
        )
        return [collection_from_row(row) for row in rows]

    def release_embargoes(self, now: int) -> int:
        rows = self._db.execute(
            "SELECT e.pk, e.submission_pk, e.countries, e.object_pk, o.stix_id, o.version, o.type, "
            "o.spec_version, o.digest, o.body FROM embargoed e "
            "JOIN objects o ON o.pk = e.object_pk WHERE e.due_at <= ? ORDER BY e.due_at, e.pk",
            (now,),
        ).fetchall()
        groups: dict[tuple[int, str], list[ObjectVersion]] = {}
        held: list[int] = []
        for (
            _,
            submission_pk,
            countries,
            object_pk,
            stix_id,
            version,
            kind,
            spec,
            digest,
            body,
        ) in rows:
            held.append(int(object_pk))
            obj = ObjectVersion(stix_id, kind, version, spec, decode_body(body), bytes(digest))
            groups.setdefault((submission_pk, countries), []).append(obj)
        placed = 0
        for (submission_pk, countries), objects in groups.items():
            audience = self._country_collections(orjson.loads(countries))
            if audience:
                outcomes = self.place(audience, objects, target=None, submission_pk=submission_pk)
                placed += sum(outcome.stored for outcome in outcomes)
        self._db.executemany("DELETE FROM embargoed WHERE pk = ?", [(row[0],) for row in rows])
        self._collect_orphans(list(held))
        return placed

    def _collect_orphans(self, object_pks: Sequence[int]) -> None:
        """Delete the objects no placement and no held redistribution refers to any more."""
        self._object_rows.clear()
        self._ids_read.clear()
        self._db.executemany(
            "DELETE FROM objects WHERE pk = ? "
            "AND NOT EXISTS (SELECT 1 FROM placements WHERE object_pk = objects.pk) "
            "AND NOT EXISTS (SELECT 1 FROM embargoed WHERE object_pk = objects.pk)",
            [(pk,) for pk in set(object_pks)],
        )

    def cancel_embargoes(self, partner_account: str) -> int:
        held = [
            int(row[0])
            for row in self._db.execute(
                f"SELECT object_pk FROM embargoed WHERE submission_pk IN ({PARTNER_SUBMISSIONS})",
                (partner_account,),
            )
        ]
        self._db.execute(
            f"DELETE FROM embargoed WHERE submission_pk IN ({PARTNER_SUBMISSIONS})",
            (partner_account,),
        )
        self._collect_orphans(held)
        return len(held)

    def narrow_redistribution(
        self, partner_account: str, keep: frozenset[str], *, placed: bool
    ) -> int:
        # What waits for its embargo is future redistribution: it always narrows.
        for pk, countries in self._db.execute(
            f"SELECT pk, countries FROM embargoed WHERE submission_pk IN ({PARTNER_SUBMISSIONS})",
            (partner_account,),
        ).fetchall():
            remaining = [code for code in orjson.loads(countries) if code in keep]
            self._db.execute(
                "UPDATE embargoed SET countries = ? WHERE pk = ?", (json_text(remaining), pk)
            )
        if not placed:
            return 0
        changed = 0
        audiences = [
            int(row[0])
            for row in self._db.execute(
                "SELECT DISTINCT audience_pk FROM placements "
                f"WHERE submission_pk IN ({PARTNER_SUBMISSIONS})",
                (partner_account,),
            )
        ]
        freed: list[int] = []
        for audience_pk in audiences:
            members = self._members(audience_pk)
            kept = [m for m in members if m.kind is not CollectionKind.COUNTRY or m.country in keep]
            if len(kept) == len(members):
                continue
            scope = f"audience_pk = ? AND submission_pk IN ({PARTNER_SUBMISSIONS})"
            dropped = [m for m in members if m not in kept]
            for object_pk, added in self._db.execute(
                f"SELECT object_pk, date_added FROM placements WHERE {scope} AND EXISTS "
                "(SELECT 1 FROM co_deliveries d WHERE d.object_pk = placements.object_pk)",
                (audience_pk, partner_account),
            ).fetchall():
                self._hand_over(partner_account, int(object_pk), int(added), dropped)
            if kept:
                cursor = self._db.execute(
                    f"UPDATE placements SET audience_pk = ? WHERE {scope}",
                    (self._audience_pk(kept), audience_pk, partner_account),
                )
            else:
                freed.extend(
                    int(row[0])
                    for row in self._db.execute(
                        f"SELECT object_pk FROM placements WHERE {scope}",
                        (audience_pk, partner_account),
                    )
                )
                cursor = self._db.execute(
                    f"DELETE FROM placements WHERE {scope}", (audience_pk, partner_account)
                )
            changed += cursor.rowcount
        # What this partner co-delivered to the countries it leaves, it no longer delivers.
        self._db.execute(
            f"DELETE FROM co_deliveries WHERE submission_pk IN ({PARTNER_SUBMISSIONS}) "
            "AND collection_pk IN (SELECT pk FROM collections WHERE kind = ? "
            f"AND NOT (country {IN_LIST}))",
            (partner_account, CollectionKind.COUNTRY.value, json_list(keep)),
        )
        self._collect_orphans(freed)
        return changed

    def purge_before(self, partner_account: str, before: int) -> int:
        rows = self._db.execute(
            "SELECT seq, object_pk, date_added, audience_pk FROM placements "
            f"WHERE submission_pk IN ({PARTNER_SUBMISSIONS}) AND date_added < ?",
            (partner_account, before),
        ).fetchall()
        for _, object_pk, added, audience_pk in rows:
            if self._db.execute(
                "SELECT 1 FROM co_deliveries WHERE object_pk = ? LIMIT 1", (object_pk,)
            ).fetchone():
                self._hand_over(
                    partner_account, int(object_pk), int(added), self._members(int(audience_pk))
                )
        self._db.execute(
            "DELETE FROM co_deliveries WHERE submission_pk IN "
            "(SELECT pk FROM submissions WHERE partner_account = ? AND received_at < ?)",
            (partner_account, before),
        )
        self._db.executemany("DELETE FROM placements WHERE seq = ?", [(row[0],) for row in rows])
        self._collect_orphans([int(row[1]) for row in rows])
        return len(rows)

    def save_partner(
        self, account_id: str, state: str, vetted_until: str | None, record: bytes
    ) -> None:
        self._db.execute(
            "INSERT INTO partners (account_id, state, vetted_until, record) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (account_id) DO UPDATE SET state = excluded.state, "
            "vetted_until = excluded.vetted_until, record = excluded.record",
            (account_id, state, vetted_until, record),
        )

    def add_agreement_version(self, agreement: AgreementVersion) -> None:
        try:
            self._db.execute(
                f"INSERT INTO agreements ({_AGREEMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    agreement.agreement_id,
                    agreement.version,
                    agreement.partner_account,
                    agreement.status,
                    agreement.terms,
                    agreement.created_by,
                    agreement.created_at,
                ),
            )
        except integrity_errors():
            raise Conflict(
                f"agreement {agreement.agreement_id} already has a version {agreement.version}"
            ) from None

    def record_change(self, change: Change) -> None:
        self._db.execute(
            "INSERT INTO changes (at, actor, entity, entity_id, action, before, after) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                change.at,
                change.actor,
                change.entity,
                change.entity_id,
                change.action,
                change.before,
                change.after,
            ),
        )


class AgreementReads:
    """Reads of the agreements part."""

    def _connection(self) -> Db:
        raise NotImplementedError

    def partner_record(self, account_id: str) -> bytes | None:
        row = (
            self._connection()
            .execute("SELECT record FROM partners WHERE account_id = ?", (account_id,))
            .fetchone()
        )
        return None if row is None else bytes(row[0])

    def partner_records(self) -> list[tuple[str, str, bytes]]:
        rows = self._connection().execute(
            "SELECT account_id, state, record FROM partners ORDER BY account_id"
        )
        return [(row[0], row[1], bytes(row[2])) for row in rows]

    def agreement_versions(self, agreement_id: str) -> list[AgreementVersion]:
        rows = self._connection().execute(
            f"SELECT {_AGREEMENT_COLUMNS} FROM agreements WHERE agreement_id = ? ORDER BY version",
            (agreement_id,),
        )
        return [_agreement(row) for row in rows]

    def current_agreement(self, partner_account: str) -> AgreementVersion | None:
        row = (
            self._connection()
            .execute(
                f"SELECT {_AGREEMENT_COLUMNS} FROM agreements WHERE partner_account = ? "
                "ORDER BY pk DESC LIMIT 1",
                (partner_account,),
            )
            .fetchone()
        )
        return None if row is None else _agreement(row)

    def current_agreements(self) -> list[AgreementVersion]:
        rows = self._connection().execute(
            f"SELECT {_AGREEMENT_COLUMNS} FROM agreements a WHERE version = "
            "(SELECT max(version) FROM agreements b WHERE b.agreement_id = a.agreement_id) "
            "ORDER BY pk"
        )
        return [_agreement(row) for row in rows]

    def held_count(self) -> int:
        row = self._connection().execute("SELECT count(*) FROM embargoed").fetchone()
        return int(row[0])

    def usage(self, partner_account: str, day: str) -> int:
        row = (
            self._connection()
            .execute(
                "SELECT objects FROM quota_usage WHERE partner_account = ? AND day = ?",
                (partner_account, day),
            )
            .fetchone()
        )
        return 0 if row is None else int(row[0])

    def changes(self, entity: str | None = None, entity_id: str | None = None) -> list[Change]:
        where = []
        params: list[str] = []
        if entity is not None:
            where.append("entity = ?")
            params.append(entity)
        if entity_id is not None:
            where.append("entity_id = ?")
            params.append(entity_id)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._connection().execute(
            "SELECT at, actor, entity, entity_id, action, before, after, seq FROM changes "
            f"{clause} ORDER BY seq",
            params,
        )
        return [
            Change(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                None if row[5] is None else bytes(row[5]),
                None if row[6] is None else bytes(row[6]),
                int(row[7]),
            )
            for row in rows
        ]

    def submissions(self, partner_account: str) -> list[Submission]:
        rows = self._connection().execute(
            f"SELECT {_SUBMISSION_COLUMNS} FROM submissions WHERE partner_account = ? ORDER BY pk",
            (partner_account,),
        )
        return [Submission(*row) for row in rows]
