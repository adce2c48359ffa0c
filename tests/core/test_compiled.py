"""The charging path runs compiled where it is built and interpreted where it is not: the same
rating, charging and conservation tests pass both ways (the interpreted run is a subprocess with
``APPLIANCE_PURE_PYTHON=1``), setup.py builds exactly the modules the finder knows, and a built
module is the one imported."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest

from appliance import compiled

ROOT = Path(__file__).resolve().parents[2]
BOTH_WAYS = ["tests/core/test_rating.py", "tests/core/test_charging_rules.py", "tests/core/test_allowances.py",
             "tests/core/test_money_conservation.py", "tests/ledger/test_one_door.py"]


def test_setup_builds_the_modules_the_finder_knows():
    tree = ast.parse((ROOT / "setup.py").read_text())
    lists = {t.id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
             for t in node.targets if isinstance(t, ast.Name) and t.id in ("CODEC", "CHARGING")}
    assert set(lists["CODEC"]) | set(lists["CHARGING"]) == compiled.COMPILED
    assert tuple(lists["CHARGING"]) == compiled.CHARGING


def test_the_interpreted_charging_path_passes_the_charging_tests():
    env = dict(os.environ, APPLIANCE_PURE_PYTHON="1")
    probe = subprocess.run([sys.executable, "-c", "import appliance.ocs.rating as r, appliance.ledger.book as b; "
                            "print(r.__file__, b.__file__)"], env=env, cwd=ROOT, capture_output=True, text=True,
                           timeout=60)
    assert probe.returncode == 0 and all(p.endswith(".py") for p in probe.stdout.split()), probe
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *BOTH_WAYS], env=env,
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


@pytest.mark.parametrize("name", compiled.CHARGING)
def test_a_built_module_is_the_one_imported(name):
    module = import_module(name)
    folder = Path(module.__file__).parent
    stem = name.rsplit(".", 1)[1]
    built = [p for p in folder.iterdir() if p.name.startswith(stem + ".") and p.suffix == ".so"]
    if not built:
        if os.environ.get("CI"):
            pytest.fail(f"CI installs with a compiler (pip install -e .): {name} was not built")
        pytest.skip(f"{name} not built in this checkout (pip install -e . builds it)")
    stale = (folder / f"{stem}.py").stat().st_mtime > min(p.stat().st_mtime for p in built) + 2
    assert compiled.is_compiled(module) is (not stale and not compiled.pure_python())
