"""The order ``client.milestones.list(...)`` lists in, the same on every platform.

Each platform lists in an order of its own (Kantata newest first, Autotask by id, crm.com by stage), so a
listing read from two platforms, or twice from one, would not line up. The common view sorts instead:

1. by due date, earliest first; **milestones without a due date come last** (every crm.com milestone, and
   Kantata's ``upon_completion`` ones: a billing schedule reads as dated payments first, then those waiting
   on an event);
2. then by title, ignoring case (``casefold``), then by the exact title, so the order never depends on how
   the platform returned ties;
3. then by id: ids made only of digits (Autotask, Kantata) by their number, so ``9`` comes before ``10``;
   other ids (crm.com's ``estimation:stage``) after them, as text. A milestone without a key (never the
   case in a listing) sorts first among its equals.

The key uses only the milestone itself, so the order is total and stable: the same milestones always list
the same way, whatever page they arrived on.

Sorting needs the whole listing, so ``list`` reads every page before yielding its first milestone. Where
memory matters more than order, each view's ``stream(container_id)`` yields in the platform's own order,
one page in memory at a time: what the sync engine reads (its planner does not depend on the order).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from .model import Milestone

__all__ = ["aordered", "listing_key", "ordered", "sorted_milestones", "stream_of"]

_LAST_DATE = dt.date.max


def listing_key(milestone: Milestone) -> tuple[bool, dt.date, str, str, tuple[int, int, str, str]]:
    """The sort key of the listing order (see the module's docstring); computed for every milestone of a
    listing, so in one call.

    A digit id sorts by its number without being turned into one: by its digits without leading zeros,
    shorter first, then as text (the same order as ``int()``'s, then the exact text), so an id of any length
    has its place (``int()`` refuses more than 4,300 digits) and no int is made per milestone."""
    due, title, key = milestone.due, milestone.title, milestone.key
    if key is None:
        ident: tuple[int, int, str, str] = _NO_KEY
    else:
        text = key.id
        if text.isascii() and text.isdigit():
            digits = text.lstrip("0")
            ident = (0, len(digits), digits, text)
        else:
            ident = (1, 0, "", text)
    return (due is None, due or _LAST_DATE, title.casefold(), title, ident)


_NO_KEY = (-1, 0, "", "")


def sorted_milestones(milestones: Iterable[Milestone]) -> list[Milestone]:
    """The milestones in the listing order, as a new list."""
    return sorted(milestones, key=listing_key)


def ordered(milestones: Iterable[Milestone]) -> Iterator[Milestone]:
    """The milestones in the listing order, lazily: nothing is read from ``milestones`` (so no request is
    sent) until the first item is asked for; then all of it is, before the first is yielded."""
    yield from sorted_milestones(milestones)


async def aordered(milestones: AsyncIterable[Milestone]) -> AsyncIterator[Milestone]:
    """The asyncio :func:`ordered`."""
    for milestone in sorted_milestones([m async for m in milestones]):
        yield milestone


def stream_of(view: Any, container_id: str) -> Iterator[Milestone]:
    """The container's milestones in the platform's own order, page by page (``view.stream``), for code
    that reads a listing once and holds no more of it than it needs; a view without ``stream`` (a test
    double, a third-party view) is read through its ``list``."""
    stream = getattr(view, "stream", None)
    items: Iterator[Milestone] = stream(container_id) if callable(stream) else view.list(container_id)
    return items
