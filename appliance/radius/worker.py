"""``appliance run radius`` worker: auth + accounting listeners sharing the ports (SO_REUSEPORT).

``main(cfg, index)`` opens the store, loads the clients table (config + store, with
stable indexes written to ``<run_dir>/radius/clients.json``), imports the EAP
methods, and serves until SIGTERM; in-flight requests finish before it returns.
"""
from __future__ import annotations

import asyncio
import gc
import logging
import time
from typing import Any

from .. import trace
from ..config import Config, charging_policy
from ..runtime import run_async
from ..telemetry import metrics
from . import clients as clients_mod
from .acct import AcctHandler
from .auth import AuthHandler
from .clients import Client, ClientTable
from .coa import disconnect_out_of_credit, disconnect_session
from .server import RadiusServer, forward_dir

log = logging.getLogger(__name__)


def method_options(cfg: Config) -> dict[str, Any]:
    """Per-method settings for the EAP methods present (TLS context for TTLS, MTU)."""
    from .. import eap
    eap.load_methods()
    options: dict[str, Any] = {"mtu": cfg.radius.eap_mtu}
    from ..eap import aka
    options["aka"] = aka.settings_from(cfg)      # network name (AKA'), identity request policy
    import fcntl

    from ..tls import certificate_paths, ensure_certificate
    lock_path = certificate_paths(cfg)[0].parent / ".generate.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:           # N workers start together: one generates the pair
        fcntl.flock(lock, fcntl.LOCK_EX)
        cert, key = ensure_certificate(cfg)
    rcfg = cfg.radius
    from ..eap import tlstunnel
    tunnel_cache = rcfg.eap_resumption_lifetime if rcfg.eap_tunnel_resumption else 0
    options["ttls"] = tlstunnel.server_context(str(cert), str(key), rcfg.eap_tls_min_version,
                                               session_cache=tunnel_cache)
    options["tunnel_resumption"] = rcfg.eap_tunnel_resumption
    from .auth import INNER_NAMES
    unknown = [n for n in rcfg.eap_inner_methods if n.lower() not in INNER_NAMES]
    if unknown:
        raise ValueError(f"radius.eap_inner_methods: unknown method {unknown[0]!r}")
    options["inner_methods"] = tuple(INNER_NAMES[n.lower()] for n in rcfg.eap_inner_methods)
    options["peap"] = tlstunnel.server_context(str(cert), str(key), rcfg.eap_tls_min_version,
                                               session_cache=tunnel_cache)
    options["peap_crypto_binding"] = rcfg.eap_peap_crypto_binding
    if "tls" in (m.lower() for m in rcfg.eap_methods) and not rcfg.eap_tls_ca:
        raise ValueError("radius.eap_methods offers tls but radius.eap_tls_ca (the client CA bundle) is empty")
    if rcfg.eap_tls_ca:                          # EAP-TLS needs a CA bundle for client certificates
        crl = str(cfg.path(rcfg.eap_tls_crl)) if rcfg.eap_tls_crl else ""
        keys = ticket_keys(cfg) if rcfg.eap_tls_resumption else b""
        options["tls"] = tlstunnel.server_context(str(cert), str(key), rcfg.eap_tls_min_version,
                                                  str(cfg.path(rcfg.eap_tls_ca)), crl, keys,
                                                  rcfg.eap_resumption_lifetime)
        options["tls_crl_file"] = crl
    options["tls_identity"] = rcfg.eap_tls_identity
    options["tls_min_by_realm"] = {r.realm.lower(): r.min_tls for r in rcfg.eap_realms if r.min_tls}
    return options


