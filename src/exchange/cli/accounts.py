"""``exchange account``: create, list, rotate, enable and disable accounts."""

from __future__ import annotations

import click

from exchange.cli.common import emit_json, fail_cleanly, open_hub, operator
from exchange.store.models import Role

__all__ = ["account"]


@click.group()
def account() -> None:
    """Manage partner, analyst and admin accounts."""


@account.command("create")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", "username", required=True, help="User name (lower-case, 2-63 chars).")
@click.option("--display-name", default=None, help="Human name, e.g. the organisation.")
@click.option("--country", default=None, help="Analysts: ISO 3166-1 code of their country.")
@click.option("--json", "as_json", is_flag=True, help="Print id, user name and token as JSON.")
@click.pass_context
@fail_cleanly
def create(
    ctx: click.Context,
    role: str,
    username: str,
    display_name: str | None,
    country: str | None,
    as_json: bool,
) -> None:
    """Create an account and print its token (shown only now; the hub keeps a hash).

    A partner also gets an inbox collection to push to; it starts as an applicant and may
    submit once vetted (`exchange partner ...`) and under an agreement (`exchange agreement`).
    """
    hub = open_hub(ctx)
    issued = hub.create_account(
        Role(role),
        username,
        display_name=display_name,
        country=country.upper() if country else None,
        actor=operator(),
    )
    result = {
        "id": issued.account.id,
        "username": issued.account.username,
        "role": issued.account.role.value,
        "country": issued.account.country,
        "token": issued.token,
        "inbox": issued.inbox.id if issued.inbox else None,
    }
    if as_json:
        emit_json(result)
        return
    click.echo(f"created {role} {username} ({issued.account.id})")
    if issued.inbox is not None:
        click.echo(f"inbox collection: {issued.inbox.id}")
    click.echo(f"token (shown only now): {issued.token}")


@account.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@fail_cleanly
def list_accounts(ctx: click.Context, as_json: bool) -> None:
    """List accounts (never their tokens)."""
    hub = open_hub(ctx)
    rows = [
        {
            "id": a.id,
            "username": a.username,
            "role": a.role.value,
            "country": a.country,
            "active": a.active,
            "display_name": a.display_name,
        }
        for a in hub.accounts()
    ]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        state = "active" if row["active"] else "disabled"
        click.echo(
            f"{row['username']:<24} {row['role']:<8} {row['country'] or '-':<3} {state:<8} "
            f"{row['display_name']}"
        )


@account.command("rotate-token")
@click.argument("username")
@click.pass_context
@fail_cleanly
def rotate_token(ctx: click.Context, username: str) -> None:
    """Give USERNAME a new token; the old one stops working at once."""
    token = open_hub(ctx).rotate_token(username, actor=operator())
    click.echo(f"new token for {username} (shown only now): {token}")


@account.command("disable")
@click.argument("username")
@click.pass_context
@fail_cleanly
def disable(ctx: click.Context, username: str) -> None:
    """Disable USERNAME: its token stops working at once."""
    open_hub(ctx).set_active(username, False, actor=operator())
    click.echo(f"{username} disabled")


@account.command("enable")
@click.argument("username")
@click.pass_context
@fail_cleanly
def enable(ctx: click.Context, username: str) -> None:
    """Enable USERNAME again."""
    open_hub(ctx).set_active(username, True, actor=operator())
    click.echo(f"{username} enabled")
