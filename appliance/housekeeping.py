"""Housekeeping role: expire buckets, release stale reservations, forget old request answers.

Other periodic duties register as ``fn(cfg, store, now) -> None``: in :data:`DUTIES` when they
change shared data (run by one node at a time, the leader), in :data:`LOCAL_DUTIES` when they
work on this node's own files (the acct log archive: every node archives its own logs).  Each
runs every pass and its failure is logged, never fatal.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol, cast

from .config import Config, charging_policy
from .ledger.api import LedgerClient, attach, client_for
from .ocs.ports import Store
from .runtime import run_async
from .telemetry import metrics

log = logging.getLogger("appliance.housekeeping")

Duty = Callable[[Config, Store, int], object]
DUTIES: list[Duty] = []
LOCAL_DUTIES: list[Duty] = []

from .logs.archive import archive_acct_logs  # noqa: E402  (the scheduled IPDR archive)

LOCAL_DUTIES.append(archive_acct_logs)


def purge_aka_identities(cfg: Config, store: Store, now: int) -> None:
    """Expired EAP-AKA pseudonyms and fast re-authentication identities (RFC 4187) are deleted, not only ignored."""
    from .eap.aka_vectors import purge_expired
    metrics.inc("ocs.housekeeping.aka_purged", store.transact(lambda l: purge_expired(l, now)))


def expire_idle_gx(cfg: Config, store: Store, now: int) -> None:
    """Gx sessions whose PCEF vanished without CCR-T (no update for housekeeping.gx_idle s)."""
    from .pcrf.engine import expire_idle
    gone = store.transact(lambda l: expire_idle(l, now - cfg.housekeeping.gx_idle))
    metrics.inc("ocs.housekeeping.gx_expired", len(gone))


def reset_usage_periods(cfg: Config, store: Store, now: int) -> None:
    """Usage-monitoring quotas with a period (daily/weekly/monthly): used volume back to zero at
    each period start, once per period, and a Gx push so throttled sessions get their rules back."""
    from .pcrf.tables import reset_periods
    resets, pushes = store.transact(lambda l: reset_periods(l, now))
    metrics.inc("pcrf.usage.resets", resets)
    metrics.inc("pcrf.usage.reset_pushes", pushes)
    if resets:
        log.info("usage-monitoring periods: %d keys reset, %d Gx sessions queued", resets, pushes)


DUTIES.extend((purge_aka_identities, expire_idle_gx, reset_usage_periods))


def _run(duties: list[Duty], cfg: Config, store: Store, now: int) -> None:
    for duty in duties:
        try:
            duty(cfg, store, now)
        except Exception:
            log.exception("housekeeping duty %s failed", getattr(duty, "__name__", duty))


def sweep(cfg: Config, store: Store, now: int, leader: bool = True, ledger: Any = None) -> dict[str, int]:
    """One pass; returns what it did (also counted).  Shared data is swept only by the leader;
    the node-local duties run on every node.  ``ledger``: the ledger client (default: charging in
    this process over ``store``)."""
    _run(LOCAL_DUTIES, cfg, store, now)
    if not leader:
        return {}
    if ledger is None:
        ledger = LedgerClient(store, charging_policy(cfg))
    # Balances change through the ledger (the ledger role when one runs): stale reservations
    # released, expired buckets removed, recurring fees charged, in one ledger operation.
    released, expired, fees, failed = ledger.call_sync("housekeeping", now, 10_000)
    forgotten = store.transact(lambda l: l.forget_requests(now - cfg.charging.event_answer_ttl,
                                                           now - cfg.charging.request_log_ttl))
    metrics.inc("ocs.housekeeping.fees", fees)
    metrics.inc("ocs.housekeeping.fee_failures", len(failed))
    metrics.inc("ocs.housekeeping.released", released)
    metrics.inc("ocs.housekeeping.expired_buckets", expired)
    _run(DUTIES, cfg, store, now)
    if released or expired:
        log.info("released %d stale reservations, removed %d expired buckets", released, expired)
    if failed:
        log.warning("recurring fees not charged for %d products: %s", len(failed), ", ".join(failed[:10]))
    return {"released": released, "expired": expired, "forgotten": forgotten, "fees": fees,
            "fee_failures": len(failed)}


class LeaderStore(Store, Protocol):
    """A store that elects the node sweeping shared data (PostgreSQL advisory lock; SQLite: always)."""

    def try_leader(self, name: str) -> bool: ...


def main(cfg: Config, index: int = 0) -> int:
    from .store import open_store
    store = cast(LeaderStore, attach(open_store(cfg)))   # store/sqlite.py and store/postgres.py both elect
    ledger = client_for(cfg, store)

    async def serve(stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                # One node sweeps shared data at a time (PostgreSQL advisory lock; SQLite: always True);
                # every node archives its own logs.
                leader = await loop.run_in_executor(None, store.try_leader, "housekeeping")
                await loop.run_in_executor(None, sweep, cfg, store, int(time.time()), leader, ledger)
            except Exception:
                log.exception("housekeeping pass failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=cfg.housekeeping.interval)
            except TimeoutError:
                pass
        log.info("housekeeping stopping")

    try:
        return run_async(serve)
    finally:
        store.close()
