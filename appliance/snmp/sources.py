"""What the agent reads: counter files, the RADIUS client and Diameter peer tables, the store, logs.

Everything here is read at request time (``Sources.refresh``), except the store's
inventory counts, which a background task refreshes every ``snmp.store_cache``
seconds (a ``count(*)`` per table is too slow for every GET).  Nothing is written
except the agent's own peer index file.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import mmap
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config
from ..telemetry import metrics

log = logging.getLogger(__name__)

_CNT = re.compile(r"^(?P<role>[a-z_]+)(?P<index>\d*)-(?P<pid>\d+)\.cnt$")
_PEERS = re.compile(r"^peers-(?P<pid>\d+)\.json$")
PEER_COUNTERS = ("requests_in", "answers_out", "requests_out", "answers_in", "malformed")
#: the slots of a peer record's ``by_command`` lists (appliance.diameter.peer.COMMAND_SLOTS);
#: flattened into the peer's counters as ``"<cmd_code>.<slot>"``, e.g. ``"272.requests_in"``
COMMAND_SLOTS = ("requests_in", "answers_out", "requests_out", "answers_in", "requests_dropped", "answers_dropped")
MAX_COMMANDS = 128                # by_command entries read per peer record (a worker writes at most 65)
MAX_PEERS = 4096                  # bound on the peer index (identities seen)


@dataclass(slots=True)
class Peer:
    """One Diameter peer, merged over every worker's connections to it."""

    index: int
    host: str
    realm: str = ""
    address: str = ""             # IP of the current (or last) connection, or configured
    port: int = 0
    state: str = "closed"         # closed | open | closing (the most open over workers)
    initiator: bool = False
    since: float = 0.0            # when the state began (epoch seconds)
    counters: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Process:
    pid: int
    role: str                     # role + instance, e.g. radius0
    alive: bool


