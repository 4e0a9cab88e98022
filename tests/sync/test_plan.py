from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest
from rich.console import Console

from billing_milestones import Milestone, MilestoneKey, MilestoneStatus, Money, Platform, Trigger
from billing_milestones.sync import (
    ActionKind,
    ConflictPolicy,
    Link,
    SyncPair,
    TriggerMap,
    plan_sync,
    sync_key_for,
)
from billing_milestones.sync.plan import source_fingerprint, target_fingerprint

D = dt.date(2026, 12, 1)
PAIR = SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900")


def src(i: int, amount: str = "100.00", title: str | None = None, **kw: object) -> Milestone:
    return Milestone(
        key=MilestoneKey(platform=Platform.AUTOTASK, id=str(i), container_id="77"),
        title=title or f"M{i}",
        amount=Money(amount, "USD"),
        due=D,
        **kw,
    )


def tgt(i: str, amount: str = "100.00", title: str = "M1", sync_key: str | None = None, **kw: object) -> Milestone:
    m = Milestone(
        key=MilestoneKey(platform=Platform.KANTATA, id=i, container_id="900"),
        title=title,
        amount=Money(amount, "USD"),
        due=D,
        **kw,
    )
    return m.with_sync_key(sync_key) if sync_key else m


def link_for(s: Milestone, t: Milestone) -> Link:
    assert s.key is not None and t.key is not None
    return Link(
        PAIR.id, sync_key_for(PAIR, s.key), str(s.key), str(t.key), source_fingerprint(s), target_fingerprint(t, PAIR)
    )


def kinds(plan: object) -> list[str]:
    return [a.kind.value for a in plan.actions]  # type: ignore[attr-defined]


def test_new_source_milestone_is_created_with_its_sync_key() -> None:
    s = src(1)
    plan = plan_sync(PAIR, [s], [])
    (action,) = plan.actions
    assert action.kind is ActionKind.CREATE
    assert action.desired is not None and action.desired.sync_key == sync_key_for(PAIR, s.key)  # type: ignore[arg-type]


def test_linked_and_equal_is_unchanged() -> None:
    s, t = src(1), tgt("5")
    plan = plan_sync(PAIR, [s], [t], [link_for(s, t)])
    assert kinds(plan) == ["unchanged"]
    assert plan.is_noop


def test_source_change_is_an_update_with_a_field_diff() -> None:
    s0, t = src(1), tgt("5")
    link = link_for(s0, t)
    s1 = src(1, amount="150.00")
    (action,) = plan_sync(PAIR, [s1], [t], [link]).actions
    assert action.kind is ActionKind.UPDATE
    assert [(d.field, str(d.current), str(d.desired)) for d in action.diff] == [("amount", "100.00 USD", "150.00 USD")]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (ConflictPolicy.REPORT, "conflict"),
        (ConflictPolicy.SOURCE_WINS, "update"),
        (ConflictPolicy.TARGET_WINS, "unchanged"),
    ],
)
def test_both_sides_changed_follows_the_policy(policy: ConflictPolicy, expected: str) -> None:
    s0, t0 = src(1), tgt("5")
    link = link_for(s0, t0)
    plan = plan_sync(PAIR, [src(1, amount="150.00")], [tgt("5", amount="120.00")], [link], policy=policy)
    assert kinds(plan) == [expected]


def test_target_only_edit_is_restored_unless_target_wins() -> None:
    s, t0 = src(1), tgt("5")
    link = link_for(s, t0)
    edited = tgt("5", title="renamed by a human")
    assert kinds(plan_sync(PAIR, [s], [edited], [link])) == ["update"]
    assert kinds(plan_sync(PAIR, [s], [edited], [link], policy=ConflictPolicy.TARGET_WINS)) == ["unchanged"]


def test_target_carrying_our_sync_key_is_adopted_not_created_again() -> None:
    s = src(1)
    key = sync_key_for(PAIR, s.key)  # type: ignore[arg-type]
    orphan = tgt("5", sync_key=key)
    (action,) = plan_sync(PAIR, [s], [orphan]).actions
    assert action.kind is ActionKind.ADOPT and "sync key" in action.reason and not action.diff


def test_exact_match_without_a_key_is_adopted_but_a_near_match_is_not() -> None:
    s = src(1)
    assert kinds(plan_sync(PAIR, [s], [tgt("5")])) == ["adopt"]
    assert kinds(plan_sync(PAIR, [s], [tgt("5", amount="100.01")])) == ["create"]


def test_locked_target_is_skipped() -> None:
    s0, t0 = src(1), tgt("5")
    link = link_for(s0, t0)
    billed = tgt("5", status=MilestoneStatus.BILLED, locked=True)
    (action,) = plan_sync(PAIR, [src(1, amount="1.00")], [billed], [link]).actions
    assert action.kind is ActionKind.SKIP_LOCKED


def test_untranslatable_milestone_is_a_conflict_with_the_reason() -> None:
    s = src(1, description="Kantata has nowhere to keep this")
    (action,) = plan_sync(PAIR, [s], []).actions
    assert action.kind is ActionKind.CONFLICT and "description" in action.reason
    allowed = SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900", allow_drop=True)
    (action,) = plan_sync(allowed, [s], []).actions
    assert action.kind is ActionKind.CREATE
    assert action.desired is not None and [c.kind.value for c in action.desired.changes] == ["dropped"]


