"""Bringing a database to the newest schema with Alembic (``exchange db upgrade`` and init).

The same migrations serve SQLite and PostgreSQL. On PostgreSQL an upgrade holds the store's
write lock, so nodes that start together migrate one after the other and no write interleaves.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from exchange.errors import StoreError

__all__ = [
    "current_revision",
    "head_revision",
    "is_postgres_url",
    "require_head",
    "sqlalchemy_url",
    "upgrade",
    "write_lock_key",
]

_MIGRATIONS = Path(__file__).parent / "migrations"


def is_postgres_url(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL database."""
    return url.split("://", 1)[0] in {"postgresql", "postgres", "postgresql+psycopg"}


def sqlalchemy_url(url: str) -> str:
    """``url`` as SQLAlchemy wants it (PostgreSQL through psycopg 3)."""
    if is_postgres_url(url):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def write_lock_key(schema_name: str) -> int:
    """The PostgreSQL advisory lock that serialises the store's writes in one schema."""
    digest = hashlib.blake2b(f"exchange-write:{schema_name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest schema revision this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(url: str) -> str | None:
    """The revision a database is at, or None when it has no schema yet."""
    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def require_head(url: str, where: str) -> None:
    """Raise ``StoreError`` saying what to run unless the database is at the newest schema."""
    current = current_revision(url)
    if current != head_revision():
        raise StoreError(
            f"the store at {where} is at schema {current or 'none'}, this hub needs "
            f"{head_revision()}: run `exchange db upgrade`"
        )


def upgrade(url: str) -> None:
    """Apply every migration the database lacks."""
    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                schema_name = connection.exec_driver_sql("SELECT current_schema()").scalar()
                if schema_name is None:
                    raise StoreError("the database URL's search_path names no schema that exists")
                connection.exec_driver_sql(
                    "SELECT pg_advisory_xact_lock(%(key)s)", {"key": write_lock_key(schema_name)}
                )
            config = _config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
