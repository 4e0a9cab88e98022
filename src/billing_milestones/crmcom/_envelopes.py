"""crm.com response envelopes: an error body is an error on any status, and a page is complete or refused.

A listing feeds the sync planner, which deletes what it does not see. So a 200 whose body is crm.com's error
shape (``{status, message, error, parameters}``, or an ``errors`` list) must raise a typed error rather than
parse as an empty estimate or an empty page, and a page whose own ``paging`` contradicts the walk (another
page number, a short page that says more follow, a total the walk does not reach) raises PaginationError.
Sans-IO: parsers only, the runners do the I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Final, TypeVar

from .._http import APIResponse, Page, RequestSpec, scrub
from .._wire import WireModel
from ..errors import (
    APIError,
    APIResponseValidationError,
    PaginationError,
    UnprocessableEntityError,
    status_error_class,
)
from ..model import Platform
from .wire import OrdersPage, WireOrder, parse_error_body

__all__ = ["TOTAL_CAP", "error_from_body", "is_error_body", "json_object", "orders_page", "parse_model"]

#: crm.com counts ``paging.total`` exactly only up to this many records; a total at the cap is not checked.
TOTAL_CAP: Final = 10_000

M = TypeVar("M", bound=WireModel)


def is_error_body(body: Any) -> bool:
    """crm.com's error shape: an ``errors`` member, an ``error`` text, or a ``status`` of 400 or more.

    None of the six documented responses has a top-level ``errors``, ``error`` or ``status`` key, so any of
    them set means the server reported a failure, whatever the HTTP status said.
    """
    if not isinstance(body, dict):
        return False
    if body.get("errors"):
        return True
    error = body.get("error")
    if isinstance(error, str | dict) and error:
        return True
    status = body.get("status")
    return isinstance(status, int) and not isinstance(status, bool) and status >= 400


def error_from_body(response: APIResponse, body: Any) -> APIError:
    """The typed error for an error body in a successful response: the body's own status picks the class."""
    parsed = parse_error_body(body)
    request = response.http.request
    kwargs: dict[str, Any] = {
        "platform": Platform.CRMCOM.value,
        "method": request.method,
        "path": request.url.path,
        "request_id": response.request_id,
        "messages": [scrub(m) for m in parsed.messages()],
        "body": body,
        "retries_taken": response.retries_taken,
    }
    status = parsed.status
    where = f"HTTP {response.status_code} carried an error body"
    if status is None or not 400 <= status <= 599:
        return APIResponseValidationError(
            f"{where} instead of the response", status_code=response.status_code, **kwargs
        )
    cls = status_error_class(status)
    message = f"{where} with status {status}"
    if issubclass(cls, UnprocessableEntityError):
        return cls(message, field=parsed.field(), status_code=status, **kwargs)
    return cls(message, status_code=status, **kwargs)


def json_object(response: APIResponse, what: str) -> dict[str, Any]:
    """The body as a JSON object; an error body raises its typed error, anything else not an object too."""
    body = response.json()
    if is_error_body(body):
        raise error_from_body(response, body)
    if not isinstance(body, dict):
        raise ValueError(f"{what}: expected a JSON object, got {type(body).__name__}")
    return body


def parse_model(model: type[M], what: str) -> Callable[[APIResponse], M]:
    """A parser for one documented response object (validation errors become APIResponseValidationError)."""

    def parse(response: APIResponse) -> M:
        return model.model_validate(json_object(response, what))

    return parse


def _refuse(message: str) -> PaginationError:
    return PaginationError(f"{Platform.CRMCOM.value}: {message}; the listing is incomplete")


def _param(value: object, default: int) -> int:
    """A page or size query value the operation itself set (always an int there)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def orders_page(spec: RequestSpec, response: APIResponse) -> Page[WireOrder]:
    """One page of ``GET /contacts/{id}/orders``: offset paging by ``page`` and ``size``, checked against itself."""
    body = OrdersPage.model_validate(json_object(response, "the order list"))
    params = dict(spec.params or {})
    current = _param(params.get("page"), 1)
    paging, count = body.paging, len(body.content)
    size = _param(params.get("size"), 0)
    if paging.page is not None and paging.page != current:
        raise _refuse(f"page {current} was asked for and page {paging.page} came back")
    if paging.size is not None and paging.size != size:
        # Offset paging: a page of another size starts somewhere else, so the walk would skip or repeat orders.
        raise _refuse(f"pages of {size} were asked for and a page of size {paging.size} came back")
    if size and count > size:
        raise _refuse(f"page {current} holds {count} orders, more than its size {size}")
    if paging.has_more and (count == 0 or count < size):
        raise _refuse(f"page {current} holds {count} of {size} orders yet says has_more")
    total = paging.total if paging.total is not None and paging.total < TOTAL_CAP else None
    if not paging.has_more and total is not None and size and (current - 1) * size + count != total:
        raise _refuse(f"the orders end at {(current - 1) * size + count} although the server counts {total}")
    nxt = replace(spec, params={**params, "page": current + 1}) if paging.has_more else None
    return Page(
        items=list(body.content),
        next=nxt,
        response=response,
        total=total,
        item_ids=tuple(order.id for order in body.content),
    )
