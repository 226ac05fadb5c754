"""Who may call which route of the app: every route, every role, whose thing, and whether it exists.

``EXPECTED_TABLE`` below gives, for each route the application registers (method and path
template) and each subject of that route (see ``route_cases``), the status each role gets. It is
written by hand from the rules, not from the app's answers:

* the public routes answer everyone, credentials or not: the hub's public keys
  (``/.well-known/exchange-keys``, public keys only), the load balancer's health checks
  (``/health/live``, ``/health/ready``: a verdict and nothing else), and the admin API's OpenAPI
  document and its Swagger UI (``/admin/openapi.json``, ``/admin/docs`` and the UI's
  ``/docs/oauth2-redirect`` page), which FastAPI serves outside the admin router's dependencies:
  they describe the API's shapes, hold no data, and the README publishes them;
* every other route demands a valid credential: no ``Authorization`` header, a wrong secret or
  a disabled account's own token get 401 with ``WWW-Authenticate``;
* ``/admin/...`` is for admins: partners and analysts get 403 (the project does not hide the
  admin API, it refuses it) before any lookup, so an existing and a missing subject answer
  alike; for the admin, a missing account or partner is 404 and an account that is not a
  partner, where a partner is needed, is 400 (404 on the partner report, which asks for a
  partner by name);
* ``/partner/...`` is for partners (403 for analysts and admins) and shows the partner its own
  feedback, audit events and report; ``POST /analyst/sightings`` is for analysts (403 for the
  others) and takes only objects the analyst's own country collection holds: another
  country's object answers 404 exactly like a missing one;
* the TAXII routes and the exports follow ``exchange.sharing.access`` (the full table is in
  ``test_access_table``): a collection an account can neither read nor write, and a status
  resource someone else made (admins included), answer 404 exactly like missing ones; a
  visible collection the account may not read (or write) is 403.

Columns: ``anon`` (no credentials), ``wrong`` (``p-owner``'s credential id, wrong secret),
``disab`` (a disabled partner's real token), ``admin``, ``owner`` (``p-owner``, whose inbox
and status are the "own" ones), ``other`` (``p-other``), ``an_fr`` and ``an_de`` (analysts of
France and Germany); these are every role ``Role`` has (partner, analyst, admin), each on its
own and on someone else's things, and the three ways of not being authenticated.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import iter_route_contexts

from tests.functional.conftest import World, assert_taxii_error
from tests.functional.route_cases import RouteWorld, check_success, make_request, route_world, send

ROLES = (
    "anonymous",
    "wrong_token",
    "disabled",
    "admin",
    "partner_owner",
    "other_partner",
    "analyst_fr",
    "analyst_de",
)
UNAUTHENTICATED = ROLES[:3]
PARTNERS = ("partner_owner", "other_partner")
ANALYSTS = ("analyst_fr", "analyst_de")
PUBLIC = frozenset(
    {
        "GET /.well-known/exchange-keys",
        "GET /health/live",
        "GET /health/ready",
        "GET /admin/openapi.json",
        "GET /admin/docs",
        "GET /docs/oauth2-redirect",
    }
)

# A route (method and path) starts a block; each indented line under it is one subject.
# fmt: off
EXPECTED_TABLE = """
    subject            anon  wrong disab admin owner other an_fr an_de
GET /.well-known/exchange-keys
    -                  200   200   200   200   200   200   200   200
GET /health/live
    -                  200   200   200   200   200   200   200   200
GET /health/ready
    -                  200   200   200   200   200   200   200   200
GET /admin/openapi.json
    -                  200   200   200   200   200   200   200   200
GET /admin/docs
    -                  200   200   200   200   200   200   200   200
GET /docs/oauth2-redirect
    -                  200   200   200   200   200   200   200   200
GET /taxii2/
    -                  401   401   401   200   200   200   200   200
GET /hub/
    -                  401   401   401   200   200   200   200   200
