"""A streamed row holds its amount as minor units in a shared unit, and reads back the very same amount."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_milestones import Milestone, MilestoneKey, Money, Platform
from billing_milestones.sync._minor import in_minor_units
from billing_milestones.sync._rows import row_of


def _row_amount(amount: Money) -> tuple[object, Money | None]:
    key = MilestoneKey(platform=Platform.KANTATA, id="5", container_id="900")
    row = row_of(Milestone(key=key, title="A", amount=amount), keep=False)
    return row._amount, row.amount


def _same(a: Money | None, b: Money) -> bool:
    return (
        a is not None and type(a) is Money and a.currency == b.currency and a.amount.as_tuple() == b.amount.as_tuple()
    )


@given(
    st.integers(min_value=-(10**17), max_value=10**17),
    st.integers(min_value=0, max_value=8),
    st.sampled_from(["USD", "EUR", "JPY", "BHD"]),
)
def test_minor_units_read_back_as_the_same_amount(minor: int, places: int, currency: str) -> None:
    money = Money(Decimal(minor).scaleb(-places), currency)
    held, read = _row_amount(money)
    assert type(held) is int and _same(read, money)
    assert _same(pickle.loads(pickle.dumps(read)), money)


@pytest.mark.parametrize("text", ["-0.00", "1E+2", "0.000000001", "1234567890123456789.5"])
def test_an_amount_minor_units_cannot_hold_stays_a_money(text: str) -> None:
    money = Money(Decimal(text), "USD")
    assert in_minor_units(money) == (None, 0)
    held, read = _row_amount(money)
    assert held is money and read is money


def test_rows_in_one_unit_share_it_and_a_pickled_row_reads_the_same() -> None:
    key = MilestoneKey(platform=Platform.KANTATA, id="5", container_id="900")
    a, b = (row_of(Milestone(key=key, title="A", amount=Money(v, "USD")), keep=False) for v in ("1.25", "7.00"))
    assert a._kind[6] is b._kind[6]
    again = pickle.loads(pickle.dumps(b))
    assert again._kind[6] is b._kind[6] and _same(again.amount, Money("7.00", "USD"))
    assert a.currency == "USD" and b.milestone().amount == Money("7.00", "USD")
