"""Accounting with charging: exact bucket arithmetic, retransmissions, Accounting-On, Disconnect on exhaustion."""
from __future__ import annotations

import dataclasses
import socket
import threading
import time

import pyrad.packet as pp
from pyrad.client import Timeout

from appliance.config import RadiusClient
from appliance.ocs.units import Unit, cost_of
from appliance.radius import packet as rp
from appliance.radius.acct import SESSION_KIND
from appliance.radius.coa import RECORD_KIND
from appliance.telemetry import metrics

from .conftest import SECRET, RunningServer, radius_cfg
from .helpers import pyrad_client, radclient

RATE, SIZE = 20_000, 1_000_000          # DATA_OFFER: 20_000 per started 1,000,000 octets
MIN = 1_048_576                          # charging.min_reserve_octets


def money(store, product="p1") -> int:
    return sum(b.remaining for b in store.transact(lambda l: l.list_buckets(product)) if b.unit is Unit.MONEY)


def acct_text(status: str, sid: str, octets_in: int = 0, octets_out: int = 0, seconds: int = 0,
              user: str = "alice@wlan") -> str:
    return (f'Acct-Status-Type = {status}\nAcct-Session-Id = "{sid}"\nUser-Name = "{user}"\n'
            f'NAS-IP-Address = 127.0.0.1\nAcct-Input-Octets = {octets_in}\nAcct-Output-Octets = {octets_out}\n'
            f'Acct-Session-Time = {seconds}\nFramed-IP-Address = 10.0.0.7\n')


def test_start_interim_stop_exact_arithmetic_with_radclient(radius, rcfg, store, seed_subscriber):
    seed_subscriber(nai="alice@wlan", password="pw", money=10_000_000)
    port = rcfg.radius.acct_port
    assert "Received Accounting-Response" in radclient(port, "acct", acct_text("Start", "s1"))
    held = cost_of(MIN, RATE, SIZE)
    assert money(store) == 10_000_000 - held
    docs = store.transact(lambda l: l.list_docs(SESSION_KIND, "127.0.0.1|"))
    assert [k for k, _ in docs] == ["127.0.0.1|s1"]

    out = radclient(port, "acct", acct_text("Interim-Update", "s1", 1_000_000, 500_000, 60))
    assert "Received Accounting-Response" in out
    charged1 = cost_of(1_500_000, RATE, SIZE)
    assert money(store) == 10_000_000 - charged1 - held

    # a retransmission with a new Identifier (what a NAS does when Acct-Delay-Time changes): not charged
    out = radclient(port, "acct", acct_text("Interim-Update", "s1", 1_000_000, 500_000, 60)
                    + "Acct-Delay-Time = 5\n")
    assert "Received Accounting-Response" in out
    assert money(store) == 10_000_000 - charged1 - held

    out = radclient(port, "acct", acct_text("Stop", "s1", 1_500_000, 500_000, 120))
    assert "Received Accounting-Response" in out
    # per-session rounding: the session's 2,000,000 octets pay two started blocks in all
    charged2 = cost_of(2_000_000, RATE, SIZE) - charged1
    assert charged2 == 0
    assert money(store) == 10_000_000 - charged1 - charged2
    assert store.transact(lambda l: l.list_docs(SESSION_KIND, "")) == []
    assert store.transact(lambda l: l.reservations("radius:127.0.0.1|s1")) == []


def test_same_datagram_retransmitted_is_answered_from_the_duplicate_cache(radius, rcfg, store, seed_subscriber):
    seed_subscriber(nai="alice@wlan", password="pw")
    c = pyrad_client(rcfg)
    start = c.CreateAcctPacket(User_Name="alice@wlan", Acct_Status_Type="Start", Acct_Session_Id="d1",
                               NAS_IP_Address="127.0.0.1")
    assert c.SendPacket(start).code == pp.AccountingResponse
    interim = c.CreateAcctPacket(User_Name="alice@wlan", Acct_Status_Type="Interim-Update", Acct_Session_Id="d1",
                                 NAS_IP_Address="127.0.0.1", Acct_Input_Octets=3_000_000)
    raw = interim.RequestPacket()
    dups = metrics.default().get("radius.acct.dup_requests")
    answers = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        for _ in range(3):
            s.sendto(raw, ("127.0.0.1", rcfg.radius.acct_port))
            answers.append(s.recvfrom(4096)[0])
    assert len(set(answers)) == 1 and answers[0][0] == rp.ACCOUNTING_RESPONSE
    assert metrics.default().get("radius.acct.dup_requests") == dups + 2
    held = cost_of(MIN, RATE, SIZE)
    assert money(store) == 10_000_000 - cost_of(3_000_000, RATE, SIZE) - held


