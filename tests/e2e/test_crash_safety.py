"""Crash safety: the hub is SIGKILLed at random moments while partners push, on SQLite and on
PostgreSQL, and restarted on the same store each time.

A real `exchange serve` takes signed envelopes (1 to 300 indicators; some objects sent again,
some new versions of earlier objects) from two partners whose agreements route to France, each
pushing from its own thread. The main thread kills the server process itself with SIGKILL at
seeded random moments (after a seeded number of pushes, a seeded pause into the pushes then in
flight), restarts it on the same store, and the partners carry on: a request refused while the
server is down is sent again, a request whose answer never arrived is an unknown outcome and is
not. Before each kill an analyst of France takes a ``next`` cursor; after the restart the
cursor still works and continues a fresh walk of the collection without a gap or a repeat.
At the end:

- every object version an acknowledged status resource names is served exactly once (the
  French collection's manifest, every version, walked with ``next``), and nothing else;
- every envelope was taken whole or, only when its answer was lost, not at all: never in part;
- every status resource that was returned reads the same after the crashes;
- `exchange audit verify` checks the whole log against a freshly signed tree head, and its
  submission and decision events name exactly the envelopes that were taken, each version
  accepted once.

Fixed seed and counts; the run prints one summary line with its figures.
"""

from __future__ import annotations

import json
import random
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests

from exchange.countries import country_collection_id
from exchange.stix.timestamps import format_version
from tests.support.crash import (
    TAXII_21,
    Envelope,
    Outcome,
    Push,
    Signer,
    VersionKey,
    generate_feed,
    group_versions,
    manifest_page,
    onboard_signer,
    page_versions,
    push_envelope,
    walk_manifest,
)
from tests.support.postgres import fresh_schema
from tests.support.server import Credential, HubProcess, run_cli, start_hub

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

SEED = 20240301
KILLS = 5
ENVELOPES_PER_PARTNER = 60
# Partner -> the member countries its agreement sends to; both reach France.
PARTNERS: dict[str, tuple[str, ...]] = {
    "crash-partner-a": ("FR", "DE"),
    "crash-partner-b": ("FR",),
}
COUNTRY = "FR"
ANALYST = "analyst-fr"  # of the demo world
CURSOR_LIMIT = 50  # the pages a cursor is taken from
CONTINUE_LIMIT = 250  # the pages that continue from it (a cursor does not fix the limit)
WALK_LIMIT = 1000
ACKS_BEFORE_KILL = 2  # acknowledged pushes to the current server process before killing it
FIRST_KILL_AFTER = (10, 16)  # pushes done before the first kill (seeded in this range)
KILL_EVERY = (4, 8)  # pushes done after a restart and its checks before the next kill
SLACK = 12  # pushes that may start past a kill's mark before the kill
CURSOR_LEAD = 4  # the cursor is taken this many pushes before the mark
WAIT_SECONDS = 60.0


@dataclass
class CursorMark:
    """A ``next`` value and the versions served before it."""

    prefix: list[VersionKey]
    cursor: str


class Ingestion:
    """Partners pushing their feeds, each from a thread, as fast as the hub takes them.

    Pushes start only up to an allowance the main thread grants: a kill comes once a seeded
    number of pushes are done, and the allowance lets ``SLACK`` more start meanwhile, so every
    kill falls while partners are pushing, however fast or slow the machine, and every restart
    is followed by more pushes. ``kills`` counts the crashes so far; a push's epoch is the
    count when its last attempt started.
    """

    def __init__(self, hub: HubProcess, feeds: list[tuple[Signer, list[Envelope]]]) -> None:
        self.hub = hub
        self.feeds = feeds
        self.kills = 0
        self.started = 0
        self.allowance = 0
        self.pushes: list[Push] = []
        self.in_flight_at_kills: list[int] = []
        self._changed = threading.Condition()

    def grant(self, allowance: int) -> None:
        """Let pushes start until ``allowance`` have started."""
        with self._changed:
            self.allowance = allowance
            self._changed.notify_all()

    def epoch(self) -> int:
        return self.kills

    def killed(self) -> None:
        with self._changed:
            self.kills += 1
            self._changed.notify_all()

    def _may_start(self) -> bool:
        return self.started < self.allowance

    def run_feed(self, signer: Signer, feed: list[Envelope]) -> None:
        for envelope in feed:
            with self._changed:
                assert self._changed.wait_for(self._may_start, timeout=WAIT_SECONDS)
                self.started += 1
            push = push_envelope(self.hub, signer, envelope, self.epoch, give_up_after=45)
            with self._changed:
                self.pushes.append(push)
                self._changed.notify_all()

    def snapshot(self) -> list[Push]:
        with self._changed:
            return list(self.pushes)

    def progress(self) -> dict[str, int]:
        """How many pushes had each outcome in each epoch, for messages."""
        counts = Counter(f"{p.outcome.value}@{p.epoch}" for p in self.snapshot())
        return dict(sorted(counts.items()))

    def done(self) -> int:
        return len(self.snapshot())

    def pushing_past(self, mark: int) -> bool:
        """Whether ``mark`` pushes are done and another is in flight (or may not start)."""
        with self._changed:
            done = len(self.pushes)
            return done >= mark and (self.started > done or not self._may_start())

    def in_flight(self) -> int:
        with self._changed:
            return self.started - len(self.pushes)

    def acknowledged_in(self, epoch: int) -> int:
        return sum(p.outcome is Outcome.ACKNOWLEDGED and p.epoch == epoch for p in self.snapshot())


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, str]]]:
    """The store: SQLite in the data directory, or a fresh PostgreSQL schema."""
    name = str(request.param)
    if name == "sqlite":
        yield name, {}
        return
    with fresh_schema() as database_url:
        yield name, {"EXCHANGE_DATABASE_URL": database_url}


