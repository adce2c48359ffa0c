"""Optional HTTP shipping: batches, retry after a failed POST, bounded queue."""
from __future__ import annotations

import dataclasses
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from appliance.config import LogsConfig
from appliance.logs import translog
from appliance.logs.shipping import Shipper


class Collector(BaseHTTPRequestHandler):
    batches: list = []
    fail_first = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if Collector.fail_first > 0:
            Collector.fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        Collector.batches.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_records_are_posted_in_batches_and_a_failed_post_is_retried(cfg, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    Collector.batches, Collector.fail_first = [], 1
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/logs"
        c = dataclasses.replace(cfg, logs=LogsConfig(acct_log_dir="a", auth_log_dir="u", ship_url=url, ship_batch=10,
                                                     ship_interval_ms=50, ship_retries=3))
        translog.configure(c, "radius", 0)
        shipper = translog._shipper
        shipper.backoff = 0.01
        for i in range(25):
            translog.acct({"session_id": f"s{i}", "password": "never"})
        translog.auth({"session_id": "auth-0"})
        translog.close()                                   # posts what is queued, then stops
        got = [r["session_id"] for b in Collector.batches for r in b]
        assert sorted(got) == sorted([f"s{i}" for i in range(25)] + ["auth-0"])
        assert all(len(b) <= 10 for b in Collector.batches)
        assert shipper.failed_posts == 1 and shipper.dropped == 0 and shipper.sent == 26
        assert not any("password" in r for b in Collector.batches for r in b)
    finally:
        server.shutdown()
        server.server_close()


def test_unreachable_endpoint_drops_after_retries_and_queue_is_bounded():
    posts = []

    def refuse(body):
        posts.append(body)
        raise ConnectionRefusedError("down")
    s = Shipper("http://unused", batch=5, interval=0.01, queue=7, retries=2, post=refuse, backoff=0.001)
    gate = threading.Event()
    orig = s._post
    s._post = lambda body: (gate.wait(5), orig(body))      # hold the sender while the queue overflows
    for i in range(20):
        s.offer({"n": i})
    gate.set()
    s.close()
    assert s.sent == 0 and s.dropped == 20 and len(posts) % 2 == 0 and posts