GET /hub/status/{status_id}/
    partners           401   401   401   404   200   404   404   404
    admins             401   401   401   200   404   404   404   404
    missing            401   401   401   404   404   404   404   404
GET /hub/collections/
    -                  401   401   401   200   200   200   200   200
GET /hub/collections/{collection_id}/
    own_inbox          401   401   401   404   200   404   404   404
    other_inbox        401   401   401   404   404   200   404   404
    country_fr         401   401   401   404   404   404   200   404
    shared_w           401   401   401   200   200   200   200   200
    missing            401   401   401   404   404   404   404   404
GET /hub/collections/{collection_id}/manifest/
    own_inbox          401   401   401   404   200   404   404   404
    other_inbox        401   401   401   404   404   200   404   404
    country_fr         401   401   401   404   404   404   200   404
    shared_w           401   401   401   200   403   403   403   403
    missing            401   401   401   404   404   404   404   404
GET /hub/collections/{collection_id}/objects/
    own_inbox          401   401   401   404   200   404   404   404
    other_inbox        401   401   401   404   404   200   404   404
    country_fr         401   401   401   404   404   404   200   404
    shared_w           401   401   401   200   403   403   403   403
    missing            401   401   401   404   404   404   404   404
POST /hub/collections/{collection_id}/objects/
    own_inbox          401   401   401   404   202   404   404   404
    other_inbox        401   401   401   404   404   202   404   404
    country_fr         401   401   401   404   404   404   403   404
    shared_w           401   401   401   202   202   202   202   202
    missing            401   401   401   404   404   404   404   404
GET /hub/collections/{collection_id}/objects/{object_id}/
    own_inbox          401   401   401   404   200   404   404   404
    other_inbox        401   401   401   404   404   200   404   404
    country_fr         401   401   401   404   404   404   200   404
    shared_w           401   401   401   200   403   403   403   403
    missing            401   401   401   404   404   404   404   404
DELETE /hub/collections/{collection_id}/objects/{object_id}/
    own_inbox          401   401   401   404   200   404   404   404
    other_inbox        401   401   401   404   404   200   404   404
    country_fr         401   401   401   404   404   404   403   404
    shared_w           401   401   401   200   200   200   200   200
    missing            401   401   401   404   404   404   404   404
GET /hub/collections/{collection_id}/objects/{object_id}/versions/
    own_inbox          401   401   401   404   200   404   404   404
    other_inbox        401   401   401   404   404   200   404   404
    country_fr         401   401   401   404   404   404   200   404
    shared_w           401   401   401   200   403   403   403   403
    missing            401   401   401   404   404   404   404   404
GET /analyst/exports/{collection_id}/{export_format}
    country_fr         401   401   401   404   404   404   200   404
    country_de         401   401   401   404   404   404   404   200
    own_inbox          401   401   401   404   200   404   404   404
    shared_w           401   401   401   200   403   403   403   403
    bad_format         401   401   401   404   404   404   404   404
    missing            401   401   401   404   404   404   404   404
POST /analyst/sightings
    fr_object          401   401   401   403   403   403   201   404
    de_object          401   401   401   403   403   403   404   201
    missing            401   401   401   403   403   403   404   404
GET /partner/feedback
    -                  401   401   401   403   200   200   403   403
GET /partner/audit/events
    -                  401   401   401   403   200   200   403   403
GET /partner/report
    -                  401   401   401   403   200   200   403   403
GET /admin/accounts
    -                  401   401   401   200   403   403   403   403
POST /admin/accounts
    -                  401   401   401   201   403   403   403   403
PATCH /admin/accounts/{username}
    account            401   401   401   200   403   403   403   403
    missing            401   401   401   404   403   403   403   403
POST /admin/accounts/{username}/token
    account            401   401   401   200   403   403   403   403
    missing            401   401   401   404   403   403   403   403
