"""The fingerprint's direct writing is its speed: these pin that the usual values never reach the whole-object
encoder and that each field set's order is worked out once (``test_fingerprints`` pins the digests
themselves). Without them, a change that sent every value through the slow path, or stopped remembering the
order, would pass every digest test while costing each worker its ~3 us per fingerprint again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from billing_milestones import Milestone, Money
from billing_milestones.model import MilestoneStatus, Trigger, TriggerKind
from billing_milestones.sync import _fingerprint
from billing_milestones.sync._fingerprint import fingerprint

FIELDS = ("title", "description", "amount", "percentage", "due", "trigger", "status", "is_initial_payment")


class _NoEncoder:
    def encode(self, value: Any) -> str:
        raise AssertionError(f"the whole-object encoder was asked for {value!r}")


@pytest.mark.parametrize(
    "milestone",
    [
        Milestone(title="Kick-off", amount=Money("1500.00", "USD"), due=dt.date(2027, 1, 31)),
        Milestone(
            title="Share",
            percentage=Decimal("12.50"),
            trigger=Trigger(kind=TriggerKind.ON_STAGE, ref="s1"),
            status=MilestoneStatus.BILLED,
            locked=True,
            is_initial_payment=True,
        ),
    ],
)
def test_the_usual_values_are_written_directly(milestone: Milestone, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = fingerprint(milestone, FIELDS)
    monkeypatch.setattr(_fingerprint, "_ENCODER", _NoEncoder())
    assert fingerprint(milestone, FIELDS) == expected
    assert fingerprint(milestone, list(FIELDS)) == expected


def test_an_unusual_value_takes_the_encoder_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    class Text(str):
        pass

    odd = Milestone.model_construct(title=Text("Kick-off"), amount=None, due=None)
    monkeypatch.setattr(_fingerprint, "_ENCODER", _NoEncoder())
    with pytest.raises(AssertionError, match="whole-object encoder"):
        fingerprint(odd, ("title",))


def test_a_field_sets_order_is_worked_out_once_and_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    orders: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
    monkeypatch.setattr(_fingerprint, "_ORDERS", orders)
    fields = ("title", "due", "title")
    first = _fingerprint._order(fields)
    assert first == (("due", '"due": '), ("title", '"title": '))
    assert orders == {fields: first}
    assert _fingerprint._order(fields) is first  # the remembered one, not worked out again

    orders.clear()
    for n in range(70):
        _fingerprint._order((f"f{n}",))
    assert len(orders) == 64  # at most 64 field sets remembered: an odd caller cannot grow it
    assert ("f63",) in orders and ("f64",) not in orders
