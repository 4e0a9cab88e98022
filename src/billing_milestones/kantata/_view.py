"""The common view of Kantata (``client.milestones``): billing milestones as :class:`Milestone`, per workspace.

A workspace id that does not exist lists as an empty Billing Schedule on Kantata (``workspace_ids=`` is only a
filter), and a sync would then plan to create every source milestone into nothing. So every listing and every
create first fetches the workspace (which translation needs anyway for its currency), even when its currency
is already cached, and a missing workspace is a ``NotFoundError`` naming it before anything is written.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .. import errors
from ..model import Milestone, MilestoneKey, Platform
from ._errors import refuse_invoiced
from ._operations import Include, KantataOperations
from .adapter import WorkspaceCurrency, to_create_body, to_milestone, to_update_body, wire_from_raw
from .wire import BillingMilestone, Workspace

if TYPE_CHECKING:
    from .client import AsyncKantataClient, KantataClient

__all__ = ["VIEW_INCLUDES", "AsyncKantataMilestones", "KantataMilestones"]

#: What the common view side-loads: our sync keys, and story states for READY_TO_BILL.
VIEW_INCLUDES: tuple[Include, ...] = ("external_references", "story")


def missing_workspace(workspace_id: str, exc: errors.NotFoundError) -> errors.NotFoundError:
    """The server's 404 for a workspace, restated so the message names the container."""
    return errors.NotFoundError(
        f"Kantata workspace {workspace_id} does not exist (or this token cannot see it)",
        platform=exc.platform,
        method=exc.method,
        path=exc.path,
        status_code=exc.status_code,
        request_id=exc.request_id,
        messages=exc.messages,
        body=exc.body,
        retries_taken=exc.retries_taken,
    )


class _ViewBase:
    """What the sync and async views share: key checks and the per-client workspace currency cache."""

    platform: Platform = Platform.KANTATA

    def __init__(self, ops: KantataOperations) -> None:
        self._ops = ops
        self._currencies: dict[str, WorkspaceCurrency] = {}
        #: Today's date for READY_TO_BILL; replace it to make listings reproducible.
        self.today: Callable[[], dt.date] = dt.date.today

    def _remember(self, workspace_id: str, workspace: Workspace) -> WorkspaceCurrency:
        currency = WorkspaceCurrency.from_workspace(workspace)
        self._currencies[workspace_id] = currency
        return currency

    @staticmethod
    def _key(key: MilestoneKey | None) -> MilestoneKey:
        if key is None:
            raise errors.ValidationError("milestone.key: an update needs the Kantata key of the milestone", field="key")
        if key.platform is not Platform.KANTATA:
            raise errors.ValidationError(
                f"key.platform: expected kantata, got {key.platform.value} ({key})", field="key.platform", value=key
            )
        return key

    def _refuse_if_locked(self, milestone: Milestone, key: MilestoneKey) -> None:
        if milestone.locked:
            invoice = milestone.raw.get("invoice_id") if milestone.raw else None
            path = self._ops.path("billing_milestones", key.id)
            raise refuse_invoiced(key.id, None if invoice is None else str(invoice), method="PUT", path=path)

    def _current_from_raw(self, milestone: Milestone, key: MilestoneKey) -> BillingMilestone | None:
        if not milestone.raw:
            return None
        current = wire_from_raw(milestone.raw)
        if current.id != key.id:
            raise errors.ValidationError(
                f"milestone.raw is billing milestone {current.id}, but the key says {key.id}", field="raw"
            )
        return current

    def _guard(self, current: BillingMilestone) -> None:
        if current.invoiced:
            path = self._ops.path("billing_milestones", current.id)
            raise refuse_invoiced(current.id, current.invoice_id, method="PUT", path=path)

    @staticmethod
    def _with_changes(milestone: Milestone, changes: Sequence[Any]) -> Milestone:
        if not changes:
            return milestone
        return milestone.model_copy(update={"changes": (*milestone.changes, *changes)})


