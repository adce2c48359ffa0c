"""TMF630 Part 2 / TMF688 notification hub: ``POST {api}/hub`` registers a listener, ``DELETE`` removes it.

Listeners are store documents (``rest_hub``) so they survive restarts.  Every create, change
and delete of a resource of that API is POSTed to each listener as
``{"eventId", "eventTime", "eventType", "event": {"<resource>": {...}}}``.
``query`` may restrict the events: ``eventType=ProductCreateEvent,ProductDeleteEvent``.

Delivery is durable and ordered per listener (an outbox in the store, not in memory:
:mod:`appliance.rest.outbox`; the ledger's credit events are queued there too, by
:mod:`appliance.rest.balance_events`):

- ``publish`` appends the event to each matching listener's queue before the answer is sent:
  a ``rest_hub_event`` document ``<hub id>/<seq>`` and the queue head/tail in the listener's
  ``rest_hub_queue`` document.  At most ``rest.hub_backlog`` events wait per listener; the
  oldest is dropped and counted (``rest.hub.dropped``).
- Any REST process delivers the head event of a queue after claiming the queue with a lease
  (``claimed_by``/``claimed_at``, as the Gx push queue in ``pcrf/engine.py``), so one process
  sends it and the next event waits for it.  A 2xx answer deletes it; a connection error,
  timeout (``rest.hub_timeout``) or other status schedules the next attempt after
  ``rest.hub_retry_base`` × 2^(attempt-1) seconds, at most ``rest.hub_retry_cap``; an event
  older than ``rest.hub_retry_max`` seconds is given up (``rest.hub.expired``).
- A process that stops releases its claims; one that dies leaves them to expire (the lease),
  after which another process sends the event again: delivery is at least once, in order.
- ``DELETE`` of a listener removes its queue and events.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from ..ocs.ports import Ledger, Store
from ..telemetry import metrics
from .http import ApiError, check_fields, dumps, get_str, iso, need_object, need_str, read_json, reply
from .outbox import (  # noqa: F401  (the outbox, also named from here)
    EVENT_DOC,
    HUB_DOC,
    QUEUE_DOC,
    Pending,
    RetryPolicy,
    _wanted,
    claim,
    delivered,
    drop_listener,
    enqueue,
    event_key,
    failed,
    lease_for,
    ready,
    release,
)
from .routes import HUB, STORE, STR, Route, obj

log = logging.getLogger("appliance.rest.hub")


class Hub:
    """The listeners of this process and the delivery loop over their store queues."""

    def __init__(self, store: Store, backlog: int = 10_000, timeout: float = 5.0,
                 policy: RetryPolicy | None = None) -> None:
        self.store = store
        self.backlog = backlog
        self.timeout = timeout
        self.policy = policy or RetryPolicy(lease=lease_for(timeout))
        self.poll = min(1.0, self.policy.base)        # how often other processes' events are looked for
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.listeners: dict[str, dict[str, Any]] = {}
        self._wake = asyncio.Event()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._stopping = False
        self._changes = 0                 # local register/unregister: a listing read before is stale
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        docs = await self.store.atransact(lambda l: l.list_docs(HUB_DOC))
        self.listeners = {k: d for k, d in docs}
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        self._task = asyncio.create_task(self._schedule())

    async def stop(self) -> None:
        self._stopping = True             # a flag, not cancel(): wait_for may swallow a cancellation
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        running = list(self._running.values())
        if running:                # senders end after their POST (bounded by the timeout) is recorded
            await asyncio.wait(running, timeout=self.timeout + 10)
            for task in running:   # still stuck: the lease hands their events to another process
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        try:
            await self.store.atransact(lambda l: release(l, self.worker))
        except Exception as exc:                        # the store closing: the lease expires instead
            log.warning("hub: claims not released: %s", exc)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def add(self, hub_id: str, listener: dict[str, Any]) -> None:
        self.listeners[hub_id] = listener
        self._changes += 1

    def remove(self, hub_id: str) -> None:
        self.listeners.pop(hub_id, None)
        self._changes += 1

    async def publish(self, api: str, event_type: str, resource_name: str, resource: dict[str, Any]) -> None:
        """Queue the event for every listener of ``api`` that wants it (one transaction)."""
        targets = [h for h, l in self.listeners.items()
                   if l.get("api") == api and _wanted(l.get("query", ""), event_type)]
        if not targets or self._session is None:
            return
        now = time.time()
        event = {"eventId": str(uuid.uuid4()), "eventTime": iso(now), "eventType": event_type,
                 "event": {resource_name: resource}}

        def append(ledger: Ledger) -> int:
            return sum(enqueue(ledger, hub_id, event, now, self.backlog) for hub_id in targets)

        try:
            dropped = await self.store.atransact(append)
        except Exception:                               # the resource is written: answer, log the loss
            log.exception("hub: %s not queued", event_type)
            metrics.inc("rest.hub.dropped", len(targets))
            return
        if dropped:
            metrics.inc("rest.hub.dropped", dropped)
            log.warning("hub: backlog of %d full, %d oldest event(s) dropped", self.backlog, dropped)
        self._wake.set()

    async def _schedule(self) -> None:
        """Start one sender per listener with a due event; look again when woken or every ``poll``."""
        while not self._stopping:
            self._wake.clear()
            try:
                changes = self._changes
                listeners, due = await self.store.atransact(
                    lambda l: ready(l, self.worker, time.time(), self.policy))
                if changes == self._changes:        # listeners other processes registered or removed
                    self.listeners = listeners
                for hub_id in due:
                    if hub_id not in self._running and not self._stopping:
                        self._running[hub_id] = asyncio.create_task(self._send(hub_id))
            except Exception:                           # the store failing must not end delivery
                log.exception("hub: scheduling failed")
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll)
            except TimeoutError:
                pass

    async def _send(self, hub_id: str) -> None:
        """Send the listener's events in order while they are accepted; stop at the first failure."""
        try:
            while not self._stopping:
                pending, expired = await self.store.atransact(
                    lambda l: claim(l, hub_id, self.worker, time.time(), self.policy))
                if expired:
                    metrics.inc("rest.hub.expired", expired)
                    log.warning("hub %s: %d event(s) older than %.0f s given up", hub_id, expired,
                                self.policy.max_age)
                if pending is None:
                    return
                # the transactions below are awaited before the loop binds `pending` again
                if not await self._post(pending):
                    delay = await self.store.atransact(
                        lambda l: failed(l, pending, time.time(), self.policy))  # noqa: B023
                    if delay is not None:
                        metrics.inc("rest.hub.retries")
                        asyncio.get_running_loop().call_later(delay, self._wake.set)
                    return
                metrics.inc("rest.hub.delivered")
                await self.store.atransact(lambda l: delivered(l, pending, self.worker))  # noqa: B023
        except Exception:
            log.exception("hub %s: delivery stopped", hub_id)
        finally:
            self._running.pop(hub_id, None)

    async def _post(self, pending: Pending) -> bool:
        assert self._session is not None
        try:
            async with self._session.post(pending.callback, data=dumps(pending.event),
                                          headers={"Content-Type": "application/json"}) as resp:
                await resp.read()
                if 200 <= resp.status < 300:
                    return True
                reason = f"listener answered {resp.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
        metrics.inc("rest.hub.failed")
        log.warning("hub %s: delivery of %s to %s failed: %s", pending.hub_id, pending.event["eventType"],
                    urlsplit(pending.callback).netloc, reason)
        return False


