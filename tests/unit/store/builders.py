"""Builders the store contract suites share."""

from __future__ import annotations

import uuid

from exchange.stix.objects import ObjectVersion, check_object
from exchange.store.models import Account, Collection, CollectionKind, ObjectQuery, Role
from exchange.store.protocol import Store

__all__ = ["account", "collection", "ids", "indicator"]


def indicator(
    stix_id: str | None = None, modified: str = "2024-01-01T00:00:00.000Z", **extra: object
) -> ObjectVersion:
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id or f"indicator--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": modified,
        "pattern": "[ipv4-addr:value = '198.51.100.1']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
        **extra,
    }
    checked = check_object(obj)
    assert isinstance(checked, ObjectVersion)
    return checked


def collection(store: Store, kind: CollectionKind = CollectionKind.SHARED, **kw: str) -> Collection:
    return store.add_collection(collection_id=str(uuid.uuid4()), kind=kind, title="t", **kw)


def ids(store: Store, collection: Collection, query: ObjectQuery | None = None) -> list[str]:
    page = store.page(collection, query or ObjectQuery(), after=None, limit=1000, with_bodies=False)
    return [row.stix_id for row in page.rows]


def account(username: str, role: Role = Role.PARTNER) -> Account:
    return Account(
        id=str(uuid.uuid4()),
        username=username,
        role=role,
        display_name=username,
        country="FR" if role is Role.ANALYST else None,
        credential_id=uuid.uuid4().hex[:16],
        token_hash="scrypt$x",
        active=True,
        created="2024-01-01T00:00:00.000000Z",
    )
