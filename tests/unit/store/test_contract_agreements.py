"""Store behaviour of the agreements part every backend must have (the contract suite).

Submissions, quota usage, embargoes, narrowing and purging a partner's redistribution, partner
records, agreement versions and the change record. Only the store protocol is used.
"""

from __future__ import annotations

import uuid

import pytest

from exchange.errors import Conflict
from exchange.stix.objects import ObjectVersion
from exchange.stix.timestamps import now_us
from exchange.store.models import (
    AgreementVersion,
    Change,
    Collection,
    CollectionKind,
    ObjectQuery,
    Submission,
    VersionSelector,
)
from exchange.store.protocol import Store, Transaction
from tests.unit.store.builders import account as _account
from tests.unit.store.builders import collection as _collection
from tests.unit.store.builders import ids as _ids
from tests.unit.store.builders import indicator as _indicator

DAY_US = 86_400_000_000


# Helpers ------------------------------------------------------------------------------------
def _partner(store: Store, username: str) -> str:
    account = _account(username)
    store.add_account(account)
    return account.id


def _countries(store: Store, *codes: str) -> dict[str, Collection]:
    return {code: _collection(store, CollectionKind.COUNTRY, country=code) for code in codes}


def _inbox(store: Store, partner: str) -> Collection:
    return _collection(store, CollectionKind.INBOX, owner_account=partner)


def _submission(partner: str, status_id: str | None = None, received_at: int = 1) -> Submission:
    return Submission(
        partner_account=partner,
        agreement_id="agreement--1",
        agreement_version=1,
        status_id=status_id or str(uuid.uuid4()),
        received_at=received_at,
        accepted=1,
        refused=0,
    )


def _submit(tx: Transaction, partner: str) -> int:
    return tx.add_submission(_submission(partner))


def _agreement(
    agreement_id: str, version: int, partner: str, status: str = "active"
) -> AgreementVersion:
    return AgreementVersion(
        agreement_id=agreement_id,
        version=version,
        partner_account=partner,
        status=status,
        terms=f'{{"v":{version}}}'.encode(),
        created_by="admin",
        created_at=f"2024-01-0{version}T00:00:00.000000Z",
    )


def _change(entity: str, entity_id: str, action: str, **kw: bytes | None) -> Change:
    return Change(
        at="2024-01-01T00:00:00.000000Z",
        actor="admin",
        entity=entity,
        entity_id=entity_id,
        action=action,
        before=kw.get("before"),
        after=kw.get("after"),
    )


def _everywhere(store: Store, stix_id: str, *collections: Collection) -> bool:
    return any(store.holds(c, stix_id) for c in collections)


# Submissions --------------------------------------------------------------------------------
def test_submissions_get_distinct_keys_and_list_in_order(store: Store) -> None:
    partner = _partner(store, "p1")
    other = _partner(store, "p2")
    made = [
        Submission(partner, "agreement--a", 1, "s1", 100, 3, 0),
        Submission(partner, "agreement--a", 2, "s2", 200, 1, 2),
        Submission(partner, "agreement--a", 2, "s3", 300, 0, 5),
    ]
    with store.transaction() as tx:
        keys = [tx.add_submission(s) for s in made[:2]]
        tx.add_submission(Submission(other, "agreement--b", 1, "o1", 150, 1, 1))
    with store.transaction() as tx:
        keys.append(tx.add_submission(made[2]))
    assert len(set(keys)) == 3
    assert store.submissions(partner) == made
    assert store.submissions(other) == [Submission(other, "agreement--b", 1, "o1", 150, 1, 1)]
    assert store.submissions("nobody") == []


def test_placements_made_with_a_submission_are_the_partners(store: Store) -> None:
    partner = _partner(store, "p1")
    other = _partner(store, "p2")
    inbox = _inbox(store, partner)
    other_inbox = _inbox(store, other)
    mine, theirs = _indicator(), _indicator()
    with store.transaction() as tx:
        tx.place([inbox], [mine], target=inbox, submission_pk=_submit(tx, partner))
        tx.place([other_inbox], [theirs], target=other_inbox, submission_pk=_submit(tx, other))
    # The partner's placements are what purging the partner takes away; the other's stay.
    with store.transaction() as tx:
        assert tx.purge_before(partner, now_us() + DAY_US) == 1
    assert not store.holds(inbox, mine.stix_id)
    assert _ids(store, other_inbox) == [theirs.stix_id]


