"""Apply rules for a whole-set platform (crm.com's estimate) from mutation testing's survivors (issue 17):
one write for the set, what it holds where nothing is written, and what each action records."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from billing_milestones import Milestone, MilestoneKey, MilestoneStatus, Money, Platform, Trigger, errors
from billing_milestones.sync import (
    ActionKind,
    Link,
    LinkStore,
    PlannedAction,
    SyncPair,
    SyncPlan,
    TriggerMap,
    apply_plan,
)
from billing_milestones.sync.plan import target_fingerprint
from billing_milestones.sync.translate import FieldDiff

from .fakes import FakeSetView, FakeView
from .test_apply_rules import intents, kept

CPAIR = SyncPair(Platform.KANTATA, "900", Platform.CRMCOM, "est-1", triggers=TriggerMap({"st-a": "41"}))


def ksrc(story: str) -> Milestone:
    key = MilestoneKey(platform=Platform.KANTATA, id=story, container_id="900")
    return Milestone(key=key, title=f"S{story}", amount=Money("1.00", "EUR"), trigger=Trigger.on_completion(story))


def stage(ref: str, amount: str, **kw: Any) -> Milestone:
    return Milestone(title=f"Stage {ref}", amount=Money(amount, "EUR"), trigger=Trigger.on_stage(ref), **kw)


class Forgetful(FakeSetView):
    """Stores the whole set but leaves the stages in ``forget`` out of its reply."""

    def __init__(self, *forget: str) -> None:
        super().__init__(Platform.CRMCOM)
        self.forget = set(forget)

    def replace(self, container_id: str, milestones: Sequence[Milestone]) -> builtins.list[Milestone]:
        return [m for m in super().replace(container_id, milestones) if m.trigger.ref not in self.forget]


def estimate(*stages: Milestone) -> tuple[Forgetful, LinkStore, dict[str, Milestone]]:
    view, store = Forgetful(), LinkStore(":memory:")
    stored = {m.trigger.ref or "": m for m in view.replace("est-1", stages)}
    view.calls.clear()
    return view, store, stored


def act(
    kind: ActionKind,
    key: str,
    source: Milestone | None,
    target: Milestone | None,
    desired: Milestone | None = None,
    **kw: Any,
) -> PlannedAction:
    return PlannedAction(kind, key, kind.value, source, target, desired, **kw)


def linked(store: LinkStore, action: PlannedAction) -> Link:
    assert action.source is not None and action.target is not None
    link = Link(CPAIR.id, action.sync_key, str(action.source.key), str(action.target.key), "s-old", "t-old")
    store.put(link)
    return link


def amounts(view: FakeView) -> dict[str, str]:
    return {m.trigger.ref or "": str(m.amount) for m in kept(view, "est-1")}


def test_a_whole_set_plan_with_nothing_to_write_sends_no_estimate_and_refreshes_only_unchanged_links() -> None:
    view, store, there = estimate(stage("st-b", "20.00"), stage("st-e", "50.00"))
    conflict = act(ActionKind.CONFLICT, "k-e", ksrc("45"), there["st-e"])
    unchanged = act(ActionKind.UNCHANGED, "k-b", ksrc("42"), there["st-b"], stage("st-b", "20.00"))
    old = {ln.sync_key: ln for ln in (linked(store, conflict), linked(store, unchanged))}
    result = apply_plan(SyncPlan(CPAIR, (conflict, unchanged)), view, store)
    assert [(r.action, r.ok, r.wrote) for r in result.results] == [(conflict, True, False), (unchanged, True, False)]
    assert view.calls == [] and intents(store) == []
    now = {ln.sync_key: ln for ln in store.links(CPAIR.id)}
    assert (now["k-e"].source_fp, now["k-e"].desired_fp) == (old["k-e"].source_fp, "")
    assert now["k-b"].desired_fp == target_fingerprint(stage("st-b", "20.00"), CPAIR)


def test_a_whole_set_write_sends_the_targets_own_content_wherever_nothing_is_written_to_it() -> None:
    billed = {"status": MilestoneStatus.BILLED, "locked": True}
    view, store, there = estimate(
        stage("st-b", "20.00"), stage("st-c", "30.00", **billed), stage("st-d", "40.00"), stage("st-e", "50.00")
    )
    diff = (FieldDiff("amount", there["st-c"].amount, Money("35.00", "EUR")),)
    actions = (
        act(ActionKind.DELETE, "k-d", None, there["st-d"]),
        act(ActionKind.CONFLICT, "k-e", ksrc("45"), there["st-e"]),
        act(ActionKind.CREATE, "k-a", ksrc("41"), None, stage("st-a", "10.00")),
        act(ActionKind.UNCHANGED, "k-b", ksrc("42"), there["st-b"], stage("st-b", "25.00")),  # an accepted difference
        act(ActionKind.ADOPT, "k-c", ksrc("43"), there["st-c"], stage("st-c", "35.00"), diff=diff),  # locked
    )
    store.put(Link(CPAIR.id, "k-d", "kantata:900/44", str(there["st-d"].key), "s", "t"))
    result = apply_plan(SyncPlan(CPAIR, actions), view, store)
    assert view.calls == ["replace:4"]
    assert amounts(view) == {"st-a": "10.00 EUR", "st-b": "20.00 EUR", "st-c": "30.00 EUR", "st-e": "50.00 EUR"}
    now = {m.trigger.ref: m for m in kept(view, "est-1")}
    assert [(r.action, r.ok, r.wrote, r.result) for r in result.results] == [
        (actions[0], True, True, None),
        (actions[1], True, False, None),
        (actions[2], True, True, now["st-a"]),
        (actions[3], True, False, now["st-b"]),
        (actions[4], True, False, now["st-c"]),
    ]
    assert intents(store) == [("k-d", "delete", "done", None), ("k-a", "create", "done", None)]
    assert sorted(ln.sync_key for ln in store.links(CPAIR.id)) == ["k-a", "k-b", "k-c"]


def test_a_failed_whole_set_write_fails_the_writes_and_leaves_the_rest_ok_both_naming_the_error() -> None:
    view, store, there = estimate(stage("st-b", "20.00"), stage("st-e", "50.00"))
    refused = errors.BadRequestError("refused", platform="crmcom", method="POST", path="/x", status_code=400)
    view.fail["replace"] = refused
    actions = (
        act(ActionKind.CREATE, "k-a", ksrc("41"), None, stage("st-a", "10.00")),
        act(ActionKind.UNCHANGED, "k-b", ksrc("42"), there["st-b"], stage("st-b", "20.00")),
        act(ActionKind.CONFLICT, "k-e", ksrc("45"), there["st-e"]),
    )
    result = apply_plan(SyncPlan(CPAIR, actions), view, store)
    assert [(r.action, r.ok, r.error) for r in result.results] == [
        (actions[0], False, str(refused)),
        (actions[1], True, str(refused)),
        (actions[2], True, str(refused)),
    ]
    assert intents(store) == [("k-a", "create", "failed", str(refused))]


def test_a_stage_crmcom_leaves_out_of_its_reply_fails_its_action_and_intent_saying_so() -> None:
    view, store, there = estimate(stage("st-b", "20.00"))
    view.forget = {"st-a", "st-b"}
    actions = (
        act(ActionKind.CREATE, "k-a", ksrc("41"), None, stage("st-a", "10.00")),
        act(ActionKind.UNCHANGED, "k-b", ksrc("42"), there["st-b"], stage("st-b", "20.00")),
        act(ActionKind.CREATE, "k-f", ksrc("46"), None, stage("st-f", "60.00")),
    )
    result = apply_plan(SyncPlan(CPAIR, actions), view, store)
    missing = "crm.com did not return this stage's milestone"
    assert [(r.action, r.ok, r.error) for r in result.results] == [
        (actions[0], False, missing),
        (actions[1], False, missing),
        (actions[2], True, None),
    ]
    assert intents(store) == [
        ("k-a", "create", "failed", "not in the estimate crm.com returned"),
        ("k-f", "create", "done", None),
    ]
