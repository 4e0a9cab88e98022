"""crm.com Self-Service v2 payloads, with the exact snake_case wire names.

Every model keeps unknown fields (``WireModel`` uses ``extra="allow"``) because the live API drifts from its
spec. Money and percentages are ``Decimal``; a float is refused so no binary rounding enters the money path
(the HTTP core already parses JSON numbers as Decimal).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field, SecretStr

from .._http._json import loads
from .._wire import WireDecimal, WireModel

__all__ = [
    "ContactToken",
    "ErrorBody",
    "EstimateQueue",
    "InvoiceEstimate",
    "MerchantOrderEstimate",
    "MilestonePlanEstimate",
    "MilestoneRequest",
    "NamedRef",
    "OrderCreated",
    "OrderDiscount",
    "OrderEstimate",
    "OrderEstimateRequest",
    "OrderEstimateSummary",
    "OrderItem",
    "OrderStage",
    "OrdersPage",
    "Paging",
    "Payment",
    "SubmitOrderRequest",
    "WireOrder",
    "parse_error_body",
]


# -- estimate request -----------------------------------------------------------------------------------
class MilestoneRequest(WireModel):
    """One entry of ``milestones[]`` in the estimate request: a stage and either a percentage or an amount."""

    stage_id: str | None = None
    percentage: WireDecimal | None = None
    amount: WireDecimal | None = None


class OrderItem(WireModel):
    """A product line of the order (``items[]``); ``price`` and ``price_terms_id`` are optional overrides."""

    id: str
    quantity: WireDecimal = Decimal(1)
    price: WireDecimal | None = None
    price_terms_id: str | None = None
    components: list[dict[str, Any]] | None = None


class OrderEstimateRequest(WireModel):
    """Body of ``POST /estimates/orders``. Also the order *draft* the common view keeps per client."""

    account_id: str
    supply_method: str = Field(description="DELIVERY, PICK_UP or DIRECT_SALE")
    delivery_method: str = Field(description="e.g. COURIER_SERVICE (required by the docs, even for PICK_UP)")
    payment_method_type: str = Field(description="e.g. CASH, CARD, ACCOUNT, WALLET")
    items: list[OrderItem] = Field(min_length=1)
    queue_id: str | None = None
    milestones: list[MilestoneRequest] | None = None
    estimation_id: str | None = None
    fulfilled_by: str | None = None
    address_id: str | None = None
    notes: str | None = None
    use_wallet_funds: bool | None = None
    wallet_funds_amount: WireDecimal | None = None
    requested_delivery_at: dict[str, Any] | None = None
    current_location: dict[str, Any] | None = None

    def to_wire(self) -> dict[str, Any]:
        """The JSON body: unset and None fields left out, Decimals kept exact, unknown fields passed through.

        An explicit ``milestones=[]`` is kept (an empty set), while None leaves the field out so the server
        applies the queue's configured milestones.
        """
        body = self.model_dump(mode="python", by_alias=True, exclude_none=True)
        if self.milestones is not None:
            body["milestones"] = [
                m.model_dump(mode="python", by_alias=True, exclude_none=True) for m in self.milestones
            ]
        return body


# -- estimate response ----------------------------------------------------------------------------------
class OrderStage(WireModel):
    """An order queue stage: ``{id, name, colour, priority}``."""

    id: str | None = None
    name: str | None = None
    colour: str | None = None
    priority: int | None = None


class MilestonePlanEstimate(WireModel):
    """One estimated milestone: amount = quotation total x (percentage, else queue_percentage) / 100."""

    stage: OrderStage | None = None
    queue_percentage: WireDecimal | None = None
    percentage: WireDecimal | None = None
    amount: WireDecimal | None = None


class NamedRef(WireModel):
    id: str | None = None
    name: str | None = None


EstimateQueue = NamedRef


class OrderEstimateSummary(WireModel):
    """``order_estimate``: the queue the order will enter, fulfilment and delivery estimates."""

    queue: NamedRef | None = None
    fulfilled_by: NamedRef | None = None
    ordering_allowed: bool | None = None
    order_failure_reason: str | None = None
    estimated_delivery: dict[str, Any] | None = None


class InvoiceEstimate(WireModel):
    """``invoice_estimate``: totals in ``currency_code``."""

    currency_code: str | None = None
    net: WireDecimal | None = None
    discount: WireDecimal | None = None
    discount_incl_tax: WireDecimal | None = None
    tax: WireDecimal | None = None
    total: WireDecimal | None = None
    amount_due: WireDecimal | None = None
    amount_to_collect: WireDecimal | None = None
    total_price: WireDecimal | None = None
    wallet_funds_amount: WireDecimal | None = None
    account_credit: WireDecimal | None = None
    items: list[dict[str, Any]] | None = None


class MerchantOrderEstimate(WireModel):
    """One entry of ``orders[]`` (one per B2B merchant), with its own plan and invoice estimate."""

    order_estimate: OrderEstimateSummary | None = None
    invoice_estimate: InvoiceEstimate | None = None
    milestone_plan_estimate: list[MilestonePlanEstimate] | None = None


class OrderEstimate(WireModel):
    """Response of ``POST /estimates/orders``; ``id`` is the reusable estimation id."""

    id: str | None = None
    order_estimate: OrderEstimateSummary | None = None
    milestone_plan_estimate: list[MilestonePlanEstimate] | None = None
    invoice_estimate: InvoiceEstimate | None = None
    orders: list[MerchantOrderEstimate] | None = None

    @property
    def currency_code(self) -> str | None:
        return self.invoice_estimate.currency_code if self.invoice_estimate else None

    @property
    def total(self) -> Decimal | None:
        return self.invoice_estimate.total if self.invoice_estimate else None

    def plan(self) -> list[MilestonePlanEstimate]:
        """The milestone plan: the top-level one, else the single merchant's (never merged across merchants)."""
        if self.milestone_plan_estimate is not None:
            return list(self.milestone_plan_estimate)
        if self.orders and len(self.orders) == 1:
            return list(self.orders[0].milestone_plan_estimate or [])
        return []


