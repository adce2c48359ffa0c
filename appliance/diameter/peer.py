"""Sans-I/O Diameter peer connection: CER/CEA, DWR/DWA, DPR/DPA (RFC 6733 §5, RFC 3539).

One :class:`PeerConnection` per transport connection.  It never reads a clock or a
socket: the transport calls ``receive(data, now)``, ``handle_timer(now)``, then
drains ``next_event()`` and ``data_to_send()`` and re-arms one timer at ``get_timer()``.

States follow the peer state machine of RFC 6733 §5.6 from one connection's point of
view; the election (§5.6.4), which spans two connections to the same peer, is decided by
the node through the ``admit`` callback (see :mod:`appliance.diameter.node`).
"""
from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from . import codec as c
from .codec import DiameterError, FramingError, Message
from .events import AnswerReceived, Event, MessageRejected, PeerClosed, PeerInfo, PeerOpened, RequestReceived

log = logging.getLogger(__name__)

# Disconnect-Cause values (RFC 6733 §5.4.3)
REBOOTING, BUSY, DO_NOT_WANT_TO_TALK_TO_YOU = 0, 1, 2
MAX_BUFFER = 4 * c.MAX_MESSAGE         # unread input bound per connection
MIN_TW = 6.0                           # RFC 3539 §3.4.1: Tw at least 6 s (tests may lower it)

#: Per-command counters of a connection (the peer table's ``by_command``, docs/counters.md):
#: ``{cmd_code: [requests in, answers out, requests out, answers in, requests dropped, answers dropped]}``.
REQ_IN, ANS_OUT, REQ_OUT, ANS_IN, REQ_DROPPED, ANS_DROPPED = range(6)
COMMAND_SLOTS = ("requests_in", "answers_out", "requests_out", "answers_in", "requests_dropped", "answers_dropped")
MAX_COMMANDS = 64                      # command codes counted per connection; the rest are counted under 0


def command_slots(table: dict[int, list[int]], code: int) -> list[int]:
    """The counters of ``code`` in ``table`` (created on first use; bounded by MAX_COMMANDS)."""
    slots = table.get(code)
    if slots is None:
        if len(table) >= MAX_COMMANDS:
            code = 0
            slots = table.get(0)
        if slots is None:
            slots = table[code] = [0, 0, 0, 0, 0, 0]
    return slots


class State(str, Enum):
    WAIT_CER = "wait-cer"         # responder: connection accepted, CER not yet seen
    WAIT_CEA = "wait-i-cea"       # initiator: CER sent
    OPEN = "open"                 # R-Open / I-Open
    CLOSING = "closing"           # DPR sent, waiting for DPA
    CLOSED = "closed"


class Change(str, Enum):
    """The events of RFC 6733 §5.6 that move a connection's state (one peer, one connection)."""
    CER_ACCEPTED = "rcv-cer-accepted"     # R-Rcv-CER answered with success: R-Open
    CEA_ACCEPTED = "rcv-cea-accepted"     # I-Rcv-CEA with success and a common application: I-Open
    DPR_SENT = "stop"                     # Stop: DPR sent, waiting for the DPA
    CLOSE = "close"                       # Rcv-DPR/DPA, timeout, refusal, protocol or transport error


TRANSITIONS: dict[tuple[State, Change], State] = {
    (State.WAIT_CER, Change.CER_ACCEPTED): State.OPEN,
    (State.WAIT_CEA, Change.CEA_ACCEPTED): State.OPEN,
    (State.OPEN, Change.DPR_SENT): State.CLOSING,
    (State.WAIT_CER, Change.CLOSE): State.CLOSED,
    (State.WAIT_CEA, Change.CLOSE): State.CLOSED,
    (State.OPEN, Change.CLOSE): State.CLOSED,
    (State.CLOSING, Change.CLOSE): State.CLOSED,
}
"""(state, event) -> next state; a pair not listed is our bug (RuntimeError): the peer's illegal
messages never reach it, :meth:`Peer._frame` answers or closes first (RFC 6733 §5.6)."""


@dataclass(frozen=True, slots=True)
class AppSupport:
    """An application we advertise in CER/CEA (RFC 6733 §6.11 for 3GPP vendor apps)."""

    app_id: int
    vendor_id: int = 0        # non-zero: inside Vendor-Specific-Application-Id
    acct: bool = False        # Acct-Application-Id instead of Auth-Application-Id


