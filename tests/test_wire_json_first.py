"""Wire types with a JSON fast path (``JsonFirst``) read a value from JSON bytes exactly as from Python: the
same value, or an error on both paths. The fast path only skips a Python call; it never accepts more."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_milestones._http import dumps, loads
from billing_milestones._wire import MAX_EXACT_INT, WireCents, WireStrId
from billing_milestones.kantata.wire import BillingMilestone, WireDate, WireRef, WireTime

TYPES: dict[str, Any] = {
    "id": WireStrId,
    "cents": WireCents,
    "ref": WireRef,
    "date": WireDate,
    "time": WireTime,
    "optional id": WireStrId | None,
    "ids": list[WireStrId],
}
ADAPTERS = {name: pydantic.TypeAdapter(kind) for name, kind in TYPES.items()}

SAMPLES: list[Any] = [
    "0", "7", "007", "10", "999999999999999", "9007199254740993", "-1", "1.0", "", " 7", "7 ", "7\n", "\u0661\u0662",
    "abc", "2027-01-01", "2027-1-1", "2027-01-01T00:00:00", "2027-13-01", "\u0662\u0660\u0662\u0667-01-01",
    "2026-01-01T10:00:00-05:00",
    "2026-01-01T10:00:00.123456Z", "2026-01-01 10:00:00", "2026-01-01T25:00:00Z",
    0, 7, -7, MAX_EXACT_INT, MAX_EXACT_INT + 1, -MAX_EXACT_INT, -MAX_EXACT_INT - 1, 10**30, 20270101, 1700000000,
    True, False, None, Decimal("1.5"), Decimal("100"), Decimal("1e3"), [], ["7"], ["7", 8], ["007"], {}, {"id": "1"},
]  # fmt: skip


def both(name: str, value: Any) -> tuple[Any, Any]:
    """What each path makes of ``value`` sent as JSON: the value, or the error's type."""
    text = dumps(value)
    adapter = ADAPTERS[name]
    try:
        fast: Any = adapter.validate_json(text)
    except pydantic.ValidationError:
        fast = pydantic.ValidationError
    try:
        slow: Any = adapter.validate_python(loads(text))
    except pydantic.ValidationError:
        slow = pydantic.ValidationError
    return fast, slow


@pytest.mark.parametrize("name", sorted(TYPES))
@pytest.mark.parametrize("value", SAMPLES, ids=repr)
def test_json_and_python_readings_agree(name: str, value: Any) -> None:
    fast, slow = both(name, value)
    assert fast == slow and type(fast) is type(slow)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.decimals(allow_nan=False, allow_infinity=False, places=2)
    | st.text(alphabet="0123456789-:T.Z+ abc", max_size=30),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=5,
)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(TYPES)), value=json_values)
def test_json_and_python_readings_agree_on_any_json_value(name: str, value: Any) -> None:
    fast, slow = both(name, value)
    assert fast == slow and type(fast) is type(slow)


def test_the_fast_path_keeps_the_checks_that_name_the_field() -> None:
    good = {"id": "1", "title": "T", "amount_in_cents": 100, "workspace_id": "9", "date_to_invoice": "2027-01-02"}
    read = BillingMilestone.model_validate_json(dumps(good))
    assert (read.id, read.amount_in_cents, read.date_to_invoice) == ("1", 100, dt.date(2027, 1, 2))
    assert BillingMilestone.model_validate_json(dumps({**good, "id": 7, "workspace_id": "009"})).id == "7"
    for field, bad in [("amount_in_cents", "100"), ("id", True), ("date_to_invoice", 20270102), ("workspace_id", -1)]:
        with pytest.raises(pydantic.ValidationError, match=field):
            BillingMilestone.model_validate_json(dumps({**good, field: bad}))
