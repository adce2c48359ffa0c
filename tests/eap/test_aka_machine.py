"""EAP-AKA / AKA' as a sans-I/O machine: driven without asyncio (a dict answers its actions, a
fixed clock), its phase table exercised transition by transition, illegal peer events answered
EAP-Failure and counted, and the ``eap`` package free of stores, sockets and asyncio."""
from __future__ import annotations

import ast
import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.eap import aka
from appliance.eap import aka_codec as c
from appliance.eap.aka import TRANSITIONS, AkaMethod, AkaSettings, Event, Phase
from appliance.eap.aka_codec import At, Subtype
from appliance.eap.aka_peer import AkaPeer
from appliance.eap.credentials import MemoryLookup
from appliance.eap.events import ACTIONS, LoadPseudonym, LoadSession, NeedVector, ProtocolError, StoreSession
from appliance.eap.framework import Accept, Conversation, Failure, MethodContext, Policy, Reject, Request, Success
from appliance.eap.milenage import Usim
from appliance.eap.packet import Code, decode, encode
from appliance.telemetry import metrics
from tests.eap.test_aka import IMSI, OPC, REALM, DictStore, deterministic, make, peer_for, run

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- the machine without asyncio

class Driver:
    """Runs one AkaMethod against a peer: every action answered by the dict store, synchronously."""

    def __init__(self, store: DictStore, variant=c.AKA, **settings) -> None:
        ctx = MethodContext(lookup=MemoryLookup(), random=deterministic(), now=lambda: 1000.0,
                            options={"aka": AkaSettings(**settings)})
        self.method = AkaMethod(ctx, variant)
        self.store, self.variant, self.ident = store, variant, 10

    def settle(self, got):
        while isinstance(got, ACTIONS):
            got = self.method.resume(self.store.answer(got))
        return got

    def request(self, step) -> bytes:
        assert isinstance(step, Request), step
        return encode(Code.REQUEST, self.ident, self.variant.type, step.data)

    def start(self, identity: str):
        return self.settle(self.method.start(identity, self.ident))

    def send(self, raw: bytes):
        self.ident += 1
        return self.settle(self.method.process(decode(raw), self.ident))

    def authenticate(self, peer: AkaPeer):
        step = self.start(peer.start(self.ident)[5:].decode())
        for _ in range(8):
            if not isinstance(step, Request):
                return step
            step = self.send(peer.respond(self.request(step)))
        raise AssertionError("no end")


@pytest.mark.parametrize("variant", [c.AKA, c.AKA_PRIME], ids=["aka", "aka-prime"])
def test_whole_authentication_without_asyncio(variant):
    store = DictStore()
    peer = peer_for(variant)
    end = Driver(store, variant).authenticate(peer)
    assert isinstance(end, Success) and end.msk == peer.msk and end.emsk == peer.emsk and end.identity == IMSI
    assert [type(a) for a in store.actions] == [NeedVector, StoreSession]
    need = store.actions[0]
    assert (need.imsi, need.prime, need.network_name, need.auts) == (IMSI, variant.prime, b"WLAN", None)
    saved = store.actions[1]
    assert saved.pseudonym.imsi == IMSI and saved.pseudonym.expires == 1000.0 + 86_400
    assert saved.session.eap_type == variant.type and saved.session.counter == 0

    store.actions.clear()                               # the pseudonym next: loaded, then a vector
    peer.reauth_id = None
    end = Driver(store, variant).authenticate(peer)
    assert isinstance(end, Success) and end.msk == peer.msk
    assert [type(a) for a in store.actions] == [LoadPseudonym, NeedVector, StoreSession]

    store.actions.clear()                               # fast re-authentication: no vector at all
    end = Driver(store, variant).authenticate(peer)
    assert isinstance(end, Success) and end.msk == peer.msk and peer.counter == 1
    assert [type(a) for a in store.actions] == [LoadSession, StoreSession]


