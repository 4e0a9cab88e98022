"""Rate budgets shared by every worker through PostgreSQL: Autotask's per-endpoint thread threshold and its
hourly request budget, for the whole tenant rather than per process.

Autotask counts concurrent requests per object endpoint (3) and requests per rolling hour (10,000) for the
tenant: four workers with three in-process slots each would send twelve at once and be refused. The clients
take a limiter and a request budget as hooks (``limiter=``, ``hourly_budget=``, see ``_http._limits``);
these are the PostgreSQL ones:

* :class:`PostgresLimiter` keeps N slot rows per key in ``bm_request_slots``; a request in flight holds one
  (its token, its connection's backend, and a lease: ``busy_until``, the server's clock plus the client's
  whole timeout and a second's grace, or less once the process has seen the key's holds: :mod:`._hold_spans`).
  Why rows with a lease rather than advisory locks, which this was: a lock is freed the moment PostgreSQL
  sees its connection drop, but a killed worker's request may still be being served by Autotask, so another
  worker could send a fourth. A dead holder's slot is taken again only once its lease has run out; that is
  all a crash costs (one slot, for a few times the key's longest recent hold, at most a timeout after
  it was taken). A live holder keeps its slot past the lease (its
  backend is still there: a slow request, a stalled process), so the lease only ever stands in for a holder
  that is gone. A release clears the row only if the token is still the hold's, and ``NOTIFY``s; one
  listener per limiter wakes one waiter (see ``_wakeups``), with a short poll as the fallback, and a wait
  is bounded (``max_wait``, then ``BudgetExhaustedError``).
* :class:`PostgresHourlyBudget` (in :mod:`._hourly`) keeps one row per admitted request in a sliding window
  and the window's count in a row of its own, both changed under a transaction-scoped advisory lock, so two
  workers never both take the last slot and a take reads a few rows, not the window (10,000 at Autotask's
  rate).

With a SQLite link store nothing here is used: the clients' in-process limits stay.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import random
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Final

import httpx
import psycopg
from psycopg_pool import PoolTimeout

from .._checks import positive_int
from .._http import DEFAULT_TIMEOUT, resolve_timeout, timeout_bound
from ..errors import BudgetExhaustedError, ValidationError
from ._hold_spans import HoldSpans

# The hourly budget lives in ._hourly; its name and statements are re-exported where callers and tests look.
from ._hourly import _BUDGET_TABLE as _BUDGET_TABLE
from ._hourly import _RECOUNT as _RECOUNT
from ._hourly import _TAKE as _TAKE
from ._hourly import PostgresHourlyBudget as PostgresHourlyBudget
from ._hourly import _run as _run
from ._pool import LazyPool, not_sent
from ._wakeups import Wakeups

__all__ = ["PostgresHourlyBudget", "PostgresLimiter", "request_bound"]

_log = logging.getLogger(__name__)


_SLOTS_TABLE: Final = """
CREATE TABLE IF NOT EXISTS bm_request_slots (
    name          TEXT NOT NULL,
    slot          INTEGER NOT NULL,
    holder        BIGINT,
    pid           INTEGER,
    backend_start TIMESTAMPTZ,
    busy_until    TIMESTAMPTZ,
    role          OID,
    PRIMARY KEY (name, slot)
)"""
#: A table made before holders' roles were kept gets the column in place (a row held then has none, and
#: is judged as before: by its pid and start).
_SLOTS_HAS_ROLE: Final = """
SELECT EXISTS (SELECT 1 FROM pg_attribute
               WHERE attrelid = 'bm_request_slots'::regclass AND attname = 'role' AND NOT attisdropped)"""
_SLOTS_ADD_ROLE: Final = "ALTER TABLE bm_request_slots ADD COLUMN IF NOT EXISTS role OID"
_SLOT_ROWS: Final = """
INSERT INTO bm_request_slots (name, slot) SELECT %(name)s, s FROM generate_series(0, %(slots)s - 1) AS s
ON CONFLICT DO NOTHING"""
#: Take a free slot in one statement, trying them from ``start`` on. A slot is free when nobody holds it, or
#: when its lease has run out *and* its holder's connection is gone (a live holder whose request outlasts the
#: lease keeps it). The holder's backend is the one of its pid, its role (which every role may see) and its
#: start; a backend of that pid and role whose start this role may not see (another role's, without
#: pg_read_all_stats) counts as the holder: it cannot be told from a reused pid. A backend of that pid but
#: of another role is not the holder: its pid was reused (without the role, such a backend hid its start
#: and kept a dead holder's slot taken for as long as it lived). A holder that could not see its own start
#: (its connection runs as a role without its login role's rights) recorded none: any backend of its pid
#: and role counts as it (a NULL start equals none, and it was taken while alive). ``SKIP LOCKED`` passes over
#: a slot another worker is taking or releasing right now, and the row lock is rechecked on the row's newest
#: version, so two takers never get one slot. The stamp is
#: the server's clock (every worker agrees on it) plus the lease; the holder is this hold's token and this
#: connection's backend (pid, role and start, so a reused pid is not taken for the holder).
_TAKE_SLOT: Final = """
UPDATE bm_request_slots AS s
SET holder = %(token)s, pid = pg_backend_pid(),
    backend_start = (SELECT a.backend_start FROM pg_stat_get_activity(pg_backend_pid()) AS a),
    role = (SELECT a.usesysid FROM pg_stat_get_activity(pg_backend_pid()) AS a),
    busy_until = clock_timestamp() + %(lease)s * interval '1 second'
