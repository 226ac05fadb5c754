"""Migrations keep what the store holds: a store made by an earlier revision, with objects in
it, comes up to the newest schema with the same rows, on both backends."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from exchange.errors import StoreError
from exchange.store import schema
from exchange.store.sqlite import sqlite_url
from tests.support.postgres import fresh_schema


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    with fresh_schema() as url:
        yield url


def _upgrade_to(url: str, revision: str) -> None:
    engine = sa.create_engine(schema.sqlalchemy_url(url))
    try:
        with engine.begin() as connection:
            config = schema._config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def _object_row(stix_id: str, body: bytes) -> dict[str, object]:
    return {
        "stix_id": stix_id,
        "version": 1,
        "type": "indicator",
        "spec_version": "2.1",
        "digest": hashlib.sha256(body).digest(),
        "body": body,
    }


_INSERT = sa.text(
    "INSERT INTO objects (stix_id, version, type, spec_version, digest, body) "
    "VALUES (:stix_id, :version, :type, :spec_version, :digest, :body)"
)


def test_0009_drops_the_digest_index_and_keeps_every_object(database_url: str) -> None:
    _upgrade_to(database_url, "0008")
    rows = [
        _object_row(f"indicator--{n:08d}-0000-4000-8000-000000000000", b"{%d}" % n)
        for n in range(3)
    ]
    engine = sa.create_engine(schema.sqlalchemy_url(database_url))
    try:
        with engine.begin() as connection:
            connection.execute(_INSERT, rows)
        with engine.begin() as connection, pytest.raises(sa.exc.IntegrityError):
            connection.execute(_INSERT, [rows[0]])  # before: one row per digest
        schema.upgrade(database_url)
        assert schema.current_revision(database_url) == schema.head_revision() == "0009"
        with engine.begin() as connection:
            kept = connection.execute(
                sa.text("SELECT stix_id, digest, body FROM objects ORDER BY pk")
            ).all()
            assert [(r[0], bytes(r[1]), bytes(r[2])) for r in kept] == [
                (r["stix_id"], r["digest"], r["body"]) for r in rows
            ]
            connection.execute(_INSERT, [rows[0]])  # the digest is no longer indexed
            indexes = {index["name"] for index in sa.inspect(connection).get_indexes("objects")}
            assert "objects_by_id" in indexes
            assert not sa.inspect(connection).get_unique_constraints("objects")
    finally:
        engine.dispose()


def test_the_head_a_server_checks_for_is_the_migrations_head() -> None:
    assert schema.head_revision() == schema.HEAD


def test_a_sqlite_store_behind_the_head_is_refused_with_what_to_run(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    _upgrade_to(url, "0008")
    with pytest.raises(StoreError, match=r"at schema 0008, this hub needs 0009: run `exchange db"):
        schema.require_head(url, "here")
    schema.upgrade(url)
    schema.require_head(url, "here")
