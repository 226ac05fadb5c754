"""The SQLite store's part for partners' signing keys, replay nonces and signed evidence
(mixed into the store and its transaction)."""

from __future__ import annotations

import zlib
from typing import Any

import orjson

from exchange.errors import Conflict, NotFound
from exchange.store.codec import decode_body, encode_body
from exchange.store.key_models import Evidence, PartnerKey
from exchange.store.sql import Db, integrity_errors

__all__ = ["KeyReads", "KeyWrites"]

_KEY_COLUMNS = (
    "key_id, partner_account, algorithm, public_key, valid_from, valid_until, revoked_at, "
    "revoked_reason, created_by, created_at"
)
_EVIDENCE_COLUMNS = (
    "submission_pk, key_id, label, signature, signature_base, covered, created, nonce, "
    "content_type, body"
)
# Evidence stored before it went through the body codec is a bare zlib stream, whose first byte
# (CMF, 0x78 for the 32 KiB window zlib.compress uses) is not a codec tag.
_BARE_ZLIB = 0x78


def _evidence_body(stored: bytes) -> bytes:
    """The signed bytes back from their stored form."""
    if stored[:1] == bytes((_BARE_ZLIB,)):
        return zlib.decompress(stored)
    return decode_body(stored)


def _partner_key(row: Any) -> PartnerKey:
    return PartnerKey(
        key_id=str(row[0]),
        partner_account=str(row[1]),
        algorithm=str(row[2]),
        public_key=bytes(row[3]),
        valid_from=int(row[4]),
        valid_until=None if row[5] is None else int(row[5]),
        revoked_at=None if row[6] is None else int(row[6]),
        revoked_reason=None if row[7] is None else str(row[7]),
        created_by=str(row[8]),
        created_at=str(row[9]),
    )


def _evidence(row: Any) -> Evidence:
    return Evidence(
        submission_pk=int(row[0]),
        key_id=str(row[1]),
        label=str(row[2]),
        signature=bytes(row[3]),
        signature_base=bytes(row[4]),
        covered=tuple(orjson.loads(row[5])),
        created=int(row[6]),
        nonce=str(row[7]),
        content_type=str(row[8]),
        body=_evidence_body(bytes(row[9])),
    )


class KeyWrites:
    """Writes of the keys part, inside a store transaction."""

    _db: Db

    def add_partner_key(self, key: PartnerKey) -> None:
        try:
            self._db.execute(
                f"INSERT INTO partner_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key.key_id,
                    key.partner_account,
                    key.algorithm,
                    key.public_key,
                    key.valid_from,
                    key.valid_until,
                    key.revoked_at,
                    key.revoked_reason,
                    key.created_by,
                    key.created_at,
                ),
            )
        except integrity_errors():
            raise Conflict(f"a key with the id {key.key_id!r} is already registered") from None

    def end_partner_key(self, key_id: str, valid_until: int) -> None:
        cursor = self._db.execute(
            "UPDATE partner_keys SET valid_until = ? WHERE key_id = ?", (valid_until, key_id)
        )
        if cursor.rowcount == 0:
            raise NotFound(f"no key {key_id!r}")

    def revoke_partner_key(self, key_id: str, revoked_at: int, reason: str) -> None:
        cursor = self._db.execute(
            "UPDATE partner_keys SET revoked_at = ?, revoked_reason = ? WHERE key_id = ?",
            (revoked_at, reason, key_id),
        )
        if cursor.rowcount == 0:
            raise NotFound(f"no key {key_id!r}")

    def remember_nonce(self, key_id: str, nonce: str, seen_at: int) -> bool:
        # Not an exception: on PostgreSQL a failed statement would abort the transaction.
        inserted = self._db.execute(
            "INSERT INTO nonces (key_id, nonce, seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (key_id, nonce, seen_at),
        )
        return inserted.rowcount == 1

    def prune_nonces(self, before: int) -> int:
        return self._db.execute("DELETE FROM nonces WHERE seen_at < ?", (before,)).rowcount

    def add_evidence(self, evidence: Evidence) -> None:
        self._db.execute(
            f"INSERT INTO evidence ({_EVIDENCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                evidence.submission_pk,
                evidence.key_id,
                evidence.label,
                evidence.signature,
                evidence.signature_base,
                orjson.dumps(list(evidence.covered)).decode(),
                evidence.created,
                evidence.nonce,
                evidence.content_type,
                encode_body(evidence.body),
            ),
        )


class KeyReads:
    """Reads of the keys part."""

    def _connection(self) -> Db:
        raise NotImplementedError

    def partner_key(self, key_id: str) -> PartnerKey | None:
        row = (
            self._connection()
            .execute(f"SELECT {_KEY_COLUMNS} FROM partner_keys WHERE key_id = ?", (key_id,))
            .fetchone()
        )
        return None if row is None else _partner_key(row)

    def partner_keys(self, partner_account: str | None = None) -> list[PartnerKey]:
        where = "WHERE partner_account = ?" if partner_account is not None else ""
        params = (partner_account,) if partner_account is not None else ()
        rows = self._connection().execute(
            f"SELECT {_KEY_COLUMNS} FROM partner_keys {where} ORDER BY valid_from, key_id", params
        )
        return [_partner_key(row) for row in rows]

    def evidence_for_status(self, status_id: str) -> Evidence | None:
        columns = ", ".join(f"e.{name}" for name in _EVIDENCE_COLUMNS.split(", "))
        row = (
            self._connection()
            .execute(
                f"SELECT {columns} FROM evidence e JOIN submissions s ON s.pk = e.submission_pk "
                "WHERE s.status_id = ?",
                (status_id,),
            )
            .fetchone()
        )
        return None if row is None else _evidence(row)

    def evidence(self, submission_pk: int) -> Evidence | None:
        row = (
            self._connection()
            .execute(
                f"SELECT {_EVIDENCE_COLUMNS} FROM evidence WHERE submission_pk = ?",
                (submission_pk,),
            )
            .fetchone()
        )
        return None if row is None else _evidence(row)

    def nonce_count(self) -> int:
        row = self._connection().execute("SELECT count(*) FROM nonces").fetchone()
        return int(row[0])
