"""``exchange db``: the store's schema, state, backups and retention purge."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from rich.progress import Progress

from exchange.cli.common import emit_json, fail_cleanly, open_hub, settings_from
from exchange.store import schema
from exchange.store.opening import open_store, store_location
from exchange.store.operations import backup_sqlite, postgres_backup_hints, table_counts
from exchange.store.postgres import PostgresStore

__all__ = ["db"]


@click.group()
def db() -> None:
    """Manage the store: schema migrations, state, backups, retention purge.

    The store is SQLite in the data directory, or PostgreSQL when EXCHANGE_DATABASE_URL is set
    (every node of a deployment uses the same one).
    """


@db.command()
@click.pass_context
@fail_cleanly
def upgrade(ctx: click.Context) -> None:
    """Apply pending schema migrations to the store.

    Run it on one node after installing a new version, before starting the others; on
    PostgreSQL it holds the store's write lock, so concurrent upgrades wait for each other.
    """
    settings = settings_from(ctx)
    if not settings.database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.store_url
    before = schema.current_revision(url)
    schema.upgrade(url)
    click.echo(
        f"store schema at {store_location(settings)}: {before or 'empty'} -> "
        f"{schema.head_revision()}"
    )


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@fail_cleanly
def status(ctx: click.Context, as_json: bool) -> None:
    """Where the store is, its schema revision, and how many rows its main tables hold."""
    settings = settings_from(ctx)
    store = open_store(settings, create=False)
    try:
        store.ping()
        counts = table_counts(store)
    finally:
        store.close()
    report = {
        "backend": "postgresql" if settings.database_url else "sqlite",
        "location": store_location(settings),
        "schema": schema.current_revision(settings.store_url),
        "rows": counts,
    }
    if as_json:
        emit_json(report)
        return
    click.echo(f"{report['backend']} store at {report['location']}, schema {report['schema']}")
    for table, rows in counts.items():
        click.echo(f"  {table:<14} {rows:>12,}")


@db.command()
@click.argument("destination", required=False, type=click.Path(path_type=Path))
@click.pass_context
@fail_cleanly
def backup(ctx: click.Context, destination: Path | None) -> None:
    """Back up the store.

    SQLite: writes a consistent copy to DESTINATION (default: backups/exchange-<time>.db in the
    data directory) while the hub keeps serving. PostgreSQL: prints the commands to use
    (pg_dump, pg_restore, WAL archiving); the database's own tools do it best.
    """
    settings = settings_from(ctx)
    store = open_store(settings, create=False)
    try:
        if isinstance(store, PostgresStore):
            for line in postgres_backup_hints(store_location(settings), store.schema_name):
                click.echo(line)
            return
    finally:
        store.close()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = destination or settings.data_dir / "backups" / f"exchange-{stamp}.db"
    if target.exists():
        raise click.ClickException(f"{target} exists; choose another destination")
    with Progress(transient=True) as progress:
        task = progress.add_task("backing up", total=None)
        backup_sqlite(
            settings.database_path,
            target,
            lambda done, total: progress.update(task, completed=done, total=total),
        )
    click.echo(f"backup written to {target} ({target.stat().st_size:,} bytes)")
    click.echo("restore: stop the hub, copy it to exchange.db in the data directory, start it")


@db.command()
@click.pass_context
@fail_cleanly
def purge(ctx: click.Context) -> None:
    """Delete now what agreements' retention clauses no longer allow (each node also does this
    every hour by itself); the same as `exchange retention purge`."""
    click.echo(f"{open_hub(ctx).purge_expired()} placements purged")
