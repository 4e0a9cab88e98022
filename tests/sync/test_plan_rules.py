"""Planner rules from mutation testing's survivors (issue 17); one test per rule, public API only."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from billing_milestones import Milestone, MilestoneKey, MilestoneStatus, Money, Platform
from billing_milestones.sync import ActionKind, ConflictPolicy, Link, PlannedAction, SyncPair, plan_sync, sync_key_for
from billing_milestones.sync.plan import source_fingerprint, target_fingerprint

D = dt.date(2026, 12, 1)
PAIR = SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900")


def src(i: int, amount: str = "100.00") -> Milestone:
    key = MilestoneKey(platform=Platform.AUTOTASK, id=str(i), container_id="77")
    return Milestone(key=key, title=f"M{i}", amount=Money(amount, "USD"), due=D)


def tgt(i: str, amount: str = "100.00", title: str = "M1", *, locked: bool = False) -> Milestone:
    status = MilestoneStatus.BILLED if locked else MilestoneStatus.PLANNED
    key = MilestoneKey(platform=Platform.KANTATA, id=i, container_id="900")
    return Milestone(key=key, title=title, amount=Money(amount, "USD"), due=D, status=status, locked=locked)


def link_for(s: Milestone, t: Milestone, *, desired: Milestone | None = None) -> Link:
    assert s.key is not None and t.key is not None
    return Link(
        PAIR.id,
        sync_key_for(PAIR, s.key),
        str(s.key),
        str(t.key),
        source_fingerprint(s),
        target_fingerprint(t, PAIR),
        desired_fp=target_fingerprint(desired, PAIR) if desired is not None else "",
    )


def test_a_target_edited_outside_the_sync_is_restored_even_when_the_link_remembers_the_desired_state() -> None:
    s, t = src(1), tgt("5")
    link = link_for(s, t, desired=t)
    edited = tgt("5", amount="90.00")
    (action,) = plan_sync(PAIR, [s], [edited], [link]).actions
    assert action.kind is ActionKind.UPDATE
    assert action.reason == "target edited outside the sync; restoring the source"
    assert action.writes


def test_an_invoiced_target_whose_source_was_deleted_is_never_planned_for_deletion() -> None:
    s, t = src(1), tgt("5", locked=True)
    keep = tgt("6", title="M2")
    links = [link_for(s, t), link_for(src(2), keep)]
    actions = {
        a.target.key.id: a for a in plan_sync(PAIR, [src(2)], [t, keep], links).actions if a.target and a.target.key
    }
    assert actions["5"].kind is ActionKind.SKIP_LOCKED
    assert actions["5"].reason == "deleted in source, but the target is locked"
    assert not actions["5"].writes


def test_adopting_a_billed_target_that_differs_sends_nothing_to_it() -> None:
    s = src(1)
    assert s.key is not None
    billed = tgt("5", amount="90.00", locked=True).with_sync_key(sync_key_for(PAIR, s.key))
    (action,) = plan_sync(PAIR, [s], [billed]).actions
    assert action.kind is ActionKind.ADOPT and action.diff
    assert not action.writes


def test_a_delete_of_a_target_that_still_exists_is_a_write_and_forgetting_a_gone_one_is_not() -> None:
    s, t = src(1), tgt("5")
    keep_s, keep_t = src(2), tgt("6", title="M2")
    links = [link_for(s, t), link_for(keep_s, keep_t)]
    (delete,) = [a for a in plan_sync(PAIR, [keep_s], [t, keep_t], links).actions if a.kind is ActionKind.DELETE]
    assert delete.writes
    (forget,) = [a for a in plan_sync(PAIR, [keep_s], [keep_t], links).actions if a.kind is ActionKind.DELETE]
    assert not forget.writes and forget.reason == "gone on both sides; forgetting the link"


def test_a_linked_pair_off_delete_missing_keeps_the_target() -> None:
    s, t = src(1), tgt("5")
    keep_s, keep_t = src(2), tgt("6", title="M2")
    pair = dataclasses.replace(PAIR, delete_missing=False)
    links = [link_for(s, t), link_for(keep_s, keep_t)]
    actions = plan_sync(pair, [keep_s], [t, keep_t], links).actions
    assert not any(a.kind is ActionKind.DELETE for a in actions)


def shape(action: PlannedAction) -> tuple[str, str, str, str | None, str | None, bool, tuple[str, ...], bool]:
    """Everything a decision says: kind, key, reason, which source and target, a desired state, diff, link."""
    return (
        action.kind.value,
        action.sync_key,
        action.reason,
        action.source.key.id if action.source is not None and action.source.key is not None else None,
        action.target.key.id if action.target is not None and action.target.key is not None else None,
        action.desired is not None,
        tuple(d.field for d in action.diff),
        action.link is not None,
    )


def decisions() -> list[tuple[str, ConflictPolicy, list[Milestone], list[Milestone], list[Link], tuple[object, ...]]]:
    s1, t5 = src(1), tgt("5")
    moved, edited = src(1, amount="120.00"), tgt("5", amount="90.00")
    assert s1.key is not None
    key = sync_key_for(PAIR, s1.key)
    billed_source = s1.model_copy(update={"status": MilestoneStatus.BILLED, "locked": True})
    source_wins, target_wins, report = ConflictPolicy.SOURCE_WINS, ConflictPolicy.TARGET_WINS, ConflictPolicy.REPORT
    link = link_for(s1, t5)
    why_billed = "billed in the source; not created on the target, where it would be billable again"
    return [
        (
            "billed source",
            report,
            [billed_source],
            [],
            [],
            ("skip-locked", key, why_billed, "1", None, True, (), False),
        ),
        (
            "target deleted",
            report,
            [s1],
            [],
            [link],
            ("conflict", key, "deleted on the target since the last sync", "1", None, True, (), True),
        ),
        (
            "target deleted, source wins",
            source_wins,
            [s1],
            [],
            [link],
            ("create", key, "deleted on target; source wins", "1", None, True, (), True),
        ),
        (
            "target billed",
            report,
            [moved],
            [tgt("5", locked=True)],
            [link],
            ("skip-locked", key, "target is billed/invoiced and locked", "1", "5", True, ("amount",), True),
        ),
        (
            "both changed",
            report,
            [moved],
            [edited],
            [link],
            ("conflict", key, "both sides changed since the last sync", "1", "5", True, ("amount",), True),
        ),
        (
            "both changed, source wins",
            source_wins,
            [moved],
            [edited],
            [link],
            ("update", key, "both changed; source wins", "1", "5", True, ("amount",), True),
        ),
        (
            "both changed, target wins",
            target_wins,
            [moved],
            [edited],
            [link],
            ("unchanged", key, "both changed; target wins", "1", "5", True, (), True),
        ),
        (
            "target edited, target wins",
            target_wins,
            [s1],
            [edited],
            [link],
            ("unchanged", key, "target edited; target wins", "1", "5", True, (), True),
        ),
        (
            "accepted difference",
            report,
            [s1],
            [edited],
            [link_for(s1, edited, desired=t5)],
            (
                "unchanged",
                key,
                "differs from the source as accepted at the last sync (target-wins)",
                "1",
                "5",
                True,
                (),
                True,
            ),
        ),
        (
            "translation changed",
            report,
            [s1],
            [edited],
            [link_for(s1, edited, desired=edited)],
            ("update", key, "the pair's translation changed since the last sync", "1", "5", True, ("amount",), True),
        ),
    ]


@pytest.mark.parametrize(
    ("name", "policy", "source", "target", "links", "expected"), decisions(), ids=[d[0] for d in decisions()]
)
def test_each_decision_names_its_reason_sides_desired_state_diff_and_link(
    name: str,
    policy: ConflictPolicy,
    source: list[Milestone],
    target: list[Milestone],
    links: list[Link],
    expected: tuple[object, ...],
) -> None:
    (action,) = [a for a in plan_sync(PAIR, source, target, links, policy=policy).actions if a.sync_key == expected[1]]
    assert shape(action) == expected, name


def test_allowing_an_empty_source_does_not_lift_the_mass_delete_guard_for_a_listed_one() -> None:
    from .test_plan import PAIR, link_for, src, tgt

    pair = dataclasses.replace(PAIR, allow_empty_source=True)
    kept, gone = src(1), [src(i) for i in (2, 3, 4)]
    targets = [tgt(str(10 + i)) for i in range(4)]
    links = [dataclasses.replace(link_for(s, t), pair_id=pair.id) for s, t in zip([kept, *gone], targets, strict=True)]
    plan = plan_sync(pair, [kept], targets, links)
    assert [a.kind.value for a in plan.actions if a.source is None] == ["conflict"] * 3
    assert plan.notes and "mass-delete guard" in plan.notes[0]


def test_an_unconfirmed_empty_source_names_each_kept_milestone_by_its_sync_key() -> None:
    from .test_plan import PAIR, link_for, src, tgt

    s, t = src(1), tgt("10")
    link = link_for(s, t)
    (action,) = plan_sync(PAIR, [], [t], [link]).actions
    assert action.kind.value == "conflict" and action.sync_key == link.sync_key