def test_accounting_on_releases_the_nas_sessions(radius, rcfg, store, seed_subscriber):
    seed_subscriber(nai="alice@wlan", password="pw")
    port = rcfg.radius.acct_port
    for sid in ("a", "b"):
        assert "Received Accounting-Response" in radclient(port, "acct", acct_text("Start", sid))
    assert money(store) == 10_000_000 - 2 * cost_of(MIN, RATE, SIZE)
    out = radclient(port, "acct", 'Acct-Status-Type = Accounting-On\nNAS-IP-Address = 127.0.0.1\n'
                                  'Acct-Session-Id = "0"\n')
    assert "Received Accounting-Response" in out
    assert money(store) == 10_000_000
    assert store.transact(lambda l: l.list_docs(SESSION_KIND, "")) == []


def test_bad_accounting_authenticator_counted_and_unanswered(radius, rcfg):
    c = pyrad_client(rcfg, secret="not-the-secret")
    c.timeout, c.retries = 0.3, 1
    before = metrics.default().get("radius.acct.bad_authenticators")
    req = c.CreateAcctPacket(User_Name="x", Acct_Status_Type="Start", Acct_Session_Id="z")
    try:
        c.SendPacket(req)
        answered = True
    except Timeout:
        answered = False
    assert not answered and metrics.default().get("radius.acct.bad_authenticators") == before + 1


class NasListener:
    """A NAS's Dynamic Authorization server on loopback: ignores the first N requests, then ACKs."""

    def __init__(self, ignore: int = 1, answer: int = rp.DISCONNECT_ACK) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.ignore, self.answer = ignore, answer
        self.received: list[rp.Packet] = []
        self.valid: list[bool] = []
        self.done = threading.Event()
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stop:
            try:
                data, addr = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            pkt = rp.decode(data)
            self.received.append(pkt)
            self.valid.append(rp.request_authenticator_ok(pkt.raw, SECRET.encode())
                              and rp.verify_message_authenticator(pkt, SECRET.encode(), zero_authenticator=True))
            if len(self.received) <= self.ignore:
                continue
            attrs = [(rp.ERROR_CAUSE, (503).to_bytes(4, "big"))] if self.answer == rp.DISCONNECT_NAK else []
            code = self.answer if pkt.code == rp.DISCONNECT_REQUEST else rp.COA_ACK
            self.sock.sendto(rp.encode_response(code, pkt, attrs, SECRET.encode()), addr)
            self.done.set()

    def close(self) -> None:
        self.stop = True
        self.thread.join(5)
        self.sock.close()


