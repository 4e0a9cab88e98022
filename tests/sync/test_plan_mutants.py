"""Planner rules the mutation run found unchecked (sync/plan.py): what a duplicate finding says and carries,
and that every action the planner takes about a link carries that link and the target it is about."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from billing_milestones import Milestone, MilestoneKey, MilestoneStatus, Money, Platform, errors
from billing_milestones.sync import ActionKind, ConflictPolicy, Link, PlannedAction, SyncPair, plan_sync, sync_key_for
from billing_milestones.sync.plan import source_fingerprint, target_fingerprint

D = dt.date(2026, 12, 1)
PAIR = SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900")
TO_AUTOTASK = SyncPair(Platform.KANTATA, "900", Platform.AUTOTASK, "77", fix_duplicates=True)


def src(i: int, title: str | None = None) -> Milestone:
    key = MilestoneKey(platform=Platform.AUTOTASK, id=str(i), container_id="77")
    return Milestone(key=key, title=title or f"M{i}", amount=Money("100.00", "USD"), due=D)


def tgt(i: str, sync_key: str | None = None, title: str = "M1", **kw: object) -> Milestone:
    key = MilestoneKey(platform=Platform.KANTATA, id=i, container_id="900")
    m = Milestone(key=key, title=title, amount=Money("100.00", "USD"), due=D, **kw)
    return m.with_sync_key(sync_key) if sync_key else m


def link_for(s: Milestone, t: Milestone) -> Link:
    assert s.key is not None and t.key is not None
    return Link(
        PAIR.id, sync_key_for(PAIR, s.key), str(s.key), str(t.key), source_fingerprint(s), target_fingerprint(t, PAIR)
    )


def _kantata(i: int) -> Milestone:
    return Milestone(
        key=MilestoneKey(platform=Platform.KANTATA, id=str(i), container_id="900"),
        title=f"K{i}",
        amount=Money("1.00", "USD"),
        due=D,
    )


def _autotask(i: str, sync_key: str | None = None) -> Milestone:
    m = Milestone(
        key=MilestoneKey(platform=Platform.AUTOTASK, id=i, container_id="77"),
        title="K1",
        amount=Money("1.00", "USD"),
        due=D,
    )
    return m.with_sync_key(sync_key) if sync_key else m


# -- duplicates -------------------------------------------------------------------------------------------
def test_a_duplicate_names_the_copy_that_is_kept_in_every_case() -> None:
    s = src(1)
    key = sync_key_for(PAIR, s.key)  # type: ignore[arg-type]
    keeper, extra = tgt("500", sync_key=key), tgt("501", sync_key=key)
    (dup,) = plan_sync(PAIR, [s], [keeper, extra]).duplicates
    assert dup.reason == "another copy of kantata:900/500 (same sync key); remove it with --fix-duplicates"
    assert dup.target is extra and not dup.fix
    fixing = dataclasses.replace(PAIR, fix_duplicates=True)
    (dup,) = plan_sync(fixing, [s], [keeper, extra]).duplicates
    assert dup.reason == "another copy of kantata:900/500 (same sync key); removing it (fix_duplicates)"
    assert dup.fix is True and dup.to_json()["writes"] is True
    billed = tgt("502", sync_key=key, status=MilestoneStatus.BILLED, locked=True)
    dups = plan_sync(fixing, [s], [billed, keeper]).duplicates
    assert [d.target.key.id for d in dups] == ["500"]  # type: ignore[union-attr]  # the billed one is kept
    assert dups[0].reason.startswith("another copy of kantata:900/502 (same sync key)")


def test_a_duplicate_on_a_platform_without_delete_is_reported_with_writes_false_in_the_json() -> None:
    s = _kantata(1)
    key = sync_key_for(TO_AUTOTASK, s.key)  # type: ignore[arg-type]
    (dup,) = plan_sync(TO_AUTOTASK, [s], [_autotask("8", key), _autotask("9", key)]).duplicates
    assert dup.reason == (
        "another copy of autotask:77/8 (same sync key); autotask cannot delete milestones: remove it by hand"
    )
    assert dup.fix is False and dup.writes is False
    assert dup.to_json()["writes"] is False  # false, never null: a script tests it as a boolean


def test_a_billed_duplicate_is_never_fixed_and_names_the_kept_copy() -> None:
    s = src(1)
    key = sync_key_for(PAIR, s.key)  # type: ignore[arg-type]
    billed = tgt("501", sync_key=key, status=MilestoneStatus.BILLED, locked=True)
    fixing = dataclasses.replace(PAIR, fix_duplicates=True)
    (dup,) = plan_sync(fixing, [s], [tgt("500", sync_key=key), billed], [link_for(s, tgt("500"))]).duplicates
    assert dup.target is billed and dup.fix is False and dup.to_json()["writes"] is False
    assert (
        dup.reason == "another copy of kantata:900/500 (same sync key), billed: it cannot be removed; check the invoice"
    )


# -- orphans: the link and the target ride on the action --------------------------------------------------
def _orphan(pair: SyncPair, link: Link, target: list[Milestone], still: Milestone) -> PlannedAction:
    return next(a for a in plan_sync(pair, [still], target, [link]).actions if a.sync_key == link.sync_key)


@pytest.mark.parametrize(
    ("pair", "target_kw", "gone", "kind"),
    [
        (PAIR, {}, True, ActionKind.DELETE),
        (dataclasses.replace(PAIR, delete_missing=False), {}, False, ActionKind.UNCHANGED),
        (PAIR, {"status": MilestoneStatus.BILLED, "locked": True}, False, ActionKind.SKIP_LOCKED),
        (PAIR, {}, False, ActionKind.DELETE),
    ],
)
def test_an_orphan_action_carries_its_link_and_its_target(
    pair: SyncPair, target_kw: dict[str, object], gone: bool, kind: ActionKind
) -> None:
    s, t = src(1), tgt("5", **target_kw)  # type: ignore[arg-type]
    link = dataclasses.replace(link_for(s, t), pair_id=pair.id)
    action = _orphan(pair, link, [] if gone else [t], src(9, title="Still there"))
    assert action.kind is kind
    assert action.link == link
    assert action.target is (None if gone else t)


def test_an_orphan_the_platform_cannot_delete_is_a_conflict_naming_its_target_and_link() -> None:
    t = _autotask("5")
    link = Link(TO_AUTOTASK.id, "bmkey", "kantata:900/1", str(t.key), "s", "t")
    action = _orphan(TO_AUTOTASK, link, [t], _kantata(2))
    assert action.kind is ActionKind.CONFLICT
    assert action.link == link and action.target is t and action.source is None
    assert action.to_json()["target"] == "autotask:77/5"


@pytest.mark.parametrize(
    ("source_amount", "target_amount", "reason"),
    [
        ("150.00", "100.00", "changed in source"),
        ("100.00", "120.00", "target edited outside the sync; restoring the source"),
    ],
)
def test_an_update_of_a_linked_milestone_carries_its_link(source_amount: str, target_amount: str, reason: str) -> None:
    s, t = src(1), tgt("5")
    link = link_for(s, t)
    changed_s = s.model_copy(update={"amount": Money(source_amount, "USD")})
    changed_t = t.model_copy(update={"amount": Money(target_amount, "USD")})
    (action,) = plan_sync(PAIR, [changed_s], [changed_t], [link]).actions
    assert (action.kind, action.reason) == (ActionKind.UPDATE, reason)
    assert action.link == link and action.target is changed_t and action.source is changed_s


# -- refusals and guards say what and where ---------------------------------------------------------------
def test_a_repeated_source_record_is_refused_naming_the_source_side() -> None:
    with pytest.raises(errors.DuplicateRecordError, match=r"^the source listing holds autotask:77/1 twice;"):
        plan_sync(PAIR, [src(1), src(1)], [])


def test_a_source_milestone_without_a_key_is_refused_by_field() -> None:
    keyless = Milestone(title="M", amount=Money("1.00", "USD"), due=D)
    with pytest.raises(errors.TranslationError) as info:
        plan_sync(PAIR, [keyless], [])
    assert info.value.field == "key"
    assert str(info.value).startswith("source milestones must carry their key (read them from a client)")


def test_deletes_refused_by_the_mass_delete_guard_keep_their_reason_and_name_the_guard() -> None:
    sources = [src(i) for i in range(1, 5)]
    targets = [tgt(str(10 + i)) for i in range(1, 5)]
    links = [link_for(s, t) for s, t in zip(sources, targets, strict=True)]
    plan = plan_sync(PAIR, sources[:1], targets, links)  # three of four linked milestones gone from the source
    note = (
        "mass-delete guard: this plan would delete 3 of the 4 linked milestones, more than 50%; nothing is "
        "deleted. If the source really lost them, allow it with --allow-mass-delete (or allow_mass_delete / "
        "max_delete_share on the pair)"
    )
    assert plan.notes == (note,)
    refused = [a for a in plan.actions if a.kind is ActionKind.CONFLICT]
    assert [a.reason for a in refused] == [f"deleted in source; not deleted: {note}"] * 3

    assert [a.link for a in refused] == links[1:]  # each refused delete still carries the link it is about


def test_a_listing_of_two_containers_is_refused_for_a_repeated_whole_key_only() -> None:
    """Rows of several containers are checked by whole key: one native id in two containers is two
    milestones, the same key twice is a repeat."""
    other = src(1).model_copy(update={"key": MilestoneKey(platform=Platform.AUTOTASK, id="1", container_id="78")})
    plan = plan_sync(PAIR, [src(1), other], [])
    assert [a.kind for a in plan.actions] == [ActionKind.CREATE, ActionKind.CREATE]
    with pytest.raises(errors.DuplicateRecordError) as info:
        plan_sync(PAIR, [src(1), other, src(1)], [])
    assert info.value.key == "autotask:77/1"


# -- which target a source milestone is matched with ------------------------------------------------------
def test_a_linked_target_is_never_adopted_by_another_source_listed_before_its_own() -> None:
    s1, t = src(1), tgt("5")  # t carries no sync key (removed by hand, or written before keys existed)
    twin = src(2, title="M1")  # identical to t in every stored field
    (first, second) = plan_sync(PAIR, [twin, s1], [t], [link_for(s1, t)]).actions
    assert (first.kind, first.target) == (ActionKind.CREATE, None)
    assert (second.kind, second.target) == (ActionKind.UNCHANGED, t)


def test_a_linked_target_without_our_key_is_found_by_its_link_while_others_carry_keys() -> None:
    s1, t = src(1), tgt("5")
    s2 = src(2)
    other = tgt("6", title="M2", sync_key=sync_key_for(PAIR, s2.key))  # type: ignore[arg-type]
    actions = plan_sync(PAIR, [s1, s2], [t, other], [link_for(s1, t)]).actions
    assert [(a.kind, a.target) for a in actions] == [(ActionKind.UNCHANGED, t), (ActionKind.ADOPT, other)]


def test_an_untranslatable_linked_milestone_is_a_conflict_naming_its_target_and_link() -> None:
    s, t = src(1), tgt("5")
    link = link_for(s, t)
    untranslatable = s.model_copy(update={"description": "Kantata has nowhere to keep this"})
    (action,) = plan_sync(PAIR, [untranslatable], [t], [link]).actions
    assert action.kind is ActionKind.CONFLICT and action.reason.startswith("cannot translate: description")
    assert action.target is t and action.link == link and action.to_json()["target"] == "kantata:900/5"


def test_a_repeated_record_says_why_nothing_is_planned() -> None:
    with pytest.raises(errors.DuplicateRecordError) as info:
        plan_sync(PAIR, [], [tgt("5"), tgt("5")])
    assert str(info.value) == (
        "the target listing holds kantata:900/5 twice; a page boundary moved or the server repeated a "
        "record, so nothing is planned from it (run again)"
    )


def test_an_empty_source_conflict_names_the_link_its_target_and_no_source() -> None:
    s, t = src(1), tgt("5")
    link = link_for(s, t)
    (action,) = plan_sync(PAIR, [], [t], [link]).actions
    assert (action.kind, action.sync_key, action.source, action.target, action.link) == (
        ActionKind.CONFLICT,
        link.sync_key,
        None,
        t,
        link,
    )


def test_allow_empty_source_does_not_switch_off_the_mass_delete_guard_for_a_source_that_lists_milestones() -> None:
    pair = dataclasses.replace(PAIR, allow_empty_source=True)
    sources = [src(i) for i in range(1, 5)]
    targets = [tgt(str(10 + i)) for i in range(1, 5)]
    links = [dataclasses.replace(link_for(s, t), pair_id=pair.id) for s, t in zip(sources, targets, strict=True)]
    plan = plan_sync(pair, sources[:1], targets, links)
    assert plan.counts()["delete"] == 0 and plan.counts()["conflict"] == 3 and plan.notes


@pytest.mark.parametrize("policy", list(ConflictPolicy))
def test_the_plan_records_the_policy_it_was_made_under(policy: ConflictPolicy) -> None:
    plan = plan_sync(PAIR, [src(1)], [], policy=policy)
    assert plan.policy is policy and plan.to_json()["policy"] == policy.value
