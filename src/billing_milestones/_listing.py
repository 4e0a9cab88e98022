"""A common-view listing that proves its container exists by what it lists, and checks it only when empty.

A listing filtered by a container that does not exist comes back empty (Autotask's ContractMilestones query,
Kantata's ``workspace_ids=``), and a sync would then plan to create every source milestone into nothing. The
container must be checked, but only an *empty* listing leaves that open: a milestone the server lists as the
container's own shows the container exists. So the check is not a request before every listing but one the
walk makes when it has listed nothing, before it ends (a missing container is then still an error naming it,
raised before the caller has seen a single milestone, so before any write). A flow that has already proved
its container empty and existing in one request (Kantata's workspace read with its milestones side-loaded)
gives no listing: no page is asked for.

Each page's items are converted by a per-page flow, which may need requests of its own (the status picklist,
a currency) only when there is something to convert. The walk is one :meth:`SyncRunner.pages` walk, so its
page guard sees every page; the sync and async walkers differ only in the awaits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ._http import AsyncRunner, Flow, PagedOperation, SyncRunner
from ._http._collector import COLLECTOR_PAUSED

__all__ = ["CheckedListing", "awalk", "walk"]

W = TypeVar("W")
T = TypeVar("T")


@dataclass(frozen=True)
class CheckedListing(Generic[W, T]):
    """A native listing, how to convert each non-empty page, and the container check for an empty one."""

    #: None: the flow already proved the container empty (and that it exists), so no page is asked for.
    listing: PagedOperation[W] | None
    #: Given a page's native items, a flow returning the converter for them (it may fetch what it needs).
    converter: Callable[[Sequence[W]], Flow[Callable[[W], T]]]
    #: Run when the whole walk listed nothing: raises (NotFoundError naming it) when the container is missing.
    when_empty: Callable[[], Flow[Any]]


def walk(runner: SyncRunner, flow: Flow[CheckedListing[W, T]]) -> Iterator[T]:
    """Run ``flow`` (checks and settings first), then walk its listing page by page, lazily."""
    checked = runner.run_flow(flow)
    listed = False
    for page in runner.pages(checked.listing) if checked.listing is not None else ():  # None: proven empty
        if page.items:
            listed = True
            convert = runner.run_flow(checked.converter(page.items))
            with COLLECTOR_PAUSED:  # a page's items are all kept: see _http/_collector.py
                converted = list(map(convert, page.items))
            yield from converted
    if not listed:
        runner.run_flow(checked.when_empty())


async def awalk(runner: AsyncRunner, flow: Flow[CheckedListing[W, T]]) -> AsyncIterator[T]:
    """The asyncio :func:`walk`."""
    checked = await runner.run_flow(flow)
    listed = False
    async for page in runner.pages(checked.listing) if checked.listing is not None else _no_pages():
        if page.items:
            listed = True
            convert = await runner.run_flow(checked.converter(page.items))
            with COLLECTOR_PAUSED:  # no await inside: no other task runs in the pause
                converted = list(map(convert, page.items))
            for item in converted:
                yield item
    if not listed:
        await runner.run_flow(checked.when_empty())


async def _no_pages() -> AsyncIterator[Any]:
    """No page: the async walk of a listing its flow proved empty."""
    none: tuple[Any, ...] = ()
    for page in none:
        yield page
