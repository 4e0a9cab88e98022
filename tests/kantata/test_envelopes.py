"""Kantata envelopes are read strictly: a listing is complete or it raises, whatever page goes wrong.

A scripted server answers three pages of two milestones (six in all). One page at a time is replaced by an
error body (with status 200), a page repeating a record, or a page that breaks the paging facts; each
listing the sync uses (the native resource and the common view, sync and async clients) must raise a
typed error instead of returning fewer, or repeated, milestones.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from billing_milestones import errors
from billing_milestones._http import dumps
from billing_milestones.kantata import AsyncKantataClient, KantataClient

WORKSPACE = "10"
PAGE_SIZE = 2


def ms(ident: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "title": f"M{ident}",
        "amount_in_cents": 100 * int(ident),
        "currency": "USD",
        "billing_type": "fixed_date",
        "date_to_invoice": "2026-05-01",
        "story_id": None,
        "workspace_id": WORKSPACE,
        "invoice_id": None,
        "external_reference_ids": [],
        **extra,
    }


def envelope(
    items: list[dict[str, Any]], *, page: int = 1, total: int | None = None, key: str = "billing_milestones"
) -> dict[str, Any]:
    total = len(items) if total is None else total
    return {
        "count": total,
        "meta": {"count": total, "page_count": -(-total // PAGE_SIZE), "page_number": page, "page_size": PAGE_SIZE},
        "results": [{"key": key, "id": i["id"]} for i in items],
        key: {i["id"]: i for i in items},
    }


def good_pages(total: int = 6) -> list[dict[str, Any]]:
    ids = [str(i) for i in range(1, total + 1)]
    chunks = [ids[i : i + PAGE_SIZE] for i in range(0, total, PAGE_SIZE)]
    return [envelope([ms(i) for i in chunk], page=n, total=total) for n, chunk in enumerate(chunks, start=1)]


WORKSPACE_BODY = envelope(
    [{"id": WORKSPACE, "title": "P", "currency": "USD", "currency_base_unit": 100}], key="workspaces"
)


class Server:
    """Workspace 10 and the given billing milestone pages (a page past the end repeats the last one)."""

    def __init__(self, pages: list[Any], *, status: int = 200) -> None:
        self.pages = pages
        self.status = status
        self.asked: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(f"/workspaces/{WORKSPACE}"):
            return httpx.Response(200, content=dumps(WORKSPACE_BODY).encode())
        page = int(request.url.params.get("page", "1"))
        self.asked.append(page)
        body = self.pages[min(page, len(self.pages)) - 1]
        text = body if isinstance(body, str) else dumps(body)
        return httpx.Response(self.status, content=text.encode(), headers={"Content-Type": "application/json"})


async def listed(how: str, server: Server) -> list[str]:
    """The ids one of the four listings yields from ``server``."""
    native = {"workspace_ids": [WORKSPACE]}
    if how.endswith("-sync"):
        with KantataClient("t", http_client=httpx.Client(transport=httpx.MockTransport(server))) as client:
            if how.startswith("native"):
                return [m.id for m in client.billing_milestones.list(**native)]  # type: ignore[arg-type]
            return [m.key.id for m in client.milestones.list(WORKSPACE) if m.key]
    http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    async with AsyncKantataClient("t", http_client=http) as aclient:
        if how.startswith("native"):
            return [m.id async for m in aclient.billing_milestones.list(**native)]  # type: ignore[arg-type]
        return [m.key.id async for m in aclient.milestones.list(WORKSPACE) if m.key]


LISTINGS = ["native-sync", "native-async", "view-sync", "view-async"]
POSITIONS = [1, 2, 3]

ERROR_BODIES: list[tuple[Any, type[errors.APIStatusError]]] = [
    ({"errors": [{"type": "system", "message": "Something went wrong"}]}, errors.APIStatusError),
    ({"errors": [{"type": "oauth", "message": "The token was revoked"}]}, errors.AuthenticationError),
    ({"errors": [{"type": "validation", "message": "is invalid", "field": "page"}]}, errors.UnprocessableEntityError),
    ({"errors": {"base": ["try again later"]}}, errors.APIStatusError),
    ({"errors": "maintenance"}, errors.APIStatusError),
    ({"error_message": "Something went wrong"}, errors.APIStatusError),
]


def test_results_order_the_listing_and_extra_map_entries_are_side_loads() -> None:
    """The documented reading: walk ``results``; the map may hold more (included objects of the same type)."""
    body = envelope([ms("2"), ms("1")])
    body["billing_milestones"]["99"] = ms("99", title="not a primary result")
    with answering(body) as client:
        assert [m.id for m in client.billing_milestones.list()] == ["2", "1"]


async def test_the_good_pages_list_completely() -> None:
    """The baseline the other tests break one page of."""
    for how in LISTINGS:
        server = Server(good_pages())
        assert await listed(how, server) == ["1", "2", "3", "4", "5", "6"]
        assert server.asked == [1, 2, 3]


@pytest.mark.parametrize("how", LISTINGS)
@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize(("body", "expected"), ERROR_BODIES, ids=lambda v: type(v).__name__)
async def test_an_error_body_with_status_200_on_any_page_raises(
    how: str, position: int, body: Any, expected: type[errors.APIStatusError]
) -> None:
    pages: list[Any] = good_pages()
    pages[position - 1] = body
    server = Server(pages)
    with pytest.raises(expected) as info:
        await listed(how, server)
    assert type(info.value) is expected
    assert info.value.status_code == 200 and info.value.messages
    assert server.asked == list(range(1, position + 1))


def _repeat_on(pages: list[dict[str, Any]], position: int) -> None:
    """Page ``position``'s first record becomes one listed before (on page 1: its neighbour)."""
    page = pages[position - 1]
    donor = "2" if position == 1 else "1"
    first = page["results"][0]["id"]
    del page["billing_milestones"][first]
    page["billing_milestones"][donor] = ms(donor)
    page["results"][0]["id"] = donor


