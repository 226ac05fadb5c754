"""Fixtures for the signing tests: a partner for each algorithm, the hub's key ring."""

from __future__ import annotations

import pytest

from exchange.signing.keys import Algorithm
from tests.unit.signing.support import Keyring, Partner, make_partner


@pytest.fixture(params=["ed25519", "ecdsa-p256-sha256"])
def partner(request: pytest.FixtureRequest) -> Partner:
    """A partner with a fresh key of each supported algorithm."""
    algorithm: Algorithm = request.param
    return make_partner(algorithm)


@pytest.fixture
def keyring(partner: Partner) -> Keyring:
    """The hub's keys: the partner's public key, registered."""
    return Keyring().add(partner.info)
