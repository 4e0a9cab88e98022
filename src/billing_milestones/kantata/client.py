"""Kantata OX clients: ``KantataClient`` (blocking) and ``AsyncKantataClient`` (asyncio).

Every request is built and parsed in :mod:`._operations`; the resource methods here only hand an operation
to the runner, so the sync and async twins differ in nothing but ``await``.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, Unpack

import httpx
from pydantic import SecretStr

from .. import errors
from .._base_client import AsyncAPIClient, SyncAPIClient, build_retry_policy
from .._http import (
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    AsyncRunner,
    ClientCore,
    NotGiven,
    Page,
    RetryPolicy,
    SyncRunner,
    resolve_timeout,
    secret_value,
)
from ..model import Milestone, MilestoneKey, Platform
from ._errors import error_detail, error_hook, refuse_invoiced
from ._operations import (
    IdLike,
    Include,
    KantataOperations,
    MilestoneCreateFields,
    MilestoneFilters,
    MilestoneUpdateFields,
    StoryFilters,
)
from .adapter import WorkspaceCurrency, to_create_body, to_milestone, to_update_body, wire_from_raw
from .wire import BillingMilestone, BillingMilestoneCreate, BillingMilestoneUpdate, Story, Workspace

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncBillingMilestones",
    "AsyncKantataClient",
    "AsyncKantataMilestones",
    "AsyncStories",
    "AsyncWorkspaces",
    "BillingMilestones",
    "KantataClient",
    "KantataMilestones",
    "Stories",
    "Workspaces",
]

#: The only host Kantata's docs name (no official api.kantata.com host exists).
DEFAULT_BASE_URL = "https://api.mavenlink.com/api/v1"
#: What the common view side-loads: our sync keys, and story states for READY_TO_BILL.
VIEW_INCLUDES: tuple[Include, ...] = ("external_references", "story")

IncludeArg = Sequence[str] | str | None


def _core(
    token: str | SecretStr,
    base_url: str | httpx.URL,
    max_retries: int | NotGiven,
    timeout: float | httpx.Timeout | None | NotGiven,
    retry_policy: RetryPolicy | None,
) -> ClientCore:
    secret = secret_value(token, field="token")

    def credentials() -> Mapping[str, str]:
        return {"Authorization": f"Bearer {secret.get_secret_value()}"}

    return ClientCore(
        platform=Platform.KANTATA.value,
        base_url=httpx.URL(str(base_url)),
        credentials=credentials,
        retry=build_retry_policy(max_retries, retry_policy),
        timeout=resolve_timeout(timeout, DEFAULT_TIMEOUT),
        error_detail=error_detail,
        error_hook=error_hook,
    )


# -- native resources: sync ---------------------------------------------------------------------------
class BillingMilestones:
    """``client.billing_milestones``: the Billing Schedule of a project, as Kantata names it."""

    def __init__(self, runner: SyncRunner, ops: KantataOperations) -> None:
        self._runner = runner
        self._ops = ops

    def list(self, **filters: Unpack[MilestoneFilters]) -> Iterator[BillingMilestone]:
        """Every matching milestone, 200 per page, fetched lazily (one page in memory at a time)."""
        return self._runner.iterate(self._ops.list_billing_milestones(**filters))

    def list_pages(self, **filters: Unpack[MilestoneFilters]) -> Iterator[Page[BillingMilestone]]:
        """The same walk, page by page (``page.total`` is Kantata's ``count`` for the whole query)."""
        return self._runner.pages(self._ops.list_billing_milestones(**filters))

    def get(self, milestone_id: IdLike, *, include: IncludeArg = None) -> BillingMilestone:
        return self._runner.execute(self._ops.get_billing_milestone(milestone_id, include=include))

    def create(self, *, include: IncludeArg = None, **fields: Unpack[MilestoneCreateFields]) -> BillingMilestone:
        return self._runner.execute(self._ops.create_billing_milestone(include=include, **fields))

    def create_many(
        self, items: Sequence[BillingMilestoneCreate | Mapping[str, Any]], *, include: IncludeArg = None
    ) -> builtins.list[BillingMilestone]:
        """Bulk create, 100 per POST, results in input order (each tied back to its input)."""
        return [
            m for op in self._ops.create_billing_milestones(items, include=include) for m in self._runner.execute(op)
        ]

    def update(
        self,
        milestone: IdLike | BillingMilestone,
        *,
        include: IncludeArg = None,
        **changes: Unpack[MilestoneUpdateFields],
    ) -> BillingMilestone:
        """Send only the given fields. Passing the BillingMilestone lets the client refuse an invoiced one unsent."""
        return self._runner.execute(self._ops.update_billing_milestone(milestone, include=include, **changes))

    def update_with(
        self, milestone: IdLike | BillingMilestone, body: BillingMilestoneUpdate, *, include: IncludeArg = None
    ) -> BillingMilestone:
        """PUT a ready-made update body (fields set on it are sent, others are not)."""
        return self._runner.execute(self._ops.put_billing_milestone(milestone, body, include=include))

    def delete(self, milestone: IdLike | BillingMilestone) -> None:
        """Kantata refuses to delete invoiced milestones (MilestoneInvoicedError)."""
        return self._runner.execute(self._ops.delete_billing_milestone(milestone))


class Workspaces:
    """``client.workspaces``: only what milestones need (currency and subunits)."""

    def __init__(self, runner: SyncRunner, ops: KantataOperations) -> None:
        self._runner = runner
        self._ops = ops

    def get(self, workspace_id: IdLike, *, include: IncludeArg = None) -> Workspace:
        return self._runner.execute(self._ops.get_workspace(workspace_id, include=include))


class Stories:
    """``client.stories``: tasks, whose completion triggers ``upon_completion`` milestones."""

    def __init__(self, runner: SyncRunner, ops: KantataOperations) -> None:
        self._runner = runner
        self._ops = ops

    def list(self, **filters: Unpack[StoryFilters]) -> Iterator[Story]:
        return self._runner.iterate(self._ops.list_stories(**filters))

    def get(self, story_id: IdLike) -> Story:
        return self._runner.execute(self._ops.get_story(story_id))


# -- native resources: async --------------------------------------------------------------------------
class AsyncBillingMilestones:
    """The asyncio twin of :class:`BillingMilestones`."""

    def __init__(self, runner: AsyncRunner, ops: KantataOperations) -> None:
        self._runner = runner
        self._ops = ops

    def list(self, **filters: Unpack[MilestoneFilters]) -> AsyncIterator[BillingMilestone]:
        return self._runner.iterate(self._ops.list_billing_milestones(**filters))

    def list_pages(self, **filters: Unpack[MilestoneFilters]) -> AsyncIterator[Page[BillingMilestone]]:
        return self._runner.pages(self._ops.list_billing_milestones(**filters))

    async def get(self, milestone_id: IdLike, *, include: IncludeArg = None) -> BillingMilestone:
        return await self._runner.execute(self._ops.get_billing_milestone(milestone_id, include=include))

    async def create(self, *, include: IncludeArg = None, **fields: Unpack[MilestoneCreateFields]) -> BillingMilestone:
        return await self._runner.execute(self._ops.create_billing_milestone(include=include, **fields))

    async def create_many(
        self, items: Sequence[BillingMilestoneCreate | Mapping[str, Any]], *, include: IncludeArg = None
    ) -> builtins.list[BillingMilestone]:
        return [
            m
            for op in self._ops.create_billing_milestones(items, include=include)
            for m in await self._runner.execute(op)
        ]

    async def update(
        self,
        milestone: IdLike | BillingMilestone,
        *,
        include: IncludeArg = None,
        **changes: Unpack[MilestoneUpdateFields],
    ) -> BillingMilestone:
        return await self._runner.execute(self._ops.update_billing_milestone(milestone, include=include, **changes))

    async def update_with(
        self, milestone: IdLike | BillingMilestone, body: BillingMilestoneUpdate, *, include: IncludeArg = None
    ) -> BillingMilestone:
        return await self._runner.execute(self._ops.put_billing_milestone(milestone, body, include=include))

    async def delete(self, milestone: IdLike | BillingMilestone) -> None:
        return await self._runner.execute(self._ops.delete_billing_milestone(milestone))


class AsyncWorkspaces:
    def __init__(self, runner: AsyncRunner, ops: KantataOperations) -> None:
        self._runner = runner
        self._ops = ops

    async def get(self, workspace_id: IdLike, *, include: IncludeArg = None) -> Workspace:
        return await self._runner.execute(self._ops.get_workspace(workspace_id, include=include))


class AsyncStories:
    def __init__(self, runner: AsyncRunner, ops: KantataOperations) -> None:
        self._runner = runner
        self._ops = ops

    def list(self, **filters: Unpack[StoryFilters]) -> AsyncIterator[Story]:
        return self._runner.iterate(self._ops.list_stories(**filters))

    async def get(self, story_id: IdLike) -> Story:
        return await self._runner.execute(self._ops.get_story(story_id))


# -- the common view ------------------------------------------------------------------------------------
class _ViewBase:
    """What the sync and async views share: key checks and the per-client workspace currency cache."""

    platform: Platform = Platform.KANTATA

    def __init__(self, ops: KantataOperations) -> None:
        self._ops = ops
        self._currencies: dict[str, WorkspaceCurrency] = {}
        #: Today's date for READY_TO_BILL; replace it to make listings reproducible.
        self.today: Callable[[], dt.date] = dt.date.today

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
        if key not in self._currencies:
            self._currencies[key] = WorkspaceCurrency.from_workspace(self._client.workspaces.get(key))
        return self._currencies[key]

    def list(self, container_id: str) -> Iterator[Milestone]:
        ws = self.workspace_currency(container_id)
        today = self.today()
        for wire in self._client.billing_milestones.list(workspace_ids=[container_id], include=VIEW_INCLUDES):
            yield to_milestone(wire, ws, today=today)

    def create(
        self, container_id: str, milestones: Sequence[Milestone], *, allow_drop: bool = False
    ) -> builtins.list[Milestone]:
        """Create all of them, 100 per POST; each result carries what translation dropped (``allow_drop``)."""
        if not milestones:
            return []
        ws = self.workspace_currency(container_id)
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
        if key not in self._currencies:
            self._currencies[key] = WorkspaceCurrency.from_workspace(await self._client.workspaces.get(key))
        return self._currencies[key]

    async def list(self, container_id: str) -> AsyncIterator[Milestone]:
        ws = await self.workspace_currency(container_id)
        today = self.today()
        async for wire in self._client.billing_milestones.list(workspace_ids=[container_id], include=VIEW_INCLUDES):
            yield to_milestone(wire, ws, today=today)

    async def create(
        self, container_id: str, milestones: Sequence[Milestone], *, allow_drop: bool = False
    ) -> builtins.list[Milestone]:
        if not milestones:
            return []
        ws = await self.workspace_currency(container_id)
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


# -- clients ---------------------------------------------------------------------------------------------
class KantataClient(SyncAPIClient):
    """Blocking Kantata OX client.

    >>> with KantataClient("token") as kantata:
    ...     for m in kantata.billing_milestones.list(workspace_ids=["123"]):
    ...         print(m.title, m.amount_in_cents)

    ``json_suffix=True`` appends ``.json`` to every path, for tenants or proxies that need it [U].
    """

    billing_milestones: BillingMilestones
    workspaces: Workspaces
    stories: Stories
    milestones: KantataMilestones

    def __init__(
        self,
        token: str | SecretStr,
        *,
        base_url: str | httpx.URL = DEFAULT_BASE_URL,
        max_retries: int | NotGiven = NOT_GIVEN,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        http_client: httpx.Client | None = None,
        json_suffix: bool = False,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self._ops = KantataOperations(json_suffix=json_suffix)
        super().__init__(_core(token, base_url, max_retries, timeout, retry_policy), http_client)

    def _init_resources(self) -> None:
        self.billing_milestones = BillingMilestones(self._runner, self._ops)
        self.workspaces = Workspaces(self._runner, self._ops)
        self.stories = Stories(self._runner, self._ops)
        self.milestones = KantataMilestones(self)

    def __repr__(self) -> str:
        return f"KantataClient(base_url={str(self.base_url)!r})"


class AsyncKantataClient(AsyncAPIClient):
    """Asyncio Kantata OX client; the same arguments and resources as :class:`KantataClient`."""

    billing_milestones: AsyncBillingMilestones
    workspaces: AsyncWorkspaces
    stories: AsyncStories
    milestones: AsyncKantataMilestones

    def __init__(
        self,
        token: str | SecretStr,
        *,
        base_url: str | httpx.URL = DEFAULT_BASE_URL,
        max_retries: int | NotGiven = NOT_GIVEN,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        http_client: httpx.AsyncClient | None = None,
        json_suffix: bool = False,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self._ops = KantataOperations(json_suffix=json_suffix)
        super().__init__(_core(token, base_url, max_retries, timeout, retry_policy), http_client)

    def _init_resources(self) -> None:
        self.billing_milestones = AsyncBillingMilestones(self._runner, self._ops)
        self.workspaces = AsyncWorkspaces(self._runner, self._ops)
        self.stories = AsyncStories(self._runner, self._ops)
        self.milestones = AsyncKantataMilestones(self)

    def __repr__(self) -> str:
        return f"AsyncKantataClient(base_url={str(self.base_url)!r})"
