"""Signed contributions, in process: under an agreement that requires signatures, a partner's
envelope is taken only with a valid RFC 9421 signature by one of its own keys, valid and not
revoked when it signed, fresh, never replayed. Every refusal is a TAXII 401 naming its reason
and stores nothing; an accepted one keeps the signed bytes as evidence that verifies later, even
after the key is revoked."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from exchange.cli.main import cli
from exchange.signing.client import SigningAuth
from exchange.signing.digest import content_digest
from exchange.signing.keys import (
    PrivateKey,
    generate_private_key,
    load_public_key,
    public_key_info,
)
from exchange.taxii.media import TAXII_21
from tests.functional.agreement_world import AgreementWorld, Partner, new_indicator, open_world
from tests.functional.conftest import assert_taxii_error, envelope, objects_url
from tests.support.onboarding import FIRST_ADMIN
from tests.support.paths import CONFIG_DIR


@pytest.fixture(scope="module")
def aw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgreementWorld]:
    yield from open_world(tmp_path_factory.mktemp("signed"))


class _NoContentType(SigningAuth):
    """Signs without covering content-type (the hub requires it)."""

    def get_covered_component_ids(self, request: requests.PreparedRequest) -> Sequence[str]:
        return ["@method", "@target-uri", "content-digest"]


_counter = iter(range(10_000))


def _signer(aw: AgreementWorld, **terms: Any) -> tuple[Partner, PrivateKey, str]:
    """A partner under terms requiring signatures, with one registered key."""
    partner = aw.partner(f"signer-{next(_counter)}", ("FR",), signatures_required=True, **terms)
    private = generate_private_key()
    key_id = _register(aw, partner, private)
    return partner, private, key_id


def _register(aw: AgreementWorld, partner: Partner, private: PrivateKey, **window: Any) -> str:
    added = aw.hub.add_partner_key(
        partner.username,
        public_key_info(private.public_key()).pem(),
        admin=FIRST_ADMIN,
        **window,
    )
    return str(added["key_id"])


def _signed(
    aw: AgreementWorld,
    partner: Partner,
    private: PrivateKey,
    key_id: str,
    body: bytes,
    *,
    at: datetime | None = None,
    auth_class: type[SigningAuth] = SigningAuth,
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a POST to the partner's inbox, signed as a partner would."""
    moment = at or aw.clock.now
    prepared = requests.Request(
        "POST",
        "http://testserver" + objects_url(partner.inbox),
        data=body,
        headers={"Content-Type": TAXII_21, "Accept": TAXII_21},
    ).prepare()
    auth_class(private, key_id, clock=lambda: moment)(prepared)
    assert isinstance(prepared.body, bytes)
    return prepared.body, {**dict(prepared.headers), **partner.auth}


def _post(aw: AgreementWorld, partner: Partner, body: bytes, headers: dict[str, str]) -> Any:
    return aw.client.post(objects_url(partner.inbox), content=body, headers=headers)


def _kept(aw: AgreementWorld) -> tuple[int, int]:
    return aw.count("SELECT count(*) FROM nonces"), aw.count("SELECT count(*) FROM evidence")


def _refused(
    aw: AgreementWorld, partner: Partner, send: Callable[[], Any], reason: str
) -> dict[str, Any]:
    before, kept = aw.footprint(partner), _kept(aw)
    body = assert_taxii_error(send(), 401)
    assert body["title"] == "Signature invalid"
    assert body["description"].startswith(f"{reason}:"), body
    assert aw.footprint(partner) == before
    assert _kept(aw) == kept
    return body


def _cli(aw: AgreementWorld, *args: str) -> Any:
    base = ["--data-dir", str(aw.settings.data_dir), "--config-dir", str(CONFIG_DIR)]
    return CliRunner().invoke(cli, [*base, *args])


def test_a_properly_signed_envelope_is_taken_with_evidence(aw: AgreementWorld) -> None:
    partner, private, key_id = _signer(aw)
    obj = new_indicator("signed")
    body, headers = _signed(aw, partner, private, key_id, envelope(obj))
    response = _post(aw, partner, body, headers)
    assert response.status_code == 202, response.text
    status = response.json()
    assert status["success_count"] == 1
    assert aw.country_holds("FR", obj["id"])
    evidence = aw.hub._store.evidence_for_status(status["id"])
    assert evidence is not None
    assert evidence.body == body
    assert evidence.key_id == key_id
    assert evidence.covered == ("@method", "@target-uri", "content-digest", "content-type")
    assert evidence.content_type == TAXII_21
    assert aw.hub.check_evidence(status["id"]).ok


