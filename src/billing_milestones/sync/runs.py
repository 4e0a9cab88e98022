"""The run history: every run of a pair that took its lease leaves one row in the link store, and one log record.

A sync that runs on workers nobody watches must say afterwards what it did: who ran it (the lease owner,
``host:pid:run``), when, how many milestones it created, updated, deleted and adopted, how many conflicts it
left, and whether it ended well (else the error). Rows are kept under the pair's identity (its containers
by their configured names), so a crm.com draft estimated anew keeps its history. ``milestones runs`` reads
the rows; the same figures go to the ``billing_milestones.sync`` logger as a structured record
(``extra=``) for a log pipeline to count.
Recording never hides the run's own outcome: a store that cannot take the row is logged, not raised.

A run's row is written when it starts (when it takes the pair's lease, before it lists: :func:`leased_run`;
for an ``apply_plan`` called alone, when it applies), not only when it ends: a run whose worker
is killed, or whose store session ends mid-run (the server restarted, a network cut, ``pg_terminate_backend``),
cannot write its end, and a row written only then was lost with it. An open row has an empty
``finished_at`` and reads as failed (:data:`OPEN_ERROR`) until its end replaces it; the pair's next run,
which holds the lease and so knows no other run of the pair is live, closes every open row it finds
(:data:`LOST_ERROR`). So no run is missing from the history, and none stays open past the pair's next run.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from .._http._redact import scrub
from .actions import ActionKind
from .lease import Lease, new_owner
from .store import RunRecord
from .store._model import now_text
from .store._values import storable

if TYPE_CHECKING:
    from .actions import SyncPlan
    from .apply import ApplyResult
    from .store import LinkStore

__all__ = [
    "ERROR_LIMIT",
    "LOST_ERROR",
    "OPEN_ERROR",
    "RunLog",
    "clipped",
    "leased_run",
    "logger",
    "record_no_writes",
    "recorded_run",
]

# Scrubbed of registered secrets like every logger of the package (``_http._redact.CHILD_LOGGERS``).
logger = logging.getLogger("billing_milestones.sync")

_COUNTED = {
    "created": ActionKind.CREATE,
    "updated": ActionKind.UPDATE,
    "deleted": ActionKind.DELETE,
    "adopted": ActionKind.ADOPT,
}

#: What an open row says until its run ends: it is running, or it ended without writing its end.
OPEN_ERROR: Final = "running, or ended without recording its end (its worker or its link store session was lost)"
#: What the pair's next run writes into an open row of a run that can no longer be running.
LOST_ERROR: Final = (
    "ended without recording its end (its worker or its link store session was lost; its log has the outcome); "
    "closed by the pair's next run"
)

#: The longest error a row (and its log line) keeps. A platform's error text is as long as its body (a
#: Kantata 422 lists a message per refused field, Autotask's ``errors`` one per item): the exception keeps it
#: whole for its catcher; the history, printed by ``milestones runs`` for every run, keeps a summary.
ERROR_LIMIT: Final = 2000


def clipped(text: str, limit: int, note: str = "") -> str:
    """``text`` whole when it has at most ``limit`` characters, else its start and how many more were left
    out (``note`` added to that), ``limit`` characters at most in all: for a platform's error text, which a
    history row or a job's error quotes."""
    if len(text) <= limit:
        return text
    cut = limit - 80  # room for the note, whatever the count's digits
    return f"{text[:cut]}... ({len(text) - cut:,} more characters{note})"


_COLUMNS: Final = "pair_id, worker, started_at, finished_at, created, updated, deleted, adopted, conflicts, ok, error"
_OPEN_VALUES: Final = "VALUES (?, ?, ?, '', 0, 0, 0, 0, 0, 0, ?) RETURNING id"
_CLOSE_LOST: Final = "UPDATE runs SET finished_at=?, ok=0, error=? WHERE pair_id=? AND finished_at=''"
#: PostgreSQL: the pair's open rows closed and this run's opened in one round trip (the statements of one
#: query share a snapshot, so the close does not meet the row it inserts).
_OPEN_PG: Final = f"WITH lost AS ({_CLOSE_LOST}) INSERT INTO runs ({_COLUMNS}) {_OPEN_VALUES}"
_FINISH: Final = (
    "UPDATE runs SET worker=?, finished_at=?, created=?, updated=?, deleted=?, adopted=?, conflicts=?, ok=?, error=? "
    "WHERE id=?"
)


