"""Per-endpoint concurrency limits, as a hook a caller can replace.

A request whose :class:`RequestSpec` has a ``limit_key`` (Autotask: one key per object endpoint, because the
vendor's thread threshold counts concurrent requests per endpoint and tenant) is sent while holding
``limiter(key)``. The default limiters below are in-process semaphores of ``ClientCore.max_in_flight`` slots
per key, which is right for one process. Several worker processes sharing one tenant need one budget among
them: pass your own limiter as ``limiter=`` to a client (the workers' ``PostgresLimiter`` holds a leased row
in a slots table; a lock that frees when its holder's connection drops is not enough, since a killed
holder's request may still be being served). The limiter is held only around the attempt's building (where
Autotask's hourly budget is charged, so the charge is made when the request goes, as the server counts it)
and its send, not the retry waits, and is shared by a client's ``with_options`` copies.

A sync limiter is any ``key -> context manager``; an async limiter any ``key -> async context manager``. A
request without a ``limit_key`` never consults the limiter.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Protocol

__all__ = ["AsyncLimiter", "AsyncioLimiter", "SyncLimiter", "ThreadLimiter"]


class SyncLimiter(Protocol):
    """``limiter(key)`` gives a context manager held while one request for ``key`` is in flight."""

    def __call__(self, key: str, /) -> contextlib.AbstractContextManager[object]: ...


class AsyncLimiter(Protocol):
    """``limiter(key)`` gives an async context manager held while one request for ``key`` is in flight."""

    def __call__(self, key: str, /) -> contextlib.AbstractAsyncContextManager[object]: ...


def _check_slots(slots: object) -> int:
    if isinstance(slots, bool) or not isinstance(slots, int) or slots < 1:
        # A programming error in a custom setup, not user input: the clients check max_threads by name first.
        raise ValueError(f"a limiter needs a positive number of slots, got {slots!r}")
    return slots


class ThreadLimiter:
    """The default sync limiter: ``slots`` requests in flight per key across this process's threads."""

    def __init__(self, slots: int) -> None:
        self.slots = _check_slots(slots)
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    def __call__(self, key: str, /) -> threading.BoundedSemaphore:
        with self._lock:
            return self._semaphores.setdefault(key, threading.BoundedSemaphore(self.slots))


class AsyncioLimiter:
    """The default async limiter: ``slots`` requests in flight per key within one event loop."""

    def __init__(self, slots: int) -> None:
        self.slots = _check_slots(slots)
        self._semaphores: dict[str, asyncio.Semaphore] = {}

    def __call__(self, key: str, /) -> asyncio.Semaphore:
        return self._semaphores.setdefault(key, asyncio.Semaphore(self.slots))
