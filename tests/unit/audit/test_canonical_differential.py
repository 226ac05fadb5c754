"""The fast canonical JSON path against the reference encoder (the rfc8785 package): the same
bytes for every value it takes, and the reference for every value it leaves alone."""

from __future__ import annotations

import sys
from types import MappingProxyType
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.audit.canonical import (
    MAX_SAFE_INTEGER,
    canonical_json,
    freeze_json,
    orjson_writes_canonically,
    thaw_json,
)
from exchange.audit.errors import AuditError

_text = st.text(st.characters(codec="utf-8"), max_size=20)  # any code point but surrogates
_keys = st.one_of(
    st.text(st.characters(max_codepoint=127), max_size=8),
    st.text(max_size=6),  # non-ASCII names: the reference path
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
    _text,
    st.floats(allow_nan=False, allow_infinity=False),  # the reference path
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(_keys, inner, max_size=5)),
    max_leaves=40,
)


@settings(max_examples=2000, deadline=None)
@given(_values)
def test_the_same_bytes_as_the_reference(value: Any) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)
    assert canonical_json(freeze_json(value)) == rfc8785.dumps(thaw_json(freeze_json(value)))


def test_every_code_point_is_escaped_alike() -> None:
    text = "".join(chr(cp) for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF)
    value = {"s": text}
    assert orjson_writes_canonically(value)
    assert canonical_json(value) == rfc8785.dumps(value)


def test_a_submission_decision_event_takes_the_fast_path() -> None:
    decisions = [
        {"id": f"indicator--{n:08d}", "version": 1_700_000_000_000_000 + n, "outcome": "accepted"}
        for n in range(1000)
    ]
    data = MappingProxyType(
        {"status": "s", "objects": tuple(MappingProxyType(d) for d in decisions)}
    )
    assert orjson_writes_canonically(data)
    assert canonical_json(data) == rfc8785.dumps(thaw_json(data))


def test_what_the_fast_path_leaves_to_the_reference() -> None:
    assert not orjson_writes_canonically({"x": 1.5})
    assert not orjson_writes_canonically({"é": 1})
    assert not orjson_writes_canonically({"n": MAX_SAFE_INTEGER + 1})
    assert not orjson_writes_canonically({"x": object()})
    assert canonical_json({"x": 1e21, "é": 1}) == rfc8785.dumps({"x": 1e21, "é": 1})


def test_a_lone_surrogate_is_refused_as_before() -> None:
    with pytest.raises(AuditError):
        canonical_json({"s": "\ud800"})
