"""The hourly request budget every worker shares through PostgreSQL (``hourly_budget=`` of the Autotask clients).

:class:`PostgresHourlyBudget` keeps one row per admitted request in a sliding window and the window's count in
a row of its own, both changed under a transaction-scoped advisory lock, so two workers never both take the
last slot and a take reads a few rows, not the window (10,000 at Autotask's rate).

A take is one call of a PL/pgSQL function, ``bm_budget_take_v1``, which runs the take's statements in turn:
the lock first, then each statement with a snapshot of its own, as the three statements of one
simple-protocol query did before. Why a function: those three were parsed and planned by the server on every
request, and quoted into one text by the client (~0.4 ms of server CPU and ~0.15 ms of the worker's a
request); a function's statements are planned once per connection and the call itself is a prepared
statement, so a take costs about 40 % of that (``benchmarks/hourly_take.py``). The function is created under
the schema lock when it is missing (not replaced at every start); a change to its body takes a new name
(``_v2``), so workers of two versions sharing a database each run their own.
"""

from __future__ import annotations

import contextlib
import math
from typing import Final

import psycopg

from .._checks import positive_int
from ..errors import ValidationError
from ._pool import LazyPool, not_sent

__all__ = ["PostgresHourlyBudget"]

_BUDGET_TABLE: Final = """
CREATE TABLE IF NOT EXISTS bm_request_budget (
    key TEXT NOT NULL,
    at  DOUBLE PRECISION NOT NULL
)"""
_BUDGET_INDEX: Final = "CREATE INDEX IF NOT EXISTS bm_request_budget_window ON bm_request_budget (key, at)"
#: How many of a key's rows are in ``bm_request_budget``: kept with them under the key's lock, so a take
#: reads one row instead of counting the window (up to the limit, 10,000 rows, on every request).
_USED_TABLE: Final = """
CREATE TABLE IF NOT EXISTS bm_request_budget_used (
    key  TEXT PRIMARY KEY,
    used INTEGER NOT NULL
)"""
#: The key's count made from its rows, under its lock (the rows are the truth, the count their cache): at
#: a process's first take (which also brings a window kept by an earlier version in place) and whenever the
#: count is found missing.
_RECOUNT: Final = """
SELECT pg_advisory_xact_lock(hashtext(%(key)s));
INSERT INTO bm_request_budget_used (key, used)
SELECT %(key)s, count(*) FROM bm_request_budget WHERE key = %(key)s
ON CONFLICT (key) DO UPDATE SET used = excluded.used"""
#: Admit one request if the window has room: lock the key, forget what left the window (each row once, so
#: a take deletes one row on average) and take as many off the count, take one if the count has room. What
#: a take reads is the count's row, the rows it forgets and, when refused, the oldest row (the index's
#: first): never the window's other rows. The cutoff is a subquery so that it is read once and bounds the
#: index scan (``at <= clock_timestamp() - ...`` is volatile, so a filter on every row of the key). At READ
#: COMMITTED each statement of a VOLATILE function takes its own snapshot, so the ones after the lock see every
#: take that committed before it was granted; the pool's connections are pinned to it whatever the database's
#: default (:data:`._pool.READ_COMMITTED`), as REPEATABLE READ would refuse such a take instead.
_TAKE_FUNCTION: Final = """
CREATE FUNCTION bm_budget_take_v1(
    take_key text, take_window double precision, take_limit bigint,
    OUT taken boolean, OUT oldest double precision, OUT now double precision, OUT counted boolean)
VOLATILE LANGUAGE plpgsql AS $$
DECLARE
    forgotten integer;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(take_key));
    WITH gone AS (
        DELETE FROM bm_request_budget AS b
        WHERE b.key = take_key AND b.at <= (SELECT extract(epoch FROM clock_timestamp()) - take_window)
        RETURNING 1)
    SELECT count(*) INTO forgotten FROM gone;
    IF forgotten > 0 THEN
        UPDATE bm_request_budget_used AS u SET used = u.used - forgotten WHERE u.key = take_key;
    END IF;
    now := extract(epoch FROM clock_timestamp())::float8;
    UPDATE bm_request_budget_used AS u SET used = u.used + 1 WHERE u.key = take_key AND u.used < take_limit;
    taken := FOUND;
    IF taken THEN
        INSERT INTO bm_request_budget (key, at) VALUES (take_key, now);
    ELSE
        SELECT b.at INTO oldest FROM bm_request_budget AS b WHERE b.key = take_key ORDER BY b.at LIMIT 1;
    END IF;
    counted := EXISTS (SELECT 1 FROM bm_request_budget_used AS u WHERE u.key = take_key);
END
$$"""
#: Whether the budget's own schema has the function (as the link store's ``HAS_PUT_LINKS_FUNCTION``: not along
#: the search_path, where one of that name in a later schema would take every request's budget).
_HAS_TAKE_FUNCTION: Final = (
    "SELECT to_regprocedure(quote_ident(current_schema()) || '.bm_budget_take_v1(text, double precision, bigint)')"
    " IS NOT NULL"
)
#: One take: admitted or not, the oldest row's time when not, the server's clock, whether the count's row exists.
_TAKE: Final = (
    "SELECT taken, oldest, now, counted FROM bm_budget_take_v1(%(key)s, %(window)s::float8, %(limit)s::bigint)"
)

