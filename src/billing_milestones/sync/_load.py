"""Read both sides of a pair for planning: each listing streamed page by page into the planner's rows.

Kept apart from :mod:`.apply` (which writes): reading holds no lease and writes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from .. import errors
from .._order import stream_of
from .._view import MilestoneView
from ..model import Platform
from ..money import Money
from ._rows import MilestoneRow, Shared, row_of
from ._thread_cpu import on_behalf
from .pair import SyncPair

__all__ = ["load_sides", "resolve_view"]


def resolve_view(target: Any, platform: Platform) -> MilestoneView:
    """Accept a view, a client with ``.milestones``, or a mapping of platform -> client."""
    if isinstance(target, Mapping):
        target = target[platform]
    view = getattr(target, "milestones", target)
    if not isinstance(view, MilestoneView):
        raise errors.ConfigError(f"no milestone view for {platform.value}: got {type(target).__name__}")
    return view


def load_sides(
    pair: SyncPair, clients: Any, *, parallel: bool = False
) -> tuple[list[MilestoneRow], list[MilestoneRow]]:
    """Read both containers completely (deletes are only planned from a complete read), each in its
    platform's own order through the view's ``stream`` (the planner needs no order, so nothing is sorted).

    Each page is projected into the planner's rows as it arrives and then let go: a row holds a milestone's
    fields under the same names but not its wire payload, so 100,000 milestones take tens of megabytes, not
    a gigabyte. ``row.milestone()`` gives a row's milestone back (without ``raw``: an update re-reads it).
    A target row holds the source's text and amount objects where its own are equal (see :class:`_Twins`).

    ``parallel`` reads the target on a second thread while this one reads the source, when they are two
    platforms (two clients, nothing shared between the reads): a worker does, as a pair's time is mostly
    waiting on the two platforms. The target thread is a daemon: a source read that fails is raised at once.
    """
    if not parallel or pair.source is pair.target:
        source = _rows(clients, pair.source, pair.source_container)
        target = _rows(clients, pair.target, pair.target_container, _Twins(source) if source else None)
        return source, target
    source, target = _both(clients, pair)
    _share_equal_values(source, target)
    return source, target


def _both(clients: Any, pair: SyncPair) -> tuple[list[MilestoneRow], list[MilestoneRow]]:
    target: list[list[MilestoneRow]] = []
    failed: list[BaseException] = []

    def read_target() -> None:
        try:
            target.append(_rows(clients, pair.target, pair.target_container))
        except BaseException as exc:  # handed to the caller's thread
            failed.append(exc)

    # Its CPU counted as this thread's (a worker's job times its phases by thread CPU: see ``_thread_cpu``).
    reader = threading.Thread(target=on_behalf(read_target), name="bm-load-target", daemon=True)
    reader.start()
    source = _rows(clients, pair.source, pair.source_container)
    reader.join()
    if failed:
        raise failed[0]
    return source, target[0]


def _rows(clients: Any, platform: Platform, container_id: str, twins: _Twins | None = None) -> list[MilestoneRow]:
    shared = Shared()
    rows = (row_of(m, keep=False, shared=shared) for m in stream_of(resolve_view(clients, platform), container_id))
    # Shared as each row is made: the target's own copies go with its page, their memory reused by the next.
    return [twins.share(row) for row in rows] if twins is not None else list(rows)


def _share_equal_values(source: list[MilestoneRow], target: list[MilestoneRow]) -> None:
    """Point each target row at the source's title, description and amount objects where they are equal
    (after a parallel read; a sequential one shares as the target streams, see :class:`_Twins`)."""
    if source and target:
        twins = _Twins(source)
        for t in target:
            twins.share(t)


class _Twins:
    """The source's texts and amounts by value, to point each target row at the source's equal objects.

    A pair in step holds the same texts and amounts on both sides, read as separate objects: 100,000
    linked pairs kept about 20 MB twice. An amount is shared only when written alike (same digits and
    exponent, not merely equal: 10.5 and 10.50 stay apart), a text only when both are plain ``str``; so
    every value a row gives reads exactly as before. Built once the source is read, let go before planning.
    """

    __slots__ = ("_amounts", "_minors", "_texts")

    def __init__(self, source: list[MilestoneRow]) -> None:
        self._texts: dict[str, str] = {}
        self._amounts: dict[Money, Money] = {}
        self._minors: dict[int, int] = {}
        for s in source:
            for text in (s.title, s.description):
                if type(text) is str:
                    self._texts.setdefault(text, text)
            held = s._amount
            if type(held) is int:  # in minor units: any equal int serves (it is read in the row's own unit)
                self._minors.setdefault(held, held)
            elif type(held) is Money:
                self._amounts.setdefault(held, held)

    def share(self, t: MilestoneRow) -> MilestoneRow:
        texts = self._texts
        if type(t.title) is str and (title := texts.get(t.title)) is not None:
            t.title = title
        if type(t.description) is str and (description := texts.get(t.description)) is not None:
            t.description = description
        mine = t._amount
        if type(mine) is int:
            t._amount = self._minors.get(mine, mine)
            return t
        if type(mine) is not Money or (theirs := self._amounts.get(mine)) is None or theirs is mine:
            return t
        if theirs.amount.as_tuple() == mine.amount.as_tuple():
            t._amount = theirs
        return t