# Quota usage --------------------------------------------------------------------------------
def test_usage_accumulates_per_partner_and_day(store: Store) -> None:
    a, b = _partner(store, "p1"), _partner(store, "p2")
    assert store.usage(a, "2024-01-01") == 0
    with store.transaction() as tx:
        assert tx.add_usage(a, "2024-01-01", 5) == 5
        assert tx.add_usage(a, "2024-01-01", 3) == 8
        assert tx.add_usage(a, "2024-01-02", 2) == 2
        assert tx.add_usage(b, "2024-01-01", 7) == 7
    with store.transaction() as tx:
        assert tx.add_usage(a, "2024-01-01", 1) == 9
    assert store.usage(a, "2024-01-01") == 9
    assert store.usage(a, "2024-01-02") == 2
    assert store.usage(b, "2024-01-01") == 7
    assert store.usage(b, "2024-01-02") == 0


# Embargo ------------------------------------------------------------------------------------
def test_held_objects_are_invisible_until_released(store: Store) -> None:
    partner = _partner(store, "p1")
    c = _countries(store, "FR", "DE", "BR")
    earlier = _indicator()
    held = [_indicator(), _indicator()]
    with store.transaction() as tx:
        tx.place([c["FR"]], [earlier], target=None)
    due = now_us()
    with store.transaction() as tx:
        tx.embargo(held, ["FR", "DE"], due_at=due, submission_pk=_submit(tx, partner))
    for obj in held:
        assert not _everywhere(store, obj.stix_id, *c.values())
    assert _ids(store, c["DE"]) == []

    with store.transaction() as tx:
        assert tx.release_embargoes(due - 1) == 0
    assert _ids(store, c["DE"]) == []

    before_release = store.page(c["FR"], ObjectQuery(), after=None, limit=10, with_bodies=False)
    last_before = before_release.rows[-1].date_added
    released_at = now_us()
    with store.transaction() as tx:
        assert tx.release_embargoes(released_at) == 2
    expected = [obj.stix_id for obj in held]
    assert _ids(store, c["FR"]) == [earlier.stix_id, *expected]
    assert _ids(store, c["DE"]) == expected
    assert _ids(store, c["BR"]) == []
    rows = store.page(c["DE"], ObjectQuery(), after=None, limit=10, with_bodies=True).rows
    assert [r.body for r in rows] == [obj.body for obj in held]
    assert all(r.date_added > last_before for r in rows)
    assert all(r.date_added >= released_at for r in rows)

    with store.transaction() as tx:
        assert tx.release_embargoes(now_us() + DAY_US) == 0
    assert _ids(store, c["DE"]) == expected


def test_release_is_due_exactly_at_due_at(store: Store) -> None:
    partner = _partner(store, "p1")
    c = _countries(store, "FR")
    soon, later = _indicator(), _indicator()
    due = now_us()
    with store.transaction() as tx:
        sub = _submit(tx, partner)
        tx.embargo([soon], ["FR"], due_at=due, submission_pk=sub)
        tx.embargo([later], ["FR"], due_at=due + DAY_US, submission_pk=sub)
    with store.transaction() as tx:
        assert tx.release_embargoes(due) == 1
    assert _ids(store, c["FR"]) == [soon.stix_id]
    with store.transaction() as tx:
        assert tx.release_embargoes(due + DAY_US - 1) == 0
    with store.transaction() as tx:
        assert tx.release_embargoes(due + DAY_US) == 1
    assert _ids(store, c["FR"]) == [soon.stix_id, later.stix_id]


