"""Unit tests of the signing package: Content-Digest, keys, RFC 9421 verification, the client."""
