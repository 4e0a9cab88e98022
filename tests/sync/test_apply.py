from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing_milestones import Milestone, MilestoneKey, Money, Platform, Trigger, errors
from billing_milestones.sync import (
    ActionKind,
    ActionResult,
    ConflictPolicy,
    LinkStore,
    SyncPair,
    TriggerMap,
    apply_plan,
    load_sides,
    plan_sync,
)

from .fakes import CrashAfter, FakeSetView, FakeView

D = dt.date(2026, 12, 1)


def seeded(n: int) -> tuple[FakeView, FakeView, SyncPair]:
    source, target = FakeView(Platform.AUTOTASK), FakeView(Platform.KANTATA)
    for i in range(n):
        source.add("77", Milestone(title=f"Phase {i}", amount=Money(f"{100 + i}.25", "USD"), due=D))
    return source, target, SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900")


def run(pair: SyncPair, source: FakeView, target: FakeView, store: LinkStore, **kw: object) -> object:
    views = {Platform.AUTOTASK: source, Platform.KANTATA: target, Platform.CRMCOM: target}
    src, tgt = load_sides(pair, views)
    plan = plan_sync(pair, src, tgt, store)
    return apply_plan(plan, views, store, **kw)  # type: ignore[arg-type]


def business(view: FakeView, container: str) -> list[tuple[str, str]]:
    return sorted((m.title, str(m.amount)) for m in view.data.get(container, {}).values())


def test_sync_then_second_run_plans_only_unchanged() -> None:
    source, target, pair = seeded(5)
    store = LinkStore(":memory:")
    result = run(pair, source, target, store)
    assert result.ok and result.writes == 5  # type: ignore[attr-defined]
    assert business(target, "900") == business(source, "77")
    src, tgt = load_sides(pair, {Platform.AUTOTASK: source, Platform.KANTATA: target})
    again = plan_sync(pair, src, tgt, store)
    assert again.is_noop and again.counts()["unchanged"] == 5


def test_dry_run_writes_nothing_and_records_no_link() -> None:
    source, target, pair = seeded(3)
    store = LinkStore(":memory:")
    result = run(pair, source, target, store, dry_run=True)
    assert result.writes == 0 and target.data == {} and store.links(pair.id) == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("crash_after", [0, 1, 3, 6])
def test_crash_after_n_writes_resumes_without_duplicates(crash_after: int) -> None:
    source, target, pair = seeded(7)
    store = LinkStore(":memory:")
    written = 0

    def die(r: ActionResult) -> None:
        nonlocal written
        written += r.wrote
        if written > crash_after:
            raise CrashAfter

    with pytest.raises(CrashAfter):
        run(pair, source, target, store, progress=die)
    run(pair, source, target, store)
    assert business(target, "900") == business(source, "77")
    assert len(target.data["900"]) == 7
    assert store.pending(pair.id) == []


def test_lost_create_response_is_recovered_by_sync_key_in_the_same_run() -> None:
    source, target, pair = seeded(4)
    target.drop_next_create = True
    store = LinkStore(":memory:")
    result = run(pair, source, target, store)
    assert result.ok, result.failures  # type: ignore[attr-defined]
    assert len(target.data["900"]) == 4 and len(store.links(pair.id)) == 4
    assert target.calls.count("list") == 2  # the initial read and the recovery lookup


def test_source_update_and_delete_are_applied() -> None:
    source, target, pair = seeded(3)
    store = LinkStore(":memory:")
    run(pair, source, target, store)
    first, second, _ = list(source.data["77"].values())
    source.data["77"][first.key.id] = first.model_copy(update={"amount": Money("999.00", "USD")})  # type: ignore[union-attr]
    del source.data["77"][second.key.id]  # type: ignore[union-attr]
    result = run(pair, source, target, store)
    assert result.count(ActionKind.UPDATE) == 1 and result.count(ActionKind.DELETE) == 1  # type: ignore[attr-defined]
    assert business(target, "900") == business(source, "77")