@dataclass
class RunLog:
    """A run being recorded: ``worker`` is set once the lease is taken, ``finish`` once it applied."""

    pair_id: str
    worker: str = field(default_factory=new_owner)
    started_at: str = field(default_factory=now_text)
    counts: dict[str, int] = field(default_factory=dict)
    ok: bool = False
    error: str | None = None
    actions: int = 0
    #: The open row's id once :meth:`begin` wrote it (None: the end is written as a new row).
    row_id: int | None = None
    #: The result being applied (set before the first write): a run that raises counts what it wrote.
    applied: ApplyResult | None = None
    store: LinkStore | None = None
    _clock: float = field(default_factory=time.monotonic)

    def begin(self, worker: str) -> None:
        """The run holds the pair's lease as ``worker``: open its row, closing the pair's rows left open by
        runs that ended without writing their end (none of them can still be running: the lease is ours).
        A row already open (by :func:`leased_run`, when the lease was taken) stays the run's row."""
        self.worker = worker
        store = self.store
        if store is None or self.row_id is not None:
            return
        now = now_text()
        lost = (now, LOST_ERROR, self.pair_id)
        opened = (self.pair_id, worker, self.started_at, OPEN_ERROR)
        try:
            if store.kind == "postgresql":
                (row,) = store.backend.rows(_OPEN_PG, (*lost, *opened))
            else:
                with store.backend.transaction():
                    store.backend.count(_CLOSE_LOST, lost)
                    (row,) = store.backend.rows(f"INSERT INTO runs ({_COLUMNS}) {_OPEN_VALUES}", opened)
            self.row_id = int(row["id"])
        except Exception as exc:  # the end is then written as a new row, if the store takes it
            logger.warning("pair %s: the run's start could not be recorded in the link store (%s)", self.pair_id, exc)

    def failed(self, exc: BaseException) -> None:
        """The run raised ``exc``: not ok, and its error, unless an inner block recorded the first one (an
        apply stopped by Ctrl-C, then the command's exit)."""
        self.ok = False
        if self.error is None:
            self.error = f"{type(exc).__name__}: {exc}"
        if self.applied is not None:  # stopped mid-apply: the writes it did are its history too
            self.tally(self.applied)

    def finish(self, result: ApplyResult) -> None:
        """Take the figures from an applied result: writes that succeeded, conflicts left, failures."""
        self.tally(result)
        self.ok = result.ok
        failures = result.failures
        if failures:
            self.error = f"{len(failures)} write(s) failed; first: {failures[0].error}"
        elif not result.ok:
            self.error = f"{len(result.plan.findings)} finding(s) left (conflicts or duplicates)"

    def tally(self, result: ApplyResult) -> None:
        """The figures of ``result`` so far: the writes that succeeded (each recorded as it ended), the
        conflicts its plan left. A run stopped mid-apply (a lost lease, Ctrl-C) did those writes too."""
        self.counts = {name: result.count(kind) for name, kind in _COUNTED.items()}
        self.counts["conflicts"] = len(result.plan.conflicts)
        self.actions = len(result.plan.actions)

    def record(self) -> RunRecord:
        return RunRecord(
            pair_id=self.pair_id,
            worker=self.worker,
            started_at=self.started_at,
            finished_at=now_text(),
            ok=self.ok,
            # Written by this module's own end statement too: a NUL or a surrogate there was refused, the row left open.
            error=clipped(storable(scrub(self.error)), ERROR_LIMIT, " not kept; the error raised has them all")
            if self.error
            else self.error,
            **{name: self.counts.get(name, 0) for name in (*_COUNTED, "conflicts")},
        )

    def metrics(self, record: RunRecord) -> dict[str, Any]:
        """The structured log fields (prefixed ``bm_`` so they never collide with LogRecord's own)."""
        return {
            "bm_event": "sync_run",
            "bm_pair": record.pair_id,
            "bm_worker": record.worker,
            "bm_ok": record.ok,
            "bm_duration_s": round(time.monotonic() - self._clock, 3),
            "bm_actions": self.actions,
            **{f"bm_{name}": getattr(record, name) for name in (*_COUNTED, "conflicts")},
        }


