"""Two hub nodes on one PostgreSQL database, as behind a load balancer.

Two `exchange serve` processes share one store (EXCHANGE_DATABASE_URL, a fresh schema). Four
partners, whose agreements require signatures and route to different member countries, push
signed envelopes concurrently, each envelope to the node after the previous one. Then:

- every push was taken whole (202, complete, every object added), and each status resource
  reads the same from the other node;
- analysts of three countries page through their country collections with a small limit,
  each page from the other node than the last, with the ``next`` that node gave: they see
  every object routed to their country exactly once, and nothing else (the expectation is
  computed here from what the partners sent and their agreements' recipient countries);
- an accepted signed request, sent again byte for byte to the other node, is refused as a
  replay (the nonce is remembered in the shared store), and nothing new appears;
- `exchange audit verify` over the database checks the whole audit log, written by both
  nodes at once, against a freshly signed tree head;
- both nodes answer ``GET /health/ready`` with 200 ``{"status": "ready"}``;
- while the partners push a further batch, analysts poll their country collections as a
  TAXII client keeps up: ``next`` while a page says more, then ``added_after`` = the
  ``X-TAXII-Date-Added-Last`` of the last page with objects, each request to the other node
  than the last, until the pushes are over and a poll of each node brings nothing new. Each
  sees every object of its collection exactly once, and nothing else.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from exchange.countries import country_collection_id
from exchange.signing.client import SigningAuth
from exchange.stix.timestamps import parse_timestamp
from tests.support.postgres import fresh_schema
from tests.support.server import (
    EXCHANGE,
    Credential,
    HubProcess,
    _env,
    start_another_node,
    start_hub,
)
from tests.support.signers import Signer, onboard_signer

pytestmark = pytest.mark.e2e

TAXII_21 = "application/taxii+json;version=2.1"
TIMEOUT = 60

# Partner -> the member countries its agreement sends to. FR, DE and BR have demo analysts.
ROUTES: dict[str, tuple[str, ...]] = {
    "two-node-partner-0": ("FR", "DE"),
    "two-node-partner-1": ("DE", "BR"),
    "two-node-partner-2": ("FR",),
    "two-node-partner-3": ("BR", "JP"),
}
ANALYSTS = {"FR": "analyst-fr", "DE": "analyst-de", "BR": "analyst-br"}
ENVELOPES_PER_PARTNER = 6
MALWARE_PER_ENVELOPE = 3
INDICATORS_PER_MALWARE = 2
PAGE_LIMIT = 7


@dataclass
class Push:
    """One signed POST as sent (body and headers exactly), to which node, and its answer."""

    partner: str
    node: int
    url: str
    body: bytes
    headers: dict[str, str]
    objects: list[dict[str, Any]]
    status_code: int
    answer: dict[str, Any]


@dataclass
class Cluster:
    nodes: tuple[HubProcess, HubProcess]
    database_url: str
    signers: dict[str, Signer]
    pushes: list[Push]


def _envelope_objects(partner: str, number: int) -> list[dict[str, Any]]:
    """Fresh malware, indicators of it, and `indicates` relationships; every id new."""
    created = "2024-03-01T12:00:00.000Z"
    common = {"spec_version": "2.1", "created": created, "modified": created}
    objects: list[dict[str, Any]] = []
    for m in range(MALWARE_PER_ENVELOPE):
        malware_id = f"malware--{uuid.uuid4()}"
        objects.append(
            {
                **common,
                "type": "malware",
                "id": malware_id,
                "name": f"{partner} family {number}.{m}",
                "is_family": True,
            }
        )
        for i in range(INDICATORS_PER_MALWARE):
            indicator_id = f"indicator--{uuid.uuid4()}"
            domain = f"{uuid.uuid4().hex[:12]}.example.org"
            objects.append(
                {
                    **common,
                    "type": "indicator",
                    "id": indicator_id,
                    "name": f"{partner} c2 {number}.{m}.{i}",
                    "indicator_types": ["malicious-activity"],
                    "pattern": f"[domain-name:value = '{domain}']",
                    "pattern_type": "stix",
                    "valid_from": created,
                }
            )
            objects.append(
                {
                    **common,
                    "type": "relationship",
                    "id": f"relationship--{uuid.uuid4()}",
                    "relationship_type": "indicates",
                    "source_ref": indicator_id,
                    "target_ref": malware_id,
                }
            )
    return objects


def _push(
    nodes: tuple[HubProcess, HubProcess], signer: Signer, number: int, *, timeout: float = TIMEOUT
) -> Push:
    """Sign one envelope for the partner's inbox on node ``number % 2`` and send it."""
    node = number % 2
    hub = nodes[node]
    inbox = signer.credential.inbox
    assert inbox is not None
    objects = _envelope_objects(signer.credential.username, number)
    url = f"{hub.collection_url(inbox)}objects/"
    prepared = requests.Request(
        "POST",
        url,
        data=json.dumps({"objects": objects}).encode(),
        headers={"Content-Type": TAXII_21, "Accept": TAXII_21},
    ).prepare()
    SigningAuth(
        signer.private,
        signer.key_id,
        user=signer.credential.username,
        token=signer.credential.token,
    )(prepared)
    assert isinstance(prepared.body, bytes)
    headers = dict(prepared.headers)
    with requests.Session() as session:
        response = session.send(prepared, timeout=timeout)
    try:
        answer: dict[str, Any] = response.json()
    except ValueError:
        answer = {"unparsed": response.text}
    return Push(
        signer.credential.username,
        node,
        url,
        prepared.body,
        headers,
        objects,
        response.status_code,
        answer,
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with fresh_schema() as database_url:
        env = {"EXCHANGE_DATABASE_URL": database_url, "EXCHANGE_MAINTENANCE_SECONDS": "1"}
        first = start_hub(tmp_path_factory.mktemp("node-a"), extra_env=env)
        second: HubProcess | None = None
        try:
            second = start_another_node(first, tmp_path_factory.mktemp("node-b"))
            nodes = (first, second)
            # Onboarding alternates nodes too: what one node's admin API writes, the other uses.
            signers = {
                name: onboard_signer(nodes[i % 2], name, countries)
                for i, (name, countries) in enumerate(ROUTES.items())
            }
            jobs = [
                (signer, number)
                for number in range(ENVELOPES_PER_PARTNER)
                for signer in signers.values()
            ]
            with ThreadPoolExecutor(max_workers=2 * len(signers)) as pool:
                pushes = list(pool.map(lambda job: _push(nodes, *job), jobs))
            yield Cluster(nodes, database_url, signers, pushes)
        finally:
            if second is not None:
                second.stop()
            first.stop()


def _objects_page(
    hub: HubProcess, who: Credential, collection_id: str, cursor: str | None
) -> dict[str, Any]:
    params: dict[str, str | int] = {"limit": PAGE_LIMIT}
    if cursor is not None:
        params["next"] = cursor
    response = requests.get(
        f"{hub.collection_url(collection_id)}objects/",
        params=params,
        auth=who.auth,
        headers={"Accept": TAXII_21},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, (hub.port, response.text)
    page: dict[str, Any] = response.json()
    return page


def _page_alternately(cluster: Cluster, who: Credential, collection_id: str) -> list[str]:
    """Every object id of a collection, in the order served, each page from the other node."""
    seen: list[str] = []
    cursor: str | None = None
    for page_number in itertools.count():
        assert page_number < 1000, "paging does not end"
        hub = cluster.nodes[page_number % 2]
        page = _objects_page(hub, who, collection_id, cursor)
        objects = page.get("objects", [])
        assert len(objects) <= PAGE_LIMIT
        seen += [obj["id"] for obj in objects]
        if not page.get("more", False):
            return seen
        assert objects, "a page that says more must not be empty"
        cursor = page["next"]
        assert isinstance(cursor, str)
        assert cursor
    raise AssertionError("unreachable")


def test_every_concurrent_push_is_taken_whole(cluster: Cluster) -> None:
    assert len(cluster.pushes) == len(ROUTES) * ENVELOPES_PER_PARTNER
    assert {push.node for push in cluster.pushes} == {0, 1}
    for push in cluster.pushes:
        where = (push.partner, push.node)
        assert push.status_code == 202, (where, push.answer)
        answer = push.answer
        assert answer["status"] == "complete", where
        assert answer["total_count"] == len(push.objects), where
        assert answer["success_count"] == len(push.objects), (where, answer.get("failures"))
        assert answer.get("failure_count", 0) == 0, (where, answer.get("failures"))
        assert answer.get("pending_count", 0) == 0, where
        assert [s["id"] for s in answer["successes"]] == [o["id"] for o in push.objects]
        assert all(s["message"].startswith("added") for s in answer["successes"]), where


def test_a_status_reads_the_same_from_either_node(cluster: Cluster) -> None:
    for push in cluster.pushes[: 2 * len(ROUTES)]:
        other = cluster.nodes[1 - push.node]
        partner = cluster.signers[push.partner].credential
        response = requests.get(
            f"{other.api_root}status/{push.answer['id']}/",
            auth=partner.auth,
            headers={"Accept": TAXII_21},
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, response.text
        assert response.json() == push.answer


def test_analysts_paging_across_nodes_see_each_object_exactly_once(cluster: Cluster) -> None:
    for country, username in ANALYSTS.items():
        expected = {
            obj["id"]
            for push in cluster.pushes
            if country in cluster.signers[push.partner].countries
            for obj in push.objects
        }
        assert len(expected) > 3 * PAGE_LIMIT  # several pages, so the nodes take turns
        analyst = cluster.nodes[0].accounts[username]
        seen = _page_alternately(cluster, analyst, country_collection_id(country))
        repeated = {stix_id: n for stix_id, n in Counter(seen).items() if n > 1}
        assert not repeated, (country, repeated)
        assert set(seen) == expected, (
            country,
            {"missing": sorted(expected - set(seen))[:5], "extra": sorted(set(seen) - expected)},
        )


def test_a_replay_sent_to_the_other_node_is_refused(cluster: Cluster) -> None:
    original = cluster.pushes[0]
    assert original.status_code == 202
    signer = cluster.signers[original.partner]
    inbox = signer.credential.inbox
    assert inbox is not None
    first, other = cluster.nodes[original.node], cluster.nodes[1 - original.node]

    def inbox_ids() -> list[str]:
        ids: list[str] = []
        cursor: str | None = None
        for _ in range(1000):
            page = _objects_page(other, signer.credential, inbox, cursor)
            ids += [obj["id"] for obj in page.get("objects", [])]
            if not page.get("more", False):
                return ids
            cursor = page["next"]
        raise AssertionError("paging the inbox does not end")

    def fr_size() -> int:
        analyst = cluster.nodes[0].accounts[ANALYSTS["FR"]]
        response = requests.get(
            f"{other.collection_url(country_collection_id('FR'))}manifest/",
            params={"limit": 1000},
            auth=analyst.auth,
            headers={"Accept": TAXII_21},
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, response.text
        manifest = response.json()
        assert manifest.get("more", False) is False
        return len(manifest.get("objects", []))

    before = (sorted(inbox_ids()), fr_size())
    sent = {o["id"] for o in original.objects}
    assert sent <= set(before[0])

    # The very same bytes and headers, as one who intercepted them would forward them to the
    # other node, Host included: the signature holds (it covers the URL addressed to the
    # first node), so only the nonce, remembered in the shared store, can give it away.
    origin = original.url.split("/")[2]
    other_url = original.url.replace(first.base, other.base, 1)
    assert other_url != original.url
    replayed = requests.post(
        other_url,
        data=original.body,
        headers={**original.headers, "Host": origin},
        timeout=TIMEOUT,
    )
    assert replayed.status_code == 401, replayed.text
    refusal = replayed.json()
    assert refusal["title"] == "Signature invalid", refusal
    assert refusal["description"].startswith("replayed:"), refusal

    # Sent plainly to the other node's own address: refused as well (the signed @target-uri
    # names the first node, so the signature does not verify there), nothing taken.
    plain = requests.post(other_url, data=original.body, headers=original.headers, timeout=TIMEOUT)
    assert plain.status_code == 401, plain.text
    assert plain.json()["title"] == "Signature invalid", plain.text

    assert (sorted(inbox_ids()), fr_size()) == before


def test_both_nodes_are_ready(cluster: Cluster) -> None:
    for node in cluster.nodes:
        response = requests.get(f"{node.base}/health/ready", timeout=TIMEOUT)
        assert response.status_code == 200, (node.port, response.text)
        assert response.json() == {"status": "ready"}


def test_the_audit_log_written_by_both_nodes_verifies(cluster: Cluster) -> None:
    first, second = cluster.nodes
    # A tree head published through the second node, over events both nodes wrote.
    head = requests.post(
        f"{second.base}/admin/audit/head", auth=second.accounts["admin"].auth, timeout=TIMEOUT
    )
    assert head.status_code == 200, head.text
    env = {"EXCHANGE_DATABASE_URL": cluster.database_url}
    done = subprocess.run(
        [*EXCHANGE, "audit", "verify"],
        env=_env(first.data_dir, env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok:"), done.stdout


# Polling while the partners push ------------------------------------------------------------

# Half of them while the analysts page the collection from its start, half once every analyst
# has reached its end and polls with added_after.
POLL_ENVELOPES_PER_PARTNER = 6
# Partner i numbers its envelopes from POLL_FIRST_ENVELOPE + i (names unlike the fixture's
# batch; the first goes to node i % 2, each next one to the other node).
POLL_FIRST_ENVELOPE = 100
PUSH_PAUSE = 0.15  # between one partner's envelopes, so the pushes last a few seconds
POLL_PAUSE = 0.05  # between a poll that reached the end and the next poll
POLL_HTTP_TIMEOUT = 10.0
POLL_DEADLINE = 60.0


@dataclass
class Poll:
    """One GET of an analyst's polling session: what was asked of which node, and the answer."""

    number: int
    node: int
    added_after: str | None
    cursor: str | None
    pushing: bool  # sent before every push had been answered
    status_code: int
    ids: list[str]
    more: bool
    first: str | None  # X-TAXII-Date-Added-First
    last: str | None  # X-TAXII-Date-Added-Last

    def describe(self) -> str:
        cursor = None if self.cursor is None else f"{self.cursor[:12]}..."
        return (
            f"request #{self.number} to node {self.node} (added_after={self.added_after}, "
            f"next={cursor}, sent {'during' if self.pushing else 'after'} the pushes): "
            f"{self.status_code}, {len(self.ids)} objects, more={self.more}, "
            f"date_added {self.first} .. {self.last}"
        )


@dataclass
class PollSession:
    """One analyst's polling loop: every request and answer, and what looked wrong."""

    country: str
    polls: list[Poll] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    caught_up: threading.Event = field(default_factory=threading.Event)  # a page said more=false


def _micros(text: str | None) -> int:
    value = parse_timestamp(text)
    assert value is not None, f"not a timestamp: {text!r}"
    return value


def _check_poll(session: PollSession, poll: Poll, previous_last: str | None) -> None:
    """What every page must satisfy: the limit, its date headers, and order after what came."""
    problems: list[str] = []
    if len(poll.ids) > PAGE_LIMIT:
        problems.append(f"more objects than limit={PAGE_LIMIT}")
    if poll.more and not poll.ids:
        problems.append("an empty page that says more")
    if poll.ids:
        if poll.first is None or poll.last is None:
            problems.append("no X-TAXII-Date-Added-First/Last headers on a page with objects")
        else:
            first, last = _micros(poll.first), _micros(poll.last)
            if first > last:
                problems.append("Date-Added-First is after Date-Added-Last")
            # added_after is exclusive (TAXII 2.1 section 3.4.2).
            if poll.added_after is not None and first <= _micros(poll.added_after):
                problems.append("an object added at or before added_after")
            if previous_last is not None and first < _micros(previous_last):
                problems.append(f"an object added before the previous page's last {previous_last}")
    session.anomalies += [f"{poll.describe()}: {problem}" for problem in problems]


def _poll_country(
    cluster: Cluster,
    session: PollSession,
    first_node: int,
    pushes_over: threading.Event,
    deadline: float,
) -> None:
    """Poll a country collection as a client keeping up with it, each request to the other node
    than the last: ``next`` while a page says more; at the end, ``added_after`` = the
    Date-Added-Last of the last page with objects, and again after a pause. Stop once the
    pushes are over and a poll of each node, sent after them, brings nothing new."""
    who = cluster.nodes[0].accounts[ANALYSTS[session.country]]
    collection_id = country_collection_id(session.country)
    added_after: str | None = None
    cursor: str | None = None
    last_seen: str | None = None  # Date-Added-Last of the last page with objects
    drained: set[int] = set()  # nodes whose poll, sent after the pushes, found nothing new
    for number in itertools.count():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{session.country}: still polling at the {POLL_DEADLINE:g} s deadline "
                f"({number} requests, pushes over: {pushes_over.is_set()})"
            )
        node = (first_node + number) % 2
        pushing = not pushes_over.is_set()
        params: dict[str, str | int] = {"limit": PAGE_LIMIT}
        if added_after is not None:
            params["added_after"] = added_after
        if cursor is not None:
            params["next"] = cursor
        response = requests.get(
            f"{cluster.nodes[node].collection_url(collection_id)}objects/",
            params=params,
            auth=who.auth,
            headers={"Accept": TAXII_21},
            timeout=POLL_HTTP_TIMEOUT,
        )
        page: dict[str, Any] = response.json() if response.status_code == 200 else {}
        poll = Poll(
            number,
            node,
            added_after,
            cursor,
            pushing,
            response.status_code,
            [obj["id"] for obj in page.get("objects", [])],
            page.get("more", False) is True,
            response.headers.get("X-TAXII-Date-Added-First"),
            response.headers.get("X-TAXII-Date-Added-Last"),
        )
        session.polls.append(poll)
        if response.status_code != 200:
            raise AssertionError(f"{session.country}: {poll.describe()}: {response.text[:300]}")
        _check_poll(session, poll, last_seen)
        if poll.ids:
            drained.clear()
            last_seen = poll.last
        if poll.more:
            cursor = page.get("next")
            if not isinstance(cursor, str) or not cursor or not poll.ids:
                raise AssertionError(f"{session.country}: {poll.describe()}: no way on")
            continue
        cursor = None
        added_after = last_seen
        session.caught_up.set()
        if not poll.ids and not pushing:
            drained.add(node)
            if drained == {0, 1}:
                return
        time.sleep(POLL_PAUSE)
    raise AssertionError("unreachable")


def _push_paced(
    cluster: Cluster,
    signer: Signer,
    first: int,
    pushes: list[Push],
    sessions: list[PollSession],
    deadline: float,
) -> None:
    """A partner's further envelopes, one after the other, each to the node after the last;
    the second half once every analyst has caught up with the collection."""
    for k, number in enumerate(range(first, first + POLL_ENVELOPES_PER_PARTNER)):
        if k == POLL_ENVELOPES_PER_PARTNER // 2:
            for session in sessions:
                if not session.caught_up.wait(timeout=max(0.0, deadline - time.monotonic())):
                    raise AssertionError(f"analyst {session.country} never reached the end")
        if time.monotonic() > deadline:
            raise AssertionError(f"{signer.credential.username}: still pushing at the deadline")
        pushes.append(_push(cluster.nodes, signer, number, timeout=POLL_HTTP_TIMEOUT))
        time.sleep(PUSH_PAUSE)


def _guarded(errors: list[str], name: str, work: Any, *args: Any) -> None:
    """Run ``work`` in a thread, keeping what it raised for the test to report."""
    try:
        work(*args)
    except Exception as exc:
        errors.append(f"{name}: {type(exc).__name__}: {exc}")
    finally:
        for arg in args:  # an analyst that failed no longer holds the pushers back
            if isinstance(arg, PollSession):
                arg.caught_up.set()


def _locate(
    cluster: Cluster, session: PollSession, stix_id: str, pushes: list[Push]
) -> dict[str, Any]:
    """For a missed object: who pushed it where, its date_added on each node, and the requests
    from the last page before that date_added on (among which it should have been served)."""
    pushed = [
        (push.partner, push.node, push.answer.get("id"))
        for push in pushes
        if stix_id in {obj["id"] for obj in push.objects}
    ]
    who = cluster.nodes[0].accounts[ANALYSTS[session.country]]
    added: list[Any] = []
    for node in cluster.nodes:
        response = requests.get(
            f"{node.collection_url(country_collection_id(session.country))}manifest/",
            params={"match[id]": stix_id},
            auth=who.auth,
            headers={"Accept": TAXII_21},
            timeout=POLL_HTTP_TIMEOUT,
        )
        records = response.json().get("objects", []) if response.status_code == 200 else []
        added.append([record["date_added"] for record in records] or response.status_code)
    where: dict[str, Any] = {"pushed (partner, node, status)": pushed, "date_added": added}
    if isinstance(added[0], list) and added[0]:
        moment = _micros(added[0][0])
        before = [poll for poll in session.polls if poll.last and _micros(poll.last) < moment]
        start = before[-1].number if before else 0
        where["requests from the last page before it"] = [
            poll.describe() for poll in session.polls[start : start + 4]
        ]
    return where


def test_analysts_polling_while_partners_push_see_each_object_exactly_once(
    cluster: Cluster,
) -> None:
    deadline = time.monotonic() + POLL_DEADLINE
    pushes_over = threading.Event()
    sessions = {country: PollSession(country) for country in ANALYSTS}
    pushes: list[Push] = []
    errors: list[str] = []
    analysts = [
        threading.Thread(
            target=_guarded,
            args=(errors, country, _poll_country, cluster, session, i % 2, pushes_over, deadline),
            name=f"poll-{country}",
            daemon=True,
        )
        for i, (country, session) in enumerate(sessions.items())
    ]
    pushers = [
        threading.Thread(
            target=_guarded,
            args=(
                errors,
                name,
                _push_paced,
                cluster,
                signer,
                POLL_FIRST_ENVELOPE + i,
                pushes,
                list(sessions.values()),
                deadline,
            ),
            name=f"push-{name}",
            daemon=True,
        )
        for i, (name, signer) in enumerate(cluster.signers.items())
    ]
    for thread in analysts + pushers:
        thread.start()
    for thread in pushers:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    pushes_over.set()  # even when a pusher failed or hangs, so that the analysts stop
    for thread in analysts:
        # An analyst checks the deadline between requests; one request may take its timeout.
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + POLL_HTTP_TIMEOUT + 1)
    stuck = [thread.name for thread in analysts + pushers if thread.is_alive()]
    assert not stuck, f"still running after the {POLL_DEADLINE:g} s deadline: {stuck}"

    # What went wrong in the threads, and then what the analysts saw, all in one report.
    problems = list(errors)
    if len(pushes) != len(ROUTES) * POLL_ENVELOPES_PER_PARTNER:
        problems.append(
            f"{len(pushes)} pushes answered, not {len(ROUTES)} times {POLL_ENVELOPES_PER_PARTNER}"
        )
    for push in pushes:
        answer = push.answer
        complete = answer.get("status") == "complete"
        if push.status_code != 202 or not complete or answer["success_count"] != len(push.objects):
            problems.append(
                f"push by {push.partner} to node {push.node}: {push.status_code} {answer}"
            )
    new_ids = {obj["id"] for push in pushes for obj in push.objects}
    for country, session in sessions.items():
        # The whole collection: the fixture's batch (which other tests left as it was) and
        # this test's, as the analyst polls from the start.
        expected = {
            obj["id"]
            for push in [*cluster.pushes, *pushes]
            if country in cluster.signers[push.partner].countries
            for obj in push.objects
        }
        served: dict[str, list[Poll]] = {}
        for poll in session.polls:
            for stix_id in poll.ids:
                served.setdefault(stix_id, []).append(poll)
        repeated = {stix_id: polls for stix_id, polls in served.items() if len(polls) > 1}
        missing = sorted(expected - set(served))
        extra = sorted(set(served) - expected)
        problems += [f"{country}: {anomaly}" for anomaly in session.anomalies]
        for stix_id in sorted(repeated)[:5]:
            problems.append(
                f"{country}: {stix_id} served {len(repeated[stix_id])} times: "
                + "; ".join(poll.describe() for poll in repeated[stix_id])
            )
        if repeated:
            problems.append(f"{country}: {len(repeated)} objects served more than once")
        for stix_id in missing[:5]:
            where = _locate(cluster, session, stix_id, [*cluster.pushes, *pushes])
            problems.append(f"{country}: {stix_id} never served: {where}")
        if missing:
            problems.append(f"{country}: {len(missing)} of {len(expected)} objects never served")
        if extra:
            problems.append(f"{country}: {len(extra)} unexpected objects served: {extra[:5]}")
        # The test did what it says: pages came while the partners pushed, new objects
        # among them, and polls with added_after brought new objects.
        during = {i for poll in session.polls if poll.pushing for i in poll.ids}
        if not during & new_ids:
            problems.append(f"{country}: no new object was served while the partners pushed")
        if not any(poll.ids for poll in session.polls if poll.added_after is not None):
            problems.append(f"{country}: no poll with added_after brought anything")
    assert not problems, "\n".join(problems)
