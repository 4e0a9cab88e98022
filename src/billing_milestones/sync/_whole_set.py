"""A whole-set target's stages the source has no milestone for: said in the plan, never dropped silently.

Moved out of :mod:`.plan` (which keeps the decisions per source milestone) to keep that module small.
"""

from __future__ import annotations

from ._rows import MilestoneRow
from .actions import ActionKind, PlannedAction, planned
from .pair import SyncPair

__all__ = ["outside_the_set"]


def outside_the_set(
    pair: SyncPair, target: list[MilestoneRow], accounted: set[str], unsure: bool
) -> list[PlannedAction]:
    """A whole-set target (crm.com) takes the milestone set at once, so a stage the source has no milestone
    for is dropped by the write: say so in the plan rather than let it vanish. While some source milestone is
    a conflict, nobody knows which stage it belongs to, so no stage is dropped."""
    out = []
    for t in target:
        if t.id is None or t.id in accounted:
            continue
        if unsure:
            why = "kept: a source milestone could not be translated, so which stages it covers is unknown"
            out.append(planned(ActionKind.UNCHANGED, f"unlinked:{t.id}", why, None, t))
        elif pair.delete_missing:
            why = "crm.com takes the whole set and the source has no milestone for this stage"
            out.append(planned(ActionKind.DELETE, f"unlinked:{t.id}", why, None, t))
        else:
            why = "not in the source; kept in the set because delete_missing is off"
            out.append(planned(ActionKind.UNCHANGED, f"unlinked:{t.id}", why, None, t))
    return out
