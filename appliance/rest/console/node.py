"""The console's view of the node: Diameter peers up/down, RADIUS clients, processes, and the
health of the store and the ledger role.

Everything is read from what the workers already publish in the run directory, as the SNMP
agent reads it (appliance.snmp.sources): each Diameter worker's peer table
``diameter/peers-<pid>.json`` (rewritten on every open and close and every 5 s), the RADIUS
client index ``radius/clients.json`` (no secrets), and the per-process counter files.  Nothing is
written here (the SNMP agent's peer index file is its own).
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from ...telemetry import metrics
from ..http import reply
from ..routes import CFG, STORE, Route

_PEERS = re.compile(r"^peers-(\d+)\.json$")
_CNT = re.compile(r"^(?P<role>[a-z_]+)(?P<index>\d*)-(?P<pid>\d+)\.cnt$")
_RANK = {"closed": 0, "closing": 1, "open": 2}
MAX_PEER_FILES = 256
MAX_PEERS = 4096
INVENTORY_EVERY = 30.0          # seconds the inventory counts are reused (a count(*) per table)
SESSIONS_EVERY = 5.0            # seconds the open-session counts are reused (an index range count per kind)
_counted: dict[str, tuple[float, Any]] = {}


async def _cached(name: str, every: float, fn: Any) -> Any:
    now = time.monotonic()
    hit = _counted.get(name)
    if hit is not None and now - hit[0] < every:
        return hit[1]
    value = await fn()
    _counted[name] = (now, value)
    return value


def peer_tables(run_dir: Path) -> list[dict[str, Any]]:
    """The Diameter workers' peer tables, each with ``alive`` (its worker still runs)."""
    folder = run_dir / "diameter"
    out: list[dict[str, Any]] = []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return out
    for name in names:
        m = _PEERS.match(name)
        if not m or len(out) >= MAX_PEER_FILES:
            continue
        try:
            table = json.loads((folder / name).read_text())
        except (OSError, ValueError):
            continue                      # replaced meanwhile: the next refresh reads it
        if isinstance(table, dict):
            table["alive"] = metrics.pid_alive(int(m[1]))
            table["pid"] = int(m[1])
            out.append(table)
    return out