def wait_for(fn, limit: float = 15.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    return fn()


def test_exhaustion_sends_disconnect_request_retransmitted_until_ack(cfg, store, seed_subscriber):
    nas = NasListener(ignore=1)
    rc = radius_cfg(cfg, clients=(RadiusClient("127.0.0.1", SECRET, coa_port=nas.port),))
    seed_subscriber(nai="alice@wlan", password="pw", money=cost_of(MIN, RATE, SIZE))
    srv = RunningServer(rc).start()
    try:
        port = rc.radius.acct_port
        pap = 'User-Name = "alice@wlan"\nUser-Password = "pw"\nMessage-Authenticator = 0x00\n'
        assert "Received Access-Accept" in radclient(rc.radius.auth_port, "auth", pap)    # now cached
        assert "Received Accounting-Response" in radclient(port, "acct", acct_text("Start", "x1"))
        assert money(store) == 0
        assert not nas.received
        out = radclient(port, "acct", acct_text("Interim-Update", "x1", 2_000_000, 0, 30))
        assert "Received Accounting-Response" in out
        assert nas.done.wait(15), "no Disconnect-Request reached the NAS"
        out = radclient(rc.radius.auth_port, "auth", pap)      # exhaustion dropped the cached authorization
        assert "Received Access-Reject" in out and "No usable balance" in out, out
        record = wait_for(lambda: store.transact(lambda l: l.get_doc(RECORD_KIND, "127.0.0.1|x1")))
        assert record["result"] == "ack" and record["attempts"] == 2
        pkt = nas.received[0]
        assert pkt.code == rp.DISCONNECT_REQUEST and all(nas.valid)
        assert pkt.text(rp.ACCT_SESSION_ID) == "x1" and pkt.text(rp.USER_NAME) == "alice@wlan"
        assert pkt.get(rp.FRAMED_IP_ADDRESS) == socket.inet_aton("10.0.0.7")
        assert pkt.get(rp.EVENT_TIMESTAMP) is not None
        # a second Interim does not disconnect again
        radclient(port, "acct", acct_text("Interim-Update", "x1", 2_500_000, 0, 40))
        assert len(nas.received) == 2
    finally:
        srv.close()
        nas.close()


def test_disconnect_nak_recorded(cfg, store, seed_subscriber):
    import asyncio

    from appliance.radius.coa import disconnect_session
    nas = NasListener(ignore=0, answer=rp.DISCONNECT_NAK)
    try:
        session = {"addr": "127.0.0.1", "coa_port": nas.port, "sid": "n1", "user": "u", "nas_ip": "127.0.0.1"}
        result = asyncio.run(disconnect_session(store, "k|n1", session, SECRET.encode(), 0.5, 2, "operator"))
        assert (result.result, result.error_cause) == ("nak", 503)
        assert store.transact(lambda l: l.get_doc(RECORD_KIND, "k|n1"))["result"] == "nak"
    finally:
        nas.close()
    assert dataclasses.is_dataclass(result)


def test_operator_disconnect_through_the_cli(cfg, store, seed_subscriber, tmp_path, capsys):
    import json
    import subprocess
    import sys

    from appliance.cli import main as cli
    nas = NasListener(ignore=0)
    rc = radius_cfg(cfg, clients=(RadiusClient("127.0.0.1", SECRET, coa_port=nas.port),))
    seed_subscriber(nai="alice@wlan", password="pw")
    srv = RunningServer(rc).start()
    try:
        assert "Received Accounting-Response" in radclient(rc.radius.acct_port, "acct", acct_text("Start", "op1"))
    finally:
        srv.close()
    conf = tmp_path / "appliance.yaml"
    conf.write_text(f"data_dir: {cfg.data_dir}\nrun_dir: {cfg.run_dir}\ndatabase: {{path: appliance.db}}\n"
                    f"radius:\n  clients:\n    - {{address: 127.0.0.1, secret: {SECRET}, coa_port: {nas.port}}}\n")
    try:
        capsys.readouterr()
        assert cli(["-c", str(conf), "radius", "sessions"]) == 0
        assert json.loads(capsys.readouterr().out.splitlines()[0])["sid"] == "op1"
        assert cli(["-c", str(conf), "radius", "clients"]) == 0
        listed = capsys.readouterr().out
        assert SECRET not in listed and json.loads(listed.splitlines()[0])["index"] == 1
        assert cli(["-c", str(conf), "radius", "disconnect", "--session", "nope"]) == 1
        capsys.readouterr()
        assert cli(["-c", str(conf), "radius", "coa", "--session", "op1", "--set", "Session-Timeout=600",
                    "--set", "Filter-Id=gold"]) == 0
        assert json.loads(capsys.readouterr().out.splitlines()[0])["result"] == "ack"
        coa = nas.received[-1]
        assert coa.code == rp.COA_REQUEST and coa.integer(rp.SESSION_TIMEOUT) == 600 and coa.text(11) == "gold"
        assert coa.text(rp.ACCT_SESSION_ID) == "op1" and all(nas.valid)
        assert store.transact(lambda l: l.get_doc("radius_coa", "127.0.0.1|op1"))["result"] == "ack"
        # the real command, as an operator runs it
        out = subprocess.run([sys.executable, "-m", "appliance", "-c", str(conf), "radius", "disconnect",
                              "--session", "op1"], capture_output=True, text=True, timeout=60, check=False)
        assert out.returncode == 0, out.stdout + out.stderr
        assert json.loads(out.stdout.splitlines()[0])["result"] == "ack"
        assert nas.received[-1].code == rp.DISCONNECT_REQUEST and all(nas.valid)
        assert nas.received[-1].text(rp.ACCT_SESSION_ID) == "op1"
        assert store.transact(lambda l: l.get_doc(RECORD_KIND, "127.0.0.1|op1"))["reason"] == "operator request"
    finally:
        nas.close()


def test_transactions_are_logged_through_translog(radius, rcfg, store, seed_subscriber):
    from appliance.logs import translog
    seed_subscriber(nai="alice@wlan", password="pw")
    with translog.capture() as got:
        out = radclient(rcfg.radius.auth_port, "auth",
                        'User-Name = "alice@wlan"\nUser-Password = "pw"\nMessage-Authenticator = 0x00\n')
        assert "Access-Accept" in out
        assert "Accounting-Response" in radclient(rcfg.radius.acct_port, "acct", acct_text("Start", "t1"))
        assert "Accounting-Response" in radclient(rcfg.radius.acct_port, "acct",
                                                  acct_text("Stop", "t1", 2_000_000, 0, 10))
    assert [(r["type"], r["result"], r.get("method")) for r in got.auth] == \
        [("Access-Request", "Access-Accept", "pap")]
    assert "pw" not in str(got.auth)
    stop = got.acct[-1]
    assert [r["request_type"] for r in got.acct] == ["start", "stop"]
    assert stop["input_octets"] == 2_000_000 and stop["session_id"] == "t1"
    assert stop["charged"] == cost_of(2_000_000, RATE, SIZE) and stop["outcome"] == "success"


def test_octets_and_seconds_in_one_session_each_at_its_own_price(cfg, store, seed_subscriber):
    """acct_units [octets, seconds]: two holds per session, each settled at its own price."""
    from appliance.ocs.catalog import Offer, Price, PriceType
    offer = Offer("two", (Price("data", PriceType.USAGE, amount=1_000_000, unit=Unit.OCTETS, size=1_000_000),
                          Price("time", PriceType.USAGE, amount=1, unit=Unit.SECONDS, size=60)))
    seed_subscriber(nai="bob@wlan", password="pw", money=10_000_000, offer=offer)
    rcfg = radius_cfg(cfg, acct_units=("octets", "seconds"))
    srv = RunningServer(rcfg).start()
    try:
        port = rcfg.radius.acct_port
        assert "Received Accounting-Response" in radclient(port, "acct", acct_text("Start", "m1", user="bob@wlan"))
        res = store.transact(lambda l: l.reservations("radius:127.0.0.1|m1"))
        assert sorted(r.unit.value for r in res) == ["octets", "seconds"]
        out = radclient(port, "acct", acct_text("Interim-Update", "m1", 3_000_000, 2_000_000, 60, user="bob@wlan"))
        assert "Received Accounting-Response" in out
        out = radclient(port, "acct", acct_text("Stop", "m1", 3_000_000, 2_000_000, 60, user="bob@wlan"))
        assert "Received Accounting-Response" in out
        assert money(store) == 10_000_000 - 5_000_000 - 1 == 4_999_999
        assert store.transact(lambda l: l.reservations("radius:127.0.0.1|m1")) == []
    finally:
        srv.close()


def test_a_report_arriving_after_the_stop_is_answered_and_not_charged(radius, rcfg, store, seed_subscriber):
    seed_subscriber(nai="alice@wlan", password="pw", money=10_000_000)
    port = rcfg.radius.acct_port
    assert "Received Accounting-Response" in radclient(port, "acct", acct_text("Start", "late1"))
    assert "Received Accounting-Response" in radclient(port, "acct", acct_text("Stop", "late1", 2_500_000, 0, 60))
    after_stop = money(store)
    assert after_stop == 10_000_000 - cost_of(2_500_000, RATE, SIZE)
    # an Interim the NAS sent before its Stop, delivered late, and the Stop sent once more
    out = radclient(port, "acct", acct_text("Interim-Update", "late1", 2_000_000, 0, 50))
    assert "Received Accounting-Response" in out
    out = radclient(port, "acct", acct_text("Stop", "late1", 2_500_000, 0, 60) + "Acct-Delay-Time = 3\n")
    assert "Received Accounting-Response" in out
    assert money(store) == after_stop
    assert store.transact(lambda l: l.list_docs(SESSION_KIND, "")) == []
