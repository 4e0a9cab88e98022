"""The milestone rules, checked client-side before anything is sent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing_milestones.crmcom import MilestoneRequest, check_milestones, milestone_violations
from billing_milestones.errors import ValidationError
from billing_milestones.money import Money


def ms(stage: str | None, *, pct: str | None = None, amount: str | None = None) -> MilestoneRequest:
    return MilestoneRequest(
        stage_id=stage,
        percentage=Decimal(pct) if pct is not None else None,
        amount=Decimal(amount) if amount is not None else None,
    )


def test_a_valid_set_passes() -> None:
    check_milestones([ms("a", pct="30"), ms("b", amount="70.00")], Money("100.00", "EUR"))
    check_milestones([ms("a", pct="100")])
    check_milestones([])


@pytest.mark.parametrize(
    ("milestones", "field", "fragment"),
    [
        ([ms(None, pct="10")], "milestones[0].stage_id", "stage_id is required"),
        ([ms("a", pct="10"), ms("", pct="10")], "milestones[1].stage_id", "stage_id is required"),
        ([ms("a", pct="10", amount="5")], "milestones[0]", "not both"),
        ([ms("a")], "milestones[0]", "a percentage or an amount"),
        ([ms("a", pct="-1")], "milestones[0].percentage", "negative"),
        ([ms("a", amount="-0.01")], "milestones[0].amount", "negative"),
        ([ms("a", pct="10"), ms("a", pct="20")], "milestones[1].stage_id", "one per stage"),
        ([ms("a", pct="60"), ms("b", pct="40.01")], "milestones[1].percentage", "above 100"),
    ],
)
def test_each_rule_names_the_milestone(milestones: list[MilestoneRequest], field: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_milestones(milestones)
    assert info.value.field == field
    assert fragment in info.value.message


def test_stage_is_named_in_the_message() -> None:
    with pytest.raises(ValidationError, match=r"milestones\[1\] \(stage 'stage-b'\)"):
        check_milestones([ms("stage-a", pct="10"), ms("stage-b", amount="-5")])


def test_amounts_above_the_total_only_when_the_total_is_known() -> None:
    over = [ms("a", amount="60.00"), ms("b", amount="40.01")]
    check_milestones(over)  # total unknown: nothing to compare with
    with pytest.raises(ValidationError, match=r"above the order total 100\.00") as info:
        check_milestones(over, Money("100.00", "EUR"))
    assert info.value.field == "milestones[1].amount"


def test_percentage_shares_count_towards_the_total() -> None:
    mixed = [ms("a", pct="50"), ms("b", amount="50.01")]
    check_milestones(mixed)
    with pytest.raises(ValidationError, match="above the order total"):
        check_milestones(mixed, Decimal("100"))
    check_milestones([ms("a", pct="50"), ms("b", amount="50.00")], Decimal("100"))


def test_every_violation_is_reported() -> None:
    problems = milestone_violations([ms(None), ms("b", pct="-3", amount="1"), ms("b", pct="1")])
    fields = [p.field for p in problems]
    assert fields == [
        "milestones[0].stage_id",
        "milestones[0]",
        "milestones[1]",
        "milestones[1].percentage",
        "milestones[2].stage_id",
    ]
    assert problems[4].stage_id == "b"
