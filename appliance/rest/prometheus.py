"""``GET /metrics``: the per-process counter files (appliance.telemetry.metrics) in the Prometheus text
exposition format (version 0.0.4), written by ``prometheus_client``.

Every counter of docs/counters.md is exported: the families below give the names that carry a
variable part (application, result class, client index …) as labels; any other name becomes
``appliance_<name with _>_total`` (``.gauge`` names: a gauge without the suffix).  Latency
histograms (``lat.*``) become ``appliance_latency_seconds{interface, command}``.  Names and
labels are listed in docs/metrics.md.
"""
from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from ..telemetry import metrics
from .routes import CFG, Route

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"     # what generate_latest writes
_APP = r"(base|acct|ro|eap|nasreq|gx|swm|sta|swx|s6b|other|app\d+)"
_CLASS = r"([2-5]xxx|other)"

# (pattern, family name, help, label names); the first match wins.
FAMILIES: tuple[tuple[re.Pattern[str], str, str, tuple[str, ...]], ...] = tuple(
    (re.compile(pattern), name, doc, labels) for pattern, name, doc, labels in (
        (rf"diameter\.{_APP}\.requests$", "appliance_diameter_requests", "Diameter requests received", ("app",)),
        (rf"diameter\.{_APP}\.requests\.dropped$", "appliance_diameter_requests_dropped",
         "Diameter requests discarded without an answer", ("app",)),
        (rf"diameter\.{_APP}\.answers\.{_CLASS}$", "appliance_diameter_answers",
         "Diameter answers sent, by result class", ("app", "result_class")),
        (rf"diameter\.{_APP}\.requests_out$", "appliance_diameter_requests_out", "Diameter requests sent", ("app",)),
        (rf"diameter\.{_APP}\.answers_in\.{_CLASS}$", "appliance_diameter_answers_in",
         "Diameter answers received, by result class", ("app", "result_class")),
        (r"diameter\.ro\.ccr\.(\w+)$", "appliance_diameter_ro_ccr", "Ro CCRs by CC-Request-Type", ("type",)),
        (r"pcrf\.gx\.ccr\.(\w+)$", "appliance_pcrf_gx_ccr", "Gx CCRs by CC-Request-Type", ("type",)),
        (r"pcrf\.gx\.result\.(\w+)$", "appliance_pcrf_gx_result", "Gx CCAs not 2001, by result code", ("code",)),
        (r"radius\.(auth|acct)\.client\.(\d+)\.(\w+)$", "appliance_radius_client",
         "RADIUS per-client counters (RFC 4669/4671 client tables)", ("port", "client", "counter")),
        (r"rest\.http\.status_(\d+)$", "appliance_rest_http_errors", "REST 4xx answers by status", ("status",)),
        (r"rest\.tmf\.(\w+)\.created$", "appliance_rest_tmf_created", "TMF resources created", ("resource",)),
        (r"eap\.(aka|akap)\.(\w+)$", "appliance_eap_aka", "EAP-AKA (aka) and EAP-AKA' (akap) events",
         ("method", "event")),
        (r"aaa\.(sta|swm|s6b|swx)\.(\w+)$", "appliance_aaa", "AAA application events", ("app", "event")),
    ))

_INVALID = re.compile(r"[^a-zA-Z0-9_]")


def plain_name(counter: str) -> str:
    return "appliance_" + _INVALID.sub("_", counter)


def _latency_labels(name: str) -> tuple[str, str]:
    """``diameter.ro.ccr.initial`` → (``diameter.ro``, ``ccr.initial``); ``rest.get`` → (``rest``, ``get``)."""
    parts = name.split(".")
    cut = 2 if parts[0] == "diameter" and len(parts) > 2 else 1
    return ".".join(parts[:cut]), ".".join(parts[cut:]) or "all"


def families(totals: dict[str, int]) -> list[Metric]:
    """Prometheus metric families of summed counters (pure: a test feeds it a dict)."""
    out: dict[str, Any] = {}      # family name -> CounterMetricFamily / GaugeMetricFamily
    hists: dict[str, dict[str, int]] = {}
    for counter, value in sorted(totals.items()):
        if counter.startswith(metrics.LATENCY_PREFIX):
            base, _, cell = counter[len(metrics.LATENCY_PREFIX):].rpartition(".")
            hists.setdefault(base, {})[cell] = value
            continue
        if counter.endswith(".gauge"):
            name = plain_name(counter[:-len(".gauge")])
            fam = out.get(name)
            if fam is None:
                fam = out[name] = GaugeMetricFamily(name, f"{counter[:-6]} (sum over live processes)")
            fam.add_metric([], value)
            continue
        for pattern, name, doc, labels in FAMILIES:
            m = pattern.match(counter)
            if m:
                fam = out.get(name)
                if fam is None:
                    fam = out[name] = CounterMetricFamily(name, doc, labels=list(labels))
                fam.add_metric(list(m.groups()), value)
                break
        else:
            name = plain_name(counter)
            out[name] = CounterMetricFamily(name, counter, value=value)
    if hists:
        fam = HistogramMetricFamily("appliance_latency_seconds",
                                    "time from request to answer, by interface and command",
                                    labels=["interface", "command"])
        bounds = metrics.LATENCY_BOUNDS_US
        for base, cells in sorted(hists.items()):
            running = 0
            buckets: list[tuple[str, float]] = []
            for i in range(len(bounds) + 1):
                running += cells.get(f"b{i}", 0)
                buckets.append((repr(bounds[i] / 1e6) if i < len(bounds) else "+Inf", running))
            fam.add_metric(list(_latency_labels(base)), buckets, cells.get("sum_us", 0) / 1e6)
        out["appliance_latency_seconds"] = fam
    return list(out.values())


class CounterFiles(Collector):
    """Collects the sums of every process's counter file in ``run_dir`` at each scrape."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = run_dir

    def collect(self) -> Iterator[Metric]:
        yield from families(metrics.read_all(self.run_dir))


def exposition(run_dir: str | Path) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CounterFiles(run_dir))
    return generate_latest(registry)


async def get_metrics(request: web.Request) -> web.Response:
    cfg = request.app[CFG]
    body = await asyncio.to_thread(exposition, cfg.path(cfg.run_dir))
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def routes() -> list[Route]:
    return [Route("GET", "/metrics", get_metrics, "read",
                  "counters and latency histograms of every process (Prometheus text format 0.0.4)", "meta",
                  responses={200: "text exposition"})]
