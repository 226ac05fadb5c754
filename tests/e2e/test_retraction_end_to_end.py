"""Retraction against a real `exchange serve`, with taxii2-client: a partner revokes one object
with a new version and deletes another from its inbox; every recipient country's collection
shows both revoked, every export format stops listing them at once, countries that never
received them get nothing, and the audit log and the contribution report record the recalls."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from exchange.countries import country_collection_id
from tests.e2e.taxii21_support import collection, envelope, inbox, new_analyst, new_partner
from tests.support.server import HubProcess

RECIPIENTS = ("FR", "DE", "BR")
FORMATS = ("bundle", "csv", "ipv4", "domains", "suricata", "misp")
TIMEOUT = 30


IPV4 = "[ipv4-addr:value = '{value}']"
DOMAIN = "[domain-name:value = '{value}']"


def _indicator(name: str, value: str, pattern: str) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": name,
        "pattern": pattern.format(value=value),
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    }


def _export(hub: HubProcess, token: str, code: str, fmt: str) -> str:
    response = requests.get(
        f"{hub.base}/analyst/exports/{country_collection_id(code)}/{fmt}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return response.text


def test_a_recall_reaches_every_recipient_and_every_export(hub: HubProcess) -> None:
    partner = new_partner(hub, *RECIPIENTS)
    analysts = {code: new_analyst(hub, code) for code in (*RECIPIENTS, "JP")}
    by_version = _indicator(
        "revoked by a new version", "203.0.113.91", "[ipv4-addr:value = '{value}']"
    )
    by_delete = _indicator(
        "deleted from the inbox", "recall-e2e.example", "[domain-name:value = '{value}']"
    )
    kept = _indicator("kept", "203.0.113.92", "[ipv4-addr:value = '{value}']")
    own = inbox(hub, partner)
    assert own.add_objects(envelope([by_version, by_delete, kept])).success_count == 3
    values = ("203.0.113.91", "recall-e2e.example")
    for code in RECIPIENTS:
        for fmt in FORMATS:
            text = _export(hub, analysts[code].token, code, fmt)
            assert "203.0.113.92" in text or fmt == "domains", (code, fmt)
            assert any(value in text for value in values), (code, fmt)

    revoked = {**by_version, "modified": "2026-02-01T00:00:00.000Z", "revoked": True}
    status = own.add_objects(envelope([revoked]))
    assert status.success_count == 1
    assert "revoked in the 3 member countries that received it" in str(status.successes)
    own.delete_object(by_delete["id"])

    for code in RECIPIENTS:
        country = collection(hub, analysts[code], country_collection_id(code))
        for sent in (by_version, by_delete):
            (latest,) = country.get_object(sent["id"])["objects"]
            assert latest["revoked"] is True, (code, sent["name"])
            assert latest["modified"] > sent["modified"]
            versions = country.object_versions(sent["id"])["versions"]
            assert len(versions) == 2, (code, versions)
        for fmt in FORMATS:
            text = _export(hub, analysts[code].token, code, fmt)
            assert not any(value in text for value in values), (code, fmt)
            assert "203.0.113.92" in text or fmt == "domains", (code, fmt)
    japan = collection(hub, analysts["JP"], country_collection_id("JP"))
    assert japan.get_objects().get("objects", []) == []

    admin = {"Authorization": f"Bearer {hub.accounts['admin'].token}"}
    events = requests.get(
        f"{hub.base}/admin/audit/events", headers=admin, params={"limit": 1000}, timeout=TIMEOUT
    )
    assert events.status_code == 200, events.text
    recalls = [
        e["data"]
        for e in events.json()["events"]
        if e["kind"] == "recall" and e["data"]["partner"] == partner.id
    ]
    assert sorted((r["object"], r["how"], tuple(r["revoked_in"])) for r in recalls) == sorted(
        [
            (by_version["id"], "revoked version", ("BR", "DE", "FR")),
            (by_delete["id"], "deleted from the inbox", ("BR", "DE", "FR")),
        ]
    )
    report = requests.get(
        f"{hub.base}/partner/report",
        headers={"Authorization": f"Bearer {partner.token}"},
        timeout=TIMEOUT,
    ).json()
    assert report["recalls"] == 2
    assert report["recalled_in"] == {"BR": 2, "DE": 2, "FR": 2}
