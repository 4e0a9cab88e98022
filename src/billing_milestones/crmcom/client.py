"""crm.com clients: ``CrmComClient`` (blocking) and ``AsyncCrmComClient`` (asyncio).

Requests and parsers live in ``_operations`` (sans-IO), drafts in ``_drafts``; every multi-step call is a flow
in ``_flows`` and the token renewal a runner hook, so each method here hands one operation or flow to the
runner and the sync and async classes differ in nothing but how they wait.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any, TypedDict, Unpack

from pydantic import SecretStr

from .._base_client import AsyncAPIClient, SyncAPIClient, transport
from .._http import AsyncRunner, ClientCore, Page, PagedOperation, SyncRunner
from .._order import aordered, sorted_milestones
from ..model import Milestone, MilestoneKey
from . import _flows as flows
from . import _operations as ops
from . import _raw
from ._drafts import DraftStore, OrderDraft
from ._setup import Api, AsyncOptions, SyncOptions, build
from .wire import (
    ContactToken,
    MilestoneRequest,
    OrderCreated,
    OrderEstimate,
    OrderEstimateRequest,
    OrderItem,
    Payment,
    SubmitOrderRequest,
    WireOrder,
)

__all__ = [
    "AsyncCrmComClient",
    "AsyncCrmComMilestones",
    "CrmComClient",
    "CrmComMilestones",
    "EstimateFields",
    "OrderListOptions",
    "SubmitFields",
]

Payments = Sequence[Payment | Mapping[str, Any]]


class EstimateFields(TypedDict, total=False):
    """An order estimate's fields (as :class:`~.wire.OrderEstimateRequest`; fields the docs add later pass)."""

    account_id: str
    supply_method: str
    delivery_method: str
    payment_method_type: str
    items: Sequence[OrderItem | Mapping[str, Any]]
    queue_id: str | None
    milestones: Sequence[MilestoneRequest | Mapping[str, Any]] | None
    estimation_id: str | None
    fulfilled_by: str | None
    address_id: str | None
    notes: str | None
    use_wallet_funds: bool | None
    wallet_funds_amount: Any
    requested_delivery_at: Mapping[str, Any] | None
    current_location: Mapping[str, Any] | None


class SubmitFields(TypedDict, total=False):
    """What a submit takes besides the estimation id and the payments."""

    notes: str | None


class OrderListOptions(TypedDict, total=False):
    """``size`` 1..100 per page, ``page`` to start at (from 1), ``sort``/``order``, ``include_total``."""

    size: int
    page: int
    sort: str | None
    order: str | None
    include_total: bool | None


def _payments(payments: Payments) -> builtins.list[Any]:
    return [p.model_dump(mode="python", exclude_none=True) if isinstance(p, Payment) else dict(p) for p in payments]


def _estimate(request: OrderEstimateRequest | None, fields: EstimateFields) -> OrderEstimateRequest:
    return ops.build_estimate_request(request, dict(fields))


def _submit(estimation_id: str, payments: Payments, fields: SubmitFields) -> SubmitOrderRequest:
    return ops.build_submit_request(estimation_id, _payments(payments), dict(fields))


def _orders(contact_id: str, options: OrderListOptions) -> PagedOperation[WireOrder]:
    return ops.contact_orders(contact_id, **options)


# -- blocking -----------------------------------------------------------------------------------------
class Estimates:
    """``client.estimates``: the Order Preview (the only operation that carries milestones)."""

    #: Each method's raw twin: the response's headers, status code and request id, ``.parse()`` the result.
    with_raw_response = cached_property(_raw.EstimatesWithRawResponse)

    def __init__(self, runner: SyncRunner) -> None:
        self._runner = runner

    def order(self, request: OrderEstimateRequest | None = None, /, **fields: Unpack[EstimateFields]) -> OrderEstimate:
        """Estimate an order (``POST /estimates/orders``); milestone rules are checked before sending."""
        return self._runner.execute(ops.estimate_order(_estimate(request, fields)))


