"""Recalls in the store: where a partner's redistribution went, and dropping what is held."""

from __future__ import annotations

import orjson

from exchange.store.models import CollectionKind, Submission
from exchange.store.protocol import Store
from tests.unit.store.builders import collection, indicator


def _submission(store: Store, partner: str) -> int:
    with store.transaction() as tx:
        return tx.add_submission(Submission(partner, "agreement--x", 1, partner, 0, 1, 0))


def test_deliveries_are_the_newest_version_per_country_of_the_partners_placements(
    store: Store,
) -> None:
    fr = collection(store, CollectionKind.COUNTRY, country="FR")
    de = collection(store, CollectionKind.COUNTRY, country="DE")
    inbox = collection(store, CollectionKind.INBOX)
    first = indicator()
    newer = indicator(first.stix_id, modified="2024-06-01T00:00:00.000Z")
    mine, theirs = _submission(store, "p-a"), _submission(store, "p-b")
    with store.transaction() as tx:
        tx.place([inbox], [first, newer], target=inbox, submission_pk=mine)
        tx.place([fr, de], [first], target=None, submission_pk=mine)
        tx.place([fr], [newer], target=None, submission_pk=mine)
        tx.place([de], [indicator()], target=None, submission_pk=theirs)
    with store.transaction() as tx:
        found = {d.collection.country: d for d in tx.deliveries("p-a", first.stix_id)}
        assert tx.deliveries("p-b", first.stix_id) == []
    assert set(found) == {"FR", "DE"}  # country collections only, not the inbox
    assert found["FR"].version == newer.version
    assert orjson.loads(found["FR"].body) == orjson.loads(newer.body)
    assert found["DE"].version == first.version


def test_drop_held_removes_only_that_partners_object(store: Store) -> None:
    held, other = indicator(), indicator()
    mine, theirs = _submission(store, "p-a"), _submission(store, "p-b")
    with store.transaction() as tx:
        tx.embargo([held, other], ["FR"], due_at=10, submission_pk=mine)
        tx.embargo([held], ["DE"], due_at=10, submission_pk=theirs)
    with store.transaction() as tx:
        assert tx.drop_held("p-a", held.stix_id) == 1
    assert store.held_count() == 2
