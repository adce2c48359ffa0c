"""TMF630 Part 2 / TMF688 notification hub: ``POST {api}/hub`` registers a listener, ``DELETE`` removes it.

Listeners are store documents (``rest_hub``) so they survive restarts.  Every create, change
and delete of a resource of that API is POSTed to each listener as
``{"eventId", "eventTime", "eventType", "event": {"<resource>": {...}}}``.
``query`` may restrict the events: ``eventType=ProductCreateEvent,ProductDeleteEvent``.

Delivery is durable and ordered per listener (an outbox in the store, not in memory):

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
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from .. import metrics
from ..ocs.ports import Ledger, Store
from .http import ApiError, check_fields, dumps, get_str, iso, need_object, need_str, read_json, reply
from .routes import HUB, STORE, STR, Route, obj

log = logging.getLogger("appliance.rest.hub")
HUB_DOC = "rest_hub"
QUEUE_DOC = "rest_hub_queue"      # per listener: head/next sequence numbers, lease, attempts
EVENT_DOC = "rest_hub_event"      # key "<hub id>/<seq>": one pending event


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff for failed deliveries: base × 2^(attempt-1) seconds, at most ``cap``; an event
    older than ``max_age`` seconds is given up.  ``lease``: how long a claim keeps other
    processes away from a queue."""
    base: float = 1.0
    cap: float = 60.0
    max_age: float = 3600.0
    lease: float = 30.0

    def delay(self, attempts: int) -> float:
        return float(min(self.cap, self.base * 2 ** min(attempts - 1, 62)))


def lease_for(timeout: float) -> float:
    """The claim lease for a POST timeout: long enough that a live sender is never overtaken."""
    return max(30.0, 4 * timeout)


@dataclass(frozen=True, slots=True)
class Pending:
    """The head event of a listener's queue, claimed by this process."""
    hub_id: str
    seq: int
    callback: str
    event: dict[str, Any]


def event_key(hub_id: str, seq: int) -> str:
    return f"{hub_id}/{seq:012d}"


# --- the queue as store documents: functions of a ledger and ``now`` (no I/O of their own)

def enqueue(ledger: Ledger, hub_id: str, event: dict[str, Any], now: float, backlog: int) -> int:
    """Append ``event`` to the listener's queue; returns how many old events were dropped."""
    if ledger.get_doc(HUB_DOC, hub_id) is None:          # deleted meanwhile (by any process)
        return 0
    queue = ledger.get_doc(QUEUE_DOC, hub_id) or {"head": 0, "next": 0}
    seq = int(queue["next"])
    ledger.put_doc(EVENT_DOC, event_key(hub_id, seq), {"at": now, "event": event})
    queue["next"] = seq + 1
    dropped = 0
    while queue["next"] - queue["head"] > backlog:
        ledger.delete_doc(EVENT_DOC, event_key(hub_id, int(queue["head"])))
        queue = _advance(queue)
        dropped += 1
    ledger.put_doc(QUEUE_DOC, hub_id, queue)
    return dropped


def _advance(queue: dict[str, Any]) -> dict[str, Any]:
    """The queue with its head event gone: the next event starts with a fresh attempt count."""
    rest = {k: v for k, v in queue.items() if k not in ("attempts", "retry_at")}
    return {**rest, "head": int(queue["head"]) + 1}


def _may_send(queue: dict[str, Any], worker: str, now: float, policy: RetryPolicy) -> bool:
    """Neither another process's unexpired claim nor a backoff holds the queue."""
    claimed = queue.get("claimed_by")
    if claimed and claimed != worker and now - float(queue.get("claimed_at", 0)) < policy.lease:
        return False
    return now >= float(queue.get("retry_at", 0))


def _released(queue: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in queue.items() if k not in ("claimed_by", "claimed_at")}


