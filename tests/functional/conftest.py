"""An in-process hub for functional tests: real store, real service, real routes, no server.

``world`` is one hub per test module (a fresh SQLite store in a temporary directory) with a
fixed cast of accounts and collections, each collection holding one seed object:

=============  ==============================================================================
actor          account
=============  ==============================================================================
anonymous      no ``Authorization`` header
partner_owner  ``p-owner`` (HTTP Basic), shares with FR; owns ``own_inbox``, ``own_feedback``
other_partner  ``p-other`` (Bearer), shares with DE; owns ``other_inbox``, ``other_feedback``
analyst_fr     analyst of FR (Bearer)
analyst_de     analyst of DE (Basic)
admin          admin (Bearer)
disabled       a partner with every grant, then disabled (Bearer, its real token)
wrong_token    ``p-owner``'s user name and credential id with a wrong secret (Basic)
=============  ==============================================================================

Every non-admin account (the disabled one included) holds the same grants on the shared
collections: read on ``shared_r``, write on ``shared_w``, read and write on ``shared_rw``,
nothing on ``shared_none``. Each partner's feedback collection holds the sighting an analyst
reported of its seed (``analyst_fr`` of ``p-owner``'s, ``analyst_de`` of ``p-other``'s).
"""

from __future__ import annotations

import base64
import uuid
import warnings
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result
from starlette.exceptions import StarletteDeprecationWarning

from exchange.app import build_hub, create_app
from exchange.cli.main import cli
from exchange.countries import country_collection_id
from exchange.settings import Settings
from exchange.sharing.feedback_collections import feedback_collection_id
from exchange.sharing.service import Hub
from exchange.sharing.sightings import feedback_sighting_id
from exchange.store.models import Account, Role
from exchange.taxii.media import TAXII_21
from tests.support.onboarding import onboard
from tests.support.paths import CONFIG_DIR
from tests.support.postgres import world_database

# Starlette 1.x prefers `httpx2` and warns (an error under this suite's filterwarnings) when its
# test client falls back to the `httpx` the project's dev extra installs; that is about the test
# tooling, not the hub, so only that one import-time warning is silenced here.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

API = "/hub/"
MAX_BODY_BYTES = 64 * 1024
MAX_OBJECTS = 50
DEFAULT_PAGE = 5
MAX_PAGE = 20

ROLES = (
    "anonymous",
    "partner_owner",
    "other_partner",
    "analyst_fr",
    "analyst_de",
    "admin",
    "disabled",
    "wrong_token",
)
KINDS = (
    "own_inbox",
    "other_inbox",
    "country_fr",
    "country_de",
    "shared_r",
    "shared_w",
    "shared_rw",
    "shared_none",
    "own_feedback",
    "other_feedback",
    "missing",
)


def basic(username: str, token: str) -> dict[str, str]:
    """An HTTP Basic ``Authorization`` header."""
    raw = base64.b64encode(f"{username}:{token}".encode()).decode("ascii")
    return {"Authorization": f"Basic {raw}"}


def bearer(token: str) -> dict[str, str]:
    """A Bearer ``Authorization`` header."""
    return {"Authorization": f"Bearer {token}"}


def taxii_headers(auth: dict[str, str], **extra: str) -> dict[str, str]:
    """Auth plus the TAXII Accept and Content-Type headers."""
    return {"Accept": TAXII_21, "Content-Type": TAXII_21, **auth, **extra}


def indicator(stix_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """A well-formed STIX 2.1 indicator."""
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id or f"indicator--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.1']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
        **extra,
    }


def envelope(*objects: Any) -> bytes:
    """A TAXII envelope of these members, as bytes."""
    return orjson.dumps({"objects": list(objects)})


def collection_url(collection_id: str) -> str:
    return f"{API}collections/{collection_id}/"


def objects_url(collection_id: str) -> str:
    return f"{API}collections/{collection_id}/objects/"


def object_url(collection_id: str, object_id: str) -> str:
    return f"{API}collections/{collection_id}/objects/{object_id}/"