class Orders:
    """``client.orders``: submit an estimation as an order, get one, list a contact's orders."""

    #: Each method's raw twin: the response's headers, status code and request id, ``.parse()`` the result.
    with_raw_response = cached_property(_raw.OrdersWithRawResponse)

    def __init__(self, runner: SyncRunner) -> None:
        self._runner = runner

    def submit(self, estimation_id: str, payments: Payments, **fields: Unpack[SubmitFields]) -> OrderCreated:
        """Submit Order (needs a contact Bearer token). The milestones travel with the estimation."""
        return self._runner.execute(ops.submit_order(_submit(estimation_id, payments, fields)))

    def get(self, order_id: str) -> WireOrder:
        return self._runner.execute(ops.get_order(order_id))

    def list_for_contact(self, contact_id: str, **options: Unpack[OrderListOptions]) -> Iterator[WireOrder]:
        """Every order of a contact, fetching pages lazily until ``has_more`` is false."""
        return self._runner.iterate(_orders(contact_id, options))

    def list_for_contact_pages(self, contact_id: str, **options: Unpack[OrderListOptions]) -> Iterator[Page[WireOrder]]:
        """Page by page (``page.items``, ``page.total``, ``page.response``), starting at ``page``."""
        return self._runner.pages(_orders(contact_id, options))


class CrmComMilestones(flows.DraftFlows):
    """``client.milestones``: the common view over order drafts (see the module docs of ``_drafts``).

    ```pycon
    >>> from billing_milestones import OrderDraft
    >>> from billing_milestones.sandbox import CrmComSandbox
    >>> sandbox = CrmComSandbox()
    >>> seed = sandbox.seed_demo()
    >>> client = CrmComClient(seed.secret_key, http_client=sandbox.http_client())
    >>> draft = OrderDraft(
    ...     account_id=seed.account_id,
    ...     supply_method="DIRECT_SALE",
    ...     delivery_method="COURIER_SERVICE",
    ...     payment_method_type="CARD",
    ...     items=[{"id": seed.products["USD"], "quantity": 3}],
    ...     queue_id=seed.queues["standard"],
    ... )
    >>> draft_id = client.milestones.open_draft(draft)
    >>> for m in client.milestones.list(draft_id):  # re-estimates the draft; undated, so by title
    ...     print(m.title, m.amount)
    Completed 23.99 USD
    Deposit 17.99 USD
    In Progress 17.99 USD
    >>> client.close()

    ```
    """

    def __init__(self, runner: SyncRunner, store: DraftStore) -> None:
        super().__init__(store)
        self._runner = runner

    def open_draft(self, draft: OrderDraft) -> str:
        """Estimate ``draft`` and keep it on this client; returns its container id (the estimation id)."""
        return self._runner.run_flow(self._open(draft))

    def list(self, container_id: str) -> Iterator[Milestone]:
        """Re-estimate the draft and return its milestone plan (the request is sent before this returns), in
        the listing order of every view (see ``_order``): crm.com milestones have no due date, so by title."""
        return iter(sorted_milestones(self.stream(container_id)))

    def stream(self, container_id: str) -> Iterator[Milestone]:
        """The same plan in crm.com's stage order (one estimate holds the whole plan; what sync reads)."""
        return iter(self._runner.run_flow(self._listing(container_id)))

    def create(self, container_id: str, milestones: Sequence[Milestone]) -> builtins.list[Milestone]:
        """Add milestones (new stages only) and re-estimate; returns them as crm.com estimated them."""
        return self._runner.run_flow(self._create(container_id, milestones))

    def replace(self, container_id: str, milestones: Sequence[Milestone]) -> builtins.list[Milestone]:
        """Send a whole milestone set at once (what the sync engine uses)."""
        return self._runner.run_flow(self._replace(container_id, milestones))

    def update(self, milestone: Milestone) -> Milestone:
        """Replace the milestone of its stage and re-estimate."""
        return self._runner.run_flow(self._update(milestone))

    def delete(self, key: MilestoneKey) -> None:
        """Remove the milestone of that stage and re-estimate (an empty set is sent as ``milestones: []``)."""
        return self._runner.run_flow(self._delete(key))


