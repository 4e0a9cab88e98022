"""Apply rules from mutation testing's survivors (issue 17): what each write records, returns and sends."""

from __future__ import annotations

import builtins
import dataclasses
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from billing_milestones import Milestone, MilestoneKey, MilestoneStatus, Money, Platform, _platforms, errors
from billing_milestones._platforms import spec_for
from billing_milestones.model import ExternalRef
from billing_milestones.sync import (
    ActionKind,
    ActionResult,
    ApplyResult,
    Link,
    LinkStore,
    PlannedAction,
    SyncPlan,
    apply_plan,
    plan_sync,
    sync_key_for,
)
from billing_milestones.sync.plan import target_fingerprint

from .fakes import FakeView
from .test_plan import PAIR, link_for, src

REFUSED = errors.ConflictError("refused", platform="kantata", method="PUT", path="/x", status_code=409)
LOST = errors.APIConnectionError("no reply", platform="kantata", method="POST", path="/x")


class View(FakeView):
    """A FakeView that records the updates it is sent, refuses one on ``fail["update"]``, and can store only
    the first ``store_only`` milestones of a create before its reply is lost, or reply one milestone short."""

    def __init__(self, platform: Platform = Platform.KANTATA, *, store_only: int | None = None) -> None:
        super().__init__(platform)
        self.store_only = store_only
        self.reply_short = False
        self.sent: list[Milestone] = []

    def update(self, milestone: Milestone) -> Milestone:
        self.sent.append(milestone)
        if "update" in self.fail:
            raise self.fail.pop("update")
        return super().update(milestone)

    def create(self, container_id: str, milestones: Sequence[Milestone]) -> builtins.list[Milestone]:
        if self.store_only is not None:
            super().create(container_id, milestones[: self.store_only])
            raise LOST
        created = super().create(container_id, milestones)
        return created[:-1] if self.reply_short else created


def intents(store: LinkStore) -> list[tuple[str, str, str, str | None]]:
    rows = store._raw("SELECT sync_key, action, state, detail FROM intents ORDER BY id")
    return [(r["sync_key"], r["action"], r["state"], r["detail"]) for r in rows]


def kept(view: FakeView, container: str = "900") -> list[Milestone]:
    return list(view.data.get(container, {}).values())


def mixed() -> tuple[View, LinkStore, SyncPlan]:
    """A Kantata target with one action of each per-milestone kind: unchanged, conflict, skip-locked, update,
    create and delete (in the order apply runs them)."""
    view, store = View(), LinkStore(":memory:")
    sources = [src(i) for i in (1, 2, 3, 5, 6)]
    targets = [view.add("900", Milestone(title=s.title, amount=Money("100.00", "USD"), due=s.due)) for s in sources]
    for s, t in zip(sources, targets, strict=True):
        store.put(link_for(s, t))
    locked = targets[2].model_copy(update={"status": MilestoneStatus.BILLED, "locked": True})
    view.data["900"][str(locked.key.id)] = locked  # type: ignore[union-attr]
    view.data["900"][str(targets[1].key.id)] = targets[1].model_copy(update={"title": "edited there"})  # type: ignore[union-attr]
    now = [sources[0], src(2, title="edited here"), src(3, amount="1.00"), src(5, amount="150.00"), src(9)]
    plan = plan_sync(PAIR, now, kept(view), store)
    assert sorted(a.kind.value for a in plan.actions) == [
        "conflict",
        "create",
        "delete",
        "skip-locked",
        "unchanged",
        "update",
    ]
    return view, store, plan


# -- what a run reports ------------------------------------------------------------------------------------
def test_the_result_json_names_every_field_a_script_reads() -> None:
    failed = PlannedAction(ActionKind.CREATE, "bm1", "new in source", src(1))
    conflict = PlannedAction(ActionKind.CONFLICT, "bm2", "both sides changed", src(2))
    duplicate = PlannedAction(ActionKind.DUPLICATE, "bm3", "another copy", None, None, fix=True)
    plan = SyncPlan(PAIR, (failed, conflict, duplicate), notes=("a note",))
    result = ApplyResult(
        plan, results=[ActionResult(failed, ok=False, error="boom"), ActionResult(duplicate, ok=True, wrote=True)]
    )
    assert result.to_json() == {
        "pair": PAIR.id,
        "dry_run": False,
        "ok": False,
        "writes": 1,
        "counts": plan.counts(),
        "failures": [{"sync_key": "bm1", "title": "M1", "error": "boom"}],
        "conflicts": [conflict.to_json()],
        "duplicates": [duplicate.to_json()],
        "notes": ["a note"],
    }


