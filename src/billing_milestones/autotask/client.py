"""Autotask PSA clients: ``AutotaskClient`` (blocking) and ``AsyncAutotaskClient`` (asyncio).

Thin on purpose: requests, parsers and rules live in ``_operations`` (sans-IO) and ``adapter`` (pure); every
multi-step call is a flow in ``_flows``, written once, and zone discovery is a hook the runner runs
(``_flows.ZoneHooks``). So each method below hands one operation or flow to the runner, and the sync and
async classes differ in nothing but how they wait.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any, NoReturn, TypedDict, Unpack

from pydantic import SecretStr

from .._base_client import AsyncAPIClient, SyncAPIClient, transport
from .._http import AsyncRunner, ClientCore, Page, SyncRunner
from .._listing import awalk, walk
from .._metadata_store import NameStore
from .._order import aordered, ordered
from ..model import Milestone, MilestoneKey, Platform
from . import _flows as flows
from . import _operations as ops
from ._plans import with_options
from ._raw import AsyncContractMilestonesWithRawResponse, ContractMilestonesWithRawResponse
from ._setup import AsyncOptions, SharedState, SyncOptions, build, persist_in
from .query import FilterLike, Query, as_query
from .wire import ContractMilestone, FieldsResponse, ThresholdInformation, ZoneInformation

__all__ = [
    "AsyncAutotaskClient",
    "AsyncAutotaskMilestones",
    "AsyncContractMilestones",
    "AutotaskClient",
    "AutotaskMilestones",
    "ContractMilestones",
    "QueryOptions",
    "ViewOptions",
]

Secret = str | SecretStr
CreateFields = ops.ContractMilestoneCreateFields
UpdateFields = ops.ContractMilestoneUpdateFields


class QueryOptions(TypedDict, total=False):
    """``max_records`` caps the records per page (Autotask: 500 at most); ``include_fields`` trims each record."""

    max_records: int | None
    include_fields: Sequence[str] | None


class ViewOptions(TypedDict, total=False):
    """Options of the common view's writes: the amounts' currency, whether to cut over-long text to fit
    (listed in ``changes``) and the due date for a milestone that has none (Autotask requires one)."""

    currency: str | None
    truncate: bool
    fallback_due: dt.date | None


def _query(filter: FilterLike, options: QueryOptions) -> Query:
    return with_options(as_query(filter), options.get("max_records"), options.get("include_fields"))


def _view(options: ViewOptions) -> tuple[str | None, bool, dt.date | None]:
    return options.get("currency"), options.get("truncate", False), options.get("fallback_due")


# -- blocking -----------------------------------------------------------------------------------------
class ContractMilestones:
    """``client.contract_milestones``: the native ContractMilestones entity."""

    #: Each method's raw twin: the response's headers, status code and request id, ``.parse()`` the result.
    with_raw_response = cached_property(ContractMilestonesWithRawResponse)

    def __init__(self, runner: SyncRunner, state: SharedState) -> None:
        self._runner, self._state = runner, state

    def query(self, filter: FilterLike = None, **options: Unpack[QueryOptions]) -> Iterator[ContractMilestone]:
        """Every match, 500 per page, following ``nextPageUrl``; one page in memory at a time."""
        return self._runner.iterate(ops.query_operation(_query(filter, options)))

    def query_pages(
        self, filter: FilterLike = None, **options: Unpack[QueryOptions]
    ) -> Iterator[Page[ContractMilestone]]:
        """The same walk, page by page."""
        return self._runner.pages(ops.query_operation(_query(filter, options)))

    def count(self, filter: FilterLike = None) -> int:
        return self._runner.execute(ops.count_operation(as_query(filter)))

    def get(self, milestone_id: int) -> ContractMilestone:
        """One record; ``item: null`` raises NotFoundError."""
        return self._runner.execute(ops.get_operation(milestone_id))

    def status_picklist(self, *, refresh: bool = False) -> ops.StatusPicklist:
        """The status picklist (value -> label), fetched once per client."""
        return self._runner.run_flow(flows.status_picklist(self._state, refresh))

    def fields(self) -> FieldsResponse:
        return self._runner.execute(ops.fields_operation())

    def create(self, contract_id: int, **fields: Unpack[CreateFields]) -> int:
        """POST /Contracts/{id}/Milestones; returns the new id. ``status`` takes a value or a label."""
        return self._runner.run_flow(flows.contract_create(self._state, contract_id, fields))

    def update(
        self,
        contract_id: int,
        milestone_id: int,
        /,
        *,
        current: ContractMilestone | None = None,
        **changed: Unpack[UpdateFields],
    ) -> int:
        """PATCH only ``changed``. Without ``current`` the record is read first, to refuse a Billed one."""
        return self._runner.run_flow(flows.contract_update(self._state, contract_id, milestone_id, current, changed))

    def delete(self, milestone_id: int) -> NoReturn:
        """Always raises: Autotask has no way to delete a contract milestone."""
        raise ops.unsupported_delete(milestone_id)


class AutotaskMilestones:
    """``client.milestones``: the common view over contract milestones (container = contract id)."""

    platform = Platform.AUTOTASK

    def __init__(self, runner: SyncRunner, state: SharedState) -> None:
        self._runner, self._state = runner, state

    def list(self, container_id: str, *, currency: str | None = None) -> Iterator[Milestone]:
        """The contract's milestones by due date, then title, then id, undated last (see ``_order``); every
        page is read before the first is yielded. NotFoundError names a contract that does not exist."""
        return ordered(self.stream(container_id, currency=currency))

    def stream(self, container_id: str, *, currency: str | None = None) -> Iterator[Milestone]:
        """The same milestones in Autotask's order, one page in memory at a time (what the sync engine reads)."""
        return walk(self._runner, flows.view_listing(self._state, container_id, currency))

    def create(
        self, container_id: str, milestones: Sequence[Milestone], **options: Unpack[ViewOptions]
    ) -> builtins.list[Milestone]:
        """One create after the other; the first failure stops the batch (see ``_flows.view_create``)."""
        return self._runner.run_flow(flows.view_create(self._state, container_id, milestones, *_view(options)))

    def update(self, milestone: Milestone, **options: Unpack[ViewOptions]) -> Milestone:
        """PATCH what differs from ``milestone.raw`` (read first when there is no raw); Billed is locked."""
        return self._runner.run_flow(flows.view_update(self._state, milestone, *_view(options)))

    def delete(self, key: MilestoneKey) -> None:
        """Always raises UnsupportedOperationError, before sending."""
        return self._runner.run_flow(flows.view_delete(key))


