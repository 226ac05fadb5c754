"""What every part of the hub service shares: the store, the member countries, the clock,
and the record of administrative changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

from exchange.countries import MemberCountries
from exchange.errors import NotFound
from exchange.signing.keys import generate_private_key, private_key_pem, public_key_info
from exchange.stix.timestamps import format_date_added, now_us
from exchange.store.models import Account, Change, HubKey
from exchange.store.protocol import Store, Transaction

__all__ = ["Clock", "HubBase"]

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class HubBase:
    """State shared by the parts of the hub service."""

    def __init__(self, store: Store, countries: MemberCountries, *, clock: Clock | None = None):
        self._store = store
        self._countries = countries
        self._clock = clock or _utc_now

    @property
    def countries(self) -> MemberCountries:
        """The member countries the hub serves."""
        return self._countries

    def close(self) -> None:
        """Release the store."""
        self._store.close()

    def check_store(self) -> None:
        """Raise ``StoreError`` unless the store answers (readiness of this node)."""
        self._store.ping()

    def refresh_store_statistics(self) -> list[str]:
        """Refresh the database's planner statistics where they went stale; the tables done."""
        return self._store.refresh_statistics()

    def _now(self) -> datetime:
        return self._clock()

    def _now_us(self) -> int:
        if self._clock is _utc_now:
            return now_us()
        moment = self._clock() - datetime(1970, 1, 1, tzinfo=UTC)
        return (moment.days * 86_400 + moment.seconds) * 1_000_000 + moment.microseconds

    def hub_key(self, purpose: str) -> HubKey:
        """The hub's current Ed25519 key for ``purpose`` ("responses" or "audit"), made on
        first use. Its private half lives in the store, like the cursor key."""
        current = [key for key in self._store.hub_keys(purpose) if key.retired_at is None]
        if current:
            return current[-1]
        return self.rotate_hub_key(purpose)

    def rotate_hub_key(self, purpose: str) -> HubKey:
        """Make a new hub key for ``purpose``; the previous one is retired but still listed
        (at the well-known endpoint) so what it signed can be checked."""
        private = generate_private_key("ed25519")
        info = public_key_info(private.public_key())
        key = HubKey(
            key_id=info.key_id,
            purpose=purpose,
            algorithm=info.algorithm,
            private_key=private_key_pem(private),
            public_key=info.pem().encode(),
            created_at=format_date_added(self._now_us()),
        )
        self._store.add_hub_key(key)
        with self._store.transaction() as tx:
            self._record(
                tx,
                "hub",
                "hub-key",
                key.key_id,
                "create",
                None,
                {"purpose": purpose, "algorithm": key.algorithm, "public_key": info.pem()},
            )
        return key

    def account_named(self, username: str) -> Account:
        """An account by user name."""
        account = self._store.account_by_username(username)
        if account is None:
            raise NotFound(f"no account {username!r}")
        return account

    def _record(
        self,
        tx: Transaction,
        actor: str,
        entity: str,
        entity_id: str,
        action: str,
        before: Any = None,
        after: Any = None,
    ) -> None:
        """Append an administrative change (who, when, what, before and after)."""
        tx.record_change(
            Change(
                at=format_date_added(self._now_us()),
                actor=actor,
                entity=entity,
                entity_id=entity_id,
                action=action,
                before=None if before is None else orjson.dumps(before),
                after=None if after is None else orjson.dumps(after),
            )
        )
        self._audit_change(tx, actor, entity, entity_id, action, before, after)

    def _audit_change(
        self,
        tx: Transaction,
        actor: str,
        entity: str,
        entity_id: str,
        action: str,
        before: Any,
        after: Any,
    ) -> None:
        """Log the change in the audit log (provided by ``exchange.sharing.audit.AuditLog``)."""
        raise NotImplementedError
