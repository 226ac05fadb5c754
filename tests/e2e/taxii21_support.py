"""Helpers for the end-to-end tests that drive the hub with taxii2-client and stix2."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import requests
from taxii2client.v21 import Collection

from tests.support.server import Credential, HubProcess

TAXII_21 = "application/taxii+json;version=2.1"
STIX_21 = "application/stix+json;version=2.1"
DATE_FIRST = "X-TAXII-Date-Added-First"
DATE_LAST = "X-TAXII-Date-Added-Last"


def unique_name(prefix: str) -> str:
    """A user name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def new_partner(hub: HubProcess, *share_with: str) -> Credential:
    """A fresh, vetted partner (own, empty inbox) sharing with the given member countries."""
    # Without countries: Nauru, which no test reads, since an agreement must name someone.
    return hub.onboard_partner(unique_name("e2e-partner"), share_with or ("NR",))


def new_analyst(hub: HubProcess, country: str) -> Credential:
    """A fresh analyst of a member country."""
    return hub.create_account("analyst", unique_name("e2e-analyst"), "--country", country)


def collection(hub: HubProcess, who: Credential, collection_id: str) -> Collection:
    """A taxii2-client Collection on the hub, authenticated as ``who``."""
    return Collection(hub.collection_url(collection_id), user=who.username, password=who.token)


def inbox(hub: HubProcess, partner: Credential) -> Collection:
    """The partner's inbox as a taxii2-client Collection."""
    assert partner.inbox is not None
    return collection(hub, partner, partner.inbox)


def load_bundle(stix_data: Path, relative: str) -> dict[str, Any]:
    """A STIX bundle from the shared data (plain JSON)."""
    document: dict[str, Any] = json.loads((stix_data / relative).read_text(encoding="utf-8"))
    return document


def envelope(objects: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A TAXII 2.1 envelope around plain-dict STIX objects."""
    return {"objects": [dict(o) for o in objects]}


def indicator(
    stix_id: str | None = None,
    *,
    modified: str = "2021-01-01T00:00:00.000Z",
    created: str = "2021-01-01T00:00:00.000Z",
    name: str = "e2e indicator",
    value: str = "198.51.100.7",
) -> dict[str, Any]:
    """A valid STIX 2.1 indicator as a plain dict (documentation-range IP address)."""
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id or f"indicator--{uuid.uuid4()}",
        "created": created,
        "modified": modified,
        "name": name,
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": created,
    }


def version_of(obj: Mapping[str, Any]) -> str:
    """The TAXII version of a STIX object that has ``modified`` or ``created``."""
    value = obj.get("modified", obj.get("created"))
    assert isinstance(value, str)
    return value


def raw_get(
    hub: HubProcess,
    who: Credential,
    url: str,
    params: Mapping[str, str | int] | None = None,
    *,
    accept: str = TAXII_21,
) -> requests.Response:
    """A plain GET (taxii2-client hides response headers)."""
    return requests.get(
        url,
        params=dict(params or {}),
        auth=who.auth,
        headers={"Accept": accept},
        timeout=30,
    )


def full_manifest(coll: Collection, **filters: Any) -> list[dict[str, Any]]:
    """Every manifest record of a collection matching ``filters`` (one big page)."""
    page = coll.get_manifest(limit=1000, **filters)
    assert page.get("more", False) is False, "test data is expected to fit one page of 1000"
    records: list[dict[str, Any]] = page.get("objects", [])
    return records


def assert_taxii_error(response: requests.Response, status: int) -> dict[str, Any]:
    """Check a TAXII error message (TAXII 2.1 section 3.6.1) and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == TAXII_21
    body: dict[str, Any] = response.json()
    assert isinstance(body.get("title"), str)
    assert body["title"]
    assert str(body.get("http_status")) == str(status)
    return body


def brief(details: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Status details with each message cut to its outcome ("added", "already present").

    The hub's success messages go on to name the agreement version that accepted the object
    and where it went; tests about TAXII itself compare the outcome only.
    """
    return [{**d, "message": str(d.get("message", "")).split(" (", 1)[0]} for d in details]
