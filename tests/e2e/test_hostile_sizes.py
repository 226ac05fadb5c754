"""Huge strings and arrays inside objects, at the default limits of a real `exchange serve`
(bodies of 16 MiB): each envelope gets a status resource (the object taken, or refused with a
reason), never a 5xx; what is taken comes back intact; and the server keeps answering others
while it works."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
import requests

from tests.support.server import HubProcess
from tests.support.stix import indicator

TAXII = "application/taxii+json;version=2.1"
HEADERS = {"Content-Type": TAXII, "Accept": TAXII}
MIB = 1024 * 1024


# The module's hub is the suite's (tests/conftest.py).


def _indicator(**extra: Any) -> dict[str, Any]:
    return indicator(stamp="2024-01-01T00:00:00.000Z", **extra)


CASES: dict[str, dict[str, Any]] = {
    "a 15 MiB description": _indicator(description="x" * (15 * MIB)),
    "a 15 MiB string of multi-byte characters": _indicator(description="é" * (7 * MIB)),
    "1,000,000 labels": _indicator(labels=[f"l{i}" for i in range(1_000_000)]),
    "a 200,000-key extension": _indicator(
        extensions={
            "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e": {
                "extension_type": "property-extension",
                **{f"k{i}": i for i in range(200_000)},
            }
        }
    ),
    "a 2 MiB pattern": _indicator(
        pattern=" OR ".join(
            f"[ipv4-addr:value = '10.0.{i // 256 % 256}.{i % 256}']" for i in range(60_000)
        )
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_huge_value_gets_a_status_and_never_a_5xx(hub: HubProcess, name: str) -> None:
    partner = hub.accounts["demo-partner-a"]
    assert partner.inbox is not None
    obj = CASES[name]
    body = orjson.dumps({"objects": [obj]})
    assert len(body) < 16 * MIB
    url = hub.collection_url(partner.inbox) + "objects/"
    started = time.monotonic()
    answer = requests.post(url, data=body, headers=HEADERS, auth=partner.auth, timeout=120)
    assert answer.status_code == 202, (answer.status_code, answer.text[:300])
    status = answer.json()
    assert status["status"] == "complete"
    assert status["total_count"] == 1
    if status["success_count"] == 1:
        back = requests.get(
            hub.collection_url(partner.inbox) + f"objects/{obj['id']}/",
            headers={"Accept": TAXII},
            auth=partner.auth,
            timeout=120,
        )
        assert back.status_code == 200
        assert back.json()["objects"][0] == obj
    else:
        (failure,) = status["failures"]
        assert failure["id"] == obj["id"]
        assert failure["message"]
    # The server still answers, at once.
    assert requests.get(hub.discovery, auth=partner.auth, timeout=10).status_code == 200
    assert time.monotonic() - started < 120


def test_a_body_just_over_the_default_limit_is_a_413(hub: HubProcess) -> None:
    partner = hub.accounts["demo-partner-a"]
    assert partner.inbox is not None
    body = orjson.dumps({"objects": [_indicator(description="x" * (16 * MIB))]})
    url = hub.collection_url(partner.inbox) + "objects/"
    answer = requests.post(url, data=body, headers=HEADERS, auth=partner.auth, timeout=60)
    assert answer.status_code == 413
    assert answer.json()["http_status"] == "413"


def test_the_server_is_still_whole_afterwards(hub: HubProcess) -> None:
    partner = hub.accounts["demo-partner-a"]
    assert partner.inbox is not None
    small = _indicator()
    url = hub.collection_url(partner.inbox) + "objects/"
    answer = requests.post(
        url, data=orjson.dumps({"objects": [small]}), headers=HEADERS, auth=partner.auth, timeout=30
    )
    assert answer.status_code == 202
    assert answer.json()["success_count"] == 1
