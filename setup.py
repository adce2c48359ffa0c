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
from setuptools.command.build_ext import build_ext

COMPILED = ["appliance.diameter.codec"]


def _say(text: str) -> None:
    print(f"setup.py: {text}", file=sys.stderr)


class OptionalBuildExt(build_ext):
    """build_ext where a module that does not compile stays interpreted instead of failing the install."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:            # no compiler at all, or none that works
            _say(f"compiled modules not built ({exc}); they run interpreted")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            _say(f"{ext.name} not built ({exc}); it runs interpreted")


def extensions() -> list[Extension]:
    if os.environ.get("APPLIANCE_PURE_PYTHON", "") not in ("", "0"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        _say("Cython not available, the codec stays interpreted")
        return []
    modules = [Extension(name, [name.replace(".", "/") + ".py"], extra_compile_args=["-g0"]) for name in COMPILED]
    try:
        built = cythonize(modules, quiet=True, compiler_directives={
            "language_level": 3, "annotation_typing": False, "binding": False, "embedsignature": False})
    except Exception as exc:                # a Cython error must not fail the install
        _say(f"Cython failed ({exc}), the codec stays interpreted")
        return []
    for ext in built:
        ext.optional = True
    return list(built)


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
