"""SQL pieces the SQLite store shares: column lists, row mappers, list binding, version filters."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from exchange.stix.objects import SINGLE_VERSION
from exchange.store.models import Account, Collection, CollectionKind, Role, VersionSelector

__all__ = [
    "ACCOUNT_COLUMNS",
    "CLOCK_KEY",
    "COLLECTION_COLUMNS",
    "IN_LIST",
    "MERGE_AUDIENCES",
    "account_from_row",
    "collection_from_row",
    "json_list",
    "version_clause",
]

ACCOUNT_COLUMNS = (
    "id, username, role, display_name, country, credential_id, token_hash, active, created"
)
COLLECTION_COLUMNS = "pk, id, kind, title, description, owner_account, country, created"
CLOCK_KEY = "clock"


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


# A list bound as one JSON parameter: no limit on its length from SQLite's variable count.
IN_LIST = "IN (SELECT value FROM json_each(?))"
# Up to this many audiences, a page is a merge of per-audience index range scans.
MERGE_AUDIENCES = 64


def json_list(values: Iterable[str] | Iterable[int]) -> str:
    return orjson.dumps(sorted(values)).decode()


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
        return " AND 0", []
    return " AND (" + " OR ".join(alternatives) + ")", params
