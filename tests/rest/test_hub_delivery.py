"""TMF630 hub delivery over real HTTP on loopback: failed POSTs are retried with backoff in order,
events wait in the store across a restart of the REST server, the backlog is bounded, and
deleting a listener drops its queue."""
from __future__ import annotations

import dataclasses
import http.server
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from appliance.config import ConfigError, RestConfig, load
from appliance.rest.hub import EVENT_DOC, QUEUE_DOC, RetryPolicy
from appliance.rest.routes import HUB
from appliance.telemetry import metrics
from tests.rest.conftest import ADMIN, READER, Client, Server, add_user

INV = "/tmf-api/productInventory/v4"
CAT = "/tmf-api/productCatalogManagement/v4"


class Listener:
    """An HTTP listener on a socket bound now; it refuses connections until :meth:`up`.
    ``statuses`` are answered to the first POSTs in turn, 200 afterwards."""

    def __init__(self, statuses: tuple[int, ...] = (), listening: bool = True) -> None:
        self.posts: list[tuple[int, dict[str, Any]]] = []      # (status answered, event)
        self.statuses = list(statuses)
        self.got = threading.Condition()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.got:
                    status = outer.statuses.pop(0) if outer.statuses else 200
                    outer.posts.append((status, event))
                    outer.got.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a: Any) -> None:
                pass

        class Httpd(http.server.HTTPServer):
            allow_reuse_address = False              # a bound, idle port must stay ours alone

        self.httpd = Httpd(("127.0.0.1", 0), H, bind_and_activate=False)
        self.httpd.socket.bind(("127.0.0.1", 0))       # bound, not listening: connections are refused
        self.url = f"http://127.0.0.1:{self.httpd.socket.getsockname()[1]}/listener"
        self.thread: threading.Thread | None = None
        if listening:
            self.up()

    def up(self) -> None:
        self.httpd.server_activate()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def accepted(self) -> list[dict[str, Any]]:
        with self.got:
            return [e for s, e in self.posts if 200 <= s < 300]

    def wait_accepted(self, n: int) -> list[dict[str, Any]]:
        with self.got:
            self.got.wait_for(lambda: len([1 for s, _ in self.posts if 200 <= s < 300]) >= n, timeout=30)
        return self.accepted()

    def close(self) -> None:
        if self.thread is not None:
            self.httpd.shutdown()
        self.httpd.server_close()


def wait_until(check: Callable[[], Any], what: str) -> Any:
    for _ in range(600):                              # bounded: 30 s
        value = check()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"never happened: {what}")


def queue_of(store: Any, hub_id: str) -> tuple[dict[str, Any] | None, list[str]]:
    def read(ledger: Any) -> tuple[dict[str, Any] | None, list[str]]:
        return ledger.get_doc(QUEUE_DOC, hub_id), [k for k, _ in ledger.list_docs(EVENT_DOC, f"{hub_id}/")]
    return store.transact(read)  # type: ignore[no-any-return]


def drained(store: Any, hub_id: str) -> bool:
    queue, events = queue_of(store, hub_id)
    return queue is not None and queue["head"] == queue["next"] and not events


@pytest.fixture
def hub_cfg(rest_cfg):
    return dataclasses.replace(rest_cfg, rest=dataclasses.replace(
        rest_cfg.rest, hub_retry_base=0.02, hub_retry_cap=0.1, hub_timeout=5.0))


@pytest.fixture
def users(store):
    add_user(store, *ADMIN, ["admin"])
    add_user(store, *READER, ["readonly"])


class Rest:
    """A REST server over the store that a test may restart."""

    def __init__(self, cfg: Any, store: Any) -> None:
        self.cfg, self.store = cfg, store
        self.server: Server | None = None
        self.offer = False
        self.session = requests.Session()
        self.session.auth = ADMIN
        self.start()

    def start(self) -> None:
        self.server = Server(self.cfg, self.store)
        self.api = Client(self.session, self.server.url)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def product(self, ident: str) -> None:
        if not self.offer:
            r = self.api.post(f"{CAT}/productOffering", json={"name": "plain", "productOfferingPrice": [
                {"id": "plain-data", "priceType": "usage", "unitOfMeasure": {"amount": 1000000, "units": "octets"},
                 "price": {"taxIncludedAmount": {"unit": "USD", "value": "0.02"}}}]})
            assert r.status_code in (201, 409), r.text
            self.offer = True
        r = self.api.post(f"{INV}/product", json={"id": ident, "productOffering": {"id": "plain"}})
        assert r.status_code == 201, r.text

    def listen(self, url: str) -> str:
        r = self.api.post(f"{INV}/hub", json={"callback": url})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


