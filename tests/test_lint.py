"""House style (../shared/STYLE.md): the code base is ruff-clean with the rules in pyproject.toml."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_clean():
    if importlib.util.find_spec("ruff") is None:
        pytest.fail("ruff is not installed: it comes with the test extra (pip install -e '.[test]')")
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "appliance", "tests", "benchmarks"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
