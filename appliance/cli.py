"""The ``appliance`` command.  Errors are one line on stderr and a non-zero exit.

Front-end packages add subcommands with a module ``appliance.<pkg>.cli`` that
defines ``register(subparsers)``; see :data:`PLUGINS`.  A plugin's module is imported only when
one of its commands runs (:data:`PLUGIN_COMMANDS` lists them for ``--help``): the REST plugin
alone would cost every command the import of aiohttp.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC
from typing import Any

from . import __version__
from .config import Config, ConfigError, load
from .ocs.balance import NewBucket
from .ocs.catalog import Offer, PrefixTable, Price
from .ocs.inventory import Credentials, Product, Service
from .ocs.units import Unit

PLUGINS = ("radius", "diameter", "eap", "pcrf", "snmp", "rest", "logs", "aaa", "store", "provision")
#: top-level command -> (plugin, one-line help), in the order ``--help`` lists them; a test checks it
#: against what each plugin's ``register`` adds
PLUGIN_COMMANDS: dict[str, tuple[str, str]] = {
    "radius": ("radius", "RADIUS sessions, clients, Disconnect"),
    "diameter-client": ("diameter", "send Credit-Control requests to an OCS and print answers"),
    "tls": ("eap", "the server certificate (show, csr, install)"),
    "policy": ("pcrf", "PCRF policy tables, rules and Gx sessions"),
    "snmp": ("snmp", "SNMP agent tools"),
    "user": ("rest", "REST API users"),
    "logs": ("logs", "transaction logs (query, archive)"),
    "db": ("store", "database schema and backend moves"),
    "import": ("provision", "bulk provisioning: services, products and initial balances from CSV or JSON lines"),
}


class CliError(Exception):
    """A user error: printed as one line, exit status 1."""


def _store(cfg: Config) -> Any:
    from .ledger.api import attach
    from .store import open_store
    from .telemetry import events, metrics
    if not metrics.default().path:        # no counter file: credit events still reach the agent
        events.configure(cfg.path(cfg.run_dir))
    return attach(open_store(cfg))


def _tx(cfg: Config, fn: Callable[[Any], Any]) -> Any:
    store = _store(cfg)
    try:
        return store.transact(fn)
    finally:
        store.close()


def _emit(obj: Any) -> None:
    print(json.dumps(obj, sort_keys=True, default=str))


def _parse_time(text: str | None) -> int | None:
    if text is None:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    from datetime import datetime
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"bad time {text!r}: use epoch seconds or ISO 8601") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def _parse_price(text: str) -> Price:
    """``name=N,type=recurring,period=monthly,amount=30000000,allowance=octets:1000000000/seconds:6000``:
    the keys of :data:`~appliance.ocs.catalog.PRICE_KEYS`; lists are ``/``-separated."""
    doc: dict[str, Any] = {}
    try:
        for part in text.split(","):
            if "=" not in part:
                raise CliError(f"bad price field {part!r}: use key=value,key=value")
            k, v = part.split("=", 1)
            k, v = k.strip(), v.strip()
            if k in doc:
                raise CliError(f"bad price {text!r}: {k} given twice")
            doc[k] = v
            if k in ("amount", "size", "rollover") and v.lstrip("-").isascii() and v.lstrip("-").isdigit():
                doc[k] = int(v)
            elif k == "rating_groups":
                doc[k] = [int(x) for x in v.split("/") if x]
            elif k == "overdraft":
                doc[k] = v.lower() in ("1", "true", "yes")
            elif k == "allowance":
                doc[k] = {}
                for item in v.split("/"):
                    unit, sep, amount = item.partition(":")
                    if not sep or not amount.isascii() or not amount.isdigit() or unit.strip() in doc[k]:
                        raise CliError(f"bad price {text!r}: allowance is UNIT:AMOUNT[/UNIT:AMOUNT], "
                                       "e.g. octets:1000000000/seconds:6000")
                    doc[k][unit.strip()] = int(amount)
        doc.setdefault("name", doc.get("unit", "price"))
        return Price.from_doc(doc)
    except (KeyError, ValueError) as exc:
        raise CliError(f"bad price {text!r}: {exc}") from None


# --- command handlers -------------------------------------------------------------------------

def cmd_init(cfg: Config, args: argparse.Namespace) -> int:
    from .tls import ensure_certificate
    for d in (cfg.data_dir, cfg.run_dir, cfg.log_dir):
        cfg.path(d).mkdir(parents=True, exist_ok=True)
    store = _store(cfg)
    counts = store.transact(lambda l: l.counts())
    store.close()
    cert, _key = ensure_certificate(cfg)
    _emit({"database": str(cfg.database_path) if cfg.database.backend == "sqlite" else "postgres",
           "certificate": str(cert), "counts": counts})
    return 0


def cmd_start(cfg: Config, args: argparse.Namespace) -> int:
    from .config import check_files
    from .supervise import exec_supervisor
    check_files(cfg)
    cmd_init(cfg, args)
    exec_supervisor(cfg)
    return 0  # not reached


def cmd_status(cfg: Config, args: argparse.Namespace) -> int:
    from .supervise import supervisorctl
    from .telemetry import metrics
    rc = supervisorctl(cfg, "status")
    counters = metrics.read_all(cfg.path(cfg.run_dir))
    if args.counters:
        _emit(counters)
    return rc


def cmd_stop(cfg: Config, args: argparse.Namespace) -> int:
    from .supervise import supervisorctl
    return supervisorctl(cfg, "shutdown")


def cmd_run(cfg: Config, args: argparse.Namespace) -> int:
    from .runtime import run_role
    return run_role(cfg, args.role, args.index)


def cmd_config_check(cfg: Config, args: argparse.Namespace) -> int:
    from .config import check_files
    check_files(cfg)
    _emit({"ok": True, "source": cfg.source or "<embedded defaults>"})
    return 0


def cmd_config_show(cfg: Config, args: argparse.Namespace) -> int:
    import yaml

    from .config import to_doc
    print(f"# source: {cfg.source or '<embedded defaults>'}{'' if args.secrets else ' (secrets masked)'}")
    print(yaml.safe_dump(to_doc(Config() if args.defaults else cfg, mask=not args.secrets),
                         sort_keys=False, default_flow_style=False), end="")
    return 0


def cmd_offer_add(cfg: Config, args: argparse.Namespace) -> int:
    """Add an offer, or replace what the command names in an existing one: what it does not name
    (prices, bundle, description, policy table, extra) is kept."""
    if args.file:
        import yaml
        with open(args.file) as fh:
            doc = yaml.safe_load(fh)
        if not isinstance(doc, dict) or "name" not in doc:
            raise CliError(f"{args.file}: bad offer: a mapping with a name is needed")
        where = f"{args.file}: bad offer"
    else:
        if not args.name:
            raise CliError("offer add needs NAME or --file")
        doc = {"name": args.name}
        if args.price:
            doc["prices"] = [_parse_price(p).to_doc() for p in args.price]
        if args.bundle:
            doc["bundle"] = [b for b in args.bundle if b]            # --bundle '' empties the bundle
        if args.description is not None:
            doc["description"] = args.description
        if args.policy_table is not None:
            doc["policy_table"] = args.policy_table or None          # --policy-table '' detaches
        where = "bad offer"

    def put(l: Any) -> Offer:
        from .ocs.catalog import CatalogError, effective_offer
        from .pcrf.tables import get_table, queue_for_product
        try:
            old = l.get_offer(str(doc["name"]))
        except ValueError as exc:        # stored by an older release, no longer valid: replace its prices
            if "prices" not in doc:
                raise CliError(f"{where}: the stored offer no longer loads ({exc}); give its prices") from None
            old = None
        merged = {**(old.to_doc() if old is not None else {}), **doc}
        if old is not None and "prices" in doc and "extra" not in doc and "productOfferingPrice" in old.extra:
            merged["extra"] = {k: v for k, v in old.extra.items() if k != "productOfferingPrice"}  # stale refs
        try:
            offer = Offer.from_doc(merged)
        except (KeyError, ValueError, TypeError) as exc:
            raise CliError(f"{where}: {exc}") from None
        try:
            effective_offer(offer, lambda n: offer if n == offer.name else l.get_offer(n))
        except CatalogError as exc:
            raise CliError(f"{where}: {exc}") from None
        if offer.policy_table and get_table(l, offer.policy_table) is None:
            raise CliError(f"{where}: no such policy table: {offer.policy_table}")
        l.put_offer(offer)
        if old is not None and old.policy_table != offer.policy_table:
            for product in l.list_products():        # live Gx sessions get the new table's rules
                if product.offer == offer.name and not product.policy_table:
                    queue_for_product(l, product.id, "offer policy changed")
        return offer
    offer = _tx(cfg, put)
    _emit(offer.to_doc())
    return 0


def cmd_offer_remove(cfg: Config, args: argparse.Namespace) -> int:
    def remove(l: Any) -> bool:
        if args.force:                    # also the way out when a stored offer no longer loads
            return bool(l.delete_offer(args.name))
        try:
            offers = l.list_offers()
        except ValueError as exc:
            raise CliError(f"the catalog holds an offer that no longer loads ({exc}); "
                           "remove that one with --force") from None
        users = [o.name for o in offers if args.name in o.bundle]
        if users:
            raise CliError(f"offer {args.name} is bundled by offer {users[0]}")
        products = [p.id for p in l.list_products() if p.offer == args.name]
        if products:
            raise CliError(f"offer {args.name} is used by product {products[0]}")
        return bool(l.delete_offer(args.name))
    return _remove(cfg, "offer", remove, args.name)


def cmd_offer_list(cfg: Config, args: argparse.Namespace) -> int:
    try:
        offers = _tx(cfg, lambda l: l.list_offers())
    except ValueError as exc:
        raise CliError(f"the catalog holds an offer that no longer loads: {exc} "
                       "(offer add NAME with valid prices replaces it; offer remove NAME --force removes it)") from None
    for offer in offers:
        _emit(offer.to_doc())
    return 0


def _remove(cfg: Config, what: str, fn: Callable[[Any], bool], key: Any) -> int:
    if not _tx(cfg, fn):
        raise CliError(f"no such {what}: {key}")
    return 0


def cmd_table_add(cfg: Config, args: argparse.Namespace) -> int:
    rates: dict[str, int] = {}
    for item in args.rate:
        prefix, _, amount = item.partition("=")
        if not (amount.lstrip("-").isascii() and amount.lstrip("-").isdigit()):
            raise CliError(f"bad rate {item!r}: use PREFIX=AMOUNT (integer money units)")
        rates[prefix] = int(amount)
    table = PrefixTable(args.name, rates)
    _tx(cfg, lambda l: l.put_table(table))
    _emit({"name": table.name, "rates": rates})
    return 0


def cmd_table_list(cfg: Config, args: argparse.Namespace) -> int:
    for t in _tx(cfg, lambda l: l.list_tables()):
        _emit({"name": t.name, "rates": dict(t.rates)})
    return 0


def cmd_product_add(cfg: Config, args: argparse.Namespace) -> int:
    product = Product(args.id, args.offer, _parse_time(args.start), _parse_time(args.end), args.policy_table)

    def put(l: Any) -> None:
        from .pcrf.tables import queue_for_product
        if l.get_offer(product.offer) is None:
            raise CliError(f"no such offer: {product.offer}")
        old = l.get_product(product.id)
        l.put_product(product)
        if old is not None and (old.offer, old.policy_table) != (product.offer, product.policy_table):
            queue_for_product(l, product.id, "offer changed")     # live Gx sessions get the new policy
    _tx(cfg, put)
    _emit(asdict(product))
    return 0


def cmd_product_list(cfg: Config, args: argparse.Namespace) -> int:
    for p in _tx(cfg, lambda l: l.list_products()):
        _emit(asdict(p))
    return 0


def _service_public(s: Service) -> dict[str, Any]:
    return {"id": s.id, "product": s.product_id, "imsi": s.imsi, "msisdn": s.msisdn, "nai": s.nai,
            "enabled": s.enabled, "credentials": repr(s.credentials)}


SECRET_KEYS = ("password", "k", "opc", "op")


def _read_secrets(source: str) -> dict[str, str]:
    """``--secrets FILE`` (``-``: stdin): ``key=value`` lines for password, k, opc and op, so that no
    secret is on the command line (``ps``, shell history); blank lines and ``#`` remarks are skipped."""
    try:
        text = sys.stdin.read(65536) if source == "-" else open(source, encoding="utf-8").read(65536)
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read secrets from {source}: {exc}") from None
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip().lower()
        if not sep or key not in SECRET_KEYS or key in found:
            raise CliError(f"{source}: line {number}: expected one of {', '.join(SECRET_KEYS)} as key=value, "
                           "each once")
        found[key] = value.strip()
    return found


