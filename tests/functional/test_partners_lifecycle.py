"""The partner lifecycle and due diligence, over the admin REST API and the command line.

applicant -> review (three criteria assessed with evidence) -> two different admins approve
(four-eyes) -> approved -> active -> suspended (with a reason) -> reinstated -> terminated. Every
step is recorded in ``/admin/changes`` with the admin's user name, the hub's time and the
record before and after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from exchange.cli.main import cli
from exchange.partners.vetting import Criterion
from exchange.stix.timestamps import format_date_added
from tests.functional.agreement_world import AgreementWorld, Partner, new_indicator, open_world
from tests.functional.conftest import assert_taxii_error
from tests.support.onboarding import FIRST_ADMIN, SECOND_ADMIN, pass_through_terms
from tests.support.paths import CONFIG_DIR

A, B = FIRST_ADMIN, SECOND_ADMIN
CRITERIA = [criterion.value for criterion in Criterion]


@pytest.fixture
def aw(tmp_path: Path) -> Iterator[AgreementWorld]:
    yield from open_world(tmp_path)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgreementWorld]:
    """One hub for tests that each work on partners of their own."""
    yield from open_world(tmp_path_factory.mktemp("shared"))


def base(username: str) -> str:
    return f"/admin/partners/{username}"


def call(
    aw: AgreementWorld, method: str, path: str, admin: str = A, body: Any = None, status: int = 200
) -> Any:
    """An admin API call that must answer ``status``; its JSON (or the TAXII error)."""
    response = aw.client.request(method, path, json=body, headers=aw.admin(admin))
    if status >= 400:
        return assert_taxii_error(response, status)
    assert response.status_code == status, (method, path, response.status_code, response.text)
    return response.json()


def partner_changes(aw: AgreementWorld, partner: Partner) -> list[dict[str, Any]]:
    return call(  # type: ignore[no-any-return]
        aw, "GET", f"/admin/changes?entity=partner&entity_id={partner.account.id}"
    )


def _hub_time(aw: AgreementWorld) -> str:
    return format_date_added(aw.clock.micros)


# The full flow over REST --------------------------------------------------------------------
def test_partners_full_lifecycle_over_the_admin_api_with_four_eyes_and_change_record(
    aw: AgreementWorld,
) -> None:
    made = call(
        aw, "POST", "/admin/accounts", body={"role": "partner", "username": "p-life"}, status=201
    )
    account = aw.hub.account_named("p-life")
    partner = Partner("p-life", made["token"], account, made["inbox_collection"])
    # Each step happens a minute after the previous one; the change record must say when.
    expected: list[tuple[str, str, str, str, str]] = []  # action, actor, at, from, to

    def step(
        action: str, actor: str, path: str, body: Any, before: str, after: str
    ) -> dict[str, Any]:
        aw.clock.advance(minutes=1)
        record = call(aw, "POST", path, actor, body)
        assert record["username"] == "p-life"
        assert record["state"] == after, record
        expected.append((action, actor, _hub_time(aw), before, after))
        return record  # type: ignore[no-any-return]

    shown = call(aw, "GET", base("p-life"))
    assert shown["state"] == "applicant"
    assert shown["review"] is None
    assert shown["vetted_until"] is None
    listed = {row["username"]: row["state"] for row in call(aw, "GET", "/admin/partners")}
    assert listed == {"p-life": "applicant"}

    revet_by = (aw.clock.today + timedelta(days=200)).isoformat()
    record = step(
        "open-review",
        A,
        f"{base('p-life')}/review",
        {"revet_by": revet_by},
        "applicant",
        "under-review",
    )
    assert record["review"]["opened_by"] == A
    assert record["review"]["revet_by"] == revet_by
    assert record["review"]["outcome"] == "open"
    assert record["vetted_until"] is None

    reviewers = {CRITERIA[0]: A, CRITERIA[1]: B, CRITERIA[2]: A}
    for criterion in CRITERIA:
        record = step(
            f"assess:{criterion}",
            reviewers[criterion],
            f"{base('p-life')}/review/assessments",
            {"criterion": criterion, "finding": "met", "evidence": f"  file #{criterion}  "},
            "under-review",
            "under-review",
        )
        latest = record["review"]["assessments"][-1]
        assert latest == {
            "criterion": criterion,
            "finding": "met",
            "evidence": f"file #{criterion}",
            "reviewer": reviewers[criterion],
            "on": aw.clock.today.isoformat(),
        }
    assert [a["criterion"] for a in record["review"]["assessments"]] == CRITERIA

    record = step(
        "approve", A, f"{base('p-life')}/review/approve", None, "under-review", "under-review"
    )
    assert record["review"]["approvals"] == [{"admin": A, "at": aw.clock.now.isoformat()}]
    assert record["review"]["outcome"] == "open"
    assert record["vetted_until"] is None

    # Four-eyes: the same admin approving again is refused, clearly, and changes nothing.
    aw.clock.advance(minutes=1)
    error = call(aw, "POST", f"{base('p-life')}/review/approve", A, status=400)
    assert "four-eyes" in error["description"]
    assert "different admin" in error["description"]
    assert error["title"] == "Not allowed in this partner state"
    again = call(aw, "GET", base("p-life"))
    assert again["review"]["approvals"] == record["review"]["approvals"]
    assert again["state"] == "under-review"

    # Not yet vetted: submissions are refused.
    refused = aw.post(partner, new_indicator())
    assert "under-review" in assert_taxii_error(refused, 403)["description"]

    record = step(
        "approve", B, f"{base('p-life')}/review/approve", None, "under-review", "approved"
    )
    assert [a["admin"] for a in record["review"]["approvals"]] == [A, B]
    assert record["review"]["outcome"] == "approved"
    assert record["vetted_until"] == revet_by

    record = step("activate", B, f"{base('p-life')}/activate", None, "approved", "active")
    call(aw, "PUT", f"{base('p-life')}/agreement", A, {"terms": pass_through_terms(["FR"])})
    aw.submit(partner, new_indicator())

    # A suspension needs a reason: none at all is a body error, a blank one a lifecycle error.
    missing = call(aw, "POST", f"{base('p-life')}/suspend", A, {}, status=422)
    assert "reason" in missing["description"]
    blank = call(aw, "POST", f"{base('p-life')}/suspend", A, {"reason": "   "}, status=400)
    assert "reason" in blank["description"]
    assert call(aw, "GET", base("p-life"))["state"] == "active"

    record = step(
        "suspend",
        A,
        f"{base('p-life')}/suspend",
        {"reason": "audit pending"},
        "active",
        "suspended",
    )
    assert record["reason"] == "audit pending"
    record = step("reinstate", B, f"{base('p-life')}/reinstate", None, "suspended", "active")
    assert record["reason"] == ""
    record = step(
        "terminate",
        A,
        f"{base('p-life')}/terminate",
        {"reason": "contract ended"},
        "active",
        "terminated",
    )
    assert record["reason"] == "contract ended"

    # Nothing moves a terminated partner.
    for path, body in (("reinstate", None), ("activate", None), ("review", {})):
        call(aw, "POST", f"{base('p-life')}/{path}", B, body, status=400)
    call(aw, "POST", f"{base('p-life')}/terminate", B, {"reason": "again"}, status=400)
    assert "terminated" in assert_taxii_error(aw.post(partner, new_indicator()), 403)["description"]

    # The record of changes: one entry per step that happened, none for the refused ones.
    changes = partner_changes(aw, partner)
    got = [
        (c["action"], c["actor"], c["at"], c["before"]["state"], c["after"]["state"])
        for c in changes
    ]
    assert got == expected
    for change in changes:
        assert change["entity"] == "partner"
        assert change["entity_id"] == partner.account.id
        assert datetime.fromisoformat(change["at"]).tzinfo is not None
    assert [c["seq"] for c in changes] == sorted(c["seq"] for c in changes)
    # before/after carry the whole record: the first approval shows in the after of "approve".
    first_approval = next(c for c in changes if c["action"] == "approve")
    assert first_approval["before"]["review"]["approvals"] == []
    assert [a["admin"] for a in first_approval["after"]["review"]["approvals"]] == [A]
    suspension = next(c for c in changes if c["action"] == "suspend")
    assert suspension["before"]["reason"] == ""
    assert suspension["after"]["reason"] == "audit pending"
    # The lifecycle history inside the record names who moved it and when, too.
    history = call(aw, "GET", base("p-life"))["history"]
    moves = [(h["step"], h["by"], h["from"], h["to"]) for h in history]
    assert moves == [
        ("open-review", A, "applicant", "under-review"),
        ("approve", B, "under-review", "approved"),
        ("activate", B, "approved", "active"),
        ("suspend", A, "active", "suspended"),
        ("reinstate", B, "suspended", "active"),
        ("terminate", A, "active", "terminated"),
    ]


def test_partners_unmet_or_missing_criteria_block_approval(aw: AgreementWorld) -> None:
    partner = aw.applicant("p-unmet")
    path = base(partner.username)
    call(aw, "POST", f"{path}/review", A, {})
    call(
        aw,
        "POST",
        f"{path}/review/assessments",
        A,
        {"criterion": "shares-values", "finding": "met", "evidence": "charter signed"},
    )
    missing = call(aw, "POST", f"{path}/review/approve", A, status=400)
    assert "not yet assessed" in missing["description"]
    assert "compatible-activities" in missing["description"]
    assert "compatible-purpose" in missing["description"]

    call(
        aw,
        "POST",
        f"{path}/review/assessments",
        A,
        {"criterion": "compatible-activities", "finding": "not-met", "evidence": "sells exploits"},
    )
    call(
        aw,
        "POST",
        f"{path}/review/assessments",
        A,
        {"criterion": "compatible-purpose", "finding": "met", "evidence": "research only"},
    )
    before = len(partner_changes(aw, partner))
    for admin in (A, B):
        unmet = call(aw, "POST", f"{path}/review/approve", admin, status=400)
        assert "not met" in unmet["description"]
        assert "compatible-activities" in unmet["description"]
    record = call(aw, "GET", path)
    assert record["state"] == "under-review"
    assert record["review"]["approvals"] == []
    assert record["vetted_until"] is None
    assert len(partner_changes(aw, partner)) == before

    # An empty evidence note is refused (by the API model) and a blank one (by the rules).
    call(
        aw,
        "POST",
        f"{path}/review/assessments",
        A,
        {"criterion": "compatible-activities", "finding": "met", "evidence": ""},
        status=422,
    )
    call(
        aw,
        "POST",
        f"{path}/review/assessments",
        A,
        {"criterion": "compatible-activities", "finding": "met", "evidence": "  "},
        status=400,
    )
    # A later finding on the same criterion replaces the unmet one; then two admins approve.
    call(
        aw,
        "POST",
        f"{path}/review/assessments",
        B,
        {"criterion": "compatible-activities", "finding": "met", "evidence": "divested"},
    )
    call(aw, "POST", f"{path}/review/approve", A)
    # Once approved by one admin, the review can no longer be reassessed.
    frozen = call(
        aw,
        "POST",
        f"{path}/review/assessments",
        B,
        {"criterion": "shares-values", "finding": "not-met", "evidence": "late doubt"},
        status=400,
    )
    assert "already has an approval" in frozen["description"]
    assert call(aw, "POST", f"{path}/review/approve", B)["state"] == "approved"


def test_partners_a_rejected_review_returns_an_applicant(aw: AgreementWorld) -> None:
    partner = aw.applicant("p-reject")
    path = base(partner.username)
    call(aw, "POST", f"{path}/review", A, {})
    blank = call(aw, "POST", f"{path}/review/reject", A, {}, status=422)
    assert "reason" in blank["description"]
    aw.clock.advance(minutes=5)
    record = call(aw, "POST", f"{path}/review/reject", B, {"reason": "sanctions list"})
    assert record["state"] == "applicant"
    assert record["review"]["outcome"] == "rejected"
    assert record["review"]["note"] == "sanctions list"
    assert record["vetted_until"] is None
    last = partner_changes(aw, partner)[-1]
    assert (last["action"], last["actor"], last["at"]) == ("reject", B, _hub_time(aw))
    assert (last["before"]["state"], last["after"]["state"]) == ("under-review", "applicant")

    # Nothing is open any more: approving is refused; a new review can be opened.
    closed = call(aw, "POST", f"{path}/review/approve", A, status=400)
    assert "no review is open" in closed["description"]
    call(aw, "POST", f"{path}/activate", A, status=400)
    assert call(aw, "POST", f"{path}/review", A, {})["state"] == "under-review"


def test_partners_a_rejection_needs_a_real_reason(aw: AgreementWorld) -> None:
    """Suspensions and terminations refuse a blank reason; a rejection must too."""
    partner = aw.applicant("p-blank")
    path = base(partner.username)
    call(aw, "POST", f"{path}/review", A, {})
    changes = len(partner_changes(aw, partner))
    error = call(aw, "POST", f"{path}/review/reject", A, {"reason": "   "}, status=400)
    assert "reason" in error["description"]
    record = call(aw, "GET", path)
    assert (record["state"], record["review"]["outcome"]) == ("under-review", "open")
    assert len(partner_changes(aw, partner)) == changes


@pytest.mark.parametrize(
    ("setup", "method", "route", "body", "status", "words"),
    [
        ([], "POST", "activate", None, 400, "cannot activate a partner that is applicant"),
        ([], "POST", "suspend", {"reason": "r"}, 400, "cannot suspend a partner that is applicant"),
        ([], "POST", "reinstate", None, 400, "cannot reinstate"),
        ([], "POST", "review/approve", None, 400, "no review is open"),
        ([], "POST", "review", {"revet_by": "2001-01-01"}, 400, "must be in the future"),
        ([], "POST", "review", {"revet_by": "next year"}, 422, "revet_by"),
        (["review"], "POST", "review", {}, 400, "already open"),
        (["review"], "POST", "review/assessments", {"criterion": "x"}, 422, "criterion"),
        (["review"], "POST", "activate", None, 400, "needs approved"),
    ],
)
def test_partners_steps_out_of_order_get_clear_errors(
    shared: AgreementWorld,
    setup: list[str],
    method: str,
    route: str,
    body: Any,
    status: int,
    words: str,
) -> None:
    aw = shared
    partner = aw.applicant(f"p-order-{len(aw.hub.partners())}")
    for done in setup:
        call(aw, "POST", f"{base(partner.username)}/{done}", A, {})
    before = call(aw, "GET", base(partner.username))
    error = call(aw, method, f"{base(partner.username)}/{route}", A, body, status=status)
    assert words in error["description"]
    assert call(aw, "GET", base(partner.username)) == before


def test_partners_unknown_or_non_partner_accounts(aw: AgreementWorld) -> None:
    aw.analyst("FR")
    call(aw, "GET", base("nobody"), status=404)
    call(aw, "POST", f"{base('nobody')}/review", A, {}, status=404)
    error = call(aw, "POST", f"{base('analyst-fr')}/review", A, {}, status=400)
    assert "not a partner" in error["description"]
    error = call(aw, "GET", base(A), status=400)
    assert "not a partner" in error["description"]


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/admin/partners", None),
    ("GET", "/admin/partners/{u}", None),
    ("POST", "/admin/partners/{u}/review", {}),
    (
        "POST",
        "/admin/partners/{u}/review/assessments",
        {"criterion": "shares-values", "finding": "met", "evidence": "e"},
    ),
    ("POST", "/admin/partners/{u}/review/approve", None),
    ("POST", "/admin/partners/{u}/review/reject", {"reason": "r"}),
    ("POST", "/admin/partners/{u}/activate", None),
    ("POST", "/admin/partners/{u}/suspend", {"reason": "r"}),
    ("POST", "/admin/partners/{u}/reinstate", None),
    ("POST", "/admin/partners/{u}/terminate", {"reason": "r"}),
    ("GET", "/admin/partners/{u}/agreement", None),
    ("GET", "/admin/partners/{u}/agreement/versions", None),
    ("PUT", "/admin/partners/{u}/agreement", {"terms": pass_through_terms(["FR"])}),
    ("POST", "/admin/partners/{u}/agreement/status", {"status": "suspended"}),
    ("GET", "/admin/agreements", None),
    ("GET", "/admin/countries", None),
    ("GET", "/admin/changes", None),
]


def test_partners_admin_routes_refuse_everyone_but_admins(aw: AgreementWorld) -> None:
    partner = aw.partner("p-target", ["FR"])
    other = aw.partner("p-caller", ["DE"])
    callers = {
        "the partner itself": partner.auth,
        "another partner": other.auth,
        "an analyst": aw.analyst("FR"),
    }
    record = call(aw, "GET", base("p-target"))
    changes = len(call(aw, "GET", "/admin/changes"))
    versions = call(aw, "GET", f"{base('p-target')}/agreement/versions")
    for method, template, body in ROUTES:
        path = template.format(u="p-target")
        for who, auth in callers.items():
            response = aw.client.request(method, path, json=body, headers=auth)
            error = assert_taxii_error(response, 403)
            assert "admin" in error["description"], (who, path)
        anonymous = aw.client.request(method, path, json=body)
        assert_taxii_error(anonymous, 401)
    # Nothing the refused callers tried happened.
    assert call(aw, "GET", base("p-target")) == record
    assert len(call(aw, "GET", "/admin/changes")) == changes
    assert call(aw, "GET", f"{base('p-target')}/agreement/versions") == versions
    aw.submit(partner, new_indicator())


# The command line -------------------------------------------------------------------------
def exchange(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["EXCHANGE_DATA_DIR"] = str(data_dir)
    env["EXCHANGE_CONFIG_DIR"] = str(CONFIG_DIR)
    return subprocess.run(
        [sys.executable, "-m", "exchange.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.usefixtures("own_store")
def test_partners_full_lifecycle_through_the_command_line(tmp_path: Path) -> None:
    """``init`` and the four-eyes approvals run as real processes; the other steps run the
    same click commands in-process (a process costs over a second)."""
    data_dir = tmp_path / "store"
    made = exchange(data_dir, "init", "--json")
    assert made.returncode == 0, made.stderr
    admin_a = json.loads(made.stdout)["admin"]["username"]
    runner = CliRunner()
    env = {"EXCHANGE_DATA_DIR": str(data_dir), "EXCHANGE_CONFIG_DIR": str(CONFIG_DIR)}

    def run(*args: str, code: int = 0) -> Any:
        result = runner.invoke(cli, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        return json.loads(result.stdout) if code == 0 and "--json" in args else result

    run("account", "create", "--role", "admin", "--name", "admin-b", "--json")
    run("account", "create", "--role", "partner", "--name", "p-cli", "--json")
    assert run("partner", "show", "p-cli", "--json")["state"] == "applicant"
    revet_by = (datetime.now(UTC).date() + timedelta(days=90)).isoformat()
    record = run("partner", "review", "p-cli", "--revet-by", revet_by, "--as", admin_a, "--json")
    assert (record["state"], record["review"]["revet_by"]) == ("under-review", revet_by)
    for criterion in CRITERIA:
        record = run(
            "partner",
            "assess",
            "p-cli",
            criterion,
            "met",
            "--evidence",
            f"dossier {criterion}",
            "--as",
            admin_a,
            "--json",
        )
    assessments = record["review"]["assessments"]
    assert [(a["criterion"], a["reviewer"]) for a in assessments] == [
        (c, admin_a) for c in CRITERIA
    ]

    # Four-eyes, through real processes: the second approval by the same admin fails cleanly.
    first = exchange(data_dir, "partner", "approve", "p-cli", "--as", admin_a, "--json")
    assert first.returncode == 0, first.stderr
    assert [a["admin"] for a in json.loads(first.stdout)["review"]["approvals"]] == [admin_a]
    second = exchange(data_dir, "partner", "approve", "p-cli", "--as", admin_a, "--json")
    assert second.returncode == 1
    assert second.stdout == ""
    lines = second.stderr.splitlines()
    assert len(lines) == 1, second.stderr
    assert lines[0].startswith("error: Not allowed in this partner state: four-eyes")
    assert "Traceback" not in second.stderr

    # Someone who is not an admin cannot approve either.
    bad = run("partner", "approve", "p-cli", "--as", "p-cli", code=1)
    assert bad.stderr.strip() == "error: Not allowed: 'p-cli' is not an active admin account"

    record = run("partner", "approve", "p-cli", "--as", "admin-b", "--json")
    assert (record["state"], record["vetted_until"]) == ("approved", revet_by)
    assert run("partner", "activate", "p-cli", "--as", "admin-b", "--json")["state"] == "active"
    no_reason = run("partner", "suspend", "p-cli", "--as", admin_a, code=2)
    assert "--reason" in no_reason.stderr
    record = run("partner", "suspend", "p-cli", "--reason", "audit", "--as", admin_a, "--json")
    assert (record["state"], record["reason"]) == ("suspended", "audit")
    assert run("partner", "reinstate", "p-cli", "--as", "admin-b", "--json")["state"] == "active"
    record = run("partner", "terminate", "p-cli", "--reason", "over", "--as", admin_a, "--json")
    assert record["state"] == "terminated"
    again = run("partner", "reinstate", "p-cli", "--as", admin_a, code=1)
    assert again.stderr.strip().startswith("error: Not allowed in this partner state: cannot")

    shown = exchange(data_dir, "partner", "show", "p-cli")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == f"p-cli: terminated, vetted until {revet_by} (over)"

    partner_id = run("partner", "show", "p-cli", "--json")["account_id"]
    changes = run("changes", "--entity", "partner", "--id", partner_id, "--json")
    assert [(c["action"], c["actor"]) for c in changes] == [
        ("open-review", admin_a),
        *[(f"assess:{c}", admin_a) for c in CRITERIA],
        ("approve", admin_a),
        ("approve", "admin-b"),
        ("activate", "admin-b"),
        ("suspend", admin_a),
        ("reinstate", "admin-b"),
        ("terminate", admin_a),
    ]
    assert [(c["before"]["state"], c["after"]["state"]) for c in changes][-4:] == [
        ("approved", "active"),
        ("active", "suspended"),
        ("suspended", "active"),
        ("active", "terminated"),
    ]
    assert all(datetime.fromisoformat(c["at"]).tzinfo is not None for c in changes)
