"""Tampering with the audit log's table behind the hub's back, and checking signed heads and
consistency proofs with code that owes nothing to ``exchange.audit``.

The first tests edit ``audit_events`` directly with sqlite3 after a signed head was taken (delete
a row, swap two rows, rewrite a leaf or a body) and check what ``exchange audit verify`` says.
The last ones verify the hub's Ed25519 head signatures with ``cryptography`` and its RFC 9162
consistency proofs with a verifier written here from RFC 9162 section 2.1.4.2 (hashlib only).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

from exchange.sharing.service import Hub
from exchange.store.models import Role
from tests.functional.conftest import World, audit_cli, envelope, indicator, objects_url
from tests.support.onboarding import onboard
from tests.support.postgres import sqlite_only

# --- RFC 9162 section 2.1, written out again from the RFC text (hashlib only) ---------------


def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _mth(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf *hashes* (section 2.1.1): split at the largest power of two < n."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return _node(_mth(leaves[:k]), _mth(leaves[k:]))


def _rfc_verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2, step by step, for 0 < first < second."""
    if not 0 < first < second:
        return False
    # 1. An empty consistency_path fails.
    if not path:
        return False
    path = list(path)
    # 2. If first is an exact power of 2, prepend first_hash to the path.
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    # 3. fn = first - 1, sn = second - 1.
    fn, sn = first - 1, second - 1
    # 4. If LSB(fn) is set, right-shift fn and sn equally until LSB(fn) is not set.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. fr and sr start as the first value of the path.
    fr = sr = path[0]
    # 6. For each subsequent value c.
    for c in path[1:]:
        # a. If sn is 0, fail.
        if sn == 0:
            return False
        # b. If LSB(fn) is set, or fn equals sn:
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            # ii. Unless LSB(fn) is set, right-shift until it is or fn is 0.
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _node(sr, c)
        # c. Right-shift both by one.
        fn >>= 1
        sn >>= 1
    # 7. fr must equal first_hash, sr second_hash, and sn must be 0.
    return fr == first_hash and sr == second_hash and sn == 0