@dataclass(frozen=True, slots=True)
class LocalIdentity:
    host: str
    realm: str
    addresses: tuple[str, ...] = ("127.0.0.1",)
    vendor_id: int = 0
    product: str = "ocs-appliance"
    firmware: int = 1
    origin_state_id: int = 0
    apps: tuple[AppSupport, ...] = ()
    supported_vendors: tuple[int, ...] = (c.VENDOR_3GPP,)

    @property
    def app_ids(self) -> frozenset[int]:
        return frozenset(a.app_id for a in self.apps)

    def capability_avps(self) -> list[bytes]:
        """Origin, addresses, vendor, product, applications (RFC 6733 §5.3.1/§5.3.2)."""
        out = [c.encode_avp(c.ORIGIN_HOST, self.host), c.encode_avp(c.ORIGIN_REALM, self.realm)]
        out += [c.encode_avp(c.HOST_IP_ADDRESS, a) for a in self.addresses]
        out += [c.encode_avp(c.VENDOR_ID, self.vendor_id), c.encode_avp(c.PRODUCT_NAME, self.product),
                c.encode_avp(c.ORIGIN_STATE_ID, self.origin_state_id)]
        out += [c.encode_avp(c.SUPPORTED_VENDOR_ID, v) for v in self.supported_vendors]
        for app in self.apps:
            code = c.ACCT_APPLICATION_ID if app.acct else c.AUTH_APPLICATION_ID
            if app.vendor_id:
                out.append(c.encode_avp(c.VENDOR_SPECIFIC_APPLICATION_ID, [
                    c.encode_avp(c.VENDOR_ID, app.vendor_id), c.encode_avp(code, app.app_id)]))
            else:
                out.append(c.encode_avp(code, app.app_id))
        out.append(c.encode_avp(c.FIRMWARE_REVISION, self.firmware))
        return out


#: ``admit(peer, connection) -> Result-Code``: 2001 to open; 3010 unknown peer; 5010 no
#: common application; ``ELECTION_LOST`` to close without an answer (RFC 6733 §5.6.4).
ELECTION_LOST = 0
Admit = Callable[[PeerInfo, "PeerConnection"], int]


def peer_info(msg: Message, ours: frozenset[int]) -> PeerInfo:
    """Read a CER/CEA (RFC 6733 §5.3); Origin-Host/Realm are mandatory (5005)."""
    host, realm = msg.find(c.ORIGIN_HOST), msg.find(c.ORIGIN_REALM)
    if host is None:
        raise c.missing_avp(c.ORIGIN_HOST)
    if realm is None:
        raise c.missing_avp(c.ORIGIN_REALM)
    auth: set[int] = set()
    acct: set[int] = set()
    addresses: list[str] = []
    vendor = product = None
    state_id = None
    for a in msg.avps:
        if a.vendor:
            continue
        if a.code == c.AUTH_APPLICATION_ID:
            auth.add(a.u32)
        elif a.code == c.ACCT_APPLICATION_ID:
            acct.add(a.u32)
        elif a.code == c.VENDOR_SPECIFIC_APPLICATION_ID:
            for inner in a.group():
                if inner.code == c.AUTH_APPLICATION_ID:
                    auth.add(inner.u32)
                elif inner.code == c.ACCT_APPLICATION_ID:
                    acct.add(inner.u32)
        elif a.code == c.HOST_IP_ADDRESS:
            try:
                addresses.append(a.address)
            except DiameterError:
                pass
        elif a.code == c.VENDOR_ID:
            vendor = a.u32
        elif a.code == c.PRODUCT_NAME:
            product = a.text
        elif a.code == c.ORIGIN_STATE_ID:
            state_id = a.u32
    theirs = auth | acct
    common = theirs & ours if c.RELAY_APPLICATION not in theirs else set(ours)
    return PeerInfo(host.text, realm.text, tuple(addresses), product or "", vendor or 0, state_id,
                    frozenset(auth), frozenset(acct), frozenset(common))


