"""The front ends report through appliance.telemetry; only the SNMP role imports the agent's package."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "appliance"
AGENT_SIDE = {"snmp"}                  # the agent itself


def _imports(path: Path) -> set[str]:
    """Absolute names of the appliance modules a file imports (relative imports resolved)."""
    package = path.relative_to(ROOT.parent).with_suffix("").parts[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = list(package[:len(package) - node.level + 1]) if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names.add(module)
            names.update(f"{module}.{a.name}" for a in node.names)
    return names


def test_no_front_end_imports_the_snmp_package():
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        top = path.relative_to(ROOT).parts[0]
        if top in AGENT_SIDE:
            continue
        bad = sorted(n for n in _imports(path) if n == "appliance.snmp" or n.startswith("appliance.snmp."))
        if bad:
            offenders.append(f"{path.relative_to(ROOT.parent)}: {', '.join(bad)}")
    assert not offenders, "\n".join(offenders)


def test_the_resolver_sees_relative_imports(tmp_path):
    # the check above is only as good as this resolution of `from ..snmp import events`
    probe = ROOT / "radius" / "server.py"
    names = _imports(probe)
    assert "appliance.telemetry.metrics" in names
    assert "appliance.ledger.remote.LedgerUnavailable" in names
