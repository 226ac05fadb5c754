"""Benchmark: the cost of signing and verifying, per envelope and per page, in process.

For envelopes and pages of 100 and of 1,000 realistic objects (``benchmarks/workload.py``),
the median over ``--runs`` runs of:

(i)   partner-side signing: ``SigningAuth`` on a prepared ``requests`` POST (``Content-Digest``
      and the RFC 9421 signature; Ed25519);
(ii)  hub-side ``verify_request`` of that request (digest, coverage, times, signature);
(iii) ``Content-Digest`` alone (SHA-256 of the body, as a field value);
(iv)  hub response signing of a TAXII objects page (``ResponseSigner.sign``, as the middleware);
(v)   analyst-side verification of that response (``exchange.verify.verify_message``, which is
      what ``verify_pulled`` calls, against the hub's JWKS).

    .venv/bin/python benchmarks/signing.py [--runs 50] [--sizes 100,1000] [--seed 7]

No server, no network, no store: everything runs in this process. Prints a table in ms and in
µs per object.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar, cast

import orjson
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from exchange.sharing.base import HubBase
from exchange.signing.client import SigningAuth
from exchange.signing.digest import content_digest
from exchange.signing.keys import generate_private_key, private_key_pem, public_key_info
from exchange.signing.verify import verify_request
from exchange.store.models import HubKey
from exchange.taxii.media import TAXII_21
from exchange.taxii.signatures import PURPOSE, ResponseSigner
from exchange.taxii.well_known import jwks
from exchange.verify import verify_message
from workload import generate

INBOX = "https://hub.example.org/hub/collections/inbox-partner/objects/"
PAGE = "https://hub.example.org/hub/collections/country-fr/objects/?limit={limit}"
T = TypeVar("T")
NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


class _OneKeyHub:
    """Just enough of a hub for :class:`ResponseSigner`: one current "responses" key."""

    def __init__(self, key: HubKey) -> None:
        self._key = key

    def hub_key(self, purpose: str) -> HubKey:
        assert purpose == PURPOSE
        return self._key


def _median_ms(run: Callable[[], object], runs: int) -> float:
    """Median wall time of ``run()`` in ms (after one warm-up call)."""
    return _median_prepared_ms(lambda: None, lambda _: run(), runs)


def _median_prepared_ms(prepare: Callable[[], T], run: Callable[[T], object], runs: int) -> float:
    """Median wall time of ``run(prepare())`` in ms; ``prepare`` is not timed."""
    run(prepare())  # warm up
    times: list[float] = []
    for _ in range(runs):
        argument = prepare()
        start = time.perf_counter()
        run(argument)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _hub_key() -> HubKey:
    private = generate_private_key()
    info = public_key_info(private.public_key())
    return HubKey(
        key_id=info.key_id,
        purpose=PURPOSE,
        algorithm=info.algorithm,
        private_key=private_key_pem(private),
        public_key=info.pem().encode("ascii"),
        created_at="2026-01-01T00:00:00.000000Z",
    )


def measure(size: int, runs: int, seed: int) -> list[tuple[str, int, int, float]]:
    """(step, objects, body bytes, median ms) for one size."""
    objects = list(generate(size, seed))
    rows: list[tuple[str, int, int, float]] = []

    # The partner's envelope, signed as taxii2-client would send it.
    envelope = orjson.dumps({"objects": objects})
    partner_key = generate_private_key()
    partner = public_key_info(partner_key.public_key())
    auth = SigningAuth(partner_key, partner.key_id, clock=lambda: NOW)
    prepared = requests.Request(
        "POST", INBOX, data=envelope, headers={"Content-Type": TAXII_21, "Accept": TAXII_21}
    ).prepare()
    signed = auth(prepared.copy())
    rows.append(
        ("(i) partner signs (SigningAuth)", size, len(envelope), _timed_auth(auth, prepared, runs))
    )

    headers = dict(signed.headers)

    def verify_partner() -> None:
        verify_request(
            "POST",
            INBOX,
            headers,
            envelope,
            resolve_key=lambda key_id: partner if key_id == partner.key_id else None,
            now=NOW,
            max_skew=timedelta(minutes=5),
        )

    rows.append(("(ii) hub verify_request", size, len(envelope), _median_ms(verify_partner, runs)))
    rows.append(
        (
            "(iii) Content-Digest alone",
            size,
            len(envelope),
            _median_ms(lambda: content_digest(envelope), runs),
        )
    )

    # A page of the country collection, as the hub serves and signs it.
    page = b'{"more":false,"objects":' + orjson.dumps(objects) + b"}"
    key = _hub_key()
    signer = ResponseSigner(cast(HubBase, _OneKeyHub(key)), check_every=3600)
    signer.refresh()
    url = PAGE.format(limit=size)

    def sign_page() -> list[tuple[str, str]]:
        return signer.sign(200, TAXII_21, page, "GET", url, now=NOW)

    rows.append(("(iv) hub signs the response page", size, len(page), _median_ms(sign_page, runs)))
    response_headers = {"Content-Type": TAXII_21, **dict(sign_page())}
    keys = jwks([key])

    def verify_page() -> None:
        verify_message(
            method="GET",
            url=url,
            status=200,
            headers=response_headers,
            body=page,
            keys=keys,
            now=NOW,
        )

    rows.append(("(v) analyst verifies the page", size, len(page), _median_ms(verify_page, runs)))
    return rows


def _timed_auth(auth: SigningAuth, prepared: requests.PreparedRequest, runs: int) -> float:
    """SigningAuth on a fresh copy of the unsigned request each run (the copy is not timed)."""
    return _median_prepared_ms(prepared.copy, auth, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(
        f"median of {args.runs} runs; Ed25519 keys; Python {platform.python_version()} "
        f"on {platform.machine()}"
    )
    header = f"{'step':<36} {'objects':>7} {'body KB':>8} {'median ms':>10} {'µs/object':>10}"
    print(header)
    print("-" * len(header))
    for size in sizes:
        for step, count, length, median in measure(size, args.runs, args.seed):
            print(
                f"{step:<36} {count:>7} {length / 1024:>8.1f} {median:>10.3f} "
                f"{median * 1000 / count:>10.2f}"
            )


if __name__ == "__main__":
    main()
