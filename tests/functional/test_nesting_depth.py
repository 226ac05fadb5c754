"""The nesting-depth limit over HTTP: a hub told ``EXCHANGE_MAX_NESTING_DEPTH=8`` refuses an
object nested 9 levels in the status resource, naming the limit, takes one nested 8 levels, and
answers an envelope nested too deeply outside its objects with a TAXII 400; a hub with the
default takes the deepest objects of the shared corpus.
"""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from exchange.stix.envelope import DEFAULT_MAX_DEPTH, json_depth
from tests.functional.conftest import (
    World,
    assert_taxii_error,
    envelope,
    indicator,
    objects_url,
)
from tests.support.paths import STIX_DATA

LIMIT = 8
REASON = f"nested deeper than {LIMIT} levels (max_nesting_depth)"


@pytest.fixture(scope="module")
def shallow(make_world: Callable[..., World]) -> World:
    """A hub whose limit comes from the environment, as `exchange serve` reads it."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("EXCHANGE_MAX_NESTING_DEPTH", str(LIMIT))
        world = make_world()
    assert world.settings.max_nesting_depth == LIMIT
    return world


def nested(levels: int) -> Any:
    """A JSON value ``levels`` deep (objects and lists, bracket-like strings on the way)."""
    value: Any = "]]}}"
    for level in range(levels):
        value = {"k": value, "s": '{["\\'} if level % 2 else [value, "[{"]
    return value


def deep_indicator(levels: int) -> dict[str, Any]:
    """An indicator nested ``levels`` deep in all (the object itself is one level)."""
    obj = indicator(x_deep=nested(levels - 1))
    assert json_depth(orjson.dumps(obj)) == levels
    return obj


def post(world: World, body: bytes, actor: str = "partner_owner", kind: str = "own_inbox") -> Any:
    return world.client.post(
        objects_url(world.collections[kind]),
        content=body,
        headers=world.actors[actor].headers(),
    )


def status_of(response: Any, total: int) -> dict[str, Any]:
    assert response.status_code == 202, (response.status_code, response.text[:500])
    status: dict[str, Any] = response.json()
    assert status["total_count"] == total, status
    return status


@pytest.mark.parametrize(
    ("actor", "kind"),
    [("partner_owner", "own_inbox"), ("admin", "shared_rw")],
    ids=["a partner's inbox", "a shared collection"],
)
def test_an_object_deeper_than_the_limit_is_refused_alone_and_one_at_it_is_taken(
    shallow: World, actor: str, kind: str
) -> None:
    at_limit, too_deep = deep_indicator(LIMIT), deep_indicator(LIMIT + 1)
    plain = indicator()

    status = status_of(post(shallow, envelope(at_limit, too_deep, plain), actor, kind), 3)

    assert sorted(entry["id"] for entry in status["successes"]) == sorted(
        [at_limit["id"], plain["id"]]
    )
    assert status["failure_count"] == 1, status
    [failure] = status["failures"]
    assert failure["id"] == too_deep["id"]
    assert failure["version"] == too_deep["modified"]
    assert failure["message"] == REASON
    reader = "partner_owner" if kind == "own_inbox" else "admin"
    assert shallow.stored(kind, at_limit["id"], actor=reader) == [at_limit]
    assert shallow.stored(kind, too_deep["id"], actor=reader) == []


def test_a_deep_object_is_refused_whatever_its_brackets_look_like(shallow: World) -> None:
    # Brackets inside strings do not count: this one is shallow but full of them.
    looks_deep = indicator(name="[[[[[[[[[[{{{{{{{{{{", description='\\"[[[[[[[[[[[[')
    # And the reverse: closing brackets inside strings do not hide real depth.
    hides = indicator(x_deep=[["]]]]]]]]]]", nested(LIMIT)]])
    status = status_of(post(shallow, envelope(looks_deep, hides)), 2)
    assert [entry["id"] for entry in status["successes"]] == [looks_deep["id"]]
    assert [(entry["id"], entry["message"]) for entry in status["failures"]] == [
        (hides["id"], REASON)
    ]


def test_an_envelope_nested_too_deeply_outside_its_objects_is_a_400(shallow: World) -> None:
    obj = indicator()
    body = orjson.dumps({"objects": [obj], "x_extra": nested(LIMIT + 2)})
    error = assert_taxii_error(post(shallow, body), 400)
    assert "max_nesting_depth" in error["description"], error
    assert shallow.stored("own_inbox", obj["id"]) == []
    # At the limit (envelope + LIMIT + 1 levels) it is taken.
    fine = orjson.dumps({"objects": [obj], "x_extra": nested(LIMIT + 1)})
    assert status_of(post(shallow, fine), 1)["success_count"] == 1


def test_far_deeper_bodies_still_get_a_clean_answer(shallow: World) -> None:
    # 1000 levels: orjson reads it, the limit refuses the member.
    hole = indicator(x_hole="HOLE")
    body = envelope(hole).replace(b'"HOLE"', b"[" * 1000 + b"]" * 1000)
    status = status_of(post(shallow, body), 1)
    assert [entry["message"] for entry in status["failures"]] == [REASON]
    # Past orjson's 1024 levels the body is not read at all.
    body = envelope(hole).replace(b'"HOLE"', b"[" * 2000 + b"]" * 2000)
    assert_taxii_error(post(shallow, body), 400)


def _deepest_corpus_objects(count: int) -> list[dict[str, Any]]:
    """The ``count`` deepest STIX 2.1 objects of the examples and ATT&CK for ICS files."""
    found: list[tuple[int, str, dict[str, Any]]] = []
    paths = [
        *sorted((STIX_DATA / "examples").rglob("*.json")),
        STIX_DATA / "attack" / "ics-attack-18.1.json.gz",
    ]
    for path in paths:
        raw = path.read_bytes()
        try:
            document = orjson.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)
        except orjson.JSONDecodeError:
            continue
        members = document.get("objects") if isinstance(document, dict) else None
        for obj in members if isinstance(members, list) else []:
            if isinstance(obj, dict) and obj.get("spec_version") == "2.1" and "id" in obj:
                found.append((json_depth(orjson.dumps(obj)), str(obj["id"]), obj))
    found.sort(key=lambda entry: (-entry[0], entry[1]))
    unique = {stix_id: obj for _, stix_id, obj in found[: count * 4]}
    return list(unique.values())[:count]


def test_the_default_takes_the_deepest_objects_of_the_shared_corpus(
    make_world: Callable[..., World],
) -> None:
    if not STIX_DATA.is_dir():
        pytest.skip(f"no shared STIX corpus at {STIX_DATA}")
    world = make_world()
    assert world.settings.max_nesting_depth == DEFAULT_MAX_DEPTH
    deepest = _deepest_corpus_objects(10)
    assert len(deepest) == 10
    assert max(json_depth(orjson.dumps(obj)) for obj in deepest) >= 7
    # Each under its own fresh id, so earlier tests or repeated ids change nothing.
    sent = [{**obj, "id": f"{obj['type']}--{uuid.uuid4()}"} for obj in deepest]
    # A shared collection takes every well-formed object as it is (no agreement policy).
    status = status_of(post(world, envelope(*sent), "admin", "shared_rw"), len(sent))
    assert not [entry for entry in status.get("failures", []) if "nested" in entry["message"]]
    assert status["success_count"] == len(sent), status
