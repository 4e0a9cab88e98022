"""Kantata OX clients: ``KantataClient`` (blocking) and ``AsyncKantataClient`` (asyncio).

Every request is built and parsed in :mod:`._operations`; the resource methods here only hand an operation
to the runner, so the sync and async twins differ in nothing but ``await``.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, Unpack

import httpx
from pydantic import SecretStr

from .._base_client import AsyncAPIClient, SyncAPIClient, build_retry_policy
from .._http import (
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    AsyncLimiter,
    AsyncRunner,
    ClientCore,
    NotGiven,
    Page,
    RetryPolicy,
    SyncLimiter,
    SyncRunner,
    resolve_timeout,
    secret_value,
)
from ..model import Platform
from ._errors import error_detail, error_hook
from ._operations import (
    IdLike,
    KantataOperations,
    MilestoneCreateFields,
    MilestoneFilters,
    MilestoneUpdateFields,
    StoryFilters,
)
from ._view import AsyncKantataMilestones, KantataMilestones
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
        limiter: SyncLimiter | None = None,
        json_suffix: bool = False,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self._ops = KantataOperations(json_suffix=json_suffix)
        super().__init__(_core(token, base_url, max_retries, timeout, retry_policy), http_client, limiter=limiter)

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
        limiter: AsyncLimiter | None = None,
        json_suffix: bool = False,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self._ops = KantataOperations(json_suffix=json_suffix)
        super().__init__(_core(token, base_url, max_retries, timeout, retry_policy), http_client, limiter=limiter)

    def _init_resources(self) -> None:
        self.billing_milestones = AsyncBillingMilestones(self._runner, self._ops)
        self.workspaces = AsyncWorkspaces(self._runner, self._ops)
        self.stories = AsyncStories(self._runner, self._ops)
        self.milestones = AsyncKantataMilestones(self)

    def __repr__(self) -> str:
        return f"AsyncKantataClient(base_url={str(self.base_url)!r})"
