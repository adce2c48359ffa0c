"""``appliance trace``: a live Ro session of one subscriber, traced across the Diameter worker."""
from __future__ import annotations

import json
import subprocess
import sys
import time

from appliance import trace

from .conftest import IMSI, MSISDN, ro_session


def test_trace_shows_ccr_i_u_t_with_answers_and_balance(appliance, tmp_path):
    record = tmp_path / "ticket.jsonl"
    tracer = subprocess.Popen([sys.executable, "-m", "appliance", "--config", str(appliance.conf), "trace", MSISDN,
                               "--events", "6", "--minutes", "1", "--record", str(record)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=appliance.base)
    requests_dir = appliance.base / "var" / "run" / "trace"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list(requests_dir.glob("*.json")):
        time.sleep(0.1)
    time.sleep(1.5)                                   # the workers look once a second
    ro_session(appliance.doc["diameter"]["port"], imsi="001019999999999")     # another subscriber: not traced
    assert ro_session(appliance.doc["diameter"]["port"]) == [2001, 2001, 2001]
    out, err = tracer.communicate(timeout=60)
    assert tracer.returncode == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    traced = [e for e in events if e["event"] in ("request", "answer")]
    assert len(traced) == 6 and len({e["session"] for e in traced}) == 1
    kinds = [dict(e["avps"]).get("CC-Request-Type") for e in traced if e["event"] == "request"]
    assert kinds == [1, 2, 3]
    assert [e["result"] for e in traced if e["event"] == "answer"] == [2001, 2001, 2001]
    assert traced[0]["identity"] == IMSI
    balances = [e["balance"] for e in traced if e["event"] == "answer"]
    assert len(balances) == 3
    assert balances[0]["reserved"].get("money", 0) > 0 and balances[-1]["reserved"].get("money", 0) == 0
    assert balances[-1]["totals"]["money"] < 10_000_000
    assert [json.loads(line) for line in record.read_text().splitlines()] == events
    assert not list(requests_dir.iterdir())          # request and events files removed


def test_nobody_traces_means_an_empty_table():
    trace.refresh("/nonexistent-run-dir", time.time())
    assert trace.ACTIVE == {}


def _tracing(tmp_path, identities):
    """A trace request in a fresh run dir, read in as a worker does; (run dir, trace name)."""
    run_dir = tmp_path / "run"
    name = trace.start(run_dir, identities, 60, 100)
    trace.refresh(run_dir, time.time())
    assert set(identities) <= set(trace.ACTIVE)
    return run_dir, name


def _stop(run_dir, name):
    trace.stop(run_dir, name)
    time.sleep(0.01)                    # a new folder mtime for refresh
    (run_dir / "trace").touch()
    trace.refresh(run_dir, time.time())
    assert trace.ACTIVE == {}


def test_gx_pushes_of_the_traced_subscriber_are_traced(tmp_path, store):
    from appliance.ocs.policy import Flow, PolicyRule, QoS, RuleKind
    from appliance.pcrf import engine as E
    from appliance.pcrf import tables as T
    from tests.conftest import seed
    from tests.pcrf.test_engine import ANY, DEFAULT, info, setup
    from tests.pcrf.test_engine import IMSI as GX_IMSI
    from tests.pcrf.test_engine import MSISDN as GX_MSISDN
    setup(store)
    seed(store, imsi="001019999999998", product="p2", offer=store.transact(lambda l: l.get_offer("data")))
    store.transact(lambda l: E.establish(l, info(), DEFAULT))
    store.transact(lambda l: E.establish(l, info("s2", ids=((E.END_USER_IMSI, "001019999999998"),)), DEFAULT))
    run_dir, name = _tracing(tmp_path, [GX_MSISDN, GX_IMSI])
    try:
        video = PolicyRule("video", RuleKind.DYNAMIC, 20, (Flow(ANY),), QoS(6))
        assert store.transact(lambda l: T.put_rule(l, "t1", video)) == 2        # both sessions queued
        for sid in ("s1", "s2"):
            assert store.transact(lambda l: E.repush(l, sid, DEFAULT, "w0", 100.0, 10)) is not None  # noqa: B023
        store.transact(lambda l: E.record_raa(l, "s1", E.SUCCESS, (E.RuleReport(("gold",), 1),), 106))
        store.transact(lambda l: E.record_raa(l, "s2", E.SUCCESS, (), 106))
        events, _ = trace.read_events(run_dir, name, 0)
    finally:
        _stop(run_dir, name)
    assert [(e["protocol"], e["event"], e["session"]) for e in events] == [("gx", "push", "s1"),
                                                                         ("gx", "push-answer", "s1")]
    push, answer = events
    assert push["install"] == ["video"] and push["reason"] == "table changed" and push["peer"] == "pcef.example"
    assert push["identity"] == GX_IMSI
    assert answer["result"] == 2001 and answer["failed"] == ["gold"]
    # nobody traces: nothing is written
    store.transact(lambda l: T.queue_push(l, "s1", "again"))
    store.transact(lambda l: E.repush(l, "s1", DEFAULT, "w0", 300.0, 10))
    assert not (run_dir / "trace" / f"{name}.events").exists()


def test_eap_steps_of_the_traced_subscriber_are_traced_without_keys(tmp_path):
    from appliance.eap import Accept, Code, encode, framework
    from tests.eap.test_framework import _answer, _conv, run
    run_dir, name = _tracing(tmp_path, ["alice@example"])
    try:
        assert framework.observer is not None
        conv, other = _conv(), _conv()
        run(other.receive(encode(Code.RESPONSE, 1, 1, b"bob@example")))          # not traced
        out = run(conv.receive(encode(Code.RESPONSE, 1, 1, b"alice@example")))
        accept = run(conv.receive(_answer(out)))
        assert isinstance(accept, Accept)
        events, _ = trace.read_events(run_dir, name, 0)
    finally:
        _stop(run_dir, name)
    assert framework.observer is None
    assert [(e["protocol"], e["event"], e["state"], e["method"]) for e in events] == [
        ("eap", "eap-send", "proposed", 4), ("eap", "eap-accept", "success", 4)]
    assert all(e["identity"] == "alice@example" for e in events)
    text = json.dumps(events)
    assert accept.msk.hex() not in text and accept.emsk.hex() not in text and "msk" not in text.lower()


def test_an_aka_permanent_identity_names_its_imsi():
    assert trace.eap_identities("0001010000000077@wlan.mnc001.mcc001.3gppnetwork.org")[-1] == "001010000000077"
    assert trace.eap_identities("6001010000000077@x")[-1] == "001010000000077"
    assert trace.eap_identities("alice@x") == ["alice@x", "alice"]
    assert trace.eap_identities(None) == []


def test_a_live_gx_push_is_traced_by_the_diameter_worker(cfg, store):
    """A Diameter worker process (Gx) and a PCEF on loopback: the traced subscriber's CCR-I, then a
    rule change pushed as an RAR: the trace holds the CCR/CCA, the push and the RAA's outcome."""
    import asyncio
    import signal

    from appliance.diameter import codec as c
    from appliance.ocs.policy import PolicyRule, RuleKind
    from appliance.pcrf import tables as T
    from tests.conftest import free_port
    from tests.pcrf.pcef import Pcef, installed
    from tests.pcrf.test_gx import IMSI as GX_IMSI
    from tests.pcrf.test_gx import MSISDN as GX_MSISDN
    from tests.pcrf.test_gx import provision
    from tests.pcrf.test_gx_worker import connect, start_worker, write_config
    provision(store)
    port = free_port()
    conf = write_config(cfg, port)
    run_dir = cfg.path(cfg.run_dir)
    name = trace.start(run_dir, [GX_MSISDN, GX_IMSI], 60, 100)      # as the command resolves the service
    sid = "pcef.test;77;1"

    async def go():
        worker = start_worker(conf)
        try:
            pcef = Pcef()
            await connect(pcef, port, worker)
            await asyncio.sleep(1.5)                  # the worker looks at the trace folder once a second
            assert (await pcef.initial(sid, imsi=GX_IMSI)).result_code == c.SUCCESS
            store.transact(lambda l: T.put_rule(l, "gold", PolicyRule("traced-push", RuleKind.PREDEFINED)))
            rar = await pcef.next_rar()
            assert rar.session_id == sid
            for _ in range(200):                      # the RAA recorded: no push waiting
                if not store.transact(lambda l: T.pending_pushes(l)):
                    break
                await asyncio.sleep(0.05)
            # an operator's re-authorization: an RAR although nothing changed
            store.transact(lambda l: T.queue_push(l, sid, "operator re-auth", force=True))
            rar = await pcef.next_rar()
            assert rar.session_id == sid and installed(rar) == {}
            for _ in range(200):
                events, _ = trace.read_events(run_dir, name, 0)
                if sum(e["event"] == "push-answer" for e in events) == 2:
                    return events
                await asyncio.sleep(0.05)
            return trace.read_events(run_dir, name, 0)[0]
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(20)
    try:
        events = asyncio.run(asyncio.wait_for(go(), 90))
    finally:
        trace.stop(run_dir, name)
    assert [(e["protocol"], e["event"]) for e in events] == [
        ("diameter", "request"), ("diameter", "answer"), ("gx", "push"), ("gx", "push-answer"),
        ("gx", "push"), ("gx", "push-answer")]
    push, answer, again, answered = events[2:]
    assert push["session"] == sid and push["install"] == ["traced-push"] and push["reason"] == "table changed"
    assert push["identity"] == GX_IMSI and push["peer"] == "pcef.test"
    assert answer["result"] == 2001 and answer["answered"] is True and answer["failed"] == []
    assert again["reason"] == "operator re-auth" and again["install"] == again["remove"] == []
    assert answered["result"] == 2001
