"""Hostile and broken input: every request is answered by a TAXII error message or, for one bad
object in an envelope, by a failure in the status resource; never by a 500, and never at the cost
of anything the hub had already accepted.

The world (see ``conftest``) has small limits: bodies of at most ``MAX_BODY_BYTES`` (64 KiB),
envelopes of at most ``MAX_OBJECTS`` (50) objects, pages of ``DEFAULT_PAGE`` (5) objects by
default and at most ``MAX_PAGE`` (20).
"""

from __future__ import annotations

import base64
import json
import sqlite3
import string
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange.countries import country_collection_id
from exchange.store.models import Role
from exchange.taxii.media import TAXII_21
from tests.functional.conftest import (
    API,
    DEFAULT_PAGE,
    MAX_BODY_BYTES,
    MAX_OBJECTS,
    MAX_PAGE,
    World,
    assert_taxii_error,
    bearer,
    collection_url,
    envelope,
    indicator,
    object_url,
    objects_url,
)
from tests.support.onboarding import FIRST_ADMIN, onboard, pass_through_terms

PROPERTY_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# Helpers -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def kept(world: World) -> dict[str, Any]:
    """An object the hub accepted before any of the hostile requests below."""
    obj = indicator(name="accepted before the storm")
    response = post(world, envelope(obj))
    assert response.status_code == 202, response.text
    assert response.json()["success_count"] == 1
    return obj


def assert_kept(world: World, kept: dict[str, Any]) -> None:
    """The object accepted earlier is still served, unchanged, where it was."""
    assert world.stored("own_inbox", kept["id"]) == [kept]
    assert world.stored("country_fr", kept["id"], actor="analyst_fr") == [kept]


def post(world: World, body: Any, *, collection_id: str | None = None, **headers: str) -> Any:
    """POST raw bytes (or a generator of bytes) to the owner's inbox as its owner."""
    target = collection_id or world.collections["own_inbox"]
    return world.client.post(
        objects_url(target),
        content=body,
        headers=world.actors["partner_owner"].headers(**headers),
    )


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def with_hole(obj: dict[str, Any], raw: bytes) -> bytes:
    """An envelope with ``obj`` whose ``x_hole`` property is the raw JSON ``raw``."""
    return envelope({**obj, "x_hole": "HOLE"}).replace(b'"HOLE"', raw)


def status_of(response: Any, total: int) -> dict[str, Any]:
    assert response.status_code == 202, (response.status_code, response.text[:500])
    assert response.headers["content-type"] == TAXII_21
    status: dict[str, Any] = response.json()
    assert status["status"] == "complete"
    assert status["total_count"] == total
    assert status["success_count"] + status["failure_count"] == total
    assert status["pending_count"] == 0
    return status


_U = "2f9b4a39-5a9a-4c4b-8a43-4d5c2b1e0f11"


# Bodies that are not an envelope at all -----------------------------------------------------
NOT_AN_ENVELOPE = {
    "truncated JSON": b'{"objects": [',
    "unquoted keys": b"{objects: []}",
    "single quotes": b"{'objects': []}",
    "empty body": b"",
    "whitespace only": b"   \n",
    "trailing garbage": b'{"objects": []} and more',
    "NaN member": b'{"objects": [NaN]}',
    "invalid UTF-8 bytes": b'{"objects": [{"type": "indicator", "name": "\xff\xfe\xfd"}]}',
    "overlong UTF-8 encoding": b'{"objects": [{"name": "\xc0\xaf"}]}',
    "UTF-16 body": '{"objects": []}'.encode("utf-16"),
    "lone surrogate escape": b'{"objects": [{"name": "\\ud800"}]}',
    "JSON array": b'[{"objects": []}]',
    "empty JSON array": b"[]",
    "JSON string": b'"objects"',
    "JSON number": b"42",
    "JSON null": b"null",
    "JSON true": b"true",
    "no objects": b"{}",
    "a bundle without objects": b'{"type": "bundle", "id": "bundle--' + _U.encode() + b'"}',
    "objects misspelt": b'{"object": []}',
    "objects is an object": b'{"objects": {"0": {"type": "indicator"}}}',
    "objects is a string": b'{"objects": "[]"}',
    "objects is null": b'{"objects": null}',
    "objects is a number": b'{"objects": 3}',
    "30000 nested lists": nested(30_000),
    "30000 nested lists as objects": b'{"objects": ' + nested(30_000) + b"}",
    "10000 nested objects": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
}