def test_a_missing_view_names_the_platform_and_what_was_given() -> None:
    plan = plan_sync(PAIR, [src(1)], [])
    with pytest.raises(errors.ConfigError, match=r"^no milestone view for kantata: got object$"):
        apply_plan(plan, {Platform.KANTATA: object()}, LinkStore(":memory:"))


def test_a_dry_run_says_so_and_reports_every_action_ok_unwritten() -> None:
    view, store, plan = mixed()
    result = apply_plan(plan, view, store, dry_run=True)
    assert result.dry_run is True and result.to_json()["dry_run"] is True
    assert [(r.action, r.ok, r.wrote) for r in result.results] == [(a, True, False) for a in plan.actions]
    assert view.calls == [] and intents(store) == []


def test_every_planned_action_gets_one_result_and_the_unwritten_ones_are_ok() -> None:
    view, store, plan = mixed()
    result = apply_plan(plan, view, store)
    assert sorted(id(r.action) for r in result.results) == sorted(id(a) for a in plan.actions)
    assert [(r.action.kind.value, r.ok, r.wrote) for r in result.results] == [
        ("unchanged", True, False),
        ("conflict", True, False),
        ("skip-locked", True, False),
        ("update", True, True),
        ("create", True, True),
        ("delete", True, True),
    ]
    assert result.failures == []


def test_each_write_closes_its_intent_and_returns_what_the_platform_holds() -> None:
    view, store, plan = mixed()
    result = apply_plan(plan, view, store)
    by_kind = {r.action.kind: r for r in result.results}
    assert intents(store) == [
        (by_kind[k].action.sync_key, k.value, "done", None)
        for k in (ActionKind.UPDATE, ActionKind.CREATE, ActionKind.DELETE)
    ]
    stored = {m.title: m for m in kept(view)}
    assert by_kind[ActionKind.UPDATE].result == stored["M5"] and stored["M5"].amount == Money("150.00", "USD")
    assert by_kind[ActionKind.CREATE].result == stored["M9"]
    assert by_kind[ActionKind.DELETE].result is None and "M6" not in stored


# -- the pair's lease and the plan's age ------------------------------------------------------------------
@pytest.mark.parametrize(("given", "waited"), [({}, 0.0), ({"lease_wait": 2.5}, 2.5)])
def test_apply_waits_for_the_pairs_lease_exactly_as_long_as_asked(
    monkeypatch: pytest.MonkeyPatch, given: dict[str, float], waited: float
) -> None:
    store = LinkStore(":memory:")
    asked: list[tuple[str, float]] = []
    take = store.lease

    def spy(pair_id: str, **kw: Any) -> Any:
        asked.append((pair_id, kw["wait"]))
        return take(pair_id, **kw)

    monkeypatch.setattr(store, "lease", spy)
    apply_plan(plan_sync(PAIR, [src(1)], [], store), View(), store, **given)  # type: ignore[arg-type]
    assert asked == [(PAIR.identity, waited)]


def test_a_stale_plan_is_refused_naming_the_pair() -> None:
    store = LinkStore(":memory:")
    stale = plan_sync(PAIR, [src(1)], [], store)
    apply_plan(plan_sync(PAIR, [src(1)], [], store), View(), store)
    with pytest.raises(errors.StalePlanError) as info:
        apply_plan(stale, View(), store)
    assert info.value.pair_id == PAIR.id
    assert str(info.value) == (
        f"pair {PAIR.id}: the links changed since this plan was made (another run applied in between); "
        "nothing was written. Plan again"
    )


def test_apply_closes_the_intents_a_crashed_run_left_pending() -> None:
    store = LinkStore(":memory:")
    store.begin(PAIR.id, "bm-crashed", "create")
    # Begun long ago: its request has surely been answered or given up (a younger one is refused: test_settle).
    store.backend.count("UPDATE intents SET created_at=?", ("2026-01-01T00:00:00.000+00:00",))
    apply_plan(plan_sync(PAIR, [src(1)], [], store), View(), store)
    assert store.pending(PAIR.id) == [] and intents(store)[0][:3] == ("bm-crashed", "create", "failed")


# -- how many writes at once --------------------------------------------------------------------------------
class Gate(FakeView):
    """Counts creates in flight; each waits (up to two seconds) until a second one is in flight too."""

    def __init__(self) -> None:
        super().__init__(Platform.AUTOTASK)
        self.lock = threading.Lock()
        self.both = threading.Event()
        self.in_flight = self.peak = 0
        self.threads: set[str] = set()

    def create(self, container_id: str, milestones: Sequence[Milestone]) -> builtins.list[Milestone]:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.threads.add(threading.current_thread().name)
            if self.in_flight >= 2:
                self.both.set()
        self.both.wait(2.0)
        time.sleep(0.02)
        with self.lock:
            self.in_flight -= 1
            return super().create(container_id, milestones)