def test_cancel_drops_a_partners_held_objects_only(store: Store) -> None:
    a, b = _partner(store, "p1"), _partner(store, "p2")
    c = _countries(store, "FR", "DE")
    a_held = [_indicator(), _indicator()]
    b_held = _indicator()
    due = now_us()
    with store.transaction() as tx:
        tx.embargo(a_held, ["FR", "DE"], due_at=due, submission_pk=_submit(tx, a))
        tx.embargo([b_held], ["FR"], due_at=due, submission_pk=_submit(tx, b))
    with store.transaction() as tx:
        assert tx.cancel_embargoes(a) == 2
    with store.transaction() as tx:
        assert tx.cancel_embargoes(a) == 0
        assert tx.release_embargoes(now_us() + DAY_US) == 1
    assert _ids(store, c["FR"]) == [b_held.stix_id]
    assert _ids(store, c["DE"]) == []
    for obj in a_held:
        assert not _everywhere(store, obj.stix_id, *c.values())


def test_cancelled_objects_that_were_only_held_do_not_linger(store: Store) -> None:
    partner = _partner(store, "p1")
    c = _countries(store, "FR", "DE")
    shared = _collection(store)
    held = _indicator()
    with store.transaction() as tx:
        tx.embargo([held], ["FR", "DE"], due_at=now_us(), submission_pk=_submit(tx, partner))
    with store.transaction() as tx:
        assert tx.cancel_embargoes(partner) == 1
    assert not _everywhere(store, held.stix_id, *c.values(), shared)
    fresh = _indicator()
    with store.transaction() as tx:
        outcomes = tx.place([c["FR"], shared], [fresh], target=shared)
    assert outcomes[0].stored
    assert _ids(store, c["FR"]) == [fresh.stix_id]
    # The dropped object can be stored again, whole.
    with store.transaction() as tx:
        assert tx.place([shared], [held], target=shared)[0].stored
    rows = store.page(shared, ObjectQuery(), after=None, limit=10, with_bodies=True).rows
    assert [(r.stix_id, r.body) for r in rows] == [
        (fresh.stix_id, fresh.body),
        (held.stix_id, held.body),
    ]
    assert not _everywhere(store, held.stix_id, *c.values())


def test_cancel_keeps_a_held_object_that_is_placed_elsewhere(store: Store) -> None:
    partner = _partner(store, "p1")
    c = _countries(store, "FR")
    inbox = _inbox(store, partner)
    obj = _indicator()
    with store.transaction() as tx:
        sub = _submit(tx, partner)
        tx.place([inbox], [obj], target=inbox, submission_pk=sub)
        tx.embargo([obj], ["FR"], due_at=now_us(), submission_pk=sub)
    with store.transaction() as tx:
        assert tx.cancel_embargoes(partner) == 1
        assert tx.release_embargoes(now_us() + DAY_US) == 0
    assert not store.holds(c["FR"], obj.stix_id)
    rows = store.page(inbox, ObjectQuery(), after=None, limit=10, with_bodies=True).rows
    assert [(r.stix_id, r.body) for r in rows] == [(obj.stix_id, obj.body)]


def test_a_held_object_removed_from_the_inbox_is_still_the_one_released(store: Store) -> None:
    """What waits for its embargo is the held object, whatever happens to the inbox copy.

    Removing the inbox copy must neither lose the held object nor let another object take its
    place in the countries' collections.
    """
    partner = _partner(store, "p1")
    c = _countries(store, "FR")
    inbox = _inbox(store, partner)
    shared = _collection(store)
    held = _indicator()
    with store.transaction() as tx:
        sub = _submit(tx, partner)
        tx.place([inbox], [held], target=inbox, submission_pk=sub)
        tx.embargo([held], ["FR"], due_at=now_us(), submission_pk=sub)
    with store.transaction() as tx:
        assert tx.remove(inbox, held.stix_id, VersionSelector(all=True), frozenset()) == 1
    assert not store.holds(inbox, held.stix_id)
    unrelated = _indicator()
    with store.transaction() as tx:
        tx.place([shared], [unrelated], target=shared)
    with store.transaction() as tx:
        released = tx.release_embargoes(now_us() + DAY_US)
    assert not store.holds(c["FR"], unrelated.stix_id), "an object that was never held is released"
    assert _ids(store, c["FR"]) == [held.stix_id]
    assert released == 1
    rows = store.page(c["FR"], ObjectQuery(), after=None, limit=10, with_bodies=True).rows
    assert [r.body for r in rows] == [held.body]