def test_conflicts_are_reported_and_nothing_is_overwritten() -> None:
    source, target, pair = seeded(1)
    store = LinkStore(":memory:")
    run(pair, source, target, store)
    (s,) = source.data["77"].values()
    (t,) = target.data["900"].values()
    source.data["77"][s.key.id] = s.model_copy(update={"title": "Source edit"})  # type: ignore[union-attr]
    target.data["900"][t.key.id] = t.model_copy(update={"title": "Target edit"})  # type: ignore[union-attr]
    result = run(pair, source, target, store)
    assert not result.ok and len(result.plan.conflicts) == 1  # type: ignore[attr-defined]
    assert [m.title for m in target.data["900"].values()] == ["Target edit"]


def test_set_semantics_target_gets_one_write_per_run() -> None:
    source = FakeView(Platform.KANTATA)
    for story, amount in (("41", "30.00"), ("42", "70.00")):
        source.add(
            "900", Milestone(title=f"S{story}", amount=Money(amount, "EUR"), trigger=Trigger.on_completion(story))
        )
    target = FakeSetView(Platform.CRMCOM)
    pair = SyncPair(
        Platform.KANTATA, "900", Platform.CRMCOM, "est-1", triggers=TriggerMap({"st-a": "41", "st-b": "42"})
    )
    store = LinkStore(":memory:")
    views = {Platform.KANTATA: source, Platform.CRMCOM: target}
    src, tgt = load_sides(pair, views)
    result = apply_plan(plan_sync(pair, src, tgt, store), views, store)
    assert result.ok and target.calls.count("replace:2") == 1
    assert sorted((m.trigger.ref, str(m.amount)) for m in target.data["est-1"].values()) == [
        ("st-a", "30.00 EUR"),
        ("st-b", "70.00 EUR"),
    ]
    src, tgt = load_sides(pair, views)
    assert plan_sync(pair, src, tgt, store).is_noop


def test_percentage_only_source_cannot_reach_a_platform_that_needs_amounts() -> None:
    source = FakeView(Platform.CRMCOM)
    source.add(
        "est-1",
        Milestone(key=None, title="Deposit", percentage=Decimal("20"), trigger=Trigger.on_stage("st-a")),
    )
    pair = SyncPair(Platform.CRMCOM, "est-1", Platform.KANTATA, "900", triggers=TriggerMap({"st-a": "41"}))
    src, _ = load_sides(pair, {Platform.CRMCOM: source, Platform.KANTATA: FakeView(Platform.KANTATA)})
    (action,) = plan_sync(pair, src, []).actions
    assert action.kind is ActionKind.CONFLICT and "percentage" in action.reason
    assert isinstance(src[0].key, MilestoneKey)


@pytest.mark.parametrize(("delete_missing", "expected"), [(True, ["st-a"]), (False, ["st-a", "st-z"])])
def test_a_crmcom_stage_outside_the_source_is_planned_not_dropped_silently(
    delete_missing: bool, expected: list[str]
) -> None:
    source = FakeView(Platform.KANTATA)
    source.add("900", Milestone(title="S41", amount=Money("30.00", "EUR"), trigger=Trigger.on_completion("41")))
    target = FakeSetView(Platform.CRMCOM)
    target.replace("est-1", [Milestone(title="Other", amount=Money("5.00", "EUR"), trigger=Trigger.on_stage("st-z"))])
    pair = SyncPair(
        Platform.KANTATA,
        "900",
        Platform.CRMCOM,
        "est-1",
        triggers=TriggerMap({"st-a": "41"}),
        delete_missing=delete_missing,
    )
    store = LinkStore(":memory:")
    views = {Platform.KANTATA: source, Platform.CRMCOM: target}
    src, tgt = load_sides(pair, views)
    plan = plan_sync(pair, src, tgt, store)
    outside = [a for a in plan.actions if a.source is None]
    assert [a.kind for a in outside] == [ActionKind.DELETE if delete_missing else ActionKind.UNCHANGED]
    assert "whole set" in outside[0].reason or "delete_missing" in outside[0].reason
    assert apply_plan(plan, views, store).ok
    assert sorted(m.trigger.ref or "" for m in target.data["est-1"].values()) == expected


