"""The served values: the compiled MIB objects bound to the sources, as a sorted OID list.

``View.rebuild()`` runs at the start of every request PDU and lays out every instance
of the appliance's subtrees (RADIUS mib-2.67, the enterprise root) as
``oid -> (syntax prototype, raw value)``; values are cloned into their MIB syntax only
when answered.  OIDs and syntaxes come from the pysmi-compiled modules.
"""
from __future__ import annotations

import bisect
import os
import time
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
APP_CLASSES = {"ocsAppAnswersSuccess": "2xxx", "ocsAppAnswersProtocolError": "3xxx",
               "ocsAppAnswersTransient": "4xxx", "ocsAppAnswersPermanent": "5xxx"}
STATE = {"closed": 1, "closing": 8}          # open -> rOpen(6) / iOpen(7)

Entry = tuple[Any, Any]                      # (syntax prototype, raw value)


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


class View:
    def __init__(self, mib_builder: Any, sources: src.Sources, ident: str) -> None:
        self.mib = mib_builder
        self.src = sources
        self.ident = ident
        self.keys: list[tuple[int, ...]] = []
        self.values: dict[tuple[int, ...], Entry] = {}
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

    # -- lookups --------------------------------------------------------------------------------
    def get(self, oid: tuple[int, ...]) -> Any | None:
        entry = self.values.get(oid)
        return None if entry is None else self._value(entry)

    def next(self, oid: tuple[int, ...]) -> tuple[tuple[int, ...], Any] | None:
        i = bisect.bisect_right(self.keys, oid)
        if i >= len(self.keys):
            return None
        key = self.keys[i]
        return key, self._value(self.values[key])

    @staticmethod
    def _value(entry: Entry) -> Any:
        proto, raw = entry
        return proto.clone(raw)

    # -- layout ---------------------------------------------------------------------------------
    def rebuild(self) -> None:
        self.src.refresh()
        values: dict[tuple[int, ...], Entry] = {}
        now = time.time()
        self._radius(values, now)
        self._diameter(values, now)
        self._ocs(values)
        self.values = values
        self.keys = sorted(values)

    def _scalar(self, out: dict, module: str, name: str, raw: Any) -> None:
        obj = self.sym(module, name)
        out[obj.name + (0,)] = (obj.syntax, _fit(obj.syntax, raw))

    def _cell(self, out: dict, module: str, name: str, index: tuple[int, ...], raw: Any) -> None:
        obj = self.sym(module, name)
        out[obj.name + index] = (obj.syntax, _fit(obj.syntax, raw))

    def _radius(self, out: dict, now: float) -> None:
        cnt = self.src.counters
        procs = [p for p in self.src.processes() if p.alive and p.role.startswith("radius")]
        up = int(max((process_uptime(p.pid, now) for p in procs), default=0.0) * 100)
        for mod, pre, totals, per, kind in (("RADIUS-AUTH-SERVER-MIB", "radiusAuthServ", AUTH_TOTALS, AUTH_CLIENT, "auth"),
                                             ("RADIUS-ACC-SERVER-MIB", "radiusAccServ", ACC_TOTALS, ACC_CLIENT, "acct")):
            self._scalar(out, mod, f"{pre}Ident", self.ident)
            self._scalar(out, mod, f"{pre}UpTime", up)
            self._scalar(out, mod, f"{pre}ResetTime", up)
            self._scalar(out, mod, f"{pre}ConfigReset", 4)          # running(4)
            for obj, counter in totals.items():
                self._scalar(out, mod, f"{pre}{obj}", cnt.get(f"radius.{kind}.{counter}", 0))
            client = "radiusAuthClient" if kind == "auth" else "radiusAccClient"
            for row in self.src.radius_clients:
                n = int(row["index"])
                idx = (n,)
                atype, addr = src.inet_address(str(row.get("address") or ""))
                name = str(row.get("name") or "")
                self._cell(out, mod, f"{client}InetAddressType", idx, atype)
                self._cell(out, mod, f"{client}InetAddress", idx, addr)
                self._cell(out, mod, f"{client}ExtID", idx, name)
                for obj, counter in per.items():
                    value = cnt.get(f"radius.{kind}.client.{n}.{counter}", 0)
                    self._cell(out, mod, f"{pre}Ext{obj}", idx, value)
                    if atype == 1:                                 # deprecated IPv4-only table
                        self._cell(out, mod, f"{pre}{obj}", idx, value)
                disc = "radiusAuthServerCounterDiscontinuity" if kind == "auth" else "radiusAccServerCounterDiscontinuity"
                self._cell(out, mod, disc, idx, up)
                if atype == 1:
                    self._cell(out, mod, f"{client}Address", idx, addr)
                    self._cell(out, mod, f"{client}ID", idx, name)

    def _diameter(self, out: dict, now: float) -> None:
        cfg = self.src.cfg
        base, cc = "DIAMETER-BASE-PROTOCOL-MIB", "DIAMETER-CC-APPLICATION-MIB"
        self._scalar(out, base, "dbpLocalId", self.ident)
        self._scalar(out, base, "dbpLocalOriginHost", cfg.node.host)
        self._scalar(out, base, "dbpLocalRealm", cfg.node.realm)
        self._scalar(out, base, "dbpLocalTcpListenPort", cfg.diameter.port if cfg.diameter.enabled else 0)
        self._scalar(out, base, "dbpLocalSctpListenPort", cfg.diameter.port if cfg.diameter.sctp else 0)
        self._scalar(out, cc, "dccaHostID", self.ident)
        for peer in self.src.peers.values():
            idx = (peer.index,)
            atype, addr = src.inet_address(peer.address) if peer.address else (0, b"")
            self._cell(out, base, "dbpPeerId", idx, peer.host)
            self._cell(out, base, "dbpPeerRealm", idx, peer.realm)
            self._cell(out, base, "dbpPeerPortConnect", idx, peer.port)
            self._cell(out, base, "dbpPeerProtocol", idx, 1)
            self._cell(out, base, "dbpPeerSecurity", idx, 1)
            self._cell(out, base, "dbpPeerFirmwareRevision", idx, 0)
            self._cell(out, base, "dbpPeerIpAddressType", idx, atype)
            self._cell(out, base, "dbpPeerIpAddress", idx, addr)
            state = (7 if peer.initiator else 6) if peer.state == "open" else STATE.get(peer.state, 1)
            self._cell(out, base, "dbpPeerStatsState", idx, state)
            since = peer.since or self.src.started
            self._cell(out, base, "dbpPeerStatsStateDuration", idx, int(max(0.0, now - since) * 100))
            for obj, field in PEER_STATS.items():
                self._cell(out, base, f"dbpPeerStats{obj}", idx, peer.counters.get(field, 0))

    def _ocs(self, out: dict) -> None:
        mod = "OCS-APPLIANCE-MIB"
        inv = self.src.inventory
        for obj, table in (("ocsOfferCount", "offer"), ("ocsProductCount", "product"),
                           ("ocsSubscriberCount", "service"), ("ocsBucketCount", "bucket"),
                           ("ocsReservationCount", "reservation"), ("ocsClientCount", "client")):
            self._scalar(out, mod, obj, inv.get(table, 0))
        cnt = self.src.counters
        for app_id, name in app_ids(cnt).items():
            idx = (app_id,)
            self._cell(out, mod, "ocsAppName", idx, name)
            self._cell(out, mod, "ocsAppRequests", idx, cnt.get(f"diameter.{name}.requests", 0))
            for obj, cls in APP_CLASSES.items():
                self._cell(out, mod, obj, idx, cnt.get(f"diameter.{name}.answers.{cls}", 0))
            self._cell(out, mod, "ocsAppRequestsDropped", idx, cnt.get(f"diameter.{name}.requests.dropped", 0))
        for n, name, path in self.src.log_dirs():
            files, kib, percent = src.dir_usage(path)
            idx = (n,)
            self._cell(out, mod, "ocsLogName", idx, name)
            self._cell(out, mod, "ocsLogDirectory", idx, str(path))
            self._cell(out, mod, "ocsLogFiles", idx, files)
            self._cell(out, mod, "ocsLogKBytes", idx, kib)
            self._cell(out, mod, "ocsLogDiskUsedPercent", idx, percent)
        for p in self.src.processes():
            idx = (p.pid,)
            self._cell(out, mod, "ocsProcessRole", idx, p.role)
            self._cell(out, mod, "ocsProcessStatus", idx, 1 if p.alive else 2)


def app_ids(counters: dict[str, int]) -> dict[int, str]:
    """Diameter applications seen in the counters: {Application-Id: short name}."""
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

