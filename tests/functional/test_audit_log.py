"""The audit log through the service, the admin and partner API and the command line: every
write leaves its event, proofs verify against signed heads, tampering is found and named."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from exchange.audit.canonical import canonical_json
from exchange.audit.events import AuditEvent
from exchange.audit.heads import TreeHead, key_id, verify_head
from exchange.audit.merkle import verify_consistency, verify_inclusion
from exchange.sharing.audit import object_ids_digest
from exchange.sharing.service import Hub
from exchange.store.models import ObjectQuery, Role, VersionSelector
from tests.functional.conftest import (
    World,
    assert_taxii_error,
    audit_cli,
    envelope,
    indicator,
    objects_url,
)
from tests.support.onboarding import FIRST_ADMIN, onboard, pass_through_terms, vet
from tests.support.postgres import sqlite_only


def _events_since(world: World, start: int) -> list[dict[str, Any]]:
    response = world.client.get(
        "/admin/audit/events", params={"start": start}, headers=world.actors["admin"].auth
    )
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def _size(world: World) -> int:
    return world.hub.audit_size()


def _push(world: World, actor: str, *objects: Any) -> dict[str, Any]:
    inbox = world.collections["own_inbox" if actor == "partner_owner" else "other_inbox"]
    response = world.client.post(
        objects_url(inbox), content=envelope(*objects), headers=world.actors[actor].headers()
    )
    assert response.status_code == 202, response.text
    status: dict[str, Any] = response.json()
    return status


def _public_key(world: World, wanted: str) -> Ed25519PublicKey:
    keys = world.client.get("/admin/audit/keys", headers=world.actors["admin"].auth).json()
    for key in keys:
        public = load_pem_public_key(key["public_key"].encode())
        assert isinstance(public, Ed25519PublicKey)
        assert key["key_id"] == key_id(public)
        if key["key_id"] == wanted:
            return public
    raise AssertionError(f"no audit key {wanted}")


def _signed_head(world: World, document: dict[str, Any]) -> TreeHead:
    head = TreeHead.from_json(document["head"])
    public = _public_key(world, document["key_id"])
    assert verify_head(head, bytes.fromhex(document["signature"]), public)
    return head


def _publish(world: World) -> dict[str, Any]:
    response = world.client.post("/admin/audit/head", headers=world.actors["admin"].auth)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def test_setting_up_the_world_was_logged(world: World) -> None:
    kinds = {event.kind for event in world.hub.iter_audit_events()}
    assert {"account", "partner", "agreement", "collection", "submission", "decision"} <= kinds


def test_a_submission_logs_itself_and_every_decision(world: World) -> None:
    start = _size(world)
    good, bad = indicator(), indicator(pattern="not a pattern")
    status = _push(world, "partner_owner", good, bad)
    owner = world.actors["partner_owner"].account
    assert owner is not None
    submission, decision = _events_since(world, start)
    assert submission["kind"] == "submission"
    assert submission["actor"] == "p-owner"
    assert submission["subject"] == f"submission:{status['id']}"
    assert submission["data"]["partner"] == owner.id
    assert (submission["data"]["accepted"], submission["data"]["refused"]) == (1, 1)
    assert submission["data"]["agreement"]
    assert decision["kind"] == "decision"
    decided = {item["id"]: item for item in decision["data"]["objects"]}
    assert decided[good["id"]]["outcome"] == "accepted"
    assert decision["data"]["audiences"] == [["FR"]]
    assert decided[good["id"]]["audience"] == 0
    assert decided[bad["id"]]["outcome"].startswith("refused")
    assert "audience" not in decided[bad["id"]]


def test_administrative_changes_are_logged(world: World) -> None:
    admin = world.actors["admin"].auth
    start = _size(world)
    made = world.client.post(
        "/admin/accounts", json={"role": "partner", "username": "audit-p"}, headers=admin
    )
    assert made.status_code == 201
    [created] = _events_since(world, start)
    assert (created["kind"], created["actor"]) == ("account", "admin")
    assert created["subject"] == f"account:{made.json()['id']}"
    assert created["data"]["action"] == "create"
    assert created["data"]["after"]["username"] == "audit-p"

    start = _size(world)
    vet(world.hub, "audit-p")
    steps = _events_since(world, start)
    assert {event["kind"] for event in steps} == {"partner"}
    assert all(event["data"]["action"] for event in steps)

    start = _size(world)
    world.hub.set_agreement("audit-p", pass_through_terms(["DE"]), admin=FIRST_ADMIN)
    [agreement] = _events_since(world, start)
    assert (agreement["kind"], agreement["actor"]) == ("agreement", FIRST_ADMIN)


def test_a_page_read_is_an_event(world: World) -> None:
    start = _size(world)
    analyst = world.actors["analyst_fr"]
    response = world.client.get(
        objects_url(world.collections["country_fr"]), headers=analyst.headers()
    )
    assert response.status_code == 200
    [read] = _events_since(world, start)
    assert read["kind"] == "read"
    assert read["actor"] == "analyst-fr"
    assert analyst.account is not None
    page = world.hub._store.page(
        world.hub.collection_for(analyst.account, world.collections["country_fr"]).collection,
        ObjectQuery(),
        after=None,
        limit=read["data"]["count"],
        with_bodies=False,
    )
    assert read["data"]["count"] == len(response.json()["objects"])
    assert read["data"]["objects_sha256"] == object_ids_digest(page.rows)
    assert read["data"]["collection"] == world.collections["country_fr"]


def test_inclusion_and_consistency_proofs_verify_against_signed_heads(world: World) -> None:
    admin = world.actors["admin"].auth
    first = _publish(world)
    _push(world, "partner_owner", indicator())
    second = _publish(world)
    old, new = _signed_head(world, first), _signed_head(world, second)
    assert new.size > old.size
    assert world.client.get("/admin/audit/head", headers=admin).json() == second
    heads = world.client.get("/admin/audit/heads", headers=admin).json()
    assert heads[-2:] == [first, second]

    for seq in (0, old.size - 1, new.size - 1):
        proof = world.client.get(
            "/admin/audit/proof/inclusion", params={"seq": seq}, headers=admin
        ).json()
        event = AuditEvent.from_canonical(canonical_json(proof["event"]))
        assert event.leaf().hex() == proof["leaf"]
        nodes = [bytes.fromhex(node) for node in proof["proof"]]
        assert verify_inclusion(event.leaf(), seq, new.size, nodes, new.root_bytes)
        assert not verify_inclusion(event.leaf(), seq, new.size, nodes, old.root_bytes)

    consistency = world.client.get(
        "/admin/audit/proof/consistency",
        params={"first": old.size, "second": new.size},
        headers=admin,
    ).json()
    nodes = [bytes.fromhex(node) for node in consistency["proof"]]
    assert verify_consistency(old.size, new.size, old.root_bytes, new.root_bytes, nodes)
    too_big = world.client.get(
        "/admin/audit/proof/inclusion", params={"seq": new.size + 10**6}, headers=admin
    )
    assert too_big.status_code == 400


def test_a_partner_sees_only_its_own_events_with_proofs(world: World) -> None:
    owner, other = world.actors["partner_owner"], world.actors["other_partner"]
    assert owner.account is not None
    assert other.account is not None
    mine = _push(world, "partner_owner", indicator())
    theirs = _push(world, "other_partner", indicator())
    _publish(world)
    got = world.client.get(
        "/partner/audit/events", params={"limit": 200}, headers=owner.auth
    ).json()
    head = _signed_head(world, got["head"])
    public = load_pem_public_key(got["public_key"].encode())
    assert isinstance(public, Ed25519PublicKey)
    assert key_id(public) == got["head"]["key_id"]
    subjects = set()
    for item in got["events"]:
        event = AuditEvent.from_canonical(canonical_json(item["event"]))
        # Its submissions, and the feedback the hub routed to it (conftest's seed sighting).
        assert event.kind in {"submission", "decision", "feedback"}
        assert event.actor == ("hub" if event.kind == "feedback" else "p-owner")
        nodes = [bytes.fromhex(node) for node in item["proof"]]
        assert verify_inclusion(event.leaf(), event.seq, head.size, nodes, head.root_bytes)
        subjects.add(event.subject)
    assert f"submission:{mine['id']}" in subjects
    assert f"submission:{theirs['id']}" not in subjects
    later = world.client.get(
        "/partner/audit/events", params={"after": got["next_after"]}, headers=owner.auth
    ).json()
    assert later["events"] == []

    for name in ("analyst_fr", "admin"):
        refused = world.client.get("/partner/audit/events", headers=world.actors[name].auth)
        assert_taxii_error(refused, 403)
    for path in ("/admin/audit/head", "/admin/audit/events", "/admin/audit/keys"):
        assert_taxii_error(world.client.get(path, headers=owner.auth), 403)


@sqlite_only
def test_the_command_line_verifies_and_names_a_tampered_event(
    small_hub: tuple[Hub, Path],
) -> None:
    hub, data_dir = small_hub
    issued = onboard(hub, "p-cli", ["FR"])
    assert issued.inbox is not None
    for _ in range(3):
        hub.add_objects(issued.account, issued.inbox.id, envelope(indicator(), indicator()))
    hub.create_account(Role.ANALYST, "cli-analyst", country="FR")

    made = audit_cli(data_dir, "head")
    assert made.exit_code == 0, made.output
    size = hub.audit_size()
    assert f'"size": {size}' in made.output
    ok = audit_cli(data_dir, "verify")
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("ok:")

    listed = audit_cli(data_dir, "events", "--partner", "p-cli", "--json")
    assert listed.exit_code == 0, listed.output
    proof = audit_cli(data_dir, "proof", "--seq", str(size - 1))
    assert proof.exit_code == 0, proof.output

    head_json = made.output
    # Rewrite one past event in place, keeping it well-formed canonical JSON.
    victim = size // 2
    [(_, body)] = hub._store.audit_events(victim, victim + 1)
    event = AuditEvent.from_canonical(body)
    forged = AuditEvent(
        event.seq, event.at, event.kind, event.actor, event.subject, {"forged": True}
    )
    with sqlite3.connect(data_dir / "exchange.db") as db:
        db.execute(
            "UPDATE audit_events SET body = ? WHERE seq = ?", (forged.canonical_bytes(), victim)
        )
    for args in (("verify",), ("verify", "--head", head_json)):
        failed = audit_cli(data_dir, *args)
        assert failed.exit_code == 1, failed.output
        assert f"first bad event: {victim};" in failed.output

    # A head given by hand, unsigned, is checked the same way.
    plain = TreeHead.from_json(hub.latest_tree_head().to_json()["head"])  # type: ignore[union-attr]
    failed = audit_cli(data_dir, "verify", "--head", canonical_json(plain.to_json()).decode())
    assert failed.exit_code == 1
    assert f"first bad event: {victim};" in failed.output


def test_a_forged_head_signature_is_refused(small_hub: tuple[Hub, Path]) -> None:
    hub, data_dir = small_hub
    hub.create_account(Role.ANALYST, "someone", country="FR")
    signed = hub.publish_tree_head().to_json()
    signed["signature"] = "00" * 64
    result = audit_cli(data_dir, "verify", "--head", canonical_json(signed).decode())
    assert result.exit_code == 1
    assert "signature does not verify" in result.output


def test_shared_collection_writes_and_deletes_are_logged(small_hub: tuple[Hub, Path]) -> None:
    hub, _ = small_hub
    writer = hub.create_account(Role.ANALYST, "shared-writer", country="FR")
    shared = hub.create_shared_collection("Joint work")
    hub.grant(shared.id, "shared-writer", read=True, write=True)
    obj = indicator()
    before = hub.audit_size()
    hub.add_objects(writer.account, shared.id, envelope(obj))
    hub.delete_object(
        writer.account, shared.id, obj["id"], VersionSelector(last=False, all=True), frozenset()
    )
    events = [
        AuditEvent.from_canonical(body)
        for _, body in hub._store.audit_events(before, hub.audit_size())
    ]
    assert [(e.kind, e.actor, e.subject) for e in events] == [
        ("submission", "shared-writer", f"collection:{shared.id}"),
        ("delete", "shared-writer", f"collection:{shared.id}"),
    ]
    assert [list(entry) for entry in events[0].data["objects"]] == [[obj["id"], True, "added"]]
    assert events[1].data == {"object": obj["id"], "removed": 1}
