"""The page check by columns (autotask/_page._page_layouts): a bad value in any record of a page whose records
share their keys (the last one here, where a check of the first record alone would not look) sends the whole
page to the model, which refuses it by name; nulls mixed with values in a column, and records of several
layouts on one page, read as the model reads them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pydantic
import pytest

from billing_milestones._http._json import dumps, loads
from billing_milestones.autotask import _page
from billing_milestones.autotask._page import read_items_page
from billing_milestones.autotask.wire import ItemsResponse

from .test_read_page import assert_same_wire

USUAL: dict[str, Any] = {
    "id": 1,
    "amount": Decimal("1000.25"),
    "contractID": 7,
    "createDate": "2026-12-02T06:26:58.939Z",
    "dateDue": "2027-01-01T00:00:00",
    "description": "Phase 1",
    "internalCurrencyAmount": 1000,
    "isInitialPayment": False,
    "status": 1,
    "title": "Milestone",
    "userDefinedFields": [],
}


def body(*items: dict[str, Any]) -> dict[str, Any]:
    page = {"items": list(items), "pageDetails": {"count": len(items), "requestCount": 500, "prevPageUrl": None,
            "nextPageUrl": None}}  # fmt: skip
    read: dict[str, Any] = loads(dumps(page))  # as the client reads a body: decimals as Decimal
    return read


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("id", -1),
        ("status", 2**53 + 1),
        ("contractID", True),
        ("amount", Decimal("0.1234567890123456789")),
        ("internalCurrencyAmount", 2**53 + 1),
        ("dateDue", "2027-02-30T00:00:00"),
        ("createDate", 5),
        ("title", 3),
        ("isInitialPayment", 1),
        ("userDefinedFields", [{"name": "Region", "value": "EU"}]),
        ("userDefinedFields", None),
    ],
)
def test_a_bad_value_in_the_last_record_sends_the_page_to_the_model(key: str, bad: Any) -> None:
    page = body(USUAL, {**USUAL, "id": 2}, {**USUAL, "id": 3, key: bad})
    assert _page._page_layouts(page["items"][:2]) is not None
    assert _page._page_layouts(page["items"]) is None
    try:
        expected: Any = ItemsResponse.model_validate(page)
    except pydantic.ValidationError as exc:
        with pytest.raises(pydantic.ValidationError) as got:
            read_items_page(page)
        assert str(got.value) == str(exc)
    else:  # a value the model reads too (user-defined fields), but not as it stands
        assert_same_wire(read_items_page(page), expected)


def test_nulls_among_values_and_several_layouts_read_as_the_model_reads_them() -> None:
    sparse = {key: value for key, value in USUAL.items() if key not in ("description", "dateDue")}
    page = body(
        USUAL,
        {**USUAL, "id": 2, "description": None, "dateDue": None, "amount": 0, "status": None},
        {**USUAL, "id": 3, "newField": {"kept": True}},
        {**sparse, "id": 4},
        {**sparse, "id": 5, "amount": Decimal("-0.00")},
    )
    layouts = _page._page_layouts(page["items"])
    assert layouts is not None and len({id(layout) for layout in layouts}) == 3
    assert_same_wire(read_items_page(page), ItemsResponse.model_validate(page))
