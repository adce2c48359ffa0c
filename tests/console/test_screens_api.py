"""The console's second-pass JSON routes against running workers (no browser): sessions (paged,
filtered) and their actions (Disconnect/CoA to a NAS on loopback, Gx re-auth queued), peers and
clients, store and ledger health, transaction log query, IPDR export with progress, live trace."""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time

import requests

from appliance.config import load
from appliance.diameter.client import CreditControlClient
from appliance.pcrf import tables
from appliance.radius import packet as rp
from appliance.radius.acct import SESSION_KIND
from appliance.radius.coa import COA_RECORD_KIND, RECORD_KIND
from appliance.store import open_store
from tests.radius.helpers import radclient
from tests.radius.test_accounting import NasListener
from tests.rest.conftest import ADMIN, READER, add_user

from .conftest import IMSI, MSISDN, NAI, ro_session

OPERATOR = ("operator", "operator-password")


def _store(appliance):
    return open_store(load(str(appliance.conf)))


def _put(appliance, docs):
    store = _store(appliance)
    try:
        store.transact(lambda l: [l.put_doc(kind, key, doc) for kind, key, doc in docs])
    finally:
        store.close()


def _get_doc(appliance, kind, key):
    store = _store(appliance)
    try:
        return store.transact(lambda l: l.get_doc(kind, key))
    finally:
        store.close()


def _post(appliance, path, body, auth=ADMIN):
    return requests.post(appliance.url + path, json=body, auth=auth, timeout=60)


def _gx_doc(sid, service=IMSI, peer="pcef.test"):
    return {"session_id": sid, "peer": peer, "realm": "r", "service": service, "product": "p1",
            "installed": {"video": "x"}, "apn": "internet", "ip": "10.1.2.3", "created": 1, "updated": 2}


def test_sessions_are_paged_filtered_and_carry_no_secret(appliance):
    acct = appliance.doc["radius"]["acct_port"]
    out = radclient(acct, "acct", f'Acct-Status-Type = Start\nAcct-Session-Id = "cs-1"\nUser-Name = "{NAI}"\n'
                                  'NAS-IP-Address = 127.0.0.1\nFramed-IP-Address = 10.0.0.9\n')
    assert "Received Accounting-Response" in out
    _put(appliance, [(tables.KIND_SESSION, f"page.test;{i}", _gx_doc(f"page.test;{i}", service=f"other{i}"))
                     for i in range(5)] + [(tables.KIND_SESSION, "page.test;mine", _gx_doc("page.test;mine"))])
    page = appliance.get("/console/api/sessions?kind=radius", auth=READER).json()
    row = next(r for r in page["sessions"] if r["sessionId"] == "cs-1")
    assert row["user"] == NAI and row["framedIp"] == "10.0.0.9" and row["nasIp"] == "127.0.0.1"
    assert "testing123" not in str(page)

    seen, after, pages = [], "", 0
    for _ in range(20):                               # a cursor that does not advance ends here
        r = appliance.get(f"/console/api/sessions?kind=gx&limit=2&peer=pcef&after={after}", auth=READER).json()
        assert len(r["sessions"]) <= 2
        seen += [s["sessionId"] for s in r["sessions"] if s["sessionId"].startswith("page.test;")]
        pages += 1
        if r["next"] is None:
            break
        assert r["next"] > after
        after = r["next"]
    assert sorted(seen) == sorted([f"page.test;{i}" for i in range(5)] + ["page.test;mine"])
    assert len(seen) == len(set(seen)) and pages >= 3
    mine = appliance.get(f"/console/api/sessions?kind=gx&subscriber={MSISDN}", auth=READER).json()
    assert [s["sessionId"] for s in mine["sessions"] if s["sessionId"].startswith("page.test;")] == ["page.test;mine"]
    _put(appliance, [("aaa_session", "aaa.test;1", {
        "app": 16777264, "imsi": IMSI, "service_id": IMSI, "user_name": f"0{IMSI}@wlan.test", "peer_host": "epdg.test",
        "peer_realm": "r", "owner": 0, "node": "ocs", "state": "open", "method": 23, "created": 7,
        "profile": {"apn": "ims", "k": "00112233445566778899aabbccddeeff"}, "hss": False}),
        ("ro_session", "gw.test;9;9", {"s": IMSI, "t": 8})])
    aaa = appliance.get(f"/console/api/sessions?kind=aaa&subscriber={NAI}", auth=READER).json()["sessions"]
    assert [(r["sessionId"], r["app"], r["imsi"], r["peer"], r["state"]) for r in aaa] == [
        ("aaa.test;1", "swm", IMSI, "epdg.test", "open")]
    assert "00112233445566778899aabbccddeeff" not in str(aaa)           # the profile is not shown
    ro = appliance.get("/console/api/sessions?kind=ro&peer=gw.test", auth=READER).json()["sessions"]
    assert {"kind": "ro", "key": "gw.test;9;9", "sessionId": "gw.test;9;9", "subscriber": IMSI, "started": 8,
            "peer": "gw.test"} in ro
    assert appliance.get("/console/api/sessions?kind=nope").status_code == 400
    assert appliance.get("/console/api/sessions?kind=ro&limit=0").status_code == 400


