"""Optional shipping of transaction records to an HTTP endpoint (e.g. a Logstash ``http`` input).

Off unless ``logs.ship_url`` is set.  Records are queued in memory (bounded:
``ship_queue``; when full the oldest are dropped and counted), posted by one
background thread as a JSON array of up to ``ship_batch`` records, at the
latest ``ship_interval_ms`` after the first waits.  A failed POST (connection
error, timeout, non-2xx) is retried with exponential backoff up to
``ship_retries`` attempts, then the batch is dropped and counted.  The files
stay the record of truth; shipping is best effort and never blocks a worker.
"""
from __future__ import annotations

import collections
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from ..telemetry import metrics

log = logging.getLogger("appliance.logs.shipping")

Post = Callable[[bytes], None]


def http_post(url: str, timeout: float = 5.0) -> Post:
    def post(body: bytes) -> None:
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            if not 200 <= resp.status < 300:
                raise urllib.error.HTTPError(url, resp.status, "not 2xx", resp.headers, None)
    return post


class Shipper:
    def __init__(self, url: str, batch: int, interval: float, queue: int, retries: int,
                 post: Post | None = None, backoff: float = 0.5) -> None:
        self.batch, self.interval, self.retries, self.backoff = batch, interval, retries, backoff
        self._post = post or http_post(url)
        self._queue: collections.deque[Mapping[str, Any]] = collections.deque()
        self._max = queue
        self._cond = threading.Condition()
        self._closing = False
        self.sent = self.dropped = self.failed_posts = 0
        self._thread = threading.Thread(target=self._run, name="translog-ship", daemon=True)
        self._thread.start()

    def offer(self, record: Mapping[str, Any]) -> None:
        with self._cond:
            if len(self._queue) >= self._max:
                self._queue.popleft()
                self.dropped += 1
                metrics.inc("logs.ship.dropped")
            self._queue.append(record)
            if len(self._queue) >= self.batch:
                self._cond.notify()

    def _take(self) -> list[Mapping[str, Any]]:
        with self._cond:
            deadline = time.monotonic() + self.interval
            while len(self._queue) < self.batch and not self._closing:
                left = deadline - time.monotonic()
                if left <= 0 and self._queue:
                    break
                self._cond.wait(left if left > 0 else self.interval)
                if not self._queue:
                    deadline = time.monotonic() + self.interval
            n = min(self.batch, len(self._queue))
            return [self._queue.popleft() for _ in range(n)]

    def _send(self, records: list[Mapping[str, Any]]) -> None:
        body = json.dumps(records, separators=(",", ":"), default=str).encode()
        for attempt in range(self.retries):
            try:
                self._post(body)
                self.sent += len(records)
                metrics.inc("logs.ship.sent", len(records))
                return
            except Exception as exc:  # any transport failure is retried, then counted
                self.failed_posts += 1
                metrics.inc("logs.ship.failed_posts")
                log.warning("shipping %d records failed (attempt %d/%d): %s", len(records), attempt + 1,
                            self.retries, exc)
                if attempt + 1 == self.retries:
                    break
                time.sleep(self.backoff * (2 ** attempt))
        self.dropped += len(records)
        metrics.inc("logs.ship.dropped", len(records))

    def _run(self) -> None:
        while True:
            records = self._take()
            if records:
                self._send(records)
            elif self._closing:
                return

    def close(self, timeout: float = 5.0) -> None:
        """Post what is queued (with retries) and stop; gives up after ``timeout`` seconds (at exit)."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)
