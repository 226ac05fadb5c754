"""Benchmark: ingest N objects over TAXII, then time pages at the start, middle and end.

Starts a real ``exchange serve`` on a free 127.0.0.1 port with a throw-away store, pushes a seeded
workload (``benchmarks/workload.py``) as ``demo-partner-a`` (redistributed to FR, DE, BR), then,
as ``analyst-fr``, times GET pages of the FR country collection at three positions, following
``next`` from each, plus one full manifest walk and one full objects walk.

    .venv/bin/python benchmarks/pages.py [--objects 100000] [--envelope 1000] [--page 100]
        [--samples 200] [--seed 7] [--max-seconds 1800] [--json-out PATH]
        [--database-url postgresql://127.0.0.1:5432/test] [--keep-data]

The store is SQLite in the temporary data directory by default. With --database-url (a libpq
URL), the same run is made on PostgreSQL: the benchmark creates a throw-away schema
``bench_<random hex>`` in that database, points ``exchange init --demo`` and ``exchange serve``
at it through EXCHANGE_DATABASE_URL (adding ``options=-csearch_path=<schema>`` to the URL's
query), measures the schema's size with ``pg_total_relation_size`` and drops the schema at the
end (kept with --keep-data). The backend ("sqlite" or "postgresql") is named in the printed
figures and in the JSON.

Bounded: every HTTP call has a timeout, the whole run stops by itself after --max-seconds (with
the results gathered so far), and the server is always terminated. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import orjson
import psycopg
import requests
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))
from exchange.countries import country_collection_id
from workload import generate

PROJECT = Path(__file__).resolve().parents[1]
CONFIG_DIR = PROJECT / "config"
RESULTS_DIR = PROJECT / "benchmarks" / "results"
_SCRIPT = Path(sys.executable).parent / "exchange"
EXCHANGE = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "exchange.cli.main"]
TAXII = "application/taxii+json;version=2.1"
HOST = "127.0.0.1"

CONNECT_TIMEOUT = 5.0
POST_TIMEOUT = 300.0
GET_TIMEOUT = 60.0
INIT_TIMEOUT = 180.0
WALK_LIMIT = 1000
PG_CONNECT_TIMEOUT = 5  # seconds, for the benchmark's own PostgreSQL connections
PG_STATEMENT_TIMEOUT = "30s"  # and for each of their statements (or lock waits)
PG_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")
PG_SETTINGS = (
    "server_version",
    "autovacuum",
    "fsync",
    "synchronous_commit",
    "shared_buffers",
    "work_mem",
    "max_connections",
)


class OutOfTime(Exception):
    """The overall --max-seconds budget is spent."""


class BenchError(Exception):
    """The server answered something other than what the benchmark expects."""


# Helpers -----------------------------------------------------------------------------------
class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.at = self.started + seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def check(self, what: str) -> None:
        if self.remaining() <= 0:
            raise OutOfTime(f"--max-seconds {self.seconds:g} reached during {what}")

    def timeout(self, wanted: float) -> tuple[float, float]:
        """A (connect, read) timeout no longer than what is left of the budget."""
        left = self.remaining()
        if left <= 0:
            raise OutOfTime(f"--max-seconds {self.seconds:g} reached")
        return (min(CONNECT_TIMEOUT, max(left, 0.5)), min(wanted, max(left, 0.5)))


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (the value below which pct% of samples fall)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(samples: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in samples]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p90_ms": round(percentile(ms, 90), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3) if ms else math.nan,
        "first_ms": round(ms[0], 3) if ms else math.nan,
        "mean_ms": round(sum(ms) / len(ms), 3) if ms else math.nan,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children.extend(int(child) for child in task.read_text().split())
        except OSError:
            continue
    return children


def rss_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) in KiB, from /proc/<pid>/status, summed over the process and its
    descendants (`exchange serve --workers N`: the supervisor and its N server processes)."""
    found: dict[str, int] = {}
    pending = [pid] if pid else []
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in {"VmRSS", "VmHWM"}:
                    found[key] = found.get(key, 0) + int(value.split()[0])
        except OSError:
            continue
        pending.extend(_children(current))
    return found


def store_files(data_dir: Path) -> dict[str, int]:
    sizes = {}
    for suffix in ("", "-wal", "-shm"):
        path = data_dir / f"exchange.db{suffix}"
        sizes[f"exchange.db{suffix}"] = path.stat().st_size if path.exists() else 0
    return sizes


def table_sizes(db_path: Path) -> dict[str, int]:
    """Bytes per table and index (SQLite dbstat), read-only."""
    try:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
        try:
            rows = db.execute(
                "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
            ).fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        return {"error": str(exc)}  # type: ignore[dict-item]
    return {name: int(size) for name, size in rows}


