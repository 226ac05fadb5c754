"""TAXII 2.1 media types (TAXII 2.1 section 1.6.8) and content negotiation."""

from __future__ import annotations

__all__ = ["STIX_21", "TAXII_21", "accepts_taxii", "is_taxii_body"]

TAXII_21 = "application/taxii+json;version=2.1"
STIX_21 = "application/stix+json;version=2.1"


def _parse(media: str) -> tuple[str, dict[str, str]]:
    kind, *params = (part.strip() for part in media.split(";"))
    parsed: dict[str, str] = {}
    for param in params:
        name, _, value = param.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"')
    return kind.lower(), parsed


def accepts_taxii(accept: str | None) -> bool:
    """Whether an ``Accept`` header admits TAXII 2.1 JSON (absent means anything)."""
    if accept is None or not accept.strip():
        return True
    for media in accept.split(","):
        kind, params = _parse(media)
        if params.get("q") in {"0", "0.0", "0.00", "0.000"}:
            continue
        if kind in {"*/*", "application/*"}:
            return True
        if kind == "application/taxii+json" and params.get("version", "2.1") == "2.1":
            return True
    return False


def is_taxii_body(content_type: str | None) -> bool:
    """Whether a request ``Content-Type`` is a TAXII 2.1 envelope or a STIX 2.1 bundle."""
    if content_type is None:
        return False
    kind, params = _parse(content_type)
    if kind not in {"application/taxii+json", "application/stix+json"}:
        return False
    return params.get("version", "2.1") == "2.1"
