"""Audit events: validation, canonical bytes, leaves."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from exchange.audit.errors import AuditError
from exchange.audit.events import KNOWN_KINDS, AuditEvent

AT = "2025-03-01T12:00:00.123456Z"


def _event(**overrides: Any) -> AuditEvent:
    fields: dict[str, Any] = {
        "seq": 7,
        "at": AT,
        "kind": "decision",
        "actor": "hub",
        "subject": "indicator--1",
        "data": {"verdict": "shared", "to": ["FR", "DE"], "score": 0.5},
    }
    fields.update(overrides)
    return AuditEvent(**fields)


def test_canonical_bytes_are_rfc8785_of_the_six_fields() -> None:
    assert _event().canonical_bytes() == (
        b'{"actor":"hub","at":"2025-03-01T12:00:00.123456Z",'
        b'"data":{"score":0.5,"to":["FR","DE"],"verdict":"shared"},'
        b'"kind":"decision","seq":7,"subject":"indicator--1"}'
    )


def test_the_leaf_is_the_rfc9162_leaf_hash_of_the_canonical_bytes() -> None:
    event = _event()
    assert event.leaf() == hashlib.sha256(b"\x00" + event.canonical_bytes()).digest()


def test_data_is_frozen_at_construction() -> None:
    data: dict[str, Any] = {"to": ["FR"]}
    event = _event(data=data)
    before = event.leaf()
    data["to"].append("DE")
    data["extra"] = 1
    assert event.leaf() == before
    with pytest.raises(TypeError):
        event.data["to"] = []  # type: ignore[index]


def test_equality_and_hash_follow_the_canonical_bytes() -> None:
    assert _event() == _event(data={"to": ["FR", "DE"], "score": 0.5, "verdict": "shared"})
    assert _event(data={"n": 1}) == _event(data={"n": 1.0})
    assert _event(data={"n": 1}) != _event(data={"n": True})
    assert len({_event(), _event()}) == 1


def test_from_canonical_round_trips_and_refuses_other_spellings() -> None:
    event = _event()
    assert AuditEvent.from_canonical(event.canonical_bytes()) == event
    spaced = event.canonical_bytes().replace(b",", b", ")
    with pytest.raises(AuditError):
        AuditEvent.from_canonical(spaced)
    with pytest.raises(AuditError):
        AuditEvent.from_canonical(b"not json")
    with pytest.raises(AuditError):
        AuditEvent.from_canonical(b'{"seq":0}')


@pytest.mark.parametrize("kind", sorted(KNOWN_KINDS))
def test_every_known_kind_is_accepted(kind: str) -> None:
    assert _event(kind=kind).kind == kind


@pytest.mark.parametrize(
    "overrides",
    [
        {"seq": -1},
        {"seq": True},
        {"seq": 2**53},
        {"at": "2025-03-01 12:00:00"},
        {"at": "2025-03-01T12:00:00+01:00"},
        {"at": "2025-02-30T12:00:00Z"},
        {"kind": "Decision"},
        {"kind": ""},
        {"actor": ""},
        {"subject": 5},
        {"data": ["not", "an", "object"]},
        {"data": {"big": 2**60}},
        {"data": {"nan": float("nan")}},
        {"data": {"raw": b"bytes"}},
    ],
    ids=lambda o: next(iter(o)) + "=" + repr(next(iter(o.values())))[:20],
)
def test_invalid_fields_raise(overrides: dict[str, Any]) -> None:
    with pytest.raises(AuditError):
        _event(**overrides)
