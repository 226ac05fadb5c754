"""The store protocol in SQL, shared by the SQLite and PostgreSQL backends.

A backend supplies connections (``_connection``) and write transactions (``transaction``) that
take one store-wide write lock, so date_added, placement sequence, the audit log's order, nonces
and quota counts are assigned one commit at a time, whichever process or node commits. Pages are
keyset range scans on ``placements_page``: their cost does not grow with the collection.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager

from exchange.errors import Conflict, StoreError
from exchange.stix.objects import ObjectVersion
from exchange.stix.timestamps import format_date_added, now_us
from exchange.store.codec import decode_body, encode_body
from exchange.store.models import (
    Account,
    AddOutcome,
    Collection,
    CollectionKind,
    Grant,
    ObjectQuery,
    Page,
    PlacedObject,
    Position,
    StatusRecord,
    VersionSelector,
)
from exchange.store.sql import (
    ACCOUNT_COLUMNS,
    COLLECTION_COLUMNS,
    IN_LIST,
    MERGE_AUDIENCES,
    Db,
    account_from_row,
    collection_from_row,
    integrity_errors,
    json_list,
    version_clause,
)
from exchange.store.sql_agreements import AgreementReads, AgreementWrites
from exchange.store.sql_audit import AuditReads, AuditWrites
from exchange.store.sql_feedback import FeedbackReads, FeedbackWrites
from exchange.store.sql_hubkeys import HubKeyStore
from exchange.store.sql_keys import KeyReads, KeyWrites
from exchange.store.sql_recalls import RecallWrites

__all__ = ["SqlStore", "SqlTransaction"]

# The row of the `clocks` table that hands out date_added values.
_DATE_ADDED_CLOCK = "date_added"
# Objects looked up per query (ids bound as one list parameter), and rows per multi-row INSERT
# (six parameters a row: well within the bound-parameter limits of SQLite and PostgreSQL).
_BATCH = 1000
_INSERT_ROWS = 500


class SqlTransaction(AgreementWrites, KeyWrites, AuditWrites, RecallWrites, FeedbackWrites):
    """Write operations inside one transaction that holds the store's write lock."""

    def __init__(self, store: SqlStore, connection: Db) -> None:
        self._store = store
        self._db = connection
        # The object rows (pk by digest) this transaction has looked up or inserted, and the
        # ids all of whose rows are among them: a submission places its objects twice (the
        # inbox, then the countries), and reads each id once. Forgotten when objects are
        # deleted (_collect_orphans).
        self._object_rows: dict[bytes, int] = {}
        self._ids_read: set[str] = set()

    def _audience_pk(self, members: Sequence[Collection]) -> int:
        key = ",".join(str(pk) for pk in sorted({m.pk for m in members}))
        row = self._db.execute("SELECT pk FROM audiences WHERE members = ?", (key,)).fetchone()
        if row is not None:
            return int(row[0])
        pk = int(
            self._db.execute(
                "INSERT INTO audiences (members) VALUES (?) RETURNING pk", (key,)
            ).fetchone()[0]
        )
        self._db.executemany(
            "INSERT INTO audience_members (collection_pk, audience_pk) VALUES (?, ?)",
            [(int(member), pk) for member in key.split(",")],
        )
        return pk

    def _holders(
        self, objects: Sequence[ObjectVersion]
    ) -> dict[tuple[str, int], dict[int, tuple[bytes, int]]]:
        """For each (id, version) of ``objects``: the collections (pk) in which it is visible,
        with its digest and date_added there. One query for the whole batch."""
        wanted = {(obj.stix_id, obj.version) for obj in objects}
        found: dict[tuple[str, int], dict[int, tuple[bytes, int]]] = {key: {} for key in wanted}
        for start in range(0, len(objects), _BATCH):
            ids = {obj.stix_id for obj in objects[start : start + _BATCH]}
            rows = self._db.execute(
                # LEFT JOINs keep SQLite's join order (from the listed ids through the indexes;
                # left to itself it may scan every placement of every audience instead) and
                # return the object rows without placements too, for _object_pks.
                "SELECT o.stix_id, o.version, o.digest, o.pk, am.collection_pk, p.date_added "
                "FROM objects o LEFT JOIN placements p ON p.object_pk = o.pk "
                "LEFT JOIN audience_members am ON am.audience_pk = p.audience_pk "
                f"WHERE o.stix_id {IN_LIST}",
                (json_list(ids),),
            ).fetchall()
            for stix_id, version, digest, object_pk, collection_pk, added in rows:
                self._object_rows[bytes(digest)] = int(object_pk)
                held = found.get((stix_id, int(version)))
                if held is not None and collection_pk is not None:
                    held[int(collection_pk)] = (bytes(digest), int(added))
            self._ids_read |= ids
        return found

    def _object_pks(self, objects: Sequence[ObjectVersion]) -> dict[bytes, int]:
        """The row of each object (by digest): found by its id, or inserted."""
        pks = self._object_rows
        unknown = [obj for obj in objects if obj.digest not in pks]
        unread = [obj for obj in unknown if obj.stix_id not in self._ids_read]
        for start in range(0, len(unread), _BATCH):
            ids = {obj.stix_id for obj in unread[start : start + _BATCH]}
            rows = self._db.execute(
                f"SELECT digest, pk FROM objects WHERE stix_id {IN_LIST}", (json_list(ids),)
            ).fetchall()
            pks.update((bytes(digest), int(pk)) for digest, pk in rows)
            self._ids_read |= ids
        missing = list({obj.digest: obj for obj in unknown if obj.digest not in pks}.values())
        for start in range(0, len(missing), _INSERT_ROWS):
            chunk = missing[start : start + _INSERT_ROWS]
            rows = self._db.execute(
                "INSERT INTO objects (stix_id, version, type, spec_version, digest, body) VALUES "
                + ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(chunk))
                + " RETURNING digest, pk",
                [
                    value
                    for obj in chunk
                    for value in (
                        obj.stix_id,
                        obj.version,
                        obj.type,
                        obj.spec_version,
                        obj.digest,
                        self._store.stored_body(obj),
                    )
                ],
            ).fetchall()
            pks.update((bytes(digest), int(pk)) for digest, pk in rows)
        return pks

    def _insert_placements(
        self, pending: list[tuple[int, int, ObjectVersion]], submission_pk: int | None
    ) -> None:
        """Write the placements decided so far (audience, date_added, object), in order."""
        if not pending:
            return
        pks = self._object_pks([obj for _, _, obj in pending])
        self._db.executemany(
            "INSERT INTO placements (audience_pk, date_added, object_pk, submission_pk) "
            "VALUES (?, ?, ?, ?)",
            [(audience, added, pks[obj.digest], submission_pk) for audience, added, obj in pending],
        )
        pending.clear()

    def _next_time(self, count: int) -> int:
        """Reserve ``count`` strictly increasing date_added values; return the first."""
        row = self._db.execute(
            "SELECT value FROM clocks WHERE name = ?", (_DATE_ADDED_CLOCK,)
        ).fetchone()
        last = int(row[0]) if row is not None else 0
        first = max(now_us(), last + 1)
        self._advance_clock(first + max(count, 1) - 1)
        return first

    def _advance_clock(self, value: int) -> None:
        self._db.execute(
            "INSERT INTO clocks (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE "
            "SET value = excluded.value WHERE clocks.value < excluded.value",
            (_DATE_ADDED_CLOCK, value),
        )

    def place(
        self,
        audience: Sequence[Collection],
        objects: Sequence[ObjectVersion],
        *,
        target: Collection | None,
        date_added: int | None = None,
        submission_pk: int | None = None,
    ) -> list[AddOutcome]:
        outcomes: list[AddOutcome] = []
        clock = self._next_time(len(objects)) if date_added is None else date_added
        if date_added is not None:
            self._advance_clock(date_added)
        audience_cache: dict[frozenset[int], int] = {}
        whole = list(audience)
        whole_key = frozenset(m.pk for m in whole)
        holders_of = self._holders(objects)
        # What this call has placed, by (id, version): merged into that version's holders only
        # when it comes again in the batch (rare), not for every object and member.
        placed_here: dict[tuple[str, int], list[tuple[list[Collection], bytes, int]]] = {}
        pending: list[tuple[int, int, ObjectVersion]] = []
        for obj in objects:
            key = (obj.stix_id, obj.version)
            holders = holders_of[key]
            for members, digest, added in placed_here.pop(key, ()):
                holders.update((member.pk, (digest, added)) for member in members)
            held = None if target is None else holders.get(target.pk)
            if held is not None:
                digest, held_since = held
                refused = None
                if digest != obj.digest:
                    refused = "a different object with this id and version is in this collection"
                outcomes.append(
                    AddOutcome(obj.stix_id, obj.version, False, refused, date_added=held_since)
                )
                continue
            # Holders outside the audience (the inbox that took it earlier in this commit) do
            # not narrow it: only those inside are looked for member by member.
            if not whole or any(pk in whole_key for pk in holders):
                members = [m for m in audience if m.pk not in holders]
                if submission_pk is not None and len(members) < len(audience):
                    self._insert_placements(pending, submission_pk)  # its row must exist
                    self._co_deliver(obj, audience, holders, submission_pk)
                if not members:
                    outcomes.append(AddOutcome(obj.stix_id, obj.version, stored=False))
                    continue
                member_key = frozenset(m.pk for m in members)
            else:  # a version new to every collection (the usual case): the whole audience
                members, member_key = whole, whole_key
            audience_pk = audience_cache.get(member_key)
            if audience_pk is None:
                audience_pk = audience_cache[member_key] = self._audience_pk(members)
            pending.append((audience_pk, clock, obj))
            placed_here.setdefault(key, []).append((members, obj.digest, clock))
            outcomes.append(AddOutcome(obj.stix_id, obj.version, stored=True, date_added=clock))
            if date_added is None:
                clock += 1
        self._insert_placements(pending, submission_pk)
        return outcomes

    def remove(
        self,
        collection: Collection,
        stix_id: str,
        versions: VersionSelector,
        spec_versions: frozenset[str],
    ) -> int:
        audiences = self._store.audiences_of(collection, self._db)
        if not audiences:
            return 0
        version_sql, version_params = version_clause(versions, audiences, spec_versions)
        spec_sql = ""
        spec_params: list[object] = []
        if spec_versions:
            spec_sql = f" AND o.spec_version {IN_LIST}"
            spec_params = [json_list(spec_versions)]
        rows = self._db.execute(
            "SELECT p.seq, p.audience_pk, p.object_pk FROM placements p "
            "JOIN objects o ON o.pk = p.object_pk "
            f"WHERE o.stix_id = ? AND p.audience_pk {IN_LIST}" + spec_sql + version_sql,
            [stix_id, json_list(audiences), *spec_params, *version_params],
        ).fetchall()
        for seq, audience_pk, object_pk in rows:
            members = self._db.execute(
                "SELECT c.pk, c.id, c.kind, c.title, c.description, c.owner_account, c.country, "
                "c.created FROM audience_members am JOIN collections c ON c.pk = am.collection_pk "
                "WHERE am.audience_pk = ? AND am.collection_pk != ?",
                (audience_pk, collection.pk),
            ).fetchall()
            if members:
                self._db.execute(
                    "UPDATE placements SET audience_pk = ? WHERE seq = ?",
                    (self._audience_pk([collection_from_row(m) for m in members]), seq),
                )
            else:
                self._db.execute("DELETE FROM placements WHERE seq = ?", (seq,))
                self._collect_orphans([object_pk])
        return len(rows)

    def save_status(self, record: StatusRecord) -> None:
        self._db.execute(
            "INSERT INTO statuses (id, collection_id, account_id, body) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET collection_id = excluded.collection_id, "
            "account_id = excluded.account_id, body = excluded.body",
            (record.id, record.collection_id, record.account_id, encode_body(record.body)),
        )


