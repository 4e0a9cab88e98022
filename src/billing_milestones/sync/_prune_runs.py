"""Forget old run history: the store keeps a row for every run of every pair (a pair run every 15 minutes
writes 35,000 a year) and nothing else ever deletes one.

Only what a person no longer needs goes: finished runs that ended before the cutoff. A run still open (its
end not written: running, or killed and not yet closed by its pair's next run) is kept, so the next run still
closes it as lost; and each pair's newest run is kept whatever its age, so ``milestones runs PAIR`` still
shows how the pair last ended. Links, intents and leases are never touched. Times are compared as the store
writes them (UTC ISO text, which sorts as time)."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

from ..errors import ValidationError

if TYPE_CHECKING:
    from .store import LinkStore

__all__ = ["prune_runs"]

_PRUNE = (
    "DELETE FROM runs WHERE finished_at <> '' AND finished_at < ? AND (CAST(? AS TEXT) IS NULL OR pair_id = ?) "
    "AND id NOT IN (SELECT max(id) FROM runs GROUP BY pair_id)"
)


def prune_runs(store: LinkStore, *, older_than_days: float, pair_id: str | None = None) -> int:
    """Delete the finished runs (of ``pair_id``, or of every pair) that ended more than ``older_than_days``
    ago, keeping each pair's newest; how many were deleted."""
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
        return 0
    stamp = cutoff.isoformat(timespec="milliseconds")
    with store.backend.transaction():
        return store.backend.count(_PRUNE, (stamp, pair_id, pair_id))
