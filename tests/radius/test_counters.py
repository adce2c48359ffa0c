"""The server's counter helper: global and per-client slots, re-resolved when the counter file changes."""
from __future__ import annotations

from appliance.radius.clients import Client
from appliance.radius.server import Counters
from appliance.telemetry import metrics


def test_counts_reach_the_process_counter_file_and_follow_a_new_file(tmp_path):
    previous = metrics.default()
    try:
        first = metrics.open_process_counters(tmp_path / "a", "radius0")
        counters = Counters("auth")
        client = Client("127.0.0.1", b"s", name="lo", index=3)
        counters.inc("access_requests", client)
        counters.inc("access_requests", client)
        counters.inc("invalid_requests")
        _pid, values = metrics.read_file(first.path)
        assert values["radius.auth.access_requests"] == 2
        assert values["radius.auth.client.3.access_requests"] == 2
        assert values["radius.auth.invalid_requests"] == 1
        second = metrics.open_process_counters(tmp_path / "b", "radius0")
        counters.inc("access_requests", client)
        _pid, values = metrics.read_file(second.path)
        assert values == {"radius.auth.access_requests": 1, "radius.auth.client.3.access_requests": 1}
        assert metrics.read_file(first.path)[1]["radius.auth.access_requests"] == 2
    finally:
        metrics._default = previous
