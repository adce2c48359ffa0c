"""Accounting sanity: one report charges at most radius.acct_report_max_* and what the rate allows
since the session's last report; the rest is counted and logged, and the NAS is answered."""
from __future__ import annotations

import logging

from appliance.ocs.units import Unit, cost_of
from appliance.radius.acct import SESSION_KIND, UsageBounds
from appliance.telemetry import metrics

from .conftest import RunningServer, radius_cfg
from .helpers import radclient
from .test_accounting import acct_text, money

RATE, SIZE = 20_000, 1_000_000


def test_bounds_split_usage_into_charged_and_excess():
    b = UsageBounds(max_octets=1_000_000, max_seconds=3600, max_rate=1_000)
    assert b.cap({Unit.OCTETS: 50_000}, 0) == ({Unit.OCTETS: 50_000}, {})          # within 60 s of slack
    assert b.cap({Unit.OCTETS: 70_000}, 0) == ({Unit.OCTETS: 60_000}, {Unit.OCTETS: 10_000})
    assert b.cap({Unit.OCTETS: 5_000_000}, 10_000) == ({Unit.OCTETS: 1_000_000}, {Unit.OCTETS: 4_000_000})
    assert b.cap({Unit.SECONDS: 2**32 - 1}, 100) == ({Unit.SECONDS: 160}, {Unit.SECONDS: 2**32 - 1 - 160})
    assert b.cap({Unit.SECONDS: 10}, 100) == ({Unit.SECONDS: 10}, {})


def test_interim_for_an_unknown_session_with_huge_counters_is_bounded_and_answered(cfg, store, seed_subscriber,
                                                                                     caplog):
    rcfg = radius_cfg(cfg, acct_report_max_octets=3_000_000, acct_max_rate=1_000_000)
    seed_subscriber(nai="alice@wlan", password="pw", money=10_000_000)
    srv = RunningServer(rcfg).start()
    caplog.set_level(logging.WARNING, "appliance.radius.acct")
    try:
        before = metrics.default().get("radius.acct.excess_reports.octets")
        huge = acct_text("Interim-Update", "never-started", 2**32 - 1, 2**32 - 1) + \
            "Acct-Input-Gigawords = 4294967295\nAcct-Output-Gigawords = 4294967295\n"
        out = radclient(rcfg.radius.acct_port, "acct", huge)
        assert "Received Accounting-Response" in out          # answered: the NAS stops retransmitting
        assert money(store) == 10_000_000 - cost_of(3_000_000, RATE, SIZE) - cost_of(1_048_576, RATE, SIZE)
        assert metrics.default().get("radius.acct.excess_reports.octets") == before + 1
        lines = [r.getMessage() for r in caplog.records if "beyond the per-report bounds" in r.getMessage()]
        assert len(lines) == 1 and "127.0.0.1|never-started" in lines[0]
        # the session now remembers the NAS's counters: the same totals again charge nothing more
        doc = dict(store.transact(lambda l: l.list_docs(SESSION_KIND, "127.0.0.1|")))["127.0.0.1|never-started"]
        assert doc["octets"] == 2 * (2**64 - 1)
        left = money(store)
        out = radclient(rcfg.radius.acct_port, "acct", huge.replace("Interim-Update", "Stop"))
        assert "Received Accounting-Response" in out
        assert money(store) == left + cost_of(1_048_576, RATE, SIZE)      # the reservation released, no charge
    finally:
        srv.close()
