"""RADIUS test harness: workers run in threads of the test process on free loopback ports.

With the embedded default (``processes.ledger: 1``) accounting is charged by the ledger role: the
first worker started starts one beside it in this process (:class:`tests.ledger_role.LedgerThread`)
unless one already listens on the configuration's socket, and stops it when it closes."""
from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading

import pytest

from appliance.config import RadiusClient
from tests.conftest import free_port

SECRET = "testing123"


class RunningServer:
    def __init__(self, cfg, index: int = 0) -> None:
        self.cfg, self.index = cfg, index
        self.loop = None
        self.stop = None
        self.server = None
        self.error = None
        self.ledger = None
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from appliance.radius.worker import serve
        from appliance.runtime import new_event_loop
        self.loop = new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.stop = asyncio.Event()

        def ready(server):
            self.server = server
            self._ready.set()
        try:
            self.loop.run_until_complete(serve(self.cfg, self.index, self.stop, ready))
        except BaseException as exc:  # noqa: BLE001 - surfaced by start()
            self.error = exc
            self._ready.set()
        finally:
            self.loop.close()

    def start(self) -> RunningServer:
        from tests.ledger_role import start_thread_if_wanted
        self.ledger = start_thread_if_wanted(self.cfg)
        self.thread.start()
        assert self._ready.wait(30), "radius worker did not start"
        if self.error:
            self.close()
            raise self.error
        return self

    def close(self) -> None:
        if self.loop is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stop.set)
            self.thread.join(30)
        if self.ledger is not None:
            self.ledger.close()
            self.ledger = None


def radius_cfg(cfg, **radius):
    auth, acct = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    base = {"address": "127.0.0.1", "auth_port": auth, "acct_port": acct,
            "clients": (RadiusClient("127.0.0.1", SECRET, name="lo"), RadiusClient("::1", SECRET, name="lo6")),
            "clients_refresh": 1, "coa_timeout": 0.3, "coa_retries": 2}
    base.update(radius)
    return dataclasses.replace(cfg, radius=dataclasses.replace(cfg.radius, **base))


@pytest.fixture
def rcfg(cfg):
    return radius_cfg(cfg)


@pytest.fixture
def radius(rcfg, store):
    """One worker; ``store`` (the test's own handle) seeds subscribers in the same database."""
    srv = RunningServer(rcfg).start()
    yield srv
    srv.close()
