"""The common view every client offers: the same four calls on the common Milestone model."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Protocol, runtime_checkable

from .model import Milestone, MilestoneKey, Platform

__all__ = ["AsyncMilestoneView", "MilestoneView", "SetWritingView"]


@runtime_checkable
class MilestoneView(Protocol):
    """``client.milestones`` on every sync client. Containers: crm.com order draft, Autotask contract,
    Kantata workspace.

    ``list`` yields in one order on every platform: by due date, earliest first, undated last; then by title
    ignoring case (then exactly); then by id, all-digit ids by their number. It reads the whole listing before
    the first item. Each client's view also has ``stream(container_id)``, the platform's own order one page at
    a time, which the sync engine reads (it is not part of this protocol: views of one's own need only
    ``list``)."""

    platform: Platform

    def list(self, container_id: str) -> Iterator[Milestone]: ...

    def create(self, container_id: str, milestones: Sequence[Milestone]) -> builtins.list[Milestone]: ...

    def update(self, milestone: Milestone) -> Milestone: ...

    def delete(self, key: MilestoneKey) -> None: ...


@runtime_checkable
class SetWritingView(MilestoneView, Protocol):
    """The view of a platform that takes its whole milestone set in one write (crm.com's estimate)."""

    def replace(self, container_id: str, milestones: Sequence[Milestone]) -> builtins.list[Milestone]: ...


@runtime_checkable
class AsyncMilestoneView(Protocol):
    """``client.milestones`` on every async client."""

    platform: Platform

    def list(self, container_id: str) -> AsyncIterator[Milestone]: ...

    async def create(self, container_id: str, milestones: Sequence[Milestone]) -> builtins.list[Milestone]: ...

    async def update(self, milestone: Milestone) -> Milestone: ...

    async def delete(self, key: MilestoneKey) -> None: ...
