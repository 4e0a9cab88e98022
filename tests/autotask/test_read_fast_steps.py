"""The one-step reader's own shortcuts (autotask/_read.py), each pinned on its own.

The equivalence tests (test_read_milestones.py) show the reader gives what ``to_milestone`` gives; where a
shortcut's fallback gives the same answer, they cannot tell a shortcut that works from one that always falls
back, nor reach records a listing never holds (built with ``model_construct``, as a caller may). These can: the
usual descriptions are split without the pattern, a picklist's unmapped label does not hide the labels after
it, and an odd record (a subclass, a bool status, an empty or non-text title, a date instead of a datetime, a
negative zero, no id) is read as ``to_milestone`` reads it, or refused by the same typed error."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import pytest

from billing_milestones.autotask import _read, adapter
from billing_milestones.autotask._read import milestone_reader
from billing_milestones.autotask.wire import ContractMilestone
from billing_milestones.model import Milestone, MilestoneStatus

from .._same_model import assert_same_model

PICKLIST = {1: "Not Ready to Bill", 2: "Ready to Bill", 3: "Billed"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Phase one [bm:k1]", ("Phase one", "k1")),
        ("[bm:k1]", (None, "k1")),
        ("a [bm:x] b [bm:y2]", ("a [bm:x] b", "y2")),  # the last marker is the key
        ("ab [bm:K9]", ("ab", "K9")),
        ("plain text", ("plain text", None)),
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_the_usual_descriptions_are_split_without_the_pattern(
    text: str | None, expected: tuple[str | None, str | None]
) -> None:
    assert adapter.split_description(text) == expected
    with patch.object(_read, "split_description", side_effect=AssertionError("the pattern ran")):
        assert _read._split(text) == expected


def test_an_unmapped_label_does_not_hide_the_labels_after_it() -> None:
    picklist = {1: "Disputed", 2: "Billed", 3: "Ready to Bill"}
    assert _read._statuses(picklist, adapter.DEFAULT_STATUS_LABELS) == {
        2: MilestoneStatus.BILLED,
        3: adapter.DEFAULT_STATUS_LABELS["Ready to Bill"],
    }


def _outcome(read: Callable[[], Milestone]) -> Milestone | tuple[type[Exception], str | None]:
    try:
        return read()
    except Exception as exc:  # whatever to_milestone raises, the reader must raise too
        return type(exc), getattr(exc, "field", None)


def _usual(**over: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": 5,
        "contract_id": 7,
        "title": "Kick-off",
        "description": "Phase one [bm:k1]",
        "amount": Decimal("4000.50"),
        "date_due": dt.datetime(2027, 1, 15),
        "status": 3,
        "is_initial_payment": False,
    }
    return {**values, **over}


class _Sub(ContractMilestone):
    """A caller's own subclass of the wire model: not the listing's exact type."""


@pytest.mark.parametrize(
    ("over", "shortcut"),
    [
        ({"status": True}, False),  # a bool is not an int id: the shortcut leaves it to to_milestone
        ({"title": ""}, False),
        ({"title": 5}, False),
        ({"date_due": dt.date(2027, 1, 15)}, False),  # a date, not the datetime the wire model holds
        ({"amount": Decimal("-0")}, True),
        ({"amount": Decimal("-0.00")}, True),
        ({"id": None}, True),
        ({"contract_id": None}, True),
        ({"id": None, "contract_id": None}, True),
    ],
    ids=repr,
)
def test_an_odd_record_is_read_as_to_milestone_reads_it(over: dict[str, Any], shortcut: bool) -> None:
    """Odd values a listing never holds (``model_construct``): what the shortcut cannot vouch for goes to
    to_milestone, and what it takes comes out as to_milestone's."""
    wire = ContractMilestone.model_construct(**_usual(**over))
    calls = 0

    def counted(*args: Any, **kwargs: Any) -> Milestone:
        nonlocal calls
        calls += 1
        return adapter.to_milestone(*args, **kwargs)

    with patch.object(_read, "to_milestone", counted):
        got = _outcome(lambda: milestone_reader(PICKLIST, "USD")(wire))
    assert calls == (0 if shortcut else 1)
    expected = _outcome(lambda: adapter.to_milestone(wire, picklist=PICKLIST, currency="USD"))
    if isinstance(expected, tuple):
        assert got == expected
        return
    assert isinstance(got, Milestone)
    assert_same_model(got, expected)


def test_a_negative_zero_is_read_as_an_unsigned_zero_of_the_currency() -> None:
    wire = ContractMilestone.model_construct(**_usual(amount=Decimal("-0")))
    got = milestone_reader(PICKLIST, "USD")(wire)
    assert got.amount is not None
    assert str(got.amount.amount) == "0.00" and not got.amount.amount.is_signed()


@pytest.mark.parametrize(("ident", "container"), [(None, 7), (5, None)])
def test_a_record_without_its_id_or_contract_has_no_key(ident: int | None, container: int | None) -> None:
    wire = ContractMilestone.model_construct(**_usual(id=ident, contract_id=container))
    with patch.object(_read, "to_milestone", side_effect=AssertionError("not the usual path")):
        got = milestone_reader(PICKLIST, "USD")(wire)
    assert got.key is None


def test_a_subclass_of_the_wire_model_is_read_as_to_milestone_reads_it() -> None:
    wire = _Sub.model_validate({"id": 5, "contractID": 7, "title": "Kick-off", "amount": Decimal("10"), "status": 3})
    got = milestone_reader(PICKLIST, "USD")(wire)
    assert_same_model(got, adapter.to_milestone(wire, picklist=PICKLIST, currency="USD"))
    assert got.key is not None and got.key.id == "5"
