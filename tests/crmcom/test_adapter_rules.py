"""crm.com translation rules that mutation testing showed no test stated (``make mutate``); one test per rule."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from billing_milestones.crmcom import (
    AmountPreference,
    MilestonePlanEstimate,
    MilestoneRequest,
    OrderEstimate,
    milestone_from_plan,
    milestones_from_estimate,
    milestones_to_request,
)
from billing_milestones.crmcom.adapter import make_key, split_key, stage_of
from billing_milestones.errors import BillingMilestonesError
from billing_milestones.model import ChangeKind, FieldChange, Milestone, MilestoneKey, Platform, Trigger
from billing_milestones.money import Money

EUR = "EUR"


def plan_item(stage: str = "s1", name: str | None = "Deposit", **fields: Any) -> MilestonePlanEstimate:
    return MilestonePlanEstimate.model_validate({"stage": {"id": stage, "name": name}, **fields})


def on_stage(stage: str, *, pct: str | None = None, amount: str | None = None, title: str = "m") -> Milestone:
    return Milestone(
        title=title,
        percentage=Decimal(pct) if pct is not None else None,
        amount=Money(amount, EUR) if amount is not None else None,
        trigger=Trigger.on_stage(stage),
    )


OTHER_KEY = MilestoneKey(platform=Platform.KANTATA, id="1", container_id="2")
BAD_ID = MilestoneKey(platform=Platform.CRMCOM, id="e1:", container_id="e1")
FRACTION = plan_item(amount=Decimal("1.005"))
NO_CURRENCY = plan_item(amount=Decimal(1))
EMPTY = plan_item()
NO_STAGE = MilestonePlanEstimate.model_construct(stage=None, amount=Decimal(1))  # type: ignore[arg-type]
NO_ID = OrderEstimate.model_construct(id=None)  # type: ignore[call-arg, arg-type]
DATED = Milestone(title="Kick-off", amount=Money("1", EUR))
CHF = on_stage("s1", amount="1", title="Fee").model_copy(update={"amount": Money("1", "CHF")})
CENTS = on_stage("s1", amount="1.005", title="Fee")

# (what is refused, exact message, field, value or source)
REFUSALS: list[tuple[Callable[[], object], str, str, object]] = [
    (lambda: split_key(OTHER_KEY), f"key {OTHER_KEY}: not a crm.com milestone key", "key", str(OTHER_KEY)),
    (
        lambda: split_key(BAD_ID),
        f"key {BAD_ID}: expected id '{{estimation_id}}:{{stage_id}}' with estimation id 'e1'",
        "key",
        str(BAD_ID),
    ),
    (
        lambda: stage_of(DATED),
        "milestone 'Kick-off': trigger fixed_date has no crm.com equivalent; crm.com milestones fire when the order "
        "reaches a stage (map it to a stage id with a TriggerMap)",
        "trigger",
        DATED,
    ),
    (
        lambda: milestone_from_plan(NO_STAGE, estimation_id="e", currency=EUR),
        "milestone_plan_estimate entry without stage.id",
        "stage.id",
        NO_STAGE.raw(),
    ),
    (
        lambda: milestone_from_plan(NO_CURRENCY, estimation_id="e", currency=None),
        "stage 's1': amount 1 but the estimate has no invoice_estimate.currency_code",
        "currency_code",
        NO_CURRENCY.raw(),
    ),
    (
        lambda: milestone_from_plan(FRACTION, estimation_id="e", currency=EUR),
        "stage 's1': amount 1.005 EUR has a fraction of a minor unit",
        "amount",
        FRACTION.raw(),
    ),
    (
        lambda: milestone_from_plan(EMPTY, estimation_id="e", currency=EUR),
        "stage 's1': neither amount nor percentage in the estimate",
        "amount",
        EMPTY.raw(),
    ),
    (
        lambda: milestones_from_estimate(NO_ID),
        "the estimate has no id (estimation id)",
        "id",
        NO_ID.raw(),
    ),
    (
        lambda: milestones_to_request([CHF], currency=EUR),
        "milestone 'Fee' (stage 's1'): amount in CHF, order in EUR",
        "amount",
        CHF,
    ),
    (
        lambda: milestones_to_request([CENTS]),
        "milestone 'Fee' (stage 's1'): 1.005 EUR has a fraction of a minor unit",
        "amount",
        CENTS,
    ),
]


@pytest.mark.parametrize(("refused", "message", "field", "detail"), REFUSALS)
def test_every_refusal_names_the_field_and_what_was_refused(
    refused: Callable[[], object], message: str, field: str, detail: object
) -> None:
    with pytest.raises(BillingMilestonesError) as info:
        refused()
    error: Any = info.value
    assert (error.message, error.field, getattr(error, "source", getattr(error, "value", None))) == (
        message,
        field,
        detail,
    )


def test_amounts_are_read_with_the_exponent_given_not_iso() -> None:
    m = milestone_from_plan(plan_item(amount=Decimal("1.005")), estimation_id="e", currency=EUR, exponent=3)
    assert m.amount == Money("1.005", EUR) and str(m.amount.amount) == "1.005"


def test_what_reading_a_plan_derived_or_defaulted_is_recorded_exactly() -> None:
    m = milestone_from_plan(plan_item(name="", queue_percentage=Decimal(40)), estimation_id="e", currency=EUR)
    assert m.title == "s1" and m.key == make_key("e", "s1")
    assert m.changes == (
        FieldChange(
            field="percentage",
            kind=ChangeKind.DERIVED,
            after="40",
            reason="no percentage set for this order; took the order queue's queue_percentage",
        ),
        FieldChange(field="title", kind=ChangeKind.DEFAULTED, after="s1", reason="the stage has no name; used its id"),
    )


# previous (amount, pct), now (amount, pct), prefer -> what is sent, and why the other was dropped
SIDES = [
    (
        ("10.00", "10"),
        ("10.00", "20"),
        AmountPreference.AMOUNT,
        (None, "20"),
        "(the side changed since the last estimate)",
    ),
    (
        ("10.00", "10"),
        ("30.00", "10"),
        AmountPreference.PERCENTAGE,
        ("30.00", None),
        "(the side changed since the last estimate)",
    ),
    (
        ("10.00", "10"),
        ("10.00", "10"),
        AmountPreference.AMOUNT,
        (None, "10"),
        "(the side changed since the last estimate)",
    ),
    (
        ("10.00", None),
        ("10.00", "10"),
        AmountPreference.PERCENTAGE,
        (None, "10"),
        "(the side changed since the last estimate)",
    ),
    (("10.00", None), ("10.00", None), AmountPreference.PERCENTAGE, ("10.00", None), ""),
    (("10.00", "10"), ("30.00", "30"), AmountPreference.PERCENTAGE, (None, "30"), "prefer='percentage'"),
    (None, ("30.00", "30"), AmountPreference.AMOUNT, ("30.00", None), "prefer='amount'"),
]


@pytest.mark.parametrize(("before", "now", "prefer", "sent", "why"), SIDES)
def test_the_side_the_caller_edited_since_the_last_estimate_wins(
    before: tuple[str, str | None] | None,
    now: tuple[str, str | None],
    prefer: AmountPreference,
    sent: tuple[str | None, str | None],
    why: str,
) -> None:
    previous = {"s1": on_stage("s1", amount=before[0], pct=before[1])} if before else None
    result = milestones_to_request([on_stage("s1", amount=now[0], pct=now[1])], prefer=prefer, previous=previous)
    expected = MilestoneRequest(
        stage_id="s1",
        amount=Decimal(sent[0]) if sent[0] else None,
        percentage=Decimal(sent[1]) if sent[1] else None,
    )
    assert result.request == [expected]
    reasons = [c.reason for c in result.milestones[0].changes]
    assert all(why in reason for reason in reasons) and (bool(reasons) is (now[1] is not None))


def test_what_a_request_dropped_or_derived_is_recorded_exactly() -> None:
    both = on_stage("s1", amount="10.00", pct="10")
    inexact = on_stage("s2", amount="0.005", pct="20")
    share = on_stage("s3", pct="70")
    result = milestones_to_request([both, inexact, share], total=Money("100.00", EUR))
    assert [m.changes for m in result.milestones] == [
        (
            FieldChange(
                field="percentage",
                kind=ChangeKind.DROPPED,
                before="10",
                reason="crm.com takes a percentage or an amount per milestone, never both; "
                "sent the exact amount (prefer='amount')",
            ),
        ),
        (
            FieldChange(
                field="amount",
                kind=ChangeKind.DROPPED,
                before="0.005 EUR",
                reason="crm.com takes a percentage or an amount per milestone, never both; "
                "sent the percentage (the amount is not exact)",
            ),
        ),
        (
            FieldChange(
                field="amount",
                kind=ChangeKind.DERIVED,
                after="70.00 EUR",
                reason="70% of the order total 100.00 EUR (half-even, last absorbs)",
            ),
        ),
    ]
    assert [m.amount for m in result.milestones] == [Money("10.00", EUR), Money("0.005", EUR), Money("70.00", EUR)]
