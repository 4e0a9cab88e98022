"""Pause the cyclic garbage collector while a response is parsed and its items are built.

A page of 200 milestones allocates thousands of objects (wire models, common models, their values) and
frees none of them until the caller drops the page. Every 700 allocations CPython walks the young objects
to look for cycles, finds none (the parse makes none: every object is held by the page), and promotes them
all; the promoted ones then make the full collections come round sooner. About a quarter of the common
view's CPU went to those fruitless walks. A parse or a page's conversion is short, synchronous code (no
await inside, so no other task runs in the pause), so the collector is paused for just that span and
nothing it would find is lost: a cycle made meanwhile is collected by the next collection after.

The pause is shared: the collector is switched off by the first span to enter and, if it was running
then, switched back on by the last to leave, even when a span raises. A plain save-and-restore in two
threads at once could leave it off for good (one thread restoring "on" while another, which saw it off,
still disables it); a depth count under a lock cannot.
"""

from __future__ import annotations

import gc
import threading
from types import TracebackType
from typing import Final

__all__ = ["COLLECTOR_PAUSED", "CollectorPause"]


class CollectorPause:
    """A reentrant, thread-safe ``with`` span during which the cyclic collector does not run.

    A class rather than a ``contextmanager`` generator: it is entered once per response, and a generator
    costs a few microseconds more each time, on the GET-one path too."""

    __slots__ = ("_depth", "_lock", "_resume")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._resume = False

    def __enter__(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._depth += 1

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._resume:
                gc.enable()

    @property
    def active(self) -> bool:
        """Whether a span is open now (for tests and diagnostics)."""
        return self._depth > 0


#: The one pause every parse and page conversion shares (one depth count for the whole process).
COLLECTOR_PAUSED: Final = CollectorPause()
