"""Agreement versions and what they do to redistribution.

Versions: every change is a new version, every decision names the version that made it.
Recipients: regions and exclusions resolve to member countries of ``config/member-countries.toml``.
Narrowing, suspending and ending: ``past_objects`` keeps or withdraws what was redistributed.
Embargo: objects wait in the inbox until released; what a partner may no longer share is never
released. Retention: a partner's objects are purged after ``retention_days``. Declarative files:
loading applies a file once, and a changed file as the next version.
"""

from __future__ import annotations

import tomllib
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from exchange.countries import country_collection_id
from exchange.errors import ConfigError
from exchange.partners.vetting import Criterion, Finding
from exchange.sharing.partners import AgreementStatus
from tests.functional.agreement_world import AgreementWorld, new_indicator, open_world
from tests.functional.conftest import assert_taxii_error, taxii_headers
from tests.support.onboarding import FIRST_ADMIN, SECOND_ADMIN, pass_through_terms
from tests.support.paths import CONFIG_DIR


@pytest.fixture
def aw(tmp_path: Path) -> Iterator[AgreementWorld]:
    yield from open_world(tmp_path)


@pytest.fixture(scope="module")
def terms_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgreementWorld]:
    """One hub for the tests that only try terms on partner ``p-bad`` (changing nothing)."""
    for world in open_world(tmp_path_factory.mktemp("terms")):
        world.partner("p-bad", ["FR"])
        yield world


def malware() -> dict[str, Any]:
    return {
        "type": "malware",
        "spec_version": "2.1",
        "id": f"malware--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": "test malware",
        "is_family": False,
    }


def iso(moment: Any) -> str:
    return str(moment.isoformat().replace("+00:00", "Z"))


def member_regions() -> dict[str, str]:
    """Country code -> region, read from the configuration file itself."""
    document = tomllib.loads((CONFIG_DIR / "member-countries.toml").read_text(encoding="utf-8"))
    return {entry["code"]: entry["region"] for entry in document["country"]}


def country_sizes(aw: AgreementWorld) -> dict[str, int]:
    """How many objects each member country's collection holds (admin API)."""
    response = aw.client.get("/admin/collections", headers=aw.admin())
    assert response.status_code == 200, response.text
    return {c["country"]: c["objects"] for c in response.json() if c["kind"] == "country"}


# Versions ---------------------------------------------------------------------------------
def test_agreements_versions_and_the_version_each_decision_names(aw: AgreementWorld) -> None:
    partner = aw.partner("p-ver", ["FR"])
    first = aw.hub.agreement("p-ver")
    assert first.version == 1
    status = aw.submit(partner, new_indicator())
    assert status["successes"][0]["message"] == (
        f"added (accepted under {first.agreement_id}@v1: to 1 member country)"
    )

    terms = pass_through_terms(["FR", "DE"], accepted_types=["indicator"])
    response = aw.client.put(
        "/admin/partners/p-ver/agreement", json={"terms": terms}, headers=aw.admin(SECOND_ADMIN)
    )
    assert response.status_code == 200, response.text
    second = response.json()
    assert (second["agreement_id"], second["version"]) == (first.agreement_id, 2)
    assert (second["created_by"], second["status"]) == (SECOND_ADMIN, "active")

    history = aw.client.get("/admin/partners/p-ver/agreement/versions", headers=aw.admin())
    assert history.status_code == 200
    versions = history.json()
    assert [(v["agreement_id"], v["version"]) for v in versions] == [
        (first.agreement_id, 1),
        (first.agreement_id, 2),
    ]
    assert [v["created_by"] for v in versions] == [FIRST_ADMIN, SECOND_ADMIN]
    assert versions[0]["terms"]["recipients"]["countries"] == ["FR"]
    assert versions[1]["terms"]["recipients"]["countries"] == ["FR", "DE"]
    assert versions[1]["terms"]["accepted_types"] == ["indicator"]
    current = aw.client.get("/admin/partners/p-ver/agreement", headers=aw.admin()).json()
    assert current == versions[1]

    sent = [new_indicator(), new_indicator(), malware()]
    response = aw.post(partner, *sent)
    assert response.status_code == 202, response.text
    status = response.json()
    ref = f"{first.agreement_id}@v2"
    assert status["success_count"] == 2
    for line in status["successes"]:
        assert line["message"] == f"added (accepted under {ref}: to 2 member countries)"
    (refused,) = status["failures"]
    assert refused["id"] == sent[2]["id"]
    assert refused["message"].startswith("refused (")
    assert f"under {ref}:" in refused["message"]
    assert "@v1" not in response.text
    # The status resource read back says the same.
    again = aw.client.get(f"/hub/status/{status['id']}/", headers=taxii_headers(partner.auth))
    assert again.status_code == 200
    assert again.json() == status
    assert {sent[0]["id"], sent[1]["id"]} <= aw.country_ids("DE")
    assert sent[2]["id"] not in aw.inbox_ids(partner)

    changes = aw.client.get(
        f"/admin/changes?entity=agreement&entity_id={first.agreement_id}", headers=aw.admin()
    ).json()
    assert [(c["action"], c["actor"]) for c in changes] == [
        ("create", FIRST_ADMIN),
        ("new-version", SECOND_ADMIN),
    ]
    assert changes[0]["before"] is None
    assert changes[1]["before"]["version"] == 1
    assert changes[1]["after"]["version"] == 2


