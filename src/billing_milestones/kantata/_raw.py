"""``with_raw_response`` on the Kantata resources: each native method, returning its raw response.

The twins keep each method's signature (see :mod:`billing_milestones._http._raw` for which response a call
is tied to: ``create_many`` sends 100 per POST and is tied to the last POST; a listing to its first page).
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
    from .client import AsyncBillingMilestones, AsyncStories, AsyncWorkspaces, BillingMilestones, Stories, Workspaces

__all__ = [
    "AsyncBillingMilestonesWithRawResponse",
    "AsyncStoriesWithRawResponse",
    "AsyncWorkspacesWithRawResponse",
    "BillingMilestonesWithRawResponse",
    "StoriesWithRawResponse",
    "WorkspacesWithRawResponse",
]


class BillingMilestonesWithRawResponse:
    """The raw twins of :class:`~billing_milestones.kantata.client.BillingMilestones`."""

    def __init__(self, resource: BillingMilestones) -> None:
        self.list = to_raw_listing_wrapper(resource.list)
        self.list_pages = to_raw_listing_wrapper(resource.list_pages)
        self.get = to_raw_response_wrapper(resource.get)
        self.create = to_raw_response_wrapper(resource.create)
        self.create_many = to_raw_response_wrapper(resource.create_many)
        self.update = to_raw_response_wrapper(resource.update)
        self.update_with = to_raw_response_wrapper(resource.update_with)
        self.delete = to_raw_response_wrapper(resource.delete)


class WorkspacesWithRawResponse:
    """The raw twins of :class:`~billing_milestones.kantata.client.Workspaces`."""

    def __init__(self, resource: Workspaces) -> None:
        self.get = to_raw_response_wrapper(resource.get)


class StoriesWithRawResponse:
    """The raw twins of :class:`~billing_milestones.kantata.client.Stories`."""

    def __init__(self, resource: Stories) -> None:
        self.list = to_raw_listing_wrapper(resource.list)
        self.get = to_raw_response_wrapper(resource.get)


class AsyncBillingMilestonesWithRawResponse:
    """The raw twins of :class:`~billing_milestones.kantata.client.AsyncBillingMilestones` (awaitable)."""

    def __init__(self, resource: AsyncBillingMilestones) -> None:
        self.list = async_to_raw_listing_wrapper(resource.list)
        self.list_pages = async_to_raw_listing_wrapper(resource.list_pages)
        self.get = async_to_raw_response_wrapper(resource.get)
        self.create = async_to_raw_response_wrapper(resource.create)
        self.create_many = async_to_raw_response_wrapper(resource.create_many)
        self.update = async_to_raw_response_wrapper(resource.update)
        self.update_with = async_to_raw_response_wrapper(resource.update_with)
        self.delete = async_to_raw_response_wrapper(resource.delete)


class AsyncWorkspacesWithRawResponse:
    """The raw twins of :class:`~billing_milestones.kantata.client.AsyncWorkspaces` (awaitable)."""

    def __init__(self, resource: AsyncWorkspaces) -> None:
        self.get = async_to_raw_response_wrapper(resource.get)


class AsyncStoriesWithRawResponse:
    """The raw twins of :class:`~billing_milestones.kantata.client.AsyncStories` (awaitable)."""

    def __init__(self, resource: AsyncStories) -> None:
        self.list = async_to_raw_listing_wrapper(resource.list)
        self.get = async_to_raw_response_wrapper(resource.get)
