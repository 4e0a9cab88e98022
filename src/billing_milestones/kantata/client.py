"""Kantata OX clients: ``KantataClient`` (blocking) and ``AsyncKantataClient`` (asyncio).

Every request is built and parsed in :mod:`._operations` and every multi-step call is a flow in
:mod:`._flows`; each method here hands one operation or flow to the runner, so the sync and async classes
differ in nothing but how they wait.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any, Unpack

from pydantic import SecretStr

from .._base_client import AsyncAPIClient, SyncAPIClient, transport
from .._http import AsyncRunner, ClientCore, Page, SyncRunner
from .._listing import awalk, walk
from .._order import aordered, ordered
from ..model import Milestone, MilestoneKey
from . import _raw
from ._flows import ViewFlows, create_many
from ._operations import (
    IdLike,
    IncludeArg,
    KantataOperations,
    MilestoneCreateFields,
    MilestoneFilters,
    MilestoneUpdateFields,
    StoryFilters,
)
from ._setup import DEFAULT_BASE_URL, AsyncOptions, SyncOptions, build
from .adapter import WorkspaceCurrency
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

CreateItems = Sequence[BillingMilestoneCreate | Mapping[str, Any]]


# -- blocking -----------------------------------------------------------------------------------------
class BillingMilestones:
    """``client.billing_milestones``: the Billing Schedule of a project, as Kantata names it."""

    #: Each method's raw twin: the response's headers, status code and request id, ``.parse()`` the result.
    with_raw_response = cached_property(_raw.BillingMilestonesWithRawResponse)

    def __init__(self, runner: SyncRunner, ops: KantataOperations) -> None:
        self._runner, self._ops = runner, ops

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

    def create_many(self, items: CreateItems, *, include: IncludeArg = None) -> builtins.list[BillingMilestone]:
        """Bulk create, 100 per POST, results in input order (each tied back to its input)."""
        return self._runner.run_flow(create_many(self._ops, items, include))

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

    #: Each method's raw twin: the response's headers, status code and request id, ``.parse()`` the result.
    with_raw_response = cached_property(_raw.WorkspacesWithRawResponse)

    def __init__(self, runner: SyncRunner, ops: KantataOperations) -> None:
        self._runner, self._ops = runner, ops

    def get(self, workspace_id: IdLike, *, include: IncludeArg = None) -> Workspace:
        return self._runner.execute(self._ops.get_workspace(workspace_id, include=include))


class Stories:
    """``client.stories``: tasks, whose completion triggers ``upon_completion`` milestones."""

    #: Each method's raw twin: the response's headers, status code and request id, ``.parse()`` the result.
    with_raw_response = cached_property(_raw.StoriesWithRawResponse)

    def __init__(self, runner: SyncRunner, ops: KantataOperations) -> None:
        self._runner, self._ops = runner, ops

    def list(self, **filters: Unpack[StoryFilters]) -> Iterator[Story]:
        return self._runner.iterate(self._ops.list_stories(**filters))

    def get(self, story_id: IdLike) -> Story:
        return self._runner.execute(self._ops.get_story(story_id))


class KantataMilestones(ViewFlows):
    """``client.milestones``: the common view. The container is a Kantata workspace (project) id."""

    def __init__(self, runner: SyncRunner, ops: KantataOperations) -> None:
        super().__init__(ops)
        self._runner = runner

    def workspace_currency(self, workspace_id: str) -> WorkspaceCurrency:
        """The workspace's currency and subunit exponent, fetched once per workspace and cached."""
        return self._runner.run_flow(self._workspace_currency(workspace_id))

    def check_workspace(self, workspace_id: str) -> WorkspaceCurrency:
        """Fetch the workspace now (one GET): NotFoundError naming it when it does not exist."""
        return self._runner.run_flow(self._check_workspace(workspace_id))

    def list(self, container_id: str) -> Iterator[Milestone]:
        """Every milestone of the workspace by due date, then title, then id, undated last (see ``_order``);
        every page is read before the first is yielded. A workspace that does not exist raises NotFoundError."""
        return ordered(self.stream(container_id))

    def stream(self, container_id: str) -> Iterator[Milestone]:
        """The same milestones in Kantata's order, one page in memory at a time (what the sync engine reads)."""
        return walk(self._runner, self._listing(container_id))

    def create(
        self, container_id: str, milestones: Sequence[Milestone], *, allow_drop: bool = False
    ) -> builtins.list[Milestone]:
        """Create all of them, 100 per POST; each result carries what translation dropped (``allow_drop``).
        The workspace is fetched first, so a missing one is a NotFoundError before anything is sent."""
        return self._runner.run_flow(self._create(container_id, milestones, allow_drop))

    def update(self, milestone: Milestone, *, allow_drop: bool = False) -> Milestone:
        """Send only what differs from ``milestone.raw`` (or from a fresh GET when there is no raw)."""
        return self._runner.run_flow(self._update(milestone, allow_drop))

    def delete(self, key: MilestoneKey) -> None:
        """Delete the milestone (an invoiced one is refused)."""
        return self._runner.run_flow(self._delete(key))


