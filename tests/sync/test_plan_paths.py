"""The planner's orphan, outside-the-set, empty-source and currency paths, pinned as tables (issue 17)."""

from __future__ import annotations

import dataclasses

import pytest

from billing_milestones import Milestone, MilestoneKey, Money, Platform, Trigger, errors
from billing_milestones.sync import ActionKind, SyncPair, plan_sync

from .test_plan import PAIR, link_for, src, tgt


def _row(plan: object) -> list[tuple[str, str, str, str | None]]:
    return [
        (a.kind.value, a.sync_key, a.reason, str(a.target.key) if a.target and a.target.key else None)
        for a in plan.actions  # type: ignore[attr-defined]
    ]


@pytest.mark.parametrize(
    ("pair", "target_kw", "target_gone", "expected"),
    [
        (PAIR, {}, True, ("delete", "gone on both sides; forgetting the link", None)),
        (
            dataclasses.replace(PAIR, delete_missing=False),
            {},
            False,
            ("unchanged", "deleted in source; delete_missing is off", "kantata:900/5"),
        ),
        (
            PAIR,
            {"locked": True},
            False,
            ("skip-locked", "deleted in source, but the target is locked", "kantata:900/5"),
        ),
        (PAIR, {}, False, ("delete", "deleted in source", "kantata:900/5")),
    ],
)
def test_each_orphan_path_names_its_kind_reason_and_target(
    pair: SyncPair, target_kw: dict[str, object], target_gone: bool, expected: tuple[str, str, str | None]
) -> None:
    s, t = src(1), tgt("5", **target_kw)  # type: ignore[arg-type]
    link = dataclasses.replace(link_for(s, t), pair_id=pair.id)
    other = src(9, title="Still there")
    plan = plan_sync(pair, [other], [] if target_gone else [t], [link])
    orphan = next(r for r in _row(plan) if r[1] == link.sync_key)
    assert (orphan[0], orphan[2], orphan[3]) == expected


def test_an_orphan_on_a_platform_without_delete_is_a_conflict_saying_so() -> None:
    pair = SyncPair(Platform.KANTATA, "900", Platform.AUTOTASK, "77")
    t = Milestone(
        key=MilestoneKey(platform=Platform.AUTOTASK, id="5", container_id="77"),
        title="M1",
        amount=Money("1.00", "USD"),
        due="2027-01-01",
    )
    from billing_milestones.sync import Link

    link = Link(pair.id, "bmkey", "kantata:900/1", str(t.key), "s", "t")
    (action,) = [a for a in plan_sync(pair, [], [t], [link]).actions]
    assert action.kind is ActionKind.CONFLICT  # empty source: the guard speaks first
    still = Milestone(
        key=MilestoneKey(platform=Platform.KANTATA, id="2", container_id="900"),
        title="X",
        amount=Money("1.00", "USD"),
        due="2027-01-01",
    )
    orphan = next(a for a in plan_sync(pair, [still], [t], [link]).actions if a.sync_key == "bmkey")
    assert (orphan.kind, orphan.reason) == (
        ActionKind.CONFLICT,
        "deleted in source, but autotask does not allow deleting milestones",
    )


def test_an_empty_source_asks_for_confirmation_by_name() -> None:
    s, t = src(1), tgt("5")
    (action,) = plan_sync(PAIR, [], [t], [link_for(s, t)]).actions
    assert action.kind is ActionKind.CONFLICT
    assert action.reason == (
        "the source listed no milestones at all while 1 are linked; deleting them all needs confirming "
        "(allow_empty_source on the pair)"
    )


def _stage_target(stage: str, amount: str = "10.00") -> Milestone:
    return Milestone(
        key=MilestoneKey(platform=Platform.CRMCOM, id=f"est:{stage}", container_id="est"),
        title=stage,
        amount=Money(amount, "USD"),
        trigger=Trigger.on_stage(stage),
    )