def cmd_service_add(cfg: Config, args: argparse.Namespace) -> int:
    on_command_line = [f"--{k}" for k in SECRET_KEYS if getattr(args, k)]
    if args.secrets:
        given = _read_secrets(args.secrets)
        twice = [k for k in given if getattr(args, k)]
        if twice:
            raise CliError(f"{twice[0]} given both in --secrets and as --{twice[0]}")
        for key, value in given.items():
            setattr(args, key, value)
    try:
        creds = Credentials(args.password, bytes.fromhex(args.k) if args.k else None,
                            bytes.fromhex(args.opc) if args.opc else None,
                            bytes.fromhex(args.amf) if args.amf else b"\x80\x00", args.sqn)
    except ValueError:
        raise CliError("K, OPc and AMF are hex strings") from None
    if args.op:
        from .ocs.inventory import Credentials as C
        try:
            from .eap.milenage import opc_from_op  # type: ignore[import-not-found]
        except ImportError:
            raise CliError("--op needs the EAP-AKA support (use --opc)") from None
        creds = C(creds.password, creds.k, opc_from_op(creds.k, bytes.fromhex(args.op)), creds.amf, creds.sqn)
    if args.pap_only:
        if not creds.password:
            raise CliError("--pap-only needs a password")
        from dataclasses import replace as _replace

        from .ocs.passwords import hash_password
        creds = _replace(creds, password=hash_password(creds.password))
    service = Service(args.id, args.product, args.imsi, args.msisdn, args.nai, not args.disabled, creds)

    def put(l: Any) -> None:
        if service.product_id and l.get_product(service.product_id) is None:
            raise CliError(f"no such product: {service.product_id}")
        l.put_service(service)
    try:
        _tx(cfg, put)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    _emit(_service_public(service))
    if on_command_line:
        print(f"appliance: warning: {', '.join(on_command_line)} on the command line can be read in ps and "
              "shell history; use --secrets FILE (or - for stdin)", file=sys.stderr)
    return 0


