"""STIX 2.1 objects as the hub sees them: timestamps, identifiers, envelopes (pure, no I/O)."""
