"""Compiled modules: the Diameter codec built with Cython from its own .py source (pure-Python mode,
types in the .pxd beside it).  The build is optional: without Cython or a C compiler, or when the
compile fails, the package installs with the interpreted module.  ``APPLIANCE_PURE_PYTHON=1`` at
build time skips the extension (and at run time ignores a built one: appliance/diameter/__init__.py).
All other settings are in pyproject.toml.
"""
from __future__ import annotations

import os
import sys

from setuptools import Extension, setup

COMPILED = ["appliance.diameter.codec"]


def extensions() -> list[Extension]:
    if os.environ.get("APPLIANCE_PURE_PYTHON"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        print("setup.py: Cython not available, the codec stays interpreted", file=sys.stderr)
        return []
    modules = [Extension(name, [name.replace(".", "/") + ".py"], optional=True, extra_compile_args=["-g0"])
               for name in COMPILED]
    try:
        return cythonize(modules, quiet=True, compiler_directives={
            "language_level": 3, "annotation_typing": False, "binding": False, "embedsignature": False})
    except Exception as exc:                # a Cython error must not fail the install
        print(f"setup.py: Cython failed ({exc}), the codec stays interpreted", file=sys.stderr)
        return []


setup(ext_modules=extensions())
