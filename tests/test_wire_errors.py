"""Issue 12, point 8: a wire model a caller builds refuses bad input with our ValidationError, naming the
path (``items[0].quantity``), once: never pydantic's error, never one error wrapped in another."""

from __future__ import annotations

import pydantic
import pytest

from billing_milestones import errors
from billing_milestones.autotask.wire import ContractMilestone
from billing_milestones.crmcom.wire import MilestoneRequest, OrderEstimateRequest, OrderItem
from billing_milestones.kantata.wire import BillingMilestone, BillingMilestoneCreate, Envelope

ORDER = {"account_id": "a", "supply_method": "PICK_UP", "delivery_method": "COURIER", "payment_method_type": "CASH"}


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: OrderItem(id="p", quantity=1.5), "quantity"),
        (lambda: OrderItem(id="p", quantity=-1), "quantity"),
        (lambda: OrderItem(quantity=1), "id"),  # type: ignore[call-arg]
        (lambda: MilestoneRequest(percentage=0.5), "percentage"),
        (lambda: BillingMilestoneCreate(title="x", amount_in_cents=True, workspace_id="1"), "amount_in_cents"),
    ],
)
def test_a_bad_value_is_our_error_naming_the_field(build: object, field: str) -> None:
    with pytest.raises(errors.ValidationError) as caught:
        build()  # type: ignore[operator]
    assert not isinstance(caught.value, pydantic.ValidationError)
    assert caught.value.field == field
    assert f".{field}:" in caught.value.message


def test_nested_problems_read_as_paths_of_one_error() -> None:
    with pytest.raises(errors.ValidationError) as caught:
        OrderEstimateRequest(**ORDER, items=[{"id": "p", "quantity": 1.5}, {"id": "q", "quantity": -2}])
    exc = caught.value
    assert exc.field == "items[0].quantity" and exc.value == 1.5
    assert exc.message.count("OrderEstimateRequest.") == 2  # each problem named once, from the outer model
    assert "OrderEstimateRequest.items[0].quantity: " in exc.message
    assert "OrderEstimateRequest.items[1].quantity: Input should be greater than 0 (got -2)" in exc.message
    assert "OrderItem." not in exc.message  # not wrapped a second time by the nested model


def test_an_empty_item_list_names_the_list() -> None:
    with pytest.raises(errors.ValidationError) as caught:
        OrderEstimateRequest(**ORDER, items=[])
    assert caught.value.field == "items"


def test_a_whole_object_given_as_the_bad_input_is_not_echoed() -> None:
    with pytest.raises(errors.ValidationError) as caught:
        OrderEstimateRequest(**ORDER, items=[{"quantity": 1, "secret": "s3cr3t"}])
    assert caught.value.field == "items[0].id"
    assert "s3cr3t" not in caught.value.message


def test_responses_are_still_read_by_pydantic_for_the_clients_to_word() -> None:
    # The clients turn these into APIResponseValidationError / their own field names.
    with pytest.raises(pydantic.ValidationError):
        BillingMilestone.model_validate({"id": "x", "title": "t", "amount_in_cents": 1, "workspace_id": "1"})
    with pytest.raises(pydantic.ValidationError):
        ContractMilestone.model_validate({"id": True})


def test_nested_objects_are_validated_in_pydantic_not_through_each_constructor() -> None:
    assert not Envelope.__pydantic_custom_init__ and not OrderItem.__pydantic_custom_init__
