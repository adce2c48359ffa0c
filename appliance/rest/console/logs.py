"""The console's Logs screen: query the transaction logs (accounting and authentication), and
export IPDR records to CSV (``export_ipdr``'s code, appliance.logs.export) with progress.

A query reads the live log of the window it names (default the last hour), keeps at most
``MAX_SCAN`` of the newest matching records, and returns the newest ``limit``.  An export runs
in a thread of the REST process that started it; its state lives in files in ``logs.export_dir``
(``console-<id>.json`` beside ``console-<id>.csv``), so any REST worker answers its progress and
serves the file.  One export runs at a time per node (a lock file); the newest
``KEEP_EXPORTS`` are kept.
"""
from __future__ import annotations

import asyncio
import collections
import fcntl
import json
import logging
import os
import re
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from ..http import ApiError, parse_iso, reply
from ..routes import BOOL, CFG, STR, Route, obj

log = logging.getLogger("appliance.rest.console")

MAX_SCAN = 100_000
LIMIT_MAX = 500
WINDOW_MAX = 31 * 86_400
KEEP_EXPORTS = 8
_ID = re.compile(r"^[0-9a-f]{16}$")
# never shown, whatever a record carries (the writer drops them too: appliance.logs.translog)
HIDDEN = frozenset({"password", "user_password", "secret", "shared_secret", "k", "opc", "op", "chap_password",
                    "eap_key", "msk", "emsk"})
FILTERS = ("subscriber", "protocol", "result", "session_id")