def ticket_keys(cfg: Config) -> bytes:
    """The session-ticket keys every RADIUS worker shares (RFC 5077 §4): 80 random octets in
    ``<run_dir>/eap/ticket.keys`` (0600), made by the first worker to start; a new run directory
    (or deleting the file before a restart) gives new keys and invalidates the tickets issued."""
    import fcntl
    import os
    folder = cfg.path(cfg.run_dir) / "eap"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ticket.keys"
    with open(folder / ".ticket.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(os.urandom(80))
        return path.read_bytes()


async def load_clients(store: Any, cfg: Config) -> list[Client]:
    return await store.atransact(lambda l: clients_mod.load_in(l, cfg.radius.clients))


async def build(cfg: Config, index: int, store: Any) -> RadiusServer:
    policy = charging_policy(cfg)
    clients = ClientTable(await load_clients(store, cfg))
    clients_mod.write_index_file(cfg.path(cfg.run_dir), clients.clients)
    auth = AuthHandler(cfg, store, index, method_options(cfg))
    remote: Any = None
    if cfg.processes.ledger > 0:                 # accounting is charged by the ledger role
        from ..ledger.remote import RemoteLedger
        from ..ledger.server import sharded, socket_path
        if sharded(cfg):                         # by the ledger holding the subscriber's shard
            from ..ledger.routing import sharded_remote
            remote = sharded_remote(cfg)
        else:
            remote = RemoteLedger(str(socket_path(cfg)), cfg.processes.ledger_timeout)
    acct = AcctHandler(cfg, store, policy, ledger=remote)
    translog: Any = None
    try:
        from ..logs import translog
    except ImportError:
        pass

    async def disconnect(client: Client, session_key: str, session: dict[str, Any], reason: str) -> None:
        await disconnect_session(store, session_key, session, client.secret, cfg.radius.coa_timeout,
                                 cfg.radius.coa_retries, reason)

    return RadiusServer(cfg, index, auth, acct, clients, disconnect, translog)


async def serve(cfg: Config, index: int, stop: asyncio.Event, ready: Any = None, freeze_gc: bool = False) -> None:
    from ..ledger.api import attach
    from ..store import open_store
    store = attach(open_store(cfg))
    server = await build(cfg, index, store)
    await server.start(forward_dir(cfg))
    trace.balance_reader = lambda identity: traced_balance(store, identity)     # appliance trace <subscriber>
    if cfg.database.backend == "postgres":       # other nodes' traces reach this worker too
        trace.shared = (store, cfg.node.host)
    server.tasks.add(asyncio.ensure_future(trace.watch(cfg.path(cfg.run_dir), stop)))    # ends with ``stop``
    if getattr(cfg.radius, "auth_cache_preload", False):   # every subscriber's decision, while serving
        server.tasks.add(asyncio.ensure_future(_preload(server, index, stop)))
    if freeze_gc:              # the start-up objects (modules, config, tables) leave the cyclic GC's
        gc.collect()           # generations: its collections under load walk only what requests create
        gc.freeze()
    log.info("radius worker %d on %s auth %d acct %d (%d clients)", index, cfg.radius.address,
             cfg.radius.auth_port, cfg.radius.acct_port, len(server.clients.clients))
    if ready is not None:
        ready(server)
    # worker 0 disconnects the other live sessions of products out of credit (queued by the ledger)
    dm = asyncio.ensure_future(disconnect_out_of_credit(
        store, lambda: server.clients, cfg.radius.coa_timeout, cfg.radius.coa_retries, stop)) if index == 0 else None
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=max(1, cfg.radius.clients_refresh))
            except TimeoutError:
                pass
            if stop.is_set():
                break
            server.auth.conversations.expire(server.auth.clock())
            metrics.default().set("radius.auth.eap_conversations.gauge", len(server.auth.conversations))
            try:
                table = ClientTable(await load_clients(store, cfg))
            except Exception:                                 # keep the old table on a store hiccup
                log.exception("reloading RADIUS clients failed")
                continue
            if [(c.address, c.secret, c.index) for c in table.clients] != \
                    [(c.address, c.secret, c.index) for c in server.clients.clients]:
                server.clients = table
                clients_mod.write_index_file(cfg.path(cfg.run_dir), table.clients)
    finally:
        if dm is not None:
            await asyncio.wait([dm], timeout=float(cfg.processes.stop_wait))
            dm.cancel()
        await server.close(wait=float(cfg.processes.stop_wait))
        store.close()


async def _preload(server: Any, index: int, stop: asyncio.Event) -> None:
    started = time.process_time()
    kept = await server.auth.preload(stop)
    metrics.inc("radius.auth.preloaded", kept)
    metrics.inc("radius.auth.preload_done")
    log.info("radius worker %d: %d authorization decisions preloaded in %.1f s of CPU", index, kept,
             time.process_time() - started)
    gc.collect()               # the decisions are kept until changed: out of the cyclic GC's walks
    gc.freeze()


def traced_balance(store: Any, identity: str) -> dict[str, Any] | None:
    """A traced subscriber's balance after an answer (read only while someone traces)."""
    import time

    from ..ledger import book
    read = getattr(store, "read", None) or store.transact
    bal = read(lambda l: book.balance(l, identity, int(time.time())))
    return None if bal is None else {"totals": bal.totals, "reserved": bal.reserved}


def main(cfg: Config, index: int) -> int:
    try:
        from ..logs import translog
        translog.configure(cfg, "radius", index)
    except ImportError:
        pass
    return run_async(lambda stop: serve(cfg, index, stop, freeze_gc=True))
