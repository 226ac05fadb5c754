"""The README's whole loop with the demo feeds, run as written against a real server (only the
port differs): push a feed, export, report a sighting, read the feedback, recall, report."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from tests.support.paths import CONFIG_DIR, PROJECT
from tests.support.server import HubProcess

README = PROJECT / "README.md"
RECALLED = "indicator--1cfd37c5-1f3d-4c6a-8d6f-9eb93f283f2e"
RECALLED_HASH = "3cb8174becb3c89318ed01ccd76e71cbeb8bc9e0fcbce8e110d40cd71af20fa2"


def _loop_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## The whole loop", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)


def test_the_whole_loop_runs_as_written(hub: HubProcess, tmp_path: Path) -> None:
    blocks = _loop_blocks()
    assert len(blocks) == 3
    for name in (".venv", "feeds", "config"):
        (tmp_path / name).symlink_to(PROJECT / name)
    env = dict(os.environ)
    env["EXCHANGE_DATA_DIR"] = str(hub.data_dir)
    env["EXCHANGE_CONFIG_DIR"] = str(CONFIG_DIR)
    # One shell, as a reader types the blocks one after the other in one terminal.
    script = "\n".join(blocks).replace("127.0.0.1:8000", f"127.0.0.1:{hub.port}")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]  # push exits 1 if anything was refused
    out = done.stdout

    hashes = (tmp_path / "fr-hashes.txt").read_text().split()
    assert RECALLED_HASH in hashes
    counts = [int(line) for line in out.splitlines() if line.strip().isdigit()]
    assert counts == [len(hashes), len(hashes) - 1]  # before and after the recall

    sighting = json.loads(next(line for line in out.splitlines() if '"sighting_of_ref"' in line))
    assert (sighting["sighting_of_ref"], sighting["partners"]) == (RECALLED, 1)
    feedback = json.loads(next(line for line in out.splitlines() if '"collection"' in line))
    (reported,) = [row for row in feedback["objects"] if row["object_id"] == RECALLED]
    assert (reported["sightings"], reported["false_positives"]) == (1, 0)

    revoked = json.loads(next(line for line in out.splitlines() if '"revoked"' in line))
    (latest,) = revoked["objects"]
    assert (latest["id"], latest["revoked"]) == (RECALLED, True)

    report = out.split("contribution report of demo-partner-a", 1)[1]
    assert re.search(r"accepted\s+200\b", report)
    assert re.search(r"recalls\s+1\b", report)
    assert re.search(r"seen\s+1\b", report)
    for code in ("BR", "DE", "FR"):
        assert re.search(rf"\b{code}\s+200\b", report), code
