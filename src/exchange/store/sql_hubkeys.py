"""The store's part for the hub's own signing keys (mixed into the store)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from exchange.errors import Conflict
from exchange.store.models import HubKey
from exchange.store.sql import Db, integrity_errors

__all__ = ["HubKeyStore"]

_COLUMNS = "key_id, purpose, algorithm, private_key, public_key, created_at, retired_at"


def _key(row: Any) -> HubKey:
    return HubKey(
        key_id=str(row[0]),
        purpose=str(row[1]),
        algorithm=str(row[2]),
        private_key=bytes(row[3]),
        public_key=bytes(row[4]),
        created_at=str(row[5]),
        retired_at=None if row[6] is None else str(row[6]),
    )


class HubKeyStore:
    """The hub's keys by purpose; one current (not retired) key per purpose."""

    def _connection(self) -> Db:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Db]:
        raise NotImplementedError

    def hub_keys(self, purpose: str | None = None) -> list[HubKey]:
        """Every hub key (current and retired), oldest first, optionally of one purpose."""
        where = "WHERE purpose = ?" if purpose is not None else ""
        params = (purpose,) if purpose is not None else ()
        rows = self._connection().execute(
            f"SELECT {_COLUMNS} FROM hub_keys {where} ORDER BY created_at, key_id", params
        )
        return [_key(row) for row in rows]

    def add_hub_key(self, key: HubKey) -> None:
        """Store a new hub key and retire the purpose's previous current key (same commit)."""
        try:
            with self._write() as db:
                db.execute(
                    "UPDATE hub_keys SET retired_at = ? WHERE purpose = ? AND retired_at IS NULL",
                    (key.created_at, key.purpose),
                )
                db.execute(
                    f"INSERT INTO hub_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        key.key_id,
                        key.purpose,
                        key.algorithm,
                        key.private_key,
                        key.public_key,
                        key.created_at,
                        key.retired_at,
                    ),
                )
        except integrity_errors():
            raise Conflict(f"a hub key {key.key_id} exists") from None
