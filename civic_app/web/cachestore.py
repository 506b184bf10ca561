"""Where rendered pages are kept: Redis when ``REDIS_URL`` is set, else this process's memory.

Both stores take the same keys (built from the data versions, see :mod:`civic_app.dataversions`),
so a single process without Redis (development, most tests) is exactly as correct as several
machines sharing one Redis: only the sharing differs. Redis errors never fail a request: the
page is rendered as if the cache were empty, and the error is logged once a minute.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
from collections import OrderedDict

log = logging.getLogger(__name__)


class MemoryStore:
    """A bounded, thread-safe LRU with a time-to-live per entry."""

    shared = False

    def __init__(self, max_entries: int = 2000) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str):
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            if hit[0] < time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return hit[1]

    def set(self, key: str, value, ttl: int) -> None:
        with self._lock:
            self._data[key] = (time.monotonic() + ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class RedisStore:
    """Values pickled under ``prefix + key``; every entry expires (old versions' pages too)."""

    shared = True

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.prefix = prefix
        # Short timeouts: a slow Redis must cost a render, not a hung worker.
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._errors = redis.RedisError
        self._last_error = 0.0

    def _failed(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._last_error > 60:
            log.warning("page cache: Redis unavailable (%s); rendering without it", error)
        self._last_error = now

    def get(self, key: str):
        try:
            raw = self.client.get(self.prefix + key)
        except self._errors as error:
            self._failed(error)
            return None
        return pickle.loads(raw) if raw is not None else None  # noqa: S301 - our own values

    def set(self, key: str, value, ttl: int) -> None:
        try:
            self.client.set(self.prefix + key, pickle.dumps(value, protocol=5), ex=max(1, ttl))
        except self._errors as error:
            self._failed(error)

    def clear(self) -> None:
        try:
            for key in self.client.scan_iter(match=self.prefix + "*", count=1000):
                self.client.delete(key)
        except self._errors as error:
            self._failed(error)


class TieredStore:
    """This process's memory in front of Redis. Keys name a data version, so an entry is never
    stale in either tier: memory only saves the Redis round trip for the pages this process
    serves most; Redis shares every render with every other process and machine."""

    shared = True

    def __init__(self, near: MemoryStore, far: RedisStore) -> None:
        self.near, self.far = near, far

    def get(self, key: str):
        hit = self.near.get(key)
        if hit is None:
            hit = self.far.get(key)
            if hit is not None:
                self.near.set(key, hit, NEAR_TTL)
        return hit

    def set(self, key: str, value, ttl: int) -> None:
        self.near.set(key, value, min(ttl, NEAR_TTL))
        self.far.set(key, value, ttl)

    def clear(self) -> None:
        self.near.clear()
        self.far.clear()


NEAR_TTL = 60  # seconds an entry stays in a process's memory (time-bound content, see pagecache)


def make_store(config: dict):
    url = config.get("REDIS_URL")
    if url:
        return TieredStore(MemoryStore(500), RedisStore(url, config.get("CACHE_KEY_PREFIX") or "civic:"))
    return MemoryStore()