def claim(ledger: Ledger, hub_id: str, worker: str, now: float,
          policy: RetryPolicy) -> tuple[Pending | None, int]:
    """Claim the listener's queue and return its head event (None: empty, waiting for its backoff,
    or held by another process), and how many events expired on the way."""
    listener = ledger.get_doc(HUB_DOC, hub_id)           # locks in the order enqueue takes them
    queue = ledger.get_doc(QUEUE_DOC, hub_id) if listener is not None else None
    if queue is None or listener is None:
        return None, 0
    if not _may_send(queue, worker, now, policy):
        return None, 0
    expired = 0
    while int(queue["head"]) < int(queue["next"]):
        key = event_key(hub_id, int(queue["head"]))
        doc = ledger.get_doc(EVENT_DOC, key)
        if doc is not None and now - float(doc["at"]) <= policy.max_age:
            ledger.put_doc(QUEUE_DOC, hub_id, {**queue, "claimed_by": worker, "claimed_at": now})
            return Pending(hub_id, int(queue["head"]), listener["callback"], doc["event"]), expired
        if doc is not None:
            ledger.delete_doc(EVENT_DOC, key)
            expired += 1
        queue = _advance(queue)
    ledger.put_doc(QUEUE_DOC, hub_id, _released(queue))
    return None, expired


def delivered(ledger: Ledger, pending: Pending, worker: str) -> bool:
    """The listener took the event: remove it and keep the claim for the next one."""
    queue = ledger.get_doc(QUEUE_DOC, pending.hub_id)
    ledger.delete_doc(EVENT_DOC, event_key(pending.hub_id, pending.seq))
    if queue is None or int(queue["head"]) != pending.seq:
        return False                                     # deleted, or dropped from a full backlog
    ledger.put_doc(QUEUE_DOC, pending.hub_id, _advance(queue))
    return queue.get("claimed_by") == worker


def failed(ledger: Ledger, pending: Pending, now: float, policy: RetryPolicy) -> float | None:
    """The attempt failed: release the claim and schedule the next one; returns the delay (None
    when the event is no longer the head of the queue)."""
    queue = ledger.get_doc(QUEUE_DOC, pending.hub_id)
    if queue is None or int(queue["head"]) != pending.seq:
        return None
    attempts = int(queue.get("attempts", 0)) + 1
    delay = policy.delay(attempts)
    ledger.put_doc(QUEUE_DOC, pending.hub_id, {**_released(queue), "attempts": attempts, "retry_at": now + delay})
    return delay


def release(ledger: Ledger, worker: str) -> None:
    """Give up this process's claims (a clean stop): another process may send at once."""
    for hub_id, seen in ledger.list_docs(QUEUE_DOC):
        if seen.get("claimed_by") != worker:
            continue
        queue = ledger.get_doc(QUEUE_DOC, hub_id)         # locked: a deleted listener stays deleted
        if queue is not None and queue.get("claimed_by") == worker:
            ledger.put_doc(QUEUE_DOC, hub_id, _released(queue))


def ready(ledger: Ledger, worker: str, now: float, policy: RetryPolicy) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The listeners, and those whose queue has an event this process may send now."""
    listeners = dict(ledger.list_docs(HUB_DOC))
    due = []
    for hub_id, queue in ledger.list_docs(QUEUE_DOC):
        if hub_id not in listeners or int(queue["head"]) >= int(queue["next"]):
            continue
        if _may_send(queue, worker, now, policy):
            due.append(hub_id)
    return listeners, due


def drop_listener(ledger: Ledger, api: str, hub_id: str) -> int | None:
    """Remove a listener with its queue; None if unknown, else the number of events dropped."""
    doc = ledger.get_doc(HUB_DOC, hub_id)
    if not doc or doc.get("api") != api:
        return None
    ledger.delete_doc(HUB_DOC, hub_id)
    ledger.delete_doc(QUEUE_DOC, hub_id)
    dropped = 0
    for key, _ in ledger.list_docs(EVENT_DOC, f"{hub_id}/"):
        dropped += ledger.delete_doc(EVENT_DOC, key)
    return dropped


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


def _wanted(query: str, event_type: str) -> bool:
    if not query:
        return True
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key.strip() == "eventType" and event_type not in [v.strip() for v in value.split(",")]:
            return False
    return True


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