class _Kantata:
    """What both Kantata clients are made of: the checked core and the operations."""

    def _configure(self, token: str | SecretStr | None, options: Mapping[str, Any]) -> ClientCore:
        core, self._ops = build(token, options)
        return core

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(getattr(self, 'base_url', '?'))!r})"


class KantataClient(_Kantata, SyncAPIClient):
    """Blocking Kantata OX client.

    ```pycon
    >>> from billing_milestones.sandbox import KantataSandbox
    >>> sandbox = KantataSandbox()  # offline; with a real account, pass only your token
    >>> ids = sandbox.seed_demo()
    >>> with KantataClient("token", http_client=sandbox.http_client()) as kantata:
    ...     for m in kantata.billing_milestones.list(workspace_ids=[ids["workspaces"]["JPY"]]):
    ...         print(m.title, m.amount_in_cents)
    Localisation done 2750000
    Kick-off 1500000

    ```

    Called without a token it reads ``KANTATA_TOKEN`` (and ``base_url`` ``KANTATA_BASE_URL``), the variables
    the CLI documents; with neither, a ConfigError names them.

    Keyword options (``SyncOptions``): ``base_url``, ``max_retries``, ``timeout``, ``http_client`` (an
    ``httpx.Client``), ``limiter``, ``request_budget`` (asked before each attempt, e.g. a per-minute rate shared
    by workers), ``retry_policy`` and ``json_suffix=True``, which appends ``.json`` to
    every path, for tenants or proxies that need it (the Kantata docs do not settle whether any still do).
    """

    #: The Billing Schedule of a workspace, in Kantata's own shapes.
    billing_milestones: BillingMilestones
    #: Workspaces (projects) and their currencies.
    workspaces: Workspaces
    #: Stories (tasks) a milestone can bill on.
    stories: Stories
    #: The common view: Milestone in, Milestone out.
    milestones: KantataMilestones

    def __init__(self, token: str | SecretStr | None = None, **options: Unpack[SyncOptions]) -> None:
        super().__init__(self._configure(token, options), **transport(options))

    def _init_resources(self) -> None:
        """The resources, bound to this client's runner (again on each ``with_options`` copy)."""
        self.billing_milestones = BillingMilestones(self._runner, self._ops)
        self.workspaces = Workspaces(self._runner, self._ops)
        self.stories = Stories(self._runner, self._ops)
        self.milestones = KantataMilestones(self._runner, self._ops)