@pytest.fixture
def rest(hub_cfg, store, users):
    made: list[Rest] = []

    def make(cfg: Any = hub_cfg) -> Rest:
        made.append(Rest(cfg, store))
        return made[-1]
    yield make
    for r in made:
        r.stop()
        r.session.close()


def ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["event"]["product"]["id"] for e in events]


def test_two_503_then_200_delivers_once_and_in_order(rest, store):
    listener = Listener(statuses=(503, 503))
    srv = rest()
    hub_id = srv.listen(listener.url)
    before = metrics.default().snapshot()
    srv.product("p-first")
    srv.product("p-second")
    wait_until(lambda: drained(store, hub_id), "queue drained")
    with listener.got:
        posts = [(s, e["event"]["product"]["id"]) for s, e in listener.posts]
    assert posts == [(503, "p-first"), (503, "p-first"), (200, "p-first"), (200, "p-second")]
    assert len({e["eventId"] for _, e in listener.posts}) == 2      # a retry sends the same event
    after = metrics.default().snapshot()
    assert after.get("rest.hub.retries", 0) - before.get("rest.hub.retries", 0) == 2
    assert after.get("rest.hub.delivered", 0) - before.get("rest.hub.delivered", 0) == 2
    listener.close()


def test_listener_down_receives_the_events_after_a_restart(rest, store):
    listener = Listener(listening=False)
    srv = rest()
    hub_id = srv.listen(listener.url)
    for ident in ("p-1", "p-2", "p-3"):
        srv.product(ident)
    # the first attempt was refused and a retry is scheduled; the events wait in the store
    wait_until(lambda: (queue_of(store, hub_id)[0] or {}).get("attempts", 0) >= 1, "a refused attempt")
    srv.stop()
    queue, events = queue_of(store, hub_id)
    assert len(events) == 3 and "claimed_by" not in queue           # a clean stop releases the claim
    listener.up()
    srv.start()                                                     # a new server over the same store
    assert ids(listener.wait_accepted(3)) == ["p-1", "p-2", "p-3"]
    wait_until(lambda: drained(store, hub_id), "queue drained")
    assert ids(listener.accepted()) == ["p-1", "p-2", "p-3"]
    listener.close()


def test_two_servers_over_one_store_deliver_each_event_once(rest, store):
    listener = Listener(statuses=(503,))
    one, two = rest(), rest()
    hub_id = one.listen(listener.url)
    wait_until(lambda: hub_id in two.server.app[HUB].listeners, "the second server sees the listener")
    for i in range(6):
        (one if i % 2 else two).product(f"p-{i}")
    wait_until(lambda: drained(store, hub_id), "queue drained")
    expected = [f"p-{i}" for i in range(6)]
    assert ids(listener.accepted()) == expected
    with listener.got:
        assert [e["event"]["product"]["id"] for _, e in listener.posts] == ["p-0"] + expected
    listener.close()


def test_backlog_keeps_the_newest_events(rest, store, hub_cfg):
    cfg = dataclasses.replace(hub_cfg, rest=dataclasses.replace(hub_cfg.rest, hub_backlog=3))
    listener = Listener(listening=False)
    srv = rest(cfg)
    hub_id = srv.listen(listener.url)
    before = metrics.default().get("rest.hub.dropped")
    for i in range(5):
        srv.product(f"p-{i}")
    queue, events = queue_of(store, hub_id)
    assert len(events) == 3 and queue["next"] - queue["head"] == 3
    assert metrics.default().get("rest.hub.dropped") - before == 2
    listener.up()
    assert ids(listener.wait_accepted(3)) == ["p-2", "p-3", "p-4"]
    wait_until(lambda: drained(store, hub_id), "queue drained")
    assert ids(listener.accepted()) == ["p-2", "p-3", "p-4"]
    listener.close()


