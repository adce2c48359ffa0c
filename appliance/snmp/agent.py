"""The SNMP agent role (``appliance run snmp``): pysnmp on asyncio, its own process.

- v1/v2c: one read-only community (``snmp.community``), valid only from the source
  prefixes in ``snmp.allowed`` (checked before pysnmp sees the datagram; a refused
  message counts in snmpInBadCommunityUses, RFC 3418);
- v3: USM users from ``snmp.users``, authPriv only (RFC 3414, AES RFC 3826);
- read view: system and snmp groups, snmpEngine, RADIUS (mib-2.67) and the
  enterprise root; USM/VACM/target tables are not exposed; SET is refused;
- values are live (:mod:`appliance.snmp.view`), notifications in
  :mod:`appliance.snmp.traps`.
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from pathlib import Path
from typing import Any

from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.entity import config as pconfig
from pysnmp.entity import engine as pengine
from pysnmp.entity.rfc3413 import context as pcontext
from pysnmp.proto import rfc1902

from ..config import Config, SnmpConfig
from ..runtime import run_async
from ..telemetry import metrics
from . import mibs
from .instrum import Instrum, responders
from .sources import Sources
from .view import View, version

log = logging.getLogger(__name__)

READ_VIEW = ((1, 3, 6, 1, 2, 1, 1), (1, 3, 6, 1, 2, 1, 11), (1, 3, 6, 1, 2, 1, 67),
             (1, 3, 6, 1, 6, 3, 10, 2, 1))  # + the enterprise root, added from the MIB
AUTH = {"sha": pconfig.USM_AUTH_HMAC96_SHA, "md5": pconfig.USM_AUTH_HMAC96_MD5,
        "sha256": pconfig.USM_AUTH_HMAC192_SHA256, "sha512": pconfig.USM_AUTH_HMAC384_SHA512}
PRIV = {"aes": pconfig.USM_PRIV_CFB128_AES, "aes192": pconfig.USM_PRIV_CFB192_AES,
        "aes256": pconfig.USM_PRIV_CFB256_AES, "des": pconfig.USM_PRIV_CBC56_DES}
COMMUNITY_NAME = "nms"                      # securityName of the v1/v2c community


def engine_id(cfg: Config) -> bytes:
    """``snmp.engine_id`` (hex), else 1 bit + ``snmp.enterprise`` + format 4 (text) + node name
    (RFC 3411 §5 SnmpEngineID)."""
    if cfg.snmp.engine_id:
        return bytes.fromhex(cfg.snmp.engine_id)
    return (0x8000_0000 | cfg.snmp.enterprise).to_bytes(4, "big") + b"\x04" + cfg.node.name.encode()[:27]


def next_boots(path: Path) -> int:
    """snmpEngineBoots, persisted and raised at every start (RFC 3414 §2.2.2)."""
    try:
        boots = int(path.read_text().strip()) + 1
    except (OSError, ValueError):
        boots = 1
    boots = min(boots, 2147483647)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{boots}\n")
    except OSError as exc:
        log.warning("cannot persist snmpEngineBoots in %s: %s", path, exc)
    return boots


def message_version(data: bytes) -> int | None:
    """msgVersion of an SNMP message (RFC 3416/3412: SEQUENCE { INTEGER version, ... }), None if unreadable."""
    if len(data) < 5 or data[0] != 0x30:
        return None
    pos = 2
    if data[1] & 0x80:
        pos += data[1] & 0x7F
    if pos + 3 > len(data) or data[pos] != 0x02 or data[pos + 1] != 1:
        return None
    return data[pos + 2]


class Transport(udp.UdpAsyncioTransport):
    """UDP transport that drops community messages from sources outside ``snmp.allowed``."""

    allowed: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    on_refused: Any = None

    def datagram_received(self, datagram: bytes, transportAddress: Any) -> None:
        if message_version(datagram) in (0, 1) and not _admitted(transportAddress[0], self.allowed):
            metrics.inc("snmp.community.refused")
            if self.on_refused:
                self.on_refused()
            return
        try:
            self._callback_function(self, transportAddress, datagram)
        except Exception:                      # pysnmp rejects garbage by raising: count, never crash
            metrics.inc("snmp.in.errors")
            log.debug("message from %s rejected", transportAddress[0], exc_info=True)


class Transport6(udp6.Udp6AsyncioTransport):
    allowed: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    on_refused: Any = None
    datagram_received = Transport.datagram_received


def _admitted(host: str, allowed: tuple[Any, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in allowed)


class Agent:
    """One SNMP engine with its transport, security configuration and live view."""

    def __init__(self, cfg: Config, sock: socket.socket | None = None) -> None:
        self.cfg = cfg
        s: SnmpConfig = cfg.snmp
        self.engine = pengine.SnmpEngine(rfc1902.OctetString(engine_id(cfg)))
        mib_builder = self.engine.get_mib_builder()
        mib_dir = cfg.path(str(Path(s.mib_dir) if s.mib_dir else mibs.default_mib_dir()))
        cache = cfg.path(s.mib_cache) if s.mib_cache else cfg.path(cfg.data_dir) / "snmp" / "mibs"
        if mibs.enterprise_of(mib_dir) != s.enterprise:      # the operator's own number: edited texts
            mib_dir = mibs.with_enterprise(mib_dir, cache.parent / f"mib-texts-{s.enterprise}", s.enterprise)
        log.info("MIB modules from %s", mibs.load(mib_builder, mib_dir, cache))
        self.ident = f"ocs-appliance {version()}"
        self._system(mib_builder)
        (boots,) = mib_builder.import_symbols("__SNMP-FRAMEWORK-MIB", "snmpEngineBoots")
        boots.syntax = boots.syntax.clone(next_boots(cfg.path(cfg.data_dir) / "snmp-engine-boots"))
        self.sources = Sources(cfg)
        self.view = View(mib_builder, self.sources, self.ident)
        self.view.rebuild()
        self.context = pcontext.SnmpContext(self.engine)
        default = self.context.get_mib_instrum(b"")
        self.context.unregister_context_name(b"")
        self.context.register_context_name(b"", Instrum(default, self.view))
        self.responders = responders(self.engine, self.context, self.view)
        self._security(mib_builder)
        self.sock = sock or self._bind()
        self.port = self.sock.getsockname()[1]

    def _system(self, mib_builder: Any) -> None:
        """sysDescr, sysObjectID (ocsApplianceAgent), sysContact, sysName, sysLocation (RFC 3418)."""
        (agent_oid,) = mib_builder.import_symbols("OCS-APPLIANCE-SMI", "ocsApplianceAgent")
        values = {"sysDescr": f"{self.ident} AAA/OCS/PCRF appliance", "sysObjectID": agent_oid.name,
                  "sysContact": self.cfg.snmp.contact, "sysName": self.cfg.node.host,
                  "sysLocation": self.cfg.snmp.location}
        for name, value in values.items():
            (obj,) = mib_builder.import_symbols("__SNMPv2-MIB", name)
            obj.syntax = obj.syntax.clone(value)
        (root,) = mib_builder.import_symbols("OCS-APPLIANCE-SMI", "ocsAppliance")
        self.enterprise_root = tuple(root.name)

    def _security(self, mib_builder: Any) -> None:
        s = self.cfg.snmp
        view = "ocs-read"
        for subtree in READ_VIEW + (self.enterprise_root,):
            pconfig.add_vacm_view(self.engine, view, "included", subtree, b"")
        pconfig.add_context(self.engine, b"")
        if s.community:
            pconfig.add_v1_system(self.engine, "ocs-community", s.community, securityName=COMMUNITY_NAME)
            for model in (1, 2):
                pconfig.add_vacm_group(self.engine, "ocs-v2c", model, COMMUNITY_NAME)
                pconfig.add_vacm_access(self.engine, "ocs-v2c", b"", model, "noAuthNoPriv", "exact", view, "", "")
        for user in s.users:
            pconfig.add_v3_user(self.engine, user.name, AUTH[user.auth], user.auth_key, PRIV[user.priv],
                                user.priv_key)
            pconfig.add_vacm_group(self.engine, "ocs-v3", 3, user.name)
        if s.users:
            pconfig.add_vacm_access(self.engine, "ocs-v3", b"", 3, "authPriv", "exact", view, "", view)
        (self.bad_uses,) = mib_builder.import_symbols("__SNMPv2-MIB", "snmpInBadCommunityUses")

    def _refused(self) -> None:
        self.bad_uses.syntax = self.bad_uses.syntax.clone((int(self.bad_uses.syntax) + 1) % (1 << 32))

    def _bind(self) -> socket.socket:
        s = self.cfg.snmp
        family = socket.AF_INET6 if ":" in s.address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((s.address, s.port))
        return sock

    def start(self) -> None:
        """Attach the transport (needs the running loop)."""
        allowed = tuple(ipaddress.ip_network(a, strict=False) for a in self.cfg.snmp.allowed)
        v6 = self.sock.family == socket.AF_INET6
        transport = (Transport6 if v6 else Transport)()
        transport.allowed = allowed
        transport.on_refused = self._refused
        transport.open_server_mode(sock=self.sock)
        pconfig.add_transport(self.engine, udp6.DOMAIN_NAME if v6 else udp.DOMAIN_NAME, transport)
        self.engine.open_dispatcher()
        log.info("SNMP agent on %s:%d (community %s, %d v3 users)", self.cfg.snmp.address, self.port,
                 "on" if self.cfg.snmp.community else "off", len(self.cfg.snmp.users))

    def close(self) -> None:
        self.engine.close_dispatcher()

    async def poll_store(self, stop: asyncio.Event) -> None:
        """Refresh the inventory counts (ledger.counts()) every ``snmp.store_cache`` seconds."""
        from ..store import open_store
        try:
            store = open_store(self.cfg)
        except Exception as exc:  # noqa: BLE001 - the agent serves without inventory counts
            log.warning("store unavailable, inventory counts stay 0: %s", exc)
            return
        try:
            while not stop.is_set():
                try:
                    self.sources.inventory = await store.atransact(lambda ledger: ledger.counts())
                except Exception as exc:  # noqa: BLE001 - retried at the next period
                    log.warning("inventory counts failed: %s", exc)
                try:
                    await asyncio.wait_for(stop.wait(), self.cfg.snmp.store_cache)
                except TimeoutError:
                    pass
        finally:
            store.close()


def main(cfg: Config, index: int) -> int:
    agent = Agent(cfg)

    async def serve(stop: asyncio.Event) -> None:
        from .traps import Notifier
        agent.start()
        notifier = Notifier(agent)
        tasks = [asyncio.create_task(agent.poll_store(stop)), asyncio.create_task(notifier.run(stop))]
        await stop.wait()
        agent.close()                          # no more requests: a backlog is not worked off
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    return run_async(serve)
