"""Cost of the Diameter latency histogram and of the idle trace check on the request path
(run from the repository root)."""
import tempfile
import time
import timeit

from appliance import trace
from appliance.diameter import codec as c
from appliance.diameter import node
from appliance.diameter.client import Service, ccr
from appliance.ocs.units import Unit
from appliance.telemetry import metrics

metrics.open_process_counters(tempfile.mkdtemp(), "bench0")
avps = ccr("gw;1;1", "ocs.test", 2, 1, "001010000000001",
           services=(Service(Unit.OCTETS, 0, used=500_000, rating_group=32),))
raw = c.encode(272, 4, c.FLAG_R, 1, 1, [c.encode_avp(c.ORIGIN_HOST, "gw.test"), *avps])
msg = c.decode(raw)
apps = {4: None}
n = 300_000
for label, fn in (("perf_counter() x2", lambda: (time.perf_counter(), time.perf_counter())),
                  ("histogram lookup + observe", lambda: node._latency_of(msg, apps).observe(0.0002)),
                  ("existing metrics.inc(f'diameter.{name}.requests')", lambda: metrics.inc("diameter.ro.requests")),
                  ("'if trace.ACTIVE:' while nobody traces", lambda: trace.ACTIVE and None),
                  ("empty lambda (the measuring overhead)", lambda: None),
                  ("decode of the CCR-U (for scale)", lambda: c.decode(raw))):
    best = min(timeit.repeat(fn, number=n, repeat=3)) / n * 1e6
    print(f"{label:55s} {best:6.2f} µs")
