"""The shared corpus of known-invalid STIX, over the hub's HTTP API: every case gets an answer
that says what was wrong, never a 500.

- ``invalid/validator-v21/``: each case posted to a partner inbox whose agreement accepts
  everything. Class A (a MUST the reference validator enforces by default) is refused object by
  object with a reason in the status resource, or, when the file is not JSON, with a 400 TAXII
  error; classes B and C (SHOULDs, special options) may be taken.
- ``invalid/patterns/``: each invalid pattern in an indicator is refused with a reason.
- ``invalid/wild/``: malformed JSON as published is a 400 TAXII error.
- The known traps of ``data/README.md``: the 57 KB, 1,019-OR pattern of Appendix G gets an
  answer quickly, and ``identity_class`` given as a list is refused with a reason.

(``tests/unit/test_validation_differential.py`` checks the same class-A cases in process, on
``check_object`` and ``validate_object``; this module checks what a partner gets over HTTP.)
"""

from __future__ import annotations

import gzip
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from tests.functional.conftest import World, assert_taxii_error, envelope, indicator, objects_url
from tests.support.paths import STIX_DATA

INVALID = STIX_DATA / "invalid"
CASES: list[dict[str, Any]] = json.loads((INVALID / "validator-v21-cases.json").read_text())
PATTERN_CASES: list[dict[str, Any]] = json.loads(
    (INVALID / "patterns" / "pattern-validator-v21-cases.json").read_text()
)["cases"]
WILD = sorted((INVALID / "wild").glob("*.json"))
APPENDIX_G = STIX_DATA / "examples" / "cti-stix-elevator-idioms-2.1" / "Appendix_G_IOCs_Full.json"
UNIT42_IDENTITY_LIST = STIX_DATA / "indicators" / "unit42-playbooks" / "IcedID_Unit42_Intel.json.gz"


def _class(case: dict[str, Any]) -> str:
    if not case["default_valid"]:
        return "A"
    return "B" if not case["strict_valid"] else "C"


def post_raw(world: World, body: bytes) -> Any:
    return world.client.post(
        objects_url(world.collections["own_inbox"]),
        content=body,
        headers=world.actors["partner_owner"].headers(),
    )


def status_or_error(response: Any) -> dict[str, Any] | None:
    """The status resource of a 202, or None after checking a 4xx is a TAXII error message."""
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code != 202:
        assert_taxii_error(response, response.status_code)
        return None
    status: dict[str, Any] = response.json()
    assert status["status"] == "complete"
    assert status["success_count"] + status["failure_count"] == status["total_count"]
    return status


def _body_of(data: Any) -> tuple[bytes, Any]:
    """The envelope to post for a case: a bundle's objects, or the case's object(s)."""
    if isinstance(data, dict) and data.get("type") == "bundle" and "objects" in data:
        return orjson.dumps({"objects": data["objects"]}), data["objects"]
    members = data if isinstance(data, list) else [data]
    return envelope(*members), members


def _refusals(status: dict[str, Any]) -> list[str]:
    messages = [failure["message"] for failure in status.get("failures", [])]
    assert all(isinstance(message, str) and message.strip() for message in messages), status
    # A conflict with a case posted earlier (cases reuse ids) is not the refusal looked for.
    return [message for message in messages if "different object" not in message]


# validator-v21 -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "case", CASES, ids=[f"{_class(case)}:{case['file'].split('/')[-1]}" for case in CASES]
)
def test_a_validator_case_gets_a_reasoned_answer(world: World, case: dict[str, Any]) -> None:
    raw = (INVALID / case["file"]).read_bytes()
    try:
        data = json.loads(raw)
    except ValueError:
        assert_taxii_error(post_raw(world, raw), 400)  # not JSON: refused before any STIX check
        return
    body, members = _body_of(data)
    status = status_or_error(post_raw(world, body))
    if _class(case) != "A":
        return  # a SHOULD, or a check the reference runs only on request: may be taken
    if isinstance(data, dict) and data.get("type") == "bundle" and "id" not in data:
        # The defect is the bundle's own (no id): TAXII reads it as an envelope, whose members
        # are what the hub judges; the bundle itself, posted as an object, is refused.
        status = status_or_error(post_raw(world, envelope(data)))
        assert status is not None
        assert _refusals(status), status
        return
    assert status is not None, "a JSON case is judged object by object"
    assert status["total_count"] == len(members)
    assert _refusals(status), (case["file"], case["reason"][0][:200], status)