def test_evidence_still_verifies_after_the_key_is_revoked(aw: AgreementWorld) -> None:
    partner, private, key_id = _signer(aw)
    body, headers = _signed(aw, partner, private, key_id, envelope(new_indicator()))
    status = _post(aw, partner, body, headers).json()
    aw.clock.advance(minutes=1)
    aw.hub.revoke_partner_key(partner.username, key_id, "retired laptop", admin=FIRST_ADMIN)
    result = _cli(aw, "evidence", "verify", status["id"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: signed by " + partner.username)
    as_json = _cli(aw, "evidence", "verify", status["id"], "--json")
    assert '"ok": true' in as_json.output
    # ... and a signature made now, after the revocation, is refused.
    later, headers = _signed(aw, partner, private, key_id, envelope(new_indicator()))
    _refused(aw, partner, lambda: _post(aw, partner, later, headers), "unknown_key")


def test_evidence_whose_body_was_altered_does_not_verify(aw: AgreementWorld) -> None:
    partner, private, key_id = _signer(aw)
    body, headers = _signed(aw, partner, private, key_id, envelope(new_indicator()))
    status = _post(aw, partner, body, headers).json()
    with aw.hub._store.transaction() as tx:
        tx._db.execute(  # type: ignore[attr-defined]
            "UPDATE evidence SET body = ? WHERE submission_pk = "
            "(SELECT pk FROM submissions WHERE status_id = ?)",
            (zlib.compress(body + b" "), status["id"]),
        )
    check = aw.hub.check_evidence(status["id"])
    assert (check.ok, check.reason) == (False, "digest_mismatch")
    result = _cli(aw, "evidence", "verify", status["id"])
    assert result.exit_code == 1
    assert "digest_mismatch" in result.output


def test_an_unsigned_post_is_refused(aw: AgreementWorld) -> None:
    partner, _, _ = _signer(aw)
    _refused(aw, partner, lambda: aw.post(partner, new_indicator()), "missing_signature")


def test_a_tampered_body_is_refused(aw: AgreementWorld) -> None:
    partner, private, key_id = _signer(aw)
    _body, headers = _signed(aw, partner, private, key_id, envelope(new_indicator()))
    tampered = envelope(new_indicator("swapped"))
    _refused(aw, partner, lambda: _post(aw, partner, tampered, headers), "digest_mismatch")


def test_a_signature_by_an_unknown_key_is_refused(aw: AgreementWorld) -> None:
    partner, _, _ = _signer(aw)
    stranger = generate_private_key()
    stranger_id = public_key_info(stranger.public_key()).key_id
    body, headers = _signed(aw, partner, stranger, stranger_id, envelope(new_indicator()))
    _refused(aw, partner, lambda: _post(aw, partner, body, headers), "unknown_key")


def test_a_signature_by_another_partners_key_is_refused(aw: AgreementWorld) -> None:
    partner, _, _ = _signer(aw)
    _, other_private, other_key = _signer(aw)
    body, headers = _signed(aw, partner, other_private, other_key, envelope(new_indicator()))
    _refused(aw, partner, lambda: _post(aw, partner, body, headers), "unknown_key")


def test_a_signature_by_a_revoked_key_is_refused(aw: AgreementWorld) -> None:
    partner, private, key_id = _signer(aw)
    aw.hub.revoke_partner_key(
        partner.username,
        key_id,
        "compromised",
        admin=FIRST_ADMIN,
        effective=aw.clock.now - timedelta(seconds=30),
    )
    body, headers = _signed(aw, partner, private, key_id, envelope(new_indicator()))
    _refused(aw, partner, lambda: _post(aw, partner, body, headers), "unknown_key")


@pytest.mark.parametrize("window", ["not yet", "ended"])
def test_a_signature_outside_the_keys_validity_is_refused(aw: AgreementWorld, window: str) -> None:
    partner, _, _ = _signer(aw)
    private = generate_private_key()
    now = aw.clock.now
    if window == "not yet":
        key_id = _register(aw, partner, private, valid_from=now + timedelta(hours=1))
    else:
        key_id = _register(
            aw,
            partner,
            private,
            valid_from=now - timedelta(days=2),
            valid_until=now - timedelta(days=1),
        )
    body, headers = _signed(aw, partner, private, key_id, envelope(new_indicator()))
    _refused(aw, partner, lambda: _post(aw, partner, body, headers), "unknown_key")


@pytest.mark.parametrize("offset", [-timedelta(minutes=10), timedelta(minutes=10)])
def test_a_stale_signature_is_refused(aw: AgreementWorld, offset: timedelta) -> None:
    partner, private, key_id = _signer(aw)
    at = aw.clock.now + offset
    body, headers = _signed(aw, partner, private, key_id, envelope(new_indicator()), at=at)
    _refused(aw, partner, lambda: _post(aw, partner, body, headers), "stale")


def test_a_replayed_request_is_refused(aw: AgreementWorld) -> None:
    partner, private, key_id = _signer(aw)
    body, headers = _signed(aw, partner, private, key_id, envelope(new_indicator()))
    assert _post(aw, partner, body, headers).status_code == 202
    _refused(aw, partner, lambda: _post(aw, partner, body, headers), "replayed")


def test_a_signature_not_covering_the_required_components_is_refused(
    aw: AgreementWorld,
) -> None:
    partner, private, key_id = _signer(aw)
    body, headers = _signed(
        aw, partner, private, key_id, envelope(new_indicator()), auth_class=_NoContentType
    )
    _refused(aw, partner, lambda: _post(aw, partner, body, headers), "missing_component")


def test_a_rotated_key_overlaps_with_its_successor(aw: AgreementWorld) -> None:
    partner, old_private, old_id = _signer(aw)
    new_private = generate_private_key()
    aw.hub.add_partner_key(
        partner.username,
        public_key_info(new_private.public_key()).pem(),
        admin=FIRST_ADMIN,
        rotates=old_id,
        rotated_until=aw.clock.now + timedelta(hours=1),
    )
    new_id = public_key_info(new_private.public_key()).key_id
    for private, key_id in ((old_private, old_id), (new_private, new_id)):
        body, headers = _signed(aw, partner, private, key_id, envelope(new_indicator()))
        assert _post(aw, partner, body, headers).status_code == 202
    aw.clock.advance(hours=2)
    body, headers = _signed(aw, partner, old_private, old_id, envelope(new_indicator()))
    _refused(aw, partner, lambda: _post(aw, partner, body, headers), "unknown_key")
    body, headers = _signed(aw, partner, new_private, new_id, envelope(new_indicator()))
    assert _post(aw, partner, body, headers).status_code == 202


def test_partners_whose_agreement_does_not_require_signatures_may_post_unsigned(
    aw: AgreementWorld,
) -> None:
    partner = aw.partner(f"unsigned-{next(_counter)}", ("FR",))
    aw.submit(partner, new_indicator())


def test_key_generate_writes_a_pair_and_prints_its_id(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["key", "generate", "--out", str(tmp_path / "k")])
    assert result.exit_code == 0, result.output
    key_id = result.output.strip()
    private = (tmp_path / "k" / "private.pem").read_bytes()
    public = (tmp_path / "k" / "public.pem").read_text()
    assert b"PRIVATE KEY" in private
    assert "PUBLIC KEY" in public
    assert (tmp_path / "k" / "private.pem").stat().st_mode & 0o077 == 0
    assert load_public_key(public).key_id == key_id
    again = CliRunner().invoke(cli, ["key", "generate", "--out", str(tmp_path / "k")])
    assert again.exit_code != 0


def test_a_changed_digest_is_refused(aw: AgreementWorld) -> None:
    partner, private, key_id = _signer(aw)
    body, headers = _signed(aw, partner, private, key_id, envelope(new_indicator()))
    other = envelope(new_indicator("another body"))
    assert headers["Content-Digest"] == content_digest(body)
    changed = {**headers, "Content-Digest": content_digest(other)}
    _refused(aw, partner, lambda: _post(aw, partner, body, changed), "digest_mismatch")


def test_evidence_of_both_keys_verifies_after_a_rotation(aw: AgreementWorld) -> None:
    partner, old_private, old_id = _signer(aw)
    body, headers = _signed(aw, partner, old_private, old_id, envelope(new_indicator()))
    response = _post(aw, partner, body, headers)
    assert response.status_code == 202, response.text
    before = response.json()["id"]
    aw.clock.advance(minutes=1)
    new_private = generate_private_key()
    rotated = aw.hub.add_partner_key(
        partner.username,
        public_key_info(new_private.public_key()).pem(),
        admin=FIRST_ADMIN,
        rotates=old_id,
    )
    new_id = str(rotated["key_id"])
    old = next(k for k in aw.hub.partner_keys(partner.username) if k["key_id"] == old_id)
    assert old["valid_until"] is not None  # the rotation ended the old key's window
    body, headers = _signed(aw, partner, new_private, new_id, envelope(new_indicator()))
    response = _post(aw, partner, body, headers)
    assert response.status_code == 202, response.text
    after = response.json()["id"]
    for status_id, key_id in ((before, old_id), (after, new_id)):
        result = _cli(aw, "evidence", "verify", status_id)
        assert result.exit_code == 0, result.output
        assert result.output.startswith("OK: signed by " + partner.username)
        check = aw.hub.check_evidence(status_id)
        assert (check.ok, check.key_id) == (True, key_id)
    # ... and a new signature by the old key, after its window ended, is refused.
    aw.clock.advance(seconds=5)
    late, headers = _signed(aw, partner, old_private, old_id, envelope(new_indicator()))
    _refused(aw, partner, lambda: _post(aw, partner, late, headers), "unknown_key")
