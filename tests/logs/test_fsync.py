"""logs.fsync: batch -- one fdatasync per written batch (write-through record, held turn, buffered flush)."""
from __future__ import annotations

import os

import pytest

from appliance.config import Config, ConfigError, LogsConfig, load
from appliance.logs import translog


@pytest.fixture
def syncs(monkeypatch):
    calls: list[int] = []
    real = os.fdatasync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)
    monkeypatch.setattr(os, "fdatasync", counting)
    return calls


def configure(tmp_path, **logs):
    translog.configure(Config(base_dir=str(tmp_path), logs=LogsConfig(auth_log=False, **logs)), "test", 0)


def test_write_through_syncs_each_record_and_each_held_turn(tmp_path, syncs):
    configure(tmp_path, fsync="batch")
    try:
        translog.acct({"n": 1})
        translog.acct({"n": 2})
        assert len(syncs) == 2
        for i in range(5):
            translog.acct({"n": i}, held=True)
        assert len(syncs) == 2                 # held: nothing written yet
        translog.write_held()
        assert len(syncs) == 3                 # one write(), one fdatasync for the turn
    finally:
        translog.close()


def test_buffered_syncs_per_flush_and_none_is_the_default(tmp_path, syncs):
    configure(tmp_path, fsync="batch", flush_interval_ms=60_000, batch_records=1000)
    try:
        for i in range(10):
            translog.acct({"n": i})
        assert syncs == []
        translog.flush()
        assert len(syncs) == 1
    finally:
        translog.close()
    configure(tmp_path)
    try:
        translog.acct({"n": 1})
        assert len(syncs) == 1                 # fsync: none writes without syncing
    finally:
        translog.close()


def test_fsync_setting_is_validated(tmp_path):
    conf = tmp_path / "appliance.yaml"
    conf.write_text("logs:\n  fsync: always\n")
    with pytest.raises(ConfigError) as err:
        load(str(conf))
    assert err.value.key == "logs" and "none, batch" in err.value.message