def test_the_corpus_has_the_expected_cases() -> None:
    classes = [_class(case) for case in CASES]
    assert (classes.count("A"), classes.count("B"), classes.count("C")) == (181, 131, 17)


# Patterns ------------------------------------------------------------------------------------
INVALID_PATTERNS = [case for case in PATTERN_CASES if case["list"].endswith("FAIL_CASES")]
VALID_PATTERNS = [case for case in PATTERN_CASES if case["list"].endswith("PASS_CASES")]


@pytest.mark.parametrize(
    "case", INVALID_PATTERNS, ids=[c["pattern"][:60] for c in INVALID_PATTERNS]
)
def test_an_invalid_pattern_is_refused_with_a_reason(world: World, case: dict[str, Any]) -> None:
    obj = indicator(pattern=case["pattern"])
    status = status_or_error(post_raw(world, envelope(obj)))
    assert status is not None
    assert status["failure_count"] == 1, (case, status)
    message = status["failures"][0]["message"]
    assert status["failures"][0]["id"] == obj["id"]
    assert "pattern" in message.lower(), message
    assert world.stored("own_inbox", obj["id"]) == []


@pytest.mark.parametrize("case", VALID_PATTERNS, ids=[c["pattern"][:60] for c in VALID_PATTERNS])
def test_a_tricky_valid_pattern_gets_an_answer(world: World, case: dict[str, Any]) -> None:
    obj = indicator(pattern=case["pattern"])
    status = status_or_error(post_raw(world, envelope(obj)))
    assert status is not None
    assert status["total_count"] == 1
    if status["failure_count"]:
        assert "pattern" in status["failures"][0]["message"].lower(), status


# Malformed JSON as published -----------------------------------------------------------------
@pytest.mark.parametrize("path", WILD, ids=[path.name for path in WILD])
def test_malformed_json_from_the_wild_is_a_400(world: World, path: Any) -> None:
    raw = path.read_bytes()
    with pytest.raises(json.JSONDecodeError, match=r"Expecting|Invalid"):
        json.loads(raw)
    body = assert_taxii_error(post_raw(world, raw), 400)
    assert "JSON" in body["description"], body


# Known traps ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def roomy(make_world: Callable[..., World]) -> World:
    return make_world(max_body_bytes=4 * 1024 * 1024, max_objects_per_envelope=2000)


def test_the_1019_or_pattern_gets_a_quick_answer(roomy: World) -> None:
    raw = APPENDIX_G.read_bytes()
    bundle = json.loads(raw)
    long_one = max(
        (obj for obj in bundle["objects"] if obj.get("type") == "indicator"),
        key=lambda obj: len(obj.get("pattern", "")),
    )
    assert len(long_one["pattern"]) > 50_000
    assert long_one["pattern"].count(" OR ") >= 1000

    for body in (raw, envelope(long_one)):
        started = time.perf_counter()
        response = post_raw(roomy, body)
        elapsed = time.perf_counter() - started
        status = status_or_error(response)
        assert status is not None, response.text[:500]
        assert elapsed < 10, f"{elapsed:.1f} s"
        outcomes = {entry["id"]: entry for entry in status.get("successes", [])}
        failures = {entry["id"]: entry for entry in status.get("failures", [])}
        assert long_one["id"] in outcomes or long_one["id"] in failures
        for failure in failures.values():
            assert "recursion" not in failure["message"].lower(), failure
    # Accepted, it is served as sent.
    if roomy.stored("own_inbox", long_one["id"]):
        assert roomy.stored("own_inbox", long_one["id"]) == [long_one]


def test_identity_class_as_a_list_is_refused_with_a_reason(roomy: World) -> None:
    with gzip.open(UNIT42_IDENTITY_LIST, "rt", encoding="utf-8") as handle:
        objects = json.load(handle)["objects"]
    listed = [
        obj
        for obj in objects
        if obj.get("type") == "identity" and isinstance(obj.get("identity_class"), list)
    ]
    assert listed
    # Also one of our own, so the case does not hang on one file.
    own = {
        "type": "identity",
        "spec_version": "2.1",
        "id": f"identity--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": "ACME",
        "identity_class": ["organization"],
    }
    for obj in (*listed, own):
        status = status_or_error(post_raw(roomy, envelope(obj)))
        assert status is not None
        assert status["failure_count"] == 1, status
        assert "identity_class" in status["failures"][0]["message"], status
        assert roomy.stored("own_inbox", obj["id"]) == []
