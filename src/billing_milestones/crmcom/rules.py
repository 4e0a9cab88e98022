"""crm.com's milestone rules, checked before anything is sent.

The spec states them in prose only and documents no error codes, so we check them client-side: a refused set
then fails fast, names the milestone, and never costs a round trip. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from ..errors import ValidationError
from ..money import Money
from .wire import MilestoneRequest

__all__ = ["MilestoneViolation", "check_milestones", "milestone_violations"]

_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class MilestoneViolation:
    """One broken rule: which milestone (index and stage), which field, and why."""

    index: int
    stage_id: str | None
    field: str
    message: str
    value: object = None

    def describe(self) -> str:
        stage = f"stage {self.stage_id!r}" if self.stage_id else "no stage"
        return f"milestones[{self.index}] ({stage}): {self.message}"


def _name(m: MilestoneRequest) -> str | None:
    return m.stage_id or None


def milestone_violations(
    milestones: Sequence[MilestoneRequest], total: Money | Decimal | None = None
) -> list[MilestoneViolation]:
    """Every rule a milestone set breaks, in order; empty when the set may be sent.

    Rules: a stage id on each; exactly one of percentage and amount; neither negative; one milestone per stage;
    percentages sum to at most 100; and, when the order total is known, amounts (plus the percentage shares of
    the total) sum to at most the total.
    """
    out: list[MilestoneViolation] = []
    seen: dict[str, int] = {}
    total_value = total.amount if isinstance(total, Money) else total
    pct_sum = Decimal(0)
    committed = Decimal(0)  # amounts plus the percentage shares of the total, when the total is known
    pct_flagged = amount_flagged = False
    for i, m in enumerate(milestones):
        stage = _name(m)
        if not stage:
            out.append(MilestoneViolation(i, None, f"milestones[{i}].stage_id", "stage_id is required"))
        elif stage in seen:
            out.append(
                MilestoneViolation(
                    i,
                    stage,
                    f"milestones[{i}].stage_id",
                    f"a second milestone for the stage (first at milestones[{seen[stage]}]); one per stage",
                    stage,
                )
            )
        else:
            seen[stage] = i
        if m.percentage is not None and m.amount is not None:
            out.append(
                MilestoneViolation(
                    i, stage, f"milestones[{i}]", "give percentage or amount, not both", (m.percentage, m.amount)
                )
            )
        elif m.percentage is None and m.amount is None:
            out.append(MilestoneViolation(i, stage, f"milestones[{i}]", "give a percentage or an amount"))
        for name, value in (("percentage", m.percentage), ("amount", m.amount)):
            if value is not None and value < 0:
                out.append(
                    MilestoneViolation(i, stage, f"milestones[{i}].{name}", f"{name} {value} is negative", value)
                )
        if m.percentage is not None and m.percentage >= 0:
            pct_sum += m.percentage
            if pct_sum > _HUNDRED and not pct_flagged:
                pct_flagged = True
                out.append(
                    MilestoneViolation(
                        i,
                        stage,
                        f"milestones[{i}].percentage",
                        f"percentages sum to {pct_sum} by this milestone, above 100",
                        m.percentage,
                    )
                )
        if total_value is not None and not amount_flagged:
            if m.amount is not None and m.amount >= 0:
                committed += m.amount
            elif m.percentage is not None and m.percentage >= 0:
                committed += total_value * m.percentage / _HUNDRED
            if committed > total_value:
                amount_flagged = True
                out.append(
                    MilestoneViolation(
                        i,
                        stage,
                        f"milestones[{i}].amount",
                        f"milestones reach {committed} by this one, above the order total {total_value}",
                        committed,
                    )
                )
    return out


def check_milestones(milestones: Sequence[MilestoneRequest], total: Money | Decimal | None = None) -> None:
    """Raise a ValidationError naming the first offending milestone (all violations are in the message)."""
    problems = milestone_violations(milestones, total)
    if not problems:
        return
    first = problems[0]
    message = "; ".join(p.describe() for p in problems)
    raise ValidationError(f"milestones refused before sending: {message}", field=first.field, value=first.value)