@pytest.mark.parametrize(
    ("delete_missing", "unsure", "expected"),
    [
        (
            True,
            False,
            ("delete", "unlinked:est:s2", "crm.com takes the whole set and the source has no milestone for this stage"),
        ),
        (
            False,
            False,
            ("unchanged", "unlinked:est:s2", "not in the source; kept in the set because delete_missing is off"),
        ),
        (
            True,
            True,
            (
                "unchanged",
                "unlinked:est:s2",
                "kept: a source milestone could not be translated, so which stages it covers is unknown",
            ),
        ),
    ],
)
def test_a_stage_outside_the_source_set_is_named_with_its_reason(
    delete_missing: bool, unsure: bool, expected: tuple[str, str, str]
) -> None:
    from billing_milestones.sync import TriggerMap

    pair = SyncPair(
        Platform.KANTATA,
        "900",
        Platform.CRMCOM,
        "est",
        delete_missing=delete_missing,
        triggers=TriggerMap(stage_to_story={"s1": "41"}),
    )
    sources = [
        Milestone(
            key=MilestoneKey(platform=Platform.KANTATA, id="1", container_id="900"),
            title="A",
            amount=Money("10.00", "USD"),
            trigger=Trigger.on_completion("41"),
        )
    ]
    if unsure:
        sources.append(
            Milestone(
                key=MilestoneKey(platform=Platform.KANTATA, id="2", container_id="900"),
                title="B",
                amount=Money("5.00", "USD"),
                trigger=Trigger.on_completion("99"),  # no stage for this story: a conflict
            )
        )
    rows = _row(plan_sync(pair, sources, [_stage_target("s1"), _stage_target("s2")]))
    outside = next(r for r in rows if r[1].startswith("unlinked:"))
    assert outside[:3] == expected and outside[3] == "crmcom:est/est:s2"


def test_a_keyless_milestone_does_not_stop_the_repeat_check() -> None:
    keyless = Milestone(title="draft", amount=Money("1.00", "USD"), due="2027-01-01")
    with pytest.raises(errors.DuplicateRecordError):
        plan_sync(PAIR, [src(1)], [keyless, tgt("5"), tgt("5")])


def test_the_target_currency_comes_from_its_milestones_when_they_agree() -> None:
    euro = Milestone(
        key=MilestoneKey(platform=Platform.AUTOTASK, id="3", container_id="77"),
        title="E",
        amount=Money("1.00", "EUR"),
        due="2027-01-01",
    )
    (action,) = plan_sync(PAIR, [euro], [tgt("5")]).actions  # the target bills in USD only
    assert action.kind is ActionKind.CONFLICT and "bills in USD" in action.reason
    mixed = [
        tgt("5"),
        Milestone(
            key=MilestoneKey(platform=Platform.KANTATA, id="6", container_id="900"),
            title="Y",
            amount=Money("1.00", "EUR"),
            due="2027-01-01",
        ),
    ]
    kinds = {a.kind for a in plan_sync(PAIR, [euro], mixed).actions}
    assert ActionKind.CREATE in kinds  # two currencies: none assumed, nothing refused on that ground


def test_two_identical_sources_never_adopt_the_same_target() -> None:
    """Monthly instalments share title, amount and date: one exact match is adopted once, the twin created."""
    first, second = src(1), src(2, title="M1")
    only = tgt("5", title="M1")
    kinds = sorted(a.kind.value for a in plan_sync(PAIR, [first, second], [only]).actions)
    assert kinds == ["adopt", "create"]


def test_the_reasons_a_script_reads_for_new_adopted_and_in_step_milestones() -> None:
    from billing_milestones.sync import sync_key_for

    s = src(1)
    key = sync_key_for(PAIR, s.key)  # type: ignore[arg-type]
    (create,) = plan_sync(PAIR, [s], []).actions
    assert create.reason == "new in source"
    (by_key,) = plan_sync(PAIR, [s], [tgt("5", sync_key=key)]).actions
    assert by_key.reason == "target milestone carries our sync key; linking it"
    (by_match,) = plan_sync(PAIR, [s], [tgt("5")]).actions
    assert by_match.reason == "target milestone matches exactly; linking it and marking it with our sync key"
    (by_key_differs,) = plan_sync(PAIR, [s], [tgt("5", amount="90.00", sync_key=key)]).actions
    assert by_key_differs.reason == "target milestone carries our sync key; linking it and updating it"
    t = tgt("5", sync_key=key)
    (in_step,) = plan_sync(PAIR, [s], [t], [link_for(s, t)]).actions
    assert (in_step.kind, in_step.reason) == (ActionKind.UNCHANGED, "in step")


def test_a_billed_source_without_a_target_keeps_its_link_in_the_plan() -> None:
    billed = src(1, status="billed", locked=True)
    gone = tgt("5")
    link = link_for(billed, gone)
    (action,) = plan_sync(PAIR, [billed], [], [link]).actions
    assert action.kind is ActionKind.SKIP_LOCKED and action.link == link


def test_a_difference_with_neither_side_changed_says_whether_the_translation_changed() -> None:
    import dataclasses as dc

    s, t = src(1), tgt("5", amount="90.00")
    plain = link_for(s, t)
    (first,) = plan_sync(PAIR, [s], [t], [plain]).actions
    assert (first.kind, first.reason) == (ActionKind.UPDATE, "differs from the source")
    remembered = dc.replace(plain, desired_fp="an-older-translation")
    (second,) = plan_sync(PAIR, [s], [t], [remembered]).actions
    assert (second.kind, second.reason) == (ActionKind.UPDATE, "the pair's translation changed since the last sync")
