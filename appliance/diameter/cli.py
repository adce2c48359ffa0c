"""``appliance diameter-client``: run a CCR-I/U/T session or an EVENT against any OCS and print the CCAs.

    appliance diameter-client --server 127.0.0.1:3868 --subscriber 001010123456789 \\
        --rating-group 32 --requested 1000000 --used 400000 --updates 2
    appliance diameter-client --event debit --unit messages --amount 1 --context 32274@3gpp.org ...

Each answer is printed as one JSON line (result, per-MSCC grants, FUI, cost).  Exit status 0 when
every answer had Result-Code 2001, 3 otherwise.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
from typing import Any

from ..config import Config
from ..ocs.units import Unit


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("diameter-client", help="send Credit-Control requests to an OCS and print answers",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server", default="127.0.0.1:3868", help="HOST:PORT of the OCS")
    p.add_argument("--origin-host", default=f"client.{socket.gethostname()}")
    p.add_argument("--origin-realm", default="client.localdomain")
    p.add_argument("--realm", help="Destination-Realm (default: node.realm of the configuration)")
    p.add_argument("--subscriber", help="Subscription-Id-Data (IMSI, E.164, NAI ...)")
    p.add_argument("--sub-type", default="imsi", choices=("imsi", "e164", "nai", "sip", "private"))
    p.add_argument("--context", default="32251@3gpp.org", help="Service-Context-Id (32260@3gpp.org: IMS)")
    p.add_argument("--unit", default="octets", help="octets | seconds | messages")
    p.add_argument("--rating-group", type=int)
    p.add_argument("--service-identifier", type=int)
    p.add_argument("--no-mscc", action="store_true", help="single-service form (no MSCC)")
    p.add_argument("--requested", type=int, default=0, help="RSU amount (0: the OCS chooses)")
    p.add_argument("--used", type=int, default=0, help="USU amount in each update and the termination")
    p.add_argument("--updates", type=int, default=1, help="number of CCR-U")
    p.add_argument("--event", choices=("debit", "refund", "check", "price"), help="send one EVENT instead")
    p.add_argument("--amount", type=int, default=1, help="EVENT: units to debit/refund/check/price")
    p.add_argument("--role", choices=("originating", "terminating"), help="IMS Role-Of-Node")
    p.add_argument("--calling", help="IMS Calling-Party-Address")
    p.add_argument("--called", help="IMS Called-Party-Address")
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--tls", action="store_true", help="Diameter over TLS (the server's tls_port)")
    p.add_argument("--ca", help="PEM file to verify the server certificate (default: system CAs)")
    p.add_argument("--server-name", default="", help="TLS: expected server name (default: not checked)")
    p.add_argument("--cert", help="TLS: client certificate (PEM, with --key) for mutual TLS")
    p.add_argument("--key")
    p.set_defaults(func=cmd_diameter_client)


def cmd_diameter_client(cfg: Config, args: argparse.Namespace) -> int:
    return asyncio.run(_run(cfg, args))


async def _run(cfg: Config, args: argparse.Namespace) -> int:
    from .apps import ro
    from .client import CreditControlClient, Service, ccr, summary
    host, _, port = args.server.rpartition(":")
    realm = args.realm or cfg.node.realm
    unit = Unit.parse(args.unit)
    client = CreditControlClient(args.origin_host, args.origin_realm)
    ctx = None
    if args.tls:
        import ssl
        ctx = ssl.create_default_context(cafile=args.ca)
        ctx.check_hostname = bool(args.server_name)
        if args.cert:
            ctx.load_cert_chain(args.cert, args.key)
    try:
        server = await client.connect(host or "127.0.0.1", int(port or 3868), args.timeout, ctx, args.server_name)
    except (OSError, TimeoutError) as exc:
        print(f"appliance: diameter-client: {args.server}: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    print(json.dumps({"connected": server}))
    common: dict[str, Any] = dict(subscriber=args.subscriber, sub_type=args.sub_type, context=args.context,
                                  mscc=not args.no_mscc, calling=args.calling, called=args.called,
                                  role={"originating": 0, "terminating": 1}.get(args.role or ""))
    ok = True
    sid = client.session_id()

    async def one(label: str, rt: int, number: int, service: Service, action: str | None = None) -> None:
        nonlocal ok
        msg = await client.send(ccr(sid, realm, rt, number, services=(service,), requested_action=action,
                                    **common), timeout=args.timeout)
        out = summary(msg)
        ok = ok and out["result"] == 2001
        print(json.dumps({"request": label, "session_id": sid, **out}))
        if out["result"] != 2001:
            print(f"appliance: diameter-client: {label} answered {out['result']}"
                  f"{': ' + str(out['error']) if out.get('error') else ''}", file=sys.stderr)

    rg, si = args.rating_group, args.service_identifier
    try:
        if args.event:
            await one(f"EVENT {args.event}", ro.EVENT, 0, Service(unit, args.amount, None, rg, si), args.event)
        else:
            await one("CCR-I", ro.INITIAL, 0, Service(unit, args.requested, None, rg, si))
            for n in range(1, args.updates + 1):
                await one("CCR-U", ro.UPDATE, n, Service(unit, args.requested, args.used, rg, si))
            await one("CCR-T", ro.TERMINATION, args.updates + 1, Service(unit, None, args.used, rg, si))
    except (TimeoutError, ConnectionError) as exc:
        print(f"appliance: diameter-client: {exc or type(exc).__name__}", file=sys.stderr)
        ok = False
    finally:
        await client.close()
    return 0 if ok else 3
