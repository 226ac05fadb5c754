"""Seeded, deterministic workloads of realistic STIX 2.1 objects for benchmarks.

``generate(count, seed)`` yields exactly ``count`` JSON-ready dicts; the same ``(count, seed)``
always gives the same objects, byte for byte. The mix is what a threat-intelligence partner
typically pushes: mostly indicators (~70%, with IPv4, domain, URL and SHA-256 file patterns),
plus the malware they indicate, the identities that produced or saw them, ``indicates``
relationships, sightings and reports. Every reference points at an object generated earlier in
the same stream, so the stream can be sent in order.

``replay(count)`` streams real, published STIX 2.1 from the shared corpus (``../shared/data/stix``,
or ``EXCHANGE_SHARED_DATA``): the Unit 42 playbooks and the other indicator files first, then
the OASIS examples, the reference sets and MITRE ATT&CK / CAPEC, never ``invalid/``. Only valid
objects that every TAXII server of ``benchmarks/compare.py`` can take are kept, once per
``id`` + ``modified`` (see :func:`replay_pool` for the filters and why). ``mixed(count, seed)``
spreads that pool through the generated stream. ``stream(kind, count, seed)`` picks one of the
three by name.

Run ``python benchmarks/workload.py --count 1000 --validate`` to check a sample with the
``stix2`` library (strict parsing, no custom properties; replayed objects may carry custom
properties, so ``--workload replay`` checks them with custom properties allowed).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import re
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = [
    "MIX",
    "TLP_MARKINGS",
    "WORKLOADS",
    "ReplayPool",
    "generate",
    "mixed",
    "replay",
    "replay_pool",
    "stix_timestamp",
    "stream",
]

WORKLOADS = ("generated", "replay", "mixed")

# Relative weights of each object type in the stream (indicators ~70%).
MIX: dict[str, int] = {
    "indicator": 70,
    "malware": 6,
    "identity": 3,
    "relationship": 12,
    "sighting": 6,
    "report": 3,
}

# The predefined TLP 1.0 marking definitions of STIX 2.1 section 7.2.1.4.
TLP_MARKINGS = {
    "white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
}

_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_SPAN_MS = 365 * 24 * 3600 * 1000
_POOL = 2000  # how many recent ids of each type later objects may refer to

_SYLLABLES = (
    "ka", "lo", "mi", "ne", "ro", "ta", "vu", "zen", "qor", "pex", "dar", "sul", "fin", "bex",
    "tor", "nix", "gal", "ump", "rek", "sha", "wol", "cry", "pto", "lux", "mor", "vix",
)  # fmt: skip
_TLDS = ("com", "net", "org", "info", "biz", "xyz", "top", "ru", "cn", "io", "cc", "online")
_URL_PATHS = (
    "login", "verify", "account/update", "wp-admin/install.php", "invoice", "gate.php",
    "download", "secure/session", "api/v2/check", "panel/admin", "docs/view", "payload.bin",
)  # fmt: skip
_MALWARE_FAMILIES = (
    "Emotet", "TrickBot", "QakBot", "IcedID", "Cobalt Strike", "AgentTesla", "FormBook",
    "RedLine Stealer", "LockBit", "BlackCat", "Raccoon Stealer", "AsyncRAT", "njRAT", "Remcos",
    "Ursnif", "Dridex", "SmokeLoader", "Amadey", "Vidar", "PlugX",
)  # fmt: skip
_MALWARE_TYPES = (
    ("trojan",), ("ransomware",), ("remote-access-trojan",), ("spyware", "keylogger"),
    ("downloader", "dropper"), ("bot",), ("backdoor",), ("worm",),
)  # fmt: skip
_SECTORS = (
    "financial-services", "government-national", "government-regional", "telecommunications",
    "technology", "energy", "healthcare", "education", "retail", "transportation",
)  # fmt: skip
_ORG_KINDS = ("CERT", "Security Lab", "Bank SOC", "Telecom CSIRT", "Threat Intel Team")
_KILL_CHAIN = (
    "reconnaissance", "weaponization", "delivery", "exploitation", "installation",
    "command-and-control", "actions-on-objectives",
)  # fmt: skip
_INDICATOR_TYPES = (
    ("malicious-activity",), ("malicious-activity", "attribution"), ("anomalous-activity",),
    ("compromised",),
)  # fmt: skip
_REPORT_TOPICS = (
    "phishing wave", "ransomware campaign", "botnet infrastructure", "credential theft",
    "banking trojan distribution", "C2 infrastructure update", "supply-chain intrusion",
)  # fmt: skip


def stix_timestamp(moment: datetime) -> str:
    """A STIX 2.1 timestamp in UTC with millisecond precision and a literal ``Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.pools: dict[str, deque[str]] = {kind: deque(maxlen=_POOL) for kind in MIX}
        self.all_recent: deque[str] = deque(maxlen=_POOL)
        self.kinds = list(MIX)
        self.weights = [MIX[kind] for kind in self.kinds]

    # Building blocks -----------------------------------------------------------------------
    def new_id(self, stix_type: str) -> str:
        return f"{stix_type}--{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"

    def moment(self) -> datetime:
        return _EPOCH + timedelta(milliseconds=self.rng.randrange(_SPAN_MS))

    def later(self, start: datetime, max_days: int) -> datetime:
        return start + timedelta(milliseconds=self.rng.randrange(max_days * 86_400_000 + 1))

    def word(self, syllables: int) -> str:
        return "".join(self.rng.choice(_SYLLABLES) for _ in range(syllables))

    def domain(self) -> str:
        return (
            f"{self.word(self.rng.randint(2, 4))}{self.rng.randint(0, 99)}.{self.rng.choice(_TLDS)}"
        )

    def ipv4(self) -> str:
        # Public-looking unicast addresses (first octet 1-223, not 10/127/172/192).
        first = self.rng.choice([n for n in range(1, 224) if n not in (10, 127, 172, 192)])
        rest = (self.rng.randint(0, 255), self.rng.randint(0, 255), self.rng.randint(1, 254))
        return ".".join(str(n) for n in (first, *rest))

    def common(self, stix_type: str, *, max_age_days: int = 30) -> dict[str, Any]:
        created = self.moment()
        modified = self.later(created, max_age_days) if self.rng.random() < 0.4 else created
        obj: dict[str, Any] = {
            "type": stix_type,
            "spec_version": "2.1",
            "id": self.new_id(stix_type),
            "created": stix_timestamp(created),
            "modified": stix_timestamp(modified),
        }
        creator = self.pick("identity")
        if creator is not None:
            obj["created_by_ref"] = creator
        return obj

    def pick(self, kind: str) -> str | None:
        pool = self.pools[kind]
        return self.rng.choice(pool) if pool else None

    def marking(self) -> list[str]:
        tlp = self.rng.choices(("white", "green", "amber"), weights=(2, 6, 2))[0]
        return [TLP_MARKINGS[tlp]]

    # Object types --------------------------------------------------------------------------
    def pattern(self) -> tuple[str, str]:
        """A STIX pattern and a short human name for it."""
        kind = self.rng.choices(("ipv4", "domain", "url", "sha256"), weights=(30, 30, 20, 20))[0]
        if kind == "ipv4":
            value = self.ipv4()
            return f"[ipv4-addr:value = '{value}']", f"Malicious IP {value}"
        if kind == "domain":
            value = self.domain()
            return f"[domain-name:value = '{value}']", f"Malicious domain {value}"
        if kind == "url":
            scheme = self.rng.choice(("http", "https"))
            path = self.rng.choice(_URL_PATHS)
            value = f"{scheme}://{self.domain()}/{path}"
            if self.rng.random() < 0.3:
                value += f"?id={self.rng.getrandbits(32):08x}"
            return f"[url:value = '{value}']", f"Malicious URL {value}"
        digest = f"{self.rng.getrandbits(256):064x}"
        return f"[file:hashes.'SHA-256' = '{digest}']", f"Malicious file {digest[:16]}..."

    def indicator(self) -> dict[str, Any]:
        obj = self.common("indicator")
        pattern, name = self.pattern()
        created = datetime.strptime(obj["created"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        valid_from = self.later(created, 2)
        obj.update(
            {
                "name": name,
                "indicator_types": list(self.rng.choice(_INDICATOR_TYPES)),
                "pattern": pattern,
                "pattern_type": "stix",
                "pattern_version": "2.1",
                "valid_from": stix_timestamp(valid_from),
                "confidence": self.rng.choice((15, 30, 50, 70, 85, 95)),
                "object_marking_refs": self.marking(),
            }
        )
        if self.rng.random() < 0.6:
            obj["valid_until"] = stix_timestamp(
                valid_from + timedelta(days=self.rng.randint(7, 180))
            )
        if self.rng.random() < 0.5:
            obj["kill_chain_phases"] = [
                {
                    "kill_chain_name": "lockheed-martin-cyber-kill-chain",
                    "phase_name": self.rng.choice(_KILL_CHAIN),
                }
            ]
        if self.rng.random() < 0.3:
            family = self.rng.choice(_MALWARE_FAMILIES)
            obj["description"] = f"Observed in {family} activity; reported by a partner feed."
            obj["labels"] = [family.lower().replace(" ", "-")]
        return obj

    def malware(self) -> dict[str, Any]:
        obj = self.common("malware", max_age_days=200)
        family = self.rng.choice(_MALWARE_FAMILIES)
        variant = self.rng.randint(1, 40)
        obj.update(
            {
                "name": f"{family} variant {variant}",
                "description": f"{family} sample cluster {variant} seen in partner telemetry.",
                "malware_types": list(self.rng.choice(_MALWARE_TYPES)),
                "is_family": self.rng.random() < 0.3,
                "object_marking_refs": self.marking(),
            }
        )
        if self.rng.random() < 0.4:
            obj["aliases"] = [f"{family.split()[0]}-{variant}"]
        return obj

    def identity(self) -> dict[str, Any]:
        created = self.moment()
        name = f"{self.word(2).capitalize()} {self.rng.choice(_ORG_KINDS)}"
        return {
            "type": "identity",
            "spec_version": "2.1",
            "id": self.new_id("identity"),
            "created": stix_timestamp(created),
            "modified": stix_timestamp(created),
            "name": name,
            "identity_class": "organization",
            "sectors": sorted(set(self.rng.sample(_SECTORS, self.rng.randint(1, 3)))),
            "contact_information": f"soc@{self.word(2)}.example",
        }

    def relationship(self) -> dict[str, Any]:
        obj = self.common("relationship")
        obj.update(
            {
                "relationship_type": "indicates",
                "source_ref": self.pick("indicator"),
                "target_ref": self.pick("malware"),
                "object_marking_refs": self.marking(),
            }
        )
        return obj

    def sighting(self) -> dict[str, Any]:
        obj = self.common("sighting", max_age_days=10)
        first_seen = self.moment()
        last_seen = self.later(first_seen, 20)
        obj.update(
            {
                "sighting_of_ref": self.pick("indicator"),
                "first_seen": stix_timestamp(first_seen),
                "last_seen": stix_timestamp(last_seen),
                "count": self.rng.randint(1, 500),
                "where_sighted_refs": [self.pick("identity")],
                "object_marking_refs": self.marking(),
            }
        )
        return obj

    def report(self) -> dict[str, Any]:
        obj = self.common("report", max_age_days=5)
        published = self.later(
            datetime.strptime(obj["created"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC), 3
        )
        refs = self.rng.sample(
            list(self.all_recent), min(len(self.all_recent), self.rng.randint(3, 25))
        )
        topic = self.rng.choice(_REPORT_TOPICS)
        obj.update(
            {
                "name": f"Partner report: {topic} #{self.rng.randint(100, 9999)}",
                "description": f"Summary of a {topic} observed by partner sensors.",
                "report_types": ["threat-report"],
                "published": stix_timestamp(published),
                "object_refs": sorted(refs),
                "object_marking_refs": self.marking(),
            }
        )
        return obj

    # The stream ----------------------------------------------------------------------------
    def _needs(self, kind: str) -> str | None:
        """A type that must exist before an object of ``kind`` can refer to it."""
        requirements = {
            "relationship": ("indicator", "malware"),
            "sighting": ("indicator", "identity"),
            "report": ("indicator",),
            "indicator": ("identity",),
            "malware": ("identity",),
        }
        for needed in requirements.get(kind, ()):
            if not self.pools[needed]:
                return needed
        return None

    def next_object(self) -> dict[str, Any]:
        kind = self.rng.choices(self.kinds, weights=self.weights)[0]
        while (needed := self._needs(kind)) is not None:
            kind = needed
        obj: dict[str, Any] = getattr(self, kind)()
        self.pools[kind].append(obj["id"])
        if kind != "report":
            self.all_recent.append(obj["id"])
        return obj


def generate(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Exactly ``count`` STIX 2.1 objects, the same ones for the same seed."""
    generator = _Generator(seed)
    for _ in range(count):
        yield generator.next_object()


# Replay of the shared corpus -------------------------------------------------------------------
_PROJECT = Path(__file__).resolve().parents[1]
SHARED_STIX = (
    Path(os.environ.get("EXCHANGE_SHARED_DATA", _PROJECT.parent / "shared" / "data")) / "stix"
)
# Where the stix2 verdicts are cached (the first scan parses ~90,000 objects: about a minute).
_CACHE_DIR = _PROJECT / "benchmarks" / "results"
# Top-level folders of the corpus in the order they are replayed; invalid/ never is.
_REPLAY_ORDER = ("indicators", "examples", "reference", "attack")
_FRACTIONAL = re.compile(r"\.\d+Z$")
# TLP:RED in TLP 1.0 and 2.0: the benchmark's agreements keep it in the partner's inbox only.
_TLP_RED = {
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
_FILTER_VERSION = "1"


@dataclass
class ReplayPool:
    """The replayable objects of the corpus, in replay order, and what was left out and why."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    excluded: Counter[str] = field(default_factory=Counter)
    files: int = 0
    root: Path = SHARED_STIX

    def summary(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "files": self.files,
            "objects": len(self.objects),
            "distinct_ids": len({obj["id"] for obj in self.objects}),
            "excluded": dict(self.excluded.most_common()),
        }


def _corpus_files(root: Path) -> list[Path]:
    files = []
    for rank, top in enumerate(_REPLAY_ORDER):
        base = root / top
        if base.is_dir():
            found = [*base.rglob("*.json"), *base.rglob("*.json.gz")]
            # indicators/: the Unit 42 playbooks before the single report beside them
            files.extend(
                sorted(found, key=lambda p: (rank, len(p.relative_to(root).parts) == 2, str(p)))
            )
    return files


def _read_objects(path: Path) -> list[Any]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        document = json.load(handle)
    if isinstance(document, dict) and isinstance(document.get("objects"), list):
        return list(document["objects"])
    return [document] if isinstance(document, dict) else list(document)


def _red(obj: dict[str, Any]) -> bool:
    refs = set(obj.get("object_marking_refs") or ())
    for granular in obj.get("granular_markings") or ():
        if isinstance(granular, dict):
            refs.add(granular.get("marking_ref"))
    return bool(refs & _TLP_RED)


def replay_pool(root: Path | None = None, *, use_cache: bool = True) -> ReplayPool:
    """Every replayable object of the corpus under ``root`` (default: the shared ``stix/``).

    Filters, in order, each counted in ``excluded``:

    * a file that is not JSON, an entry that is not an object with an ``id``;
    * a second copy of the same ``id`` + ``modified`` (the corpus repeats objects across files);
    * an object the hub's STIX 2.1 validator refuses (it agrees with the OASIS validator on
      99.985% of this corpus), e.g. the Unit 42 identities whose ``identity_class`` is a list;
    * no ``modified`` (marking definitions, cyber observables): OpenTAXII 0.9.3 stores every
      object under its ``modified`` and fails without one;
    * a ``modified`` without fractional seconds, which OpenTAXII 0.9.3 cannot parse;
    * TLP:RED: the agreements keep it in the partner's inbox, so it is never pulled;
    * what ``stix2.parse`` (custom properties allowed) refuses: OpenTAXII 0.9.3 parses every
      object with it and refuses the whole envelope otherwise. Its verdicts are cached in
      ``benchmarks/results/`` (git-ignored), keyed by the corpus files' names, sizes and times.

    What is left is valid STIX 2.1 that the hub, medallion and OpenTAXII all accept, so all three
    get the same objects.
    """
    root = root or SHARED_STIX
    from exchange.stix.validation import validate_object

    pool = ReplayPool(root=root)
    if not root.is_dir():
        raise FileNotFoundError(f"the shared STIX corpus is not at {root} (EXCHANGE_SHARED_DATA)")
    files = _corpus_files(root)
    fingerprint = hashlib.sha256(_FILTER_VERSION.encode())
    for path in files:
        stat = path.stat()
        fingerprint.update(f"{path.relative_to(root)}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    cache = _CACHE_DIR / f"replay-stix2-{fingerprint.hexdigest()[:16]}.json"
    rejected: set[str] | None = None
    if use_cache and cache.is_file():
        rejected = set(json.loads(cache.read_text())["rejected"])
    candidates: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for path in files:
        try:
            entries = _read_objects(path)
        except (OSError, ValueError, EOFError):
            pool.excluded["file is not JSON"] += 1
            continue
        pool.files += 1
        for obj in entries:
            if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
                pool.excluded["not a STIX object"] += 1
                continue
            key = (obj["id"], str(obj.get("modified")))
            if key in seen:
                pool.excluded["repeated id + modified"] += 1
                continue
            seen.add(key)
            if validate_object(obj) is not None:
                pool.excluded["refused by the hub's STIX 2.1 validator"] += 1
            elif "modified" not in obj:
                pool.excluded["no modified (OpenTAXII 0.9.3 needs one)"] += 1
            elif not isinstance(obj["modified"], str) or not _FRACTIONAL.search(obj["modified"]):
                pool.excluded["modified without fractions of a second (OpenTAXII 0.9.3)"] += 1
            elif _red(obj):
                pool.excluded["TLP:RED (never redistributed)"] += 1
            else:
                candidates.append(obj)
    if rejected is None:
        import stix2
        import stix2.exceptions

        rejected = set()
        for obj in candidates:
            try:
                stix2.parse(obj, allow_custom=True, version="2.1")
            except (stix2.exceptions.STIXError, ValueError, TypeError, RecursionError):
                rejected.add(f"{obj['id']}|{obj['modified']}")
        if use_cache:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps({"rejected": sorted(rejected)}) + "\n")
    for obj in candidates:
        if f"{obj['id']}|{obj['modified']}" in rejected:
            pool.excluded["refused by stix2.parse (OpenTAXII 0.9.3 validates with it)"] += 1
        else:
            pool.objects.append(obj)
    return pool


def replay(count: int, pool: ReplayPool | None = None) -> Iterator[dict[str, Any]]:
    """The first ``count`` objects of the replay pool (fewer when the pool is smaller)."""
    pool = pool or replay_pool()
    yield from pool.objects[:count]


def mixed(count: int, seed: int = 7, pool: ReplayPool | None = None) -> Iterator[dict[str, Any]]:
    """Exactly ``count`` objects: the generated stream with the replay pool spread through it.

    Each position takes the next replayed object with probability ``len(pool) / count`` (at most
    one half) while the pool lasts, otherwise the next generated object; the same seed always
    gives the same interleaving.
    """
    pool = pool or replay_pool()
    rng = random.Random(seed + 1)
    share = min(0.5, len(pool.objects) / count) if count else 0.0
    generated = generate(count, seed)
    replayed = iter(pool.objects)
    remaining_replay = len(pool.objects)
    for _ in range(count):
        if remaining_replay and rng.random() < share:
            remaining_replay -= 1
            yield next(replayed)
        else:
            yield next(generated)


def stream(
    kind: str, count: int, seed: int = 7, pool: ReplayPool | None = None
) -> Iterator[dict[str, Any]]:
    """The workload ``kind`` (one of :data:`WORKLOADS`): ``count`` objects, or for ``replay``
    at most the size of the pool."""
    if kind == "generated":
        return generate(count, seed)
    if kind == "replay":
        return replay(count, pool)
    if kind == "mixed":
        return mixed(count, seed, pool)
    raise ValueError(f"unknown workload {kind!r}: one of {', '.join(WORKLOADS)}")


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workload", choices=WORKLOADS, default="generated")
    parser.add_argument("--validate", action="store_true", help="parse each object with stix2")
    args = parser.parse_args()
    pool = replay_pool() if args.workload != "generated" else None
    if pool is not None:
        print(json.dumps(pool.summary(), indent=2))
    counts: Counter[str] = Counter()
    objects = list(stream(args.workload, args.count, args.seed, pool))
    for obj in objects:
        counts[obj["type"]] += 1
    for stix_type, number in counts.most_common():
        print(f"{stix_type:<14} {number:>8} {100 * number / len(objects):5.1f}%")
    if args.validate:
        import stix2

        strict = args.workload == "generated"
        for obj in objects:
            stix2.parse(obj, allow_custom=not strict, version="2.1")
        rule = "no custom properties" if strict else "custom properties allowed"
        print(f"stix2: all {len(objects)} objects parse as valid STIX 2.1 ({rule})")


if __name__ == "__main__":
    _main()