def pg_settings_line(settings: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in settings.items() if k != "server_version")


def mib(n: float) -> str:
    return f"{n / 1024 / 1024:.1f} MiB"


# PostgreSQL --------------------------------------------------------------------------------
def libpq_url(url: str) -> str:
    """``url`` as libpq takes it (SQLAlchemy's ``+psycopg`` suffix removed, as the hub does)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def with_search_path(url: str, schema: str) -> str:
    """``url`` with ``options=-csearch_path=<schema>`` in its query, after any options it has.

    An existing query (``?sslmode=...``) is kept; an existing ``options`` parameter is extended
    (libpq applies ``-c`` settings in order, so this search_path wins over an earlier one).
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = [value for key, value in query if key == "options"]
    query = [(key, value) for key, value in query if key != "options"]
    query.append(("options", " ".join([*options, f"-csearch_path={schema}"])))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote, safe="")))


def redacted(url: str) -> str:
    """``url`` without its password (in the authority or as ``?password=``), for the output."""
    parts = urlsplit(url)
    if parts.password is not None:
        netloc = f"{parts.username or ''}:***@{parts.hostname or ''}"
        if parts.port is not None:
            netloc += f":{parts.port}"
        parts = parts._replace(netloc=netloc)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "password" for key, _ in query):
        query = [(key, "***" if key == "password" else value) for key, value in query]
        parts = parts._replace(query=urlencode(query, quote_via=quote, safe="*"))
    return urlunsplit(parts)


@dataclass
class PgSchema:
    """A throw-away schema in a PostgreSQL database: created at the start, dropped at the end."""

    base_url: str
    name: str = field(default_factory=lambda: f"bench_{secrets.token_hex(6)}")
    created: bool = False

    @property
    def url(self) -> str:
        """The database URL that selects this schema (for EXCHANGE_DATABASE_URL)."""
        return with_search_path(self.base_url, self.name)

    def connect(self) -> psycopg.Connection[Any]:
        connection = psycopg.connect(
            libpq_url(self.base_url), connect_timeout=PG_CONNECT_TIMEOUT, autocommit=True
        )
        connection.execute(f"SET statement_timeout = '{PG_STATEMENT_TIMEOUT}'")
        connection.execute(f"SET lock_timeout = '{PG_STATEMENT_TIMEOUT}'")
        return connection

    def create(self) -> dict[str, str]:
        """Create the (empty) schema; returns the server's version and the settings that weigh
        on the figures (autovacuum off means no table statistics unless someone ANALYZEs)."""
        with self.connect() as connection:
            connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.name)))
            self.created = True
            rows = connection.execute(
                "SELECT name, current_setting(name) FROM pg_settings "
                "WHERE name = ANY(%s) ORDER BY name",
                (list(PG_SETTINGS),),
            ).fetchall()
        return {str(name): str(value) for name, value in rows}

    def analyze(self) -> float:
        """ANALYZE every table of the schema; returns the seconds it took."""
        with self.connect() as connection:
            tables = connection.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY 1",
                (self.name,),
            ).fetchall()
            began = time.perf_counter()
            for (table,) in tables:
                connection.execute(
                    sql.SQL("ANALYZE {}.{}").format(
                        sql.Identifier(self.name), sql.Identifier(table)
                    )
                )
            return time.perf_counter() - began

    def total_bytes(self) -> int:
        """Every table and materialised view of the schema, with their indexes and TOAST."""
        with self.connect() as connection:
            row = connection.execute(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r','m')",
                (self.name,),
            ).fetchone()
        return int(row[0] or 0) if row else 0

    def table_sizes(self) -> dict[str, int]:
        """Bytes per table (heap + TOAST, ``pg_table_size``) and per index
        (``pg_relation_size``), largest first: the same split as SQLite's dbstat. They add up
        to ``total_bytes``."""
        with self.connect() as connection:
            rows = connection.execute(
                "SELECT c.relname, CASE WHEN c.relkind = 'i' THEN pg_relation_size(c.oid) "
                "ELSE pg_table_size(c.oid) END AS size FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r','m','i') "
                "ORDER BY size DESC, c.relname",
                (self.name,),
            ).fetchall()
        return {str(name): int(size) for name, size in rows}

    def drop(self) -> None:
        with self.connect() as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.name))
            )
        self.created = False


# The server --------------------------------------------------------------------------------
def stop_process(process: subprocess.Popen[bytes] | None) -> int | None:
    """Terminate a server (killed if it has not gone in 15 s); its exit status."""
    if process is None:
        return None
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
    return process.returncode