def _rfc_consistency_proof(m: int, leaves: Sequence[bytes], start: bool = True) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of section 2.1.4.1, to cross-check the verifier above."""
    n = len(leaves)
    if m == n:
        return [] if start else [_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*_rfc_consistency_proof(m, leaves[:k], start), _mth(leaves[k:])]
    return [*_rfc_consistency_proof(m - k, leaves[k:], False), _mth(leaves[:k])]


@pytest.mark.parametrize("second", range(2, 18))
def test_the_independent_verifier_agrees_with_the_rfc_proof_definition(second: int) -> None:
    leaves = [_leaf(str(i).encode()) for i in range(second)]
    for first in range(1, second):
        proof = _rfc_consistency_proof(first, leaves)
        old, new = _mth(leaves[:first]), _mth(leaves)
        assert _rfc_verify_consistency(first, second, old, new, proof)
        for flip in range(len(proof)):
            bad = list(proof)
            bad[flip] = bytes([bad[flip][0] ^ 1]) + bad[flip][1:]
            assert not _rfc_verify_consistency(first, second, old, new, bad)


# --- tampering with audit_events behind the hub's back ------------------------------------


def _logged(hub: Hub, data_dir: Path) -> tuple[int, str]:
    """Fill the log a little, take a signed head with the CLI; (its size, its JSON)."""
    issued = onboard(hub, "p-tamper", ["FR"])
    assert issued.inbox is not None
    for _ in range(3):
        hub.add_objects(issued.account, issued.inbox.id, envelope(indicator(), indicator()))
    hub.create_account(Role.ANALYST, "tamper-analyst", country="FR")
    made = audit_cli(data_dir, "head")
    assert made.exit_code == 0, made.output
    size = hub.audit_size()
    assert json.loads(made.output)["head"]["size"] == size
    ok = audit_cli(data_dir, "verify")
    assert ok.exit_code == 0, ok.output
    return size, made.output


def _db(data_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(data_dir / "exchange.db")


def _row(data_dir: Path, seq: int) -> tuple[bytes, bytes]:
    with _db(data_dir) as db:
        body, leaf = db.execute(
            "SELECT body, leaf FROM audit_events WHERE seq = ?", (seq,)
        ).fetchone()
    return bytes(body), bytes(leaf)


def _assert_named(data_dir: Path, head_json: str, seq: int) -> list[str]:
    """Verify against the latest stored head and the given one: exit 1, ``seq`` named."""
    outputs = []
    for args in (("verify",), ("verify", "--head", head_json)):
        failed = audit_cli(data_dir, *args)
        assert failed.exit_code == 1, failed.output
        assert f"first bad event: {seq};" in failed.output, failed.output
        outputs.append(failed.output)
    return outputs


@sqlite_only
def test_a_deleted_event_is_named_at_its_position(small_hub: tuple[Hub, Path]) -> None:
    hub, data_dir = small_hub
    size, head_json = _logged(hub, data_dir)
    victim = size // 2
    with _db(data_dir) as db:
        assert db.execute("DELETE FROM audit_events WHERE seq = ?", (victim,)).rowcount == 1
    for output in _assert_named(data_dir, head_json, victim):
        assert f"the log has {size - 1} events but the trusted head covers {size}" in output
        assert f"event {victim} is the first that differs" in output


@sqlite_only
def test_deleting_the_last_covered_event_is_named_as_missing(
    small_hub: tuple[Hub, Path],
) -> None:
    hub, data_dir = small_hub
    size, head_json = _logged(hub, data_dir)
    with _db(data_dir) as db:
        db.execute("DELETE FROM audit_events WHERE seq = ?", (size - 1,))
    for output in _assert_named(data_dir, head_json, size - 1):
        assert f"event {size - 1} is missing" in output


@sqlite_only
def test_two_swapped_events_are_named_at_the_first(small_hub: tuple[Hub, Path]) -> None:
    hub, data_dir = small_hub
    size, head_json = _logged(hub, data_dir)
    first = size // 2
    (body_a, leaf_a), (body_b, leaf_b) = _row(data_dir, first), _row(data_dir, first + 1)
    assert body_a != body_b
    with _db(data_dir) as db:
        db.execute(
            "UPDATE audit_events SET body = ?, leaf = ? WHERE seq = ?", (body_b, leaf_b, first)
        )
        db.execute(
            "UPDATE audit_events SET body = ?, leaf = ? WHERE seq = ?", (body_a, leaf_a, first + 1)
        )
    for output in _assert_named(data_dir, head_json, first):
        assert f"event {first} differs from the trusted log" in output


@sqlite_only
def test_a_recomputed_leaf_does_not_hide_an_edited_body(small_hub: tuple[Hub, Path]) -> None:
    hub, data_dir = small_hub
    size, head_json = _logged(hub, data_dir)
    victim = size // 3
    body, leaf = _row(data_dir, victim)
    assert leaf == _leaf(body)
    document = json.loads(body)
    document["actor"] = "someone-else"
    forged = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    assert forged != body
    with _db(data_dir) as db:
        db.execute(
            "UPDATE audit_events SET body = ?, leaf = ? WHERE seq = ?",
            (forged, _leaf(forged), victim),
        )
    # The log now hashes to another root than the signed head's.
    with _db(data_dir) as db:
        leaves = [bytes(row[0]) for row in db.execute("SELECT leaf FROM audit_events ORDER BY seq")]
    assert _mth(leaves).hex() != json.loads(head_json)["head"]["root"]
    _assert_named(data_dir, head_json, victim)


@sqlite_only
def test_an_edited_leaf_column_with_the_body_untouched(small_hub: tuple[Hub, Path]) -> None:
    """The stored leaf hash must be the hash of the stored body: a rewritten leaf alone is
    named, although the log's content (and its root) is still as signed."""
    hub, data_dir = small_hub
    size, head_json = _logged(hub, data_dir)
    victim = size // 2
    with _db(data_dir) as db:
        db.execute("UPDATE audit_events SET leaf = ? WHERE seq = ?", (_leaf(b"forged"), victim))
    result = audit_cli(data_dir, "verify", "--head", head_json)
    assert result.exit_code == 1, result.output
    assert f"first bad event: {victim};" in result.output
    assert "leaf hash" in result.output


@sqlite_only
def test_an_event_deleted_after_the_last_signed_head_is_named(
    small_hub: tuple[Hub, Path],
) -> None:
    """Events no head covers yet are still counted: the log's state knows how many there are."""
    hub, data_dir = small_hub
    size, head_json = _logged(hub, data_dir)
    hub.create_account(Role.ANALYST, "after-the-head", country="DE")
    grown = hub.audit_size()
    assert grown > size
    with _db(data_dir) as db:
        db.execute("DELETE FROM audit_events WHERE seq = ?", (grown - 1,))
    result = audit_cli(data_dir, "verify", "--head", head_json)
    assert result.exit_code == 1, result.output
    assert f"first bad event: {grown - 1};" in result.output


