"""The ``diameter`` worker role: one asyncio node per process, SO_REUSEPORT shared port.

``appliance run diameter --index N``: worker 0 also keeps the connections to configured
peers that have an address (one outgoing connection per peer per appliance, no self-election).
Every worker listens on ``<run_dir>/diameter/worker-<N>.sock`` so the others can send requests
to the peers it holds (relay.py).
"""
from __future__ import annotations

import asyncio
import importlib
import logging
import pkgutil
import ssl
from dataclasses import dataclass
from typing import Any

from .. import trace
from ..config import Config
from ..runtime import run_async
from .node import Node
from .relay import WorkerRelay

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppContext:
    """What ``install(node, ctx)`` receives: configuration, the store and the charging core."""

    cfg: Config
    store: Any
    charging: Any
    index: int = 0


def app_modules(cfg: Config) -> list[str]:
    """The application modules to install: configured names, or every module in apps/."""
    if cfg.diameter.applications:
        return [f"appliance.diameter.apps.{n}" for n in cfg.diameter.applications]
    from . import apps
    return sorted(f"appliance.diameter.apps.{m.name}" for m in pkgutil.iter_modules(apps.__path__)
                  if not m.name.startswith("_"))


def server_tls_context(cfg: Config) -> ssl.SSLContext:
    """The appliance certificate (appliance.tls); with ``diameter.tls_ca`` peers must present one too."""
    from ..tls import ensure_certificate
    cert, key = ensure_certificate(cfg)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(cert), str(key))
    if cfg.diameter.tls_ca:
        ctx.load_verify_locations(str(cfg.path(cfg.diameter.tls_ca)))
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def build_node(cfg: Config, ctx: AppContext, run_dir: str | None = None) -> Node:
    d = cfg.diameter
    addresses = d.addresses or ((d.address,) if d.address not in ("0.0.0.0", "::", "") else ("127.0.0.1",))
    node = Node(cfg.node.host, cfg.node.realm, addresses=addresses, watchdog=d.watchdog, peers=d.peers,
                accept_realms=d.accept_realms, run_dir=run_dir, product=d.product_name)
    for name in app_modules(cfg):
        module = importlib.import_module(name)
        install = getattr(module, "install", None)
        if install is None:
            continue
        install(node, ctx)
        log.info("diameter application %s installed", name)
    return node


def ledger_client(cfg: Config, store: Any) -> Any:
    """Charging in this process, or in the ledger role when ``processes.ledger`` runs one."""
    from ..ledger.api import client_for
    return client_for(cfg, store)


async def serve(cfg: Config, index: int, stop: asyncio.Event, ready: asyncio.Future[int] | None = None) -> None:
    from ..store import open_store
    store = open_store(cfg)
    try:
        ctx = AppContext(cfg, store, ledger_client(cfg, store), index)
        run_dir = str(cfg.path(cfg.run_dir))
        node = build_node(cfg, ctx, run_dir)
        try:
            await WorkerRelay(node, run_dir, index).listen()
        except OSError as exc:               # the worker still serves the peers it holds itself
            log.warning("diameter worker %d: no inter-worker relay socket: %s", index, exc)
            node.relay = None
        node.set_stored_peers(await store.atransact(lambda l: l.list_clients("diameter")))
        port = await node.listen(cfg.diameter.address, cfg.diameter.port, cfg.diameter.sctp)
        log.info("diameter worker %d listening on %s:%d", index, cfg.diameter.address, port)
        if cfg.diameter.tls_port:
            tls = await node.listen_tls(cfg.diameter.address, cfg.diameter.tls_port, server_tls_context(cfg))
            log.info("diameter worker %d listening for TLS on %s:%d", index, cfg.diameter.address, tls)
        if index == 0:
            node.start_outgoing()
        node._write_peers()
        if ready is not None and not ready.done():
            ready.set_result(port)
        peers = asyncio.ensure_future(reload_stored_peers(node, store, stop, cfg.diameter.peers_refresh))
        trace.balance_reader = lambda identity: _traced_balance(store, identity)
        if cfg.database.backend == "postgres":       # other nodes' traces reach this worker too
            trace.shared = (store, cfg.node.host)
        traces = asyncio.ensure_future(trace.watch(run_dir, stop))
        await node.refresh_peer_table(stop)
        peers.cancel()
        traces.cancel()
        await node.stop(cfg.processes.stop_wait)
    finally:
        store.close()


def _traced_balance(store: Any, identity: str) -> dict[str, Any] | None:
    """A traced subscriber's balance after an answer (read only while someone traces)."""
    import time

    from ..ledger import book
    bal = store.transact(lambda l: book.balance(l, identity, int(time.time())))
    return None if bal is None else {"totals": bal.totals, "reserved": bal.reserved}


async def reload_stored_peers(node: Node, store: Any, stop: asyncio.Event, every: float) -> None:
    """Peers added or removed with ``appliance client add/remove --protocol diameter`` count live."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), max(1.0, every))
        except TimeoutError:
            pass
        if stop.is_set():
            return
        try:
            node.set_stored_peers(await store.atransact(lambda l: l.list_clients("diameter")))
        except Exception:                     # keep the old table on a store hiccup
            log.exception("reloading Diameter peers failed")


def main(cfg: Config, index: int) -> int:
    if not cfg.diameter.enabled:
        log.info("diameter disabled in the configuration")
        return 0
    from ..logs import translog
    translog.configure(cfg, "diameter", index)   # one acct record per CCR (docs/logs.md)
    return run_async(lambda stop: serve(cfg, index, stop))
