"""Compiled modules (appliance/compiled.py lists them): the Diameter codec and the charging path, each
built with Cython from its own .py source (pure-Python mode; the codec's types in the .pxd beside it).
The build is optional: without Cython or a C compiler, or when a compile fails, the package installs
with the interpreted modules.  ``APPLIANCE_PURE_PYTHON=1`` at build time skips the extensions (and at
run time ignores built ones: appliance/compiled.py).  All other settings are in pyproject.toml.
"""
from __future__ import annotations

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

CODEC = ["appliance.diameter.codec", "appliance.diameter.apps.ro_codec"]
# The charging path: plain Python compiled as is (annotations are not C types: a str Enum must
# stay a valid `str` argument), which saves the interpreter's dispatch on the ledger's hot path.
CHARGING = ["appliance.ocs.rating", "appliance.ocs.balance", "appliance.ocs.charging", "appliance.ocs.units",
            "appliance.ocs.usable", "appliance.ledger.book", "appliance.ledger.sessions", "appliance.ledger.protocol"]


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
    def modules(names: list[str]) -> list[Extension]:
        return [Extension(name, [name.replace(".", "/") + ".py"], extra_compile_args=["-g0"]) for name in names]
    try:
        built = cythonize(modules(CODEC), quiet=True, compiler_directives={
            "language_level": 3, "annotation_typing": False, "binding": False, "embedsignature": False})
        built += cythonize(modules(CHARGING), quiet=True, compiler_directives={
            "language_level": 3, "annotation_typing": False, "binding": True, "embedsignature": False})
    except Exception as exc:                # a Cython error must not fail the install
        _say(f"Cython failed ({exc}), the modules stay interpreted")
        return []
    for ext in built:
        ext.optional = True
    return list(built)


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
