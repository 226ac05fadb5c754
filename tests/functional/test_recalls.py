"""Retraction: a partner takes an object back (a revoked version, or DELETE from its inbox) and
every country that received it sees it revoked on its next pull; the audit log records it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exchange.countries import country_collection_id
from tests.functional.agreement_world import AgreementWorld, new_indicator, open_world
from tests.functional.conftest import taxii_headers
from tests.support.onboarding import SECOND_ADMIN, pass_through_terms


@pytest.fixture
def aw(tmp_path: Path) -> Iterator[AgreementWorld]:
    yield from open_world(tmp_path / "data")


def _revoked(obj: dict[str, Any], modified: str = "2025-06-01T00:00:00.000Z") -> dict[str, Any]:
    return {**obj, "modified": modified, "revoked": True}


def _latest(aw: AgreementWorld, code: str, stix_id: str) -> dict[str, Any] | None:
    objects, _ = aw.read(aw.analyst(code), country_collection_id(code), **{"match[id]": stix_id})
    assert len(objects) <= 1
    return objects[0] if objects else None


def _versions(aw: AgreementWorld, code: str, stix_id: str) -> list[str]:
    response = aw.client.get(
        f"/hub/collections/{country_collection_id(code)}/objects/{stix_id}/versions/",
        headers=taxii_headers(aw.analyst(code)),
    )
    assert response.status_code == 200, response.text
    return list(response.json()["versions"])


def _recall_events(aw: AgreementWorld) -> list[dict[str, Any]]:
    return [event.data for event in aw.hub.audit_events() if event.kind == "recall"]


def test_a_revoked_version_reaches_every_country_that_received_the_object(
    aw: AgreementWorld,
) -> None:
    partner = aw.partner("p-revoke", ["FR", "DE"])
    sent = new_indicator("to be revoked")
    kept = new_indicator("stays")
    aw.submit(partner, sent, kept)
    # The agreement narrows to FR; DE keeps what it already received (past_objects: keep).
    aw.hub.set_agreement("p-revoke", pass_through_terms(["FR"]), admin=SECOND_ADMIN)

    status = aw.submit(partner, _revoked(sent))
    assert "revoked in the 2 member countries that received it" in str(status["successes"])
    for code in ("FR", "DE"):
        latest = _latest(aw, code, sent["id"])
        assert latest is not None
        assert latest["revoked"] is True, code
        assert latest["modified"] == "2025-06-01T00:00:00.000Z"
        assert len(_versions(aw, code, sent["id"])) == 2
        assert _latest(aw, code, kept["id"]) == kept  # nothing else changes
    assert _latest(aw, "BR", sent["id"]) is None  # never received it: no revocation either
    (event,) = _recall_events(aw)
    assert event["object"] == sent["id"]
    assert list(event["revoked_in"]) == ["DE", "FR"]
    assert event["how"] == "revoked version"


def test_deleting_from_the_inbox_recalls_the_object(aw: AgreementWorld) -> None:
    partner = aw.partner("p-delete", ["FR", "DE"])
    sent = new_indicator("deleted by its partner")
    aw.submit(partner, sent)
    response = aw.client.delete(
        f"/hub/collections/{partner.inbox}/objects/{sent['id']}/",
        headers=taxii_headers(partner.auth),
    )
    assert response.status_code == 200, response.text
    assert sent["id"] not in aw.inbox_ids(partner)
    for code in ("FR", "DE"):
        latest = _latest(aw, code, sent["id"])
        assert latest is not None
        assert latest["revoked"] is True
        assert latest["modified"] > sent["modified"]
        assert {k: v for k, v in latest.items() if k not in {"revoked", "modified"}} == {
            k: v for k, v in sent.items() if k != "modified"
        }
    (event,) = _recall_events(aw)
    assert event["how"] == "deleted from the inbox"
    assert list(event["revoked_in"]) == ["DE", "FR"]


def test_deleting_one_of_several_versions_is_not_a_recall(aw: AgreementWorld) -> None:
    partner = aw.partner("p-versions", ["FR"])
    first = new_indicator("two versions")
    second = {**first, "modified": "2025-02-01T00:00:00.000Z", "name": "second"}
    aw.submit(partner, first, second)
    response = aw.client.delete(
        f"/hub/collections/{partner.inbox}/objects/{first['id']}/",
        params={"match[version]": "first"},
        headers=taxii_headers(partner.auth),
    )
    assert response.status_code == 200, response.text
    assert _latest(aw, "FR", first["id"]) == second
    assert _recall_events(aw) == []


def test_the_revocation_is_of_what_the_country_received(aw: AgreementWorld) -> None:
    """Under anonymous attribution the countries received an anonymised object; the revoking
    version is that object revoked, so it does not bring the partner's identity back."""
    partner = aw.partner("p-anon", ["FR"], attribution="anonymous")
    identity = f"identity--{uuid.uuid4()}"
    sent = {**new_indicator("anonymised"), "created_by_ref": identity}
    aw.submit(partner, sent)
    received = _latest(aw, "FR", sent["id"])
    assert received is not None
    assert received["created_by_ref"] != identity
    aw.submit(partner, _revoked(sent))
    revoked = _latest(aw, "FR", sent["id"])
    assert revoked is not None
    assert revoked["revoked"] is True
    assert revoked["created_by_ref"] == received["created_by_ref"]
    assert identity not in str(aw.read(aw.analyst("FR"), country_collection_id("FR"))[0])


