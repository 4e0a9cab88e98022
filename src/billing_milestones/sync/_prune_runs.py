"""Forget old run history: the store keeps a row for every run of every pair (a pair run every 15 minutes
writes 35,000 a year) and nothing else ever deletes one.

Only what a person no longer needs goes: finished runs that ended before the cutoff. Each pair's newest run
is kept whatever its age, so ``milestones runs PAIR`` still shows how the pair last ended. A run still open
(its end not written) is normally closed as lost by its pair's next run; one that started before the cutoff
whose pair has no live lease can no longer be running, and its pair has not run since (taken out of the
config, say): it is closed here, as that next run would close it, so the history stops showing it as
running, and is forgotten by a later prune. Links, intents and leases are never touched. Times are compared
as the store writes them (UTC ISO text, which sorts as time)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ..errors import ValidationError
from .store._model import now_text

if TYPE_CHECKING:
    from .store import LinkStore

__all__ = ["PRUNE_CLOSED_ERROR", "PruneResult", "prune_runs"]

#: The error an open run closed by a prune gets.
PRUNE_CLOSED_ERROR: Final = (
    "ended without recording its end (its worker or its link store session was lost; its log has the outcome); "
    "closed by milestones prune-runs, its pair not run since"
)
_ONE_PAIR: Final = "(CAST(? AS TEXT) IS NULL OR pair_id = ?)"
_CLOSE_FORGOTTEN: Final = (
    f"UPDATE runs SET finished_at = ?, ok = 0, error = ? WHERE finished_at = '' AND started_at < ? AND {_ONE_PAIR} "
    "AND pair_id NOT IN (SELECT pair_id FROM leases WHERE expires_at > ?)"
)
_PRUNE: Final = (
    f"DELETE FROM runs WHERE finished_at <> '' AND finished_at < ? AND {_ONE_PAIR} "
    "AND id NOT IN (SELECT max(id) FROM runs GROUP BY pair_id)"
)


@dataclass(frozen=True)
class PruneResult:
    """What a prune did: finished runs deleted, and open runs of pairs not run since closed as lost."""

    deleted: int
    closed: int


def prune_runs(store: LinkStore, *, older_than_days: float, pair_id: str | None = None) -> PruneResult:
    """Delete the finished runs (of ``pair_id``, or of every pair) that ended more than ``older_than_days``
    ago, keeping each pair's newest, and close the open runs that started before then whose pair holds no
    live lease."""
    days = older_than_days
    if isinstance(days, bool) or not isinstance(days, int | float) or not (math.isfinite(days) and days >= 0):
        raise ValidationError(
            f"older_than_days must be a number of days, 0 or more, got {older_than_days!r}",
            field="older_than_days",
            value=older_than_days,
        )
    try:
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    except OverflowError:  # further back than any date: nothing is that old
        return PruneResult(0, 0)
    stamp = cutoff.isoformat(timespec="milliseconds")
    backend = store.backend
    with backend.transaction():
        closed = backend.count(
            _CLOSE_FORGOTTEN, (now_text(), PRUNE_CLOSED_ERROR, stamp, pair_id, pair_id, backend.clock())
        )
        deleted = backend.count(_PRUNE, (stamp, pair_id, pair_id))
    return PruneResult(deleted, closed)
