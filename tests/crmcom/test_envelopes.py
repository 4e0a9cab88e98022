"""crm.com envelopes: a contact's order list is complete or raises; error bodies raise on any status, sync and async.

Each listing is served by a scripted transport (three pages of two orders), so an error body, a repeated order
or an endless ``has_more`` can be put at the first, a middle or the last page.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from billing_milestones._http import RetryPolicy, dumps
from billing_milestones.crmcom import AsyncCrmComClient, CrmComClient
from billing_milestones.errors import (
    APIResponseValidationError,
    BillingMilestonesError,
    NotFoundError,
    PaginationError,
    UnprocessableEntityError,
)

FAST = RetryPolicy(initial_delay=0.0, max_delay=0.0, jitter=0.0)
SIZE = 2
POSITIONS = {"first": 0, "middle": 1, "last": 2}


def order(n: int) -> dict[str, Any]:
    return {"id": f"o-{n}", "number": f"ORD{n}", "state": "NEW", "total": 10 + n, "currency_code": "EUR"}


def pages(count: int = 3, *, total: int | None = None) -> list[dict[str, Any]]:
    out = []
    for p in range(count):
        paging = {"page": p + 1, "size": SIZE, "total": total, "has_more": p < count - 1}
        out.append({"content": [order(p * SIZE + 1), order(p * SIZE + 2)], "paging": paging})
    return out


Serve = Callable[[int], Any]


def transport(serve: Serve, seen: list[int] | None = None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        if seen is not None:
            seen.append(page)
        body = serve(page)
        status, body = body if isinstance(body, tuple) else (200, body)
        return httpx.Response(status, content=body if isinstance(body, bytes) else dumps(body).encode())

    return httpx.MockTransport(handler)


def listed(serve: Serve, *, max_pages: int | None = None, include_total: bool | None = None) -> list[str]:
    with CrmComClient("sk", http_client=httpx.Client(transport=transport(serve)), retry_policy=FAST) as client:
        c = client.with_options(max_pages=max_pages) if max_pages else client
        return [o.id for o in c.orders.list_for_contact("c-1", size=SIZE, include_total=include_total)]


async def alisted(serve: Serve, *, max_pages: int | None = None) -> list[str]:
    http = httpx.AsyncClient(transport=transport(serve))
    async with AsyncCrmComClient("sk", http_client=http, retry_policy=FAST) as client:
        c = client.with_options(max_pages=max_pages) if max_pages else client
        return [o.id async for o in c.orders.list_for_contact("c-1", size=SIZE)]


def script(bodies: list[Any]) -> Serve:
    return lambda page: bodies[page - 1]


def test_a_clean_walk_lists_every_order_once() -> None:
    assert listed(script(pages())) == [f"o-{n}" for n in range(1, 7)]
    assert listed(script(pages(total=6)), include_total=True) == [f"o-{n}" for n in range(1, 7)]


async def test_a_clean_walk_lists_every_order_once_async() -> None:
    assert await alisted(script(pages())) == [f"o-{n}" for n in range(1, 7)]


# -- error bodies at every page position ------------------------------------------------------------------
ERRORS: list[tuple[Any, type[BillingMilestonesError], str]] = [
    ({"status": 404, "message": "Contact c-1 not found", "error": "NOT_FOUND"}, NotFoundError, "c-1 not found"),
    ({"errors": [{"code": "E1", "message": "backend down"}]}, APIResponseValidationError, "backend down"),
    ({"status": 422, "error": "BAD", "parameters": {"field": "page"}}, UnprocessableEntityError, "BAD"),
    ({"error": "internal"}, APIResponseValidationError, "internal"),
]


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize(("error", "cls", "text"), ERRORS)
def test_an_error_body_on_any_page_raises(position: str, error: Any, cls: type[Exception], text: str) -> None:
    bodies: list[Any] = pages()
    bodies[POSITIONS[position]] = error
    with pytest.raises(cls, match=text) as caught:
        listed(script(bodies))
    assert caught.value.status_code in (200, 404, 422)  # type: ignore[attr-defined]


@pytest.mark.parametrize("position", POSITIONS)
async def test_an_error_body_on_any_page_raises_async(position: str) -> None:
    bodies: list[Any] = pages()
    bodies[POSITIONS[position]] = ERRORS[0][0]
    with pytest.raises(NotFoundError, match="c-1 not found"):
        await alisted(script(bodies))


# -- repeated records at every page position --------------------------------------------------------------
def repeated(position: str) -> list[dict[str, Any]]:
    bodies = pages()
    where = POSITIONS[position]
    if where == 0:  # twice on the first page
        bodies[0]["content"][1] = copy.deepcopy(bodies[0]["content"][0])
    else:  # the page repeats one of the page before
        bodies[where]["content"][0] = copy.deepcopy(bodies[where - 1]["content"][1])
    return bodies


@pytest.mark.parametrize("position", POSITIONS)
def test_a_repeated_order_on_any_page_raises(position: str) -> None:
    with pytest.raises(PaginationError, match="listed"):
        listed(script(repeated(position)))


@pytest.mark.parametrize("position", POSITIONS)
async def test_a_repeated_order_on_any_page_raises_async(position: str) -> None:
    with pytest.raises(PaginationError, match="listed"):
        await alisted(script(repeated(position)))


def test_the_same_page_under_every_page_number_raises() -> None:
    first = pages()[0]
    with pytest.raises(PaginationError, match="page 1 came back"):
        listed(lambda page: first)
    same = {**first, "paging": {"has_more": True}}  # no page number to tell: the repeated ids tell
    with pytest.raises(PaginationError, match="o-1 was listed on pages 1 and 2"):
        listed(lambda page: same)


def endless(page: int) -> dict[str, Any]:
    return {"content": [order(2 * page), order(2 * page + 1)], "paging": {"page": page, "has_more": True}}


def test_endless_has_more_stops_at_the_page_ceiling() -> None:
    seen: list[int] = []
    http = httpx.Client(transport=transport(endless, seen))
    with CrmComClient("sk", http_client=http, retry_policy=FAST) as client, pytest.raises(PaginationError, match="max"):
        list(client.with_options(max_pages=5).orders.list_for_contact("c-1", size=SIZE))
    assert seen == [1, 2, 3, 4, 5]


async def test_endless_has_more_stops_at_the_page_ceiling_async() -> None:
    with pytest.raises(PaginationError, match="max_pages"):
        await alisted(endless, max_pages=5)


# -- pages that contradict their own paging ---------------------------------------------------------------
def mutated(where: int, change: Callable[[dict[str, Any]], Any]) -> list[dict[str, Any]]:
    bodies = pages(total=6)
    change(bodies[where])
    return bodies


@pytest.mark.parametrize(
    ("bodies", "match"),
    [
        (mutated(1, lambda b: b["content"].clear()), "holds 0 of 2 orders yet says has_more"),
        (mutated(1, lambda b: b["content"].pop()), "holds 1 of 2 orders yet says has_more"),
        (mutated(1, lambda b: b["content"].append(order(99))), "more than its size"),
        (mutated(1, lambda b: b["paging"].update(size=3)), "size 3 came back"),
        (mutated(2, lambda b: b["paging"].update(page=1)), "page 1 came back"),
        (mutated(2, lambda b: b["content"].pop()), "end at 5 although the server counts 6"),
        (mutated(2, lambda b: b["paging"].update(total=7)), "end at 6 although the server counts 7"),
        # A total that moves between pages: the listing changed under the walk (the shared page guard).
        (mutated(1, lambda b: b["paging"].update(total=3)), "changed while it was read"),
    ],
)
def test_a_page_that_contradicts_its_paging_raises(bodies: list[dict[str, Any]], match: str) -> None:
    with pytest.raises(PaginationError, match=match):
        listed(script(bodies), include_total=True)


def test_a_total_at_crm_coms_cap_is_not_held_against_the_walk() -> None:
    # paging.total is exact only up to 10,000 records, so 10,000 means "at least"
    assert len(listed(script(pages(total=10_000)), include_total=True)) == 6


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda b: b.pop("paging"), "paging"),
        (lambda b: b.pop("content"), "content"),
        (lambda b: b["paging"].pop("has_more"), "has_more"),
        (lambda b: b["paging"].update(has_more="true"), "has_more"),
        (lambda b: b["paging"].update(has_more=1), "has_more"),
        (lambda b: b["paging"].update(total=True), "total"),
        (lambda b: b["paging"].update(page="2"), "page"),
        (lambda b: b["content"][0].update(id=True), "id"),
        (lambda b: b["content"][0].update(id=""), "id"),
        (lambda b: b["content"][0].pop("id"), "id"),
        (lambda b: b["content"][0].update(total=True), "boolean"),
        (lambda b: b["content"][0].update(total="11"), "string"),
        (lambda b: b["content"][0].update(total=Decimal("12345678901234567.89")), "more digits"),
        (lambda b: b.update(content={"o-1": {}}), "content"),
    ],
)
@pytest.mark.parametrize("position", POSITIONS)
def test_a_wrong_typed_or_missing_key_on_any_page_raises(position: str, change: Any, match: str) -> None:
    with pytest.raises(APIResponseValidationError, match=match):
        listed(script(mutated(POSITIONS[position], change)))


@pytest.mark.parametrize("body", [b"", b"null", b"[]", b'"ok"', b"<html>502</html>", b"[" * 100_000])
def test_a_body_that_is_not_an_object_raises(body: bytes) -> None:
    with pytest.raises(APIResponseValidationError):
        listed(lambda page: body)


# -- the other operations ---------------------------------------------------------------------------------
def one(body: Any) -> httpx.Client:
    content = body if isinstance(body, bytes) else dumps(body).encode()
    return httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, content=content)))


CALLS: dict[str, Callable[[CrmComClient], Any]] = {
    "get": lambda c: c.orders.get("o-1"),
    "submit": lambda c: c.orders.submit("est-1", [{"payment_method_type": "CASH"}]),
    "authenticate": lambda c: c.authenticate_contact("pk-public", username="a@b.c", password="pw-secret"),
}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize(("error", "cls", "text"), ERRORS)
def test_an_error_body_with_200_raises_on_every_operation(
    call: str, error: Any, cls: type[Exception], text: str
) -> None:
    with CrmComClient("sk", http_client=one(error), retry_policy=FAST) as client, pytest.raises(cls, match=text):
        CALLS[call](client)


@pytest.mark.parametrize(
    ("call", "body", "match"),
    [
        ("get", {"number": "ORD1"}, "id"),
        ("get", {"id": 5}, "id"),
        ("get", {"id": "o-1", "created_date": True}, "created_date"),
        ("submit", {"number": "ORD1"}, "id"),
        ("authenticate", {"refresh_token": "r"}, "access_token"),
        ("authenticate", {"access_token": ""}, "access_token"),
        ("authenticate", {"access_token": "a", "expiration_date": "1572530655"}, "expiration_date"),
        ("authenticate", {"access_token": "a", "expiration_date": True}, "expiration_date"),
    ],
)
def test_missing_or_wrong_typed_fields_raise(call: str, body: Any, match: str) -> None:
    client = CrmComClient("sk", http_client=one(body), retry_policy=FAST)
    with client, pytest.raises(APIResponseValidationError, match=match):
        CALLS[call](client)


def test_an_empty_refresh_token_means_none() -> None:
    # the vendor's authenticate examples send "refresh_token": "" for "no refresh token"
    body = {"access_token": "at-token-1", "refresh_token": "", "expiration_date": 1572530655, "extra": 1}
    with CrmComClient("sk", http_client=one(body), retry_policy=FAST) as client:
        token = CALLS["authenticate"](client)
    assert token.refresh_token is None and token.extra_fields == {"extra": 1}