class _Autotask:
    """What both Autotask clients are made of: the checked core, the shared state and the zone hooks."""

    platform = Platform.AUTOTASK

    def _configure(self, credentials: Sequence[Secret | None], options: Mapping[str, Any]) -> ClientCore:
        core, self._state = build(credentials, options)
        self._hooks = flows.ZoneHooks(self._state, self._state.username)
        return core

    def persist_metadata(self, store: NameStore | None) -> None:
        """Keep the tenant's zone and status picklist in ``store`` too (a LinkStore; None: no longer), so
        that another process's client reads them there within the TTL instead of asking the API (checked as
        an answer would be, never trusted). Nothing secret is written: the keys digest the host, the user
        name and the impersonation id only; the values are the zone and the status labels. The sync engine
        lends its link store."""
        persist_in(self._state, store)


class AutotaskClient(_Autotask, SyncAPIClient):
    """Autotask PSA REST client: ``AutotaskClient(username, secret, integration_code, **options)`` (the three
    also by name). ``base_url=None`` discovers the user's zone on first use.

    Credentials not given are read from ``AUTOTASK_USERNAME``, ``AUTOTASK_SECRET`` and
    ``AUTOTASK_INTEGRATION_CODE`` (``base_url`` from ``AUTOTASK_BASE_URL``), the variables the CLI documents; a
    ConfigError names whichever is missing.

    Keyword options (:class:`~._setup.SyncOptions`): ``base_url``, ``impersonation_resource_id``,
    ``max_retries``, ``timeout``, ``retry_policy``, ``http_client`` (an ``httpx.Client``), ``max_threads``
    (requests in flight per endpoint, 3 by default as Autotask's thread threshold), ``limiter`` (replaces
    that in-process limit, e.g. with one shared by worker processes), ``hourly_budget`` (an int or any
    :class:`~._core.RequestBudget`: authenticated attempts, refused unsent once spent), ``request_budget``
    (asked before every attempt and waited on, as on every client), ``discovery_url``, ``currency`` (a code,
    or contract id -> code) and
    ``metadata_cache`` (a :class:`~billing_milestones.autotask.MetadataCache` shared with other
    clients of the tenant, which then read its zone and status picklist once between them; the sync engine's
    ``connect`` passes the process-wide one; None, the default, shares nothing).
    """

    #: ContractMilestones in Autotask's own shapes, with its query language.
    contract_milestones: ContractMilestones
    #: The common view: Milestone in, Milestone out.
    milestones: AutotaskMilestones

    def __init__(self, *credentials: Secret | None, **options: Unpack[SyncOptions]) -> None:
        super().__init__(self._configure(credentials, options), hooks=self._hooks, **transport(options))

    def _init_resources(self) -> None:
        """The resources, bound to this client's runner (again on each ``with_options`` copy)."""
        self.contract_milestones = ContractMilestones(self._runner, self._state)
        self.milestones = AutotaskMilestones(self._runner, self._state)

    def zone_information(self) -> ZoneInformation:
        """The zone the user lives in (discovered once, then cached)."""
        return self._runner.run_flow(flows.zone_information(self._hooks))

    def threshold_information(self) -> ThresholdInformation:
        """The tenant's hourly threshold and current usage (itself one request on its own thread slot)."""
        return self._runner.execute(ops.threshold_operation())

    def currency_for(self, contract_id: int, override: str | None = None, *, refresh: bool = False) -> str:
        """The ISO 4217 code of the contract's amounts: ``override``, else the client's ``currency=``, else
        resolved (Contracts -> Companies -> Currencies) and cached per client. ``refresh=True`` re-reads."""
        return self._runner.run_flow(flows.currency_for(self._state, contract_id, override, refresh))


