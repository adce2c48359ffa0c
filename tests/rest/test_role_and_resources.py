"""The `rest` role as the supervisor runs it, and TMF639 policy tables (appliance.pcrf)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import requests
import yaml

from tests.conftest import free_port
from tests.rest.conftest import ADMIN, add_user

RES = "/tmf-api/resourceInventoryManagement/v4/resource"


def test_rest_role_serves_and_stops_on_sigterm(cfg, store, tmp_path):
    add_user(store, *ADMIN, ["admin"])
    port = free_port()
    conf = tmp_path / "appliance.yaml"
    conf.write_text(yaml.safe_dump({"data_dir": cfg.data_dir, "run_dir": cfg.run_dir, "log_dir": cfg.log_dir,
                                    "database": {"path": "appliance.db"},
                                    "rest": {"address": "127.0.0.1", "port": port}}))
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "-c", str(conf), "run", "rest"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ})
    try:
        for _ in range(300):  # bounded wait for the listener (up to ~30 s on a loaded machine)
            try:
                r = requests.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except requests.ConnectionError:
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert r.status_code == 200
        r = requests.get(f"http://127.0.0.1:{port}/openapi.json", auth=ADMIN, timeout=10)
        assert r.status_code == 200 and r.json()["openapi"].startswith("3.")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        err = proc.stderr.read() if proc.stderr else ""
        assert "REST listening" in err and "GET /openapi.json 200" in err  # the access log
        assert ADMIN[1] not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_policy_table_as_resource(api):
    policy = {"rules": [{"name": "video", "kind": "dynamic", "precedence": 10,
                         "flows": ["permit out ip from any to any"], "qos": {"qci": 9}}]}
    r = api.post(RES, json={"name": "gold-policy", "resourceSpecification": {"id": "PolicyTable"},
                            "resourceCharacteristic": [{"name": "policy", "value": policy}]})
    assert r.status_code == 201, r.text
    got = api.get(f"{RES}/gold-policy").json()
    assert got["resourceSpecification"]["id"] == "PolicyTable"
    assert got["resourceCharacteristic"][0]["value"]["rules"][0]["name"] == "video"
    from appliance.pcrf import tables
    assert tables.get_table is not None
    listed = api.get(RES, params={"resourceSpecification.id": "PolicyTable"}).json()
    assert [d["id"] for d in listed] == ["gold-policy"]
    for bad in ({"rules": "nope"}, {"rules": [{"name": "x", "qos": {"qci": 999}}]}, {"rules": [{"kind": "x"}]}):
        r = api.post(RES, json={"name": "bad", "resourceSpecification": {"id": "PolicyTable"},
                                "resourceCharacteristic": [{"name": "policy", "value": bad}]})
        assert r.status_code == 400 and r.json()["reason"], (bad, r.text)
    r = api.patch(f"{RES}/gold-policy", data=b'[{"op": "replace", "path": "/resourceCharacteristic/0/value/rules/0/'
                                             b'precedence", "value": 20}]',
                  headers={"Content-Type": "application/json-patch+json"})
    assert r.status_code == 200 and r.json()["resourceCharacteristic"][0]["value"]["rules"][0]["precedence"] == 20
    assert api.delete(f"{RES}/gold-policy").status_code == 204
    assert api.get(f"{RES}/gold-policy").status_code == 404