def cmd_service_list(cfg: Config, args: argparse.Namespace) -> int:
    for s in _tx(cfg, lambda l: l.list_services()):
        _emit(_service_public(s))
    return 0


def cmd_bucket_add(cfg: Config, args: argparse.Namespace) -> int:
    try:
        unit = Unit.parse(args.unit)
    except ValueError:
        raise CliError(f"bad unit {args.unit!r}: money, octets, seconds or messages") from None
    amount = args.amount
    if not (amount.isascii() and amount.isdigit()) or len(amount) > 16:
        # int() would take " 12 ", "+12" or "١٢"; a bucket below zero is refused as by REST (422)
        raise CliError(f"bad amount {amount!r}: a whole number of units, ASCII digits 0-9, not negative")
    bucket = NewBucket(args.product, unit, int(amount), _parse_time(args.end), args.name or "")

    try:
        bid = _ledger(cfg, "top_up", uuid.uuid4().hex, int(time.time()), bucket.product_id, bucket.unit.value,
                      bucket.remaining, bucket.end, _parse_time(args.start), bucket.name)
    except LookupError as exc:
        raise CliError(str(exc).strip("'\"")) from None
    _emit({"id": bid, "product": bucket.product_id, "unit": unit.value, "remaining": bucket.remaining,
           "end": bucket.end})
    return 0