class PeerConnection:
    """One connection's Diameter base protocol, sans I/O."""

    def __init__(self, local: LocalIdentity, initiator: bool, now: float, watchdog: float = 30.0,
                 admit: Admit | None = None, rand: Callable[[], float] = lambda: 0.5,
                 first_id: int = 1, name: str = "") -> None:
        self.local = local
        self.initiator = initiator
        self.tw_init = max(MIN_TW, watchdog)
        self.admit = admit or (lambda peer, conn: c.SUCCESS if peer.common_apps else c.NO_COMMON_APPLICATION)
        self.rand = rand
        self.name = name
        self.state = State.WAIT_CEA if initiator else State.WAIT_CER
        self.peer: PeerInfo | None = None
        self.close_when_flushed = False
        self._buf = bytearray()
        self._out: list[bytes] = []
        self._events: deque[Event] = deque()
        self._hbh = first_id & 0xFFFFFFFF
        self._e2e = (int(now) & 0xFFF) << 20 | (first_id & 0xFFFFF)
        self._deadline: float | None = now + self.tw_init   # CER/CEA must arrive within Tw
        self._dwr_pending = False
        self._dwr_hbh = -1
        self._dpr_hbh = -1
        self._ce_hbh = -1
        self._ours = local.app_ids
        self.counts: dict[int, list[int]] = {}     # CER/CEA, DWR/DWA, DPR/DPA by command (COMMAND_SLOTS)
        if initiator:
            self._send_cer()

    # -- identifiers -----------------------------------------------------------------------------
    def next_ids(self) -> tuple[int, int]:
        """Fresh (Hop-by-Hop, End-to-End) identifiers (RFC 6733 §3)."""
        self._hbh = (self._hbh + 1) & 0xFFFFFFFF
        self._e2e = (self._e2e & 0xFFF00000) | ((self._e2e + 1) & 0xFFFFF)
        return self._hbh, self._e2e

    # -- transport interface ---------------------------------------------------------------------
    def receive(self, data: bytes, now: float) -> None:
        """Feed bytes from the transport; events and answers become available."""
        if self.state is State.CLOSED:
            return
        buf = self._buf
        buf += data
        if len(buf) > MAX_BUFFER:
            self._close("input buffer overflow")
            return
        pos = 0
        n = len(buf)
        try:
            while n - pos >= 4:
                length = c.frame_length(buf, pos)
                assert length is not None
                if n - pos < length:
                    break
                frame = bytes(buf[pos:pos + length])
                pos += length
                self._frame(frame, now)
                if self.state is State.CLOSED:
                    break
        except FramingError as exc:
            app, code = _request_header(buf, pos)
            self._events.append(MessageRejected(0, str(exc), app, code))
            self._close(f"framing: {exc}")
            pos = n
        del buf[:pos]
        if self.state is State.OPEN and not self._dwr_pending:
            self._deadline = now + self._tw()

    def handle_timer(self, now: float) -> None:
        if self._deadline is None or now < self._deadline or self.state is State.CLOSED:
            return
        if self.state in (State.WAIT_CER, State.WAIT_CEA):
            self._close("capabilities exchange timed out")
        elif self.state is State.CLOSING:
            self._close("no DPA")
        elif self._dwr_pending:
            self._close("watchdog: no DWA")   # RFC 3539 §3.4.1: failover
        else:
            self._send_dwr(now)

    def get_timer(self) -> float | None:
        return None if self.state is State.CLOSED else self._deadline

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def data_to_send(self) -> bytes:
        if not self._out:
            return b""
        out = b"".join(self._out)
        self._out.clear()
        return out

    # -- application interface -------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        """Queue an encoded application message (answers, or requests with ids from next_ids())."""
        if self.state is State.OPEN:
            self._out.append(data)

    def disconnect(self, now: float, cause: int = REBOOTING) -> None:
        """Send DPR and wait for DPA (RFC 6733 §5.4); a not-yet-open connection just closes."""
        if self.state is not State.OPEN:
            self._close("disconnect")
            return
        hbh, e2e = self.next_ids()
        self._dpr_hbh = hbh
        command_slots(self.counts, c.CMD_DP)[REQ_OUT] += 1
        self._out.append(c.encode(c.CMD_DP, 0, c.FLAG_R, hbh, e2e, [
            c.encode_avp(c.ORIGIN_HOST, self.local.host), c.encode_avp(c.ORIGIN_REALM, self.local.realm),
            c.encode_avp(c.DISCONNECT_CAUSE, cause)]))
        self._on(Change.DPR_SENT)
        self._deadline = now + min(self.tw_init, 5.0)

    # -- internals -------------------------------------------------------------------------------
    def _tw(self) -> float:
        jitter = min(2.0, self.tw_init / 3)
        return self.tw_init + (self.rand() * 2 - 1) * jitter   # RFC 3539 §3.4.1 jitter ±2 s

    def _on(self, event: Change) -> None:
        new = TRANSITIONS.get((self.state, event))
        if new is None:
            raise RuntimeError(f"illegal peer event {event.value} in state {self.state.value}")
        log.debug("peer %s %s -> %s (%s)", self.name or (self.peer.host if self.peer else "?"),
                  self.state.value, new.value, event.value)
        self.state = new

    def _close(self, reason: str, cause: int | None = None) -> None:
        if self.state is State.CLOSED:
            return
        self._on(Change.CLOSE)
        self.close_when_flushed = True
        self._deadline = None
        self._events.append(PeerClosed(reason, cause))

    def _answer(self, req: Message, avps: list[bytes], error: bool = False) -> None:
        command_slots(self.counts, req.code)[ANS_OUT] += 1
        self._out.append(c.encode(req.code, req.app_id, c.answer_flags(req.flags, error), req.hbh,
                                  req.e2e, avps))

    def _origin(self, result: int) -> list[bytes]:
        return [c.encode_avp(c.RESULT_CODE, result), c.encode_avp(c.ORIGIN_HOST, self.local.host),
                c.encode_avp(c.ORIGIN_REALM, self.local.realm)]

    def _reject(self, frame: bytes, exc: DiameterError, request: Message | None = None) -> None:
        self._events.append(MessageRejected(exc.result_code, exc.message))
        is_request = bool(frame[4] & c.FLAG_R) if len(frame) > 4 else False
        if is_request:
            self._out.append(c.error_answer(request if request is not None else frame, exc.result_code,
                                            self.local.host, self.local.realm, exc.failed_avp,
                                            exc.message))

    def _frame(self, frame: bytes, now: float) -> None:
        try:
            msg = c.decode(frame)
        except DiameterError as exc:
            if self.state is not State.OPEN and exc.result_code != c.UNSUPPORTED_VERSION:
                self._reject(frame, exc)
                self._close(f"malformed message before open: {exc}")
                return
            self._reject(frame, exc)
            return
        code = msg.code
        if code == c.CMD_CE:
            self._on_ce(msg, now)
        elif self.state in (State.WAIT_CER, State.WAIT_CEA):
            # RFC 6733 §5.6: only a CER/CEA is legal before the exchange ends.
            self._events.append(MessageRejected(0, "message before capabilities exchange",
                                                msg.app_id if msg.is_request else None, code))
            self._close("message before capabilities exchange")
        elif code == c.CMD_DW:
            self._on_dw(msg, now)
        elif code == c.CMD_DP:
            self._on_dp(msg)
        elif msg.is_request:
            self._events.append(RequestReceived(msg))
        else:
            self._events.append(AnswerReceived(msg))

    def _on_cer_again(self, msg: Message) -> None:
        """A CER on a connection past the exchange: RFC 6733 §5.6 (R-Open/I-Open, Rcv-CER) answers
        with a CEA and stays open.  Only the peer this connection belongs to may send it; the
        applications agreed at the first exchange stay in force."""
        try:
            info = peer_info(msg, self._ours)
        except DiameterError as exc:
            self._reject(msg.raw, exc, msg)
            return
        if self.state is not State.OPEN or self.peer is None:
            self._answer(msg, self._origin(c.UNABLE_TO_COMPLY)[0:1] + self.local.capability_avps())
            return
        if info.host != self.peer.host:
            log.warning("%s: CER from %s on the connection of %s answered 3010", self.name, info.host,
                        self.peer.host)
            self._answer(msg, self._origin(c.UNKNOWN_PEER)[0:1] + self.local.capability_avps(), error=True)
            return
        self._answer(msg, self._origin(c.SUCCESS)[0:1] + self.local.capability_avps())

    def _on_ce(self, msg: Message, now: float) -> None:
        slots = command_slots(self.counts, c.CMD_CE)
        if msg.is_request:
            slots[REQ_IN] += 1
            if self.state is not State.WAIT_CER:
                self._on_cer_again(msg)
                return
            try:
                info = peer_info(msg, self._ours)
            except DiameterError as exc:
                self._reject(msg.raw, exc, msg)
                self._close(f"bad CER: {exc}")
                return
            result = self.admit(info, self)
            if result == ELECTION_LOST:
                slots[REQ_DROPPED] += 1
                self._close("election lost")
                return
            avps = self._origin(result)[0:1] + self.local.capability_avps()
            if result != c.SUCCESS:
                self._answer(msg, avps, error=3000 <= result < 4000)
                self._close(f"CER refused: {result}")
                return
            self.peer = info
            self._answer(msg, avps)
            self._on(Change.CER_ACCEPTED)
            self._deadline = now + self._tw()
            self._events.append(PeerOpened(info))
            return
        slots[ANS_IN] += 1
        if self.state is not State.WAIT_CEA or msg.hbh != self._ce_hbh:
            slots[ANS_DROPPED] += 1
            return  # unexpected CEA: ignore
        rc = msg.result_code
        try:
            info = peer_info(msg, self._ours)
        except DiameterError as exc:
            self._close(f"bad CEA: {exc}")
            return
        if rc != c.SUCCESS:
            self._close(f"CEA result {rc}")
            return
        if not info.common_apps:
            self._close("no common application in CEA")
            return
        result = self.admit(info, self)
        if result != c.SUCCESS:
            self._close(f"peer refused locally: {result}")
            return
        self.peer = info
        self._on(Change.CEA_ACCEPTED)
        self._deadline = now + self._tw()
        self._events.append(PeerOpened(info))

    def _on_dw(self, msg: Message, now: float) -> None:
        slots = command_slots(self.counts, c.CMD_DW)
        if msg.is_request:
            slots[REQ_IN] += 1
            self._answer(msg, self._origin(c.SUCCESS) + [c.encode_avp(c.ORIGIN_STATE_ID,
                                                                      self.local.origin_state_id)])
        else:
            slots[ANS_IN] += 1
            if msg.hbh == self._dwr_hbh:
                self._dwr_pending = False
                self._deadline = now + self._tw()
            else:
                slots[ANS_DROPPED] += 1

    def _on_dp(self, msg: Message) -> None:
        slots = command_slots(self.counts, c.CMD_DP)
        if msg.is_request:
            slots[REQ_IN] += 1
            cause = None
            a = msg.find(c.DISCONNECT_CAUSE)
            if a is not None:
                try:
                    cause = a.i32
                except DiameterError:
                    cause = None
            self._answer(msg, self._origin(c.SUCCESS))
            self._close("peer sent DPR", cause)
        else:
            slots[ANS_IN] += 1
            if self.state is State.CLOSING and msg.hbh == self._dpr_hbh:
                self._close("DPA received")
            else:
                slots[ANS_DROPPED] += 1

    def _send_cer(self) -> None:
        hbh, e2e = self.next_ids()
        self._ce_hbh = hbh
        command_slots(self.counts, c.CMD_CE)[REQ_OUT] += 1
        self._out.append(c.encode(c.CMD_CE, 0, c.FLAG_R, hbh, e2e, self.local.capability_avps()))

    def _send_dwr(self, now: float) -> None:
        hbh, e2e = self.next_ids()
        self._dwr_hbh = hbh
        self._dwr_pending = True
        command_slots(self.counts, c.CMD_DW)[REQ_OUT] += 1
        self._out.append(c.encode(c.CMD_DW, 0, c.FLAG_R, hbh, e2e, [
            c.encode_avp(c.ORIGIN_HOST, self.local.host), c.encode_avp(c.ORIGIN_REALM, self.local.realm),
            c.encode_avp(c.ORIGIN_STATE_ID, self.local.origin_state_id)]))
        self._deadline = now + self.tw_init


def _request_header(buf: bytes | bytearray, pos: int) -> tuple[int | None, int]:
    """(Application-Id, command) of a request whose header is readable at ``pos``, else (None, 0)."""
    if len(buf) - pos < 12 or buf[pos] != 1 or not buf[pos + 4] & c.FLAG_R:
        return None, 0
    return int.from_bytes(buf[pos + 8:pos + 12], "big"), int.from_bytes(buf[pos + 5:pos + 8], "big")