def test_resynchronisation_is_one_vector_request_carrying_auts():
    store = DictStore(sqn=0)
    peer = AkaPeer(c.AKA, f"0{IMSI}@{REALM}", Usim(bytes.fromhex("90dca4eda45b53cf0f12d7c9c3bc6a89"), OPC, 40_000))
    end = Driver(store).authenticate(peer)
    assert isinstance(end, Success) and end.msk == peer.msk
    needs = [a for a in store.actions if isinstance(a, NeedVector)]
    assert [n.auts is not None for n in needs] == [False, True]
    assert needs[1].resync_rand == needs[0].rand and len(needs[1].auts) == 14


def test_a_method_resumed_with_nothing_outstanding_is_our_bug():
    driver = Driver(DictStore())
    with pytest.raises(RuntimeError):
        driver.method.resume(None)


# ---------------------------------------------------------------- the phase table

def client_error(variant, ident):
    return encode(Code.RESPONSE, ident, variant.type, c.encode(Subtype.CLIENT_ERROR, [c.u16(At.CLIENT_ERROR_CODE, 0)]))


def response(variant, ident, subtype, attrs=()):
    return encode(Code.RESPONSE, ident, variant.type, c.encode(subtype, list(attrs)))


MALFORMED = bytes([1])                                  # Type-Data too short for a subtype header


def reach(phase: Phase, store: DictStore | None = None):
    """A driver whose machine waits in ``phase``, and the peer it talks to."""
    store = store or DictStore()
    peer = peer_for(c.AKA, result_ind=phase is Phase.SUCCESS_NOTIFY)
    if phase is Phase.IDENTITY:
        d = Driver(store, identity_request="any")
        step = d.start(peer.start(d.ident)[5:].decode())
    elif phase is Phase.FAILURE_NOTIFY:
        d = Driver(store)
        step = d.start(f"0001019999999999@{REALM}")
    elif phase is Phase.REAUTH:
        assert isinstance(Driver(store).authenticate(peer), Success)
        d = Driver(store)
        step = d.start(peer.outer_identity())
    else:
        d = Driver(store)
        step = d.start(peer.start(d.ident)[5:].decode())
        if phase is Phase.SUCCESS_NOTIFY:
            step = d.send(peer.respond(d.request(step)))
    assert d.method.phase is phase and isinstance(step, Request)
    d.last = d.request(step)
    return d, peer


OPEN = (Phase.IDENTITY, Phase.CHALLENGE, Phase.REAUTH, Phase.FAILURE_NOTIFY, Phase.SUCCESS_NOTIFY)


def test_every_legal_transition_is_exercised(monkeypatch):
    seen: set[tuple[Phase, Event]] = set()
    original = AkaMethod._on

    def record(self, event):
        seen.add((self.phase, event))
        return original(self, event)
    monkeypatch.setattr(AkaMethod, "_on", record)

    # the main lines, through the Conversation (tests/eap/test_aka.py's peers)
    for variant in (c.AKA, c.AKA_PRIME):
        for result_ind in (False, True):
            docs, _, ctx = make()
            peer = peer_for(variant, result_ind=result_ind)
            for _ in range(3):                           # full, then re-authentication twice
                assert isinstance(run(ctx, peer)[0], Accept)
    _, _, ctx = make(sqn=0)
    assert isinstance(run(ctx, peer_for(c.AKA, usim_sqn=50_000))[0], Accept)               # resync
    _, _, ctx = make()
    assert isinstance(run(ctx, peer_for(c.AKA, k=bytes(16)))[0], Reject)                    # AUTN rejected
    _, _, ctx = make()
    assert isinstance(run(ctx, AkaPeer(c.AKA, f"0001019999999999@{REALM}", Usim(bytes(16), OPC)))[0], Reject)
    _, _, ctx = make()
    anonymous = peer_for(c.AKA)
    anonymous.pseudonym = "unknown-to-server"
    assert isinstance(run(ctx, anonymous)[0], Accept)                                       # any -> permanent
    docs, _, ctx = make()
    peer = peer_for(c.AKA)
    run(ctx, peer)
    run(ctx, peer)
    peer.counter = 99
    assert isinstance(run(ctx, peer)[0], Accept)                                           # counter too small
    _, _, ctx = make(docs=docs, identity_request="any")
    assert isinstance(run(ctx, peer)[0], Accept)                                           # identity -> reauth
    _, _, ctx = make(identity_request="permanent")
    unknown = AkaPeer(c.AKA, f"0001019999999999@{REALM}", Usim(bytes(16), OPC))
    assert isinstance(run(ctx, unknown)[0], Reject)                                        # identity -> notify

    for phase in OPEN:                                   # the peer gives up, or sends garbage, in every phase
        d, _ = reach(phase)
        assert isinstance(d.send(client_error(c.AKA, d.ident)), Failure)
        assert d.method.phase is Phase.FAILURE
        d, _ = reach(phase)
        assert isinstance(d.send(encode(Code.RESPONSE, d.ident, c.AKA.type, MALFORMED)), Failure)
        assert d.method.phase is Phase.FAILURE
    assert seen == set(TRANSITIONS), sorted(set(TRANSITIONS) - seen, key=str)


