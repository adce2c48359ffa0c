"""Diameter front end: codec, sans-I/O peer, asyncio node, applications (apps/).

``codec`` may be present twice, its source and an extension compiled from it: see
:mod:`appliance.compiled` (the finder that picks the source when forced or newer).
"""
from __future__ import annotations

from importlib.machinery import ModuleSpec

from ..compiled import pure_python, source_spec

__all__ = ["pure_python"]


def _source_spec(name: str, here: str | None = None) -> ModuleSpec | None:
    """``appliance.compiled.source_spec`` (the codec is one of the compiled modules)."""
    return source_spec(name, here)