@pytest.mark.parametrize("n", [2, 5])
def test_writes_run_max_in_flight_at_a_time_on_bm_apply_threads(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    monkeypatch.setitem(
        _platforms._specs, Platform.AUTOTASK, dataclasses.replace(spec_for(Platform.AUTOTASK), max_in_flight=2)
    )
    pair = dataclasses.replace(PAIR, target=Platform.AUTOTASK)
    view, store = Gate(), LinkStore(":memory:")
    result = apply_plan(plan_sync(pair, [src(i) for i in range(n)], [], store), view, store)
    assert result.ok and result.writes == n and view.calls == ["create:1"] * n
    assert view.peak == 2
    assert view.threads and all(name.startswith("bm-apply_") for name in view.threads)


def test_creates_go_batch_size_to_a_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        _platforms._specs, Platform.KANTATA, dataclasses.replace(spec_for(Platform.KANTATA), batch_size=2)
    )
    view, store = View(), LinkStore(":memory:")
    result = apply_plan(plan_sync(PAIR, [src(i) for i in range(5)], [], store), view, store)
    assert result.ok and view.calls == ["create:2", "create:2", "create:1"]


# -- adoptions and updates ----------------------------------------------------------------------------------
@pytest.mark.parametrize("amount", ["100.00", "90.00"])
def test_a_locked_adoption_is_linked_unwritten_and_accepted_only_without_a_difference(amount: str) -> None:
    view, store = View(), LinkStore(":memory:")
    s = src(1)
    billed = Milestone(title="M1", amount=Money(amount, "USD"), due=s.due, status=MilestoneStatus.BILLED, locked=True)
    view.add("900", billed.with_sync_key(sync_key_for(PAIR, s.key)))  # type: ignore[arg-type]
    plan = plan_sync(PAIR, [s], kept(view), store)
    (action,) = plan.actions
    assert action.kind is ActionKind.ADOPT and bool(action.diff) is (amount != "100.00")
    (r,) = apply_plan(plan, view, store).results
    assert (r.ok, r.wrote, r.result) == (True, False, action.target) and view.calls == []
    (link,) = store.links(PAIR.id)
    assert action.desired is not None
    assert link.desired_fp == ("" if action.diff else target_fingerprint(action.desired, PAIR))


def test_an_update_keeps_the_targets_identity_status_lock_and_other_references() -> None:
    view, store = View(), LinkStore(":memory:")
    theirs = ExternalRef(service="erp", ref="E-7")
    t = view.add("900", Milestone(title="M1", amount=Money("100.00", "USD"), due=src(1).due))
    t = t.model_copy(
        update={"status": MilestoneStatus.READY_TO_BILL, "raw": {"id": 1}, "external_refs": (theirs,)}
    ).with_sync_key("bm-old")
    action = PlannedAction(
        ActionKind.UPDATE,
        "bm-new",
        "changed",
        src(1),
        t,
        src(1, amount="5.00").with_sync_key("bm-new"),
    )
    apply_plan(SyncPlan(PAIR, (action,)), view, store)
    (sent,) = view.sent
    assert (sent.key, sent.raw, sent.status, sent.locked) == (t.key, {"id": 1}, MilestoneStatus.READY_TO_BILL, False)
    assert sent.external_refs == (theirs, ExternalRef(service="billing-milestones", ref="bm-new"))
    assert sent.amount == Money("5.00", "USD")
    locked = t.model_copy(update={"locked": True})
    apply_plan(SyncPlan(PAIR, (dataclasses.replace(action, target=locked),)), view, store)
    assert view.sent[-1].locked is True


def test_a_refused_update_fails_its_intent_and_names_the_error() -> None:
    view, store, plan = mixed()
    view.fail["update"] = REFUSED
    result = apply_plan(plan, view, store)
    (failure,) = result.failures
    assert failure.action.kind is ActionKind.UPDATE and (failure.ok, failure.error) == (False, str(REFUSED))
    assert (failure.action.sync_key, "update", "failed", str(REFUSED)) in intents(store)
    assert store.pending(PAIR.id) == []


# -- creates ------------------------------------------------------------------------------------------------
def test_a_refused_create_fails_every_intent_of_its_batch_with_the_error() -> None:
    view, store = View(), LinkStore(":memory:")
    view.fail["create"] = REFUSED
    plan = plan_sync(PAIR, [src(1), src(2)], [], store)
    result = apply_plan(plan, view, store)
    assert [(r.action, r.ok, r.error) for r in result.results] == [(a, False, str(REFUSED)) for a in plan.actions]
    assert intents(store) == [(a.sync_key, "create", "failed", str(REFUSED)) for a in plan.actions]


