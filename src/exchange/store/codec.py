"""How object bodies are kept at rest: a one-byte codec tag, then the bytes.

Tag 0 is the JSON as is; tag 1 is zlib-compressed JSON, used when it saves space. The tag lets
a later codec (a trained dictionary, say) be added without rewriting stored rows.
"""

from __future__ import annotations

import zlib

__all__ = ["decode_body", "encode_body"]

_RAW = 0
_ZLIB = 1
_MIN_COMPRESS = 256


def encode_body(body: bytes) -> bytes:
    """The stored form of a JSON body."""
    if len(body) >= _MIN_COMPRESS:
        packed = zlib.compress(body, 6)
        if len(packed) < len(body):
            return bytes((_ZLIB,)) + packed
    return bytes((_RAW,)) + body


def decode_body(stored: bytes) -> bytes:
    """The JSON body back from its stored form."""
    tag = stored[0]
    if tag == _ZLIB:
        return zlib.decompress(stored[1:])
    if tag == _RAW:
        return bytes(stored[1:])
    raise ValueError(f"unknown body codec {tag}")
