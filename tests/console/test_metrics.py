"""``GET /metrics`` against running workers: the counters move by exactly the traffic sent."""
from __future__ import annotations

import subprocess

from prometheus_client.parser import text_string_to_metric_families

from appliance.rest.prometheus import families
from tests.conftest import need_binary
from tests.rest.conftest import READER

from .conftest import SECRET, ro_session


def scrape(appliance) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = appliance.get("/metrics", auth=READER)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(r.text) for s in fam.samples}


def moved(before, after, name, **labels) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0) - before.get(key, 0)


def test_metrics_need_credentials(appliance):
    import requests
    assert requests.get(appliance.url + "/metrics", timeout=10).status_code == 401


def test_counters_and_histograms_move_by_exactly_the_traffic(appliance):
    tool = need_binary("radclient")
    before = scrape(appliance)
    acct = appliance.doc["radius"]["acct_port"]
    packets = [f'User-Name = "nobody{i}", Acct-Status-Type = Start, Acct-Session-Id = "prom-{i}", '
               f'NAS-IP-Address = 127.0.0.1' for i in range(5)]
    out = subprocess.run([tool, "-q", "-p", "1", "-t", "10", "-r", "1", f"127.0.0.1:{acct}", "acct", SECRET],
                         input="\n\n".join(packets) + "\n", capture_output=True, text=True, timeout=120)
    assert "no response" not in out.stderr.lower(), out.stderr
    assert ro_session(appliance.doc["diameter"]["port"]) == [2001, 2001, 2001]
    for _ in range(3):
        assert appliance.get("/balance/001010000000077").status_code == 200
    after = scrape(appliance)

    assert moved(before, after, "appliance_radius_acct_requests_total") == 5
    assert moved(before, after, "appliance_radius_acct_responses_total") == 5
    assert moved(before, after, "appliance_radius_client_total", port="acct", client="1", counter="requests") == 5
    assert moved(before, after, "appliance_diameter_requests_total", app="ro") == 3
    assert moved(before, after, "appliance_diameter_answers_total", app="ro", result_class="2xxx") == 3
    for kind in ("initial", "update", "termination"):
        assert moved(before, after, "appliance_diameter_ro_ccr_total", type=kind) == 1
        assert moved(before, after, "appliance_latency_seconds_count",
                     interface="diameter.ro", command=f"ccr.{kind}") == 1
        assert moved(before, after, "appliance_latency_seconds_bucket",
                     interface="diameter.ro", command=f"ccr.{kind}", le="+Inf") == 1
    # the first scrape itself is a REST GET counted before the second scrape answered
    assert moved(before, after, "appliance_rest_http_requests_total") == 4
    assert moved(before, after, "appliance_latency_seconds_count", interface="rest", command="get") == 4
    assert after[("appliance_latency_seconds_sum", (("command", "ccr.initial"), ("interface", "diameter.ro")))] > 0


def test_families_map_names_to_labels_and_cumulative_buckets():
    fams = {f.name: f for f in families({
        "diameter.gx.answers.5xxx": 2, "diameter.relay.answers.late": 1, "radius.auth.eap_conversations.gauge": 3,
        "lat.radius.auth.b0": 4, "lat.radius.auth.b2": 1, "lat.radius.auth.sum_us": 1500})}
    assert [(s.labels, s.value) for s in fams["appliance_diameter_answers"].samples] == \
        [({"app": "gx", "result_class": "5xxx"}, 2)]
    assert fams["appliance_diameter_relay_answers_late"].samples[0].value == 1      # not an application
    assert fams["appliance_radius_auth_eap_conversations"].type == "gauge"
    hist = {(s.name, s.labels.get("le")): s.value for s in fams["appliance_latency_seconds"].samples}
    assert hist[("appliance_latency_seconds_bucket", "0.00025")] == 4
    assert hist[("appliance_latency_seconds_bucket", "0.0005")] == 4
    assert hist[("appliance_latency_seconds_bucket", "0.001")] == 5
    assert hist[("appliance_latency_seconds_bucket", "+Inf")] == 5
    assert hist[("appliance_latency_seconds_sum", None)] == 0.0015


def test_grafana_dashboard_uses_only_exported_names():
    import json
    import re
    from pathlib import Path
    text = json.dumps(json.loads((Path(__file__).parents[2] / "packaging/grafana/ocs-appliance.json").read_text()))
    used = set(re.findall(r"appliance_[a-z_]+", text))
    counters = {"radius.auth.access_requests": 1, "radius.auth.access_accepts": 1, "radius.auth.access_rejects": 1,
                "radius.acct.requests": 1, "diameter.ro.requests": 1, "diameter.ro.ccr.initial": 1,
                "diameter.ro.answers.2xxx": 1, "pcrf.gx.ccr.initial": 1, "pcrf.gx.result.5030": 1,
                "rest.http.requests": 1, "rest.http.status_404": 1, "rest.http.internal_errors": 1,
                "diameter.peers.opened": 1, "diameter.peers.closed": 1, "radius.auth.eap_conversations.gauge": 1,
                "radius.auth.packets_dropped": 1, "diameter.ro.requests.dropped": 1, "lat.rest.get.b0": 1}
    exported = set()
    for fam in families(counters):
        exported |= {s.name for s in fam.samples}
    assert used - exported == set()
