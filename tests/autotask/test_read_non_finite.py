"""The one-step Autotask readers refuse a non-finite Decimal amount as the validating paths do.

* ``autotask/_page._short`` called ``Decimal('NaN')`` / ``Decimal('Infinity')`` "short" (``str()`` of at most
  15 characters, no ``E``), so ``read_items_page`` accepted the amount; ``ItemsResponse.model_validate``
  refuses it (``double_exact`` is false for a non-finite number). The stdlib parser hands such numbers over
  as floats, so only a body built in Python reaches it today; the function's contract is the model's.
* ``autotask/_read.milestone_reader``'s quantize let a quiet NaN through (decimal does not signal on it)
  and built a ``Money`` of NaN, which ``Money()`` itself refuses; ``to_milestone`` raises a
  TranslationError naming the amount.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from billing_milestones.autotask._page import read_items_page
from billing_milestones.autotask._read import milestone_reader
from billing_milestones.autotask.adapter import to_milestone
from billing_milestones.autotask.wire import ContractMilestone, ItemsResponse
from billing_milestones.errors import TranslationError

_DETAILS = {"count": 1, "requestCount": 500, "prevPageUrl": None, "nextPageUrl": None}
_PICKLIST = {1: "Ready to Bill"}


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_amount_is_refused_as_the_model_refuses_it(text: str) -> None:
    body = {"items": [{"id": 1, "title": "t", "amount": Decimal(text)}], "pageDetails": dict(_DETAILS)}
    with pytest.raises(ValidationError):
        ItemsResponse.model_validate(body)
    with pytest.raises(ValidationError):
        read_items_page(body)


def test_a_nan_amount_is_refused_by_name_as_to_milestone_refuses_it() -> None:
    wire = ContractMilestone.model_construct(id=1, contract_id=2, title="t", amount=Decimal("NaN"), status=1)
    with pytest.raises(TranslationError) as general:
        to_milestone(wire, picklist=_PICKLIST, currency="USD")
    assert general.value.field == "amount"
    with pytest.raises(TranslationError) as fast:
        milestone_reader(_PICKLIST, "USD")(wire)
    assert fast.value.field == "amount"
