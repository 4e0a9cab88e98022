"""Autotask PSA clients: ``AutotaskClient`` and ``AsyncAutotaskClient``.

Thin on purpose: requests, parsers and every rule live in ``_operations`` (sans-IO) and ``adapter`` (pure),
construction in ``_setup`` and the view's write plans in ``_plans``; this module adds zone discovery, the
picklist and currency caches and the two ways of waiting for I/O.
"""

from __future__ import annotations

import asyncio
import builtins
import datetime as dt
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, NoReturn, TypeVar

import httpx
from pydantic import SecretStr

from .. import errors
from .._base_client import AsyncAPIClient, SyncAPIClient
from .._http import (
    NOT_GIVEN,
    AsyncLimiter,
    AsyncRunner,
    NotGiven,
    Operation,
    Page,
    PagedOperation,
    RetryPolicy,
    SyncLimiter,
    SyncRunner,
)
from ..model import Milestone, MilestoneKey, Platform
from . import _containers, adapter
from . import _operations as ops
from ._plans import created as _created
from ._plans import plan_update as _plan_update
from ._plans import prepare_create as _prepare_create
from ._plans import updatable as _updatable
from ._plans import with_options as _with_options
from ._setup import CurrencySetting
from ._setup import build as _build
from ._setup import container_id as _container
from ._setup import given_currency as _given_currency
from ._setup import key_ids as _key_ids
from .query import FilterLike, as_query
from .wire import ContractMilestone, FieldsResponse, ThresholdInformation, ZoneInformation

__all__ = [
    "AsyncAutotaskClient",
    "AsyncAutotaskMilestones",
    "AsyncContractMilestones",
    "AutotaskClient",
    "AutotaskMilestones",
    "ContractMilestones",
]

T = TypeVar("T")


# ==================================================================================================
# sync
# ==================================================================================================
class AutotaskClient(SyncAPIClient):
    """Autotask PSA REST client. ``base_url=None`` discovers the user's zone on first use."""

    platform = Platform.AUTOTASK

    def __init__(
        self,
        username: str,
        secret: str | SecretStr,
        integration_code: str | SecretStr,
        *,
        base_url: str | httpx.URL | None = None,
        impersonation_resource_id: int | None = None,
        max_retries: int | NotGiven = NOT_GIVEN,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        http_client: httpx.Client | None = None,
        limiter: SyncLimiter | None = None,
        retry_policy: RetryPolicy | None = None,
        max_threads: int = 3,
        hourly_budget: int | ops.RequestBudget | None = None,
        discovery_url: str = ops.DEFAULT_DISCOVERY_URL,
        currency: CurrencySetting = None,
    ) -> None:
        core, discovery, state = _build(
            username,
            secret,
            integration_code,
            base_url=base_url,
            impersonation_resource_id=impersonation_resource_id,
            max_retries=max_retries,
            timeout=timeout,
            retry_policy=retry_policy,
            max_threads=max_threads,
            hourly_budget=hourly_budget,
            discovery_url=discovery_url,
            currency=currency,
        )
        self._username = username
        self._state = state
        self._max_threads = max_threads
        super().__init__(core, http_client, limiter=limiter)
        self._discovery = SyncRunner(discovery, self._runner.http)

    def _init_resources(self) -> None:
        self.contract_milestones = ContractMilestones(self)
        self.milestones = AutotaskMilestones(self)

    # -- zones --------------------------------------------------------------------------------------
    def zone_information(self) -> ZoneInformation:
        """The zone the user lives in (discovered once, then cached)."""
        self._ensure_zone()
        if self._state.zone is None:
            return self._discovery.execute(ops.zone_operation(self._username))
        return self._state.zone

    def _discover(self, stale: httpx.URL | None) -> None:
        with self._state.lock:
            if self._state.zone_url is not None and self._state.zone_url != stale:
                return  # another thread already refreshed it
            zone = self._discovery.execute(ops.zone_operation(self._username))
            self._state.zone_url = ops.zone_api_base(zone, self._discovery.core.base_url)  # trusted, or raises
            self._state.zone = zone
            self._state.discoveries += 1

    def _ensure_zone(self) -> None:
        if self._state.zone_url is None:
            self._discover(None)
        url = self._state.zone_url
        assert url is not None
        if self._core.base_url != url:
            self._core = self._core.with_options(base_url=url)
            self._runner.core = self._core

    def _rediscover_after(self, exc: errors.AuthenticationError, used: httpx.URL) -> None:
        """An unexpected 401 may mean the tenant moved zones: look the zone up again (once)."""
        if self._state.explicit:
            raise exc
        self._discover(used)
        self._ensure_zone()

    def _execute(self, op: Operation[T]) -> T:
        self._ensure_zone()
        used = self._core.base_url
        try:
            return self._runner.execute(op)
        except errors.AuthenticationError as exc:
            self._rediscover_after(exc, used)
        return self._runner.execute(op)

    def _pages(self, op: PagedOperation[T]) -> Iterator[Page[T]]:
        self._ensure_zone()
        used = self._core.base_url
        pages = self._runner.pages(op)
        try:
            first = next(pages)
        except StopIteration:
            return
        except errors.AuthenticationError as exc:
            self._rediscover_after(exc, used)
            pages = self._runner.pages(op)
            first = next(pages)
        yield first
        yield from pages

    # -- global endpoints ---------------------------------------------------------------------------
    def threshold_information(self) -> ThresholdInformation:
        """The tenant's hourly threshold and current usage (itself one request on its own thread slot)."""
        return self._execute(ops.threshold_operation())

    def currency_for(self, contract_id: int, override: str | None = None, *, refresh: bool = False) -> str:
        """The ISO 4217 code of the contract's amounts: ``override``, else the client's ``currency=``, else
        resolved (Contracts -> Companies -> Currencies) and cached per client. ``refresh=True`` re-reads."""
        given = _given_currency(self._state, contract_id, override)
        if given is not None:
            return given
        cache = self._state.currencies
        if refresh:
            cache.by_contract.pop(_container(contract_id), None)
        return self._run(ops.resolve_currency(contract_id, cache))

    def _run(self, flow: ops.CurrencyFlow) -> str:
        """Drive a sans-IO flow: execute each Operation it yields and send back the result (or the error)."""
        result: Any = None
        error: errors.APIError | None = None
        while True:
            try:
                op = flow.throw(error) if error is not None else flow.send(result)
            except StopIteration as done:
                return str(done.value)
            result, error = None, None
            try:
                result = self._execute(op)
            except errors.APIError as exc:
                error = exc


