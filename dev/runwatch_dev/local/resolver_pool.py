"""Resolvers for a threaded server: each request gets a resolver no other thread is using.

A Powertools resolver keeps the current request's state on itself (`app.current_event`, `app.context`,
the route the middlewares read). In Lambda one container serves one request at a time, so one resolver is
right; the local server serves requests on many threads at once, and a shared resolver mixes their state
(`KeyError: '_route'` under concurrent reads). Resolvers are made on demand and reused, so there are never
more than the most requests served at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol


class Resolver(Protocol):
    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]: ...


class ResolverPool:
    def __init__(self, factory: Callable[[], Resolver]) -> None:
        self._factory = factory
        self._idle: list[Resolver] = []
        self._lock = threading.Lock()
        self.created = 0

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        resolver = self._take()
        try:
            return resolver.resolve(event, context)
        finally:
            with self._lock:
                self._idle.append(resolver)

    def _take(self) -> Resolver:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            self.created += 1
        return self._factory()
