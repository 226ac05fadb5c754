"""Benchmark: the hub beside medallion 3.0.0 and OpenTAXII 0.9.3, on one workload, in one run.

One command runs every system in turn, as its users run it, on a free 127.0.0.1 port, and
prints a table with the ratios hub/peer; it also writes the figures as JSON and a PNG plot
(throughput and page latency against the store's size, one line per system):

    .venv/bin/python benchmarks/compare.py                    # hub 1,000,000 objects: about an hour
    .venv/bin/python benchmarks/compare.py --objects 50000 --max-seconds 1200
    .venv/bin/python benchmarks/compare.py --tiny             # CI: every system, ~1 minute
    .venv/bin/python benchmarks/compare.py --database-url postgresql://127.0.0.1:5432/test

* ``hub-sqlite`` / ``hub-postgres``: ``exchange init`` then ``exchange serve`` (uvicorn), on
  SQLite in a temporary data directory or in a throw-away PostgreSQL schema (``pages.PgSchema``).
  Over the admin API, a second admin, N partners taken through due diligence by both admins,
  each under an agreement whose recipients are all the member countries (196) and which
  requires signatures, each with a registered Ed25519 key; M analysts of different countries.
  Partners push signed envelopes (``exchange.signing.client.SigningAuth``) to their inboxes;
  analysts page their country collections.
* ``medallion``: medallion 3.0.0, memory backend, under uvicorn through a2wsgi.
* ``opentaxii``: OpenTAXII 0.9.3, TAXII 2.1 only, SQL backend on SQLite, under uvicorn through
  a2wsgi. The peers are installed by ``benchmarks/peers/setup`` (called when they are missing)
  into their own virtualenvs; each gets one collection and basic-auth users, and no signatures.

Every system gets the same objects (a prefix of one seeded stream, see ``workload.py``) in the
same envelopes through the same client code (``requests`` sessions with keep-alive): N partner
threads push concurrently while M analyst threads poll with ``added_after`` and ``next``. At
checkpoints (1, 3, 10, 30 ... thousand objects, every system's final size, and the end) ingest
pauses and the benchmark measures: ingest obj/s over the last interval, page latency (limit=100)
at the start and at the newest position, a full pull by one analyst (limit=1000, following
``next``) in obj/s, the store on disk against the raw JSON accepted, and the server's RSS.

A system fails functionally when an envelope is not ``complete`` with every object a success,
when a page or the pull misses an object that was accepted or holds one that was not, or when a
request fails: the run then exits 1. It stops cleanly at ``--max-seconds`` (exit 2) with what it
has. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from exchange.countries import country_collection_id, load_countries
from exchange.signing.client import SigningAuth
from exchange.signing.keys import generate_private_key, public_key_info
from pages import (
    CONFIG_DIR,
    HOST,
    PG_SCHEMES,
    RESULTS_DIR,
    TAXII,
    BenchError,
    Deadline,
    OutOfTime,
    PgSchema,
    Server,
    free_port,
    percentile,
    pg_settings_line,
    redacted,
    rss_kib,
    stop_process,
    store_files,
)
from workload import WORKLOADS, ReplayPool, replay_pool, stream

PROJECT = Path(__file__).resolve().parents[1]
PEERS_CODE = PROJECT / "benchmarks" / "peers"
PEERS_DIR = Path(os.environ.get("EXCHANGE_PEERS_DIR", PROJECT / "benchmarks" / ".peers"))
SYSTEMS = ("hub-sqlite", "hub-postgres", "medallion", "opentaxii")
PEERS = ("medallion", "opentaxii")
PEER_VERSIONS = {"medallion": "3.0.0", "opentaxii": "0.9.3"}
DEFAULT_PEER_OBJECTS = {"opentaxii": 20_000, "medallion": 1_000}
# Analysts' countries, in this order, then the other member countries alphabetically.
PREFERRED_COUNTRIES = ("FR", "DE", "BR", "JP", "NG", "IN", "US", "AU", "ZA", "MX", "ID", "EG")
PAGE = 100  # limit of the timed pages and of the analysts' polls
PULL_LIMIT = 1000  # limit of the full pull
POST_TIMEOUT = 600.0
GET_TIMEOUT = 600.0  # medallion's pages take seconds to minutes as it grows
ADMIN_TIMEOUT = 60.0
START_TIMEOUT = 60.0
SETUP_TIMEOUT = 900.0
POLL_SECONDS = 0.2  # an analyst that has caught up waits this long before polling again
SQLITE_BUSY_SECONDS = 120  # OpenTAXII's SQLite connections wait this long for a lock
# The checkpoints: 1-3-10 steps from 100 objects up.
SERIES = tuple(m * 10**k for k in range(2, 10) for m in (1, 3))  # 100, 300, 1000, 3000, ...


def utc_now() -> str:
    """Now as a TAXII timestamp with microseconds (what added_after takes)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def latency_summary(samples: Sequence[float]) -> dict[str, Any]:
    return {
        "n": len(samples),
        "p50_ms": ms(percentile(list(samples), 50)) if samples else None,
        "p99_ms": ms(percentile(list(samples), 99)) if samples else None,
        "max_ms": ms(max(samples)) if samples else None,
    }