@pytest.mark.parametrize("name", list(NOT_AN_ENVELOPE))
def test_a_body_that_is_not_an_envelope_is_a_400(
    world: World, kept: dict[str, Any], name: str
) -> None:
    body = NOT_AN_ENVELOPE[name]
    assert len(body) <= MAX_BODY_BYTES
    assert_taxii_error(post(world, body), 400)
    assert_kept(world, kept)


def test_100000_nested_lists_are_a_clean_400(make_world: Callable[..., World]) -> None:
    roomy = make_world(max_body_bytes=1024 * 1024)
    for body in (nested(100_000), b'{"objects": [' + nested(100_000) + b"]}"):
        assert_taxii_error(post(roomy, body), 400)
    assert roomy.stored("own_inbox", roomy.seed_id("own_inbox")) == [roomy.seeds["own_inbox"]]


# Media types -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=xyz",
        "application/x-www-form-urlencoded",
        "application/taxii+json;version=2.0",
        "application/stix+json;version=2.0",
        "",
        None,
    ],
)
def test_a_body_in_another_media_type_is_a_415(
    world: World, kept: dict[str, Any], content_type: str | None
) -> None:
    obj = indicator()
    headers = world.actors["partner_owner"].headers()
    if content_type is None:
        del headers["Content-Type"]
    else:
        headers["Content-Type"] = content_type
    response = world.client.post(
        objects_url(world.collections["own_inbox"]), content=envelope(obj), headers=headers
    )
    if content_type is None:
        assert "content-type" not in response.request.headers
    assert_taxii_error(response, 415)
    assert world.stored("own_inbox", obj["id"]) == []
    assert_kept(world, kept)


@pytest.mark.parametrize(
    "accept",
    [
        "application/json",
        "text/html",
        "application/xml, text/*",
        "application/taxii+json;version=2.0",
        "application/taxii+json;version=2.1;q=0",
        "application/stix+json;version=2.1",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_accept_that_excludes_taxii_is_a_406(
    world: World, kept: dict[str, Any], accept: str, method: str
) -> None:
    obj = indicator()
    headers = world.actors["partner_owner"].headers(Accept=accept)
    url = objects_url(world.collections["own_inbox"])
    if method == "GET":
        response = world.client.get(url, headers=headers)
    else:
        response = world.client.post(url, content=envelope(obj), headers=headers)
    assert_taxii_error(response, 406)
    assert world.stored("own_inbox", obj["id"]) == []
    assert_kept(world, kept)


# Size limits -------------------------------------------------------------------------------
def _body_of_size(size: int) -> tuple[dict[str, Any], bytes]:
    """A valid one-object envelope of exactly ``size`` bytes (padded in a description)."""
    obj = indicator(description="")
    bare = len(envelope(obj))
    obj["description"] = "x" * (size - bare)
    body = envelope(obj)
    assert len(body) == size
    return obj, body


def _chunks(body: bytes, size: int = 4096) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_body_at_the_limit_is_taken(world: World) -> None:
    obj, body = _body_of_size(MAX_BODY_BYTES)
    status_of(post(world, body), 1)
    assert world.stored("own_inbox", obj["id"]) == [obj]


def test_a_streamed_body_within_the_limit_is_taken(world: World) -> None:
    obj, body = _body_of_size(MAX_BODY_BYTES)
    response = post(world, _chunks(body))
    assert "content-length" not in response.request.headers
    status_of(response, 1)
    assert world.stored("own_inbox", obj["id"]) == [obj]


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 4 * MAX_BODY_BYTES])
def test_a_body_over_the_limit_is_a_413(
    world: World, kept: dict[str, Any], streamed: bool, size: int
) -> None:
    obj, body = _body_of_size(size)
    response = post(world, _chunks(body) if streamed else body)
    if streamed:
        assert "content-length" not in response.request.headers
        assert response.request.headers.get("transfer-encoding") == "chunked"
    else:
        assert response.request.headers["content-length"] == str(size)
    assert_taxii_error(response, 413)
    assert world.stored("own_inbox", obj["id"]) == []
    assert_kept(world, kept)


