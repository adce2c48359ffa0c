"""Configuration: ``etc/appliance.yaml`` -> frozen dataclasses, validated once at start.

Every section is a dataclass below; its defaults are the embedded defaults (the
appliance runs with no file at all).  Errors name the file, the key path and
the line: ``etc/appliance.yaml: radius.clients[0].secret (line 12): required``.
A front end adds its settings by adding fields to its own section here.
"""
from __future__ import annotations

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .ocs.rating import ChargingPolicy

import yaml

ENV_CONFIG = "APPLIANCE_CONFIG"
DEFAULT_PATHS = ("/etc/ocs-appliance/appliance.yaml",)


class ConfigError(Exception):
    def __init__(self, file: str, key: str, line: int | None, message: str) -> None:
        where = f" (line {line})" if line else ""
        super().__init__(f"{file}: {key or '<top>'}{where}: {message}")
        self.file, self.key, self.line, self.message = file, key, line, message


@dataclass(frozen=True)
class NodeConfig:
    name: str = "ocs1"
    realm: str = "ocs.localdomain"
    host: str = "ocs1.ocs.localdomain"


@dataclass(frozen=True)
class DatabaseConfig:
    backend: str = "sqlite"            # sqlite | postgres
    path: str = "appliance.db"         # SQLite file, relative to data_dir
    dsn: str = ""                      # PostgreSQL DSN
    synchronous: str = "FULL"          # SQLite: FULL makes every acknowledged commit durable
    batch_max: int = 512               # group commit: most operations in one transaction
    pool_size: int = 4                 # PostgreSQL connections per process
    secret_key_file: str = "secrets.key"   # seals passwords, K/OPc, client secrets (beside the SQLite file; "": clear)
    # Bound of each process's working set (the ledger's above all), whatever the subscriber count:
    # subscribers (and products' buckets) kept in memory, twice as many sessions and documents,
    # and SQLite's page cache of the writer in MiB.
    cache_subscribers: int = 100_000
    page_cache_mb: int = 64

    def __post_init__(self) -> None:
        _check_choice(self.backend, ("sqlite", "postgres"), "backend")
        _check_choice(self.synchronous, ("FULL", "EXTRA", "NORMAL"), "synchronous")
        if not 100 <= self.cache_subscribers <= 10_000_000:
            raise ValueError(f"cache_subscribers must be 100..10000000, got {self.cache_subscribers}")
        if not 2 <= self.page_cache_mb <= 65_536:
            raise ValueError(f"page_cache_mb must be 2..65536, got {self.page_cache_mb}")


@dataclass(frozen=True)
class MoneyConfig:
    currency: str = "USD"
    scale: int = 1_000_000             # minor units per currency unit (millionths)


@dataclass(frozen=True)
class ChargingConfig:
    min_reserve_octets: int = 1_048_576
    min_reserve_seconds: int = 60
    min_reserve_messages: int = 1
    validity_time: int = 600           # seconds a grant stays valid
    stale_grace: int = 120             # extra seconds before a silent session's reservation is released
    request_log_ttl: int = 86_400      # seconds an open session's last answer is kept after its last request
    event_answer_ttl: int = 600        # seconds a final answer (STOP, event, refund, debit) is kept for
    #                                    retransmissions: above the peers' Tx timers times their retries
    rounding: str = "per_session"      # per_session: a session pays the started blocks of its total use;
    #                                    per_report: every report pays its own started blocks
    timezone: str = "UTC"              # IANA zone of time-of-day prices (peak/off-peak, weekdays)

    def __post_init__(self) -> None:
        _check_choice(self.rounding, ("per_session", "per_report"), "rounding")
        try:
            from zoneinfo import ZoneInfo
            ZoneInfo(self.timezone)
        except (ValueError, KeyError, OSError):
            raise ValueError(f"unknown time zone {self.timezone!r} (an IANA name such as UTC or Europe/Paris)") \
                from None


@dataclass(frozen=True)
class ProcessesConfig:
    radius: int = 2
    diameter: int = 2
    rest: bool = True
    snmp: bool = True
    housekeeping: bool = True
    ledger: int = 1                    # 1: balances change in the ledger role, its own process; 0: in each worker
    ledger_timeout: float = 3.0        # seconds a front end waits for a restarting ledger before "too busy"
    stop_wait: int = 4                 # seconds a worker gets to finish in-flight work on SIGTERM


