"""A dead worker process's jobs go back to the queue within a fraction of a second, a live one's never.

procrastinate notices a dead worker by its heartbeat: its ``doing`` jobs are requeued once the heartbeat is
``stalled_after`` seconds old (30 s by default), and its pair waits all that time. But when a worker's
*process* ends (SIGKILL, the OOM killer, a crash), its kernel closes its sockets and PostgreSQL ends its
sessions at once. So each worker holds a **session advisory lock** keyed by its procrastinate worker id on a
connection of its own, taken right after it registers and before it fetches its first job, and then lists
itself in ``bm_worker_liveness``. Every worker looks, every :data:`LOOK_EVERY` seconds, for listed workers
whose lock nobody holds (``pg_locks``), and requeues their ``doing`` jobs as the heartbeat path does
(procrastinate's ``retry_job``), then NOTIFYs the queue so a worker fetches them at once (a retry is an
``UPDATE``, which procrastinate's insert trigger does not announce).

Guarantees, and what they rest on:

* **Only listed workers are judged by their lock.** The row is inserted after the lock is granted and
  deleted before it is released, so a worker without a row (an older release, or one whose lock could not be
  taken) is never taken for dead here: the heartbeat judges it, as before. Rows go when their worker stops,
  when judged, or, once procrastinate no longer knows their worker (it prunes stalled ones), when the next
  worker lists itself (no foreign key: see :data:`_SCHEMA`).
* **A live worker whose lock connection lives is never judged dead**: its lock is granted, and the judging
  statement reads ``pg_locks`` after its snapshot, so a lock taken again in the meantime is seen.
* **A server restart or crash recovery judges nobody.** It ends every session, the watchers' included. A
  watcher judges a worker only if, on its own lock connection, it saw that worker's lock held and then saw it
  free for :data:`GRACE` seconds: the two looks ran on one backend, so the server did not restart between
  them. After a restart every watcher starts over and must first see a lock held again; a worker that died
  during the outage is found by its heartbeat.
* **A worker whose lock connection alone ends while it lives** (``pg_terminate_backend``, a reset of that
  one socket) is not judged however long it takes to take its lock again: every connection of a worker
  process (its queue pool, its ``LISTEN`` session, its lock) carries the process's *tag* first in its
  ``application_name`` (:func:`tagged`), its row records the tag, and the judgement requires that no session
  of that tag is left (``pg_stat_activity``): a process's death ends them all, a dropped lock connection
  leaves the others. Judged by the lock alone (as before the tag) is only a worker without one (a conninfo
  the tag could not be added to).
* **A worker whose every session ends while it lives** (its network stayed down, a proxy it connects through
  restarted) finds out on its next look (at most :data:`LOOK_EVERY`), fetches no job until it holds its
  lock again, and takes it again on a new connection, bumping its row's ``epoch``. A watcher judges with the
  epoch it saw, so a lock taken again before the judgement (a free lock must stay free for :data:`GRACE`,
  longer than a look) keeps the worker alive. Only if the lock stayed free longer (about 0.35 s from the
  drop to the lock taken again, connecting included) can a watcher judge it: the judgement deletes the row
  in one statement with the check, so the worker, taking its lock again, finds its row gone, knows its
  running jobs were requeued, fetches nothing more and stops (:class:`WorkerFencedError` once its running
  jobs end; a supervisor starts a new one). Two runs of its pair may then overlap; the pair's lease lets only
  one write (the second gets ``PairBusyError`` and is retried later) and the intents make the retry safe.
  The old run's outcome is not recorded on the queue, where it would undo the requeue
  (:mod:`._liveness_finish`).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import psycopg
from procrastinate import exceptions as pq_errors
from procrastinate import jobs as pq_jobs
from procrastinate import manager as pq_manager

from ..errors import BillingMilestonesError
from ._liveness_finish import finish_if_mine, retry_if_mine
from ._liveness_requeue import requeue
from ._pool import READ_COMMITTED

__all__ = [
    "GRACE",
    "KEY",
    "LOOK_EVERY",
    "Liveness",
    "LivenessJobManager",
    "WorkerFencedError",
    "liveness_schema",
    "requeue",
    "tagged",
]

logger = logging.getLogger("billing_milestones.workers")

#: Seconds between two looks at the other workers' locks (and at this worker's own lock connection).
LOOK_EVERY: Final = 0.2
#: Seconds a listed worker's lock must stay free before it is judged dead: longer than a look, so a worker
#: whose lock connection alone dropped takes its lock again first.
GRACE: Final = 0.3
#: The longest a fetch waits for this worker's lost lock to be taken again before it finds no job (seconds).
FETCH_WAIT: Final = 3.0
#: The advisory locks' first key, in SQL: one per schema (procrastinate numbers its workers per schema, so two
#: deployments sharing a database in two schemas have workers of the same ids); the second is the worker id.
KEY: Final = "(hashtext('billing_milestones.liveness:' || coalesce(current_schema(), '')) & 2147483647)"
#: Worker ids above this do not fit the lock's second key: such a worker is not listed (heartbeat only).
_MAX_ID: Final = 2**31 - 1

#: The table, with no foreign key to ``procrastinate_workers``: one would make a future procrastinate
#: migration that drops or rebuilds that table fail on our dependency. A table made with one (earlier
#: releases: ``ON DELETE CASCADE``) loses it in place, its rows kept; the rows of workers procrastinate pruned
#: are deleted by :data:`_FORGET_ORPHANS` instead of by the cascade.
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS bm_worker_liveness (
    worker_id bigint PRIMARY KEY,
    epoch bigint NOT NULL DEFAULT 0,
    backend_pid integer NOT NULL,
    listed_at timestamptz NOT NULL DEFAULT now(),
    app_name text
);
ALTER TABLE bm_worker_liveness ADD COLUMN IF NOT EXISTS app_name text;
DO $$
DECLARE
    fk name;
BEGIN
    FOR fk IN SELECT conname FROM pg_constraint WHERE conrelid = 'bm_worker_liveness'::regclass AND contype = 'f'
    LOOP
        EXECUTE format('ALTER TABLE bm_worker_liveness DROP CONSTRAINT %I', fk);
    END LOOP;
END
$$"""
#: Rows whose worker procrastinate no longer knows (pruned as stalled, or gone with its table): what the
#: cascade deleted. Run by each worker as it lists itself. A worker's own row is never one: procrastinate
#: commits the worker's row before the worker lists itself, and deletes it only after it unlisted itself.
_FORGET_ORPHANS: Final = """DELETE FROM bm_worker_liveness l
WHERE NOT EXISTS (SELECT 1 FROM procrastinate_workers w WHERE w.id = l.worker_id)"""
#: The tag's prefix (see :func:`tagged`); the tag is this and 16 hex digits.
_TAG_PREFIX: Final = "bm-worker-"
#: A listing: the row, with the tag when the lock connection's ``application_name`` starts with it (the
#: server's own value, so what ``pg_stat_activity`` shows of every session opened with that conninfo).
_LIST: Final = """INSERT INTO bm_worker_liveness (worker_id, backend_pid, app_name)
VALUES (%(id)s, pg_backend_pid(), CASE WHEN %(tag)s::text <> ''
    AND left(current_setting('application_name'), length(%(tag)s::text)) = %(tag)s::text THEN %(tag)s::text END)"""

