"""Events a worker reports for the SNMP agent to turn into notifications.

A worker calls :func:`unknown_client` when a RADIUS request comes from an address
that is not a client, or a Diameter peer that is neither configured nor in an
accepted realm sends a CER.  The event is appended as one JSON line to the
worker's own file ``<run_dir>/snmp/events-<pid>.jsonl`` (the run directory is the
one holding the process's counter file); the agent tails those files.  At most one
event per address per :data:`REPEAT` seconds per process is written, and a file is
started again when it passes :data:`MAX_FILE` bytes, so a flood costs nothing.

The ledger's credit events reach the agent the same way: :func:`on_credit_event`, subscribed
after commit in every process that changes balances, writes ``out_of_credit`` and
``credit_restored`` lines (ocsOutOfCredit, ocsCreditRestored).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from . import metrics

REPEAT = 60.0
MAX_FILE = 1 << 20
MAX_REMEMBERED = 10_000

_last: dict[tuple[str, str], float] = {}
_run_dir: Path | None = None


def configure(run_dir: str | os.PathLike[str]) -> None:
    """The run directory of a process without a counter file (a CLI command changing balances)."""
    global _run_dir
    _run_dir = Path(run_dir)


def _events_file() -> Path | None:
    path = metrics.default().path
    if path:
        return Path(path).parent.parent / "snmp" / f"events-{os.getpid()}.jsonl"
    if _run_dir is not None:
        return _run_dir / "snmp" / f"events-{os.getpid()}.jsonl"
    return None


def unknown_client(protocol: str, address: str, identity: str = "", now: float | None = None) -> bool:
    """Report a request from an unknown RADIUS client / Diameter peer; True when written."""
    now = time.time() if now is None else now
    key = (protocol, address)
    if now - _last.get(key, -REPEAT) < REPEAT:
        return False
    if len(_last) >= MAX_REMEMBERED:
        _last.clear()
    _last[key] = now
    return write({"event": "unknown_client", "protocol": protocol, "address": address,
                  "identity": identity[:255], "time": int(now)})


def on_credit_event(event: object) -> None:
    """After commit (so never for a rollback or a retransmission): one line per change of a
    product's credit state."""
    from ..ledger.events import CreditRestored, OutOfCredit
    if isinstance(event, OutOfCredit):
        write({"event": "out_of_credit", "product": event.product_id, "reason": event.reason, "time": event.now})
    elif isinstance(event, CreditRestored):
        write({"event": "credit_restored", "product": event.product_id, "time": event.now})


def subscribe() -> None:
    from ..ledger import events
    events.after_commit(on_credit_event)


def write(event: dict[str, object]) -> bool:
    path = _events_file()
    if path is None:
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if path.stat().st_size > MAX_FILE:
                path.unlink()
        except FileNotFoundError:
            pass
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(event) + "\n")
    except OSError:
        metrics.inc("snmp.events.lost")
        return False
    return True
