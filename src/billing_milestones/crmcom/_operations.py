"""Sans-IO crm.com operations: request specs and response parsers shared by the sync and async clients."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar
from urllib.parse import quote

import httpx
import pydantic
from pydantic import SecretStr

from .._http import Operation, PagedOperation, RequestSpec, Retryable, secret_value
from .._wire import WireModel
from ..errors import ValidationError
from ._envelopes import orders_page, parse_model
from ._errors import error_detail
from .rules import check_milestones
from .wire import (
    ContactToken,
    OrderCreated,
    OrderEstimate,
    OrderEstimateRequest,
    Payment,
    SubmitOrderRequest,
    WireOrder,
)

__all__ = [
    "API_PATHS",
    "DEFAULT_BASE_URL",
    "MAX_PAGE_SIZE",
    "AuthState",
    "authenticate_contact",
    "build_estimate_request",
    "build_submit_request",
    "contact_orders",
    "error_detail",
    "estimate_order",
    "get_order",
    "refresh_contact_token",
    "submit_order",
]

DEFAULT_BASE_URL: Final = "https://sandboxapi.crm.com"
API_PATHS: Final = {"self-service": "/self-service/v2", "backoffice": "/backoffice/v2"}
MAX_PAGE_SIZE: Final = 100
#: Refresh a contact token this many seconds before it expires, so a request never races the expiry.
REFRESH_SKEW: Final = 30.0


def api_base_url(base_url: str | httpx.URL, api: str) -> httpx.URL:
    """The host plus the API family's path, unless the caller's URL already ends with it."""
    if api not in API_PATHS:
        raise ValidationError(f"api: expected 'self-service' or 'backoffice', got {api!r}", field="api", value=api)
    text = str(base_url).rstrip("/")
    path = API_PATHS[api]
    return httpx.URL(text if text.endswith(path) else f"{text}{path}")


# -- auth state -----------------------------------------------------------------------------------------
@dataclass
class AuthState:
    """Credentials of one client (shared by its ``with_options`` copies): secret key and contact tokens."""

    api_key: SecretStr | None = None
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    expires_at: float | None = None
    bearer_prefix: bool = True
    clock: Any = field(default=time.time)

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.api_key is not None:
            out["api_key"] = self.api_key.get_secret_value()
        if self.access_token is not None:
            token = self.access_token.get_secret_value()
            out["Authorization"] = f"Bearer {token}" if self.bearer_prefix else token
        return out

    def needs_refresh(self) -> bool:
        if self.refresh_token is None or self.expires_at is None:
            return False
        now: float = self.clock()
        return now >= self.expires_at - REFRESH_SKEW

    def store(self, token: ContactToken) -> None:
        self.access_token = secret_value(token.access_token, field="access_token")
        if token.refresh_token is not None:
            self.refresh_token = secret_value(token.refresh_token, field="refresh_token")
        self.expires_at = float(token.expiration_date) if token.expiration_date is not None else None


# -- operations -----------------------------------------------------------------------------------------
M = TypeVar("M", bound=WireModel)


def _validated(model: type[M], data: dict[str, Any]) -> M:
    """Caller input as a wire model; pydantic's error becomes our ValidationError naming the field."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or None
        described = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValidationError(
            f"{model.__name__}: {described}",
            field=where,
            value=first.get("input"),
        ) from None


def build_estimate_request(request: OrderEstimateRequest | None, fields: Mapping[str, Any]) -> OrderEstimateRequest:
    """A typed request from a model or keyword fields (not both), with the milestone rules checked."""
    if request is not None and fields:
        raise ValidationError(
            f"pass an OrderEstimateRequest or keyword fields, not both (got {sorted(fields)})", field="request"
        )
    req = request if request is not None else _validated(OrderEstimateRequest, dict(fields))
    if req.milestones is not None:
        check_milestones(req.milestones)
    return req


def estimate_order(request: OrderEstimateRequest) -> Operation[OrderEstimate]:
    """``POST /estimates/orders``. An estimate creates nothing an order depends on, so it is always retryable."""
    spec = RequestSpec("POST", "/estimates/orders", json=request.to_wire(), retryable=Retryable.ALWAYS)
    return Operation(spec, parse_model(OrderEstimate, "the order estimate"))


