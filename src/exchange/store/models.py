"""Records the store hands out and takes in: plain frozen dataclasses, no behaviour."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "Account",
    "AddOutcome",
    "AgreementVersion",
    "Change",
    "Collection",
    "CollectionKind",
    "Grant",
    "HubKey",
    "ObjectQuery",
    "Page",
    "PlacedObject",
    "Position",
    "Role",
    "StatusRecord",
    "Submission",
    "VersionSelector",
]


class Role(StrEnum):
    """What an account is for."""

    PARTNER = "partner"
    ANALYST = "analyst"
    ADMIN = "admin"


class CollectionKind(StrEnum):
    """The kinds of collection and who they serve."""

    INBOX = "inbox"  # one per partner: the partner writes, and reads back its own submissions
    COUNTRY = "country"  # one per member country: its analysts read, nobody writes directly
    SHARED = "shared"  # made by admins, read and write by explicit grant
    FEEDBACK = "feedback"  # one per partner: sightings of its objects; it reads, nobody writes


@dataclass(frozen=True, slots=True)
class Account:
    """A partner, analyst or admin. ``token_hash`` is a KDF hash, never the token."""

    id: str
    username: str
    role: Role
    display_name: str
    country: str | None
    credential_id: str
    token_hash: str
    active: bool
    created: str


@dataclass(frozen=True, slots=True)
class Collection:
    """A TAXII collection. Its objects are placements whose audience includes it."""

    pk: int
    id: str
    kind: CollectionKind
    title: str
    description: str
    owner_account: str | None
    country: str | None
    created: str


@dataclass(frozen=True, slots=True)
class Grant:
    """An account's access to a shared collection."""

    collection_id: str
    account_id: str
    can_read: bool
    can_write: bool


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """A place in a collection's order: ``date_added`` then placement sequence."""

    date_added: int
    seq: int


@dataclass(frozen=True, slots=True)
class VersionSelector:
    """TAXII 2.1 ``match[version]``: any of last, first, all, or exact versions (µs)."""

    last: bool = True
    first: bool = False
    all: bool = False
    exact: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class ObjectQuery:
    """Filters over one collection (TAXII 2.1 section 3.4.2)."""

    ids: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    spec_versions: frozenset[str] = frozenset()
    versions: VersionSelector = field(default_factory=VersionSelector)
    added_after: int | None = None


@dataclass(frozen=True, slots=True)
class PlacedObject:
    """One object version as seen in one collection."""

    position: Position
    stix_id: str
    type: str
    version: int
    spec_version: str
    body: bytes | None

    @property
    def date_added(self) -> int:
        """When this version became visible in the collection (µs)."""
        return self.position.date_added


@dataclass(frozen=True, slots=True)
class Page:
    """A keyset page: the rows, and whether more follow the last one."""

    rows: Sequence[PlacedObject]
    more: bool


@dataclass(frozen=True, slots=True)
class AddOutcome:
    """What became of one object in a write: stored, already there, or refused (with reason)."""

    stix_id: str
    version: int
    stored: bool
    refused: str | None = None
    date_added: int | None = None  # in the target collection, when the version is there


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """A TAXII status resource (TAXII 2.1 section 4.3.1), as stored JSON plus its owner."""

    id: str
    collection_id: str
    account_id: str
    body: bytes


@dataclass(frozen=True, slots=True)
class AgreementVersion:
    """One version of a sharing agreement; ``terms`` is its JSON document."""

    agreement_id: str
    version: int
    partner_account: str
    status: str
    terms: bytes
    created_by: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Submission:
    """One accepted POST of a partner, and the agreement version that decided it."""

    partner_account: str
    agreement_id: str
    agreement_version: int
    status_id: str
    received_at: int
    accepted: int
    refused: int


@dataclass(frozen=True, slots=True)
class Change:
    """An administrative change: who did what to which entity, with before and after (JSON)."""

    at: str
    actor: str
    entity: str
    entity_id: str
    action: str
    before: bytes | None
    after: bytes | None
    seq: int = 0


@dataclass(frozen=True, slots=True)
class HubKey:
    """One of the hub's own signing keys (PEM), for ``purpose`` "responses" or "audit"."""

    key_id: str
    purpose: str
    algorithm: str
    private_key: bytes
    public_key: bytes
    created_at: str
    retired_at: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """The newest version of an object a partner's submissions placed in one country collection
    (``body`` as stored: what the country received, after the agreement's transforms)."""

    collection: Collection
    version: int
    spec_version: str
    body: bytes