def _with(**changes: Any) -> dict[str, Any]:
    return pass_through_terms(["FR"], **changes)


BAD_TERMS: list[tuple[str, dict[str, Any], int, str]] = [
    ("unknown country", _with(recipients={"countries": ["FR", "XX"]}), 400, "XX"),
    (
        "unknown excluded country",
        _with(recipients={"countries": ["FR"], "exclude": ["QQ"]}),
        400,
        "QQ",
    ),
    ("lower-case code", _with(recipients={"countries": ["fr"]}), 400, "ISO 3166-1"),
    ("unknown region", _with(recipients={"regions": ["atlantis"]}), 400, "atlantis"),
    (
        "until before from",
        _with(valid_from="2026-01-01T00:00:00Z", valid_until="2025-01-01T00:00:00Z"),
        400,
        "valid_until must be after valid_from",
    ),
    ("until equals from", _with(valid_until="2020-01-01T00:00:00Z"), 400, "valid_until"),
    ("naive time", _with(valid_from="2026-01-01T00:00:00"), 400, "time zone"),
    ("empty recipients", _with(recipients={}), 400, "names no member country"),
    (
        "everyone excluded",
        _with(recipients={"countries": ["FR"], "exclude": ["FR"]}),
        400,
        "names no member country",
    ),
    (
        "default TLP above highest",
        _with(tlp={"default": "red", "highest_accepted": "amber"}),
        400,
        "default TLP is higher than the highest accepted",
    ),
    ("unknown field", _with(colour="blue"), 400, "colour: Extra inputs are not permitted"),
    (
        "unknown nested field",
        _with(recipients={"countries": ["FR"], "all": True}),
        400,
        "recipients.all: Extra inputs are not permitted",
    ),
    (
        "no legal basis",
        {k: v for k, v in _with().items() if k != "legal_basis"},
        400,
        "legal_basis",
    ),
    ("tiny envelope limit", _with(quotas={"max_envelope_bytes": 10}), 400, "max_envelope_bytes"),
    ("no category", _with(categories=[]), 400, "category"),
    ("negative embargo", _with(embargo_hours=-1), 400, "embargo_hours"),
]


@pytest.mark.parametrize(
    ("terms", "status", "words"),
    [pytest.param(t, s, w, id=name) for name, t, s, w in BAD_TERMS],
)
def test_agreements_invalid_terms_get_clear_errors(
    terms_world: AgreementWorld, terms: dict[str, Any], status: int, words: str
) -> None:
    aw = terms_world
    url = "/admin/partners/p-bad/agreement"
    before = aw.client.get(f"{url}/versions", headers=aw.admin()).json()
    response = aw.client.put(url, json={"terms": terms}, headers=aw.admin())
    error = assert_taxii_error(response, status)
    assert words in error["description"], error
    assert aw.client.get(f"{url}/versions", headers=aw.admin()).json() == before


def test_agreements_malformed_agreement_bodies_are_422(terms_world: AgreementWorld) -> None:
    aw = terms_world
    url = "/admin/partners/p-bad/agreement"
    for body in ({}, {"terms": "all of it"}, {"terms": _with(), "status": "paused"}):
        error = assert_taxii_error(aw.client.put(url, json=body, headers=aw.admin()), 422)
        assert error["description"]
    error = assert_taxii_error(
        aw.client.post(f"{url}/status", json={"status": "active"}, headers=aw.admin()), 400
    )
    assert "already active" in error["description"]
    assert len(aw.client.get(f"{url}/versions", headers=aw.admin()).json()) == 1