def _ledger(cfg: Config, name: str, *args: Any) -> Any:
    """A named ledger operation (:mod:`appliance.ledger.operations`): sent to the ledger role when it
    runs (the one writer of balances), else run in a store transaction of this command."""
    from .ledger.server import sharded, socket_path
    path = socket_path(cfg)
    if cfg.processes.ledger > 0 and path.exists():
        from .ledger.remote import LedgerFailed, LedgerUnavailable, call_blocking
        try:
            if sharded(cfg):             # to the ledger holding the product's shard, on whichever node
                from .ledger.routing import call_routed
                return call_routed(cfg, name, args)
            return call_blocking(str(path), name, args, max(cfg.processes.ledger_timeout, 5.0))
        except LedgerUnavailable as exc:
            raise CliError(f"the ledger does not answer: {exc} (is the appliance running? 'appliance status' "
                               "lists the ledger role)") from None
        except LedgerFailed as exc:
            if exc.name == "LookupError":
                raise LookupError(exc.reason) from None
            raise CliError(f"the ledger refused {name}: {exc.reason}") from None
    from .config import charging_policy
    from .ledger.api import attach
    from .ledger.operations import operations
    fn = operations(charging_policy(cfg))[name][0]
    store = attach(_store(cfg))
    try:
        return store.transact(lambda l: fn(l, *args))
    finally:
        store.close()


