"""``database.cache_subscribers`` bounds a store's working set: however many subscribers are charged,
the caches of the writer stay within the bound (dropped whole when passed, at a batch's start)."""
from __future__ import annotations

from appliance.config import Config, DatabaseConfig
from appliance.ledger.api import LedgerClient
from appliance.ocs.rating import Action, ChargeRequest, UsageItem
from appliance.ocs.units import Unit
from appliance.store import open_store
from tests.conftest import seed


def test_the_working_set_stays_within_the_configured_bound(tmp_path):
    cfg = Config(data_dir=str(tmp_path), run_dir=str(tmp_path / "run"), log_dir=str(tmp_path / "logs"),
                 database=DatabaseConfig(cache_subscribers=100, secret_key_file=""))
    store = open_store(cfg)
    try:
        for n in range(350):
            seed(store, f"00101{n:010d}", money=1_000_000, product=f"p{n}")
        ledger = LedgerClient(store)
        sizes = []
        for n in range(350):
            imsi = f"00101{n:010d}"
            ledger.charge(ChargeRequest(imsi, f"s{n}", Action.DEBIT, (UsageItem(Unit.OCTETS, 1000),), f"s{n}:0",
                                        service="data"))
            sizes.append(store.transact(lambda l: (len(l._buckets), len(store._subscribers), len(l._docs))))
        assert max(s[0] for s in sizes) <= 101 and max(s[1] for s in sizes) <= 100
        assert max(s[2] for s in sizes) <= 201
        assert max(s[0] for s in sizes) >= 90          # the caches work below the bound
    finally:
        store.close()
