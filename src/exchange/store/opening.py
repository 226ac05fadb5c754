"""Opening the configured store: PostgreSQL when a database URL is set, else embedded SQLite."""

from __future__ import annotations

from exchange.settings import Settings
from exchange.store.sql_store import SqlStore
from exchange.store.sqlite import open_sqlite

__all__ = ["open_store", "store_location"]


def open_store(settings: Settings, *, create: bool) -> SqlStore:
    """The store the settings name; with ``create``, made and migrated to the newest schema."""
    if settings.database_url:
        # psycopg is loaded only for a PostgreSQL store (about 10 MiB in each server process).
        from exchange.store.postgres import open_postgres

        return open_postgres(
            settings.database_url,
            create=create,
            pool_size=settings.database_pool_size,
            replica_url=settings.database_replica_url,
        )
    return open_sqlite(settings.data_dir, create=create, processes=settings.workers)


def store_location(settings: Settings) -> str:
    """Where the settings put the store, for messages (no password)."""
    if settings.database_url:
        from exchange.store.postgres import redacted_url

        return redacted_url(settings.database_url)
    return str(settings.database_path)
