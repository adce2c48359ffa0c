"""bin/quickstart installs only when pyproject.toml changed, quietly, and shows the log when it fails."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FAKE_PIP = """#!/usr/bin/env bash
echo "$*" >> "$(dirname "$0")/../pip-calls"
echo "setuptools: some warning the operator need not see"
[ -f "$(dirname "$0")/../pip-fails" ] && { echo "ERROR: no network"; exit 1; }
exit 0
"""


def checkout(tmp_path: Path) -> Path:
    co = tmp_path / "co"
    (co / "bin").mkdir(parents=True)
    shutil.copy(ROOT / "bin" / "quickstart", co / "bin" / "quickstart")
    shutil.copy(ROOT / "pyproject.toml", co / "pyproject.toml")
    venv = co / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").symlink_to(sys.executable)
    for name, text in (("pip", FAKE_PIP), ("appliance", "#!/bin/sh\nexit 0\n")):
        (venv / name).write_text(text)
        (venv / name).chmod(0o755)
    return co


def quickstart(co: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(co / "bin" / "quickstart"), "--no-start"], cwd="/", capture_output=True, text=True,
                          timeout=120, env={**os.environ})


def calls(co: Path) -> int:
    f = co / ".venv" / "pip-calls"
    return len(f.read_text().splitlines()) if f.exists() else 0


def test_install_once_then_fast_until_pyproject_changes(tmp_path):
    co = checkout(tmp_path)
    first = quickstart(co)
    assert first.returncode == 0, first.stderr
    assert calls(co) == 2 and "warning" not in first.stdout + first.stderr     # pip upgrade + install -e
    t0 = time.monotonic()
    again = quickstart(co)
    assert again.returncode == 0 and calls(co) == 2 and not again.stdout and not again.stderr
    assert time.monotonic() - t0 < 5
    with open(co / "pyproject.toml", "a") as fh:
        fh.write("\n# changed\n")
    assert quickstart(co).returncode == 0 and calls(co) == 4


def test_failed_install_shows_the_log_and_fails(tmp_path):
    co = checkout(tmp_path)
    (co / ".venv" / "pip-fails").touch()
    r = quickstart(co)
    assert r.returncode == 1 and "no network" in r.stderr and "install failed" in r.stderr
    (co / ".venv" / "pip-fails").unlink()
    assert quickstart(co).returncode == 0 and calls(co) == 3          # no stamp was left: installs again


def test_license_is_an_spdx_expression():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'license = "Apache-2.0"' in text and "setuptools>=77" in text