@dataclass(frozen=True)
class LedgerConfig:
    """Shards of the ledger (balances by product) and their owners across nodes (docs/ledger.md)."""
    shards: int = 1                    # fixed count, recorded in the store at the first ledger start
    lease_interval: float = 1.0        # seconds between lease attempts and checks: takeover bound ~2x this
    listen: str = ""                   # TCP address for other nodes' front ends ("": this node only)
    port: int = 3870                   # ledger process i listens on port + i
    advertise: str = ""                # address other nodes connect to ("": listen)
    secret: str = ""                   # shared by every node: HMAC-SHA256 challenge/response of peers
    nodes: int = 1                     # nodes whose ledgers share the shards (their first choice only)
    node_index: int = 0                # this node's place among them, 0..nodes-1

    def __post_init__(self) -> None:
        if not 1 <= self.shards <= 4096:
            raise ValueError(f"shards must be 1..4096, got {self.shards}")
        if not 1 <= self.nodes <= 64 or not 0 <= self.node_index < self.nodes:
            raise ValueError(f"node_index must be 0..nodes-1 with nodes 1..64, got {self.node_index} of {self.nodes}")
        if not 0.05 <= self.lease_interval <= 60:
            raise ValueError(f"lease_interval must be 0.05..60 seconds, got {self.lease_interval}")
        if self.listen and len(self.secret) < 16:
            raise ValueError("a TCP listener (listen) needs a secret of at least 16 characters")


@dataclass(frozen=True)
class HousekeepingConfig:
    interval: int = 10                 # seconds between passes
    gx_idle: int = 86_400              # a Gx session with no CCR for this long is dropped


@dataclass(frozen=True)
class RadiusClient:
    address: str                       # address or prefix (CIDR)
    secret: str
    name: str = ""
    nas_type: str = "other"
    require_message_authenticator: bool = True
    coa_port: int = 3799


@dataclass(frozen=True)
class EapRealmPolicy:
    """EAP methods for the identities of one realm (the part after '@', case-insensitive; "" : none)."""
    realm: str
    methods: tuple[str, ...] = ()      # offered, in order of preference (empty: radius.eap_methods)
    min_tls: str = ""                  # TTLS/PEAP/EAP-TLS: 1.2 | 1.3 (empty: radius.eap_tls_min_version)

    def __post_init__(self) -> None:
        _check_choice(self.min_tls, ("", "1.2", "1.3"), "min_tls")


@dataclass(frozen=True)
class RadiusConfig:
    enabled: bool = True
    address: str = "0.0.0.0"
    address6: str = ""
    auth_port: int = 1812
    acct_port: int = 1813
    clients: tuple[RadiusClient, ...] = ()
    eap_timeout: int = 30
    coa_timeout: float = 2.0
    coa_retries: int = 3
    eap_methods: tuple[str, ...] = ("ttls", "peap", "pwd", "aka", "aka_prime")   # in order of preference
    eap_max_conversations: int = 65536     # per worker
    eap_mtu: int = 1000                    # method payload per EAP-Request (TTLS/pwd fragments)
    eap_inner_methods: tuple[str, ...] = ("mschapv2", "gtc")   # EAP inside TTLS/PEAP, in order of preference
    eap_peap_crypto_binding: str = "optional"   # PEAPv0 crypto binding TLV answer: optional | required
    eap_tls_ca: str = ""                   # EAP-TLS: PEM CA bundle client certificates must chain to
    eap_tls_crl: str = ""                  # EAP-TLS: PEM CRL file(s) checked for the client certificate
    eap_tls_identity: str = "cn"           # EAP-TLS: subscriber from cn | san_email | san_upn | san_dns
    eap_tls_min_version: str = "1.2"       # TLS-based methods: 1.2 | 1.3
    eap_realms: tuple[EapRealmPolicy, ...] = ()   # per-realm methods and minimum TLS version
    eap_tls_resumption: bool = True        # EAP-TLS session tickets, keys shared by the workers (run dir)
    eap_tunnel_resumption: bool = True     # TTLS/PEAP: resume from the worker's session cache, no phase 2
    eap_resumption_lifetime: int = 3600    # seconds a TLS session / ticket may be resumed
    acct_units: tuple[str, ...] = ("octets",)   # what accounting charges: octets and/or seconds
    service: str = "data"                  # service type in charging requests (price selection)
    session_timeout_max: int = 86_400      # cap on Session-Timeout in Access-Accept
    acct_interim_interval: int = 300       # Acct-Interim-Interval in Access-Accept (0: none)
    duplicate_ttl: int = 30                # RFC 5080 duplicate cache lifetime, seconds
    clients_refresh: int = 10              # seconds between reloads of stored clients
    auth_cache_ttl: float = 10.0           # seconds a PAP/CHAP decision is reused without a change signal (0: off)
    auth_cache_poll_ms: int = 100          # ms between looks at the store's change signal (1..10000); decisions
                                           # are kept until their service/product changes, seen within this bound
    auth_cache_size: int = 1_000_000       # decisions kept per worker (cleared whole when full)
    auth_cache_preload: bool = False       # with the change signal: each worker reads every NAI's decision at start
    spread: str = "auth"                   # per-datagram spread over the workers: none | auth | all (+ accounting)
    # Accounting sanity: what one Interim/Stop may charge; the rest is counted, logged and not charged
    acct_report_max_octets: int = 1_000_000_000_000     # octets in one report (1 TB)
    acct_report_max_seconds: int = 172_800              # seconds in one report (2 days)
    acct_max_rate: int = 12_500_000_000    # octets per second a session can move (100 Gbit/s) since its last report

    def __post_init__(self) -> None:
        _check_choice(self.eap_peap_crypto_binding, ("optional", "required"), "eap_peap_crypto_binding")
        _check_choice(self.eap_tls_identity, ("cn", "san_email", "san_upn", "san_dns"), "eap_tls_identity")
        _check_choice(self.eap_tls_min_version, ("1.2", "1.3"), "eap_tls_min_version")
        _check_choice(self.spread, ("none", "auth", "all"), "spread")
        if not 1 <= self.auth_cache_poll_ms <= 10_000:
            raise ValueError("radius.auth_cache_poll_ms must be 1..10000")


