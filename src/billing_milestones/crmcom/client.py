"""crm.com clients: thin sync and async shells over the sans-IO operations in ``_operations`` and ``_drafts``."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, Literal, TypeVar

import httpx
from pydantic import SecretStr

from .._base_client import AsyncAPIClient, SyncAPIClient, build_retry_policy
from .._http import (
    NOT_GIVEN,
    AsyncLimiter,
    ClientCore,
    NotGiven,
    Operation,
    Page,
    PagedOperation,
    RetryPolicy,
    SyncLimiter,
    resolve_timeout,
)
from .._http import secret_value as _secret
from .._http._types import DEFAULT_TIMEOUT
from ..errors import ConfigError, ValidationError
from ..model import Milestone, MilestoneKey, Platform
from . import _operations as ops
from ._drafts import DraftStore, OrderDraft, Write
from .adapter import AmountPreference, milestones_from_estimate
from .rules import check_milestones
from .wire import ContactToken, OrderCreated, OrderEstimate, OrderEstimateRequest, Payment, WireOrder

__all__ = ["AsyncCrmComClient", "AsyncCrmComMilestones", "CrmComClient", "CrmComMilestones"]

T = TypeVar("T")
Api = Literal["self-service", "backoffice"]


def _build(
    api_key: str | SecretStr | None,
    bearer_token: str | SecretStr | None,
    refresh_token: str | SecretStr | None,
    token_expires_at: int | None,
    base_url: str | httpx.URL,
    api: str,
    max_retries: int | NotGiven,
    timeout: float | httpx.Timeout | None | NotGiven,
    retry_policy: RetryPolicy | None,
    bearer_prefix: bool | None,
) -> tuple[ClientCore, ops.AuthState]:
    """The shared, I/O-free part of both constructors."""
    auth = ops.AuthState(
        api_key=_secret(api_key, field="api_key") if api_key is not None else None,
        access_token=_secret(bearer_token, field="bearer_token") if bearer_token is not None else None,
        refresh_token=_secret(refresh_token, field="refresh_token") if refresh_token is not None else None,
        expires_at=float(token_expires_at) if token_expires_at is not None else None,
        # Self-Service documents "Bearer"; the Backoffice client seen in the wild sends the raw token ([U]).
        bearer_prefix=(api == "self-service") if bearer_prefix is None else bearer_prefix,
    )
    core = ClientCore(
        platform=Platform.CRMCOM.value,
        base_url=ops.api_base_url(base_url, api),
        credentials=auth.headers,
        retry=build_retry_policy(max_retries, retry_policy),
        timeout=resolve_timeout(timeout, DEFAULT_TIMEOUT),
        error_detail=ops.error_detail,
    )
    return core, auth


def _payments(payments: Sequence[Payment | Mapping[str, Any]]) -> builtins.list[Any]:
    return [p.model_dump(mode="python", exclude_none=True) if isinstance(p, Payment) else dict(p) for p in payments]


# ======================================================================================================
# sync
# ======================================================================================================
class Estimates:
    """``client.estimates``: the Order Preview (the only operation that carries milestones)."""

    def __init__(self, client: CrmComClient) -> None:
        self._client = client

    def order(self, request: OrderEstimateRequest | None = None, /, **fields: Any) -> OrderEstimate:
        """Estimate an order (``POST /estimates/orders``); milestone rules are checked before sending."""
        return self._client._execute(ops.estimate_order(ops.build_estimate_request(request, fields)))


class Orders:
    """``client.orders``: submit an estimation as an order, get one, list a contact's orders."""

    def __init__(self, client: CrmComClient) -> None:
        self._client = client

    def submit(self, estimation_id: str, payments: Sequence[Payment | Mapping[str, Any]], **extra: Any) -> OrderCreated:
        """Submit Order (needs a contact Bearer token). The milestones travel with the estimation."""
        request = ops.build_submit_request(estimation_id, _payments(payments), extra)
        return self._client._execute(ops.submit_order(request))

    def get(self, order_id: str) -> WireOrder:
        return self._client._execute(ops.get_order(order_id))

    def list_for_contact(
        self,
        contact_id: str,
        *,
        size: int = ops.MAX_PAGE_SIZE,
        sort: str | None = None,
        order: str | None = None,
        include_total: bool | None = None,
    ) -> Iterator[WireOrder]:
        """Every order of a contact, fetching pages lazily until ``has_more`` is false."""
        for page in self.list_for_contact_pages(
            contact_id, size=size, sort=sort, order=order, include_total=include_total
        ):
            yield from page.items

    def list_for_contact_pages(
        self,
        contact_id: str,
        *,
        size: int = ops.MAX_PAGE_SIZE,
        page: int = 1,
        sort: str | None = None,
        order: str | None = None,
        include_total: bool | None = None,
    ) -> Iterator[Page[WireOrder]]:
        """Page by page (``page.items``, ``page.total``, ``page.response``), starting at ``page``."""
        op = ops.contact_orders(contact_id, size=size, page=page, sort=sort, order=order, include_total=include_total)
        return self._client._pages(op)


