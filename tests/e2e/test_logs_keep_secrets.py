"""Nothing secret or personal reaches the logs: a real hub at `--log-level debug` goes through a
whole run (accounts, vetting, a signing key, a signed envelope carrying a victim's name, email
address and phone number, pulls, failed authentications up to a lockout, an export, a sighting,
admin actions, an audit verification), then everything the server and the command line wrote
(standard output and error, the server's log, the data directory's files other than the
database) is searched for every token and token secret, the private key in every encoding, the
signature header values and the victim's personal data."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from taxii2client.v21 import Collection

from exchange.countries import country_collection_id
from exchange.signing.client import SigningAuth
from exchange.signing.keys import load_private_key_pem
from tests.support.onboarding import pass_through_terms
from tests.support.server import EXCHANGE, Credential, HubProcess, _env, free_port

VICTIM_NAME = "Marguerite Okonkwo-Lindqvist"
VICTIM_EMAIL = "m.okonkwo-lindqvist@victim-mail.example"
VICTIM_PHONE = "+33 6 47 19 82 05"
TAXII = "application/taxii+json;version=2.1"
FR, DE = country_collection_id("FR"), country_collection_id("DE")
WRONG_SECRETS = 3  # the lockout threshold this hub runs with


# --- the search --------------------------------------------------------------------------------


def _mask(line: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        shown = secret[:4] if len(secret) > 12 else ""
        pattern = re.compile(re.escape(secret), re.IGNORECASE)
        line = pattern.sub(f"{shown}***[{len(secret)} chars]", line)
    return line


def find_secrets(text: str, secrets: Mapping[str, str]) -> list[str]:
    """Every line of ``text`` that holds one of ``secrets`` (case-insensitive), as
    ``label: line`` once for each secret found, with every secret on the line masked."""
    hits: list[str] = []
    for line in text.splitlines():
        folded = line.casefold()
        found = {label: s for label, s in secrets.items() if s.casefold() in folded}
        masked = _mask(line, list(found.values()))[:300] if found else ""
        hits.extend(f"{label}: {masked}" for label in found)
    return hits


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _secret_part(token: str) -> str:
    """``exh_<credential id>_<secret>``: the secret (base64url, which may hold ``_``)."""
    return token.split("_", 2)[2]


def token_secrets(label: str, credential: Credential) -> dict[str, str]:
    """A token, its secret part, and the Basic credentials that carry it."""
    secret = _secret_part(credential.token)
    assert len(secret) >= 40, "the token format changed: update this test"
    basic = _b64(f"{credential.username}:{credential.token}".encode())
    return {
        f"token of {label}": credential.token,
        f"token secret of {label}": secret,
        f"Basic credentials of {label}": basic,
    }


def victim_data() -> dict[str, str]:
    """The victim's personal data, as written and in the forms a log could hold it."""
    digits = re.sub(r"\D", "", VICTIM_PHONE)
    found = {
        "victim name": VICTIM_NAME,
        "victim surname": VICTIM_NAME.rsplit(maxsplit=1)[-1],
        "victim email": VICTIM_EMAIL,
        "victim email local part": VICTIM_EMAIL.split("@", maxsplit=1)[0],
        "victim phone": VICTIM_PHONE,
        "victim phone digits": digits,
        "victim phone national digits": digits[2:],
    }
    for label, value in list(found.items()):
        if quote(value) != value:
            found[f"{label} (URL-encoded)"] = quote(value)
    return found


def key_secrets(pem: bytes) -> dict[str, str]:
    """A private key: each line of its PEM body, and its raw bytes in base64, base64url, hex."""
    found = {}
    body = [line for line in pem.decode().splitlines() if line and not line.startswith("-----")]
    for number, line in enumerate(body):
        found[f"private key PEM line {number + 1}"] = line
    key = load_private_key_pem(pem)
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    found["private key (base64)"] = _b64(raw).rstrip("=")
    found["private key (base64url)"] = _b64url(raw)
    found["private key (hex)"] = raw.hex()
    return found


