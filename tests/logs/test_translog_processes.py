"""Real processes: a writer killed with SIGKILL mid-write, two writers at once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from appliance.logs.fifo import ReadStats, list_files, read_log

WRITER = str(Path(__file__).with_name("translog_writer.py"))


def _spawn(d, proc, count, payload, files, size, *extra, env=None):
    return subprocess.Popen([sys.executable, WRITER, str(d), proc, str(count), str(payload), str(files), str(size),
                             *map(str, extra)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def _check_prefix(records, writer):
    ns = [r["n"] for r in records if r["writer"] == writer]
    assert ns == list(range(len(ns))), f"{writer}: records lost or reordered"
    for r in records:
        assert r["pad"] == "x" * (len(r["pad"])) and len(r["pad"]) >= 1
    return len(ns)


def test_sigkill_mid_write_leaves_readable_log_with_at_most_one_skipped_record(tmp_path):
    # Big records (256 KiB): a write takes long enough that the kill often lands inside it.
    for attempt in range(3):
        d = tmp_path / f"run{attempt}"
        p = _spawn(d, "victim", 0, 256 * 1024, 64, 64 * 1024 * 1024)
        assert p.stdout.readline().strip() == "ready"
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=30)
        st = ReadStats()
        records = list(read_log(d / "acct", "acct", st))
        assert st.skipped <= 1 and st.bad_files == []
        n = _check_prefix(records, "victim")
        assert n >= 1
        # the log stays usable: a new writer appends and everything after the tear is readable
        q = _spawn(d, "after", 3, 10, 64, 64 * 1024 * 1024)
        q.communicate(timeout=30)
        st2 = ReadStats()
        again = list(read_log(d / "acct", "acct", st2))
        assert st2.skipped == st.skipped
        assert [r["n"] for r in again if r["writer"] == "after"] == [0, 1, 2]
        assert _check_prefix(again, "victim") == n


def test_writer_killed_inside_a_record_costs_exactly_that_record(tmp_path):
    # The kernel cuts the write that crosses the file-size limit: a real torn record at the tail.
    tear_at = 32 + 20 * 1100 + 500
    p = _spawn(tmp_path, "torn", 0, 1000, 4, 1 << 20, env={"TEAR_AT": str(tear_at)})
    assert p.stdout.readline().strip() == "ready"
    path = tmp_path / "acct" / "acct.0001.log"
    for _ in range(500):                       # bounded: until the file reached the limit
        if path.stat().st_size >= tear_at:
            break
        time.sleep(0.01)
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=30)
    assert path.stat().st_size == tear_at
    st = ReadStats()
    records = list(read_log(tmp_path / "acct", "acct", st))
    assert st.skipped == 1 and 0 < st.skipped_bytes < 1200
    assert _check_prefix(records, "torn") == len(records) >= 19


def test_buffered_writer_killed_loses_only_unwritten_records(tmp_path):
    p = _spawn(tmp_path, "buffered", 0, 100, 8, 1 << 20, 5)   # flushed every 5 ms
    assert p.stdout.readline().strip() == "ready"
    for _ in range(200):                                         # bounded wait for a few flushes
        if any(f.stat().st_size > 64 * 1024 for f in (tmp_path / "acct").glob("acct.*.log")):
            break
        time.sleep(0.02)
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=30)
    st = ReadStats()
    records = list(read_log(tmp_path / "acct", "acct", st))
    assert st.skipped <= 1
    assert _check_prefix(records, "buffered") > 0


def test_two_processes_concurrently_never_interleave(tmp_path):
    count, files, size = 3000, 40, 64 * 1024      # ~3.4 MB in a 2.5 MB ring: it wraps while both write
    go = tmp_path / "go"
    ps = [_spawn(tmp_path, name, count, 700, files, size, env={"GO": str(go)}) for name in ("w1", "w2")]
    for p in ps:
        assert p.stdout.readline().strip() == "waiting"
    go.touch()
    for p in ps:
        p.communicate(timeout=120)
        assert p.returncode == 0
    st = ReadStats()
    records = list(read_log(tmp_path / "acct", "acct", st))
    assert st.skipped == 0 and st.bad_files == []
    switches = sum(1 for a, b in zip(records, records[1:]) if a["writer"] != b["writer"])
    assert switches >= 2, "the two writers did not overlap: nothing was tested"
    by = defaultdict(list)
    for r in records:
        by[r["writer"]].append(r["n"])
    assert set(by) == {"w1", "w2"}
    for name, ns in by.items():
        # each writer's surviving records: contiguous, in order, ending with its last one
        assert ns == list(range(ns[0], count)), name
    kept = list_files(tmp_path / "acct", "acct")
    assert len(kept) == files and all(p.stat().st_size <= size for p, _h in kept)
    assert kept[-1][1].seq > files                   # the ring wrapped during the concurrent run
