"""The admin REST API: admins only, tokens shown once, grants that TAXII then honours."""

from __future__ import annotations

import pytest

from tests.functional.conftest import World, assert_taxii_error, collection_url, envelope, indicator
from tests.support.onboarding import FIRST_ADMIN, pass_through_terms, vet


def test_only_admins_reach_the_admin_api(world: World) -> None:
    for name in ("partner_owner", "analyst_fr", "disabled", "wrong_token"):
        response = world.client.get("/admin/accounts", headers=world.actors[name].auth)
        assert response.status_code in {401, 403}, name
        assert_taxii_error(response, response.status_code)
    response = world.client.get("/admin/accounts", headers=world.actors["anonymous"].auth)
    assert_taxii_error(response, 401)
    listed = world.client.get("/admin/accounts", headers=world.actors["admin"].auth)
    assert listed.status_code == 200
    usernames = {a["username"] for a in listed.json()}
    assert {"p-owner", "p-other"} <= usernames
    assert all("token" not in a and "token_hash" not in a for a in listed.json())


def test_admin_creates_a_partner_whose_token_works_once_shown(world: World) -> None:
    admin = world.actors["admin"].auth
    made = world.client.post(
        "/admin/accounts",
        json={"role": "partner", "username": "api-partner"},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["token"].startswith("exh_")
    assert body["inbox_collection"]
    vet(world.hub, "api-partner")
    world.hub.set_agreement("api-partner", pass_through_terms(["FR"]), admin=FIRST_ADMIN)
    auth = {"Authorization": f"Bearer {body['token']}"}
    pushed = world.client.post(
        collection_url(body["inbox_collection"]) + "objects/",
        content=envelope(indicator()),
        headers={**auth, "Content-Type": "application/taxii+json;version=2.1"},
    )
    assert pushed.status_code == 202
    assert pushed.json()["success_count"] == 1

    rotated = world.client.post("/admin/accounts/api-partner/token", headers=admin)
    assert rotated.status_code == 200
    stale = world.client.get("/hub/collections/", headers=auth)
    assert_taxii_error(stale, 401)
    fresh = {"Authorization": f"Bearer {rotated.json()['token']}"}
    assert world.client.get("/hub/collections/", headers=fresh).status_code == 200

    disabled = world.client.patch(
        "/admin/accounts/api-partner", json={"active": False}, headers=admin
    )
    assert disabled.json()["active"] is False
    assert_taxii_error(world.client.get("/hub/collections/", headers=fresh), 401)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"role": "analyst", "username": "no-country"}, 400),
        ({"role": "analyst", "username": "bad-country", "country": "XX"}, 400),
        ({"role": "partner", "username": "Upper Case"}, 400),
        ({"role": "partner", "username": "p-owner"}, 409),
        ({"role": "wizard", "username": "w1"}, 422),
        ({"username": "no-role"}, 422),
    ],
)
def test_bad_account_requests_get_clear_errors(
    world: World, body: dict[str, object], status: int
) -> None:
    response = world.client.post("/admin/accounts", json=body, headers=world.actors["admin"].auth)
    error = assert_taxii_error(response, status)
    assert error["description"]


def test_a_grant_through_the_admin_api_opens_the_collection(world: World) -> None:
    admin = world.actors["admin"].auth
    made = world.client.post("/admin/collections", json={"title": "Joint ops"}, headers=admin)
    assert made.status_code == 201
    collection_id = made.json()["id"]
    analyst = world.actors["analyst_de"].headers()
    assert_taxii_error(world.client.get(collection_url(collection_id), headers=analyst), 404)
    granted = world.client.put(
        f"/admin/collections/{collection_id}/grants/analyst-de",
        json={"can_read": True, "can_write": False},
        headers=admin,
    )
    assert granted.status_code == 200, granted.text
    seen = world.client.get(collection_url(collection_id), headers=analyst)
    assert seen.status_code == 200
    assert (seen.json()["can_read"], seen.json()["can_write"]) == (True, False)
    listing = world.client.get("/admin/collections", headers=admin).json()
    kinds = {c["kind"] for c in listing}
    assert kinds == {"inbox", "country", "shared", "feedback"}
    assert sum(c["kind"] == "country" for c in listing) == 196


def test_the_openapi_document_describes_the_admin_api(world: World) -> None:
    document = world.client.get("/admin/openapi.json")
    assert document.status_code == 200
    assert "/admin/accounts" in document.json()["paths"]