@dataclass
class Server:
    data_dir: Path
    log_path: Path
    log_level: str
    database_url: str | None = None  # None: SQLite in data_dir
    workers: int = 1  # exchange serve --workers
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["EXCHANGE_DATA_DIR"] = str(self.data_dir)
        env["EXCHANGE_CONFIG_DIR"] = str(CONFIG_DIR)
        # The backend is chosen here, never inherited: an EXCHANGE_DATABASE_URL in the caller's
        # environment would otherwise send a "sqlite" run to PostgreSQL.
        if self.database_url:
            env["EXCHANGE_DATABASE_URL"] = self.database_url
        else:
            env.pop("EXCHANGE_DATABASE_URL", None)
        return env

    def cli_json(self, *args: str, deadline: Deadline) -> Any:
        limit = min(INIT_TIMEOUT, max(deadline.remaining(), 1))
        try:
            done = subprocess.run(
                [*EXCHANGE, *args],
                env=self.env(),
                cwd=self.data_dir.parent,
                capture_output=True,
                text=True,
                timeout=limit,
                check=False,
            )
        except subprocess.TimeoutExpired:
            deadline.check(f"exchange {' '.join(args)}")
            raise BenchError(f"exchange {' '.join(args)} took more than {limit:g} s") from None
        if done.returncode != 0:
            raise BenchError(f"exchange {' '.join(args)} failed: {done.stderr.strip()}")
        return json.loads(done.stdout)

    def start(self, deadline: Deadline) -> None:
        self.port = free_port()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *EXCHANGE,
                    "serve",
                    "--host",
                    HOST,
                    "--port",
                    str(self.port),
                    "--log-level",
                    self.log_level,
                    "--workers",
                    str(self.workers),
                ],
                env=self.env(),
                cwd=self.data_dir.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait = min(60, max(deadline.remaining(), 1))
        until = time.monotonic() + wait
        while time.monotonic() < until:
            if self.process.poll() is not None:
                raise BenchError(f"exchange serve exited with {self.process.returncode}")
            try:
                requests.get(f"{self.base}/taxii2/", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        deadline.check("exchange serve start-up")
        raise BenchError(f"exchange serve did not answer within {wait:.0f} s")

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> int | None:
        code = stop_process(self.process)
        self.process = None
        return code

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


# The phases --------------------------------------------------------------------------------
@dataclass
class Run:
    args: argparse.Namespace
    deadline: Deadline
    server: Server
    partner: tuple[str, str] = ("", "")
    analyst: tuple[str, str] = ("", "")
    inbox: str = ""
    results: dict[str, Any] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)

    def session(self, auth: tuple[str, str]) -> requests.Session:
        session = requests.Session()
        session.auth = auth
        session.headers["Accept"] = TAXII
        return session

    def get(
        self, session: requests.Session, url: str, params: dict[str, Any]
    ) -> tuple[float, dict[str, Any], int]:
        """One timed GET (request sent to body fully read); returns (seconds, JSON, bytes)."""
        timeout = self.deadline.timeout(GET_TIMEOUT)
        began = time.perf_counter()
        response = session.get(url, params=params, timeout=timeout)
        raw = response.content
        elapsed = time.perf_counter() - began
        if response.status_code != 200:
            raise BenchError(f"GET {url} {params} -> {response.status_code}: {raw[:500]!r}")
        return elapsed, orjson.loads(raw), len(raw)

    # 1. ingest -----------------------------------------------------------------------------
    def envelopes(self) -> Iterator[list[dict[str, Any]]]:
        batch: list[dict[str, Any]] = []
        for obj in generate(self.args.objects, self.args.seed):
            batch.append(obj)
            if len(batch) == self.args.envelope:
                yield batch
                batch = []
        if batch:
            yield batch

    def ingest(self) -> None:
        total = self.args.objects
        url = f"{self.server.base}/hub/collections/{self.inbox}/objects/"
        session = self.session(self.partner)
        session.headers["Content-Type"] = TAXII
        ingest: dict[str, Any] = {
            "objects_requested": total,
            "envelope": self.args.envelope,
            "objects_sent": 0,
            "objects_added": 0,
            "post_seconds": 0.0,
            "wall_seconds": 0.0,
            "request_bytes": 0,
            "deciles": [],
        }
        self.results["ingest"] = ingest
        wall_start = time.perf_counter()
        decile_start_wall = wall_start
        decile_post = 0.0
        decile_objects = 0
        decile_latencies: list[float] = []
        next_mark = 1
        print(f"ingest: {total} objects in envelopes of {self.args.envelope} -> {url}")
        for batch in self.envelopes():
            self.deadline.check("ingest")
            body = orjson.dumps({"objects": batch})
            timeout = self.deadline.timeout(POST_TIMEOUT)
            began = time.perf_counter()
            response = session.post(url, data=body, timeout=timeout)
            raw = response.content
            elapsed = time.perf_counter() - began
            if response.status_code != 202:
                raise BenchError(
                    f"POST envelope at object {ingest['objects_sent']} -> "
                    f"{response.status_code}: {raw[:800]!r}"
                )
            status = orjson.loads(raw)
            # A message reads "added (accepted under agreement--...)" or "already present (...)".
            added = sum(
                1
                for s in status.get("successes", [])
                if str(s.get("message", "")).split(" (")[0] == "added"
            )
            if (
                status.get("status") != "complete"
                or status.get("total_count") != len(batch)
                or status.get("success_count") != len(batch)
                or status.get("failure_count") != 0
                or status.get("pending_count") != 0
            ):
                failures = status.get("failures", [])[:5]
                raise BenchError(
                    f"envelope at object {ingest['objects_sent']} not fully accepted: "
                    f"total={status.get('total_count')} success={status.get('success_count')} "
                    f"failure={status.get('failure_count')} first failures={failures}"
                )
            ingest["objects_sent"] += len(batch)
            ingest["objects_added"] += added
            ingest["post_seconds"] += elapsed
            ingest["request_bytes"] += len(body)
            decile_post += elapsed
            decile_objects += len(batch)
            decile_latencies.append(elapsed)
            sent = ingest["objects_sent"]
            reached = next_mark - 1
            while reached < 10 and sent >= math.ceil(total * (reached + 1) / 10):
                reached += 1
            if reached >= next_mark:
                # An envelope bigger than 10% may cross several marks: one row for all.
                now = time.perf_counter()
                row = {
                    "percent": reached * 10,
                    "objects_so_far": sent,
                    "objects": decile_objects,
                    "post_obj_per_s": round(decile_objects / decile_post, 1) if decile_post else 0,
                    "wall_obj_per_s": round(decile_objects / (now - decile_start_wall), 1),
                    "envelope_p50_ms": round(percentile(decile_latencies, 50) * 1000, 1),
                    "envelope_max_ms": round(max(decile_latencies) * 1000, 1),
                    "elapsed_s": round(now - wall_start, 1),
                    "server_rss_kib": rss_kib(self.server.pid or 0).get("VmRSS"),
                }
                ingest["deciles"].append(row)
                rss = row["server_rss_kib"]
                print(
                    f"  {row['percent']:>3}%  {sent:>9} objects  "
                    f"{row['post_obj_per_s']:>9.1f} obj/s (this 10%)  "
                    f"envelope p50 {row['envelope_p50_ms']:.0f} ms max "
                    f"{row['envelope_max_ms']:.0f} ms  elapsed {row['elapsed_s']:.0f} s  "
                    f"server RSS {(rss or 0) / 1024:.0f} MiB",
                    flush=True,
                )
                decile_start_wall, decile_post, decile_objects = now, 0.0, 0
                decile_latencies = []
                next_mark = reached + 1
            ingest["wall_seconds"] = time.perf_counter() - wall_start
        ingest["wall_seconds"] = time.perf_counter() - wall_start
        if ingest["objects_added"] != ingest["objects_sent"]:
            raise BenchError(
                f"only {ingest['objects_added']} of {ingest['objects_sent']} objects were "
                "'added' (the rest 'already present'): the workload repeats ids?"
            )
        self.finish_ingest()

    def finish_ingest(self) -> None:
        ingest = self.results["ingest"]
        if ingest["post_seconds"]:
            ingest["post_obj_per_s"] = round(ingest["objects_sent"] / ingest["post_seconds"], 1)
        if ingest["wall_seconds"]:
            ingest["wall_obj_per_s"] = round(ingest["objects_sent"] / ingest["wall_seconds"], 1)
        ingest["post_seconds"] = round(ingest["post_seconds"], 3)
        ingest["wall_seconds"] = round(ingest["wall_seconds"], 3)

    # 2. the manifest, once -----------------------------------------------------------------
    def fr_url(self, what: str) -> str:
        return f"{self.server.base}/hub/collections/{country_collection_id('FR')}/{what}/"

    def walk(self, what: str, key: str) -> None:
        """Follow ``next`` over the whole collection with limit=1000; time it."""
        session = self.session(self.analyst)
        url = self.fr_url(what)
        params: dict[str, Any] = {"limit": WALK_LIMIT}
        record: dict[str, Any] = {"limit": WALK_LIMIT, "pages": 0, "items": 0, "bytes": 0}
        self.results[key] = record
        page_times: list[float] = []
        began = time.perf_counter()
        collect = what == "manifest"
        if collect:
            self.ids, self.dates = [], []
        while True:
            self.deadline.check(f"{key}")
            elapsed, document, size = self.get(session, url, params)
            page_times.append(elapsed)
            items = document.get("objects", [])
            record["pages"] += 1
            record["items"] += len(items)
            # The partner's agreement marks unmarked objects TLP:AMBER; the hub ships that
            # marking definition beside them (the workload itself sends none).
            record["hub_made"] = record.get("hub_made", 0) + sum(
                1 for item in items if str(item.get("id", "")).startswith("marking-definition--")
            )
            record["bytes"] += size
            if collect:
                for item in items:
                    self.ids.append(item["id"])
                    self.dates.append(item["date_added"])
            if not document.get("more"):
                break
            if "next" not in document:
                raise BenchError(f"{what} page {record['pages']} says more but has no next")
            params = {"limit": WALK_LIMIT, "next": document["next"]}
        seconds = time.perf_counter() - began
        record["seconds"] = round(seconds, 3)
        record["items_per_s"] = round(record["items"] / seconds, 1) if seconds else 0
        record["mib_per_s"] = round(record["bytes"] / seconds / 1024 / 1024, 2) if seconds else 0
        record["page"] = summary_ms(page_times)
        expected = self.results["ingest"]["objects_sent"]
        if record["items"] - record.get("hub_made", 0) != expected:
            raise BenchError(f"{what} walk saw {record['items']} items, {expected} were added")
        print(
            f"{key}: {record['pages']} pages, {record['items']} items in {seconds:.1f} s "
            f"({record['items_per_s']:.0f} items/s, {record['mib_per_s']:.1f} MiB/s, "
            f"page p50 {record['page']['p50_ms']:.1f} ms max {record['page']['max_ms']:.1f} ms)",
            flush=True,
        )

    # 3. page latency at start, middle and end ----------------------------------------------
    def positions(self) -> list[tuple[str, int, dict[str, Any]]]:
        """(name, index of the first object expected, query) for each measured position."""
        n, page = len(self.ids), self.args.page

        def after(index: int) -> dict[str, Any]:
            # added_after is exclusive: the page starts right after object index-1.
            return {"added_after": self.dates[index - 1]} if index > 0 else {}

        middle = n // 2
        end = max(n - page, 0)
        end_for_next = max(n - 2 * page, 0)
        return [
            ("start", 0, {}),
            ("middle", middle, after(middle)),
            ("end", end, after(end)),
            ("end-2pages", end_for_next, after(end_for_next)),
        ]

    def latency(self) -> None:
        session = self.session(self.analyst)
        url = self.fr_url("objects")
        page, samples = self.args.page, self.args.samples
        measured: dict[str, Any] = {}
        self.results["latency"] = measured
        for name, index, query in self.positions():
            params = {"limit": page, **query}
            first_page: dict[str, Any] | None = None
            if name != "end-2pages":
                times: list[float] = []
                for _ in range(samples):
                    self.deadline.check(f"latency {name}")
                    elapsed, document, size = self.get(session, url, params)
                    times.append(elapsed)
                    first_page = first_page or document
                    self.check_page(name, document, index)
                measured[name] = {
                    "first_index": index,
                    "query": query,
                    "bytes": size,
                    **summary_ms(times),
                }
                self.report_line(name, measured[name])
            else:
                _, first_page, _ = self.get(session, url, params)
                self.check_page(name, first_page, index)
            if name == "end":
                continue  # the last page has no next; "end-2pages" measures next onto it
            assert first_page is not None
            cursor = first_page.get("next")
            if cursor is None:
                continue
            label = "end (next)" if name == "end-2pages" else f"{name} (next)"
            next_params = {"limit": page, **query, "next": cursor}
            times = []
            for _ in range(samples):
                self.deadline.check(f"latency {label}")
                elapsed, document, size = self.get(session, url, next_params)
                times.append(elapsed)
                self.check_page(label, document, index + page)
            measured[label] = {
                "first_index": index + page,
                "query": next_params | {"next": "<cursor>"},
                "bytes": size,
                **summary_ms(times),
            }
            self.report_line(label, measured[label])

    def check_page(self, name: str, document: dict[str, Any], index: int) -> None:
        objects = document.get("objects", [])
        expected = self.ids[index : index + self.args.page]
        got = [obj.get("id") for obj in objects]
        if got != expected:
            raise BenchError(
                f"{name}: page starting at object {index} has {len(got)} objects, first "
                f"{got[:1]}, expected {len(expected)} starting {expected[:1]}"
            )

    def report_line(self, name: str, stats: dict[str, Any]) -> None:
        print(
            f"  {name:<16} p50 {stats['p50_ms']:7.2f}  p90 {stats['p90_ms']:7.2f}  "
            f"p99 {stats['p99_ms']:7.2f}  max {stats['max_ms']:7.2f} ms",
            flush=True,
        )