def hub_routes(api: str) -> list[Route]:
    base = f"/tmf-api/{api}/hub"

    async def register(request: web.Request) -> web.Response:
        body = need_object(await read_json(request), "hub")
        check_fields(body, ("callback", "query"), "hub", required=("callback",))
        callback = need_str(body, "callback", "hub", 2048)
        parts = urlsplit(callback)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ApiError(400, "hub.callback must be an http(s) URL")
        query = get_str(body, "query", "hub", max_len=1024) or ""
        hub_id = str(uuid.uuid4())
        doc = {"api": api, "callback": callback, "query": query}
        await request.app[STORE].atransact(lambda l: l.put_doc(HUB_DOC, hub_id, doc))
        request.app[HUB].add(hub_id, doc)
        return reply({"id": hub_id, "callback": callback, "query": query}, 201, {"Location": f"{base}/{hub_id}"})

    async def unregister(request: web.Request) -> web.Response:
        hub_id = request.match_info["id"]

        dropped = await request.app[STORE].atransact(lambda l: drop_listener(l, api, hub_id))
        if dropped is None:
            raise ApiError(404, f"hub listener {hub_id!r} not found")
        if dropped:
            metrics.inc("rest.hub.dropped", dropped)
        request.app[HUB].remove(hub_id)
        return web.Response(status=204)

    tag = api.split("/")[0]
    return [Route("POST", base, register, "write", "register a notification listener (TMF630)", tag,
                  body=obj({"callback": STR, "query": STR}, ("callback",)),
                  responses={201: "registered", 400: "bad callback"}),
            Route("DELETE", f"{base}/{{id}}", unregister, "write", "remove a notification listener", tag,
                  responses={204: "removed", 404: "unknown listener"})]
