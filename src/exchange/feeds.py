"""Feed definitions: a directory of STIX bundles with a ``feed.toml`` naming its partner and
its bundles in push order (see feeds/README.md)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from exchange.errors import ConfigError

__all__ = ["Feed", "load_feed"]


class _FeedFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    partner: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=500)
    bundles: tuple[str, ...] = Field(min_length=1)
    source: str = ""
    licence: str = ""


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed: whose it is and the bundle files to push, in order."""

    partner: str
    title: str
    bundles: tuple[Path, ...]


def load_feed(path: Path) -> Feed:
    """Read ``feed.toml``; ``ConfigError`` names the problem (bundles must exist, beside it)."""
    try:
        made = _FeedFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(f"{path}: not a feed definition ({str(exc).splitlines()[0]})") from None
    root = path.parent.resolve()
    bundles = []
    for name in made.bundles:
        bundle = (root / name).resolve()
        if not bundle.is_relative_to(root) or not bundle.is_file():
            raise ConfigError(f"{path}: bundle {name!r} is not a file beside the feed definition")
        bundles.append(bundle)
    return Feed(made.partner, made.title, tuple(bundles))
