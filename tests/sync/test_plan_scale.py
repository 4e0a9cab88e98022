"""The planner at scale: exact-match adoption is a lookup, the collector pause is undone, and the fast paths
(a translation built without re-validation, equal values compared without normalising) decide as before."""

from __future__ import annotations

import dataclasses
import gc
from decimal import Decimal

import pytest

from billing_milestones import Milestone, MilestoneKey, Money, Platform, errors
from billing_milestones.sync import ActionKind, plan_sync
from billing_milestones.sync import plan as plan_module
from billing_milestones.sync._rows import MilestoneRow
from billing_milestones.sync.translate import compare, translate

from .test_plan import PAIR, D, src


def _reversed_targets(n: int) -> tuple[list[Milestone], list[Milestone]]:
    source = [src(i, amount=f"{i}.00") for i in range(1, n + 1)]
    target = [
        Milestone(
            key=MilestoneKey(platform=Platform.KANTATA, id=str(5000 + i), container_id="900"),
            title=s.title,
            amount=s.amount,
            due=D,
        )
        for i, s in enumerate(reversed(source))
    ]
    return source, target


def test_exact_match_adoption_looks_targets_up_instead_of_scanning(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = plan_module.comparable  # type: ignore[attr-defined]

    def counted(*args: object, **kwargs: object) -> tuple[str, ...]:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(plan_module, "comparable", counted)
    source, target = _reversed_targets(300)
    plan = plan_sync(PAIR, source, target)
    assert [a.kind for a in plan.actions] == [ActionKind.ADOPT] * 300
    # each source paired with the target holding its own amount, not the first one listed
    assert all(a.source and a.target and a.source.amount == a.target.amount for a in plan.actions)
    assert len(calls) == 600  # one key per target indexed, one per source looked up: never n * n


@pytest.mark.parametrize("enabled", [True, False])
def test_planning_leaves_the_collector_as_it_found_it(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        plan_sync(PAIR, [src(1)], [])
        assert gc.isenabled() is enabled
        with pytest.raises(errors.DuplicateRecordError):
            plan_sync(PAIR, [src(1), src(1)], [])
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_the_collector_is_paused_while_planning(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    real = plan_module.translate_row  # type: ignore[attr-defined]

    def spy(*args: object, **kwargs: object) -> MilestoneRow:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(plan_module, "translate_row", spy)
    plan_sync(PAIR, [src(1), src(2)], [])
    assert seen == [False, False]


def test_a_translation_with_its_sync_key_equals_the_validated_model() -> None:
    s = src(1, description="text")
    pair = dataclasses.replace(PAIR, allow_drop=True)
    desired = translate(s, pair, sync_key="bm0123456789abcdef")
    validated = Milestone.model_validate(desired.model_dump())
    assert desired == validated and repr(desired) == repr(validated)
    assert desired.sync_key == "bm0123456789abcdef"
    assert desired.model_fields_set == {
        "title", "description", "amount", "percentage", "due", "trigger", "is_initial_payment", "changes",
        "external_refs",
    }  # fmt: skip
    assert [c.field for c in desired.changes] == ["description"]
    assert translate(s, pair).model_fields_set == desired.model_fields_set - {"external_refs"}
    assert translate(s, pair).external_refs == ()


@pytest.mark.parametrize(
    ("want", "have", "differs"),
    [
        (Money("0", "USD"), Money("-0", "USD"), True),  # equal amounts, but "-0" and "0" are stored apart
        (Money("-0", "USD"), Money("-0.00", "USD"), False),
        (Money("1.50", "USD"), Money("1.5", "USD"), False),
        (Money("0.00", "USD"), Money("0", "USD"), False),
        (Money("1.50", "USD"), Money("1.50", "EUR"), True),
    ],
)
def test_amounts_compare_by_their_normal_form(want: Money, have: Money, differs: bool) -> None:
    a, b = src(1, amount="1.00"), src(1, amount="1.00")
    a, b = a.model_copy(update={"amount": want}), b.model_copy(update={"amount": have})
    assert bool(compare(a, b, Platform.KANTATA)) is differs


@pytest.mark.parametrize(
    ("want", "have", "differs"),
    [
        (Decimal("0"), Decimal("-0"), True),
        (Decimal("-0"), Decimal("-0.0"), False),
        (Decimal("10"), Decimal("1E+1"), False),
    ],
)
def test_percentages_compare_by_their_normal_form(want: Decimal, have: Decimal, differs: bool) -> None:
    a = src(1).model_copy(update={"percentage": want})
    b = src(1).model_copy(update={"percentage": have})
    assert bool(compare(a, b, Platform.CRMCOM)) is differs


def test_titles_equal_but_for_spaces_are_no_difference() -> None:
    a, b = src(1, title="M1"), src(1, title=" M1 ")
    assert compare(a, b, Platform.KANTATA) == []
    assert [d.field for d in compare(a, src(1, title="M2"), Platform.KANTATA)] == ["title"]
