"""Per-process counter files: names from peer input can never stop a worker."""
from __future__ import annotations

import os

from appliance.telemetry import metrics


def test_full_table_counts_further_names_in_the_overflow_slot(tmp_path):
    c = metrics.Counters(tmp_path / "x.cnt")
    for i in range(metrics.SLOTS + 200):          # e.g. a peer sending ever new Application-Ids
        c.inc(f"diameter.app{i}.requests")
    c.inc("diameter.app5.requests", 4)            # a registered name still counts in its own slot
    pid, values = metrics.read_file(tmp_path / "x.cnt")
    assert pid == os.getpid() and len(values) == metrics.SLOTS
    assert values["diameter.app5.requests"] == 5
    assert values[metrics.OVERFLOW] == 201        # the 1,024th name onwards
    assert "diameter.app1023.requests" not in values
    assert sum(values.values()) == metrics.SLOTS + 200 + 4
