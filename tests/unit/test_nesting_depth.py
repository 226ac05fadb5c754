"""The nesting-depth limit of posted envelopes (``max_nesting_depth``).

:func:`exchange.stix.envelope.json_depth` measures the raw bytes; it is checked against the
plain recursive depth of what ``json.loads`` makes of them, on hand-picked tricky strings and on
generated JSON, and the default limit against every object of the shared STIX corpus.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from exchange.errors import InvalidEnvelope
from exchange.settings import Settings
from exchange.stix.envelope import (
    DEFAULT_MAX_DEPTH,
    _deeper_than,
    json_depth,
    parse_envelope,
    parse_members,
)
from exchange.stix.objects import ObjectVersion, Refusal
from tests.support.paths import STIX_DATA

_ID = "indicator--2f9b4a39-5a9a-4c4b-8a43-4d5c2b1e0f11"
_WHEN = "2024-01-01T00:00:00.000Z"


def reference_depth(value: Any) -> int:
    """The depth, straight from the definition: 0 for a scalar, 1 more for each container."""
    if isinstance(value, dict):
        return 1 + max((reference_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((reference_depth(item) for item in value), default=0)
    return 0


def nested(levels: int) -> Any:
    """A JSON value ``levels`` deep, alternating objects and lists, with strings that look
    like brackets along the way."""
    value: Any = "]}"
    for level in range(levels):
        value = {"k": value, "s": "{["} if level % 2 else [value, '"]\\']
    return value


def indicator(**extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": _ID,
        "created": _WHEN,
        "modified": _WHEN,
        "pattern": "[ipv4-addr:value = '198.51.100.1']",
        "pattern_type": "stix",
        "valid_from": _WHEN,
        **extra,
    }


# json_depth --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "depth"),
    [
        (b"1", 0),
        (b'"[[[{{{"', 0),
        (b"[]", 1),
        (b"{}", 1),
        (b"[[], {}, [[]]]", 3),
        (b'{"a": [1, {"b": null}]}', 3),
        (b'["[[[[", "]]]]]]]"]', 1),
        (b'{"}": "{", "]": "["}', 1),
        (b'["\\"[[["]', 1),  # an escaped quote does not end the string
        (b'["\\\\", ["]"]]', 2),  # an escaped backslash does not escape the quote after it
        (b'["\\\\\\"]]", [[]]]', 3),  # \\ then \" inside one string
        (b'["\\u0022[[", []]', 2),  # a quote written as \u0022 is only a character
        (b'["\\n[", "\\\\\\\\", [[]]]', 3),
        (b" [ [ ] ,\n\t[ [ ] ] ] ", 3),
        ('["é[ü{", {"ключ": ["]"]}]'.encode(), 3),
    ],
)
def test_json_depth_of_tricky_texts(raw: bytes, depth: int) -> None:
    assert reference_depth(json.loads(raw)) == depth  # the table itself is right
    assert json_depth(raw) == depth


_TRICKY = st.text(alphabet=st.sampled_from('[]{}"\\:,ab é\n\x00\U0001f600'), max_size=12)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TRICKY,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TRICKY, inner, max_size=4),
    max_leaves=40,
)
_PROPERTY = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@_PROPERTY
@given(value=_JSON, ascii_only=st.booleans(), indent=st.sampled_from([None, 0, 2]))
def test_json_depth_agrees_with_the_recursive_depth(
    value: Any, ascii_only: bool, indent: int | None
) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only, indent=indent).encode()
    expected = reference_depth(json.loads(raw))
    assert json_depth(raw) == expected
    assert json_depth(orjson.dumps(value)) == expected
    for limit in {max(expected - 1, 0), expected, expected + 1}:
        assert _deeper_than(value, limit) is (expected > limit)


def test_json_depth_goes_as_deep_as_orjson_reads() -> None:
    raw = b'{"a": [' * 512 + b'"]]]"' + b"]}" * 512
    assert orjson.loads(raw)  # 1024 levels: the most orjson reads
    assert json_depth(raw) == 1024
    assert _deeper_than(orjson.loads(raw), 1023)
    assert not _deeper_than(orjson.loads(raw), 1024)


# parse_members ---------------------------------------------------------------------------------
@pytest.mark.parametrize("limit", [2, 8, DEFAULT_MAX_DEPTH])
def test_a_member_at_the_limit_is_taken_and_one_deeper_is_refused_alone(limit: int) -> None:
    at_limit = indicator(x_deep=nested(limit - 1))
    deeper = {**indicator(x_deep=nested(limit)), "id": _ID.replace("2f9b", "3f9b")}
    assert reference_depth(at_limit) == limit
    assert reference_depth(deeper) == limit + 1
    body = orjson.dumps({"objects": [at_limit, deeper, 7]})

    taken, refused, scalar = parse_envelope(body, max_objects=10, max_depth=limit)

    assert isinstance(taken, ObjectVersion)
    assert taken.stix_id == _ID
    assert refused == Refusal(
        deeper["id"], _WHEN, f"nested deeper than {limit} levels (max_nesting_depth)"
    )
    assert isinstance(scalar, Refusal)
    assert "not a STIX object" in scalar.reason


def test_a_deep_member_that_is_no_object_is_refused_without_an_id() -> None:
    members = parse_members(orjson.dumps({"objects": [nested(5)]}), max_objects=1, max_depth=4)
    assert members == [Refusal(None, None, "nested deeper than 4 levels (max_nesting_depth)")]


def test_long_ids_and_versions_are_not_echoed_in_the_refusal() -> None:
    deep = indicator(id="indicator--" + "a" * 400, modified="x" * 100, x=nested(10))
    [refused] = parse_members(orjson.dumps({"objects": [deep]}), max_objects=1, max_depth=4)
    assert refused == Refusal(None, None, "nested deeper than 4 levels (max_nesting_depth)")


def test_an_envelope_nested_too_deeply_outside_its_members_is_refused_whole() -> None:
    members = [indicator()]
    at_limit = {"objects": members, "x_more": nested(9)}  # envelope + 9 = 10 = 8 + 2
    assert parse_members(orjson.dumps(at_limit), max_objects=5, max_depth=8) == members
    too_deep = {"objects": members, "x_more": nested(10)}
    with pytest.raises(InvalidEnvelope, match=r"'x_more' is nested deeper than 10 levels"):
        parse_members(orjson.dumps(too_deep), max_objects=5, max_depth=8)


def test_the_default_limit_applies_without_one_given() -> None:
    body = orjson.dumps({"objects": [indicator(x=nested(DEFAULT_MAX_DEPTH))]})
    [refused] = parse_members(body, max_objects=1)
    assert isinstance(refused, Refusal)
    assert refused.reason == f"nested deeper than {DEFAULT_MAX_DEPTH} levels (max_nesting_depth)"


# The setting -----------------------------------------------------------------------------------
def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().max_nesting_depth == DEFAULT_MAX_DEPTH == 64
    monkeypatch.setenv("EXCHANGE_MAX_NESTING_DEPTH", "8")
    assert Settings().max_nesting_depth == 8


@pytest.mark.parametrize("value", [-1, 0, 1, 255, 1000])
def test_the_setting_is_bounded(value: int) -> None:
    # At least 2 (an object holding a list); at most 254, the deepest object orjson writes
    # and so the deepest the hub can store.
    with pytest.raises(ValidationError, match="max_nesting_depth"):
        Settings(max_nesting_depth=value)


def test_the_upper_bound_is_what_the_hub_can_store() -> None:
    orjson.dumps(nested(254))
    with pytest.raises(orjson.JSONEncodeError):
        orjson.dumps(nested(255))


# The shared corpus -----------------------------------------------------------------------------
def corpus_objects() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every STIX object of the valid parts of the shared corpus, with its file."""
    for area in ("attack", "examples", "indicators", "reference"):
        for path in sorted((STIX_DATA / area).rglob("*.json*")):
            raw = path.read_bytes()
            if path.suffix == ".gz":
                raw = gzip.decompress(raw)
            try:
                document = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue  # a few example files are fragments, not JSON documents
            yield from _objects_in(str(path.relative_to(STIX_DATA)), document)


def _objects_in(where: str, document: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(document, list):
        for item in document:
            yield from _objects_in(where, item)
    elif isinstance(document, dict):
        if isinstance(document.get("objects"), list):
            yield from _objects_in(where, document["objects"])
        elif isinstance(document.get("type"), str) and "id" in document:
            yield where, document


def test_the_default_admits_every_object_of_the_shared_corpus_with_a_wide_margin() -> None:
    if not Path(STIX_DATA).is_dir():
        pytest.skip(f"no shared STIX corpus at {STIX_DATA}")
    deepest = 0
    count = 0
    for where, obj in corpus_objects():
        count += 1
        depth = json_depth(orjson.dumps(obj))
        if depth > deepest:
            deepest, found = depth, f"{obj.get('id')} in {where}"
    assert count > 10_000, count  # the corpus is there and was read
    # The deepest (7 levels) is a marking definition with an access-control extension; the
    # default allows eight times that.
    assert 5 <= deepest <= DEFAULT_MAX_DEPTH // 8, found
