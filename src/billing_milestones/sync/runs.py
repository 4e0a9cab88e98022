"""The run history: every applying run of a pair leaves one row in the link store, and one log record.

A sync that runs on workers nobody watches must say afterwards what it did: who ran it (the lease owner,
``host:pid:run``), when, how many milestones it created, updated, deleted and adopted, how many conflicts it
left, and whether it ended well (else the error). Rows are kept under the pair's identity (its containers
by their configured names), so a crm.com draft estimated anew keeps its history. ``milestones runs`` reads
the rows; the same figures go to the ``billing_milestones.sync`` logger as a structured record
(``extra=``) for a log pipeline to count.
Recording never hides the run's own outcome: a store that cannot take the row is logged, not raised.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .actions import ActionKind
from .lease import new_owner
from .store import RunRecord
from .store._model import now_text

if TYPE_CHECKING:
    from .apply import ApplyResult
    from .store import LinkStore

__all__ = ["RunLog", "logger", "recorded_run"]

logger = logging.getLogger("billing_milestones.sync")

_COUNTED = {
    "created": ActionKind.CREATE,
    "updated": ActionKind.UPDATE,
    "deleted": ActionKind.DELETE,
    "adopted": ActionKind.ADOPT,
}


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
    _clock: float = field(default_factory=time.monotonic)

    def finish(self, result: ApplyResult) -> None:
        """Take the figures from an applied result: writes that succeeded, conflicts left, failures."""
        self.counts = {name: result.count(kind) for name, kind in _COUNTED.items()}
        self.counts["conflicts"] = len(result.plan.conflicts)
        self.actions = len(result.plan.actions)
        self.ok = result.ok
        failures = result.failures
        if failures:
            self.error = f"{len(failures)} write(s) failed; first: {failures[0].error}"
        elif not result.ok:
            self.error = f"{len(result.plan.findings)} finding(s) left (conflicts or duplicates)"

    def record(self) -> RunRecord:
        return RunRecord(
            pair_id=self.pair_id,
            worker=self.worker,
            started_at=self.started_at,
            finished_at=now_text(),
            ok=self.ok,
            error=self.error,
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


@contextmanager
def recorded_run(store: LinkStore, pair_id: str) -> Iterator[RunLog]:
    """Record the run inside the block: its figures when it finished, its error when it raised."""
    run = RunLog(pair_id)
    try:
        yield run
    except BaseException as exc:
        run.ok = False
        run.error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        record = run.record()
        try:
            store.record_run(record)
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
