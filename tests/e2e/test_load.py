"""A bounded load run against a real `exchange serve` on SQLite, over loopback only.

Twenty vetted partners, each under an agreement of its own (one country, several, regions, all
member countries, all but some; named, pseudonymous or anonymous attribution) and each with a
registered Ed25519 key, push signed envelopes of new indicators and read back their status,
while fifty police analysts in ten countries page their country's collection with ``next``
within a pass and ``added_after`` from one pass to the next. The run lasts
``EXCHANGE_LOAD_SECONDS`` (60 by default) and each client stops by itself after
``EXCHANGE_LOAD_MAX_REQUESTS`` requests (2000 by default).

The test knows from the agreements it wrote which countries may see each partner's objects, and
checks, against that alone: no analyst ever receives an object its country may not see or one
it has already received in its walk; after the run every analyst's walk, and a fresh full walk
per country, hold exactly the acknowledged objects routed there (plus what the hub ships with
them: the identity that pseudonymous and anonymous partners' objects are attributed to, and its
TLP:CLEAR marking definition), with the bodies the partners sent; every status is
complete with every object a success; there is no 5xx, 429, other error status, timeout or
connection error. The figures are printed (run with ``pytest -s``) and written as JSON under
the test's temporary directory.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from exchange.agreements.markings import TLP2_MARKING
from exchange.agreements.terms import Tlp
from exchange.countries import country_collection_id
from exchange.signing.client import SigningAuth
from exchange.signing.keys import PrivateKey, generate_private_key, public_key_info
from tests.support.load import Recorder, timed
from tests.support.onboarding import pass_through_terms
from tests.support.server import Credential, HubProcess, start_hub
from tests.support.stix import indicator

LOAD_SECONDS = float(os.environ.get("EXCHANGE_LOAD_SECONDS", "60"))
MAX_REQUESTS = int(os.environ.get("EXCHANGE_LOAD_MAX_REQUESTS", "2000"))
CLIENT_TIMEOUT = 30.0
TAIL_PAUSE = 0.2  # an analyst that has caught up waits this long before asking again
TAXII = "application/taxii+json;version=2.1"

pytestmark = [pytest.mark.load, pytest.mark.timeout(int(LOAD_SECONDS) + 420)]

# The ten member countries of the test and their regions (config/member-countries.toml).
REGION = {
    "FR": "europe",
    "DE": "europe",
    "SE": "europe",
    "BR": "americas",
    "AR": "americas",
    "KE": "africa",
    "ZA": "africa",
    "JP": "asia-south-pacific",
    "IN": "asia-south-pacific",
    "NZ": "asia-south-pacific",
}
COUNTRIES = tuple(REGION)
ANALYSTS_PER_COUNTRY = 5
# The identity a pseudonymous or anonymous partner's objects are attributed to is made by the
# hub, marked TLP:CLEAR, and shipped with them together with that marking definition.
IDENTITY_MARKING = TLP2_MARKING[Tlp.CLEAR]


@dataclass(frozen=True)
class PartnerPlan:
    """One partner: the recipients clause of its agreement and its attribution."""

    name: str
    recipients: dict[str, Any]
    attribution: str = "named"

    @property
    def identity(self) -> str:
        """The partner's own STIX identity, which its indicators name as their creator."""
        return f"identity--{uuid.uuid5(uuid.NAMESPACE_URL, 'load-partner:' + self.name)}"

    @property
    def reaches(self) -> frozenset[str]:
        """The test's countries the agreement routes to, worked out from the clause alone."""
        clause = self.recipients
        if clause.get("all_members"):
            chosen = set(COUNTRIES)
        else:
            regions = set(clause.get("regions", ()))
            chosen = set(clause.get("countries", ())) | {
                code for code in COUNTRIES if REGION[code] in regions
            }
        return frozenset(chosen - set(clause.get("exclude", ())))