@dataclass
class Actor:
    """Someone making requests: their headers and, if any, their account."""

    name: str
    auth: dict[str, str] = field(repr=False)
    account: Account | None = field(default=None, repr=False)
    username: str | None = None
    token: str | None = field(default=None, repr=False)

    def headers(self, **extra: str) -> dict[str, str]:
        return taxii_headers(self.auth, **extra)


@dataclass
class World:
    """The hub, a client to it, the cast, and the collections (by kind) with their seeds."""

    settings: Settings
    hub: Hub
    client: TestClient
    actors: dict[str, Actor]
    collections: dict[str, str]
    seeds: dict[str, dict[str, Any]]
    writers: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # short, for hypothesis' and pytest's reports
        return f"World({self.settings.data_dir})"

    def seed_id(self, kind: str) -> str:
        return str(self.seeds[kind]["id"])

    def reseed(self, kind: str) -> None:
        """Put the seed object of ``kind`` back into its collection (after a delete)."""
        writer = self.writers.get(kind)
        if writer is None:
            return
        account = self.actors[writer].account
        assert account is not None
        self.hub.add_objects(account, self.collections[kind], envelope(self.seeds[kind]))

    def stored(self, kind: str, stix_id: str, actor: str | None = None) -> list[dict[str, Any]]:
        """The versions of an object a reader of ``kind`` gets (empty when there are none)."""
        reader = actor or {"own_inbox": "partner_owner", "other_inbox": "other_partner"}.get(
            kind, "admin"
        )
        response = self.client.get(
            object_url(self.collections[kind], stix_id),
            params={"match[version]": "all"},
            headers=self.actors[reader].headers(),
        )
        if response.status_code == 404:
            return []
        assert response.status_code == 200, response.text
        objects: list[dict[str, Any]] = response.json()["objects"]
        return objects


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "config_dir": CONFIG_DIR,
        "max_body_bytes": MAX_BODY_BYTES,
        "max_objects_per_envelope": MAX_OBJECTS,
        "default_page_size": DEFAULT_PAGE,
        "max_page_size": MAX_PAGE,
        **overrides,
    }
    return Settings(**values)


def _wrong_token(token: str) -> str:
    """The same credential id with a different (well-formed) secret."""
    prefix, credential_id, secret = token.split("_", 2)
    flipped = ("A" if secret[0] != "A" else "B") + secret[1:]
    assert flipped != secret
    return f"{prefix}_{credential_id}_{flipped}"


def _seed_sighting(object_id: str) -> dict[str, Any]:
    """A STIX 2.1 sighting of ``object_id``, versioned like the other seeds."""
    return {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "sighting_of_ref": object_id,
    }


def build_world(data_dir: Path, **overrides: Any) -> Generator[World, None, None]:
    """Make the hub, the cast, the collections and their seeds; yield them with a client."""
    with world_database():
        yield from _build_world(data_dir, **overrides)