# Narrowing redistribution -------------------------------------------------------------------
def _placed_setup(
    store: Store,
) -> tuple[
    str, str, Collection, Collection, dict[str, Collection], list[ObjectVersion], ObjectVersion
]:
    a, b = _partner(store, "p1"), _partner(store, "p2")
    a_inbox, b_inbox = _inbox(store, a), _inbox(store, b)
    c = _countries(store, "FR", "DE", "BR")
    together, apart = _indicator(), _indicator()
    theirs = _indicator()
    with store.transaction() as tx:
        sub = _submit(tx, a)
        # One placement for the inbox and the countries...
        tx.place([a_inbox, *c.values()], [together], target=a_inbox, submission_pk=sub)
        # ...and one as a submission makes it: the inbox, then redistribution.
        tx.place([a_inbox], [apart], target=a_inbox, submission_pk=sub)
        tx.place(list(c.values()), [apart], target=None, submission_pk=sub)
        other = _submit(tx, b)
        tx.place([b_inbox], [theirs], target=b_inbox, submission_pk=other)
        tx.place(list(c.values()), [theirs], target=None, submission_pk=other)
    return a, b, a_inbox, b_inbox, c, [together, apart], theirs


def test_narrowing_placed_redistribution_keeps_only_the_kept_countries(store: Store) -> None:
    a, _, a_inbox, b_inbox, c, mine, theirs = _placed_setup(store)
    mine_ids = [obj.stix_id for obj in mine]
    with store.transaction() as tx:
        changed = tx.narrow_redistribution(a, frozenset({"FR"}), placed=True)
    assert changed == 2
    assert _ids(store, c["FR"]) == [*mine_ids, theirs.stix_id]
    assert _ids(store, c["DE"]) == [theirs.stix_id]
    assert _ids(store, c["BR"]) == [theirs.stix_id]
    assert _ids(store, a_inbox) == mine_ids
    assert _ids(store, b_inbox) == [theirs.stix_id]
    rows = store.page(a_inbox, ObjectQuery(), after=None, limit=10, with_bodies=True).rows
    assert [r.body for r in rows] == [obj.body for obj in mine]


def test_narrowing_to_nothing_withdraws_from_countries_but_not_the_inbox(store: Store) -> None:
    a, _, a_inbox, b_inbox, c, mine, theirs = _placed_setup(store)
    with store.transaction() as tx:
        changed = tx.narrow_redistribution(a, frozenset(), placed=True)
    assert changed == 2
    for country in c.values():
        assert _ids(store, country) == [theirs.stix_id]
        for obj in mine:
            assert not store.holds(country, obj.stix_id)
    assert _ids(store, a_inbox) == [obj.stix_id for obj in mine]
    assert _ids(store, b_inbox) == [theirs.stix_id]


def test_narrowing_without_placed_changes_nothing_placed(store: Store) -> None:
    a, _, a_inbox, _, c, mine, theirs = _placed_setup(store)
    mine_ids = [obj.stix_id for obj in mine]
    before = {code: _ids(store, country) for code, country in c.items()}
    with store.transaction() as tx:
        assert tx.narrow_redistribution(a, frozenset({"FR"}), placed=False) == 0
        assert tx.narrow_redistribution(a, frozenset(), placed=False) == 0
    assert {code: _ids(store, country) for code, country in c.items()} == before
    assert before["DE"] == [*mine_ids, theirs.stix_id]
    assert _ids(store, a_inbox) == mine_ids


def test_narrowing_always_narrows_held_objects(store: Store) -> None:
    a, b = _partner(store, "p1"), _partner(store, "p2")
    c = _countries(store, "FR", "DE", "BR")
    mine, theirs = _indicator(), _indicator()
    due = now_us()
    with store.transaction() as tx:
        tx.embargo([mine], ["FR", "DE"], due_at=due, submission_pk=_submit(tx, a))
        tx.embargo([theirs], ["FR", "DE"], due_at=due, submission_pk=_submit(tx, b))
    with store.transaction() as tx:
        tx.narrow_redistribution(a, frozenset({"FR", "BR"}), placed=False)
    assert not _everywhere(store, mine.stix_id, *c.values())
    with store.transaction() as tx:
        assert tx.release_embargoes(now_us() + DAY_US) == 2
    assert _ids(store, c["FR"]) == [mine.stix_id, theirs.stix_id]
    assert _ids(store, c["DE"]) == [theirs.stix_id]
    assert _ids(store, c["BR"]) == [], "narrowing never widens"