def _remove_bucket(cfg: Config, bucket_id: int) -> int:
    if not _ledger(cfg, "remove_bucket", uuid.uuid4().hex, int(time.time()), bucket_id):
        raise CliError(f"no such bucket: {bucket_id}")
    return 0


def cmd_bucket_list(cfg: Config, args: argparse.Namespace) -> int:
    for b in _tx(cfg, lambda l: l.list_buckets(args.product)):
        _emit({"id": b.id, "product": b.product_id, "unit": b.unit.value, "remaining": b.remaining,
               "start": b.start, "end": b.end, "name": b.name})
    return 0


def cmd_balance(cfg: Config, args: argparse.Namespace) -> int:
    from .ledger import book
    now = int(time.time())

    def read(l: Any) -> tuple[Any, list[dict[str, Any]]]:
        bal = book.balance(l, args.identity, now)
        if bal is None:
            return None, []
        allowances = [{"id": b.id, "name": b.name, "unit": b.unit.value, "remaining": b.remaining, "end": b.end}
                      for b in sorted(l.buckets(bal.product_id), key=lambda b: (b.end or 1 << 62, b.id))
                      if b.name.startswith("allowance:") and b.usable(now)]
        return bal, allowances
    bal, allowances = _tx(cfg, read)
    if bal is None:
        raise CliError(f"unknown subscriber: {args.identity}")
    _emit({**asdict(bal), "allowances": allowances})   # allowances: counted in totals too
    return 0


def cmd_trace(cfg: Config, args: argparse.Namespace) -> int:
    """Follow one subscriber's requests and answers across the node's workers (appliance/trace.py)."""
    from . import trace

    def find(l: Any) -> Any:
        return l.find_subscriber(args.identity)[0]
    service = _tx(cfg, find)
    identities = list(service.identities()) if service is not None else [args.identity]
    record = open(args.record, "a", encoding="utf-8") if args.record else None

    def emit(event: dict[str, Any]) -> None:
        line = json.dumps(event, default=str, ensure_ascii=False)
        print(line, flush=True)
        if record is not None:
            record.write(line + "\n")
            record.flush()

    print(json.dumps({"event": "tracing", "identities": identities, "minutes": args.minutes,
                      "events": args.events}), file=sys.stderr, flush=True)
    store = trace.shared_store(cfg)          # PostgreSQL: the other nodes' workers follow it too
    try:
        trace.follow(cfg.path(cfg.run_dir), identities, args.minutes * 60, args.events, emit,
                     store=store, node=cfg.node.host)
    finally:
        if record is not None:
            record.close()
        if store is not None:
            store.close()
    return 0


def cmd_client_add(cfg: Config, args: argparse.Namespace) -> int:
    import ipaddress
    client = {"address": args.address, "protocol": args.protocol, "name": args.name or ""}
    if args.protocol == "diameter":              # ADDRESS is the peer's Origin-Host (DiameterIdentity)
        if args.secret:
            raise CliError("a Diameter peer has no --secret (use TLS: docs/security.md)")
        if args.ip:
            try:
                ipaddress.ip_network(args.ip, strict=False)
            except ValueError:
                raise CliError(f"bad --ip {args.ip!r}: an address or prefix (CIDR)") from None
            client["ip"] = args.ip
    if args.protocol == "radius":
        try:
            ipaddress.ip_network(args.address, strict=False)
        except ValueError:
            raise CliError(f"bad address {args.address!r}: a RADIUS client is an address or prefix (CIDR)") \
                from None
        if args.ip:
            raise CliError("--ip is for Diameter peers (a RADIUS client's ADDRESS is its address)")
        if not args.secret:
            raise CliError("a RADIUS client needs --secret")
        client.update(secret=args.secret, nas_type=args.nas_type,
                      require_message_authenticator=not args.no_message_authenticator)
    _tx(cfg, lambda l: l.put_client(client))
    _emit({k: ("***" if k == "secret" else v) for k, v in client.items()})
    return 0


def cmd_client_list(cfg: Config, args: argparse.Namespace) -> int:
    for c in _tx(cfg, lambda l: l.list_clients(args.protocol)):
        _emit({k: ("***" if k == "secret" else v) for k, v in c.items()})
    return 0


