"""Bounded store of in-flight EAP conversations with a per-conversation lifetime.

Keyed by whatever binds the rounds on the transport: the RADIUS State attribute
(RFC 3579 §2.6.1), the Diameter Session-Id (RFC 4072 §2).  Pure: the caller
passes ``now``.  A full store evicts the conversation closest to its deadline.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


class ConversationStore(Generic[K, T]):
    def __init__(self, capacity: int = 65536, lifetime: float = 30.0) -> None:
        if capacity <= 0 or lifetime <= 0:
            raise ValueError("capacity and lifetime must be positive")
        self.capacity = capacity
        self.lifetime = lifetime
        self._items: OrderedDict[K, tuple[float, T]] = OrderedDict()   # oldest deadline first
        self.evicted = 0
        self.expired = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def put(self, key: K, value: T, now: float) -> None:
        """Insert or refresh; the deadline restarts at ``now + lifetime``."""
        self.expire(now)
        if key in self._items:
            self._items.move_to_end(key)
        elif len(self._items) >= self.capacity:
            self._items.popitem(last=False)
            self.evicted += 1
        self._items[key] = (now + self.lifetime, value)

    def get(self, key: K, now: float) -> T | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= now:
            del self._items[key]
            self.expired += 1
            return None
        return item[1]

    def pop(self, key: K) -> T | None:
        item = self._items.pop(key, None)
        return item[1] if item else None

    def expire(self, now: float, limit: int = 1024) -> int:
        """Drop up to ``limit`` conversations whose deadline passed; returns how many."""
        dropped = 0
        while self._items and dropped < limit:
            key, (deadline, _) = next(iter(self._items.items()))
            if deadline > now:
                break
            del self._items[key]
            dropped += 1
        self.expired += dropped
        return dropped
