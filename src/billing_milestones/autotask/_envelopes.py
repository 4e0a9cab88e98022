"""Strict reading of Autotask's response envelopes: a body is exactly what the vendor describes, or an error.

Every field of the old envelope models had a default, so ``{"errors": [...]}`` on a 200 read as an empty page
and ended a listing early; the sync then deleted what it had not seen. Here an envelope's keys are required,
its counts must agree with its items, each listed item must carry its id (so the shared page guard can refuse
a record listed twice, on one page or across pages) and a next link must be one we can follow.

Parsers raise ``ValueError`` for a malformed body (the runner turns it into APIResponseValidationError),
``PaginationError`` for paging that cannot be trusted and ``NotFoundError`` for ``item: null``.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from typing import Any, Final, Protocol, TypeVar

import pydantic

from .. import errors
from .._http import APIResponse, Page, RequestSpec
from ._core import parsed_body
from ._errors import PLATFORM, error_body_messages
from ._page import _ENVELOPE, Record, contract_records, read_items_page
from .wire import ContractMilestone, FieldsResponse, ItemIdResponse, PageDetails

__all__ = ["body_of", "checked_item", "count_matches", "item_id_of", "items_page", "status_fields_of", "view_page"]


class _Identified(Protocol):
    @property
    def id(self) -> int | None: ...


R = TypeVar("R", bound=_Identified)
_ID: Final = operator.itemgetter("id")


def body_of(response: APIResponse) -> dict[str, Any]:
    """The JSON object of a response; an error body that slipped past the core is refused, never parsed.
    (The core's success check parsed it: :func:`~._core.parsed_body` hands that parse over.)"""
    body = parsed_body(response)
    if not isinstance(body, dict):
        raise ValueError(f"expected a JSON object, got {type(body).__name__}")
    messages = error_body_messages(body)
    if messages is not None:
        raise ValueError(f"the body is an Autotask error body: {'; '.join(messages)[:500]}")
    return body


def status_fields_of(response: APIResponse) -> FieldsResponse:
    """entityInformation/fields, with each ``status`` picklist value a digit string given once: ``int()`` would
    read " 1" or a non-ASCII digit as 1, and a value listed twice would silently relabel a status."""
    fields = FieldsResponse.model_validate(body_of(response))
    status = fields.field("status")
    seen: set[str] = set()
    for entry in (status.picklist_values or []) if status is not None else []:
        if not (entry.value.isascii() and entry.value.isdigit()):
            raise ValueError(f"status picklist value {entry.value!r} is not an integer")
        if str(int(entry.value)) in seen:
            raise ValueError(f"status picklist value {entry.value!r} is listed twice")
        seen.add(str(int(entry.value)))
    return fields


def checked_item(entity: str, record_id: int, response: APIResponse, item: R | None) -> R:
    """``item: null`` is Autotask's "no such record"; an item with another (or no) id is not the one asked for."""
    if item is None:
        raise errors.NotFoundError(
            f"{entity} {record_id} not found (Autotask answered item: null)",
            platform=PLATFORM,
            method=response.http.request.method,
            path=response.http.request.url.path,
            status_code=response.status_code,
            request_id=response.request_id,
            body=response.json(),
        )
    if item.id != record_id:
        raise ValueError(f"asked for {entity} {record_id}, the server answered with id {item.id!r}")
    return item


def item_id_of(response: APIResponse, expected: int | None = None) -> int:
    """``{"itemId": N}``: a created record's id is positive; an update answers with the record it changed."""
    item_id = ItemIdResponse.model_validate(body_of(response)).item_id
    if item_id < 1:
        raise ValueError(f"itemId {item_id} is not a record id")
    if expected is not None and item_id != expected:
        raise ValueError(f"updated record {expected}, the server answered itemId {item_id}")
    return item_id


def count_matches(details: PageDetails, items: list[Any]) -> None:
    """``pageDetails.count`` is the number of items on the page: any other number means a page we misread."""
    if details.count != len(items):
        raise ValueError(f"pageDetails.count is {details.count} but the page holds {len(items)} items")


def _next_request(spec: RequestSpec, details: PageDetails, items: list[Any]) -> RequestSpec | None:
    nxt = details.next_page_url
    if nxt is None:
        return None
    if not nxt.lower().startswith(("http://", "https://")):
        raise errors.PaginationError(f"{PLATFORM}: nextPageUrl {nxt[:120]!r} is not an absolute http(s) URL")
    if not items:
        raise errors.PaginationError(
            f"{PLATFORM}: an empty page still links a next page ({nxt[:120]}); the server is paging in circles"
        )
    # Replay nextPageUrl with the same method and body: a GET on it answers 405 after a POST query.
    return dataclasses.replace(spec, path=nxt)


def items_page(spec: RequestSpec, response: APIResponse) -> Page[ContractMilestone]:
    """One ``ContractMilestones`` query page. Every item must carry its id: ``Query`` always asks for it, even
    with ``IncludeFields`` (paging past 500 needs it), and the page guard needs it to see a repeat."""
    return _items_page(spec, response, body_of(response))


def view_page(contract: int) -> Callable[[RequestSpec, APIResponse], Page[ContractMilestone | Record]]:
    """:func:`items_page` for the common view of ``contract``'s milestones. A page whose every record is a usual
    one of the contract, with its id (``_page.contract_records``), keeps the records as the JSON had them: the
    view reads each from there once (``_read.listing_reader``) and builds its wire model only if its raw payload
    is read. Any other page is :func:`items_page`'s, whole, with its errors."""

    def parse(spec: RequestSpec, response: APIResponse) -> Page[ContractMilestone | Record]:
        body = body_of(response)
        items = body.get("items")
        if body.keys() == _ENVELOPE and type(items) is list and contract_records(items, contract):
            try:
                details = PageDetails.model_validate(body["pageDetails"])
            except pydantic.ValidationError:  # the envelope's reading names it by its place in the body
                pass
            else:
                count_matches(details, items)
                ids = tuple(map(str, map(_ID, items)))
                return Page(items, _next_request(spec, details, items), response, item_ids=ids)
        page: Page[ContractMilestone | Record] = _items_page(spec, response, body)  # type: ignore[assignment]
        return page

    return parse


def _items_page(spec: RequestSpec, response: APIResponse, data: dict[str, Any]) -> Page[ContractMilestone]:
    body = read_items_page(data)
    count_matches(body.page_details, body.items)
    item_ids: list[str] = []
    for position, item in enumerate(body.items):
        if item.id is None:
            raise ValueError(f"item {position} of the page has no id")
        item_ids.append(str(item.id))
    return Page(body.items, _next_request(spec, body.page_details, body.items), response, item_ids=tuple(item_ids))
