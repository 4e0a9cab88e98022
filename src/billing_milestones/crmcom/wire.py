"""crm.com Self-Service v2 payloads, with the exact snake_case wire names.

Every model keeps unknown fields (``WireModel`` uses ``extra="allow"``) because the live API drifts from its
spec. Money and percentages are ``Decimal``; a float is refused so no binary rounding enters the money path
(the HTTP core already parses JSON numbers as Decimal).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator

from .._http._json import loads
from .._wire import WireDecimal, WireModel
from ._types import Count, Flag, Id, Int, Number, Text

__all__ = [
    "AuthorisedContact",
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
    quantity: Annotated[WireDecimal, Field(gt=0)] = Decimal(1)
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

    @field_validator("account_id", "supply_method", "delivery_method", "payment_method_type")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        # A blank account or method is refused by crm.com after the request; refused here, by name, first.
        if not value.strip():
            raise ValueError(f"must not be blank, got {value!r}")
        return value

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
# Response models use the strict types of ``_types``: a wrong-typed field is an error, not a coerced value.
# Required here means "needed to read milestones": the description marks nothing required, so the
# requirements follow what the milestone view cannot do without.
class OrderStage(WireModel):
    """An order queue stage: ``{id, name, colour, priority}``; the id is the milestone's identity, so required."""

    id: Id
    name: Text | None = None
    colour: Text | None = None
    priority: Int | None = None


class MilestonePlanEstimate(WireModel):
    """One estimated milestone: amount = quotation total x (percentage, else queue_percentage) / 100."""

    stage: OrderStage
    queue_percentage: Number | None = None
    percentage: Number | None = None
    amount: Number | None = None


class NamedRef(WireModel):
    id: Text | None = None
    name: Text | None = None


EstimateQueue = NamedRef


class OrderEstimateSummary(WireModel):
    """``order_estimate``: the queue the order will enter, fulfilment and delivery estimates."""

    queue: NamedRef | None = None
    fulfilled_by: NamedRef | None = None
    ordering_allowed: Flag | None = None
    order_failure_reason: Text | None = None
    estimated_delivery: dict[str, Any] | None = None


class InvoiceEstimate(WireModel):
    """``invoice_estimate``: totals in ``currency_code`` (required: without it no amount has a currency)."""

    currency_code: Annotated[Text, Field(pattern=r"^[A-Z]{3}$")]
    net: Number | None = None
    discount: Number | None = None
    discount_incl_tax: Number | None = None
    tax: Number | None = None
    total: Number | None = None
    amount_due: Number | None = None
    amount_to_collect: Number | None = None
    total_price: Number | None = None
    wallet_funds_amount: Number | None = None
    account_credit: Number | None = None
    items: list[dict[str, Any]] | None = None


class MerchantOrderEstimate(WireModel):
    """One entry of ``orders[]`` (one per B2B merchant), with its own plan and invoice estimate."""

    order_estimate: OrderEstimateSummary | None = None
    invoice_estimate: InvoiceEstimate | None = None
    milestone_plan_estimate: list[MilestonePlanEstimate] | None = None


class OrderEstimate(WireModel):
    """Response of ``POST /estimates/orders``; ``id`` is the reusable estimation id.

    Validation refuses an estimate that carries no milestone plan (neither ``milestone_plan_estimate`` nor
    the single merchant's), plans from several merchants, and a plan that names one stage twice: read as
    "no milestones" or as two milestones of one stage, each would make a sync delete or duplicate invoices.
    The description's own Example 1 leaves the plan out; this SDK reads estimates only for their plan.
    """

    id: Text = Field(description="the estimation id; the vendor's example shows it empty")
    order_estimate: OrderEstimateSummary | None = None
    milestone_plan_estimate: list[MilestonePlanEstimate] | None = None
    invoice_estimate: InvoiceEstimate
    orders: list[MerchantOrderEstimate] | None = None

    @model_validator(mode="after")
    def _has_one_plan(self) -> OrderEstimate:
        plan = self.plan()
        seen: set[str] = set()
        for i, item in enumerate(plan):
            if item.stage.id in seen:
                raise ValueError(f"milestone_plan_estimate[{i}]: stage {item.stage.id!r} appears twice in the plan")
            seen.add(item.stage.id)
        return self

    @property
    def currency_code(self) -> str:
        return self.invoice_estimate.currency_code

    @property
    def total(self) -> Decimal | None:
        return self.invoice_estimate.total

    def plan(self) -> list[MilestonePlanEstimate]:
        """The milestone plan: the top-level one, else the single merchant's (never merged across merchants)."""
        if self.milestone_plan_estimate is not None:
            return list(self.milestone_plan_estimate)
        merchants = self.orders or []
        if len(merchants) == 1 and merchants[0].milestone_plan_estimate is not None:
            return list(merchants[0].milestone_plan_estimate)
        if len(merchants) > 1:
            raise ValueError(
                f"the estimate splits into {len(merchants)} merchants' orders and has no top-level "
                "milestone_plan_estimate; plans of several merchants are never merged"
            )
        raise ValueError("the estimate has no milestone_plan_estimate: its milestones are unknown, not empty")


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

    id: Id
    number: Text | None = None
    fulfilled_by: NamedRef | None = None
    estimated_delivery_time: dict[str, Any] | Int | None = None