def test_an_endless_stream_is_cut_off_with_a_413(world: World, kept: dict[str, Any]) -> None:
    sent = 0

    def endless() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"objects": ['
        while sent < 64 * MAX_BODY_BYTES:
            sent += 8192
            yield b" " * 8192

    assert_taxii_error(post(world, endless()), 413)
    assert_kept(world, kept)


def test_an_envelope_at_the_object_limit_is_taken(world: World) -> None:
    objects = [indicator() for _ in range(MAX_OBJECTS)]
    status = status_of(post(world, envelope(*objects)), MAX_OBJECTS)
    assert status["success_count"] == MAX_OBJECTS


def test_an_envelope_over_the_object_limit_is_a_413(world: World, kept: dict[str, Any]) -> None:
    objects = [indicator() for _ in range(MAX_OBJECTS + 1)]
    body = envelope(*objects)
    assert len(body) <= MAX_BODY_BYTES
    assert_taxii_error(post(world, body), 413)
    assert world.stored("own_inbox", objects[0]["id"]) == []
    assert_kept(world, kept)


# One bad object among good ones --------------------------------------------------------------
def _without(obj: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != key}


@dataclass(frozen=True)
class Bad:
    """A bad envelope member and a fragment of the message its failure must carry."""

    member: Any
    says: str | None  # None: the member may also be taken; it just must not spoil the rest
    raw: bytes | None = None  # raw JSON for x_hole (for members orjson cannot write)


BAD_MEMBERS: dict[str, Bad] = {
    "no id": Bad(_without(indicator(), "id"), "'id'"),
    "no type": Bad(_without(indicator(f"indicator--{_U}"), "type"), "'type'"),
    "id of another type": Bad(indicator(f"malware--{_U}"), "invalid id"),
    "id with an upper-case UUID": Bad(indicator(f"indicator--{_U.upper()}"), "invalid id"),
    "upper-case type": Bad(
        {**indicator(), "type": "Indicator", "id": f"Indicator--{_U}"}, "invalid type"
    ),
    "bad UUID": Bad(indicator("indicator--1234"), "invalid id"),
    "UUID without hyphens": Bad(indicator(f"indicator--{uuid.UUID(_U).hex}"), "invalid id"),
    "single hyphen separator": Bad(indicator(f"indicator-{_U}"), "invalid id"),
    "id not a string": Bad({**indicator(), "id": 42}, "'id'"),
    "type not a string": Bad({**indicator(), "type": ["indicator"]}, "'type'"),
    "type with --": Bad({**indicator(), "type": "x--y", "id": f"x--y--{_U}"}, "invalid type"),
    "a number": Bad(42, "not a STIX object"),
    "a float": Bad(1.5, "not a STIX object"),
    "a string": Bad(f"indicator--{_U}", "not a STIX object"),
    "null": Bad(None, "not a STIX object"),
    "a boolean": Bad(True, "not a STIX object"),
    "nested lists": Bad([[1, 2], [[3]], []], "not a STIX object"),
    "an empty object": Bad({}, "'type'"),
    "non-STIX garbage": Bad({"foo": "bar"}, "'type'"),
    "spec_version 2.0": Bad(indicator(spec_version="2.0"), "spec_version"),
    "spec_version a number": Bad(indicator(spec_version=2.1), "spec_version"),
    "spec_version a list": Bad(indicator(spec_version=["2.1"]), "spec_version"),
    "spec_version an object": Bad(indicator(spec_version={"v": "2.1"}), "spec_version"),
    "spec_version missing on an SDO": Bad(_without(indicator(), "spec_version"), "spec_version"),
    "created not a timestamp": Bad(indicator(created="yesterday"), "'created'"),
    "created an impossible date": Bad(indicator(created="2024-13-45T00:00:00Z"), "'created'"),
    "created with an offset": Bad(indicator(created="2024-01-01T00:00:00+01:00"), "'created'"),
    "created a number": Bad(indicator(created=1704067200), "'created'"),
    "modified not a date": Bad(indicator(modified="2024-02-30T00:00:00Z"), "'modified'"),
    "modified a list": Bad(indicator(modified=["2024-01-01T00:00:00Z"]), "'modified'"),
    "modified before created": Bad(
        indicator(created="2024-02-01T00:00:00.000Z", modified="2024-01-01T00:00:00.000Z"),
        "earlier",
    ),
    "a property nested 300 deep": Bad(indicator(), None, raw=nested(300)),
    "a property nested 1000 deep": Bad(indicator(), None, raw=nested(1000)),
}


@pytest.mark.parametrize("name", list(BAD_MEMBERS))
def test_one_bad_object_fails_alone(world: World, kept: dict[str, Any], name: str) -> None:
    bad = BAD_MEMBERS[name]
    good_a, good_b = indicator(name="good a"), indicator(name="good b")
    if bad.raw is None:
        body = envelope(good_a, bad.member, good_b)
    else:
        hole = with_hole(bad.member, bad.raw)
        body = envelope(good_a, "BAD", good_b).replace(b'"BAD"', hole[len(b'{"objects":[') : -2])
        assert orjson.loads(body)["objects"][0] == good_a  # the envelope itself parses
    status = status_of(post(world, body), 3)

    succeeded = {entry["id"]: entry for entry in status["successes"]}
    assert succeeded[good_a["id"]]["message"].startswith("added (accepted under agreement--")
    assert succeeded[good_b["id"]]["message"].startswith("added (accepted under agreement--")
    if bad.says is not None:
        assert status["failure_count"] == 1, status
        failure = status["failures"][0]
        assert isinstance(failure["message"], str)
        assert bad.says in failure["message"], failure
        member = bad.member
        if isinstance(member, dict) and isinstance(member.get("id"), str):
            assert failure["id"] == member["id"]
            assert world.stored("own_inbox", member["id"]) == []
        else:
            assert failure["id"] == ""
    else:
        assert status["failure_count"] + status["success_count"] == 3
    assert world.stored("own_inbox", good_a["id"]) == [good_a]
    assert world.stored("own_inbox", good_b["id"]) == [good_b]
    assert_kept(world, kept)


# Duplicates ------------------------------------------------------------------------------------
def test_the_same_object_twice_in_one_envelope_succeeds_twice(world: World) -> None:
    obj = indicator()
    status = status_of(post(world, envelope(obj, dict(reversed(obj.items())))), 2)
    outcomes = [entry["message"].split(" (")[0] for entry in status["successes"]]
    assert outcomes == ["added", "already present"]
    assert world.stored("own_inbox", obj["id"]) == [obj]


def test_a_different_object_with_the_same_id_and_version_fails(
    world: World, kept: dict[str, Any]
) -> None:
    first = indicator(name="first")
    second = {**first, "name": "second"}
    status = status_of(post(world, envelope(first, second)), 2)
    assert status["success_count"] == 1
    assert status["successes"][0]["id"] == first["id"]
    assert status["failure_count"] == 1
    failure = status["failures"][0]
    assert failure["id"] == first["id"]
    assert failure["version"] == first["modified"]
    assert "different object" in failure["message"]
    assert world.stored("own_inbox", first["id"]) == [first]

    again = status_of(post(world, envelope(second)), 1)
    assert again["failure_count"] == 1
    assert world.stored("own_inbox", first["id"]) == [first]
    assert_kept(world, kept)


def test_two_versions_of_one_object_in_one_envelope_are_both_taken(world: World) -> None:
    v1 = indicator()
    v2 = {**v1, "modified": "2024-06-01T00:00:00.000Z", "name": "v2"}
    status = status_of(post(world, envelope(v2, v1)), 2)
    assert status["success_count"] == 2
    stored = world.stored("own_inbox", v1["id"])
    assert sorted(stored, key=lambda o: o["modified"]) == [v1, v2]


# Query parameters --------------------------------------------------------------------------
READ_ENDPOINTS = ["objects", "manifest", "object", "versions"]

BAD_PARAMS: dict[str, list[tuple[str, str]]] = {
    "added_after in words": [("added_after", "yesterday")],
    "added_after an impossible date": [("added_after", "2024-13-45T00:00:00Z")],
    "added_after a date only": [("added_after", "2024-01-01")],
    "added_after with an offset": [("added_after", "2024-01-01T00:00:00+01:00")],
    "added_after empty": [("added_after", "")],
    "added_after twice": [("added_after", "2024-01-01T00:00:00Z")] * 2,
    "limit 0": [("limit", "0")],
    "limit -1": [("limit", "-1")],
    "limit abc": [("limit", "abc")],
    "limit empty": [("limit", "")],
    "limit 1.5": [("limit", "1.5")],
    "limit 1e3": [("limit", "1e3")],
    "limit huge": [("limit", "1" + "0" * 30)],
    "limit twice": [("limit", "1"), ("limit", "2")],
    "unknown parameter": [("foo", "bar")],
    "unknown parameter, case": [("Limit", "1")],
    "match[foo]": [("match[foo]", "x")],
    "match[]": [("match[]", "x")],
    "match[ without ]": [("match[type", "indicator")],
    "match[version] in words": [("match[version]", "newest")],
    "match[spec_version] empty value": [("match[spec_version]", "2.1,")],
    "next twice": [("next", "a"), ("next", "b")],
}


def _read_url(world: World, endpoint: str) -> str:
    inbox = world.collections["own_inbox"]
    seed = world.seed_id("own_inbox")
    return {
        "objects": objects_url(inbox),
        "manifest": f"{collection_url(inbox)}manifest/",
        "object": object_url(inbox, seed),
        "versions": f"{object_url(inbox, seed)}versions/",
    }[endpoint]


@pytest.mark.parametrize("name", list(BAD_PARAMS))
@pytest.mark.parametrize("endpoint", READ_ENDPOINTS)
def test_bad_query_parameters_are_a_400(world: World, endpoint: str, name: str) -> None:
    response = world.client.get(
        _read_url(world, endpoint),
        params=BAD_PARAMS[name],
        headers=world.actors["partner_owner"].headers(),
    )
    assert_taxii_error(response, 400)


@pytest.mark.parametrize(
    ("endpoint", "param"),
    [
        ("object", "match[id]"),
        ("object", "match[type]"),
        ("versions", "match[id]"),
        ("versions", "match[type]"),
        ("versions", "match[version]"),
    ],
)
def test_filters_an_endpoint_does_not_take_are_a_400(
    world: World, endpoint: str, param: str
) -> None:
    response = world.client.get(
        _read_url(world, endpoint),
        params={param: "indicator"},
        headers=world.actors["partner_owner"].headers(),
    )
    assert_taxii_error(response, 400)


def test_too_many_filter_values_are_a_400(world: World) -> None:
    values = ",".join(f"indicator--{uuid.uuid4()}" for _ in range(1001))
    response = world.client.get(
        objects_url(world.collections["own_inbox"]),
        params={"match[id]": values},
        headers=world.actors["partner_owner"].headers(),
    )
    assert_taxii_error(response, 400)


@pytest.mark.parametrize("limit", ["\u00b2", "\u00b3", "\u2460"])
def test_a_limit_of_non_ascii_digits_is_a_400(world: World, limit: str) -> None:
    # str.isdigit() is true for superscripts and circled digits, but int() cannot read them.
    assert limit.isdigit()
    response = world.client.get(
        objects_url(world.collections["own_inbox"]),
        params={"limit": limit},
        headers=world.actors["partner_owner"].headers(),
    )
    assert_taxii_error(response, 400)


def test_a_limit_over_the_maximum_is_lowered(world: World) -> None:
    for _ in range(MAX_PAGE // 5 + 1):
        post(world, envelope(*(indicator() for _ in range(5))))
    response = world.client.get(
        objects_url(world.collections["own_inbox"]),
        params={"limit": "999999999"},
        headers=world.actors["partner_owner"].headers(),
    )
    assert response.status_code == 200
    assert len(response.json()["objects"]) == MAX_PAGE


def test_many_filter_values_on_a_collection_of_many_audiences_are_not_a_500(
    world: World,
) -> None:
    """A country collection fed by many partners (each placement audience adds a copy of the
    filters to the query) still answers a request that uses the allowed number of values."""
    hub = world.hub
    variables = sqlite3.connect(":memory:").getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    audiences = variables // 3000 + 2
    partner = onboard(hub, "p-wide", ["GB"])
    analyst = hub.create_account(Role.ANALYST, "analyst-gb", country="GB")
    assert partner.inbox is not None
    others = [country.code for country in hub.countries if country.code not in {"GB", "FR"}]
    for code in others[:audiences]:
        hub.set_agreement("p-wide", pass_through_terms(["GB", code]), admin=FIRST_ADMIN)
        hub.add_objects(partner.account, partner.inbox.id, envelope(indicator()))
    gb = country_collection_id("GB")
    params = [
        ("match[id]", ",".join(f"x--{n}" for n in range(1000))),
        ("match[type]", ",".join(f"t{n}" for n in range(1000))),
        ("match[spec_version]", ",".join(f"{n}" for n in range(1000))),
    ]
    response = world.client.get(
        objects_url(gb), params=params, headers=bearer(analyst.token) | {"Accept": TAXII_21}
    )
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        assert response.json()["objects"] == []
    else:
        assert_taxii_error(response, response.status_code)


# Page cursors ----------------------------------------------------------------------------------
@dataclass
class Paged:
    """Two shared collections of twelve objects each that ``partner_owner`` may read."""

    first: str
    second: str
    ids: list[str]


@pytest.fixture(scope="module")
def paged(world: World) -> Paged:
    hub = world.hub
    admin = world.actors["admin"].account
    assert admin is not None
    made = []
    ids: list[str] = []
    for title in ("paging one", "paging two"):
        collection = hub.create_shared_collection(title)
        hub.grant(collection.id, "p-owner", read=True, write=False)
        objects = [indicator() for _ in range(12)]
        hub.add_objects(admin, collection.id, envelope(*objects))
        made.append(collection.id)
        if not ids:
            ids = [obj["id"] for obj in objects]
    return Paged(made[0], made[1], ids)


def _page(world: World, collection_id: str, scope: str = "objects", **params: str) -> Any:
    url = (
        objects_url(collection_id)
        if scope == "objects"
        else f"{collection_url(collection_id)}{scope}/"
    )
    return world.client.get(url, params=params, headers=world.actors["partner_owner"].headers())


def _cursor(world: World, collection_id: str, **params: str) -> str:
    response = _page(world, collection_id, limit="3", **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["more"] is True
    cursor: str = body["next"]
    return cursor


B64 = string.ascii_letters + string.digits + "-_"


def test_every_single_character_flip_of_a_cursor_is_a_400(world: World, paged: Paged) -> None:
    cursor = _cursor(world, paged.first)
    assert _page(world, paged.first, limit="3", next=cursor).status_code == 200
    for position, char in enumerate(cursor):
        flipped = B64[(B64.index(char) + 1) % len(B64)]
        tampered = cursor[:position] + flipped + cursor[position + 1 :]
        response = _page(world, paged.first, limit="3", next=tampered)
        assert_taxii_error(response, 400)


@pytest.mark.parametrize(
    "alter",
    [
        pytest.param(lambda c: c + ".", id="a junk character appended"),
        pytest.param(lambda c: c[:20] + "!" + c[20:], id="a junk character inserted"),
        pytest.param(lambda c: c + "\n", id="a newline appended"),
    ],
)
def test_an_altered_cursor_is_a_400(
    world: World, paged: Paged, alter: Callable[[str], str]
) -> None:
    # The cursor docstring: "a cursor that was altered ... is refused".
    cursor = _cursor(world, paged.first)
    altered = alter(cursor)
    assert altered != cursor
    assert_taxii_error(_page(world, paged.first, limit="3", next=altered), 400)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "abc",
        "!!!!",
        "null",
        "0",
        "A" * 44,
        base64.urlsafe_b64encode(bytes(33)).decode(),
        base64.urlsafe_b64encode(bytes(1000)).decode(),
        "x" * 10_000,
        "\x00",
        "é" * 44,
        "../" * 20,
    ],
)
def test_a_garbage_cursor_is_a_400(world: World, paged: Paged, garbage: str) -> None:
    assert_taxii_error(_page(world, paged.first, limit="3", next=garbage), 400)


def test_a_cursor_of_another_collection_is_a_400(world: World, paged: Paged) -> None:
    cursor = _cursor(world, paged.first)
    assert_taxii_error(_page(world, paged.second, limit="3", next=cursor), 400)


def test_a_cursor_of_another_endpoint_is_a_400(world: World, paged: Paged) -> None:
    cursor = _cursor(world, paged.first)
    assert_taxii_error(_page(world, paged.first, "manifest", limit="3", next=cursor), 400)


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ({"match[type]": "indicator"}, {"match[type]": "malware"}),
        ({"match[type]": "indicator"}, {}),
        ({}, {"match[type]": "indicator"}),
        ({}, {"added_after": "2000-01-01T00:00:00Z"}),
        ({}, {"match[version]": "all"}),
        ({"match[spec_version]": "2.1"}, {"match[spec_version]": "2.0"}),
    ],
)
def test_a_cursor_reused_with_other_filters_is_a_400(
    world: World, paged: Paged, first: dict[str, str], then: dict[str, str]
) -> None:
    cursor = _cursor(world, paged.first, **first)
    assert _page(world, paged.first, limit="3", next=cursor, **first).status_code == 200
    assert_taxii_error(_page(world, paged.first, limit="3", next=cursor, **then), 400)


