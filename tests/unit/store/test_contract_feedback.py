"""Store behaviour of the feedback part every backend must have (the contract suite).

Who delivered an object to a collection (placements and co-deliveries, through submissions),
feedback collections as a collection kind, and the sightings counted per partner and object.
Only the store protocol is used.
"""

from __future__ import annotations

import uuid

from exchange.store.feedback_models import FeedbackSighting, FeedbackSummary
from exchange.store.models import Collection, CollectionKind, Submission
from exchange.store.protocol import Store, Transaction
from tests.unit.store.builders import account as _account
from tests.unit.store.builders import collection as _collection
from tests.unit.store.builders import ids as _ids
from tests.unit.store.builders import indicator as _indicator


def _partner(store: Store, username: str) -> str:
    made = _account(username)
    store.add_account(made)
    return made.id


def _countries(store: Store, *codes: str) -> dict[str, Collection]:
    return {code: _collection(store, CollectionKind.COUNTRY, country=code) for code in codes}


def _submit(tx: Transaction, partner: str) -> int:
    return tx.add_submission(
        Submission(partner, "agreement--1", 1, str(uuid.uuid4()), 1, accepted=1, refused=0)
    )


def _sighting(
    partner: str,
    object_id: str,
    *,
    sighting_id: str | None = None,
    version: int = 1_000,
    false_positive: bool = False,
    count: int = 1,
    sighted_at: int = 5_000,
    reported_at: int = 9_000,
) -> FeedbackSighting:
    return FeedbackSighting(
        partner_account=partner,
        sighting_id=sighting_id or f"sighting--{uuid.uuid4()}",
        object_id=object_id,
        version=version,
        false_positive=false_positive,
        count=count,
        sighted_at=sighted_at,
        reported_at=reported_at,
    )


# Contributors -------------------------------------------------------------------------------
def test_contributors_are_the_partners_whose_submissions_placed_the_object(store: Store) -> None:
    first, second, third = (_partner(store, name) for name in ("p1", "p2", "p3"))
    c = _countries(store, "FR", "DE")
    mine, theirs, nobodys = _indicator(), _indicator(), _indicator()
    with store.transaction() as tx:
        tx.place([c["FR"], c["DE"]], [mine], target=None, submission_pk=_submit(tx, first))
        tx.place([c["DE"]], [theirs], target=None, submission_pk=_submit(tx, third))
        tx.place([c["FR"]], [nobodys], target=None)  # not from a submission
    assert store.contributors_of(mine.stix_id, c["FR"]) == [first]
    assert store.contributors_of(mine.stix_id, c["DE"]) == [first]
    assert store.contributors_of(theirs.stix_id, c["DE"]) == [third]
    # Only the collection asked about counts: the object is not in France.
    assert store.contributors_of(theirs.stix_id, c["FR"]) == []
    assert store.contributors_of(nobodys.stix_id, c["FR"]) == []
    assert store.contributors_of(f"indicator--{uuid.uuid4()}", c["FR"]) == []
    assert second not in store.contributors_of(mine.stix_id, c["FR"])


def test_a_co_delivery_makes_a_second_contributor_for_that_collection_only(store: Store) -> None:
    first, second = _partner(store, "p1"), _partner(store, "p2")
    c = _countries(store, "FR", "DE")
    shared = _indicator()
    with store.transaction() as tx:
        tx.place([c["FR"]], [shared], target=None, submission_pk=_submit(tx, first))
    with store.transaction() as tx:
        # The second partner sends the same version to FR (already there) and DE (new).
        tx.place([c["FR"], c["DE"]], [shared], target=None, submission_pk=_submit(tx, second))
    assert _ids(store, c["FR"]) == [shared.stix_id]
    assert store.contributors_of(shared.stix_id, c["FR"]) == sorted([first, second])
    assert store.contributors_of(shared.stix_id, c["DE"]) == [second]


def test_every_version_counts_and_partners_are_listed_once(store: Store) -> None:
    first, second = _partner(store, "p1"), _partner(store, "p2")
    c = _countries(store, "FR")
    stix_id = f"indicator--{uuid.uuid4()}"
    v1 = _indicator(stix_id, modified="2024-01-01T00:00:00.000Z")
    v2 = _indicator(stix_id, modified="2024-02-01T00:00:00.000Z")
    v3 = _indicator(stix_id, modified="2024-03-01T00:00:00.000Z")
    with store.transaction() as tx:
        tx.place([c["FR"]], [v1], target=None, submission_pk=_submit(tx, second))
        tx.place([c["FR"]], [v2], target=None, submission_pk=_submit(tx, first))
        tx.place([c["FR"]], [v3], target=None, submission_pk=_submit(tx, first))
    assert store.contributors_of(stix_id, c["FR"]) == sorted([first, second])


