"""A paged listing is complete or an error: repeated items, extra pages, endless links and bad links raise."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from billing_milestones import errors
from billing_milestones._base_client import check_max_pages
from billing_milestones._http import APIResponse, Page, PagedOperation, RequestSpec
from billing_milestones._http._json import loads


def _op(
    *, ids: Any = None, total: Any = None, total_pages: Any = None, last: int | None = None, fresh_links: bool = False
) -> PagedOperation[int]:
    """Pages of two items; ``ids(page, items)`` names each item, ``fresh_links`` adds a new token each time."""

    def parse(spec: RequestSpec, response: APIResponse) -> Page[int]:
        data = response.json()
        page = int(data["page"])
        nxt = None
        if last is None or page < last:
            params: dict[str, Any] = {"page": page + 1}
            if fresh_links:
                params = {"page": 1, "token": page}  # the same page over and over, under a link never seen
            nxt = RequestSpec("GET", "/items", params=params)
        items = data["items"]
        return Page(
            items=items,
            next=nxt,
            response=response,
            total=total,
            total_pages=total_pages,
            item_ids=tuple(ids(page, items)) if ids else None,
        )

    return PagedOperation(RequestSpec("GET", "/items", params={"page": 1}), parse)


def _server(request: httpx.Request) -> httpx.Response:
    page = int(request.url.params["page"])
    return httpx.Response(200, json={"page": page, "items": [page * 10, page * 10 + 1]})


async def test_a_repeated_item_on_a_later_page_is_an_error(harness: Any) -> None:
    # Page 2 repeats page 1's last item (a boundary that moved while we walked).
    h = harness(_server)
    ids = lambda page, items: [str(i) if page != 2 else str(i - 10 + 1) for i in items]  # noqa: E731
    with pytest.raises(errors.PaginationError, match=r"item 11 was listed on pages 1 and 2"):
        await h.items(_op(ids=ids, last=3))


async def test_an_item_twice_on_one_page_is_an_error(harness: Any) -> None:
    h = harness(_server)
    with pytest.raises(errors.PaginationError, match="twice on one page"):
        await h.items(_op(ids=lambda page, items: ["7", "7"], last=1))


async def test_the_same_page_under_fresh_links_ends_at_the_first_repeat(harness: Any) -> None:
    h = harness(lambda request: httpx.Response(200, json={"page": 1, "items": [1, 2]}))
    got: list[int] = []
    with pytest.raises(errors.PaginationError, match="listed on pages 1 and 2"):
        await h.items(_op(ids=lambda page, items: [str(i) for i in items], fresh_links=True), got)
    assert h.attempts == 2  # not 100,000


async def test_more_pages_than_the_server_counts_is_an_error(harness: Any) -> None:
    h = harness(_server)
    with pytest.raises(errors.PaginationError, match="page 3 arrived although the server counts 2 pages"):
        await h.items(_op(total_pages=2, last=5))


async def test_more_items_than_the_server_counts_is_an_error(harness: Any) -> None:
    h = harness(_server)
    with pytest.raises(errors.PaginationError, match="6 items listed although the server counts 5"):
        await h.items(_op(total=5, last=3))


async def test_counts_that_agree_pass(harness: Any) -> None:
    h = harness(_server)
    got = await h.items(_op(ids=lambda page, items: [str(i) for i in items], total=6, total_pages=3, last=3))
    assert got == [10, 11, 20, 21, 30, 31]


async def test_the_client_page_ceiling_applies(harness: Any) -> None:
    h = harness(_server, max_pages=3)
    got: list[int] = []
    with pytest.raises(errors.PaginationError, match="after 3 pages"):
        await h.items(_op(), got)
    assert len(got) == 6 and h.attempts == 3


async def test_a_next_link_that_is_not_a_url_is_a_pagination_error(harness: Any) -> None:
    def parse(spec: RequestSpec, response: APIResponse) -> Page[int]:
        return Page(items=[1], next=RequestSpec("GET", "http://[::1"), response=response)

    h = harness(lambda request: httpx.Response(200, json={}))
    with pytest.raises(errors.PaginationError, match="not a valid URL"):
        await h.items(PagedOperation(RequestSpec("GET", "/items"), parse))


@pytest.mark.parametrize("bad", [0, -1, True, 2.5, "10"])
def test_max_pages_must_be_a_positive_integer(bad: Any) -> None:
    with pytest.raises(errors.ValidationError, match="max_pages") as info:
        check_max_pages(bad)
    assert info.value.field == "max_pages"


def test_deep_nesting_is_a_value_error_not_a_recursion_error() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        loads("[" * 100_000 + "]" * 100_000)


async def test_a_deeply_nested_response_is_a_typed_error(harness: Any) -> None:
    h = harness(lambda request: httpx.Response(200, content=b"[" * 100_000 + b"]" * 100_000))
    with pytest.raises(errors.APIResponseValidationError, match="nested too deeply"):
        await h.items(_op())


async def test_a_listing_whose_counts_change_between_pages_is_an_error(harness: Any) -> None:
    """Records added or removed mid-walk shift the page boundaries: some would be skipped or seen twice."""

    def parse(spec: RequestSpec, response: APIResponse) -> Page[int]:
        data = response.json()
        page = int(data["page"])
        nxt = RequestSpec("GET", "/items", params={"page": page + 1}) if page < 3 else None
        return Page(items=data["items"], next=nxt, response=response, total=6 if page == 1 else 7)

    h = harness(_server)
    with pytest.raises(errors.PaginationError, match="changed while it was read"):
        await h.items(PagedOperation(RequestSpec("GET", "/items", params={"page": 1}), parse))
