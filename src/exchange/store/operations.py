"""Operators' work on the store itself: what it holds, and copies of it (``exchange db``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from exchange.store.sql_store import SqlStore

__all__ = ["COUNTED_TABLES", "backup_sqlite", "postgres_backup_hints", "table_counts"]

# What `exchange db status` counts, in this order.
COUNTED_TABLES = (
    "accounts",
    "collections",
    "objects",
    "placements",
    "statuses",
    "submissions",
    "embargoed",
    "nonces",
    "feedback_sightings",
    "audit_events",
    "audit_heads",
)


def table_counts(store: SqlStore) -> dict[str, int]:
    """Rows per main table."""
    db = store._connection()
    return {
        table: int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        for table in COUNTED_TABLES
    }


def backup_sqlite(
    source: Path, destination: Path, progress: Callable[[int, int], None] | None = None
) -> None:
    """Copy the live SQLite store to ``destination`` with SQLite's online backup (a consistent
    snapshot, taken while the hub keeps serving)."""
    destination.parent.mkdir(parents=True, exist_ok=True)

    def report(_status: int, remaining: int, total: int) -> None:
        if progress is not None:
            progress(total - remaining, total)

    live = sqlite3.connect(source)
    copy = sqlite3.connect(destination)
    try:
        live.backup(copy, pages=1024, progress=report)
    finally:
        copy.close()
        live.close()


def postgres_backup_hints(location: str, schema_name: str) -> list[str]:
    """How to back up and restore the store on PostgreSQL (printed, not run)."""
    return [
        f"database: {location}, schema {schema_name}",
        "logical copy (consistent snapshot, taken while the hubs keep serving):",
        f"  pg_dump --format=custom --schema={schema_name} --file=exchange.dump '<url>'",
        "restore into an empty database:",
        "  pg_restore --dbname='<url>' --no-owner exchange.dump",
        "point-in-time recovery: archive WAL (archive_mode=on, archive_command) and take base",
        "backups with pg_basebackup; a streaming replica is a standby, not a backup.",
        "after a restore, run `exchange db upgrade` on one node before starting the others.",
    ]