def test_disconnect_and_coa_reach_the_nas_admin_only(appliance):
    store = _store(appliance)
    try:
        add_user(store, *OPERATOR, ["operator"])
    finally:
        store.close()
    nas = NasListener(ignore=0)
    try:
        key = "127.0.0.1|dm-1"
        _put(appliance, [(SESSION_KIND, key, {"nas": "127.0.0.1", "sid": "dm-1", "addr": "127.0.0.1",
                                              "coa_port": nas.port, "user": NAI, "nas_ip": "127.0.0.1",
                                              "subscriber": NAI, "start": 1, "octets": 0, "seconds": 0,
                                              "csid": "radius:" + key})])
        for who in (READER, OPERATOR):
            assert _post(appliance, "/console/api/sessions/radius/disconnect", {"key": key}, who).status_code == 403
            assert _post(appliance, "/console/api/sessions/radius/coa",
                         {"key": key, "set": {"session-timeout": 60}}, who).status_code == 403
        assert nas.received == []
        r = _post(appliance, "/console/api/sessions/radius/coa", {"key": key, "set": {"session-timeout": 600,
                                                                                     "filter-id": "slow"}})
        assert r.status_code == 200 and r.json()["result"] == "ack", r.text
        coa = nas.received[-1]
        assert coa.code == rp.COA_REQUEST and coa.text(rp.ACCT_SESSION_ID) == "dm-1"
        assert coa.integer(rp.SESSION_TIMEOUT) == 600 and coa.text(11) == "slow"          # Filter-Id
        assert _get_doc(appliance, COA_RECORD_KIND, key)["result"] == "ack"
        r = _post(appliance, "/console/api/sessions/radius/disconnect", {"key": key})
        assert r.status_code == 200 and r.json()["result"] == "ack", r.text
        assert nas.received[-1].code == rp.DISCONNECT_REQUEST and all(nas.valid)
        assert _get_doc(appliance, RECORD_KIND, key)["reason"] == "console (admin)"
        assert _post(appliance, "/console/api/sessions/radius/coa",
                     {"key": key, "set": {"reply-message": "x"}}).status_code == 400
        assert _post(appliance, "/console/api/sessions/radius/disconnect", {"key": "nas|none"}).status_code == 404
    finally:
        nas.close()


def test_gx_reauth_is_queued_on_the_push_queue_admin_only(appliance):
    _put(appliance, [(tables.KIND_SESSION, "reauth.test;1", _gx_doc("reauth.test;1"))])
    assert _post(appliance, "/console/api/sessions/gx/reauth", {"key": "reauth.test;1"}, READER).status_code == 403
    assert _get_doc(appliance, tables.KIND_PUSH, "reauth.test;1") is None
    r = _post(appliance, "/console/api/sessions/gx/reauth", {"key": "reauth.test;1"})
    assert r.status_code == 200 and r.json()["result"] == "queued"
    push = _get_doc(appliance, tables.KIND_PUSH, "reauth.test;1")
    assert push is not None and "console" in push["reason"] and push["force"] is True
    assert _post(appliance, "/console/api/sessions/gx/reauth", {"key": "reauth.test;none"}).status_code == 404


