"""Modules present twice: their source and an extension compiled from that same source (setup.py,
Cython in pure-Python mode).  The source is imported instead of the extension when
``APPLIANCE_PURE_PYTHON`` is set (tests run such modules both ways) or when the source is newer
than the extension (an edited checkout not yet rebuilt with ``pip install -e .``): a stale build
never runs.  ``appliance/__init__.py`` installs the finder before any of them is imported.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType

# The charging path (the ledger's per-request work), the Diameter codec and the Ro codec.  setup.py builds these.
CHARGING = ("appliance.ocs.rating", "appliance.ocs.balance", "appliance.ocs.charging", "appliance.ocs.units",
            "appliance.ocs.usable", "appliance.ledger.book", "appliance.ledger.sessions",
            "appliance.ledger.protocol")
CODEC = ("appliance.diameter.codec", "appliance.diameter.apps.ro_codec")
COMPILED = frozenset(CHARGING + CODEC)
_ROOT = os.path.dirname(os.path.abspath(__file__))     # the appliance package
_STALE_AFTER = 2.0      # seconds: files unpacked from one wheel differ by less


def pure_python() -> bool:
    """True when the interpreted modules are forced (``APPLIANCE_PURE_PYTHON`` non-empty, not 0)."""
    return os.environ.get("APPLIANCE_PURE_PYTHON", "") not in ("", "0")


def source_spec(name: str, here: str | None = None) -> ModuleSpec | None:
    """The spec of ``name``'s source when it must run interpreted; None to import as usual.
    ``here``: the module's folder (default: where the package has it)."""
    parts = name.split(".")
    folder = here if here is not None else os.path.join(_ROOT, *parts[1:-1])
    source = os.path.join(folder, parts[-1] + ".py")
    built = [os.path.join(folder, parts[-1] + s) for s in importlib.machinery.EXTENSION_SUFFIXES]
    built = [b for b in built if os.path.exists(b)]
    if not built or not os.path.exists(source):
        return None
    if not pure_python() and os.path.getmtime(source) <= min(os.path.getmtime(b) for b in built) + _STALE_AFTER:
        return None
    return importlib.util.spec_from_file_location(name, source)


def is_compiled(module: ModuleType) -> bool:
    return not (getattr(module, "__file__", "") or "").endswith(".py")


class SourceFirst:
    """Meta-path finder: the source of a compiled module when it must run interpreted."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: ModuleType | None = None) -> ModuleSpec | None:
        return source_spec(name) if name in COMPILED else None


def install() -> None:
    if not any(getattr(f, "__name__", "") == "SourceFirst" for f in sys.meta_path):
        sys.meta_path.insert(0, SourceFirst)      # type: ignore[arg-type]
