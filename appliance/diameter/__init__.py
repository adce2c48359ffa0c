"""Diameter front end: codec, sans-I/O peer, asyncio node, applications (apps/).

``codec`` may be present twice: its source and an extension compiled from that same source
(setup.py).  The source is imported instead of the extension when ``APPLIANCE_PURE_PYTHON`` is set
(tests run the codec both ways) or when the source is newer than the extension (an edited
checkout not yet rebuilt with ``pip install -e .``): a stale build never runs.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType

_COMPILED = frozenset({"appliance.diameter.codec"})
_HERE = os.path.dirname(os.path.abspath(__file__))
_STALE_AFTER = 2.0      # seconds: files unpacked from one wheel differ by less


def pure_python() -> bool:
    """True when the interpreted modules are forced (``APPLIANCE_PURE_PYTHON`` non-empty, not 0)."""
    return os.environ.get("APPLIANCE_PURE_PYTHON", "") not in ("", "0")


def _source_spec(name: str, here: str = _HERE) -> ModuleSpec | None:
    """The spec of ``name``'s source when it must run interpreted; None to import as usual."""
    base = name.rpartition(".")[2]
    source = os.path.join(here, base + ".py")
    built = [os.path.join(here, base + s) for s in importlib.machinery.EXTENSION_SUFFIXES]
    built = [b for b in built if os.path.exists(b)]
    if not built or not os.path.exists(source):
        return None
    if not pure_python() and os.path.getmtime(source) <= min(os.path.getmtime(b) for b in built) + _STALE_AFTER:
        return None
    return importlib.util.spec_from_file_location(name, source)


class _SourceFirst:
    """Meta-path finder: the source of a compiled module when it must run interpreted."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: ModuleType | None = None) -> ModuleSpec | None:
        return _source_spec(name) if name in _COMPILED else None


if not any(getattr(f, "__name__", "") == "_SourceFirst" for f in sys.meta_path):
    sys.meta_path.insert(0, _SourceFirst)      # type: ignore[arg-type]
