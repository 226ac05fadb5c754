"""Moving a medallion server's data into the hub, history included."""

from __future__ import annotations

import uuid

from exchange.errors import Conflict
from exchange.importers.medallion import (
    CollectionImport,
    ImportReport,
    MedallionApiRoot,
    MedallionCollection,
    MedallionData,
    Problem,
    ProgressCallback,
    StatusImport,
)
from exchange.sharing.accounts import AccountAdmin
from exchange.store.models import Account, Collection, CollectionKind, Grant, StatusRecord

__all__ = ["MedallionImports"]


class MedallionImports(AccountAdmin):
    """Importing medallion memory-backend data files."""

    def import_medallion(
        self,
        data: MedallionData,
        grant_username: str,
        *,
        progress: ProgressCallback | None = None,
    ) -> ImportReport:
        """Load a parsed medallion data file as shared collections, keeping its history.

        Each medallion collection becomes a shared collection titled "<title> (<API root
        title>)", under its own id when that is a UUID not used here by another kind of
        collection, else under an id derived from the API root and the original id (the same
        on every run). Its object versions are placed in ``date_added`` order, each at its
        original ``date_added``. ``grant_username`` gets the read/write access each collection
        had in medallion (no grant when it had neither) and owns the imported status
        resources. Safe to run again: collections are reused, and objects and statuses already
        there are reported as already present. ``progress`` hears of every object handled.
        """
        account = self.account_named(grant_username)
        claimed: set[str] = set()
        done: list[CollectionImport] = []
        for root, source in data.collections():
            collection, created = self._medallion_collection(root, source, claimed)
            claimed.add(collection.id)
            grant = None
            if source.can_read or source.can_write:
                grant = Grant(collection.id, account.id, source.can_read, source.can_write)
                self._store.set_grant(grant)
            imported, already, refused = self._place_medallion_history(collection, source, progress)
            done.append(
                CollectionImport(
                    api_root=root.name,
                    original_id=source.id,
                    id=collection.id,
                    title=collection.title,
                    created=created,
                    imported=imported,
                    already_present=already,
                    refused=source.refused + refused,
                    warnings=source.warnings,
                    grant=grant,
                )
            )
        statuses = self._import_medallion_statuses(data, account)
        return ImportReport(account=account.username, collections=tuple(done), statuses=statuses)

    def _medallion_collection(
        self, root: MedallionApiRoot, source: MedallionCollection, claimed: set[str]
    ) -> tuple[Collection, bool]:
        """The shared collection a medallion collection goes to, and whether it was made now."""
        try:
            collection_id: str | None = str(uuid.UUID(source.id))
        except ValueError:
            collection_id = None
        if collection_id is not None:
            existing = self._store.collection(collection_id)
            if collection_id in claimed or (
                existing is not None and existing.kind is not CollectionKind.SHARED
            ):
                collection_id = None
        if collection_id is None:
            name = f"exchange:medallion:{root.name}/{source.id}"
            collection_id = str(uuid.uuid5(uuid.NAMESPACE_URL, name))
        existing = self._store.collection(collection_id)
        if existing is not None:
            if existing.kind is not CollectionKind.SHARED:
                raise Conflict(f"collection {collection_id} exists and is not a shared collection")
            return existing, False
        made = self.create_shared_collection(
            f"{source.title} ({root.title})",
            description=source.description,
            collection_id=collection_id,
        )
        return made, True

    def _place_medallion_history(
        self,
        collection: Collection,
        source: MedallionCollection,
        progress: ProgressCallback | None,
    ) -> tuple[int, int, tuple[Problem, ...]]:
        """Place a collection's object versions at their original date_added, in one commit.

        Returns how many were stored, how many were already there, and the refused ones.
        """
        stored = already = 0
        refused: list[Problem] = []
        with self._store.transaction() as tx:
            for date_added, objects in source.batches():
                placed = tx.place([collection], objects, target=collection, date_added=date_added)
                for outcome in placed:
                    if outcome.refused is not None:
                        problem = Problem.of_version(
                            outcome.stix_id, outcome.version, outcome.refused
                        )
                        refused.append(problem)
                    elif outcome.stored:
                        stored += 1
                    else:
                        already += 1
                if progress is not None:
                    progress(len(objects))
            self._record(
                tx,
                "import",
                "collection",
                collection.id,
                "import-medallion",
                None,
                {"stored": stored, "already_present": already, "refused": len(refused)},
            )
        return stored, already, tuple(refused)

    def _import_medallion_statuses(self, data: MedallionData, account: Account) -> StatusImport:
        """Save the file's status resources as ``account``'s; never over another account's."""
        skipped = [problem for root in data.api_roots for problem in root.problems]
        seen: set[str] = set()
        fresh: list[StatusRecord] = []
        already = 0
        for root in data.api_roots:
            for status in root.statuses:
                if status.id in seen:
                    reason = f"status {status.id}: the id appears twice in the file: not imported"
                    skipped.append(Problem(None, None, reason))
                    continue
                seen.add(status.id)
                held = self._store.status(status.id)
                if held is not None and held.account_id != account.id:
                    reason = f"status {status.id}: the id is taken by another account's status"
                    skipped.append(Problem(None, None, reason))
                elif held is not None and held.body == status.body:
                    already += 1
                else:
                    fresh.append(StatusRecord(status.id, "", account.id, status.body))
        if fresh:
            with self._store.transaction() as tx:
                for record in fresh:
                    tx.save_status(record)
        return StatusImport(imported=len(fresh), already_present=already, skipped=tuple(skipped))