@pytest.mark.parametrize("how", LISTINGS)
@pytest.mark.parametrize("position", POSITIONS)
async def test_a_repeated_record_on_any_page_raises(how: str, position: int) -> None:
    pages = good_pages()
    _repeat_on(pages, position)
    with pytest.raises(errors.PaginationError, match="listed"):
        await listed(how, Server(pages))


def _emptied(page: dict[str, Any], _: int) -> None:
    page["results"], page["billing_milestones"] = [], {}


def _shortened(page: dict[str, Any], _: int) -> None:
    gone = page["results"].pop()
    del page["billing_milestones"][gone["id"]]


def _stale(page: dict[str, Any], position: int) -> None:
    page["meta"]["page_number"] = position - 1 or 2


def _results_dropped(page: dict[str, Any], _: int) -> None:
    del page["results"]


def _count_dropped(page: dict[str, Any], _: int) -> None:
    del page["count"]


def _meta_dropped(page: dict[str, Any], _: int) -> None:
    del page["meta"]


def _page_count_inflated(page: dict[str, Any], _: int) -> None:
    page["meta"]["page_count"] = 10**9


def _count_disagrees(page: dict[str, Any], _: int) -> None:
    page["meta"]["count"] = 7


def _other_type(page: dict[str, Any], _: int) -> None:
    page["results"][0]["key"] = "stories"
    page["stories"] = {page["results"][0]["id"]: {"id": page["results"][0]["id"]}}


def _id_differs(page: dict[str, Any], _: int) -> None:
    first = page["results"][0]["id"]
    page["billing_milestones"][first]["id"] = "99"


BROKEN: list[tuple[Callable[[dict[str, Any], int], None], type[errors.BillingMilestonesError]]] = [
    (_emptied, errors.PaginationError),
    (_shortened, errors.PaginationError),
    (_stale, errors.PaginationError),
    (_page_count_inflated, errors.PaginationError),
    (_count_disagrees, errors.PaginationError),
    (_results_dropped, errors.APIResponseValidationError),
    (_count_dropped, errors.APIResponseValidationError),
    (_meta_dropped, errors.APIResponseValidationError),
    (_other_type, errors.APIResponseValidationError),
    (_id_differs, errors.APIResponseValidationError),
]


