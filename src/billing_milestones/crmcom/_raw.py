"""``with_raw_response`` on the crm.com resources: each native method, returning its raw response.

The twins keep each method's signature (see :mod:`billing_milestones._http._raw` for which response a call
is tied to; a contact token renewed on the way is in ``responses``, before the call's own response).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._http._raw import (
    async_to_raw_listing_wrapper,
    async_to_raw_response_wrapper,
    to_raw_listing_wrapper,
    to_raw_response_wrapper,
)

if TYPE_CHECKING:
    from .client import AsyncEstimates, AsyncOrders, Estimates, Orders

__all__ = [
    "AsyncEstimatesWithRawResponse",
    "AsyncOrdersWithRawResponse",
    "EstimatesWithRawResponse",
    "OrdersWithRawResponse",
]


class EstimatesWithRawResponse:
    """The raw twins of :class:`~billing_milestones.crmcom.client.Estimates`."""

    def __init__(self, resource: Estimates) -> None:
        self.order = to_raw_response_wrapper(resource.order)


class OrdersWithRawResponse:
    """The raw twins of :class:`~billing_milestones.crmcom.client.Orders`."""

    def __init__(self, resource: Orders) -> None:
        self.submit = to_raw_response_wrapper(resource.submit)
        self.get = to_raw_response_wrapper(resource.get)
        self.list_for_contact = to_raw_listing_wrapper(resource.list_for_contact)
        self.list_for_contact_pages = to_raw_listing_wrapper(resource.list_for_contact_pages)


class AsyncEstimatesWithRawResponse:
    """The raw twins of :class:`~billing_milestones.crmcom.client.AsyncEstimates` (awaitable)."""

    def __init__(self, resource: AsyncEstimates) -> None:
        self.order = async_to_raw_response_wrapper(resource.order)


class AsyncOrdersWithRawResponse:
    """The raw twins of :class:`~billing_milestones.crmcom.client.AsyncOrders` (awaitable)."""

    def __init__(self, resource: AsyncOrders) -> None:
        self.submit = async_to_raw_response_wrapper(resource.submit)
        self.get = async_to_raw_response_wrapper(resource.get)
        self.list_for_contact = async_to_raw_listing_wrapper(resource.list_for_contact)
        self.list_for_contact_pages = async_to_raw_listing_wrapper(resource.list_for_contact_pages)
