"""The SMIv2 modules of ``mibs/``, compiled with pysmi, loaded into a pysnmp MIB builder.

The MIB texts are the single source: OIDs and syntaxes the agent serves come from
the pysmi-compiled modules, never from hand-copied numbers.  Compiling takes
3-30 s on a busy 2-core machine, so it happens at build time: ``appliance snmp
compile-mibs --bundle`` writes the modules and a manifest of the texts' SHA-256
into ``appliance/snmp/compiled/``; the output depends only on the texts and the pysmi
release (no path, host or date), and a test checks the bundle is byte for byte a fresh
compile of ``mibs/``.  At start the agent uses the bundle when the manifest matches the
MIB directory it is given; otherwise (an operator edited a MIB) it compiles into
the cache directory, once.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

from pysnmp.smi import builder

log = logging.getLogger(__name__)

#: modules the agent serves; their imports (SNMPv2-SMI/TC/CONF, SNMP-FRAMEWORK-MIB,
#: INET-ADDRESS-MIB) are pysnmp's built-in compiled modules, the texts in mibs/ serve smilint.
SERVED = ("OCS-APPLIANCE-SMI", "OCS-APPLIANCE-MIB", "RADIUS-AUTH-SERVER-MIB", "RADIUS-ACC-SERVER-MIB",
          "DIAMETER-BASE-PROTOCOL-MIB", "DIAMETER-CC-APPLICATION-MIB")
BUNDLE = Path(__file__).resolve().parent / "compiled"
MANIFEST = "MANIFEST.json"


def default_mib_dir() -> Path:
    """``mibs/`` of the source tree, else where the Debian package installs it."""
    here = Path(__file__).resolve().parent.parent.parent / "mibs"
    if here.is_dir():
        return here
    return Path("/usr/share/snmp/mibs")


#: the one line of OCS-APPLIANCE-SMI that places the enterprise root
_ENTERPRISE_LINE = re.compile(r"(::= \{ enterprises )(\d+)( \}\s*-- the enterprise number)")
SMI_FILE = "OCS-APPLIANCE-SMI.txt"


def enterprise_of(source: Path) -> int:
    """The Private Enterprise Number the MIB texts in ``source`` hang the appliance under."""
    m = _ENTERPRISE_LINE.search((source / SMI_FILE).read_text())
    if m is None:
        raise ValueError(f"{source / SMI_FILE}: no 'enterprises N }} -- the enterprise number' line")
    return int(m.group(2))


def with_enterprise(source: Path, destination: Path, pen: int) -> Path:
    """The MIB texts of ``source`` copied to ``destination`` with the enterprise root at ``pen``
    (``snmp.enterprise``); every other module hangs off that root, so the set stays consistent."""
    destination.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.iterdir()):
        if path.is_file() and path.suffix == ".txt":
            text = path.read_text()
            if path.name == SMI_FILE:
                text = _ENTERPRISE_LINE.sub(lambda m: f"{m.group(1)}{pen}{m.group(3)}", text, count=1)
            target = destination / path.name
            if not target.is_file() or target.read_text() != text:
                target.write_text(text)
    return destination


def digests(source: Path, modules: tuple[str, ...] = SERVED) -> dict[str, str]:
    """SHA-256 of the texts the served modules are compiled from (theirs and ours)."""
    out = {}
    for path in sorted(source.iterdir()):
        if path.is_file() and path.suffix == ".txt" and (path.stem in modules or path.stem.startswith("OCS-")):
            out[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def compile_mibs(source: Path, destination: Path, modules: tuple[str, ...] = SERVED) -> dict[str, str]:
    """pysmi: SMIv2 text -> pysnmp Python modules; returns {module: status}."""
    from pysmi import __version__ as pysmi_version
    from pysmi.codegen import PySnmpCodeGen
    from pysmi.compiler import MibCompiler
    from pysmi.parser import SmiStarParser
    from pysmi.reader import FileReader
    from pysmi.searcher import PyFileSearcher, PyPackageSearcher, StubSearcher
    from pysmi.writer import PyFileWriter

    class ReproducibleCodeGen(PySnmpCodeGen):
        """pysmi's generator whose header names the source file and the pysmi release only: no path,
        host, user, date or Python build, so a compile gives the same bytes on every machine."""

        def gen_code(self, ast: Any, symbolTable: Any, **kwargs: Any) -> Any:
            comments = kwargs.get("comments") or ()
            source = next((c.rsplit("/", 1)[-1] for c in comments if c.startswith("ASN.1 source ")), "?")
            kwargs["comments"] = [f"ASN.1 source {source}", f"Produced by pysmi-{pysmi_version}"]
            return super().gen_code(ast, symbolTable, **kwargs)

    destination.mkdir(parents=True, exist_ok=True)
    compiler = MibCompiler(SmiStarParser(), ReproducibleCodeGen(), PyFileWriter(str(destination)))
    compiler.add_sources(FileReader(str(source)))
    compiler.add_searchers(PyFileSearcher(str(destination)), PyPackageSearcher("pysnmp.smi.mibs"),
                           StubSearcher(*PySnmpCodeGen.baseMibs))
    result = {name: str(status) for name, status in compiler.compile(*modules, rebuild=True).items()}
    failed = {n: s for n, s in result.items() if s in ("failed", "missing")}
    if failed:
        raise RuntimeError(f"MIB compilation failed: {failed}")
    for name in modules:
        path = destination / f"{name}.py"
        if path.is_file():
            path.write_text(current_api(path.read_text()))
    (destination / MANIFEST).write_text(json.dumps(digests(source, modules), indent=1, sort_keys=True) + "\n")
    return result


def current_api(code: str) -> str:
    """pysmi's module text for today's pysnmp: MibBuilder.import_symbols/export_symbols (the camel-case
    names still work but warn on every call), and marked as generated for linters."""
    code = code.replace("mibBuilder.importSymbols(", "mibBuilder.import_symbols(")
    code = code.replace("mibBuilder.exportSymbols(", "mibBuilder.export_symbols(")
    return "# ruff: noqa\n" + code


def matches(compiled: Path, source: Path) -> bool:
    """Whether ``compiled`` holds every served module, compiled from exactly these texts."""
    try:
        manifest = json.loads((compiled / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return manifest == digests(source) and all((compiled / f"{m}.py").is_file() for m in SERVED)


def load(mib_builder: builder.MibBuilder, source: Path, cache: Path) -> Path:
    """Load the served modules (bundle, else cache, compiling it if stale); returns where from."""
    where = BUNDLE
    if not matches(BUNDLE, source):
        where = cache
        if not matches(cache, source):
            log.info("MIB texts in %s differ from the bundled build: compiling into %s", source, cache)
            compile_mibs(source, cache)
    mib_builder.add_mib_sources(builder.DirMibSource(str(where)))
    mib_builder.load_modules(*SERVED)
    return where