def test_contributors_inside_a_transaction_see_its_placements(store: Store) -> None:
    partner = _partner(store, "p1")
    c = _countries(store, "FR")
    obj = _indicator()
    with store.transaction() as tx:
        tx.place([c["FR"]], [obj], target=None, submission_pk=_submit(tx, partner))
        assert store.contributors_of(obj.stix_id, c["FR"]) == [partner]


# Feedback collections -----------------------------------------------------------------------
def test_a_feedback_collection_keeps_its_kind_and_owner(store: Store) -> None:
    partner = _partner(store, "p1")
    made = store.add_collection(
        collection_id=str(uuid.uuid4()),
        kind=CollectionKind.FEEDBACK,
        title="Feedback for p1",
        owner_account=partner,
    )
    found = store.collection(made.id)
    assert found == made
    assert found is not None
    assert found.kind is CollectionKind.FEEDBACK
    assert found.owner_account == partner
    assert store.collections()[-1] == made
    obj = _indicator()
    with store.transaction() as tx:
        [outcome] = tx.place([made], [obj], target=made)
    assert outcome.stored
    assert _ids(store, made) == [obj.stix_id]
    # Feedback placements come from no submission: their objects have no contributor.
    assert store.contributors_of(obj.stix_id, made) == []


# Sightings and their counts -----------------------------------------------------------------
def test_counts_per_object_split_seen_and_false_positive(store: Store) -> None:
    partner, other = _partner(store, "p1"), _partner(store, "p2")
    a, b = "indicator--00000000-0000-4000-8000-00000000000a", "malware--" + str(uuid.uuid4())
    with store.transaction() as tx:
        tx.record_sighting(_sighting(partner, a, count=3, sighted_at=100, reported_at=1_000))
        tx.record_sighting(_sighting(partner, a, count=2, sighted_at=300, reported_at=2_000))
        tx.record_sighting(
            _sighting(partner, a, false_positive=True, count=7, sighted_at=900, reported_at=3_000)
        )
        tx.record_sighting(_sighting(partner, b, false_positive=True, reported_at=4_000))
        tx.record_sighting(_sighting(other, a, count=50, reported_at=5_000))
    assert store.feedback_summary(partner) == [
        FeedbackSummary(a, 2, 5, 1, 300, 3_000),
        FeedbackSummary(b, 0, 0, 1, None, 4_000),
    ]
    assert store.feedback_summary(other) == [FeedbackSummary(a, 1, 50, 0, 5_000, 5_000)]
    assert store.feedback_summary("nobody") == []
    assert [s.object_id for s in store.feedback_sightings(partner)] == [a, a, a, b]
    assert len(store.feedback_sightings(other)) == 1


def test_summary_pages_by_object_id(store: Store) -> None:
    partner = _partner(store, "p1")
    object_ids = sorted(f"indicator--{uuid.uuid4()}" for _ in range(5))
    with store.transaction() as tx:
        for object_id in reversed(object_ids):
            tx.record_sighting(_sighting(partner, object_id))
    first = store.feedback_summary(partner, limit=2)
    assert [row.object_id for row in first] == object_ids[:2]
    rest = store.feedback_summary(partner, after=first[-1].object_id, limit=10)
    assert [row.object_id for row in rest] == object_ids[2:]
    assert store.feedback_summary(partner, after=object_ids[-1]) == []


def test_a_newer_version_of_a_sighting_replaces_the_older_one(store: Store) -> None:
    partner = _partner(store, "p1")
    object_id = f"indicator--{uuid.uuid4()}"
    sighting_id = f"sighting--{uuid.uuid4()}"
    with store.transaction() as tx:
        tx.record_sighting(_sighting(partner, object_id, sighting_id=sighting_id, count=1))
    with store.transaction() as tx:
        newer = _sighting(
            partner, object_id, sighting_id=sighting_id, version=2_000, count=4, sighted_at=8_000
        )
        tx.record_sighting(newer)
    assert store.feedback_summary(partner) == [FeedbackSummary(object_id, 1, 4, 0, 8_000, 9_000)]
    with store.transaction() as tx:  # an older version (or the same again) changes nothing
        tx.record_sighting(
            _sighting(partner, object_id, sighting_id=sighting_id, version=1_500, count=99)
        )
        tx.record_sighting(
            _sighting(partner, object_id, sighting_id=sighting_id, version=2_000, count=99)
        )
    assert store.feedback_sightings(partner) == [newer]
    with store.transaction() as tx:  # a newer version may change the verdict
        tx.record_sighting(
            _sighting(
                partner, object_id, sighting_id=sighting_id, version=3_000, false_positive=True
            )
        )
    assert store.feedback_summary(partner) == [FeedbackSummary(object_id, 0, 0, 1, None, 9_000)]


def test_a_rolled_back_sighting_is_not_counted(store: Store) -> None:
    partner = _partner(store, "p1")
    object_id = f"indicator--{uuid.uuid4()}"
    try:
        with store.transaction() as tx:
            tx.record_sighting(_sighting(partner, object_id))
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    assert store.feedback_summary(partner) == []
