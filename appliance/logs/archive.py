"""Scheduled archive: close the accounting log and write the period's sessions as an IPDR document.

Runs as a housekeeping duty (``fn(cfg, store, now)``, every pass).  Periods are
``logs.acct_log_rotate`` seconds aligned to the epoch (86400: a document per
UTC day).  When ``now`` has passed the end of a period not yet archived, the
duty rotates the acct log (the period's records are then in closed files) and
writes ``ipdr-<start>-<end>.log`` for the sessions that ENDED in
[last archived end, current period start).  Its progress is kept in
``<ipdr_log_dir>/.archive-state`` (written atomically after the document), so
a crash re-runs the period and overwrites the same document name.  The first
run archives everything older than the current period.  Only documents beyond
``ipdr_keep`` are removed (oldest first).
"""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..telemetry import metrics
from .fifo import FifoLog, ReadStats, read_log
from .ipdr import build, list_documents, write_document

if TYPE_CHECKING:
    from ..config import Config
    from ..ocs.ports import Store

log = logging.getLogger("appliance.logs.archive")
STATE = ".archive-state"


def _state_path(cfg: Config) -> Path:
    return cfg.path(cfg.logs.ipdr_log_dir) / STATE


def last_archived(cfg: Config) -> int | None:
    """End (epoch seconds) of the last archived period, None before the first archive."""
    try:
        return int(json.loads(_state_path(cfg).read_text())["end"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _save_state(cfg: Config, end: int) -> None:
    p = _state_path(cfg)
    tmp = p.with_name(STATE + ".tmp")
    tmp.write_text(json.dumps({"end": end}))
    os.replace(tmp, p)


def archive_period(cfg: Config, start: int, end: int, now: float | None = None) -> tuple[Path, int, ReadStats]:
    """Archive sessions that ended in [start, end) (epoch seconds); returns (document, IPDRs, read stats)."""
    lc = cfg.logs
    stats = ReadStats()
    records = read_log(cfg.path(lc.acct_log_dir), "acct", stats, until_us=end * 1_000_000)
    counted = [0]

    def ipdrs() -> Any:
        for r in build(records, cfg.money.currency, start * 1_000_000, end * 1_000_000):
            counted[0] += 1
            yield r
    now_us = int((now if now is not None else time.time()) * 1_000_000)
    doc = write_document(cfg.path(lc.ipdr_log_dir), start * 1_000_000, end * 1_000_000, ipdrs(),
                         cfg.node.host, now_us)
    return doc, counted[0], stats


def archive_acct_logs(cfg: Config, store: Store | None, now: int) -> Path | None:
    """Housekeeping duty: archive the finished periods (see module doc).  ``now``: epoch seconds;
    ``store`` unused (the archive is this node's own files; `appliance logs archive` passes None)."""
    lc = cfg.logs
    period = lc.acct_log_rotate
    boundary = now - now % period
    last = last_archived(cfg)
    if last is not None and boundary <= last:
        return None
    start = last if last is not None else 0
    acct_dir = cfg.path(lc.acct_log_dir)
    fifo = FifoLog(acct_dir, "acct", lc.acct_log_files, lc.acct_log_size)
    try:
        fifo.rotate()
    finally:
        fifo.close()
    doc, count, stats = archive_period(cfg, start, boundary, now)
    _save_state(cfg, boundary)
    metrics.inc("logs.ipdr.documents")
    metrics.inc("logs.ipdr.records", count)
    if stats.skipped:
        metrics.inc("logs.acct.skipped_records", stats.skipped)
        log.warning("archive %s: skipped %d torn or corrupt acct records", doc.name, stats.skipped)
    log.info("archived %d sessions ending before %d into %s", count, boundary, doc)
    docs = list_documents(cfg.path(lc.ipdr_log_dir))
    for old in docs[:max(0, len(docs) - lc.ipdr_keep)]:
        try:
            old.unlink()
        except OSError:
            pass
    return doc