def build_submit_request(
    estimation_id: str, payments: list[Payment] | list[Mapping[str, Any]], extra: Mapping[str, Any]
) -> SubmitOrderRequest:
    if not isinstance(estimation_id, str) or not estimation_id.strip():  # blank is as absent as empty
        raise ValidationError("estimation_id: required (the id of a prior estimate)", field="estimation_id")
    return _validated(SubmitOrderRequest, {"estimation_id": estimation_id, "payments": list(payments), **extra})


def submit_order(request: SubmitOrderRequest) -> Operation[OrderCreated]:
    """``POST /orders``: creates an order, so it is retried only when nothing can have been created."""
    spec = RequestSpec("POST", "/orders", json=request.to_wire(), retryable=Retryable.AUTO)
    return Operation(spec, parse_model(OrderCreated, "the created order"))


def _segment(value: str, name: str) -> str:
    """An id as one path segment. The description gives crm.com ids no format (they are UUIDs in practice),
    so only what cannot be an id is refused: blanks, whitespace, ``/`` and dot segments."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{name}: expected a non-empty id, got {value!r}", field=name, value=value)
    if value in (".", "..") or "/" in value or "\\" in value or any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ValidationError(f"{name}: {value!r} is not an id (no slashes, spaces or dot segments)", field=name)
    return quote(value, safe="")


def get_order(order_id: str) -> Operation[WireOrder]:
    spec = RequestSpec("GET", f"/orders/{_segment(order_id, 'order_id')}")
    return Operation(spec, parse_model(WireOrder, "the order"))


def contact_orders(
    contact_id: str,
    *,
    size: int = 100,
    page: int = 1,
    sort: str | None = None,
    order: str | None = None,
    include_total: bool | None = None,
) -> PagedOperation[WireOrder]:
    """``GET /contacts/{id}/orders`` pages: ``page`` counts from 1, ``size`` 1..100, stop when ``has_more`` is false."""
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationError(f"size: expected 1..{MAX_PAGE_SIZE}, got {size!r}", field="size", value=size)
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise ValidationError(f"page: expected an int >= 1, got {page!r}", field="page", value=page)
    if order is not None and order not in ("ASC", "DESC"):
        raise ValidationError(f"order: expected 'ASC' or 'DESC', got {order!r}", field="order", value=order)
    params: dict[str, Any] = {"page": page, "size": size, "sort": sort, "order": order, "include_total": include_total}
    first = RequestSpec("GET", f"/contacts/{_segment(contact_id, 'contact_id')}/orders", params=params)
    return PagedOperation(first, orders_page)


def authenticate_contact(
    public_key: str | SecretStr, provider: str, credentials: Mapping[str, Any]
) -> Operation[ContactToken]:
    """``POST /contacts/authenticate`` with the *public* key in ``api_key``; no other credential is sent."""
    key = secret_value(public_key, field="public_key")
    if not provider:
        raise ValidationError("provider: required (EMAIL, PHONE, ...)", field="provider")
    for name, value in credentials.items():
        if name.lower() in ("password", "pin", "token", "secret") and isinstance(value, str):
            secret_value(value, field=name)
    spec = RequestSpec(
        "POST",
        "/contacts/authenticate",
        json={"provider": provider, **credentials},
        headers={"api_key": key.get_secret_value()},
        authenticated=False,
        retryable=Retryable.AUTO,
    )
    return Operation(spec, parse_model(ContactToken, "the contact token"))


def refresh_contact_token(refresh_token: SecretStr) -> Operation[ContactToken]:
    """``POST /contacts/refresh`` carrying the refresh token as the Bearer token ([U]: the spec only says Bearer)."""
    spec = RequestSpec(
        "POST",
        "/contacts/refresh",
        json={"refresh_token": refresh_token.get_secret_value()},
        headers={"Authorization": f"Bearer {refresh_token.get_secret_value()}"},
        authenticated=False,
        retryable=Retryable.AUTO,
    )
    return Operation(spec, parse_model(ContactToken, "the contact token"))