class ContractMilestones:
    """``client.contract_milestones``: the native ContractMilestones entity."""

    def __init__(self, client: AutotaskClient) -> None:
        self._client = client

    def query(
        self, filter: FilterLike = None, *, max_records: int | None = None, include_fields: Sequence[str] | None = None
    ) -> Iterator[ContractMilestone]:
        """Every match, 500 per page, following ``nextPageUrl``; one page in memory at a time."""
        for page in self.query_pages(filter, max_records=max_records, include_fields=include_fields):
            yield from page.items

    def query_pages(
        self, filter: FilterLike = None, *, max_records: int | None = None, include_fields: Sequence[str] | None = None
    ) -> Iterator[Page[ContractMilestone]]:
        query = _with_options(as_query(filter), max_records, include_fields)
        return self._client._pages(ops.query_operation(query))

    def count(self, filter: FilterLike = None) -> int:
        return self._client._execute(ops.count_operation(as_query(filter)))

    def get(self, milestone_id: int) -> ContractMilestone:
        """One record; ``item: null`` raises NotFoundError."""
        return self._client._execute(ops.get_operation(milestone_id))

    def status_picklist(self, *, refresh: bool = False) -> ops.StatusPicklist:
        """The status picklist (value -> label), fetched once per client."""
        state = self._client._state
        if state.picklist is None or refresh:
            state.picklist = self._client._execute(ops.picklist_operation())
        return state.picklist

    def fields(self) -> FieldsResponse:
        return self._client._execute(ops.fields_operation())

    def create(
        self,
        contract_id: int,
        *,
        title: str,
        amount: Any,
        date_due: dt.date | dt.datetime | str,
        status: int | str | None = None,
        is_initial_payment: bool = False,
        description: str | None = None,
        billing_code_id: int | None = None,
        organizational_level_association_id: int | None = None,
    ) -> int:
        """POST /Contracts/{id}/Milestones; returns the new id. ``status`` takes a value or a label."""
        fields: dict[str, Any] = {
            "title": title,
            "amount": amount,
            "date_due": date_due,
            "is_initial_payment": is_initial_payment,
            "description": description,
        }
        if status is not None:
            fields["status"] = status
        if billing_code_id is not None:
            fields["billing_code_id"] = billing_code_id
        if organizational_level_association_id is not None:
            fields["organizational_level_association_id"] = organizational_level_association_id
        op, _ = ops.create_operation(contract_id, fields, self.status_picklist())
        return self._client._execute(op)

    def update(
        self, contract_id: int, milestone_id: int, /, *, current: ContractMilestone | None = None, **changed: Any
    ) -> int:
        """PATCH only ``changed``. Without ``current`` the record is read first, to refuse a Billed one."""
        picklist = self.status_picklist()
        record = current if current is not None else self.get(milestone_id)
        op, _ = ops.update_operation(contract_id, milestone_id, changed, record, picklist)
        return self._client._execute(op)

    def delete(self, milestone_id: int) -> NoReturn:
        """Always raises: Autotask has no way to delete a contract milestone."""
        raise ops.unsupported_delete(milestone_id)


