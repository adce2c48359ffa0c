""".ci/run stops packaged reference servers through their service or pid file, never by name, and
every apt-get of CI and of the .deb test waits for the dpkg lock instead of failing."""
from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CI = (ROOT / ".ci" / "run").read_text()


def test_no_kill_by_process_name():
    assert not re.search(r"\b(pkill|killall)\b", CI)


def test_apt_get_waits_for_the_dpkg_lock():
    for path in (ROOT / ".ci" / "run", ROOT / "tests" / "packaging" / "test_deb.py"):
        text = path.read_text()
        calls = re.findall(r'apt-get\b[^\n]*(?:install|purge|remove)', text)
        assert calls, path
        assert all("DPkg::Lock::Timeout=" in c for c in calls), (path, calls)


def test_stop_packaged_kills_only_the_process_its_pid_file_names(tmp_path):
    function = re.search(r"^stop_packaged\(\) \{.*?^\}\n", CI, re.M | re.S)
    assert function
    name = "ocs-fake-svc"                              # no such service: only the pid file can stop it
    exe = tmp_path / name
    shutil.copy(shutil.which("sleep"), exe)
    ours = subprocess.Popen([str(exe), "60"])
    other = subprocess.Popen(["sleep", "60"])        # a pid file naming a process of another name
    try:
        time.sleep(0.2)
        (tmp_path / "ours.pid").write_text(f"{ours.pid}\n")
        (tmp_path / "other.pid").write_text(f"{other.pid}\n")
        script = (f"SUDO=''\n{function.group(0)}stop_packaged {name} {tmp_path}/ours.pid\n"
                  f"stop_packaged {name} {tmp_path}/other.pid\n")
        subprocess.run(["bash", "-c", script], check=True, timeout=60, capture_output=True)
        assert ours.wait(timeout=10) != 0
        assert other.poll() is None
    finally:
        for p in (ours, other):
            if p.poll() is None:
                p.kill()
                p.wait()


def test_postinst_without_systemd_says_how_to_start(tmp_path):
    """The configure step's service part, run where /run/systemd/system is absent."""
    text = (ROOT / "packaging" / "deb" / "postinst").read_text()
    block = re.search(r"^    if \[ -d /run/systemd/system \]; then\n.*?^    fi\n", text, re.M | re.S)
    assert block
    script = block.group(0).replace("/run/systemd/system", str(tmp_path / "no-systemd"))
    r = subprocess.run(["sh", "-c", f"PKG=ocs-appliance\nCONF=/etc/ocs-appliance/appliance.yaml\n{script}"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0
    assert "not started" in r.stdout
    assert "runuser -u ocs -- /usr/bin/appliance --config /etc/ocs-appliance/appliance.yaml start" in r.stdout