@dataclass(frozen=True)
class DiameterPeer:
    host: str                          # Origin-Host
    realm: str = ""
    address: str = ""                  # to connect out (empty: accept only)
    port: int = 3868
    ip: str = ""                       # address or prefix the peer must connect from (empty: any)


@dataclass(frozen=True)
class DiameterConfig:
    enabled: bool = True
    address: str = "127.0.0.1"         # loopback until the operator names an address
    port: int = 3868
    sctp: bool = False
    peers: tuple[DiameterPeer, ...] = ()
    accept_realms: tuple[str, ...] = ()   # accept any peer of these realms (off: only listed peers)
    peers_refresh: int = 10            # seconds between reloads of peers stored with `client add`
    watchdog: int = 30                 # Tw seconds
    charging_hook: str = ""            # "module:function" seeing each CCR
    hook_timeout_ms: int = 50
    applications: tuple[str, ...] = ()  # modules of appliance.diameter.apps to run; empty: all present
    addresses: tuple[str, ...] = ()    # Host-IP-Address in CER/CEA; empty: the listen address or 127.0.0.1
    product_name: str = "ocs-appliance"
    final_unit_action: str = "terminate"   # Ro/Gy Final-Unit-Action when credit runs out: terminate | redirect
    redirect_server: str = ""          # Redirect-Server-Address (URL) for final_unit_action: redirect
    quota_threshold_percent: int = 0   # >0: Volume/Time-Quota-Threshold = this % of each grant (TS 32.299)
    tls_port: int = 0                  # >0: also listen for Diameter over TLS/TCP here (RFC 6733 §2.1: 5868)
    tls_ca: str = ""                   # PEM CA file: peers must present a certificate it signed (mutual TLS)

    def __post_init__(self) -> None:
        _check_choice(self.final_unit_action, ("terminate", "redirect"), "final_unit_action")


