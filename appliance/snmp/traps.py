"""Notifications to the configured managers (RFC 3413 §3.3 notification originator).

Watched every ``snmp.poll_interval`` seconds:
- Diameter peers (the workers' peer tables): Open -> ocsDiameterPeerUp, leaving Open
  (or vanishing) -> ocsDiameterPeerDown (RFC 6733 §5.6);
- ``events-<pid>.jsonl`` written by workers (:mod:`appliance.telemetry.events`) ->
  ocsUnknownClient, and the ledger's credit events -> ocsOutOfCredit / ocsCreditRestored;
- log directories' file systems -> ocsLogDiskNearlyFull once above
  ``snmp.disk_full_percent``, re-armed when back below;
- counter files: a new process of a role/instance whose earlier process died ->
  ocsProcessRestarted;
- the server certificate: fewer than ``snmp.cert_warn_days`` days left (or expired) ->
  ocsCertificateExpiring, once a day per certificate, and the counter
  ``tls.server_cert_expiry_warnings``.
Each manager gets a trap or an inform (v2c community, or v3 authPriv user).
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.entity import config as pconfig
from pysnmp.entity.rfc3413 import ntforg
from pysnmp.proto import rfc1902

from ..telemetry import metrics
from . import sources as src

if TYPE_CHECKING:
    from .agent import Agent

log = logging.getLogger(__name__)
MIB = "OCS-APPLIANCE-MIB"
_EVENTS = re.compile(r"^events-(\d+)\.jsonl$")
MAX_EVENTS_PER_POLL = 100          # bound on notifications from worker events per poll


class Notifier:
    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.engine = agent.engine
        self.view = agent.view
        self.sources = agent.sources
        self.originator = ntforg.NotificationOriginator()
        self.targets: list[str] = []
        self.peer_states: dict[str, str] | None = None
        self.roles: dict[str, set[int]] | None = None
        self.full: set[int] = set()
        self.offsets: dict[Path, int] | None = None
        self.cert_checked = 0.0                  # monotonic time of the last certificate check
        self.cert_warned: dict[str, int] = {}    # certificate fingerprint -> day number last warned
        self.sent = 0
        self._configure()

    def _configure(self) -> None:
        s = self.agent.cfg.snmp
        users = {u.name: u for u in s.users}
        if s.managers:
            pconfig.add_vacm_view(self.engine, "ocs-notify", "included", (1, 3, 6, 1), b"")
        for i, m in enumerate(s.managers):
            params, tag, notif = f"ocs-params-{i}", f"ocs-mgr-{i}", f"ocs-notif-{i}"
            if m.version == "v2c":
                sec = f"ocs-trap-{i}"
                # the trap community is valid only from the manager's own address:port (the tag)
                pconfig.add_v1_system(self.engine, sec, m.community, transportTag=tag, securityName=sec)
                pconfig.add_target_parameters(self.engine, params, sec, "noAuthNoPriv", 1)
                model, level = 2, "noAuthNoPriv"
            else:
                user = users.get(m.user)
                if user is None:
                    log.error("manager %s: no snmp.users entry %r; skipped", m.address, m.user)
                    continue
                sec = user.name
                pconfig.add_target_parameters(self.engine, params, sec, "authPriv", 3)
                model, level = 3, "authPriv"
            pconfig.add_vacm_group(self.engine, f"ocs-notify-{i}", model, sec)
            pconfig.add_vacm_access(self.engine, f"ocs-notify-{i}", b"", model, level, "exact",
                                    "", "", "ocs-notify")
            domain = udp6.DOMAIN_NAME if ":" in m.address else udp.DOMAIN_NAME
            pconfig.add_target_address(self.engine, f"ocs-target-{i}", domain, (m.address, m.port), params,
                                       timeout=300, retryCount=3, tagList=tag)
            pconfig.add_notification_target(self.engine, notif, params, tag, "inform" if m.inform else "trap")
            self.targets.append(notif)
            self._transport_for(domain)

    def _transport_for(self, domain: tuple[int, ...]) -> None:
        """Notifications leave from the agent's socket; a manager of the other IP family gets a client one."""
        if pconfig.get_transport(self.engine, domain) is None:
            transport = (udp6.Udp6AsyncioTransport() if domain == udp6.DOMAIN_NAME
                         else udp.UdpAsyncioTransport()).open_client_mode()
            pconfig.add_transport(self.engine, domain, transport)

    # -- sending --------------------------------------------------------------------------------
    def send(self, notification: str, objects: list[tuple[str, tuple[int, ...], Any]]) -> None:
        """Send ``notification`` with ``objects`` [(object name, instance, raw value)] to every manager."""
        if not self.targets:
            return
        trap_oid = self.view.sym(MIB, notification).name
        (snmp_trap_oid,) = self.engine.get_mib_builder().import_symbols("__SNMPv2-MIB", "snmpTrapOID")
        var_binds: list[tuple[Any, Any]] = [(snmp_trap_oid.name, rfc1902.ObjectIdentifier(trap_oid))]
        for name, instance, raw in objects:
            obj = self.view.sym(MIB, name)
            var_binds.append((obj.name + instance, obj.syntax.clone(raw.encode()[:255] if isinstance(raw, str)
                                                                    else raw)))
        for target in self.targets:
            try:
                self.originator.send_varbinds(self.engine, target, None, b"", var_binds, self._done)
                self.sent += 1
                metrics.inc("snmp.notifications.sent")
            except Exception:
                metrics.inc("snmp.notifications.failed")
                log.exception("notification %s to %s failed", notification, target)
        log.info("notification %s sent to %d manager(s)", notification, len(self.targets))

    def _done(self, engine: Any, handle: Any, error: Any, cb: Any) -> None:
        if error:
            metrics.inc("snmp.notifications.unacknowledged")
            log.warning("notification not acknowledged: %s", error)

    # -- watching -------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                self.poll()
            except Exception:
                log.exception("notification poll failed")
            try:
                await asyncio.wait_for(stop.wait(), self.agent.cfg.snmp.poll_interval)
            except TimeoutError:
                pass

    def poll(self) -> None:
        self.sources.refresh()
        self._peers()
        self._processes()
        self._disks()
        self._events()
        self._certificate()

    def _peers(self) -> None:
        current = {host: peer for host, peer in self.sources.peers.items()}
        states = {host: peer.state for host, peer in current.items()}
        if self.peer_states is not None:
            for host, peer in current.items():
                before = self.peer_states.get(host, "closed")
                if peer.state == "open" and before != "open":
                    self._peer("ocsDiameterPeerUp", peer, "")
                elif peer.state != "open" and before == "open":
                    self._peer("ocsDiameterPeerDown", peer, peer.state)
            for host, before in self.peer_states.items():
                if host not in current and before == "open":
                    self._peer("ocsDiameterPeerDown", src.Peer(0, host), "gone")
        self.peer_states = states

    def _peer(self, notification: str, peer: src.Peer, reason: str) -> None:
        atype, addr = src.inet_address(peer.address) if peer.address else (0, b"")
        objects: list[tuple[str, tuple[int, ...], Any]] = [
            ("ocsNotifyPeerIdentity", (0,), peer.host), ("ocsNotifyAddressType", (0,), atype),
            ("ocsNotifyAddress", (0,), addr)]
        if notification == "ocsDiameterPeerDown":
            objects.append(("ocsNotifyText", (0,), reason))
        self.send(notification, objects)

    def _processes(self) -> None:
        roles: dict[str, set[int]] = {}
        procs = self.sources.processes()
        for p in procs:
            roles.setdefault(p.role, set()).add(p.pid)
        if self.roles is not None:
            for p in procs:
                if p.alive and p.pid not in self.roles.get(p.role, set()) and \
                        any(q.role == p.role and q.pid != p.pid and not q.alive for q in procs):
                    self.send("ocsProcessRestarted", [("ocsProcessRole", (p.pid,), p.role),
                                                      ("ocsProcessStatus", (p.pid,), 1)])
        self.roles = roles

    def _disks(self) -> None:
        threshold = self.agent.cfg.snmp.disk_full_percent
        for n, name, path in self.sources.log_dirs():
            _files, _kib, percent = src.dir_usage(path)
            if percent >= threshold and n not in self.full:
                self.full.add(n)
                self.send("ocsLogDiskNearlyFull", [("ocsLogName", (n,), name), ("ocsLogDirectory", (n,), str(path)),
                                                   ("ocsLogDiskUsedPercent", (n,), percent)])
            elif percent < threshold:
                self.full.discard(n)

    def _certificate(self, now: float | None = None) -> None:
        """ocsCertificateExpiring once a day per certificate while it has fewer than
        ``snmp.cert_warn_days`` days left (checked once a minute: the file is read, nothing more)."""
        import datetime
        import time
        clock = time.monotonic()
        if now is None and clock - self.cert_checked < 60:
            return
        self.cert_checked = clock
        from ..tls import certificate_paths, load_chain
        path, _key = certificate_paths(self.agent.cfg)
        try:
            cert = load_chain(path.read_bytes())[0]
        except (OSError, ValueError):
            return
        at = datetime.datetime.fromtimestamp(now if now is not None else time.time(), datetime.UTC)
        left = cert.not_valid_after_utc - at
        if left.days >= self.agent.cfg.snmp.cert_warn_days:
            return
        fingerprint = cert.fingerprint(_sha256()).hex()
        day = int(at.timestamp()) // 86_400
        if self.cert_warned.get(fingerprint) == day:
            return
        self.cert_warned[fingerprint] = day
        metrics.inc("tls.server_cert_expiry_warnings")
        subject, expiry = cert.subject.rfc4514_string(), cert.not_valid_after_utc.isoformat()
        if left.total_seconds() > 0:
            text = f"{subject} expires {expiry}, {left.days} days left"
        else:
            text = f"{subject} expired {expiry}"
        log.warning("server certificate %s", text)
        self.send("ocsCertificateExpiring", [("ocsNotifyText", (0,), text)])

    def _events(self) -> None:
        folder = self.sources.run_dir / "snmp"
        offsets = self.offsets or {}
        seen: dict[Path, int] = {}
        budget = MAX_EVENTS_PER_POLL
        paths = sorted(p for p in folder.iterdir() if _EVENTS.match(p.name)) if folder.is_dir() else []
        for path in paths:
            try:
                st = path.stat()
            except OSError:
                continue
            size = st.st_size
            # a file met for the first time is read from its start, unless it predates the agent
            start = offsets.get(path, size if st.st_mtime < self.sources.started else 0)
            if start > size:                  # the worker started the file again
                start = 0
            if start == size:
                seen[path] = size
                continue
            with open(path, "rb") as f:
                f.seek(start)
                chunk = f.read(min(size - start, 1 << 20))
            end = chunk.rfind(b"\n") + 1
            seen[path] = start + end
            for line in chunk[:end].splitlines():
                if budget <= 0:
                    metrics.inc("snmp.events.skipped")
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(event, dict):
                    continue
                if event.get("event") in ("out_of_credit", "credit_restored"):
                    budget -= 1
                    self._credit(event)
                elif event.get("event") == "unknown_client":
                    budget -= 1
                    atype, addr = src.inet_address(str(event.get("address") or ""))
                    protocol = 2 if event.get("protocol") == "diameter" else 1
                    self.send("ocsUnknownClient", [("ocsNotifyProtocol", (0,), protocol),
                                                   ("ocsNotifyAddressType", (0,), atype),
                                                   ("ocsNotifyAddress", (0,), addr),
                                                   ("ocsNotifyPeerIdentity", (0,), str(event.get("identity") or ""))])
        self.offsets = seen

    def _credit(self, event: dict[str, Any]) -> None:
        product = str(event.get("product") or "")
        if event["event"] == "out_of_credit":
            self.send("ocsOutOfCredit", [("ocsNotifyProductId", (0,), product),
                                         ("ocsNotifyText", (0,), str(event.get("reason") or ""))])
        else:
            self.send("ocsCreditRestored", [("ocsNotifyProductId", (0,), product)])


def _sha256() -> Any:
    from cryptography.hazmat.primitives import hashes
    return hashes.SHA256()

