"""The listing's one-step milestone reader (autotask/_read.py) gives what ``to_milestone`` gives: over generated
records, picklists, labels and currencies, every milestone is equal field for field (types, fields set, repr,
dumps, raw) or both refuse it with the same typed error naming the same field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from billing_milestones import errors
from billing_milestones.autotask import _read, adapter
from billing_milestones.autotask._read import milestone_reader
from billing_milestones.autotask.wire import ContractMilestone
from billing_milestones.model import Milestone, MilestoneStatus

from .._same_model import assert_same_model

texts = st.text(st.characters(codec="utf-8"), max_size=12)
keys = st.text(st.sampled_from("abc019-_:["), min_size=0, max_size=6)
descriptions = st.one_of(
    st.none(),
    texts,
    st.builds(lambda t, k, gap: f"{t}{gap}[bm:{k}]", texts, keys, st.sampled_from([" ", "", "\n", "  "])),
    st.builds(lambda k, tail: f"[bm:{k}]{tail}", keys, st.sampled_from(["", " ", "\n", "x", "]"])),
)
amounts = st.one_of(
    st.none(),
    st.decimals(places=2, min_value=-(10**9), max_value=10**9),
    st.decimals(places=3, min_value=-(10**6), max_value=10**6),
    st.sampled_from([Decimal("0"), Decimal("-0.00"), Decimal("1E+3"), Decimal("12.5"), Decimal("0.001")]),
)
PICKLISTS: list[dict[int, str]] = [
    {1: "Not Ready to Bill", 2: "Ready to Bill", 3: "Billed"},
    {1: "not ready to bill", 2: "READY TO BILL", 3: "Billed", 4: "Disputed"},
    {7: "Billed"},
    {},
]
LABELS: list[Mapping[str, MilestoneStatus]] = [adapter.DEFAULT_STATUS_LABELS, {"Disputed": MilestoneStatus.PLANNED}]


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):  # the usual record (what a listing is made of), read in one step when its status is
        return {
            "id": draw(st.integers(0, 10**12)),
            "contractID": 29683001,
            "title": draw(texts.filter(str.strip)),
            "description": draw(descriptions),
            "amount": draw(st.decimals(places=2, min_value=-(10**9), max_value=10**9)),
            "dateDue": draw(st.none() | st.just("2027-01-15T00:00:00")),
            "status": draw(st.integers(1, 4)),
            "isInitialPayment": draw(st.none() | st.booleans()),
        }
    record: dict[str, Any] = {
        "id": draw(st.none() | st.integers(0, 10**12)),
        "contractID": draw(st.none() | st.just(29683001)),
        "title": draw(st.sampled_from(["Kick-off", "", " ", "\t"]) | st.none() | texts),
        "description": draw(descriptions),
        "amount": draw(amounts),
        "dateDue": draw(st.none() | st.sampled_from(["2027-01-15T00:00:00", "2027-03-01T12:30:00Z"])),
        "status": draw(st.none() | st.integers(0, 8)),
        "isInitialPayment": draw(st.none() | st.booleans()),
    }
    for name in list(record):
        if name != "id" and draw(st.integers(0, 6)) == 0:
            del record[name]
    if draw(st.booleans()):
        record["newField"] = draw(texts)
    return record


def outcome(read: Callable[[], Milestone]) -> Milestone | tuple[type[Exception], str | None, str]:
    try:
        return read()
    except (errors.ValidationError, errors.TranslationError) as exc:
        return type(exc), exc.field, str(exc)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records(),
    st.sampled_from(PICKLISTS[:1] * 3 + PICKLISTS),
    st.sampled_from(LABELS[:1] * 3 + LABELS),
    st.sampled_from(["USD", "USD", "KWD", "JPY", "usd", "XYZ", "US"]),
)
def test_the_reader_reads_every_record_as_to_milestone(
    record: dict[str, Any], picklist: dict[int, str], labels: Mapping[str, MilestoneStatus], currency: str
) -> None:
    wire, again = ContractMilestone.model_validate(record), ContractMilestone.model_validate(record)
    read = milestone_reader(picklist, currency, labels)
    general = 0

    def counted(*args: Any, **kwargs: Any) -> Milestone:
        nonlocal general
        general += 1
        return adapter.to_milestone(*args, **kwargs)

    with patch.object(_read, "to_milestone", counted):
        got = outcome(lambda: read(wire))
    expected = outcome(lambda: adapter.to_milestone(again, picklist=picklist, currency=currency, labels=labels))
    event("to_milestone" if general else "one step")
    if isinstance(expected, tuple):
        assert got == expected
        return
    assert isinstance(got, Milestone)
    assert_same_model(got, expected)
    assert dict(got.raw) == again.raw() == wire.raw()


def test_the_usual_record_is_read_without_to_milestone() -> None:
    picklist = {1: "Not Ready to Bill", 3: "Billed"}
    wire = ContractMilestone.model_validate(
        {
            "id": 5,
            "contractID": 7,
            "title": "Kick-off",
            "amount": Decimal("4000.5"),
            "status": 3,
            "dateDue": "2027-01-15T00:00:00",
            "description": "Phase one [bm:k1]",
        }
    )
    with patch.object(_read, "to_milestone", side_effect=AssertionError("not the usual path")):
        got = milestone_reader(picklist, "USD")(wire)
    assert_same_model(got, adapter.to_milestone(wire, picklist=picklist, currency="USD"))
    assert got.amount is not None and str(got.amount.amount) == "4000.50"
    assert got.locked and got.sync_key == "k1"


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"id": 1, "title": "A", "amount": Decimal("1.005"), "status": 1}, "amount"),
        ({"id": 1, "title": "A", "status": 1}, "amount"),
        ({"id": 1, "title": " ", "amount": Decimal(1), "status": 1}, "title"),
        ({"id": 1, "title": "A", "amount": Decimal(1), "status": 9}, "status"),
    ],
)
def test_a_record_the_view_cannot_hold_is_refused_by_name(record: dict[str, Any], field: str) -> None:
    read = milestone_reader({1: "Not Ready to Bill"}, "USD")
    with pytest.raises(errors.TranslationError) as caught:
        read(ContractMilestone.model_validate(record))
    assert caught.value.field == field


@given(
    st.one_of(
        descriptions,
        st.builds(
            lambda a, k, b: f"{a}[bm:{k}]{b}",
            texts,
            st.text(st.sampled_from("ab1\u00e9 \t[]\u2028"), max_size=4),
            st.sampled_from(["", " ", "]", "\n", "\u00a0"]),
        ),
    )
)
def test_the_description_is_split_as_split_description_splits_it(text: str | None) -> None:
    assert _read._split(text) == adapter.split_description(text)
