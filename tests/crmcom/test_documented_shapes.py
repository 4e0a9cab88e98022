"""The answers crm.com documents, read as documented (issue 18, points 1 and 3).

The login answer names the contact as ``contact: {id, ...}`` (no top-level ``contact_id``), and the contact
order list spells the currency ``currency`` (Get Order's schema ``currency_code``). Both were hidden while the
emulator answered in the SDK's own guess of the shape.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from billing_milestones.crmcom import ContactToken, CrmComClient, OrdersPage, WireOrder
from billing_milestones.sandbox.crmcom import CrmComSandbox, DemoSeed

from .conftest import FAST, DraftFactory


def test_login_yields_the_contact_id_and_it_lists_that_contacts_orders(
    sandbox: CrmComSandbox, seed: DemoSeed, make_draft: DraftFactory
) -> None:
    with CrmComClient(seed.secret_key, http_client=sandbox.http_client(), retry_policy=FAST) as crm:
        token = crm.authenticate_contact(seed.public_key, username=seed.email, password=seed.password)
        assert token.contact_id == seed.contact_id and token.contact is not None
        assert token.contact.first_name == "Ada"
        estimate = crm.estimates.order(make_draft("USD"))
        created = crm.orders.submit(estimate.id, payments=[{"payment_method_type": "CASH"}])
        listed = list(crm.orders.list_for_contact(token.contact_id or ""))
        assert [o.id for o in listed] == [created.id]
        # point 3: a listed order keeps its currency (the list spells it `currency`)
        assert listed[0].currency_code == "USD" and listed[0].raw()["currency"] == "USD"
        assert crm.refresh_contact_token().contact_id == seed.contact_id


def test_a_top_level_contact_id_is_not_the_documented_contact() -> None:
    token = ContactToken.model_validate({"access_token": "at", "contact_id": "undocumented"})
    assert token.contact_id is None and token.extra_fields == {"contact_id": "undocumented"}
    empty = ContactToken.model_validate({"access_token": "at", "contact": {"id": ""}})
    assert empty.contact_id is None  # the vendor's MAC-address example: an empty id is no id


LISTED: dict[str, Any] = {"id": "o-1", "number": "O000001", "currency": "EUR", "submitted_date": 1599124760}


def test_a_documented_list_item_keeps_its_currency() -> None:
    page = OrdersPage.model_validate({"content": [LISTED], "paging": {"page": 1, "size": 10, "has_more": False}})
    order = page.content[0]
    assert (order.currency_code, order.currency, order.submitted_date) == ("EUR", "EUR", 1599124760)
    assert "currency_code" not in order.raw()  # what the wire had, nothing invented


def test_get_order_spelling_and_agreeing_spellings_are_read() -> None:
    assert WireOrder.model_validate({"id": "o", "currency_code": "USD"}).currency_code == "USD"
    assert WireOrder.model_validate({"id": "o", "currency_code": "USD", "currency": "USD"}).currency_code == "USD"


def test_two_different_currencies_are_refused_not_picked() -> None:
    with pytest.raises(ValidationError, match="contradicts"):
        WireOrder.model_validate({**LISTED, "currency_code": "USD"})