class CrmComMilestones:
    """``client.milestones``: the common view over order drafts (see the module docs of ``_drafts``).

    >>> draft_id = client.milestones.open_draft(OrderDraft(account_id=..., items=[...], queue_id=...))
    >>> client.milestones.list(draft_id)      # re-estimates the draft
    """

    platform = Platform.CRMCOM

    def __init__(self, client: CrmComClient, store: DraftStore) -> None:
        self._client = client
        self._store = store

    def open_draft(self, draft: OrderDraft) -> str:
        """Estimate ``draft`` and keep it on this client; returns its container id (the estimation id)."""
        if draft.milestones is not None:
            check_milestones(draft.milestones)
        estimate = self._client._execute(ops.estimate_order(draft))
        container = self._store.opened(draft, estimate)
        self._store.put(container, draft.model_copy(update={"estimation_id": container}), estimate)
        return container

    def draft(self, container_id: str) -> OrderDraft:
        """The draft as it will next be sent (a copy)."""
        return self._store.get(container_id).request.model_copy(deep=True)

    def last_estimate(self, container_id: str) -> OrderEstimate:
        return self._store.get(container_id).estimate

    def close_draft(self, container_id: str) -> None:
        """Forget a draft on this client (crm.com has no call to delete an estimation)."""
        self._store.forget(container_id)

    def list(self, container_id: str) -> Iterator[Milestone]:
        """Re-estimate the draft and return its milestone plan (the request is sent before this returns)."""
        request = self._store.reestimate(container_id)
        estimate = self._client._execute(ops.estimate_order(request))
        self._store.put(container_id, request, estimate)
        return iter(milestones_from_estimate(estimate, container_id=container_id, sent=request.milestones))

    def create(self, container_id: str, milestones: Sequence[Milestone]) -> builtins.list[Milestone]:
        """Add milestones (new stages only) and re-estimate; returns them as crm.com estimated them."""
        return self._write(self._store.plan_create(container_id, milestones))

    def replace(self, container_id: str, milestones: Sequence[Milestone]) -> builtins.list[Milestone]:
        """Send a whole milestone set at once (what the sync engine uses)."""
        return self._write(self._store.plan_replace(container_id, milestones))

    def update(self, milestone: Milestone) -> Milestone:
        """Replace the milestone of its stage and re-estimate."""
        return self._write(self._store.plan_update(milestone))[0]

    def delete(self, key: MilestoneKey) -> None:
        """Remove the milestone of that stage and re-estimate (an empty set is sent as ``milestones: []``)."""
        self._write(self._store.plan_delete(key))

    def _write(self, write: Write) -> builtins.list[Milestone]:
        estimate = self._client._execute(ops.estimate_order(write.request))
        self._store.record(write, estimate)
        return write.result(estimate)