# Recipients -------------------------------------------------------------------------------
def test_agreements_recipients_by_region_less_exclusions(aw: AgreementWorld) -> None:
    regions = member_regions()
    expected = {code for code, region in regions.items() if region == "americas"} - {"US"}
    assert "US" in regions
    assert len(expected) > 10
    partner = aw.partner("p-americas", recipients={"regions": ["americas"], "exclude": ["US"]})
    sent = new_indicator("for the americas")
    status = aw.submit(partner, sent)
    assert status["successes"][0]["message"].endswith(f"to {len(expected)} member countries)")

    sizes = country_sizes(aw)
    assert set(sizes) == set(regions)
    assert {code for code, size in sizes.items() if size} == expected
    assert all(sizes[code] == 1 for code in expected)
    # As the analysts see it.
    for code in ("BR", "CA", "AR", sorted(expected)[0], sorted(expected)[-1]):
        assert code in expected
        assert aw.country_ids(code) == {sent["id"]}, code
    for code in ("US", "FR", "DE"):
        assert aw.country_ids(code) == set(), code
        assert not aw.country_holds(code, sent["id"])


# Narrowing, suspending, ending --------------------------------------------------------------
@pytest.mark.parametrize("past", ["withdraw", "keep"])
def test_agreements_narrowing_keeps_or_withdraws_what_was_shared(
    aw: AgreementWorld, past: str
) -> None:
    partner = aw.partner("p-narrow", ["FR", "DE", "BR"], past_objects=past)
    other = aw.partner("p-other", ["DE"])
    sent = [new_indicator(), new_indicator()]
    aw.submit(partner, *sent)
    foreign = new_indicator("another partner's")
    aw.submit(other, foreign)
    ids = {obj["id"] for obj in sent}
    for code in ("FR", "DE", "BR"):
        assert ids <= aw.country_ids(code)

    view = aw.hub.set_agreement(
        "p-narrow", pass_through_terms(["FR"], past_objects=past), admin=SECOND_ADMIN
    )
    assert view.version == 2
    assert ids <= aw.country_ids("FR")
    assert ids <= aw.inbox_ids(partner)
    assert foreign["id"] in aw.country_ids("DE")
    for code in ("DE", "BR"):
        if past == "withdraw":
            assert not ids & aw.country_ids(code), code
            assert not aw.country_holds(code, sent[0]["id"])
        else:
            assert ids <= aw.country_ids(code), code

    # New objects go to the narrowed audience only, whatever past_objects says.
    later = new_indicator("after narrowing")
    aw.submit(partner, later)
    assert later["id"] in aw.country_ids("FR")
    assert later["id"] not in aw.country_ids("DE") | aw.country_ids("BR")


def _suspend_partner(aw: AgreementWorld) -> None:
    aw.hub.suspend_partner("p-stop", "investigation", admin=FIRST_ADMIN)


def _terminate_partner(aw: AgreementWorld) -> None:
    aw.hub.terminate_partner("p-stop", "contract over", admin=FIRST_ADMIN)


def _suspend_agreement(aw: AgreementWorld) -> None:
    aw.hub.set_agreement_status("p-stop", AgreementStatus.SUSPENDED, admin=FIRST_ADMIN)


def _end_agreement(aw: AgreementWorld) -> None:
    aw.hub.set_agreement_status("p-stop", AgreementStatus.ENDED, admin=FIRST_ADMIN)


STOPS: dict[str, Callable[[AgreementWorld], None]] = {
    "partner suspended": _suspend_partner,
    "partner terminated": _terminate_partner,
    "agreement suspended": _suspend_agreement,
    "agreement ended": _end_agreement,
}


@pytest.mark.parametrize("past", ["withdraw", "keep"])
@pytest.mark.parametrize("stop", list(STOPS))
def test_agreements_stopping_a_partner_keeps_or_withdraws_what_was_shared(
    aw: AgreementWorld, stop: str, past: str
) -> None:
    partner = aw.partner("p-stop", ["FR", "DE"], past_objects=past)
    other = aw.partner("p-other", ["FR"])
    sent = [new_indicator(), new_indicator()]
    aw.submit(partner, *sent)
    foreign = new_indicator("another partner's")
    aw.submit(other, foreign)
    ids = {obj["id"] for obj in sent}

    STOPS[stop](aw)
    assert ids <= aw.inbox_ids(partner)
    assert foreign["id"] in aw.country_ids("FR")
    for code in ("FR", "DE"):
        if past == "withdraw":
            assert not ids & aw.country_ids(code), (stop, code)
        else:
            assert ids <= aw.country_ids(code), (stop, code)
    assert_taxii_error(aw.post(partner, new_indicator()), 403)


