"""The at-rest codec of object bodies and status resources: every tag decodes forever, the
preset dictionary is frozen, and it pays on real STIX data, not only on generated objects."""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import zlib

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.store.codec import STIX_DICTIONARY, decode_body, encode_body
from exchange.store.sql_keys import _evidence_body
from tests.support.paths import STIX_DATA

ATTACK = STIX_DATA / "attack" / "enterprise-attack-18.1.json.gz"


def test_the_dictionary_of_tag_2_never_changes() -> None:
    # Rows stored with tag 2 decode only with these exact bytes: a new dictionary is a new tag.
    assert hashlib.sha256(STIX_DICTIONARY).hexdigest() == (
        "81a493cc76c680110bd4705c8b0f8c430d072361ce6509336ac8064e66c1ba4b"
    )


@given(st.binary(max_size=4096))
def test_any_bytes_come_back_unchanged(body: bytes) -> None:
    assert decode_body(encode_body(body)) == body


def test_small_bodies_are_kept_as_they_are() -> None:
    assert encode_body(b'{"a":1}') == b"\x00" + b'{"a":1}'


def test_rows_of_every_earlier_form_still_decode() -> None:
    body = json.dumps({"type": "indicator", "name": "x" * 300}).encode()
    assert decode_body(b"\x01" + zlib.compress(body, 6)) == body  # tag 1: plain zlib
    assert decode_body(b"\x00" + body) == body  # tag 0: as is
    assert decode_body(body) == body  # a status resource stored before it was encoded


def test_an_unknown_tag_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown body codec 9"):
        decode_body(b"\x09abc")


@pytest.mark.skipif(not ATTACK.is_file(), reason="the shared ATT&CK data is absent")
def test_real_stix_objects_are_smaller_than_with_plain_zlib() -> None:
    objects = json.loads(gzip.decompress(ATTACK.read_bytes()))["objects"]
    sample = random.Random(5).sample(objects, 2000)
    bodies = [orjson.dumps(obj, option=orjson.OPT_SORT_KEYS) for obj in sample]
    stored = [encode_body(body) for body in bodies]
    assert [decode_body(row) for row in stored] == bodies
    with_dictionary = sum(map(len, stored))
    plain = sum(1 + min(len(body), len(zlib.compress(body, 6))) for body in bodies)
    assert with_dictionary < 0.85 * plain


def test_evidence_of_both_forms_decodes() -> None:
    signed = json.dumps({"objects": [{"type": "indicator", "name": "n" * 500}]}).encode()
    assert _evidence_body(zlib.compress(signed)) == signed  # stored before the codec
    assert _evidence_body(encode_body(signed)) == signed
    assert _evidence_body(encode_body(b"{}")) == b"{}"
