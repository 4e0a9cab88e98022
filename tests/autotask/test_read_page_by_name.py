"""The one-step Autotask page reader reads a record as ``ItemsResponse.model_validate`` does, a record keyed
by a field's attribute name too.

``ContractMilestone`` is a WireModel with ``populate_by_name=True``, so a record keyed by a field's Python
name (``contract_id``, ``date_due``...) sets that field. ``autotask/_page._layout_of`` once knew only the wire
aliases and their casings and took such a key for an unknown extra (the field silently None, a bad value the
model refuses accepted); it now leaves such a record to the model.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from billing_milestones.autotask._page import read_items_page
from billing_milestones.autotask.wire import ItemsResponse

_DETAILS = {"count": 1, "requestCount": 500, "prevPageUrl": None, "nextPageUrl": None}


def _body(record: dict[str, Any]) -> dict[str, Any]:
    return {"items": [record], "pageDetails": dict(_DETAILS)}


def test_a_field_keyed_by_its_name_is_read_as_the_model_reads_it() -> None:
    body = _body({"id": 1, "contract_id": 5, "title": "t", "amount": 1, "date_due": "2024-01-01T00:00:00"})
    fast, model = read_items_page(body).items[0], ItemsResponse.model_validate(body).items[0]
    assert model.contract_id == 5  # the validating path sets the field
    assert (fast.contract_id, fast.date_due, fast.model_extra) == (model.contract_id, model.date_due, {})


def test_a_bad_value_under_a_fields_name_is_refused_as_the_model_refuses_it() -> None:
    body = _body({"id": 1, "title": "t", "amount": 1, "date_due": True})
    with pytest.raises(ValidationError):
        ItemsResponse.model_validate(body)
    with pytest.raises(ValidationError):
        read_items_page(body)
