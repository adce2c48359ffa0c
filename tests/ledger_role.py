"""The ledger role for tests that start front ends: the embedded default (``processes.ledger: 1``)
sends every balance change to it.

- :class:`LedgerThread`: the role's own ``serve`` on an event loop in a thread of the test process,
  for front ends the test runs in process (the REST server, a RADIUS worker): the same socket, the
  same operations, no extra interpreter to start.
- :func:`start_process` / :func:`stop_process`: ``appliance run ledger`` as a process, for tests that
  start their front ends as processes.
"""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any


def socket_of(cfg: Any) -> Path:
    from appliance.ledger.server import socket_path
    return socket_path(cfg)


def listening(cfg: Any) -> bool:
    """Whether a ledger answers on the configuration's socket (a stale file does not)."""
    path = socket_of(cfg)
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2.0)
        try:
            s.connect(str(path))
        except OSError:
            return False
    return True


def wanted(cfg: Any) -> bool:
    """The configuration sends balance changes to a ledger role and none is listening yet."""
    return cfg.processes.ledger > 0 and not listening(cfg)


class LedgerThread:
    """``appliance.ledger.server.serve`` in a thread of the test process, on its own event loop."""

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopping: asyncio.Event | None = None
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="ledger-role")

    def _run(self) -> None:
        from appliance.ledger.server import serve
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.stopping = asyncio.Event()
        try:
            self.loop.run_until_complete(serve(self.cfg, self.stopping, lambda _server: self._ready.set()))
        except BaseException as exc:  # noqa: BLE001 - surfaced by start()
            self.error = exc
            self._ready.set()
        finally:
            self.loop.close()

    def start(self) -> LedgerThread:
        self.thread.start()
        assert self._ready.wait(30), "ledger role did not start"
        if self.error is not None:
            raise self.error
        return self

    def close(self) -> None:
        if self.loop is not None and self.stopping is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stopping.set)
            self.thread.join(30)


def start_thread_if_wanted(cfg: Any) -> LedgerThread | None:
    """A :class:`LedgerThread` when ``cfg`` runs the ledger role and none listens; else None."""
    return LedgerThread(cfg).start() if wanted(cfg) else None


def start_process(config_file: str | Path, cfg: Any, log: str | Path, env: dict[str, str] | None = None,
                  wait: float = 30.0) -> subprocess.Popen[bytes]:
    """``appliance run ledger`` with ``config_file``, returned once its socket listens."""
    environment = dict(os.environ if env is None else env, APPLIANCE_CONFIG=str(config_file))
    with open(log, "a") as fh:
        p = subprocess.Popen([sys.executable, "-m", "appliance", "--config", str(config_file), "run", "ledger"],
                             env=environment, stdout=fh, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and p.poll() is None:
        if listening(cfg):
            return p
        time.sleep(0.02)
    stop_process(p)
    raise AssertionError(f"ledger role did not start: {Path(log).read_text()[-2000:]}")


def stop_process(p: subprocess.Popen[bytes] | None, wait: float = 15.0) -> None:
    if p is None or p.poll() is not None:
        return
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(wait)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(5)