class CrmComClient(SyncAPIClient):
    """Blocking crm.com client (Self-Service v2 by default; ``api="backoffice"`` for ``/backoffice/v2``).

    Authenticate with the secret key (``api_key`` header) or a contact Bearer token: pass ``bearer_token=``
    or call :meth:`authenticate_contact`; tokens are refreshed automatically shortly before they expire.
    """

    estimates: Estimates
    orders: Orders
    milestones: CrmComMilestones

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        *,
        bearer_token: str | SecretStr | None = None,
        base_url: str | httpx.URL = ops.DEFAULT_BASE_URL,
        api: Api = "self-service",
        max_retries: int | NotGiven = NOT_GIVEN,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        http_client: httpx.Client | None = None,
        limiter: SyncLimiter | None = None,
        retry_policy: RetryPolicy | None = None,
        refresh_token: str | SecretStr | None = None,
        token_expires_at: int | None = None,
        bearer_prefix: bool | None = None,
        prefer: AmountPreference | str = AmountPreference.AMOUNT,
    ) -> None:
        core, self._auth = _build(
            api_key,
            bearer_token,
            refresh_token,
            token_expires_at,
            base_url,
            api,
            max_retries,
            timeout,
            retry_policy,
            bearer_prefix,
        )
        self.api: Api = api
        self._drafts = DraftStore(prefer)
        super().__init__(core, http_client, limiter=limiter)

    def _init_resources(self) -> None:
        self.estimates = Estimates(self)
        self.orders = Orders(self)
        self.milestones = CrmComMilestones(self, self._drafts)

    # -- auth ---------------------------------------------------------------------------------------
    def authenticate_contact(
        self, public_key: str | SecretStr, provider: str = "EMAIL", **credentials: Any
    ) -> ContactToken:
        """Log a contact in (``POST /contacts/authenticate`` with the public key); later calls use its token."""
        if self.api != "self-service":
            raise ConfigError("contact authentication exists on the Self-Service API only", key="api")
        token = self._runner.execute(ops.authenticate_contact(public_key, provider, credentials))
        self._auth.store(token)
        return token

    def refresh_contact_token(self) -> ContactToken:
        """Renew the contact token now (it also happens automatically shortly before expiry)."""
        if self._auth.refresh_token is None:
            raise ValidationError("no refresh token: authenticate_contact() first", field="refresh_token")
        token = self._runner.execute(ops.refresh_contact_token(self._auth.refresh_token))
        self._auth.store(token)
        return token

    @property
    def token_expires_at(self) -> float | None:
        return self._auth.expires_at

    # -- execution ----------------------------------------------------------------------------------
    def _ensure_token(self) -> None:
        if self._auth.needs_refresh():
            self.refresh_contact_token()

    def _execute(self, op: Operation[T]) -> T:
        self._ensure_token()
        return self._runner.execute(op)

    def _pages(self, op: PagedOperation[T]) -> Iterator[Page[T]]:
        pages = self._runner.pages(op)
        try:
            while True:
                self._ensure_token()
                try:
                    page = next(pages)
                except StopIteration:
                    return
                yield page
        finally:
            close = getattr(pages, "close", None)
            if close is not None:  # a caller that stops early must not leave the generator suspended
                close()


# ======================================================================================================
# async
# ======================================================================================================
class AsyncEstimates:
    def __init__(self, client: AsyncCrmComClient) -> None:
        self._client = client

    async def order(self, request: OrderEstimateRequest | None = None, /, **fields: Any) -> OrderEstimate:
        return await self._client._execute(ops.estimate_order(ops.build_estimate_request(request, fields)))


class AsyncOrders:
    def __init__(self, client: AsyncCrmComClient) -> None:
        self._client = client

    async def submit(
        self, estimation_id: str, payments: Sequence[Payment | Mapping[str, Any]], **extra: Any
    ) -> OrderCreated:
        request = ops.build_submit_request(estimation_id, _payments(payments), extra)
        return await self._client._execute(ops.submit_order(request))

    async def get(self, order_id: str) -> WireOrder:
        return await self._client._execute(ops.get_order(order_id))

    async def list_for_contact(
        self,
        contact_id: str,
        *,
        size: int = ops.MAX_PAGE_SIZE,
        sort: str | None = None,
        order: str | None = None,
        include_total: bool | None = None,
    ) -> AsyncIterator[WireOrder]:
        async for page in self.list_for_contact_pages(
            contact_id, size=size, sort=sort, order=order, include_total=include_total
        ):
            for item in page.items:
                yield item

    def list_for_contact_pages(
        self,
        contact_id: str,
        *,
        size: int = ops.MAX_PAGE_SIZE,
        page: int = 1,
        sort: str | None = None,
        order: str | None = None,
        include_total: bool | None = None,
    ) -> AsyncIterator[Page[WireOrder]]:
        op = ops.contact_orders(contact_id, size=size, page=page, sort=sort, order=order, include_total=include_total)
        return self._client._pages(op)