@dataclass(frozen=True)
class RestConfig:
    enabled: bool = True
    address: str = "127.0.0.1"
    port: int = 8080
    tls: bool = False
    max_body: int = 1_048_576          # bytes; a larger body is answered 413
    page_max: int = 1000               # most items in one collection answer (Range/limit beyond is cut)
    access_log: bool = True            # one line per request (never credentials or bodies)
    token_ttl: int = 3600              # bearer token lifetime, seconds
    auth_cache_ttl: float = 30.0       # seconds a verified credential is remembered (scrypt is slow)
    hub_queue: int = 1000              # unused since events queue in the store (kept so older files load)
    hub_timeout: float = 5.0           # seconds per notification POST
    hub_backlog: int = 10_000          # TMF630 events waiting per listener; beyond, the oldest is dropped
    hub_retry_base: float = 1.0        # first retry after this many seconds, then doubling ...
    hub_retry_cap: float = 60.0        # ... up to this many seconds between attempts
    hub_retry_max: float = 3600.0      # an event not delivered this many seconds after it happened is given up
    quota_mb_octets: int = 1_000_000   # octets in one "mb" of the quota API
    login_failures: int = 10           # failed logins from one client address within login_window ...
    login_window: float = 60.0         # ... seconds make it wait login_block seconds (429) before trying again
    login_block: float = 60.0
    metrics_port: int = 0              # GET /metrics alone on this port too (0: only on `port`)
    metrics_address: str = ""          # the metrics port's address ("": `address`)
    metrics_auth: bool = True          # false: the metrics port answers without credentials (a scrape network)

    def __post_init__(self) -> None:
        if self.hub_timeout <= 0 or self.hub_retry_base <= 0:
            raise ValueError("hub_timeout and hub_retry_base must be positive")
        if self.hub_retry_cap < self.hub_retry_base:
            raise ValueError("hub_retry_cap must be at least hub_retry_base")
        if self.hub_retry_max < 0:
            raise ValueError("hub_retry_max must not be negative")
        if self.hub_backlog < 1:
            raise ValueError("hub_backlog must be at least 1")


@dataclass(frozen=True)
class SnmpUser:
    """An SNMPv3 USM user (RFC 3414): authPriv with HMAC-SHA-96 and AES-128-CFB (RFC 3826)."""
    name: str
    auth_key: str                      # passphrase, at least 8 characters (RFC 3414 §11.2)
    priv_key: str
    auth: str = "sha"                  # sha | sha256 | sha512 | md5
    priv: str = "aes"                  # aes | aes192 | aes256 | des

    def __post_init__(self) -> None:
        _check_choice(self.auth, ("sha", "sha256", "sha512", "md5"), "auth")
        _check_choice(self.priv, ("aes", "aes192", "aes256", "des"), "priv")
        if len(self.auth_key) < 8 or len(self.priv_key) < 8:
            raise ValueError("auth_key and priv_key need at least 8 characters (RFC 3414 section 11.2)")

    def __repr__(self) -> str:         # keys never reach a log
        return f"SnmpUser({self.name!r}, auth={self.auth}, priv={self.priv})"


@dataclass(frozen=True)
class SnmpManager:
    """A notification receiver: v2c (community) or v3 (a user of ``snmp.users``); trap or inform."""
    address: str
    port: int = 162
    version: str = "v2c"               # v2c | v3
    community: str = "public"
    user: str = ""                     # v3: name of an ``snmp.users`` entry
    inform: bool = False

    def __post_init__(self) -> None:
        _check_choice(self.version, ("v2c", "v3"), "version")
        if self.version == "v3" and not self.user:
            raise ValueError("a v3 manager needs user")


@dataclass(frozen=True)
class SnmpConfig:
    enabled: bool = True
    address: str = "127.0.0.1"
    port: int = 1161
    community: str = "public"          # v2c read-only community; empty disables v1/v2c
    allowed: tuple[str, ...] = ("127.0.0.0/8",)   # sources (CIDR) the community is valid from
    users: tuple[SnmpUser, ...] = ()   # SNMPv3 authPriv users (read-only)
    managers: tuple[SnmpManager, ...] = ()        # trap/inform receivers
    engine_id: str = ""                # hex; empty: derived from node.name (stable across restarts)
    enterprise: int = 32473            # Private Enterprise Number of the appliance's MIB root (32473: IANA's
    #                                    documentation number, RFC 5612 -- use your organisation's own)
    mib_dir: str = ""                  # empty: the package's mibs/ directory
    mib_cache: str = ""                # compiled edited MIBs; empty: <data_dir>/snmp/mibs
    disk_full_percent: int = 90        # ocsLogDiskNearlyFull threshold
    poll_interval: float = 2.0         # seconds between peer/process/disk checks for notifications
    cert_warn_days: int = 30           # ocsCertificateExpiring when the server certificate has fewer days left
    store_cache: float = 5.0           # seconds the store's inventory counts are cached
    contact: str = ""                  # sysContact
    location: str = ""                 # sysLocation

    def __post_init__(self) -> None:
        import ipaddress
        for prefix in self.allowed:
            try:
                ipaddress.ip_network(prefix, strict=False)
            except ValueError:
                raise ValueError(f"allowed: {prefix!r} is not an address or prefix") from None
        if self.engine_id:
            try:
                size = len(bytes.fromhex(self.engine_id))
            except ValueError:
                raise ValueError("engine_id must be hex") from None
            if not 5 <= size <= 32:
                raise ValueError("engine_id must be 5 to 32 octets (RFC 3411 SnmpEngineID)")
        if not 1 <= self.disk_full_percent <= 100:
            raise ValueError("disk_full_percent must be 1..100")
        if not 1 <= self.enterprise < 1 << 31:
            raise ValueError("enterprise must be a Private Enterprise Number, 1 .. 2^31-1")
        names = [u.name for u in self.users]
        if len(set(names)) != len(names):
            raise ValueError("users: duplicate name")
        for m in self.managers:
            if m.version == "v3" and m.user not in names:
                raise ValueError(f"managers: v3 user {m.user!r} is not in snmp.users")