def _build_world(data_dir: Path, **overrides: Any) -> Generator[World, None, None]:
    settings = make_settings(data_dir, **overrides)
    hub = build_hub(settings, create=True)
    app = create_app(settings, hub=hub)

    owner = onboard(hub, "p-owner", ["FR"])
    other = onboard(hub, "p-other", ["DE"])
    analyst_fr = hub.create_account(Role.ANALYST, "analyst-fr", country="FR")
    analyst_de = hub.create_account(Role.ANALYST, "analyst-de", country="DE")
    admin = hub.create_account(Role.ADMIN, "admin")
    gone = onboard(hub, "p-gone", ["FR"])
    assert owner.inbox is not None
    assert other.inbox is not None

    actors = {
        "anonymous": Actor("anonymous", {}),
        "partner_owner": Actor(
            "partner_owner", basic("p-owner", owner.token), owner.account, "p-owner", owner.token
        ),
        "other_partner": Actor(
            "other_partner", bearer(other.token), other.account, "p-other", other.token
        ),
        "analyst_fr": Actor(
            "analyst_fr", bearer(analyst_fr.token), analyst_fr.account, "analyst-fr"
        ),
        "analyst_de": Actor(
            "analyst_de", basic("analyst-de", analyst_de.token), analyst_de.account, "analyst-de"
        ),
        "admin": Actor("admin", bearer(admin.token), admin.account, "admin", admin.token),
        "disabled": Actor("disabled", bearer(gone.token), None, "p-gone", gone.token),
        "wrong_token": Actor(
            "wrong_token", basic("p-owner", _wrong_token(owner.token)), None, "p-owner"
        ),
    }

    collections = {
        "own_inbox": owner.inbox.id,
        "other_inbox": other.inbox.id,
        "country_fr": country_collection_id("FR"),
        "country_de": country_collection_id("DE"),
    }
    for kind in ("shared_r", "shared_w", "shared_rw", "shared_none"):
        collections[kind] = hub.create_shared_collection(f"Shared ({kind})").id
    for username in ("p-owner", "p-other", "analyst-fr", "analyst-de", "p-gone"):
        hub.grant(collections["shared_r"], username, read=True, write=False)
        hub.grant(collections["shared_w"], username, read=False, write=True)
        hub.grant(collections["shared_rw"], username, read=True, write=True)
    collections["own_feedback"] = feedback_collection_id(owner.account.id)
    collections["other_feedback"] = feedback_collection_id(other.account.id)
    collections["missing"] = str(uuid.uuid4())

    # Seeds: what a partner writes to its inbox reaches the countries it shares with.
    own_seed = indicator(name="seed of p-owner (reaches FR)")
    other_seed = indicator(name="seed of p-other (reaches DE)")
    seeds = {
        "own_inbox": own_seed,
        "other_inbox": other_seed,
        "country_fr": own_seed,
        "country_de": other_seed,
        "missing": own_seed,
    }
    writers = {"own_inbox": "partner_owner", "other_inbox": "other_partner"}
    for kind in ("shared_r", "shared_w", "shared_rw", "shared_none"):
        seeds[kind] = indicator(name=f"seed of {kind}")
        writers[kind] = "admin"

    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            world = World(settings, hub, client, actors, collections, seeds, writers)
            for kind in writers:
                world.reseed(kind)
            # Feedback seeds: an analyst's sighting of each partner's seed, routed back to it.
            for kind, analyst, seed_kind in (
                ("own_feedback", analyst_fr, "own_inbox"),
                ("other_feedback", analyst_de, "other_inbox"),
            ):
                partner = owner if kind == "own_feedback" else other
                sent = _seed_sighting(str(seeds[seed_kind]["id"]))
                hub.report_sighting(analyst.account, {"sighting": sent})
                derived = feedback_sighting_id(sent["id"], analyst.account.id, partner.account.id)
                seeds[kind] = {**sent, "id": derived}
            hub.set_active("p-gone", False)
            yield world
    finally:
        hub.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One in-process hub with the cast and collections above, shared by a test module."""
    yield from build_world(tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def make_world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., World]]:
    """Build further worlds with other settings (closed at the end of the module)."""
    made: list[Generator[World, None, None]] = []

    def make(**overrides: Any) -> World:
        worlds = build_world(tmp_path_factory.mktemp("world"), **overrides)
        made.append(worlds)
        return next(worlds)

    yield make
    for worlds in made:
        worlds.close()


def assert_taxii_error(response: Any, status: int) -> dict[str, Any]:
    """The response is a TAXII error message (TAXII 2.1 section 3.6.1) with this status."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"] == TAXII_21
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("title"), str), body
    assert body["title"].strip(), body
    assert body.get("http_status") == str(status), body
    if status == 401:
        assert response.headers.get("www-authenticate"), dict(response.headers)
    return body


@pytest.fixture
def own_store() -> Iterator[None]:
    """For a test that makes its own store through the command line (see world_database)."""
    with world_database():
        yield


@pytest.fixture
def small_hub(tmp_path: Path) -> Iterator[tuple[Hub, Path]]:
    """A fresh hub with its country collections, and its data directory (for the CLI)."""
    with world_database():
        settings = make_settings(tmp_path / "data")
        hub = build_hub(settings, create=True)
        hub.ensure_country_collections()
        try:
            yield hub, settings.data_dir
        finally:
            hub.close()


def audit_cli(data_dir: Path, *args: str) -> Result:
    """Run ``exchange audit ARGS`` in-process on the store in ``data_dir``."""
    return CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "--config-dir", str(CONFIG_DIR), "audit", *args]
    )