def test_the_search_finds_what_it_looks_for() -> None:
    """The search is the test: it must find a planted secret, masked, in any case."""
    token = "exh_0123456789abcdef_" + "S" * 20 + "_" + "t" * 22
    credential = Credential(username="someone", token=token, id="x", role="analyst")
    secrets = {**token_secrets("someone", credential), **victim_data()}
    basic = _b64(f"someone:{token}".encode())
    log = "\n".join(
        [
            "INFO: nothing here",
            f"DEBUG: Authorization: Bearer {token}",
            f"DEBUG: Authorization: Basic {basic}",
            f"DEBUG: refused secret {_secret_part(token)}",
            f"WARNING: identity of {VICTIM_NAME.upper()} <{VICTIM_EMAIL}> tel 33647198205",
            f"DEBUG: GET /search?q={quote(VICTIM_NAME)}",
        ]
    )
    hits = find_secrets(log, secrets)
    labels = {hit.split(":", 1)[0] for hit in hits}
    assert {
        "token of someone",
        "token secret of someone",
        "Basic credentials of someone",
        "victim name",
        "victim email",
        "victim phone digits",
        "victim name (URL-encoded)",
    } <= labels
    assert not any("nothing here" in hit for hit in hits)
    for hit in hits:
        assert token not in hit
        assert VICTIM_EMAIL not in hit
    pem = (
        b"-----BEGIN PRIVATE KEY-----\n"
        b"MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n"
        b"-----END PRIVATE KEY-----\n"
    )
    raw_hex = load_private_key_pem(pem).private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    assert find_secrets(f"key={raw_hex.hex()}", key_secrets(pem)) == [
        f"private key (hex): key={raw_hex.hex()[:4]}***[64 chars]"
    ]
    assert find_secrets(
        "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF", key_secrets(pem)
    )


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Output:
    where: str
    text: str
    shows: frozenset[str] = frozenset()
    """Labels of secrets this output exists to show (a token, once, to the one who asked)."""


@dataclass
class Run:
    """A hub at debug level and a record of everything written along the way."""

    hub: HubProcess
    work: Path
    outputs: list[Output] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)

    def cli(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            [*EXCHANGE, *args],
            env=_env(self.hub.data_dir, self.hub.extra_env),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=self.work,
        )
        command = "exchange " + " ".join(args)
        self.outputs.append(Output(f"{command} (stdout)", done.stdout))
        self.outputs.append(Output(f"{command} (stderr)", done.stderr))
        if check:
            assert done.returncode == 0, done.stderr
        return done.stdout

    def showed(self, labels: Iterable[str]) -> None:
        """The last command's standard output exists to show these secrets (a token, once,
        to whoever made the account)."""
        self.outputs[-2].shows = frozenset(labels)

    def remember(self, label: str, credential: Credential) -> Credential:
        self.secrets.update(token_secrets(label, credential))
        return credential


def _stix(kind: str, **properties: Any) -> dict[str, Any]:
    stamp = "2026-02-01T10:00:00.000Z"
    common = {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}"}
    return {**common, "created": stamp, "modified": stamp, **properties}


def _victim_envelope() -> dict[str, Any]:
    victim = _stix(
        "identity",
        name=VICTIM_NAME,
        identity_class="individual",
        contact_information=f"{VICTIM_EMAIL}, {VICTIM_PHONE}",
        description=f"Ransom note sent to {VICTIM_EMAIL}; called on {VICTIM_PHONE}",
    )
    home = _stix("location", country="FR", city="Lyon")
    located = _stix(
        "relationship",
        relationship_type="located-at",
        source_ref=victim["id"],
        target_ref=home["id"],
    )
    indicator = _stix(
        "indicator",
        name="Ransomware drop server",
        pattern="[ipv4-addr:value = '203.0.113.44']",
        pattern_type="stix",
        valid_from="2026-02-01T10:00:00Z",
    )
    # Not valid STIX (an identity needs a `name`): refused, with a reason.
    broken = _stix("identity", identity_class="individual", description=f"{VICTIM_NAME} again")
    return {"objects": [victim, home, located, indicator, broken]}


def _post_signed(run: Run, url: str, envelope: dict[str, Any], auth: SigningAuth) -> Any:
    response = requests.post(
        url,
        data=json.dumps(envelope).encode(),
        headers={"Content-Type": TAXII, "Accept": TAXII},
        auth=auth,
        timeout=60,
    )
    sent = response.request.headers
    run.secrets[f"Signature header ({len(run.secrets)})"] = sent["Signature"]
    run.secrets[f"Signature value ({len(run.secrets)})"] = sent["Signature"].split(":")[1]
    run.secrets[f"Signature-Input header ({len(run.secrets)})"] = sent["Signature-Input"]
    assert response.status_code == 202, response.text
    return response.json()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    data_dir = tmp_path_factory.mktemp("secrets-data")
    work = tmp_path_factory.mktemp("secrets-work")
    hub = HubProcess(
        data_dir=data_dir,
        port=free_port(),
        extra_env={"EXCHANGE_AUTH_FAILURES_BEFORE_LOCKOUT": str(WRONG_SECRETS)},
        log_level="debug",
    )
    the_run = Run(hub=hub, work=work)
    try:
        _go_through_everything(the_run)
        yield the_run
    finally:
        hub.stop()