# --- signed heads and consistency proofs, checked independently ---------------------------


def _push(world: World) -> None:
    response = world.client.post(
        objects_url(world.collections["own_inbox"]),
        content=envelope(indicator()),
        headers=world.actors["partner_owner"].headers(),
    )
    assert response.status_code == 202, response.text


def _publish(world: World) -> dict[str, Any]:
    response = world.client.post("/admin/audit/head", headers=world.actors["admin"].auth)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def _keys(world: World) -> dict[str, Ed25519PublicKey]:
    response = world.client.get("/admin/audit/keys", headers=world.actors["admin"].auth)
    assert response.status_code == 200, response.text
    keys = {}
    for key in response.json():
        public = load_pem_public_key(key["public_key"].encode())
        assert isinstance(public, Ed25519PublicKey)
        raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        assert key["key_id"] == hashlib.sha256(raw).hexdigest()
        keys[key["key_id"]] = public
    return keys


def _signed_message(head: dict[str, Any]) -> bytes:
    """The context string, then the head's RFC 8785 JSON (sorted keys, no spaces; the head
    holds only ASCII strings and a small integer, so plain ``json`` gives the same bytes)."""
    assert set(head) == {"size", "root", "timestamp"}
    canonical = json.dumps(head, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return b"exchange audit tree head v1\x00" + canonical.encode()


def _check_signature(keys: dict[str, Ed25519PublicKey], document: dict[str, Any]) -> None:
    public = keys[document["key_id"]]
    signature = bytes.fromhex(document["signature"])
    public.verify(signature, _signed_message(document["head"]))
    tampered = dict(document["head"], size=document["head"]["size"] + 1)
    with pytest.raises(InvalidSignature):
        public.verify(signature, _signed_message(tampered))


def test_a_consistency_proof_between_signed_heads_verifies_independently(world: World) -> None:
    admin = world.actors["admin"].auth
    first = _publish(world)
    for _ in range(3):
        _push(world)
    second = _publish(world)
    old, new = first["head"], second["head"]
    assert 0 < old["size"] < new["size"]

    keys = _keys(world)
    _check_signature(keys, first)
    _check_signature(keys, second)

    # The roots are RFC 9162 roots over the stored events' bodies, recomputed here.
    leaves = [_leaf(body) for _, body in world.hub._store.audit_events(0, new["size"])]
    assert len(leaves) == new["size"]
    assert _mth(leaves[: old["size"]]).hex() == old["root"]
    assert _mth(leaves).hex() == new["root"]

    response = world.client.get(
        "/admin/audit/proof/consistency",
        params={"first": old["size"], "second": new["size"]},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    got = response.json()
    assert (got["first"], got["second"]) == (old["size"], new["size"])
    proof = [bytes.fromhex(node) for node in got["proof"]]
    assert proof == _rfc_consistency_proof(old["size"], leaves)
    old_root, new_root = bytes.fromhex(old["root"]), bytes.fromhex(new["root"])
    assert _rfc_verify_consistency(old["size"], new["size"], old_root, new_root, proof)

    # Any one hash flipped, a hash dropped, or the roots swapped: refused.
    for index in range(len(proof)):
        bad = list(proof)
        bad[index] = bytes([bad[index][0] ^ 0x80]) + bad[index][1:]
        assert not _rfc_verify_consistency(old["size"], new["size"], old_root, new_root, bad)
    assert not _rfc_verify_consistency(old["size"], new["size"], old_root, new_root, proof[:-1])
    assert not _rfc_verify_consistency(old["size"], new["size"], new_root, old_root, proof)


def test_the_stored_heads_are_all_signed_and_pairwise_consistent(world: World) -> None:
    admin = world.actors["admin"].auth
    _publish(world)
    _push(world)
    _publish(world)
    heads = world.client.get("/admin/audit/heads", headers=admin).json()
    assert len(heads) >= 2
    keys = _keys(world)
    for document in heads:
        _check_signature(keys, document)
    for older, newer in pairwise(heads):
        m, n = older["head"]["size"], newer["head"]["size"]
        assert m < n
        proof = world.client.get(
            "/admin/audit/proof/consistency", params={"first": m, "second": n}, headers=admin
        ).json()["proof"]
        assert _rfc_verify_consistency(
            m,
            n,
            bytes.fromhex(older["head"]["root"]),
            bytes.fromhex(newer["head"]["root"]),
            [bytes.fromhex(node) for node in proof],
        )
