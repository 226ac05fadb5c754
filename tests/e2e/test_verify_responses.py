"""An analyst checks what they pulled: taxii2-client with a response hook, and `exchange verify`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from taxii2client.common import _HTTPConnection
from taxii2client.v21 import Collection

from exchange.countries import country_collection_id
from exchange.verify import verify_pulled
from tests.e2e.taxii21_support import envelope, indicator, new_analyst, new_partner
from tests.support.paths import PROJECT
from tests.support.server import EXCHANGE, HubProcess, _env

README = PROJECT / "README.md"

pytestmark = pytest.mark.e2e


def exchange(hub: HubProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*EXCHANGE, *args],
        env=_env(hub.data_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def analyst(hub: HubProcess) -> Any:
    """An analyst of FR, after a partner shared one indicator with FR."""
    partner = new_partner(hub, "FR")
    assert partner.inbox is not None
    Collection(
        hub.collection_url(partner.inbox), user=partner.username, password=partner.token
    ).add_objects(envelope([indicator(name="signed pull")]))
    return new_analyst(hub, "FR")


def test_taxii2_client_pull_verifies(hub: HubProcess, analyst: Any) -> None:
    keys = requests.get(hub.base + "/.well-known/exchange-keys", timeout=30).json()
    pulled: list[requests.Response] = []
    conn = _HTTPConnection(analyst.username, analyst.token, version="2.1")
    conn.session.hooks["response"].append(lambda response, **_: pulled.append(response))
    fr = Collection(hub.collection_url(country_collection_id("FR")), conn=conn)
    objects = fr.get_objects(type="indicator")
    assert any(o.get("name") == "signed pull" for o in objects["objects"])
    fr.get_manifest()
    assert len(pulled) >= 3  # the collection, its objects, its manifest
    for response in pulled:
        checked = verify_pulled(response, keys)
        assert checked.status == 200
        assert checked.url == response.request.url


def test_exchange_verify_url_prints_ok(hub: HubProcess, analyst: Any, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(analyst.token + "\n")
    url = hub.collection_url(country_collection_id("FR")) + "objects/?match[type]=indicator"
    saved = tmp_path / "saved.json"
    done = exchange(
        hub, "verify", url, "--user", analyst.username, "--token-file", str(token),
        "--save", str(saved),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK GET ")
    assert '"@target-uri";req' in done.stdout
    again = exchange(hub, "verify", "--saved", str(saved))
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("OK GET ")


def test_a_modified_saved_response_fails(hub: HubProcess, analyst: Any, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(analyst.token)
    keys = tmp_path / "keys.json"
    keys.write_text(requests.get(hub.base + "/.well-known/exchange-keys", timeout=30).text)
    saved = tmp_path / "saved.json"
    url = hub.collection_url(country_collection_id("FR")) + "objects/"
    done = exchange(
        hub, "verify", url, "--user", analyst.username, "--token-file", str(token),
        "--keys", str(keys), "--save", str(saved),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(saved.read_text())
    assert document["body"].startswith('{"more":')
    document["body"] = document["body"].replace('{"more":', '{"more": ', 1)
    saved.write_text(json.dumps(document))
    failed = exchange(hub, "verify", "--saved", str(saved), "--keys", str(keys))
    assert failed.returncode == 1
    assert "FAILED digest_mismatch" in failed.stderr


def _readme_blocks() -> list[tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Checking what you pulled", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(bash|python)\n(.*?)```", section, flags=re.DOTALL)


def test_readme_section_runs_as_written(hub: HubProcess, tmp_path: Path) -> None:
    police = hub.create_account("analyst", "police-fr", "--country", "FR")
    (tmp_path / "police-fr.json").write_text(json.dumps({"token": police.token}))
    (tmp_path / ".venv").symlink_to(PROJECT / ".venv")
    blocks = _readme_blocks()
    assert [kind for kind, _ in blocks] == ["bash", "python"]
    outputs = []
    for kind, written in blocks:
        code = written.replace("127.0.0.1:8000", f"127.0.0.1:{hub.port}")
        command = (
            ["bash", "-euo", "pipefail", "-c", code]
            if kind == "bash"
            else [sys.executable, "-c", code]
        )
        done = subprocess.run(
            command,
            cwd=tmp_path,
            env=_env(hub.data_dir),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert [line[:7] for line in outputs[0].splitlines()] == ["OK GET "] * 2
    assert outputs[1].splitlines()
    assert all(line.startswith("OK GET ") for line in outputs[1].splitlines())


def test_hub_key_rotate_and_list(hub: HubProcess) -> None:
    listed = exchange(hub, "hub-key", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    before = json.loads(listed.stdout)
    assert "PRIVATE" not in listed.stdout
    rotated = exchange(hub, "hub-key", "rotate", "--purpose", "responses")
    assert rotated.returncode == 0, rotated.stderr
    new_id = rotated.stdout.split()[3]
    after = json.loads(exchange(hub, "hub-key", "list", "--json").stdout)
    assert len(after) == len(before) + 1
    current = [k for k in after if k["purpose"] == "responses" and k["retired"] is None]
    assert [k["key_id"] for k in current] == [new_id]
    published = requests.get(hub.base + "/.well-known/exchange-keys", timeout=30).json()
    assert new_id in {jwk["kid"] for jwk in published["keys"]}
    text = exchange(hub, "hub-key", "list")
    assert new_id in text.stdout
    assert "current" in text.stdout
