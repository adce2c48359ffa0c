"""docs/DEVELOPING.md matches the tree: every package under appliance/ is named in its layout, and
every module of the inner rings (the core, the ledger, the store) is named with what it holds."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INNER = ("ocs", "ledger", "store")


def test_developing_names_every_package_and_every_inner_module():
    doc = (ROOT / "docs" / "DEVELOPING.md").read_text()
    app = ROOT / "appliance"
    packages = sorted(p.name for p in app.iterdir() if (p / "__init__.py").exists() and p.name != "__pycache__")
    missing = [f"appliance/{p}/" for p in packages if f"{p}/" not in doc]
    for ring in INNER:
        for module in sorted((app / ring).glob("*.py")):
            if module.name != "__init__.py" and module.name not in doc:
                missing.append(f"appliance/{ring}/{module.name}")
    assert missing == [], "not in docs/DEVELOPING.md: " + ", ".join(missing)