class _CrmCom:
    """What both crm.com clients are made of: the checked core, the credentials, the drafts, the token hook."""

    def _configure(self, api_key: str | SecretStr | None, options: Mapping[str, Any]) -> ClientCore:
        setup = build(api_key, options)
        self.api: Api = setup["api"]
        self._auth, self._drafts = setup["auth"], DraftStore(setup["prefer"])
        self._hooks = flows.TokenHooks(self._auth)
        return setup["core"]

    @property
    def token_expires_at(self) -> float | None:
        return self._auth.expires_at


class CrmComClient(_CrmCom, SyncAPIClient):
    """Blocking crm.com client (Self-Service v2 by default; ``api="backoffice"`` for ``/backoffice/v2``).

    Authenticate with the secret key (``api_key`` header) or a contact Bearer token: pass ``bearer_token=``
    or call :meth:`authenticate_contact`; tokens are refreshed automatically shortly before they expire.
    Without ``api_key`` or ``bearer_token`` it reads ``CRMCOM_API_KEY`` / ``CRMCOM_BEARER_TOKEN`` (and
    ``base_url`` ``CRMCOM_BASE_URL``); with none of them it starts unauthenticated, to log a contact in.
    Keyword options (:class:`~._setup.SyncOptions`): ``bearer_token``, ``base_url``, ``api``, ``max_retries``,
    ``timeout``, ``http_client`` (an ``httpx.Client``), ``limiter``, ``request_budget`` (asked before each
    attempt), ``retry_policy``, ``refresh_token``,
    ``token_expires_at``, ``bearer_prefix`` and ``prefer`` (which amount a milestone reads as its own).
    """

    #: Order estimates: what an order would cost and bill, milestones included.
    estimates: Estimates
    #: Orders: submit an estimate, list a contact's orders.
    orders: Orders
    #: The common view over order drafts: Milestone in, Milestone out.
    milestones: CrmComMilestones

    def __init__(self, api_key: str | SecretStr | None = None, **options: Unpack[SyncOptions]) -> None:
        super().__init__(self._configure(api_key, options), hooks=self._hooks, **transport(options))

    def _init_resources(self) -> None:
        """The resources, bound to this client's runner (again on each ``with_options`` copy)."""
        self.estimates = Estimates(self._runner)
        self.orders = Orders(self._runner)
        self.milestones = CrmComMilestones(self._runner, self._drafts)

    def authenticate_contact(
        self, public_key: str | SecretStr, provider: str = "EMAIL", **credentials: str
    ) -> ContactToken:
        """Log a contact in (``POST /contacts/authenticate`` with the public key); later calls use its token."""
        return self._runner.run_flow(
            flows.authenticate_contact(self._auth, self.api, public_key, provider, credentials)
        )

    def refresh_contact_token(self) -> ContactToken:
        """Renew the contact token now (it also happens automatically shortly before expiry)."""
        return self._runner.run_flow(flows.refresh_contact_token(self._auth))


# -- asyncio ------------------------------------------------------------------------------------------
class AsyncEstimates:
    """``client.estimates`` of the asyncio client."""

    #: Each method's raw twin: the response's headers, status code and request id, ``.parse()`` the result.
    with_raw_response = cached_property(_raw.AsyncEstimatesWithRawResponse)

    def __init__(self, runner: AsyncRunner) -> None:
        self._runner = runner

    async def order(
        self, request: OrderEstimateRequest | None = None, /, **fields: Unpack[EstimateFields]
    ) -> OrderEstimate:
        return await self._runner.execute(ops.estimate_order(_estimate(request, fields)))


