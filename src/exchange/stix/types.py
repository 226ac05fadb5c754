"""The STIX 2.1 object types, by kind (STIX 2.1 sections 4, 5, 6 and 7)."""

from __future__ import annotations

__all__ = ["META_TYPES", "SCO_TYPES", "SDO_TYPES", "SRO_TYPES"]

# Section 4: STIX Domain Objects.
SDO_TYPES = frozenset(
    {
        "attack-pattern",
        "campaign",
        "course-of-action",
        "grouping",
        "identity",
        "incident",
        "indicator",
        "infrastructure",
        "intrusion-set",
        "location",
        "malware",
        "malware-analysis",
        "note",
        "observed-data",
        "opinion",
        "report",
        "threat-actor",
        "tool",
        "vulnerability",
    }
)
# Section 5: STIX Relationship Objects.
SRO_TYPES = frozenset({"relationship", "sighting"})
# Section 6: the STIX Cyber-observable Object types.
SCO_TYPES = frozenset(
    {
        "artifact",
        "autonomous-system",
        "directory",
        "domain-name",
        "email-addr",
        "email-message",
        "file",
        "ipv4-addr",
        "ipv6-addr",
        "mac-addr",
        "mutex",
        "network-traffic",
        "process",
        "software",
        "url",
        "user-account",
        "windows-registry-key",
        "x509-certificate",
    }
)
# Section 7: meta objects.
META_TYPES = frozenset({"extension-definition", "language-content", "marking-definition"})
