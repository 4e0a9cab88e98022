"""``client.contract_milestones.with_raw_response``: each native method, returning its raw response.

The twins keep each method's signature (see :mod:`billing_milestones._http._raw` for which response a call
is tied to, and for listings). ``delete`` keeps its twin too, so code written against the raw surface fails
as the plain call does: with UnsupportedOperationError, before sending.
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
    from .client import AsyncContractMilestones, ContractMilestones

__all__ = ["AsyncContractMilestonesWithRawResponse", "ContractMilestonesWithRawResponse"]


class ContractMilestonesWithRawResponse:
    """The raw twins of :class:`~billing_milestones.autotask.client.ContractMilestones`."""

    def __init__(self, resource: ContractMilestones) -> None:
        self.query = to_raw_listing_wrapper(resource.query)
        self.query_pages = to_raw_listing_wrapper(resource.query_pages)
        self.count = to_raw_response_wrapper(resource.count)
        self.get = to_raw_response_wrapper(resource.get)
        self.status_picklist = to_raw_response_wrapper(resource.status_picklist)
        self.fields = to_raw_response_wrapper(resource.fields)
        self.create = to_raw_response_wrapper(resource.create)
        self.update = to_raw_response_wrapper(resource.update)
        self.delete = to_raw_response_wrapper(resource.delete)


class AsyncContractMilestonesWithRawResponse:
    """The raw twins of :class:`~billing_milestones.autotask.client.AsyncContractMilestones` (awaitable)."""

    def __init__(self, resource: AsyncContractMilestones) -> None:
        self.query = async_to_raw_listing_wrapper(resource.query)
        self.query_pages = async_to_raw_listing_wrapper(resource.query_pages)
        self.count = async_to_raw_response_wrapper(resource.count)
        self.get = async_to_raw_response_wrapper(resource.get)
        self.status_picklist = async_to_raw_response_wrapper(resource.status_picklist)
        self.fields = async_to_raw_response_wrapper(resource.fields)
        self.create = async_to_raw_response_wrapper(resource.create)
        self.update = async_to_raw_response_wrapper(resource.update)
        self.delete = async_to_raw_response_wrapper(resource.delete)
