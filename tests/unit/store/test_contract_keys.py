"""Store behaviour of the signing-keys part every backend must have (the contract suite).

Partner keys (register, end, revoke), replay nonces and signed evidence, through the store
protocol only.
"""

from __future__ import annotations

import uuid

import pytest

from exchange.errors import Conflict, NotFound
from exchange.store.key_models import Evidence, PartnerKey
from exchange.store.models import Account, Role, Submission
from exchange.store.protocol import Store

SECOND = 1_000_000


def _partner(store: Store, username: str) -> Account:
    account = Account(
        id=str(uuid.uuid4()),
        username=username,
        role=Role.PARTNER,
        display_name=username,
        country=None,
        credential_id=uuid.uuid4().hex[:16],
        token_hash="scrypt$x",
        active=True,
        created="2024-01-01T00:00:00.000000Z",
    )
    store.add_account(account)
    return account


def _key(key_id: str, owner: Account, valid_from: int = 0, **extra: object) -> PartnerKey:
    fields: dict[str, object] = {
        "key_id": key_id,
        "partner_account": owner.id,
        "algorithm": "ed25519",
        "public_key": b"-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n",
        "valid_from": valid_from,
        "valid_until": None,
        "revoked_at": None,
        "revoked_reason": None,
        "created_by": "admin",
        "created_at": "2024-01-01T00:00:00.000000Z",
    }
    fields.update(extra)
    return PartnerKey(**fields)  # type: ignore[arg-type]


def test_keys_are_registered_once_and_listed_per_partner(store: Store) -> None:
    alice, bob = _partner(store, "alice"), _partner(store, "bob")
    with store.transaction() as tx:
        tx.add_partner_key(_key("k-a2", alice, valid_from=20 * SECOND))
        tx.add_partner_key(_key("k-a1", alice, valid_from=10 * SECOND))
        tx.add_partner_key(_key("k-b1", bob))
    with pytest.raises(Conflict), store.transaction() as tx:
        tx.add_partner_key(_key("k-a1", bob))
    assert [k.key_id for k in store.partner_keys(alice.id)] == ["k-a1", "k-a2"]
    assert {k.key_id for k in store.partner_keys()} == {"k-a1", "k-a2", "k-b1"}
    assert store.partner_keys(str(uuid.uuid4())) == []
    found = store.partner_key("k-b1")
    assert found is not None
    assert found.partner_account == bob.id
    assert store.partner_key("nope") is None


def test_ending_and_revoking_a_key(store: Store) -> None:
    alice = _partner(store, "alice")
    with store.transaction() as tx:
        tx.add_partner_key(_key("k1", alice, valid_from=10 * SECOND))
        tx.end_partner_key("k1", 100 * SECOND)
    with store.transaction() as tx:
        tx.revoke_partner_key("k1", 50 * SECOND, "compromised")
    key = store.partner_key("k1")
    assert key is not None
    assert (key.valid_until, key.revoked_at, key.revoked_reason) == (
        100 * SECOND,
        50 * SECOND,
        "compromised",
    )
    assert key.usable_at(10 * SECOND)
    assert key.usable_at(50 * SECOND - 1)
    assert not key.usable_at(50 * SECOND)
    assert not key.usable_at(9 * SECOND)
    for change in (
        lambda tx: tx.end_partner_key("missing", 1),
        lambda tx: tx.revoke_partner_key("missing", 1, "x"),
    ):
        with pytest.raises(NotFound), store.transaction() as tx:
            change(tx)


def test_a_nonce_is_taken_once_per_key_until_pruned(store: Store) -> None:
    with store.transaction() as tx:
        assert tx.remember_nonce("k1", "n1", 10 * SECOND)
        assert tx.remember_nonce("k2", "n1", 10 * SECOND)
        assert not tx.remember_nonce("k1", "n1", 11 * SECOND)
        assert tx.remember_nonce("k1", "n2", 30 * SECOND)
    assert store.nonce_count() == 3
    with store.transaction() as tx:
        assert tx.prune_nonces(20 * SECOND) == 2
        assert tx.remember_nonce("k1", "n1", 40 * SECOND)
    assert store.nonce_count() == 2


def test_a_rolled_back_transaction_keeps_no_nonce(store: Store) -> None:
    def refuse_later() -> None:
        with store.transaction() as tx:
            tx.remember_nonce("k1", "n1", SECOND)
            raise RuntimeError("refused later")

    with pytest.raises(RuntimeError):
        refuse_later()
    assert store.nonce_count() == 0


def test_evidence_round_trips_by_submission_and_status(store: Store) -> None:
    alice = _partner(store, "alice")
    body = b'{"objects": []}' * 100
    with store.transaction() as tx:
        pk = tx.add_submission(Submission(alice.id, "agreement--x", 1, "status-1", 5, 0, 0))
        tx.add_evidence(
            Evidence(
                submission_pk=pk,
                key_id="k1",
                label="sig1",
                signature=b"\x01\x02",
                signature_base=b'"@method": POST',
                covered=("@method", "content-digest"),
                created=5 * SECOND,
                nonce="n1",
                content_type="application/taxii+json;version=2.1",
                body=body,
            )
        )
    kept = store.evidence(pk)
    assert kept is not None
    assert kept == store.evidence_for_status("status-1")
    assert (kept.body, kept.covered, kept.signature, kept.nonce) == (
        body,
        ("@method", "content-digest"),
        b"\x01\x02",
        "n1",
    )
    assert store.evidence(pk + 1) is None
    assert store.evidence_for_status("other") is None
