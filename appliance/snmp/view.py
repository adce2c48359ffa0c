"""The served values: the compiled MIB objects bound to the sources, as a sorted OID list.

``View.rebuild()`` runs at the start of every request PDU: it refreshes the sources
(counter files, peer and client tables) and, when rows appeared or vanished, lays out
every instance of the appliance's subtrees (RADIUS mib-2.67, the enterprise root) as
``oid -> (syntax prototype, getter)``.  Values are read through the getters, and cloned
into their MIB syntax, only when answered.  OIDs and syntaxes come from the
pysmi-compiled modules.
"""
from __future__ import annotations

import bisect
import functools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pysnmp.proto import rfc1902

from . import sources as src

C32 = 1 << 32

# RFC 4669 object name suffix -> counter suffix (radius.auth.<x> / radius.auth.client.<N>.<x>)
AUTH_TOTALS = {"TotalAccessRequests": "access_requests", "TotalInvalidRequests": "invalid_requests",
               "TotalDupAccessRequests": "dup_access_requests", "TotalAccessAccepts": "access_accepts",
               "TotalAccessRejects": "access_rejects", "TotalAccessChallenges": "access_challenges",
               "TotalMalformedAccessRequests": "malformed_access_requests",
               "TotalBadAuthenticators": "bad_authenticators", "TotalPacketsDropped": "packets_dropped",
               "TotalUnknownTypes": "unknown_types"}
AUTH_CLIENT = {"AccessRequests": "access_requests", "DupAccessRequests": "dup_access_requests",
               "AccessAccepts": "access_accepts", "AccessRejects": "access_rejects",
               "AccessChallenges": "access_challenges", "MalformedAccessRequests": "malformed_access_requests",
               "BadAuthenticators": "bad_authenticators", "PacketsDropped": "packets_dropped",
               "UnknownTypes": "unknown_types"}
# RFC 4671
ACC_TOTALS = {"TotalRequests": "requests", "TotalInvalidRequests": "invalid_requests",
              "TotalDupRequests": "dup_requests", "TotalResponses": "responses",
              "TotalMalformedRequests": "malformed_requests", "TotalBadAuthenticators": "bad_authenticators",
              "TotalPacketsDropped": "packets_dropped", "TotalNoRecords": "no_records",
              "TotalUnknownTypes": "unknown_types"}
ACC_CLIENT = {"PacketsDropped": "packets_dropped", "Requests": "requests", "DupRequests": "dup_requests",
              "Responses": "responses", "BadAuthenticators": "bad_authenticators",
              "MalformedRequests": "malformed_requests", "NoRecords": "no_records",
              "UnknownTypes": "unknown_types"}
# DIAMETER-BASE-PROTOCOL-MIB peer counters <- peers-<pid>.json fields
PEER_STATS = {"RequestsIn": "requests_in", "AnswersOut": "answers_out", "RequestsOut": "requests_out",
              "AnswersIn": "answers_in", "MalformedReqsts": "malformed"}
# per-command peer counters: "<cmd_code>.<slot>" in Peer.counters (the workers' by_command)
CER, DWR, DPR, CCR, RAR = 257, 280, 282, 272, 258
# DIAMETER-BASE-PROTOCOL-MIB dbpPeerStats<X>: CERsIn, CEAsOut, DWRsOut ...
PEER_COMMANDS = {f"{name}s{way}": f"{code}.{slot}"
                 for code, req, ans in ((CER, "CER", "CEA"), (DWR, "DWR", "DWA"), (DPR, "DPR", "DPA"))
                 for name, way, slot in ((req, "In", "requests_in"), (req, "Out", "requests_out"),
                                         (ans, "In", "answers_in"), (ans, "Out", "answers_out"))}
# DIAMETER-CC-APPLICATION-MIB dccaPerPeerStats<X>: CCRIn, CCRDropped, CCAOut, RAROut ...
CC_STATS = {f"{name}{way}": f"{code}.{slot}"
            for code, req, ans in ((CCR, "CCR", "CCA"), (RAR, "RAR", "RAA"))
            for name, way, slot in ((req, "In", "requests_in"), (req, "Out", "requests_out"),
                                    (req, "Dropped", "requests_dropped"), (ans, "In", "answers_in"),
                                    (ans, "Out", "answers_out"), (ans, "Dropped", "answers_dropped"))}
