#!/usr/bin/env python3
"""Bulk provisioning through the real command: ``appliance import FILE`` into a fresh SQLite store.

Writes N subscribers (IMSI, MSISDN, K, OPc, one product each, a money and an octets balance) as
CSV or JSON lines, runs the command once (the file is checked whole, then written in batches of
5,000 rows per transaction), and prints subscribers/s for the whole command (process start, the
check pass and the write pass included) and the rate the command itself reports.

usage: benchmarks/provision_import.py [--rows 100000] [--format csv|jsonl] [--again]
(--again imports the same file a second time: every id is replaced, no balance is added.)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def write_file(path: str, rows: int, fmt: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        if fmt == "csv":
            f.write("id,offer,imsi,msisdn,k,opc,money,octets\n")
        for n in range(rows):
            imsi, msisdn = f"00101{n:010d}", f"3361{n:08d}"
            k, opc = f"{n:032x}", f"{n * 7:032x}"
            if fmt == "csv":
                f.write(f"sub{n},bench,{imsi},{msisdn},{k},{opc},5000000,1000000000\n")
            else:
                f.write(json.dumps({"id": f"sub{n}", "offer": "bench", "imsi": imsi, "msisdn": msisdn, "k": k,
                                    "opc": opc, "money": 5_000_000, "octets": 1_000_000_000}) + "\n")


def appliance(conf: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "appliance", "--config", conf, *args], capture_output=True,
                          text=True, env=env, check=False, timeout=3600)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    ap.add_argument("--again", action="store_true")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-import-")
    conf = os.path.join(tmp, "appliance.yaml")
    with open(conf, "w") as f:
        f.write(f"data_dir: {tmp}/var\nrun_dir: {tmp}/run\nlog_dir: {tmp}/logs\n")
    out = appliance(conf, "offer", "add", "bench", "--price",
                    "name=data,type=usage,unit=octets,size=1000000,amount=20000")
    assert out.returncode == 0, out.stderr
    path = os.path.join(tmp, f"subscribers.{args.format}")
    write_file(path, args.rows, args.format)
    print(f"rows={args.rows} format={args.format} file={os.path.getsize(path):,} bytes cpus={os.cpu_count()}")
    for attempt in range(2 if args.again else 1):
        t0 = time.perf_counter()
        cpu0 = os.times()
        out = appliance(conf, "import", path)
        elapsed = time.perf_counter() - t0
        cpu1 = os.times()
        assert out.returncode == 0, out.stderr
        summary = json.loads(out.stdout)
        child_cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
        print(f"{'again' if attempt else 'first'}: {summary['imported']:,} subscribers in {elapsed:.2f} s: "
              f"{summary['imported'] / elapsed:,.0f}/s for the command, {summary['per_second']:,}/s writing "
              f"(its summary), cpu {child_cpu:.2f} s")
    db = os.path.join(tmp, "var", "appliance.db")
    print(f"database {os.path.getsize(db):,} bytes")


if __name__ == "__main__":
    main()
