"""Link stores reused across a worker's jobs, rather than a database connection opened for each.

Opening a store costs a new PostgreSQL connection (a server process forked, authentication) and the schema
check under the store's advisory lock, which every opener in every worker takes in turn: per job, that was
tens of milliseconds and a queue of jobs waiting on one lock. A worker keeps the stores its jobs give back
and hands them to the next jobs. A store is kept only while its connection is healthy and idle (no
transaction left open by a failed run), and lent only if the server has not ended it while it waited; a
broken one is closed and the next job opens a new one.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from ..sync.store import LinkStore
from ._idle_check import ended_by_server

__all__ = ["StorePool"]


class StorePool:
    """At most ``keep`` idle stores of one target; ``with pool.store() as store:`` for one job."""

    def __init__(self, target: str | Path, *, keep: int = 8) -> None:
        self.target = target
        self.keep = keep
        self._idle: list[LinkStore] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def store(self) -> Iterator[LinkStore]:
        store = self._take()
        if store is None:
            store = LinkStore(self.target)
        try:
            yield store
        finally:
            self._give_back(store)

    def _take(self) -> LinkStore | None:
        """An idle store whose connection the server has not ended meanwhile (a restart, an
        ``idle_session_timeout``, ``pg_terminate_backend``: seen without a round trip, see ``_idle_check``).
        Lent, such a store failed the job's first query, and the job waited ``retry_wait`` for its retry."""
        while True:
            with self._lock:
                store = self._idle.pop() if self._idle else None
            if store is None:
                return None
            conn = getattr(store.backend, "conn", None)  # PostgreSQL's; a SQLite store is never kept
            if conn is None or not ended_by_server(conn):
                return store
            store.close()

    def _give_back(self, store: LinkStore) -> None:
        if store.reusable():
            with self._lock:
                if len(self._idle) < self.keep:
                    self._idle.append(store)
                    return
        store.close()

    def fill(self, count: int) -> None:
        """Open stores until ``count`` (at most ``keep``) wait idle: a worker does before its first jobs, so
        they do not each open one at once, queueing on the schema lock every opener in every worker takes."""
        while True:
            with self._lock:
                if len(self._idle) >= min(count, self.keep):
                    return
            store = LinkStore(self.target)
            with self._lock:
                self._idle.append(store)

    def idle(self) -> int:
        """Stores waiting for a job (for tests and reports)."""
        with self._lock:
            return len(self._idle)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for store in idle:
            store.close()
