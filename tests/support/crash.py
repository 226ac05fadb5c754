"""Support for crash tests: signing partners, deterministic feeds of envelopes, signed pushes
whose outcome may be unknown, and walks of a collection's manifest by (id, version).

A feed is generated up front from a seeded random generator, so its envelopes do not depend on
what the hub answered: envelopes of 1 to 300 indicators, each with at least one new object
that no other envelope repeats (its "own" object), some objects sent again exactly as an
earlier envelope sent them, and some new versions (a later ``modified``) of earlier objects.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

import requests
import urllib3

from exchange.signing.client import SigningAuth
from tests.support.server import Credential, HubProcess
from tests.support.signers import Signer, onboard_signer

__all__ = [
    "TAXII_21",
    "Envelope",
    "Outcome",
    "Push",
    "Signer",
    "VersionKey",
    "generate_feed",
    "group_versions",
    "manifest_page",
    "onboard_signer",
    "page_versions",
    "push_envelope",
    "walk_manifest",
]

TAXII_21 = "application/taxii+json;version=2.1"
VersionKey = tuple[str, str]
"""(STIX id, version) of one object version, the version as TAXII writes it."""

_CREATED = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Envelope:
    """One envelope of a feed: its objects in order and the versions only it carries."""

    number: int
    objects: tuple[dict[str, Any], ...]
    own: frozenset[VersionKey]

    @property
    def versions(self) -> list[VersionKey]:
        return [(str(obj["id"]), str(obj["modified"])) for obj in self.objects]

    def body(self) -> bytes:
        return json.dumps({"objects": list(self.objects)}).encode()


def _size(rng: random.Random) -> int:
    # Mostly small envelopes, a third large ones: 1..300 objects.
    return rng.randint(1, 40) if rng.random() < 0.67 else rng.randint(100, 300)


def _indicator(rng: random.Random, label: str, stix_id: str, version: int) -> dict[str, Any]:
    modified = _CREATED + timedelta(seconds=version)
    domain = f"{rng.getrandbits(48):012x}.example.org"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id,
        "created": _timestamp(_CREATED),
        "modified": _timestamp(modified),
        "name": f"{label} v{version}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[domain-name:value = '{domain}']",
        "pattern_type": "stix",
        "valid_from": _timestamp(_CREATED),
    }


def generate_feed(seed: int, label: str, count: int) -> list[Envelope]:
    """``count`` envelopes, the same for the same seed and label."""
    rng = random.Random(f"{seed}:{label}")
    sent: list[dict[str, Any]] = []  # versions that other envelopes may repeat
    latest: dict[str, int] = {}  # id -> newest version number generated
    envelopes: list[Envelope] = []
    for number in range(count):
        size = _size(rng)
        repeats = min(len(sent), rng.randint(0, size // 5))
        updates = min(len(latest), rng.randint(0, size // 5))
        fresh = max(1, size - repeats - updates)
        chosen: dict[VersionKey, dict[str, Any]] = {}
        new: list[dict[str, Any]] = []
        for obj in rng.sample(sent, repeats):
            chosen[(obj["id"], obj["modified"])] = obj
        for stix_id in rng.sample(sorted(latest), updates):
            latest[stix_id] += 1
            obj = _indicator(rng, f"{label} {stix_id[-6:]}", stix_id, latest[stix_id])
            chosen[(stix_id, obj["modified"])] = obj
            new.append(obj)
        for index in range(fresh):
            stix_id = f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}"
            latest[stix_id] = 0
            obj = _indicator(rng, f"{label} {number}.{index}", stix_id, 0)
            chosen[(stix_id, obj["modified"])] = obj
            if index > 0:  # the first new object is never sent again: the envelope's own
                new.append(obj)
        objects = list(chosen.values())
        rng.shuffle(objects)
        sent.extend(new)
        envelopes.append(Envelope(number, tuple(objects), frozenset()))
    # An envelope's own versions are those no other envelope carries (at least its first new
    # object): whether they are served tells whether the hub took the envelope.
    carried: dict[VersionKey, int] = {}
    for envelope in envelopes:
        for key in envelope.versions:
            carried[key] = carried.get(key, 0) + 1
    return [
        Envelope(e.number, e.objects, frozenset(k for k in e.versions if carried[k] == 1))
        for e in envelopes
    ]


class Outcome(Enum):
    ACKNOWLEDGED = "acknowledged"  # a 202 with its status resource arrived
    UNKNOWN = "unknown"  # sent, but the answer never arrived
    ANSWERED = "answered"  # an answer other than 202, or the server never came back


@dataclass
class Push:
    """What became of one envelope."""

    partner: str
    envelope: Envelope
    outcome: Outcome
    epoch: int  # how many kills had happened when the deciding attempt began
    status_code: int | None = None
    answer: dict[str, Any] = field(default_factory=dict)
    error: str = ""


def _not_sent(error: requests.ConnectionError) -> bool:
    """Whether the connection was never made (the server was down): nothing was sent."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def push_envelope(
    hub: HubProcess,
    signer: Signer,
    envelope: Envelope,
    epoch: Callable[[], int],
    *,
    give_up_after: float,
) -> Push:
    """Sign and POST ``envelope`` to the partner's inbox, on a fresh connection.

    While the server is down (connection refused) the envelope is signed again and resent;
    once a request was sent, a lost answer is an unknown outcome and is not retried, so the
    caller learns whether the hub took it, whole or not at all, only from what it serves.
    ``epoch()`` says how many kills have happened; the push records it as it was when the
    attempt that decided the outcome began.
    """
    inbox = signer.credential.inbox
    assert inbox is not None
    username = signer.credential.username
    deadline = time.monotonic() + give_up_after
    body = envelope.body()
    while True:
        began = epoch()
        prepared = requests.Request(
            "POST",
            f"{hub.collection_url(inbox)}objects/",
            data=body,
            headers={"Content-Type": TAXII_21, "Accept": TAXII_21},
        ).prepare()
        SigningAuth(signer.private, signer.key_id, user=username, token=signer.credential.token)(
            prepared
        )
        try:
            with requests.Session() as session:
                response = session.send(prepared, timeout=60)
        except requests.ConnectionError as error:
            if _not_sent(error):
                if time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                return Push(username, envelope, Outcome.ANSWERED, began, error=str(error)[:300])
            return Push(username, envelope, Outcome.UNKNOWN, began, error=str(error)[:300])
        except (requests.Timeout, requests.exceptions.ChunkedEncodingError) as error:
            return Push(username, envelope, Outcome.UNKNOWN, began, error=str(error)[:300])
        try:
            answer: dict[str, Any] = response.json()
        except ValueError:
            answer = {"unparsed": response.text[:500]}
        outcome = Outcome.ACKNOWLEDGED if response.status_code == 202 else Outcome.ANSWERED
        return Push(username, envelope, outcome, began, response.status_code, answer)


