"""The organisation's member countries, from ``config/member-countries.toml``."""

from __future__ import annotations

import re
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from exchange.errors import ConfigError

__all__ = ["FILE_NAME", "Country", "MemberCountries", "country_collection_id", "load_countries"]

FILE_NAME = "member-countries.toml"
_CODE = re.compile(r"[A-Z]{2}")
# Country collections have the same id on every installation, so analysts' client settings
# carry over (a name-based UUID, RFC 9562 section 5.5).
_NAMESPACE = uuid.UUID("6f1c34a4-3d0e-4b53-9a55-2f4c1c1b9e21")


@dataclass(frozen=True, slots=True)
class Country:
    """One member country."""

    code: str
    name: str
    region: str


def country_collection_id(code: str) -> str:
    """The id of a member country's collection."""
    return str(uuid.uuid5(_NAMESPACE, f"country:{code}"))


class MemberCountries:
    """The member countries by ISO 3166-1 alpha-2 code."""

    def __init__(self, countries: list[Country]) -> None:
        self._by_code = {country.code: country for country in countries}

    def __iter__(self) -> Iterator[Country]:
        return iter(sorted(self._by_code.values(), key=lambda c: c.code))

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def get(self, code: str) -> Country | None:
        """A country by code, or None."""
        return self._by_code.get(code)


def load_countries(config_dir: Path) -> MemberCountries:
    """Read and check the member-country list."""
    path = config_dir / FILE_NAME
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing (set EXCHANGE_CONFIG_DIR?)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    entries = document.get("country")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path} has no [[country]] entries")
    countries: list[Country] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        code = entry.get("code") if isinstance(entry, dict) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        region = entry.get("region", "") if isinstance(entry, dict) else None
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            raise ConfigError(f"{path}: country #{index} needs a two-letter upper-case code")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{path}: country {code} needs a name")
        if not isinstance(region, str):
            raise ConfigError(f"{path}: country {code} has a region that is not text")
        if code in seen:
            raise ConfigError(f"{path}: country {code} is listed twice")
        seen.add(code)
        countries.append(Country(code=code, name=name, region=region))
    return MemberCountries(countries)