def split_address(text: str) -> tuple[str, int]:
    """``"10.0.0.1:3868"`` / ``"[::1]:3868"`` / ``"::1"`` -> (ip, port)."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else 0
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host, int(port) if port.isdigit() else 0
    return text, 0


def inet_address(text: str) -> tuple[int, bytes]:
    """(InetAddressType, InetAddress) of RFC 4001 for an address or prefix (its network address)."""
    try:
        ip = ipaddress.ip_network(text.split("%", 1)[0], strict=False).network_address
    except ValueError:
        return 0, b""
    return (1, ip.packed) if ip.version == 4 else (2, ip.packed)


class PeerTracker:
    """Per-peer totals that never go backwards, and stable indexes (persisted in the run dir).

    Workers report per-connection counters; a connection that goes away (closed, worker
    restarted) keeps contributing its last values, so the MIB's Counter32s stay monotonic.
    """

    def __init__(self, run_dir: Path, configured: list[tuple[str, str, int]]) -> None:
        self.index_file = run_dir / "snmp" / "peer-index.json"
        self.index: dict[str, int] = {}
        try:
            loaded = json.loads(self.index_file.read_text())
            self.index = {str(k): int(v) for k, v in loaded.items()}
        except (OSError, ValueError, AttributeError):
            pass
        self.configured = configured
        for host, _addr, _port in configured:
            self._index_of(host)
        self.retired: dict[str, dict[str, int]] = {}
        self.live: dict[tuple[int, str, int], tuple[str, dict[str, int]]] = {}
        self.peers: dict[str, Peer] = {}

    def _index_of(self, host: str) -> int | None:
        idx = self.index.get(host)
        if idx is None:
            if len(self.index) >= MAX_PEERS:
                return None
            idx = max(self.index.values(), default=0) + 1
            self.index[host] = idx
            try:
                self.index_file.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.index_file.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(self.index))
                os.replace(tmp, self.index_file)
            except OSError as exc:
                log.warning("cannot write %s: %s", self.index_file, exc)
        return idx

    def update(self, tables: list[dict[str, Any]], now: float) -> dict[str, Peer]:
        """Merge the workers' peer tables (``peers-<pid>.json``) into per-identity rows."""
        seen: dict[tuple[int, str, int], tuple[str, dict[str, int]]] = {}
        rows: dict[str, list[dict[str, Any]]] = {}
        for table in tables:
            pid = int(table.get("pid") or 0)
            alive = bool(table.get("_alive"))
            for rec in table.get("peers") or ():
                host = str(rec.get("host") or "")
                if not host:
                    continue
                key = (pid, str(rec.get("address") or ""), int(rec.get("opened_at") or 0))
                seen[key] = (host, record_counters(rec))
                if not alive:
                    rec = dict(rec, state="closed")
                rows.setdefault(host, []).append(rec)
        for key, (host, last) in self.live.items():
            if key not in seen:       # connection gone: its last values stay in the totals
                acc = self.retired.setdefault(host, {})
                for k, v in last.items():
                    acc[k] = acc.get(k, 0) + v
        self.live = seen
        peers: dict[str, Peer] = {}
        for host, addr, port in self.configured:
            idx = self._index_of(host)
            if idx is not None:
                peers[host] = Peer(idx, host, address=addr, port=port)
        for host in set(rows) | set(self.retired):
            if host not in peers:
                idx = self._index_of(host)
                if idx is None:
                    continue
                peers[host] = Peer(idx, host)
        rank = {"closed": 0, "closing": 1, "open": 2}
        for host, peer in peers.items():
            totals = dict(self.retired.get(host, {}))
            for h, vals in seen.values():
                if h == host:
                    for k, v in vals.items():
                        totals[k] = totals.get(k, 0) + v
            peer.counters = totals
            best: dict[str, Any] | None = None
            for rec in rows.get(host, ()):
                if best is None or rank.get(str(rec.get("state")), 0) > rank.get(str(best.get("state")), 0):
                    best = rec
            if best is not None:
                peer.realm = str(best.get("realm") or "")
                ip, port = split_address(str(best.get("address") or ""))
                peer.address, peer.port = ip or peer.address, port or peer.port
                peer.state = str(best.get("state") or "closed")
                if peer.state not in rank:
                    peer.state = "closed"
                peer.initiator = bool(best.get("initiator"))
                peer.since = float(best.get("opened_at") or 0) if peer.state == "open" else 0.0
            old = self.peers.get(host)
            if old is not None and old.state == peer.state and peer.state != "open":
                peer.since = old.since
            elif peer.state != "open" and (old is None or old.state != peer.state):
                peer.since = now
        self.peers = peers
        return peers


def _alive(cache: dict[int, bool], pid: int) -> bool:
    """``metrics.pid_alive`` once per pid and refresh."""
    live = cache.get(pid)
    if live is None:
        live = cache[pid] = metrics.pid_alive(pid)
    return live


def record_counters(rec: dict[str, Any]) -> dict[str, int]:
    """The counters of one peer record: the totals, and ``by_command`` as ``"<code>.<slot>"``."""
    out = {k: int(rec.get(k) or 0) for k in PEER_COUNTERS}
    by = rec.get("by_command")
    if isinstance(by, dict):
        for code, slots in list(by.items())[:MAX_COMMANDS]:
            if not str(code).isdigit() or not isinstance(slots, list):
                continue
            for name, value in zip(COMMAND_SLOTS, slots):
                if isinstance(value, int) and value > 0:
                    out[f"{int(code)}.{name}"] = value
    return out


