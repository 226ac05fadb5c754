"""Store behaviour every backend must have (the contract suite)."""

from __future__ import annotations

import uuid

import pytest

from exchange.errors import Conflict
from exchange.stix.objects import ObjectVersion, check_object
from exchange.stix.timestamps import now_us
from exchange.store.models import (
    CollectionKind,
    Grant,
    ObjectQuery,
    Position,
    StatusRecord,
    VersionSelector,
)
from exchange.store.protocol import Store
from tests.unit.store.builders import account as _account
from tests.unit.store.builders import collection as _collection
from tests.unit.store.builders import ids as _ids
from tests.unit.store.builders import indicator as _indicator


def test_placed_objects_come_back_in_order_with_their_bodies(store: Store) -> None:
    c = _collection(store)
    objs = [_indicator() for _ in range(5)]
    with store.transaction() as tx:
        outcomes = tx.place([c], objs, target=c)
    assert [o.stored for o in outcomes] == [True] * 5
    page = store.page(c, ObjectQuery(), after=None, limit=10, with_bodies=True)
    assert [r.stix_id for r in page.rows] == [o.stix_id for o in objs]
    assert [r.body for r in page.rows] == [o.body for o in objs]
    assert not page.more
    dates = [r.date_added for r in page.rows]
    assert dates == sorted(set(dates)), "date_added strictly increases"


def test_date_added_keeps_increasing_across_transactions(store: Store) -> None:
    c = _collection(store)
    for _ in range(3):
        with store.transaction() as tx:
            tx.place([c], [_indicator(), _indicator()], target=c)
    rows = store.page(c, ObjectQuery(), after=None, limit=10, with_bodies=False).rows
    dates = [r.date_added for r in rows]
    assert len(dates) == 6
    assert dates == sorted(set(dates))
    assert abs(dates[-1] - now_us()) < 60_000_000


def test_keyset_pages_cover_everything_once(store: Store) -> None:
    c = _collection(store)
    objs = [_indicator() for _ in range(23)]
    with store.transaction() as tx:
        tx.place([c], objs, target=c)
    seen: list[str] = []
    after: Position | None = None
    while True:
        page = store.page(c, ObjectQuery(), after=after, limit=5, with_bodies=False)
        seen.extend(r.stix_id for r in page.rows)
        if not page.more:
            break
        after = page.rows[-1].position
    assert seen == [o.stix_id for o in objs]


def test_identical_version_is_stored_once_and_conflicts_are_refused(store: Store) -> None:
    c = _collection(store)
    first = _indicator()
    different = _indicator(first.stix_id, name="changed")
    with store.transaction() as tx:
        outcomes = tx.place([c], [first, first, different], target=c)
    assert [(o.stored, o.refused is None) for o in outcomes] == [
        (True, True),
        (False, True),
        (False, False),
    ]
    assert "different object" in (outcomes[2].refused or "")
    assert _ids(store, c) == [first.stix_id]


def test_an_object_is_stored_once_whatever_its_audience(store: Store) -> None:
    inbox = _collection(store, CollectionKind.INBOX)
    countries = [
        _collection(store, CollectionKind.COUNTRY, country=code) for code in ("FR", "DE", "BR")
    ]
    obj = _indicator()
    with store.transaction() as tx:
        tx.place([inbox, *countries], [obj], target=inbox)
    for collection in (inbox, *countries):
        assert _ids(store, collection) == [obj.stix_id]
    sizes = dict(store.iter_collection_sizes())
    assert all(sizes[c.id] == 1 for c in (inbox, *countries))


def test_a_collection_in_several_audiences_merges_them_in_order(store: Store) -> None:
    a = _collection(store, CollectionKind.INBOX)
    b = _collection(store, CollectionKind.INBOX)
    fr = _collection(store, CollectionKind.COUNTRY, country="FR")
    de = _collection(store, CollectionKind.COUNTRY, country="DE")
    expected: list[str] = []
    for i in range(12):
        obj = _indicator()
        source, audience = (a, [a, fr]) if i % 3 else (b, [b, fr, de])
        with store.transaction() as tx:
            tx.place(audience, [obj], target=source)
        expected.append(obj.stix_id)
    assert _ids(store, fr) == expected
    # paged in small steps the merge still yields each object once, in order
    seen: list[str] = []
    after = None
    while True:
        page = store.page(fr, ObjectQuery(), after=after, limit=5, with_bodies=False)
        seen.extend(r.stix_id for r in page.rows)
        if not page.more:
            break
        after = page.rows[-1].position
    assert seen == expected
    assert _ids(store, de) == [expected[i] for i in range(12) if i % 3 == 0]


def test_audience_members_that_already_hold_a_version_are_left_out(store: Store) -> None:
    a = _collection(store, CollectionKind.INBOX)
    b = _collection(store, CollectionKind.INBOX)
    fr = _collection(store, CollectionKind.COUNTRY, country="FR")
    obj = _indicator()
    with store.transaction() as tx:
        tx.place([a, fr], [obj], target=a)
    with store.transaction() as tx:
        outcomes = tx.place([b, fr], [obj], target=b)
    assert outcomes[0].stored
    assert _ids(store, fr) == [obj.stix_id], "FR sees the version once"
    assert _ids(store, b) == [obj.stix_id]


