"""Kantata's multi-step calls, written once for both clients: the bulk create and the common view.

Each method here returns a flow (see ``_http._flow``): it yields the operations it needs and gets their
results back, so ``KantataClient`` and ``AsyncKantataClient`` only hand it to their runner.

A workspace id that does not exist lists as an empty Billing Schedule on Kantata (``workspace_ids=`` is only a
filter), and a sync would then plan to create every source milestone into nothing. So every listing checks its
workspace, and a missing one is a ``NotFoundError`` naming it: the listing side-loads it (``include=workspace``,
documented on the billing_milestones index), so a listing that lists milestones carries the workspace's currency
with them, fresh, at no extra request; an empty listing proves nothing, and the walk then fetches the workspace
before it ends (see ``_listing``). A listing expected to be empty (``expect_empty``: a pair's first sync) reads
the workspace first instead, with its billing milestones side-loaded (``include=billing_milestones``, documented
on GET /workspaces/{id}): when it has none, that one request is the whole listing.

A create reads the workspace only when this client has not seen it yet (a never-seen workspace that is missing
is refused before anything is sent); once seen, its cached currency serves every batch, so a 10,000-milestone
sync does not send a hundred workspace GETs, and a workspace deleted since is refused by Kantata itself (422 on
``workspace_id``, nothing stored).
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .. import errors
from .._http import Flow, Operation, just
from .._http._collector import COLLECTOR_PAUSED
from .._listing import CheckedListing
from ..model import Milestone, MilestoneKey, Platform
from ._errors import refuse_invoiced
from ._operations import Include, IncludeArg, KantataOperations
from ._read import milestone_reader
from ._write import body_writer
from .adapter import WorkspaceCurrency, to_milestone, to_update_body, wire_from_raw
from .wire import BillingMilestone, BillingMilestoneCreate, Workspace

__all__ = ["LISTING_INCLUDES", "VIEW_INCLUDES", "ViewFlows", "create_many", "missing_workspace"]

#: What the common view side-loads: our sync keys, and story states for READY_TO_BILL.
VIEW_INCLUDES: tuple[Include, ...] = ("external_references", "story")
#: A listing side-loads the workspace too: its currency comes with the milestones (and proves it exists).
LISTING_INCLUDES: tuple[Include, ...] = (*VIEW_INCLUDES, "workspace")


def create_many(
    ops: KantataOperations, items: Sequence[BillingMilestoneCreate | Mapping[str, Any]], include: IncludeArg
) -> Flow[builtins.list[BillingMilestone]]:
    """Bulk create, 100 per POST, results in input order; every item is checked before the first POST."""
    return created_by(ops.create_billing_milestones(items, include=include))


def created_by(batches: Sequence[Operation[builtins.list[BillingMilestone]]]) -> Flow[builtins.list[BillingMilestone]]:
    """Send each batch in turn; the created milestones of all, in input order."""
    created: builtins.list[BillingMilestone] = []
    for op in batches:
        batch: builtins.list[BillingMilestone] = yield op
        created.extend(batch)
    return created


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
        response=exc.response,
    )


class ViewFlows:
    """The common view's state and flows, shared by the sync and async views (their base class)."""

    platform: Platform = Platform.KANTATA

    def __init__(self, ops: KantataOperations) -> None:
        self._ops = ops
        self._currencies: dict[str, WorkspaceCurrency] = {}
        #: Workspaces whose next listing is expected to find nothing (see :meth:`expect_empty`).
        self._expected_empty: set[str] = set()
        #: Today's date for READY_TO_BILL; replace it to make listings reproducible.
        self.today: Callable[[], dt.date] = dt.date.today

    def expect_empty(self, container_id: str) -> None:
        """Say that the next listing of this workspace will probably find nothing (a pair's first sync: no
        link was ever stored). That listing then starts with the workspace itself, read with its billing
        milestones side-loaded (``GET /workspaces/{id}?include=billing_milestones``): an empty workspace is
        proven to exist, and its currency read, in that one request, where an empty page and then the
        workspace would take two. A workspace that has milestones after all is then listed as usual (one
        request more than without the hint). Only the next listing of it is affected."""
        self._expected_empty.add(str(container_id))

    # -- workspaces ----------------------------------------------------------------------------------
    def _workspace_currency(self, workspace_id: str) -> Flow[WorkspaceCurrency]:
        key = str(workspace_id)
        return just(self._currencies[key]) if key in self._currencies else self._check_workspace(key)

    def _side_loaded(self, records: Sequence[BillingMilestone], key: str) -> WorkspaceCurrency | None:
        """The workspace a page side-loaded with its milestones (its currency cached afresh), if it did."""
        workspace = next((r.workspace for r in records if r.workspace is not None and str(r.workspace_id) == key), None)
        if workspace is None:
            return None
        currency = WorkspaceCurrency.from_workspace(workspace)
        self._currencies[key] = currency
        return currency

    def _of_workspace(self, records: Sequence[BillingMilestone], key: str) -> None:
        """Every milestone a listing by ``workspace_ids=[key]`` returns must be that workspace's: one of another
        (a filter ignored) would be planned as this workspace's own, adopted, updated or deleted there."""
        for record in records:
            owner = record.__dict__["workspace_id"]  # a validated id is its digits: str() only when it differs
            if owner != key and str(owner) != key:
                raise errors.APIResponseValidationError(
                    f"the listing of workspace {key}'s billing milestones returned milestone {record.id} of "
                    f"workspace {record.workspace_id}",
                    platform=self.platform.value,
                    method="GET",
                    path=self._ops.path("billing_milestones"),
                )

    def _check_workspace(self, workspace_id: str) -> Flow[WorkspaceCurrency]:
        key = str(workspace_id)
        yield from self._read_workspace(key)
        return self._currencies[key]

    def _read_workspace(self, key: str, include: tuple[str, ...] = ()) -> Flow[Workspace]:
        """GET the workspace (NotFoundError naming it when missing); its currency cached afresh."""
        try:
            workspace: Workspace = yield self._ops.get_workspace(key, include=include)
        except errors.NotFoundError as exc:
            self._currencies.pop(key, None)  # gone: the next create reads it again and is refused unsent
            raise missing_workspace(key, exc) from exc
        self._currencies[key] = WorkspaceCurrency.from_workspace(workspace)
        return workspace

    def _proven_empty(self, key: str) -> Flow[bool]:
        """Whether the workspace, read with its milestones side-loaded, has none (a server that leaves the
        include out proves nothing: the listing is then walked as usual)."""
        workspace = yield from self._read_workspace(key, ("billing_milestones",))
        return workspace.billing_milestone_ids == []

    # -- the four calls ------------------------------------------------------------------------------
    def _listing(self, container_id: str) -> Flow[CheckedListing[BillingMilestone, Milestone]]:
        key = str(container_id)
        today = self.today()
        read: list[WorkspaceCurrency] = []  # the workspace this listing read, when a page lacked it

        def converter(records: Sequence[BillingMilestone]) -> Flow[Callable[[BillingMilestone], Milestone]]:
            self._of_workspace(records, key)
            ws = self._side_loaded(records, key) or (read[0] if read else None)
            if ws is None:  # not side-loaded (a server that ignores the include): read it once, as before
                ws = yield from self._check_workspace(key)
                read.append(ws)
            return milestone_reader(ws, today=today)

        if key in self._expected_empty:
            self._expected_empty.discard(key)
            if (yield from self._proven_empty(key)):
                return CheckedListing(None, converter, lambda: just(None))
        listing = self._ops.list_billing_milestones(workspace_ids=[key], include=LISTING_INCLUDES)
        return CheckedListing(listing, converter, lambda: self._check_workspace(key))

    def _create(
        self, container_id: str, milestones: Sequence[Milestone], allow_drop: bool
    ) -> Flow[builtins.list[Milestone]]:
        if not milestones:
            return []
        ws = yield from self._workspace_currency(container_id)
        write = body_writer(ws, allow_drop=allow_drop)
        with COLLECTOR_PAUSED:  # every body is kept (see _http/_collector.py); no yield inside the pause
            prepared = [write(m) for m in milestones]
        created = yield from created_by(self._ops.create_sent([s for s, _ in prepared], include=VIEW_INCLUDES))
        # The reply holds the created records in the listing's wire shape: read them as a listing page is read.
        read = milestone_reader(ws, today=self.today())
        with COLLECTOR_PAUSED:
            return [_with_changes(read(w), c) for w, (_, c) in zip(created, prepared, strict=True)]

    def _update(self, milestone: Milestone, allow_drop: bool) -> Flow[Milestone]:
        key = _key(milestone.key)
        self._refuse_if_locked(milestone, key)
        ws = yield from self._workspace_currency(key.container_id)
        current = self._current_from_raw(milestone, key)
        if current is None:
            current = yield self._ops.get_billing_milestone(key.id, include=VIEW_INCLUDES)
        self._guard(current)
        body, changes = to_update_body(milestone, current, ws, allow_drop=allow_drop)
        if not body.is_empty:
            current = yield self._ops.put_billing_milestone(current, body, include=VIEW_INCLUDES)
        return _with_changes(to_milestone(current, ws, today=self.today()), changes)

    def _delete(self, key: MilestoneKey) -> Flow[None]:
        yield self._ops.delete_billing_milestone(_key(key).id)

    # -- checks --------------------------------------------------------------------------------------
    def _refuse_if_locked(self, milestone: Milestone, key: MilestoneKey) -> None:
        if milestone.locked:
            invoice = milestone.raw.get("invoice_id") if milestone.raw else None
            path = self._ops.path("billing_milestones", key.id)
            raise refuse_invoiced(key.id, None if invoice is None else str(invoice), method="PUT", path=path)

    def _guard(self, current: BillingMilestone) -> None:
        if current.invoiced:
            path = self._ops.path("billing_milestones", current.id)
            raise refuse_invoiced(current.id, current.invoice_id, method="PUT", path=path)

    @staticmethod
    def _current_from_raw(milestone: Milestone, key: MilestoneKey) -> BillingMilestone | None:
        if not milestone.raw:
            return None
        current = wire_from_raw(milestone.raw)
        if current.id != key.id:
            raise errors.ValidationError(
                f"milestone.raw is billing milestone {current.id}, but the key says {key.id}", field="raw"
            )
        return current


def _key(key: MilestoneKey | None) -> MilestoneKey:
    if key is None:
        raise errors.ValidationError("milestone.key: an update needs the Kantata key of the milestone", field="key")
    if key.platform is not Platform.KANTATA:
        raise errors.ValidationError(
            f"key.platform: expected kantata, got {key.platform.value} ({key})", field="key.platform", value=key
        )
    return key


def _with_changes(milestone: Milestone, changes: Sequence[Any]) -> Milestone:
    if not changes:
        return milestone
    return milestone.model_copy(update={"changes": (*milestone.changes, *changes)})