WHERE s.name = %(name)s AND s.slot = (
    SELECT f.slot FROM bm_request_slots AS f
    WHERE f.name = %(name)s AND f.slot < %(slots)s AND CASE
        WHEN f.holder IS NULL THEN true
        WHEN f.busy_until > clock_timestamp() THEN false
        ELSE NOT EXISTS (
            SELECT 1 FROM pg_stat_get_activity(f.pid) AS a
            WHERE (f.role IS NULL OR a.usesysid = f.role)
              AND (a.backend_start = f.backend_start OR a.backend_start IS NULL OR f.backend_start IS NULL))
    END
    ORDER BY (f.slot + %(slots)s - %(start)s) %% %(slots)s
    LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING s.slot"""
#: Free a slot if this hold still has it (a hold whose lease ran out and whose slot was taken again must not
#: free the new holder's), and announce it to the waiters in the same statement.
_RELEASE_SLOT: Final = """
WITH freed AS (
    UPDATE bm_request_slots SET holder = NULL, pid = NULL, backend_start = NULL, busy_until = NULL, role = NULL
    WHERE name = %(name)s AND slot = %(slot)s AND holder = %(token)s
    RETURNING slot)
SELECT pg_notify(%(channel)s, %(name)s) FROM freed"""

#: A waiter tries again at least this often (seconds; jittered down to half): the fallback for a lost
#: notification and the way a lease that runs out (which nothing announces) is found.
_POLL: Final = 0.2
#: Added to the client's timeout in a lease: the moment between the stamp and the request leaving.
_GRACE: Final = 1.0
#: The longest one statement of a limiter may run (seconds; a take or a release runs well under a
#: millisecond). ``max_wait`` bounds the tries between statements, not one statement: a session holding the
#: slots' table (``VACUUM FULL``, a newer worker's ``ALTER TABLE`` queued behind a ``pg_dump``) held every
#: take of every worker for as long as it lasted. Cancelled, a take is rolled back and refused as not sent; a
#: release, retried on another connection once, or left to free at its lease.
_STATEMENT: Final = 10.0


def request_bound(timeout: float | httpx.Timeout) -> float:
    """The longest a request sent with ``timeout`` keeps its client waiting (:func:`~.._http.timeout_bound`);
    a shared limiter refuses an unbounded one. The lease of a slot is this plus a grace."""
    bound = timeout_bound(resolve_timeout(timeout, DEFAULT_TIMEOUT))
    if bound is None:
        raise ValidationError(
            "a shared limiter needs a bounded timeout (every phase a number of seconds), got "
            f"{timeout!r}: an unbounded request could hold its slot for ever after its worker died",
            field="timeout",
            value=timeout,
        )
    return bound


class PostgresLimiter:
    """A sync limiter (``key -> context manager``): at most ``slots`` requests per key in flight across
    every process using the same database and ``namespace``.

    ``timeout`` is the timeout of the clients that send through it (the clients' default when not given):
    a slot of a holder that died stays taken for that long (plus a second's grace) after it was taken,
    because its request may still be being served, or for a few times the longest of the process's recent
    holds of that key once it has seen some (:mod:`._hold_spans`); so a client sending through it with a longer timeout
    (a ``with_options(timeout=...)`` copy shares its limiter) needs a limiter made with that timeout.
    ``max_wait`` bounds a wait for a slot, and one for a pooled connection: then ``BudgetExhaustedError`` (not
    sent) and the job is retried later; a take the database fails, or does not answer within ``max_wait`` or
    :data:`_STATEMENT` (a table held by another session), is refused the same way."""

    def __init__(
        self,
        url: str,
        slots: int,
        *,
        namespace: str = "",
        pool_size: int = 16,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_wait: float = 120.0,
        platform: str = "autotask",
    ) -> None:
        positive_int(slots, "slots")
        positive_int(pool_size, "pool_size")
        if isinstance(max_wait, bool) or not isinstance(max_wait, int | float) or not 0 < max_wait < math.inf:
            raise ValidationError(f"max_wait must be a positive number of seconds, got {max_wait!r}", field="max_wait")
        self.slots = slots
        self.namespace = namespace
        self.lease = request_bound(timeout) + _GRACE
        #: The latest holds' lengths, which shorten the lease a hold is stamped with (``_hold_spans``).
        self.spans = HoldSpans(self.lease, _GRACE)
        self.max_wait = float(max_wait)
        self.platform = platform
        self._size = pool_size
        self._pool = LazyPool(
            url, pool_size, configure=_no_flush_wait, statement_timeout=min(self.max_wait, _STATEMENT)
        )
        #: One channel per namespace (a tenant): a release wakes only the workers of that tenant's limiters.
        self.channel = "bm_slots_" + hashlib.sha256(namespace.encode()).hexdigest()[:32]
        self._wakeups = Wakeups(url, self.channel)
        self._rows: set[str] = set()
        self._schema = False
        self._lock = threading.Lock()

    def __call__(self, key: str, /) -> contextlib.AbstractContextManager[object]:
        return self._hold(f"bm-limit:{self.namespace}:{key}")

    @contextlib.contextmanager
    def _hold(self, name: str) -> Iterator[int]:
        with contextlib.ExitStack() as stack:
            conn: psycopg.Connection[tuple[object, ...]] | None = None
            try:
                # Every pooled connection may be held (requests in flight, waiters for a slot): that wait is
                # bounded like a wait for a slot, not by the pool's own 30 s.
                conn = stack.enter_context(self._pool.get().connection(timeout=self.max_wait))
                slot, token = self._take(conn, name)
            except psycopg.Error as exc:  # no pooled connection (PoolTimeout), or the take's cut mid-statement
                # A take the server committed before the cut frees at its lease.
                raise not_sent(f"no slot of {self.slots} for {name!r}", exc, platform=self.platform, path=name) from exc
            except BaseException:
                # Interrupted mid-take (Ctrl-C in a notebook, a cancelled thread): a take the server committed is
                # held by this connection's backend, which would keep the slot for as long as the pool kept the
                # connection alive (a live holder keeps its slot past the lease). Closed, its backend ends and
                # the slot frees at its lease.
                if conn is not None:
                    conn.close()
                raise
            taken = time.monotonic()
            try:
                yield slot
            finally:
                try:
                    self.spans.record(time.monotonic() - taken, name)
                    self._release(conn, name, slot, token)
                except BaseException:
                    # Interrupted before the release was sent (Ctrl-C, a cancelled thread): the slot's holder
                    # is this connection's live backend, which would keep it for as long as the pool kept the
                    # connection. Closed, the slot frees at its lease; a release that did land is not undone.
                    conn.close()
                    raise

    def _take(self, conn: psycopg.Connection[tuple[object, ...]], name: str) -> tuple[int, int]:
        self._ensure_rows(conn, name)
        token = secrets.randbits(63)
        args = {"slots": self.slots, "name": name, "token": token}
        deadline: float | None = None
        while True:
            listening = self._wakeups.listening  # before heard: then a release after heard is counted
            heard = self._wakeups.heard(name)  # before the try: a release after it is not slept through
            # The lease as of this try, not of the first: the hold that was waited for (a slow one) is
            # recorded before its release wakes this waiter, and must lengthen the lease of the slot taken.
            tried = {**args, "lease": self.spans.lease_now(name), "start": random.randrange(self.slots)}
            row = conn.execute(_TAKE_SLOT, tried).fetchone()
            if row is not None:
                return int(str(row[0])), token
            now = time.monotonic()
            if deadline is None:
                deadline = now + self.max_wait
                if not listening:  # the first miss with nobody listening: listen, try again before sleeping
                    self._wakeups.listen()
                    continue
            if now >= deadline:
                raise BudgetExhaustedError(
                    f"no free slot of {self.slots} for {name!r} within {self.max_wait:g} s (not sent)",
                    platform=self.platform,
                    method="-",
                    path=name,
                )
            self._wakeups.wait(name, heard, min(_POLL * random.uniform(0.5, 1.0), deadline - now))

    def _release(self, conn: psycopg.Connection[tuple[object, ...]], name: str, slot: int, token: int) -> None:
        """Free the slot; when the holding connection broke, on another one. Never raises: the request's own
        outcome matters more, and a slot that could not be freed frees itself when its lease runs out."""
        args = {"name": name, "slot": slot, "token": token, "channel": self.channel}
        try:
            conn.execute(_RELEASE_SLOT, args)
            return
        except psycopg.Error as exc:
            conn.close()  # its backend ends, so the slot counts as a dead holder's from now on
            first = exc
        try:
            with self._pool.get().connection(timeout=5.0) as other:
                other.execute(_RELEASE_SLOT, args)
        except (psycopg.Error, PoolTimeout) as exc:
            _log.warning("slot %s of %r not released (%s; then %s): it frees at its lease", slot, name, first, exc)

    def warm(self, connections: int) -> None:
        """Before the first request: ``connections`` pooled connections (at most the pool's size) open, the
        slots' table there and the wake-up listener listening. A worker's first requests then wait on no
        connect (a server process forked, its caches filled) while other workers' requests hold slots."""
        with contextlib.ExitStack() as held:
            conns = [held.enter_context(self._pool.get().connection()) for _ in range(min(connections, self._size))]
            if conns and not self._schema:
                with conns[0].transaction():
                    self._create_table(conns[0])
                self._schema = True
        if conns:
            self._wakeups.listen()

    @staticmethod
    def _create_table(conn: psycopg.Connection[tuple[object, ...]]) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('bm-slots-schema'))")
        conn.execute(_SLOTS_TABLE)
        row = conn.execute(_SLOTS_HAS_ROLE).fetchone()
        if row is None or not row[0]:  # checked first: ALTER TABLE locks out every take while it runs
            conn.execute(_SLOTS_ADD_ROLE)

    def _ensure_rows(self, conn: psycopg.Connection[tuple[object, ...]], name: str) -> None:
        """The table (created once, under an advisory lock: two ``CREATE TABLE IF NOT EXISTS`` racing can
        both try to create it) and this key's slot rows (``ON CONFLICT DO NOTHING`` races safely)."""
        with self._lock:
            if name in self._rows:
                return
        with conn.transaction():
            if not self._schema:
                self._create_table(conn)
            conn.execute(_SLOT_ROWS, {"name": name, "slots": self.slots})
        with self._lock:
            self._schema = True
            self._rows.add(name)

    def close(self) -> None:
        self._wakeups.close()
        self._pool.close()


def _no_flush_wait(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """A take or a release does not wait for the WAL to reach disk (two commits per request, on the
    critical path). What a server crash could lose is the last moments' takes: the same slots a crash freed
    when the slots were advisory locks, which a crash drops too."""
    conn.execute("SET synchronous_commit = off")