class LiveCounters:
    """The counters summed over every process at one instant, computed per name on first use
    (a request reads a handful of the thousands of names)."""

    def __init__(self, files: list[tuple[memoryview, dict[str, int], bool]], names: set[str]) -> None:
        self._files = files
        self._names = names
        self._memo: dict[str, int] = {}

    def get(self, name: str, default: int = 0) -> int:
        value = self._memo.get(name)
        if value is None:
            if name not in self._names:
                return default
            gauge = name.endswith(".gauge")
            value = 0
            for values, index, live in self._files:
                i = index.get(name)
                if i is not None and (live or not gauge):
                    value += int(values[i * 8 + 7])
            self._memo[name] = value
        return value

    def __iter__(self) -> Any:
        return iter(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def as_dict(self) -> dict[str, int]:
        return {n: self.get(n) for n in self._names}


class CounterFiles:
    """Reads every process's counter file as :func:`appliance.telemetry.metrics.read_all` does (same
    layout, gauges only from live processes, dead processes' counters kept), but through
    read-only maps kept open: only new names are decoded (names are append-only) and values
    are read in place when asked for."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[str, tuple[mmap.mmap, memoryview, int, dict[str, int]]] = {}
        self.names: set[str] = set()
        self.version = 0                 # raised whenever a name appears

    def _open(self, path: Path) -> tuple[mmap.mmap, memoryview, int, dict[str, int]] | None:
        try:
            with open(path, "rb") as f:
                mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            return None
        if len(mm) < metrics.SIZE or mm[:4] != metrics.MAGIC:
            mm.close()
            return None
        pid = int.from_bytes(mm[12:16], "little")
        return mm, memoryview(mm)[metrics.HEADER:metrics.SIZE].cast("q"), pid, {}

    def listing(self) -> list[str]:
        try:
            return sorted(n for n in os.listdir(self.folder) if n.endswith(".cnt"))
        except OSError:
            return []

    def read(self, names: list[str], alive: dict[int, bool]) -> LiveCounters:
        for gone in set(self.files) - set(names):
            self._close(gone)
        files = []
        for name in names:
            entry = self.files.get(name)
            if entry is None:
                entry = self._open(self.folder / name)
                if entry is None:
                    continue
                self.files[name] = entry
            mm, values, pid, index = entry
            used = min(int.from_bytes(mm[8:12], "little"), metrics.SLOTS)
            for i in range(len(index), used):
                off = metrics.HEADER + i * metrics.SLOT
                counter = mm[off:off + metrics.NAME].rstrip(b"\0").decode(errors="replace")
                index[counter] = i
                if counter not in self.names:
                    self.names.add(counter)
                    self.version += 1
            live = alive.get(pid)
            if live is None:
                live = alive[pid] = metrics.pid_alive(pid) if pid else False
            files.append((values, index, live))
        return LiveCounters(files, self.names)

    def _close(self, name: str) -> None:
        mm, values, _pid, _index = self.files.pop(name)
        values.release()
        mm.close()

    def close(self) -> None:
        for name in list(self.files):
            self._close(name)


class Sources:
    """The agent's view of the appliance, refreshed at the start of every request."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.run_dir = cfg.path(cfg.run_dir)
        configured = []
        for p in cfg.diameter.peers:
            configured.append((p.host, p.address, p.port))
        self.tracker = PeerTracker(self.run_dir, configured)
        self.counters: LiveCounters = LiveCounters([], set())
        self.radius_clients: list[dict[str, Any]] = []
        self.peers: dict[str, Peer] = {}
        self.inventory: dict[str, int] = {}
        self.inventory_at = 0.0
        self.started = time.time()
        self._clients_mtime = -1.0
        self.counter_files = CounterFiles(self.run_dir / "counters")
        self._peer_files: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}
        self.procs: list[Process] = []
        self._usage: dict[int, tuple[float, tuple[int, int, int]]] = {}
        self._peers_stamp: Any = None

    def refresh(self) -> None:
        """Re-read counters and tables now (live values: no cache)."""
        alive: dict[int, bool] = {}
        listing = self.counter_files.listing()
        self.counters = self.counter_files.read(listing, alive)
        self._read_clients()
        tables = self._peer_tables(alive)
        stamp = tuple((t["pid"], t["_stamp"], t["_alive"]) for t in tables)
        if stamp != self._peers_stamp:     # unchanged tables: the merged rows stand
            self.peers = self.tracker.update(tables, time.time())
            self._peers_stamp = stamp
        self.procs = self.processes(listing, alive)

    def log_usage(self, n: int, path: Path, max_age: float = 5.0) -> tuple[int, int, int]:
        """:func:`dir_usage` of a log directory, at most ``max_age`` seconds old."""
        now = time.monotonic()
        cached = self._usage.get(n)
        if cached is None or now - cached[0] > max_age:
            cached = (now, dir_usage(path))
            self._usage[n] = cached
        return cached[1]

    def _read_clients(self) -> None:
        path = self.run_dir / "radius" / "clients.json"
        try:
            mtime = path.stat().st_mtime
        except OSError:
            self.radius_clients = []
            return
        if mtime == self._clients_mtime:
            return
        try:
            rows = json.loads(path.read_text())
            self.radius_clients = sorted((r for r in rows if int(r.get("index") or 0) > 0),
                                         key=lambda r: int(r["index"]))
            self._clients_mtime = mtime
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            log.warning("cannot read %s: %s", path, exc)

    def _peer_tables(self, alive: dict[int, bool]) -> list[dict[str, Any]]:
        """The workers' peer files (parsed again only when changed); ``alive`` caches pid checks."""
        folder = self.run_dir / "diameter"
        tables: list[dict[str, Any]] = []
        if not folder.is_dir():
            return tables
        seen = set()
        for path in sorted(folder.iterdir()):
            m = _PEERS.match(path.name)
            if not m:
                continue
            seen.add(path.name)
            try:
                st = path.stat()
                stamp = (st.st_mtime_ns, st.st_size)
                cached = self._peer_files.get(path.name)
                if cached is not None and cached[0] == stamp:
                    table = cached[1]
                else:
                    table = json.loads(path.read_text())
                    if not isinstance(table, dict):
                        continue
                    self._peer_files[path.name] = (stamp, table)
            except (OSError, ValueError):
                continue
            pid = int(m["pid"])
            table["pid"] = pid
            table["_alive"] = _alive(alive, pid)
            table["_stamp"] = stamp
            tables.append(table)
        for gone in set(self._peer_files) - seen:
            del self._peer_files[gone]
        return tables

    def alive(self, pid: int) -> bool:
        for p in self.procs:
            if p.pid == pid:
                return p.alive
        return False

    def processes(self, listing: list[str] | None = None, alive: dict[int, bool] | None = None) -> list[Process]:
        """One row per counter file (``<role><index>-<pid>.cnt``)."""
        alive = {} if alive is None else alive
        out = []
        for name in self.counter_files.listing() if listing is None else listing:
            m = _CNT.match(name)
            if m:
                pid = int(m["pid"])
                out.append(Process(pid, m["role"] + m["index"], _alive(alive, pid)))
        return sorted(out, key=lambda p: p.pid)

    def log_dirs(self) -> list[tuple[int, str, Path]]:
        lg = self.cfg.logs
        return [(1, "acct", self.cfg.path(lg.acct_log_dir)), (2, "auth", self.cfg.path(lg.auth_log_dir)),
                (3, "ipdr", self.cfg.path(lg.ipdr_log_dir)), (4, "export", self.cfg.path(lg.export_dir)),
                (5, "process", self.cfg.path(self.cfg.log_dir))]


def dir_usage(path: Path) -> tuple[int, int, int]:
    """(files, KiB, file system used percent) of a directory; zeros when it does not exist."""
    files = size = 0
    try:
        with os.scandir(path) as it:
            for entry in it:
                if entry.is_file(follow_symlinks=False):
                    files += 1
                    size += entry.stat(follow_symlinks=False).st_size
    except OSError:
        return 0, 0, 0
    try:
        usage = shutil.disk_usage(path)
        percent = (usage.used * 100 + usage.total - 1) // usage.total if usage.total else 0
    except OSError:
        percent = 0
    return files, (size + 1023) // 1024, int(min(percent, 100))