class AutotaskMilestones:
    """``client.milestones``: the common view over contract milestones (container = contract id)."""

    platform = Platform.AUTOTASK

    def __init__(self, client: AutotaskClient) -> None:
        self._client = client

    def list(self, container_id: str, *, currency: str | None = None) -> Iterator[Milestone]:
        cid = _container(container_id)
        code = _containers.currency_of_existing(self._client, cid, currency)
        picklist = self._client.contract_milestones.status_picklist()
        for record in _containers.records_of(self._client, cid):
            yield adapter.to_milestone(record, picklist=picklist.labels, currency=code)

    def create(
        self,
        container_id: str,
        milestones: Sequence[Milestone],
        *,
        currency: str | None = None,
        truncate: bool = False,
        fallback_due: dt.date | None = None,
    ) -> builtins.list[Milestone]:
        """Sequential creates (a failure stops the batch; earlier ones exist and are in the error's notes)."""
        cid = _container(container_id)
        code = _containers.currency_of_existing(self._client, cid, currency)
        picklist = self._client.contract_milestones.status_picklist()
        prepared = [_prepare_create(m, cid, picklist, code, truncate, fallback_due) for m in milestones]
        created: builtins.list[Milestone] = []
        for (op, payload), translated in prepared:
            try:
                new_id = self._client._execute(op)
            except errors.APIError as exc:
                exc.add_note(f"created before the failure: {[str(m.key) for m in created]}")
                raise
            created.append(_created(payload, new_id, translated, picklist, code))
        return created

    def update(
        self,
        milestone: Milestone,
        *,
        currency: str | None = None,
        truncate: bool = False,
        fallback_due: dt.date | None = None,
    ) -> Milestone:
        """PATCH what differs from ``milestone.raw`` (read first when there is no raw); Billed is locked."""
        cid, mid = _updatable(milestone)
        code = self._client.currency_for(cid, currency)
        picklist = self._client.contract_milestones.status_picklist()
        translated = adapter.to_wire_fields(
            milestone, picklist=picklist.labels, currency=code, truncate=truncate, fallback_due=fallback_due
        )
        current = (
            ContractMilestone.model_validate(milestone.raw)
            if milestone.raw
            else self._client.contract_milestones.get(mid)
        )
        plan = _plan_update(cid, mid, translated, current, picklist, code)
        if plan.op is not None:
            self._client._execute(plan.op)
        return plan.result

    def delete(self, key: MilestoneKey) -> None:
        _key_ids(key)
        raise ops.unsupported_delete(key.id)


