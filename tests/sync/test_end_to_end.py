"""The sync engine against the real emulators: in-process and over loopback HTTP."""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from rich.console import Console

from billing_milestones import AutotaskClient, CrmComClient, KantataClient, Milestone, MilestoneKey, Money, Platform
from billing_milestones.demo import KANTATA_TOKEN, DemoWorld, build_demo_world, run_demo
from billing_milestones.sandbox import LoopbackServer
from billing_milestones.sandbox.autotask import AutotaskSandbox
from billing_milestones.sandbox.crmcom import DEMO_SECRET_KEY
from billing_milestones.sync import ActionKind, ActionResult, LinkStore, SyncPair, apply_plan, load_sides, plan_sync
from billing_milestones.sync import _settle as settle
from billing_milestones.sync._settle import DEFAULT_WRITE_SETTLE


class Crash(Exception):
    pass


def crash_after_writes(n: int) -> Callable[[ActionResult], None]:
    """A progress callback that kills the apply once ``n`` writes have landed, like a process dying."""
    seen = 0

    def die(result: ActionResult) -> None:
        nonlocal seen
        seen += result.wrote
        if seen >= n:
            raise Crash

    return die


def sync(pair: SyncPair, clients: dict[Platform, Any], store: LinkStore, **kw: Any) -> Any:
    source, target = load_sides(pair, clients)
    return apply_plan(plan_sync(pair, source, target, store), clients, store, **kw)


def replan(pair: SyncPair, clients: dict[Platform, Any], store: LinkStore) -> Any:
    source, target = load_sides(pair, clients)
    return plan_sync(pair, source, target, store)


def schedule(view: Any, container: str) -> list[tuple[str, str, str | None]]:
    return sorted((m.title, str(m.amount), m.due.isoformat() if m.due else None) for m in view.list(container))


def test_the_demo_runs_clean_and_its_second_run_is_a_noop() -> None:
    out = io.StringIO()
    assert run_demo(Console(file=out, width=140)) == 0
    text = out.getvalue()
    assert text.count("nothing left to do") == 2
    assert "Data migration" in text and "12500.50 USD" in text


@pytest.fixture
def world() -> DemoWorld:
    return build_demo_world()


@pytest.fixture
def loopback_clients(world: DemoWorld) -> Iterator[dict[Platform, Any]]:
    with LoopbackServer(world.asgi_app()) as server, ExitStack() as stack:
        yield {
            Platform.KANTATA: stack.enter_context(
                KantataClient(KANTATA_TOKEN, base_url=f"{server.url}/kantata/api/v1")
            ),
            Platform.AUTOTASK: stack.enter_context(
                AutotaskClient(
                    AutotaskSandbox.USERNAME,
                    AutotaskSandbox.SECRET,
                    AutotaskSandbox.INTEGRATION_CODE,
                    base_url=f"{server.url}/autotask/ATServicesRest/V1.0",
                    currency="USD",
                )
            ),
            Platform.CRMCOM: stack.enter_context(CrmComClient(DEMO_SECRET_KEY, base_url=f"{server.url}/crmcom")),
        }


def test_both_demo_pairs_over_real_loopback_http(world: DemoWorld, loopback_clients: dict[Platform, Any]) -> None:
    clients = loopback_clients
    store = LinkStore(":memory:")
    draft_id = clients[Platform.CRMCOM].milestones.open_draft(world.draft)
    crm_pair, autotask_pair = world.pairs(draft_id)
    for pair in (crm_pair, autotask_pair):
        result = sync(pair, clients, store)
        assert result.ok, result.failures
        assert replan(pair, clients, store).is_noop
    kantata = clients[Platform.KANTATA].milestones
    assert schedule(kantata, world.erp_workspace) == schedule(
        clients[Platform.AUTOTASK].milestones, str(world.contract_id)
    )
    deposit = [m for m in kantata.list(world.website_workspace) if m.title == "Deposit"]
    assert len(deposit) == 1 and str(deposit[0].amount) == "7500.00 USD"
    assert world.draft.queue_id  # the draft sits in a queue, whose Deposit stage the trigger names
    assert deposit[0].trigger.ref == world.stage_to_story[_stage(world, "Deposit")]


def _stage(world: DemoWorld, name: str) -> str:
    (queue,) = world.crmcom.queues.values()
    return next(stage.id for stage in queue.stages if stage.name == name)


def _big_autotask_world(n: int) -> tuple[DemoWorld, SyncPair]:
    world = build_demo_world()
    contract = world.autotask.add_contract(name="Big contract", currency="USD")
    for i in range(n):
        world.autotask.add_milestone(
            contract, title=f"Phase {i:03}", amount=f"{1000 + i}.10", date_due=dt.date(2027, 1, 1) + dt.timedelta(i)
        )
    workspace = world.kantata.add_workspace("Big project", currency="USD")
    return world, SyncPair(Platform.AUTOTASK, str(contract), Platform.KANTATA, workspace)


