"""The RADIUS clients table: source address -> shared secret and per-client policy.

Clients come from the configuration (``radius.clients``) and from the store
(``appliance client add ADDRESS --secret ...``, ``Ledger.list_clients("radius")``);
a configured client wins over a stored one with the same address.  An address is
a host or a prefix (CIDR); the longest prefix matches.

Each client has a stable index N (the ``radiusAuthClientExtIndex`` of RFC 4669 /
``radiusAccClientExtIndex`` of RFC 4671) used in counter names
``radius.auth.client.<N>.*``.  Indexes are assigned once per address in the store
document ``radius_client_index/map`` and never reused; every worker writes the
same mapping to ``<run_dir>/radius/clients.json`` for the SNMP agent.
"""
from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config import RadiusClient
    from ..ocs.ports import Ledger

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
INDEX_KIND, INDEX_KEY = "radius_client_index", "map"


@dataclass(frozen=True, slots=True)
class Client:
    address: str                 # as configured (host or prefix)
    secret: bytes
    name: str = ""
    nas_type: str = "other"
    require_message_authenticator: bool = True
    coa_port: int = 3799
    index: int = 0
    source: str = "config"       # config | store

    def __repr__(self) -> str:   # the secret never reaches a log
        return f"Client({self.address!r}, index={self.index}, name={self.name!r}, source={self.source})"


def network(address: str) -> IpNetwork:
    return ipaddress.ip_network(address.strip(), strict=False)


def normalize(address: str) -> str:
    return str(network(address))


def canonical_ip(host: str) -> str:
    """The textual address of a datagram's source (IPv4-mapped IPv6 folded to IPv4; scope dropped)."""
    host = host.split("%", 1)[0]
    ip = ipaddress.ip_address(host)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


class ClientTable:
    """Longest-prefix lookup with a bounded per-source cache."""

    CACHE = 4096

    def __init__(self, clients: list[Client]) -> None:
        self.clients = clients
        self._exact: dict[str, Client] = {}
        self._prefixes: list[tuple[IpNetwork, Client]] = []
        for client in clients:
            net = network(client.address)
            if net.num_addresses == 1:
                self._exact.setdefault(str(net.network_address), client)
            else:
                self._prefixes.append((net, client))
        self._prefixes.sort(key=lambda item: item[0].prefixlen, reverse=True)
        self._cache: dict[str, Client | None] = {}

    def lookup(self, host: str) -> Client | None:
        try:
            return self._cache[host]
        except KeyError:
            pass
        found = self._find(host)
        if len(self._cache) >= self.CACHE:
            self._cache.clear()
        self._cache[host] = found
        return found

    def _find(self, host: str) -> Client | None:
        try:
            text = canonical_ip(host)
        except ValueError:
            return None
        client = self._exact.get(text)
        if client is not None:
            return client
        ip = ipaddress.ip_address(text)
        for net, candidate in self._prefixes:
            if ip.version == net.version and ip in net:
                return candidate
        return None


def from_config(cfg_clients: Iterable[RadiusClient]) -> list[dict[str, Any]]:
    return [{"address": c.address, "secret": c.secret, "name": c.name, "nas_type": c.nas_type,
             "require_message_authenticator": c.require_message_authenticator, "coa_port": c.coa_port,
             "source": "config"} for c in cfg_clients]


def assign_indexes(ledger: Ledger, addresses: list[str]) -> dict[str, int]:
    """Inside a store transaction: give every address a stable index (never reused)."""
    doc = ledger.get_doc(INDEX_KIND, INDEX_KEY) or {"next": 1, "map": {}}
    mapping: dict[str, int] = dict(doc.get("map", {}))
    changed = False
    nxt = int(doc.get("next", 1))
    for address in addresses:
        if address not in mapping:
            mapping[address] = nxt
            nxt += 1
            changed = True
    if changed:
        ledger.put_doc(INDEX_KIND, INDEX_KEY, {"next": nxt, "map": mapping})
    return mapping


def load_in(ledger: Ledger, cfg_clients: Iterable[RadiusClient]) -> list[Client]:
    """Inside a store transaction: the merged table with indexes (config first)."""
    raw: dict[str, dict[str, Any]] = {}
    for entry in from_config(cfg_clients):
        raw.setdefault(normalize(entry["address"]), entry)
    for entry in ledger.list_clients("radius"):
        try:
            key = normalize(entry["address"])
        except (KeyError, ValueError):
            continue
        if key not in raw and entry.get("secret"):
            raw[key] = dict(entry, source="store")
    indexes = assign_indexes(ledger, list(raw))
    out = []
    for key, entry in raw.items():
        out.append(Client(key, str(entry["secret"]).encode(), str(entry.get("name", "")),
                          str(entry.get("nas_type", "other")),
                          bool(entry.get("require_message_authenticator", True)),
                          int(entry.get("coa_port", 3799)), indexes[key], str(entry.get("source", "store"))))
    return out


def write_index_file(run_dir: Path, clients: list[Client]) -> Path:
    """``<run_dir>/radius/clients.json``: [{index, address, name, nas_type, source}] (no secrets)."""
    folder = run_dir / "radius"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "clients.json"
    rows = [{"index": c.index, "address": c.address, "name": c.name, "nas_type": c.nas_type, "source": c.source}
            for c in sorted(clients, key=lambda c: c.index)]
    tmp = folder / f".clients.json.{os.getpid()}"
    tmp.write_text(json.dumps(rows, indent=1))
    os.replace(tmp, path)
    return path