GET /admin/collections
    -                  401   401   401   200   403   403   403   403
POST /admin/collections
    -                  401   401   401   201   403   403   403   403
PUT /admin/collections/{collection_id}/grants/{username}
    shared             401   401   401   200   403   403   403   403
    inbox              401   401   401   400   403   403   403   403
    missing_collection 401   401   401   404   403   403   403   403
    missing            401   401   401   404   403   403   403   403
GET /admin/partners
    -                  401   401   401   200   403   403   403   403
GET /admin/partners/{username}
    partner            401   401   401   200   403   403   403   403
    not_partner        401   401   401   400   403   403   403   403
    missing            401   401   401   404   403   403   403   403
POST /admin/partners/{username}/review
    partner            401   401   401   200   403   403   403   403
    not_partner        401   401   401   400   403   403   403   403
    missing            401   401   401   404   403   403   403   403
POST /admin/partners/{username}/review/assessments
    partner            401   401   401   200   403   403   403   403
    not_partner        401   401   401   400   403   403   403   403
    missing            401   401   401   404   403   403   403   403
POST /admin/partners/{username}/review/approve
    partner            401   401   401   200   403   403   403   403
    not_partner        401   401   401   400   403   403   403   403
    missing            401   401   401   404   403   403   403   403
POST /admin/partners/{username}/review/reject
    partner            401   401   401   200   403   403   403   403
    not_partner        401   401   401   400   403   403   403   403
    missing            401   401   401   404   403   403   403   403
POST /admin/partners/{username}/activate
    partner            401   401   401   200   403   403   403   403
    not_partner        401   401   401   400   403   403   403   403
    missing            401   401   401   404   403   403   403   403
POST /admin/partners/{username}/suspend
    partner            401   401   401   200   403   403   403   403
    not_partner        401   401   401   400   403   403   403   403
    missing            401   401   401   404   403   403   403   403
POST /admin/partners/{username}/reinstate
    partner            401   401   401   200   403   403   403   403
    not_partner        401   401   401   400   403   403   403   403
    missing            401   401   401   404   403   403   403   403
POST /admin/partners/{username}/terminate
    partner            401   401   401   200   403   403   403   403
    not_partner        401   401   401   400   403   403   403   403
    missing            401   401   401   404   403   403   403   403
GET /admin/partners/{username}/agreement
    partner            401   401   401   200   403   403   403   403
    not_partner        401   401   401   400   403   403   403   403
    missing            401   401   401   404   403   403   403   403
GET /admin/partners/{username}/agreement/versions
    partner            401   401   401   200   403   403   403   403
    not_partner        401   401   401   400   403   403   403   403
    missing            401   401   401   404   403   403   403   403
PUT /admin/partners/{username}/agreement
    partner            401   401   401   200   403   403   403   403
    not_partner        401   401   401   400   403   403   403   403
    missing            401   401   401   404   403   403   403   403
POST /admin/partners/{username}/agreement/status
    partner            401   401   401   200   403   403   403   403
    not_partner        401   401   401   400   403   403   403   403
    missing            401   401   401   404   403   403   403   403
GET /admin/partners/{username}/keys
    partner            401   401   401   200   403   403   403   403
    not_partner        401   401   401   400   403   403   403   403
    missing            401   401   401   404   403   403   403   403
POST /admin/partners/{username}/keys
    partner            401   401   401   201   403   403   403   403
    not_partner        401   401   401   400   403   403   403   403
    missing            401   401   401   404   403   403   403   403
POST /admin/partners/{username}/keys/{key_id}/revoke
    own_key            401   401   401   200   403   403   403   403
    others_key         401   401   401   404   403   403   403   403
    missing_key        401   401   401   404   403   403   403   403
    missing            401   401   401   404   403   403   403   403
GET /admin/partners/{username}/report
    partner            401   401   401   200   403   403   403   403
    not_partner        401   401   401   404   403   403   403   403
    missing            401   401   401   404   403   403   403   403
