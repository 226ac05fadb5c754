"""The access rule table (``exchange.sharing.access``), exercised over HTTP in full.

Every actor of the functional world (see ``conftest``) times every kind of collection times
every collection endpoint gets exactly the status written in ``EXPECTED`` below. The table is
derived by hand from the rules:

* no valid credential (none, a disabled account, a wrong token): 401, whatever the collection;
* a collection the account can neither read nor write is invisible, and an invisible
  collection answers exactly like one that does not exist: 404;
* visible but not permitted: 403 (reads need ``can_read``; POST and DELETE need ``can_write``);
* permitted: 200 (202 for POST, which answers with a status resource).

Columns: ``own_inbox`` is ``p-owner``'s inbox (shared with FR), ``other_inbox`` is
``p-other``'s (shared with DE); ``own_feedback`` and ``other_feedback`` are their feedback
collections (read by their partner only, written by the hub only);
``shared_r``/``shared_w``/``shared_rw`` are shared collections on which every non-admin account
holds a read / write-only / read+write grant, ``shared_none`` one on which nobody holds a grant;
``missing`` is a collection id that does not exist. Every collection (but ``missing``) holds a
seed object, which the single-object endpoints address.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from tests.functional.conftest import (
    API,
    KINDS,
    ROLES,
    World,
    assert_taxii_error,
    collection_url,
    envelope,
    indicator,
    object_url,
    objects_url,
)

METHODS = ("collection", "objects", "manifest", "object", "versions", "post", "delete")

# fmt: off
EXPECTED_TABLE = """
role           collection      collection objects manifest object versions post delete
anonymous      own_inbox       401        401     401      401    401      401  401
anonymous      other_inbox     401        401     401      401    401      401  401
anonymous      country_fr      401        401     401      401    401      401  401
anonymous      country_de      401        401     401      401    401      401  401
anonymous      shared_r        401        401     401      401    401      401  401
anonymous      shared_w        401        401     401      401    401      401  401
anonymous      shared_rw       401        401     401      401    401      401  401
anonymous      shared_none     401        401     401      401    401      401  401
anonymous      own_feedback    401        401     401      401    401      401  401
anonymous      other_feedback  401        401     401      401    401      401  401
anonymous      missing         401        401     401      401    401      401  401
partner_owner  own_inbox       200        200     200      200    200      202  200
partner_owner  other_inbox     404        404     404      404    404      404  404
partner_owner  country_fr      404        404     404      404    404      404  404
partner_owner  country_de      404        404     404      404    404      404  404
partner_owner  shared_r        200        200     200      200    200      403  403
partner_owner  shared_w        200        403     403      403    403      202  200
partner_owner  shared_rw       200        200     200      200    200      202  200
partner_owner  shared_none     404        404     404      404    404      404  404
partner_owner  own_feedback    200        200     200      200    200      403  403
partner_owner  other_feedback  404        404     404      404    404      404  404
partner_owner  missing         404        404     404      404    404      404  404
other_partner  own_inbox       404        404     404      404    404      404  404
other_partner  other_inbox     200        200     200      200    200      202  200
other_partner  country_fr      404        404     404      404    404      404  404
other_partner  country_de      404        404     404      404    404      404  404
other_partner  shared_r        200        200     200      200    200      403  403
other_partner  shared_w        200        403     403      403    403      202  200
other_partner  shared_rw       200        200     200      200    200      202  200
other_partner  shared_none     404        404     404      404    404      404  404
other_partner  own_feedback    404        404     404      404    404      404  404
other_partner  other_feedback  200        200     200      200    200      403  403
other_partner  missing         404        404     404      404    404      404  404
analyst_fr     own_inbox       404        404     404      404    404      404  404
analyst_fr     other_inbox     404        404     404      404    404      404  404
analyst_fr     country_fr      200        200     200      200    200      403  403
analyst_fr     country_de      404        404     404      404    404      404  404
analyst_fr     shared_r        200        200     200      200    200      403  403
analyst_fr     shared_w        200        403     403      403    403      202  200
analyst_fr     shared_rw       200        200     200      200    200      202  200
analyst_fr     shared_none     404        404     404      404    404      404  404
analyst_fr     own_feedback    404        404     404      404    404      404  404
analyst_fr     other_feedback  404        404     404      404    404      404  404
analyst_fr     missing         404        404     404      404    404      404  404
analyst_de     own_inbox       404        404     404      404    404      404  404
analyst_de     other_inbox     404        404     404      404    404      404  404
analyst_de     country_fr      404        404     404      404    404      404  404
analyst_de     country_de      200        200     200      200    200      403  403
analyst_de     shared_r        200        200     200      200    200      403  403
analyst_de     shared_w        200        403     403      403    403      202  200
analyst_de     shared_rw       200        200     200      200    200      202  200
analyst_de     shared_none     404        404     404      404    404      404  404
analyst_de     own_feedback    404        404     404      404    404      404  404
analyst_de     other_feedback  404        404     404      404    404      404  404
analyst_de     missing         404        404     404      404    404      404  404
admin          own_inbox       404        404     404      404    404      404  404
admin          other_inbox     404        404     404      404    404      404  404
admin          country_fr      404        404     404      404    404      404  404
admin          country_de      404        404     404      404    404      404  404
admin          shared_r        200        200     200      200    200      202  200
admin          shared_w        200        200     200      200    200      202  200
admin          shared_rw       200        200     200      200    200      202  200
admin          shared_none     200        200     200      200    200      202  200
admin          own_feedback    404        404     404      404    404      404  404
admin          other_feedback  404        404     404      404    404      404  404
admin          missing         404        404     404      404    404      404  404
disabled       own_inbox       401        401     401      401    401      401  401
disabled       other_inbox     401        401     401      401    401      401  401
disabled       country_fr      401        401     401      401    401      401  401
disabled       country_de      401        401     401      401    401      401  401
disabled       shared_r        401        401     401      401    401      401  401
disabled       shared_w        401        401     401      401    401      401  401
disabled       shared_rw       401        401     401      401    401      401  401
disabled       shared_none     401        401     401      401    401      401  401
disabled       own_feedback    401        401     401      401    401      401  401
disabled       other_feedback  401        401     401      401    401      401  401
disabled       missing         401        401     401      401    401      401  401
wrong_token    own_inbox       401        401     401      401    401      401  401
wrong_token    other_inbox     401        401     401      401    401      401  401
wrong_token    country_fr      401        401     401      401    401      401  401
wrong_token    country_de      401        401     401      401    401      401  401
wrong_token    shared_r        401        401     401      401    401      401  401
wrong_token    shared_w        401        401     401      401    401      401  401
wrong_token    shared_rw       401        401     401      401    401      401  401
wrong_token    shared_none     401        401     401      401    401      401  401
wrong_token    own_feedback    401        401     401      401    401      401  401
wrong_token    other_feedback  401        401     401      401    401      401  401
wrong_token    missing         401        401     401      401    401      401  401
"""
# fmt: on


def _parse_table(text: str) -> dict[tuple[str, str, str], int]:
    lines = [line.split() for line in text.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert header == ["role", "collection", *METHODS]
    table: dict[tuple[str, str, str], int] = {}
    for role, kind, *statuses in rows:
        assert len(statuses) == len(METHODS), (role, kind)
        for method, status in zip(METHODS, statuses, strict=True):
            key = (role, kind, method)
            assert key not in table, key
            table[key] = int(status)
    return table


EXPECTED = _parse_table(EXPECTED_TABLE)
CASES = [(role, kind, method) for role in ROLES for kind in KINDS for method in METHODS]


def test_the_table_is_complete() -> None:
    assert set(EXPECTED) == set(CASES)


def _request(world: World, role: str, collection_id: str, object_id: str, method: str) -> Any:
    client = world.client
    headers = world.actors[role].headers()
    if method == "collection":
        return client.get(collection_url(collection_id), headers=headers)
    if method == "objects":
        return client.get(objects_url(collection_id), headers=headers)
    if method == "manifest":
        return client.get(f"{collection_url(collection_id)}manifest/", headers=headers)
    if method == "object":
        return client.get(object_url(collection_id, object_id), headers=headers)
    if method == "versions":
        return client.get(f"{object_url(collection_id, object_id)}versions/", headers=headers)
    if method == "post":
        return client.post(
            objects_url(collection_id), content=envelope(indicator()), headers=headers
        )
    if method == "delete":
        return client.delete(object_url(collection_id, object_id), headers=headers)
    raise AssertionError(method)


def _check_success(world: World, kind: str, method: str, response: Any) -> None:
    seed_id = world.seed_id(kind)
    collection_id = world.collections[kind]
    if method == "delete":
        assert response.content == b""
        return
    body = response.json()
    if method == "collection":
        assert body["id"] == collection_id
    elif method in {"objects", "object"}:
        assert seed_id in {obj["id"] for obj in body["objects"]}
    elif method == "manifest":
        assert seed_id in {record["id"] for record in body["objects"]}
    elif method == "versions":
        # The seed's version, first; a country may also hold the revoking version a DELETE by
        # the seed's partner made earlier in the table (a recall, see test_recalls.py).
        assert body["versions"][0] == "2024-01-01T00:00:00.000Z"
        assert len(body["versions"]) <= 2
    elif method == "post":
        assert (body["status"], body["success_count"], body["failure_count"]) == (
            "complete",
            1,
            0,
        )


@pytest.mark.parametrize(("role", "kind", "method"), CASES, ids=["-".join(c) for c in CASES])
def test_access_table(world: World, role: str, kind: str, method: str) -> None:
    expected = EXPECTED[(role, kind, method)]
    try:
        response = _request(world, role, world.collections[kind], world.seed_id(kind), method)
        if expected >= 400:
            assert_taxii_error(response, expected)
        else:
            assert response.status_code == expected, (response.status_code, response.text)
            _check_success(world, kind, method, response)
    finally:
        if method == "delete":
            world.reseed(kind)


# Invisible == missing ----------------------------------------------------------------------
AUTHENTICATED = [role for role in ROLES if EXPECTED[(role, "missing", "collection")] == 404]


@pytest.mark.parametrize("role", AUTHENTICATED)
@pytest.mark.parametrize("method", METHODS)
def test_an_invisible_collection_answers_byte_for_byte_like_a_missing_one(
    world: World, role: str, method: str
) -> None:
    invisible = [
        kind for kind in KINDS if kind != "missing" and EXPECTED[(role, kind, "collection")] == 404
    ]
    assert invisible, role
    for kind in invisible:
        seed_id = world.seed_id(kind)
        hidden = _request(world, role, world.collections[kind], seed_id, method)
        missing = _request(world, role, str(uuid.uuid4()), seed_id, method)
        assert_taxii_error(hidden, 404)
        assert (hidden.status_code, hidden.content) == (missing.status_code, missing.content), kind
        assert hidden.headers["content-type"] == missing.headers["content-type"]
        assert hidden.headers["content-length"] == missing.headers["content-length"]


# The collections list ----------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_the_collections_list_shows_exactly_the_visible_collections(
    world: World, role: str
) -> None:
    response = world.client.get(f"{API}collections/", headers=world.actors[role].headers())
    if EXPECTED[(role, "missing", "collection")] == 401:
        assert_taxii_error(response, 401)
        return
    assert response.status_code == 200, response.text
    listed = {
        entry["id"]: (entry["can_read"], entry["can_write"])
        for entry in response.json()["collections"]
    }
    expected = {
        world.collections[kind]: (
            EXPECTED[(role, kind, "objects")] == 200,
            EXPECTED[(role, kind, "post")] == 202,
        )
        for kind in KINDS
        if EXPECTED[(role, kind, "collection")] == 200
    }
    assert listed == expected


# Status resources --------------------------------------------------------------------------
def _status_url(status_id: str) -> str:
    return f"{API}status/{status_id}/"


@pytest.mark.parametrize(
    ("creator", "kind"), [("partner_owner", "own_inbox"), ("admin", "shared_rw")]
)
def test_a_status_resource_is_visible_only_to_its_creator(
    world: World, creator: str, kind: str
) -> None:
    client = world.client
    posted = client.post(
        objects_url(world.collections[kind]),
        content=envelope(indicator()),
        headers=world.actors[creator].headers(),
    )
    assert posted.status_code == 202, posted.text
    status_id = posted.json()["id"]

    mine = client.get(_status_url(status_id), headers=world.actors[creator].headers())
    assert mine.status_code == 200
    assert mine.json() == posted.json()

    for role in ROLES:
        if role == creator:
            continue
        other = client.get(_status_url(status_id), headers=world.actors[role].headers())
        if EXPECTED[(role, "missing", "collection")] == 401:
            assert_taxii_error(other, 401)
            continue
        # Even an account that may read and write the same collection does not see it, and
        # someone else's status answers exactly like one that does not exist.
        nothing = client.get(_status_url(str(uuid.uuid4())), headers=world.actors[role].headers())
        assert_taxii_error(other, 404)
        assert (other.status_code, other.content) == (nothing.status_code, nothing.content)


# 401 always says how to authenticate -------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    ["/taxii2/", API, f"{API}collections/", f"{API}status/{uuid.uuid4()}/"],
)
def test_every_endpoint_demands_credentials(world: World, path: str) -> None:
    assert_taxii_error(world.client.get(path, headers=world.actors["anonymous"].headers()), 401)


def _broken_credentials(world: World) -> dict[str, dict[str, str]]:
    owner = world.actors["partner_owner"]
    other = world.actors["other_partner"]
    assert owner.token is not None
    assert other.token is not None

    def basic_raw(raw: bytes) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    return {
        "garbage bearer": {"Authorization": "Bearer not-a-token"},
        "empty bearer": {"Authorization": "Bearer "},
        "unknown scheme": {"Authorization": f"Token {owner.token}"},
        "scheme only": {"Authorization": "Basic"},
        "basic not base64": {"Authorization": "Basic !!!not-base64!!!"},
        "basic without colon": basic_raw(owner.token.encode()),
        "basic not utf-8": basic_raw(b"p-owner:\xff\xfe"),
        "right token, wrong user": basic_raw(f"p-other:{owner.token}".encode()),
        "right user, other's token": basic_raw(f"p-owner:{other.token}".encode()),
        "unknown credential id": {"Authorization": "Bearer exh_0000000000000000_" + "A" * 43},
        "over-long header": {"Authorization": "Bearer " + "x" * 5000},
    }


@pytest.mark.parametrize(
    "name",
    [
        "garbage bearer",
        "empty bearer",
        "unknown scheme",
        "scheme only",
        "basic not base64",
        "basic without colon",
        "basic not utf-8",
        "right token, wrong user",
        "right user, other's token",
        "unknown credential id",
        "over-long header",
    ],
)
def test_bad_credentials_get_401_with_www_authenticate(world: World, name: str) -> None:
    auth = _broken_credentials(world)[name]
    response = world.client.get(
        objects_url(world.collections["own_inbox"]),
        headers={"Accept": "application/taxii+json;version=2.1", **auth},
    )
    assert_taxii_error(response, 401)
