"""``exchange partner`` (due diligence and lifecycle) and ``exchange agreement``."""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import click

from exchange.cli.common import emit_json, fail_cleanly, open_hub, settings_from
from exchange.errors import InvalidRequest
from exchange.partners.vetting import Criterion, Finding, PartnerRecord, record_to_dict
from exchange.sharing.partners import AgreementStatus, AgreementView

__all__ = ["agreement", "partner"]

AS_ADMIN = click.option(
    "--as",
    "admin",
    required=True,
    metavar="ADMIN",
    help="The admin account making this change (recorded; four-eyes needs two).",
)
JSON = click.option("--json", "as_json", is_flag=True, help="Print as JSON.")


def _show_partner(username: str, record: PartnerRecord, as_json: bool) -> None:
    if as_json:
        emit_json({"username": username, **record_to_dict(record)})
        return
    vetted = f", vetted until {record.vetted_until}" if record.vetted_until else ""
    reason = f" ({record.reason})" if record.reason else ""
    click.echo(f"{username}: {record.state.value}{vetted}{reason}")
    review = record.review
    if review is not None:
        click.echo(
            f"  review {review.outcome}, opened by {review.opened_by}, re-vet by {review.revet_by}"
        )
        for criterion in Criterion:
            found = review.assessment(criterion)
            text = (
                "not assessed"
                if found is None
                else (f"{found.finding.value} ({found.reviewer}, {found.on}): {found.evidence}")
            )
            click.echo(f"    {criterion.value:<22} {text}")
        approvals = ", ".join(a.admin for a in review.approvals) or "none"
        click.echo(f"    approvals: {approvals}")


@click.group()
def partner() -> None:
    """Vet partners (due diligence, four-eyes) and manage their lifecycle.

    applicant -> review (3 criteria assessed, 2 different admins approve) -> approved ->
    active; active partners can be suspended, reinstated or terminated.
    """


@partner.command("list")
@JSON
@click.pass_context
@fail_cleanly
def list_partners(ctx: click.Context, as_json: bool) -> None:
    """List partners and their state."""
    rows = open_hub(ctx).partners()
    if as_json:
        emit_json([{"username": a.username, **record_to_dict(r)} for a, r in rows])
        return
    for account, record in rows:
        click.echo(
            f"{account.username:<24} {record.state.value:<13} vetted until "
            f"{record.vetted_until or '-'}"
        )


@partner.command("show")
@click.argument("username")
@JSON
@click.pass_context
@fail_cleanly
def show(ctx: click.Context, username: str, as_json: bool) -> None:
    """Show a partner's state and due-diligence record."""
    _show_partner(username, open_hub(ctx).partner(username), as_json)


@partner.command("review")
@click.argument("username")
@AS_ADMIN
@click.option(
    "--revet-by", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Default: in a year."
)
@JSON
@click.pass_context
@fail_cleanly
def review(ctx: click.Context, username: str, admin: str, revet_by: Any, as_json: bool) -> None:
    """Open a due-diligence review of USERNAME (first vetting or re-vetting)."""
    due: date | None = revet_by.date() if revet_by else None
    _show_partner(username, open_hub(ctx).open_review(username, admin=admin, revet_by=due), as_json)


@partner.command("assess")
@click.argument("username")
@click.argument("criterion", type=click.Choice([c.value for c in Criterion]))
@click.argument("finding", type=click.Choice([f.value for f in Finding]))
@click.option("--evidence", required=True, help="What the finding rests on.")
@AS_ADMIN
@JSON
@click.pass_context
@fail_cleanly
def assess(
    ctx: click.Context,
    username: str,
    criterion: str,
    finding: str,
    evidence: str,
    admin: str,
    as_json: bool,
) -> None:
    """Record FINDING on CRITERION in USERNAME's open review.

    Criteria: shares-values (the organisation's fundamental values and principles),
    compatible-activities (with its principles, aims and activities), compatible-purpose
    (the contribution is meant for compatible purposes).
    """
    record = open_hub(ctx).assess(
        username, Criterion(criterion), Finding(finding), evidence, admin=admin
    )
    _show_partner(username, record, as_json)


REASON = click.option("--reason", required=True, help="Why (recorded).")


@partner.command("approve")
@click.argument("username")
@AS_ADMIN
@JSON
@click.pass_context
@fail_cleanly
def approve(ctx: click.Context, username: str, admin: str, as_json: bool) -> None:
    """Approve USERNAME's open review; a second, different admin's approval vets it."""
    _show_partner(username, open_hub(ctx).approve_review(username, admin=admin), as_json)


@partner.command("reject")
@click.argument("username")
@REASON
@AS_ADMIN
@JSON
@click.pass_context
@fail_cleanly
def reject(ctx: click.Context, username: str, reason: str, admin: str, as_json: bool) -> None:
    """Reject USERNAME's open review."""
    _show_partner(username, open_hub(ctx).reject_review(username, reason, admin=admin), as_json)


@partner.command("activate")
@click.argument("username")
@AS_ADMIN
@JSON
@click.pass_context
@fail_cleanly
def activate(ctx: click.Context, username: str, admin: str, as_json: bool) -> None:
    """Make approved partner USERNAME active."""
    _show_partner(username, open_hub(ctx).activate_partner(username, admin=admin), as_json)


