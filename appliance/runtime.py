"""What every worker process shares: the role table, logging, signals, the event loop.

A role is a module with ``main(cfg: Config, index: int) -> int``.  Front ends
register theirs in :data:`ROLES`; ``appliance run ROLE`` and the supervisor
use this table, and a role whose module is not present is simply not run.
"""
from __future__ import annotations

import asyncio
import gc
import importlib
import importlib.util
import logging
import signal
import sys
from collections.abc import Awaitable, Callable

from .config import Config

ROLES: dict[str, str] = {
    "housekeeping": "appliance.housekeeping",
    "radius": "appliance.radius.worker",
    "diameter": "appliance.diameter.worker",
    "rest": "appliance.rest.server",
    "snmp": "appliance.snmp.agent",
    "ledger": "appliance.ledger.server",
}


def available_roles() -> list[str]:
    found = []
    for role, module in ROLES.items():
        try:
            if importlib.util.find_spec(module) is not None:
                found.append(role)
        except ModuleNotFoundError:
            continue
    return found


def setup_logging(cfg: Config, role: str, index: int = 0) -> None:
    level = getattr(logging, cfg.log_level.upper(), logging.INFO)
    if cfg.log_format == "json":
        from .json_log import JsonFormatter
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter(role, index))
        logging.basicConfig(level=level, handlers=[handler])
        return
    logging.basicConfig(level=level, stream=sys.stderr,
                        format=f"%(asctime)s {role}[%(process)d] %(levelname)s %(name)s: %(message)s")


def run_role(cfg: Config, role: str, index: int = 0) -> int:
    if role not in ROLES:
        raise SystemExit(f"appliance: unknown role {role!r} (known: {', '.join(ROLES)})")
    setup_logging(cfg, role, index)
    # A stop that arrives while the role is still starting (imports, MIB compilation on a loaded
    # machine) is a clean exit: nothing is served yet.  run_async replaces this with the graceful stop.
    signal.signal(signal.SIGTERM, _stopped_while_starting)
    from .telemetry import metrics
    metrics.open_process_counters(cfg.path(cfg.run_dir), f"{role}{index}")
    module = importlib.import_module(ROLES[role])
    return int(module.main(cfg, index) or 0)


def _stopped_while_starting(signum: int, frame: object) -> None:
    raise SystemExit(0)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (about 2.5x for UDP here), else the default loop."""
    try:
        import uvloop
        return uvloop.new_event_loop()
    except ImportError:
        return asyncio.new_event_loop()


# Cyclic GC of a long-running worker: gen-0 collection every 10,000 container allocations instead of
# 700 (a CCR allocates ~50), older generations as CPython's defaults.  Measured on the Ro worker at
# ~2,500 CCR-U/s: together with the freeze below, ~20 % less CPU per CCR-U and half the p99.
GC_THRESHOLDS = (10_000, 10, 10)


def tune_gc() -> None:
    """Move everything alive now (modules, dictionaries, config) out of the collector's generations
    (``gc.freeze``) and collect young objects less often: collections under load then walk only
    what requests create.  Cycles are still collected."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run_async(serve: Callable[[asyncio.Event], Awaitable[None]]) -> int:
    """Run ``serve(stop)`` until it returns; SIGTERM/SIGINT set ``stop`` for a graceful end.

    A worker process: the cyclic GC is tuned first (:func:`tune_gc`)."""
    tune_gc()
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(serve(stop))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    return 0
