"""crm.com's documented examples parse through the SDK's wire models (or, for login, its request builder).

Every example in the description must be claimed by a model below: a new example cannot go unchecked. The
examples the description gets wrong are corrected or set aside in the override table, with the reason.
"""

from __future__ import annotations

from typing import Any

import pytest

from billing_milestones._wire import WireModel
from billing_milestones.crmcom import _operations as ops
from billing_milestones.crmcom import wire

from ._openapi import ApiDescription

SS = "/self-service/v2"
MODELS: dict[str, type[WireModel]] = {
    f"POST {SS}/estimates/orders request": wire.OrderEstimateRequest,
    f"POST {SS}/orders request": wire.SubmitOrderRequest,
    f"POST {SS}/orders response 201": wire.OrderCreated,
    f"GET {SS}/orders/{{id}} response 200": wire.WireOrder,
    f"POST {SS}/contacts/authenticate response 200": wire.ContactToken,
}
LOGIN = f"POST {SS}/contacts/authenticate request"


def _examples(api: ApiDescription, prefix: str) -> list[tuple[str, Any]]:
    return [(label, value) for label, value in api.examples() if label.startswith(prefix)]


def test_every_example_is_claimed_by_a_model(crmcom_api: ApiDescription) -> None:
    unclaimed = [label for label, _ in crmcom_api.examples() if not label.startswith((*MODELS, LOGIN))]
    assert unclaimed == []
    assert all(_examples(crmcom_api, prefix) for prefix in [*MODELS, LOGIN])


@pytest.mark.parametrize("prefix", sorted(MODELS))
def test_documented_examples_parse_through_the_wire_models(crmcom_api: ApiDescription, prefix: str) -> None:
    for label, value in _examples(crmcom_api, prefix):
        parsed = MODELS[prefix].model_validate(value)
        assert set(parsed.raw()) == set(value), f"{label}: a documented key was dropped"


def test_get_order_examples_keep_their_currency(crmcom_api: ApiDescription) -> None:
    """The examples spell it ``currency`` although the schema says ``currency_code``: either way it is read."""
    orders = [wire.WireOrder.model_validate(v) for _, v in _examples(crmcom_api, f"GET {SS}/orders/{{id}}")]
    assert [o.currency_code for o in orders] == ["EUR", "EUR"]


def test_login_examples_are_what_the_sdk_sends(crmcom_api: ApiDescription) -> None:
    """Each provider's documented body is exactly the body ``authenticate_contact(provider, **credentials)`` sends."""
    for label, value in _examples(crmcom_api, LOGIN):
        provider, credentials = value["provider"], {k: v for k, v in value.items() if k != "provider"}
        assert ops.authenticate_contact("pk_public", provider, credentials).spec.json == value, label


def test_login_answers_yield_the_contact_id(crmcom_api: ApiDescription) -> None:
    """Issue 18, point 1: the id comes from ``contact.id``; the example without one (MAC address) gives None."""
    answers = _examples(crmcom_api, f"POST {SS}/contacts/authenticate response")
    contact = "2f2f9afe-4399-59b7-cbb8-da18c2255064"
    assert [wire.ContactToken.model_validate(v).contact_id for _, v in answers] == [None, None, contact, contact]