class AsyncCrmComMilestones:
    """``client.milestones`` on the async client; the same drafts and semantics as :class:`CrmComMilestones`."""

    platform = Platform.CRMCOM

    def __init__(self, client: AsyncCrmComClient, store: DraftStore) -> None:
        self._client = client
        self._store = store

    async def open_draft(self, draft: OrderDraft) -> str:
        if draft.milestones is not None:
            check_milestones(draft.milestones)
        estimate = await self._client._execute(ops.estimate_order(draft))
        container = self._store.opened(draft, estimate)
        self._store.put(container, draft.model_copy(update={"estimation_id": container}), estimate)
        return container

    def draft(self, container_id: str) -> OrderDraft:
        return self._store.get(container_id).request.model_copy(deep=True)

    def last_estimate(self, container_id: str) -> OrderEstimate:
        return self._store.get(container_id).estimate

    def close_draft(self, container_id: str) -> None:
        self._store.forget(container_id)

    async def list(self, container_id: str) -> AsyncIterator[Milestone]:
        request = self._store.reestimate(container_id)
        estimate = await self._client._execute(ops.estimate_order(request))
        self._store.put(container_id, request, estimate)
        for milestone in milestones_from_estimate(estimate, container_id=container_id, sent=request.milestones):
            yield milestone

    async def create(self, container_id: str, milestones: Sequence[Milestone]) -> builtins.list[Milestone]:
        return await self._write(self._store.plan_create(container_id, milestones))

    async def replace(self, container_id: str, milestones: Sequence[Milestone]) -> builtins.list[Milestone]:
        return await self._write(self._store.plan_replace(container_id, milestones))

    async def update(self, milestone: Milestone) -> Milestone:
        return (await self._write(self._store.plan_update(milestone)))[0]

    async def delete(self, key: MilestoneKey) -> None:
        await self._write(self._store.plan_delete(key))

    async def _write(self, write: Write) -> builtins.list[Milestone]:
        estimate = await self._client._execute(ops.estimate_order(write.request))
        self._store.record(write, estimate)
        return write.result(estimate)


class AsyncCrmComClient(AsyncAPIClient):
    """The asyncio twin of :class:`CrmComClient`: the same arguments, awaitable calls."""

    estimates: AsyncEstimates
    orders: AsyncOrders
    milestones: AsyncCrmComMilestones

    def __init__(
        self,
        api_key: str | SecretStr | None = None,
        *,
        bearer_token: str | SecretStr | None = None,
        base_url: str | httpx.URL = ops.DEFAULT_BASE_URL,
        api: Api = "self-service",
        max_retries: int | NotGiven = NOT_GIVEN,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
        http_client: httpx.AsyncClient | None = None,
        limiter: AsyncLimiter | None = None,
        retry_policy: RetryPolicy | None = None,
        refresh_token: str | SecretStr | None = None,
        token_expires_at: int | None = None,
        bearer_prefix: bool | None = None,
        prefer: AmountPreference | str = AmountPreference.AMOUNT,
    ) -> None:
        core, self._auth = _build(
            api_key,
            bearer_token,
            refresh_token,
            token_expires_at,
            base_url,
            api,
            max_retries,
            timeout,
            retry_policy,
            bearer_prefix,
        )
        self.api: Api = api
        self._drafts = DraftStore(prefer)
        super().__init__(core, http_client, limiter=limiter)

    def _init_resources(self) -> None:
        self.estimates = AsyncEstimates(self)
        self.orders = AsyncOrders(self)
        self.milestones = AsyncCrmComMilestones(self, self._drafts)

    async def authenticate_contact(
        self, public_key: str | SecretStr, provider: str = "EMAIL", **credentials: Any
    ) -> ContactToken:
        if self.api != "self-service":
            raise ConfigError("contact authentication exists on the Self-Service API only", key="api")
        token = await self._runner.execute(ops.authenticate_contact(public_key, provider, credentials))
        self._auth.store(token)
        return token

    async def refresh_contact_token(self) -> ContactToken:
        if self._auth.refresh_token is None:
            raise ValidationError("no refresh token: authenticate_contact() first", field="refresh_token")
        token = await self._runner.execute(ops.refresh_contact_token(self._auth.refresh_token))
        self._auth.store(token)
        return token

    @property
    def token_expires_at(self) -> float | None:
        return self._auth.expires_at

    async def _ensure_token(self) -> None:
        if self._auth.needs_refresh():
            await self.refresh_contact_token()

    async def _execute(self, op: Operation[T]) -> T:
        await self._ensure_token()
        return await self._runner.execute(op)

    async def _pages(self, op: PagedOperation[T]) -> AsyncIterator[Page[T]]:
        pages = self._runner.pages(op)
        try:
            while True:
                await self._ensure_token()
                try:
                    page = await pages.__anext__()
                except StopAsyncIteration:
                    return
                yield page
        finally:
            aclose = getattr(pages, "aclose", None)
            if aclose is not None:
                await aclose()