def host_info() -> dict[str, Any]:
    cpu_model = "?"
    mem_kib = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    try:
        nproc = subprocess.run(
            ["nproc"], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    except OSError:
        nproc = str(len(os.sched_getaffinity(0)))
    return {
        "nproc": int(nproc) if nproc.isdigit() else nproc,
        "cpu_model": cpu_model,
        "memory_gib": round(mem_kib / 1024 / 1024, 1) if mem_kib else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
    }


# Accounts and systems ----------------------------------------------------------------------
@dataclass
class Client:
    """One account on a system: the URL of its collection's objects and how it authenticates."""

    name: str
    url: str
    auth: Callable[[requests.Session], None]

    def session(self, *, writer: bool = False) -> requests.Session:
        session = requests.Session()
        session.headers["Accept"] = TAXII
        if writer:
            session.headers["Content-Type"] = TAXII
        self.auth(session)
        return session


def basic(user: str, password: str) -> Callable[[requests.Session], None]:
    def apply(session: requests.Session) -> None:
        session.auth = (user, password)

    return apply


def bearer(token: str) -> Callable[[requests.Session], None]:
    def apply(session: requests.Session) -> None:
        session.headers["Authorization"] = f"Bearer {token}"

    return apply


def signing(auth: SigningAuth) -> Callable[[requests.Session], None]:
    def apply(session: requests.Session) -> None:
        session.auth = auth

    return apply


class System(ABC):
    """A TAXII 2.1 server under test: started, given accounts, measured, stopped."""

    name: str
    label: str

    def __init__(self, temp: Path, size: int, partners: int, analysts: Sequence[str]) -> None:
        self.temp = temp
        self.size = size
        self.partner_count = partners
        self.analyst_countries = list(analysts)
        self.writers: list[Client] = []
        self.readers: list[Client] = []
        self.notes: list[str] = []
        self.info: dict[str, Any] = {}
        self.log_path = temp / "serve.log"

    @abstractmethod
    def start(self, deadline: Deadline) -> None:
        """Create the store and the accounts, start the server."""

    @abstractmethod
    def stop(self) -> int | None:
        """Stop the server (always safe to call); returns its exit code."""

    @abstractmethod
    def pid(self) -> int | None: ...

    @abstractmethod
    def store_bytes(self) -> tuple[int | None, str]:
        """The store's size and what was measured."""

    def alive(self) -> bool:
        return self.pid() is not None

    def acceptable_extra(self, obj: dict[str, Any]) -> bool:
        """Whether an object the system serves but nobody sent is expected (none by default)."""
        return False

    def before_measuring(self, deadline: Deadline) -> None:  # noqa: B027 - optional hook
        """Called at each checkpoint while ingest is paused, before the quiet measurements."""

    def final_checks(self, expected: int, deadline: Deadline) -> dict[str, Any]:
        return {}

    def cleanup(self) -> None:  # noqa: B027 - optional hook
        """Release what outlives the process (a PostgreSQL schema)."""

    def log_errors(self, most: int = 5) -> list[str]:
        """The first distinct lines of the server log that name an error."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        found: list[str] = []
        for line in text.splitlines():
            if "Error" in line and not line.startswith(" ") and line not in found:
                found.append(line[:300])
                if len(found) == most:
                    break
        return found

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class HubSystem(System):
    """The hub, as users run it: `exchange init`, `exchange serve`, the admin API over HTTP."""

    def __init__(
        self,
        temp: Path,
        size: int,
        partners: int,
        analysts: Sequence[str],
        *,
        database_url: str | None,
        keep: bool,
        workers: int = 1,
    ) -> None:
        super().__init__(temp, size, partners, analysts)
        self.pg = PgSchema(database_url) if database_url else None
        self.name = "hub-sqlite" if self.pg is None else "hub-postgres"
        self.label = f"hub ({'SQLite' if self.pg is None else 'PostgreSQL'})"
        self.keep = keep
        self.data_dir = temp / "data"
        self.server = Server(
            data_dir=self.data_dir, log_path=self.log_path, log_level="warning", workers=workers
        )
        self.admin_auth: tuple[str, str] = ("", "")
        self.reviewer_auth: tuple[str, str] = ("", "")
        self.analyze_each_checkpoint = False

    def _admin(self, method: str, path: str, body: Any = None, *, who: str = "admin") -> Any:
        auth = self.admin_auth if who == "admin" else self.reviewer_auth
        response = requests.request(
            method, self.server.base + path, json=body, auth=auth, timeout=ADMIN_TIMEOUT
        )
        if response.status_code >= 300:
            raise BenchError(f"{method} {path} -> {response.status_code}: {response.text[:300]}")
        return response.json()

    def start(self, deadline: Deadline) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.pg is not None:
            settings = self.pg.create()
            self.server.database_url = self.pg.url
            self.info["postgresql"] = settings
            self.info["database"] = {"url": redacted(self.pg.base_url), "schema": self.pg.name}
            self.notes.append(
                f"PostgreSQL {settings.get('server_version', '?')} at "
                f"{redacted(self.pg.base_url)}, schema {self.pg.name}: "
                f"{pg_settings_line(settings)}"
            )
            if settings.get("autovacuum") == "off":
                self.analyze_each_checkpoint = True
                self.notes.append(
                    "autovacuum is off on this PostgreSQL server: the benchmark ANALYZEs the "
                    "schema at each checkpoint, as autovacuum would"
                )
        else:
            self.info["database"] = {"path": str(self.data_dir / "exchange.db")}
        made = self.server.cli_json("init", "--json", deadline=deadline)
        self.admin_auth = (made["admin"]["username"], made["admin"]["token"])
        self.server.start(deadline)
        reviewer = self._admin("POST", "/admin/accounts", {"role": "admin", "username": "reviewer"})
        self.reviewer_auth = (reviewer["username"], reviewer["token"])
        terms = agreement_terms()
        for number in range(1, self.partner_count + 1):
            deadline.check("onboarding partners")
            name = f"partner-{number}"
            made = self._admin(
                "POST",
                "/admin/accounts",
                {"role": "partner", "username": name, "display_name": f"Partner {number}"},
            )
            base = f"/admin/partners/{name}"
            self._admin("POST", f"{base}/review", {})
            for criterion in ("shares-values", "compatible-activities", "compatible-purpose"):
                self._admin(
                    "POST",
                    f"{base}/review/assessments",
                    {"criterion": criterion, "finding": "met", "evidence": "benchmark"},
                )
            self._admin("POST", f"{base}/review/approve")
            self._admin("POST", f"{base}/review/approve", who="reviewer")
            self._admin("POST", f"{base}/activate")
            agreement = self._admin("PUT", f"{base}/agreement", {"terms": terms})
            if not agreement["terms"]["recipients"]["all_members"]:
                raise BenchError(f"{name}: the agreement does not name every member country")
            private = generate_private_key("ed25519")
            key = public_key_info(private.public_key())
            self._admin("POST", f"{base}/keys", {"public_key": key.pem()})
            auth = SigningAuth(private, key.key_id, user=name, token=made["token"])
            inbox = made["inbox_collection"]
            self.writers.append(
                Client(name, f"{self.server.base}/hub/collections/{inbox}/objects/", signing(auth))
            )
        for code in self.analyst_countries:
            name = f"analyst-{code.lower()}"
            made = self._admin(
                "POST", "/admin/accounts", {"role": "analyst", "username": name, "country": code}
            )
            url = f"{self.server.base}/hub/collections/{country_collection_id(code)}/objects/"
            self.readers.append(Client(name, url, basic(name, made["token"])))
        countries = len(self._admin("GET", "/admin/countries"))
        self.info["member_countries"] = countries
        self.info["server_processes"] = self.server.workers
        self.notes.append(
            f"exchange serve --workers {self.server.workers}: {self.server.workers} server "
            f"process{'es' if self.server.workers > 1 else ''}; RSS is the sum over them and "
            "their supervisor"
        )
        self.notes.append(
            f"{self.partner_count} partners vetted by two admins, each under an agreement for all "
            f"{countries} member countries, pushing envelopes signed with Ed25519 (RFC 9421); "
            f"{len(self.readers)} analysts ({', '.join(self.analyst_countries)}) with basic auth"
        )

    def stop(self) -> int | None:
        return self.server.stop()

    def pid(self) -> int | None:
        return self.server.pid if self.server.alive() else None

    def store_bytes(self) -> tuple[int | None, str]:
        if self.pg is None:
            files = store_files(self.data_dir)
            return files["exchange.db"] + files["exchange.db-wal"], "exchange.db + -wal"
        try:
            return self.pg.total_bytes(), "pg_total_relation_size of the schema's tables"
        except psycopg.Error as exc:
            return None, f"error: {str(exc).strip()[:200]}"

    def acceptable_extra(self, obj: dict[str, Any]) -> bool:
        # The agreements mark unmarked objects TLP:AMBER; the hub serves that definition too.
        return str(obj.get("id", "")).startswith("marking-definition--")

    def before_measuring(self, deadline: Deadline) -> None:
        if self.pg is not None and self.analyze_each_checkpoint:
            deadline.check("ANALYZE")
            self.pg.analyze()

    def final_checks(self, expected: int, deadline: Deadline) -> dict[str, Any]:
        """Every member country's collection holds what was accepted (not only the analysts')."""
        try:
            collections = self._admin("GET", "/admin/collections")
        except (BenchError, requests.RequestException) as exc:
            return {"country_collections": f"not checked: {exc}"}
        countries = [c for c in collections if c.get("country")]
        sizes = {c["country"]: c["objects"] for c in countries}
        short = sorted(code for code, size in sizes.items() if size < expected)
        return {
            "country_collections": len(countries),
            "country_collections_complete": len(countries) - len(short),
            "country_collections_short": short[:10],
        }

    def cleanup(self) -> None:
        if self.pg is not None and self.pg.created and not self.keep:
            try:
                self.pg.drop()
            except psycopg.Error as exc:
                self.notes.append(f"could not drop schema {self.pg.name}: {exc}")


def agreement_terms() -> dict[str, Any]:
    """A realistic agreement: every member country, signatures required, TLP 2.0 handling."""
    return {
        "valid_from": "2024-01-01T00:00:00Z",
        "legal_basis": "Memorandum of understanding on cyber-threat information sharing",
        "purpose": "Prevention and investigation of cybercrime by member-country police",
        "categories": ["threat", "attack", "victim"],
        "attribution": "named",
        "victim_data": "redact",
        "signatures_required": True,
        "tlp": {
            "default": "amber",
            "highest_accepted": "amber+strict",
            "never_redistribute": ["red"],
        },
        "recipients": {"all_members": True},
    }


class PeerSystem(System):
    """A peer TAXII server from its own virtualenv, under uvicorn through a2wsgi."""

    peer: str
    module: str

    def __init__(self, temp: Path, size: int, partners: int, analysts: Sequence[str]) -> None:
        super().__init__(temp, size, partners, analysts)
        self.name = self.peer
        self.label = f"{self.peer} {PEER_VERSIONS[self.peer]}"
        self.venv = PEERS_DIR / self.peer
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.users = {f"partner-{n}": secrets.token_urlsafe(16) for n in range(1, partners + 1)}
        self.users |= {f"analyst-{c.lower()}": secrets.token_urlsafe(16) for c in analysts}

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return env

    def serve(self, deadline: Deadline, env: dict[str, str]) -> None:
        command = [
            str(self.venv / "bin" / "uvicorn"),
            "--app-dir",
            str(PEERS_CODE),
            f"{self.module}:app",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=env, cwd=self.temp, stdout=log, stderr=subprocess.STDOUT
            )
        until = time.monotonic() + min(START_TIMEOUT, max(deadline.remaining(), 1))
        while time.monotonic() < until:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.process.returncode} at start")
            try:
                requests.get(f"{self.base}/taxii2/", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        deadline.check(f"{self.name} start-up")
        raise BenchError(f"{self.name} did not answer within {START_TIMEOUT:g} s")

    def stop(self) -> int | None:
        code = stop_process(self.process)
        self.process = None
        return code

    def pid(self) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return None
        return self.process.pid


class MedallionSystem(PeerSystem):
    peer = "medallion"
    module = "medallion_asgi"
    collection = "9f0a2a4c-6c8e-4a39-8a1b-2f6d1c7e5b10"

    def start(self, deadline: Deadline) -> None:
        self.port = free_port()
        root = f"http://{HOST}:{self.port}/bench/"
        data = {
            "/discovery": {
                "title": "benchmark",
                "description": "medallion for benchmarks/compare.py",
                "default": root,
                "api_roots": [root],
            },
            "bench": {
                "information": {
                    "title": "benchmark",
                    "description": "one collection",
                    "versions": ["application/taxii+json;version=2.1"],
                    "max_content_length": 104_857_600,
                },
                "status": [],
                "collections": [
                    {
                        "id": self.collection,
                        "title": "benchmark",
                        "can_read": True,
                        "can_write": True,
                        "media_types": ["application/stix+json;version=2.1"],
                        "objects": [],
                        "manifest": [],
                    }
                ],
            },
        }
        (self.temp / "data.json").write_text(json.dumps(data))
        config = {
            "backend": {
                "module": "medallion.backends.memory_backend",
                "module_class": "MemoryBackend",
                "filename": str(self.temp / "data.json"),
            },
            "users": self.users,
            "taxii": {"max_page_size": PULL_LIMIT},
        }
        (self.temp / "medallion.json").write_text(json.dumps(config))
        env = self.env()
        env["MEDALLION_CONFIG"] = str(self.temp / "medallion.json")
        self.serve(deadline, env)
        url = f"{root}collections/{self.collection}/objects/"
        for name, password in self.users.items():
            client = Client(name, url, basic(name, password))
            (self.writers if name.startswith("partner-") else self.readers).append(client)
        self.notes.append(
            "medallion 3.0.0, memory backend (no store on disk: see its RSS), one collection, "
            "basic-auth users, no signatures"
        )

    def store_bytes(self) -> tuple[int | None, str]:
        return None, "memory backend"


class OpenTaxiiSystem(PeerSystem):
    peer = "opentaxii"
    module = "opentaxii_asgi"

    def start(self, deadline: Deadline) -> None:
        self.port = free_port()
        self.db = self.temp / "opentaxii.db"
        config = {
            "domain": f"{HOST}:{self.port}",
            "support_basic_auth": True,
            "return_server_error_details": False,
            "auth_api": {
                "class": "opentaxii.auth.sqldb.SQLDatabaseAPI",
                "parameters": {
                    "db_connection": f"sqlite:///{self.temp / 'opentaxii-auth.db'}",
                    "create_tables": True,
                    "secret": secrets.token_hex(24),
                    "token_ttl_secs": 7 * 24 * 3600,
                    "connect_args": {"timeout": SQLITE_BUSY_SECONDS},
                },
            },
            "taxii1": None,
            "taxii2": {
                "persistence_api": {
                    "class": "opentaxii.persistence.sqldb.Taxii2SQLDatabaseAPI",
                    # Extra parameters go to SQLAlchemy's create_engine: without a longer busy
                    # timeout than sqlite3's 5 s, concurrent envelopes fail with "database is
                    # locked" (a 500) once a commit takes longer than that.
                    "parameters": {
                        "db_connection": f"sqlite:///{self.db}",
                        "create_tables": True,
                        "connect_args": {"timeout": SQLITE_BUSY_SECONDS},
                    },
                },
                "max_content_length": 104_857_600,
                "title": "benchmark",
                "public_discovery": True,
                "allow_custom_properties": True,
            },
            "logging": {"opentaxii": "warning", "root": "warning"},
        }
        # JSON is YAML: OpenTAXII reads this file with yaml.safe_load.
        path = self.temp / "opentaxii.yml"
        path.write_text(json.dumps(config, indent=2))
        env = self.env()
        env["OPENTAXII_CONFIG"] = str(path)
        env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"
        done = subprocess.run(
            [str(self.venv / "bin" / "python"), str(PEERS_CODE / "opentaxii_init.py")],
            input=json.dumps({"users": self.users}),
            env=env,
            cwd=self.temp,
            capture_output=True,
            text=True,
            timeout=min(120, max(deadline.remaining(), 1)),
            check=False,
        )
        if done.returncode != 0:
            raise BenchError(f"opentaxii_init.py failed: {done.stderr.strip()[-800:]}")
        made = json.loads(done.stdout.strip().splitlines()[-1])
        self.serve(deadline, env)
        url = f"{self.base}/taxii2/{made['api_root']}/collections/{made['collection']}/objects/"
        # OpenTAXII checks a basic-auth password with a salted PBKDF2 hash on every request; its
        # own JWTs (POST /management/auth) are how a client avoids that, so the clients use them.
        basic_ms: list[float] = []
        bearer_ms: list[float] = []
        for name, password in self.users.items():
            response = requests.post(
                f"{self.base}/management/auth",
                json={"username": name, "password": password},
                timeout=ADMIN_TIMEOUT,
            )
            if response.status_code != 200:
                raise BenchError(f"opentaxii /management/auth -> {response.status_code}")
            token = response.json()["token"]
            client = Client(name, url, bearer(token))
            (self.writers if name.startswith("partner-") else self.readers).append(client)
        probe = self.readers[0] if self.readers else self.writers[0]
        name = probe.name
        for _ in range(3):
            for auth, times in ((basic(name, self.users[name]), basic_ms), (probe.auth, bearer_ms)):
                session = Client(name, url, auth).session()
                began = time.perf_counter()
                session.get(f"{self.base}/taxii2/", timeout=ADMIN_TIMEOUT)
                times.append(time.perf_counter() - began)
        self.info["auth_ms"] = {
            "basic_p50": ms(percentile(basic_ms, 50)),
            "bearer_p50": ms(percentile(bearer_ms, 50)),
        }
        self.notes.append(
            "OpenTAXII 0.9.3, TAXII 2.1 only, SQL backend on SQLite, one collection; basic-auth "
            "users that send the JWT OpenTAXII issues them (/management/auth): basic auth on "
            f"every request costs a PBKDF2 check ({self.info['auth_ms']['basic_p50']:.0f} ms "
            f"per request here against {self.info['auth_ms']['bearer_p50']:.0f} ms); no "
            "signatures. Accounts are admins (0.9.3 cannot grant TAXII 2.1 collection "
            "permissions); its UUID-in-JSON bug (issue #243) is patched at start-up; SQLite "
            f"busy timeout {SQLITE_BUSY_SECONDS} s (with sqlite3's default 5 s, concurrent "
            "envelopes fail with 'database is locked')"
        )

    def store_bytes(self) -> tuple[int | None, str]:
        total = 0
        for suffix in ("", "-journal", "-wal"):
            path = Path(f"{self.db}{suffix}")
            total += path.stat().st_size if path.exists() else 0
        return total, "opentaxii.db (+ journal/-wal)"


# The load ----------------------------------------------------------------------------------
class Failure(Exception):
    """The system under test failed functionally (not a time-out of the benchmark)."""


class Accepted:
    """What a system accepted: distinct ids (hashed) and raw JSON bytes."""

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.objects = 0
        self.raw_bytes = 0

    def add(self, objects: Sequence[dict[str, Any]], raw: int) -> None:
        self.ids.update(hash(obj["id"]) for obj in objects)
        self.objects += len(objects)
        self.raw_bytes += raw


@dataclass
class Envelope:
    body: bytes
    count: int


class Analysts:
    """M analyst threads polling their collections with added_after and next while ingest runs.

    ``resume()`` lets them poll; ``pause()`` parks them (waiting for requests in flight) so that
    checkpoints are measured on a quiet server; ``catch_up()`` waits until each has polled to the
    end after the ingest finished.
    """

    def __init__(self, clients: Sequence[Client], deadline: Deadline) -> None:
        self.clients = list(clients)
        self.deadline = deadline
        self.running = threading.Event()
        self.stopping = threading.Event()
        self.parked = [threading.Event() for _ in self.clients]
        self.seen: list[set[int]] = [set() for _ in self.clients]
        self.caught_up = [0 for _ in self.clients]
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.requests = 0
        self.threads = [
            threading.Thread(target=self._loop, args=(i,), daemon=True, name=f"analyst-{i}")
            for i in range(len(self.clients))
        ]
        for thread in self.threads:
            thread.start()

    def _loop(self, index: int) -> None:
        client = self.clients[index]
        session = client.session()
        cursor: str | None = None
        next_token: str | None = None
        while not self.stopping.is_set():
            if not self.running.is_set():
                self.parked[index].set()
                self.running.wait(0.2)
                continue
            self.parked[index].clear()
            if not self.running.is_set():
                continue
            if self.deadline.remaining() <= 0:
                break
            params: dict[str, Any] = {"limit": PAGE}
            if cursor:
                params["added_after"] = cursor
            if next_token:
                params["next"] = next_token
            began = time.perf_counter()
            try:
                response = session.get(
                    client.url, params=params, timeout=self.deadline.timeout(GET_TIMEOUT)
                )
                raw = response.content
            except (requests.RequestException, OutOfTime) as exc:
                if self.deadline.remaining() <= 0:
                    break
                self.errors.append(f"{client.name}: {type(exc).__name__}: {exc}"[:300])
                next_token = None
                time.sleep(POLL_SECONDS)
                continue
            elapsed = time.perf_counter() - began
            self.requests += 1
            if response.status_code != 200:
                self.errors.append(f"{client.name}: GET -> {response.status_code}: {raw[:200]!r}")
                next_token = None
                time.sleep(POLL_SECONDS)
                continue
            self.latencies.append(elapsed)
            document = orjson.loads(raw) if raw.strip() else {}
            objects = document.get("objects") or []
            self.seen[index].update(hash(obj["id"]) for obj in objects)
            if document.get("more") and document.get("next"):
                next_token = str(document["next"])
                continue
            next_token = None
            last = response.headers.get("X-TAXII-Date-Added-Last") or response.headers.get(
                "X-TAXII-Date-Added-First"
            )
            if objects and last:
                cursor = last
            if not document.get("more"):
                self.caught_up[index] += 1
                time.sleep(POLL_SECONDS)
        self.parked[index].set()

    def resume(self) -> None:
        self.running.set()

    def pause(self) -> None:
        self.running.clear()
        for parked in self.parked:
            while not parked.wait(0.5):
                if self.deadline.remaining() <= 0 or self.stopping.is_set():
                    return

    def take_latencies(self) -> list[float]:
        taken, self.latencies = self.latencies, []
        return taken

    def catch_up(self) -> None:
        """Poll until every analyst has read to the end once after the ingest finished."""
        marks = list(self.caught_up)
        self.resume()
        while any(now <= mark for now, mark in zip(self.caught_up, marks, strict=True)):
            self.deadline.check("the analysts' final poll")
            if not any(thread.is_alive() for thread in self.threads):
                break
            time.sleep(0.05)
        self.pause()

    def stop(self) -> None:
        """Tell the threads to end (they end after their request in flight)."""
        self.stopping.set()
        self.running.set()

    def join(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        for thread in self.threads:
            thread.join(timeout=max(0.1, until - time.monotonic()))


def ingest_interval(
    system: System, envelopes: list[Envelope], deadline: Deadline
) -> tuple[dict[str, Any], str]:
    """Push ``envelopes`` with one thread per partner; returns the figures and ``newest``, a
    time taken just before the last round of envelopes went out."""
    lock = threading.Lock()
    cursor = iter(range(len(envelopes)))
    last_round = max(len(envelopes) - len(system.writers), 0)
    newest = [utc_now()]
    latencies: list[float] = []
    problems: list[BaseException] = []

    def push(client: Client) -> None:
        session = client.session(writer=True)
        while not problems:
            with lock:
                index = next(cursor, None)
                if index == last_round:
                    newest[0] = utc_now()
            if index is None:
                return
            envelope = envelopes[index]
            try:
                deadline.check("ingest")
                began = time.perf_counter()
                response = session.post(
                    client.url, data=envelope.body, timeout=deadline.timeout(POST_TIMEOUT)
                )
                raw = response.content
                elapsed = time.perf_counter() - began
                if response.status_code not in (200, 201, 202):
                    raise Failure(f"{client.name}: POST -> {response.status_code}: {raw[:300]!r}")
                status = orjson.loads(raw)
                if (
                    status.get("status") != "complete"
                    or status.get("total_count") != envelope.count
                    or status.get("success_count") != envelope.count
                    or status.get("failure_count") != 0
                    or status.get("pending_count") != 0
                ):
                    failures = (status.get("failures") or [])[:3]
                    raise Failure(
                        f"{client.name}: envelope of {envelope.count} not fully accepted: "
                        f"status={status.get('status')} total={status.get('total_count')} "
                        f"success={status.get('success_count')} "
                        f"failure={status.get('failure_count')} "
                        f"pending={status.get('pending_count')} first failures={failures}"
                    )
                latencies.append(elapsed)
            except requests.Timeout as exc:
                problems.append(
                    OutOfTime(f"time limit during ingest ({exc})")
                    if deadline.remaining() <= 0
                    else Failure(f"{client.name}: POST timed out: {exc}")
                )
            except requests.RequestException as exc:
                problems.append(Failure(f"{client.name}: POST failed: {exc}"))
            except (Failure, OutOfTime, ValueError) as exc:
                problems.append(exc)

    began = time.perf_counter()
    threads = [
        threading.Thread(target=push, args=(client,), daemon=True) for client in system.writers
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:
        problems.append(OutOfTime("interrupted"))  # the writers stop after their request
        raise
    seconds = time.perf_counter() - began
    for problem in problems:
        if isinstance(problem, Failure):
            raise problem
    if problems:
        raise problems[0]
    objects = sum(envelope.count for envelope in envelopes)
    return {
        "objects": objects,
        "envelopes": len(envelopes),
        "seconds": round(seconds, 3),
        "obj_per_s": round(objects / seconds, 1) if seconds else None,
        "envelope": latency_summary(latencies),
    }, newest[0]


# Measurements at a checkpoint --------------------------------------------------------------
def get_page(
    session: requests.Session, url: str, params: dict[str, Any], deadline: Deadline
) -> tuple[float, dict[str, Any], int]:
    began = time.perf_counter()
    try:
        response = session.get(url, params=params, timeout=deadline.timeout(GET_TIMEOUT))
        raw = response.content
    except requests.Timeout as exc:
        if deadline.remaining() <= 0:
            raise OutOfTime(f"time limit during GET ({exc})") from None
        raise Failure(f"GET {params} timed out: {exc}") from None
    except requests.RequestException as exc:
        raise Failure(f"GET {params} failed: {exc}") from None
    elapsed = time.perf_counter() - began
    if response.status_code != 200:
        raise Failure(f"GET {params} -> {response.status_code}: {raw[:300]!r}")
    return elapsed, (orjson.loads(raw) if raw.strip() else {}), len(raw)


def check_objects(
    system: System, objects: list[dict[str, Any]], accepted: Accepted, where: str
) -> int:
    """Every object must have been accepted, or be one the system adds itself; returns how many
    were accepted ones."""
    known = 0
    for obj in objects:
        if hash(obj.get("id")) in accepted.ids:
            known += 1
        elif not system.acceptable_extra(obj):
            raise Failure(f"{where}: served {obj.get('id')!r}, which nobody sent")
    return known


def timed_pages(
    system: System,
    client: Client,
    accepted: Accepted,
    newest: str,
    deadline: Deadline,
    samples: int,
    budget: float,
) -> dict[str, Any]:
    session = client.session()
    result: dict[str, Any] = {}
    for position, query in (("start", {}), ("newest", {"added_after": newest})):
        params = {"limit": PAGE, **query}
        times: list[float] = []
        until = time.monotonic() + budget
        while len(times) < samples and (not times or time.monotonic() < until):
            deadline.check(f"timed pages ({position})")
            elapsed, document, size = get_page(session, client.url, params, deadline)
            times.append(elapsed)
            objects = document.get("objects") or []
            check_objects(system, objects, accepted, f"{position} page")
            if len(objects) > PAGE:
                raise Failure(f"{position} page: {len(objects)} objects for limit={PAGE}")
            if position == "start" and len(objects) < min(PAGE, len(accepted.ids)):
                raise Failure(f"start page: {len(objects)} objects, expected a full page")
            if position == "newest" and not objects:
                raise Failure(f"newest page (added_after={newest}) is empty")
        result[position] = {**latency_summary(times), "bytes": size, "objects": len(objects)}
    return result


def full_pull(
    system: System, client: Client, accepted: Accepted, deadline: Deadline
) -> dict[str, Any]:
    """One analyst reads the whole collection, limit=1000, following next; checks every id."""
    session = client.session()
    params: dict[str, Any] = {"limit": PULL_LIMIT}
    pulled: set[int] = set()
    pages = items = extra = size = 0
    began = time.perf_counter()
    while True:
        deadline.check("full pull")
        _, document, length = get_page(session, client.url, params, deadline)
        objects = document.get("objects") or []
        pages += 1
        items += len(objects)
        size += length
        known = check_objects(system, objects, accepted, f"pull page {pages}")
        extra += len(objects) - known
        pulled.update(hash(obj["id"]) for obj in objects)
        if not document.get("more"):
            break
        if not document.get("next"):
            raise Failure(f"pull page {pages} says more but has no next")
        params = {"limit": PULL_LIMIT, "next": document["next"]}
    seconds = time.perf_counter() - began
    missing = len(accepted.ids - pulled)
    if missing:
        raise Failure(f"the full pull misses {missing} of {len(accepted.ids)} accepted objects")
    return {
        "objects": items,
        "system_made": extra,
        "pages": pages,
        "seconds": round(seconds, 3),
        "obj_per_s": round(items / seconds, 1) if seconds else None,
        "mib_per_s": round(size / seconds / 1024 / 1024, 2) if seconds else None,
    }


# One system, start to end ------------------------------------------------------------------
def checkpoints_for(size: int, sizes: Sequence[int], envelope: int) -> list[int]:
    floor = min(envelope, size)
    marks = {m for m in SERIES if floor <= m < size} | {s for s in sizes if s < size} | {size}
    return sorted(m for m in marks if m >= floor)


def envelopes_of(objects: list[dict[str, Any]], size: int) -> tuple[list[Envelope], int]:
    envelopes = []
    raw = 0
    for start in range(0, len(objects), size):
        chunk = objects[start : start + size]
        bodies = [orjson.dumps(obj) for obj in chunk]
        raw += sum(len(body) for body in bodies)
        envelopes.append(Envelope(b'{"objects":[' + b",".join(bodies) + b"]}", len(chunk)))
    return envelopes, raw


def run_system(
    system: System,
    args: argparse.Namespace,
    deadline: Deadline,
    objects: Iterator[dict[str, Any]],
    sizes: Sequence[int],
    result: dict[str, Any],
) -> None:
    """Run one system start to end, filling ``result`` as it goes (so that an interruption
    keeps what was measured)."""
    result.update(
        {
            "name": system.name,
            "label": system.label,
            "size_requested": system.size,
            "checkpoints": [],
            "notes": system.notes,
            "info": system.info,
        }
    )
    accepted = Accepted()
    analysts: Analysts | None = None
    print(f"\n=== {system.label}: {system.size} objects ===", flush=True)
    try:
        system.start(deadline)
        print(f"{system.name}: serving on pid {system.pid()}; log {system.log_path}", flush=True)
        analysts = Analysts(system.readers, deadline)
        for mark in checkpoints_for(system.size, sizes, args.envelope):
            wanted = mark - accepted.objects
            batch = list(itertools.islice(objects, wanted))
            if not batch:
                result["workload_exhausted"] = accepted.objects
                break
            envelopes, raw = envelopes_of(batch, args.envelope)
            analysts.resume()
            ingest, newest = ingest_interval(system, envelopes, deadline)
            accepted.add(batch, raw)
            analysts.pause()
            live = analysts.take_latencies()
            system.before_measuring(deadline)
            client = system.readers[0]
            pages = timed_pages(
                system, client, accepted, newest, deadline, args.samples, args.sample_seconds
            )
            pull = full_pull(system, client, accepted, deadline)
            store, what = system.store_bytes()
            usage = rss_kib(system.pid() or 0)
            point = {
                "objects": accepted.objects,
                "distinct_ids": len(accepted.ids),
                "raw_json_bytes": accepted.raw_bytes,
                "ingest": ingest,
                "live_pages": latency_summary(live),
                "pages": pages,
                "pull": pull,
                "store_bytes": store,
                "store_measured": what,
                "store_to_raw": round(store / accepted.raw_bytes, 3) if store else None,
                "rss_kib": usage.get("VmRSS"),
                "hwm_kib": usage.get("VmHWM"),
            }
            result["checkpoints"].append(point)
            print(progress_line(system.name, point), flush=True)
            if len(batch) < wanted:
                result["workload_exhausted"] = accepted.objects
                break
        analysts.catch_up()
        expected = len(accepted.ids)
        seen = [len(ids & accepted.ids) for ids in analysts.seen]
        result["analysts"] = {
            "count": len(system.readers),
            "requests": analysts.requests,
            "errors": analysts.errors[:10],
            "error_count": len(analysts.errors),
            "saw_all": all(n == expected for n in seen),
            "seen_least": min(seen) if seen else None,
            "expected": expected,
        }
        if analysts.errors:
            raise Failure(f"analysts' requests failed: {analysts.errors[0]}")
        if isinstance(system, HubSystem) and not result["analysts"]["saw_all"]:
            raise Failure(
                f"an analyst polling with added_after saw {min(seen)} of {expected} objects"
            )
        result["final"] = system.final_checks(expected, deadline)
        short = result["final"].get("country_collections_short")
        if short:
            raise Failure(f"country collections without every accepted object: {short}")
    except OutOfTime as exc:
        result["stopped_early"] = str(exc)
        print(f"{system.name}: stopping: {exc}", flush=True)
    except KeyboardInterrupt as exc:
        result["stopped_early"] = f"interrupted ({exc or 'Ctrl-C'})"
        raise
    except Failure as exc:
        result["failure"] = str(exc)
        print(f"{system.name}: FAILED: {exc}", flush=True)
    except (BenchError, requests.RequestException, OSError, ValueError, psycopg.Error) as exc:
        result["failure"] = f"{type(exc).__name__}: {exc}"
        print(f"{system.name}: ERROR: {result['failure']}", flush=True)
    finally:
        if analysts is not None:
            analysts.stop()
        if system.pid() is None and system.log_path.exists() and "failure" not in result:
            result["failure"] = "the server is not running at the end"
        result["exit_code"] = system.stop()
        if analysts is not None:
            analysts.join(10)  # their requests in flight end with the server
        system.cleanup()
        result["objects_accepted"] = accepted.objects
        if "failure" in result:
            result["log_tail"] = system.log_tail()
            result["log_errors"] = system.log_errors()


def progress_line(name: str, point: dict[str, Any]) -> str:
    pages = point["pages"]
    return (
        f"  {name:<13} {point['objects']:>9} obj  ingest {point['ingest']['obj_per_s'] or 0:>8.0f}"
        f"/s  start p50 {pages['start']['p50_ms']:>8.1f} ms  newest p50 "
        f"{pages['newest']['p50_ms']:>8.1f} ms  pull {point['pull']['obj_per_s'] or 0:>8.0f}/s  "
        f"RSS {(point['rss_kib'] or 0) / 1024:>6.0f} MiB"
    )


# Report ------------------------------------------------------------------------------------
def fmt(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def rfmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def ratio(hub: float | None, peer: float | None) -> float | None:
    if not hub or not peer:
        return None
    return float(f"{hub / peer:.3g}")


def ratios(systems: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """hub/peer at every size both measured."""
    rows = []
    for hub in ("hub-sqlite", "hub-postgres"):
        if hub not in systems:
            continue
        by_size = {p["objects"]: p for p in systems[hub]["checkpoints"]}
        for peer in PEERS:
            if peer not in systems:
                continue
            for point in systems[peer]["checkpoints"]:
                other = by_size.get(point["objects"])
                if other is None:
                    continue
                rows.append(
                    {
                        "hub": hub,
                        "peer": peer,
                        "objects": point["objects"],
                        "ingest_obj_per_s": ratio(
                            other["ingest"]["obj_per_s"], point["ingest"]["obj_per_s"]
                        ),
                        "pull_obj_per_s": ratio(
                            other["pull"]["obj_per_s"], point["pull"]["obj_per_s"]
                        ),
                        **{
                            f"{where}_{pct}_ms": ratio(
                                other["pages"][where][f"{pct}_ms"],
                                point["pages"][where][f"{pct}_ms"],
                            )
                            for where in ("newest", "start")
                            for pct in ("p50", "p99")
                        },
                    }
                )
    return rows


def render(results: dict[str, Any]) -> str:
    out: list[str] = []
    cfg, host = results["config"], results["host"]
    out.append("")
    out.append("=" * 132)
    out.append(
        f"exchange comparison  workload={cfg['workload']} seed={cfg['seed']} "
        f"partners={cfg['partners']} analysts={cfg['analysts']} envelope={cfg['envelope']} "
        f"page={PAGE} pull limit={PULL_LIMIT}"
    )
    out.append(
        f"host: {host['nproc']} CPUs ({host['cpu_model']}), {host['memory_gib']} GiB, "
        f"Python {host['python']}; client and servers share the machine"
    )
    for name, system in results["systems"].items():
        size = system["size_requested"]
        smaller = (
            f"  (smaller dataset than the hub's {cfg['objects']:,})"
            if size < cfg["objects"] and not name.startswith("hub")
            else ""
        )
        out.append(f"{name}: {size:,} objects{smaller}")
        for note in system["notes"]:
            out.append(f"    {note}")
    if results["workload"].get("replay"):
        pool = results["workload"]["replay"]
        out.append(f"replay pool: {pool['objects']:,} objects from {pool['files']} files")
    out.append("-" * 132)
    out.append(
        f"{'system':<13}{'objects':>10}{'ingest/s':>10}{'env p50':>9}"
        f"{'live p50/p99 ms':>18}{'start p50/p99 ms':>19}{'newest p50/p99 ms':>20}"
        f"{'pull obj/s':>11}{'store MiB':>10}{'store/raw':>10}{'RSS MiB':>9}"
    )
    for name, system in results["systems"].items():
        for point in system["checkpoints"]:
            pages, live = point["pages"], point["live_pages"]
            out.append(
                f"{name:<13}{point['objects']:>10,}{fmt(point['ingest']['obj_per_s']):>10}"
                f"{fmt(point['ingest']['envelope']['p50_ms']):>9}"
                f"{fmt(live['p50_ms'], 1) + '/' + fmt(live['p99_ms'], 1):>18}"
                f"{fmt(pages['start']['p50_ms'], 1) + '/' + fmt(pages['start']['p99_ms'], 1):>19}"
                f"{fmt(pages['newest']['p50_ms'], 1) + '/' + fmt(pages['newest']['p99_ms'], 1):>20}"
                f"{fmt(point['pull']['obj_per_s']):>11}"
                f"{fmt(point['store_bytes'] / 1048576 if point['store_bytes'] else None, 1):>10}"
                f"{fmt(point['store_to_raw'], 2):>10}"
                f"{fmt((point['rss_kib'] or 0) / 1024):>9}"
            )
        analysts = system.get("analysts")
        if analysts:
            out.append(
                f"{'':<13}analysts: {analysts['requests']} polls during ingest, "
                f"{analysts['error_count']} errors; after the ingest each saw "
                + (
                    "every accepted object"
                    if analysts["saw_all"]
                    else f"at least {analysts['seen_least']} of {analysts['expected']} objects"
                    " (objects committed after a later date_added was served are skipped by"
                    " added_after)"
                )
            )
        final = system.get("final") or {}
        if "country_collections" in final:
            out.append(
                f"{'':<13}country collections holding every accepted object: "
                f"{final.get('country_collections_complete', '?')} of "
                f"{final['country_collections']}"
            )
        for key, title in (("stopped_early", "STOPPED EARLY"), ("failure", "FAILED")):
            if system.get(key):
                out.append(f"{'':<13}{title}: {system[key]}")
    rows = results.get("ratios") or []
    if rows:
        out.append("-" * 132)
        out.append(
            "hub/peer at the same store size (throughput: > 1 means the hub is faster; "
            "latency: < 1 means the hub is faster)"
        )
        out.append(
            f"{'hub':<13}{'peer':<11}{'objects':>10}{'ingest':>9}{'pull':>9}"
            f"{'newest p50':>12}{'newest p99':>12}{'start p50':>11}{'start p99':>11}"
        )
        for row in rows:
            out.append(
                f"{row['hub']:<13}{row['peer']:<11}{row['objects']:>10,}"
                f"{rfmt(row['ingest_obj_per_s']):>9}{rfmt(row['pull_obj_per_s']):>9}"
                f"{rfmt(row['newest_p50_ms']):>12}{rfmt(row['newest_p99_ms']):>12}"
                f"{rfmt(row['start_p50_ms']):>11}{rfmt(row['start_p99_ms']):>11}"
            )
    out.append("-" * 132)
    out.append(
        "ingest/s: objects of the interval / its wall time, partners pushing concurrently; "
        "live: analysts' polls (limit=100) during that ingest; start/newest: limit=100 with no "
        "filter / added_after just before the interval's last envelopes, on a quiet server; pull: "
        "one analyst, limit=1000 following next; store/raw: store on disk / JSON bytes accepted"
    )
    out.append(f"overall: {results['outcome']}")
    out.append("=" * 132)
    return "\n".join(out)


# (axes, title, the values of a checkpoint to draw with their line styles)
_Panel = tuple[Any, str, Callable[[dict[str, Any]], list[tuple[float | None, str]]]]


def plot(results: dict[str, Any], path: Path) -> str | None:
    """Throughput and page latency against store size, one line per system."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]'): no plot"
    figure, axes = plt.subplots(2, 2, figsize=(13, 9))
    panels: tuple[_Panel, ...] = (
        (axes[0][0], "ingest objects/s", lambda p: [(p["ingest"]["obj_per_s"], "-")]),
        (axes[0][1], "full pull objects/s", lambda p: [(p["pull"]["obj_per_s"], "-")]),
        (
            axes[1][0],
            "page latency ms, newest (p50 solid, p99 dashed)",
            lambda p: [
                (p["pages"]["newest"]["p50_ms"], "-"),
                (p["pages"]["newest"]["p99_ms"], "--"),
            ],
        ),
        (
            axes[1][1],
            "page latency ms, start (p50 solid, p99 dashed)",
            lambda p: [(p["pages"]["start"]["p50_ms"], "-"), (p["pages"]["start"]["p99_ms"], "--")],
        ),
    )
    colours = {"hub-sqlite": "C0", "hub-postgres": "C2", "medallion": "C3", "opentaxii": "C1"}
    for axis, title, values in panels:
        for name, system in results["systems"].items():
            points = system["checkpoints"]
            if not points:
                continue
            xs = [p["objects"] for p in points]
            series = list(zip(*(values(p) for p in points), strict=True))
            for index, line in enumerate(series):
                ys = [v for v, _ in line]
                axis.plot(
                    xs,
                    ys,
                    line[0][1],
                    marker="o",
                    color=colours.get(name),
                    label=system["label"] if index == 0 else None,
                )
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("objects in the store")
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=8)
    cfg, host = results["config"], results["host"]
    figure.suptitle(
        f"exchange vs medallion 3.0.0 vs OpenTAXII 0.9.3 - {cfg['workload']} workload, "
        f"{cfg['partners']} partners, {cfg['analysts']} analysts, envelopes of {cfg['envelope']}; "
        f"{host['nproc']} CPUs, {results['started']}",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return None


# Main --------------------------------------------------------------------------------------
def parse_peer_objects(text: str) -> dict[str, int]:
    """``N`` (both peers) or ``opentaxii=N,medallion=M``."""
    if text.isdigit():
        return dict.fromkeys(PEERS, int(text))
    sizes = dict(DEFAULT_PEER_OBJECTS)
    for part in text.split(","):
        name, _, value = part.partition("=")
        if name not in PEERS or not value.isdigit():
            raise argparse.ArgumentTypeError(f"--peer-objects: {part!r} is not PEER=N or N")
        sizes[name] = int(value)
    return sizes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1_000_000, help="the hub's size")
    parser.add_argument(
        "--peer-objects",
        type=parse_peer_objects,
        default=None,
        help="the peers' size: N for both, or opentaxii=N,medallion=M "
        f"(default opentaxii={DEFAULT_PEER_OBJECTS['opentaxii']},"
        f"medallion={DEFAULT_PEER_OBJECTS['medallion']}; never more than --objects)",
    )
    parser.add_argument("--partners", type=int, default=4, help="partners pushing concurrently")
    parser.add_argument("--analysts", type=int, default=4, help="analysts polling concurrently")
    parser.add_argument("--envelope", type=int, default=1000, help="objects per POST")
    parser.add_argument("--seed", type=int, default=7, help="workload seed")
    parser.add_argument("--workload", choices=WORKLOADS, default="generated")
    parser.add_argument("--samples", type=int, default=100, help="timed pages per position")
    parser.add_argument(
        "--sample-seconds",
        type=float,
        default=15.0,
        help="at most this long per position and checkpoint (at least one sample)",
    )
    parser.add_argument("--max-seconds", type=float, default=None, help="overall time limit")
    parser.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help="also run the hub on PostgreSQL, in a throw-away schema of this database",
    )
    parser.add_argument(
        "--systems",
        default=None,
        help=f"comma-separated subset of {','.join(SYSTEMS)} (default: all that apply)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="the hub's server processes (exchange serve --workers; its RSS is their sum)",
    )
    parser.add_argument("--json-out", type=Path, default=None, help="where the JSON goes")
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="the CI preset: a few hundred objects, every system, about a minute",
    )
    parser.add_argument("--keep-data", action="store_true", help="keep temp dirs and schema")
    args = parser.parse_args(argv)
    if args.tiny:
        defaults = {
            "objects": 400,
            "partners": 2,
            "analysts": 2,
            "envelope": 50,
            "samples": 10,
            "sample_seconds": 3.0,
            "max_seconds": 300.0,
        }
        for name, value in defaults.items():
            if getattr(args, name) == parser.get_default(name):
                setattr(args, name, value)
        if args.peer_objects is None:
            args.peer_objects = dict.fromkeys(PEERS, 200)
    if args.max_seconds is None:
        args.max_seconds = 6 * 3600.0
    if args.peer_objects is None:
        args.peer_objects = dict(DEFAULT_PEER_OBJECTS)
    chosen = (
        [s.strip() for s in args.systems.split(",") if s.strip()]
        if args.systems
        else [s for s in SYSTEMS if s != "hub-postgres" or args.database_url]
    )
    for name in chosen:
        if name not in SYSTEMS:
            parser.error(f"--systems: unknown system {name!r} (one of {', '.join(SYSTEMS)})")
    if "hub-postgres" in chosen and not args.database_url:
        parser.error("hub-postgres needs --database-url")
    if args.database_url and not args.database_url.startswith(PG_SCHEMES):
        parser.error(f"--database-url must start with one of {', '.join(PG_SCHEMES)}")
    args.systems = [s for s in SYSTEMS if s in chosen]
    for name in ("objects", "partners", "analysts", "envelope", "samples", "workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.envelope > 10_000:
        parser.error("--envelope: the hub takes at most 10000 objects per envelope")
    return args


def ensure_peers(peers: Sequence[str], deadline: Deadline) -> None:
    missing = [
        peer
        for peer in peers
        if not (PEERS_DIR / peer / ".peer-installed").is_file()
        or not (PEERS_DIR / peer / "bin" / "uvicorn").exists()
    ]
    if not missing:
        return
    print(f"installing the peers {', '.join(missing)} (benchmarks/peers/setup)", flush=True)
    env = dict(os.environ)
    env["EXCHANGE_PEERS_DIR"] = str(PEERS_DIR)
    done = subprocess.run(
        [str(PEERS_CODE / "setup"), *missing],
        env=env,
        timeout=min(SETUP_TIMEOUT, max(deadline.remaining(), 1)),
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"benchmarks/peers/setup failed with {done.returncode}")


def analyst_countries(count: int) -> list[str]:
    codes = sorted(country.code for country in load_countries(CONFIG_DIR))
    ordered = [c for c in PREFERRED_COUNTRIES if c in codes]
    ordered += [c for c in codes if c not in ordered]
    if count > len(ordered):
        raise BenchError(f"--analysts {count}: there are only {len(ordered)} member countries")
    return ordered[:count]


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    json_out = args.json_out or RESULTS_DIR / f"compare-{stamp}.json"
    deadline = Deadline(args.max_seconds)
    sizes = {
        name: (
            args.objects if name.startswith("hub") else min(args.peer_objects[name], args.objects)
        )
        for name in args.systems
    }
    results: dict[str, Any] = {
        "started": stamp,
        "config": {
            "objects": args.objects,
            "sizes": sizes,
            "systems": args.systems,
            "partners": args.partners,
            "analysts": args.analysts,
            "envelope": args.envelope,
            "seed": args.seed,
            "workload": args.workload,
            "samples": args.samples,
            "sample_seconds": args.sample_seconds,
            "max_seconds": args.max_seconds,
            "page": PAGE,
            "pull_limit": PULL_LIMIT,
            "tiny": args.tiny,
            "database_url": redacted(args.database_url) if args.database_url else None,
        },
        "host": host_info(),
        "workload": {},
        "systems": {},
    }
    temps: list[Path] = []
    code = 0
    pool: ReplayPool | None = None
    try:
        countries = analyst_countries(args.analysts)
        peers = [s for s in args.systems if s in PEERS]
        if peers:
            ensure_peers(peers, deadline)
        if args.workload != "generated":
            pool = replay_pool()
            results["workload"]["replay"] = pool.summary()
            print(f"replay pool: {len(pool.objects)} objects", flush=True)
        for position, name in enumerate(args.systems):
            left = len(args.systems) - position
            share = Deadline(max(deadline.remaining(), 0) / left)
            temp = Path(tempfile.mkdtemp(prefix=f"exchange-compare-{name}-"))
            temps.append(temp)
            system: System
            if name.startswith("hub"):
                system = HubSystem(
                    temp,
                    sizes[name],
                    args.partners,
                    countries,
                    database_url=args.database_url if name == "hub-postgres" else None,
                    keep=args.keep_data,
                    workers=args.workers,
                )
            elif name == "medallion":
                system = MedallionSystem(temp, sizes[name], args.partners, countries)
            else:
                system = OpenTaxiiSystem(temp, sizes[name], args.partners, countries)
            objects = stream(args.workload, sizes[name], args.seed, pool)
            results["systems"][name] = {}
            run_system(
                system, args, share, objects, sorted(set(sizes.values())), results["systems"][name]
            )
    except KeyboardInterrupt as exc:
        results["interrupted"] = str(exc) or "Ctrl-C"
        code = 130
    except (BenchError, OSError, ValueError, subprocess.SubprocessError) as exc:
        results["error"] = f"{type(exc).__name__}: {exc}"
        code = 1
    finally:
        systems = results["systems"]
        failed = [n for n, s in systems.items() if s.get("failure")]
        stopped = [n for n, s in systems.items() if s.get("stopped_early")]
        not_run = [n for n in args.systems if n not in systems]
        if code == 0 and (failed or results.get("error")):
            code = 1
        elif code == 0 and (stopped or not_run):
            code = 2
        results["outcome"] = (
            f"FAILED: {', '.join(failed) or results.get('error')}"
            if code == 1
            else "interrupted"
            if code == 130
            else f"stopped at --max-seconds: {', '.join(stopped + not_run)}"
            if code == 2
            else "every system complete"
        )
        results["ratios"] = ratios(systems)
        print(render(results))
        for name, system_result in systems.items():
            if system_result.get("log_tail"):
                print(f"--- {name} server log tail ---\n{system_result['log_tail']}")
                errors = "\n".join(system_result.get("log_errors") or [])
                print(f"--- {name} server log, errors ---\n{errors or '(none)'}")
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"results written to {json_out}")
        problem = plot(results, json_out.with_suffix(".png"))
        print(problem or f"plot written to {json_out.with_suffix('.png')}")
        for temp in temps:
            if args.keep_data:
                print(f"data kept in {temp}")
            else:
                shutil.rmtree(temp, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