def test_version_selection(store: Store) -> None:
    c = _collection(store)
    stix_id = f"indicator--{uuid.uuid4()}"
    versions = [_indicator(stix_id, modified=f"2024-01-0{day}T00:00:00.000Z") for day in (1, 2, 3)]
    other = _indicator()
    with store.transaction() as tx:
        tx.place([c], [versions[1], other, versions[2], versions[0]], target=c)

    def selected(selector: VersionSelector) -> list[int]:
        query = ObjectQuery(ids=frozenset({stix_id}), versions=selector)
        rows = store.page(c, query, after=None, limit=10, with_bodies=False).rows
        return sorted(r.version for r in rows)

    v = [o.version for o in versions]
    assert selected(VersionSelector()) == [v[2]]
    assert selected(VersionSelector(last=False, first=True)) == [v[0]]
    assert selected(VersionSelector(last=True, first=True)) == [v[0], v[2]]
    assert selected(VersionSelector(last=False, all=True)) == v
    assert selected(VersionSelector(last=False, exact=frozenset({v[1]}))) == [v[1]]
    assert _ids(store, c).count(stix_id) == 1
    assert other.stix_id in _ids(store, c)


def test_filters_by_type_id_spec_version_and_added_after(store: Store) -> None:
    c = _collection(store)
    first, second = _indicator(), _indicator()
    malware = check_object(
        {
            "type": "malware",
            "spec_version": "2.1",
            "id": f"malware--{uuid.uuid4()}",
            "created": "2024-01-01T00:00:00.000Z",
            "modified": "2024-01-01T00:00:00.000Z",
            "name": "x",
            "is_family": True,
        }
    )
    assert isinstance(malware, ObjectVersion)
    with store.transaction() as tx:
        tx.place([c], [first, malware, second], target=c)
    assert _ids(store, c, ObjectQuery(types=frozenset({"malware"}))) == [malware.stix_id]
    assert _ids(store, c, ObjectQuery(ids=frozenset({second.stix_id, malware.stix_id}))) == [
        malware.stix_id,
        second.stix_id,
    ]
    assert _ids(store, c, ObjectQuery(spec_versions=frozenset({"2.0"}))) == []
    rows = store.page(c, ObjectQuery(), after=None, limit=10, with_bodies=False).rows
    after_first = ObjectQuery(added_after=rows[0].date_added)
    assert _ids(store, c, after_first) == [malware.stix_id, second.stix_id]


def test_remove_takes_versions_out_of_one_collection_only(store: Store) -> None:
    inbox = _collection(store, CollectionKind.INBOX)
    fr = _collection(store, CollectionKind.COUNTRY, country="FR")
    stix_id = f"indicator--{uuid.uuid4()}"
    old, new = (
        _indicator(stix_id, modified=m)
        for m in ("2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z")
    )
    with store.transaction() as tx:
        tx.place([inbox, fr], [old, new], target=inbox)
    with store.transaction() as tx:
        removed = tx.remove(
            inbox, stix_id, VersionSelector(last=False, exact=frozenset({old.version})), frozenset()
        )
    assert removed == 1
    all_versions = ObjectQuery(versions=VersionSelector(last=False, all=True))
    assert _ids(store, inbox, all_versions) == [stix_id]
    assert _ids(store, fr, all_versions) == [stix_id, stix_id]
    with store.transaction() as tx:
        tx.remove(fr, stix_id, VersionSelector(last=False, all=True), frozenset())
        tx.remove(inbox, stix_id, VersionSelector(last=False, all=True), frozenset())
    assert not store.holds(inbox, stix_id)
    assert not store.holds(fr, stix_id)


def test_a_failed_transaction_leaves_nothing(store: Store) -> None:
    c = _collection(store)
    obj = _indicator()

    def fail_half_way() -> None:
        with store.transaction() as tx:
            tx.place([c], [obj], target=c)
            tx.save_status(StatusRecord("s1", c.id, "a", b"{}"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_half_way()
    assert _ids(store, c) == []
    assert store.status("s1") is None


def test_statuses_round_trip(store: Store) -> None:
    with store.transaction() as tx:
        tx.save_status(StatusRecord("s2", "c", "acct", b'{"id":"s2"}'))
    assert store.status("s2") == StatusRecord("s2", "c", "acct", b'{"id":"s2"}')


def test_secrets_are_made_once(store: Store) -> None:
    first = store.secret("cursor")
    assert len(first) == 32
    assert store.secret("cursor") == first
    assert store.secret("other") != first


def test_accounts_and_grants(store: Store) -> None:
    partner = _account("p1")
    store.add_account(partner)
    with pytest.raises(Conflict):
        store.add_account(_account("p1"))
    assert store.account(partner.id) == partner
    assert store.account_by_username("p1") == partner
    assert store.account_by_credential(partner.credential_id) == partner
    store.set_credential(partner.id, "0123456789abcdef", "scrypt$y")
    assert store.account_by_credential(partner.credential_id) is None
    assert store.account(partner.id).token_hash == "scrypt$y"  # type: ignore[union-attr]
    store.set_active(partner.id, False)
    assert store.account(partner.id).active is False  # type: ignore[union-attr]

    shared = _collection(store)
    store.set_grant(Grant(shared.id, partner.id, can_read=True, can_write=False))
    store.set_grant(Grant(shared.id, partner.id, can_read=True, can_write=True))
    assert store.grants_for_account(partner.id) == [Grant(shared.id, partner.id, True, True)]
    assert store.grants_for_collection(shared.id) == [Grant(shared.id, partner.id, True, True)]


def test_collections_have_unique_ids(store: Store) -> None:
    c = _collection(store)
    with pytest.raises(Conflict):
        store.add_collection(collection_id=c.id, kind=CollectionKind.SHARED, title="again")
    assert store.collection(c.id) == c
    assert c in store.collections()
