"""``log_format: json``: a real worker writes one JSON object per line with the shared schema."""
from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time

import pytest
import yaml

from appliance.config import load
from appliance.json_log import JsonFormatter
from tests.conftest import free_port


def test_formatter_schema_with_subscriber_session_and_exception():
    fmt = JsonFormatter("diameter", 1)
    rec = logging.LogRecord("appliance.ro", logging.WARNING, __file__, 1, "CCR %s refused", ("x;1",), None)
    rec.subscriber, rec.session = "001010000000001", "x;1"
    line = json.loads(fmt.format(rec))
    assert {k: line[k] for k in ("level", "role", "worker", "logger", "event", "subscriber", "session")} == {
        "level": "WARNING", "role": "diameter", "worker": 1, "logger": "appliance.ro", "event": "CCR x;1 refused",
        "subscriber": "001010000000001", "session": "x;1"}
    assert line["time"].endswith("Z") and len(line["time"]) == 24
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        rec = logging.LogRecord("a", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = json.loads(fmt.format(rec))
    assert "RuntimeError: boom" in line["exception"] and "subscriber" not in line


def test_unknown_log_format_is_refused_with_its_key(tmp_path):
    conf = tmp_path / "appliance.yaml"
    conf.write_text("log_format: xml\n")
    with pytest.raises(Exception, match="log_format"):
        load(str(conf))


def test_rest_worker_logs_json_lines(tmp_path):
    port = free_port()
    conf = tmp_path / "appliance.yaml"
    conf.write_text(yaml.safe_dump({"data_dir": "var", "run_dir": "var/run", "log_dir": "logs", "log_format": "json",
                                    "rest": {"address": "127.0.0.1", "port": port}}))
    out = tmp_path / "rest.log"
    with open(out, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "appliance", "--config", str(conf), "run", "rest"],
                                stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "REST listening" not in out.read_text():
            assert proc.poll() is None, out.read_text()
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    lines = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    listening = next(x for x in lines if x["event"].startswith("REST listening"))
    assert listening["role"] == "rest" and listening["worker"] == 0 and listening["level"] == "INFO"
    assert listening["pid"] == proc.pid
