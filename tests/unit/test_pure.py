"""Unit tests of the pure modules: timestamps, object checks, envelopes, cursors, media types,
filters, tokens and the access table."""

from __future__ import annotations

import uuid

import orjson
import pytest

from exchange.accounts.tokens import TokenVerifier, hash_token, issue_token, parse_token
from exchange.errors import InvalidEnvelope, InvalidRequest, PayloadTooLarge
from exchange.sharing.access import access_to
from exchange.sharing.cursors import CursorSealer
from exchange.stix.envelope import parse_envelope
from exchange.stix.objects import SINGLE_VERSION, ObjectVersion, Refusal, check_object
from exchange.stix.timestamps import format_date_added, format_version, parse_timestamp
from exchange.store.models import (
    Account,
    Collection,
    CollectionKind,
    Grant,
    ObjectQuery,
    Position,
    Role,
)
from exchange.taxii.filters import parse_read_params
from exchange.taxii.media import accepts_taxii, is_taxii_body

ALL = frozenset({"id", "type", "version", "spec_version"})


# Timestamps ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:01.5Z", 1_500_000),
        ("2016-11-01T03:04:05.000000Z", 1477969445000000),
        ("2016-11-01T03:04:05.1234567Z", 1477969445123456),
    ],
)
def test_timestamps_parse(text: str, micros: int) -> None:
    assert parse_timestamp(text) == micros


@pytest.mark.parametrize(
    "text",
    ["2016-11-01", "2016-13-01T00:00:00Z", "2016-11-01T03:04:05+01:00", "yesterday", 5, None],
)
def test_non_timestamps_are_refused(text: object) -> None:
    assert parse_timestamp(text) is None


def test_timestamps_format_back() -> None:
    assert format_date_added(1477969445000000) == "2016-11-01T03:04:05.000000Z"
    assert format_version(1477969445000000) == "2016-11-01T03:04:05.000Z"
    assert format_version(1477969445000001) == "2016-11-01T03:04:05.000001Z"


# Objects and envelopes ----------------------------------------------------------------------
def _sdo(**changes: object) -> dict[str, object]:
    obj: dict[str, object] = {
        "type": "malware",
        "spec_version": "2.1",
        "id": f"malware--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-02-01T00:00:00.000Z",
        "name": "x",
        "is_family": False,
    }
    obj.update(changes)
    return {k: v for k, v in obj.items() if v is not None}


def test_a_good_object_is_versioned_by_modified() -> None:
    checked = check_object(_sdo())
    assert isinstance(checked, ObjectVersion)
    assert checked.version_text == "2024-02-01T00:00:00.000Z"
    assert orjson.loads(checked.body)["name"] == "x"


def test_key_order_does_not_change_the_digest() -> None:
    obj = _sdo()
    reordered = dict(reversed(list(obj.items())))
    a, b = check_object(obj), check_object(reordered)
    assert isinstance(a, ObjectVersion)
    assert isinstance(b, ObjectVersion)
    assert a.digest == b.digest


def test_an_sco_without_timestamps_has_one_version() -> None:
    checked = check_object(
        {"type": "ipv4-addr", "id": f"ipv4-addr--{uuid.uuid4()}", "value": "1.2.3.4"}
    )
    assert isinstance(checked, ObjectVersion)
    assert checked.version == SINGLE_VERSION
    assert checked.spec_version == "2.1"


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        (5, "not a STIX object"),
        ({"id": "x"}, "'type'"),
        (_sdo(type=None), "'type'"),
        (_sdo(id=None), "'id'"),
        (_sdo(type="Malware"), "invalid type"),
        (_sdo(id="indicator--" + str(uuid.uuid4())), "invalid id"),
        (_sdo(id="malware--not-a-uuid"), "invalid id"),
        (_sdo(id=f"malware--{str(uuid.uuid4()).upper()}"), "invalid id"),
        (_sdo(spec_version="2.0"), "unsupported spec_version"),
        (_sdo(spec_version=None), "spec_version"),
        (_sdo(created="last week"), "'created'"),
        (_sdo(modified="2024-02-31T00:00:00Z"), "'modified'"),
        (_sdo(modified="2023-01-01T00:00:00.000Z"), "earlier than"),
    ],
)
def test_malformed_objects_are_refused_with_a_reason(obj: object, reason: str) -> None:
    refused = check_object(obj)
    assert isinstance(refused, Refusal)
    assert reason in refused.reason


def test_envelopes_and_bundles_are_read_member_by_member() -> None:
    good = _sdo()
    results = parse_envelope(orjson.dumps({"objects": [good, {"foo": 1}]}), max_objects=10)
    assert isinstance(results[0], ObjectVersion)
    assert isinstance(results[1], Refusal)
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [good]}
    assert len(parse_envelope(orjson.dumps(bundle), max_objects=10)) == 1


@pytest.mark.parametrize("body", [b"{", b"[]", b'"x"', b"{}", b'{"objects": {}}', b"\xff\xfe"])
def test_bodies_that_are_not_envelopes_are_refused(body: bytes) -> None:
    with pytest.raises(InvalidEnvelope):
        parse_envelope(body, max_objects=10)


def test_too_many_objects_is_too_large() -> None:
    with pytest.raises(PayloadTooLarge):
        parse_envelope(orjson.dumps({"objects": [{}] * 11}), max_objects=10)