# ==================================================================================================
# async
# ==================================================================================================
class AsyncAutotaskClient(AsyncAPIClient):
    """The asyncio twin of :class:`AutotaskClient`; same arguments, awaitable calls."""

    platform = Platform.AUTOTASK

    def __init__(
        self,
        username: str,
        secret: str | SecretStr,
        integration_code: str | SecretStr,
        *,
        base_url: str | httpx.URL | None = None,
        impersonation_resource_id: int | None = None,
        max_retries: int | NotGiven = NOT_GIVEN,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        http_client: httpx.AsyncClient | None = None,
        limiter: AsyncLimiter | None = None,
        retry_policy: RetryPolicy | None = None,
        max_threads: int = 3,
        hourly_budget: int | ops.RequestBudget | None = None,
        discovery_url: str = ops.DEFAULT_DISCOVERY_URL,
        currency: CurrencySetting = None,
    ) -> None:
        core, discovery, state = _build(
            username,
            secret,
            integration_code,
            base_url=base_url,
            impersonation_resource_id=impersonation_resource_id,
            max_retries=max_retries,
            timeout=timeout,
            retry_policy=retry_policy,
            max_threads=max_threads,
            hourly_budget=hourly_budget,
            discovery_url=discovery_url,
            currency=currency,
        )
        self._username = username
        self._state = state
        self._max_threads = max_threads
        super().__init__(core, http_client, limiter=limiter)
        self._discovery = AsyncRunner(discovery, self._runner.http)

    def _init_resources(self) -> None:
        self.contract_milestones = AsyncContractMilestones(self)
        self.milestones = AsyncAutotaskMilestones(self)

    async def zone_information(self) -> ZoneInformation:
        await self._ensure_zone()
        if self._state.zone is None:
            return await self._discovery.execute(ops.zone_operation(self._username))
        return self._state.zone

    async def _discover(self, stale: httpx.URL | None) -> None:
        if self._state.alock is None:
            self._state.alock = asyncio.Lock()
        async with self._state.alock:
            if self._state.zone_url is not None and self._state.zone_url != stale:
                return
            zone = await self._discovery.execute(ops.zone_operation(self._username))
            self._state.zone_url = ops.zone_api_base(zone, self._discovery.core.base_url)  # trusted, or raises
            self._state.zone = zone
            self._state.discoveries += 1

    async def _ensure_zone(self) -> None:
        if self._state.zone_url is None:
            await self._discover(None)
        url = self._state.zone_url
        assert url is not None
        if self._core.base_url != url:
            self._core = self._core.with_options(base_url=url)
            self._runner.core = self._core

    async def _rediscover_after(self, exc: errors.AuthenticationError, used: httpx.URL) -> None:
        if self._state.explicit:
            raise exc
        await self._discover(used)
        await self._ensure_zone()

    async def _execute(self, op: Operation[T]) -> T:
        await self._ensure_zone()
        used = self._core.base_url
        try:
            return await self._runner.execute(op)
        except errors.AuthenticationError as exc:
            await self._rediscover_after(exc, used)
        return await self._runner.execute(op)

    async def _pages(self, op: PagedOperation[T]) -> AsyncIterator[Page[T]]:
        await self._ensure_zone()
        used = self._core.base_url
        pages = self._runner.pages(op)
        try:
            first = await anext(pages)
        except StopAsyncIteration:
            return
        except errors.AuthenticationError as exc:
            await self._rediscover_after(exc, used)
            pages = self._runner.pages(op)
            first = await anext(pages)
        yield first
        async for page in pages:
            yield page

    async def threshold_information(self) -> ThresholdInformation:
        return await self._execute(ops.threshold_operation())

    async def currency_for(self, contract_id: int, override: str | None = None, *, refresh: bool = False) -> str:
        """The ISO 4217 code of the contract's amounts: ``override``, else the client's ``currency=``, else
        resolved (Contracts -> Companies -> Currencies) and cached per client. ``refresh=True`` re-reads."""
        given = _given_currency(self._state, contract_id, override)
        if given is not None:
            return given
        cache = self._state.currencies
        if refresh:
            cache.by_contract.pop(_container(contract_id), None)
        return await self._run(ops.resolve_currency(contract_id, cache))

    async def _run(self, flow: ops.CurrencyFlow) -> str:
        result: Any = None
        error: errors.APIError | None = None
        while True:
            try:
                op = flow.throw(error) if error is not None else flow.send(result)
            except StopIteration as done:
                return str(done.value)
            result, error = None, None
            try:
                result = await self._execute(op)
            except errors.APIError as exc:
                error = exc


