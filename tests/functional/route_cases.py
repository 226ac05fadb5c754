"""What each route of the app is asked, and what a successful answer must hold.

``test_route_access`` holds the expected statuses; this module turns one row of it (a route, a
subject and a role) into a request with a minimal valid body, and checks the body of a
successful answer against the functional world (see ``conftest``) and the few extra things
``RouteWorld`` adds: a status resource made by a partner and one made by the admin, a signed
audit tree head, partners made only to be acted on, a shared collection to grant on and
registered signing keys.

Subjects name what the request is about: ``-`` for a route without one; ``missing`` for an id
or name that does not exist; otherwise whose thing it is (``own_inbox``, ``partners``,
``others_key``...). Admin routes that change a partner act, for the admin, on a partner made
for that one request in the state the change needs (so no row depends on another's effects);
for everyone else they act on ``p-subject``, which must come out of the refusals untouched.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from exchange.partners.vetting import Criterion, Finding
from exchange.sharing.feedback_collections import feedback_collection_id
from exchange.signing.keys import generate_private_key, public_key_info
from exchange.store.models import Role
from exchange.taxii.media import TAXII_21
from tests.functional.conftest import World, envelope, indicator
from tests.support.onboarding import (
    FIRST_ADMIN,
    SECOND_ADMIN,
    ensure_admins,
    onboard,
    pass_through_terms,
    vet,
)

__all__ = ["Request", "RouteWorld", "check_success", "make_request", "route_world"]

OWN_PARTNER = "p-owner"
SUBJECT = "p-subject"  # acted on by those the admin routes refuse
KEY_PARTNER = "p-keys"
OTHER_KEY_PARTNER = "p-keys-2"
GRANT_COLLECTION_TITLE = "Shared (grant target)"
NOT_PARTNER = "analyst-fr"

_names = itertools.count(1)


@dataclass(frozen=True)
class Request:
    """One HTTP request: method, path, query and body (JSON or raw TAXII bytes)."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None
    taxii: bool = False


@dataclass
class RouteWorld:
    """The functional world plus the things only the route table needs."""

    world: World
    statuses: dict[str, str]
    grant_collection: str
    keys: dict[str, str]

    @property
    def hub(self) -> Any:
        return self.world.hub

    def fresh_partner(self, state: str) -> str:
        """A new partner in ``state`` (applicant, reviewing, assessed, approved, active,
        suspended), for one request to act on."""
        hub = self.hub
        username = f"p-fresh-{next(_names)}"
        if state == "active" or state == "suspended":
            onboard(hub, username, ["FR"])
            if state == "suspended":
                hub.suspend_partner(username, "set up for a test", admin=FIRST_ADMIN)
            return username
        hub.create_account(Role.PARTNER, username)
        if state == "applicant":
            return username
        ensure_admins(hub)
        hub.open_review(username, admin=FIRST_ADMIN)
        if state == "reviewing":
            return username
        for criterion in Criterion:
            hub.assess(username, criterion, Finding.MET, "test evidence", admin=FIRST_ADMIN)
        if state == "assessed":
            return username
        assert state == "approved", state
        hub.approve_review(username, admin=FIRST_ADMIN)
        hub.approve_review(username, admin=SECOND_ADMIN)
        return username

    def new_key(self, username: str) -> str:
        """Register a new public key for ``username``; its key id."""
        info = public_key_info(generate_private_key().public_key())
        added = self.hub.add_partner_key(username, info.pem(), admin=FIRST_ADMIN)
        key_id: str = added["key_id"]
        return key_id


def route_world(world: World) -> RouteWorld:
    """Add to ``world`` what the route table needs (once per module)."""
    hub = world.hub
    client = world.client
    statuses: dict[str, str] = {}
    for subject, actor, kind in (
        ("partners", "partner_owner", "own_inbox"),
        ("admins", "admin", "shared_rw"),
    ):
        posted = client.post(
            f"/hub/collections/{world.collections[kind]}/objects/",
            content=envelope(indicator()),
            headers=world.actors[actor].headers(),
        )
        assert posted.status_code == 202, posted.text
        statuses[subject] = posted.json()["id"]
    hub.create_account(Role.PARTNER, SUBJECT)
    grant_collection = hub.create_shared_collection(GRANT_COLLECTION_TITLE).id
    ensure_admins(hub)
    hub.create_account(Role.PARTNER, KEY_PARTNER)
    vet(hub, KEY_PARTNER)
    hub.set_agreement(KEY_PARTNER, pass_through_terms(["FR"]), admin=FIRST_ADMIN)
    hub.create_account(Role.PARTNER, OTHER_KEY_PARTNER)
    rw = RouteWorld(world, statuses, grant_collection, {})
    rw.keys["own_key"] = rw.new_key(KEY_PARTNER)
    rw.keys["others_key"] = rw.new_key(OTHER_KEY_PARTNER)
    # Partners' audit events are those a signed head covers.
    hub.publish_tree_head()
    return rw


