"""Rate budgets shared by every worker through PostgreSQL: Autotask's per-endpoint thread threshold and its
hourly request budget, for the whole tenant rather than per process.

Autotask counts concurrent requests per object endpoint (3) and requests per rolling hour (10,000) for the
tenant: four workers with three in-process slots each would send twelve at once and be refused. The clients
take a limiter and a request budget as hooks (``limiter=``, ``hourly_budget=``, see ``_http._limits``);
these are the PostgreSQL ones:

* :class:`PostgresLimiter` holds one of N session advisory locks per key while a request is in flight. A
  lock lives on its connection, so a worker that is killed frees its slots the moment its connections drop.
* :class:`PostgresHourlyBudget` keeps one row per admitted request in a sliding window, counted under a
  transaction-scoped advisory lock, so two workers never both take the last slot.

With a SQLite link store nothing here is used: the clients' in-process limits stay.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Iterator
from typing import Final

import psycopg
from psycopg_pool import ConnectionPool

__all__ = ["PostgresHourlyBudget", "PostgresLimiter"]

_POLL_START: Final = 0.002
_POLL_MAX: Final = 0.05


class _Pool:
    """A small pool of autocommit connections, opened on first use and shared by one limiter's threads."""

    def __init__(self, url: str, size: int) -> None:
        self._url = url
        self._size = size
        self._pool: ConnectionPool | None = None
        self._lock = threading.Lock()

    def get(self) -> ConnectionPool:
        with self._lock:
            if self._pool is None:
                self._pool = ConnectionPool(
                    self._url, min_size=1, max_size=self._size, kwargs={"autocommit": True}, open=True
                )
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None


#: Take the first free slot of a key, trying them from ``start`` on, in one statement: ``LIMIT 1`` stops the
#: scan at the first lock taken, so at most one slot is held; no row when every slot is.
_TAKE_SLOT: Final = """
SELECT slot FROM (SELECT (s + %(start)s) %% %(slots)s AS slot FROM generate_series(0, %(slots)s - 1) AS s) AS o
WHERE pg_try_advisory_lock(hashtext(%(name)s), slot) LIMIT 1"""


class PostgresLimiter:
    """A sync limiter (``key -> context manager``): at most ``slots`` requests per key in flight across
    every process using the same database and ``namespace``."""

    def __init__(self, url: str, slots: int, *, namespace: str = "", pool_size: int = 16) -> None:
        if isinstance(slots, bool) or not isinstance(slots, int) or slots < 1:
            raise ValueError(f"a limiter needs a positive number of slots, got {slots!r}")
        self.slots = slots
        self.namespace = namespace
        self._pool = _Pool(url, pool_size)

    def __call__(self, key: str, /) -> contextlib.AbstractContextManager[object]:
        return self._hold(f"bm-limit:{self.namespace}:{key}")

    @contextlib.contextmanager
    def _hold(self, name: str) -> Iterator[int]:
        with self._pool.get().connection() as conn:
            slot = self._take(conn, name)
            try:
                yield slot
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s), %s)", (name, slot))

    def _take(self, conn: psycopg.Connection[tuple[object, ...]], name: str) -> int:
        wait = _POLL_START
        args = {"slots": self.slots, "name": name}
        while True:
            # Every slot tried in one round trip (was one per slot), from a random one: no slot is
            # everyone's first try.
            row = conn.execute(_TAKE_SLOT, {**args, "start": random.randrange(self.slots)}).fetchone()
            if row is not None:
                return int(str(row[0]))
            time.sleep(wait * random.uniform(0.5, 1.0))
            wait = min(wait * 2, _POLL_MAX)

    def close(self) -> None:
        self._pool.close()


_BUDGET_TABLE: Final = """
CREATE TABLE IF NOT EXISTS bm_request_budget (
    key TEXT NOT NULL,
    at  DOUBLE PRECISION NOT NULL
)"""
_BUDGET_INDEX: Final = "CREATE INDEX IF NOT EXISTS bm_request_budget_window ON bm_request_budget (key, at)"
#: Admit one request if the window has room: lock the key, forget what left the window, count, insert.
_TAKE: Final = """
SELECT pg_advisory_xact_lock(hashtext(%(key)s));
DELETE FROM bm_request_budget WHERE key = %(key)s AND at <= extract(epoch FROM clock_timestamp()) - %(window)s;
WITH clock AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now),
     window_ AS (SELECT count(*) AS used, min(at) AS oldest FROM bm_request_budget WHERE key = %(key)s),
     taken AS (
         INSERT INTO bm_request_budget (key, at)
         SELECT %(key)s, clock.now FROM clock, window_ WHERE window_.used < %(limit)s
         RETURNING at)
SELECT (SELECT count(*) FROM taken) > 0, window_.oldest, clock.now FROM window_, clock"""


class PostgresHourlyBudget:
    """A request budget (``limit`` and ``acquire()``, what ``hourly_budget=`` takes) shared by every process
    using the same database and ``key``: at most ``limit`` requests per ``window`` seconds."""

    def __init__(self, url: str, limit: int, *, key: str, window: float = 3600.0) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"a budget needs a positive limit, got {limit!r}")
        self.limit = limit
        self.key = f"bm-budget:{key}"
        self.window = window
        self._pool = _Pool(url, 4)
        self._ready = False

    def acquire(self) -> float | None:
        """Take a slot: None when the request may go, else the seconds until the oldest leaves the window.

        One round trip: the statements below are one simple-protocol query, so one implicit transaction
        on the server, and the advisory lock the first takes is held to its end, so two workers never both
        take the last slot. The clock is the server's (every worker agrees on it)."""
        with self._pool.get().connection() as conn:
            if not self._ready:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(hashtext('bm-budget-schema'))")
                    conn.execute(_BUDGET_TABLE)
                    conn.execute(_BUDGET_INDEX)
                self._ready = True
            cur = psycopg.ClientCursor(conn)
            cur.execute(_TAKE, {"key": self.key, "window": self.window, "limit": self.limit})
            while cur.nextset():  # the last statement's row: taken, the oldest admitted, the server's now
                pass
            row = cur.fetchone()
            assert row is not None
            taken, oldest, now = row
            if taken or oldest is None:
                return None
            return max(float(oldest) + self.window - float(now), 0.001)

    def used(self) -> int:
        """Requests admitted in the current window (for reports and tests)."""
        with self._pool.get().connection() as conn:
            row = conn.execute("SELECT to_regclass('bm_request_budget') IS NOT NULL").fetchone()
            if row is None or not row[0]:
                return 0
            clock = conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone()
            now = float(clock[0]) if clock else 0.0
            counted = conn.execute(
                "SELECT count(*) FROM bm_request_budget WHERE key=%s AND at > %s", (self.key, now - self.window)
            ).fetchone()
            return int(counted[0]) if counted else 0

    def close(self) -> None:
        self._pool.close()