@pytest.mark.parametrize("how", ["withdrawn", "purged"])
def test_agreements_what_another_partner_also_shared_stays_visible(
    aw: AgreementWorld, how: str
) -> None:
    terms: dict[str, Any] = (
        {"past_objects": "withdraw"} if how == "withdrawn" else {"retention_days": 1}
    )
    first = aw.partner("p-first", ["FR", "DE"], **terms)
    second = aw.partner("p-second", ["FR"])
    common = new_indicator("shared by both partners")
    aw.submit(first, common)
    aw.submit(second, common)
    assert common["id"] in aw.country_ids("FR") & aw.country_ids("DE")

    if how == "withdrawn":
        aw.hub.suspend_partner("p-first", "checks", admin=FIRST_ADMIN)
        assert common["id"] in aw.inbox_ids(first)
    else:
        aw.clock.advance(days=2)
        assert aw.hub.purge_expired() > 0
        assert common["id"] not in aw.inbox_ids(first)
    # FR keeps it (the second partner shared it there too), DE loses it.
    assert aw.country_ids("FR") == {common["id"]}
    assert aw.country_ids("DE") == set()
    assert aw.inbox_ids(second) == {common["id"]}


# Embargo ----------------------------------------------------------------------------------
def manifest(aw: AgreementWorld, auth: dict[str, str], collection: str, **params: str) -> Any:
    response = aw.client.get(
        f"/hub/collections/{collection}/manifest/", params=params, headers=taxii_headers(auth)
    )
    assert response.status_code == 200, response.text
    return response


def test_agreements_embargo_holds_then_releases(aw: AgreementWorld) -> None:
    early = aw.partner("p-now", ["FR"])
    partner = aw.partner("p-emb", ["FR", "DE"], embargo_hours=2)
    first = new_indicator("shared at once by another partner")
    aw.submit(early, first)
    fr = country_collection_id("FR")
    seen = manifest(aw, aw.analyst("FR"), fr)
    assert [r["id"] for r in seen.json()["objects"]] == [first["id"]]
    last_seen = seen.headers["X-TAXII-Date-Added-Last"]

    sent = [new_indicator(), new_indicator()]
    status = aw.submit(partner, *sent)
    for line in status["successes"]:
        assert line["message"].endswith("to 2 member countries after a 2 h embargo)")
    ids = {obj["id"] for obj in sent}
    assert ids <= aw.inbox_ids(partner)
    assert aw.country_ids("FR") == {first["id"]}
    assert not ids & aw.country_ids("DE")
    assert aw.count("SELECT count(*) FROM embargoed") == 2
    inbox_added = {
        r["id"]: r["date_added"]
        for r in manifest(aw, partner.auth, partner.inbox).json()["objects"]
    }

    aw.clock.advance(hours=1, minutes=59, seconds=59)
    assert aw.hub.release_embargoes() == 0
    assert aw.country_ids("FR") == {first["id"]}
    assert aw.count("SELECT count(*) FROM embargoed") == 2

    aw.clock.advance(seconds=1)
    assert aw.hub.release_embargoes() == 2
    assert aw.count("SELECT count(*) FROM embargoed") == 0
    assert aw.country_ids("FR") == ids | {first["id"]}
    assert aw.country_ids("DE") == ids
    # Polling from where the analyst stopped finds exactly the released objects, dated at their
    # release (after anything the analyst had seen, and after their arrival in the inbox).
    new = manifest(aw, aw.analyst("FR"), fr, added_after=last_seen).json()["objects"]
    assert {r["id"] for r in new} == ids
    for record in new:
        assert record["date_added"] > last_seen
        assert record["date_added"] > inbox_added[record["id"]]
    assert aw.hub.release_embargoes() == 0


def _revet_soon(aw: AgreementWorld, username: str) -> None:
    """Vet ``username`` (already an applicant) until tomorrow only."""
    aw.hub.open_review(username, admin=FIRST_ADMIN, revet_by=aw.clock.today + timedelta(days=1))
    for criterion in Criterion:
        aw.hub.assess(username, criterion, Finding.MET, "short", admin=FIRST_ADMIN)
    aw.hub.approve_review(username, admin=FIRST_ADMIN)
    aw.hub.approve_review(username, admin=SECOND_ADMIN)
    aw.hub.activate_partner(username, admin=FIRST_ADMIN)