@partner.command("suspend")
@click.argument("username")
@REASON
@AS_ADMIN
@JSON
@click.pass_context
@fail_cleanly
def suspend(ctx: click.Context, username: str, reason: str, admin: str, as_json: bool) -> None:
    """Suspend USERNAME: submissions and redistribution stop at once."""
    record = open_hub(ctx).suspend_partner(username, reason, admin=admin)
    _show_partner(username, record, as_json)


@partner.command("reinstate")
@click.argument("username")
@AS_ADMIN
@JSON
@click.pass_context
@fail_cleanly
def reinstate(ctx: click.Context, username: str, admin: str, as_json: bool) -> None:
    """Reinstate suspended partner USERNAME."""
    _show_partner(username, open_hub(ctx).reinstate_partner(username, admin=admin), as_json)


@partner.command("terminate")
@click.argument("username")
@REASON
@AS_ADMIN
@JSON
@click.pass_context
@fail_cleanly
def terminate(ctx: click.Context, username: str, reason: str, admin: str, as_json: bool) -> None:
    """End the partnership with USERNAME for good."""
    record = open_hub(ctx).terminate_partner(username, reason, admin=admin)
    _show_partner(username, record, as_json)


# Agreements --------------------------------------------------------------------------------
def _show_agreement(view: AgreementView, as_json: bool) -> None:
    if as_json:
        emit_json(view.as_dict())
        return
    terms = view.terms
    by = f"by {view.created_by}, {view.created_at}"
    click.echo(f"{view.ref} for {view.partner}: {view.status.value} ({by})")
    click.echo(f"  valid {terms.valid_from} .. {terms.valid_until or 'open-ended'}")
    click.echo(f"  purpose: {terms.purpose}")
    click.echo(
        f"  categories: {', '.join(c.value for c in terms.categories)}; types: "
        f"{', '.join(terms.accepted_types) if terms.accepted_types else 'all'}"
    )
    default = terms.tlp.default.value if terms.tlp.default else "none"
    click.echo(
        f"  TLP: default {default}, highest {terms.tlp.highest_accepted.value}, "
        f"never redistributed {', '.join(t.value for t in terms.tlp.never_redistribute) or '-'}"
    )
    click.echo(
        f"  attribution {terms.attribution.value}; victim data {terms.victim_data.value}; "
        f"embargo {terms.embargo_hours:g} h; retention {terms.retention_days or '-'} days"
    )


def _read_terms(path: Path) -> tuple[dict[str, Any], str | None]:
    text = path.read_text(encoding="utf-8")
    try:
        document: Any = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise InvalidRequest(f"{path} cannot be read: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidRequest(f"{path} holds no terms")
    status = document.get("status") if "terms" in document else None
    terms = document.get("terms", document)
    return terms, status


@click.group()
def agreement() -> None:
    """Write and inspect partners' sharing agreements (every change is a new version)."""


@agreement.command("set")
@click.argument("username")
@click.option(
    "--file",
    "path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML or JSON terms (a [terms] table, or the terms themselves); see config/agreements/.",
)
@AS_ADMIN
@JSON
@click.pass_context
@fail_cleanly
def set_agreement(ctx: click.Context, username: str, path: Path, admin: str, as_json: bool) -> None:
    """Write the next version of USERNAME's agreement from a file."""
    terms, status = _read_terms(path)
    view = open_hub(ctx).set_agreement(
        username, terms, admin=admin, status=AgreementStatus(status or "active")
    )
    _show_agreement(view, as_json)


@agreement.command("show")
@click.argument("username")
@click.option("--history", is_flag=True, help="Every version, oldest first.")
@JSON
@click.pass_context
@fail_cleanly
def show_agreement(ctx: click.Context, username: str, history: bool, as_json: bool) -> None:
    """Show USERNAME's agreement."""
    hub = open_hub(ctx)
    views = hub.agreement_history(username) if history else [hub.agreement(username)]
    if as_json:
        emit_json([v.as_dict() for v in views] if history else views[0].as_dict())
        return
    for view in views:
        _show_agreement(view, False)


@agreement.command("status")
@click.argument("username")
@click.argument("status", type=click.Choice([s.value for s in AgreementStatus]))
@AS_ADMIN
@JSON
@click.pass_context
@fail_cleanly
def agreement_status(
    ctx: click.Context, username: str, status: str, admin: str, as_json: bool
) -> None:
    """Set USERNAME's agreement to STATUS (active, suspended, ended): a new version."""
    view = open_hub(ctx).set_agreement_status(username, AgreementStatus(status), admin=admin)
    _show_agreement(view, as_json)


@agreement.command("load")
@click.argument(
    "directory", required=False, type=click.Path(file_okay=False, path_type=Path), default=None
)
@AS_ADMIN
@JSON
@click.pass_context
@fail_cleanly
def load(ctx: click.Context, directory: Path | None, admin: str, as_json: bool) -> None:
    """Apply the agreement files in DIRECTORY (default: config/agreements/) that changed."""
    folder = directory or settings_from(ctx).config_dir / "agreements"
    changed = open_hub(ctx).load_agreement_files(folder, admin=admin)
    if as_json:
        emit_json([view.as_dict() for view in changed])
        return
    for view in changed:
        click.echo(f"{view.partner}: {view.ref} ({view.status.value})")
    click.echo(f"{len(changed)} agreement(s) changed")
