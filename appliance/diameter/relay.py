"""Relay between the diameter workers of one appliance: a request for a peer held by another worker.

The kernel gives each peer connection to one worker (SO_REUSEPORT), and a worker can only
write to the connections it holds.  :class:`WorkerRelay` closes that gap inside the appliance:

* every worker listens on ``<run_dir>/diameter/worker-<index>.sock`` (AF_UNIX, mode 0600) and
  names it, with its index, in its peer table (``peers-<pid>.json``);
* when :meth:`Node.request` finds no open connection for the host (nor a peer of the realm), the
  relay looks up the worker whose table has that peer open and sends it the request as an
  ordinary Diameter message (our codec, RFC 6733 framing) on a link opened lazily and reused;
* the holding worker strips the two relay AVPs that lead the message on the link (the target
  host and the milliseconds left of the caller's timeout), puts a fresh Hop-by-Hop-Id of its connection in the
  header and writes the
  request to the peer unchanged otherwise (same End-to-End-Id, RFC 6733 §6.1.3); the answer
  goes back on the link with the link's Hop-by-Hop-Id.

Anything that stops delivery -- no worker holds the peer, the holder's socket is gone, the link
drops, the peer does not answer within the caller's timeout -- reaches the caller as
``DiameterError(3002 UNABLE_TO_DELIVER)``, as a request with no route always did.  The holder
answers its failures with an error answer marked by a relay AVP, so a 3002 coming from the real
peer is returned as an answer, like any other.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..telemetry import metrics
from . import codec as c
from .codec import DiameterError, FramingError, Message
from .peer import State

if TYPE_CHECKING:
    from .node import Node

log = logging.getLogger(__name__)

RELAY_VENDOR = 32473            # IANA's enterprise number for documentation (RFC 5612): never on the wire
TARGET_HOST = 1                 # UTF8String: the peer the holding worker writes the request to
TIME_LEFT_MS = 2                # Unsigned32: milliseconds left of the caller's timeout
RELAY_FAILURE = 3               # UTF8String on the holder's own error answers (why it could not deliver)
MAX_PENDING = 4096              # relayed requests in flight per link (each way)
MARGIN = 0.05                   # the holder gives up this much before the caller does (at most 10 %)
RACY_NS = 50_000_000            # directory mtimes come from a coarse clock: rescan while this recent
SUN_PATH_MAX = 107              # sockaddr_un.sun_path, less the NUL
_OPEN = State.OPEN


def socket_name(index: int) -> str:
    return f"worker-{index}.sock"


def relay_avps(host: str, time_left: float) -> bytes:
    """The relay AVPs put before a request's AVPs on the link (the holder strips them)."""
    ms = max(0, min(int(time_left * 1000), 0xFFFFFFFF))
    return (c.encode_avp(TARGET_HOST, host, RELAY_VENDOR, mandatory=False)
            + c.encode_avp(TIME_LEFT_MS, ms, RELAY_VENDOR, mandatory=False, type_=c.U32))


def strip_relay_avps(data: bytes) -> tuple[bytes, dict[int, bytes]]:
    """``(request without the relay AVPs, {relay AVP code: data})``.  The relay AVPs lead the
    request on the link (read without walking the rest of the message)."""
    pos, end = c.HEADER_LEN, len(data)
    found: dict[int, bytes] = {}
    while pos + 12 <= end and data[pos + 4] & c.AVP_V and int.from_bytes(data[pos + 8:pos + 12], "big") == RELAY_VENDOR:
        length = int.from_bytes(data[pos + 5:pos + 8], "big")
        if length < 12 or pos + length > end:
            raise ValueError("bad relay AVP length")
        found[int.from_bytes(data[pos:pos + 4], "big")] = data[pos + 12:pos + length]
        pos += (length + 3) & ~3
    if not found:
        raise ValueError("no relay AVPs")
    return data[:1] + (end - pos + c.HEADER_LEN).to_bytes(3, "big") + data[4:c.HEADER_LEN] + data[pos:], found