def test_crmcom_target_same_stage_is_adopted_and_updated_not_created_beside_a_delete() -> None:
    source = FakeView(Platform.KANTATA)
    source.add("900", Milestone(title="S41", amount=Money("30.00", "EUR"), trigger=Trigger.on_completion("41")))
    target = FakeSetView(Platform.CRMCOM)
    target.replace("est-1", [Milestone(title="Old", amount=Money("25.00", "EUR"), trigger=Trigger.on_stage("st-a"))])
    pair = SyncPair(Platform.KANTATA, "900", Platform.CRMCOM, "est-1", triggers=TriggerMap({"st-a": "41"}))
    store = LinkStore(":memory:")
    views = {Platform.KANTATA: source, Platform.CRMCOM: target}
    src, tgt = load_sides(pair, views)
    plan = plan_sync(pair, src, tgt, store)
    assert [a.kind for a in plan.actions] == [ActionKind.ADOPT]
    assert [d.field for d in plan.actions[0].diff] == ["amount"]
    assert apply_plan(plan, views, store).ok
    assert [(m.trigger.ref, str(m.amount)) for m in target.data["est-1"].values()] == [("st-a", "30.00 EUR")]


def test_crmcom_target_keeps_its_stages_while_a_source_milestone_is_a_conflict() -> None:
    source = FakeView(Platform.AUTOTASK)
    source.add("77", Milestone(title="Dated", amount=Money("10.00", "EUR"), due=dt.date(2027, 1, 1)))
    target = FakeSetView(Platform.CRMCOM)
    target.replace("est-1", [Milestone(title="Keep", amount=Money("5.00", "EUR"), trigger=Trigger.on_stage("st-z"))])
    pair = SyncPair(Platform.AUTOTASK, "77", Platform.CRMCOM, "est-1")  # no TriggerMap: the date has no stage
    store = LinkStore(":memory:")
    views = {Platform.AUTOTASK: source, Platform.CRMCOM: target}
    src, tgt = load_sides(pair, views)
    plan = plan_sync(pair, src, tgt, store)
    assert [a.kind for a in plan.actions] == [ActionKind.CONFLICT, ActionKind.UNCHANGED]
    assert "could not be translated" in plan.actions[1].reason
    apply_plan(plan, views, store)
    assert [m.trigger.ref for m in target.data["est-1"].values()] == ["st-z"]


def _refused(status: int = 422) -> errors.APIStatusError:
    cls = errors.status_error_class(status)
    return cls("refused", platform="kantata", method="POST", path="/x", status_code=status)


def test_a_refused_create_is_a_failure_with_a_failed_intent_and_no_link() -> None:
    source, target, pair = seeded(2)
    target.fail["create"] = _refused(422)
    store = LinkStore(":memory:")
    result = run(pair, source, target, store)
    assert not result.ok and [r.error for r in result.failures] == [str(_refused())] * 2  # type: ignore[attr-defined]
    assert store.links(pair.id) == [] and store.pending(pair.id) == []
    assert "list" in target.calls and target.calls.count("list") == 1  # a clear refusal needs no recovery lookup


@pytest.mark.parametrize(("failure", "ok"), [(errors.NotFoundError, True), (errors.ConflictError, False)])
def test_delete_treats_already_gone_as_done_and_reports_other_failures(failure: type, ok: bool) -> None:
    source, target, pair = seeded(2)
    store = LinkStore(":memory:")
    run(pair, source, target, store)
    del source.data["77"][next(iter(source.data["77"]))]
    target.fail["delete"] = failure("x", platform="kantata", method="DELETE", path="/x", status_code=409)
    result = run(pair, source, target, store)
    assert result.ok is ok  # type: ignore[attr-defined]
    assert len(store.links(pair.id)) == (1 if ok else 2)