# Cursors ------------------------------------------------------------------------------------
def test_cursors_round_trip_and_refuse_tampering() -> None:
    sealer = CursorSealer(b"k" * 32)
    query = ObjectQuery(types=frozenset({"indicator"}))
    position = Position(1_700_000_000_000_000, 42)
    cursor = sealer.seal(position, "c1", query, "objects")
    assert sealer.open(cursor, "c1", query, "objects") == position
    flipped = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    for bad, collection, q, scope in [
        (flipped, "c1", query, "objects"),
        (cursor, "c2", query, "objects"),
        (cursor, "c1", ObjectQuery(), "objects"),
        (cursor, "c1", query, "manifest"),
        ("garbage!", "c1", query, "objects"),
        ("A" * 500, "c1", query, "objects"),
    ]:
        with pytest.raises(InvalidRequest):
            sealer.open(bad, collection, q, scope)
    with pytest.raises(InvalidRequest):
        CursorSealer(b"j" * 32).open(cursor, "c1", query, "objects")


# Media types --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("accept", "ok"),
    [
        (None, True),
        ("application/taxii+json;version=2.1", True),
        ("application/taxii+json", True),
        ("application/taxii+json; version=2.1", True),
        ("*/*", True),
        ("text/html, application/*;q=0.8", True),
        ("application/taxii+json;version=2.0", False),
        ("application/xml", False),
        ("application/taxii+json;q=0", False),
    ],
)
def test_accept_negotiation(accept: str | None, ok: bool) -> None:
    assert accepts_taxii(accept) is ok


@pytest.mark.parametrize(
    ("content_type", "ok"),
    [
        ("application/taxii+json;version=2.1", True),
        ("application/taxii+json", True),
        ("application/stix+json;version=2.1", True),
        ("application/taxii+json;version=2.0", False),
        ("application/json", False),
        ("text/plain", False),
        (None, False),
    ],
)
def test_request_media_types(content_type: str | None, ok: bool) -> None:
    assert is_taxii_body(content_type) is ok


# Filters ------------------------------------------------------------------------------------
def test_filters_are_read() -> None:
    params = parse_read_params(
        [
            ("added_after", "2024-01-01T00:00:00Z"),
            ("match[type]", "indicator,malware"),
            ("match[type]", "report"),
            ("match[version]", "first,2024-01-01T00:00:00.000Z"),
            ("limit", "10"),
            ("next", "abc"),
        ],
        allowed=ALL,
    )
    assert params.query.types == {"indicator", "malware", "report"}
    assert params.query.versions.first
    assert not params.query.versions.last
    assert params.query.versions.exact == {parse_timestamp("2024-01-01T00:00:00Z")}
    assert params.query.added_after == parse_timestamp("2024-01-01T00:00:00Z")
    assert (params.limit, params.next) == (10, "abc")
    assert parse_read_params([], allowed=ALL).query.versions.last


@pytest.mark.parametrize(
    "pairs",
    [
        [("added_after", "yesterday")],
        [("limit", "0")],
        [("limit", "-1")],
        [("limit", "abc")],
        [("limit", "99999999999")],
        [("match[version]", "newest")],
        [("match[foo]", "x")],
        [("colour", "red")],
        [("match[type]", "a,,b")],
        [("next", "a"), ("next", "b")],
    ],
)
def test_bad_filters_are_refused(pairs: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidRequest):
        parse_read_params(pairs, allowed=ALL)


def test_filters_an_endpoint_does_not_take_are_refused() -> None:
    with pytest.raises(InvalidRequest):
        parse_read_params([("match[type]", "x")], allowed=frozenset({"version"}))


# Tokens -------------------------------------------------------------------------------------
def test_tokens_verify_only_against_their_own_hash() -> None:
    issued = issue_token()
    assert parse_token(issued.token) == issued.credential_id
    assert issued.token not in issued.token_hash
    verifier = TokenVerifier()
    assert verifier.verify(issued.token, issued.token_hash)
    assert verifier.verify(issued.token, issued.token_hash), "remembered"
    other = issue_token()
    assert not verifier.verify(other.token, issued.token_hash)
    # a new hash (rotated credential) is not satisfied by the remembered success
    assert not verifier.verify(issued.token, hash_token("something else"))
    assert not verifier.verify(issued.token, "not-a-hash")
    assert parse_token("exh_short") is None


# Access -------------------------------------------------------------------------------------
def _account(role: Role, *, country: str | None = None, active: bool = True) -> Account:
    return Account(str(uuid.uuid4()), "u", role, "u", country, "c" * 16, "h", active, "t")


def _collection(
    kind: CollectionKind, owner: str | None = None, country: str | None = None
) -> Collection:
    return Collection(1, str(uuid.uuid4()), kind, "t", "", owner, country, "t")


def test_access_rules() -> None:
    partner = _account(Role.PARTNER)
    analyst = _account(Role.ANALYST, country="FR")
    admin = _account(Role.ADMIN)
    inbox = _collection(CollectionKind.INBOX, owner=partner.id)
    france = _collection(CollectionKind.COUNTRY, country="FR")
    germany = _collection(CollectionKind.COUNTRY, country="DE")
    shared = _collection(CollectionKind.SHARED)
    grant = Grant(shared.id, analyst.id, can_read=True, can_write=False)

    def rw(
        account: Account, collection: Collection, grants: list[Grant] | None = None
    ) -> tuple[bool, bool]:
        access = access_to(account, collection, grants or [])
        return access.can_read, access.can_write

    assert rw(partner, inbox) == (True, True)
    assert rw(_account(Role.PARTNER), inbox) == (False, False)
    assert rw(admin, inbox) == (False, False)
    assert rw(analyst, france) == (True, False)
    assert rw(analyst, germany) == (False, False)
    assert rw(partner, france) == (False, False)
    assert rw(analyst, shared) == (False, False)
    assert rw(analyst, shared, [grant]) == (True, False)
    assert rw(partner, shared, [grant]) == (False, False)
    assert rw(admin, shared) == (True, True)
    assert rw(_account(Role.ANALYST, country="FR", active=False), france) == (False, False)