@pytest.mark.parametrize(
    "cause",
    [
        "partner suspended, then reinstated",
        "agreement suspended",
        "due diligence lapsed",
        "agreement expired",
    ],
)
def test_agreements_held_objects_of_a_partner_that_may_no_longer_share_are_never_released(
    aw: AgreementWorld, cause: str
) -> None:
    hours = 72 if cause == "due diligence lapsed" else 2
    if cause == "due diligence lapsed":
        partner = aw.applicant("p-emb")
        _revet_soon(aw, "p-emb")
        aw.hub.set_agreement(
            "p-emb", pass_through_terms(["FR"], embargo_hours=hours), admin=FIRST_ADMIN
        )
    elif cause == "agreement expired":
        until = iso(aw.clock.now + timedelta(hours=1))
        partner = aw.partner("p-emb", ["FR"], embargo_hours=hours, valid_until=until)
    else:
        partner = aw.partner("p-emb", ["FR"], embargo_hours=hours)
    held = new_indicator("held")
    aw.submit(partner, held)
    assert aw.count("SELECT count(*) FROM embargoed") == 1

    if cause == "partner suspended, then reinstated":
        aw.hub.suspend_partner("p-emb", "checks", admin=FIRST_ADMIN)
        assert aw.count("SELECT count(*) FROM embargoed") == 0  # cancelled at once
        aw.hub.reinstate_partner("p-emb", admin=SECOND_ADMIN)
    elif cause == "agreement suspended":
        aw.hub.set_agreement_status("p-emb", AgreementStatus.SUSPENDED, admin=FIRST_ADMIN)
        assert aw.count("SELECT count(*) FROM embargoed") == 0

    aw.clock.advance(hours=hours + 1)
    assert aw.hub.release_embargoes() == 0, cause
    assert not aw.country_holds("FR", held["id"])
    assert held["id"] in aw.inbox_ids(partner)
    assert aw.count("SELECT count(*) FROM embargoed") == 0
    if cause == "partner suspended, then reinstated":
        fresh = new_indicator("after reinstatement")
        aw.submit(partner, fresh)
        aw.clock.advance(hours=hours)
        assert aw.hub.release_embargoes() == 1
        assert aw.country_ids("FR") == {fresh["id"]}


def test_agreements_narrowing_during_the_embargo_narrows_what_is_held(
    aw: AgreementWorld,
) -> None:
    partner = aw.partner("p-emb", ["FR", "DE"], embargo_hours=2, past_objects="keep")
    held = new_indicator("held")
    aw.submit(partner, held)
    aw.hub.set_agreement(
        "p-emb", pass_through_terms(["FR"], embargo_hours=2, past_objects="keep"), admin=FIRST_ADMIN
    )
    aw.clock.advance(hours=2)
    assert aw.hub.release_embargoes() == 1
    assert aw.country_ids("FR") == {held["id"]}
    assert aw.country_ids("DE") == set()


# Retention --------------------------------------------------------------------------------
def test_agreements_retention_purges_a_partners_old_objects(aw: AgreementWorld) -> None:
    partner = aw.partner("p-ret", ["FR", "DE"], retention_days=1)
    other = aw.partner("p-keep", ["FR"])
    mine = [new_indicator("short-lived"), new_indicator("short-lived")]
    aw.submit(partner, *mine)
    theirs = new_indicator("kept")
    aw.submit(other, theirs)
    ids = {obj["id"] for obj in mine}
    assert ids <= aw.country_ids("FR") & aw.country_ids("DE") & aw.inbox_ids(partner)

    aw.clock.advance(hours=12)
    assert aw.hub.purge_expired() == 0
    assert ids <= aw.country_ids("FR")

    aw.clock.advance(days=2)
    purged = aw.hub.purge_expired()
    assert purged > 0
    assert purged >= 2 * len(mine)  # inbox and country placements
    assert not ids & aw.inbox_ids(partner)
    assert not ids & (aw.country_ids("FR") | aw.country_ids("DE"))
    for stix_id in ids:
        assert aw.count("SELECT count(*) FROM objects WHERE stix_id = ?", stix_id) == 0
    assert aw.inbox_ids(other) == {theirs["id"]}
    assert aw.country_ids("FR") == {theirs["id"]}
    assert aw.hub.purge_expired() == 0


