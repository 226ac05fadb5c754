"""A real `exchange serve` process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from exchange.partners.vetting import Criterion
from tests.support.onboarding import pass_through_terms
from tests.support.paths import CONFIG_DIR

EXCHANGE = [sys.executable, "-m", "exchange.cli.main"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["EXCHANGE_DATA_DIR"] = str(data_dir)
    env["EXCHANGE_CONFIG_DIR"] = str(CONFIG_DIR)
    env.update(extra or {})
    return env


def run_cli(data_dir: Path, *args: str, extra_env: dict[str, str] | None = None) -> str:
    """Run the `exchange` command; return its standard output (fails the test on non-zero)."""
    done = subprocess.run(
        [*EXCHANGE, *args],
        env=_env(data_dir, extra_env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"exchange {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def run_cli_json(data_dir: Path, *args: str) -> Any:
    return json.loads(run_cli(data_dir, *args))


@dataclass
class Credential:
    username: str
    token: str
    id: str
    role: str
    country: str | None = None
    inbox: str | None = None

    @property
    def auth(self) -> tuple[str, str]:
        return (self.username, self.token)

    @classmethod
    def from_init(cls, entry: dict[str, Any]) -> Credential:
        """An account as `exchange init --json` lists it (the admin, each demo account)."""
        return cls(
            username=entry["username"],
            token=entry["token"],
            id=entry["id"],
            role=entry["role"],
            country=entry["country"],
            inbox=entry["inbox"],
        )


@dataclass(frozen=True)
class ClientTLS:
    """How clients reach a hub that serves HTTPS: the CA that signed its certificate and, for
    mTLS, a client certificate and key."""

    ca_file: Path
    cert: tuple[str, str] | None = None

    def requests_options(self) -> dict[str, Any]:
        """``verify=`` and ``cert=`` for `requests`."""
        return {"verify": str(self.ca_file), "cert": self.cert}


@dataclass
class HubProcess:
    """A running hub: its URL, data directory and the demo world's credentials."""

    data_dir: Path
    port: int
    extra_env: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, Credential] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    tls: ClientTLS | None = None
    """Set when the hub serves HTTPS (its EXCHANGE_TLS_* settings are in ``extra_env``)."""
    log_level: str = "warning"

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def _requests_options(self) -> dict[str, Any]:
        return self.tls.requests_options() if self.tls else {}

    @property
    def discovery(self) -> str:
        return f"{self.base}/taxii2/"

    @property
    def api_root(self) -> str:
        return f"{self.base}/hub/"

    def collection_url(self, collection_id: str) -> str:
        return f"{self.api_root}collections/{collection_id}/"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)  # a PostgreSQL store makes no files
        self.log_path = self.data_dir / f"serve-{self.port}.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*EXCHANGE, "serve", "--port", str(self.port), "--log-level", self.log_level],
                env=_env(self.data_dir, self.extra_env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"exchange serve exited: {self.log_path.read_text()}")
            try:
                requests.get(self.discovery, timeout=1, **self._requests_options())
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError("exchange serve did not start within 30 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def kill(self) -> None:
        """SIGKILL the server process, as a crash would: no shutdown, no flush, no cleanup.
        ``exchange serve`` runs uvicorn in its own process, so this is the server itself."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
            self.process = None

    def _admin_call(self, method: str, path: str, who: str, body: Any = None) -> Any:
        response = requests.request(
            method,
            self.base + path,
            json=body,
            auth=self.accounts[who].auth,
            timeout=60,
            **self._requests_options(),
        )
        if response.status_code >= 300:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def create_account(self, role: str, name: str, *extra: str) -> Credential:
        """A new account through the admin API (``extra``: ``--country CC`` for analysts)."""
        body: dict[str, Any] = {"role": role, "username": name}
        if "--country" in extra:
            body["country"] = extra[extra.index("--country") + 1]
        made = self._admin_call("POST", "/admin/accounts", "admin", body)
        credential = Credential(
            username=made["username"],
            token=made["token"],
            id=made["id"],
            role=made["role"],
            country=made["country"],
            inbox=made["inbox_collection"],
        )
        self.accounts[name] = credential
        return credential

    def onboard_partner(
        self, name: str, countries: Sequence[str], terms: dict[str, Any] | None = None
    ) -> Credential:
        """A new partner, vetted by two admins, active, under an agreement (pass-through
        terms for ``countries`` unless ``terms`` are given)."""
        credential = self.create_account("partner", name)
        base = f"/admin/partners/{name}"
        self._admin_call("POST", f"{base}/review", "admin", {})
        for criterion in Criterion:
            assessment = {"criterion": criterion.value, "finding": "met", "evidence": "test"}
            self._admin_call("POST", f"{base}/review/assessments", "admin", assessment)
        self._admin_call("POST", f"{base}/review/approve", "admin")
        self._admin_call("POST", f"{base}/review/approve", "demo-reviewer")
        self._admin_call("POST", f"{base}/activate", "admin")
        agreement = {"terms": terms or pass_through_terms(countries)}
        self._admin_call("PUT", f"{base}/agreement", "admin", agreement)
        return credential


def start_hub(
    data_dir: Path,
    *,
    extra_env: dict[str, str] | None = None,
    tls: ClientTLS | None = None,
    log_level: str = "warning",
) -> HubProcess:
    """Initialise a store with the demo world in ``data_dir`` and start serving it
    (``extra_env`` applies to both, e.g. EXCHANGE_DATABASE_URL for a PostgreSQL store; with
    ``tls``, ``extra_env`` holds the EXCHANGE_TLS_* settings and clients use HTTPS)."""
    hub = HubProcess(
        data_dir=data_dir,
        port=free_port(),
        extra_env=extra_env or {},
        tls=tls,
        log_level=log_level,
    )
    made = json.loads(run_cli(data_dir, "init", "--demo", "--json", extra_env=hub.extra_env))
    for entry in [made["admin"], *made["demo"]]:
        hub.accounts[entry["username"]] = Credential.from_init(entry)
    hub.start()
    return hub


def start_another_node(first: HubProcess, data_dir: Path) -> HubProcess:
    """A second `exchange serve` on the store of ``first`` (no `exchange init`): same
    environment (so the same EXCHANGE_DATABASE_URL), its own port and data directory. The two
    share one ``accounts`` dict, since accounts made through either node live in one store."""
    node = HubProcess(
        data_dir=data_dir,
        port=free_port(),
        extra_env=dict(first.extra_env),
        accounts=first.accounts,
        tls=first.tls,
        log_level=first.log_level,
    )
    node.start()
    return node
