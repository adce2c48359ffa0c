"""The transaction log record API every worker calls (one record per transaction).

    from appliance.logs import translog
    translog.configure(cfg, "radius", index)      # once per process (run_role does it)
    translog.acct({"protocol": "radius", "request_type": "stop", ...})
    translog.auth({"protocol": "radius", "type": "Access-Request", "result": "Access-Accept", ...})

Fields are documented in docs/logs.md.  The writer adds ``ts`` (µs since the
epoch, when absent), ``node`` and ``proc``.  Before :func:`configure` (unit
tests of other packages, the CLI) every call is a cheap no-op; :func:`capture`
collects records in memory for tests.  A logging failure (disk full) is counted
(``logs.<kind>.errors``) and never raised into the protocol path.

Durability: in write-through mode (``logs.flush_interval_ms: 0``, the default)
each call is one ``write()`` into the page cache before it returns, so a worker
that logs a transaction before sending its answer never acknowledges a charge
whose record a ``kill -9`` could lose (a power cut can, unless ``logs.fsync: batch``;
the store is the durable record of money).  In buffered mode records are
written every ``flush_interval_ms`` or ``batch_records``; a ``kill -9`` loses at
most the records of that interval.  ``logs.fsync: batch`` adds one ``fdatasync``
per written batch (write-through: per record or per held turn; buffered: per
flush), so what was written survives a power cut too.

Held records (write-through mode): a caller that answers many requests per event-loop
turn logs them with ``held=True`` -- kept in memory -- and calls :func:`write_held`
before sending those answers: one ``write()`` and one ``flock`` for the whole turn,
and still no answer leaves before its record is in the page cache.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _json_string
from typing import TYPE_CHECKING, Any

from ..telemetry import metrics
from .fifo import FifoLog
from .framing import encode, encode_payload, frame

if TYPE_CHECKING:
    from ..config import Config

log = logging.getLogger("appliance.logs")

# Keys that must never reach a log (a caller's mistake is dropped, not written).
SECRET_KEYS = frozenset({"password", "user_password", "secret", "shared_secret", "k", "opc", "op",
                         "chap_password", "eap_key", "msk", "emsk"})


class Sink:
    """One log (acct or auth) of this process.

    Write-through: ``put`` writes under ``_io`` (the caller waits for the ``write()``).
    Buffered: ``put`` only appends under ``_lock`` and wakes the flusher thread when
    ``batch_records`` wait, so a worker's event loop never waits for the disk -- unless
    the buffer reaches ``BACKLOG`` batches (the disk is stalled): then the caller
    writes (back-pressure, bounded memory).
    """

    BACKLOG = 8

    def __init__(self, fifo: FifoLog, kind: str, flush_interval: float, batch_records: int,
                 shipper: Any = None, wake: threading.Event | None = None) -> None:
        self.fifo, self.kind = fifo, kind
        self.flush_interval, self.batch_records = flush_interval, batch_records
        self.shipper = shipper
        self._wake = wake
        self._lock = threading.Lock()      # the buffer
        self._io = threading.Lock()        # the file (flock is per process, not per thread)
        self._buf: list[bytes] = []
        self._held: list[bytes] = []       # write-through records waiting for write_held()
        self._err_at = 0.0
        self._c_records = f"logs.{kind}.records"
        self._c_errors = f"logs.{kind}.errors"

    def put(self, record: dict[str, Any], held: bool = False, fixed: Fixed | None = None) -> None:
        try:
            data = encode(record) if fixed is None else frame(encode_payload(record)[:-1] + fixed.tail)
        except (TypeError, ValueError, RecursionError):
            metrics.inc(self._c_errors)
            return
        if self.flush_interval <= 0 and held:
            with self._lock:
                self._held.append(data)
        else:
            self._put_frame(data)
        metrics.inc(self._c_records)
        if self.shipper is not None:
            self.shipper.offer(record if fixed is None else {**record, **fixed.fields})

    def put_stamped(self, record: dict[str, Any], held: bool = False) -> None:
        """:meth:`put` of ``_stamp(record)`` (``record`` holds no stamp or secret key), the same bytes
        without copying the record: ``{"ts":..,"node":..,"proc":..`` then the record's own fields."""
        try:
            body = encode_payload(record)
        except (TypeError, ValueError, RecursionError):
            metrics.inc(self._c_errors)
            return
        self.put_payload(body, held)

    def put_payload(self, body: bytes, held: bool = False) -> None:
        """:meth:`put_stamped` of a record already encoded (``body``: its compact JSON object)."""
        head = b"%s%d,%s" % (b'{"ts":', time.time_ns() // 1000, _stamp_tail)
        data = frame(head + body[1:] if len(body) > 2 else head[:-1] + b"}")
        if self.flush_interval <= 0 and held:
            with self._lock:
                self._held.append(data)
        else:
            self._put_frame(data)
        metrics.inc(self._c_records)

    def _put_frame(self, data: bytes) -> None:
        if self.flush_interval <= 0:
            with self._io:
                with self._lock:           # earlier held records first: the file keeps call order
                    frames, self._held = self._held, []
                frames.append(data)
                self._write(frames)
        else:
            with self._lock:
                self._buf.append(data)
                waiting = len(self._buf)
            if waiting >= self.batch_records:
                if waiting >= self.BACKLOG * self.batch_records or self._wake is None:
                    self.flush()
                else:
                    self._wake.set()

    def _write(self, frames: list[bytes]) -> None:
        try:
            self.fifo.write(frames)
        except OSError as exc:
            metrics.inc(self._c_errors, len(frames))
            now = time.monotonic()
            if now - self._err_at > 10:
                self._err_at = now
                log.error("%s log write failed (%d records lost): %s", self.kind, len(frames), exc)

    def write_held(self) -> None:
        """Write the held records (one ``write()`` under one ``flock``).  Takes ``_io`` even when
        nothing is held: another thread may be writing this thread's records right now."""
        with self._io:
            with self._lock:
                frames, self._held = self._held, []
            if frames:
                self._write(frames)

    def flush(self) -> None:
        with self._io:                     # taken first: batches reach the file in buffer order
            with self._lock:
                frames, self._held, self._buf = self._held + self._buf, [], []
            if frames:
                self._write(frames)

    def close(self) -> None:
        self.flush()
        with self._io:
            self.fifo.close()


class Fixed:
    """Fields shared by many records (a cached Access-Accept's), JSON-encoded once.

    ``auth(varying, fixed=f)`` logs the varying fields followed by ``f.fields`` (keys must not
    overlap); readers see one ordinary record.  Secret keys are dropped here as in any record."""

    __slots__ = ("fields", "tail")

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.fields = {k: v for k, v in fields.items() if k not in SECRET_KEYS}
        body = encode_payload(self.fields)
        self.tail = b"," + body[1:] if len(body) > 2 else b"}"


@dataclass
class Captured:
    """Records collected by :func:`capture` (tests)."""

    acct: list[dict[str, Any]] = field(default_factory=list)
    auth: list[dict[str, Any]] = field(default_factory=list)


_acct: Sink | None = None
_auth: Sink | None = None
_capture: Captured | None = None
_node = ""
_proc = ""
_flusher: threading.Thread | None = None
_stop_flusher = threading.Event()
_wake: threading.Event | None = None
_shipper: Any = None


_STAMPED = SECRET_KEYS | {"ts", "node", "proc"}    # a record with one of these takes the copying path
_stamp_tail = b'"node":"","proc":"",'               # the stamp after ``ts``, JSON (configure() sets it)


def _stamp(record: Mapping[str, Any]) -> dict[str, Any]:
    rec = {"ts": time.time_ns() // 1000, "node": _node, "proc": _proc}
    rec.update(record)
    if not SECRET_KEYS.isdisjoint(rec):
        for k in SECRET_KEYS.intersection(rec):
            del rec[k]
    return rec


def acct(record: Mapping[str, Any], held: bool = False) -> None:
    """Record an accounting/charging transaction (RADIUS Accounting-*, Ro/Gy CCR, Gx, Nrf).

    ``held``: write-through mode keeps the record until :func:`write_held` (the caller's promise:
    called before the answer is sent)."""
    if _acct is None and _capture is None:
        return
    if (_capture is None and _acct is not None and _acct.shipper is None and type(record) is dict
            and _STAMPED.isdisjoint(record)):
        _acct.put_stamped(record, held)     # the record's dict itself, its stamp encoded once per process
        return
    rec = _stamp(record)
    if _capture is not None:
        _capture.acct.append(rec)
    if _acct is not None:
        _acct.put(rec, held)


def takes_encoded() -> bool:
    """True when :func:`acct_encoded` may be used: an acct log open, no capture and no shipper
    (which take the record as a dict)."""
    return _capture is None and _acct is not None and _acct.shipper is None


def acct_encoded(text: str, held: bool = False) -> None:
    """:func:`acct` of a record given as its compact JSON object (``json.dumps(record, separators=
    (",", ":"), ensure_ascii=False)``, no stamp or secret key: the caller's promise); only when
    :func:`takes_encoded`.  The same bytes in the file as ``acct(record)``."""
    if _acct is None:
        return
    try:
        body = text.encode()
    except UnicodeEncodeError:
        metrics.inc(_acct._c_errors)
        return
    _acct.put_payload(body, held)


def auth(record: Mapping[str, Any], held: bool = False, fixed: Fixed | None = None) -> None:
    """Record an authentication transaction (RADIUS Access-*, EAP, Diameter DER/AAR/MAR ...).

    ``held`` as for :func:`acct`; ``fixed``: more fields of the record, encoded once (:class:`Fixed`)."""
    if _auth is None and _capture is None:
        return
    rec = _stamp(record)
    if _capture is not None:
        _capture.auth.append(rec if fixed is None else {**rec, **fixed.fields})
    if _auth is not None:
        _auth.put(rec, held, fixed)


def auth_peer(host: str, port: int, username: str | None, fixed: Fixed, held: bool = False) -> None:
    """:func:`auth` of ``{"peer": "<host>:<port>", "username": username}`` with ``fixed`` (a RADIUS
    answer's record: only the peer and the user name vary), the same bytes in the file; encoded
    straight to bytes when no capture or shipper takes the record as a dict."""
    sink = _auth
    if _capture is None and sink is not None and sink.shipper is None:
        try:
            user = b"null" if username is None else _json_string(username).encode()
        except UnicodeEncodeError:              # a lone surrogate: the encoder's own error path
            pass
        else:
            sink.put_payload(b'{"peer":"%s:%d","username":%s%s' % (host.encode(), port, user, fixed.tail), held)
            return
    auth({"peer": f"{host}:{port}", "username": username}, held, fixed)


def write_held() -> None:
    """Write the records logged with ``held=True``: one ``write()`` and one ``flock`` per log.

    Call it before sending the answers of those records (write-through mode's ``kill -9`` promise)."""
    for sink in (_acct, _auth):
        if sink is not None:
            sink.write_held()


def holding() -> bool:
    """True when ``held=True`` records wait for :func:`write_held` (write-through mode, a log open)."""
    return _acct is not None and _acct.flush_interval <= 0


def enabled() -> bool:
    """True when records go somewhere (lets a caller skip building an expensive record)."""
    return _acct is not None or _auth is not None or _capture is not None


def configure(cfg: Config, role: str = "", index: int = 0) -> None:
    """Open this process's writers for the acct and auth logs (idempotent: reconfigures)."""
    global _acct, _auth, _node, _proc, _flusher, _shipper, _wake, _stamp_tail
    close()
    lc = cfg.logs
    _node = cfg.node.name
    _proc = f"{role}{index}" if role else f"pid{os.getpid()}"
    _stamp_tail = encode_payload({"node": _node, "proc": _proc})[1:-1] + b","
    interval = lc.flush_interval_ms / 1000.0
    if lc.ship_url:
        from .shipping import Shipper
        _shipper = Shipper(lc.ship_url, lc.ship_batch, lc.ship_interval_ms / 1000.0, lc.ship_queue,
                           lc.ship_retries)
    wake = _wake = threading.Event() if interval > 0 else None
    sync = lc.fsync == "batch"
    _acct = Sink(FifoLog(cfg.path(lc.acct_log_dir), "acct", lc.acct_log_files, lc.acct_log_size, sync),
                 "acct", interval, lc.batch_records, _shipper, wake)
    if lc.auth_log:
        _auth = Sink(FifoLog(cfg.path(lc.auth_log_dir), "auth", lc.auth_log_files, lc.auth_log_size, sync),
                     "auth", interval, lc.batch_records, _shipper, wake)
    if wake is not None:
        _stop_flusher.clear()
        _flusher = threading.Thread(target=_flush_loop, args=(interval, wake), name="translog-flush",
                                    daemon=True)
        _flusher.start()


def _flush_loop(interval: float, wake: threading.Event) -> None:
    """Buffered mode: write every ``interval`` seconds, or at once when a batch is full."""
    while not _stop_flusher.is_set():
        wake.wait(interval)
        wake.clear()
        flush()


def flush() -> None:
    """Write buffered records now (buffered mode; a no-op in write-through mode)."""
    for sink in (_acct, _auth):
        if sink is not None:
            sink.flush()


def close() -> None:
    """Flush and close (also at exit).  Afterwards calls are no-ops again."""
    global _acct, _auth, _flusher, _shipper
    if _flusher is not None:
        _stop_flusher.set()
        if _wake is not None:
            _wake.set()
        _flusher.join(timeout=5)
        _flusher = None
    for sink in (_acct, _auth):
        if sink is not None:
            sink.close()
    _acct = _auth = None
    if _shipper is not None:
        _shipper.close()
        _shipper = None


atexit.register(close)


@contextmanager
def capture() -> Iterator[Captured]:
    """Collect the records logged inside the block (for tests of any package)."""
    global _capture
    previous, _capture = _capture, Captured()
    try:
        yield _capture
    finally:
        _capture = previous


def charge_fields(request: Any, result: Any) -> dict[str, Any]:
    """Record fields from a core ``ChargeRequest`` and its ``ChargeResult`` (``result`` may be None).

    Gives ``subscriber``, ``session_id``, ``action``, ``service``, ``destination``,
    ``vplmn``, ``units`` (one entry per item: unit, rating_group, requested,
    granted, used, debited, charged, unpaid, outcome), ``charged`` (money total)
    and ``outcome``.  Callers add protocol, peer, request_type, result ...
    """
    units: list[dict[str, Any]] = []
    charged = 0
    results = list(result.items) if result is not None else []
    for i, item in enumerate(request.items):
        u: dict[str, Any] = {"unit": item.unit.value, "rating_group": item.rating_group,
                             "requested": item.requested, "used": item.used}
        if item.service_identifier is not None:
            u["service_identifier"] = item.service_identifier
        if i < len(results):
            r = results[i]
            u.update(granted=r.granted, debited=r.debited, charged=r.charged, unpaid=r.unpaid,
                     outcome=r.outcome.value)
            if r.final:
                u["final"] = True
            charged += r.charged
        units.append(u)
    return {"subscriber": request.subscriber, "session_id": request.session_id,
            "action": request.action.value, "service": request.service, "destination": request.destination,
            "vplmn": request.vplmn, "units": units, "charged": charged,
            "outcome": result.outcome.value if result is not None else None}