PLANS = (
    *(PartnerPlan(f"load-one-{code.lower()}", {"countries": [code]}) for code in COUNTRIES[:6]),
    PartnerPlan("load-one-za-pseudo", {"countries": ["ZA"]}, "pseudonymous"),
    PartnerPlan("load-one-jp-anon", {"countries": ["JP"]}, "anonymous"),
    PartnerPlan("load-two-fr-de", {"countries": ["FR", "DE"]}),
    PartnerPlan("load-three-br-ar-ke", {"countries": ["BR", "AR", "KE"]}, "pseudonymous"),
    PartnerPlan("load-four-asia-za", {"countries": ["JP", "IN", "NZ", "ZA"]}),
    PartnerPlan("load-two-se-nz", {"countries": ["SE", "NZ"]}),
    PartnerPlan("load-two-de-in", {"countries": ["DE", "IN"]}, "pseudonymous"),
    PartnerPlan("load-five", {"countries": ["FR", "BR", "ZA", "KE", "SE"]}),
    PartnerPlan("load-europe", {"regions": ["europe"]}),
    PartnerPlan("load-americas-africa", {"regions": ["americas", "africa"]}),
    PartnerPlan("load-all", {"all_members": True}),
    PartnerPlan("load-all-pseudo", {"all_members": True}, "pseudonymous"),
    PartnerPlan("load-all-but-fr-jp", {"all_members": True, "exclude": ["FR", "JP"]}),
    PartnerPlan(
        "load-asia-fr-not-nz",
        {"countries": ["FR"], "regions": ["asia-south-pacific"], "exclude": ["NZ"]},
    ),
)


@dataclass
class Partner:
    plan: PartnerPlan
    credential: Credential
    key: PrivateKey
    key_id: str


@dataclass
class Analyst:
    credential: Credential
    country: str
    limit: int


@dataclass
class World:
    """What every client thread shares: the hub, the plans, what was sent and acknowledged."""

    hub: HubProcess
    recorder: Recorder
    deadline: float
    plans: dict[str, PartnerPlan]
    stop: threading.Event = field(default_factory=threading.Event)
    sent: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    acknowledged: set[str] = field(default_factory=set)
    unconfirmed: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def over(self) -> bool:
        return self.stop.is_set() or time.monotonic() >= self.deadline


def _indicator(plan: PartnerPlan, rng: random.Random) -> dict[str, Any]:
    address = ".".join(str(rng.randint(1, 254)) for _ in range(3))
    return indicator(
        f"[ipv4-addr:value = '10.{address}']",
        name=f"Load test indicator from {plan.name}",
        indicator_types=["malicious-activity"],
        created_by_ref=plan.identity,
    )


def _status_problem(status: dict[str, Any], ids: set[str]) -> str | None:
    acknowledged = {line.get("id") for line in status.get("successes", [])}
    wanted = {
        "status": "complete",
        "total_count": len(ids),
        "success_count": len(ids),
        "failure_count": 0,
        "pending_count": 0,
    }
    got = {key: status.get(key) for key in wanted}
    if got != wanted or acknowledged != ids:
        failures = status.get("failures", [])[:3]
        return f"status {status.get('id')}: {got}, expected {wanted}; failures {failures}"
    return None


def _push(world: World, partner: Partner, seed: int) -> None:
    """Push envelopes of 10 to 50 new indicators and read back each status, until the end."""
    rng = random.Random(seed)
    hub, recorder, plan = world.hub, world.recorder, partner.plan
    assert partner.credential.inbox is not None
    objects_url = hub.collection_url(partner.credential.inbox) + "objects/"
    with requests.Session() as session:
        session.auth = SigningAuth(
            partner.key,
            partner.key_id,
            user=partner.credential.username,
            token=partner.credential.token,
        )
        made = 0
        while made + 2 <= MAX_REQUESTS and not world.over():
            objects = [_indicator(plan, rng) for _ in range(rng.randint(10, 50))]
            ids = {obj["id"] for obj in objects}
            with world.lock:  # known before any analyst could receive them
                world.sent.update((obj["id"], (plan.name, obj)) for obj in objects)
            recorder.count("envelopes_pushed")
            recorder.count("objects_pushed", len(objects))
            made += 1
            response = timed(
                recorder,
                session,
                "POST objects",
                "POST",
                objects_url,
                expect=202,
                timeout=CLIENT_TIMEOUT,
                data=orjson.dumps({"objects": objects}),
                headers={"Content-Type": TAXII, "Accept": TAXII},
            )
            if response is None:
                with world.lock:
                    world.unconfirmed |= ids
                continue
            problem = _status_problem(response.json(), ids)
            made += 1
            polled = timed(
                recorder,
                session,
                "GET status",
                "GET",
                f"{hub.api_root}status/{response.json()['id']}/",
                expect=200,
                timeout=CLIENT_TIMEOUT,
                headers={"Accept": TAXII},
            )
            if polled is not None:
                problem = problem or _status_problem(polled.json(), ids)
            if problem is not None or polled is None:
                if problem is not None:
                    recorder.violation(f"{plan.name}: {problem}")
                with world.lock:
                    world.unconfirmed |= ids
                continue
            with world.lock:
                world.acknowledged |= ids
            recorder.count("objects_acknowledged", len(objects))