def _time(value: Any, name: str) -> int | None:
    """Epoch seconds from epoch seconds (a number or digits) or an ISO 8601 text."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return parse_iso(value, name)


def query(cfg: Any, log_kind: str, since: int, until: int | None, filters: dict[str, str],
          limit: int) -> dict[str, Any]:
    """The newest ``limit`` records of the ``log_kind`` log in [since, until) passing ``filters``."""
    from ...logs.fifo import ReadStats, read_log
    folder = cfg.path(cfg.logs.acct_log_dir if log_kind == "acct" else cfg.logs.auth_log_dir)
    stats = ReadStats()
    newest: collections.deque[dict[str, Any]] = collections.deque(maxlen=MAX_SCAN)
    scanned = 0
    if folder.is_dir():
        for rec in read_log(folder, log_kind, stats, since * 1_000_000, until * 1_000_000 if until else None):
            scanned += 1
            if all(_field_matches(rec, k, v) for k, v in filters.items()):
                newest.append(rec)
    from ..http import money_text
    rows = [{k: v for k, v in r.items() if k not in HIDDEN} for r in list(newest)[-limit:]][::-1]
    for r in rows:
        if isinstance(r.get("charged"), int):
            r["chargedMoney"] = money_text(r["charged"], cfg.money.scale)
    return {"log": log_kind, "since": since, "until": until, "scanned": scanned, "matched": len(newest),
            "records": rows, "skipped": stats.skipped}


def _field_matches(rec: dict[str, Any], key: str, wanted: str) -> bool:
    if key == "subscriber":
        return any(str(rec.get(k)) == wanted for k in ("subscriber", "imsi", "msisdn", "username") if rec.get(k))
    return str(rec.get(key, "")) == wanted


async def get_logs(request: web.Request) -> web.Response:
    q = request.query
    log_kind = q.get("log", "acct")
    if log_kind not in ("acct", "auth"):
        raise ApiError(400, "log must be acct or auth")
    now = int(time.time())
    since = _time(q.get("since"), "since")
    until = _time(q.get("until"), "until")
    since = now - 3600 if since is None else since
    if until is not None and until <= since:
        raise ApiError(400, "until must be after since")
    if (until or now) - since > WINDOW_MAX:
        raise ApiError(400, f"a query covers at most {WINDOW_MAX // 86_400} days")
    try:
        limit = int(q.get("limit", 100))
    except ValueError:
        raise ApiError(400, "limit must be an integer") from None
    if not 1 <= limit <= LIMIT_MAX:
        raise ApiError(400, f"limit must be 1..{LIMIT_MAX}")
    filters = {k: q[k].strip() for k in FILTERS if q.get(k, "").strip()}
    cfg = request.app[CFG]
    return reply(await asyncio.to_thread(query, cfg, log_kind, since, until, filters, limit))


# --- IPDR export -----------------------------------------------------------------------------

def _folder(cfg: Any) -> Path:
    path: Path = cfg.path(cfg.logs.export_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_state(folder: Path, ident: str, state: dict[str, Any]) -> None:
    tmp = folder / f".console-{ident}.json.tmp"
    tmp.write_text(json.dumps(state))
    os.replace(tmp, folder / f"console-{ident}.json")


def _read_state(folder: Path, ident: str) -> dict[str, Any] | None:
    if not _ID.match(ident):
        return None
    try:
        doc = json.loads((folder / f"console-{ident}.json").read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _prune(folder: Path) -> None:
    states = sorted(folder.glob("console-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in states[KEEP_EXPORTS:]:
        for p in (old, old.with_suffix(".csv")):
            try:
                p.unlink()
            except FileNotFoundError:
                pass


def run_export(cfg: Any, folder: Path, ident: str, lock_fd: int, kind: str, live_log: bool,
               since: int | None, until: int | None, state: dict[str, Any]) -> None:
    """The export thread: CSV of ``kind`` records ending in [since, until) (µs), progress in the
    state file every half second."""
    from ...logs import export as ex
    from ...logs.fifo import ReadStats
    from ...logs.framing import ScanStats

    class Progress(ex.Progress):
        def advance(self, n: int) -> None:
            super().advance(n)
            now = time.monotonic()
            if now - last[0] >= 0.5:
                last[0] = now
                _write_state(folder, ident, {**state, "progress": min(99, self.done * 100 // self.total)})

    last = [0.0]
    warnings: list[str] = []
    try:
        stats: Any
        if live_log:
            stats = ReadStats()
            progress = Progress(1, False)
            rows = ex.live(cfg.path(cfg.logs.acct_log_dir), cfg.money.currency, since, until, stats, progress)
        else:
            ipdr = cfg.path(cfg.logs.ipdr_log_dir)
            if not ipdr.is_dir():
                raise ex.ExportError(ex.MISSING, "no IPDR documents yet (logs.ipdr_log_dir is empty)")
            paths = ex.resolve_inputs([str(ipdr)])
            stats = ScanStats()
            progress = Progress(sum(p.stat().st_size for p in paths), False)
            rows = ex.archived(paths, stats, progress, warnings)
        out_path = folder / f"console-{ident}.csv"
        with open(out_path, "w", newline="", encoding="utf-8") as out:
            n = ex.export(out, rows, kind, since, until)
        _write_state(folder, ident, {**state, "state": "done", "progress": 100, "records": n,
                                     "skipped": getattr(stats, "skipped", 0), "warnings": warnings[:20],
                                     "bytes": out_path.stat().st_size, "finished": int(time.time())})
    except ex.ExportError as exc:
        _write_state(folder, ident, {**state, "state": "failed", "error": str(exc), "finished": int(time.time())})
    except Exception as exc:           # a bug: the operator sees it, the log has the traceback
        log.exception("console export %s failed", ident)
        _write_state(folder, ident, {**state, "state": "failed", "error": f"internal error: {type(exc).__name__}",
                                     "finished": int(time.time())})
    finally:
        fcntl.flock(lock_fd, fcntl.LOCK_UN)
        os.close(lock_fd)


async def start_export(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object")
    kind = body.get("type", "wlan")
    if kind not in ("wlan", "voip"):
        raise ApiError(400, "type must be wlan or voip")
    live_log = body.get("live", False)
    if not isinstance(live_log, bool):
        raise ApiError(400, "live must be true or false")
    since, until = _time(body.get("start"), "start"), _time(body.get("end"), "end")
    if since is not None and until is not None and until <= since:
        raise ApiError(400, "end must be after start")
    cfg = request.app[CFG]
    folder = await asyncio.to_thread(_folder, cfg)
    lock_fd = os.open(folder / ".console-export.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock_fd)
        raise ApiError(409, "an export is already running on this node: wait for it") from None
    ident = secrets.token_hex(8)
    state = {"id": ident, "state": "running", "progress": 0, "type": kind, "live": live_log,
             "start": since, "end": until, "started": int(time.time()), "by": _user(request), "pid": os.getpid()}
    try:
        _write_state(folder, ident, state)
        _prune(folder)
    except OSError as exc:
        fcntl.flock(lock_fd, fcntl.LOCK_UN)
        os.close(lock_fd)
        raise ApiError(500, f"cannot write in logs.export_dir: {exc.strerror}") from None
    threading.Thread(target=run_export, name=f"export-{ident}", daemon=True,
                     args=(cfg, folder, ident, lock_fd, kind, live_log,
                           since * 1_000_000 if since is not None else None,
                           until * 1_000_000 if until is not None else None, state)).start()
    return reply(state, 202)


def _user(request: web.Request) -> str:
    from ..routes import PRINCIPAL
    return str(request[PRINCIPAL].user)


async def get_export(request: web.Request) -> web.Response:
    from ...telemetry import metrics
    state = _read_state(_folder(request.app[CFG]), request.match_info["id"])
    if state is None:
        raise ApiError(404, "no such export")
    if state.get("state") == "running" and not metrics.pid_alive(int(state.get("pid") or 0)):
        state = {**state, "state": "failed", "error": "the REST worker running it stopped: start it again"}
    return reply(state)


async def download_export(request: web.Request) -> web.StreamResponse:
    folder = _folder(request.app[CFG])
    ident = request.match_info["id"]
    state = _read_state(folder, ident)
    if state is None or state.get("state") != "done":
        raise ApiError(404, "no finished export with that id")
    return web.FileResponse(folder / f"console-{ident}.csv", headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="ipdr-{state["type"]}-{ident}.csv"'})


def routes() -> list[Route]:
    return [
        Route("GET", "/console/api/logs", get_logs, "read", "transaction log records (newest first, bounded)",
              "console", query=(("log", "acct | auth"), ("since", "epoch seconds or ISO 8601 (default: 1 h ago)"),
                                ("until", "epoch seconds or ISO 8601"), ("limit", f"1..{LIMIT_MAX}"),
                                *((k, "exact value") for k in FILTERS)),
              responses={200: "records", 400: "bad query"}),
        Route("POST", "/console/api/exports", start_export, "read",
              "start an IPDR export to CSV (archived documents, or sessions of the live accounting log)",
              "console", body=obj({"type": STR, "live": BOOL, "start": STR, "end": STR}),
              responses={202: "started", 400: "bad input", 409: "an export is running"}),
        Route("GET", "/console/api/exports/{id}", get_export, "read", "an export's state and progress (percent)",
              "console", responses={200: "state", 404: "unknown"}),
        Route("GET", "/console/api/exports/{id}/csv", download_export, "read", "a finished export's CSV file",
              "console", responses={200: "CSV", 404: "unknown or not finished"}),
    ]
