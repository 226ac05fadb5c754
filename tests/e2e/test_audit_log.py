"""A real server: a demo partner pushes, then fetches the audit events about its contribution
with inclusion proofs over HTTP and checks them itself against the signed tree head."""

from __future__ import annotations

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from taxii2client.v21 import Collection

from exchange.audit.canonical import canonical_json
from exchange.audit.events import AuditEvent
from exchange.audit.heads import TreeHead, key_id, verify_head
from exchange.audit.merkle import verify_inclusion
from tests.support.server import HubProcess
from tests.support.stix import indicator


def test_a_partner_checks_the_events_about_its_push(hub: HubProcess) -> None:
    partner = hub.accounts["demo-partner-a"]
    admin = hub.accounts["admin"]
    assert partner.inbox is not None
    sent = indicator(stamp="2024-01-01T00:00:00.000Z")
    inbox = Collection(
        hub.collection_url(partner.inbox), user=partner.username, password=partner.token
    )
    status = inbox.add_objects({"objects": [sent]})
    assert status.success_count == 1

    published = requests.post(f"{hub.base}/admin/audit/head", auth=admin.auth, timeout=30)
    assert published.status_code == 200, published.text

    got = requests.get(
        f"{hub.base}/partner/audit/events",
        params={"limit": 200},
        auth=partner.auth,
        timeout=30,
    )
    assert got.status_code == 200, got.text
    body = got.json()
    public = load_pem_public_key(body["public_key"].encode())
    assert isinstance(public, Ed25519PublicKey)
    assert key_id(public) == body["head"]["key_id"]
    head = TreeHead.from_json(body["head"]["head"])
    assert verify_head(head, bytes.fromhex(body["head"]["signature"]), public)

    decisions = []
    for item in body["events"]:
        event = AuditEvent.from_canonical(canonical_json(item["event"]))
        assert event.leaf().hex() == item["leaf"]
        proof = [bytes.fromhex(node) for node in item["proof"]]
        assert verify_inclusion(event.leaf(), event.seq, head.size, proof, head.root_bytes)
        if event.kind == "decision" and event.subject == f"submission:{status.id}":
            decisions.extend(event.data["objects"])
    assert [(d["id"], d["outcome"]) for d in decisions] == [(sent["id"], "accepted")]

    keys = requests.get(f"{hub.base}/admin/audit/keys", auth=admin.auth, timeout=30).json()
    assert body["head"]["key_id"] in {key["key_id"] for key in keys}
