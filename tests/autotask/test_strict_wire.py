"""Strict wire types through the clients: ids are integers, never booleans; amounts exact; booleans and dates
of their own type; unknown fields kept (issue 10, point 6: ``itemId: true`` linked a milestone to id 1)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from billing_milestones import AutotaskClient, errors
from billing_milestones.autotask.wire import ContractMilestone
from billing_milestones.model import Milestone
from billing_milestones.money import Money

from .scripted import CID, Scripted, chain, record

NEW = Milestone(title="Kick-off", amount=Money("10.00", "USD"), due=dt.date(2027, 1, 15))


def create_native(server: Scripted) -> int:
    with server.client() as client:
        return client.contract_milestones.create(CID, title="A", amount="1.00", date_due=dt.date(2027, 1, 1))


def create_view(server: Scripted) -> int:
    with server.client() as client:
        [made] = client.milestones.create(str(CID), [NEW])
    assert made.key is not None
    return int(made.key.id)


async def create_async(server: Scripted) -> int:
    async with server.async_client() as client:
        [made] = await client.milestones.create(str(CID), [NEW])
    assert made.key is not None
    return int(made.key.id)


async def created(how: str, server: Scripted) -> int:
    if how == "native":
        return create_native(server)
    if how == "view":
        return create_view(server)
    return await create_async(server)


@pytest.mark.parametrize("how", ["native", "view", "async-view"])
@pytest.mark.parametrize(
    "item_id", [True, False, 0, -5, Decimal("1.0"), "1.0", "x", None, [1], {"id": 1}, 2**53 + 1], ids=repr
)
async def test_an_item_id_that_is_not_a_record_id_is_refused(how: str, item_id: Any) -> None:
    server = Scripted(create={"itemId": item_id})
    with pytest.raises(errors.APIResponseValidationError):
        await created(how, server)


@pytest.mark.parametrize("how", ["native", "view", "async-view"])
@pytest.mark.parametrize(("item_id", "expected"), [(12, 12), ("12", 12)])
async def test_an_integer_item_id_links_the_created_milestone(how: str, item_id: Any, expected: int) -> None:
    assert await created(how, Scripted(create={"itemId": item_id})) == expected


def test_a_missing_or_null_item_id_is_refused() -> None:
    for body in ({}, {"itemId": None}, {"id": 12}):
        with pytest.raises(errors.APIResponseValidationError):
            create_native(Scripted(create=body))


def test_an_update_answered_with_another_records_id_is_refused() -> None:
    server = Scripted(get={"item": record(5)}, update={"itemId": 6})
    with server.client() as client, pytest.raises(errors.APIResponseValidationError, match="itemId 6"):
        client.contract_milestones.update(CID, 5, title="New")
    assert (
        Scripted(get={"item": record(5)}, update={"itemId": 5}).client().contract_milestones.update(CID, 5, title="New")
        == 5
    )


@pytest.mark.parametrize(
    "field",
    [
        {"id": True},
        {"id": "5.0"},
        {"contractID": True},
        {"contractID": Decimal("7.0")},
        {"amount": True},
        {"amount": Decimal("12345678901234567.89")},
        {"amount": "NaN"},
        {"internalCurrencyAmount": False},
        {"status": True},
        {"status": "Billed"},
        {"isInitialPayment": 1},
        {"isInitialPayment": "false"},
        {"dateDue": 5},
        {"dateDue": "5"},
        {"title": 7},
        {"description": ["a"]},
        {"billingCodeID": True},
        {"userDefinedFields": None},
    ],
    ids=repr,
)
def test_a_mistyped_field_is_refused_not_coerced(field: dict[str, Any]) -> None:
    server = Scripted(get={"item": record(5, **field)})
    with server.client() as client, pytest.raises(errors.APIResponseValidationError):
        client.contract_milestones.get(5)


def test_exact_values_and_unknown_fields_survive() -> None:
    body = record(5, contractID="7", amount=Decimal("1234.10"), futureField={"x": [1, True]}, description=None)
    with Scripted(get={"item": body}).client() as client:
        got = client.contract_milestones.get(5)
    assert got.contract_id == 7 and got.amount == Decimal("1234.10") and str(got.amount) == "1234.10"
    assert got.extra_fields == {"futureField": {"x": [1, True]}}
    assert got.is_initial_payment is False and got.description is None


def test_a_get_answered_with_another_record_is_refused() -> None:
    with Scripted(get={"item": record(6)}).client() as client:
        with pytest.raises(errors.APIResponseValidationError, match="id 6"):
            client.contract_milestones.get(5)
        with pytest.raises(errors.NotFoundError, match="ContractMilestone 5 not found"):
            Scripted(get={"item": None}).client().contract_milestones.get(5)


@pytest.mark.parametrize("body", [{}, {"queryCount": True}, {"queryCount": -1}, {"queryCount": "3"}], ids=repr)
def test_a_query_count_that_is_not_a_count_is_refused(body: dict[str, Any]) -> None:
    with Scripted(count=body).client() as client, pytest.raises(errors.APIResponseValidationError):
        client.contract_milestones.count()


@pytest.mark.parametrize(
    "body",
    [
        {"externalRequestThreshold": 10000, "requestThresholdTimeframe": 60},
        {"externalRequestThreshold": True, "requestThresholdTimeframe": 60, "currentTimeframeRequestCount": 1},
        {"externalRequestThreshold": "10000", "requestThresholdTimeframe": 60, "currentTimeframeRequestCount": 1},
    ],
    ids=repr,
)
def test_threshold_information_is_strict(body: dict[str, Any]) -> None:
    with Scripted(threshold=body).client() as client, pytest.raises(errors.APIResponseValidationError):
        client.threshold_information()


@pytest.mark.parametrize(
    "route",
    ["get", "count", "create", "update", "threshold", "fields", "contract", "zone"],
)
def test_an_error_body_on_a_200_is_an_error_for_every_call(route: str) -> None:
    routes: dict[str, Any] = {"get": {"item": record(5)}, route: {"errors": ["Nope."]}}
    # The contract is read when its listing is empty (listed milestones of it would prove it exists).
    server = Scripted(pages=chain([]) if route == "contract" else None, **routes)
    calls: dict[str, Callable[[AutotaskClient], object]] = {
        "get": lambda c: c.contract_milestones.get(5),
        "count": lambda c: c.contract_milestones.count(),
        "create": lambda c: create_native(server),
        "update": lambda c: c.contract_milestones.update(CID, 5, title="New"),
        "threshold": lambda c: c.threshold_information(),
        "fields": lambda c: c.contract_milestones.fields(),
        "contract": lambda c: list(c.milestones.list(str(CID))),
        "zone": lambda c: c.zone_information(),
    }
    kwargs: dict[str, Any] = {"base_url": None} if route == "zone" else {}
    with server.client(**kwargs) as client, pytest.raises(errors.APIStatusError) as caught:
        calls[route](client)
    assert caught.value.status_code == 200 and caught.value.messages == ("Nope.",)


def test_records_built_in_python_still_take_dates() -> None:
    assert ContractMilestone(dateDue=dt.date(2026, 1, 2)).date_due == dt.datetime(2026, 1, 2)
