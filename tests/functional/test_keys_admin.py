"""The key admin API and command line: register (PEM or JWK), list, rotate, revoke; admins only;
every change in the record of changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from exchange.cli.main import cli
from exchange.signing.keys import generate_private_key, public_key_info
from tests.functional.agreement_world import AgreementWorld, open_world
from tests.functional.conftest import bearer
from tests.support.paths import CONFIG_DIR


@pytest.fixture(scope="module")
def aw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgreementWorld]:
    yield from open_world(tmp_path_factory.mktemp("keys-admin"))


def _keys_url(username: str) -> str:
    return f"/admin/partners/{username}/keys"


def _new_pem() -> tuple[str, str]:
    info = public_key_info(generate_private_key().public_key())
    return info.pem(), info.key_id


def _changes(aw: AgreementWorld, key_id: str) -> list[dict[str, Any]]:
    response = aw.client.get(
        "/admin/changes", params={"entity": "key", "entity_id": key_id}, headers=aw.admin()
    )
    assert response.status_code == 200, response.text
    changes: list[dict[str, Any]] = response.json()
    return changes


def test_register_list_and_revoke_through_the_api(aw: AgreementWorld) -> None:
    aw.partner("key-owner", signatures_required=True)
    pem, key_id = _new_pem()
    made = aw.client.post(_keys_url("key-owner"), json={"public_key": pem}, headers=aw.admin())
    assert made.status_code == 201, made.text
    assert made.json()["key_id"] == key_id
    assert made.json()["state"] == "active"
    listed = aw.client.get(_keys_url("key-owner"), headers=aw.admin()).json()
    assert [item["key_id"] for item in listed] == [key_id]
    revoked = aw.client.post(
        f"{_keys_url('key-owner')}/{key_id}/revoke",
        json={"reason": "laptop stolen"},
        headers=aw.admin(),
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["state"] == "revoked"
    assert revoked.json()["revoked_reason"] == "laptop stolen"
    again = aw.client.post(
        f"{_keys_url('key-owner')}/{key_id}/revoke", json={"reason": "x"}, headers=aw.admin()
    )
    assert again.status_code == 409
    recorded = _changes(aw, key_id)
    assert [c["action"] for c in recorded] == ["add", "revoke"]
    assert recorded[1]["before"]["state"] == "active"
    assert recorded[1]["after"]["revoked_reason"] == "laptop stolen"


def test_a_jwk_with_a_given_id_and_window(aw: AgreementWorld) -> None:
    aw.partner("jwk-owner")
    info = public_key_info(generate_private_key("ecdsa-p256-sha256").public_key())
    start = aw.clock.now + timedelta(days=1)
    made = aw.client.post(
        _keys_url("jwk-owner"),
        json={
            "public_key": info.jwk(),
            "key_id": "jwk-owner-2026",
            "valid_from": start.isoformat(),
            "valid_until": (start + timedelta(days=30)).isoformat(),
        },
        headers=aw.admin(),
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["key_id"], body["algorithm"], body["state"]) == (
        "jwk-owner-2026",
        "ecdsa-p256-sha256",
        "pending",
    )


def test_duplicates_and_keys_of_other_partners_are_refused(aw: AgreementWorld) -> None:
    aw.partner("dup-a")
    aw.partner("dup-b")
    pem, key_id = _new_pem()
    assert aw.hub.add_partner_key("dup-a", pem, admin="vetting-admin-1")["key_id"] == key_id
    for user, extra in (("dup-a", {}), ("dup-b", {}), ("dup-b", {"key_id": "other-name"})):
        response = aw.client.post(
            _keys_url(user), json={"public_key": pem, **extra}, headers=aw.admin()
        )
        assert response.status_code == 409, response.text
    other_pem, _ = _new_pem()
    taken = aw.client.post(
        _keys_url("dup-b"), json={"public_key": other_pem, "key_id": key_id}, headers=aw.admin()
    )
    assert taken.status_code == 409
    assert "another partner" in taken.json()["description"]
    revoke_other = aw.client.post(
        f"{_keys_url('dup-b')}/{key_id}/revoke", json={"reason": "x"}, headers=aw.admin()
    )
    assert revoke_other.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"public_key": "not a key"},
        {"public_key": "-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n"},
        {"public_key": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}},
        {"public_key": "x", "colour": "blue"},
    ],
)
def test_bad_keys_are_refused(aw: AgreementWorld, body: dict[str, Any]) -> None:
    if aw.hub._store.account_by_username("bad-keys") is None:
        aw.partner("bad-keys")
    response = aw.client.post(_keys_url("bad-keys"), json=body, headers=aw.admin())
    assert response.status_code in {400, 422}, response.text
    assert aw.hub.partner_keys("bad-keys") == []


def test_rotation_records_both_keys(aw: AgreementWorld) -> None:
    aw.partner("rotator")
    old_pem, old_id = _new_pem()
    new_pem, new_id = _new_pem()
    aw.hub.add_partner_key("rotator", old_pem, admin="vetting-admin-1")
    until = aw.clock.now + timedelta(days=7)
    response = aw.client.post(
        _keys_url("rotator"),
        json={"public_key": new_pem, "rotates": old_id, "rotated_until": until.isoformat()},
        headers=aw.admin(),
    )
    assert response.status_code == 201, response.text
    listed = {item["key_id"]: item for item in aw.hub.partner_keys("rotator")}
    assert listed[old_id]["state"] == "active"
    assert listed[old_id]["valid_until"]
    assert [c["action"] for c in _changes(aw, old_id)] == ["add", "rotate-out"]
    assert [c["action"] for c in _changes(aw, new_id)] == ["rotate-in"]


def test_only_admins_use_the_key_api(aw: AgreementWorld) -> None:
    partner = aw.partner("not-admin")
    pem, key_id = _new_pem()
    for headers in (bearer(partner.token), aw.analyst("FR")):
        assert aw.client.get(_keys_url("not-admin"), headers=headers).status_code == 403
        posted = aw.client.post(_keys_url("not-admin"), json={"public_key": pem}, headers=headers)
        assert posted.status_code == 403
        revoke = aw.client.post(
            f"{_keys_url('not-admin')}/{key_id}/revoke", json={"reason": "x"}, headers=headers
        )
        assert revoke.status_code == 403
    assert aw.client.get(_keys_url("not-admin")).status_code == 401
    assert aw.hub.partner_keys("not-admin") == []


def test_the_command_line(aw: AgreementWorld, tmp_path: Any) -> None:
    aw.partner("cli-keys")
    base = ["--data-dir", str(aw.settings.data_dir), "--config-dir", str(CONFIG_DIR)]
    runner = CliRunner()
    made = runner.invoke(cli, ["key", "generate", "--out", str(tmp_path)])
    assert made.exit_code == 0, made.output
    key_id = made.output.strip()
    added = runner.invoke(
        cli,
        [
            *base,
            "key",
            "add",
            "cli-keys",
            "--file",
            str(tmp_path / "public.pem"),
            "--valid-until",
            "2099-01-01T00:00:00Z",
            "--as",
            "vetting-admin-1",
        ],
    )
    assert added.exit_code == 0, added.output
    assert key_id in added.output
    assert "active" in added.output
    listed = runner.invoke(cli, [*base, "key", "list", "cli-keys", "--json"])
    assert listed.exit_code == 0, listed.output
    [item] = orjson.loads(listed.output)
    assert item["key_id"] == key_id
    assert item["valid_until"].startswith("2099-01-01")
    revoked = runner.invoke(
        cli,
        [*base, "key", "revoke", "cli-keys", key_id, "--reason", "rotated", "--as", "nobody"],
    )
    assert revoked.exit_code == 1
    assert "not an active admin" in revoked.output
    revoked = runner.invoke(
        cli,
        [
            *base,
            "key",
            "revoke",
            "cli-keys",
            key_id,
            "--reason",
            "rotated",
            "--as",
            "vetting-admin-1",
        ],
    )
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in revoked.output
    assert [c["action"] for c in _changes(aw, key_id)] == ["add", "revoke"]
    assert _changes(aw, key_id)[0]["actor"] == "vetting-admin-1"
