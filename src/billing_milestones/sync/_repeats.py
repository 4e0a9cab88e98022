"""A listing that holds one milestone twice is refused before anything is planned from it.

A moved page boundary or a server repeating itself makes a listing that cannot say what exists: planned
from, its repeat could be deleted or created twice.
"""

from __future__ import annotations

from ..errors import DuplicateRecordError
from ._rows import MilestoneRow

__all__ = ["refuse_repeats"]


def refuse_repeats(milestones: list[MilestoneRow], side: str) -> None:
    """Refuse a listing that holds one key twice (keyless rows, never listed, are left to the caller).

    A listing of one container (the usual case) is checked by native id, which each row holds already;
    rows of several containers by their whole key, built as text.
    """
    platform = container = None
    ids: set[str] = set()
    for m in milestones:
        ident = m.id
        if ident is None:
            continue
        if container is None:
            platform, container = m.platform, m.container_id
        elif m.platform is not platform or m.container_id != container:
            return _refuse_repeated_keys(milestones, side)
        if ident in ids:
            return _refuse_repeated_keys(milestones, side)  # names the key as the error says it
        ids.add(ident)
    return None


def _refuse_repeated_keys(milestones: list[MilestoneRow], side: str) -> None:
    seen: set[str] = set()
    for m in milestones:
        text = m.text
        if not text:
            continue
        if text in seen:
            raise DuplicateRecordError(
                f"the {side} listing holds {text} twice; a page boundary moved or the server repeated a "
                "record, so nothing is planned from it (run again)",
                key=text,
            )
        seen.add(text)