_HELD: Final = f"""held AS (
    SELECT objid::bigint AS worker_id FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = {KEY}::oid
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
)"""

#: Every listed worker, its epoch, and whether its lock is held: one cheap query a look.
_LOOK: Final = f"""WITH {_HELD}
SELECT l.worker_id, l.epoch, h.worker_id IS NOT NULL AS held
FROM bm_worker_liveness l LEFT JOIN held h USING (worker_id)"""

#: Delete the rows of the candidates still at the epoch seen, whose lock is still free (read after this
#: statement's snapshot) and of whose process no session is left (its tag's), and return those judged, each
#: with its ``doing`` jobs (a row with a null job when none): one statement, so a worker taking its lock
#: again either bumps its epoch first (not judged) or finds its row gone.
_JUDGE: Final = f"""WITH {_HELD},
judged AS (
    DELETE FROM bm_worker_liveness l
    USING unnest(%(ids)s::bigint[], %(epochs)s::bigint[]) AS c(worker_id, epoch)
    WHERE l.worker_id = c.worker_id AND l.epoch = c.epoch AND l.worker_id NOT IN (SELECT worker_id FROM held)
      AND (l.app_name IS NULL OR NOT EXISTS (
          SELECT 1 FROM pg_stat_activity a WHERE left(a.application_name, length(l.app_name)) = l.app_name))
    RETURNING l.worker_id
)
SELECT d.worker_id, j.id, j.queue_name, j.args->>'pair' AS pair, j.attempts
FROM judged d LEFT JOIN procrastinate_jobs j ON j.worker_id = d.worker_id AND j.status = 'doing'"""

