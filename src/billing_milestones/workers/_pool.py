"""The small connection pool each shared budget keeps: autocommit connections, opened on first use."""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
from psycopg_pool import ConnectionPool

from ..sync.store import with_keepalives
from ..sync.store._postgres import READ_COMMITTED  # re-exported: every workers' connection runs it first
from ._idle_check import check_idle

__all__ = ["READ_COMMITTED", "LazyPool"]


class LazyPool:
    """A small pool of autocommit connections, opened on first use and shared by one limiter's threads (with
    TCP keepalives, see :func:`~..sync.store.with_keepalives`: a slot take on a dropped network fails within a
    minute instead of outwaiting ``max_wait``), each at READ COMMITTED (:data:`READ_COMMITTED`)."""

    def __init__(
        self, url: str, size: int, configure: Callable[[psycopg.Connection[tuple[object, ...]]], None] | None = None
    ) -> None:
        self._url = with_keepalives(url)
        self._size = size
        self._configure = configure
        self._pool: ConnectionPool | None = None
        self._lock = threading.Lock()

    def _setup(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        conn.execute(READ_COMMITTED)
        if self._configure is not None:
            self._configure(conn)

    def get(self) -> ConnectionPool:
        with self._lock:
            if self._pool is None:
                self._pool = ConnectionPool(
                    self._url,
                    min_size=1,
                    max_size=self._size,
                    kwargs={"autocommit": True},
                    configure=self._setup,
                    check=check_idle,  # a connection the server ended is replaced, not used for a take
                    open=True,
                )
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
