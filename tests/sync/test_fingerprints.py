"""Fingerprints are stored in every link: the same milestone must hash to the same text in every version, or
each stored link would read as "changed on both sides" (a conflict) after an upgrade. These digests were
written by the original implementation (``json.dumps`` of the plain values with ``sort_keys``), and the
formula itself is written out below (``_original``) to compare with on generated values."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_milestones import Milestone, Money
from billing_milestones.model import MilestoneStatus, Trigger, TriggerKind
from billing_milestones.sync._rows import row_of
from billing_milestones.sync.translate import fingerprint

SOURCE = ("title", "description", "amount", "percentage", "due", "trigger", "status")
KANTATA = ("title", "amount", "due", "trigger")
WIDE = ("title", "description", "amount", "due", "trigger", "is_initial_payment", "status")

SAMPLES = [
    (
        Milestone(title="Kick-off", amount=Money("1500.00", "USD"), due=dt.date(2027, 1, 31)),
        ["855623ec3b95819ecbc0c3ed7da86b10", "4413e05f5c9b5c2a070f3f248e4b7df7", "27b6359f11b1aa36efe0cffa9d4467fc"],
    ),
    (
        Milestone(
            title="  Café ☕ 100%  ",
            description='Phase "2"\n',
            amount=Money("-0.00", "EUR"),
            due=None,
            status=MilestoneStatus.BILLED,
            locked=True,
            is_initial_payment=True,
        ),
        ["b9284a485bae6482e09780f8d73a494f", "ac6f2aaf95f94f195d5898d9ac4330e9", "a2906655c88672250e77f2683bb6280b"],
    ),
    (
        Milestone(
            title="Share", percentage=Decimal("12.50"), trigger=Trigger(kind=TriggerKind.ON_COMPLETION, ref="T-9")
        ),
        ["41b25ee4cffb7c079682505cb0121971", "80ca8149d146f4b16f38c4d1d813d218", "3de33f21bdf47e30704741f07499e8de"],
    ),
    (
        Milestone(
            title="Stage",
            amount=Money("100", "JPY"),
            trigger=Trigger(kind=TriggerKind.ON_STAGE, ref="s1"),
            status=MilestoneStatus.READY_TO_BILL,
        ),
        ["2474d810d02b6c2eb5d037b3f0bd5123", "118c3d5d01a33f8bee15d105afbb1309", "43361a27a26f4b4b50c3cba77d8c184c"],
    ),
]


@pytest.mark.parametrize(("milestone", "digests"), SAMPLES)
def test_a_milestone_and_its_row_hash_as_stored_links_expect(milestone: Milestone, digests: list[str]) -> None:
    for fields, digest in zip((SOURCE, KANTATA, WIDE), digests, strict=True):
        assert fingerprint(milestone, fields) == digest
        assert fingerprint(row_of(milestone, keep=False), fields) == digest


class _Text(str):
    """A subclass of a type the fingerprint looks up by exact type: it must still hash as _plain says."""


class _Day(dt.date):
    pass


class _Held:
    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def _original_plain(value: Any) -> Any:
    if isinstance(value, Money):
        return {"amount": str(value.amount.normalize()), "currency": value.currency}
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, Trigger):
        return f"{value.kind.value}:{value.ref or ''}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _original(milestone: Any, fields: tuple[str, ...]) -> str:
    data = {name: _original_plain(getattr(milestone, name)) for name in fields}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]


def test_values_of_other_types_hash_as_the_original_formula_does() -> None:
    held = _Held(
        title=_Text("T"),
        due=_Day(2027, 2, 3),
        at=dt.datetime(2027, 2, 3, 4, 5, 6),
        amount=Decimal("1E+2"),
        count=3,
        flag=False,
    )
    fields = ("title", "due", "at", "amount", "count", "flag")
    assert fingerprint(held, fields) == _original(held, fields)
    assert fingerprint(held, iter(fields)) == _original(held, fields)
    assert fingerprint(held, ()) == _original(held, ())


_TEXT = st.text(st.characters(codec="utf-8") | st.sampled_from('"\\/\b\f\n\r\t\x00\x1f\x7f\u2028\ud7ff\ud800'))
_NUMBER = st.decimals(allow_nan=False, allow_infinity=False, places=None) | st.sampled_from(
    [Decimal("-0"), Decimal("-0.00"), Decimal("1E+2"), Decimal("0E-7"), Decimal("1234.5000")]
)
_VALUE = st.one_of(
    _TEXT,
    st.none(),
    st.booleans(),
    st.builds(Money, _NUMBER, st.sampled_from(["USD", "EUR", "JPY", "BHD"])),
    _NUMBER,
    st.dates(),
    st.sampled_from(list(MilestoneStatus)),
    st.just(Trigger(kind=TriggerKind.FIXED_DATE)),
    st.builds(lambda ref: Trigger(kind=TriggerKind.ON_STAGE, ref=ref), _TEXT.filter(bool)),
    st.integers(),  # types no field holds: through the encoder, as before
    st.datetimes(),
    _TEXT.map(_Text),
)
_NAMES = st.sampled_from(["title", "description", "amount", "percentage", "due", "trigger", "status", "b", "a_b"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_NAMES, _VALUE, min_size=1), st.data())
def test_any_values_hash_as_the_original_formula_does(values: dict[str, Any], data: st.DataObject) -> None:
    fields = tuple(data.draw(st.lists(st.sampled_from(sorted(values)), max_size=12)))  # any order, repeats
    held = _Held(**values)
    assert fingerprint(held, fields) == _original(held, fields)