class Walk:
    """One analyst's walk over its country's collection, from the start, pass after pass.

    Within a pass it follows ``next`` (with the same filters); each page's
    ``X-TAXII-Date-Added-Last`` becomes the ``added_after`` of the pass after it, so every object
    placed in the collection comes exactly once in the walk.
    """

    def __init__(self, world: World, analyst: Analyst, session: requests.Session) -> None:
        self.world = world
        self.analyst = analyst
        self.session = session
        self.url = world.hub.collection_url(country_collection_id(analyst.country)) + "objects/"
        self.added_after: str | None = None
        self.received: dict[str, dict[str, Any]] = {}
        self.requests = 0

    def one_pass(self, *, cap: int | None, in_run: bool = False) -> bool:
        """Page until ``more`` is false; False if a request failed, ``cap`` was reached or
        (``in_run``) the run is over."""
        recorder = self.world.recorder
        filters = {"limit": str(self.analyst.limit)}
        if self.added_after is not None:
            filters["added_after"] = self.added_after
        params = dict(filters)
        while True:
            if (cap is not None and self.requests >= cap) or (in_run and self.world.over()):
                return False
            self.requests += 1
            response = timed(
                recorder,
                self.session,
                "GET objects",
                "GET",
                self.url,
                expect=200,
                timeout=CLIENT_TIMEOUT,
                params=params,
                headers={"Accept": TAXII},
            )
            if response is None:
                return False
            page = orjson.loads(response.content)
            objects = page.get("objects", [])
            recorder.count("pages_pulled")
            recorder.count("objects_pulled", len(objects))
            for obj in objects:
                self._take(obj)
            if objects:
                last = response.headers.get("X-TAXII-Date-Added-Last")
                if last is None:
                    recorder.violation(f"{self.url}: a page of objects without Date-Added-Last")
                    return False
                self.added_after = last
            if not page.get("more"):
                return True
            if not page.get("next"):
                recorder.violation(f"{self.url}: more is true but there is no next")
                return False
            params = {**filters, "next": page["next"]}

    def _take(self, obj: dict[str, Any]) -> None:
        who = f"{self.analyst.credential.username} ({self.analyst.country})"
        stix_id = obj.get("id")
        if not isinstance(stix_id, str):
            self.world.recorder.violation(f"{who} received an object without an id")
            return
        if stix_id in self.received:
            self.world.recorder.violation(f"{who} received {stix_id} twice in one walk")
        self.received[stix_id] = obj
        origin = self.world.sent.get(stix_id)
        if origin is None:
            if not _hub_shipped(obj):
                self.world.recorder.violation(f"{who} received {stix_id}, which no partner sent")
            return
        partner = self.world.plans[origin[0]]
        if self.analyst.country not in partner.reaches:
            self.world.recorder.violation(
                f"{who} received {stix_id} of {partner.name}, whose agreement routes to "
                f"{sorted(partner.reaches)} only"
            )


def _hub_shipped(obj: dict[str, Any]) -> bool:
    """An identity or the TLP:CLEAR marking definition: what the hub ships with redistributed
    objects (which identities exactly is checked after the run)."""
    if obj.get("type") == "marking-definition":
        return obj.get("id") == IDENTITY_MARKING
    return obj.get("type") == "identity"


def _pull(world: World, walk: Walk) -> None:
    """Walk the country's collection, pass after pass, until the end."""
    while not world.over() and walk.requests < MAX_REQUESTS:
        caught_up = walk.one_pass(cap=MAX_REQUESTS, in_run=True)
        if caught_up:
            world.stop.wait(TAIL_PAUSE)


def _onboard(hub: HubProcess) -> tuple[list[Partner], list[Analyst]]:
    partners: list[Partner] = []
    for plan in PLANS:
        terms = pass_through_terms(
            [], recipients=plan.recipients, attribution=plan.attribution, signatures_required=True
        )
        credential = hub.onboard_partner(plan.name, [], terms)
        key = generate_private_key()
        info = public_key_info(key.public_key())
        hub._admin_call(
            "POST", f"/admin/partners/{plan.name}/keys", "admin", {"public_key": info.pem()}
        )
        partners.append(Partner(plan, credential, key, info.key_id))
    limits = (100, 250, 500, 1000)
    analysts = [
        Analyst(
            hub.create_account("analyst", f"load-analyst-{code.lower()}-{n}", "--country", code),
            code,
            limits[(index + n) % len(limits)],
        )
        for index, code in enumerate(COUNTRIES)
        for n in range(ANALYSTS_PER_COUNTRY)
    ]
    return partners, analysts