def test_deleting_a_listener_drops_its_backlog(rest, store):
    down = Listener(listening=False)
    other = Listener(listening=False)
    srv = rest()
    hub_id = srv.listen(down.url)
    kept = srv.listen(other.url)
    srv.product("p-a")
    srv.product("p-b")
    assert len(queue_of(store, hub_id)[1]) == 2
    assert srv.api.delete(f"{INV}/hub/{hub_id}").status_code == 204
    assert queue_of(store, hub_id) == (None, [])
    assert len(queue_of(store, kept)[1]) == 2                       # another listener's queue stays
    assert srv.api.delete(f"{INV}/hub/{hub_id}").status_code == 404
    down.close()
    other.close()


def test_an_event_older_than_retry_max_is_given_up(rest, store, hub_cfg):
    cfg = dataclasses.replace(hub_cfg, rest=dataclasses.replace(hub_cfg.rest, hub_retry_max=0.0))
    listener = Listener(listening=False)
    srv = rest(cfg)
    hub_id = srv.listen(listener.url)
    before = metrics.default().get("rest.hub.expired")
    srv.product("p-old")
    wait_until(lambda: metrics.default().get("rest.hub.expired") - before == 1, "event given up")
    assert drained(store, hub_id) and listener.posts == []
    listener.close()


def test_a_queue_claimed_by_another_process_waits_for_its_lease():
    from appliance.rest import hub
    policy = RetryPolicy(base=1.0, cap=60.0, max_age=3600.0, lease=30.0)
    assert [policy.delay(n) for n in (1, 2, 3, 7, 8, 100)] == [1.0, 2.0, 4.0, 60.0, 60.0, 60.0]
    docs: dict[tuple[str, str], dict[str, Any]] = {("rest_hub", "h"): {"api": "a", "callback": "http://x/"}}

    class Ledger:
        def get_doc(self, kind: str, key: str) -> dict[str, Any] | None:
            return docs.get((kind, key))

        def put_doc(self, kind: str, key: str, doc: dict[str, Any]) -> None:
            docs[(kind, key)] = doc

        def delete_doc(self, kind: str, key: str) -> bool:
            return docs.pop((kind, key), None) is not None

    ledger = Ledger()
    hub.enqueue(ledger, "h", {"eventType": "X"}, 100.0, 10)
    first, _ = hub.claim(ledger, "h", "w1", 100.0, policy)
    assert first is not None and first.seq == 0
    assert hub.claim(ledger, "h", "w2", 110.0, policy) == (None, 0)          # w1's lease holds
    second, _ = hub.claim(ledger, "h", "w2", 131.0, policy)                 # w1 died: the lease ran out
    assert second is not None and second.seq == 0
    assert hub.failed(ledger, second, 131.0, policy) == 1.0
    assert hub.claim(ledger, "h", "w1", 131.5, policy) == (None, 0)         # backoff
    again, _ = hub.claim(ledger, "h", "w1", 132.0, policy)
    assert again is not None and hub.delivered(ledger, again, "w1")
    assert hub.claim(ledger, "h", "w1", 132.0, policy) == (None, 0)         # empty


@pytest.mark.parametrize("text,key", [("hub_backlog: 0", "rest"), ("hub_retry_base: 0", "rest"),
                                      ("hub_retry_base: 5\n  hub_retry_cap: 1", "rest"),
                                      ("hub_retry_max: -1", "rest")])
def test_hub_settings_are_validated(tmp_path, text, key):
    path = tmp_path / "appliance.yaml"
    path.write_text(f"rest:\n  {text}\n")
    with pytest.raises(ConfigError) as err:
        load(str(path))
    assert key in str(err.value)


def test_hub_defaults():
    rc = RestConfig()
    assert (rc.hub_backlog, rc.hub_retry_base, rc.hub_retry_cap, rc.hub_retry_max) == (10_000, 1.0, 60.0, 3600.0)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request) -> str:
    return str(request.param)