def test_a_failed_whole_set_write_records_every_write_as_failed() -> None:
    source = FakeView(Platform.KANTATA)
    source.add("900", Milestone(title="S41", amount=Money("30.00", "EUR"), trigger=Trigger.on_completion("41")))
    target = FakeSetView(Platform.CRMCOM)
    target.fail["replace"] = _refused(400)
    pair = SyncPair(Platform.KANTATA, "900", Platform.CRMCOM, "est-1", triggers=TriggerMap({"st-a": "41"}))
    store = LinkStore(":memory:")
    views = {Platform.KANTATA: source, Platform.CRMCOM: target}
    src, tgt = load_sides(pair, views)
    result = apply_plan(plan_sync(pair, src, tgt, store), views, store)
    assert not result.ok and len(result.failures) == 1
    assert store.links(pair.id) == [] and store.pending(pair.id) == []


def test_views_are_checked() -> None:
    source, target, pair = seeded(1)
    src, tgt = load_sides(pair, {Platform.AUTOTASK: source, Platform.KANTATA: target})
    plan = plan_sync(pair, src, tgt, LinkStore(":memory:"))
    with pytest.raises(errors.ConfigError, match="no milestone view"):
        apply_plan(plan, {Platform.KANTATA: object()}, LinkStore(":memory:"))
    crm_pair = SyncPair(Platform.AUTOTASK, "77", Platform.CRMCOM, "est-1")
    crm_plan = plan_sync(crm_pair, [], [])
    with pytest.raises(errors.ConfigError, match="replace"):
        apply_plan(crm_plan, {Platform.CRMCOM: FakeView(Platform.CRMCOM)}, LinkStore(":memory:"))


def test_a_difference_accepted_under_target_wins_stays_accepted_in_later_runs() -> None:
    source, target, pair = seeded(1)
    store = LinkStore(":memory:")
    views = {Platform.AUTOTASK: source, Platform.KANTATA: target}
    run(pair, source, target, store)
    (s,) = source.data["77"].values()
    (t,) = target.data["900"].values()
    source.data["77"][s.key.id] = s.model_copy(update={"title": "Source edit"})  # type: ignore[union-attr]
    target.data["900"][t.key.id] = t.model_copy(update={"title": "Target edit"})  # type: ignore[union-attr]
    src, tgt = load_sides(pair, views)
    accepted = apply_plan(plan_sync(pair, src, tgt, store, policy=ConflictPolicy.TARGET_WINS), views, store)
    assert accepted.ok and accepted.writes == 0
    src, tgt = load_sides(pair, views)
    later = plan_sync(pair, src, tgt, store)  # report, the default
    assert later.is_noop and "accepted" in later.actions[0].reason
    assert [m.title for m in target.data["900"].values()] == ["Target edit"]


def test_a_changed_translation_updates_the_target_though_neither_side_changed() -> None:
    source, target = FakeView(Platform.KANTATA), FakeView(Platform.AUTOTASK)
    source.add("900", Milestone(title="Build", amount=Money("50.00", "USD"), trigger=Trigger.on_completion("41")))
    store = LinkStore(":memory:")
    views = {Platform.KANTATA: source, Platform.AUTOTASK: target}

    def pair_due(day: dt.date) -> SyncPair:
        return SyncPair(Platform.KANTATA, "900", Platform.AUTOTASK, "77", triggers=TriggerMap(due_dates={"41": day}))

    first = pair_due(D)
    src, tgt = load_sides(first, views)
    assert apply_plan(plan_sync(first, src, tgt, store), views, store).ok
    moved = pair_due(D + dt.timedelta(days=30))
    src, tgt = load_sides(moved, views)
    (action,) = plan_sync(moved, src, tgt, store).actions
    assert action.kind is ActionKind.UPDATE and "translation changed" in action.reason
    assert [d.field for d in action.diff] == ["due"]
