"""TMF630 Part 2 / TMF688 notification hub: ``POST {api}/hub`` registers a listener, ``DELETE`` removes it.

Listeners are store documents (``rest_hub``) so they survive restarts.  Every create, change
and delete of a resource of that API is POSTed to each listener as
``{"eventId", "eventTime", "eventType", "event": {"<resource>": {...}}}``.  Delivery is
asynchronous through a bounded queue (``rest.hub_queue``; a full queue drops and counts), one
attempt per event with ``rest.hub_timeout`` seconds; failures are counted, never retried forever.
``query`` may restrict the events: ``eventType=ProductCreateEvent,ProductDeleteEvent``.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from .. import metrics
from ..ocs.ports import Store
from .http import ApiError, check_fields, dumps, get_str, iso, need_object, need_str, read_json, reply
from .routes import HUB, STORE, STR, Route, obj

log = logging.getLogger("appliance.rest.hub")
HUB_DOC = "rest_hub"


class Hub:
    def __init__(self, store: Store, queue_size: int = 1000, timeout: float = 5.0) -> None:
        self.store = store
        self.timeout = timeout
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]]] | None = None
        self.queue_size = queue_size
        self.listeners: dict[str, dict[str, Any]] = {}
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        docs = await self.store.atransact(lambda l: l.list_docs(HUB_DOC))
        self.listeners = {k: d for k, d in docs}
        self.queue = asyncio.Queue(self.queue_size)
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        self._task = asyncio.create_task(self._deliver())

    async def stop(self) -> None:
        if self._task is not None:
            if self.queue is not None:
                try:
                    await asyncio.wait_for(self.queue.join(), self.timeout)
                except TimeoutError:
                    pass
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._session is not None:
            await self._session.close()

    def publish(self, api: str, event_type: str, resource_name: str, resource: dict[str, Any]) -> None:
        if self.queue is None:
            return
        event = {"eventId": str(uuid.uuid4()), "eventTime": iso(time.time()), "eventType": event_type,
                 "event": {resource_name: resource}}
        for hub_id, listener in self.listeners.items():
            if listener.get("api") != api or not _wanted(listener.get("query", ""), event_type):
                continue
            try:
                self.queue.put_nowait((listener["callback"], event))
            except asyncio.QueueFull:
                metrics.inc("rest.hub.dropped")
                log.warning("hub %s: queue full, event %s dropped", hub_id, event_type)

    async def _deliver(self) -> None:
        assert self.queue is not None and self._session is not None
        while True:
            callback, event = await self.queue.get()
            try:
                async with self._session.post(callback, data=dumps(event),
                                              headers={"Content-Type": "application/json"}) as resp:
                    await resp.read()
                    if resp.status >= 300:
                        raise RuntimeError(f"listener answered {resp.status}")
                metrics.inc("rest.hub.delivered")
            except Exception as exc:  # a listener's failure never stops delivery to others
                metrics.inc("rest.hub.failed")
                log.warning("hub: delivery of %s to %s failed: %s", event["eventType"], callback, exc)
            finally:
                self.queue.task_done()


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
        request.app[HUB].listeners[hub_id] = doc
        return reply({"id": hub_id, "callback": callback, "query": query}, 201, {"Location": f"{base}/{hub_id}"})

    async def unregister(request: web.Request) -> web.Response:
        hub_id = request.match_info["id"]

        def remove(l: Any) -> bool:
            doc = l.get_doc(HUB_DOC, hub_id)
            return bool(doc and doc.get("api") == api and l.delete_doc(HUB_DOC, hub_id))

        if not await request.app[STORE].atransact(remove):
            raise ApiError(404, f"hub listener {hub_id!r} not found")
        request.app[HUB].listeners.pop(hub_id, None)
        return web.Response(status=204)

    tag = api.split("/")[0]
    return [Route("POST", base, register, "write", "register a notification listener (TMF630)", tag,
                  body=obj({"callback": STR, "query": STR}, ("callback",)),
                  responses={201: "registered", 400: "bad callback"}),
            Route("DELETE", f"{base}/{{id}}", unregister, "write", "remove a notification listener", tag,
                  responses={204: "removed", 404: "unknown listener"})]