#: A judged job, locked, while it is still the run that was judged: ``doing``, with the attempts it had then
#: (``STILL_JUDGED``, which ends a dead worker's job ``failed`` too, in ``_app``); ``REQUEUE`` then sends it
#: back through procrastinate's retry (``procrastinate_retry_job_v2``). procrastinate's function takes any
#: ``doing`` job, whoever runs it, and a ``failed`` one too: two workers judging one stalled job (the
#: heartbeat path lists it to each) had the later one send back the run the earlier one's requeue had started
#: on a third worker, while it ran, or revive it once it had failed. Every way back to the queue counts an
#: attempt and a fetch keeps it, so the same attempts are the same run.
STILL_JUDGED: Final = """WITH judged AS (
    SELECT id FROM procrastinate_jobs WHERE id = %(job_id)s AND status = 'doing' AND attempts = %(attempts)s
    FOR UPDATE)
"""
REQUEUE: Final = STILL_JUDGED + "SELECT procrastinate_retry_job_v2(id, %(retry_at)s, NULL, NULL, NULL) FROM judged"


def liveness_schema() -> str:
    """The table's DDL, run by :meth:`WorkerApp.ensure_schema_async` under the queue's schema lock."""
    return _SCHEMA


def tagged(conninfo: str) -> tuple[str, str]:
    """``conninfo`` with a new tag for this worker process first in its ``application_name`` (any name it
    gave, or ``PGAPPNAME``, kept after it), and the tag; ``(conninfo, "")`` when it cannot be read (the worker
    is then judged by its lock alone). Every connection the process opens with it shows the tag in
    ``pg_stat_activity``, which tells a watcher the process still lives when only its lock connection ended."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    tag = f"{_TAG_PREFIX}{secrets.token_hex(8)}"
    try:
        given = conninfo_to_dict(conninfo).get("application_name") or os.environ.get("PGAPPNAME")
        return make_conninfo(conninfo, application_name=f"{tag} {given}" if given else tag), tag
    except psycopg.Error:
        return conninfo, ""


class WorkerFencedError(BillingMilestonesError, RuntimeError):
    """This worker lost its lock long enough for another to judge it dead and requeue its jobs: it stopped.

    One of our errors, so ``milestones worker`` prints the reason and exits 1 (a problem, for its supervisor
    to start a new worker) instead of a traceback."""


@dataclass
class _Suspect:
    epoch: int
    free_since: float


@dataclass
class Liveness:
    """This process's lock and listing, and its looks at the others'. One per worker process."""

    #: Not in the repr: the link store URL as a conninfo, its password in the clear (``password=...``).
    conninfo: str = field(repr=False)
    #: This process's tag (see :func:`tagged`), "" for none.
    tag: str = ""
    conn: psycopg.AsyncConnection[Any] | None = None
    worker_id: int | None = None
    #: Set while this worker holds its lock (or is not listed at all): :meth:`LivenessJobManager.fetch_job`
    #: waits for it.
    may_fetch: asyncio.Event = field(default_factory=asyncio.Event)
    #: Set once another worker judged this one dead: it fetches nothing more and stops.
    fenced: asyncio.Event = field(default_factory=asyncio.Event)
    #: Workers seen holding their lock on the current lock connection (cleared with it: see the docstring).
    _seen: set[int] = field(default_factory=set)
    _suspects: dict[int, _Suspect] = field(default_factory=dict)
    _mutex: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.may_fetch.set()  # not listed yet: nothing to wait for

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        await conn.execute(READ_COMMITTED)  # a judgement must read a retake's epoch, not fail on it
        if conn.info.server_version >= 140000:  # an idle lock connection must not be ended for idling
            await conn.execute("SET idle_session_timeout = 0")
        return conn

    async def take(self, worker_id: int) -> None:
        """Hold this worker's lock, then list it. On failure the worker runs unlisted (heartbeat only).

        The listing is the last statement: a row committed before a later statement failed was left without
        its lock by a worker that took itself for unlisted, so it never took the lock again nor learnt of its
        judgement. If the lock connection breaks on the listing itself, its commit may have gone unanswered:
        the worker counts itself listed with its lock connection lost, fetches nothing, and its next look
        takes the lock again and finds the row, or stops it (:meth:`_retake`; before its first job)."""
        if worker_id > _MAX_ID:
            return
        async with self._mutex:
            conn: psycopg.AsyncConnection[Any] | None = None
            listing = False
            try:
                conn = await self._connect()
                cur = await conn.execute(f"SELECT pg_try_advisory_lock({KEY}, %s)", (worker_id,))
                row = await cur.fetchone()
                if not (row and row[0]):
                    await conn.close()
                    return
                await conn.execute(_FORGET_ORPHANS)
                listing = True
                await conn.execute(_LIST, {"id": worker_id, "tag": self.tag})
            except psycopg.Error as exc:
                unanswered = listing and conn is not None and conn.closed  # its row may have committed
                if conn is not None:
                    await conn.close()  # and the lock with it
                if unanswered:  # as a lock connection lost while listed: the next look settles it
                    self.worker_id = worker_id
                    self.may_fetch.clear()
                    logger.warning("worker %s lost its liveness lock as it listed itself; taking it again", worker_id)
                    return
                logger.warning("worker %s runs without its liveness lock (%s)", worker_id, type(exc).__name__)
                return
            self.conn, self.worker_id = conn, worker_id
            self._seen.clear()

    async def release(self) -> None:
        """Unlist, then let the lock go (closing its connection does): on a clean stop."""
        async with self._mutex:
            conn, self.conn = self.conn, None
            worker_id, self.worker_id = self.worker_id, None  # the watcher's next look must not take it again
            if conn is None:
                return
            try:
                await conn.execute("DELETE FROM bm_worker_liveness WHERE worker_id = %s", (worker_id,))
            except psycopg.Error:
                pass  # the row goes with procrastinate's worker row, which unregistering deletes
            finally:
                await conn.close()

    async def _retake(self) -> None:
        """The lock connection ended: take the lock again on a new one, and learn whether we were judged."""
        self.may_fetch.clear()
        self._seen.clear()
        self._suspects.clear()
        if self.conn is not None:
            await self.conn.close()
        self.conn = None
        conn = await self._connect()  # the database may be down: the next look tries again
        try:
            cur = await conn.execute(f"SELECT pg_try_advisory_lock({KEY}, %s)", (self.worker_id,))
            row = await cur.fetchone()
            if not (row and row[0]):
                # The old session still holds it (the server has not yet seen its connection end): the lock
                # stays held meanwhile, so nobody judges this worker; try again at the next look.
                await conn.close()
                return
            cur = await conn.execute(
                "UPDATE bm_worker_liveness SET epoch = epoch + 1, backend_pid = pg_backend_pid() "
                "WHERE worker_id = %s RETURNING epoch",
                (self.worker_id,),
            )
            kept = await cur.fetchone()
        except BaseException:
            await conn.close()
            raise
        if kept is None:
            await conn.close()
            self.worker_id = None
            logger.error(
                "this worker lost its liveness lock and another judged it dead (its jobs were requeued); "
                "it takes no more jobs and stops",
                extra={"bm_event": "worker_fenced"},
            )
            self.fenced.set()
            return
        self.conn = conn
        self.may_fetch.set()

    async def look(self, manager: LivenessJobManager) -> int:
        """One look: keep this worker's lock, judge the workers whose lock stayed free; jobs requeued."""
        async with self._mutex:
            if self.worker_id is None or self.fenced.is_set():
                return 0
            if self.conn is None or self.conn.closed:
                await self._retake()
                return 0
            try:
                cur = await self.conn.execute(_LOOK)
                rows = await cur.fetchall()
            except psycopg.OperationalError:
                await self._retake()
                return 0
            now = asyncio.get_running_loop().time()
            candidates: dict[int, int] = {}
            for worker_id, epoch, held in rows:
                if worker_id == self.worker_id:
                    continue
                if held:
                    self._seen.add(worker_id)
                    self._suspects.pop(worker_id, None)
                    continue
                if worker_id not in self._seen:
                    continue  # never seen alive on this connection: the heartbeat judges it
                suspect = self._suspects.get(worker_id)
                if suspect is None or suspect.epoch != epoch:
                    self._suspects[worker_id] = _Suspect(epoch, now)
                elif now - suspect.free_since >= GRACE:
                    candidates[worker_id] = epoch
            listed = {row[0] for row in rows}
            for gone in set(self._suspects) - listed:
                del self._suspects[gone]
            if not candidates:
                return 0
            cur = await self.conn.execute(_JUDGE, {"ids": list(candidates), "epochs": list(candidates.values())})
            judged = await cur.fetchall()
            # Those judged are forgotten; the others stay suspects, judged again at the next look (a process
            # whose other sessions live, until it holds its lock again or they end too).
            for worker_id, *_ in judged:
                self._suspects.pop(worker_id, None)
                self._seen.discard(worker_id)
        jobs = [(job_id, queue, pair, attempts) for _, job_id, queue, pair, attempts in judged if job_id is not None]
        return await requeue(manager, jobs, reason="whose process ended") if jobs else 0