def manifest_page(
    hub: HubProcess, who: Credential, collection_id: str, limit: int, cursor: str | None
) -> dict[str, Any]:
    """One manifest page of every version (``match[version]=all``)."""
    params: dict[str, str | int] = {"limit": limit, "match[version]": "all"}
    if cursor is not None:
        params["next"] = cursor
    response = requests.get(
        f"{hub.collection_url(collection_id)}manifest/",
        params=params,
        auth=who.auth,
        headers={"Accept": TAXII_21},
        timeout=60,
    )
    assert response.status_code == 200, (response.status_code, response.text[:500])
    page: dict[str, Any] = response.json()
    return page


def page_versions(page: dict[str, Any]) -> list[VersionKey]:
    return [(str(row["id"]), str(row["version"])) for row in page.get("objects", [])]


def walk_manifest(
    hub: HubProcess,
    who: Credential,
    collection_id: str,
    *,
    limit: int,
    cursor: str | None = None,
    max_pages: int = 10_000,
) -> list[VersionKey]:
    """Every (id, version) from ``cursor`` (or the start) to the end, in the order served."""
    seen: list[VersionKey] = []
    for _ in range(max_pages):
        page = manifest_page(hub, who, collection_id, limit, cursor)
        rows = page_versions(page)
        assert len(rows) <= limit
        seen += rows
        if not page.get("more", False):
            return seen
        assert rows, "a page that says more must not be empty"
        cursor = page["next"]
        assert isinstance(cursor, str)
        assert cursor
    raise AssertionError(f"paging did not end within {max_pages} pages")


def group_versions(pushes: Sequence[Push]) -> set[VersionKey]:
    """Every version the given pushes carried."""
    return {key for push in pushes for key in push.envelope.versions}