def _write_end(store: LinkStore, run: RunLog, record: RunRecord) -> None:
    if run.row_id is None:
        store.record_run(record)
        return
    figures = (record.created, record.updated, record.deleted, record.adopted, record.conflicts)
    done = (record.worker, record.finished_at, *figures, int(record.ok), record.error, run.row_id)
    store.backend.count(_FINISH, done)


#: The run each lease taken by :func:`leased_run` records, so that the apply under it adds to that run.
_ACTIVE: weakref.WeakKeyDictionary[Lease, RunLog] = weakref.WeakKeyDictionary()


@contextmanager
def leased_run(store: LinkStore, pair_id: str, lease: Lease) -> Iterator[RunLog]:
    """The run of a caller that took the pair's ``lease`` before it lists (``milestones sync``, a worker): its
    row opened now, so a run that stops before it applies (a platform down at the listing, a worker killed
    while it lists) is in the history too. An :func:`~billing_milestones.sync.apply_plan` under the same lease
    records into this run, and the row's end is written when the block ends."""
    with recorded_run(store, pair_id) as run:
        run.begin(lease.owner)
        _ACTIVE[lease] = run
        try:
            yield run
        finally:
            _ACTIVE.pop(lease, None)


@contextmanager
def recorded_run(store: LinkStore, pair_id: str, lease: Lease | None = None) -> Iterator[RunLog]:
    """Record the run inside the block: its figures when it finished, its error when it raised. The block
    calls :meth:`RunLog.begin` once it holds the pair's lease (the row is opened then). Under a ``lease``
    that :func:`leased_run` records, the block adds to that run, whose end is written when it ends."""
    active = _ACTIVE.get(lease) if lease is not None else None
    if active is not None:
        try:
            yield active
        except BaseException as exc:
            active.failed(exc)
            raise
        return
    run = RunLog(pair_id, store=store)
    try:
        yield run
    except BaseException as exc:
        run.failed(exc)
        raise
    finally:
        record = run.record()
        try:
            _write_end(store, run, record)
        except Exception as exc:  # the run's own outcome matters more than its history row
            logger.warning("pair %s: the run could not be recorded in the link store (%s)", pair_id, exc)
        level = logging.INFO if record.ok else logging.WARNING
        logger.log(
            level,
            "pair %s: run %s (created %d, updated %d, deleted %d, adopted %d, conflicts %d)",
            pair_id,
            "ok" if record.ok else f"failed: {record.error}",
            record.created,
            record.updated,
            record.deleted,
            record.adopted,
            record.conflicts,
            extra=run.metrics(record),
        )


def record_no_writes(store: LinkStore, plan: SyncPlan, lease: Lease, *, error: str | None = None) -> None:
    """The figures of a run, holding the pair's ``lease``, that did not apply its plan; ``error`` says why not
    (``milestones sync`` whose plan was not confirmed). The figures :func:`~billing_milestones.sync.apply_plan`
    records for the same plan, nothing applied: without the row the history shows only the runs that
    applied. (A plan with nothing to write is applied all the same, by ``milestones sync`` as by a worker: that
    refreshes the links of unchanged milestones whose fingerprints moved.)"""
    from .apply import ApplyResult  # apply imports this module

    with recorded_run(store, plan.pair.identity, lease) as run:
        run.begin(lease.owner)
        run.finish(ApplyResult(plan))
        if error is not None:
            run.ok, run.error = False, error
