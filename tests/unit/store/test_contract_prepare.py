"""Store.prepare: the lock-free work of storing objects done before the transaction, used by the
transaction that places them, and never for another body (both backends)."""

from __future__ import annotations

import pytest

from exchange.store import sql_store
from exchange.store.models import ObjectQuery
from exchange.store.protocol import Store
from tests.unit.store.builders import collection, indicator


def _unexpected(body: bytes) -> bytes:
    raise AssertionError("a prepared body was compressed again under the lock")


def test_a_transaction_stores_the_bodies_prepared_before_it(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = collection(store)
    objects = [indicator(), indicator()]
    store.prepare(objects)
    monkeypatch.setattr(sql_store, "encode_body", _unexpected)
    with store.transaction() as tx:
        tx.place([c], objects, target=c)
    page = store.page(c, ObjectQuery(), after=None, limit=10, with_bodies=True)
    assert sorted(row.body or b"" for row in page.rows) == sorted(o.body for o in objects)


def test_an_object_not_prepared_is_stored_all_the_same(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = collection(store)
    prepared, other = indicator(), indicator(name="another body")
    store.prepare([prepared])
    made: list[bytes] = []
    real = sql_store.encode_body

    def counting(body: bytes) -> bytes:
        made.append(body)
        return real(body)

    monkeypatch.setattr(sql_store, "encode_body", counting)
    with store.transaction() as tx:
        tx.place([c], [prepared, other], target=c)
    assert made == [other.body]  # only the body nobody prepared
    page = store.page(c, ObjectQuery(), after=None, limit=10, with_bodies=True)
    assert sorted(row.body or b"" for row in page.rows) == sorted([prepared.body, other.body])
