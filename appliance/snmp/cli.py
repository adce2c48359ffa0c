"""``appliance snmp ...``: build-time MIB compilation."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..config import Config
from . import mibs


def cmd_compile(cfg: Config, args: argparse.Namespace) -> int:
    source = Path(args.mibs) if args.mibs else mibs.default_mib_dir()
    out = mibs.BUNDLE if args.bundle else Path(args.out or cfg.path(cfg.data_dir) / "snmp" / "mibs")
    status = mibs.compile_mibs(source, out)
    for name in mibs.SERVED:
        print(f"{name}: {status[name]} -> {out / (name + '.py')}")
    return 0


def cmd_export(cfg: Config, args: argparse.Namespace) -> int:
    """The MIB texts a manager loads, with the enterprise root at ``snmp.enterprise`` (as the agent serves)."""
    source = cfg.path(cfg.snmp.mib_dir) if cfg.snmp.mib_dir else mibs.default_mib_dir()
    out = mibs.with_enterprise(source, Path(args.out), cfg.snmp.enterprise)
    print(f"MIB texts for enterprise {cfg.snmp.enterprise} in {out}")
    return 0


def register(subparsers: Any) -> None:
    g = subparsers.add_parser("snmp", help="SNMP agent tools",
                              description="SNMP agent tools").add_subparsers(dest="sub", required=True)
    c = g.add_parser("compile-mibs", help="compile mibs/ with pysmi",
                     description="compile the agent's MIB modules from their SMIv2 texts with pysmi")
    c.set_defaults(func=cmd_compile)
    c.add_argument("--mibs", help="MIB text directory (default: the package's mibs/)")
    c.add_argument("--out", help="output directory (default: <data_dir>/snmp/mibs)")
    c.add_argument("--bundle", action="store_true", help="write the bundle shipped in the package")
    e = g.add_parser("export-mibs", help="write the MIB texts for a manager (enterprise root: snmp.enterprise)",
                     description="copy mibs/ with the enterprise root at snmp.enterprise, as the agent serves it")
    e.set_defaults(func=cmd_export)
    e.add_argument("out", help="directory to write the .txt modules into")
