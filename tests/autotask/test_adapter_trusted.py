"""Autotask's read builds its common models from validated wire values without a second validation
(``CommonModel._trusted``): over generated records, each milestone is the one the validating constructors
build from the same plain values, field for field, or the record is refused with a typed error naming the
field (a blank title among them, which the validating constructor refuses too)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from billing_milestones.autotask import adapter
from billing_milestones.autotask.wire import ContractMilestone
from billing_milestones.errors import TranslationError, ValidationError
from billing_milestones.model import ExternalRef, Milestone, MilestoneKey
from billing_milestones.money import Money

from .._same_model import assert_same_model

PICKLIST = {1: "Not Ready to Bill", 2: "Ready to Bill", 3: "Billed"}
texts = st.text(st.characters(codec="utf-8"), max_size=20)


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": draw(st.none() | st.integers(1, 10**12)),
        "contractID": draw(st.none() | st.integers(1, 10**12)),
        "title": draw(texts.filter(str.strip) | st.sampled_from(["", " ", "\t\n"])),
        "amount": draw(st.decimals(-(10**9), 10**9, places=draw(st.sampled_from([0, 2, 3])), allow_nan=False)),
        "status": draw(st.sampled_from([1, 2, 3])),
    }
    if draw(st.booleans()):
        record["dateDue"] = draw(st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2060, 1, 1))).isoformat()
    if draw(st.booleans()):
        record["isInitialPayment"] = draw(st.booleans())
    if draw(st.booleans()):
        key = draw(st.none() | st.from_regex(r"bm[0-9a-f]{16}", fullmatch=True))
        record["description"] = draw(texts) + (f"\n[billing-milestones:{key}]" if key else "")
    return {k: v for k, v in record.items() if v is not None}


def validated(m: Milestone) -> Milestone:
    """The same milestone, built by the validating constructors from plain values: the fields a read sets,
    named here rather than taken from ``m`` (so a read that set more or fewer fields fails the comparison)."""
    plain: dict[str, Any] = {name: getattr(m, name) for name in ("title", "description", "due")}
    plain |= {"is_initial_payment": m.is_initial_payment, "locked": m.locked}
    key, amount = m.key, m.amount
    plain["key"] = (
        None if key is None else MilestoneKey(platform=key.platform.value, id=key.id, container_id=key.container_id)
    )
    plain["amount"] = None if amount is None else Money(str(amount.amount), amount.currency)
    plain["external_refs"] = tuple(ExternalRef(service=r.service, ref=r.ref) for r in m.external_refs)
    plain["raw"] = dict(m.raw)
    plain["status"] = m.status.value
    return Milestone(**plain)


@settings(max_examples=300, deadline=None)
@given(records())
def test_a_read_record_is_the_milestone_the_validating_constructors_build(record: dict[str, Any]) -> None:
    wire = ContractMilestone.model_validate(record)
    try:
        got = adapter.to_milestone(wire, picklist=PICKLIST, currency="USD")
    except TranslationError as exc:
        assert exc.field in {"title", "amount"}
        if exc.field == "title":  # refused as the validating constructor refuses it
            assert not record["title"].strip()
            try:
                Milestone(title=record["title"], amount=Money("1", "USD"))
            except ValidationError as refused:
                assert refused.field == "title"
            else:
                raise AssertionError("a blank title was accepted by Milestone") from None
        else:
            assert Decimal(record["amount"]) != Decimal(record["amount"]).quantize(Decimal("0.01"))
        return
    assert record["title"].strip()
    assert_same_model(got, validated(got))
