"""taxii2-client, unchanged, signs through SigningAuth: a real client against a real server.

A tiny Starlette app serves one TAXII 2.1 collection under uvicorn, in a thread, on a free
loopback port (requests cannot talk to an in-process ASGI test client). Its handlers call
verify_request on what arrived over the wire, answer with a TAXII status, and keep the nonces
they saw, refusing a replay, as the hub will.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from taxii2client.v21 import Collection

from exchange.signing.errors import SignatureInvalid
from exchange.signing.verify import REQUEST_COMPONENTS, VerifiedSignature, verify_request
from tests.unit.signing.support import COLLECTION, NOW, SKEW, TAXII, Keyring, Partner, make_partner

GET_COMPONENTS = ("@method", "@target-uri", "content-digest")
ENVELOPE = {
    "objects": [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2026-03-01T12:00:00.000Z",
            "modified": "2026-03-01T12:00:00.000Z",
            "name": "bad domain",
            "pattern": "[domain-name:value = 'evil.example']",
            "pattern_type": "stix",
            "valid_from": "2026-03-01T12:00:00Z",
        }
    ]
}


@dataclass
class Hub:
    """What the little server verified and refused."""

    keyring: Keyring
    verified: list[VerifiedSignature] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)


def _taxii(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body), status_code=status, media_type=TAXII)


def _app(hub: Hub) -> Starlette:
    async def check(request: Request, required: tuple[str, ...]) -> VerifiedSignature:
        verified = verify_request(
            request.method,
            str(request.url),
            request.headers,
            await request.body(),
            resolve_key=hub.keyring,
            now=NOW,
            max_skew=SKEW,
            required_components=required,
        )
        assert verified.nonce is not None
        if verified.nonce in hub.nonces:
            # The caller's replay check, on the returned nonce; how the hub reports it is the
            # hub's choice (this test server calls it a bad signature).
            raise SignatureInvalid("bad_signature", "this nonce was already used")
        hub.nonces.add(verified.nonce)
        hub.verified.append(verified)
        hub.authorizations.append(request.headers.get("authorization", ""))
        return verified

    async def collection(request: Request) -> Response:
        await check(request, GET_COMPONENTS)
        return _taxii(
            {
                "id": COLLECTION,
                "title": "Indicators",
                "can_read": True,
                "can_write": True,
                "media_types": [TAXII],
            }
        )

    async def add_objects(request: Request) -> Response:
        await check(request, REQUEST_COMPONENTS)  # writes: the hub's default components
        count = len(json.loads(await request.body())["objects"])
        status = {
            "id": "2d086da7-4bdc-4f91-900e-d77486753710",
            "status": "complete",
            "request_timestamp": "2026-03-01T12:00:00.000000Z",
            "total_count": count,
            "success_count": count,
            "failure_count": 0,
            "pending_count": 0,
        }
        return _taxii(status, 202)

    async def refuse(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignatureInvalid)
        hub.refused.append(exc.reason)
        return _taxii({"title": exc.title, "description": exc.detail, "http_status": "401"}, 401)

    base = f"/api1/collections/{COLLECTION}/"
    return Starlette(
        routes=[
            Route(base, collection, methods=["GET"]),
            Route(base + "objects/", add_objects, methods=["POST"]),
        ],
        exception_handlers={SignatureInvalid: refuse},
    )


class _Server:
    """uvicorn in a thread, on a socket bound here so the port is known and free."""

    def __init__(self, app: Starlette) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = int(self.socket.getsockname()[1])
        config = uvicorn.Config(app, lifespan="off", ws="none", log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.socket.close()


@pytest.fixture
def hub(keyring: Keyring) -> Hub:
    return Hub(keyring)


@pytest.fixture
def collection_url(hub: Hub) -> Iterator[str]:
    with _Server(_app(hub)) as server:
        yield f"http://127.0.0.1:{server.port}/api1/collections/{COLLECTION}/"


def test_taxii2_client_add_objects_is_signed_and_verified(
    partner: Partner, hub: Hub, collection_url: str
) -> None:
    auth = partner.auth(user="alice", token="t0ken")
    with Collection(collection_url, auth=auth) as collection:
        assert collection.can_write  # a signed GET of the collection's information
        status = collection.add_objects(ENVELOPE)  # a signed POST of the envelope
    assert status.status == "complete"
    assert status.success_count == 1
    assert hub.refused == []
    read, write = hub.verified
    assert read.covered_components == GET_COMPONENTS
    assert write.covered_components == ("@method", "@target-uri", "content-digest", "content-type")
    assert write.key_id == partner.key_id
    assert f'"@target-uri": {collection_url}objects/'.encode() in write.signature_base
    assert all(value.startswith("Basic ") for value in hub.authorizations)


def test_a_client_with_an_unregistered_key_is_refused(hub: Hub, collection_url: str) -> None:
    stranger = make_partner("ed25519")
    collection = Collection(
        collection_url,
        auth=stranger.auth(),
        collection_info={
            "id": COLLECTION,
            "title": "Indicators",
            "can_read": True,
            "can_write": True,
        },
    )
    with pytest.raises(requests.HTTPError) as caught:
        collection.add_objects(ENVELOPE)
    assert caught.value.response is not None
    assert caught.value.response.status_code == 401
    assert hub.refused == ["unknown_key"]
    collection.close()


def test_a_replayed_request_is_caught_by_its_nonce(
    partner: Partner, hub: Hub, collection_url: str
) -> None:
    prepared = requests.Request(
        "POST",
        collection_url + "objects/",
        data=json.dumps(ENVELOPE).encode(),
        headers={"Content-Type": TAXII, "Accept": TAXII},
        auth=partner.auth(),
    ).prepare()
    with requests.Session() as session:
        assert session.send(prepared, timeout=10).status_code == 202
        assert session.send(prepared, timeout=10).status_code == 401
    assert hub.refused == ["bad_signature"]