@dataclass(frozen=True)
class LogsConfig:
    acct_log_dir: str = "logs/acct"
    acct_log_files: int = 100
    acct_log_size: int = 10_485_760
    acct_log_rotate: int = 86_400
    auth_log_dir: str = "logs/auth"
    auth_log_files: int = 100
    auth_log_size: int = 10_485_760
    ipdr_log_dir: str = "logs/ipdr"
    export_dir: str = "logs/export"
    auth_log: bool = True              # false: no authentication log
    flush_interval_ms: int = 0         # 0: write-through (one write() per record); >0: buffered
    fsync: str = "none"                # none | batch: fdatasync each written batch (survives a power cut)
    batch_records: int = 256           # buffered mode: write when this many records wait
    ipdr_keep: int = 400               # IPDR archive documents kept (oldest removed)
    ship_url: str = ""                 # HTTP endpoint for record shipping (empty: off)
    ship_batch: int = 500              # records per POST
    ship_interval_ms: int = 1000       # most time a record waits before its batch is posted
    ship_queue: int = 100_000          # records held while the endpoint is down (oldest dropped)
    ship_retries: int = 5              # attempts per batch (exponential backoff) before it is dropped

    def __post_init__(self) -> None:
        for name in ("acct_log_files", "auth_log_files", "ipdr_keep", "batch_records", "ship_batch",
                     "ship_queue", "ship_retries", "acct_log_rotate"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("acct_log_size", "auth_log_size"):
            if getattr(self, name) < 4096:
                raise ValueError(f"{name} must be at least 4096 bytes")
        if self.flush_interval_ms < 0:
            raise ValueError("flush_interval_ms must not be negative")
        _check_choice(self.fsync, ("none", "batch"), "fsync")


@dataclass(frozen=True)
class TlsConfig:
    certificate: str = ""              # empty: self-signed pair generated in data_dir on first start
    key: str = ""


@dataclass(frozen=True)
class PcrfConfig:
    """Gx PCRF (TS 29.212): session QoS when no table/offer sets one, push and RAR timing."""
    apn_ambr_ul: int = 50_000_000       # bit/s, APN-AMBR uplink when nothing else is configured
    apn_ambr_dl: int = 100_000_000      # bit/s
    default_qci: int = 9                # Default-EPS-Bearer-QoS
    default_arp: int = 9                # ARP priority level 1..15
    push_interval: float = 1.0          # seconds between scans of the RAR push queue
    rar_timeout: float = 5.0            # seconds to wait for an RAA
    rar_retries: int = 3                # an unanswered RAR is sent again after rar_timeout x 1, 2, 4 s


@dataclass(frozen=True)
class AaaRealm:
    """Where a realm's EAP-AKA vectors come from: local Milenage (TS 35.206) or an HSS over SWx (TS 29.273)."""
    realm: str                          # e.g. wlan.mnc001.mcc001.3gppnetwork.org, "*.suffix" or "*"
    vectors: str = "local"              # local | hss
    hss_host: str = ""
    hss_realm: str = ""

    def __post_init__(self) -> None:
        _check_choice(self.vectors, ("local", "hss"), "vectors")
        if self.vectors == "hss" and not (self.hss_host or self.hss_realm):
            raise ValueError("vectors: hss needs hss_host or hss_realm")


@dataclass(frozen=True)
class AaaConfig:
    """3GPP AAA: STa, SWm, S6b, SWx and EAP-AKA/AKA' (TS 29.273, docs/aaa.md)."""
    network_name: str = "WLAN"          # AKA' network name when the DER carries no ANID
    realms: tuple[AaaRealm, ...] = ()
    multi_round_timeout: int = 30       # Multi-Round-Time-Out and the lifetime of an EAP round
    session_timeout: int = 0            # Session-Timeout in DEA/AAA (0: none)
    sweep_interval: float = 10.0        # seconds between subscriber sweeps (ASR on removal); 0: off
    max_conversations: int = 65536      # EAP rounds in flight per diameter worker
    swx_timeout: float = 5.0            # seconds to wait for MAA/SAA, ASA/RAA
    identity_request: str = "none"      # none | any | fullauth | permanent (AKA identity round)

    def __post_init__(self) -> None:
        _check_choice(self.identity_request, ("none", "any", "fullauth", "permanent"), "identity_request")


@dataclass(frozen=True)
class Config:
    data_dir: str = "var"
    run_dir: str = "var/run"
    log_dir: str = "logs"
    log_level: str = "INFO"
    log_format: str = "text"           # daemon logs: "text" lines or "json" objects (appliance/json_log.py)
    node: NodeConfig = field(default_factory=NodeConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    money: MoneyConfig = field(default_factory=MoneyConfig)
    charging: ChargingConfig = field(default_factory=ChargingConfig)
    processes: ProcessesConfig = field(default_factory=ProcessesConfig)
    housekeeping: HousekeepingConfig = field(default_factory=HousekeepingConfig)
    ledger: LedgerConfig = field(default_factory=LedgerConfig)
    radius: RadiusConfig = field(default_factory=RadiusConfig)
    diameter: DiameterConfig = field(default_factory=DiameterConfig)
    rest: RestConfig = field(default_factory=RestConfig)
    snmp: SnmpConfig = field(default_factory=SnmpConfig)
    logs: LogsConfig = field(default_factory=LogsConfig)
    tls: TlsConfig = field(default_factory=TlsConfig)
    pcrf: PcrfConfig = field(default_factory=PcrfConfig)
    aaa: AaaConfig = field(default_factory=AaaConfig)
    source: str = ""                   # the file this came from ("" = embedded defaults)
    base_dir: str = ""                 # relative paths resolve against this

    def __post_init__(self) -> None:
        if self.log_format not in ("text", "json"):
            raise ValueError(f"log_format must be text or json, got {self.log_format!r}")

    def path(self, relative: str) -> Path:
        """Resolve a configured path: absolute stays, relative is under ``base_dir``."""
        p = Path(relative)
        return p if p.is_absolute() else Path(self.base_dir or os.getcwd()) / p

    @property
    def database_path(self) -> Path:
        return self.path(self.data_dir) / self.database.path if not Path(self.database.path).is_absolute() \
            else Path(self.database.path)


def _check_choice(value: str, choices: tuple[str, ...], name: str) -> None:
    if value not in choices:
        raise ValueError(f"must be one of {', '.join(choices)}, got {value!r}")


def find_config(explicit: str | None = None) -> str | None:
    if explicit:
        return explicit
    env = os.environ.get(ENV_CONFIG)
    if env:
        return env
    for candidate in DEFAULT_PATHS:
        if os.path.exists(candidate):
            return candidate
    return None


def default_base_dir() -> str:
    """Where relative paths resolve without a configuration file: the source checkout this package
    runs from (the directory holding etc/appliance.yaml, as when that file is named), else the
    current directory."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "etc" / "appliance.yaml").is_file() and (checkout / "pyproject.toml").is_file():
        return str(checkout)
    return os.getcwd()


def load(path: str | None = None) -> Config:
    """Load and validate; raises :class:`ConfigError` naming file, key and line."""
    chosen = find_config(path)
    if chosen is None:
        return Config(base_dir=default_base_dir())
    try:
        raw = Path(chosen).read_bytes()
    except OSError as exc:
        raise ConfigError(chosen, "", None, f"cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(chosen, "", line, f"not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})") \
            from None
    try:
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(chosen, "", mark.line + 1 if mark else None, f"not valid YAML: {exc}") from None
    base = str(Path(chosen).resolve().parent.parent) if Path(chosen).resolve().parent.name == "etc" \
        else str(Path(chosen).resolve().parent)
    if node is None:
        return Config(source=chosen, base_dir=base)
    cfg = _build(Config, node, chosen, "")
    _check_listeners(cfg, node, chosen)
    return dataclasses.replace(cfg, source=chosen, base_dir=base)


# Fields checked wherever they appear: (dataclass name or "*", field) -> kind.
_PORT_FIELDS = {"port", "auth_port", "acct_port", "coa_port"}
_ADDRESS_FIELDS = {("RestConfig", "address"), ("RadiusConfig", "address"), ("DiameterConfig", "address"),
                   ("SnmpConfig", "address")}
_NETWORK_FIELDS = {("RadiusClient", "address")}
_PROCESS_COUNTS = {("ProcessesConfig", "radius"), ("ProcessesConfig", "diameter")}


def _check_field(cls: Any, name: str, value: Any) -> str | None:
    """A message when one field's value cannot work, else None (ranges, addresses, prefixes)."""
    import ipaddress
    owner = cls.__name__
    if isinstance(value, bool):
        return None
    if name in _PORT_FIELDS and isinstance(value, int) and not 1 <= value <= 65535:
        return f"port {value} is outside 1..65535"
    if name in ("tls_port", "metrics_port") and isinstance(value, int) and not 0 <= value <= 65535:
        return f"port {value} is outside 1..65535 (0: off)"
    if (owner, name) in _PROCESS_COUNTS and isinstance(value, int) and value < 1:
        return f"{value} processes: at least 1 (to run none, set {name}.enabled: false)"
    if isinstance(value, (int, float)) and value < 0:
        return f"{value} is negative"
    if (owner, name) in _ADDRESS_FIELDS or (owner, name) in (("RadiusConfig", "address6"),
                                                             ("RestConfig", "metrics_address"),
                                                             ("LedgerConfig", "listen")) and value:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return f"{value!r} is not an IP address"
    if (owner, name) == ("DiameterConfig", "addresses"):
        for item in value:
            try:
                ipaddress.ip_address(item)
            except ValueError:
                return f"{item!r} is not an IP address"
    if (owner, name) in _NETWORK_FIELDS or (owner, name) == ("DiameterPeer", "ip") and value:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            return f"{value!r} is not an address or prefix (CIDR)"
    return None


def _line_of(node: yaml.Node, path: str) -> int | None:
    """The line of ``a.b.c`` in a composed document (None when the key is not written)."""
    line = None
    for part in path.split("."):
        if not isinstance(node, yaml.MappingNode):
            return line
        for knode, vnode in node.value:
            if knode.value == part:
                node, line = vnode, knode.start_mark.line + 1
                break
        else:
            return line
    return line


def check_files(cfg: Config) -> None:
    """What ``start`` would trip on beyond the file itself: configured files and directories that
    do not exist (``config check`` and ``start`` run this; other commands do not need them)."""
    wanted = [("tls.certificate", cfg.tls.certificate, False), ("tls.key", cfg.tls.key, False),
              ("diameter.tls_ca", cfg.diameter.tls_ca, False), ("snmp.mib_dir", cfg.snmp.mib_dir, True)]
    for key, value, is_dir in wanted:
        if not value:
            continue
        path = cfg.path(value)
        if not (path.is_dir() if is_dir else path.is_file()):
            line = None
            if cfg.source:
                try:
                    root = yaml.compose(Path(cfg.source).read_text(encoding="utf-8"))
                    line = _line_of(root, key) if root is not None else None
                except (OSError, UnicodeDecodeError, yaml.YAMLError):
                    pass
            raise ConfigError(cfg.source or "<embedded defaults>", key, line,
                              f"{'directory' if is_dir else 'file'} {path} not found")


def _check_listeners(cfg: Config, node: yaml.Node, file: str) -> None:
    """Two enabled listeners on one port and protocol would split the traffic between them."""
    listeners: list[tuple[str, int, str]] = []
    if cfg.radius.enabled:
        listeners += [("udp", cfg.radius.auth_port, "radius.auth_port"),
                      ("udp", cfg.radius.acct_port, "radius.acct_port")]
    if cfg.diameter.enabled:
        listeners.append(("tcp", cfg.diameter.port, "diameter.port"))
        if cfg.diameter.tls_port:
            listeners.append(("tcp", cfg.diameter.tls_port, "diameter.tls_port"))
    if cfg.rest.enabled and cfg.processes.rest:
        listeners.append(("tcp", cfg.rest.port, "rest.port"))
        if cfg.rest.metrics_port:
            listeners.append(("tcp", cfg.rest.metrics_port, "rest.metrics_port"))
    if cfg.snmp.enabled and cfg.processes.snmp:
        listeners.append(("udp", cfg.snmp.port, "snmp.port"))
    seen: dict[tuple[str, int], str] = {}
    for proto, port, key in listeners:
        first = seen.setdefault((proto, port), key)
        if first != key:
            later, other = (key, first) if (_line_of(node, key) or 0) >= (_line_of(node, first) or 0) \
                else (first, key)
            raise ConfigError(file, later, _line_of(node, later), f"{proto.upper()} port {port} is also {other}")


def _build(cls: Any, node: yaml.Node, file: str, key: str) -> Any:
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(file, key, node.start_mark.line + 1, "expected a mapping")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for knode, vnode in node.value:
        name = knode.value
        path = f"{key}.{name}" if key else name
        if name not in fields or name in ("source", "base_dir"):
            raise ConfigError(file, path, knode.start_mark.line + 1,
                              f"unknown key (known: {', '.join(n for n in fields if n not in ('source', 'base_dir'))})")
        kwargs[name] = _convert(hints[name], vnode, file, path)
        problem = _check_field(cls, name, kwargs[name])
        if problem:
            raise ConfigError(file, path, vnode.start_mark.line + 1, problem)
    missing = [n for n, f in fields.items()
               if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and n not in kwargs]
    if missing:
        raise ConfigError(file, f"{key}.{missing[0]}" if key else missing[0], node.start_mark.line + 1, "required")
    try:
        return cls(**kwargs)
    except ValueError as exc:
        raise ConfigError(file, key, node.start_mark.line + 1, str(exc)) from None


def _convert(tp: Any, node: yaml.Node, file: str, key: str) -> Any:
    line = node.start_mark.line + 1
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, node, file, key)
    if origin is tuple:
        if not isinstance(node, yaml.SequenceNode):
            raise ConfigError(file, key, line, "expected a list")
        inner = typing.get_args(tp)[0]
        return tuple(_convert(inner, item, file, f"{key}[{i}]") for i, item in enumerate(node.value))
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return None
        return _convert(args[0], node, file, key)
    if not isinstance(node, yaml.ScalarNode):
        raise ConfigError(file, key, line, f"expected a {getattr(tp, '__name__', tp)}")
    value = yaml.safe_load(yaml.serialize(node))
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(file, key, line, f"expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(file, key, line, f"expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(file, key, line, f"expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if value is None or isinstance(value, (dict, list)):
            raise ConfigError(file, key, line, "expected a string")
        return str(value)
    raise ConfigError(file, key, line, f"unsupported type {tp}")


def charging_policy(cfg: Config) -> ChargingPolicy:
    """The core's charging policy from ``cfg.charging``."""
    from .ocs.rating import ChargingPolicy
    from .ocs.units import Unit
    c = cfg.charging
    return ChargingPolicy({Unit.OCTETS: c.min_reserve_octets, Unit.SECONDS: c.min_reserve_seconds,
                           Unit.MESSAGES: c.min_reserve_messages}, c.validity_time, c.stale_grace,
                          per_session=c.rounding == "per_session", timezone=c.timezone)


SECRET_FIELDS = frozenset({"secret", "auth_key", "priv_key", "community", "dsn", "password"})


def to_doc(cfg: Any, mask: bool = True) -> Any:
    """The configuration as plain YAML-able data (``appliance config show``); secrets masked."""
    import dataclasses
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        out = {}
        for f in dataclasses.fields(cfg):
            if f.name in ("source", "base_dir"):
                continue
            value = getattr(cfg, f.name)
            if mask and f.name in SECRET_FIELDS and isinstance(value, str) and value:
                out[f.name] = "********"
            else:
                out[f.name] = to_doc(value, mask)
        return out
    if isinstance(cfg, (tuple, list)):
        return [to_doc(v, mask) for v in cfg]
    if isinstance(cfg, dict):
        return {str(k): to_doc(v, mask) for k, v in cfg.items()}
    return cfg