class AsyncContractMilestones:
    """``client.contract_milestones`` on the async client."""

    def __init__(self, client: AsyncAutotaskClient) -> None:
        self._client = client

    async def query(
        self, filter: FilterLike = None, *, max_records: int | None = None, include_fields: Sequence[str] | None = None
    ) -> AsyncIterator[ContractMilestone]:
        async for page in self.query_pages(filter, max_records=max_records, include_fields=include_fields):
            for item in page.items:
                yield item

    def query_pages(
        self, filter: FilterLike = None, *, max_records: int | None = None, include_fields: Sequence[str] | None = None
    ) -> AsyncIterator[Page[ContractMilestone]]:
        query = _with_options(as_query(filter), max_records, include_fields)
        return self._client._pages(ops.query_operation(query))

    async def count(self, filter: FilterLike = None) -> int:
        return await self._client._execute(ops.count_operation(as_query(filter)))

    async def get(self, milestone_id: int) -> ContractMilestone:
        return await self._client._execute(ops.get_operation(milestone_id))

    async def status_picklist(self, *, refresh: bool = False) -> ops.StatusPicklist:
        state = self._client._state
        if state.picklist is None or refresh:
            state.picklist = await self._client._execute(ops.picklist_operation())
        return state.picklist

    async def fields(self) -> FieldsResponse:
        return await self._client._execute(ops.fields_operation())

    async def create(
        self,
        contract_id: int,
        *,
        title: str,
        amount: Any,
        date_due: dt.date | dt.datetime | str,
        status: int | str | None = None,
        is_initial_payment: bool = False,
        description: str | None = None,
        billing_code_id: int | None = None,
        organizational_level_association_id: int | None = None,
    ) -> int:
        fields: dict[str, Any] = {
            "title": title,
            "amount": amount,
            "date_due": date_due,
            "is_initial_payment": is_initial_payment,
            "description": description,
        }
        if status is not None:
            fields["status"] = status
        if billing_code_id is not None:
            fields["billing_code_id"] = billing_code_id
        if organizational_level_association_id is not None:
            fields["organizational_level_association_id"] = organizational_level_association_id
        op, _ = ops.create_operation(contract_id, fields, await self.status_picklist())
        return await self._client._execute(op)

    async def update(
        self, contract_id: int, milestone_id: int, /, *, current: ContractMilestone | None = None, **changed: Any
    ) -> int:
        picklist = await self.status_picklist()
        record = current if current is not None else await self.get(milestone_id)
        op, _ = ops.update_operation(contract_id, milestone_id, changed, record, picklist)
        return await self._client._execute(op)

    async def delete(self, milestone_id: int) -> NoReturn:
        raise ops.unsupported_delete(milestone_id)


class AsyncAutotaskMilestones:
    """``client.milestones`` on the async client; creates run concurrently, bounded by ``max_threads``."""

    platform = Platform.AUTOTASK

    def __init__(self, client: AsyncAutotaskClient) -> None:
        self._client = client

    async def list(self, container_id: str, *, currency: str | None = None) -> AsyncIterator[Milestone]:
        cid = _container(container_id)
        code = await _containers.acurrency_of_existing(self._client, cid, currency)
        picklist = await self._client.contract_milestones.status_picklist()
        async for record in _containers.arecords_of(self._client, cid):
            yield adapter.to_milestone(record, picklist=picklist.labels, currency=code)

    async def create(
        self,
        container_id: str,
        milestones: Sequence[Milestone],
        *,
        currency: str | None = None,
        truncate: bool = False,
        fallback_due: dt.date | None = None,
    ) -> builtins.list[Milestone]:
        cid = _container(container_id)
        code = await _containers.acurrency_of_existing(self._client, cid, currency)
        picklist = await self._client.contract_milestones.status_picklist()
        prepared = [_prepare_create(m, cid, picklist, code, truncate, fallback_due) for m in milestones]
        gate = asyncio.Semaphore(self._client._max_threads)

        async def one(op: Operation[int], payload: dict[str, Any], translated: adapter.WireFields) -> Milestone:
            async with gate:
                new_id = await self._client._execute(op)
            return _created(payload, new_id, translated, picklist, code)

        results = await asyncio.gather(*(one(op, p, t) for (op, p), t in prepared), return_exceptions=True)
        created = [r for r in results if isinstance(r, Milestone)]
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            first = failures[0]
            first.add_note(f"created despite the failure: {[str(m.key) for m in created]}")
            raise first
        return created

    async def update(
        self,
        milestone: Milestone,
        *,
        currency: str | None = None,
        truncate: bool = False,
        fallback_due: dt.date | None = None,
    ) -> Milestone:
        cid, mid = _updatable(milestone)
        code = await self._client.currency_for(cid, currency)
        picklist = await self._client.contract_milestones.status_picklist()
        translated = adapter.to_wire_fields(
            milestone, picklist=picklist.labels, currency=code, truncate=truncate, fallback_due=fallback_due
        )
        current = (
            ContractMilestone.model_validate(milestone.raw)
            if milestone.raw
            else await self._client.contract_milestones.get(mid)
        )
        plan = _plan_update(cid, mid, translated, current, picklist, code)
        if plan.op is not None:
            await self._client._execute(plan.op)
        return plan.result

    async def delete(self, key: MilestoneKey) -> None:
        _key_ids(key)
        raise ops.unsupported_delete(key.id)
