"""``appliance policy ...``: policy tables, rules, monitoring keys, attachment and pushes.

Every change that affects live Gx sessions queues a push; the Diameter worker
holding the session sends the RAR (``gx_push`` documents, see tables.py).
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ..cli import CliError, _emit, _tx
from ..config import Config
from ..ocs.policy import (
    RESET_PERIODS,
    Arp,
    ChargingKey,
    Flow,
    FlowDirection,
    MeteringMethod,
    MonitoringQuota,
    PolicyRule,
    PolicyTable,
    QoS,
    RuleKind,
    SessionQoS,
)
from ..ocs.ports import Ledger
from . import engine
from . import tables as T

R = TypeVar("R")


def _run(cfg: Config, fn: Callable[[Ledger], R]) -> R:
    try:
        return _tx(cfg, fn)
    except T.PolicyError as exc:
        raise CliError(str(exc)) from None


def _pair(text: str | None, what: str) -> tuple[int | None, int | None]:
    """``UL/DL`` in bit/s (either side may be empty)."""
    if text is None:
        return None, None
    ul, sep, dl = text.partition("/")
    if not sep:
        dl = ul
    try:
        return (int(ul) if ul else None), (int(dl) if dl else None)
    except ValueError:
        raise CliError(f"bad {what} {text!r}: use UL/DL in bit/s") from None


def _arp(text: str | None) -> Arp | None:
    """``PRIORITY[,capable][,invulnerable]``."""
    if text is None:
        return None
    parts = [p.strip().lower() for p in text.split(",")]
    try:
        return Arp(int(parts[0]), "capable" in parts[1:], "invulnerable" not in parts[1:])
    except ValueError as exc:
        raise CliError(f"bad ARP {text!r}: {exc}") from None


def _table_from_args(args: argparse.Namespace, old: PolicyTable | None) -> PolicyTable:
    if args.file:
        import yaml
        try:
            with open(args.file) as fh:
                doc = yaml.safe_load(fh)
        except (OSError, yaml.YAMLError) as exc:
            raise CliError(f"{args.file}: {exc}".splitlines()[0]) from None
        if not isinstance(doc, dict):
            raise CliError(f"{args.file}: a policy table is a mapping")
        doc.setdefault("name", args.name)
        return PolicyTable.from_doc(doc)
    session_qos = old.session_qos if old else None
    if args.apn_ambr:
        ul, dl = _pair(args.apn_ambr, "APN-AMBR")
        if ul is None or dl is None:
            raise CliError("--apn-ambr needs UL/DL")
        session_qos = SessionQoS(ul, dl, args.qci or 9, _arp(args.arp) or Arp())
    return PolicyTable(args.name, old.rules if old else (), old.monitoring if old else (), session_qos,
                       args.description if args.description is not None else (old.description if old else ""),
                       args.credit_throttle if args.credit_throttle is not None else
                       (old.credit_throttle if old else None))


def cmd_table_add(cfg: Config, args: argparse.Namespace) -> int:
    def put(ledger: Ledger) -> dict[str, Any]:
        try:
            table = _table_from_args(args, T.get_table(ledger, args.name))
        except (ValueError, TypeError) as exc:
            raise CliError(f"bad policy table: {exc}") from None
        queued = T.put_table(ledger, table)
        return {**table.to_doc(), "pushes": queued}
    _emit(_run(cfg, put))
    return 0


def cmd_table_list(cfg: Config, args: argparse.Namespace) -> int:
    for table in _run(cfg, T.list_tables):
        _emit(table.to_doc())
    return 0


def cmd_table_show(cfg: Config, args: argparse.Namespace) -> int:
    table = _run(cfg, lambda ledger: T.get_table(ledger, args.name))
    if table is None:
        raise CliError(f"no such policy table: {args.name}")
    _emit(table.to_doc())
    return 0


def cmd_table_remove(cfg: Config, args: argparse.Namespace) -> int:
    _emit({"removed": args.name, "pushes": _run(cfg, lambda ledger: T.delete_table(ledger, args.name, args.force))})
    return 0


def _rule_from_args(args: argparse.Namespace) -> PolicyRule:
    kind = RuleKind(args.kind)
    direction = FlowDirection[args.direction.upper()]
    flows = tuple(Flow(f, direction) for f in args.flow)
    qos = None
    if any(x is not None for x in (args.qci, args.arp, args.mbr, args.gbr)):
        mbr_ul, mbr_dl = _pair(args.mbr, "MBR")
        gbr_ul, gbr_dl = _pair(args.gbr, "GBR")
        qos = QoS(args.qci, _arp(args.arp), mbr_ul, mbr_dl, gbr_ul, gbr_dl)
    charging = None
    if any(x is not None for x in (args.rating_group, args.service_id, args.online, args.offline, args.metering)):
        charging = ChargingKey(args.rating_group, args.service_id, args.online, args.offline,
                               MeteringMethod[args.metering.upper()] if args.metering else None)
    return PolicyRule(args.rule, kind, args.precedence, flows, qos, charging, args.monitoring_key)


def cmd_rule_add(cfg: Config, args: argparse.Namespace) -> int:
    try:
        rule = _rule_from_args(args)
    except (ValueError, KeyError) as exc:
        raise CliError(f"bad rule: {exc}") from None

    def put(ledger: Ledger) -> int:
        try:
            return T.put_rule(ledger, args.table, rule)
        except ValueError as exc:
            if isinstance(exc, T.PolicyError):
                raise
            raise CliError(f"bad rule: {exc}") from None
    _emit({**rule.to_doc(), "table": args.table, "pushes": _run(cfg, put)})
    return 0


def cmd_rule_remove(cfg: Config, args: argparse.Namespace) -> int:
    queued = _run(cfg, lambda ledger: T.delete_rule(ledger, args.table, args.rule))
    _emit({"removed": args.rule, "table": args.table, "pushes": queued})
    return 0


def cmd_monitor_add(cfg: Config, args: argparse.Namespace) -> int:
    def put(ledger: Ledger) -> dict[str, Any]:
        table = T.get_table(ledger, args.table)
        if table is None:
            raise T.PolicyError(f"no such policy table: {args.table}")
        try:
            old = next((m for m in table.monitoring if m.key == args.key), None)
            # --reset omitted keeps the key's period: an update of the volume must not stop renewals
            reset = (old.reset if old else None) if args.reset is None else \
                (None if args.reset == "none" else args.reset)
            quota = MonitoringQuota(args.key, args.volume, args.grant, args.throttle, reset)
            keep = tuple(m for m in table.monitoring if m.key != args.key)
            new = PolicyTable(table.name, table.rules, (*keep, quota), table.session_qos, table.description,
                              table.credit_throttle)
        except ValueError as exc:
            raise CliError(f"bad monitoring key: {exc}") from None
        return {**quota.to_doc(), "table": table.name, "pushes": T.put_table(ledger, new)}
    _emit(_run(cfg, put))
    return 0


def cmd_monitor_remove(cfg: Config, args: argparse.Namespace) -> int:
    def put(ledger: Ledger) -> int:
        table = T.get_table(ledger, args.table)
        if table is None or all(m.key != args.key for m in table.monitoring):
            raise T.PolicyError(f"no monitoring key {args.key} in policy table {args.table}")
        new = PolicyTable(table.name, table.rules, tuple(m for m in table.monitoring if m.key != args.key),
                          table.session_qos, table.description, table.credit_throttle)
        return T.put_table(ledger, new)
    _emit({"removed": args.key, "table": args.table, "pushes": _run(cfg, put)})
    return 0


def cmd_attach(cfg: Config, args: argparse.Namespace) -> int:
    table = None if args.table in ("-", "none") else args.table
    if bool(args.offer) == bool(args.product):
        raise CliError("attach needs exactly one of --offer or --product")
    if args.offer:
        queued = _run(cfg, lambda ledger: T.attach_offer(ledger, args.offer, table))
    else:
        queued = _run(cfg, lambda ledger: T.attach_product(ledger, args.product, table))
    _emit({"offer": args.offer, "product": args.product, "policy_table": table, "pushes": queued})
    return 0


def cmd_set_offer(cfg: Config, args: argparse.Namespace) -> int:
    queued = _run(cfg, lambda ledger: T.change_offer(ledger, args.product, args.offer))
    _emit({"product": args.product, "offer": args.offer, "pushes": queued})
    return 0


def cmd_push(cfg: Config, args: argparse.Namespace) -> int:
    queued = _run(cfg, lambda ledger: T.queue_for_identity(ledger, args.identity, "operator push"))
    _emit({"identity": args.identity, "pushes": queued})
    return 0


def cmd_usage(cfg: Config, args: argparse.Namespace) -> int:
    def run(ledger: Ledger) -> dict[str, Any]:
        if ledger.get_product(args.product) is None:
            raise T.PolicyError(f"no such product: {args.product}")
        queued = T.reset_usage(ledger, args.product, args.key) if args.reset else 0
        out = {"product": args.product, "used": T.usage(ledger, args.product), "pushes": queued}
        periods = T.usage_periods(ledger, args.product)
        if periods:             # only for keys with a reset period (the document stays as it was)
            out["periods"] = periods
        return out
    _emit(_run(cfg, run))
    return 0


def cmd_sessions(cfg: Config, args: argparse.Namespace) -> int:
    if args.expire_idle is not None:
        before = int(time.time()) - args.expire_idle
        _emit({"expired": _run(cfg, lambda ledger: engine.expire_idle(ledger, before))})
        return 0
    for session in _run(cfg, lambda ledger: engine.list_sessions(ledger)):
        doc = session.to_doc()
        doc["installed"] = sorted(doc["installed"])
        doc["failed"] = sorted(doc["failed"])
        doc.pop("pending", None)
        _emit(doc)
    return 0


def register(sub: Any) -> None:
    top = sub.add_parser("policy", help="PCRF policy tables, rules and Gx sessions",
                         description="PCRF policy tables, rules and Gx sessions")
    groups = top.add_subparsers(dest="policy_group", required=True)

    def cmd(parent: Any, name: str, fn: Callable[..., int], help: str) -> argparse.ArgumentParser:
        sp = parent.add_parser(name, help=help, description=help)
        sp.set_defaults(func=fn)
        return sp

    g = groups.add_parser("table", help="policy tables").add_subparsers(dest="sub", required=True)
    a = cmd(g, "add", cmd_table_add, "create or update a policy table (keeps its rules)")
    a.add_argument("name")
    a.add_argument("--file", help="YAML table document (replaces the whole table)")
    a.add_argument("--description")
    a.add_argument("--apn-ambr", help="session APN-AMBR UL/DL in bit/s")
    a.add_argument("--qci", type=int, help="Default-EPS-Bearer-QoS QCI (with --apn-ambr)")
    a.add_argument("--arp", help="default bearer ARP: PRIORITY[,capable][,invulnerable]")
    a.add_argument("--credit-throttle", help="rule left alone while the subscriber is out of credit")
    cmd(g, "list", cmd_table_list, "list policy tables")
    s = cmd(g, "show", cmd_table_show, "show one policy table")
    s.add_argument("name")
    r = cmd(g, "remove", cmd_table_remove, "remove a policy table")
    r.add_argument("name")
    r.add_argument("--force", action="store_true", help="even when offers or products use it")

    g = groups.add_parser("rule", help="rules of a policy table").add_subparsers(dest="sub", required=True)
    a = cmd(g, "add", cmd_rule_add, "add or replace a rule (pushes to the sessions using the table)")
    a.add_argument("table")
    a.add_argument("rule")
    a.add_argument("--kind", choices=[k.value for k in RuleKind], default="dynamic")
    a.add_argument("--precedence", type=int)
    a.add_argument("--flow", action="append", default=[], help="IPFilterRule 'permit out ip from any to any'")
    a.add_argument("--direction", choices=[d.name.lower() for d in FlowDirection], default="bidirectional")
    a.add_argument("--qci", type=int)
    a.add_argument("--arp", help="PRIORITY[,capable][,invulnerable]")
    a.add_argument("--mbr", help="UL/DL bit/s")
    a.add_argument("--gbr", help="UL/DL bit/s")
    a.add_argument("--rating-group", type=int)
    a.add_argument("--service-id", type=int)
    a.add_argument("--online", type=lambda v: v.lower() in ("1", "true", "yes"), default=None)
    a.add_argument("--offline", type=lambda v: v.lower() in ("1", "true", "yes"), default=None)
    a.add_argument("--metering", choices=[m.name.lower() for m in MeteringMethod])
    a.add_argument("--monitoring-key")
    r = cmd(g, "remove", cmd_rule_remove, "remove a rule")
    r.add_argument("table")
    r.add_argument("rule")

    g = groups.add_parser("monitor", help="usage-monitoring keys").add_subparsers(dest="sub", required=True)
    a = cmd(g, "add", cmd_monitor_add, "add or replace a monitoring key's quota")
    a.add_argument("table")
    a.add_argument("key")
    a.add_argument("--volume", type=int, required=True, help="octets per period (both directions)")
    a.add_argument("--grant", type=int, help="octets per report threshold (default: all that is left)")
    a.add_argument("--throttle", help="rule installed once the quota is used up")
    a.add_argument("--reset", choices=[*RESET_PERIODS, "none"],
                   help="period after which the used volume starts again from zero, anchored on the "
                        "product's start like recurring fees (default: keep the key's, else none)")
    r = cmd(g, "remove", cmd_monitor_remove, "remove a monitoring key")
    r.add_argument("table")
    r.add_argument("key")

    a = cmd(groups, "attach", cmd_attach, "attach a policy table to an offer or a product ('none' detaches)")
    a.add_argument("table")
    a.add_argument("--offer")
    a.add_argument("--product")
    a = cmd(groups, "set-offer", cmd_set_offer, "move a product to another offer and push the new policy")
    a.add_argument("product")
    a.add_argument("offer")
    a = cmd(groups, "push", cmd_push, "re-send the policy of a subscriber's Gx sessions")
    a.add_argument("identity")
    a = cmd(groups, "usage", cmd_usage, "show (or --reset) a product's monitored usage")
    a.add_argument("product")
    a.add_argument("--reset", action="store_true")
    a.add_argument("--key", help="with --reset: only this monitoring key")
    a = cmd(groups, "sessions", cmd_sessions, "list Gx sessions")
    a.add_argument("--expire-idle", type=int, metavar="SECONDS",
                   help="instead: forget sessions without a CCR for this long (PCEF gone without CCR-T)")
