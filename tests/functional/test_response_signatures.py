"""Hub-signed TAXII responses and the well-known key set, in process."""

from __future__ import annotations

import base64
import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from exchange.signing.keys import public_key_from_pem
from exchange.signing.verify import OriginalRequest, verify_response
from exchange.taxii.signatures import ResponseSigner
from exchange.taxii.well_known import WELL_KNOWN_KEYS
from exchange.verify import REQUIRED_COMPONENTS, ResponseNotVerified, verify_message
from tests.functional.conftest import API, World, objects_url

COVERED = ("@status", "content-digest", "content-type", '"@method";req', '"@target-uri";req')


def keys_of(world: World) -> dict[str, Any]:
    response = world.client.get(WELL_KNOWN_KEYS)
    assert response.status_code == 200, response.text
    keys: dict[str, Any] = response.json()
    return keys


def check(world: World, response: Any, **changes: Any) -> Any:
    message: dict[str, Any] = {
        "method": response.request.method,
        "url": str(response.request.url),
        "status": response.status_code,
        "headers": dict(response.headers),
        "body": response.content,
        "keys": keys_of(world),
    }
    message.update(changes)
    return verify_message(**message)


def pull(world: World, path: str, actor: str = "analyst_fr", **params: str) -> Any:
    return world.client.get(path, params=params, headers=world.actors[actor].headers())


@pytest.fixture(scope="module")
def fast_world(make_world: Any) -> World:
    """A hub whose servers re-read the response key on every response."""
    made: World = make_world(response_key_check_seconds=0)
    return made


@pytest.mark.parametrize(
    "path",
    [
        "/taxii2/",
        API,
        API + "collections/",
        "objects",
        "manifest",
    ],
)
def test_a_response_verifies_with_the_published_keys(world: World, path: str) -> None:
    collection = world.collections["country_fr"]
    if path in {"objects", "manifest"}:
        path = f"{API}collections/{collection}/{path}/"
    response = pull(world, path, **{"match[type]": "indicator"})
    assert response.status_code == 200, response.text
    checked = check(world, response)
    assert checked.covered_components == COVERED
    assert checked.key_id == world.hub.hub_key("responses").key_id
    digest = base64.b64encode(hashlib.sha256(response.content).digest()).decode()
    assert response.headers["content-digest"] == f"sha-256=:{digest}:"


def test_the_library_verifier_agrees(world: World) -> None:
    response = pull(world, objects_url(world.collections["country_fr"]))
    key = world.hub.hub_key("responses")
    info = public_key_from_pem(key.public_key, key.key_id)
    verified = verify_response(
        response.status_code,
        dict(response.headers),
        response.content,
        resolve_key=lambda key_id: info if key_id == key.key_id else None,
        now=datetime.now(UTC),
        max_skew=timedelta(minutes=1),
        required_components=REQUIRED_COMPONENTS,
        request=OriginalRequest("GET", str(response.request.url)),
    )
    assert verified.key_id == key.key_id


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"body": b'{"more":false,"objects":[]}'}, "digest_mismatch"),
        ({"status": 203}, "bad_signature"),
        ({"url": "http://testserver/hub/collections/"}, "bad_signature"),
        ({"method": "POST"}, "bad_signature"),
    ],
)
def test_tampering_fails(world: World, change: dict[str, Any], reason: str) -> None:
    response = pull(world, objects_url(world.collections["country_fr"]))
    with pytest.raises(ResponseNotVerified) as caught:
        check(world, response, **change)
    assert caught.value.reason == reason


def test_tampered_headers_fail(world: World) -> None:
    response = pull(world, objects_url(world.collections["country_fr"]))
    headers = dict(response.headers)
    assert check(world, response, headers=headers)
    for name, value in [
        ("content-type", "application/json"),
        ("content-digest", "sha-256=:" + base64.b64encode(bytes(32)).decode() + ":"),
        ("signature", "sig1=:" + base64.b64encode(bytes(64)).decode() + ":"),
    ]:
        with pytest.raises(ResponseNotVerified):
            check(world, response, headers={**headers, name: value})
    without = {k: v for k, v in headers.items() if k not in {"signature", "signature-input"}}
    with pytest.raises(ResponseNotVerified) as caught:
        check(world, response, headers=without)
    assert caught.value.reason == "missing_signature"