class LivenessJobManager(pq_manager.JobManager):
    """procrastinate's job manager, holding the worker's lock from its registration to its unregistration
    and fetching only while it holds it. procrastinate's ``Worker.run`` registers before its first fetch, so
    no job is ever ``doing`` for a listed worker whose lock was not yet taken."""

    def __init__(self, connector: Any, liveness: Liveness) -> None:
        super().__init__(connector)
        self.liveness = liveness
        self._worker_id: int | None = None

    @property
    def worker_id(self) -> int | None:
        """The id procrastinate registered this worker under, until it unregisters (listed or not: a worker
        whose liveness lock could not be taken runs on its heartbeat alone)."""
        return self._worker_id

    async def register_worker(self) -> int:
        worker_id = await super().register_worker()
        self._worker_id = worker_id
        await self.liveness.take(worker_id)
        return worker_id

    async def finish_job(self, job: pq_jobs.Job, status: pq_jobs.Status, delete_job: bool) -> None:
        """A job's end, recorded only while it is still this worker's (see :mod:`._liveness_finish`)."""
        assert job.id is not None
        worker = job.worker_id or self._worker_id
        await finish_if_mine(self.connector, job.id, worker, job.attempts, status.value, delete_job)

    async def retry_job(
        self,
        job: pq_jobs.Job,
        retry_at: datetime.datetime | None = None,
        priority: int | None = None,
        queue: str | None = None,
        lock: str | None = None,
    ) -> None:
        """A job's retry, recorded only while it is still this worker's (see :mod:`._liveness_finish`)."""
        assert job.id is not None
        when = retry_at or datetime.datetime.now(datetime.UTC)
        worker = job.worker_id or self._worker_id
        await retry_if_mine(self.connector, job.id, worker, job.attempts, when, priority, queue, lock)

    async def requeue_judged_async(self, job_id: int, attempts: int) -> None:
        """Send a judged job back to the queue, due now, if it is still the run judged (:data:`REQUEUE`, with
        the ``attempts`` it had then); else ``ConnectorException``, as procrastinate refuses a job not
        ``doing``."""
        now = datetime.datetime.now(datetime.UTC)
        if not await self.connector.execute_query_all_async(REQUEUE, job_id=job_id, attempts=attempts, retry_at=now):
            raise pq_errors.ConnectorException(f"job {job_id} is no longer the run judged (attempts {attempts})")

    async def fetch_job(self, queues: Iterable[str] | None, worker_id: int) -> Any:
        """A job, once this worker holds its lock; none if it does not within :data:`FETCH_WAIT` (procrastinate
        polls again a second later, and sees a stop asked meanwhile: waited for here, a SIGTERM while the
        database was away went unseen until the supervisor's SIGKILL)."""
        liveness = self.liveness
        give_up = asyncio.get_running_loop().time() + FETCH_WAIT
        while not liveness.may_fetch.is_set():
            if liveness.fenced.is_set() or asyncio.get_running_loop().time() >= give_up:
                return None
            await asyncio.sleep(LOOK_EVERY / 2)
        if liveness.fenced.is_set():
            return None
        return await super().fetch_job(queues, worker_id)

    async def unregister_worker(self, worker_id: int) -> None:
        self._worker_id = None
        await self.liveness.release()
        await super().unregister_worker(worker_id)
