"""The quickest end-to-end loop: a partner pushes, an analyst of a recipient country pulls."""

from __future__ import annotations

import json
from pathlib import Path

from taxii2client.v21 import Collection, Server

from exchange.countries import country_collection_id
from tests.support.server import HubProcess

TLP2_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"


def test_partner_push_reaches_recipient_country(hub: HubProcess, stix_data: Path) -> None:
    partner = hub.accounts["demo-partner-a"]
    analyst = hub.accounts["analyst-fr"]
    assert partner.inbox is not None
    bundle = json.loads((stix_data / "examples/cti-documentation/apt1.json").read_text())

    server = Server(hub.discovery, user=partner.username, password=partner.token)
    assert [root.url for root in server.api_roots] == [hub.api_root]

    inbox = Collection(
        hub.collection_url(partner.inbox), user=partner.username, password=partner.token
    )
    status = inbox.add_objects(bundle)
    assert (status.status, status.success_count, status.failure_count) == ("complete", 76, 0)

    france = Collection(
        hub.collection_url(country_collection_id("FR")),
        user=analyst.username,
        password=analyst.token,
    )
    got = {o["id"]: o for o in france.get_objects(limit=1000)["objects"]}
    # demo-partner-a's agreement marks unmarked objects TLP:AMBER and ships that definition.
    assert set(got) == {o["id"] for o in bundle["objects"]} | {TLP2_AMBER}
    assert got[TLP2_AMBER]["name"] == "TLP:AMBER"
    for sent in bundle["objects"]:
        assert got[sent["id"]]["object_marking_refs"] == [TLP2_AMBER]
        assert {k: v for k, v in got[sent["id"]].items() if k != "object_marking_refs"} == sent