# -- orders ---------------------------------------------------------------------------------------------
class Payment(WireModel):
    """One entry of ``payments[]`` in Submit Order."""

    payment_method_type: str
    amount: WireDecimal | None = None
    payment_method_id: str | None = None


class SubmitOrderRequest(WireModel):
    """Body of ``POST /orders``: the estimation carries the items and milestones."""

    estimation_id: str
    payments: list[Payment] = Field(min_length=1)
    notes: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="python", by_alias=True, exclude_none=True)


class OrderCreated(WireModel):
    """201 of Submit Order."""

    id: str
    number: str | None = None
    fulfilled_by: NamedRef | None = None
    estimated_delivery_time: dict[str, Any] | int | None = None


class OrderDiscount(WireModel):
    amount: WireDecimal | None = None
    amount_incl_tax: WireDecimal | None = None


class WireOrder(WireModel):
    """An order as Get Order and the contact order list return it (no milestone fields are documented)."""

    id: str
    number: str | None = None
    state: str | None = None
    stage: NamedRef | None = None
    total: WireDecimal | None = None
    amount_due: WireDecimal | None = None
    currency_code: str | None = None
    default_currency_code: str | None = None
    total_default_currency: WireDecimal | None = None
    exchange_rate: WireDecimal | None = None
    sub_total: WireDecimal | None = None
    net_amount: WireDecimal | None = None
    tax_amount: WireDecimal | None = None
    discount: OrderDiscount | None = None
    key_dates: dict[str, Any] | None = None
    created_date: int | None = None


class Paging(WireModel):
    """``paging``: ``total`` is null unless ``include_total=true``; ``has_more`` ends the loop."""

    page: int | None = None
    size: int | None = None
    total: int | None = None
    has_more: bool = False


class OrdersPage(WireModel):
    content: list[WireOrder] = Field(default_factory=list)
    paging: Paging = Field(default_factory=Paging)


# -- auth -----------------------------------------------------------------------------------------------
class ContactToken(WireModel):
    """Response of contact authenticate / refresh. Tokens are SecretStr so they never print."""

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    expiration_date: int | None = Field(default=None, description="epoch seconds")
    contact_id: str | None = None


# -- errors ---------------------------------------------------------------------------------------------
class ErrorBody(WireModel):
    """The error body seen on the live API: ``{status, message, error, parameters}`` (not a documented contract)."""

    status: int | None = None
    message: str | None = None
    error: str | None = None
    parameters: Any = None
    text: str | None = Field(default=None, description="the raw body when it was not that JSON shape")

    def messages(self) -> list[str]:
        out = [m for m in (self.message, self.error) if m]
        if not out and self.text:
            out.append(self.text[:500])
        return out

    def field(self) -> str | None:
        params = self.parameters
        if isinstance(params, dict) and isinstance(params.get("field"), str):
            return str(params["field"])
        return None


def parse_error_body(body: Any) -> ErrorBody:
    """An error body from parsed JSON, raw text or bytes; never raises."""
    if isinstance(body, bytes):
        try:
            body = loads(body)
        except ValueError:
            body = body.decode("utf-8", "replace")
    if isinstance(body, dict):
        status, message, error = body.get("status"), body.get("message"), body.get("error")
        rest = {k: v for k, v in body.items() if k not in ("status", "message", "error", "text")}
        return ErrorBody.model_validate(
            {
                **rest,
                "status": status if isinstance(status, int) and not isinstance(status, bool) else None,
                "message": message if isinstance(message, str) else None,
                "error": error if isinstance(error, str) else None,
            }
        )
    if isinstance(body, str) and body.strip():
        return ErrorBody(text=body.strip())
    return ErrorBody()
