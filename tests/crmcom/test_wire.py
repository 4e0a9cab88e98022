"""Wire models against the documented payload shapes: snake_case, exact decimals, unknown fields kept."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from billing_milestones._http import dumps, loads
from billing_milestones.crmcom import (
    ContactToken,
    MilestoneRequest,
    OrderEstimate,
    OrderEstimateRequest,
    OrderItem,
    OrdersPage,
    SubmitOrderRequest,
    WireOrder,
)
from billing_milestones.crmcom._operations import error_detail
from billing_milestones.crmcom.wire import parse_error_body

STAGE = "34b059a3-2aa7-b2c2-4191-a966168e97d7"

ESTIMATE_TEXT = """{
  "id": "c3b6b1c4-1f0e-4d4e-9d55-0a3a0c1b2f10",
  "order_estimate": {"queue": {"id": "q-1", "name": "Universal Name"}, "ordering_allowed": true,
                     "order_failure_reason": null, "brand_new_field": 7},
  "milestone_plan_estimate": [
    {"stage": {"id": "34b059a3-2aa7-b2c2-4191-a966168e97d7", "name": "Deposit", "colour": "#FF0000", "priority": 1},
     "queue_percentage": 30, "percentage": null, "amount": 2.997},
    {"stage": {"id": "s-2", "name": "Done", "colour": "#00FF00", "priority": 2},
     "queue_percentage": 70, "percentage": 70.5, "amount": 7.04295}
  ],
  "invoice_estimate": {"currency_code": "EUR", "net": 8.39, "tax": 1.6, "total": 9.99, "discount": 0,
                       "discount_incl_tax": 0, "amount_due": 9.99, "taxes_breakdown": []},
  "orders": [{"milestone_plan_estimate": [], "invoice_estimate": {"currency_code": "EUR", "total": 9.99}}]
}"""


def test_a_number_with_more_digits_than_a_double_is_refused_not_rounded() -> None:
    # The server holds numbers as doubles: 7.0429500000000000001 cannot be what it stored, so it is an error.
    with pytest.raises(PydanticValidationError, match="more digits than a JSON number"):
        OrderEstimate.model_validate(loads(ESTIMATE_TEXT.replace("7.04295}", "7.0429500000000000001}")))


def test_estimate_response_parses_exactly_and_keeps_unknown_fields() -> None:
    estimate = OrderEstimate.model_validate(loads(ESTIMATE_TEXT))
    assert estimate.id == "c3b6b1c4-1f0e-4d4e-9d55-0a3a0c1b2f10"
    assert estimate.order_estimate is not None and estimate.order_estimate.queue is not None
    assert estimate.order_estimate.queue.name == "Universal Name"
    assert estimate.order_estimate.extra_fields == {"brand_new_field": 7}
    plan = estimate.plan()
    assert plan[0].stage is not None and plan[0].stage.id == STAGE and plan[0].stage.priority == 1
    assert plan[0].percentage is None and plan[0].queue_percentage == Decimal(30)
    # digit for digit, never through a float
    assert plan[1].amount == Decimal("7.04295")  # digit for digit, never through a float
    assert isinstance(plan[1].percentage, Decimal) and str(plan[1].percentage) == "70.5"
    assert estimate.total == Decimal("9.99") and estimate.currency_code == "EUR"
    assert estimate.invoice_estimate is not None
    assert estimate.invoice_estimate.extra_fields == {"taxes_breakdown": []}
    assert estimate.raw()["order_estimate"]["brand_new_field"] == 7


def test_plan_falls_back_to_a_single_merchant_order() -> None:
    body: dict[str, Any] = {
        "id": "e",
        "invoice_estimate": {"currency_code": "EUR"},
        "orders": [{"milestone_plan_estimate": [{"stage": {"id": "s"}, "amount": 1}]}],
    }
    assert [p.stage.id for p in OrderEstimate.model_validate(body).plan()] == ["s"]
    body["orders"].append({"milestone_plan_estimate": [{"stage": {"id": "t"}, "amount": 1}]})
    with pytest.raises(PydanticValidationError, match="never merged"):  # two merchants: refused, not merged
        OrderEstimate.model_validate(body)
    with pytest.raises(PydanticValidationError, match="unknown, not empty"):  # no plan is not an empty plan
        OrderEstimate.model_validate({"id": "e", "invoice_estimate": {"currency_code": "EUR"}})


def test_floats_are_refused_in_the_money_path() -> None:
    with pytest.raises(ValueError, match="float"):
        MilestoneRequest(stage_id="s", amount=0.1)
    with pytest.raises(ValueError, match="float"):
        OrderEstimate.model_validate(
            {"id": "e", "milestone_plan_estimate": [], "invoice_estimate": {"currency_code": "EUR", "total": 9.99}}
        )


def test_estimate_request_serialises_snake_case_with_exact_numbers() -> None:
    request = OrderEstimateRequest(
        account_id="acc",
        supply_method="PICK_UP",
        delivery_method="COURIER_SERVICE",
        payment_method_type="CASH",
        items=[OrderItem(id="p1", quantity=Decimal(2), price_terms_id="pt")],
        queue_id="q",
        milestones=[
            MilestoneRequest(stage_id=STAGE, percentage=Decimal("33.33")),
            MilestoneRequest(stage_id="s2", amount=Decimal("10.10")),
        ],
        estimation_id="est",
        custom_flag=True,  # an unknown field passes through
    )
    text = dumps(request.to_wire())
    assert '"percentage":33.33' in text and '"amount":10.10' in text
    body = loads(text)
    assert body == {
        "account_id": "acc",
        "supply_method": "PICK_UP",
        "delivery_method": "COURIER_SERVICE",
        "payment_method_type": "CASH",
        "items": [{"id": "p1", "quantity": 2, "price_terms_id": "pt"}],
        "queue_id": "q",
        "milestones": [
            {"stage_id": STAGE, "percentage": Decimal("33.33")},
            {"stage_id": "s2", "amount": Decimal("10.10")},
        ],
        "estimation_id": "est",
        "custom_flag": True,
    }


def test_none_milestones_leave_the_field_out_but_an_empty_set_is_sent() -> None:
    base = {
        "account_id": "a",
        "supply_method": "DELIVERY",
        "delivery_method": "COURIER_SERVICE",
        "payment_method_type": "CARD",
        "items": [{"id": "p"}],
    }
    assert "milestones" not in OrderEstimateRequest.model_validate(base).to_wire()
    assert OrderEstimateRequest.model_validate({**base, "milestones": []}).to_wire()["milestones"] == []


def test_required_request_fields() -> None:
    with pytest.raises(ValueError, match="delivery_method"):
        OrderEstimateRequest.model_validate({"account_id": "a", "supply_method": "DELIVERY"})
    with pytest.raises(ValueError, match="payments"):
        SubmitOrderRequest.model_validate({"estimation_id": "e", "payments": []})


def test_order_and_page_shapes() -> None:
    page = OrdersPage.model_validate(
        loads(
            '{"content": [{"id": "o1", "number": "ORD1", "state": "NEW", "stage": {"id": "s", "name": "New"},'
            ' "total": 12.30, "amount_due": 12.30, "currency_code": "USD", "exchange_rate": 1.0000,'
            ' "discount": {"amount": 0, "amount_incl_tax": 0}, "key_dates": {"submitted_on": 1700000000},'
            ' "loyalty": {"points": 3}}], "paging": {"page": 1, "size": 10, "total": null, "has_more": false}}'
        )
    )
    order = page.content[0]
    assert isinstance(order, WireOrder)
    assert order.total == Decimal("12.30") and order.stage is not None and order.stage.name == "New"
    assert order.extra_fields == {"loyalty": {"points": 3}}
    assert page.paging.total is None and page.paging.has_more is False


def test_tokens_never_print() -> None:
    token = ContactToken.model_validate(
        {"access_token": "at-secret-1", "refresh_token": "rt-secret-2", "expiration_date": 1700000000}
    )
    assert "at-secret-1" not in repr(token) and "rt-secret-2" not in str(token.raw())
    assert token.access_token.get_secret_value() == "at-secret-1"
    assert token.expiration_date == 1700000000


@pytest.mark.parametrize(
    ("body", "messages", "field"),
    [
        (
            {
                "status": 400,
                "message": "Invalid milestones",
                "error": "INVALID_MILESTONES",
                "parameters": {"field": "milestones[0]"},
            },
            ["Invalid milestones", "INVALID_MILESTONES"],
            "milestones[0]",
        ),
        ({"status": 500, "message": None, "error": "com.crm.Error", "parameters": None}, ["com.crm.Error"], None),
        ("Bad Gateway from upstream", ["Bad Gateway from upstream"], None),
        (b'{"status": 401, "message": "nope"}', ["nope"], None),
        (b"<html>oops</html>", ["<html>oops</html>"], None),
        (None, [], None),
    ],
)
def test_error_bodies(body: Any, messages: list[str], field: str | None) -> None:
    detail = error_detail(body)
    assert detail.messages == messages
    assert detail.field == field


def test_error_body_keeps_odd_parameters() -> None:
    parsed = parse_error_body({"status": "400", "message": 3, "parameters": ["x"], "trace": "t"})
    assert parsed.status is None and parsed.message is None
    assert parsed.parameters == ["x"] and parsed.extra_fields == {"trace": "t"}


@pytest.mark.parametrize("quantity", [-1, 0, "-2.5"])
def test_an_order_item_quantity_must_be_positive_before_sending(quantity: object) -> None:
    """A quantity of -1 used to reach the server; through the client it is our ValidationError, by path."""
    from billing_milestones import CrmComClient, errors

    with CrmComClient("sk-123456") as client, pytest.raises(errors.ValidationError) as info:
        client.estimates.order(
            account_id="a",
            supply_method="PICK_UP",
            delivery_method="X",
            payment_method_type="CASH",
            items=[{"id": "p-1", "quantity": quantity}],
        )
    assert info.value.field == "items.0.quantity"
