"""µs per ``rate()`` call (the pure rating function, no store) for a CCR-U of one rating group with a
held reservation, next to the interpreter's own speed measured in the same run (a loop that builds
one small tuple per iteration), so the ratio is comparable across machines.

usage: .venv/bin/python benchmarks/rating.py [--calls 50000]
"""
from __future__ import annotations

import argparse
import time

from appliance.ocs.balance import Hold, Reservation
from appliance.ocs.catalog import Offer, Price, PriceType
from appliance.ocs.inventory import Bucket, Product, Service
from appliance.ocs.rating import Action, ChargeRequest, ChargingPolicy, RatingContext, UsageItem, rate
from appliance.ocs.timeofday import TimeWindow
from appliance.ocs.units import Unit

MB = 1_000_000


def context(windows: bool) -> RatingContext:
    when = TimeWindow.parse("08:00-20:00", "mon-fri") if windows else None
    offer = Offer("o", (Price("data", PriceType.USAGE, amount=20_000, unit=Unit.OCTETS, size=MB, when=when),
                        Price("night", PriceType.USAGE, amount=10_000, unit=Unit.OCTETS, size=MB),
                        Price("voice", PriceType.USAGE, amount=10_000, unit=Unit.SECONDS, size=60)))
    res = [Reservation("s", 1, "p", "svc", Unit.OCTETS, 2 * MB, (Hold(1, Unit.MONEY, 40_000),), 20_000, MB, 0,
                       1000)]
    return RatingContext(Service("svc", "p"), Product("p", "o"), offer, {},
                         [Bucket(1, "p", Unit.MONEY, 10_000_000)], res)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=50_000)
    n = ap.parse_args().calls
    request = ChargeRequest("svc", "s", Action.UPDATE, (UsageItem(Unit.OCTETS, 0, 1000, 1),), "s:1",
                            now=1_765_000_000)
    policy = ChargingPolicy()
    t = time.perf_counter()
    sink = None
    for i in range(n):
        sink = (i, n)
    assert sink is not None
    loop_us = (time.perf_counter() - t) / n * 1e6
    for windows in (False, True):
        ctx = context(windows)
        t = time.perf_counter()
        for _ in range(n):
            rate(request, ctx, policy)
        us = (time.perf_counter() - t) / n * 1e6
        print(f"rate() {'with' if windows else 'without'} a time-of-day price: {us:.1f} µs per call, "
              f"{us / loop_us:.0f}× one interpreter loop iteration ({loop_us * 1000:.0f} ns)")


if __name__ == "__main__":
    main()
