"""``exchange init``: create the store, load ``config/``, make the first admin (and a demo)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from exchange.cli.common import emit_json, fail_cleanly, open_hub, operator, settings_from
from exchange.partners.vetting import Criterion, Finding, PartnerState
from exchange.settings import Settings
from exchange.sharing.service import Hub, IssuedAccount
from exchange.store.models import CollectionKind, Role

__all__ = ["init"]

FIRST_ADMIN = "admin"


@dataclass(frozen=True)
class _DemoAccount:
    username: str
    role: Role
    display_name: str
    country: str | None = None


SECOND_ADMIN = "demo-reviewer"
DEMO_ACCOUNTS = (
    _DemoAccount(SECOND_ADMIN, Role.ADMIN, "Demo second reviewer"),
    _DemoAccount("demo-partner-a", Role.PARTNER, "Demo Security Vendor"),
    _DemoAccount("demo-partner-b", Role.PARTNER, "Demo Bank CERT"),
    _DemoAccount("analyst-fr", Role.ANALYST, "Analyst, France", country="FR"),
    _DemoAccount("analyst-de", Role.ANALYST, "Analyst, Germany", country="DE"),
    _DemoAccount("analyst-br", Role.ANALYST, "Analyst, Brazil", country="BR"),
)
DEMO_EVIDENCE = "Demo world: stands in for the due-diligence file of a real partner."


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


def vet_partner(hub: Hub, username: str, first_admin: str, second_admin: str) -> None:
    """Take a partner through due diligence (two admins) to active, as the demo does."""
    record = hub.partner(username)
    if record.state is PartnerState.ACTIVE:
        return
    hub.open_review(username, admin=first_admin)
    for criterion in Criterion:
        hub.assess(username, criterion, Finding.MET, DEMO_EVIDENCE, admin=first_admin)
    hub.approve_review(username, admin=first_admin)
    hub.approve_review(username, admin=second_admin)
    hub.activate_partner(username, admin=first_admin)


def _demo(hub: Hub, settings: Settings, first_admin: str) -> list[dict[str, Any]]:
    made: list[dict[str, Any]] = []
    existing = {a.username: a for a in hub.accounts()}
    for demo in DEMO_ACCOUNTS:
        account = existing.get(demo.username)
        if account is None:
            issued = hub.create_account(
                demo.role,
                demo.username,
                display_name=demo.display_name,
                country=demo.country,
                actor=operator(),
            )
            made.append(_credential(issued))
        else:
            token = hub.rotate_token(demo.username, actor=operator())
            inbox = next(
                (
                    c.id
                    for c in hub.collections()
                    if c.owner_account == account.id and c.kind is CollectionKind.INBOX
                ),
                None,
            )
            made.append(
                {
                    "id": account.id,
                    "username": account.username,
                    "role": account.role.value,
                    "country": account.country,
                    "token": token,
                    "inbox": inbox,
                }
            )
    for demo in DEMO_ACCOUNTS:
        if demo.role is Role.PARTNER:
            vet_partner(hub, demo.username, first_admin, SECOND_ADMIN)
    hub.load_agreement_files(settings.config_dir / "demo" / "agreements", admin=first_admin)
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
        admin = _credential(
            hub.create_account(Role.ADMIN, FIRST_ADMIN, display_name="Hub admin", actor=operator())
        )
    first_admin = next(a.username for a in hub.accounts() if a.role is Role.ADMIN)
    demo_accounts = _demo(hub, settings, first_admin) if demo else []
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
        click.echo(
            "demo-partner-a shares with FR, DE and BR under its name; demo-partner-b with FR, "
            "anonymously (agreements: config/demo/agreements/)."
        )