#: When a refused take's unit frees: the row whose leaving brings the count under *this* take's limit. That is
#: the oldest row when every worker has one limit; a worker whose limit is lower than another's on the same
#: key (a config changed and not every worker restarted) finds the count over its limit, and the oldest
#: leaving frees a unit of the higher limit only: asked again then, it was refused again (a paced Kantata
#: call slept a string of short waits, an Autotask job was retried before it could be admitted). Read after
#: the take, outside its lock (a hint, not an admission); only on a refusal, skipping the rows the count is
#: over the limit by (none when the limits agree).
_FREES_AT: Final = """
SELECT (SELECT b.at FROM bm_request_budget AS b WHERE b.key = %(key)s ORDER BY b.at
        OFFSET greatest(u.used - %(limit)s, 0) LIMIT 1),
       extract(epoch FROM clock_timestamp())::float8
FROM bm_request_budget_used AS u WHERE u.key = %(key)s"""

#: Connections one budget keeps at most: an admission is one short round trip, so a few serve many threads.
_BUDGET_POOL: Final = 4
#: The longest a budget's statement may run (seconds; a take runs well under a millisecond, a recount of a
#: full window a few). Why a bound: a take waits on its key's advisory lock, and a session holding it (a
#: transaction stuck open, a server too loaded to grant it) held every thread of every worker asking for the
#: key, for as long as it lasted: jobs hung with their worker's heartbeat beating, never retried. Cancelled,
#: a take is rolled back (not counted) and refused as not sent, and the job is retried later.
_TAKE_TIMEOUT = 10.0