def _attribution_ids(world: World, walks: dict[str, Walk]) -> tuple[dict[str, str], list[str]]:
    """The identity each partner's objects are attributed to, as recipients see it, and the
    problems found on the way (a body that is not what was sent, an attribution that names
    a partner that chose not to be named)."""
    seen: dict[str, set[str]] = defaultdict(set)
    problems: list[str] = []
    for country, walk in walks.items():
        for stix_id, obj in walk.received.items():
            origin = world.sent.get(stix_id)
            if origin is None:
                continue
            plan = world.plans[origin[0]]
            attributed = obj.get("created_by_ref")
            seen[plan.name].add(str(attributed))
            expected = {**origin[1], "created_by_ref": attributed}
            if obj != expected:
                problems.append(f"{country}: {stix_id} differs from what {plan.name} sent: {obj}")
    attribution: dict[str, str] = {}
    for name, ids in seen.items():
        plan = world.plans[name]
        if len(ids) != 1:
            problems.append(f"{name}'s objects are attributed to several identities: {ids}")
            continue
        (attribution[name],) = ids
        named = attribution[name] == plan.identity
        if named != (plan.attribution == "named"):
            problems.append(f"{name} ({plan.attribution}) is attributed to {attribution[name]}")
    pseudonyms = [attribution[p.name] for p in PLANS if p.attribution == "pseudonymous"]
    if len(set(pseudonyms)) != len(pseudonyms):
        problems.append(f"two pseudonymous partners share a pseudonym: {pseudonyms}")
    return attribution, problems


def _expected(world: World, country: str, attribution: dict[str, str]) -> set[str]:
    routed = {
        stix_id
        for stix_id in world.acknowledged
        if country in world.plans[world.sent[stix_id][0]].reaches
    }
    shipped_identities = {
        attribution[plan.name]
        for plan in PLANS
        if plan.attribution != "named" and country in plan.reaches and plan.name in attribution
    }
    shipped = {IDENTITY_MARKING} if shipped_identities else set()
    return routed | shipped_identities | shipped


def _server_log_findings(hub: HubProcess) -> dict[str, int]:
    text = hub.log_path.read_text(errors="replace") if hub.log_path else ""
    return {
        "tracebacks": text.count("Traceback"),
        "database_is_locked": text.count("database is locked"),
        "error_lines": sum(1 for line in text.splitlines() if "ERROR" in line),
    }


def _summary(figures: dict[str, Any]) -> str:
    latency = figures["latency_ms"]

    def timing(method: str) -> str:
        row = latency.get(method, {})
        return f"p50 {row.get('p50_ms')} ms, p99 {row.get('p99_ms')} ms"

    requests_made = figures["requests"]
    return (
        f"LOAD FIGURES (SQLite; {figures['settings']['partners']} partners, "
        f"{figures['settings']['analysts']} analysts, {figures['load_s']} s): "
        f"POST objects {requests_made.get('POST objects', 0)} ({timing('POST')}); "
        f"GET {requests_made.get('GET objects', 0)} pages + "
        f"{requests_made.get('GET status', 0)} statuses ({timing('GET')}); "
        f"objects pushed {figures['objects_pushed']}, acknowledged "
        f"{figures['objects_acknowledged']}; pages {figures['pages_pulled']}, objects pulled "
        f"{figures['objects_pulled']}; errors {figures['errors'] or 'none'}"
    )


@pytest.fixture
def load_hub(tmp_path: Path) -> Iterator[HubProcess]:
    process = start_hub(tmp_path / "hub")
    try:
        yield process
    finally:
        process.stop()