# -- asyncio ------------------------------------------------------------------------------------------
class AsyncBillingMilestones:
    """``client.billing_milestones`` of the asyncio client: each call of :class:`BillingMilestones`,
    awaitable (the listings are async iterators)."""

    #: Each method's raw twin: the response's headers, status code and request id, ``.parse()`` the result.
    with_raw_response = cached_property(_raw.AsyncBillingMilestonesWithRawResponse)

    def __init__(self, runner: AsyncRunner, ops: KantataOperations) -> None:
        self._runner, self._ops = runner, ops

    def list(self, **filters: Unpack[MilestoneFilters]) -> AsyncIterator[BillingMilestone]:
        return self._runner.iterate(self._ops.list_billing_milestones(**filters))

    def list_pages(self, **filters: Unpack[MilestoneFilters]) -> AsyncIterator[Page[BillingMilestone]]:
        return self._runner.pages(self._ops.list_billing_milestones(**filters))

    async def get(self, milestone_id: IdLike, *, include: IncludeArg = None) -> BillingMilestone:
        return await self._runner.execute(self._ops.get_billing_milestone(milestone_id, include=include))

    async def create(self, *, include: IncludeArg = None, **fields: Unpack[MilestoneCreateFields]) -> BillingMilestone:
        return await self._runner.execute(self._ops.create_billing_milestone(include=include, **fields))

    async def create_many(self, items: CreateItems, *, include: IncludeArg = None) -> builtins.list[BillingMilestone]:
        return await self._runner.run_flow(create_many(self._ops, items, include))

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
    """``client.workspaces`` of the asyncio client."""

    #: Each method's raw twin: the response's headers, status code and request id, ``.parse()`` the result.
    with_raw_response = cached_property(_raw.AsyncWorkspacesWithRawResponse)

    def __init__(self, runner: AsyncRunner, ops: KantataOperations) -> None:
        self._runner, self._ops = runner, ops

    async def get(self, workspace_id: IdLike, *, include: IncludeArg = None) -> Workspace:
        return await self._runner.execute(self._ops.get_workspace(workspace_id, include=include))


class AsyncStories:
    """``client.stories`` of the asyncio client."""

    #: Each method's raw twin: the response's headers, status code and request id, ``.parse()`` the result.
    with_raw_response = cached_property(_raw.AsyncStoriesWithRawResponse)

    def __init__(self, runner: AsyncRunner, ops: KantataOperations) -> None:
        self._runner, self._ops = runner, ops

    def list(self, **filters: Unpack[StoryFilters]) -> AsyncIterator[Story]:
        return self._runner.iterate(self._ops.list_stories(**filters))

    async def get(self, story_id: IdLike) -> Story:
        return await self._runner.execute(self._ops.get_story(story_id))


class AsyncKantataMilestones(ViewFlows):
    """``client.milestones`` of the asyncio client: the common view, with the same flows (and so the same
    checks and results) as :class:`KantataMilestones`."""

    def __init__(self, runner: AsyncRunner, ops: KantataOperations) -> None:
        super().__init__(ops)
        self._runner = runner

    async def workspace_currency(self, workspace_id: str) -> WorkspaceCurrency:
        return await self._runner.run_flow(self._workspace_currency(workspace_id))

    async def check_workspace(self, workspace_id: str) -> WorkspaceCurrency:
        return await self._runner.run_flow(self._check_workspace(workspace_id))

    def list(self, container_id: str) -> AsyncIterator[Milestone]:
        return aordered(self.stream(container_id))

    def stream(self, container_id: str) -> AsyncIterator[Milestone]:
        return awalk(self._runner, self._listing(container_id))

    async def create(
        self, container_id: str, milestones: Sequence[Milestone], *, allow_drop: bool = False
    ) -> builtins.list[Milestone]:
        return await self._runner.run_flow(self._create(container_id, milestones, allow_drop))

    async def update(self, milestone: Milestone, *, allow_drop: bool = False) -> Milestone:
        return await self._runner.run_flow(self._update(milestone, allow_drop))

    async def delete(self, key: MilestoneKey) -> None:
        return await self._runner.run_flow(self._delete(key))


class AsyncKantataClient(_Kantata, AsyncAPIClient):
    """The asyncio Kantata OX client: the options of :class:`KantataClient`, except that ``http_client`` is
    an ``httpx.AsyncClient`` and ``limiter`` an async limiter; the same resources, with awaitable calls."""

    #: The Billing Schedule of a workspace, in Kantata's own shapes.
    billing_milestones: AsyncBillingMilestones
    #: Workspaces (projects) and their currencies.
    workspaces: AsyncWorkspaces
    #: Stories (tasks) a milestone can bill on.
    stories: AsyncStories
    #: The common view: Milestone in, Milestone out.
    milestones: AsyncKantataMilestones

    def _init_resources(self) -> None:
        self.billing_milestones = AsyncBillingMilestones(self._runner, self._ops)
        self.workspaces = AsyncWorkspaces(self._runner, self._ops)
        self.stories = AsyncStories(self._runner, self._ops)
        self.milestones = AsyncKantataMilestones(self._runner, self._ops)

    def __init__(self, token: str | SecretStr | None = None, **options: Unpack[AsyncOptions]) -> None:
        super().__init__(self._configure(token, options), **transport(options))
