"""``appliance radius ...``: open sessions, clients (with their counter index), operator Disconnect.

``appliance radius disconnect --session SID [--nas NAS]`` or ``--user NAME`` sends a
Disconnect-Request (RFC 5176) for each matching accounting session to its NAS (the
address the accounting came from, the client's ``coa_port``), retransmits with
backoff, prints ACK/NAK/timeout and records it (``radius_disconnect/<session>``).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from ..config import Config
from .acct import SESSION_KIND
from .clients import ClientTable, load_in


def _emit(obj: Any) -> None:
    print(json.dumps(obj, sort_keys=True, default=str))


def _with_store(cfg: Config, fn: Any) -> Any:
    from ..ledger.api import attach
    from ..store import open_store
    store = attach(open_store(cfg))
    try:
        return fn(store)
    finally:
        store.close()


def _sessions(store: Any, args: argparse.Namespace) -> list[tuple[str, dict[str, Any]]]:
    prefix = f"{args.nas}|" if getattr(args, "nas", None) else ""
    found = store.transact(lambda l: l.list_docs(SESSION_KIND, prefix))
    out = []
    for key, doc in found:
        if getattr(args, "session", None) and doc.get("sid") != args.session:
            continue
        if getattr(args, "user", None) and args.user not in (doc.get("user"), doc.get("subscriber")):
            continue
        out.append((key, doc))
    return out


def cmd_sessions(cfg: Config, args: argparse.Namespace) -> int:
    def run(store: Any) -> int:
        for key, doc in _sessions(store, args):
            _emit(dict(doc, key=key))
        return 0
    return int(_with_store(cfg, run))


def cmd_clients(cfg: Config, args: argparse.Namespace) -> int:
    def run(store: Any) -> int:
        for c in store.transact(lambda l: load_in(l, cfg.radius.clients)):
            _emit({"index": c.index, "address": c.address, "name": c.name, "nas_type": c.nas_type,
                   "require_message_authenticator": c.require_message_authenticator, "coa_port": c.coa_port,
                   "source": c.source})
        return 0
    return int(_with_store(cfg, run))


def cmd_disconnect(cfg: Config, args: argparse.Namespace) -> int:
    if not (args.session or args.user):
        print("appliance: radius disconnect needs --session or --user", file=sys.stderr)
        return 1
    from .coa import disconnect_session

    def run(store: Any) -> int:
        sessions = _sessions(store, args)
        if not sessions:
            print("appliance: no matching open RADIUS session", file=sys.stderr)
            return 1
        table = ClientTable(store.transact(lambda l: load_in(l, cfg.radius.clients)))
        failures = 0
        for key, doc in sessions:
            client = table.lookup(doc.get("addr", "")) or table.lookup(doc.get("nas_ip") or "")
            if client is None:
                _emit({"session": doc.get("sid"), "nas": doc.get("nas"), "result": "no-client"})
                failures += 1
                continue
            session = dict(doc, coa_port=args.port or client.coa_port)
            result = asyncio.run(disconnect_session(store, key, session, client.secret,
                                                    args.timeout or cfg.radius.coa_timeout,
                                                    cfg.radius.coa_retries if args.retries is None else args.retries,
                                                    args.reason))
            _emit({"session": doc.get("sid"), "nas": doc.get("nas"), "result": result.result,
                   "code": result.code, "error_cause": result.error_cause, "attempts": result.attempts})
            failures += result.result != "ack"
        return 0 if not failures else 2
    return int(_with_store(cfg, run))


COA_ATTRIBUTES = {"session-timeout": 27, "idle-timeout": 28, "acct-interim-interval": 85, "filter-id": 11}


def _coa_changes(items: list[str]) -> list[tuple[int, bytes]]:
    changes = []
    for item in items:
        name, _, value = item.partition("=")
        code = COA_ATTRIBUTES.get(name.strip().lower())
        if code is None or not value:
            raise SystemExit(f"appliance: --set {item!r}: use NAME=VALUE with NAME one of {', '.join(COA_ATTRIBUTES)}")
        if code == 11:
            changes.append((code, value.encode()[:253]))
        else:
            try:
                changes.append((code, int(value).to_bytes(4, "big")))
            except (ValueError, OverflowError):
                raise SystemExit(f"appliance: --set {item!r}: not a 32-bit integer") from None
    return changes


def cmd_coa(cfg: Config, args: argparse.Namespace) -> int:
    changes = _coa_changes(args.set or [])
    if not changes or not (args.session or args.user):
        print("appliance: radius coa needs --session or --user and at least one --set", file=sys.stderr)
        return 1
    from .coa import coa_session

    def run(store: Any) -> int:
        sessions = _sessions(store, args)
        if not sessions:
            print("appliance: no matching open RADIUS session", file=sys.stderr)
            return 1
        table = ClientTable(store.transact(lambda l: load_in(l, cfg.radius.clients)))
        failures = 0
        for key, doc in sessions:
            client = table.lookup(doc.get("addr", "")) or table.lookup(doc.get("nas_ip") or "")
            if client is None:
                _emit({"session": doc.get("sid"), "nas": doc.get("nas"), "result": "no-client"})
                failures += 1
                continue
            result = asyncio.run(coa_session(store, key, dict(doc, coa_port=args.port or client.coa_port),
                                             client.secret, args.timeout or cfg.radius.coa_timeout,
                                             cfg.radius.coa_retries if args.retries is None else args.retries,
                                             args.reason, changes))
            _emit({"session": doc.get("sid"), "nas": doc.get("nas"), "result": result.result,
                   "code": result.code, "error_cause": result.error_cause, "attempts": result.attempts})
            failures += result.result != "ack"
        return 0 if not failures else 2
    return int(_with_store(cfg, run))


def register(subparsers: Any) -> None:
    g = subparsers.add_parser("radius", help="RADIUS sessions, clients, Disconnect",
                              description="RADIUS front end").add_subparsers(dest="sub", required=True)
    s = g.add_parser("sessions", help="open accounting sessions (JSON lines)")
    s.set_defaults(func=cmd_sessions)
    s.add_argument("--nas", help="NAS-Identifier / NAS-IP-Address")
    s.add_argument("--user", help="User-Name or service id")
    s.add_argument("--session", help="Acct-Session-Id")
    c = g.add_parser("clients", help="RADIUS clients with their counter index (no secrets)")
    c.set_defaults(func=cmd_clients)
    d = g.add_parser("disconnect", help="send Disconnect-Request (RFC 5176) for open sessions",
                     description="send Disconnect-Request for matching open sessions; exit 2 unless all ACKed")
    d.set_defaults(func=cmd_disconnect)
    d.add_argument("--session", help="Acct-Session-Id")
    d.add_argument("--nas", help="NAS-Identifier / NAS-IP-Address (narrows --session)")
    d.add_argument("--user", help="User-Name or service id: all of its sessions")
    d.add_argument("--reason", default="operator request")
    d.add_argument("--port", type=int, help="override the client's coa_port")
    d.add_argument("--timeout", type=float, help="first retransmission timeout (s)")
    d.add_argument("--retries", type=int)
    c2 = g.add_parser("coa", help="send CoA-Request (RFC 5176) changing session attributes",
                      description="send CoA-Request for matching open sessions; exit 2 unless all ACKed")
    c2.set_defaults(func=cmd_coa)
    c2.add_argument("--session", help="Acct-Session-Id")
    c2.add_argument("--nas", help="NAS-Identifier / NAS-IP-Address (narrows --session)")
    c2.add_argument("--user", help="User-Name or service id: all of its sessions")
    c2.add_argument("--set", action="append", metavar="NAME=VALUE",
                    help=f"attribute to change: {', '.join(COA_ATTRIBUTES)} (repeatable)")
    c2.add_argument("--reason", default="operator request")
    c2.add_argument("--port", type=int, help="override the client's coa_port")
    c2.add_argument("--timeout", type=float, help="first retransmission timeout (s)")
    c2.add_argument("--retries", type=int)