APP_CLASSES = {"ocsAppAnswersSuccess": "2xxx", "ocsAppAnswersProtocolError": "3xxx",
               "ocsAppAnswersTransient": "4xxx", "ocsAppAnswersPermanent": "5xxx"}
STATE = {"closed": 1, "closing": 8}          # open -> rOpen(6) / iOpen(7)


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as v
    try:
        return v("ocs-appliance")
    except PackageNotFoundError:
        return "0"


def process_uptime(pid: int, now: float) -> float:
    """Seconds since a process started (Linux: /proc/<pid> creation time)."""
    try:
        return max(0.0, now - os.stat(f"/proc/{pid}").st_ctime)
    except OSError:
        return 0.0


Getter = Callable[[], Any]


class View:
    """Our instances as a sorted OID list; values are read through getters when answered.

    The layout (which rows exist) is rebuilt only when its signature changes (clients,
    peers, applications, processes); every request refreshes the sources, so the getters
    return live values."""

    def __init__(self, mib_builder: Any, sources: src.Sources, ident: str) -> None:
        self.mib = mib_builder
        self.src = sources
        self.ident = ident
        self.keys: list[tuple[int, ...]] = []
        self.values: dict[tuple[int, ...], tuple[Any, Getter]] = {}
        self.signature: Any = None
        self.apps: dict[int, str] = {}
        self._apps_version = -1
        self._sym: dict[tuple[str, str], Any] = {}
        self.roots = (self.sym("RADIUS-AUTH-SERVER-MIB", "radiusMIB").name,
                      self.sym("OCS-APPLIANCE-SMI", "ocsAppliance").name)

    def sym(self, module: str, name: str) -> Any:
        key = (module, name)
        obj = self._sym.get(key)
        if obj is None:
            (obj,) = self.mib.import_symbols(module, name)
            self._sym[key] = obj
        return obj

    def covers(self, oid: tuple[int, ...]) -> bool:
        return any(oid[:len(r)] == r for r in self.roots)

    def root_of(self, oid: tuple[int, ...]) -> tuple[int, ...] | None:
        for r in self.roots:
            if oid[:len(r)] == r:
                return r
        return None

    # -- lookups --------------------------------------------------------------------------------
    def get(self, oid: tuple[int, ...]) -> Any | None:
        entry = self.values.get(oid)
        return None if entry is None else _value(entry)

    def next(self, oid: tuple[int, ...]) -> tuple[tuple[int, ...], Any] | None:
        i = bisect.bisect_right(self.keys, oid)
        if i >= len(self.keys):
            return None
        key = self.keys[i]
        return key, _value(self.values[key])

    # -- layout ---------------------------------------------------------------------------------
    def rebuild(self) -> None:
        """Refresh the sources; lay the instances out again only if the rows changed."""
        s = self.src
        s.refresh()
        if self._apps_version != s.counter_files.version:
            self.apps = app_ids(s.counters)
            self._apps_version = s.counter_files.version
        signature = (tuple((int(r["index"]), str(r.get("address")), str(r.get("name"))) for r in s.radius_clients),
                     tuple(sorted(p.index for p in s.peers.values())),
                     tuple(sorted(self.apps.items())),
                     tuple((p.pid, p.role) for p in s.procs))
        if signature == self.signature:
            return
        values: dict[tuple[int, ...], tuple[Any, Getter]] = {}
        self._radius(values)
        self._diameter(values)
        self._ocs(values)
        self.values = values
        self.keys = sorted(values)
        self.signature = signature

    def _put(self, out: dict, module: str, name: str, index: tuple[int, ...], getter: Getter) -> None:
        obj = self.sym(module, name)
        out[obj.name + index] = (obj.syntax, getter)

    def _const(self, out: dict, module: str, name: str, index: tuple[int, ...], value: Any) -> None:
        self._put(out, module, name, index, lambda: value)

    def _counter(self, out: dict, module: str, name: str, index: tuple[int, ...], counter: str) -> None:
        counters = self.src
        self._put(out, module, name, index, lambda: counters.counters.get(counter, 0))

    def _radius_uptime(self) -> int:
        now = time.time()
        procs = [p for p in self.src.procs if p.alive and p.role.startswith("radius")]
        return int(max((process_uptime(p.pid, now) for p in procs), default=0.0) * 100)

    def _radius(self, out: dict) -> None:
        up = self._radius_uptime
        servers = (("RADIUS-AUTH-SERVER-MIB", "radiusAuthServ", AUTH_TOTALS, AUTH_CLIENT, "auth"),
                   ("RADIUS-ACC-SERVER-MIB", "radiusAccServ", ACC_TOTALS, ACC_CLIENT, "acct"))
        for mod, pre, totals, per, kind in servers:
            self._const(out, mod, f"{pre}Ident", (0,), self.ident)
            self._put(out, mod, f"{pre}UpTime", (0,), up)
            self._put(out, mod, f"{pre}ResetTime", (0,), up)
            self._const(out, mod, f"{pre}ConfigReset", (0,), 4)          # running(4)
            for obj, counter in totals.items():
                self._counter(out, mod, f"{pre}{obj}", (0,), f"radius.{kind}.{counter}")
            client = "radiusAuthClient" if kind == "auth" else "radiusAccClient"
            disc = "radiusAuthServerCounterDiscontinuity" if kind == "auth" else "radiusAccServerCounterDiscontinuity"
            for row in self.src.radius_clients:
                n = int(row["index"])
                idx = (n,)
                atype, addr = src.inet_address(str(row.get("address") or ""))
                name = str(row.get("name") or "")
                self._const(out, mod, f"{client}InetAddressType", idx, atype)
                self._const(out, mod, f"{client}InetAddress", idx, addr)
                self._const(out, mod, f"{client}ExtID", idx, name)
                for obj, counter in per.items():
                    self._counter(out, mod, f"{pre}Ext{obj}", idx, f"radius.{kind}.client.{n}.{counter}")
                    if atype == 1:                                 # deprecated IPv4-only table
                        self._counter(out, mod, f"{pre}{obj}", idx, f"radius.{kind}.client.{n}.{counter}")
                self._put(out, mod, disc, idx, up)
                if atype == 1:
                    self._const(out, mod, f"{client}Address", idx, addr)
                    self._const(out, mod, f"{client}ID", idx, name)

    def _diameter(self, out: dict) -> None:
        cfg = self.src.cfg
        base, cc = "DIAMETER-BASE-PROTOCOL-MIB", "DIAMETER-CC-APPLICATION-MIB"
        self._const(out, base, "dbpLocalId", (0,), self.ident)
        self._const(out, base, "dbpLocalOriginHost", (0,), cfg.node.host)
        self._const(out, base, "dbpLocalRealm", (0,), cfg.node.realm)
        self._const(out, base, "dbpLocalTcpListenPort", (0,), cfg.diameter.port if cfg.diameter.enabled else 0)
        self._const(out, base, "dbpLocalSctpListenPort", (0,), cfg.diameter.port if cfg.diameter.sctp else 0)
        self._const(out, cc, "dccaHostID", (0,), self.ident)
        for host, peer in self.src.peers.items():
            idx = (peer.index,)
            field = self._peer_field(host)
            self._const(out, base, "dbpPeerId", idx, host)
            self._put(out, base, "dbpPeerRealm", idx, field("realm"))
            self._put(out, base, "dbpPeerPortConnect", idx, field("port"))
            self._const(out, base, "dbpPeerProtocol", idx, 1)
            self._const(out, base, "dbpPeerSecurity", idx, 1)
            self._const(out, base, "dbpPeerFirmwareRevision", idx, 0)
            self._put(out, base, "dbpPeerIpAddressType", idx, field("atype"))
            self._put(out, base, "dbpPeerIpAddress", idx, field("addr"))
            self._put(out, base, "dbpPeerStatsState", idx, field("state"))
            self._put(out, base, "dbpPeerStatsStateDuration", idx, field("duration"))
            for obj, name in PEER_STATS.items():
                self._put(out, base, f"dbpPeerStats{obj}", idx, field(name))
            for obj, name in PEER_COMMANDS.items():
                self._put(out, base, f"dbpPeerStats{obj}", idx, field(name))
            self._const(out, cc, "dccaPeerId", idx, host)
            for obj, name in CC_STATS.items():
                self._put(out, cc, f"dccaPerPeerStats{obj}", idx, field(name))

    def _peer_field(self, host: str) -> Callable[[str], Getter]:
        """Getters for one peer's row, read from the current peer table."""
        sources = self.src

        def value(name: str) -> Any:
            peer = sources.peers.get(host)
            if peer is None:
                return {"realm": "", "addr": b""}.get(name, 0)
            if name == "realm":
                return peer.realm
            if name == "port":
                return peer.port
            if name in ("atype", "addr"):
                atype, addr = src.inet_address(peer.address) if peer.address else (0, b"")
                return atype if name == "atype" else addr
            if name == "state":
                return (7 if peer.initiator else 6) if peer.state == "open" else STATE.get(peer.state, 1)
            if name == "duration":
                return int(max(0.0, time.time() - (peer.since or sources.started)) * 100)
            return peer.counters.get(name, 0)
        return lambda name: (lambda: value(name))

    def _ocs(self, out: dict) -> None:
        mod = "OCS-APPLIANCE-MIB"
        sources = self.src
        for obj, table in (("ocsOfferCount", "offer"), ("ocsProductCount", "product"),
                           ("ocsSubscriberCount", "service"), ("ocsBucketCount", "bucket"),
                           ("ocsReservationCount", "reservation"), ("ocsClientCount", "client")):
            self._put(out, mod, obj, (0,), functools.partial(sources.inventory.get, table, 0))
        for app_id, name in self.apps.items():
            idx = (app_id,)
            self._const(out, mod, "ocsAppName", idx, name)
            self._counter(out, mod, "ocsAppRequests", idx, f"diameter.{name}.requests")
            for obj, cls in APP_CLASSES.items():
                self._counter(out, mod, obj, idx, f"diameter.{name}.answers.{cls}")
            self._counter(out, mod, "ocsAppRequestsDropped", idx, f"diameter.{name}.requests.dropped")
        for n, name, path in sources.log_dirs():
            idx = (n,)
            self._const(out, mod, "ocsLogName", idx, name)
            self._const(out, mod, "ocsLogDirectory", idx, str(path))
            for col, obj in enumerate(("ocsLogFiles", "ocsLogKBytes", "ocsLogDiskUsedPercent")):
                self._put(out, mod, obj, idx, functools.partial(_log_column, sources, n, path, col))
        for p in sources.procs:
            idx = (p.pid,)
            self._const(out, mod, "ocsProcessRole", idx, p.role)
            self._put(out, mod, "ocsProcessStatus", idx, functools.partial(_process_status, sources, p.pid))