def test_held_objects_narrowed_to_nothing_are_never_released(store: Store) -> None:
    a = _partner(store, "p1")
    c = _countries(store, "FR", "DE")
    held = _indicator()
    with store.transaction() as tx:
        tx.embargo([held], ["FR", "DE"], due_at=now_us(), submission_pk=_submit(tx, a))
    with store.transaction() as tx:
        tx.narrow_redistribution(a, frozenset(), placed=True)
    with store.transaction() as tx:
        assert tx.release_embargoes(now_us() + DAY_US) == 0
    assert not _everywhere(store, held.stix_id, *c.values())
    fresh = _indicator()
    with store.transaction() as tx:
        assert tx.place([c["FR"]], [fresh], target=None)[0].stored
    assert _ids(store, c["FR"]) == [fresh.stix_id]


def test_narrowing_one_partner_keeps_another_partners_copy_of_the_same_object(
    store: Store,
) -> None:
    """Two partners redistribute the same object version to FR; narrowing one leaves FR's."""
    a, b = _partner(store, "p1"), _partner(store, "p2")
    a_inbox, b_inbox = _inbox(store, a), _inbox(store, b)
    c = _countries(store, "FR")
    same = _indicator()
    with store.transaction() as tx:
        sub = _submit(tx, a)
        tx.place([a_inbox], [same], target=a_inbox, submission_pk=sub)
        tx.place([c["FR"]], [same], target=None, submission_pk=sub)
    with store.transaction() as tx:
        sub = _submit(tx, b)
        tx.place([b_inbox], [same], target=b_inbox, submission_pk=sub)
        tx.place([c["FR"]], [same], target=None, submission_pk=sub)
    assert _ids(store, c["FR"]) == [same.stix_id]
    with store.transaction() as tx:
        tx.narrow_redistribution(a, frozenset(), placed=True)
    assert _ids(store, a_inbox) == [same.stix_id]
    assert _ids(store, b_inbox) == [same.stix_id]
    assert _ids(store, c["FR"]) == [same.stix_id], "b still redistributes it to FR"


# Retention ----------------------------------------------------------------------------------
def test_purge_removes_only_the_partners_older_placements(store: Store) -> None:
    a, b = _partner(store, "p1"), _partner(store, "p2")
    a_inbox, b_inbox = _inbox(store, a), _inbox(store, b)
    c = _countries(store, "FR", "DE")
    shared = _collection(store)
    cutoff = now_us() - 10 * DAY_US
    old, old_together, elsewhere, new = (_indicator() for _ in range(4))
    b_old = _indicator()
    with store.transaction() as tx:
        sub = _submit(tx, a)
        old_at = cutoff - 2 * DAY_US
        tx.place([a_inbox], [old], target=a_inbox, date_added=old_at, submission_pk=sub)
        tx.place([c["FR"], c["DE"]], [old], target=None, date_added=old_at, submission_pk=sub)
        tx.place(
            [a_inbox, c["FR"]],
            [old_together, elsewhere],
            target=a_inbox,
            date_added=cutoff - 1,
            submission_pk=sub,
        )
        # The same version also placed, not as the partner's, in a shared collection.
        tx.place([shared], [elsewhere], target=shared, date_added=cutoff - 1)
        other = _submit(tx, b)
        tx.place(
            [b_inbox, c["DE"]], [b_old], target=b_inbox, date_added=old_at, submission_pk=other
        )
    with store.transaction() as tx:
        tx.place([a_inbox, c["FR"]], [new], target=a_inbox, submission_pk=_submit(tx, a))

    with store.transaction() as tx:
        purged = tx.purge_before(a, cutoff)
    assert purged == 4, "inbox and countries of old, and the placement of old_together/elsewhere"
    assert _ids(store, a_inbox) == [new.stix_id]
    assert _ids(store, c["FR"]) == [new.stix_id]
    assert _ids(store, c["DE"]) == [b_old.stix_id]
    assert _ids(store, b_inbox) == [b_old.stix_id]
    assert _ids(store, shared) == [elsewhere.stix_id]
    rows = store.page(shared, ObjectQuery(), after=None, limit=10, with_bodies=True).rows
    assert [r.body for r in rows] == [elsewhere.body]
    for gone in (old, old_together):
        assert not _everywhere(store, gone.stix_id, a_inbox, b_inbox, shared, *c.values())

    with store.transaction() as tx:
        assert tx.purge_before(a, cutoff) == 0