class PostgresHourlyBudget:
    """A request budget (``limit`` and ``acquire()``, what ``hourly_budget=`` takes) shared by every process
    using the same database and ``key``: at most ``limit`` requests per ``window`` seconds. A take the
    database fails (a connection cut, no pooled connection, a statement past :data:`_TAKE_TIMEOUT`) is
    ``BudgetExhaustedError`` naming ``platform``: the request is not sent, and its caller must be able to tell.
    Such a take counted nothing when the server did not commit it (a cut while it waited, a timeout); one cut
    after the server committed it counts a request never sent (the budget admits fewer, never more).

    Workers given different limits for one ``key`` (a config changed, not every worker restarted) share one
    count, and each admits only while that count is under its own limit: together they never pass the
    largest, and one with a smaller limit waits until the count is under its own (its hint says when)."""

    def __init__(self, url: str, limit: int, *, key: str, window: float = 3600.0, platform: str = "autotask") -> None:
        positive_int(limit, "limit")
        if isinstance(window, bool) or not isinstance(window, int | float) or not 0 < window < math.inf:
            raise ValidationError(f"window must be a positive number of seconds, got {window!r}", field="window")
        self.limit = limit
        self.key = f"bm-budget:{key}"
        self.window = window
        self.platform = platform
        self._pool = LazyPool(url, _BUDGET_POOL, statement_timeout=_TAKE_TIMEOUT)
        self._ready = False
        self._args = {"key": self.key, "window": float(self.window), "limit": self.limit}

    def acquire(self) -> float | None:
        """Take a slot: None when the request may go, else the seconds until a unit of this ``limit`` frees
        (the oldest row leaves the window, or the one that brings a count over this limit under it, see
        :data:`_FREES_AT`): more than 0, at most the window.

        One round trip (one call of the take function, see :data:`_TAKE_FUNCTION`): the advisory lock is held
        to the end of its transaction, so two workers never both take the last slot, and the window's count
        is read from its row, not counted. The clock is the server's (every worker agrees on it)."""
        try:
            return self._acquire()
        except psycopg.Error as exc:
            raise not_sent(f"request budget {self.key!r}", exc, platform=self.platform, path=self.key) from exc

    def _acquire(self) -> float | None:
        with self._pool.get().connection() as conn:
            self._ensure_table(conn)
            taken, oldest, now, counted = _take(conn, self._args)
            if not taken and (not counted or oldest is None):
                # refused by a count that is not the rows' (its row dropped, rows deleted by hand): made
                # again from the rows, then taken again
                _run(conn, _RECOUNT, self._args)
                taken, oldest, now, counted = _take(conn, self._args)
            if taken:
                return None
            frees = conn.execute(_FREES_AT, self._args).fetchone()
            if frees is not None and isinstance(frees[0], float) and isinstance(frees[1], float):
                oldest, now = frees
            if not isinstance(oldest, float) or not isinstance(now, float):
                return 0.001  # refused with nothing left in the window (rows deleted by hand): try at once
            return max(oldest + self.window - now, 0.001)

    def warm(self, connections: int) -> None:
        """Before the first request: ``connections`` pooled connections (at most the pool's 4) open and the
        window's table there, as :meth:`PostgresLimiter.warm`."""
        with contextlib.ExitStack() as held:
            conns = [held.enter_context(self._pool.get().connection()) for _ in range(min(connections, _BUDGET_POOL))]
            if conns:
                self._ensure_table(conns[0])

    def _ensure_table(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        if self._ready:
            return
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('bm-budget-schema'))")
            conn.execute(_BUDGET_TABLE)
            conn.execute(_BUDGET_INDEX)
            conn.execute(_USED_TABLE)
            found = conn.execute(_HAS_TAKE_FUNCTION).fetchone()
            if found is None or not found[0]:
                conn.execute(_TAKE_FUNCTION)
        _run(conn, _RECOUNT, self._args)
        self._ready = True

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


def _take(conn: psycopg.Connection[tuple[object, ...]], args: dict[str, object]) -> tuple[object, ...]:
    """One take as a prepared statement (bound on the server: nothing quoted here)."""
    row = conn.execute(_TAKE, args).fetchone()
    return row if row is not None else (False, None, None, False)


def _run(conn: psycopg.Connection[tuple[object, ...]], statements: str, args: dict[str, object]) -> tuple[object, ...]:
    """Several statements as one simple-protocol query (one round trip, one implicit transaction on the
    server, so the advisory lock the first takes is held to its end); the last statement's row."""
    cur = psycopg.ClientCursor(conn)
    cur.execute(statements, args)
    while cur.nextset():
        pass
    row = cur.fetchone() if cur.description is not None else None
    return row if row is not None else ()