GET /admin/agreements
    -                  401   401   401   200   403   403   403   403
GET /admin/countries
    -                  401   401   401   200   403   403   403   403
GET /admin/changes
    -                  401   401   401   200   403   403   403   403
GET /admin/audit/head
    -                  401   401   401   200   403   403   403   403
POST /admin/audit/head
    -                  401   401   401   200   403   403   403   403
GET /admin/audit/heads
    -                  401   401   401   200   403   403   403   403
GET /admin/audit/events
    -                  401   401   401   200   403   403   403   403
GET /admin/audit/proof/inclusion
    -                  401   401   401   200   403   403   403   403
GET /admin/audit/proof/consistency
    -                  401   401   401   200   403   403   403   403
GET /admin/audit/keys
    -                  401   401   401   200   403   403   403   403
"""
# fmt: on


def _parse_table(text: str) -> dict[tuple[str, str, str], int]:
    lines = text.strip("\n").splitlines()
    assert lines[0].split() == [
        "subject",
        "anon",
        "wrong",
        "disab",
        "admin",
        "owner",
        "other",
        "an_fr",
        "an_de",
    ]
    table: dict[tuple[str, str, str], int] = {}
    route = ""
    for line in lines[1:]:
        if not line.startswith(" "):
            method, path = line.split()
            route = f"{method} {path}"
            continue
        subject, *statuses = line.split()
        assert route, line
        assert len(statuses) == len(ROLES), line
        for role, status in zip(ROLES, statuses, strict=True):
            key = (route, subject, role)
            assert key not in table, key
            table[key] = int(status)
    return table


EXPECTED = _parse_table(EXPECTED_TABLE)
ROUTES = sorted({route for route, _, _ in EXPECTED})
# In the table's order, but the deletions last: a partner's deletion of its seed recalls it
# from the countries (a revoking version, see test_recalls.py), which changes what they export.
ROWS = sorted(
    dict.fromkeys((route, subject) for route, subject, _ in EXPECTED),
    key=lambda row: row[0].startswith("DELETE "),
)
CASES = [(route, subject, role) for route, subject in ROWS for role in ROLES]


def _subjects(route: str) -> list[str]:
    return [subject for r, subject in ROWS if r == route]


@pytest.fixture(scope="module")
def rw(world: World) -> RouteWorld:
    return route_world(world)


# The table covers the app --------------------------------------------------------------------
def _app_routes(world: World) -> set[str]:
    """Every (method, path) the app registers; HEAD, which Starlette adds beside each GET of a
    plain route, is the GET."""
    found: set[str] = set()
    for route in iter_route_contexts(world.client.app.routes):  # type: ignore[attr-defined]
        path = route.path
        assert path, route
        for method in route.methods or ():
            if method != "HEAD":
                found.add(f"{method} {path}")
    return found


def test_every_route_has_rows(world: World) -> None:
    registered = _app_routes(world)
    assert len(registered) > 50
    assert registered - set(ROUTES) == set(), "routes with no access rows"
    assert set(ROUTES) - registered == set(), "rows for routes the app does not have"
    for route in ROUTES:
        assert {(route, s, role) for s in _subjects(route) for role in ROLES} <= set(EXPECTED)


def test_the_table_states_the_secure_defaults() -> None:
    """The hand-written table itself says what the rules say for whole classes of route."""
    for route, subject, role in CASES:
        status = EXPECTED[(route, subject, role)]
        path = route.split(" ", 1)[1]
        if route in PUBLIC:
            assert status == 200, (route, role)
        elif role in UNAUTHENTICATED:
            assert status == 401, (route, subject, role)
        elif (
            (path.startswith("/admin/") and role != "admin")
            or (path.startswith("/partner/") and role not in PARTNERS)
            or (path.startswith("/analyst/sightings") and role not in ANALYSTS)
        ):
            assert status == 403, (route, subject, role)
        if subject.startswith("missing") and role not in UNAUTHENTICATED and route not in PUBLIC:
            assert status in {403, 404}, (route, subject, role)


# Every row -----------------------------------------------------------------------------------
def _request(rw: RouteWorld, route: str, subject: str, role: str) -> Any:
    return send(rw, make_request(rw, route, subject, role), rw.world.actors[role].auth)


def _visible_kinds(role: str) -> set[str]:
    collection = "GET /hub/collections/{collection_id}/"
    return {
        subject for subject in _subjects(collection) if EXPECTED[(collection, subject, role)] == 200
    }


@pytest.mark.parametrize(("route", "subject", "role"), CASES, ids=["|".join(c) for c in CASES])
def test_route_access(rw: RouteWorld, route: str, subject: str, role: str) -> None:
    expected = EXPECTED[(route, subject, role)]
    try:
        response = _request(rw, route, subject, role)
        if expected >= 400:
            assert_taxii_error(response, expected)
        else:
            assert response.status_code == expected, (response.status_code, response.text[:500])
            check_success(rw, route, subject, role, response, _visible_kinds(role))
    finally:
        if route.startswith("DELETE ") and subject in rw.world.writers:
            rw.world.reseed(subject)


# What may not be seen answers like what does not exist ----------------------------------------
def _hiding_cases() -> list[tuple[str, str, str]]:
    """(route, subject, role) refused with the status its route's ``missing`` subject gets:
    the two answers must be the same bytes. Admins are exempt on the admin API, where they see
    everything and a 404 names what it did not find; so is an unknown export format on a
    collection the analyst may read (the analyst may know the collection exists)."""
    cases = []
    for route, subject, role in CASES:
        if subject == "missing" or "missing" not in _subjects(route):
            continue
        status = EXPECTED[(route, subject, role)]
        if status not in {401, 403, 404} or status != EXPECTED[(route, "missing", role)]:
            continue
        if role == "admin" and route.split(" ", 1)[1].startswith("/admin/"):
            continue
        if (subject, role) == ("bad_format", "analyst_fr"):
            continue
        cases.append((route, subject, role))
    return cases


HIDING = _hiding_cases()


@pytest.mark.parametrize(("route", "subject", "role"), HIDING, ids=["|".join(c) for c in HIDING])
def test_what_may_not_be_seen_answers_like_what_does_not_exist(
    rw: RouteWorld, route: str, subject: str, role: str
) -> None:
    try:
        hidden = _request(rw, route, subject, role)
        missing = _request(rw, route, "missing", role)
    finally:
        if route.startswith("DELETE ") and subject in rw.world.writers:
            rw.world.reseed(subject)
    assert hidden.status_code == missing.status_code == EXPECTED[(route, subject, role)]
    assert hidden.content == missing.content
    assert hidden.headers["content-type"] == missing.headers["content-type"]
    assert hidden.headers.get("www-authenticate") == missing.headers.get("www-authenticate")


# Credentials come before the body -------------------------------------------------------------
BODY_ROUTES = [route for route in ROUTES if route.split(" ", 1)[0] in {"POST", "PUT", "PATCH"}]


@pytest.mark.parametrize("role", UNAUTHENTICATED)
@pytest.mark.parametrize("route", BODY_ROUTES)
def test_a_malformed_body_without_credentials_is_401(rw: RouteWorld, route: str, role: str) -> None:
    """Nobody learns how a route parses its body before authenticating."""
    request = make_request(rw, route, _subjects(route)[0], role)
    media = "application/taxii+json;version=2.1" if request.taxii else "application/json"
    response = rw.world.client.request(
        request.method,
        request.path,
        content=b'{"not json',
        headers={"Accept": "*/*", "Content-Type": media, **rw.world.actors[role].auth},
    )
    assert_taxii_error(response, 401)