def _go_through_everything(run: Run) -> None:
    hub, work = run.hub, run.work

    # 1. A store with the demo world: its tokens are shown once, on standard output.
    made = json.loads(run.cli("init", "--demo", "--json"))
    init_labels: set[str] = set()
    for entry in [made["admin"], *made["demo"]]:
        credential = Credential.from_init(entry)
        hub.accounts[credential.username] = run.remember(credential.username, credential)
        init_labels |= set(token_secrets(credential.username, credential))
    run.showed(init_labels)
    hub.start()

    # 2. Accounts over the admin API, and one from the command line.
    run.remember("sec-admin", hub.create_account("admin", "sec-admin"))
    analyst = run.remember(
        "sec-analyst-fr", hub.create_account("analyst", "sec-analyst-fr", "--country", "FR")
    )
    run.remember("sec-lockout", hub.create_account("analyst", "sec-lockout", "--country", "FR"))
    made_de = json.loads(
        run.cli(
            "account",
            "create",
            "--role",
            "analyst",
            "--name",
            "sec-analyst-de",
            "--country",
            "DE",
            "--json",
        )
    )
    analyst_de = Credential(made_de["username"], made_de["token"], made_de["id"], "analyst", "DE")
    run.remember("sec-analyst-de", analyst_de)
    run.showed(token_secrets("sec-analyst-de", analyst_de))

    # 3. A partner, vetted, under an agreement that requires signatures and sends victim data
    #    to the victim's own country only; its signing key made and registered from the CLI.
    terms = pass_through_terms(["FR", "DE"], signatures_required=True, victim_data="victim-country")
    partner = run.remember("sec-partner", hub.onboard_partner("sec-partner", ["FR", "DE"], terms))
    assert partner.inbox is not None
    key_id = run.cli("key", "generate", "--out", str(work / "keys")).strip()
    run.cli(
        "key", "add", "sec-partner", "--file", str(work / "keys" / "public.pem"), "--as", "admin"
    )
    pem = (work / "keys" / "private.pem").read_bytes()
    run.secrets.update(key_secrets(pem))
    signing = SigningAuth(
        load_private_key_pem(pem), key_id, user=partner.username, token=partner.token
    )

    # 4. The signed envelope with victim data; an unsigned one is refused.
    inbox = hub.collection_url(partner.inbox) + "objects/"
    envelope = _victim_envelope()
    status = _post_signed(run, inbox, envelope, signing)
    assert (status["success_count"], status["failure_count"]) == (4, 1), status
    unsigned = requests.post(
        inbox,
        data=json.dumps(envelope).encode(),
        headers={"Content-Type": TAXII, "Accept": TAXII},
        auth=partner.auth,
        timeout=60,
    )
    assert unsigned.status_code == 401
    # A second signed envelope through `exchange push`.
    feed = work / "feed.json"
    feed.write_text(
        json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", **_victim_envelope()})
    )
    (work / "partner.token").write_text(partner.token)
    pushed = run.cli(
        "push", str(feed), "--url", hub.base, "--user", partner.username,
        "--token-file", str(work / "partner.token"), "--key", str(work / "keys" / "private.pem"),
        "--key-id", key_id, "--collection", partner.inbox, check=False,
    )  # fmt: skip
    assert "added" in pushed
    assert "missing_property" in pushed  # exits 1: the broken identity is refused

    # 5. Pulls: the French analysts get the victim's identity in full, the German one not.
    victim_id = envelope["objects"][0]["id"]
    for who in (analyst, hub.accounts["analyst-fr"]):
        france = Collection(hub.collection_url(FR), user=who.username, password=who.token)
        got = {obj["id"]: obj for obj in france.get_objects()["objects"]}
        assert got[victim_id]["name"] == VICTIM_NAME
    germany = Collection(
        hub.collection_url(DE), user=analyst_de.username, password=analyst_de.token
    )
    assert victim_id not in {obj["id"] for obj in germany.get_objects().get("objects", [])}
    one = requests.get(
        f"{hub.collection_url(FR)}objects/{victim_id}/",
        headers={"Accept": TAXII},
        auth=analyst.auth,
        timeout=60,
    )
    assert one.status_code == 200

    # 6. Failed authentications: wrong secrets for one credential id until it is locked out,
    #    a wrong Basic password, a malformed token.
    target = hub.accounts["sec-lockout"]
    prefix = target.token[: -len(_secret_part(target.token)) - 1]
    for attempt in range(WRONG_SECRETS + 1):
        wrong = f"{prefix}_{_b64url(uuid.uuid4().bytes + uuid.uuid4().bytes)[:43]}"
        run.secrets[f"wrong secret {attempt}"] = _secret_part(wrong)
        refused = requests.get(
            hub.discovery, headers={"Authorization": f"Bearer {wrong}"}, timeout=60
        )
        assert refused.status_code in {401, 429}
    assert refused.status_code == 429  # locked out: the hub logged it
    wrong_password = "correct-horse-battery-staple-" + uuid.uuid4().hex
    run.secrets["wrong Basic password"] = wrong_password
    for password in (wrong_password, analyst.token + "x"):
        answer = requests.get(hub.discovery, auth=(analyst.username, password), timeout=60)
        assert answer.status_code == 401

    # 7. An export from the command line, and a sighting.
    (work / "analyst.token").write_text(analyst.token)
    run.cli(
        "export", FR, "--format", "bundle", "--url", hub.base, "--user", analyst.username,
        "--token-file", str(work / "analyst.token"), "--out", str(work / "export.json"),
    )  # fmt: skip
    exported = json.loads((work / "export.json").read_text())
    assert victim_id in {obj["id"] for obj in exported["objects"]}
    indicator_id = envelope["objects"][3]["id"]
    sighting = requests.post(
        hub.base + "/analyst/sightings",
        json={"object_id": indicator_id, "verdict": "seen"},
        auth=analyst.auth,
        timeout=60,
    )
    assert sighting.status_code == 201, sighting.text
    feedback = requests.get(hub.base + "/partner/feedback", auth=partner.auth, timeout=60)
    assert feedback.status_code == 200

    # 8. Admin actions: a token rotated (old and new are secrets), a partner suspended and
    #    reinstated, a shared collection granted, the audit log verified, a report.
    rotated = hub._admin_call("POST", "/admin/accounts/sec-analyst-fr/token", "admin")
    run.remember(
        "sec-analyst-fr (rotated)",
        Credential(analyst.username, rotated["token"], analyst.id, "analyst"),
    )
    run.cli("partner", "suspend", "sec-partner", "--reason", "checking logs", "--as", "admin")
    run.cli("partner", "reinstate", "sec-partner", "--as", "admin")
    shared = hub._admin_call("POST", "/admin/collections", "admin", {"title": "Shared collection"})
    hub._admin_call(
        "PUT",
        f"/admin/collections/{shared['id']}/grants/sec-analyst-de",
        "admin",
        {"can_read": True},
    )
    # A signed head first (the server signs one only every 60 s), then the whole log against it.
    run.cli("audit", "head")
    run.cli("audit", "verify")
    run.cli("report", "sec-partner")
    run.cli("audit", "events", "--partner", "sec-partner", "--json")
    run.cli("evidence", "verify", status["id"])
    run.cli("evidence", "verify", status["id"], "--json")
    hub.stop()  # everything the server wrote is on disk now


def _written(run: Run) -> list[Output]:
    """The server's output and the data directory's files other than the database."""
    files = []
    for path in sorted(run.hub.data_dir.rglob("*")):
        if path.is_file() and not path.name.startswith("exchange.db"):
            files.append(Output(str(path), path.read_bytes().decode("utf-8", "replace")))
    return files


def test_the_run_wrote_what_a_debug_log_holds(run: Run) -> None:
    """The search below looked at real logs: the server ran at debug level, its own loggers
    included, and the run went through the paths it was meant to."""
    assert run.hub.log_path is not None
    log = run.hub.log_path.read_text()
    assert run.hub.log_level == "debug"
    assert "locked out for" in log  # the hub's own logger (exchange.auth) reached the file
    assert len(run.secrets) > 40


def test_no_secret_and_no_victim_data_in_any_output(run: Run) -> None:
    hits = []
    for output in [*run.outputs, *_written(run)]:
        allowed = {
            label: value for label, value in run.secrets.items() if label not in output.shows
        }
        for hit in find_secrets(output.text, {**allowed, **victim_data()}):
            hits.append(f"{output.where}: {hit}")
    assert not hits, "secrets or personal data written:\n" + "\n".join(hits)