class OrderDiscount(WireModel):
    amount: Number | None = None
    amount_incl_tax: Number | None = None


class WireOrder(WireModel):
    """An order as Get Order and the contact order list return it (no milestone fields are documented).

    The two spell the currency differently: Get Order's schema has ``currency_code`` (its examples
    ``currency``), the list's items ``currency``. ``currency_code`` is the order's currency whichever the
    answer used, so a listed order keeps its currency; an answer giving two different currencies is refused
    rather than one picked.
    """

    id: Id
    number: Text | None = None
    state: Text | None = None
    stage: NamedRef | None = None
    total: Number | None = None
    amount_due: Number | None = None
    currency_code: Text | None = None
    currency: Text | None = None
    submitted_date: Int | None = Field(default=None, description="epoch seconds (list items)")
    default_currency_code: Text | None = None
    total_default_currency: Number | None = None
    exchange_rate: Number | None = None
    sub_total: Number | None = None
    net_amount: Number | None = None
    tax_amount: Number | None = None
    discount: OrderDiscount | None = None
    key_dates: dict[str, Any] | None = None
    created_date: Int | None = None

    @model_validator(mode="after")
    def _one_currency(self) -> WireOrder:
        if self.currency_code is None:
            # Written past pydantic's field tracking, so raw() still shows only what the wire had.
            self.__dict__["currency_code"] = self.currency
        elif self.currency is not None and self.currency != self.currency_code:
            raise ValueError(f"currency {self.currency!r} contradicts currency_code {self.currency_code!r}")
        return self


class Paging(WireModel):
    """``paging``: ``total`` is null unless ``include_total=true``; ``has_more`` (required) ends the loop."""

    page: Count | None = None
    size: Count | None = None
    total: Count | None = None
    has_more: Flag


class OrdersPage(WireModel):
    """A page of a contact's orders: both keys are required, an absent ``paging`` is not "the last page"."""

    content: list[WireOrder]
    paging: Paging


# -- auth -----------------------------------------------------------------------------------------------
class AuthorisedContact(WireModel):
    """``contact`` in the authenticate / refresh answer: the logged-in contact (``id``, names, verification)."""

    id: Text | None = None
    type: Text | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    company_name: Text | None = None


class ContactToken(WireModel):
    """Response of contact authenticate / refresh. Tokens are SecretStr so they never print.

    The contact comes as ``contact: {id, ...}``, as documented; a top-level ``contact_id`` is not part of the
    description and is not read (it stays in ``extra_fields``).
    """

    access_token: Annotated[SecretStr, Field(strict=True, min_length=1)]
    refresh_token: Annotated[SecretStr, Field(strict=True)] | None = None
    expiration_date: Int | None = Field(default=None, description="epoch seconds")
    contact: AuthorisedContact | None = None

    @property
    def contact_id(self) -> str | None:
        """The logged-in contact's id, for ``orders.list_for_contact``; None when the answer names none
        (the vendor's MAC-address example sends ``"id": ""``)."""
        return self.contact.id if self.contact is not None and self.contact.id else None

    @field_validator("refresh_token", mode="after")
    @classmethod
    def _empty_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        """The vendor's examples send ``"refresh_token": ""`` for "no refresh token"."""
        return value if value is not None and value.get_secret_value() else None


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
        out.extend(_listed((self.model_extra or {}).get("errors")))
        if not out and self.text:
            out.append(self.text[:500])
        return out

    def field(self) -> str | None:
        params = self.parameters
        if isinstance(params, dict) and isinstance(params.get("field"), str):
            return str(params["field"])
        return None


def _listed(errors: Any) -> list[str]:
    """Messages of an ``errors`` member (a list of strings or of ``{message|error|code}`` objects)."""
    items = errors if isinstance(errors, list) else [errors] if errors else []
    out = []
    for item in items[:20]:
        if isinstance(item, dict):
            item = next((item[k] for k in ("message", "error", "detail", "code") if isinstance(item.get(k), str)), None)
        if isinstance(item, str) and item:
            out.append(item[:500])
    return out


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
