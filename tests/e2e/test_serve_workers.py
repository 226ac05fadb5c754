"""`exchange serve --workers N`: several server processes on one port, against real servers.

- With two workers on SQLite, partners push from eight threads at once, each request on a new
  connection: every push is answered (no 5xx), both worker processes do part of the work, and
  an analyst of the recipient country then pulls exactly the objects that were acknowledged
  (writers of the two processes take turns on the store).
- The same push and pull with two workers on PostgreSQL (skipped without a test server).
- Each worker bounds slow and oversized requests as a single process does.
- A worker killed with SIGKILL is replaced by the supervisor while the other keeps answering.
- Over TLS with `--workers 2`, each worker rebuilds the TLS context; SIGTERM to the parent stops
  every process, and the parent exits 0.
- Settings reach the workers without their secrets; bad `--workers` values and a missing store
  are one clear error each, before any worker starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from pydantic import SecretStr

from exchange.cli.main import cli
from exchange.cli.workers import SETTINGS_VARIABLE, hand_over, handed_over
from exchange.countries import country_collection_id
from exchange.settings import Settings
from tests.support.postgres import fresh_schema
from tests.support.server import EXCHANGE, Credential, HubProcess, _env, free_port, start_hub
from tests.support.stix import indicator
from tests.support.tls import make_pki

pytestmark = pytest.mark.e2e

TAXII = "application/taxii+json;version=2.1"
FR = country_collection_id("FR")
TIMEOUT = 60


# Processes -----------------------------------------------------------------------------------
def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        with (task / "children").open() as listing:
            found.update(int(child) for child in listing.read().split())
    return found


def _workers(pid: int) -> set[int]:
    """The server processes among ``pid``'s children (multiprocessing also starts a resource
    tracker)."""
    workers = set()
    for child in _children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"--multiprocessing-fork" in command:
            workers.add(child)
    return workers


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time ``pid`` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.1)


def _serving_workers(hub: HubProcess, count: int) -> set[int]:
    assert hub.process is not None
    pid = hub.process.pid
    _wait_for(lambda: len(_workers(pid)) == count, 30, f"{count} worker processes")
    return _workers(pid)


# Pushing and pulling -------------------------------------------------------------------------
def _indicator() -> dict[str, Any]:
    return indicator(
        f"[domain-name:value = '{uuid.uuid4().hex}.example']",
        name="Indicator pushed to a hub of several processes",
        indicator_types=["malicious-activity"],
    )


def _push(hub: HubProcess, partner: Credential, objects: list[dict[str, Any]]) -> set[str]:
    """One envelope, on a connection of its own; the ids the hub acknowledged."""
    assert partner.inbox is not None
    response = requests.post(
        hub.collection_url(partner.inbox) + "objects/",
        data=json.dumps({"objects": objects}),
        auth=partner.auth,
        headers={"Content-Type": TAXII, "Accept": TAXII, "Connection": "close"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 202, f"{response.status_code} {response.text[:300]}"
    status = response.json()
    assert (status["status"], status["failure_count"]) == ("complete", 0), status
    return {line["id"] for line in status["successes"]}


def _push_concurrently(
    hub: HubProcess, partner: Credential, *, threads: int, envelopes: int, size: int
) -> tuple[set[str], set[str]]:
    """``threads`` clients each push ``envelopes`` envelopes of ``size`` new indicators: the
    ids sent and the ids acknowledged."""
    batches = [[_indicator() for _ in range(size)] for _ in range(threads * envelopes)]
    sent = {obj["id"] for batch in batches for obj in batch}

    def client(first: int) -> set[str]:
        acknowledged: set[str] = set()
        for batch in batches[first::threads]:
            acknowledged |= _push(hub, partner, batch)
        return acknowledged

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(client, range(threads)))
    return sent, set().union(*results)


def _pull_all(hub: HubProcess, analyst: Credential, collection: str) -> list[str]:
    """Every object id in the collection, page after page (repeats kept, to be seen)."""
    ids: list[str] = []
    params: dict[str, str] = {"limit": "250"}
    while True:
        response = requests.get(
            hub.collection_url(collection) + "objects/",
            params=params,
            auth=analyst.auth,
            headers={"Accept": TAXII},
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, response.text[:300]
        page = response.json()
        ids.extend(obj["id"] for obj in page.get("objects", []))
        if not page.get("more"):
            return ids
        params["next"] = page["next"]


def _discovery_ok(hub: HubProcess, who: str = "analyst-fr") -> bool:
    response = requests.get(
        hub.discovery,
        auth=hub.accounts[who].auth,
        headers={"Accept": TAXII, "Connection": "close"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text[:300]
    return True


# Servers -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    hub = start_hub(
        tmp_path_factory.mktemp("two-workers"),
        extra_env={"EXCHANGE_WORKERS": "2"},
        log_level="info",
    )
    try:
        yield hub
    finally:
        hub.stop()


def test_two_worker_processes_share_concurrent_pushes(two_workers: HubProcess) -> None:
    hub = two_workers
    assert hub.process is not None
    assert hub.log_path is not None
    workers = _serving_workers(hub, 2)
    assert "(2 server processes)" in hub.log_path.read_text()
    partner = hub.onboard_partner("workers-partner", ["FR"])
    before = {pid: _cpu_seconds(pid) for pid in workers}

    sent, acknowledged = _push_concurrently(hub, partner, threads=8, envelopes=5, size=30)

    assert acknowledged == sent
    used = {pid: _cpu_seconds(pid) - before[pid] for pid in workers}
    # Each worker served part of the pushes: over a second of CPU between them, where an idle
    # worker uses a few hundredths of a second in the time the pushes take.
    assert all(seconds > 0.1 for seconds in used.values()), used
    assert _workers(hub.process.pid) == workers  # none was restarted

    pulled = _pull_all(hub, hub.accounts["analyst-fr"], FR)
    assert len(pulled) == len(set(pulled))
    assert set(pulled) == acknowledged


def test_workers_bound_connections_as_one_process_does(two_workers: HubProcess) -> None:
    """The connection limits reach the workers with their configuration (here: 431 for
    headers beyond EXCHANGE_MAX_HEADER_BYTES)."""
    oversized = b"x" * (Settings().max_header_bytes + 1024)
    for _ in range(4):  # whichever worker accepts the connection
        with socket.create_connection(("127.0.0.1", two_workers.port), timeout=30) as sock:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: hub\r\nX-Padding: " + oversized)
            assert sock.recv(64).startswith(b"HTTP/1.1 431 ")


def test_a_killed_worker_is_replaced(two_workers: HubProcess) -> None:
    hub = two_workers
    assert hub.process is not None
    assert hub.log_path is not None
    parent, log_path = hub.process.pid, hub.log_path
    victim, survivor = sorted(_serving_workers(hub, 2))

    os.kill(victim, signal.SIGKILL)

    def replaced() -> bool:
        _discovery_ok(hub)  # answered all along, by the survivor meanwhile
        current = _workers(parent)
        return victim not in current and survivor in current and len(current) == 2

    _wait_for(replaced, 30, "a new worker in place of the killed one")
    (newcomer,) = _workers(parent) - {survivor}
    _wait_for(
        lambda: f"Started server process [{newcomer}]" in log_path.read_text(),
        30,
        "the new worker started serving",
    )
    assert f"Child process [{victim}] died" in log_path.read_text()
    for _ in range(6):
        assert _discovery_ok(hub)


def test_two_worker_processes_on_postgres(tmp_path: Path) -> None:
    with fresh_schema() as url:
        hub = start_hub(
            tmp_path / "pg", extra_env={"EXCHANGE_DATABASE_URL": url, "EXCHANGE_WORKERS": "2"}
        )
        try:
            _serving_workers(hub, 2)
            partner = hub.onboard_partner("workers-partner", ["FR"])
            sent, acknowledged = _push_concurrently(hub, partner, threads=4, envelopes=3, size=10)
            assert acknowledged == sent
            pulled = _pull_all(hub, hub.accounts["analyst-fr"], FR)
            assert sorted(pulled) == sorted(acknowledged)
        finally:
            hub.stop()


def test_tls_workers_stop_together_on_sigterm(two_workers: HubProcess, tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        parent = subprocess.Popen(
            [
                *EXCHANGE,
                "serve",
                "--port",
                str(port),
                "--workers",
                "2",
                "--tls-cert",
                str(pki.server.cert),
                "--tls-key",
                str(pki.server.key),
            ],
            env=_env(two_workers.data_dir),  # a second server on the same store
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:

        def answers() -> bool:
            assert parent.poll() is None, log_path.read_text()
            try:
                response = requests.get(
                    f"https://127.0.0.1:{port}/taxii2/",
                    auth=two_workers.accounts["analyst-fr"].auth,
                    headers={"Accept": TAXII},
                    verify=str(pki.ca),
                    timeout=5,
                )
            except requests.ConnectionError:
                return False
            assert response.status_code == 200, response.text[:300]
            return True

        _wait_for(answers, 30, "the TLS server answered")
        _wait_for(lambda: len(_workers(parent.pid)) == 2, 30, "two workers")
        children = _children(parent.pid)
        assert f"https://127.0.0.1:{port}/taxii2/ (2 server processes)" in log_path.read_text()

        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=30) == 0, log_path.read_text()
        _wait_for(lambda: not any(_running(child) for child in children), 10, "every child ended")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


# Without a server ----------------------------------------------------------------------------
def test_workers_get_the_settings_without_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(SETTINGS_VARIABLE, "")  # restored after the test
    monkeypatch.setenv("EXCHANGE_TLS_KEY_PASSWORD", "key-password-from-the-environment")
    settings = Settings(
        data_dir=tmp_path / "given",
        workers=3,
        header_timeout_seconds=4.5,
        tls_client_cert="optional",
    )
    assert settings.tls_key_password == SecretStr("key-password-from-the-environment")

    hand_over(settings)
    # What the command line set wins over the environment the worker inherits.
    monkeypatch.setenv("EXCHANGE_DATA_DIR", str(tmp_path / "environment"))

    assert "key-password" not in os.environ[SETTINGS_VARIABLE]
    assert handed_over() == settings


def test_help_says_when_to_use_workers() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "--workers" in text
    assert "one per CPU core" in text
    assert "EXCHANGE_WORKERS" in text


@pytest.mark.parametrize(
    ("value", "message"),
    [("0", "0 is not in the range 1<=x<=64"), ("two", "'two' is not a valid integer")],
)
def test_bad_worker_counts_are_refused(value: str, message: str) -> None:
    result = CliRunner().invoke(cli, ["serve", "--workers", value])
    assert result.exit_code == 2
    assert f"Invalid value for '--workers': {message}" in result.output


def test_a_missing_store_is_one_error_before_any_worker(tmp_path: Path) -> None:
    done = subprocess.run(
        [*EXCHANGE, "serve", "--port", str(free_port()), "--workers", "2"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: Store error: no store at {tmp_path / 'exchange.db'}: run `exchange init` first"
    ]
