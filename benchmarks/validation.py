"""Benchmark: µs per object for ``validate_object`` vs ``stix2.parse`` vs stix2-validator.

Runs the three on the same objects of the shared corpus and prints a table:

* ``unit42-indicators``: every indicator (with its STIX pattern) of the Unit 42 playbooks;
* ``unit42-all``: every object of the Unit 42 playbooks (relationships, COAs, reports, ...);
* ``attack-enterprise``: every object of MITRE ATT&CK Enterprise 18.1.

``validate_object`` runs over the whole set; the two reference libraries, which are two to three
orders of magnitude slower, over a seeded sample of it (``--sample``), and ``validate_object`` is
timed on that same sample too. ``check_object`` (the structural floor) is timed separately.

    .venv/bin/python benchmarks/validation.py [--sample 1500] [--seed 7] [--repeat 3]

Needs the dev extra (stix2-validator) and the shared data (``EXCHANGE_SHARED_DATA`` or
``../shared/data``). Not a test: nothing asserts, it only reports.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import stix2
from stix2validator import ValidationOptions, validate_instance

from exchange.stix.objects import check_object
from exchange.stix.validation import validate_object

PROJECT = Path(__file__).resolve().parents[1]
STIX = Path(os.environ.get("EXCHANGE_SHARED_DATA", PROJECT.parent / "shared" / "data")) / "stix"


def _objects(path: Path) -> list[Any]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    if isinstance(data, dict) and data.get("type") == "bundle":
        return list(data.get("objects", []))
    return [data] if isinstance(data, dict) else list(data)


def _datasets() -> dict[str, list[Any]]:
    unit42: list[Any] = []
    for path in sorted((STIX / "indicators" / "unit42-playbooks").glob("*.json*")):
        unit42.extend(_objects(path))
    return {
        "unit42-indicators": [o for o in unit42 if o.get("type") == "indicator"],
        "unit42-all": unit42,
        "attack-enterprise": _objects(STIX / "attack" / "enterprise-attack-18.1.json.gz"),
    }


def _time_per_object(run: Callable[[Any], object], objects: Sequence[Any], repeat: int) -> float:
    """Best of ``repeat`` runs, in µs per object."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for obj in objects:
            run(obj)
        best = min(best, time.perf_counter() - started)
    return best / len(objects) * 1e6


def _stix2_parse(obj: Any) -> object:
    try:
        return stix2.parse(obj, allow_custom=True, version="2.1")
    except Exception as error:  # invalid objects count: they cost a parse too
        return error


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=1500, help="objects for the references")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="runs of validate_object (best)")
    args = parser.parse_args(argv)
    if not STIX.is_dir():
        print(f"shared STIX data not found at {STIX}", file=sys.stderr)
        return 1
    logging.getLogger("stix2validator").setLevel(logging.CRITICAL)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    options = ValidationOptions(version="2.1")

    def reference(obj: Any) -> object:
        try:
            return validate_instance(obj, options)
        except Exception as error:
            return error

    rng = random.Random(args.seed)
    header = (
        f"{'dataset':<18} {'objects':>7} {'check_object':>12} {'validate_object':>15} "
        f"{'sample':>6} {'validate_object':>15} {'stix2.parse':>11} {'stix2-validator':>15}"
    )
    print("µs per object (validate_object over the whole set, then all three on one sample)")
    print(header)
    print("-" * len(header))
    for name, objects in _datasets().items():
        structural = _time_per_object(check_object, objects, args.repeat)
        full = _time_per_object(validate_object, objects, args.repeat)
        sample = rng.sample(objects, min(args.sample, len(objects)))
        ours = _time_per_object(validate_object, sample, args.repeat)
        parse = _time_per_object(_stix2_parse, sample, 1)
        validator = _time_per_object(reference, sample, 1)
        print(
            f"{name:<18} {len(objects):>7} {structural:>12.1f} {full:>15.1f} "
            f"{len(sample):>6} {ours:>15.1f} {parse:>11.1f} {validator:>15.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
