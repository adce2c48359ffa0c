"""Types are a gate: mypy with the settings of pyproject.toml ([tool.mypy]: the whole package in
ordinary mode; the core, the ledger, the EAP methods and the Diameter/RADIUS codecs strict; the
pysmi output excluded) reports no error but the known ones listed here.

KNOWN is a ratchet for modules under rework: an error not in it fails, and so does an entry mypy
no longer reports (delete it, so the error cannot come back unnoticed).
"""
from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ERROR = re.compile(r"^(?P<path>[^:\s]+\.py):\d+: error: .*\[(?P<code>[a-z-]+)\]$")

# (file, error code): count
KNOWN: Counter[tuple[str, str]] = Counter({
    ("appliance/store/postgres.py", "index"): 1,         # fetchone() may be None
    ("appliance/store/copy.py", "index"): 1,             # fetchone() may be None
    ("appliance/store/copy.py", "misc"): 1,
    ("appliance/store/cli.py", "arg-type"): 1,           # make_conninfo(**params): conninfo is positional
    ("appliance/cli.py", "arg-type"): 1,                 # opc_from_op(bytes | None)
})


def test_mypy_reports_only_known_errors():
    r = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert "No module named mypy" not in r.stderr, "mypy comes with the test extra: pip install -e '.[test]'"
    assert r.returncode in (0, 1), r.stdout[-4000:] + r.stderr[-2000:]      # 2: mypy itself failed
    found: Counter[tuple[str, str]] = Counter()
    for line in r.stdout.splitlines():
        m = ERROR.match(line)
        if m:
            found[(m.group("path"), m.group("code"))] += 1
    assert r.returncode == 0 or found, r.stdout[-4000:]
    new = found - KNOWN
    fixed = KNOWN - found
    assert not new, "new mypy errors:\n" + "\n".join(
        line for line in r.stdout.splitlines() if (m := ERROR.match(line)) and (m["path"], m["code"]) in new)
    assert not fixed, f"fixed, delete from KNOWN in tests/test_types.py: {dict(fixed)}"


def test_generated_code_is_excluded_and_codecs_are_strict():
    import tomllib
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert conf["files"] == ["appliance"]
    assert any(re.search(x, "appliance/snmp/compiled/OCS-APPLIANCE-MIB.py") for x in conf["exclude"])
    strict = next(o for o in conf["overrides"] if "appliance.radius.packet" in o["module"])
    assert {"appliance.eap.*", "appliance.diameter.codec", "appliance.ocs.*", "appliance.ledger.*"} \
        <= set(strict["module"])
    assert strict["disallow_untyped_defs"] and strict["warn_return_any"] and strict["disallow_any_generics"]