def peers(cfg: Any, tables: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per Diameter peer (configured or seen): ``up`` when a live worker has it open."""
    rows: dict[str, dict[str, Any]] = {}
    for p in cfg.diameter.peers:
        rows[p.host] = {"host": p.host, "realm": p.realm, "address": p.address, "configured": True,
                        "state": "closed", "up": False, "workers": 0, "since": None, "apps": [],
                        "requestsIn": 0, "answersOut": 0, "requestsOut": 0, "answersIn": 0}
    for table in tables:
        for rec in table.get("peers") or ():
            host = str(rec.get("host") or "")
            if not host or (host not in rows and len(rows) >= MAX_PEERS):
                continue
            row = rows.setdefault(host, {"host": host, "realm": "", "address": "", "configured": False,
                                         "state": "closed", "up": False, "workers": 0, "since": None, "apps": [],
                                         "requestsIn": 0, "answersOut": 0, "requestsOut": 0, "answersIn": 0})
            state = str(rec.get("state") or "closed") if table["alive"] else "closed"
            if state not in _RANK:
                state = "closed"
            if state == "open":
                row["workers"] += 1
                opened = int(rec.get("opened_at") or 0)
                if opened and (row["since"] is None or opened < row["since"]):
                    row["since"] = opened
            if _RANK[state] > _RANK[row["state"]]:
                row["state"] = state
            row["realm"] = row["realm"] or str(rec.get("realm") or "")
            row["address"] = str(rec.get("address") or "") or row["address"]
            row["apps"] = sorted(set(row["apps"]) | {int(a) for a in rec.get("apps") or () if isinstance(a, int)})
            if table["alive"]:
                for key, name in (("requestsIn", "requests_in"), ("answersOut", "answers_out"),
                                  ("requestsOut", "requests_out"), ("answersIn", "answers_in")):
                    row[key] += int(rec.get(name) or 0)
    for row in rows.values():
        row["up"] = row["state"] == "open"
    return sorted(rows.values(), key=lambda r: (not r["configured"], r["host"]))


def radius_clients(run_dir: Path, totals: dict[str, int]) -> list[dict[str, Any]]:
    """The RADIUS client table the workers loaded (no secrets) with its per-client counters."""
    try:
        rows = json.loads((run_dir / "radius" / "clients.json").read_text())
    except (OSError, ValueError):
        return []
    out = []
    for r in rows if isinstance(rows, list) else ():
        if not isinstance(r, dict):
            continue
        idx = int(r.get("index") or 0)
        c = {"index": idx, "address": r.get("address"), "name": r.get("name"), "nasType": r.get("nas_type"),
             "source": r.get("source")}
        for port in ("auth", "acct"):
            prefix = f"radius.{port}.client.{idx}."
            c[port] = {k[len(prefix):]: v for k, v in totals.items() if k.startswith(prefix)}
        out.append(c)
    return out


def processes(run_dir: Path) -> list[dict[str, Any]]:
    """One row per counter file: role, pid, whether it runs (a dead worker's file stays)."""
    try:
        names = sorted(os.listdir(run_dir / "counters"))
    except OSError:
        return []
    out = []
    for name in names:
        m = _CNT.match(name)
        if m:
            pid = int(m["pid"])
            out.append({"role": m["role"] + m["index"], "pid": pid, "alive": metrics.pid_alive(pid)})
    return out


def _ledger_socket(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        try:
            s.connect(str(path))
        except OSError:
            return False
    return True


async def health(cfg: Any, store: Any, totals: dict[str, int], procs: list[dict[str, Any]]) -> dict[str, Any]:
    """The store: a committed empty transaction's round trip (and a snapshot read's, SQLite), the
    inventory counts (at most every ``INVENTORY_EVERY`` s), the database file's size; the ledger
    role: configured workers, running, its socket answering."""
    out: dict[str, Any] = {"store": {"backend": cfg.database.backend}}
    st = out["store"]
    start = time.perf_counter()
    try:
        await asyncio.wait_for(store.atransact(lambda l: None), 5)
        st["writeMs"] = round((time.perf_counter() - start) * 1000, 2)
        st["counts"] = await _cached("inventory", INVENTORY_EVERY,
                                     lambda: asyncio.wait_for(store.atransact(lambda l: l.counts()), 5))
        st["ok"] = True
    except Exception as exc:            # any failure is "not healthy", with its reason
        st["ok"] = False
        st["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    if hasattr(store, "read"):
        start = time.perf_counter()
        try:
            await asyncio.wait_for(asyncio.to_thread(store.read, lambda l: l.get_doc("console", "-")), 5)
            st["readMs"] = round((time.perf_counter() - start) * 1000, 2)
        except Exception as exc:
            st["ok"] = False
            st["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    if cfg.database.backend == "sqlite":
        try:
            st["fileBytes"] = cfg.database_path.stat().st_size
            wal = Path(str(cfg.database_path) + "-wal")
            st["walBytes"] = wal.stat().st_size if wal.exists() else 0
        except OSError:
            pass
    wanted = int(cfg.processes.ledger)
    running = sum(1 for p in procs if p["role"].startswith("ledger") and p["alive"])
    ledger: dict[str, Any] = {"configured": wanted, "running": running,
                              "requests": totals.get("ledger.requests", 0), "failed": totals.get("ledger.failed", 0),
                              "clientUnavailable": totals.get("ledger.client.unavailable", 0)}
    if wanted:
        from ...ledger.server import socket_path
        ledger["socket"] = await asyncio.to_thread(_ledger_socket, socket_path(cfg))
        ledger["ok"] = bool(ledger["socket"]) and running > 0
    else:
        ledger["ok"] = True             # charged in each front end's own transaction
    out["ledger"] = ledger
    return out


async def get_node(request: web.Request) -> web.Response:
    """Peers, RADIUS clients, processes, active sessions and health in one call (the Dashboard and
    Peers screens poll it)."""
    cfg = request.app[CFG]
    run_dir = cfg.path(cfg.run_dir)

    def files() -> tuple[list[dict[str, Any]], dict[str, int], list[dict[str, Any]]]:
        return peer_tables(run_dir), metrics.read_all(run_dir), processes(run_dir)
    tables, totals, procs = await asyncio.to_thread(files)
    from ...store.pages import doc_count
    from .sessions import KINDS
    store = request.app[STORE]

    def count(l: Any) -> dict[str, int]:
        return {kind: doc_count(l, doc_kind) for kind, doc_kind in KINDS.items()}
    sessions = await _cached("sessions", SESSIONS_EVERY,
                             lambda: asyncio.to_thread(store.read, count) if hasattr(store, "read")
                             else store.atransact(count))
    peer_rows = peers(cfg, tables)
    return reply({"peers": peer_rows, "peersUp": sum(p["up"] for p in peer_rows),
                  "peersDown": sum(not p["up"] for p in peer_rows),
                  "radiusClients": radius_clients(run_dir, totals), "processes": procs, "sessions": sessions,
                  "health": await health(cfg, store, totals, procs), "time": int(time.time())})


def routes() -> list[Route]:
    return [Route("GET", "/console/api/node", get_node, "read",
                  "Diameter peers up/down, RADIUS clients, processes, open sessions, store and ledger health",
                  "console")]
