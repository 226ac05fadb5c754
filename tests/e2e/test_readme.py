"""The README's quickstart, run as written against a real server (only the port differs)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support.paths import CONFIG_DIR, PROJECT
from tests.support.server import HubProcess

README = PROJECT / "README.md"


def _quickstart_blocks() -> list[tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(bash|python)\n(.*?)```", section, flags=re.DOTALL)


def test_quickstart_runs_as_written(hub: HubProcess, tmp_path: Path) -> None:
    blocks = _quickstart_blocks()
    assert [kind for kind, _ in blocks] == ["bash", "python", "python", "bash"]
    (tmp_path / ".venv").symlink_to(PROJECT / ".venv")
    (tmp_path / "feeds").symlink_to(PROJECT / "feeds")
    (tmp_path / "config").symlink_to(PROJECT / "config")
    env = dict(os.environ)
    env["EXCHANGE_DATA_DIR"] = str(hub.data_dir)
    env["EXCHANGE_CONFIG_DIR"] = str(CONFIG_DIR)
    outputs = []
    for kind, written in blocks:
        code = written.replace("127.0.0.1:8000", f"127.0.0.1:{hub.port}")
        command = (
            ["bash", "-euo", "pipefail", "-c", code]
            if kind == "bash"
            else [sys.executable, "-c", code]
        )
        done = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    push, pull, listing = outputs[1], outputs[2], outputs[3]
    assert push.strip() == "complete 76 accepted, 0 refused"
    lines = pull.splitlines()
    assert lines[0] == "France (FR)"
    assert len(lines) == 1 + 12, "the title, then APT1's 12 indicators"
    assert "HTRAN Hop Point Accessor [ipv4-addr:value = '223.166.0.0/15']" in lines
    assert '"collections"' in listing
    assert "France (FR)" in listing
