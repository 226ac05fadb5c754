"""The contribution report: over the API for the partner itself and for admins, and as
`exchange report`; computed from the audit log."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from exchange.cli.main import cli
from tests.functional.agreement_world import AgreementWorld, new_indicator, open_world
from tests.support.onboarding import SECOND_ADMIN, pass_through_terms
from tests.support.paths import CONFIG_DIR


@pytest.fixture(scope="module")
def aw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgreementWorld]:
    yield from open_world(tmp_path_factory.mktemp("reports"))


@pytest.fixture(scope="module")
def contributed(aw: AgreementWorld) -> dict[str, Any]:
    """p-report sends 3 valid objects and 1 invalid one under v1 (FR, DE), 1 more under v2
    (FR only), then revokes one; p-quiet sends one object; analysts in FR and DE report a
    sighting and a false positive of p-report's objects (countries withheld by default)."""
    partner = aw.partner("p-report", ["FR", "DE"])
    sent = [new_indicator(f"report {n}") for n in range(3)]
    invalid = {**new_indicator("no pattern"), "pattern": None}
    response = aw.post(partner, *sent, invalid)
    assert response.status_code == 202, response.text
    assert response.json()["failure_count"] == 1
    aw.hub.set_agreement("p-report", pass_through_terms(["FR"]), admin=SECOND_ADMIN)
    aw.submit(partner, new_indicator("under v2"))
    aw.submit(partner, {**sent[0], "modified": "2025-06-01T00:00:00.000Z", "revoked": True})
    quiet = aw.partner("p-quiet", ["BR"])
    aw.submit(quiet, new_indicator("quiet"))
    for code, stix_id, verdict in (
        ("FR", sent[1]["id"], "seen"),
        ("DE", sent[2]["id"], "false_positive"),
    ):
        response = aw.client.post(
            "/analyst/sightings",
            json={"object_id": stix_id, "verdict": verdict},
            headers=aw.analyst(code),
        )
        assert response.status_code == 201, response.text
    return {"partner": partner, "quiet": quiet}


def test_the_partner_reads_its_own_report(aw: AgreementWorld, contributed: dict[str, Any]) -> None:
    partner = contributed["partner"]
    response = aw.client.get("/partner/report", headers=partner.auth)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["partner"] == "p-report"
    assert report["submissions"] == 3
    assert report["objects"] == 6
    assert report["accepted"] == 5
    assert report["refused"] == {"invalid_value": 1}  # the refusal code of the status line
    assert report["by_country"] == {"DE": 3, "FR": 4}  # the revocation is counted as a recall
    assert report["recalls"] == 1
    assert report["recalled_in"] == {"DE": 1, "FR": 1}
    versions = sorted(report["by_agreement"])
    assert len(versions) == 2
    assert versions[0].endswith("@v1")
    assert report["by_agreement"][versions[0]] == {
        "outcomes": {"accepted": 3, "refused": 1},
        "countries": {"DE": 3, "FR": 3},
    }
    assert report["by_agreement"][versions[1]] == {
        "outcomes": {"accepted": 2},
        "countries": {"FR": 1},  # the revocation went as a recall, counted below
    }
    assert report["feedback"] == {
        "sightings": {"false_positive": 1, "seen": 1},
        "objects_sighted": 2,
        "by_country": {},
        "withheld_country": 2,
    }


def test_admins_get_the_same_report_and_the_command_line_prints_it(
    aw: AgreementWorld, contributed: dict[str, Any]
) -> None:
    own = aw.client.get("/partner/report", headers=contributed["partner"].auth).json()
    admin = aw.client.get("/admin/partners/p-report/report", headers=aw.admin())
    assert admin.status_code == 200, admin.text
    assert admin.json() == own
    base = ["--data-dir", str(aw.settings.data_dir), "--config-dir", str(CONFIG_DIR)]
    as_json = CliRunner().invoke(cli, [*base, "report", "p-report", "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == own
    table = CliRunner().invoke(cli, [*base, "report", "p-report"])
    assert table.exit_code == 0, table.output
    assert "contribution report of p-report" in table.output
    assert "recalls" in table.output
    assert "sightings received from analysts" in table.output


def test_reports_are_per_partner_and_per_period(
    aw: AgreementWorld, contributed: dict[str, Any]
) -> None:
    quiet = aw.client.get("/partner/report", headers=contributed["quiet"].auth).json()
    assert (quiet["objects"], quiet["by_country"]) == (1, {"BR": 1})
    assert quiet["feedback"]["sightings"] == {}
    later = aw.client.get(
        "/partner/report", params={"since": "2999-01-01"}, headers=contributed["partner"].auth
    ).json()
    assert (later["submissions"], later["objects"], later["recalls"]) == (0, 0, 0)


@pytest.mark.parametrize(
    ("path", "who", "status"),
    [
        ("/partner/report", "analyst", 403),
        ("/partner/report", "admin", 403),
        ("/partner/report", "anonymous", 401),
        ("/admin/partners/p-report/report", "partner", 403),
        ("/admin/partners/analyst-fr/report", "admin", 404),
        ("/admin/partners/nobody/report", "admin", 404),
    ],
)
def test_who_may_read_reports(
    aw: AgreementWorld, contributed: dict[str, Any], path: str, who: str, status: int
) -> None:
    headers = {
        "analyst": aw.analyst("FR"),
        "admin": aw.admin(),
        "anonymous": {},
        "partner": contributed["partner"].auth,
    }[who]
    response = aw.client.get(path, headers=headers)
    assert response.status_code == status, response.text
    assert "title" in response.json()


def test_a_bad_period_is_a_clear_error(aw: AgreementWorld, contributed: dict[str, Any]) -> None:
    response = aw.client.get(
        "/partner/report", params={"since": "last tuesday"}, headers=contributed["partner"].auth
    )
    assert response.status_code in {400, 422}, response.text
    assert "since" in response.json()["description"]


def test_sightings_name_the_country_where_the_agreement_says_so(aw: AgreementWorld) -> None:
    partner = aw.partner("p-named", ["FR", "DE"], feedback_attribution="named")
    sent = new_indicator("sighted, country named")
    aw.submit(partner, sent)
    for code in ("FR", "DE", "FR"):
        response = aw.client.post(
            "/analyst/sightings",
            json={"object_id": sent["id"], "verdict": "seen", "note": f"{code} {uuid.uuid4()}"},
            headers=aw.analyst(code),
        )
        assert response.status_code == 201, response.text
    feedback = aw.client.get("/partner/report", headers=partner.auth).json()["feedback"]
    assert feedback["by_country"] == {"DE": 1, "FR": 2}
    assert feedback["withheld_country"] == 0
    assert feedback["objects_sighted"] == 1
