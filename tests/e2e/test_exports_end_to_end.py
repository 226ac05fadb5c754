"""Analysts' exports through a real `exchange serve`: a partner pushes Unit 42's indicator data
with taxii2-client, a French analyst downloads blocklists with `exchange export`, and each list
is exactly what this test extracts from the pushed patterns on its own.

The expectation is computed here, not by the hub's modules, with rules written out below:

- an indicator counts when it was accepted, its latest version is not revoked, it is valid now
  (no ``valid_until`` in the past) and its pattern is *simple*: comparisons of ``=`` on
  ``ipv4-addr:value``, ``ipv6-addr:value``, ``domain-name:value``, ``url:value`` or
  ``file:hashes.'SHA-256' / 'SHA-1' / MD5``, joined only by ``OR`` (read with the regular
  expressions below);
- values as the hub writes them: domain names and hashes in lower case, URLs as sent unless
  they hold whitespace.

The partner's agreement marks everything TLP:AMBER (nothing red, no IEP policy), so the
markings leave every such indicator in. One indicator is revoked after the push (a new version
with ``revoked: true``) and must disappear from the lists.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from exchange.cli.main import cli
from exchange.countries import country_collection_id
from tests.e2e.taxii21_support import collection, inbox
from tests.support.onboarding import pass_through_terms
from tests.support.server import EXCHANGE, Credential, HubProcess, run_cli

UNIT42 = "indicators/unit42-playbooks"
# Chosen for their traps: expired indicators and SHA-1 (hermeticwiper), a defanged URL
# (monsterlibra), a URL with a space (boggyserpens), OR patterns and capitalised domains
# (thirstygemini, evasive-serpens, ekans, solarphoenix), LIKE and AND (evasive-serpens,
# statelytaurus), MD5 (agedlibra, maze), and bulk (emotet).
FILES = (
    "hermeticwiper",
    "monsterlibra",
    "boggyserpens",
    "thirstygemini",
    "evasive-serpens",
    "agedlibra",
    "ekans-ransomware",
    "emotet",
    "statelytaurus",
    "solarphoenix",
    "maze-ransomware",
    "trigona-ransomware",
)
FRANCE = country_collection_id("FR")
TERMS = pass_through_terms(
    ("FR",),
    tlp={"default": "amber", "highest_accepted": "amber+strict", "never_redistribute": ["red"]},
)

# The simple-pattern rule, as regular expressions over the pattern text.
_STRING = r"'((?:[^'\\]|\\.)*)'"
_PATH = (
    r"(ipv4-addr:value|ipv6-addr:value|domain-name:value|url:value"
    r"|file:hashes\.(?:'SHA-256'|'SHA-1'|'MD5'|MD5|SHA256|SHA1))"
)
_COMPARISON = rf"{_PATH}\s*==?\s*{_STRING}"
_GLUE = r"[\s()\[\]]*"
_SIMPLE = re.compile(rf"{_GLUE}{_COMPARISON}(?:{_GLUE}\bOR\b{_GLUE}{_COMPARISON})*{_GLUE}")
_LIST = {
    "ipv4-addr:value": "ipv4",
    "ipv6-addr:value": "ipv6",
    "domain-name:value": "domains",
    "url:value": "urls",
}


def expected_values(pattern: str) -> list[tuple[str, str]]:
    """(list, value) pairs of a simple pattern; nothing for any other pattern."""
    if not _SIMPLE.fullmatch(pattern):
        return []
    found: list[tuple[str, str]] = []
    for match in re.finditer(_COMPARISON, pattern):
        path, raw = match.group(1), match.group(2)
        value = raw.replace("\\'", "'").replace("\\\\", "\\")
        kind = _LIST.get(path, "hashes")
        if kind in ("domains", "hashes"):
            value = value.lower()
        if kind == "urls" and re.search(r"\s", value):
            continue
        found.append((kind, value))
    return found


def _still_valid(indicator: dict[str, Any], now: datetime) -> bool:
    until = indicator.get("valid_until")
    if until is None:
        return True
    return datetime.fromisoformat(until.replace("Z", "+00:00")) > now


@pytest.fixture(scope="module")
def pushed(hub: HubProcess, stix_data: Path) -> dict[str, Any]:
    """Push the files' indicators (one envelope a file) and revoke one IPv4 indicator; what
    was accepted."""
    partner = hub.onboard_partner("unit42-exporter", ("FR",), TERMS)
    accepted: dict[str, dict[str, Any]] = {}
    for name in FILES:
        raw = gzip.decompress((stix_data / UNIT42 / f"{name}.json.gz").read_bytes())
        objects = [o for o in json.loads(raw)["objects"] if o["type"] == "indicator"]
        status = inbox(hub, partner).add_objects({"objects": objects})
        taken = {line["id"] for line in status.successes}
        accepted.update({o["id"]: o for o in objects if o["id"] in taken})
    indicators = [o for o in accepted.values() if o["type"] == "indicator"]
    victim = next(
        o for o in indicators if re.fullmatch(r"\[ipv4-addr:value = '[0-9.]+'\]", o["pattern"])
    )
    revoked = {**victim, "modified": "2030-01-01T00:00:00.000Z", "revoked": True}
    status = inbox(hub, partner).add_objects({"objects": [revoked]})
    assert status.success_count == 1
    accepted[victim["id"]] = revoked
    return {"partner": partner, "accepted": accepted, "revoked": revoked}


@pytest.fixture(scope="module")
def analyst(hub: HubProcess, tmp_path_factory: pytest.TempPathFactory) -> tuple[Credential, Path]:
    made = hub.create_account("analyst", f"export-fr-{uuid.uuid4().hex[:8]}", "--country", "FR")
    token = tmp_path_factory.mktemp("analyst") / "token"
    token.write_text(made.token + "\n")
    return made, token


def exchange_export(
    hub: HubProcess, who: tuple[Credential, Path], fmt: str, out: Path, *extra: str
) -> str:
    """`exchange export` as the analyst, against the real server; the file it wrote.

    The command runs in this process (Click's runner): the same code and HTTP as the installed
    command without an interpreter start each time; the installed command itself runs once
    below for the same list, and for a refusal.
    """
    credential, token = who
    result = CliRunner().invoke(
        cli,
        [
            "export",
            FRANCE,
            "--format",
            fmt,
            "--url",
            hub.base,
            "--user",
            credential.username,
            "--token-file",
            str(token),
            "--out",
            str(out),
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def blocklists(
    hub: HubProcess,
    pushed: dict[str, Any],
    analyst: tuple[Credential, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    """The five blocklists as the analyst downloaded them."""
    folder = tmp_path_factory.mktemp("blocklists")
    lists = {
        fmt: exchange_export(hub, analyst, fmt, folder / f"{fmt}.txt")
        for fmt in ("ipv4", "ipv6", "domains", "urls", "hashes")
    }
    # The installed command, to standard output, gives the same list.
    credential, token = analyst
    printed = run_cli(
        hub.data_dir,
        "export",
        FRANCE,
        "--format",
        "ipv4",
        "--url",
        hub.base,
        "--user",
        credential.username,
        "--token-file",
        str(token),
    )
    assert printed == lists["ipv4"]
    return lists


def test_the_collection_holds_what_was_pushed(
    hub: HubProcess, pushed: dict[str, Any], analyst: tuple[Credential, Path]
) -> None:
    """The premise: France got every accepted indicator (so the lists below can be compared
    with what was pushed)."""
    france = collection(hub, analyst[0], FRANCE)
    seen: set[str] = set()
    page = france.get_objects(type="indicator", limit=1000)
    seen |= {o["id"] for o in page.get("objects", [])}
    while page.get("more"):
        page = france.get_objects(type="indicator", limit=1000, next=page["next"])
        seen |= {o["id"] for o in page.get("objects", [])}
    pushed_ids = {i for i, o in pushed["accepted"].items() if o["type"] == "indicator"}
    assert seen == pushed_ids
    assert len(seen) > 3000  # of the 4,000-odd indicators, a few are refused as invalid


def test_exported_blocklists_match_an_independent_extraction(
    pushed: dict[str, Any], blocklists: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    expected: dict[str, set[str]] = {name: set() for name in ("ipv4", "ipv6", "domains", "urls")}
    expected["hashes"] = set()
    for obj in pushed["accepted"].values():
        if obj["type"] != "indicator" or obj.get("pattern_type") != "stix":
            continue
        if obj.get("revoked") or not _still_valid(obj, now):
            continue
        for kind, value in expected_values(obj["pattern"]):
            expected[kind].add(value)
    # The revoked indicator would have counted: its revocation is what keeps it out.
    assert expected_values(pushed["revoked"]["pattern"])

    for fmt, values in expected.items():
        lines = blocklists[fmt].splitlines()
        assert len(lines) == len(set(lines)), f"{fmt}: repeated values"
        if fmt in ("domains", "urls"):  # addresses in address order, hashes by algorithm
            assert lines == sorted(lines), f"{fmt}: not sorted"
        assert set(lines) == values, (
            fmt,
            sorted(values - set(lines))[:5],
            sorted(set(lines) - values)[:5],
        )
    # The traps were there: expired, defanged, capitalised, not simple, revoked.
    assert len(expected["ipv4"]) > 100
    assert len(expected["domains"]) > 100
    assert len(expected["urls"]) > 100
    assert len(expected["hashes"]) > 1000
    assert any(value.startswith("hxxp") for value in expected["urls"])


def test_misp_and_suricata_stream_the_same_values(
    hub: HubProcess, analyst: tuple[Credential, Path], blocklists: dict[str, str]
) -> None:
    """With no IEP policy on the data, detection gets what blocking gets: every blocklist value
    is a MISP attribute, and every address has an `alert ip` rule. Both stream (chunked)."""
    credential, _ = analyst
    values = {value for text in blocklists.values() for value in text.splitlines()}
    url = f"{hub.base}/analyst/exports/{FRANCE}/misp"
    response = requests.get(url, auth=credential.auth, timeout=60)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers.get("transfer-encoding") == "chunked"
    event = response.json()["Event"]
    assert {a["value"] for a in event["Attribute"]} == values
    assert event["Tag"] == [{"name": "tlp:amber"}]
    rules = requests.get(
        f"{hub.base}/analyst/exports/{FRANCE}/suricata", auth=credential.auth, timeout=60
    ).text
    addresses = set(re.findall(r"^alert ip any any <> \[([0-9.]+)\] any", rules, re.MULTILINE))
    assert addresses == set(blocklists["ipv4"].splitlines())


def test_the_command_line_reports_a_refusal_and_writes_nothing(
    hub: HubProcess, pushed: dict[str, Any], tmp_path: Path
) -> None:
    german = hub.create_account("analyst", f"export-de-{uuid.uuid4().hex[:8]}", "--country", "DE")
    token = tmp_path / "de.token"
    token.write_text(german.token)
    out = tmp_path / "never.txt"
    done = subprocess.run(
        [
            *EXCHANGE,
            "export",
            FRANCE,
            "--format",
            "ipv4",
            "--url",
            hub.base,
            "--user",
            german.username,
            "--token-file",
            str(token),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "HTTP 404" in done.stderr
    assert "no such collection" in done.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [token]
