"""A real REST server on a free loopback port, in a background thread with its own event loop.

With the embedded default (``processes.ledger: 1``) its balance changes go to the ledger role: the
server starts one beside it in this process (:class:`tests.ledger_role.LedgerThread`) unless one
already listens on the configuration's socket (a test that starts its own) or ``ledger=False``."""
from __future__ import annotations

import asyncio
import base64
import dataclasses
import threading
import time
from typing import Any

import pytest
import requests

from appliance.config import RestConfig
from appliance.rest.auth import USER_DOC, hash_password

ADMIN = ("admin", "admin-password")
READER = ("reader", "reader-password")


class Server:
    def __init__(self, cfg: Any, store: Any, clock: Any = time.time, ledger: bool | None = None) -> None:
        from appliance.rest.server import build_app, start_site
        from tests.ledger_role import LedgerThread, wanted
        self.ledger = LedgerThread(cfg).start() if (wanted(cfg) if ledger is None else ledger) else None
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.error: BaseException | None = None

        async def boot() -> None:
            self.app = build_app(cfg, store, clock=clock)
            self.runner = await start_site(self.app, cfg, port=0)
            self.port = self.runner.addresses[0][1]

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                self.loop.run_until_complete(boot())
            except BaseException as exc:  # surfaced to the test
                self.error = exc
                self.ready.set()
                return
            self.ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert self.ready.wait(30), "server did not start"
        if self.error:
            if self.ledger is not None:
                self.ledger.close()
            raise self.error
        scheme = "https" if cfg.rest.tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"

    def stop(self) -> None:
        async def down() -> None:
            await self.runner.cleanup()
        asyncio.run_coroutine_threadsafe(down(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        if self.ledger is not None:
            self.ledger.close()


def add_user(store: Any, name: str, password: str, roles: list[str]) -> None:
    doc = {"roles": sorted(roles), "created": int(time.time()),
           "password": hash_password(password, params={"n": 1 << 10, "r": 8, "p": 1})}  # cheap for tests
    store.transact(lambda l: l.put_doc(USER_DOC, name, doc))


@pytest.fixture
def rest_cfg(cfg):
    return dataclasses.replace(cfg, rest=RestConfig(port=0, max_body=65_536, access_log=False))


@pytest.fixture
def server(rest_cfg, store):
    add_user(store, *ADMIN, ["admin"])
    add_user(store, *READER, ["readonly"])
    srv = Server(rest_cfg, store)
    yield srv
    srv.stop()


@pytest.fixture
def api(server):
    s = requests.Session()
    s.auth = ADMIN
    s.base = server.url  # type: ignore[attr-defined]
    yield Client(s, server.url)
    s.close()


class Client:
    def __init__(self, session: requests.Session, url: str) -> None:
        self.s = session
        self.url = url

    def __getattr__(self, method: str) -> Any:
        def call(path: str, **kw: Any) -> requests.Response:
            kw.setdefault("timeout", 30)
            return self.s.request(method.upper(), self.url + path, **kw)
        return call


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
