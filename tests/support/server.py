"""A real `exchange serve` process on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

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


@dataclass
class HubProcess:
    """A running hub: its URL, data directory and the demo world's credentials."""

    data_dir: Path
    port: int
    extra_env: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, Credential] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def discovery(self) -> str:
        return f"{self.base}/taxii2/"

    @property
    def api_root(self) -> str:
        return f"{self.base}/hub/"

    def collection_url(self, collection_id: str) -> str:
        return f"{self.api_root}collections/{collection_id}/"

    def start(self) -> None:
        self.log_path = self.data_dir / f"serve-{self.port}.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*EXCHANGE, "serve", "--port", str(self.port), "--log-level", "warning"],
                env=_env(self.data_dir, self.extra_env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"exchange serve exited: {self.log_path.read_text()}")
            try:
                requests.get(self.discovery, timeout=1)
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

    def create_account(self, role: str, name: str, *extra: str) -> Credential:
        made = run_cli_json(
            self.data_dir, "account", "create", "--role", role, "--name", name, "--json", *extra
        )
        credential = Credential(
            username=made["username"],
            token=made["token"],
            id=made["id"],
            role=made["role"],
            country=made["country"],
            inbox=made["inbox"],
        )
        self.accounts[name] = credential
        return credential


def start_hub(data_dir: Path, *, extra_env: dict[str, str] | None = None) -> HubProcess:
    """Initialise a store with the demo world in ``data_dir`` and start serving it."""
    hub = HubProcess(data_dir=data_dir, port=free_port(), extra_env=extra_env or {})
    made = run_cli_json(data_dir, "init", "--demo", "--json")
    for entry in [made["admin"], *made["demo"]]:
        hub.accounts[entry["username"]] = Credential(
            username=entry["username"],
            token=entry["token"],
            id=entry["id"],
            role=entry["role"],
            country=entry["country"],
            inbox=entry["inbox"],
        )
    hub.start()
    return hub