def test_currency_mismatch_is_a_conflict_never_a_conversion() -> None:
    (action,) = plan_sync(PAIR, [src(1)], [], target_currency="JPY").actions
    assert action.kind is ActionKind.CONFLICT and "JPY" in action.reason


def test_deleted_source_deletes_target_or_conflicts_where_the_platform_forbids_it() -> None:
    s, t = src(1), tgt("5")
    link = link_for(s, t)
    other = src(9, title="Still there")  # one milestone gone from a source that still lists others
    assert kinds(plan_sync(PAIR, [other], [t], [link])) == ["create", "delete"]
    keep = SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900", delete_missing=False)
    kept = [dataclasses.replace(link, pair_id=keep.id)]
    assert kinds(plan_sync(keep, [other], [t], kept)) == ["create", "unchanged"]
    to_autotask = SyncPair(Platform.KANTATA, "900", Platform.AUTOTASK, "77")
    at = Milestone(
        key=MilestoneKey(platform=Platform.AUTOTASK, id="8", container_id="77"),
        title="A",
        amount=Money("1", "USD"),
        due=D,
    )
    ln = Link(to_autotask.id, "bmx", "kantata:900/1", str(at.key), "s", "t")
    remaining = Milestone(
        key=MilestoneKey(platform=Platform.KANTATA, id="2", container_id="900"),
        title="B",
        amount=Money("2", "USD"),
        due=D,
    )
    _, action = plan_sync(to_autotask, [remaining], [at], [ln]).actions
    assert action.kind is ActionKind.CONFLICT and "does not allow deleting" in action.reason


def test_deleted_on_target_is_a_conflict_under_report() -> None:
    s, t = src(1), tgt("5")
    assert kinds(plan_sync(PAIR, [s], [], [link_for(s, t)])) == ["conflict"]
    assert kinds(plan_sync(PAIR, [s], [], [link_for(s, t)], policy=ConflictPolicy.SOURCE_WINS)) == ["create"]


def test_stage_trigger_maps_to_story_and_unmapped_stage_is_a_conflict() -> None:
    pair = SyncPair(Platform.CRMCOM, "est-1", Platform.KANTATA, "900", triggers=TriggerMap({"stage-a": "41"}))

    def mk(stage: str) -> Milestone:
        return Milestone(
            key=MilestoneKey(platform=Platform.CRMCOM, id=f"est-1:{stage}", container_id="est-1"),
            title="Deposit",
            amount=Money("10.00", "USD"),
            percentage=Decimal("10"),
            trigger=Trigger.on_stage(stage),
        )

    plan = plan_sync(pair, [mk("stage-a"), mk("stage-b")], [])
    assert kinds(plan) == ["create", "conflict"]
    created = plan.actions[0].desired
    assert created is not None and created.trigger == Trigger.on_completion("41") and created.percentage is None
    assert "stage-b" in plan.actions[1].reason


def test_plan_renders_as_json_and_as_a_table() -> None:
    plan = plan_sync(PAIR, [src(1), src(2, description="x")], [])
    data = json.loads(plan.to_json_text())
    assert data["counts"]["create"] == 1 and data["counts"]["conflict"] == 1
    assert data["actions"][0]["title"] == "M1"
    console = Console(record=True, width=160)
    console.print(plan.table())
    text = console.export_text()
    assert "create" in text and "conflict" in text and "M2" in text


def test_a_billed_source_milestone_is_never_created_billable_on_the_target() -> None:
    billed = src(1, status=MilestoneStatus.BILLED, locked=True)
    plan = plan_sync(PAIR, [billed, src(2)], [])
    assert kinds(plan) == ["skip-locked", "create"]
    assert "billable again" in plan.actions[0].reason
    s0, t = src(3), tgt("5")
    gone = plan_sync(
        PAIR,
        [src(3, status=MilestoneStatus.BILLED, locked=True)],
        [],
        [link_for(s0, t)],
        policy=ConflictPolicy.SOURCE_WINS,
    )
    assert kinds(gone) == ["skip-locked"]
    assert plan_sync(PAIR, [billed], []).is_noop


def test_an_empty_source_never_deletes_every_linked_target_without_confirmation() -> None:
    s1, s2, t1, t2 = src(1), src(2), tgt("5"), tgt("6", title="M2")
    links = [link_for(s1, t1), link_for(s2, t2)]
    plan = plan_sync(PAIR, [], [t1, t2], links)
    assert kinds(plan) == ["conflict", "conflict"] and "listed no milestones" in plan.actions[0].reason
    confirmed = SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900", allow_empty_source=True)
    relinked = [dataclasses.replace(ln, pair_id=confirmed.id) for ln in links]
    assert kinds(plan_sync(confirmed, [], [t1, t2], relinked)) == ["delete", "delete"]
    assert kinds(plan_sync(PAIR, [s1], [t1, t2], links)) == ["unchanged", "delete"]  # one gone is ordinary
