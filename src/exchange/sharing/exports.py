"""Exports for analysts: a collection, filtered as TAXII filters it, in the format a tool takes.

The same access rules as a TAXII read (``Hub._readable``: a collection the account may not see
is answered like a missing one), checked before anything else; then the collection is read in
keyset pages, the latest version of each object (TAXII 2.1 ``match[version]=last``, the default
of a TAXII read), each object is chosen or left out (``exchange.exports.eligibility``), and the
chosen ones are written (``exchange.exports.formats``). Every page that gives the export
anything is recorded in the audit log before its objects go out, as a ``read`` event whose scope
is ``export:FORMAT`` (the first page always, so an empty export is recorded too); a client that
stops reading half-way has been recorded for what it could have received, never less.

``export`` checks and prepares eagerly (access, format, the collection's marking definitions) and
returns a lazy iterator, so that every refusal is raised before the first byte is sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from exchange.errors import NotFound
from exchange.exports.eligibility import Filters, Markings, eligible
from exchange.exports.formats import ExportContext, ExportFormat, contributes, write
from exchange.sharing.audit import AuditLog
from exchange.store.models import Account, Collection, ObjectQuery, PlacedObject, VersionSelector

if TYPE_CHECKING:
    from exchange.sharing.service import CollectionView

__all__ = ["Exports"]

_PAGE = 1000
_MARKING_DEFINITIONS = ObjectQuery(types=frozenset({"marking-definition"}))


def _parsed(row: PlacedObject) -> dict[str, Any] | None:
    if row.body is None:
        return None
    try:
        obj = orjson.loads(row.body)
    except orjson.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


class Exports(AuditLog):
    """Exports of a collection for analysts' tools (and partners' and admins', on what they may
    read)."""

    def _readable(self, account: Account, collection_id: str) -> CollectionView:
        """The collection if the account may read it (provided by ``Hub``)."""
        raise NotImplementedError

    def export(
        self,
        account: Account,
        collection_id: str,
        fmt: ExportFormat | str,
        query: ObjectQuery | None = None,
        filters: Filters | None = None,
    ) -> Iterator[bytes]:
        """The export of a collection in ``fmt``, as chunks of bytes.

        ``query`` takes TAXII's ``added_after``, ``match[id]`` and ``match[type]`` (its version
        selector is replaced by the latest version); ``filters`` the minimum confidence and the
        highest TLP. Raises ``NotFound`` for a collection the account may not see and for an
        unknown format, ``NotAllowed`` when it may see but not read the collection.
        """
        view = self._readable(account, collection_id)
        try:
            chosen = ExportFormat(fmt)
        except ValueError:
            known = ", ".join(f.value for f in ExportFormat)
            raise NotFound(f"no export format {str(fmt)[:40]!r} (formats: {known})") from None
        query = replace(query or ObjectQuery(), versions=VersionSelector())
        # Formats of indicators read only indicators (the store filters them by type); asked
        # for other types only, they have nothing to read.
        nothing = chosen.indicators_only and bool(query.types) and "indicator" not in query.types
        if chosen.indicators_only:
            query = replace(query, types=frozenset({"indicator"}))
        markings = self._marking_definitions(view.collection)
        now = self._now()
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        context = ExportContext(
            title=f"{view.collection.title}: exchange export of {stamp}",
            now=now,
            tlp_of=markings.tlp,
        )
        objects = self._chosen(
            account, view, chosen, query, filters or Filters(), markings, now, nothing=nothing
        )
        return write(chosen, objects, context)

    def _marking_definitions(self, collection: Collection) -> Markings:
        """Every marking definition the collection holds (few; read whole before exporting)."""
        markings = Markings()
        for obj in self._all_objects(collection, _MARKING_DEFINITIONS):
            markings.add(obj)
        return markings

    def _all_objects(self, collection: Collection, query: ObjectQuery) -> Iterator[dict[str, Any]]:
        after = None
        while True:
            page = self._store.page(collection, query, after=after, limit=_PAGE, with_bodies=True)
            for row in page.rows:
                obj = _parsed(row)
                if obj is not None:
                    yield obj
            if not page.more or not page.rows:
                return
            after = page.rows[-1].position

    def _chosen(
        self,
        account: Account,
        view: CollectionView,
        fmt: ExportFormat,
        query: ObjectQuery,
        filters: Filters,
        markings: Markings,
        now: datetime,
        *,
        nothing: bool = False,
    ) -> Iterator[Mapping[str, Any]]:
        """The objects that go into the export, page by page, each page audited first."""
        scope = f"export:{fmt.value}"
        if nothing:
            self._audit_read(account, view.id, scope, [])
            return
        after = None
        first = True
        while True:
            page = self._store.page(
                view.collection, query, after=after, limit=_PAGE, with_bodies=True
            )
            rows: list[PlacedObject] = []
            objects: list[dict[str, Any]] = []
            for row in page.rows:
                obj = _parsed(row)
                if obj is None:
                    continue
                if not eligible(obj, markings, filters, fmt.use, now).allowed:
                    continue
                if contributes(fmt, obj):
                    rows.append(row)
                    objects.append(obj)
            if rows or first:
                self._audit_read(account, view.id, scope, rows)
            first = False
            yield from objects
            if not page.more or not page.rows:
                return
            after = page.rows[-1].position