def test_a_response_to_one_url_does_not_verify_for_another(world: World) -> None:
    fr = world.collections["country_fr"]
    first = pull(world, objects_url(fr), **{"match[type]": "indicator"})
    second = pull(world, objects_url(fr), **{"match[type]": "malware"})
    assert check(world, first)
    with pytest.raises(ResponseNotVerified):
        check(world, first, url=str(second.request.url))


def test_error_bodies_are_signed(world: World) -> None:
    missing = pull(world, objects_url(world.collections["missing"]))
    assert missing.status_code == 404
    assert check(world, missing).status == 404
    anonymous = pull(world, API + "collections/", actor="anonymous")
    assert anonymous.status_code == 401
    assert check(world, anonymous).status == 401
    unknown_route = pull(world, API + "no-such-thing/")
    assert unknown_route.status_code == 404
    assert check(world, unknown_route).status == 404


def test_rotation_uses_the_new_key_and_keeps_the_old_published(fast_world: World) -> None:
    world = fast_world
    collections = API + "collections/"
    before = pull(world, collections)
    old = check(world, before).key_id
    new = world.hub.rotate_hub_key("responses").key_id
    assert new != old
    after = pull(world, collections)
    assert check(world, after).key_id == new
    published = {jwk["kid"]: jwk for jwk in keys_of(world)["keys"]}
    assert "retired" in published[old]
    assert "retired" not in published[new]
    assert published[old]["purpose"] == published[new]["purpose"] == "responses"
    # What the old key signed still checks.
    assert check(world, before).key_id == old


def test_a_retired_key_cannot_sign_long_after(fast_world: World) -> None:
    world = fast_world
    response = pull(world, API + "collections/")
    keys = keys_of(world)
    for jwk in keys["keys"]:
        jwk["retired"] = "2000-01-01T00:00:00.000000Z"
    with pytest.raises(ResponseNotVerified) as caught:
        check(world, response, keys=keys)
    assert caught.value.reason == "retired_key"


def test_a_key_not_published_fails(world: World) -> None:
    response = pull(world, API + "collections/")
    with pytest.raises(ResponseNotVerified) as caught:
        check(world, response, keys={"keys": []})
    assert caught.value.reason == "unknown_key"


def test_well_known_keys_need_no_authentication_and_hold_no_secrets(world: World) -> None:
    world.hub.hub_key("audit")
    response = world.client.get(WELL_KNOWN_KEYS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    assert "PRIVATE" not in response.text
    keys = response.json()["keys"]
    assert {jwk["purpose"] for jwk in keys} >= {"responses", "audit"}
    for jwk in keys:
        assert "d" not in jwk
        assert jwk["use"] == "sig"
        assert jwk["alg"] == "EdDSA"
        assert jwk["kty"] == "OKP"
        assert jwk["kid"]
        assert jwk["created"]


def test_public_url_is_the_signed_target(make_world: Any) -> None:
    world = make_world(public_url="https://hub.example.org/")
    response = pull(world, API + "collections/")
    path = response.request.url.raw_path.decode()
    checked = check(world, response, url="https://hub.example.org" + path)
    assert checked.url == "https://hub.example.org/hub/collections/"
    with pytest.raises(ResponseNotVerified):
        check(world, response)


def test_signing_cost_per_response_is_well_under_a_millisecond(world: World) -> None:
    signer = ResponseSigner(world.hub)
    signer.refresh()
    body = b'{"more":false,"objects":[' + b",".join([b'{"type":"indicator"}'] * 100) + b"]}"
    rounds = 500
    started = time.perf_counter()
    for _ in range(rounds):
        signer.sign(200, "application/taxii+json;version=2.1", body, "GET", "http://h/hub/")
    per_response = (time.perf_counter() - started) / rounds
    assert per_response < 0.0005, per_response
