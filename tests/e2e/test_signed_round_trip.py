"""A signed round trip against a real server: a partner whose agreement requires signatures
pushes a CTI documentation bundle with plain taxii2-client and ``SigningAuth``; an FR analyst
pulls the country collection page by page with taxii2-client, keeps the raw responses through a
session hook, and checks every page against the hub's published keys with ``verify_pulled``.
A single flipped byte in a pulled body no longer verifies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from taxii2client.common import _HTTPConnection
from taxii2client.v21 import Collection, as_pages

from exchange.countries import country_collection_id
from exchange.signing.client import SigningAuth
from exchange.signing.keys import generate_private_key, public_key_info
from exchange.verify import ResponseNotVerified, verify_message, verify_pulled
from tests.support.onboarding import pass_through_terms
from tests.support.server import HubProcess

POISONIVY = Path("/work/shared/data/stix/examples/cti-documentation/poisonivy.json")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not POISONIVY.is_file(), reason="CTI documentation examples absent"),
]


def test_a_signed_push_is_pulled_and_every_page_verifies(hub: HubProcess) -> None:
    partner = hub.onboard_partner(
        "round-trip-signer", ["FR"], terms=pass_through_terms(["FR"], signatures_required=True)
    )
    assert partner.inbox is not None
    private = generate_private_key()
    info = public_key_info(private.public_key())
    registered = hub._admin_call(
        "POST", f"/admin/partners/{partner.username}/keys", "admin", {"public_key": info.pem()}
    )
    assert registered["key_id"] == info.key_id

    # The partner pushes with plain taxii2-client, every request signed by SigningAuth.
    bundle: dict[str, Any] = json.loads(POISONIVY.read_text())
    pushed = {obj["id"] for obj in bundle["objects"]}
    auth = SigningAuth(private, info.key_id, user=partner.username, token=partner.token)
    status = Collection(hub.collection_url(partner.inbox), auth=auth).add_objects(
        {"objects": bundle["objects"]}, wait_for_completion=False
    )
    assert status.success_count == len(bundle["objects"]), status.failures

    # The FR analyst pulls, keeping every raw response.
    analyst = hub.create_account("analyst", "round-trip-analyst-fr", "--country", "FR")
    keys = requests.get(hub.base + "/.well-known/exchange-keys", timeout=30).json()
    pulled: list[requests.Response] = []
    conn = _HTTPConnection(analyst.username, analyst.token, version="2.1")
    conn.session.hooks["response"].append(lambda response, **_: pulled.append(response))
    fr = Collection(hub.collection_url(country_collection_id("FR")), conn=conn)
    seen: set[str] = set()
    pages = 0
    for page in as_pages(fr.get_objects, per_request=50):
        pages += 1
        seen |= {obj["id"] for obj in page.get("objects", [])}
    assert pages >= 4  # 155 objects, 50 a page
    assert pushed <= seen

    object_pages = [r for r in pulled if "/objects/" in (r.request.url or "")]
    assert len(object_pages) == pages
    for response in pulled:
        assert response.status_code == 200
        checked = verify_pulled(response, keys)
        assert checked.url == response.request.url
        assert checked.body == response.content
        assert '"@target-uri";req' in checked.covered_components

    # One flipped byte in a captured body: the page no longer verifies.
    page = object_pages[len(object_pages) // 2]
    body = bytearray(page.content)
    body[len(body) // 2] ^= 0x01
    assert page.request.method is not None
    assert page.request.url is not None
    with pytest.raises(ResponseNotVerified) as failed:
        verify_message(
            method=page.request.method,
            url=page.request.url,
            status=page.status_code,
            headers=dict(page.headers),
            body=bytes(body),
            keys=keys,
        )
    assert failed.value.reason == "digest_mismatch"