def test_a_revocation_ignores_the_embargo_and_drops_what_is_held(aw: AgreementWorld) -> None:
    partner = aw.partner("p-embargo", ["FR"], embargo_hours=24)
    released = new_indicator("released before the recall")
    aw.submit(partner, released)
    aw.clock.advance(hours=25)
    aw.hub.release_embargoes()
    assert _latest(aw, "FR", released["id"]) == released
    held = new_indicator("still held when recalled")
    aw.submit(partner, held)

    aw.submit(partner, _revoked(released), _revoked(held))
    revoked = _latest(aw, "FR", released["id"])  # at once, not after another embargo
    assert revoked is not None
    assert revoked["revoked"] is True
    aw.clock.advance(hours=25)
    aw.hub.release_embargoes()
    assert _latest(aw, "FR", held["id"]) is None  # the held original was dropped
    assert [event["held_dropped"] for event in _recall_events(aw)] == [0, 1]


def test_only_the_contributor_can_recall(aw: AgreementWorld) -> None:
    owner = aw.partner("p-owner", ["FR"])
    other = aw.partner("p-intruder", ["FR"])
    sent = new_indicator("owned by p-owner")
    aw.submit(owner, sent)
    aw.submit(other, _revoked(sent))
    assert _latest(aw, "FR", sent["id"]) == sent
    assert [list(event["revoked_in"]) for event in _recall_events(aw)] == [[]]


def test_a_recalled_object_leaves_every_export_at_once(aw: AgreementWorld) -> None:
    partner = aw.partner("p-export", ["FR", "DE"])
    sent = {**new_indicator("exported"), "pattern": "[ipv4-addr:value = '203.0.113.77']"}
    aw.submit(partner, sent)
    formats = ("bundle", "csv", "ipv4", "suricata", "misp")

    def exported(code: str, fmt: str) -> str:
        response = aw.client.get(
            f"/analyst/exports/{country_collection_id(code)}/{fmt}", headers=aw.analyst(code)
        )
        assert response.status_code == 200, response.text
        return response.text

    for code in ("FR", "DE"):
        for fmt in formats:
            assert "203.0.113.77" in exported(code, fmt), (code, fmt)
    response = aw.client.delete(
        f"/hub/collections/{partner.inbox}/objects/{sent['id']}/",
        headers=taxii_headers(partner.auth),
    )
    assert response.status_code == 200, response.text
    for code in ("FR", "DE"):
        for fmt in formats:
            assert "203.0.113.77" not in exported(code, fmt), (code, fmt)
        latest = _latest(aw, code, sent["id"])
        assert latest is not None
        assert latest["revoked"] is True