# Declarative agreement files ----------------------------------------------------------------
AGREEMENT_FILE = """\
partner = "p-file"
status = "{status}"

[terms]
valid_from = 2024-01-01T00:00:00Z
valid_until = 2099-01-01T00:00:00+01:00
legal_basis = "Memorandum of understanding"
purpose = "Exchange of threat information"
categories = ["threat", "attack"]
embargo_hours = 0
past_objects = "keep"
signatures_required = false  # this test posts unsigned

[terms.tlp]
default = "amber"
highest_accepted = "amber+strict"

[terms.recipients]
countries = {countries}
"""


def write_agreement(folder: Path, countries: list[str], status: str = "active") -> Path:
    path = folder / "p-file.toml"
    text = AGREEMENT_FILE.format(countries=str(countries).replace("'", '"'), status=status)
    path.write_text(text, encoding="utf-8")
    return path


def test_agreements_files_apply_once_and_each_change_as_a_new_version(
    aw: AgreementWorld, tmp_path: Path
) -> None:
    folder = tmp_path / "agreements"
    folder.mkdir()
    (folder / "README.md").write_text("not an agreement", encoding="utf-8")
    partner = aw.partner("p-file", agreement=False)
    write_agreement(folder, ["FR"])

    made = aw.hub.load_agreement_files(folder, admin=SECOND_ADMIN)
    assert [(v.partner, v.version, v.status.value, v.created_by) for v in made] == [
        ("p-file", 1, "active", SECOND_ADMIN)
    ]
    assert aw.hub.agreement("p-file").terms.recipients.countries == ("FR",)
    changes = len(aw.hub.changes("agreement"))

    assert aw.hub.load_agreement_files(folder, admin=SECOND_ADMIN) == []
    assert aw.hub.load_agreement_files(folder, admin=FIRST_ADMIN) == []
    assert [v.version for v in aw.hub.agreement_history("p-file")] == [1]
    assert len(aw.hub.changes("agreement")) == changes

    write_agreement(folder, ["FR", "DE"])
    (changed,) = aw.hub.load_agreement_files(folder, admin=FIRST_ADMIN)
    assert (changed.version, changed.agreement_id) == (2, made[0].agreement_id)
    assert changed.terms.recipients.countries == ("FR", "DE")
    assert aw.hub.load_agreement_files(folder, admin=FIRST_ADMIN) == []

    sent = new_indicator()
    status = aw.submit(partner, sent)
    assert f"{made[0].agreement_id}@v2" in status["successes"][0]["message"]
    assert sent["id"] in aw.country_ids("DE")

    write_agreement(folder, ["FR", "DE"], status="suspended")
    (suspended,) = aw.hub.load_agreement_files(folder, admin=FIRST_ADMIN)
    assert (suspended.version, suspended.status) == (3, AgreementStatus.SUSPENDED)
    assert_taxii_error(aw.post(partner, new_indicator()), 403)
    assert [v.version for v in aw.hub.agreement_history("p-file")] == [1, 2, 3]


BAD_FILES: list[tuple[str, str, str]] = [
    ("not TOML", "partner = \n[terms", "not valid TOML"),
    ("no partner", '[terms]\nlegal_basis = "x"\n', "name the partner"),
    ("unknown partner", 'partner = "ghost"\n' + AGREEMENT_FILE.split("\n", 1)[1], "ghost"),
    ("unknown country", "", "not member countries: XX"),
    ("bad status", "", "paused"),
    ("bad terms", 'partner = "p-file"\n[terms]\nlegal_basis = "x"\n', "invalid agreement terms"),
]


@pytest.mark.parametrize(
    ("text", "words"), [pytest.param(t, w, id=name) for name, t, w in BAD_FILES]
)
def test_agreements_bad_files_raise_config_error_naming_the_file(
    aw: AgreementWorld, tmp_path: Path, text: str, words: str
) -> None:
    folder = tmp_path / "agreements"
    folder.mkdir()
    aw.partner("p-file", agreement=False)
    path = folder / "p-file.toml"
    if words.startswith("not member"):
        path = write_agreement(folder, ["FR", "XX"])
    elif words == "paused":
        path = write_agreement(folder, ["FR"], status="paused")
    else:
        path.write_text(
            text.replace("{status}", "active").replace("{countries}", '["FR"]'), encoding="utf-8"
        )
    with pytest.raises(ConfigError) as raised:
        aw.hub.load_agreement_files(folder, admin=FIRST_ADMIN)
    message = str(raised.value)
    assert str(path) in message
    assert words in message
    assert aw.hub.current_agreement(aw.hub.account_named("p-file").id) is None
