"""Signed contributions against a real server: a partner whose agreement requires signatures
registers a key through the admin API, pushes CTI documentation bundles with taxii2-client and
``SigningAuth``, and with ``exchange push``; an analyst of a recipient country gets the objects;
an unsigned push is refused with 401; the evidence verifies from the command line."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests
from taxii2client.v21 import Collection

from exchange.countries import country_collection_id
from exchange.signing.client import SigningAuth
from exchange.signing.keys import generate_private_key, private_key_pem, public_key_info
from tests.support.onboarding import pass_through_terms
from tests.support.paths import PROJECT
from tests.support.server import EXCHANGE, HubProcess, _env, run_cli

EXAMPLES = Path("/work/shared/data/stix/examples/cti-documentation")

pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="CTI documentation examples absent")


# The module's hub is the suite's (tests/conftest.py).


def _bundle(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return document


def _analyst_ids(hub: HubProcess, code: str) -> set[str]:
    analyst = hub.accounts.get(f"signed-analyst-{code.lower()}") or hub.create_account(
        "analyst", f"signed-analyst-{code.lower()}", "--country", code
    )
    collection = Collection(
        hub.collection_url(country_collection_id(code)),
        user=analyst.username,
        password=analyst.token,
    )
    return {obj["id"] for obj in collection.get_objects().get("objects", [])}


def test_signed_pushes_reach_the_recipient_countries(hub: HubProcess, tmp_path: Path) -> None:
    partner = hub.onboard_partner(
        "signing-partner", ["FR"], pass_through_terms(["FR"], signatures_required=True)
    )
    private = generate_private_key()
    info = public_key_info(private.public_key())
    registered = hub._admin_call(
        "POST", "/admin/partners/signing-partner/keys", "admin", {"public_key": info.pem()}
    )
    assert registered["key_id"] == info.key_id
    assert partner.inbox is not None
    inbox_url = hub.collection_url(partner.inbox)

    # Unsigned (taxii2-client with the token only): 401, nothing taken.
    first = _bundle("indicator-for-malicious-url.json")
    unsigned = Collection(inbox_url, user=partner.username, password=partner.token)
    with pytest.raises(requests.HTTPError) as refused:
        unsigned.add_objects({"objects": first["objects"]}, wait_for_completion=False)
    assert refused.value.response.status_code == 401
    assert refused.value.response.json()["description"].startswith("missing_signature:")
    assert not {obj["id"] for obj in first["objects"]} & _analyst_ids(hub, "FR")

    # Signed with SigningAuth through taxii2-client.
    auth = SigningAuth(private, info.key_id, user=partner.username, token=partner.token)
    status = Collection(inbox_url, auth=auth).add_objects(
        {"objects": first["objects"]}, wait_for_completion=False
    )
    assert status.success_count == len(first["objects"]), status.failures
    assert {obj["id"] for obj in first["objects"]} <= _analyst_ids(hub, "FR")
    verified = run_cli(hub.data_dir, "evidence", "verify", status.id, "--json")
    assert json.loads(verified)["ok"] is True

    # Signed with `exchange push`: a .json.gz bundle and a plain one, envelopes of 2.
    feed = tmp_path / "feed"
    feed.mkdir()
    second = _bundle("malware-indicator-for-file-hash.json")
    (feed / "hash.json.gz").write_bytes(gzip.compress(json.dumps(second).encode()))
    shutil.copy(EXAMPLES / "indicator-for-malicious-url.json", feed / "again.json")
    (tmp_path / "private.pem").write_bytes(private_key_pem(private))
    (tmp_path / "token").write_text(partner.token + "\n")
    pushed = run_cli(
        hub.data_dir,
        "push",
        str(feed),
        "--url",
        hub.base,
        "--user",
        partner.username,
        "--token-file",
        str(tmp_path / "token"),
        "--key",
        str(tmp_path / "private.pem"),
        "--key-id",
        info.key_id,
        "--envelope",
        "2",
        "--json",
    )
    results = json.loads(pushed)
    outcomes = {row["id"]: row["outcome"] for row in results}
    assert len(results) == len(first["objects"]) + len(second["objects"])
    assert all(outcomes[obj["id"]] == "already present" for obj in first["objects"])
    assert all(outcomes[obj["id"]] == "added" for obj in second["objects"])
    assert {obj["id"] for obj in second["objects"]} <= _analyst_ids(hub, "FR")


def test_push_reports_refusals_with_their_reason(hub: HubProcess, tmp_path: Path) -> None:
    partner = hub.onboard_partner(
        "unregistered-signer", ["FR"], pass_through_terms(["FR"], signatures_required=True)
    )
    private = generate_private_key()
    (tmp_path / "private.pem").write_bytes(private_key_pem(private))
    (tmp_path / "token").write_text(partner.token)
    assert partner.inbox is not None
    done = subprocess.run(
        [
            *EXCHANGE,
            "push",
            str(EXAMPLES / "indicator-for-malicious-url.json"),
            "--url",
            hub.base,
            "--user",
            partner.username,
            "--token-file",
            str(tmp_path / "token"),
            "--key",
            str(tmp_path / "private.pem"),
            "--key-id",
            public_key_info(private.public_key()).key_id,
            "--collection",
            partner.inbox,
        ],
        env=_env(hub.data_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "unknown_key" in done.stdout
    assert "refused" in done.stdout


def test_the_readme_signing_commands_run_as_written(hub: HubProcess, tmp_path: Path) -> None:
    text = (PROJECT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Signing your submissions", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    acme = hub.onboard_partner("acme", ["FR"], pass_through_terms(["FR"], signatures_required=True))
    (tmp_path / "acme.json").write_text(
        json.dumps({"username": acme.username, "token": acme.token, "inbox": acme.inbox})
    )
    (tmp_path / ".venv").symlink_to(PROJECT / ".venv")
    (tmp_path / "feeds").symlink_to(PROJECT / "feeds")
    done = subprocess.run(
        [
            "bash",
            "-euo",
            "pipefail",
            "-c",
            block.replace("127.0.0.1:8000", f"127.0.0.1:{hub.port}"),
        ],
        cwd=tmp_path,
        env=_env(hub.data_dir),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "added" in done.stdout
    assert "refused" not in done.stdout
    apt1 = json.loads((PROJECT / "feeds" / "samples" / "apt1.json").read_text())
    indicators = {obj["id"] for obj in apt1["objects"] if obj["type"] == "indicator"}
    assert indicators <= _analyst_ids(hub, "FR")