@pytest.mark.parametrize("scope", ["objects", "manifest"])
def test_next_without_limit_continues_with_the_default_page_size(
    world: World, paged: Paged, scope: str
) -> None:
    first = _page(world, paged.first, scope, limit="3")
    assert first.status_code == 200
    seen = [entry["id"] for entry in first.json()["objects"]]
    cursor = first.json()["next"]
    pages = 0
    while cursor is not None:
        response = _page(world, paged.first, scope, next=cursor)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["objects"]) == min(DEFAULT_PAGE, len(paged.ids) - len(seen))
        seen.extend(entry["id"] for entry in body["objects"])
        assert body["more"] is ("next" in body)
        cursor = body.get("next")
        pages += 1
    assert seen == paged.ids
    assert pages == 2  # 3 + 5 + 4


# Over-long identifiers in the URL ----------------------------------------------------------
def test_an_overlong_collection_id_is_a_404(world: World) -> None:
    long_id = "a" * 20_000
    headers = world.actors["partner_owner"].headers()
    client = world.client
    for response in (
        client.get(collection_url(long_id), headers=headers),
        client.get(objects_url(long_id), headers=headers),
        client.get(f"{collection_url(long_id)}manifest/", headers=headers),
        client.get(object_url(long_id, "indicator--x"), headers=headers),
        client.post(objects_url(long_id), content=envelope(indicator()), headers=headers),
        client.delete(object_url(long_id, "indicator--x"), headers=headers),
        client.get(f"{API}status/{long_id}/", headers=headers),
    ):
        assert_taxii_error(response, 404)