@pytest.mark.parametrize("crash_after", [1, 100, 180])
def test_crash_after_n_writes_then_resume_leaves_no_duplicates(crash_after: int) -> None:
    world, pair = _big_autotask_world(250)
    store = LinkStore(":memory:")
    with ExitStack() as stack:
        clients = world.clients(stack)
        with pytest.raises(Crash):
            sync(pair, clients, store, progress=crash_after_writes(crash_after))
        result = sync(pair, clients, store)
        assert result.ok
        target = schedule(clients[Platform.KANTATA].milestones, pair.target_container)
        assert target == schedule(clients[Platform.AUTOTASK].milestones, pair.source_container)
        assert len(target) == 250 and len(set(target)) == 250
        assert replan(pair, clients, store).is_noop
        # 250 creates are 3 batches of at most 100, and no batch is ever sent twice.
        assert world.kantata.count_requests("POST", r"billing_milestones") == 3


def test_a_lost_batch_response_is_adopted_by_sync_key_not_created_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    world, pair = _big_autotask_world(150)
    # The second create batch is stored, then the connection drops; the recovery listing fails too.
    world.kantata.faults.drop(method="POST", path="billing_milestones", after=1, times=1)
    world.kantata.faults.status(503, method="GET", path="billing_milestones", after=1, times=3)  # 1 try + 2 retries
    store = LinkStore(":memory:")
    with ExitStack() as stack:
        clients = world.clients(stack)
        first = sync(pair, clients, store)
        assert len(first.failures) == 50
        # Their intents stay pending (the lost POST might still land): a rerun lists once they have settled.
        assert len(store.pending(pair.id)) == 50
        monkeypatch.setattr(settle, "_wall", lambda: time.time() + DEFAULT_WRITE_SETTLE + 1)
        second = sync(pair, clients, store)
        assert second.ok and second.count(ActionKind.ADOPT) == 50 and second.count(ActionKind.CREATE) == 0
        assert len(list(clients[Platform.KANTATA].milestones.list(pair.target_container))) == 150


def test_conflicts_are_reported_and_the_target_is_not_overwritten(world: DemoWorld) -> None:
    store = LinkStore(":memory:")
    with ExitStack() as stack:
        clients = world.clients(stack)
        _, pair = world.pairs("unused")
        assert sync(pair, clients, store).ok
        source_id = next(i for i, r in world.autotask.milestones.items() if r["title"] == "Go-live")
        world.autotask.milestones[source_id]["amount"] = "9500.00"
        target = next(
            m for m in clients[Platform.KANTATA].milestones.list(pair.target_container) if m.title == "Go-live"
        )
        world.kantata.milestones[target.key.id]["title"] = "Go-live (renamed in Kantata)"
        result = sync(pair, clients, store)
        assert [a.title for a in result.plan.conflicts] == ["Go-live"] and not result.ok
        assert "both sides changed" in result.plan.conflicts[0].reason
        after = clients[Platform.KANTATA].milestones.list(pair.target_container)
        renamed = [m for m in after if m.title.startswith("Go-live")]
        assert [(m.title, str(m.amount)) for m in renamed] == [("Go-live (renamed in Kantata)", "9000.00 USD")]


def test_kantata_to_autotask_writes_at_most_three_in_flight() -> None:
    world = build_demo_world()
    world.autotask.faults.latency(0.02, method="POST")
    contract = world.autotask.add_contract(name="Mirror", currency="USD")
    workspace = world.kantata.add_workspace("Source", currency="USD")
    for i in range(12):
        world.kantata.add_milestone(workspace, f"K{i}", 10_000 + i, date_to_invoice=f"2027-02-{i + 1:02}")
    pair = SyncPair(Platform.KANTATA, workspace, Platform.AUTOTASK, str(contract))
    store = LinkStore(":memory:")
    with ExitStack() as stack:
        clients = world.clients(stack)
        result = sync(pair, clients, store)
        assert result.ok and result.writes == 12
        throttled = [e for e in world.autotask.request_log if e.status in (429, 500)]
        assert throttled == []
        assert replan(pair, clients, store).is_noop