# Requests ----------------------------------------------------------------------------------
_COLLECTION_KINDS = ("own_inbox", "other_inbox", "country_fr", "shared_w")

# Admin routes that change a partner: the state the partner must be in, and the body.
_PARTNER_CHANGES: dict[str, tuple[str, Any]] = {
    "POST /admin/partners/{username}/review": ("applicant", {}),
    "POST /admin/partners/{username}/review/assessments": (
        "reviewing",
        {"criterion": "shares-values", "finding": "met", "evidence": "Statutes checked"},
    ),
    "POST /admin/partners/{username}/review/approve": ("assessed", None),
    "POST /admin/partners/{username}/review/reject": ("reviewing", {"reason": "Not vetted"}),
    "POST /admin/partners/{username}/activate": ("approved", None),
    "POST /admin/partners/{username}/suspend": ("active", {"reason": "Under investigation"}),
    "POST /admin/partners/{username}/reinstate": ("suspended", None),
    "POST /admin/partners/{username}/terminate": ("active", {"reason": "Partnership ended"}),
    "PUT /admin/partners/{username}/agreement": (
        "active",
        {"terms": pass_through_terms(["FR", "DE"])},
    ),
    "POST /admin/partners/{username}/agreement/status": ("active", {"status": "suspended"}),
}


def _missing_name() -> str:
    return f"nobody-{uuid.uuid4().hex[:12]}"


def _username(rw: RouteWorld, route: str, subject: str, role: str) -> str:
    if subject == "missing":
        return _missing_name()
    if subject == "not_partner":
        return NOT_PARTNER
    assert subject == "partner", subject
    if route in _PARTNER_CHANGES:
        state = _PARTNER_CHANGES[route][0]
        return rw.fresh_partner(state) if role == "admin" else SUBJECT
    if route.endswith("/keys") or route.endswith("/revoke"):
        return KEY_PARTNER
    return OWN_PARTNER


def _collection_and_object(rw: RouteWorld, subject: str) -> tuple[str, str]:
    world = rw.world
    return world.collections[subject], world.seed_id(subject)


def make_request(rw: RouteWorld, route: str, subject: str, role: str) -> Request:
    """The request for one row of the table."""
    method, template = route.split(" ", 1)
    world = rw.world
    if template.startswith("/hub/collections/{collection_id}/"):
        collection_id, object_id = _collection_and_object(rw, subject)
        path = template.format(collection_id=collection_id, object_id=object_id)
        content = envelope(indicator()) if method == "POST" else None
        return Request(method, path, content=content, taxii=True)
    if template.startswith(("/taxii2/", "/hub/")):
        status_id = str(uuid.uuid4()) if subject == "missing" else rw.statuses.get(subject, "")
        return Request(method, template.format(status_id=status_id), taxii=True)
    if template == "/analyst/exports/{collection_id}/{export_format}":
        kind, export_format = (
            ("country_fr", "no-such-format") if subject == "bad_format" else (subject, "bundle")
        )
        path = template.format(collection_id=world.collections[kind], export_format=export_format)
        return Request(method, path)
    if template == "/analyst/sightings":
        object_id = {
            "fr_object": world.seed_id("country_fr"),
            "de_object": world.seed_id("country_de"),
        }.get(subject, f"indicator--{uuid.uuid4()}")
        return Request(method, template, json={"object_id": object_id, "verdict": "seen"})
    if template == "/admin/collections/{collection_id}/grants/{username}":
        collection_id = {
            "missing_collection": str(uuid.uuid4()),
            "inbox": world.collections["own_inbox"],
        }.get(subject, rw.grant_collection)
        username = _missing_name() if subject == "missing" else SUBJECT
        path = template.format(collection_id=collection_id, username=username)
        return Request(method, path, json={"can_read": True, "can_write": False})
    if template == "/admin/accounts/{username}" or template == "/admin/accounts/{username}/token":
        username = _missing_name() if subject == "missing" else SUBJECT
        body = {"active": True} if method == "PATCH" else None
        return Request(method, template.format(username=username), json=body)
    if template == "/admin/partners/{username}/keys/{key_id}/revoke":
        username = _missing_name() if subject == "missing" else KEY_PARTNER
        if subject == "own_key":
            key_id = rw.new_key(KEY_PARTNER) if role == "admin" else rw.keys["own_key"]
        else:
            key_id = rw.keys.get(subject, f"no-such-key-{uuid.uuid4().hex[:8]}")
        path = template.format(username=username, key_id=key_id)
        return Request(method, path, json={"reason": "Key lost"})
    if "{username}" in template:
        path = template.format(username=_username(rw, route, subject, role))
        body: Any = None
        if route in _PARTNER_CHANGES:
            body = _PARTNER_CHANGES[route][1]
        elif route == "POST /admin/partners/{username}/keys":
            body = {"public_key": public_key_info(generate_private_key().public_key()).pem()}
        return Request(method, path, json=body)
    assert subject == "-", (route, subject)
    if route == "POST /admin/accounts":
        return Request(
            method,
            template,
            json={"role": "analyst", "username": f"a-new-{next(_names)}", "country": "FR"},
        )
    if route == "POST /admin/collections":
        return Request(method, template, json={"title": f"Shared {next(_names)}"})
    params = {
        "/admin/audit/events": {"start": "0", "end": "5"},
        "/admin/audit/proof/inclusion": {"seq": "0"},
        "/admin/audit/proof/consistency": {"first": "1"},
    }.get(template, {})
    return Request(method, template, params=params)