def test_purge_at_the_cut_off_keeps_what_was_added_at_it(store: Store) -> None:
    a = _partner(store, "p1")
    inbox = _inbox(store, a)
    cutoff = now_us() - DAY_US
    before, at = _indicator(), _indicator()
    with store.transaction() as tx:
        sub = _submit(tx, a)
        tx.place([inbox], [before], target=inbox, date_added=cutoff - 1, submission_pk=sub)
        tx.place([inbox], [at], target=inbox, date_added=cutoff, submission_pk=sub)
    with store.transaction() as tx:
        assert tx.purge_before(a, cutoff) == 1
    assert _ids(store, inbox) == [at.stix_id]


# Partners -----------------------------------------------------------------------------------
def test_partner_records_round_trip_and_are_replaced(store: Store) -> None:
    a, b = _partner(store, "p1"), _partner(store, "p2")
    assert store.partner_record(a) is None
    assert store.partner_records() == []
    with store.transaction() as tx:
        tx.save_partner(a, "vetting", None, b'{"state":"vetting"}')
        tx.save_partner(b, "active", "2025-01-01", b'{"state":"active","\xc3\xa9":1}')
    assert store.partner_record(a) == b'{"state":"vetting"}'
    assert store.partner_record(b) == b'{"state":"active","\xc3\xa9":1}'
    with store.transaction() as tx:
        tx.save_partner(a, "active", "2026-01-01", b'{"state":"active"}')
    assert store.partner_record(a) == b'{"state":"active"}'
    assert sorted(store.partner_records()) == sorted(
        [(a, "active", b'{"state":"active"}'), (b, "active", b'{"state":"active","\xc3\xa9":1}')]
    )


# Agreements ---------------------------------------------------------------------------------
def test_agreement_versions_are_kept_and_unique(store: Store) -> None:
    a = _partner(store, "p1")
    v1, v2 = _agreement("agreement--a", 1, a), _agreement("agreement--a", 2, a, "suspended")
    with store.transaction() as tx:
        tx.add_agreement_version(v1)
    with store.transaction() as tx:
        tx.add_agreement_version(v2)
    with pytest.raises(Conflict), store.transaction() as tx:
        tx.add_agreement_version(_agreement("agreement--a", 1, a, "ended"))
    assert store.agreement_versions("agreement--a") == [v1, v2]
    assert store.agreement_versions("agreement--none") == []
    assert store.current_agreement(a) == v2


def test_agreement_versions_are_ordered_by_version(store: Store) -> None:
    a = _partner(store, "p1")
    versions = {n: _agreement("agreement--a", n, a) for n in (1, 2, 3)}
    with store.transaction() as tx:
        for n in (1, 3, 2):
            tx.add_agreement_version(versions[n])
    assert store.agreement_versions("agreement--a") == [versions[1], versions[2], versions[3]]
    assert [v.version for v in store.current_agreements()] == [3]


def test_current_agreements_are_the_newest_of_each(store: Store) -> None:
    a, b, idle = _partner(store, "p1"), _partner(store, "p2"), _partner(store, "p3")
    a1, a2, a3 = (_agreement("agreement--a", n, a) for n in (1, 2, 3))
    b1, b2 = (_agreement("agreement--b", n, b) for n in (1, 2))
    with store.transaction() as tx:
        for version in (a1, b1, a2):
            tx.add_agreement_version(version)
    assert store.current_agreement(a) == a2
    assert store.current_agreement(b) == b1
    assert store.current_agreement(idle) is None
    with store.transaction() as tx:
        tx.add_agreement_version(b2)
        tx.add_agreement_version(a3)
    assert store.current_agreement(a) == a3
    assert store.current_agreement(b) == b2
    current = store.current_agreements()
    assert sorted(current, key=lambda v: v.agreement_id) == [a3, b2]
    assert store.agreement_versions("agreement--a") == [a1, a2, a3]


