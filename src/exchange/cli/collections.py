"""``exchange collection``: shared collections and their grants."""

from __future__ import annotations

import click

from exchange.cli.common import emit_json, fail_cleanly, open_hub, operator

__all__ = ["collection"]


@click.group()
def collection() -> None:
    """Manage collections (inboxes and country collections are made automatically)."""


@collection.command("create")
@click.option("--title", required=True, help="Title shown to TAXII clients.")
@click.option("--description", default="", help="Description shown to TAXII clients.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@fail_cleanly
def create(ctx: click.Context, title: str, description: str, as_json: bool) -> None:
    """Create a shared collection; give access with `exchange collection grant`."""
    made = open_hub(ctx).create_shared_collection(title, description=description, actor=operator())
    if as_json:
        emit_json({"id": made.id, "title": made.title, "kind": made.kind.value})
    else:
        click.echo(f"created shared collection {made.id} ({made.title})")


@collection.command("grant")
@click.argument("collection_id")
@click.argument("username")
@click.option("--read/--no-read", default=True, show_default=True)
@click.option("--write/--no-write", default=False, show_default=True)
@click.pass_context
@fail_cleanly
def grant(ctx: click.Context, collection_id: str, username: str, read: bool, write: bool) -> None:
    """Give USERNAME access to the shared collection COLLECTION_ID."""
    open_hub(ctx).grant(collection_id, username, read=read, write=write, actor=operator())
    click.echo(f"{username}: read={'yes' if read else 'no'} write={'yes' if write else 'no'}")


@collection.command("list")
@click.option("--kind", type=click.Choice(["inbox", "country", "shared"]), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@fail_cleanly
def list_collections(ctx: click.Context, kind: str | None, as_json: bool) -> None:
    """List collections with the number of objects visible in each."""
    hub = open_hub(ctx)
    sizes = hub.collection_sizes()
    rows = [
        {
            "id": c.id,
            "kind": c.kind.value,
            "title": c.title,
            "country": c.country,
            "objects": sizes.get(c.id, 0),
        }
        for c in hub.collections()
        if kind is None or c.kind.value == kind
    ]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(f"{row['id']}  {row['kind']:<7} {row['objects']:>9}  {row['title']}")