@pytest.mark.parametrize("how", ["native-sync", "view-async"])
@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize(("breaks", "expected"), BROKEN, ids=lambda v: getattr(v, "__name__", ""))
async def test_a_page_that_breaks_its_envelope_raises(
    how: str, position: int, breaks: Callable[[dict[str, Any], int], None], expected: type[Exception]
) -> None:
    pages = good_pages()
    breaks(pages[position - 1], position)
    with pytest.raises(expected):
        await listed(how, Server(pages))


@pytest.mark.parametrize("how", LISTINGS)
async def test_the_same_page_under_fresh_page_numbers_ends_at_the_first_repeat(how: str) -> None:
    """A server that answers page 1 for every page and claims 10**9 pages (its count agrees)."""
    total = PAGE_SIZE * 10**9

    class Endless(Server):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            page = int(request.url.params.get("page", "1"))
            self.pages = [envelope([ms("1"), ms("2")], page=page, total=total)]
            return super().__call__(request)

    server = Endless([])
    with pytest.raises(errors.PaginationError, match="item 1 was listed on pages 1 and 2"):
        await listed(how, server)
    assert server.asked == [1, 2]


async def test_the_same_page_with_a_stale_page_number_or_a_small_count_ends_early() -> None:
    stale = envelope([ms("1"), ms("2")], page=1, total=6)
    server = Server([stale])
    with pytest.raises(errors.PaginationError, match="answered page 1"):
        await listed("native-sync", server)
    assert server.asked == [1, 2]
    inflated = envelope([ms("1"), ms("2")], total=6)
    inflated["meta"]["page_count"] = 10**9
    server = Server([inflated])
    with pytest.raises(errors.PaginationError, match="page_count"):
        await listed("native-async", server)
    assert server.asked == [1]


async def test_an_empty_workspace_is_one_consistent_page() -> None:
    empty = envelope([], total=0)
    assert empty["meta"]["page_count"] == 0
    for how in LISTINGS:
        assert await listed(how, Server([copy.deepcopy(empty)])) == []


# -- single-object replies ---------------------------------------------------------------------------------
def answering(body: Any, status: int = 200, *, text: str | None = None) -> KantataClient:
    """A client whose every request gets ``body`` (or the raw ``text``) back."""
    content = text.encode() if text is not None else dumps(body).encode() if body is not None else b""

    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content)

    return KantataClient("t", http_client=httpx.Client(transport=httpx.MockTransport(reply)), max_retries=0)