# Report ------------------------------------------------------------------------------------
def render(results: dict[str, Any]) -> str:
    out: list[str] = []
    cfg = results["config"]
    out.append("")
    out.append("=" * 78)
    backend = results.get("backend", "sqlite")
    out.append(
        f"exchange pages benchmark  backend={backend} objects={cfg['objects']} "
        f"envelope={cfg['envelope']} page={cfg['page']} samples={cfg['samples']} "
        f"seed={cfg['seed']}"
    )
    host = results["host"]
    out.append(f"host: {host['cpus']} CPUs, Python {host['python']}")
    database = results.get("database") or {}
    if backend == "postgresql":
        out.append(
            f"store: PostgreSQL {host.get('postgresql', '?')} at {database.get('url')}, "
            f"schema {database.get('schema')}"
        )
        settings = host.get("postgresql_settings") or {}
        if settings:
            out.append(f"       {pg_settings_line(settings)}")
        if cfg.get("analyze_after_ingest"):
            out.append(f"       ANALYZE after ingest: {results.get('analyze_seconds', '?')} s")
        elif settings.get("autovacuum") == "off":
            out.append(
                "       NOTE: autovacuum is off and --analyze was not given: the tables have no "
                "planner statistics"
            )
    else:
        out.append(f"store: SQLite {host.get('sqlite', '?')} at {database.get('path')}")
    if results.get("stopped_early"):
        out.append(f"STOPPED EARLY: {results['stopped_early']}")
    if results.get("error"):
        out.append(f"ERROR: {results['error']}")
    out.append("-" * 78)
    ingest = results.get("ingest")
    if ingest:
        out.append(
            f"objects ingested        {ingest['objects_sent']:>10} "
            f"(of {ingest['objects_requested']}, {ingest['objects_added']} 'added')"
        )
        if "post_obj_per_s" in ingest:
            out.append(
                f"ingest obj/s            {ingest['post_obj_per_s']:>10.1f}  "
                f"(POST time {ingest['post_seconds']:.1f} s; wall {ingest['wall_seconds']:.1f} s "
                f"= {ingest.get('wall_obj_per_s', 0):.1f} obj/s incl. client generation)"
            )
        if ingest["deciles"]:
            out.append("ingest by 10% of progress (obj/s of POST time, envelope latency ms):")
            out.append("   done   obj/s   env p50   env max")
            for row in ingest["deciles"]:
                out.append(
                    f"   {row['percent']:>3}%  {row['post_obj_per_s']:>7.1f}  "
                    f"{row['envelope_p50_ms']:>8.0f}  {row['envelope_max_ms']:>8.0f}"
                )
    for key, title in (
        ("manifest_walk", "full manifest walk"),
        ("objects_walk", "full objects walk"),
    ):
        walk = results.get(key)
        if walk and "seconds" in walk:
            out.append(
                f"{title:<24}{walk['items_per_s']:>10.1f} items/s  ({walk['items']} in "
                f"{walk['seconds']:.1f} s, {walk['pages']} pages of {walk['limit']}, "
                f"{walk['mib_per_s']:.1f} MiB/s, page p50 {walk['page']['p50_ms']:.1f} ms, "
                f"max {walk['page']['max_ms']:.1f} ms)"
            )
    latency = results.get("latency")
    if latency:
        out.append("")
        out.append(f"GET /objects/?limit={cfg['page']} latency, ms ({cfg['samples']} samples each)")
        out.append(
            f"  {'position':<16}{'first obj':>10}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}"
            f"{'1st req':>9}"
        )
        for name, stats in latency.items():
            out.append(
                f"  {name:<16}{stats['first_index']:>10}{stats['p50_ms']:>9.2f}"
                f"{stats['p90_ms']:>9.2f}{stats['p99_ms']:>9.2f}{stats['max_ms']:>9.2f}"
                f"{stats['first_ms']:>9.2f}"
            )
    store = results.get("store")
    if store:
        out.append("")
        if "files" in store:
            files = store["files"]
            out.append(
                f"store on disk            exchange.db {mib(files['exchange.db'])} + "
                f"-wal {mib(files['exchange.db-wal'])} = {mib(store['db_plus_wal'])}"
            )
        elif store.get("total_bytes") is not None:
            out.append(
                f"store in PostgreSQL      schema {store['schema']} {mib(store['total_bytes'])} "
                "(tables + indexes + TOAST)"
            )
        if store.get("error"):
            out.append(f"store size error         {store['error']}")
        if store.get("bytes_per_object"):
            out.append(
                f"bytes per object         {store['bytes_per_object']:>10.0f}  "
                f"(sent {store['request_bytes_per_object']:.0f} B/object as JSON)"
            )
        tables = store.get("tables") or {}
        if tables and "error" not in tables:
            biggest = ", ".join(f"{k} {mib(v)}" for k, v in list(tables.items())[:6])
            out.append(f"largest tables/indexes   {biggest}")
    server = results.get("server")
    if server and server.get("rss_end_kib"):
        out.append(
            f"server RSS at end        {server['rss_end_kib'] / 1024:>10.1f} MiB  "
            f"(peak VmHWM {server.get('hwm_end_kib', 0) / 1024:.1f} MiB)"
        )
    out.append("=" * 78)
    return "\n".join(out)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000, help="objects to ingest")
    parser.add_argument("--envelope", type=int, default=1000, help="objects per POST")
    parser.add_argument("--page", type=int, default=100, help="limit of the timed GET pages")
    parser.add_argument("--samples", type=int, default=200, help="requests per position")
    parser.add_argument("--seed", type=int, default=7, help="workload seed")
    parser.add_argument("--max-seconds", type=float, default=1800, help="overall time limit")
    parser.add_argument("--json-out", type=Path, default=None, help="where to write results")
    parser.add_argument("--log-level", default="warning", help="exchange serve --log-level")
    parser.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help="run on PostgreSQL: a libpq URL (postgresql://host:5432/db) of a database in which "
        "a throw-away schema is made and dropped; default: SQLite in the temp data dir",
    )
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="PostgreSQL only: ANALYZE the schema's tables after the ingest (what autovacuum "
        "would do in time), before the walks and the timed pages",
    )
    parser.add_argument(
        "--keep-data", action="store_true", help="keep the temp data dir (and PostgreSQL schema)"
    )
    args = parser.parse_args(argv)
    if args.database_url is not None and not args.database_url.startswith(PG_SCHEMES):
        parser.error(f"--database-url must start with one of {', '.join(PG_SCHEMES)}")
    if args.analyze and args.database_url is None:
        parser.error("--analyze is for PostgreSQL runs (with --database-url)")
    for name in ("objects", "envelope", "page", "samples"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.envelope > 10_000:
        parser.error("--envelope: the hub takes at most 10000 objects per envelope")
    if args.page > 1000:
        parser.error("--page: the hub serves at most 1000 objects per page")
    return args


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def measure_store(results: dict[str, Any], data_dir: Path, pg: PgSchema | None, sent: int) -> None:
    """The store's size while the server still runs (SQLite: before the WAL is checkpointed)."""
    ingest = results.get("ingest") or {}
    per_object = round(ingest["request_bytes"] / sent, 1) if sent else None
    if pg is None:
        files = store_files(data_dir)
        db_plus_wal = files["exchange.db"] + files["exchange.db-wal"]
        results["store"] = {
            "files": files,
            "db_plus_wal": db_plus_wal,
            "total_bytes": db_plus_wal,
            "bytes_per_object": round(db_plus_wal / sent, 1) if sent else None,
            "request_bytes_per_object": per_object,
        }
        return
    store: dict[str, Any] = {"schema": pg.name, "total_bytes": None}
    results["store"] = store
    if not pg.created:
        return
    try:
        total = pg.total_bytes()
        store["tables"] = pg.table_sizes()
    except psycopg.Error as exc:
        store["error"] = f"{type(exc).__name__}: {str(exc).strip()[:300]}"
        return
    store.update(
        {
            "total_bytes": total,
            "bytes_per_object": round(total / sent, 1) if sent else None,
            "request_bytes_per_object": per_object,
        }
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    json_out = args.json_out or RESULTS_DIR / f"pages-{stamp}.json"
    deadline = Deadline(args.max_seconds)
    temp = Path(tempfile.mkdtemp(prefix="exchange-bench-"))
    data_dir = temp / "data"
    pg = PgSchema(args.database_url) if args.database_url else None
    server = Server(data_dir=data_dir, log_path=temp / "serve.log", log_level=args.log_level)
    run = Run(args=args, deadline=deadline, server=server)
    results = run.results
    backend = "sqlite" if pg is None else "postgresql"
    results["backend"] = backend
    results["config"] = {
        "backend": backend,
        "objects": args.objects,
        "envelope": args.envelope,
        "page": args.page,
        "samples": args.samples,
        "seed": args.seed,
        "max_seconds": args.max_seconds,
        "walk_limit": WALK_LIMIT,
        "analyze_after_ingest": bool(args.analyze),
    }
    results["database"] = (
        {"backend": backend, "path": str(data_dir / "exchange.db")}
        if pg is None
        else {"backend": backend, "url": redacted(args.database_url), "schema": pg.name}
    )
    results["started"] = stamp
    results["host"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
    }
    print(f"backend {backend}; data dir {data_dir}, server log {server.log_path}")
    code = 0
    try:
        if pg is not None:
            settings = pg.create()
            results["host"]["postgresql"] = settings.get("server_version", "?")
            results["host"]["postgresql_settings"] = settings
            server.database_url = pg.url
            print(
                f"PostgreSQL {results['host']['postgresql']} at {redacted(args.database_url)}: "
                f"schema {pg.name}; {pg_settings_line(settings)}"
            )
        made = server.cli_json("init", "--demo", "--json", deadline=deadline)
        accounts = {entry["username"]: entry for entry in made["demo"]}
        partner, analyst = accounts["demo-partner-a"], accounts["analyst-fr"]
        run.partner = (partner["username"], partner["token"])
        run.analyst = (analyst["username"], analyst["token"])
        run.inbox = partner["inbox"]
        server.start(deadline)
        results["server"] = {"pid": server.pid, "port": server.port}
        print(f"exchange serve pid {server.pid} on {server.base}")
        run.ingest()
        results["store_after_ingest"] = (
            store_files(data_dir) if pg is None else {"total_bytes": pg.total_bytes()}
        )
        if pg is not None and args.analyze:
            deadline.check("ANALYZE")
            seconds = pg.analyze()
            results["analyze_seconds"] = round(seconds, 3)
            print(f"ANALYZE of schema {pg.name}: {seconds:.2f} s", flush=True)
        run.walk("manifest", "manifest_walk")
        print(f"page latency, {args.samples} samples per position:")
        run.latency()
        run.walk("objects", "objects_walk")
    except OutOfTime as exc:
        results["stopped_early"] = str(exc)
        print(f"stopping: {exc}", flush=True)
        code = 2
    except KeyboardInterrupt as exc:
        results["stopped_early"] = f"interrupted ({exc or 'Ctrl-C'})"
        code = 130
    except requests.Timeout as exc:
        # A timeout cut short to fit the budget is the budget running out, not a server error.
        if deadline.remaining() <= 0:
            results["stopped_early"] = f"--max-seconds {args.max_seconds:g} reached ({exc})"
            print(f"stopping: {results['stopped_early']}", flush=True)
            code = 2
        else:
            results["error"] = f"{type(exc).__name__}: {exc}"
            code = 1
    except (BenchError, requests.RequestException, OSError, ValueError, psycopg.Error) as exc:
        results["error"] = f"{type(exc).__name__}: {exc}"
        code = 1
    finally:
        ingest = results.get("ingest")
        if ingest and "post_obj_per_s" not in ingest:
            run.finish_ingest()
        if server.pid is not None:
            if results.get("error"):
                time.sleep(1)  # let a crashed server be reaped before asking if it is alive
            usage = rss_kib(server.pid)
            results.setdefault("server", {}).update(
                {
                    "rss_end_kib": usage.get("VmRSS"),
                    "hwm_end_kib": usage.get("VmHWM"),
                    "alive_at_end": server.alive(),
                }
            )
            if not server.alive():
                results["error"] = (results.get("error") or "") + (
                    f" [server exited with {server.process.returncode if server.process else '?'}]"
                )
        measure_store(results, data_dir, pg, (ingest or {}).get("objects_sent", 0))
        exit_code = server.stop()
        if "server" in results:
            results["server"]["exit_code"] = exit_code
        if pg is None and (data_dir / "exchange.db").exists():
            results["store"]["tables"] = table_sizes(data_dir / "exchange.db")
        if pg is not None and pg.created and not args.keep_data:
            try:
                pg.drop()
            except psycopg.Error as exc:
                results["store"]["drop_error"] = str(exc).strip()[:300]
                print(
                    f"could not drop schema {pg.name} ({str(exc).strip()[:200]}); "
                    f"drop it by hand: DROP SCHEMA {pg.name} CASCADE"
                )
        results["server_log_tail"] = server.log_tail()
        if results.get("error"):
            print(f"\nERROR: {results['error']}")
            print("server log tail:\n" + (results["server_log_tail"] or "(empty)"))
        print(render(results))
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"results written to {json_out}")
        if args.keep_data:
            print(f"data kept in {temp}")
            if pg is not None and pg.created:
                print(f"schema {pg.name} kept (DROP SCHEMA {pg.name} CASCADE when done)")
        else:
            shutil.rmtree(temp, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
