"""Applying a plan made from load_sides' rows, which hold no wire payload: an update reads the target
milestone again before writing it, and writes what the plan said."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from billing_milestones import Money, Platform
from billing_milestones.demo import DemoWorld, build_demo_world
from billing_milestones.sync import ActionKind, LinkStore, MilestoneRow, SyncPair, apply_plan, load_sides, plan_sync


@pytest.fixture
def world() -> Iterator[tuple[DemoWorld, dict[Platform, Any], LinkStore, SyncPair]]:
    with ExitStack() as stack:
        demo = build_demo_world()
        clients = demo.clients(stack)
        store = stack.enter_context(LinkStore(":memory:"))
        pair = SyncPair(Platform.AUTOTASK, str(demo.contract_id), Platform.KANTATA, demo.erp_workspace, allow_drop=True)
        yield demo, clients, store, pair


def test_an_update_from_rows_reads_the_target_again_and_restores_the_source(
    world: tuple[DemoWorld, dict[Platform, Any], LinkStore, SyncPair],
) -> None:
    demo, clients, store, pair = world
    assert apply_plan(plan_sync(pair, *load_sides(pair, clients), store), clients, store).ok
    kantata = clients[Platform.KANTATA]
    edited = next(m for m in kantata.milestones.list(demo.erp_workspace) if m.title == "User training")
    kantata.milestones.update(edited.model_copy(update={"amount": Money("3400.00", "USD")}))

    source, target = load_sides(pair, clients)
    assert all(isinstance(m, MilestoneRow) and m.raw == {} for m in source + target)
    plan = plan_sync(pair, source, target, store)
    (update,) = [a for a in plan.actions if a.kind is not ActionKind.UNCHANGED]
    assert update.kind is ActionKind.UPDATE and [d.field for d in update.diff] == ["amount"]
    assert update.target is not None and update.target.raw == {}  # nothing of the listing's payload kept
    seen = len(demo.kantata.request_log)
    assert apply_plan(plan, clients, store).ok
    path = f"/billing_milestones/{edited.key.id}" if edited.key else ""
    calls = [(e.method, e.path.endswith(path)) for e in demo.kantata.request_log[seen:]]
    assert calls.index(("GET", True)) < calls.index(("PUT", True))  # read again, then written
    again = next(m for m in kantata.milestones.list(demo.erp_workspace) if m.title == "User training")
    assert again.amount == Money("3250.00", "USD")
    assert plan_sync(pair, *load_sides(pair, clients), store).is_noop


def test_a_bulk_create_builds_each_desired_milestone_once(
    world: tuple[DemoWorld, dict[Platform, Any], LinkStore, SyncPair], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading an action's ``desired`` builds a model from the plan's row each time; the create reads it once
    for each milestone it sends (the batch's models were once built twice: one read to filter, one to keep)."""
    _, clients, store, pair = world
    plan = plan_sync(pair, *load_sides(pair, clients), store)
    creates = [a for a in plan.actions if a.kind is ActionKind.CREATE]
    assert len(creates) == 4
    built: list[str] = []
    milestone = MilestoneRow.milestone

    def counted(row: MilestoneRow) -> Any:
        built.append(row.title)
        return milestone(row)

    monkeypatch.setattr(MilestoneRow, "milestone", counted)
    result = apply_plan(plan, clients, store)
    assert result.ok and result.count(ActionKind.CREATE) == 4
    assert sorted(built) == sorted(a.title for a in creates)