def test_aaa_abort_is_queued_for_the_owning_worker_admin_only(appliance):
    from appliance.diameter.apps import aaa
    store = _store(appliance)
    try:
        add_user(store, *OPERATOR, ["operator"])
    finally:
        store.close()
    doc = {"app": aaa.SWM, "imsi": IMSI, "user_name": NAI, "peer_host": "epdg.abort", "peer_realm": "r",
           "state": "open", "owner": 0, "node": "nobody.test", "created": 1}
    _put(appliance, [(aaa.SESSION_KIND, "abort.test;1", doc),
                     (aaa.SESSION_KIND, "abort.test;2", {**doc, "state": "aborting"})])
    for who in (READER, OPERATOR):
        assert _post(appliance, "/console/api/sessions/aaa/abort", {"key": "abort.test;1"}, who).status_code == 403
    assert "abort_requested" not in _get_doc(appliance, aaa.SESSION_KIND, "abort.test;1")
    r = _post(appliance, "/console/api/sessions/aaa/abort", {"key": "abort.test;1"})
    assert r.status_code == 200 and r.json()["result"] == "queued"
    stored = _get_doc(appliance, aaa.SESSION_KIND, "abort.test;1")
    assert stored["abort_requested"]["reason"] == "operator abort (console, admin)" and stored["state"] == "open"
    rows = appliance.get("/console/api/sessions?kind=aaa&peer=epdg.abort").json()["sessions"]
    assert [(r["key"], r["abortRequested"]) for r in rows] == [("abort.test;1", True), ("abort.test;2", False)]
    assert _post(appliance, "/console/api/sessions/aaa/abort", {"key": "abort.test;2"}).status_code == 409
    assert _post(appliance, "/console/api/sessions/aaa/abort", {"key": "abort.test;none"}).status_code == 404


def _hold_peer(port: int, opened: threading.Event, release: threading.Event) -> None:
    async def go() -> None:
        client = CreditControlClient("gw.test", "gw.realm")
        await client.connect("127.0.0.1", port)
        opened.set()
        try:
            await asyncio.get_running_loop().run_in_executor(None, release.wait, 60)
        finally:
            await client.close()
    asyncio.run(go())


def _peer(appliance, host="gw.test"):
    return next(p for p in appliance.get("/console/api/node", auth=READER).json()["peers"] if p["host"] == host)