@pytest.mark.parametrize("object_id", ["indicator--" + "a" * 20_000, "x" * 20_000])
def test_an_overlong_object_id_is_a_404(world: World, kept: dict[str, Any], object_id: str) -> None:
    inbox = world.collections["own_inbox"]
    headers = world.actors["partner_owner"].headers()
    client = world.client
    for response in (
        client.get(object_url(inbox, object_id), headers=headers),
        client.get(f"{object_url(inbox, object_id)}versions/", headers=headers),
        client.delete(object_url(inbox, object_id), headers=headers),
    ):
        assert_taxii_error(response, 404)
    assert_kept(world, kept)


# Properties ----------------------------------------------------------------------------------
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
TIMESTAMPS = st.sampled_from(
    [
        "2024-01-01T00:00:00.000Z",
        "2024-06-01T12:30:00Z",
        "1970-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999Z",
        "2024-13-01T00:00:00Z",
        "2024-01-01",
    ]
)
VALID_TYPES = st.sampled_from(["indicator", "malware", "x-custom", "ipv4-addr"])
TYPES = VALID_TYPES | st.sampled_from(["Indicator", "a", "", "x--y"])


@st.composite
def stix_like(draw: st.DrawFn) -> dict[str, Any]:
    """Dicts shaped like STIX objects, right or wrong in every property the hub checks."""
    if draw(st.booleans()):
        # A well-formed type and id, so that the later checks are reached.
        stix_type: Any = draw(VALID_TYPES)
        stix_id: Any = f"{stix_type}--{draw(st.uuids())}"
    else:
        stix_type = draw(TYPES | JSON_VALUES)
        prefix = stix_type if isinstance(stix_type, str) else "indicator"
        stix_id = draw(
            st.uuids().map(lambda u: f"{prefix}--{u}")
            | st.uuids().map(lambda u: f"{prefix}--{str(u).upper()}")
            | JSON_VALUES
        )
    obj: dict[str, Any] = {"type": stix_type, "id": stix_id}
    for key, values in (
        ("spec_version", st.sampled_from(["2.1", "2.0"]) | JSON_VALUES),
        ("created", TIMESTAMPS | JSON_VALUES),
        ("modified", TIMESTAMPS | JSON_VALUES),
        ("name", JSON_VALUES),
    ):
        if draw(st.booleans()):
            obj[key] = draw(values)
    return obj