def _wait_for(condition: Callable[[], bool], what: str, detail: Callable[[], Any]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {detail()}"
        time.sleep(0.02)


def _port_refuses(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _take_cursor(hub: HubProcess, analyst: Credential, rng: random.Random) -> CursorMark:
    """A cursor from a seeded number of pages into the collection."""
    collection = country_collection_id(COUNTRY)
    prefix: list[VersionKey] = []
    cursor: str | None = None
    for _ in range(rng.randint(1, 4)):
        page = manifest_page(hub, analyst, collection, CURSOR_LIMIT, cursor)
        if not page.get("more", False):
            break
        prefix += page_versions(page)
        cursor = page["next"]
    assert cursor is not None, "the collection is still too small for a cursor"
    return CursorMark(prefix, cursor)


def _check_cursor(hub: HubProcess, analyst: Credential, mark: CursorMark) -> None:
    """The cursor, taken before the crash, continues a fresh walk exactly where it stood."""
    collection = country_collection_id(COUNTRY)
    after = walk_manifest(hub, analyst, collection, limit=CONTINUE_LIMIT, cursor=mark.cursor)
    full = walk_manifest(hub, analyst, collection, limit=WALK_LIMIT)
    repeated = [key for key, n in Counter(full).items() if n > 1]
    assert not repeated, f"a fresh walk serves versions twice: {repeated[:5]}"
    assert full[: len(mark.prefix)] == mark.prefix, "what was served before the cursor changed"
    start = len(mark.prefix)
    assert full[start : start + len(after)] == after, "the cursor skips or repeats versions"


def _crash_and_restart(hub: HubProcess, ingestion: Ingestion, analyst: Credential) -> None:
    """Under ingestion: after a seeded number of pushes take a cursor, SIGKILL the server at a
    random moment, restart it on the same store, check the cursor; ``KILLS`` times."""
    rng = random.Random(SEED)
    total = sum(len(feed) for _, feed in ingestion.feeds)
    mark = rng.randint(*FIRST_KILL_AFTER)
    for kill in range(KILLS):
        assert mark + SLACK < total, "too few envelopes for the kills"
        ingestion.grant(mark + SLACK)

        def ready(kill: int = kill, mark: int = mark) -> bool:
            return (
                ingestion.done() >= mark - CURSOR_LEAD
                and ingestion.acknowledged_in(kill) >= ACKS_BEFORE_KILL
            )

        _wait_for(ready, f"pushes before kill {kill + 1}", ingestion.progress)
        cursor = _take_cursor(hub, analyst, rng)
        # Then a random moment while a push is in flight (should the partners have used up
        # the allowance already, with none).
        _wait_for(partial(ingestion.pushing_past, mark), f"kill {kill + 1}", ingestion.progress)
        time.sleep(rng.uniform(0.0, 0.05))
        ingestion.in_flight_at_kills.append(ingestion.in_flight())
        process = hub.process
        assert process is not None
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert b"serve" in cmdline, cmdline  # the server itself, not a wrapper
        hub.kill()
        assert process.returncode == -signal.SIGKILL
        assert _port_refuses(hub.port), "something still listens: the server was not killed"
        ingestion.killed()
        hub.start()
        _check_cursor(hub, analyst, cursor)
        mark = ingestion.done() + rng.randint(*KILL_EVERY)
    ingestion.grant(total)


def _decision_version(value: Any) -> str:
    return format_version(value) if isinstance(value, int) else str(value)


def _check_audit_events(
    events: list[dict[str, Any]], applied: list[Push], present: set[VersionKey]
) -> dict[int, str]:
    """The partners' submission and decision events name exactly the envelopes taken, with
    their versions in order, and accept every version served once. Returns the status id
    the log names for each envelope taken whose answer was lost (by ``id`` of its push)."""
    recovered: dict[int, str] = {}
    accepted: Counter[VersionKey] = Counter()
    for partner in PARTNERS:
        own = [e for e in events if e["actor"] == partner]
        submissions = [e["data"]["status"] for e in own if e["kind"] == "submission"]
        assert len(set(submissions)) == len(submissions), "a status submitted twice"
        decisions: dict[str, list[tuple[VersionKey, str]]] = {}
        for event in own:
            if event["kind"] == "decision":
                assert event["data"]["status"] not in decisions, "two decisions, one status"
                decisions[event["data"]["status"]] = [
                    ((d["id"], _decision_version(d["version"])), d["outcome"])
                    for d in event["data"]["objects"]
                ]
        assert set(decisions) == set(submissions), {
            "submitted, no decision": sorted(set(submissions) - set(decisions))[:5],
            "decided, no submission": sorted(set(decisions) - set(submissions))[:5],
        }
        for listed in decisions.values():
            assert all(o in {"accepted", "already_stored"} for _, o in listed), listed
            accepted.update(key for key, outcome in listed if outcome == "accepted")
        by_versions = {tuple(k for k, _ in listed): sid for sid, listed in decisions.items()}
        claimed: set[str] = set()
        for push in (p for p in applied if p.partner == partner):
            where = f"{partner} envelope {push.envelope.number} ({push.outcome.value})"
            if push.outcome is Outcome.ACKNOWLEDGED:
                status_id = str(push.answer["id"])
                listed_keys = [k for k, _ in decisions.get(status_id, [])]
                assert listed_keys == push.envelope.versions, f"{where}: audited otherwise"
            else:
                found = by_versions.get(tuple(push.envelope.versions))
                assert found is not None, f"{where}: taken, but no audit event"
                status_id = recovered[id(push)] = found
            claimed.add(status_id)
        assert claimed == set(submissions), {
            "audited, but not taken": sorted(set(submissions) - claimed)[:5],
        }
    assert set(accepted) == present, "the versions accepted are not the versions served"
    assert max(accepted.values(), default=1) == 1, "a version accepted twice"
    return recovered


def _status(hub: HubProcess, who: Credential, status_id: str) -> dict[str, Any]:
    response = requests.get(
        f"{hub.api_root}status/{status_id}/",
        auth=who.auth,
        headers={"Accept": TAXII_21},
        timeout=60,
    )
    assert response.status_code == 200, response.text[:500]
    answer: dict[str, Any] = response.json()
    return answer


def _check_acknowledged(push: Push) -> list[str]:
    """An acknowledged push took every object (this feed has nothing to refuse)."""
    answer, envelope = push.answer, push.envelope
    where = f"{push.partner} envelope {envelope.number}"
    problems = []
    if answer.get("status") != "complete" or answer.get("failure_count", 0) != 0:
        problems.append(f"{where}: not complete: {str(answer)[:300]}")
    if answer.get("success_count") != len(envelope.objects):
        problems.append(f"{where}: {answer.get('success_count')} of {len(envelope.objects)}")
    named = [(s["id"], s["version"]) for s in answer.get("successes", [])]
    if named != envelope.versions:
        problems.append(f"{where}: the status names other versions than were sent")
    return problems


def test_sigkill_under_ingestion_loses_nothing_and_splits_nothing(
    backend: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    name, env = backend
    started = time.monotonic()
    hub = start_hub(tmp_path, extra_env=env)
    try:
        signers = [onboard_signer(hub, user, countries) for user, countries in PARTNERS.items()]
        analyst = hub.accounts[ANALYST]
        feeds = [
            (s, generate_feed(SEED, s.credential.username, ENVELOPES_PER_PARTNER)) for s in signers
        ]
        # The feeds send some versions again and some ids in several versions.
        carried = Counter(k for _, feed in feeds for e in feed for k in e.versions)
        repeats = sum(n > 1 for n in carried.values())
        updated = sum(n > 1 for n in Counter(stix_id for stix_id, _ in carried).values())
        assert repeats > 0
        assert updated > 0
        ingestion = Ingestion(hub, feeds)
        setup = time.monotonic() - started
        with ThreadPoolExecutor(max_workers=len(feeds)) as pool:
            running = [pool.submit(ingestion.run_feed, signer, feed) for signer, feed in feeds]
            try:
                _crash_and_restart(hub, ingestion, analyst)
            finally:
                ingestion.grant(len(PARTNERS) * ENVELOPES_PER_PARTNER)
                for future in running:
                    future.result(timeout=WAIT_SECONDS * 2)
        pushes = ingestion.snapshot()
        crashing = time.monotonic() - started - setup
        assert len(pushes) == len(PARTNERS) * ENVELOPES_PER_PARTNER
        answered = [
            (p.partner, p.envelope.number, p.status_code, p.error)
            for p in pushes
            if p.outcome is Outcome.ANSWERED
        ]
        assert not answered, f"answers other than 202: {answered[:5]}"
        acknowledged = [p for p in pushes if p.outcome is Outcome.ACKNOWLEDGED]
        unknown = [p for p in pushes if p.outcome is Outcome.UNKNOWN]
        # Ingestion resumed after every restart, the last one included.
        assert {p.epoch for p in acknowledged} == set(range(KILLS + 1))
        problems = [line for push in acknowledged for line in _check_acknowledged(push)]
        assert not problems, "\n".join(problems[:10])

        # What France's collection serves: every version once.
        served = walk_manifest(hub, analyst, country_collection_id(COUNTRY), limit=WALK_LIMIT)
        repeated = {key: n for key, n in Counter(served).items() if n > 1}
        assert not repeated, f"versions served more than once: {list(repeated.items())[:5]}"
        present = set(served)
        assert max(Counter(stix_id for stix_id, _ in present).values()) > 1  # every version

        # Whole or nothing: an envelope whose own versions (no other envelope carries them)
        # are served was taken, and then all of it is served; an acknowledged one was taken.
        applied: list[Push] = []
        for push in pushes:
            envelope = push.envelope
            assert envelope.own, "every envelope carries a version of its own"
            own_served = envelope.own & present
            if push.outcome is Outcome.ACKNOWLEDGED or own_served:
                missing = [key for key in envelope.versions if key not in present]
                assert not missing, (
                    f"{push.partner} envelope {envelope.number} ({push.outcome.value}) is served "
                    f"in part: {len(missing)} of {len(envelope.objects)} versions missing"
                )
                applied.append(push)
        assert present == group_versions(applied), {
            "served, from no envelope taken": sorted(present - group_versions(applied))[:5],
        }

        # Every status resource returned reads the same after the crashes.
        by_partner = {s.credential.username: s.credential for s in signers}
        for push in acknowledged:
            assert _status(hub, by_partner[push.partner], push.answer["id"]) == push.answer

        # The audit log: what it says was submitted is exactly what was taken.
        events = json.loads(run_cli(hub.data_dir, "audit", "events", "--json", extra_env=env))
        recovered = _check_audit_events(events, applied, present)

        # The envelopes taken whose answer was lost have their status resource too (found
        # through their audit events), complete and naming every version.
        unknown_taken = [p for p in applied if p.outcome is Outcome.UNKNOWN]
        assert len(recovered) == len(unknown_taken)
        for push in unknown_taken:
            answer = _status(hub, by_partner[push.partner], recovered[id(push)])
            assert answer["status"] == "complete"
            assert [(s["id"], s["version"]) for s in answer["successes"]] == push.envelope.versions

        # The whole log verifies against a tree head signed now.
        head = json.loads(run_cli(hub.data_dir, "audit", "head", extra_env=env))
        verified = run_cli(hub.data_dir, "audit", "verify", extra_env=env)
        assert verified.startswith("ok:"), verified
        assert f"(size {head['head']['size']}, root {head['head']['root']})" in verified
    finally:
        hub.stop()
    elapsed = time.monotonic() - started
    print(
        f"crash-safety[{name}]: kills={KILLS} envelopes sent={len(pushes)} "
        f"acknowledged={len(acknowledged)} unknown={len(unknown)} "
        f"(taken {len(unknown_taken)}, not taken {len(unknown) - len(unknown_taken)}) "
        f"objects acknowledged={sum(len(p.envelope.objects) for p in acknowledged)} "
        f"(feed: {repeats} versions sent again, {updated} ids in several versions) "
        f"versions served={len(present)} in flight at kills={ingestion.in_flight_at_kills} "
        f"elapsed={elapsed:.1f}s (setup {setup:.1f}, pushes and kills {crashing:.1f}, "
        f"checks {elapsed - setup - crashing:.1f})"
    )