def _log_column(sources: src.Sources, n: int, path: Path, col: int) -> int:
    """One column of ocsLogTable: files, kilobytes, disk used (percent)."""
    return sources.log_usage(n, path)[col]


def _process_status(sources: src.Sources, pid: int) -> int:
    """ocsProcessStatus: running(1) or exited(2)."""
    return 1 if sources.alive(pid) else 2


def _value(entry: tuple[Any, Getter]) -> Any:
    proto, getter = entry
    return proto.clone(_fit(proto, getter()))


def app_ids(counters: Any) -> dict[int, str]:
    """Diameter applications seen in the counter names: {Application-Id: short name}."""
    try:
        from ..diameter.node import APP_NAMES
    except ImportError:                     # pragma: no cover - diameter package absent
        APP_NAMES = {}
    by_name = {v: k for k, v in APP_NAMES.items()}
    out: dict[int, str] = {}
    for key in counters:
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "diameter" and parts[2] == "requests":
            name = parts[1]
            app_id = by_name.get(name)
            if app_id is None and name.startswith("app") and name[3:].isdigit():
                app_id = int(name[3:])
            if app_id:                       # 0 (base) is not an application row
                out[app_id] = name
    return out


def _fit(syntax: Any, raw: Any) -> Any:
    """Keep a raw value inside the object's syntax: counters wrap, gauges saturate."""
    if isinstance(raw, int):
        if isinstance(syntax, (rfc1902.Counter32, rfc1902.TimeTicks)):
            return raw % C32
        if isinstance(syntax, rfc1902.Counter64):
            return raw % (1 << 64)
        if isinstance(syntax, (rfc1902.Gauge32, rfc1902.Unsigned32)):
            return max(0, min(raw, C32 - 1))
    if isinstance(raw, str):
        return raw.encode()[:255]
    return raw

