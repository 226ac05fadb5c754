"""SQL the backends share: the connection interface, column lists, row mappers, list binding,
version filters.

The statements are written once, in the SQL both SQLite and PostgreSQL accept, with ``?``
placeholders; the PostgreSQL backend rewrites placeholders and list membership (``IN_LIST``) for
its driver (see ``exchange.store.postgres``).
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

import orjson

from exchange.stix.objects import SINGLE_VERSION
from exchange.store.models import Account, Collection, CollectionKind, Role, VersionSelector

__all__ = [
    "ACCOUNT_COLUMNS",
    "COLLECTION_COLUMNS",
    "IN_LIST",
    "MERGE_AUDIENCES",
    "PARTNER_SUBMISSIONS",
    "Db",
    "Rows",
    "SqlList",
    "account_from_row",
    "collection_from_row",
    "integrity_errors",
    "json_list",
    "json_text",
    "version_clause",
]


class Rows(Protocol):
    """What a statement returns: its rows, and how many rows it changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Db(Protocol):
    """A connection as the store's SQL uses it (``sqlite3.Connection`` is one)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Rows: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> object: ...


def integrity_errors() -> tuple[type[Exception], ...]:
    """What says a unique or foreign key was violated, whichever backend said so (psycopg's
    once it is loaded: a server on SQLite never loads it)."""
    psycopg = sys.modules.get("psycopg")
    if psycopg is None:
        return (sqlite3.IntegrityError,)
    return (sqlite3.IntegrityError, psycopg.IntegrityError)


ACCOUNT_COLUMNS = (
    "id, username, role, display_name, country, credential_id, token_hash, active, created"
)
COLLECTION_COLUMNS = "pk, id, kind, title, description, owner_account, country, created"


def account_from_row(row: Any) -> Account:
    return Account(
        id=row[0],
        username=row[1],
        role=Role(row[2]),
        display_name=row[3],
        country=row[4],
        credential_id=row[5],
        token_hash=row[6],
        active=bool(row[7]),
        created=row[8],
    )


def collection_from_row(row: Any) -> Collection:
    return Collection(
        pk=row[0],
        id=row[1],
        kind=CollectionKind(row[2]),
        title=row[3],
        description=row[4],
        owner_account=row[5],
        country=row[6],
        created=row[7],
    )


# Membership in a list bound as one parameter (``json_list``): SQLite reads it as a JSON array,
# so its length is not limited by the number of variables; PostgreSQL binds an array.
IN_LIST = "IN (SELECT value FROM json_each(?))"
# Up to this many audiences, a page is a merge of per-audience index range scans.
MERGE_AUDIENCES = 64
# The keys of one partner's submissions (its placements, held objects, co-deliveries).
PARTNER_SUBMISSIONS = "SELECT pk FROM submissions WHERE partner_account = ?"


class SqlList:
    """A list bound as one parameter of ``IN_LIST``."""

    __slots__ = ("values",)

    def __init__(self, values: list[Any]) -> None:
        self.values = values


def json_list(values: Iterable[str] | Iterable[int]) -> SqlList:
    """Bind ``values`` (sorted) as the parameter of an ``IN_LIST``."""
    return SqlList(sorted(values))


def json_text(values: Iterable[str] | Iterable[int]) -> str:
    """``values``, sorted, as a JSON array to store in a text column."""
    return orjson.dumps(sorted(values)).decode()


sqlite3.register_adapter(SqlList, lambda bound: orjson.dumps(bound.values).decode())


def version_clause(
    selector: VersionSelector, audiences: Sequence[int], spec_versions: frozenset[str]
) -> tuple[str, list[object]]:
    """SQL for TAXII ``match[version]`` over visible versions (TAXII 2.1 section 3.4.2)."""
    if selector.all:
        return "", []
    newer_or_older = (
        "NOT EXISTS (SELECT 1 FROM objects o2 JOIN placements p2 ON p2.object_pk = o2.pk "
        "WHERE o2.stix_id = o.stix_id AND o2.version {op} o.version "
        f"AND p2.audience_pk {IN_LIST}"
    )
    spec_sql = ""
    spec_params: list[object] = []
    if spec_versions:
        spec_sql = f" AND o2.spec_version {IN_LIST}"
        spec_params = [json_list(spec_versions)]
    alternatives: list[str] = []
    params: list[object] = []
    for wanted, op in ((selector.last, ">"), (selector.first, "<")):
        if wanted:
            alternatives.append(newer_or_older.format(op=op) + spec_sql + ")")
            params.append(json_list(audiences))
            params.extend(spec_params)
    if selector.exact:
        # An object with neither modified nor created is versioned by its date_added.
        alternatives.append(
            f"(o.version {IN_LIST} OR (o.version = {SINGLE_VERSION} AND p.date_added {IN_LIST}))"
        )
        params.extend((json_list(selector.exact), json_list(selector.exact)))
    if not alternatives:
        return " AND 1 = 0", []
    return " AND (" + " OR ".join(alternatives) + ")", params
