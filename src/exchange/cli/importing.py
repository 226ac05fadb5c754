"""``exchange import-medallion``: move a medallion memory-backend data file into the hub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from exchange.cli.common import emit_json, fail_cleanly, open_hub
from exchange.errors import NotFound
from exchange.importers.medallion import (
    CollectionImport,
    ImportReport,
    InvalidMedallionData,
    Problem,
    parse_medallion,
)

__all__ = ["import_medallion"]

# Files with more object versions than this get a progress bar (on stderr).
PROGRESS_THRESHOLD = 300
# Problems listed per collection in the text summary (--json lists them all).
SHOWN_PROBLEMS = 20


def _problem(problem: Problem) -> dict[str, Any]:
    return {"id": problem.stix_id, "version": problem.version, "reason": problem.reason}


def _collection_json(done: CollectionImport) -> dict[str, Any]:
    grant = done.grant
    return {
        "api_root": done.api_root,
        "original_id": done.original_id,
        "id": done.id,
        "title": done.title,
        "created": done.created,
        "objects": {
            "imported": done.imported,
            "already_present": done.already_present,
            "refused": len(done.refused),
        },
        "grant": None if grant is None else {"read": grant.can_read, "write": grant.can_write},
        "refused": [_problem(problem) for problem in done.refused],
        "warnings": [_problem(problem) for problem in done.warnings],
    }


def _report_json(report: ImportReport) -> dict[str, Any]:
    statuses = report.statuses
    return {
        "account": report.account,
        "collections": [_collection_json(done) for done in report.collections],
        "statuses": {
            "imported": statuses.imported,
            "already_present": statuses.already_present,
            "skipped": len(statuses.skipped),
            "problems": [_problem(problem) for problem in statuses.skipped],
        },
    }


def _problem_line(problem: Problem) -> str:
    what = " ".join(part for part in (problem.stix_id, problem.version) if part)
    return f"{what}: {problem.reason}" if what else problem.reason


def _echo_problems(label: str, problems: tuple[Problem, ...]) -> None:
    for problem in problems[:SHOWN_PROBLEMS]:
        click.echo(f"    {label} {_problem_line(problem)}")
    if len(problems) > SHOWN_PROBLEMS:
        click.echo(f"    ... and {len(problems) - SHOWN_PROBLEMS} more {label} (see --json)")


def _echo_report(report: ImportReport) -> None:
    click.echo(f"medallion import, access given to {report.account}:")
    for done in report.collections:
        state = "new" if done.created else "existing"
        click.echo(f"  [{done.api_root}] {done.original_id} -> {done.id} ({state}) {done.title}")
        grant = done.grant
        access = (
            "none"
            if grant is None
            else ", ".join(
                name
                for name, given in (("read", grant.can_read), ("write", grant.can_write))
                if given
            )
        )
        click.echo(
            f"    objects: {done.imported} imported, {done.already_present} already present, "
            f"{len(done.refused)} refused; grant: {access}"
        )
        _echo_problems("refused", done.refused)
        _echo_problems("warning", done.warnings)
    statuses = report.statuses
    click.echo(
        f"  statuses: {statuses.imported} imported, {statuses.already_present} already present, "
        f"{len(statuses.skipped)} skipped"
    )
    for problem in statuses.skipped:
        click.echo(f"    skipped {_problem_line(problem)}")


@click.command("import-medallion")
@click.argument("data_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--grant",
    "grant_to",
    required=True,
    metavar="ACCOUNT",
    help="Account given each collection's medallion access; it also owns the statuses.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
@fail_cleanly
def import_medallion(ctx: click.Context, data_file: Path, grant_to: str, as_json: bool) -> None:
    """Import DATA_FILE (medallion's memory-backend JSON) as shared collections.

    Each medallion collection becomes a shared collection, keeping its id when it can, with
    every object version at its original date_added. ACCOUNT gets the read/write access each
    collection had in medallion, and the TAXII status resources. Safe to run again: what is
    already there is reported as already present.
    """
    try:
        raw = data_file.read_bytes()
    except OSError as exc:
        raise InvalidMedallionData(f"cannot read {data_file}: {exc.strerror}") from None
    data = parse_medallion(raw)
    hub = open_hub(ctx)
    try:
        hub.account_named(grant_to)  # an unknown account fails before anything is made
    except NotFound:
        raise NotFound(
            f"no account {grant_to!r} to --grant access to; create it first "
            "(`exchange account create`)"
        ) from None
    if data.object_count > PROGRESS_THRESHOLD:
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("importing objects", total=data.object_count)
            report = hub.import_medallion(
                data, grant_to, progress=lambda count: bar.advance(task, count)
            )
    else:
        report = hub.import_medallion(data, grant_to)
    if as_json:
        emit_json(_report_json(report))
    else:
        _echo_report(report)