def send(rw: RouteWorld, request: Request, auth: dict[str, str]) -> Any:
    """Send ``request`` with these credentials."""
    if request.taxii:
        headers = {"Accept": TAXII_21, "Content-Type": TAXII_21, **auth}
    else:
        headers = {"Accept": "*/*", **auth}
    if request.json is not None:
        headers["Content-Type"] = "application/json"
    return rw.world.client.request(
        request.method,
        request.path,
        params=request.params,
        json=request.json,
        content=request.content,
        headers=headers,
    )


# Successful answers -----------------------------------------------------------------------
Check = Callable[[RouteWorld, str, str, Any], None]


def _listed_kinds(rw: RouteWorld, body: dict[str, Any]) -> set[str]:
    ids = {entry["id"] for entry in body["collections"]}
    return {kind for kind in _COLLECTION_KINDS if rw.world.collections[kind] in ids}


def check_success(
    rw: RouteWorld, route: str, subject: str, role: str, response: Any, visible: set[str]
) -> None:
    """The body of a successful answer holds what it should. ``visible`` is the set of
    collection kinds the table lets ``role`` see (for the collections list)."""
    method, template = route.split(" ", 1)
    world = rw.world
    if method == "DELETE":
        assert response.content == b""
        return
    if template in {"/admin/docs", "/docs/oauth2-redirect"}:
        assert response.headers["content-type"].startswith("text/html")
        assert "swagger" in response.text.lower()
        return
    body = response.json()
    if template.startswith("/hub/collections/{collection_id}/"):
        seed_id = world.seed_id(subject)
        if method == "POST":
            assert (body["status"], body["success_count"], body["failure_count"]) == (
                "complete",
                1,
                0,
            )
        elif template.endswith("/versions/"):
            assert body["versions"][0] == "2024-01-01T00:00:00.000Z"
        elif template == "/hub/collections/{collection_id}/":
            assert body["id"] == world.collections[subject]
        else:  # objects, manifest, one object
            assert seed_id in {obj["id"] for obj in body["objects"]}
        return
    username = world.actors[role].username
    checks: dict[str, Callable[[], None]] = {
        "/taxii2/": lambda: body["api_roots"] == [body["default"]],
        "/hub/": lambda: body["versions"] == [TAXII_21],
        "/hub/status/{status_id}/": lambda: body["id"] == rw.statuses[subject],
        "/hub/collections/": lambda: _listed_kinds(rw, body) == visible,
        "/analyst/sightings": lambda: (
            (body["sighting_of_ref"], body["partners"], body["new"])
            == (world.seed_id("country_fr" if subject == "fr_object" else "country_de"), 1, True)
        ),
        "/partner/feedback": lambda: _feedback_is_own(rw, role, body),
        "/partner/audit/events": lambda: _audit_is_own(rw, role, body),
        "/partner/report": lambda: body["partner"] == username and body["submissions"] >= 1,
        "/.well-known/exchange-keys": lambda: (
            {k["purpose"] for k in body["keys"]} >= {"audit", "responses"}
        ),
        "/health/live": lambda: body == {"status": "live"},
        "/health/ready": lambda: body == {"status": "ready"},
        "/admin/openapi.json": lambda: "/admin/accounts" in body["paths"],
        "/admin/accounts": lambda: (
            OWN_PARTNER in {a["username"] for a in body}
            if method == "GET"
            else body["token"] and body["role"] == "analyst" and body["country"] == "FR"
        ),
        "/admin/accounts/{username}": lambda: body["username"] == SUBJECT and body["active"],
        "/admin/accounts/{username}/token": lambda: body["username"] == SUBJECT and body["token"],
        "/admin/collections": lambda: (
            world.collections["own_inbox"] in {c["id"] for c in body}
            if method == "GET"
            else body["kind"] == "shared" and body["objects"] == 0
        ),
        "/admin/collections/{collection_id}/grants/{username}": lambda: (
            body
            == {
                "collection_id": rw.grant_collection,
                "username": SUBJECT,
                "can_read": True,
                "can_write": False,
            }
        ),
        "/admin/partners": lambda: OWN_PARTNER in {p["username"] for p in body},
        "/admin/agreements": lambda: len(body) >= 2,
        "/admin/countries": lambda: {"FR", "DE"} <= {c["code"] for c in body},
        "/admin/changes": lambda: "account" in {c["entity"] for c in body},
        "/admin/audit/head": lambda: body["head"]["size"] >= 1 and body["signature"],
        "/admin/audit/heads": lambda: len(body) >= 1,
        "/admin/audit/events": lambda: [e["seq"] for e in body["events"]] == [0, 1, 2, 3, 4],
        "/admin/audit/proof/inclusion": lambda: body["seq"] == 0 and body["leaf"],
        "/admin/audit/proof/consistency": lambda: body["first"] == 1 and body["second"] >= 1,
        "/admin/audit/keys": lambda: len(body) >= 1,
        "/analyst/exports/{collection_id}/{export_format}": lambda: (
            world.seed_id(subject) in {obj["id"] for obj in body["objects"]}
        ),
    }
    if template in checks:
        assert checks[template](), (route, subject, role, body)
        return
    # The per-partner admin routes: the answer is about the partner the request named.
    assert template.startswith("/admin/partners/{username}"), route
    named = response.request.url.path.split("/")[3]
    if template.endswith("/keys") and method == "GET":
        assert body, route
        assert {key["partner"] for key in body} == {named}, body
    elif template.endswith("/keys"):
        assert (body["partner"], body["state"]) == (named, "active"), body
    elif template.endswith("/revoke"):
        assert (body["partner"], body["state"]) == (named, "revoked"), body
    elif template.endswith("/versions"):
        assert body, route
        assert {view["partner"] for view in body} == {named}, body
    elif "agreement" in template:
        assert body["partner"] == named, body
        if template.endswith("/status"):
            assert body["status"] == "suspended", body
    elif template.endswith("/report"):
        assert body["partner"] == named, body
    else:
        assert body["username"] == named, body
        expected_state = {
            "": "active",
            "/review": "under-review",
            "/review/assessments": "under-review",
            "/review/approve": "under-review",
            "/review/reject": "applicant",
            "/activate": "active",
            "/suspend": "suspended",
            "/reinstate": "active",
            "/terminate": "terminated",
        }[template.removeprefix("/admin/partners/{username}")]
        assert body["state"] == expected_state, body


def _feedback_is_own(rw: RouteWorld, role: str, body: dict[str, Any]) -> bool:
    world = rw.world
    account = world.actors[role].account
    assert account is not None
    own, other = (
        ("own_inbox", "other_inbox") if role == "partner_owner" else ("other_inbox", "own_inbox")
    )
    reported = {entry["object_id"] for entry in body["objects"]}
    return (
        body["collection"] == feedback_collection_id(account.id)
        and world.seed_id(own) in reported
        and world.seed_id(other) not in reported
    )


def _audit_is_own(rw: RouteWorld, role: str, body: dict[str, Any]) -> bool:
    username = rw.world.actors[role].username
    others = {"partner_owner": "p-other", "other_partner": "p-owner"}[role]
    actors = {event["event"]["actor"] for event in body["events"]}
    return username in actors and others not in actors and body["head"] is not None