@pytest.mark.parametrize(("length", "kind"), [(226, ActionKind.CREATE), (227, ActionKind.CONFLICT)])
def test_planner_and_autotask_agree_on_room_for_the_sync_marker(length: int, kind: ActionKind) -> None:
    world = build_demo_world()
    contract = world.autotask.add_contract(name="Target", currency="USD")
    pair = SyncPair(Platform.KANTATA, "1", Platform.AUTOTASK, str(contract))
    source = Milestone(
        key=MilestoneKey(platform=Platform.KANTATA, id="7", container_id="1"),
        title="Long notes",
        description="d" * length,
        amount=Money("10.00", "USD"),
        due=dt.date(2027, 3, 1),
    )
    store = LinkStore(":memory:")
    plan = plan_sync(pair, [source], [], store)
    assert [a.kind for a in plan.actions] == [kind]
    if kind is ActionKind.CREATE:
        with ExitStack() as stack:
            clients = world.clients(stack)
            assert apply_plan(plan, clients, store).ok
            (stored,) = clients[Platform.AUTOTASK].milestones.list(str(contract))
            assert stored.description == "d" * length and stored.sync_key == plan.actions[0].sync_key


@pytest.mark.parametrize("crash_after", [1, 5])
def test_autotask_target_crash_stops_promptly_and_resumes_without_duplicates(crash_after: int) -> None:
    world = build_demo_world()
    world.autotask.faults.latency(0.01, method="POST")
    contract = world.autotask.add_contract(name="Mirror", currency="USD")
    workspace = world.kantata.add_workspace("Source", currency="USD")
    for i in range(20):
        world.kantata.add_milestone(workspace, f"K{i:02}", 10_000 + i, date_to_invoice=f"2027-03-{i + 1:02}")
    pair = SyncPair(Platform.KANTATA, workspace, Platform.AUTOTASK, str(contract))
    store = LinkStore(":memory:")
    with ExitStack() as stack:
        clients = world.clients(stack)
        with pytest.raises(Crash):
            sync(pair, clients, store, progress=crash_after_writes(crash_after))
        created_before_resume = sum(1 for m in world.autotask.milestones.values() if m["contractID"] == contract)
        assert created_before_resume < 20  # queued writes were cancelled, not run to the end
        result = sync(pair, clients, store)
        assert result.ok
        titles = sorted(m.title for m in clients[Platform.AUTOTASK].milestones.list(str(contract)))
        assert titles == [f"K{i:02}" for i in range(20)]
        assert replan(pair, clients, store).is_noop


@pytest.mark.parametrize("target", [Platform.KANTATA, Platform.AUTOTASK])
def test_two_pairs_into_one_container_never_adopt_the_same_milestone(target: Platform) -> None:
    # A milestone already in the shared container matches a source milestone of each pair exactly. The first
    # pair adopts it and marks it with its sync key; the second must create its own, else both pairs own one
    # milestone and overwrite each other's values on every run, forever.
    world = build_demo_world()
    due = dt.date(2027, 1, 15)
    if target is Platform.KANTATA:
        shared = world.kantata.add_workspace("Shared", currency="USD")
        world.kantata.add_milestone(shared, "Deposit", 100_000, date_to_invoice=due.isoformat())
        sources = [str(world.autotask.add_contract(name=n, currency="USD")) for n in ("A", "B")]
        for contract in sources:
            world.autotask.add_milestone(int(contract), title="Deposit", amount="1000.00", date_due=due)
    else:
        shared = str(world.autotask.add_contract(name="Shared", currency="USD"))
        world.autotask.add_milestone(int(shared), title="Deposit", amount="1000.00", date_due=due)
        sources = [world.kantata.add_workspace(n, currency="USD") for n in ("A", "B")]
        for workspace in sources:
            world.kantata.add_milestone(workspace, "Deposit", 100_000, date_to_invoice=due.isoformat())
    source = Platform.AUTOTASK if target is Platform.KANTATA else Platform.KANTATA
    first, second = (SyncPair(source, c, target, shared) for c in sources)
    store = LinkStore(":memory:")
    with ExitStack() as stack:
        clients = world.clients(stack)
        adopted = sync(first, clients, store)
        assert adopted.count(ActionKind.ADOPT) == 1 and adopted.writes == 1  # the sync key is written
        created = sync(second, clients, store)
        assert created.count(ActionKind.CREATE) == 1 and created.count(ActionKind.ADOPT) == 0
        (link_a,), (link_b,) = store.links(first.id), store.links(second.id)
        assert link_a.target_key != link_b.target_key
        # The first pair's source changes: only its own milestone follows, and both pairs then rest.
        view = clients[source].milestones
        (changed,) = view.list(sources[0])
        view.update(changed.model_copy(update={"amount": Money("1500.00", "USD")}))
        assert sync(first, clients, store).writes == 1
        assert replan(first, clients, store).is_noop and replan(second, clients, store).is_noop
        amounts = sorted(str(m.amount) for m in clients[target].milestones.list(shared))
        assert amounts == ["1000.00 USD", "1500.00 USD"]
