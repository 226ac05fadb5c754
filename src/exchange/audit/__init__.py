"""The tamper-evident audit log (pure core).

Every event the hub records is a leaf of an append-only Merkle tree hashed as RFC 9162
(Certificate Transparency 2.0) section 2.1 says; the hub signs tree heads, hands out inclusion
and consistency proofs, and ``verify_log`` checks a whole log against a head obtained earlier.

- :mod:`~exchange.audit.merkle`: tree hashing, the incremental accumulator, proofs;
- :mod:`~exchange.audit.canonical`: RFC 8785 canonical JSON;
- :mod:`~exchange.audit.events`: the audit event and its leaf;
- :mod:`~exchange.audit.heads`: tree heads, Ed25519 signing and checking;
- :mod:`~exchange.audit.verify`: whole-log verification naming the first bad event.

No module here does I/O; storage backs these through the ``leaf_at`` / ``node_at`` accessors.
"""