class SqlStore(AgreementReads, HubKeyStore, KeyReads, AuditReads, FeedbackReads):
    """The store protocol over SQL; a subclass supplies connections and transactions."""

    # This thread's prepared bodies (see prepare): stored forms by digest, which names the
    # body, so a stored form can never be used for another one.
    _prepared = threading.local()

    def prepare(self, objects: Sequence[ObjectVersion]) -> None:
        self._prepared.bodies = {obj.digest: encode_body(obj.body) for obj in objects}

    def stored_body(self, obj: ObjectVersion) -> bytes:
        """The stored form of an object's body: prepared by this thread, or made now."""
        prepared: dict[bytes, bytes] | None = getattr(self._prepared, "bodies", None)
        stored = None if prepared is None else prepared.pop(obj.digest, None)
        return encode_body(obj.body) if stored is None else stored

    def _connection(self) -> Db:
        """A connection for reads: inside a write transaction of this thread, that one's."""
        raise NotImplementedError

    def _read_snapshot(self) -> AbstractContextManager[Db]:
        """A connection whose statements all see one snapshot of the database (inside this
        thread's write transaction: that one). A backend may read it from a replica."""
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[SqlTransaction]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def ping(self) -> None:
        raise NotImplementedError

    def refresh_statistics(self) -> list[str]:
        return []

    @contextmanager
    def _write(self) -> Iterator[Db]:
        """A write transaction's connection, for the mixins' single-purpose writes."""
        with self.transaction() as tx:
            yield tx._db

    def secret(self, name: str) -> bytes:
        key = f"secret:{name}"
        row = self._connection().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is not None:
            return bytes(row[0])
        with self.transaction() as tx:
            tx._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (key, secrets.token_bytes(32)),
            )
        row = self._connection().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return bytes(row[0])

    # Accounts ------------------------------------------------------------------------------
    def add_account(self, account: Account) -> None:
        try:
            with self.transaction() as tx:
                tx._db.execute(
                    f"INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        account.id,
                        account.username,
                        account.role.value,
                        account.display_name,
                        account.country,
                        account.credential_id,
                        account.token_hash,
                        account.active,
                        account.created,
                    ),
                )
        except integrity_errors():
            raise Conflict(f"the user name {account.username!r} is taken") from None

    def _one_account(self, column: str, value: str) -> Account | None:
        row = (
            self._connection()
            .execute(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE {column} = ?", (value,))
            .fetchone()
        )
        return None if row is None else account_from_row(row)

    def account(self, account_id: str) -> Account | None:
        return self._one_account("id", account_id)

    def account_by_username(self, username: str) -> Account | None:
        return self._one_account("username", username)

    def account_by_credential(self, credential_id: str) -> Account | None:
        return self._one_account("credential_id", credential_id)

    def accounts(self) -> list[Account]:
        rows = self._connection().execute(
            f"SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY created, username"
        )
        return [account_from_row(row) for row in rows]

    def set_credential(self, account_id: str, credential_id: str, token_hash: str) -> None:
        with self.transaction() as tx:
            tx._db.execute(
                "UPDATE accounts SET credential_id = ?, token_hash = ? WHERE id = ?",
                (credential_id, token_hash, account_id),
            )

    def set_active(self, account_id: str, active: bool) -> None:
        with self.transaction() as tx:
            tx._db.execute("UPDATE accounts SET active = ? WHERE id = ?", (active, account_id))

    # Collections ---------------------------------------------------------------------------
    def add_collection(
        self,
        *,
        collection_id: str,
        kind: CollectionKind,
        title: str,
        description: str = "",
        owner_account: str | None = None,
        country: str | None = None,
    ) -> Collection:
        created = _now_text()
        try:
            with self.transaction() as tx:
                row = tx._db.execute(
                    "INSERT INTO collections (id, kind, title, description, owner_account, "
                    "country, created) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING pk",
                    (
                        collection_id,
                        kind.value,
                        title,
                        description,
                        owner_account,
                        country,
                        created,
                    ),
                ).fetchone()
        except integrity_errors():
            raise Conflict(f"a collection with id {collection_id!r} exists") from None
        return Collection(
            pk=int(row[0]),
            id=collection_id,
            kind=kind,
            title=title,
            description=description,
            owner_account=owner_account,
            country=country,
            created=created,
        )

    def collection(self, collection_id: str) -> Collection | None:
        row = (
            self._connection()
            .execute(f"SELECT {COLLECTION_COLUMNS} FROM collections WHERE id = ?", (collection_id,))
            .fetchone()
        )
        return None if row is None else collection_from_row(row)

    def collections(self) -> list[Collection]:
        rows = self._connection().execute(
            f"SELECT {COLLECTION_COLUMNS} FROM collections ORDER BY pk"
        )
        return [collection_from_row(row) for row in rows]

    def set_grant(self, grant: Grant) -> None:
        collection = self.collection(grant.collection_id)
        if collection is None:
            raise StoreError(f"no collection {grant.collection_id!r}")
        with self.transaction() as tx:
            tx._db.execute(
                "INSERT INTO grants (collection_pk, account_id, can_read, can_write) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (collection_pk, account_id) DO UPDATE SET "
                "can_read = excluded.can_read, can_write = excluded.can_write",
                (collection.pk, grant.account_id, grant.can_read, grant.can_write),
            )

    def _grants(self, where: str, value: str) -> list[Grant]:
        rows = self._connection().execute(
            "SELECT c.id, g.account_id, g.can_read, g.can_write FROM grants g "
            f"JOIN collections c ON c.pk = g.collection_pk WHERE {where} = ? ORDER BY c.pk",
            (value,),
        )
        return [Grant(row[0], row[1], bool(row[2]), bool(row[3])) for row in rows]

    def grants_for_account(self, account_id: str) -> list[Grant]:
        return self._grants("g.account_id", account_id)

    def grants_for_collection(self, collection_id: str) -> list[Grant]:
        return self._grants("c.id", collection_id)

    # Objects -------------------------------------------------------------------------------
    def audiences_of(self, collection: Collection, connection: Db | None = None) -> list[int]:
        """The audiences (pk) that include the collection."""
        db = connection or self._connection()
        rows = db.execute(
            "SELECT audience_pk FROM audience_members WHERE collection_pk = ? ORDER BY audience_pk",
            (collection.pk,),
        )
        return [int(row[0]) for row in rows]

    def page(
        self,
        collection: Collection,
        query: ObjectQuery,
        *,
        after: Position | None,
        limit: int,
        with_bodies: bool,
    ) -> Page:
        # One snapshot for the audiences and the rows: read apart, a commit that adds the
        # collection's first placement in a new audience, followed by one in a known audience,
        # could be half seen, and the page's last position would pass over the first for good.
        with self._read_snapshot() as db:
            return self._page(db, collection, query, after, limit, with_bodies)

    def _page(
        self,
        db: Db,
        collection: Collection,
        query: ObjectQuery,
        after: Position | None,
        limit: int,
        with_bodies: bool,
    ) -> Page:
        audiences = self.audiences_of(collection, db)
        if not audiences:
            return Page(rows=(), more=False)
        filters: list[str] = []
        params: list[object] = []
        if after is not None:
            filters.append("p.date_added >= ? AND (p.date_added > ? OR p.seq > ?)")
            params.extend((after.date_added, after.date_added, after.seq))
        if query.added_after is not None:
            filters.append("p.date_added > ?")
            params.append(query.added_after)
        for column, values in (
            ("o.stix_id", query.ids),
            ("o.type", query.types),
            ("o.spec_version", query.spec_versions),
        ):
            if values:
                filters.append(f"{column} {IN_LIST}")
                params.append(json_list(values))
        version_sql, version_params = version_clause(query.versions, audiences, query.spec_versions)
        where = "".join(f" AND {f}" for f in filters) + version_sql
        body = ", o.body" if with_bodies else ", NULL"
        columns = f"p.date_added, p.seq, o.stix_id, o.type, o.version, o.spec_version{body}"
        joined = "FROM placements p JOIN objects o ON o.pk = p.object_pk"
        order = "ORDER BY p.date_added, p.seq LIMIT ?"
        fetch = limit + 1
        sql: str
        all_params: list[object]
        if len(audiences) == 1:
            sql = f"SELECT {columns} {joined} WHERE p.audience_pk = ?{where} {order}"
            all_params = [audiences[0], *params, *version_params, fetch]
        elif len(audiences) <= MERGE_AUDIENCES:
            # One range scan per audience, merged: each is an index walk that stops at `fetch`.
            select = f"SELECT {columns} {joined} WHERE p.audience_pk = ?{where} {order}"
            sql = (
                " UNION ALL ".join(
                    f"SELECT * FROM ({select}) AS a{i}" for i in range(len(audiences))
                )
                + " ORDER BY 1, 2 LIMIT ?"
            )
            all_params = []
            for audience_pk in audiences:
                all_params.extend((audience_pk, *params, *version_params, fetch))
            all_params.append(fetch)
        else:
            sql = f"SELECT {columns} {joined} WHERE p.audience_pk {IN_LIST}{where} {order}"
            all_params = [json_list(audiences), *params, *version_params, fetch]
        rows = db.execute(sql, all_params).fetchall()
        more = len(rows) > limit
        placed = [
            PlacedObject(
                position=Position(row[0], row[1]),
                stix_id=row[2],
                type=row[3],
                version=row[4],
                spec_version=row[5],
                body=decode_body(row[6]) if with_bodies else None,
            )
            for row in rows[:limit]
        ]
        return Page(rows=placed, more=more)

    def holds(self, collection: Collection, stix_id: str) -> bool:
        with self._read_snapshot() as db:
            audiences = self.audiences_of(collection, db)
            if not audiences:
                return False
            row = db.execute(
                "SELECT 1 FROM objects o JOIN placements p ON p.object_pk = o.pk "
                f"WHERE o.stix_id = ? AND p.audience_pk {IN_LIST} LIMIT 1",
                (stix_id, json_list(audiences)),
            ).fetchone()
        return row is not None

    def status(self, status_id: str) -> StatusRecord | None:
        row = (
            self._connection()
            .execute(
                "SELECT id, collection_id, account_id, body FROM statuses WHERE id = ?",
                (status_id,),
            )
            .fetchone()
        )
        if row is None:
            return None
        return StatusRecord(row[0], row[1], row[2], decode_body(bytes(row[3])))

    def iter_collection_sizes(self) -> Iterator[tuple[str, int]]:
        rows = self._connection().execute(
            "SELECT c.id, count(p.seq) FROM collections c "
            "LEFT JOIN audience_members am ON am.collection_pk = c.pk "
            "LEFT JOIN placements p ON p.audience_pk = am.audience_pk GROUP BY c.pk ORDER BY c.pk"
        )
        for collection_id, size in rows:
            yield collection_id, int(size)


def _now_text() -> str:
    return format_date_added(now_us())
