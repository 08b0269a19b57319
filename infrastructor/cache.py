"""Django's Redis cache with one connection pool per process instead of one per thread.

Django keeps a cache object per thread, and its Redis client owns the connection pool. Under daphne
every request runs in a thread of its own, so each request built a new pool and opened a new TCP
connection to Redis just for the rate limiter's two commands (bench/api.py). Here the clients are
shared by every thread of the process, keyed by server list and options; redis-py's pool is
thread-safe and opens a fresh pool in a forked child on its own.
"""

from __future__ import annotations

import re
import threading
from typing import Any, ClassVar

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property


class SharedPoolRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache`, its client shared across threads."""

    _clients: ClassVar[dict[str, RedisCacheClient]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._shared_servers = re.split("[;,]", server) if isinstance(server, str) else server
        self._shared_options: dict[str, Any] = params.get("OPTIONS", {})

    @cached_property
    def _cache(self) -> RedisCacheClient:
        key = repr((list(self._shared_servers), sorted(self._shared_options.items())))
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = RedisCacheClient(self._shared_servers, **self._shared_options)
                self._clients[key] = client
            return client

    @classmethod
    def shared_clients(cls) -> dict[str, Any]:
        """The process's clients by key (for tests and diagnostics)."""
        return dict(cls._clients)