class KantataMilestones(_ViewBase):
    """``client.milestones``: the common view. The container is a Kantata workspace (project) id."""

    def __init__(self, client: KantataClient) -> None:
        super().__init__(client._ops)
        self._client = client

    def workspace_currency(self, workspace_id: str) -> WorkspaceCurrency:
        """The workspace's currency and subunit exponent, fetched once per workspace and cached."""
        key = str(workspace_id)
        return self._currencies[key] if key in self._currencies else self.check_workspace(key)

    def check_workspace(self, workspace_id: str) -> WorkspaceCurrency:
        """Fetch the workspace now (one GET): NotFoundError naming it when it does not exist."""
        key = str(workspace_id)
        try:
            workspace = self._client.workspaces.get(key)
        except errors.NotFoundError as exc:
            raise missing_workspace(key, exc) from exc
        return self._remember(key, workspace)

    def list(self, container_id: str) -> Iterator[Milestone]:
        """Every milestone of the workspace; a workspace that does not exist raises NotFoundError."""
        ws = self.check_workspace(container_id)
        today = self.today()
        for wire in self._client.billing_milestones.list(workspace_ids=[container_id], include=VIEW_INCLUDES):
            yield to_milestone(wire, ws, today=today)

    def create(
        self, container_id: str, milestones: Sequence[Milestone], *, allow_drop: bool = False
    ) -> builtins.list[Milestone]:
        """Create all of them, 100 per POST; each result carries what translation dropped (``allow_drop``).

        The workspace is fetched first, so a missing one is a NotFoundError before anything is sent."""
        if not milestones:
            return []
        ws = self.check_workspace(container_id)
        prepared = [to_create_body(m, ws, allow_drop=allow_drop) for m in milestones]
        created = self._client.billing_milestones.create_many([b for b, _ in prepared], include=VIEW_INCLUDES)
        today = self.today()
        return [
            self._with_changes(to_milestone(w, ws, today=today), c) for w, (_, c) in zip(created, prepared, strict=True)
        ]

    def update(self, milestone: Milestone, *, allow_drop: bool = False) -> Milestone:
        """Send only what differs from ``milestone.raw`` (or from a fresh GET when there is no raw)."""
        key = self._key(milestone.key)
        self._refuse_if_locked(milestone, key)
        ws = self.workspace_currency(key.container_id)
        current = self._current_from_raw(milestone, key) or self._client.billing_milestones.get(
            key.id, include=VIEW_INCLUDES
        )
        self._guard(current)
        body, changes = to_update_body(milestone, current, ws, allow_drop=allow_drop)
        if not body.is_empty:
            current = self._client.billing_milestones.update_with(current, body, include=VIEW_INCLUDES)
        return self._with_changes(to_milestone(current, ws, today=self.today()), changes)

    def delete(self, key: MilestoneKey) -> None:
        self._client.billing_milestones.delete(self._key(key).id)


class AsyncKantataMilestones(_ViewBase):
    """The asyncio twin of :class:`KantataMilestones`."""

    def __init__(self, client: AsyncKantataClient) -> None:
        super().__init__(client._ops)
        self._client = client

    async def workspace_currency(self, workspace_id: str) -> WorkspaceCurrency:
        key = str(workspace_id)
        return self._currencies[key] if key in self._currencies else await self.check_workspace(key)

    async def check_workspace(self, workspace_id: str) -> WorkspaceCurrency:
        key = str(workspace_id)
        try:
            workspace = await self._client.workspaces.get(key)
        except errors.NotFoundError as exc:
            raise missing_workspace(key, exc) from exc
        return self._remember(key, workspace)

    async def list(self, container_id: str) -> AsyncIterator[Milestone]:
        ws = await self.check_workspace(container_id)
        today = self.today()
        async for wire in self._client.billing_milestones.list(workspace_ids=[container_id], include=VIEW_INCLUDES):
            yield to_milestone(wire, ws, today=today)

    async def create(
        self, container_id: str, milestones: Sequence[Milestone], *, allow_drop: bool = False
    ) -> builtins.list[Milestone]:
        if not milestones:
            return []
        ws = await self.check_workspace(container_id)
        prepared = [to_create_body(m, ws, allow_drop=allow_drop) for m in milestones]
        created = await self._client.billing_milestones.create_many([b for b, _ in prepared], include=VIEW_INCLUDES)
        today = self.today()
        return [
            self._with_changes(to_milestone(w, ws, today=today), c) for w, (_, c) in zip(created, prepared, strict=True)
        ]

    async def update(self, milestone: Milestone, *, allow_drop: bool = False) -> Milestone:
        key = self._key(milestone.key)
        self._refuse_if_locked(milestone, key)
        ws = await self.workspace_currency(key.container_id)
        current = self._current_from_raw(milestone, key) or await self._client.billing_milestones.get(
            key.id, include=VIEW_INCLUDES
        )
        self._guard(current)
        body, changes = to_update_body(milestone, current, ws, allow_drop=allow_drop)
        if not body.is_empty:
            current = await self._client.billing_milestones.update_with(current, body, include=VIEW_INCLUDES)
        return self._with_changes(to_milestone(current, ws, today=self.today()), changes)

    async def delete(self, key: MilestoneKey) -> None:
        await self._client.billing_milestones.delete(self._key(key).id)
