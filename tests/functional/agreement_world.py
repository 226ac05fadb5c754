"""An in-process hub whose clock the test moves, for partner and agreement tests.

``open_world(tmp_path)`` builds a fresh store, the hub over it with a :class:`Clock`, the web
application and a test client, and two admins with tokens (``FIRST_ADMIN``, ``SECOND_ADMIN``
of ``tests.support.onboarding``, so ``vet`` and ``onboard`` use them). Helpers make partners
(applicants, or vetted under an agreement), post envelopes to their inboxes over HTTP, read
inboxes as the partner and country collections as an analyst of that country, and count what the
store holds (statuses, submissions, quota use, held embargoes) so a refusal can be shown to
store nothing.

The clock starts at the real time: the store stamps ``date_added`` with the wall clock (it must
only grow), and retention compares it with the hub's clock, so the two must start together.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.exceptions import StarletteDeprecationWarning

from exchange.app import build_hub, create_app
from exchange.countries import country_collection_id
from exchange.settings import Settings
from exchange.sharing.service import Hub
from exchange.store.models import Account, Role
from tests.functional.conftest import (
    bearer,
    envelope,
    indicator,
    object_url,
    objects_url,
    taxii_headers,
)
from tests.support.onboarding import FIRST_ADMIN, SECOND_ADMIN, pass_through_terms, vet
from tests.support.paths import CONFIG_DIR
from tests.support.postgres import world_database

# As in conftest: only the test client's import-time warning about its HTTP library is silenced.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

__all__ = ["AgreementWorld", "Clock", "Partner", "new_indicator", "open_world"]


@dataclass
class Clock:
    """The hub's clock: ``now`` is what the hub reads; tests move it forward."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward (``timedelta`` keywords)."""
        self.now += timedelta(**delta)
        return self.now

    def next_utc_day(self) -> datetime:
        """Move the clock to the first second of the next UTC day."""
        tomorrow = (self.now + timedelta(days=1)).date()
        self.now = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 0, 0, 1, tzinfo=UTC)
        return self.now

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def micros(self) -> int:
        moment = self.now - datetime(1970, 1, 1, tzinfo=UTC)
        return (moment.days * 86_400 + moment.seconds) * 1_000_000 + moment.microseconds


@dataclass
class Partner:
    """A partner account with its token and inbox."""

    username: str
    token: str = field(repr=False)
    account: Account = field(repr=False)
    inbox: str

    @property
    def auth(self) -> dict[str, str]:
        return bearer(self.token)


