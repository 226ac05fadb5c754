"""Operations on the store: the health endpoints a load balancer asks, and `exchange db`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from exchange.cli.main import cli
from exchange.errors import StoreError
from exchange.sharing.service import Hub
from exchange.store.sqlite import open_sqlite
from tests.functional.conftest import World
from tests.support.paths import CONFIG_DIR


def _db(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "--config-dir", str(CONFIG_DIR), "db", *args]
    )


def test_health_answers_without_credentials_and_says_nothing_more(world: World) -> None:
    for path, verdict in (("/health/live", "live"), ("/health/ready", "ready")):
        response = world.client.get(path)
        assert response.status_code == 200, response.text
        assert response.json() == {"status": verdict}
        assert response.headers["cache-control"] == "no-store"


def test_ready_is_503_when_the_store_does_not_answer(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse() -> None:
        raise StoreError("the database is unavailable: connection refused")

    monkeypatch.setattr(world.hub._store, "ping", refuse)
    response = world.client.get("/health/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}  # no detail for the unauthenticated
    assert world.client.get("/health/live").status_code == 200


def test_db_status_reports_backend_schema_and_rows(small_hub: tuple[Hub, Path]) -> None:
    hub, data_dir = small_hub
    result = _db(data_dir, "status", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    on_postgres = bool(os.environ.get("EXCHANGE_DATABASE_URL"))
    assert report["backend"] == ("postgresql" if on_postgres else "sqlite")
    assert report["schema"] == "0009"
    assert report["rows"]["collections"] == len(hub.countries)
    assert report["rows"]["objects"] == 0
    assert report["rows"]["audit_events"] == hub._store.audit_size()


def test_db_backup_copies_the_sqlite_store_or_prints_postgres_commands(
    small_hub: tuple[Hub, Path], tmp_path: Path
) -> None:
    hub, data_dir = small_hub
    target = tmp_path / "copy" / "exchange.db"
    result = _db(data_dir, "backup", str(target))
    assert result.exit_code == 0, result.output
    if os.environ.get("EXCHANGE_DATABASE_URL"):
        assert "pg_dump --format=custom" in result.output
        return
    assert f"backup written to {target}" in result.output
    copy = open_sqlite(target.parent, create=False)
    try:
        assert [c.id for c in copy.collections()] == [c.id for c in hub.collections()]
        assert copy.audit_size() == hub._store.audit_size()
    finally:
        copy.close()
    again = _db(data_dir, "backup", str(target))
    assert again.exit_code != 0
    assert "exists" in again.output


def test_db_purge_and_upgrade_are_safe_to_run_any_time(small_hub: tuple[Hub, Path]) -> None:
    _, data_dir = small_hub
    purged = _db(data_dir, "purge")
    assert purged.exit_code == 0, purged.output
    assert purged.output.strip() == "0 placements purged"
    upgraded = _db(data_dir, "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert "0009 -> 0009" in upgraded.output