def _until(fn, limit=20.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    return fn()


def test_node_shows_a_peer_up_while_connected_clients_and_health(appliance):
    port = appliance.doc["diameter"]["port"]
    opened, release = threading.Event(), threading.Event()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        held = pool.submit(_hold_peer, port, opened, release)
        try:
            assert opened.wait(30)
            assert _until(lambda: _peer(appliance)["up"]), _peer(appliance)
            node = appliance.get("/console/api/node", auth=READER).json()
            assert node["peersUp"] >= 1 and _peer(appliance)["state"] == "open"
        finally:
            release.set()
            held.result(60)
    assert _until(lambda: not _peer(appliance)["up"]), _peer(appliance)
    node = appliance.get("/console/api/node", auth=READER).json()
    client = node["radiusClients"][0]
    assert client["address"] == "127.0.0.1/32" and client["name"] == "nas-lo" and "secret" not in client
    assert "testing123" not in str(node)
    assert node["health"]["store"]["ok"] is True and node["health"]["store"]["writeMs"] >= 0
    ledger = node["health"]["ledger"]                       # the embedded default runs the ledger role
    assert {k: ledger[k] for k in ("configured", "running", "socket", "failed", "clientUnavailable", "ok")} == {
        "configured": 1, "running": 1, "socket": True, "failed": 0, "clientUnavailable": 0, "ok": True}
    assert {p["role"] for p in node["processes"] if p["alive"]} >= {"ledger0", "radius0", "diameter0", "rest0"}
    assert set(node["sessions"]) == {"radius", "ro", "gx", "aaa"}


def _finished(appliance, job: str) -> dict:
    def state():
        doc = appliance.get(f"/console/api/exports/{job}", auth=READER).json()
        return doc if doc["state"] != "running" else None
    return _until(state)


def test_logs_query_and_ipdr_export_with_progress(appliance):
    assert ro_session(appliance.doc["diameter"]["port"]) == [2001, 2001, 2001]
    r = appliance.get(f"/console/api/logs?subscriber={IMSI}&limit=50", auth=READER).json()
    kinds = [rec.get("request_type") for rec in r["records"] if rec.get("protocol") == "diameter"]
    assert {"initial", "update", "termination"} <= set(map(str, kinds)) or len(kinds) >= 3, r
    assert r["records"][0]["ts"] >= r["records"][-1]["ts"]            # newest first
    assert {rec.get("chargedMoney") for rec in r["records"] if rec.get("request_type") == "update"} == {"0.020000"}
    none = appliance.get("/console/api/logs?subscriber=nobody&limit=5", auth=READER).json()
    assert none["records"] == [] and none["scanned"] >= 3
    assert appliance.get("/console/api/logs?log=secrets").status_code == 400
    assert appliance.get("/console/api/logs?since=2000&until=1000").status_code == 400

    r = _post(appliance, "/console/api/exports", {"live": True, "type": "wlan"}, READER)
    assert r.status_code == 202, r.text
    ident = r.json()["id"]
    state = _finished(appliance, ident)
    assert state["state"] == "done" and state["progress"] == 100, state
    csv = appliance.get(f"/console/api/exports/{ident}/csv", auth=READER)
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert len(lines) == 1 + state["records"] and state["records"] >= 1, csv.text[:500]
    assert appliance.get("/console/api/exports/0123456789abcdef", auth=READER).status_code == 404
    folder = appliance.base / "logs" / "export"                  # an export whose worker died
    (folder / "console-00000000000000aa.json").write_text(json.dumps({"id": "00000000000000aa", "state": "running",
                                                                      "progress": 40, "pid": 999_999_999}))
    assert _finished(appliance, "00000000000000aa")["state"] == "failed"

    # the archived IPDR documents (what housekeeping writes every logs.acct_log_rotate)
    from appliance.logs.archive import archive_period
    cfg = load(str(appliance.conf))
    _doc, archived, _stats = archive_period(cfg, 0, int(time.time()) + 1)
    assert archived >= 1
    for body, expected in (({"live": False}, archived), ({"live": False, "start": int(time.time()) + 3600}, 0)):
        r = _post(appliance, "/console/api/exports", body, READER)
        assert r.status_code == 202, r.text
        job = r.json()["id"]
        state = _finished(appliance, job)
        assert state["state"] == "done" and state["records"] == expected, state
        rows = appliance.get(f"/console/api/exports/{job}/csv", auth=READER).text.strip().splitlines()
        assert len(rows) == 1 + expected
    assert appliance.get("/console/api/exports/..%2f..%2fx/csv", auth=READER).status_code == 404


def test_trace_from_the_console_streams_a_live_session_admin_only(appliance):
    assert _post(appliance, "/console/api/trace", {"identity": MSISDN}, READER).status_code == 403
    assert _post(appliance, "/console/api/trace", {"identity": "nobody@x"}).status_code == 404
    r = _post(appliance, "/console/api/trace", {"identity": MSISDN, "minutes": 2})
    assert r.status_code == 201, r.text
    name = r.json()["name"]
    assert IMSI in r.json()["identities"]
    assert appliance.get(f"/console/api/trace/{name}", auth=READER).status_code == 403
    time.sleep(1.5)                                   # the workers look at the trace folder once a second
    assert ro_session(appliance.doc["diameter"]["port"]) == [2001, 2001, 2001]
    events, offset = [], 0
    deadline = time.monotonic() + 20
    while len(events) < 6 and time.monotonic() < deadline:
        doc = appliance.get(f"/console/api/trace/{name}?offset={offset}&wait=2").json()
        events += doc["events"]
        offset = doc["offset"]
        assert doc["active"] is True
    assert [e["event"] for e in events] == ["request", "answer"] * 3
    assert [e["result"] for e in events if e["event"] == "answer"] == [2001, 2001, 2001]
    assert requests.delete(appliance.url + f"/console/api/trace/{name}", auth=ADMIN, timeout=30).status_code == 204
    assert appliance.get(f"/console/api/trace/{name}").status_code == 404


def test_a_dead_workers_open_connection_counts_as_down(appliance):
    from appliance.rest.console.node import peers
    cfg = load(str(appliance.conf))
    rec = {"host": "gw.test", "realm": "gw.realm", "address": "127.0.0.1:5000", "state": "open", "opened_at": 5,
           "apps": [4], "requests_in": 3}
    dead = peers(cfg, [{"alive": False, "peers": [rec]}])
    live = peers(cfg, [{"alive": True, "peers": [rec]}, {"alive": True, "peers": [dict(rec, opened_at=3)]}])
    assert [(p["host"], p["up"], p["state"], p["requestsIn"]) for p in dead] == [("gw.test", False, "closed", 0)]
    assert [(p["host"], p["up"], p["workers"], p["since"], p["requestsIn"]) for p in live] == \
        [("gw.test", True, 2, 3, 6)]


def test_ledger_health_follows_the_ledger_role(tmp_path):
    """With ``processes.ledger: 1`` the panel says ok while the ledger role runs and answers on its
    socket, and failing once it is gone."""
    import signal
    import socket

    import yaml

    from tests.conftest import free_port, wait_bound

    from .conftest import _worker
    (tmp_path / "etc").mkdir()
    rest = free_port()
    doc = {"data_dir": "var", "run_dir": "var/run", "log_dir": "logs", "radius": {"enabled": False},
           "diameter": {"enabled": False}, "processes": {"ledger": 1, "stop_wait": 2},
           "rest": {"address": "127.0.0.1", "port": rest, "access_log": False}}
    conf = tmp_path / "etc" / "appliance.yaml"
    conf.write_text(yaml.safe_dump(doc))
    store = open_store(load(str(conf)))
    try:
        add_user(store, *READER, ["readonly"])
    finally:
        store.close()
    ledger, api = _worker(conf, "ledger"), _worker(conf, "rest")
    url = f"http://127.0.0.1:{rest}/console/api/node"
    try:
        wait_bound(rest, socket.SOCK_STREAM)
        health = _until(lambda: (lambda h: h if h["ledger"]["ok"] else None)(
            requests.get(url, auth=READER, timeout=30).json()["health"]))
        assert health["ledger"]["configured"] == 1 and health["ledger"]["running"] == 1
        assert health["ledger"]["socket"] is True and health["store"]["ok"] is True
        ledger.send_signal(signal.SIGTERM)
        ledger.wait(15)
        health = requests.get(url, auth=READER, timeout=30).json()["health"]
        assert health["ledger"]["ok"] is False and health["ledger"]["running"] == 0
        assert health["ledger"]["socket"] is False
    finally:
        for p in (ledger, api):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(15)


def test_the_session_kinds_are_the_front_ends_own():
    from appliance.diameter.apps import aaa
    from appliance.ledger import sessions as ro_sessions
    from appliance.rest.console.sessions import AAA_APPS, KINDS
    assert KINDS == {"radius": SESSION_KIND, "ro": ro_sessions.SESSION_DOC, "gx": tables.KIND_SESSION,
                     "aaa": aaa.SESSION_KIND}
    assert AAA_APPS == aaa.APP_NAMES
