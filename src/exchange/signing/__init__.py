"""HTTP message signatures for the hub: RFC 9421 signatures over RFC 9530 content digests.

- :mod:`exchange.signing.digest`: ``Content-Digest`` (RFC 9530);
- :mod:`exchange.signing.keys`: partners' Ed25519 / ECDSA P-256 keys, PEM and JWK, key ids;
- :mod:`exchange.signing.verify`: verifying requests (and responses), and kept evidence;
- :mod:`exchange.signing.responses`: signing the hub's responses;
- :mod:`exchange.signing.client`: a ``requests`` auth object partners sign with.

All but ``client`` are pure: no I/O, no clock reads, no global state. The cryptography, the
structured fields and the signature base come from ``http-message-signatures`` and ``http-sf``.
"""