CALLS: dict[str, Callable[[KantataClient], object]] = {
    "get": lambda c: c.billing_milestones.get("1"),
    "create": lambda c: c.billing_milestones.create(workspace_id="10", title="M1", amount_in_cents=100),
    "create_many": lambda c: c.billing_milestones.create_many(
        [{"workspace_id": "10", "title": "M1", "amount_in_cents": 100}]
    ),
    "update": lambda c: c.billing_milestones.update("1", title="M1"),
    "delete": lambda c: c.billing_milestones.delete("1"),
    "workspace": lambda c: c.workspaces.get("10"),
    "story": lambda c: c.stories.get("1"),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize(("body", "expected"), ERROR_BODIES, ids=lambda v: type(v).__name__)
def test_every_call_refuses_an_error_body_with_status_200(
    call: str, body: Any, expected: type[errors.APIStatusError]
) -> None:
    with answering(body) as client, pytest.raises(expected) as info:
        CALLS[call](client)
    assert type(info.value) is expected and info.value.status_code == 200


def test_an_invoiced_lock_reported_with_status_200_is_the_invoiced_error() -> None:
    body = {"errors": [{"type": "validation", "message": "is invoiced", "field": "invoice_id"}]}
    with answering(body) as client, pytest.raises(errors.MilestoneInvoicedError):
        client.billing_milestones.update("1", title="x")


def test_a_reply_about_another_object_is_refused() -> None:
    with answering(envelope([ms("2")])) as client:
        with pytest.raises(errors.APIResponseValidationError, match="asked for billing milestone 1"):
            client.billing_milestones.get("1")
        with pytest.raises(errors.APIResponseValidationError, match="asked for billing milestone 1"):
            client.billing_milestones.update("1", title="x")
    other = envelope([{"id": "11", "currency": "USD"}], key="workspaces")
    with answering(other) as client, pytest.raises(errors.APIResponseValidationError, match="workspace 10"):
        client.workspaces.get("10")


def test_a_bulk_reply_listing_one_milestone_twice_is_refused() -> None:
    body = envelope([ms("1")])
    body["results"].append({"key": "billing_milestones", "id": "1"})
    items = [{"workspace_id": "10", "title": "M1", "amount_in_cents": 100}] * 2
    with answering(body) as client, pytest.raises(errors.APIResponseValidationError, match="twice"):
        client.billing_milestones.create_many(items)


def test_delete_accepts_204_and_an_empty_200() -> None:
    for status in (204, 200):
        with answering(None, status) as client:
            delete: Callable[[str], object] = client.billing_milestones.delete  # the value it returns is checked
            assert delete("1") is None


# -- side-loads ------------------------------------------------------------------------------------------
def _ref(ident: str, subject: object = 1, **extra: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "service_name": "billing-milestones",
        "service_model": "billing_milestone",
        "service_model_ref": f"key-{ident}",
        "subject_id": subject,
        "subject_type": "BillingMilestone",
        **extra,
    }


def _with_refs(refs: dict[str, Any] | None, ids: list[str] | None) -> dict[str, Any]:
    item = ms("1", external_reference_ids=ids) if ids is not None else ms("1")
    if ids is None:
        del item["external_reference_ids"]
    body = envelope([item])
    if refs is not None:
        body["external_references"] = refs
    return body


def test_side_loaded_references_attach_with_the_documented_integer_subject_id() -> None:
    with answering(_with_refs({"5": _ref("5", subject=1)}, ["5"])) as client:
        got = client.billing_milestones.get("1", include=["external_references"])
    assert [r.service_model_ref for r in got.external_references] == ["key-5"]


@pytest.mark.parametrize(
    ("refs", "ids", "match"),
    [
        ({}, ["5"], "names external_references"),  # the sync key would be hidden: a duplicate later
        (None, ["5"], "names external_references"),
        ({"5": _ref("5")}, None, "lacks external_references ids"),
        ({"5": _ref("5", subject=2)}, ["5"], "belongs to 2"),
        ({"5": _ref("5", subject_type="Story")}, ["5"], "belongs to a Story"),
        ({"6": _ref("5")}, ["6"], "whose id is '5'"),
    ],
)
def test_an_incomplete_side_load_that_was_asked_for_is_refused(
    refs: dict[str, Any] | None, ids: list[str] | None, match: str
) -> None:
    with answering(_with_refs(refs, ids)) as client, pytest.raises(errors.APIResponseValidationError, match=match):
        client.billing_milestones.get("1", include=["external_references"])


def test_reference_ids_without_their_objects_are_not_loaded_rather_than_none() -> None:
    with answering(_with_refs(None, ["5"])) as client:
        got = client.billing_milestones.get("1")
    assert not got.external_references_loaded
    with answering(_with_refs(None, [])) as client:
        assert client.billing_milestones.get("1").external_references_loaded


def test_unknown_envelope_and_object_fields_are_kept() -> None:
    body = envelope([ms("1", brand_new={"a": [1]})])
    body["users"] = {"9": {"id": "9"}}
    with answering(body) as client:
        got = client.billing_milestones.get("1")
    assert got.extra_fields == {"brand_new": {"a": [1]}}


def test_deep_nesting_is_a_typed_error() -> None:
    deep = '{"count": 1, "results": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with answering(None, text=deep) as client, pytest.raises(errors.APIResponseValidationError):
        client.billing_milestones.get("1")
