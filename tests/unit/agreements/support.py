"""Builders for the agreements tests: terms, contexts and small STIX objects.

The TLP ids are written out here again, from STIX 2.1 section 7.2.1.4 and the OASIS TLP 2.0
objects, rather than imported, so the tests do not check the code against itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from exchange.agreements.facts import EnvelopeFacts, gather_facts
from exchange.agreements.policy import Context, Item
from exchange.agreements.terms import AgreementTerms, Category

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AGREEMENT = "acme-2026@v3"
AUDIENCE = frozenset({"FR", "DE", "JP", "BR"})
PSEUDONYM = "identity--0a6c1c55-9f7e-4f6b-8d0e-4a1b2c3d4e5f"
HUB = "identity--7e0b6f44-2c1d-4e8a-9b3c-5d6e7f8a9b0c"
PARTNER = "identity--acacacac-1111-4222-8333-444455556666"

TLP1_WHITE = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
TLP1_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
TLP1_AMBER = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
TLP1_RED = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
TLP2_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
TLP2_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
TLP2_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
TLP2_AMBER_STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
TLP2_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
IEP_EXT = "extension-definition--762e2e97-ee51-43e5-a9ea-165fbb862c4a"


def terms(**changes: Any) -> AgreementTerms:
    """Agreement terms with every category accepted, all members, and the given changes."""
    data: dict[str, Any] = {
        "valid_from": "2026-01-01T00:00:00Z",
        "legal_basis": "Article 1 of the test regulation",
        "purpose": "unit tests",
        "recipients": {"all_members": True},
        "categories": ["threat", "attack", "victim"],
    }
    data.update(changes)
    return AgreementTerms.model_validate(data)


def context(
    objects: Sequence[Mapping[str, Any]] = (),
    *,
    agreement_terms: AgreementTerms | None = None,
    audience: frozenset[str] = AUDIENCE,
    now: datetime = NOW,
    facts: EnvelopeFacts | None = None,
) -> Context:
    """A context for one envelope (its facts gathered from ``objects``)."""
    return Context(
        partner_id="acme",
        agreement=AGREEMENT,
        terms=agreement_terms or terms(),
        now=now,
        audience=audience,
        facts=facts if facts is not None else gather_facts(objects),
        pseudonym_id=PSEUDONYM,
        hub_identity_id=HUB,
    )


def item(obj: Mapping[str, Any], category: Category = Category.THREAT, **kw: Any) -> Item:
    """An item as the engine starts it: the whole audience unless told otherwise."""
    return Item(obj=obj, audience=kw.pop("audience", AUDIENCE), category=category, **kw)


def indicator(n: int = 1, **props: Any) -> dict[str, Any]:
    """A small valid indicator; ``props`` override or add properties (None removes one)."""
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
        "created": "2026-02-01T00:00:00.000Z",
        "modified": "2026-02-01T00:00:00.000Z",
        "name": "Bad URL",
        "pattern": "[url:value = 'http://bad.example/']",
        "pattern_type": "stix",
        "valid_from": "2026-02-01T00:00:00Z",
    }
    obj.update(props)
    return {key: value for key, value in obj.items() if value is not None}


def identity(uid: str, name: str, **props: Any) -> dict[str, Any]:
    """An identity with the given id and name."""
    obj: dict[str, Any] = {
        "type": "identity",
        "spec_version": "2.1",
        "id": uid,
        "created": "2026-01-15T00:00:00.000Z",
        "modified": "2026-01-15T00:00:00.000Z",
        "name": name,
        "identity_class": "organization",
    }
    obj.update(props)
    return {key: value for key, value in obj.items() if value is not None}


def relationship(uid: int, kind: str, source: str, target: str, **props: Any) -> dict[str, Any]:
    """A relationship with a numbered id."""
    obj: dict[str, Any] = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": f"relationship--00000000-0000-4000-9000-{uid:012d}",
        "created": "2026-02-01T00:00:00.000Z",
        "modified": "2026-02-01T00:00:00.000Z",
        "relationship_type": kind,
        "source_ref": source,
        "target_ref": target,
    }
    obj.update(props)
    return obj


def location(uid: str, **props: Any) -> dict[str, Any]:
    """A location with the given id."""
    obj: dict[str, Any] = {
        "type": "location",
        "spec_version": "2.1",
        "id": uid,
        "created": "2026-01-15T00:00:00.000Z",
        "modified": "2026-01-15T00:00:00.000Z",
    }
    obj.update(props)
    return obj


def iep_marking(uid: str, tlp: str | None = "amber", **fields: Any) -> dict[str, Any]:
    """An IEP 2.0 marking definition (shape of the OASIS example) with ``fields`` overridden."""
    body: dict[str, Any] = {
        "extension_type": "property-extension",
        "encrypt_in_transit": "may",
        "permitted_actions": "externally-visible-direct-actions",
        "affected_party_notifications": "may",
        "tlp": tlp,
        "provider_attribution": "must-not",
        "unmodified_resale": "must-not",
        "iep_id": "0224bfdf-ea3a-49c3-96f6-66d908bb1845",
        "iep_version": 2.0,
        "description": "An IEP policy",
        "start_date": "2022-10-01T00:00:00Z",
    }
    body.update(fields)
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": uid,
        "created": "2024-01-10T14:52:41.853121Z",
        "name": "IEP data marking",
        "extensions": {IEP_EXT: {k: v for k, v in body.items() if v is not None}},
    }
