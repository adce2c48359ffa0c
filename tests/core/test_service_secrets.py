"""service add: secrets from stdin or a file, never needed on the command line."""
from __future__ import annotations

import json
import subprocess
import sys

K = "465b5ce8b199b49faa5f0a2ee238a6bc"
OPC = "cd63cb71954a9f4e48a5994e37a02baf"


def run(tmp_path, *args, stdin=""):
    conf = tmp_path / "appliance.yaml"
    conf.touch()
    return subprocess.run([sys.executable, "-m", "appliance", "--config", str(conf), *args], cwd=tmp_path,
                          input=stdin, capture_output=True, text=True, timeout=60)


def stored(tmp_path, service_id):
    code = ("import sys; from appliance.config import load; from appliance.store import open_store; "
            "s = open_store(load(sys.argv[1])); "
            "v = s.transact(lambda l: l.get_service(sys.argv[2])); c = v.credentials; "
            "print(c.password, c.k.hex() if c.k else '', c.opc.hex() if c.opc else '')")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "appliance.yaml"), service_id],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_secrets_from_stdin_and_from_a_file(tmp_path):
    assert run(tmp_path, "init").returncode == 0
    r = run(tmp_path, "service", "add", "s1", "--imsi", "001010000000001", "--secrets", "-",
            stdin=f"# subscriber s1\npassword=hunter2\nk={K}\nopc = {OPC}\n")
    assert r.returncode == 0 and not r.stderr, r.stderr
    assert "hunter2" not in r.stdout and K not in r.stdout
    assert stored(tmp_path, "s1") == ["hunter2", K, OPC]
    secrets = tmp_path / "s2.secrets"
    secrets.write_text(f"password=pa ss\nk={K}\nopc={OPC}\n")
    r = run(tmp_path, "service", "add", "s2", "--secrets", str(secrets))
    assert r.returncode == 0 and not r.stderr
    assert json.loads(r.stdout)["id"] == "s2"


def test_secrets_on_the_command_line_still_work_with_a_warning(tmp_path):
    assert run(tmp_path, "init").returncode == 0
    r = run(tmp_path, "service", "add", "s3", "--password", "hunter2")
    assert r.returncode == 0
    assert "warning" in r.stderr and "--password" in r.stderr and "hunter2" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_bad_secrets_input_is_one_line(tmp_path):
    for stdin, fragment in [("colour=blue\n", "expected one of"), ("password=a\npassword=b\n", "each once"),
                            (f"k={K[:-1]}z\n", "hex")]:
        r = run(tmp_path, "service", "add", "s4", "--secrets", "-", stdin=stdin)
        assert r.returncode == 1 and fragment in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = run(tmp_path, "service", "add", "s4", "--password", "x", "--secrets", "-", stdin="password=y\n")
    assert r.returncode == 1 and "both" in r.stderr


def test_pap_only_stores_a_salted_hash(tmp_path):
    assert run(tmp_path, "init").returncode == 0
    r = run(tmp_path, "service", "add", "s3", "--nai", "pap@wlan", "--secrets", "-", "--pap-only",
            stdin="password=hunter2\n")
    assert r.returncode == 0 and "hunter2" not in r.stdout + r.stderr, r.stderr
    (password,) = stored(tmp_path, "s3")
    assert password.startswith("{SSHA256}") and "hunter2" not in password
    r = run(tmp_path, "service", "add", "s4", "--nai", "nopw@wlan", "--pap-only")
    assert r.returncode != 0 and "--pap-only needs a password" in r.stderr