MEMBERS = stix_like() | JSON_VALUES
OBJECT_ENVELOPES = st.fixed_dictionaries(
    {"objects": st.lists(MEMBERS, max_size=6)},
    optional={"more": JSON_VALUES, "next": JSON_VALUES, "type": st.just("bundle")},
)
# Mostly envelopes with an objects list (where per-object checks run), also any JSON at all.
ENVELOPES = st.one_of(
    OBJECT_ENVELOPES,
    OBJECT_ENVELOPES,
    OBJECT_ENVELOPES,
    st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=3),
    JSON_VALUES,
)


@PROPERTY_SETTINGS
@given(document=ENVELOPES)
def test_any_json_envelope_gets_a_status_or_a_4xx(
    world: World, kept: dict[str, Any], document: Any
) -> None:
    body = json.dumps(document).encode()
    response = post(world, body)
    members = document.get("objects") if isinstance(document, dict) else None
    if isinstance(members, list) and len(members) <= MAX_OBJECTS and len(body) <= MAX_BODY_BYTES:
        status_of(response, len(members))
    else:
        assert 400 <= response.status_code < 500, (response.status_code, response.text)
        assert_taxii_error(response, response.status_code)
    assert_kept(world, kept)


@pytest.fixture(scope="module")
def genuine(world: World, paged: Paged) -> str:
    return _cursor(world, paged.first)


@st.composite
def edited(draw: st.DrawFn, cursor: str) -> str:
    """A genuine cursor with one character inserted, replaced or removed."""
    position = draw(st.integers(0, len(cursor)))
    char = draw(
        st.sampled_from(".!~:= \n\t%+/") | st.sampled_from(B64) | st.characters(codec="utf-8")
    )
    how = draw(st.sampled_from(["insert", "replace", "remove"]))
    if how == "insert":
        return cursor[:position] + char + cursor[position:]
    if how == "replace":
        return cursor[:position] + char + cursor[position + 1 :]
    return cursor[:position] + cursor[position + 1 :]


@PROPERTY_SETTINGS
@given(data=st.data())
def test_any_next_value_but_a_genuine_cursor_is_a_400(
    world: World, paged: Paged, genuine: str, data: st.DataObject
) -> None:
    value = data.draw(
        st.text(max_size=80)
        | st.text(alphabet=B64 + "=+/", min_size=40, max_size=48)
        | edited(genuine)
        | edited(genuine),
        label="next",
    )
    response = _page(world, paged.first, limit="3", next=value)
    if value == genuine:
        assert response.status_code == 200
    else:
        assert_taxii_error(response, 400)
