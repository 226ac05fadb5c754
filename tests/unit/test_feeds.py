"""Feed definitions: the shipped feeds load, and bad definitions say what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.errors import ConfigError
from exchange.feeds import load_feed
from tests.support.paths import PROJECT

FEEDS = PROJECT / "feeds"


@pytest.mark.parametrize("name", ["demo-partner-a", "demo-partner-b"])
def test_the_shipped_feeds_load_with_their_licence_beside_them(name: str) -> None:
    feed = load_feed(FEEDS / name / "feed.toml")
    assert feed.partner == name
    assert feed.bundles
    assert all(bundle.is_file() for bundle in feed.bundles)
    assert (FEEDS / name / "LICENSE-Unit42-MIT.txt").is_file()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('partner = "p"\ntitle = "t"\nbundles = ["missing.json"]\n', "not a file"),
        ('partner = "p"\ntitle = "t"\nbundles = ["../outside.json"]\n', "not a file"),
        ('partner = "p"\ntitle = "t"\nbundles = []\n', "not a feed definition"),
        ('partner = "p"\nbundles = ["b.json"]\n', "not a feed definition"),
        ('partner = "p"\ntitle = "t"\nbundles = ["b.json"]\nextra = 1\n', "not a feed definition"),
        ("not toml = = =", "not a feed definition"),
    ],
)
def test_bad_feed_definitions_are_config_errors(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "feed").mkdir()
    (tmp_path / "feed" / "b.json").write_text("{}")
    (tmp_path / "outside.json").write_text("{}")
    definition = tmp_path / "feed" / "feed.toml"
    definition.write_text(text)
    with pytest.raises(ConfigError, match=problem):
        load_feed(definition)
