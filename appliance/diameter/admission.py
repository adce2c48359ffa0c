"""Which peers may open a connection (RFC 6733 §5.3: "the CER is from a known peer").

A peer is known by its Origin-Host: listed in ``diameter.peers`` or stored with
``appliance client add HOST --protocol diameter [--ip ADDRESS]``; optionally only
from an address or prefix.  The node adds ``diameter.accept_realms`` (every host of a
realm, off by default) for hosts not listed here.  The table is data: the worker replaces it when the stored peers
change, so an added or removed peer counts from the next CER.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(text: str) -> IpNetwork | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False) if text.strip() else None
    except ValueError:
        return None


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0].strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


@dataclass(frozen=True)
class PeerAdmission:
    """Origin-Host -> the prefixes it may connect from (empty tuple: from anywhere)."""

    hosts: Mapping[str, tuple[IpNetwork, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, configured: Iterable[Any], stored: Iterable[Mapping[str, Any]] = ()) -> PeerAdmission:
        """``configured``: :class:`~appliance.config.DiameterPeer`; ``stored``: client rows
        ``{"address": host, "protocol": "diameter", "ip": "..."}`` (a configured host wins)."""
        hosts: dict[str, tuple[IpNetwork, ...]] = {}
        for row in stored:
            host = str(row.get("address", "")).strip()
            if not host:
                continue
            ip = str(row.get("ip") or "")
            net = _network(ip)
            if ip and net is None:
                continue                      # an unreadable restriction admits nobody rather than anybody
            hosts[host] = (net,) if net is not None else ()
        for peer in configured:
            net = _network(getattr(peer, "ip", "") or "")
            hosts[peer.host] = (net,) if net is not None else ()
        return cls(hosts)

    def allows(self, host: str, source: str) -> bool | None:
        """True: listed and from an allowed address; False: listed, other address; None: not listed.
        ``source``: the connection's remote address ("ip" or "ip:port")."""
        nets = self.hosts.get(host)
        if nets is None:
            return None
        if not nets:
            return True
        ip = _ip(source) or _ip(source.rpartition(":")[0])
        return ip is not None and any(ip.version == n.version and ip in n for n in nets)
