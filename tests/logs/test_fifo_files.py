"""FIFO rotation, framing and torn-record handling of the log files (no processes)."""
from __future__ import annotations

import os

import pytest

from appliance.logs.fifo import FifoLog, ReadStats, list_files, read_log
from appliance.logs.framing import FILE_HEADER, NotALogFile, ScanStats, encode, parse_file_header, scan


def _write(d, n, files=4, size=4096, start=0, pad=40):
    log = FifoLog(d, "acct", files, size)
    for i in range(start, start + n):
        log.write([encode({"ts": i, "n": i, "pad": "p" * pad})])
    log.close()


def test_rotation_wraps_and_keeps_exactly_n_files_within_size(tmp_path):
    _write(tmp_path, 2000, files=4, size=4096)
    files = sorted(tmp_path.glob("acct.*.log"))
    assert [f.name for f in files] == [f"acct.{i:04d}.log" for i in range(4)]
    assert all(f.stat().st_size <= 4096 for f in files)
    headers = [h.seq for _p, h in list_files(tmp_path, "acct")]
    assert headers == sorted(headers) and len(set(headers)) == 4 and headers[-1] > 4     # it wrapped
    assert headers == list(range(headers[0], headers[0] + 4))                             # consecutive ring
    st = ReadStats()
    got = [r["n"] for r in read_log(tmp_path, "acct", st)]
    # the newest records survive, contiguous and in order, ending with the last one written
    assert got == list(range(got[0], 2000)) and got[0] > 0 and st.skipped == 0
    # what was kept is what fits: the kept files are full up to less than one record
    assert all(4096 - f.stat().st_size < len(encode({"ts": 1999, "n": 1999, "pad": "p" * 40}))
               for f, h in list_files(tmp_path, "acct")[:-1])


def test_reopening_continues_the_sequence(tmp_path):
    _write(tmp_path, 300, files=3)
    _write(tmp_path, 300, files=3, start=300)
    got = [r["n"] for r in read_log(tmp_path, "acct")]
    assert got == list(range(got[0], 600))


def test_lost_state_file_recovers_from_file_headers(tmp_path):
    _write(tmp_path, 300, files=3)
    before = max(h.seq for _p, h in list_files(tmp_path, "acct"))
    os.unlink(tmp_path / ".acct.state")
    _write(tmp_path, 5, files=3, start=300)
    assert max(h.seq for _p, h in list_files(tmp_path, "acct")) == before + 1
    got = [r["n"] for r in read_log(tmp_path, "acct")]
    assert got[-5:] == list(range(300, 305))


def test_oversized_record_is_dropped_not_written(tmp_path):
    log = FifoLog(tmp_path, "acct", 2, 4096)
    log.write([encode({"n": 0, "pad": "x" * 5000}), encode({"n": 1})])
    log.close()
    assert log.dropped == 1
    assert [r["n"] for r in read_log(tmp_path, "acct")] == [1]


@pytest.mark.parametrize("cut", [1, 5, 9, 10, 20, -1])
def test_torn_tail_is_skipped_once_at_every_cut(tmp_path, cut):
    _write(tmp_path, 10, files=2, size=65536)
    path = tmp_path / "acct.0001.log"
    last = len(encode({"ts": 9, "n": 9, "pad": "p" * 40}))
    size = path.stat().st_size
    os.truncate(path, size - last + (cut if cut > 0 else last - 1))
    st = ReadStats()
    assert [r["n"] for r in read_log(tmp_path, "acct", st)] == list(range(9))
    assert st.skipped == 1


def test_torn_record_in_the_middle_then_appends_resynchronise(tmp_path):
    _write(tmp_path, 5, files=2, size=65536)
    path = tmp_path / "acct.0001.log"
    with open(path, "ab") as fh:                      # a killed writer's half frame ...
        fh.write(encode({"n": 99, "pad": "z" * 100})[:57])
    _write(tmp_path, 5, files=2, size=65536, start=5)  # ... then another process appends
    st = ReadStats()
    assert [r["n"] for r in read_log(tmp_path, "acct", st)] == list(range(10))
    assert st.skipped == 1 and st.skipped_bytes == 57


def test_corrupted_byte_costs_one_record(tmp_path):
    _write(tmp_path, 10, files=2, size=65536)
    path = tmp_path / "acct.0001.log"
    data = bytearray(path.read_bytes())
    rec_len = len(encode({"ts": 0, "n": 0, "pad": "p" * 40}))
    data[FILE_HEADER.size + 3 * rec_len + 20] ^= 0xFF          # inside record 3's payload
    st = ScanStats()
    got = [r["n"] for r in scan(bytes(data), FILE_HEADER.size, st)]
    assert got == [0, 1, 2, 4, 5, 6, 7, 8, 9] and st.skipped == 1


def test_not_a_log_file(tmp_path):
    with pytest.raises(NotALogFile):
        parse_file_header(b"hello world, this is not a transaction log")
    (tmp_path / "acct.0000.log").write_bytes(b"garbage" * 10)
    st = ReadStats()
    assert list(read_log(tmp_path, "acct", st)) == []
    assert st.bad_files == [str(tmp_path / "acct.0000.log")]


def test_time_filter_is_half_open(tmp_path):
    _write(tmp_path, 10, files=2, size=65536)
    assert [r["n"] for r in read_log(tmp_path, "acct", since_us=3, until_us=7)] == [3, 4, 5, 6]


def test_reader_skips_a_file_reused_while_it_reads(tmp_path):
    _write(tmp_path, 400, files=3)                     # wrapped: 3 files full
    st = ReadStats()
    reader = read_log(tmp_path, "acct", st)
    first = next(reader)                               # snapshot taken, reading the oldest file
    log = FifoLog(tmp_path, "acct", 3, 4096)
    for i in range(400, 500):                          # writers rotate through the whole ring meanwhile
        log.write([encode({"ts": i, "n": i, "pad": "p" * 40})])
    log.close()
    rest = [r["n"] for r in reader]
    assert st.skipped == 0 and st.reused >= 1
    assert all(isinstance(n, int) for n in rest) and first["n"] < 400
    assert rest == sorted(rest)                        # never records out of their order