# Changes ------------------------------------------------------------------------------------
def test_changes_are_appended_in_order_and_filtered(store: Store) -> None:
    made = [
        _change("agreement", "agreement--a", "create", after=b'{"v":1}'),
        _change("partner", "p1", "vet", before=b'{"s":"new"}', after=b'{"s":"vetted"}'),
        _change("agreement", "agreement--b", "create", after=b'{"v":1}'),
        _change("agreement", "agreement--a", "delete", before=b'{"v":1}'),
    ]
    with store.transaction() as tx:
        for change in made[:3]:
            tx.record_change(change)
    with store.transaction() as tx:
        tx.record_change(made[3])
    stored = store.changes()
    assert len(stored) == 4
    seqs = [c.seq for c in stored]
    assert seqs == sorted(set(seqs))
    assert all(seq > 0 for seq in seqs), "the store assigns seq"

    def without_seq(changes: list[Change]) -> list[tuple[object, ...]]:
        return [
            (c.at, c.actor, c.entity, c.entity_id, c.action, c.before, c.after) for c in changes
        ]

    assert without_seq(stored) == without_seq(made)
    assert stored[3].after is None
    assert stored[0].before is None
    assert without_seq(store.changes("agreement")) == without_seq([made[0], made[2], made[3]])
    assert without_seq(store.changes("agreement", "agreement--a")) == without_seq(
        [made[0], made[3]]
    )
    assert without_seq(store.changes(entity_id="p1")) == without_seq([made[1]])
    assert store.changes("partner", "agreement--a") == []
    assert [c.seq for c in store.changes("agreement")] == [seqs[0], seqs[2], seqs[3]]


# Transactions -------------------------------------------------------------------------------
def test_a_failed_transaction_leaves_no_agreement_writes(store: Store) -> None:
    a = _partner(store, "p1")
    inbox = _inbox(store, a)
    c = _countries(store, "FR")
    obj, held = _indicator(), _indicator()

    def fail_half_way() -> None:
        with store.transaction() as tx:
            sub = tx.add_submission(_submission(a, "s1"))
            tx.place([inbox, c["FR"]], [obj], target=inbox, submission_pk=sub)
            tx.embargo([held], ["FR"], due_at=now_us(), submission_pk=sub)
            tx.add_usage(a, "2024-01-01", 4)
            tx.record_change(_change("partner", a, "vet", after=b"{}"))
            tx.save_partner(a, "active", None, b"{}")
            tx.add_agreement_version(_agreement("agreement--a", 1, a))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_half_way()
    assert store.submissions(a) == []
    assert store.usage(a, "2024-01-01") == 0
    assert store.changes() == []
    assert store.partner_record(a) is None
    assert store.partner_records() == []
    assert store.agreement_versions("agreement--a") == []
    assert store.current_agreement(a) is None
    assert _ids(store, inbox) == []
    with store.transaction() as tx:
        assert tx.release_embargoes(now_us() + DAY_US) == 0
    assert _ids(store, c["FR"]) == []


def test_a_failed_transaction_undoes_narrowing_cancelling_and_purging(store: Store) -> None:
    a = _partner(store, "p1")
    inbox = _inbox(store, a)
    c = _countries(store, "FR", "DE")
    placed, held = _indicator(), _indicator()
    with store.transaction() as tx:
        sub = _submit(tx, a)
        tx.place([inbox, *c.values()], [placed], target=inbox, submission_pk=sub)
        tx.embargo([held], ["FR", "DE"], due_at=now_us(), submission_pk=sub)

    def fail_half_way() -> None:
        with store.transaction() as tx:
            tx.narrow_redistribution(a, frozenset(), placed=True)
            tx.cancel_embargoes(a)
            tx.purge_before(a, now_us() + DAY_US)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_half_way()
    assert _ids(store, inbox) == [placed.stix_id]
    assert _ids(store, c["DE"]) == [placed.stix_id]
    with store.transaction() as tx:
        assert tx.release_embargoes(now_us() + DAY_US) == 1
    assert _ids(store, c["FR"]) == [placed.stix_id, held.stix_id]
    assert _ids(store, c["DE"]) == [placed.stix_id, held.stix_id]