def test_every_change_is_logged_old_to_new(caplog):
    caplog.set_level("DEBUG", logger="appliance.eap.aka")
    Driver(DictStore()).authenticate(peer_for(c.AKA))
    lines = [r.getMessage() for r in caplog.records if r.name == "appliance.eap.aka"]
    assert lines == ["EAP-AKA start -> challenge (tx_challenge)", "EAP-AKA challenge -> success (succeed)"]


RX_BY_EVENT = {e: s for s, e in aka.RX_EVENTS.items()}
ILLEGAL = [(p, e) for p in OPEN for e in RX_BY_EVENT if (p, e) not in TRANSITIONS]


@pytest.mark.parametrize("phase,event", ILLEGAL, ids=[f"{p.value}-{e.value}" for p, e in ILLEGAL])
def test_an_illegal_peer_event_raises_a_protocol_error(phase, event):
    d, _ = reach(phase)
    with pytest.raises(ProtocolError):
        d.send(response(c.AKA, d.ident, RX_BY_EVENT[event]))
    assert d.method.phase is Phase.FAILURE


def test_an_illegal_event_is_answered_eap_failure_and_counted():
    _, _, ctx = make()
    peer = peer_for(c.AKA)
    before = metrics.default().get("eap.protocol_errors")

    async def go():
        conv = Conversation(Policy((23,)), ctx, first_identifier=1)
        challenge = await conv.receive(peer.start(conv.start().identifier))
        # a Re-authentication response while the AKA-Challenge is outstanding
        return conv, await conv.receive(response(c.AKA, challenge.identifier, Subtype.REAUTHENTICATION))
    conv, outcome = asyncio.run(go())
    assert isinstance(outcome, Reject) and "not allowed in phase challenge" in outcome.reason
    assert decode(outcome.packet).code == Code.FAILURE and conv.finished
    assert metrics.default().get("eap.protocol_errors") == before + 1


def test_our_own_illegal_transition_is_a_bug_not_a_protocol_error():
    d = Driver(DictStore())
    with pytest.raises(RuntimeError):
        d.method._on(Event.SUCCEED)                     # nothing was even sent


# ---------------------------------------------------------------- the package's imports

FORBIDDEN_MODULES = {"asyncio", "socket", "selectors", "sqlite3", "psycopg", "uvloop", "aiohttp"}
FORBIDDEN_PACKAGES = {"store", "radius", "diameter", "ledger", "rest", "pcrf"}


def test_eap_imports_no_store_no_socket_no_asyncio():
    bad = []
    for path in sorted((ROOT / "appliance" / "eap").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level >= 2:                       # from ..x import y: appliance.x
                    names = [f"appliance.{node.module or ''}".rstrip(".")]
                    names += [f"appliance.{a.name}" for a in node.names if not node.module]
                elif node.level == 0:
                    names = [node.module or ""]
                else:
                    continue
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                sub = name.split(".")[1] if name.startswith("appliance.") and "." in name else ""
                if top in FORBIDDEN_MODULES or sub in FORBIDDEN_PACKAGES:
                    bad.append(f"{path.name}: {name}")
    assert bad == []
    # and at run time: every method loaded, nothing of the kind came along
    code = ("import sys, appliance.eap as e; e.load_methods(); "
            "print(sorted(m for m in sys.modules if m in ('asyncio', 'sqlite3') or "
            "m.split('.')[:2] in (['appliance', 'store'], ['appliance', 'radius'], ['appliance', 'diameter'])))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