# --- parser -----------------------------------------------------------------------------------

def command_of(argv: list[str]) -> str | None:
    """The command named on a command line: its first word that is not a global option."""
    words = iter(argv)
    for word in words:
        if word in ("--config", "-c"):
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; given ``argv``, only the plugin of its command is imported (the other
    plugins' commands are listed, with their help, but parse nothing)."""
    p = argparse.ArgumentParser(prog="appliance", description="OCS / AAA / PCRF appliance")
    p.add_argument("--config", "-c", help="configuration file (default: $APPLIANCE_CONFIG, "
                                          "/etc/ocs-appliance/appliance.yaml, else embedded defaults)")
    p.add_argument("--version", action="version", version=f"appliance {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def cmd(name: str, fn: Callable[..., int], help: str, parent: Any = sub) -> argparse.ArgumentParser:
        sp = parent.add_parser(name, help=help, description=help)
        sp.set_defaults(func=fn)
        return sp

    cmd("init", cmd_init, "create/migrate the database and the self-signed certificate")
    cmd("start", cmd_start, "start the supervised process set in the foreground")
    s = cmd("status", cmd_status, "show the processes (and counters with --counters)")
    s.add_argument("--counters", action="store_true")
    cmd("stop", cmd_stop, "stop a running process set")
    r = cmd("run", cmd_run, "run one worker role (used by the supervisor)")
    r.add_argument("role")
    r.add_argument("--index", type=int, default=0)
    conf = sub.add_parser("config", help="configuration tools").add_subparsers(dest="sub", required=True)
    cmd("check", cmd_config_check, "validate the configuration and exit", conf)
    s = cmd("show", cmd_config_show, "print the effective configuration (every key) as YAML", conf)
    s.add_argument("--defaults", action="store_true", help="the embedded defaults instead")
    s.add_argument("--secrets", action="store_true", help="print secrets instead of ********")

    def group(name: str, help: str) -> Any:
        return sub.add_parser(name, help=help, description=help).add_subparsers(dest="sub", required=True)

    g = group("offer", "product offerings (catalog)")
    a = cmd("add", cmd_offer_add, "add an offer, or replace what is named in one (the rest is kept)", g)
    a.add_argument("name", nargs="?")
    a.add_argument("--price", action="append", default=[],
                   help="name=N,type=usage,unit=octets,size=1000000,amount=20000[,service=data]"
                        "[,tariff=T][,roaming=R][,rating_groups=1/2][,overdraft=true]; fees: type=recurring,"
                        "period=hourly|daily|weekly|monthly|yearly or type=one_time, with "
                        "[,allowance=octets:1000000000/seconds:6000][,rollover=N][,validity=30d] "
                        "(given: replaces all the prices)")
    a.add_argument("--bundle", action="append", default=[], help="an offer bundled (repeat; '' empties)")
    a.add_argument("--description")
    a.add_argument("--policy-table", help="'' detaches")
    a.add_argument("--file", help="YAML offer document")
    cmd("list", cmd_offer_list, "list offers", g)
    rm = cmd("remove", cmd_offer_remove, "remove an offer (not one a product uses or an offer bundles)", g)
    rm.add_argument("name")
    rm.add_argument("--force", action="store_true", help="even when used or bundled (no check)")

    g = group("table", "tariff and roaming tables (prefix -> rate)")
    a = cmd("add", cmd_table_add, "add or replace a table", g)
    a.add_argument("name")
    a.add_argument("--rate", action="append", default=[], help="PREFIX=AMOUNT")
    cmd("list", cmd_table_list, "list tables", g)
    rm = cmd("remove", lambda c, a: _remove(c, "table", lambda l: l.delete_table(a.name), a.name),
             "remove a table", g)
    rm.add_argument("name")

    g = group("product", "product inventory (subscriptions)")
    a = cmd("add", cmd_product_add, "add or replace a product", g)
    a.add_argument("id")
    a.add_argument("--offer", required=True)
    a.add_argument("--start")
    a.add_argument("--end")
    a.add_argument("--policy-table")
    cmd("list", cmd_product_list, "list products", g)
    rm = cmd("remove", lambda c, a: _remove(c, "product", lambda l: l.delete_product(a.id), a.id),
             "remove a product and its buckets", g)
    rm.add_argument("id")

    g = group("service", "service inventory (subscriber identities and credentials)")
    a = cmd("add", cmd_service_add, "add or replace a service", g)
    a.add_argument("id")
    a.add_argument("--product")
    a.add_argument("--imsi")
    a.add_argument("--msisdn")
    a.add_argument("--nai")
    a.add_argument("--secrets", metavar="FILE",
                   help="password, k, opc, op as key=value lines from FILE, or - for stdin (preferred: "
                        "the options below show the secret to ps and shell history)")
    a.add_argument("--password", help="visible in ps: prefer --secrets")
    a.add_argument("--k", help="hex; visible in ps: prefer --secrets")
    a.add_argument("--opc", help="hex; visible in ps: prefer --secrets")
    a.add_argument("--op", help="hex (OPc is derived and stored); visible in ps: prefer --secrets")
    a.add_argument("--amf", help="hex, default 8000")
    a.add_argument("--sqn", type=int, default=0)
    a.add_argument("--disabled", action="store_true")
    a.add_argument("--pap-only", action="store_true",
                   help="store the password as a salted hash: PAP (and TTLS inner PAP) only, no CHAP/EAP")
    cmd("list", cmd_service_list, "list services (secrets are not shown)", g)
    rm = cmd("remove", lambda c, a: _remove(c, "service", lambda l: l.delete_service(a.id), a.id),
             "remove a service", g)
    rm.add_argument("id")

    g = group("bucket", "balance buckets")
    a = cmd("add", cmd_bucket_add, "add a bucket (top-up)", g)
    a.add_argument("product")
    a.add_argument("--unit", required=True)
    a.add_argument("--amount", required=True, help="integer units (money in minor units), not negative")
    a.add_argument("--start")
    a.add_argument("--end")
    a.add_argument("--name")
    lst = cmd("list", cmd_bucket_list, "list buckets", g)
    lst.add_argument("--product")
    rm = cmd("remove", lambda c, a: _remove_bucket(c, a.id),
             "remove a bucket", g)
    rm.add_argument("id", type=int)

    b = cmd("balance", cmd_balance, "show a subscriber's balance")
    b.add_argument("identity", help="service id, IMSI, MSISDN or NAI")

    t = cmd("trace", cmd_trace, "follow one subscriber's Diameter requests and answers live (bounded)")
    t.add_argument("identity", help="IMSI, MSISDN, NAI or service id")
    t.add_argument("--minutes", type=float, default=5.0, help="stop after this long (at most 60)")
    t.add_argument("--events", type=int, default=1000, help="stop after this many events (at most 100000)")
    t.add_argument("--record", help="also append the events as JSON lines to this file")

    g = group("client", "RADIUS clients and Diameter peers stored in the database (read live)")
    a = cmd("add", cmd_client_add, "add or replace a client", g)
    a.add_argument("address", help="RADIUS: the client's address or prefix; Diameter: the peer's Origin-Host")
    a.add_argument("--protocol", choices=("radius", "diameter"), default="radius")
    a.add_argument("--ip", help="Diameter: accept the peer only from this address or prefix")
    a.add_argument("--secret")
    a.add_argument("--name")
    a.add_argument("--nas-type", default="other")
    a.add_argument("--no-message-authenticator", action="store_true")
    lst = cmd("list", cmd_client_list, "list clients", g)
    lst.add_argument("--protocol", choices=("radius", "diameter"))
    rm = cmd("remove", lambda c, a: _remove(c, "client", lambda l: l.delete_client(a.address), a.address),
             "remove a client", g)
    rm.add_argument("address")

    wanted = PLUGIN_COMMANDS.get(command_of(argv) or "", ("", ""))[0] if argv is not None else None
    for plugin in PLUGINS:
        if wanted is not None and plugin != wanted:
            for name, (owner, text) in PLUGIN_COMMANDS.items():
                if owner == plugin:
                    sub.add_parser(name, help=text, description=text)
            continue
        try:
            module = importlib.import_module(f"appliance.{plugin}.cli")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(f"appliance.{plugin}"):
                continue
            raise
        module.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    try:
        cfg = load(args.config)
        return int(args.func(cfg, args) or 0)
    except ConfigError as exc:
        print(f"appliance: config error: {exc}", file=sys.stderr)
        return 2
    except CliError as exc:
        print(f"appliance: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
