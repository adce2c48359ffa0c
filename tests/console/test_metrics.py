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


def test_metrics_on_their_own_port_with_the_rest_authentication(appliance):
    import requests
    base = f"http://127.0.0.1:{appliance.doc['rest']['metrics_port']}"
    assert requests.get(base + "/metrics", timeout=10).status_code == 401
    assert requests.get(base + "/metrics", auth=(READER[0], "wrong"), timeout=10).status_code == 401
    for path in ("/console", "/console/api/whoami", "/tmf-api/productCatalogManagement/v4/productOffering",
                 "/openapi.json"):
        assert requests.get(base + path, auth=READER, timeout=10).status_code == 404, path

    def own_port() -> dict:
        r = requests.get(base + "/metrics", auth=READER, timeout=10)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for fam in text_string_to_metric_families(r.text) for s in fam.samples}
    before = own_port()
    assert ro_session(appliance.doc["diameter"]["port"]) == [2001, 2001, 2001]
    after = own_port()
    assert moved(before, after, "appliance_diameter_requests_total", app="ro") == 3
    for kind in ("initial", "update", "termination"):
        assert moved(before, after, "appliance_diameter_ro_ccr_total", type=kind) == 1


def test_metrics_port_without_authentication_when_configured(appliance, tmp_path):
    import socket

    import requests
    import yaml

    from tests.conftest import free_port, wait_bound

    from .conftest import _worker
    (tmp_path / "etc").mkdir()
    rest, scrape_port = free_port(), free_port()
    doc = {"data_dir": "var", "run_dir": "var/run", "log_dir": "logs", "radius": {"enabled": False},
           "diameter": {"enabled": False},
           "rest": {"address": "127.0.0.1", "port": rest, "access_log": False, "metrics_port": scrape_port,
                    "metrics_address": "127.0.0.1", "metrics_auth": False}}
    conf = tmp_path / "etc" / "appliance.yaml"
    conf.write_text(yaml.safe_dump(doc))
    proc = _worker(conf, "rest")
    try:
        wait_bound(scrape_port, socket.SOCK_STREAM)
        for _ in range(2):                    # the second scrape counts the first
            r = requests.get(f"http://127.0.0.1:{scrape_port}/metrics", timeout=10)
            assert r.status_code == 200, r.text
        names = {fam.name for fam in text_string_to_metric_families(r.text)}
        assert "appliance_rest_http_requests" in names, names
        assert requests.get(f"http://127.0.0.1:{rest}/metrics", timeout=10).status_code == 401   # the API port keeps it
    finally:
        proc.terminate()
        proc.wait(15)


def test_metrics_port_is_validated(tmp_path):
    import pytest

    from appliance.config import ConfigError, load
    cases = (("rest:\n  port: 8080\n  metrics_port: 8080\n", "rest.metrics_port", "TCP port 8080 is also rest.port"),
             ("rest:\n  metrics_port: 70000\n", "rest.metrics_port", "outside"),
             ("rest:\n  metrics_port: 9100\n  metrics_address: not-an-ip\n", "rest.metrics_address",
              "not an IP address"))
    for text, key, fragment in cases:
        path = tmp_path / "appliance.yaml"
        path.write_text(text)
        with pytest.raises(ConfigError) as err:
            load(str(path))
        assert key in str(err.value) and fragment in str(err.value), str(err.value)
    path.write_text("rest:\n  metrics_port: 9100\n  metrics_auth: false\n")
    cfg = load(str(path))
    assert (cfg.rest.metrics_port, cfg.rest.metrics_auth, cfg.rest.metrics_address) == (9100, False, "")
