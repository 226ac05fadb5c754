"""The partitioning procedure of docs/deployment.md, run as written on a fresh PostgreSQL store:
afterwards pages, removal and the retention purge still work, and rows land in their month."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from exchange.store.models import (
    Collection,
    CollectionKind,
    ObjectQuery,
    Submission,
    VersionSelector,
)
from exchange.store.postgres import open_postgres
from exchange.store.protocol import Store
from tests.support.paths import PROJECT
from tests.support.postgres import fresh_schema
from tests.unit.store.builders import ids, indicator

DEPLOYMENT = PROJECT / "docs" / "deployment.md"
NOV_2026 = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp()) * 1_000_000
DEC_2026 = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp()) * 1_000_000


def _partitioning_sql() -> str:
    blocks = re.findall(r"```sql\n(.*?)```", DEPLOYMENT.read_text(), flags=re.DOTALL)
    chosen = [block for block in blocks if "PARTITION BY RANGE" in block]
    assert len(chosen) == 1, "docs/deployment.md should hold one partitioning block"
    return chosen[0]


def test_the_documented_partitioning_keeps_the_store_working() -> None:
    with fresh_schema() as url:
        store = open_postgres(url, create=True, pool_size=2)
        try:
            inbox = store.add_collection(collection_id="in", kind=CollectionKind.SHARED, title="i")
            country = store.add_collection(
                collection_id="fr", kind=CollectionKind.COUNTRY, title="FR", country="FR"
            )
            before = [indicator() for _ in range(3)]
            with store.transaction() as tx:
                submission = tx.add_submission(
                    Submission("p-1", "agreement--1", 1, "status-1", NOV_2026, 3, 0)
                )
                tx.place(
                    [inbox, country],
                    before,
                    target=inbox,
                    date_added=NOV_2026 + 5,
                    submission_pk=submission,
                )

            with store.transaction() as tx:
                tx._db.execute(_partitioning_sql().replace("BEGIN;", "").replace("COMMIT;", ""))

            after = [indicator() for _ in range(2)]
            with store.transaction() as tx:
                tx.place([inbox, country], after, target=inbox, date_added=DEC_2026 + 5)
            every = [obj.stix_id for obj in before + after]
            assert ids(store, country) == every
            assert _page_ids_in_twos(store, country) == every

            months = dict(
                store._connection()
                .execute("SELECT tableoid::regclass::text, count(*) FROM placements GROUP BY 1")
                .fetchall()
            )
            assert months == {"placements_2026_11": 3, "placements_2026_12": 2}

            with store.transaction() as tx:
                assert tx.remove(country, after[0].stix_id, VersionSelector(all=True), frozenset())
            assert ids(store, country) == every[:3] + every[4:]
            assert after[0].stix_id in ids(store, inbox)

            with store.transaction() as tx:  # the retention purge of partner p-1's November
                assert tx.purge_before("p-1", DEC_2026) == 3  # one placement per object
            assert ids(store, country) == every[4:]
            assert ids(store, inbox) == every[3:]
        finally:
            store.close()


def _page_ids_in_twos(store: Store, collection: Collection) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page = store.page(collection, ObjectQuery(), after=after, limit=2, with_bodies=True)
        seen.extend(row.stix_id for row in page.rows)
        if not page.more:
            return seen
        after = page.rows[-1].position
