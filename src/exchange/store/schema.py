"""Bringing a database to the newest schema with Alembic (``exchange db upgrade`` and init).

The same migrations serve SQLite and PostgreSQL. On PostgreSQL an upgrade holds the store's
write lock, so nodes that start together migrate one after the other and no write interleaves.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.request import pathname2url

from exchange.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config

# SQLAlchemy and Alembic (about 25 MiB of memory in each server process) are imported by the
# functions that migrate, not by a server that only checks that the schema is the newest:
# SQLite's revision is read with sqlite3, against the head named here (a test keeps it equal to
# the migrations' own head).
HEAD = "0009"

__all__ = [
    "HEAD",
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
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest schema revision this code knows (from the migrations themselves)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(url: str) -> str | None:
    """The revision a database is at, or None when it has no schema yet."""
    import sqlalchemy as sa
    from alembic.runtime.migration import MigrationContext

    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def require_head(url: str, where: str) -> None:
    """Raise ``StoreError`` saying what to run unless the database is at the newest schema."""
    current = _sqlite_revision(url) if url.startswith(_SQLITE) else current_revision(url)
    if current != HEAD:
        raise StoreError(
            f"the store at {where} is at schema {current or 'none'}, this hub needs "
            f"{HEAD}: run `exchange db upgrade`"
        )


_SQLITE = "sqlite:///"


def _sqlite_revision(url: str) -> str | None:
    path = pathname2url(url.removeprefix(_SQLITE))
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no such table: no schema yet
        return None
    finally:
        connection.close()
    return None if row is None else str(row[0])


def upgrade(url: str) -> None:
    """Apply every migration the database lacks."""
    import sqlalchemy as sa
    from alembic import command

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