@dataclass
class AgreementWorld:
    """The hub, its clock, a client, the admins' tokens and helpers."""

    settings: Settings
    hub: Hub
    clock: Clock
    client: TestClient
    admin_tokens: dict[str, str]
    analysts: dict[str, str] = field(default_factory=dict)  # country code -> token

    def __repr__(self) -> str:
        return f"AgreementWorld({self.settings.data_dir})"

    # Accounts ------------------------------------------------------------------------------
    def admin(self, name: str = FIRST_ADMIN) -> dict[str, str]:
        """The ``Authorization`` header of an admin."""
        return bearer(self.admin_tokens[name])

    def add_admin(self, name: str) -> dict[str, str]:
        self.admin_tokens[name] = self.hub.create_account(Role.ADMIN, name).token
        return self.admin(name)

    def applicant(self, username: str) -> Partner:
        """A new partner account, never vetted and without an agreement."""
        issued = self.hub.create_account(Role.PARTNER, username)
        assert issued.inbox is not None
        return Partner(username, issued.token, issued.account, issued.inbox.id)

    def partner(
        self,
        username: str,
        countries: Sequence[str] = ("FR",),
        *,
        agreement: bool = True,
        **terms: Any,
    ) -> Partner:
        """A partner vetted by two admins, active, and (unless told) under pass-through terms
        for ``countries`` with ``terms`` replacing top-level clauses."""
        made = self.applicant(username)
        vet(self.hub, username)
        if agreement:
            self.hub.set_agreement(
                username, pass_through_terms(countries, **terms), admin=FIRST_ADMIN
            )
        return made

    def analyst(self, code: str) -> dict[str, str]:
        """The ``Authorization`` header of an analyst of ``code`` (made on first use)."""
        token = self.analysts.get(code)
        if token is None:
            token = self.hub.create_account(
                Role.ANALYST, f"analyst-{code.lower()}", country=code
            ).token
            self.analysts[code] = token
        return bearer(token)

    # TAXII ---------------------------------------------------------------------------------
    def post(self, partner: Partner, *objects: Any, body: bytes | None = None) -> Any:
        """POST an envelope of ``objects`` (or the raw ``body``) to the partner's inbox."""
        return self.client.post(
            objects_url(partner.inbox),
            content=envelope(*objects) if body is None else body,
            headers=taxii_headers(partner.auth),
        )

    def submit(self, partner: Partner, *objects: Any) -> dict[str, Any]:
        """POST and expect every object accepted; the status resource."""
        response = self.post(partner, *objects)
        assert response.status_code == 202, response.text
        status: dict[str, Any] = response.json()
        assert status["success_count"] == len(objects), status
        return status

    def read(
        self, auth: dict[str, str], collection_id: str, **params: str
    ) -> tuple[list[dict[str, Any]], Any]:
        """Every object of a collection a reader gets (all pages); and the first response."""
        objects: list[dict[str, Any]] = []
        query: dict[str, str] = {"limit": "1000", **params}
        first = None
        while True:
            response = self.client.get(
                objects_url(collection_id), params=query, headers=taxii_headers(auth)
            )
            assert response.status_code == 200, response.text
            first = first or response
            page = response.json()
            objects.extend(page.get("objects", []))
            if not page.get("more"):
                return objects, first
            query["next"] = page["next"]

    def inbox_ids(self, partner: Partner) -> set[str]:
        """The ids in a partner's inbox, as the partner reads it."""
        return {obj["id"] for obj in self.read(partner.auth, partner.inbox)[0]}

    def country_ids(self, code: str) -> set[str]:
        """The ids in a member country's collection, as its analyst reads it."""
        return {obj["id"] for obj in self.read(self.analyst(code), country_collection_id(code))[0]}

    def country_holds(self, code: str, stix_id: str) -> bool:
        """Whether an analyst of ``code`` gets this object."""
        response = self.client.get(
            object_url(country_collection_id(code), stix_id),
            headers=taxii_headers(self.analyst(code)),
        )
        assert response.status_code in {200, 404}, response.text
        return bool(response.status_code == 200)

    # The store, read directly ----------------------------------------------------------------
    def count(self, sql: str, *params: Any) -> int:
        """A ``SELECT count(*) ...`` on the store's database."""
        row = self.hub._store._connection().execute(sql, params).fetchone()  # type: ignore[attr-defined]
        return int(row[0])

    def footprint(self, partner: Partner) -> dict[str, Any]:
        """What a submission by ``partner`` would change: statuses, submissions, quota use,
        held embargoes, every placement, and the inbox as the partner reads it."""
        account = partner.account.id
        return {
            "statuses": self.count("SELECT count(*) FROM statuses WHERE account_id = ?", account),
            "submissions": self.count(
                "SELECT count(*) FROM submissions WHERE partner_account = ?", account
            ),
            "usage": self.count(
                "SELECT coalesce(sum(objects), 0) FROM quota_usage WHERE partner_account = ?",
                account,
            ),
            "embargoed": self.count("SELECT count(*) FROM embargoed"),
            "placements": self.count("SELECT count(*) FROM placements"),
            "objects": self.count("SELECT count(*) FROM objects"),
            "inbox": self.inbox_ids(partner),
        }


def new_indicator(label: str = "") -> dict[str, Any]:
    """A fresh indicator (a new id every call)."""
    return indicator(f"indicator--{uuid.uuid4()}", name=label or "test indicator")


def open_world(data_dir: Path) -> Iterator[AgreementWorld]:
    """A fresh hub with a movable clock, two admins with tokens, and a client."""
    with world_database():
        yield from _open_world(data_dir)


def _open_world(data_dir: Path) -> Iterator[AgreementWorld]:
    settings = Settings(
        data_dir=data_dir,
        config_dir=CONFIG_DIR,
        maintenance_seconds=3600,  # the server's own release/purge loop must not interfere
    )
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    hub = build_hub(settings, create=True, clock=clock)
    try:
        app = create_app(settings, hub=hub)
        tokens = {
            name: hub.create_account(Role.ADMIN, name).token for name in (FIRST_ADMIN, SECOND_ADMIN)
        }
        with TestClient(app, raise_server_exceptions=False) as client:
            yield AgreementWorld(settings, hub, clock, client, tokens)
    finally:
        hub.close()
