"""The console's own REST views (JSON, no browser): login, whoami, subscriber, configuration, files."""
from __future__ import annotations

import requests

from appliance.config import load
from appliance.pcrf import tables
from appliance.store import open_store
from tests.rest.conftest import READER

from .conftest import IMSI, NAI, SECRET


def test_login_gives_a_token_and_refuses_without_a_basic_challenge(appliance):
    r = requests.post(appliance.url + "/console/api/login", json={"user": READER[0], "password": "wrong"}, timeout=30)
    assert r.status_code == 401 and "WWW-Authenticate" not in r.headers
    assert r.json()["reason"] == "wrong user name or password"
    r = requests.post(appliance.url + "/console/api/login", json={"user": READER[0], "password": READER[1]},
                      timeout=30)
    assert r.status_code == 200
    who = requests.get(appliance.url + "/console/api/whoami", timeout=30,
                       headers={"Authorization": "Bearer " + r.json()["access_token"]}).json()
    assert who == {"user": "reader", "roles": ["readonly"], "permissions": ["read"]}
    assert requests.post(appliance.url + "/console/api/login", data="nope", timeout=30).status_code == 400


def test_subscriber_view_needs_read_and_shows_gx_sessions(appliance):
    assert requests.get(appliance.url + "/console/api/subscriber?identity=" + IMSI, timeout=30).status_code == 401
    assert appliance.get("/console/api/subscriber?identity=nobody@nowhere").status_code == 404
    assert appliance.get("/console/api/subscriber").status_code == 400
    store = open_store(load(str(appliance.conf)))
    try:
        store.transact(lambda l: (l.put_doc(tables.KIND_SESSION, "pcef.test;1", {
            "session_id": "pcef.test;1", "peer": "pcef.test", "realm": "r", "service": IMSI, "product": "p1",
            "installed": {"video": "x"}, "apn": "internet", "ip": "10.1.2.3", "created": 1, "updated": 2}),
            l.put_doc(tables.KIND_BY_PRODUCT, "p1|pcef.test;1", {})))
    finally:
        store.close()
    doc = appliance.get("/console/api/subscriber?identity=" + NAI, auth=READER).json()
    assert doc["service"]["imsi"] == IMSI and doc["product"] == {"id": "p1", "offer": "data"}
    assert doc["gxSessions"] == [{"sessionId": "pcef.test;1", "peer": "pcef.test", "apn": "internet",
                                  "ip": "10.1.2.3", "rules": ["video"], "created": 1, "updated": 2}]


def test_configuration_masks_secrets(appliance):
    cfg = appliance.get("/console/api/config", auth=READER).json()
    assert SECRET not in str(cfg)
    assert cfg["radius"]["clients"][0]["secret"] == "••••••"
    assert cfg["radius"]["clients"][0]["address"] == "127.0.0.1"
    assert cfg["money"]["currency"] == "USD"


def test_console_files_are_served_and_nothing_outside(appliance):
    assert "consoleApp()" in requests.get(appliance.url + "/console", timeout=30).text
    r = requests.get(appliance.url + "/console/static/vendor/alpine-3.17.5.min.js", timeout=30)
    assert r.status_code == 200 and "javascript" in r.headers["Content-Type"]
    for path in ("/console/static/..%2f__init__.py", "/console/static/vendor/..%2f..%2f__init__.py",
                 "/console/static/nothing.js"):
        assert requests.get(appliance.url + path, timeout=30).status_code == 404, path
