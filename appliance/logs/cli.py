"""``appliance logs ...``: query the live transaction logs, run the IPDR archive now."""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from ..config import Config
from .fifo import ReadStats, read_log

IDENTITY_KEYS = ("subscriber", "username", "imsi", "msisdn", "nai", "calling_party")


def _time_us(text: str | None) -> int | None:
    from ..cli import CliError
    from .ipdr import parse_iso
    if text is None:
        return None
    if text.isdigit():
        return int(text) * 1_000_000
    try:
        return parse_iso(text)
    except ValueError:
        raise CliError(f"bad time {text!r}: use epoch seconds or ISO 8601") from None


def matches(rec: dict[str, Any], subscriber: str | None, session: str | None) -> bool:
    if session is not None and rec.get("session_id") != session:
        return False
    return subscriber is None or any(rec.get(k) == subscriber for k in IDENTITY_KEYS)


def cmd_query(cfg: Config, args: argparse.Namespace) -> int:
    since, until = _time_us(args.start), _time_us(args.end)
    kinds = ("acct", "auth") if args.log == "all" else (args.log,)
    dirs = {"acct": cfg.logs.acct_log_dir, "auth": cfg.logs.auth_log_dir}
    shown = skipped = 0
    out = sys.stdout
    for kind in kinds:
        stats = ReadStats()
        for rec in read_log(cfg.path(dirs[kind]), kind, stats, since, until):
            if not matches(rec, args.subscriber, args.session):
                continue
            if args.log == "all":
                rec = {"log": kind, **rec}
            out.write(json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n")
            shown += 1
            if args.limit and shown >= args.limit:
                break
        skipped += stats.skipped
        for b in stats.bad_files:
            print(f"appliance logs query: warning: {b}: not a log file, skipped", file=sys.stderr)
        if args.limit and shown >= args.limit:
            break
    if skipped:
        print(f"appliance logs query: {skipped} torn or corrupt records skipped", file=sys.stderr)
    return 0


def cmd_archive(cfg: Config, args: argparse.Namespace) -> int:
    from .archive import archive_acct_logs, archive_period
    if args.start is not None or args.end is not None:
        start = (_time_us(args.start) or 0) // 1_000_000
        end = (_time_us(args.end) or int(time.time()) * 1_000_000) // 1_000_000
        doc, count, stats = archive_period(cfg, start, end)
    else:
        made = archive_acct_logs(cfg, None, int(time.time()))
        if made is None:
            print(json.dumps({"archived": None, "reason": "current period already archived"}))
            return 0
        doc, count, stats = made, None, None
    print(json.dumps({"archived": str(doc), "ipdrs": count, "skipped": stats.skipped if stats else None}))
    return 0


def register(subparsers: Any) -> None:
    g = subparsers.add_parser("logs", help="transaction logs (query, archive)",
                              description="transaction logs").add_subparsers(dest="sub", required=True)
    q = g.add_parser("query", help="print matching transactions as JSON lines",
                     description="print matching live transaction records as JSON lines")
    q.set_defaults(func=cmd_query)
    q.add_argument("--log", choices=("acct", "auth", "all"), default="all")
    q.add_argument("--subscriber", help="service id, IMSI, MSISDN, NAI or User-Name")
    q.add_argument("--session", help="session id")
    q.add_argument("--start", help="from (epoch seconds or ISO 8601, inclusive)")
    q.add_argument("--end", help="until (epoch seconds or ISO 8601, exclusive)")
    q.add_argument("--limit", type=int, default=0, help="at most this many records")
    a = g.add_parser("archive", help="write an IPDR document now",
                     description="archive finished periods now (as the scheduled duty), or with "
                                 "--start/--end the sessions ending in that range")
    a.set_defaults(func=cmd_archive)
    a.add_argument("--start")
    a.add_argument("--end")