def test_a_create_reply_short_of_a_milestone_stops_the_run_leaving_the_unanswered_one_pending() -> None:
    view, store = View(), LinkStore(":memory:")
    view.reply_short = True
    with pytest.raises(ValueError, match="zip"):
        apply_plan(plan_sync(PAIR, [src(1), src(2)], [], store), view, store)
    assert len(store.links(PAIR.id)) == 1 and len(store.pending(PAIR.id)) == 1  # the next run finds it by key


def test_a_lost_create_reply_links_what_was_stored_and_leaves_the_rest_pending_as_it_may_still_land() -> None:
    view, store = View(store_only=1), LinkStore(":memory:")
    plan = plan_sync(PAIR, [src(1), src(2)], [], store)
    stored, lost = plan.actions
    result = apply_plan(plan, view, store)
    (there,) = kept(view)
    why = f"{LOST} (not on the target yet; left pending: the next run lists the target once it settles)"
    assert [(r.action, r.ok, r.wrote, r.result, r.error) for r in result.results] == [
        (stored, True, True, there, None),
        (lost, False, False, None, why),
    ]
    assert intents(store) == [(stored.sync_key, "create", "done", None), (lost.sync_key, "create", "pending", None)]
    assert [ln.sync_key for ln in store.links(PAIR.id)] == [stored.sync_key]


# -- duplicates and deletes -----------------------------------------------------------------------------------
def _copy(key: bool = True) -> Milestone:
    m = Milestone(title="M1", amount=Money("100.00", "USD"))
    return (
        m.model_copy(update={"key": MilestoneKey(platform=Platform.KANTATA, id="5", container_id="900")}) if key else m
    )


@pytest.mark.parametrize(
    ("fix", "target"), [(False, _copy()), (True, None), (True, _copy(key=False))], ids=["reported", "none", "keyless"]
)
def test_a_duplicate_is_removed_only_when_fixing_one_that_has_a_key(fix: bool, target: Milestone | None) -> None:
    view, store = View(), LinkStore(":memory:")
    action = PlannedAction(ActionKind.DUPLICATE, "bm1", "another copy", None, target, fix=fix)
    (r,) = apply_plan(SyncPlan(PAIR, (action,)), view, store).results
    assert (r.action, r.ok, r.wrote, r.error) == (action, True, False, None)
    assert view.calls == [] and intents(store) == []


@pytest.mark.parametrize(("failure", "ok"), [(None, True), (errors.NotFoundError, True), (errors.ConflictError, False)])
def test_removing_a_duplicate_closes_its_intent_or_fails_it_with_the_error(failure: type | None, ok: bool) -> None:
    view, store = View(), LinkStore(":memory:")
    extra = view.add("900", Milestone(title="M1", amount=Money("100.00", "USD")))
    if failure is not None:
        view.fail["delete"] = failure("x", platform="kantata", method="DELETE", path="/x", status_code=409)
    action = PlannedAction(ActionKind.DUPLICATE, "bm1", "another copy", None, extra, fix=True)
    (r,) = apply_plan(SyncPlan(PAIR, (action,)), view, store).results
    error = None if ok else str(view_error(failure))
    assert (r.action, r.ok, r.wrote, r.error) == (action, ok, ok, error)
    assert intents(store) == [("bm1", "duplicate", "done" if ok else "failed", error)]


def view_error(failure: type | None) -> Exception:
    assert failure is not None
    return failure("x", platform="kantata", method="DELETE", path="/x", status_code=409)  # type: ignore[no-any-return]


def test_forgetting_a_target_that_is_gone_removes_the_link_and_writes_nothing() -> None:
    view, store = View(), LinkStore(":memory:")
    link = Link(PAIR.id, "bm1", "autotask:77/1", "kantata:900/5", "s", "t")
    store.put(link)
    action = PlannedAction(ActionKind.DELETE, "bm1", "gone on both sides", link=link)
    (r,) = apply_plan(SyncPlan(PAIR, (action,)), view, store).results
    assert (r.action, r.ok, r.wrote) == (action, True, False)
    assert view.calls == [] and store.links(PAIR.id) == [] and intents(store) == [("bm1", "delete", "done", None)]


def test_a_refused_delete_fails_its_intent_and_keeps_the_link() -> None:
    view, store, plan = mixed()
    view.fail["delete"] = REFUSED
    result = apply_plan(plan, view, store)
    (failure,) = result.failures
    assert failure.action.kind is ActionKind.DELETE and (failure.ok, failure.error) == (False, str(REFUSED))
    assert (failure.action.sync_key, "delete", "failed", str(REFUSED)) in intents(store)
    assert failure.action.sync_key in {ln.sync_key for ln in store.links(PAIR.id)}
