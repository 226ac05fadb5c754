"""verify_request: round trips with real keys, one refusal per reason code, kept evidence."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests

from exchange.signing.client import SigningAuth
from exchange.signing.digest import content_digest
from exchange.signing.errors import SIGNATURE_REASONS, SignatureInvalid
from exchange.signing.keys import public_key_info
from exchange.signing.verify import (
    REQUEST_COMPONENTS,
    parse_signature,
    verify_evidence,
)
from tests.unit.signing.support import (
    BODY,
    NOW,
    SKEW,
    TAXII,
    URL,
    Keyring,
    Partner,
    edit_field,
    make_partner,
    refusal,
    signed_request,
    verify,
)

GET_COMPONENTS = ("@method", "@target-uri", "content-digest")


# Round trips ---------------------------------------------------------------------------------
def test_a_signed_write_verifies(partner: Partner, keyring: Keyring) -> None:
    prepared = signed_request(partner)
    verified = verify(prepared, keyring)
    assert verified.key_id == partner.key_id
    assert verified.algorithm == partner.info.algorithm
    assert verified.label == "sig1"
    assert verified.created == NOW
    assert verified.expires is None
    assert verified.covered_components == REQUEST_COMPONENTS
    assert verified.nonce
    assert f'nonce="{verified.nonce}"' in prepared.headers["Signature-Input"]
    assert keyring.asked == [partner.key_id]
    assert verify_evidence(verified.signature_base, verified.signature, partner.info)


def test_the_signature_base_is_the_rfc_9421_one(partner: Partner, keyring: Keyring) -> None:
    prepared = signed_request(partner)
    verified = verify(prepared, keyring)
    created = int(NOW.timestamp())
    params = (
        f'("@method" "@target-uri" "content-digest" "content-type");created={created}'
        f';keyid="{partner.key_id}";alg="{partner.info.algorithm}";nonce="{verified.nonce}"'
    )
    assert verified.signature_params == params
    assert verified.signature_base.decode() == "\n".join(
        [
            '"@method": POST',
            f'"@target-uri": {URL}',
            f'"content-digest": {content_digest(BODY)}',
            f'"content-type": {TAXII}',
            f'"@signature-params": {params}',
        ]
    )
    assert prepared.headers["Signature-Input"] == f"sig1={params}"


def test_a_signed_read_verifies_with_the_digest_of_nothing(
    partner: Partner, keyring: Keyring
) -> None:
    prepared = signed_request(partner, method="GET", body=None, content_type=None)
    assert prepared.headers["Content-Digest"] == content_digest(b"")
    verified = verify(prepared, keyring, required_components=GET_COMPONENTS)
    assert verified.covered_components == GET_COMPONENTS


def test_query_strings_are_covered(partner: Partner, keyring: Keyring) -> None:
    url = URL + "?match%5Btype%5D=indicator&limit=10"
    prepared = signed_request(partner, method="GET", url=url, body=None, content_type=None)
    verify(prepared, keyring, required_components=GET_COMPONENTS)
    prepared.url = URL + "?match%5Btype%5D=malware&limit=10"
    assert refusal(
        lambda: verify(prepared, keyring, required_components=GET_COMPONENTS)
    ).reason == ("bad_signature")


def test_headers_are_matched_whatever_their_case(partner: Partner, keyring: Keyring) -> None:
    prepared = signed_request(partner)
    lowered = requests.PreparedRequest()
    lowered.prepare(method="POST", url=URL, data=BODY)
    lowered.headers = requests.structures.CaseInsensitiveDict(
        {name.upper(): value for name, value in prepared.headers.items()}
    )
    assert verify(lowered, keyring).key_id == partner.key_id


def test_expires_in_the_future_is_accepted(partner: Partner, keyring: Keyring) -> None:
    prepared = signed_request(partner, expires_in=timedelta(minutes=2))
    verified = verify(prepared, keyring, now=NOW + timedelta(minutes=1))
    assert verified.expires == NOW + timedelta(minutes=2)


def test_a_named_signature_is_chosen_among_several(keyring: Keyring) -> None:
    alice, bob = make_partner("ed25519"), make_partner("ecdsa-p256-sha256")
    keyring.add(alice.info).add(bob.info)
    first = signed_request(alice, label="alice")
    second = signed_request(bob, label="bob")
    for name in ("Signature-Input", "Signature"):
        first.headers[name] = f"{first.headers[name]}, {second.headers[name]}"
    assert refusal(lambda: verify(first, keyring)).reason == "malformed_signature"
    assert verify(first, keyring, label="bob").key_id == bob.key_id
    assert verify(first, keyring, label="alice").key_id == alice.key_id
    assert refusal(lambda: verify(first, keyring, label="carol")).reason == "missing_signature"


def test_signature_fields_split_over_several_lines_are_combined(
    partner: Partner, keyring: Keyring
) -> None:
    prepared = signed_request(partner)
    lines = [(name, value) for name, value in prepared.headers.items() if name != "Accept"]
    lines.append(("accept", "application/json"))
    lines.append(("Accept", TAXII))
    parsed = parse_signature(lines)
    assert parsed.key_id == partner.key_id


# One refusal per reason code -----------------------------------------------------------------
def test_no_signature_is_missing_signature(keyring: Keyring) -> None:
    prepared = requests.Request("POST", URL, data=BODY, headers={"Content-Type": TAXII}).prepare()
    prepared.headers["Content-Digest"] = content_digest(BODY)
    error = refusal(lambda: verify(prepared, keyring))
    assert error.reason == "missing_signature"
    assert error.diagnostics().startswith("Signature invalid (missing_signature)")


@pytest.mark.parametrize(
    ("signature_input", "signature"),
    [
        ("sig1=(@method)", None),  # a token where a string belongs: not a dictionary
        ('sig1="@method"', None),  # an item, not an inner list
        (None, 'sig1="not bytes"'),
        (None, "sig1=::"),
        (None, "other=:AAAA:"),  # the labels differ
        ('sig1=("@method" "@method");created=1', None),
        ('sig1=("@method" "@signature-params");created=1', None),
        ('sig1=("@METHOD");created=1', None),
        ('sig1=("@method");created="yesterday"', None),
        ('sig1=("@method");created=1;keyid=7', None),
        ('sig1=("@method");created=1;colour="blue"', None),
        ('sig1=("@method");created=1;nonce="\u00e9"', None),
    ],
)
def test_malformed_fields_are_malformed_signature(
    partner: Partner, keyring: Keyring, signature_input: str | None, signature: str | None
) -> None:
    prepared = signed_request(partner)
    if signature_input is not None:
        prepared.headers["Signature-Input"] = signature_input
    if signature is not None:
        prepared.headers["Signature"] = signature
    assert refusal(lambda: verify(prepared, keyring)).reason == "malformed_signature"


def test_only_one_of_the_two_fields_is_malformed_signature(
    partner: Partner, keyring: Keyring
) -> None:
    prepared = signed_request(partner)
    del prepared.headers["Signature"]
    assert refusal(lambda: verify(prepared, keyring)).reason == "malformed_signature"


class _SkipsContentType(SigningAuth):
    def get_covered_component_ids(self, request: requests.PreparedRequest) -> list[str]:
        return ["@method", "@target-uri", "content-digest"]


def test_content_type_not_covered_is_missing_component(partner: Partner, keyring: Keyring) -> None:
    auth = _SkipsContentType(partner.key, partner.key_id, clock=lambda: NOW)
    prepared = signed_request(partner, auth=auth)
    error = refusal(lambda: verify(prepared, keyring))
    assert error.reason == "missing_component"
    assert "content-type" in error.detail
    # The same request is fine for a verifier that does not insist on the media type.
    verify(prepared, keyring, required_components=GET_COMPONENTS)


def test_a_body_without_a_signed_digest_is_missing_component(
    partner: Partner, keyring: Keyring
) -> None:
    # A signature over an empty GET, replayed with a body (and a correct digest) added.
    prepared = signed_request(partner, method="GET", body=None, content_type=None)
    covered = re.sub(
        r'\("@method" "@target-uri" "content-digest"\)',
        '("@method" "@target-uri")',
        prepared.headers["Signature-Input"],
    )
    prepared.headers["Signature-Input"] = covered
    prepared.headers["Content-Digest"] = content_digest(BODY)
    error = refusal(lambda: verify(prepared, keyring, body=BODY, required_components=()))
    assert error.reason == "missing_component"


def test_a_tampered_body_is_digest_mismatch(partner: Partner, keyring: Keyring) -> None:
    prepared = signed_request(partner)
    tampered = BODY.replace(b'"x"', b'"y"')
    assert refusal(lambda: verify(prepared, keyring, body=tampered)).reason == "digest_mismatch"


@pytest.mark.parametrize(
    "digest",
    [
        "sha-256=AAAA",  # not a byte sequence
        "md5=:1B2M2Y8AsgTpgAmY7PhCfg==:",  # only an algorithm the hub does not compute
        "sha-256=:AAAA:",  # wrong length
    ],
)
def test_unusable_digests_are_digest_mismatch(
    partner: Partner, keyring: Keyring, digest: str
) -> None:
    prepared = signed_request(partner)
    prepared.headers["Content-Digest"] = digest
    assert refusal(lambda: verify(prepared, keyring)).reason == "digest_mismatch"


def test_a_body_with_no_digest_field_is_digest_mismatch(partner: Partner, keyring: Keyring) -> None:
    prepared = signed_request(partner)
    del prepared.headers["Content-Digest"]
    assert refusal(lambda: verify(prepared, keyring)).reason == "digest_mismatch"


def test_an_old_signature_is_stale(partner: Partner, keyring: Keyring) -> None:
    prepared = signed_request(partner, at=NOW - SKEW - timedelta(seconds=1))
    error = refusal(lambda: verify(prepared, keyring))
    assert error.reason == "stale"
    assert keyring.asked == []  # refused before any key was looked up
    # Just inside the window it is fine.
    verify(signed_request(partner, at=NOW - SKEW), keyring)


def test_a_signature_from_the_future_is_stale(partner: Partner, keyring: Keyring) -> None:
    prepared = signed_request(partner, at=NOW + SKEW + timedelta(seconds=1))
    error = refusal(lambda: verify(prepared, keyring))
    assert error.reason == "stale"
    assert "future" in error.detail
    verify(signed_request(partner, at=NOW + SKEW), keyring)


def test_no_created_is_stale(partner: Partner, keyring: Keyring) -> None:
    prepared = edit_field(
        signed_request(partner), "Signature-Input", lambda v: re.sub(r";created=\d+", "", v)
    )
    assert refusal(lambda: verify(prepared, keyring)).reason == "stale"


def test_a_passed_expiry_is_expired(partner: Partner, keyring: Keyring) -> None:
    prepared = signed_request(partner, expires_in=timedelta(seconds=30))
    error = refusal(lambda: verify(prepared, keyring, now=NOW + timedelta(seconds=31)))
    assert error.reason == "expired"


def test_no_nonce_is_missing_nonce(partner: Partner, keyring: Keyring) -> None:
    prepared = edit_field(
        signed_request(partner), "Signature-Input", lambda v: re.sub(r';nonce="[^"]*"', "", v)
    )
    assert refusal(lambda: verify(prepared, keyring)).reason == "missing_nonce"


def test_an_unregistered_key_is_unknown_key(partner: Partner) -> None:
    stranger = Keyring().add(make_partner("ed25519").info)
    error = refusal(lambda: verify(signed_request(partner), stranger))
    assert error.reason == "unknown_key"
    assert stranger.asked == [partner.key_id]


def test_no_keyid_is_unknown_key(partner: Partner, keyring: Keyring) -> None:
    prepared = edit_field(
        signed_request(partner), "Signature-Input", lambda v: re.sub(r';keyid="[^"]*"', "", v)
    )
    assert refusal(lambda: verify(prepared, keyring)).reason == "unknown_key"


@pytest.mark.parametrize(
    ("actual", "claimed"),
    [("ed25519", "ecdsa-p256-sha256"), ("ecdsa-p256-sha256", "ed25519")],
)
def test_a_claimed_algorithm_that_is_not_the_keys_is_algorithm_mismatch(
    actual: str, claimed: str
) -> None:
    partner = make_partner("ed25519" if actual == "ed25519" else "ecdsa-p256-sha256")
    keyring = Keyring().add(partner.info)
    prepared = edit_field(
        signed_request(partner),
        "Signature-Input",
        lambda v: v.replace(f'alg="{actual}"', f'alg="{claimed}"'),
    )
    assert refusal(lambda: verify(prepared, keyring)).reason == "algorithm_mismatch"


def test_a_signature_without_alg_uses_the_keys_algorithm(
    partner: Partner, keyring: Keyring
) -> None:
    auth = SigningAuth(partner.key, partner.key_id, clock=lambda: NOW)
    auth.include_alg = False
    prepared = signed_request(partner, auth=auth)
    assert "alg=" not in prepared.headers["Signature-Input"]
    assert verify(prepared, keyring).algorithm == partner.info.algorithm


def test_a_tampered_url_is_bad_signature(partner: Partner, keyring: Keyring) -> None:
    prepared = signed_request(partner)
    prepared.url = URL.replace("91a7b528", "00000000")
    assert refusal(lambda: verify(prepared, keyring)).reason == "bad_signature"


def test_a_tampered_method_is_bad_signature(partner: Partner, keyring: Keyring) -> None:
    prepared = signed_request(partner)
    prepared.method = "PUT"
    assert refusal(lambda: verify(prepared, keyring)).reason == "bad_signature"


def test_a_tampered_media_type_is_bad_signature(partner: Partner, keyring: Keyring) -> None:
    prepared = edit_field(signed_request(partner), "Content-Type", lambda _: "application/json")
    assert refusal(lambda: verify(prepared, keyring)).reason == "bad_signature"


def test_a_body_and_digest_both_replaced_is_bad_signature(
    partner: Partner, keyring: Keyring
) -> None:
    prepared = signed_request(partner)
    other = b'{"objects": []}'
    prepared.headers["Content-Digest"] = content_digest(other)
    assert refusal(lambda: verify(prepared, keyring, body=other)).reason == "bad_signature"


def test_a_signature_by_another_key_is_bad_signature(partner: Partner) -> None:
    impostor = make_partner(partner.info.algorithm)
    # The impostor signs under the partner's key id; the hub holds the partner's key.
    auth = SigningAuth(impostor.key, partner.key_id, clock=lambda: NOW)
    prepared = signed_request(impostor, auth=auth)
    keyring = Keyring().add(partner.info)
    assert refusal(lambda: verify(prepared, keyring)).reason == "bad_signature"


def test_flipped_signature_bytes_are_bad_signature(partner: Partner, keyring: Keyring) -> None:
    prepared = signed_request(partner)
    parsed = parse_signature(prepared.headers)
    flipped = bytes([parsed.signature[0] ^ 1]) + parsed.signature[1:]
    from http_sf import ser

    prepared.headers["Signature"] = ser({"sig1": flipped})
    assert refusal(lambda: verify(prepared, keyring)).reason == "bad_signature"


def test_a_header_the_signature_covers_but_the_message_lacks_is_bad_signature(
    partner: Partner, keyring: Keyring
) -> None:
    prepared = signed_request(partner)
    del prepared.headers["Content-Type"]
    error = refusal(lambda: verify(prepared, keyring, required_components=GET_COMPONENTS))
    assert error.reason == "bad_signature"


def test_reason_codes_are_checked() -> None:
    assert len(SIGNATURE_REASONS) == 10
    with pytest.raises(ValueError, match="unknown signature reason"):
        SignatureInvalid("nope", "x")  # type: ignore[arg-type]


def test_naive_now_is_a_programming_error(partner: Partner, keyring: Keyring) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(signed_request(partner), keyring, now=NOW.replace(tzinfo=None))


def test_a_required_component_must_be_an_identifier(partner: Partner, keyring: Keyring) -> None:
    with pytest.raises(ValueError, match="not a component identifier"):
        verify(signed_request(partner), keyring, required_components=['"unterminated'])


def test_parameterised_components_are_compared_by_identity(
    partner: Partner, keyring: Keyring
) -> None:
    parsed = parse_signature(signed_request(partner).headers)
    assert parsed.covers("@method")
    assert parsed.covers('"content-type"')
    assert not parsed.covers('"content-digest";sf')


# Evidence ------------------------------------------------------------------------------------
def test_evidence_verifies_after_the_key_is_rotated_out(partner: Partner) -> None:
    keyring = Keyring().add(partner.info)
    prepared = signed_request(partner)
    verified = verify(prepared, keyring)
    keyring.keys.clear()  # the partner rotated its key; the hub no longer resolves it
    assert refusal(lambda: verify(prepared, keyring)).reason == "unknown_key"
    assert verify_evidence(verified.signature_base, verified.signature, partner.info)
    assert verify_evidence(verified.signature_base, verified.signature, partner.info.public_key)
    successor = make_partner(partner.info.algorithm)
    assert not verify_evidence(verified.signature_base, verified.signature, successor.info)
    tampered = verified.signature_base.replace(b"POST", b"PUT")
    assert not verify_evidence(tampered, verified.signature, partner.info)
    assert not verify_evidence(verified.signature_base, b"short", partner.info)


def test_evidence_holds_no_credential(partner: Partner, keyring: Keyring) -> None:
    prepared = signed_request(partner, user="alice", token="s3cret-token")
    assert prepared.headers["Authorization"].startswith("Basic ")
    verified = verify(prepared, keyring)
    assert b"s3cret" not in verified.signature_base
    assert b"authorization" not in verified.signature_base.lower()


def test_public_key_info_from_a_bare_key_is_named_by_thumbprint(partner: Partner) -> None:
    info = public_key_info(partner.info.public_key)
    assert info.key_id == partner.info.thumbprint()