class _Link(asyncio.Protocol):
    """Diameter framing over one unix stream; every complete message goes to ``on_message``."""

    def __init__(self, on_message: Callable[[_Link, bytes], None], on_lost: Callable[[_Link], None]) -> None:
        self.on_message, self.on_lost = on_message, on_lost
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.pending: dict[int, asyncio.Future[bytes]] = {}
        self.hbh = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        pos = 0
        try:
            while True:
                n = c.frame_length(buf, pos)
                if n is None or len(buf) - pos < n:
                    break
                self.on_message(self, bytes(buf[pos:pos + n]))
                pos += n
        except FramingError as exc:             # a worker of ours sent garbage: a bug, close the link
            log.error("relay link: %s", exc)
            metrics.inc("diameter.relay.link_errors")
            buf.clear()
            if self.transport is not None:
                self.transport.close()
            return
        del buf[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        for fut in self.pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError("relay link closed"))
        self.pending.clear()
        self.on_lost(self)

    @property
    def usable(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()

    def write(self, data: bytes) -> None:
        if self.usable:
            assert self.transport is not None
            self.transport.write(data)


class WorkerRelay:
    """One worker's end of the relay: its listening socket, its links to the other workers."""

    def __init__(self, node: Node, run_dir: str | os.PathLike[str], index: int) -> None:
        self.node, self.index = node, index
        self.dir = Path(run_dir) / "diameter"
        self.path = self.dir / socket_name(index)
        self.server: asyncio.AbstractServer | None = None
        self.inbound: set[_Link] = set()
        self.links: dict[int, asyncio.Future[_Link]] = {}     # other worker's index -> link (lazily opened)
        self._tables: dict[str, tuple[int, dict[str, Any]]] = {}   # file -> (mtime_ns, table)
        self._live: list[dict[str, Any]] = []
        self._dir_mtime = self._scanned_ns = 0
        self._dirfd: int | None = None
        self._ino = 0
        self._e2e = (int(time.time()) & 0xFFF) << 20 | random.getrandbits(20)
        node.relay = self

    # -- the listening side (we hold the connection) ---------------------------------------------
    async def listen(self) -> None:
        """Bind ``worker-<index>.sock`` 0600 (a stale one from a dead worker of this index is replaced)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            os.fchmod(sock.fileno(), 0o600)           # Linux: the socket file gets this mode at bind()
            sock.bind(self._sun_path(self.path))
            os.chmod(self.path, 0o600)
            self._ino = os.stat(self.path).st_ino
            sock.listen(64)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        loop = asyncio.get_running_loop()
        self.server = await loop.create_unix_server(self._accept, sock=sock)

    def _accept(self) -> _Link:
        link = _Link(self._on_request, self.inbound.discard)
        self.inbound.add(link)
        return link

    def table_fields(self) -> dict[str, Any]:
        """What the peer table says about this worker: its index and relay socket."""
        return {"worker": self.index, "relay": str(self.path)}

    def _on_request(self, link: _Link, data: bytes) -> None:
        self.node._spawn(self._forward(link, data))

    async def _forward(self, link: _Link, data: bytes) -> None:
        """Write a relayed request to our connection to its target; the answer (or 3002) back on the link."""
        node = self.node
        metrics.inc("diameter.relay.forwarded")
        _v, _f, code, app_id, link_hbh, _e2e = c.decode_header(data)
        try:
            wire, extra = strip_relay_avps(data)
            host = extra[TARGET_HOST].decode()
            time_left = int.from_bytes(extra[TIME_LEFT_MS], "big") / 1000
        except (ValueError, KeyError, UnicodeDecodeError) as exc:
            link.write(self._failure(data, f"relay: bad request from a worker ({exc})"))
            return
        conn = node.open.get(host)
        if conn is None or conn.pc is None or conn.pc.state is not _OPEN:
            link.write(self._failure(data, f"relay: {host} not connected to worker {self.index}"))
            return
        hbh = conn.pc.next_ids()[0]
        fut = node.send_request(conn, c.with_hbh(wire, hbh), hbh, code, app_id)
        try:
            answer = await asyncio.wait_for(fut, max(0.0, time_left - min(MARGIN, time_left / 10)))
        except TimeoutError:
            link.write(self._failure(data, f"relay: no answer from {host}"))
            return
        except ConnectionError:
            link.write(self._failure(data, f"relay: connection to {host} lost"))
            return
        finally:
            conn.pending.pop(hbh, None)
        link.write(c.with_hbh(answer.raw, link_hbh))

    def _failure(self, request: bytes, why: str) -> bytes:
        """Our own 3002 for a relayed request, marked so the requesting worker raises it."""
        metrics.inc("diameter.relay.forward_failures")
        log.info("%s", why)
        return c.error_answer(request, c.UNABLE_TO_DELIVER, self.node.host, self.node.realm, None, why,
                              [c.encode_avp(RELAY_FAILURE, why, RELAY_VENDOR, mandatory=False)])

    # -- the requesting side (another worker holds the connection) -------------------------------
    async def request(self, cmd_code: int, app_id: int, flags: int, body: list[bytes], host: str | None,
                      realm: str | None, timeout: float, e2e: int | None) -> Message:
        """Send through the worker that holds ``host`` (else a peer of ``realm`` with ``app_id``)."""
        holder = self.holder(app_id, host, realm)
        if holder is None:
            raise DiameterError(c.UNABLE_TO_DELIVER, None,
                                f"no connection to {host}" if host and not realm else
                                f"no peer for app {app_id} realm {realm}")
        index, path, target = holder
        metrics.inc("diameter.relay.requests")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        link: _Link | None = None
        hbh = 0
        try:
            link = self._ready(index)
            if link is None:
                link = await asyncio.wait_for(self._link(index, path), timeout)
            if len(link.pending) >= MAX_PENDING:
                raise ConnectionError(f"{MAX_PENDING} relayed requests in flight to worker {index}")
            link.hbh = hbh = (link.hbh + 1) & 0xFFFFFFFF
            if e2e is None:                       # RFC 6733 §3: high 12 bits of the time, then a counter
                self._e2e = (self._e2e & 0xFFF00000) | ((self._e2e + 1) & 0xFFFFF)
                e2e = self._e2e
            data = c.encode(cmd_code, app_id, flags, hbh, e2e, [relay_avps(target, deadline - loop.time()), *body])
            fut: asyncio.Future[bytes] = loop.create_future()
            link.pending[hbh] = fut
            link.write(data)
            answer = c.decode(await asyncio.wait_for(fut, max(0.0, deadline - loop.time())))
        except (OSError, ConnectionError, TimeoutError, DiameterError) as exc:
            metrics.inc("diameter.relay.failures")
            why = "no answer in time" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
            raise DiameterError(c.UNABLE_TO_DELIVER, None, f"relay via worker {index}: {why}") from None
        finally:
            if link is not None:
                link.pending.pop(hbh, None)
        marker = answer.find(RELAY_FAILURE, RELAY_VENDOR)
        if marker is not None:
            metrics.inc("diameter.relay.failures")
            raise DiameterError(c.UNABLE_TO_DELIVER, None, marker.text)
        metrics.inc("diameter.relay.answers")
        return answer

    def _ready(self, index: int) -> _Link | None:
        held = self.links.get(index)
        if held is not None and held.done() and held.exception() is None and held.result().usable:
            return held.result()
        return None

    async def _link(self, index: int, path: str) -> _Link:
        """A new link to worker ``index`` (the caller found no usable one, :meth:`_ready`), or the
        one being opened."""
        held = self.links.get(index)
        if held is not None and not held.done():
            return await asyncio.shield(held)
        loop = asyncio.get_running_loop()
        opening: asyncio.Future[_Link] = loop.create_future()
        self.links[index] = opening

        def lost(link: _Link) -> None:
            if self.links.get(index) is opening:
                del self.links[index]
        try:
            _t, link = await loop.create_unix_connection(lambda: _Link(self._on_answer, lost),
                                                         self._sun_path(Path(path)))
        except BaseException as exc:
            del self.links[index]
            opening.set_exception(exc if isinstance(exc, Exception) else ConnectionError("cancelled"))
            opening.exception()                 # retrieved: waiters re-raise it, no "never retrieved"
            raise
        metrics.inc("diameter.relay.links.opened")
        opening.set_result(link)
        return link

    @staticmethod
    def _on_answer(link: _Link, data: bytes) -> None:
        fut = link.pending.pop(int.from_bytes(data[12:16], "big"), None)
        if fut is None or fut.done():
            metrics.inc("diameter.relay.answers.late")     # the caller gave up already
            return
        fut.set_result(data)

    def holder(self, app_id: int, host: str | None, realm: str | None) -> tuple[int, str, str] | None:
        """``(worker index, socket, peer host)`` of another live worker with ``host`` open, else one
        with an open peer of ``realm`` that advertised ``app_id`` (the node's own routing rule)."""
        tables = [t for t in self._read_tables() if t.get("worker") != self.index and t.get("relay")]
        tables.sort(key=lambda t: -int(t.get("updated") or 0))
        if host:
            for t in tables:
                for p in t.get("peers") or ():
                    if p.get("host") == host and p.get("state") == "open":
                        return int(t["worker"]), str(t["relay"]), host
            if not realm:
                return None
        for t in tables:
            for p in t.get("peers") or ():
                if p.get("state") == "open" and (not realm or p.get("realm") == realm) \
                        and app_id in (p.get("apps") or ()):
                    return int(t["worker"]), str(t["relay"]), str(p["host"])
        return None

    def _read_tables(self) -> list[dict[str, Any]]:
        """The live workers' peer tables.  Tables are replaced by rename, which changes the
        directory's mtime: while it stays the same (and is older than the timestamp granularity
        when we last looked, the "racy git" rule) the last scan stands; a file is parsed again
        only when it changed."""
        try:
            mtime = os.stat(self.dir).st_mtime_ns
        except OSError:
            return []
        if mtime == self._dir_mtime and self._scanned_ns - mtime > RACY_NS:
            return [t for t in self._live if metrics.pid_alive(int(t.get("pid") or 0))]
        self._scanned_ns, self._dir_mtime = time.time_ns(), mtime
        self._live = self._scan()
        return list(self._live)

    def _scan(self) -> list[dict[str, Any]]:
        out, seen = [], set()
        try:
            entries = list(os.scandir(self.dir))
        except OSError:
            return []
        own = self.node.peer_file.name if self.node.peer_file is not None else ""
        for e in entries:
            if not (e.name.startswith("peers-") and e.name.endswith(".json")) or e.name == own:
                continue
            seen.add(e.name)
            try:
                mtime = e.stat().st_mtime_ns
                cached = self._tables.get(e.name)
                if cached is None or cached[0] != mtime:
                    cached = (mtime, json.loads(Path(e.path).read_text()))
                    self._tables[e.name] = cached
            except (OSError, ValueError):
                continue
            table = cached[1]
            if metrics.pid_alive(int(table.get("pid") or 0)):
                out.append(table)
        for name in set(self._tables) - seen:
            del self._tables[name]
        return out

    # -- plumbing --------------------------------------------------------------------------------
    def _sun_path(self, path: Path) -> str:
        """``path``, or the same file through ``/proc/self/fd`` when it is too long for sun_path."""
        if len(os.fsencode(str(path))) <= SUN_PATH_MAX:
            return str(path)
        if self._dirfd is None:
            self._dirfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        return f"/proc/self/fd/{self._dirfd}/{path.name}"

    def stop_listening(self) -> None:
        """No new links from the other workers (the node is stopping); links in use stay."""
        if self.server is not None:
            self.server.close()
            self.server = None

    async def close(self) -> None:
        """Close every link and remove our socket (only if it is still the one we bound)."""
        self.stop_listening()
        for link in list(self.inbound):
            if link.transport is not None:
                link.transport.close()
        for held in list(self.links.values()):
            if held.done() and held.exception() is None and held.result().transport is not None:
                held.result().transport.close()   # type: ignore[union-attr]
        self.links.clear()
        try:
            if self._ino and os.stat(self.path).st_ino == self._ino:
                self.path.unlink()
        except OSError:
            pass
        if self._dirfd is not None:
            os.close(self._dirfd)
            self._dirfd = None
