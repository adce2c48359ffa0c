"""mibs/: every module passes smilint -l 6 with no error; ours compile with pysmi; one enterprise root."""
from __future__ import annotations

import itertools
import os
import re
import subprocess

import pytest

from appliance.snmp import mibs
from tests.conftest import need_binary

MIB_DIR = mibs.default_mib_dir()
FILES = sorted(p for p in MIB_DIR.iterdir() if p.is_file())
SEVERITY = re.compile(r":\d+: \[(\d)\] ")


def test_mib_directory_holds_served_modules_and_their_imports():
    names = {p.stem for p in FILES}
    assert set(mibs.SERVED) <= names
    assert {"SNMPv2-SMI", "SNMPv2-TC", "SNMPv2-CONF", "SNMP-FRAMEWORK-MIB", "INET-ADDRESS-MIB"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_smilint_level_6_no_errors(path):
    smilint = need_binary("smilint")
    # SMIPATH = mibs/ only: imports must resolve from the carried modules, not from the system
    out = subprocess.run([smilint, "-s", "-l", "6", str(path)], capture_output=True, text=True, timeout=60, check=False,
                         env=dict(os.environ, SMIPATH=str(MIB_DIR)))
    lines = (out.stdout + out.stderr).splitlines()
    errors = [line for line in lines if (m := SEVERITY.search(line)) and int(m.group(1)) <= 3]
    assert errors == [], "\n".join(errors)
    assert not any("failed to locate" in line for line in lines)


def test_enterprise_number_defined_once():
    hits = [p.name for p in FILES if re.search(r"\{\s*enterprises\s+\d+\s*\}", p.read_text())]
    assert hits == ["OCS-APPLIANCE-SMI.txt"]


GENERATED = [f"{m}.py" for m in mibs.SERVED] + [mibs.MANIFEST]


def test_bundled_modules_are_a_fresh_pysmi_compile_of_mibs(tmp_path):
    status = mibs.compile_mibs(MIB_DIR, tmp_path)
    assert {m: status[m] for m in mibs.SERVED} == {m: "compiled" for m in mibs.SERVED}
    assert mibs.matches(tmp_path, MIB_DIR)
    # run `appliance snmp compile-mibs --bundle` after editing a MIB text
    assert mibs.matches(mibs.BUNDLE, MIB_DIR)
    for name in GENERATED:                   # byte for byte: the output names no path, host or date
        assert (mibs.BUNDLE / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_compiled_modules_say_nothing_of_the_machine_and_use_the_current_pysnmp_api():
    import pysmi
    for name in GENERATED[:-1]:
        text = (mibs.BUNDLE / name).read_text()
        notes = list(itertools.takewhile(lambda line: line.startswith("# "),
                                         text.split("# Notes\n# -----\n", 1)[1].splitlines()))
        # no source path, date, host, user or Python build
        assert notes == [f"# ASN.1 source {name[:-3]}.txt", f"# Produced by pysmi-{pysmi.__version__}"], name
        assert "importSymbols" not in text and "exportSymbols" not in text, name


def test_bundle_loads_without_deprecation_warnings(tmp_path):
    import warnings

    from pysnmp.smi import builder
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert mibs.load(builder.MibBuilder(), MIB_DIR, tmp_path / "unused") == mibs.BUNDLE


def test_edited_texts_are_compiled_into_the_cache(tmp_path):
    from pysnmp.smi import builder
    source = tmp_path / "mibs"
    source.mkdir()
    for p in FILES:
        (source / p.name).write_bytes(p.read_bytes())
    text = (source / "OCS-APPLIANCE-MIB.txt").read_text()
    (source / "OCS-APPLIANCE-MIB.txt").write_text(text.replace('"Initial version."', '"Edited."', 1))
    where = mibs.load(builder.MibBuilder(), source, tmp_path / "cache")
    assert where == tmp_path / "cache" and mibs.matches(where, source)
    assert mibs.load(builder.MibBuilder(), MIB_DIR, tmp_path / "unused") == mibs.BUNDLE