# -- asyncio ------------------------------------------------------------------------------------------
class AsyncContractMilestones:
    """``client.contract_milestones`` of the asyncio client: each call of :class:`ContractMilestones`,
    awaitable (the listings are async iterators)."""

    #: Each method's raw twin, awaitable: ``await (await m.with_raw_response.get(1)).parse()``.
    with_raw_response = cached_property(AsyncContractMilestonesWithRawResponse)

    def __init__(self, runner: AsyncRunner, state: SharedState) -> None:
        self._runner, self._state = runner, state

    def query(self, filter: FilterLike = None, **options: Unpack[QueryOptions]) -> AsyncIterator[ContractMilestone]:
        return self._runner.iterate(ops.query_operation(_query(filter, options)))

    def query_pages(
        self, filter: FilterLike = None, **options: Unpack[QueryOptions]
    ) -> AsyncIterator[Page[ContractMilestone]]:
        return self._runner.pages(ops.query_operation(_query(filter, options)))

    async def count(self, filter: FilterLike = None) -> int:
        return await self._runner.execute(ops.count_operation(as_query(filter)))

    async def get(self, milestone_id: int) -> ContractMilestone:
        return await self._runner.execute(ops.get_operation(milestone_id))

    async def status_picklist(self, *, refresh: bool = False) -> ops.StatusPicklist:
        return await self._runner.run_flow(flows.status_picklist(self._state, refresh))

    async def fields(self) -> FieldsResponse:
        return await self._runner.execute(ops.fields_operation())

    async def create(self, contract_id: int, **fields: Unpack[CreateFields]) -> int:
        return await self._runner.run_flow(flows.contract_create(self._state, contract_id, fields))

    async def update(
        self,
        contract_id: int,
        milestone_id: int,
        /,
        *,
        current: ContractMilestone | None = None,
        **changed: Unpack[UpdateFields],
    ) -> int:
        return await self._runner.run_flow(
            flows.contract_update(self._state, contract_id, milestone_id, current, changed)
        )

    async def delete(self, milestone_id: int) -> NoReturn:
        raise ops.unsupported_delete(milestone_id)


class AsyncAutotaskMilestones:
    """``client.milestones`` of the asyncio client: the common view, with the same flows (and so the same
    behaviour, one create after the other) as :class:`AutotaskMilestones`."""

    platform = Platform.AUTOTASK

    def __init__(self, runner: AsyncRunner, state: SharedState) -> None:
        self._runner, self._state = runner, state

    def list(self, container_id: str, *, currency: str | None = None) -> AsyncIterator[Milestone]:
        return aordered(self.stream(container_id, currency=currency))

    def stream(self, container_id: str, *, currency: str | None = None) -> AsyncIterator[Milestone]:
        return awalk(self._runner, flows.view_listing(self._state, container_id, currency))

    async def create(
        self, container_id: str, milestones: Sequence[Milestone], **options: Unpack[ViewOptions]
    ) -> builtins.list[Milestone]:
        return await self._runner.run_flow(flows.view_create(self._state, container_id, milestones, *_view(options)))

    async def update(self, milestone: Milestone, **options: Unpack[ViewOptions]) -> Milestone:
        return await self._runner.run_flow(flows.view_update(self._state, milestone, *_view(options)))

    async def delete(self, key: MilestoneKey) -> None:
        return await self._runner.run_flow(flows.view_delete(key))


class AsyncAutotaskClient(_Autotask, AsyncAPIClient):
    """The asyncio Autotask client: the options of :class:`AutotaskClient`, except that ``http_client`` is an
    ``httpx.AsyncClient`` and ``limiter`` an async limiter; the same resources, with awaitable calls."""

    #: ContractMilestones in Autotask's own shapes, with its query language.
    contract_milestones: AsyncContractMilestones
    #: The common view: Milestone in, Milestone out.
    milestones: AsyncAutotaskMilestones

    def _init_resources(self) -> None:
        self.contract_milestones = AsyncContractMilestones(self._runner, self._state)
        self.milestones = AsyncAutotaskMilestones(self._runner, self._state)

    def __init__(self, *credentials: Secret | None, **options: Unpack[AsyncOptions]) -> None:
        super().__init__(self._configure(credentials, options), hooks=self._hooks, **transport(options))

    async def zone_information(self) -> ZoneInformation:
        return await self._runner.run_flow(flows.zone_information(self._hooks))

    async def threshold_information(self) -> ThresholdInformation:
        return await self._runner.execute(ops.threshold_operation())

    async def currency_for(self, contract_id: int, override: str | None = None, *, refresh: bool = False) -> str:
        return await self._runner.run_flow(flows.currency_for(self._state, contract_id, override, refresh))
