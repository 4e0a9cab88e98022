"""Autotask listings are complete or raise: error bodies and repeated records on every page position, endless
and malformed next links, inconsistent counts and missing envelope keys, through the common view and the
native ContractMilestones query, on the sync and the async client (issue 10, points 2, 3 and 7)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from billing_milestones import errors
from billing_milestones.autotask import F

from .scripted import CID, Scripted, chain, next_url, page, record

HOW = ["view", "native", "async-view", "async-native"]
POSITIONS = {"first": 0, "middle": 1, "last": 2}
QUERY = r"/ContractMilestones/query(/next)?$"


def three_pages() -> list[Any]:
    return chain([record(1), record(2)], [record(3), record(4)], [record(5), record(6)])


async def listed(how: str, server: Scripted, **query: Any) -> list[int]:
    """The ids one listing yields, by the route the sync uses (the common view) or the native resource."""
    if how == "view":
        with server.client() as client:
            return [int(m.key.id) for m in client.milestones.list(str(CID)) if m.key]
    if how == "native":
        with server.client() as client:
            return [m.id or 0 for m in client.contract_milestones.query(F.eq("contractID", CID), **query)]
    if how == "async-view":
        async with server.async_client() as aclient:
            return [int(m.key.id) async for m in aclient.milestones.list(str(CID)) if m.key]
    async with server.async_client() as aclient:
        return [m.id or 0 async for m in aclient.contract_milestones.query(F.eq("contractID", CID), **query)]


@pytest.mark.parametrize("how", HOW)
async def test_a_complete_listing_follows_every_page(how: str) -> None:
    server = Scripted(pages=three_pages())
    assert await listed(how, server) == [1, 2, 3, 4, 5, 6]
    assert server.count(QUERY) == 3


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("shape", ["bare", "inside a valid envelope"])
@pytest.mark.parametrize("how", HOW)
async def test_an_error_body_on_a_200_raises_at_any_page(how: str, shape: str, position: str) -> None:
    pages = three_pages()
    error = {"errors": ["Something went wrong on our side."]}
    at = POSITIONS[position]
    pages[at] = error if shape == "bare" else {**pages[at], **error}
    with pytest.raises(errors.APIStatusError) as caught:
        await listed(how, Scripted(pages=pages))
    assert caught.value.status_code == 200
    assert caught.value.messages == ("Something went wrong on our side.",)


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("how", HOW)
async def test_an_error_body_on_a_500_raises_at_any_page(how: str, position: str) -> None:
    pages: list[Any] = three_pages()
    pages[POSITIONS[position]] = (500, {"errors": ["Value does not reference an existing entity."]})
    with pytest.raises(errors.InternalServerError, match="existing entity"):
        await listed(how, Scripted(pages=pages))


#: For each position, a page that repeats an id: twice on the first page, or one seen on an earlier page.
REPEATS = {
    "first": ([record(1), record(1)], 1),
    "middle": ([record(3), record(1)], 1),
    "last": ([record(5), record(3)], 3),
}


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("how", HOW)
async def test_a_repeated_record_raises_at_any_page(how: str, position: str) -> None:
    items, repeated = REPEATS[position]
    pages = three_pages()
    at = POSITIONS[position]
    pages[at] = page(items, pages[at]["pageDetails"]["nextPageUrl"])
    with pytest.raises(errors.PaginationError, match=f"item {repeated} was listed"):
        await listed(how, Scripted(pages=pages))


class Endless:
    """The same page under a fresh next link every time: the listing would never end."""

    def __getitem__(self, n: int) -> dict[str, Any]:
        return page([record(1), record(2)], next_url(n + 1))

    def __len__(self) -> int:
        return 10**9


@pytest.mark.parametrize("how", HOW)
async def test_the_same_page_under_fresh_links_stops_at_the_first_repeat(how: str) -> None:
    server = Scripted(pages=Endless())  # type: ignore[arg-type]
    with pytest.raises(errors.PaginationError, match="item 1 was listed on pages 1 and 2"):
        await listed(how, server)
    assert server.count(QUERY) == 2  # not the 10,000 pages of max_pages


@pytest.mark.parametrize(
    ("link", "why"),
    [
        ("http://[::1", "not a valid URL"),
        ("ContractMilestones/query/next?page=1", "not an absolute"),
        ("", "not an absolute"),
        ("https://evil.example/ATServicesRest/V1.0/ContractMilestones/query/next", r"evil\.example"),
    ],
)
@pytest.mark.parametrize("how", HOW)
async def test_a_next_link_we_cannot_follow_is_a_pagination_error(how: str, link: str, why: str) -> None:
    server = Scripted(pages=[page([record(1)], link), page([record(2)])])
    with pytest.raises(errors.PaginationError, match=why):
        await listed(how, server)
    assert server.count(QUERY) == 1


@pytest.mark.parametrize("how", HOW)
async def test_an_empty_page_that_links_a_next_one_is_a_pagination_error(how: str) -> None:
    server = Scripted(pages=[page([record(1)], next_url(1)), page([], next_url(2)), page([record(2)])])
    with pytest.raises(errors.PaginationError, match="empty page"):
        await listed(how, server)


def _without(path: str) -> dict[str, Any]:
    body = page([record(1), record(2)])
    *parents, last = path.split(".")
    target: Any = body
    for key in parents:
        target = target[key]
    del target[last]
    return body


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(
            {**page([record(1), record(2)]), "pageDetails": {**page([])["pageDetails"], "count": 3}}, id="count"
        ),
        pytest.param(_without("items"), id="no items"),
        pytest.param(_without("pageDetails"), id="no pageDetails"),
        pytest.param(_without("pageDetails.nextPageUrl"), id="no nextPageUrl"),
        pytest.param(_without("pageDetails.count"), id="no count"),
        pytest.param(_without("pageDetails.requestCount"), id="no requestCount"),
        pytest.param(_without("pageDetails.prevPageUrl"), id="no prevPageUrl"),
        pytest.param(page([record(1), {"contractID": CID, "title": "no id"}]), id="item without id"),
        pytest.param(page([record(1), record(True)]), id="id true"),
        pytest.param({**page([]), "items": None}, id="items null"),
        pytest.param([page([record(1)])], id="a list"),
        pytest.param("<html>maintenance</html>", id="not json"),
        pytest.param("[" * 100_000 + "]" * 100_000, id="deep nesting"),
    ],
)
@pytest.mark.parametrize("how", HOW)
async def test_a_malformed_page_is_a_validation_error(how: str, broken: Any) -> None:
    with pytest.raises(errors.APIResponseValidationError):
        await listed(how, Scripted(pages=[broken]))


@pytest.mark.parametrize("how", ["native", "async-native"])
async def test_records_without_ids_are_refused_even_with_include_fields(how: str) -> None:
    server = Scripted(pages=[page([{"title": "A"}, {"title": "B"}])])
    with pytest.raises(errors.APIResponseValidationError, match="has no id"):
        await listed(how, server, include_fields=["title"])
    assert b'"IncludeFields":["id","title"]' in server.requests[0].content  # we asked for the id


@pytest.mark.parametrize("how", ["view", "async-view"])
@pytest.mark.parametrize("contract", [CID + 1, None])
async def test_the_common_view_refuses_a_record_of_another_contract(how: str, contract: int | None) -> None:
    server = Scripted(pages=[page([record(1), record(2, contractID=contract)])])
    with pytest.raises(errors.APIResponseValidationError, match="milestone 2 of contract"):
        await listed(how, server)


@pytest.mark.parametrize("how", HOW)
async def test_a_thread_threshold_on_a_200_is_retried_like_any_throttle(how: str) -> None:
    answers = iter(
        [
            {"errors": ["The Autotask API thread threshold of 3 threads has been exceeded."]},
            page([record(1), record(2)]),
        ]
    )

    def first_page(request: httpx.Request) -> httpx.Response:
        from billing_milestones._http import dumps

        return httpx.Response(200, content=dumps(next(answers)).encode())

    server = Scripted(pages=[first_page])
    assert await listed(how, server) == [1, 2]
    assert server.count(QUERY) == 2


def test_a_thread_threshold_on_a_200_that_persists_is_a_rate_limit_error() -> None:
    server = Scripted(pages=[{"errors": ["The Autotask API thread threshold of 3 threads has been exceeded."]}])
    with server.client() as client, pytest.raises(errors.RateLimitError):
        list(client.contract_milestones.query())
    assert server.count(QUERY) == 3  # the first attempt and FAST's two retries
