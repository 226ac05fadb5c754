"""``exchange init``: create the store, load ``config/``, make the first admin (and a demo)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from exchange.cli.common import emit_json, fail_cleanly, open_hub, settings_from
from exchange.sharing.service import Hub, IssuedAccount
from exchange.store.models import Role

__all__ = ["init"]

FIRST_ADMIN = "admin"


@dataclass(frozen=True)
class _DemoAccount:
    username: str
    role: Role
    display_name: str
    country: str | None = None
    recipients: tuple[str, ...] = ()


DEMO_ACCOUNTS = (
    _DemoAccount(
        "demo-partner-a",
        Role.PARTNER,
        "Demo Security Vendor",
        recipients=("FR", "DE", "BR"),
    ),
    _DemoAccount("demo-partner-b", Role.PARTNER, "Demo Bank CERT", recipients=("FR",)),
    _DemoAccount("analyst-fr", Role.ANALYST, "Analyst, France", country="FR"),
    _DemoAccount("analyst-de", Role.ANALYST, "Analyst, Germany", country="DE"),
    _DemoAccount("analyst-br", Role.ANALYST, "Analyst, Brazil", country="BR"),
)


def _credential(issued: IssuedAccount) -> dict[str, Any]:
    account = issued.account
    return {
        "id": account.id,
        "username": account.username,
        "role": account.role.value,
        "country": account.country,
        "token": issued.token,
        "inbox": issued.inbox.id if issued.inbox else None,
    }


def _demo(hub: Hub) -> list[dict[str, Any]]:
    made: list[dict[str, Any]] = []
    for demo in DEMO_ACCOUNTS:
        existing = {a.username: a for a in hub.accounts()}.get(demo.username)
        if existing is None:
            issued = hub.create_account(
                demo.role,
                demo.username,
                display_name=demo.display_name,
                country=demo.country,
                recipients=demo.recipients,
            )
            made.append(_credential(issued))
        else:
            token = hub.rotate_token(demo.username)
            made.append(
                {
                    "id": existing.id,
                    "username": existing.username,
                    "role": existing.role.value,
                    "country": existing.country,
                    "token": token,
                    "inbox": None,
                }
            )
    return made


@click.command()
@click.option("--demo", is_flag=True, help="Also create demo partners and analysts (FR, DE, BR).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
@fail_cleanly
def init(ctx: click.Context, demo: bool, as_json: bool) -> None:
    """Create (or update) the store and load config/.

    Safe to run again: it applies schema migrations and adds collections for member countries
    new in config/. On first run it creates the account `admin` and prints its token once;
    keep it: the hub stores only a hash.
    """
    settings = settings_from(ctx)
    hub = open_hub(ctx, create=True)
    new_countries = hub.ensure_country_collections()
    admin = None
    if not any(account.role is Role.ADMIN for account in hub.accounts()):
        admin = _credential(hub.create_account(Role.ADMIN, FIRST_ADMIN, display_name="Hub admin"))
    demo_accounts = _demo(hub) if demo else []
    if as_json:
        emit_json(
            {
                "data_dir": str(settings.data_dir),
                "member_countries": len(hub.countries),
                "new_country_collections": new_countries,
                "admin": admin,
                "demo": demo_accounts,
            }
        )
        return
    click.echo(f"store ready in {settings.data_dir}/ ({len(hub.countries)} member countries)")
    if admin is not None:
        click.echo("")
        click.echo("first admin account (the token is shown only now; keep it safe):")
        click.echo(f"  user name: {admin['username']}")
        click.echo(f"  token:     {admin['token']}")
    for entry in demo_accounts:
        where = entry["country"] or ("inbox " + entry["inbox"] if entry["inbox"] else "")
        click.echo(f"demo {entry['role']:<8} {entry['username']:<16} {where}")
        click.echo(f"  token: {entry['token']}")
    if demo:
        click.echo("demo-partner-a shares with FR, DE and BR; demo-partner-b with FR.")