def test_partners_push_and_analysts_page_under_load(load_hub: HubProcess, tmp_path: Path) -> None:
    hub = load_hub
    started = time.monotonic()
    partners, analysts = _onboard(hub)
    setup_seconds = time.monotonic() - started
    recorder = Recorder()

    # Nothing is in the test's countries before the run: the expectation below is exact.
    for code in COUNTRIES:
        before = requests.get(
            hub.collection_url(country_collection_id(code)) + "objects/",
            auth=analysts[COUNTRIES.index(code) * ANALYSTS_PER_COUNTRY].credential.auth,
            headers={"Accept": TAXII},
            timeout=CLIENT_TIMEOUT,
        )
        assert before.status_code == 200, before.text
        assert before.json().get("objects", []) == [], code

    world = World(
        hub=hub,
        recorder=recorder,
        deadline=time.monotonic() + LOAD_SECONDS,
        plans={plan.name: plan for plan in PLANS},
    )
    sessions = [requests.Session() for _ in analysts]
    for session, analyst in zip(sessions, analysts, strict=True):
        session.auth = analyst.credential.auth
    walks = [
        Walk(world, analyst, session) for analyst, session in zip(analysts, sessions, strict=True)
    ]
    threads = [
        threading.Thread(target=_push, args=(world, partner, index), name=partner.plan.name)
        for index, partner in enumerate(partners)
    ] + [
        threading.Thread(target=_pull, args=(world, walk), name=walk.analyst.credential.username)
        for walk in walks
    ]
    load_started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, world.deadline - time.monotonic()) + 2 * CLIENT_TIMEOUT + 30)
    world.stop.set()
    load_seconds = time.monotonic() - load_started
    stuck = [thread.name for thread in threads if thread.is_alive()]
    assert not stuck, f"clients still running after the end of the run: {stuck}"

    # After the run: every analyst finishes its walk, and one fresh walk per country.
    final_started = time.monotonic()
    for walk in walks:
        walk.one_pass(cap=None)
    fresh: dict[str, Walk] = {}
    for index, code in enumerate(COUNTRIES):
        first = analysts[index * ANALYSTS_PER_COUNTRY]
        session = sessions[index * ANALYSTS_PER_COUNTRY]
        fresh[code] = Walk(world, Analyst(first.credential, code, 1000), session)
        fresh[code].one_pass(cap=None)
    final_seconds = time.monotonic() - final_started
    for session in sessions:
        session.close()

    attribution, body_problems = _attribution_ids(world, fresh)
    expected = {code: _expected(world, code, attribution) for code in COUNTRIES}
    lost_or_extra: list[str] = []
    for walk in [*walks, *fresh.values()]:
        got, wanted = set(walk.received), expected[walk.analyst.country]
        if got != wanted:
            unexpected = got - wanted
            lost_or_extra.append(
                f"{walk.analyst.credential.username} ({walk.analyst.country}): "
                f"{len(wanted - got)} missing (e.g. {sorted(wanted - got)[:3]}), "
                f"{len(unexpected)} unexpected, of which {len(unexpected & world.unconfirmed)} "
                f"from envelopes whose POST or status failed (e.g. {sorted(unexpected)[:3]})"
            )

    counts = recorder.counts
    figures: dict[str, Any] = {
        "settings": {
            "load_seconds": LOAD_SECONDS,
            "max_requests_per_client": MAX_REQUESTS,
            "client_timeout_s": CLIENT_TIMEOUT,
            "partners": len(partners),
            "analysts": len(analysts),
            "countries": len(COUNTRIES),
            "store": "sqlite",
        },
        "setup_s": round(setup_seconds, 1),
        "load_s": round(load_seconds, 1),
        "final_walks_s": round(final_seconds, 1),
        "requests": dict(recorder.requests),
        "requests_per_s": round(sum(recorder.requests.values()) / load_seconds, 1),
        "envelopes_pushed": counts["envelopes_pushed"],
        "objects_pushed": counts["objects_pushed"],
        "objects_acknowledged": counts["objects_acknowledged"],
        "objects_acknowledged_per_s": round(counts["objects_acknowledged"] / load_seconds, 1),
        "pages_pulled": counts["pages_pulled"],
        "objects_pulled": counts["objects_pulled"],
        "objects_per_country": {code: len(fresh[code].received) for code in COUNTRIES},
        "errors": dict(recorder.errors),
        "violations": len(recorder.violations),
        "lost_or_unexpected_walks": len(lost_or_extra),
        "body_or_attribution_problems": len(body_problems),
        "unconfirmed_objects": len(world.unconfirmed),
        "latency_ms": recorder.latency_figures(),
        "server_log": _server_log_findings(hub),
    }
    figures_path = tmp_path / "load-figures.json"
    figures_path.write_text(json.dumps(figures, indent=2))
    print(f"\n{_summary(figures)}\nLOAD FIGURES in full: {figures_path}")
    print(json.dumps(figures, indent=2))

    assert "429" not in recorder.errors, (
        "the hub answered 429 Too Many Requests under the default settings: "
        f"{recorder.error_samples['429']}"
    )
    assert not recorder.errors, f"errors under load: {dict(recorder.error_samples)}"
    assert not recorder.violations, recorder.violations[:10]
    assert not world.unconfirmed, f"{len(world.unconfirmed)} objects were never acknowledged"
    assert not body_problems, body_problems[:5]
    assert not lost_or_extra, lost_or_extra[:10]
    assert counts["objects_acknowledged"] == counts["objects_pushed"] > 0
    assert figures["server_log"] == {"tracebacks": 0, "database_is_locked": 0, "error_lines": 0}