class AsyncOrders:
    """``client.orders`` of the asyncio client: each call of :class:`Orders`, awaitable (listings are async
    iterators)."""

    #: Each method's raw twin: the response's headers, status code and request id, ``.parse()`` the result.
    with_raw_response = cached_property(_raw.AsyncOrdersWithRawResponse)

    def __init__(self, runner: AsyncRunner) -> None:
        self._runner = runner

    async def submit(self, estimation_id: str, payments: Payments, **fields: Unpack[SubmitFields]) -> OrderCreated:
        return await self._runner.execute(ops.submit_order(_submit(estimation_id, payments, fields)))

    async def get(self, order_id: str) -> WireOrder:
        return await self._runner.execute(ops.get_order(order_id))

    def list_for_contact(self, contact_id: str, **options: Unpack[OrderListOptions]) -> AsyncIterator[WireOrder]:
        return self._runner.iterate(_orders(contact_id, options))

    def list_for_contact_pages(
        self, contact_id: str, **options: Unpack[OrderListOptions]
    ) -> AsyncIterator[Page[WireOrder]]:
        return self._runner.pages(_orders(contact_id, options))


class AsyncCrmComMilestones(flows.DraftFlows):
    """``client.milestones`` of the asyncio client: the same drafts, flows and semantics as
    :class:`CrmComMilestones` (``list`` re-estimates at the first iteration)."""

    def __init__(self, runner: AsyncRunner, store: DraftStore) -> None:
        super().__init__(store)
        self._runner = runner

    async def open_draft(self, draft: OrderDraft) -> str:
        return await self._runner.run_flow(self._open(draft))

    def list(self, container_id: str) -> AsyncIterator[Milestone]:
        return aordered(self.stream(container_id))

    def stream(self, container_id: str) -> AsyncIterator[Milestone]:
        return self._runner.iterate_result(self._listing(container_id))

    async def create(self, container_id: str, milestones: Sequence[Milestone]) -> builtins.list[Milestone]:
        return await self._runner.run_flow(self._create(container_id, milestones))

    async def replace(self, container_id: str, milestones: Sequence[Milestone]) -> builtins.list[Milestone]:
        return await self._runner.run_flow(self._replace(container_id, milestones))

    async def update(self, milestone: Milestone) -> Milestone:
        return await self._runner.run_flow(self._update(milestone))

    async def delete(self, key: MilestoneKey) -> None:
        return await self._runner.run_flow(self._delete(key))


class AsyncCrmComClient(_CrmCom, AsyncAPIClient):
    """The asyncio crm.com client: the options of :class:`CrmComClient`, except that ``http_client`` is an
    ``httpx.AsyncClient`` and ``limiter`` an async limiter; the same resources, with awaitable calls."""

    #: Order estimates: what an order would cost and bill, milestones included.
    estimates: AsyncEstimates
    #: Orders: submit an estimate, list a contact's orders.
    orders: AsyncOrders
    #: The common view over order drafts: Milestone in, Milestone out.
    milestones: AsyncCrmComMilestones

    def __init__(self, api_key: str | SecretStr | None = None, **options: Unpack[AsyncOptions]) -> None:
        super().__init__(self._configure(api_key, options), hooks=self._hooks, **transport(options))

    def _init_resources(self) -> None:
        self.estimates = AsyncEstimates(self._runner)
        self.orders = AsyncOrders(self._runner)
        self.milestones = AsyncCrmComMilestones(self._runner, self._drafts)

    async def authenticate_contact(
        self, public_key: str | SecretStr, provider: str = "EMAIL", **credentials: str
    ) -> ContactToken:
        return await self._runner.run_flow(
            flows.authenticate_contact(self._auth, self.api, public_key, provider, credentials)
        )

    async def refresh_contact_token(self) -> ContactToken:
        return await self._runner.run_flow(flows.refresh_contact_token(self._auth))
