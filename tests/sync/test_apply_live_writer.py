"""A live writer that lost its lease (sync/_write_check.py) on the real emulators, on both stores: a rerun
takes the pair's lease over while the writer waits inside a write call (a 429's Retry-After, a request budget's
wait, Autotask's slot limiter) and the writer sends nothing more; with its lease intact it retries as before,
its intents re-stamped before the retry. Every platform's write path: Kantata's bulk POST, Autotask's POST,
crm.com's estimate (its set write)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from billing_milestones import AutotaskClient, KantataClient, Milestone, Money, Platform, errors
from billing_milestones._platforms import spec_for
from billing_milestones.demo import KANTATA_TOKEN
from billing_milestones.sandbox.autotask import AutotaskSandbox
from billing_milestones.sync import LinkStore, SyncPair, apply_plan, load_sides, plan_sync
from billing_milestones.sync import _write_check as write_check
from billing_milestones.sync import apply as apply_module

from ._round_trips import CountingBackend
from .fakes import FakeView
from .test_directions import _world

OLD = "2020-01-01T00:00:00.000+00:00"
#: Each target's write request (its path) and the source it is synced from.
WRITES = {
    Platform.KANTATA: (Platform.AUTOTASK, r"billing_milestones"),
    Platform.AUTOTASK: (Platform.KANTATA, r"Contracts/\d+/Milestones"),
    Platform.CRMCOM: (Platform.KANTATA, r"estimates/orders"),
}
TARGETS = pytest.mark.parametrize("target", list(WRITES), ids=[p.value for p in WRITES])


class Clock:
    """The writer's clock (the check's stamps) and sleeps: a wait moves it, and may run a takeover first."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []
        self.during_wait: Callable[[], None] = lambda: None

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.during_wait()
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The fake clock, and Autotask's creates one at a time: with several in flight, another call may send
    within the freshness of a stamp made just before the takeover (sound: the rerun waits a window from that
    stamp; ``test_write_check`` shows it), so what this run sends after the takeover would depend on timing."""
    clock = Clock()
    monkeypatch.setattr(write_check, "_clock", lambda: clock.now)
    one_at_a_time = dataclasses.replace(spec_for(Platform.AUTOTASK), max_in_flight=1)
    monkeypatch.setattr(apply_module, "spec_for", lambda p: one_at_a_time if p is Platform.AUTOTASK else spec_for(p))
    return clock


class World:
    def __init__(self, target: Platform, stack: ExitStack, clock: Clock, **target_options: Any) -> None:
        setup = _world()
        self.demo = setup["world"]
        self.clients = self.demo.clients(stack)
        if target_options:
            self.clients[target] = stack.enter_context(self._client(target, **target_options))
        source = WRITES[target][0]
        self.target, self.write_path = target, WRITES[target][1]
        self.sandbox = {Platform.KANTATA: self.demo.kantata, Platform.AUTOTASK: self.demo.autotask}.get(
            target, self.demo.crmcom
        )
        containers = []
        for side, platform in (("source", source), ("target", target)):
            spec = setup[side][platform]
            spec = spec() if callable(spec) else spec
            if platform is Platform.CRMCOM:
                spec = self.clients[Platform.CRMCOM].milestones.open_draft(spec)
            containers.append(spec)
        self.pair = SyncPair(source, containers[0], target, containers[1], triggers=setup["triggers"](target))
        self.clients[target]._runner._sleep = clock.sleep

    def _client(self, target: Platform, **options: Any) -> Any:
        if target is Platform.KANTATA:
            return KantataClient(KANTATA_TOKEN, http_client=self.demo.kantata.http_client(), **options)
        assert target is Platform.AUTOTASK
        return AutotaskClient(
            AutotaskSandbox.USERNAME,
            AutotaskSandbox.SECRET,
            AutotaskSandbox.INTEGRATION_CODE,
            currency="USD",
            http_client=self.demo.autotask.http_client(),
            **options,
        )

    def plan(self, store: LinkStore) -> Any:
        plan = plan_sync(self.pair, *load_sides(self.pair, self.clients), store)
        assert plan.counts()["create"] == 2
        return plan

    def writes(self, method: str = "POST") -> int:
        return int(self.sandbox.count_requests(method, self.write_path))


def _take_over(store: LinkStore, pair: SyncPair) -> None:
    """A rerun takes the lease, as it does once the writer's store session is gone (here: expired)."""
    store._raw("UPDATE leases SET expires_at=1 WHERE pair_id=?", (pair.identity,))
    assert store.try_lease(pair.identity, "rerun", ttl=60).owner == "rerun"


def _stopped_unsent(world: World, store: LinkStore, plan: Any, sent_before: int) -> None:
    with pytest.raises(errors.LeaseLostError):
        apply_plan(plan, world.clients, store)
    assert world.writes() == sent_before  # nothing sent after the takeover
    # Left for the rerun: Autotask's second create, begun after the lease was known lost, records nothing.
    assert len(store.pending(world.pair.id)) >= 1 and store.links(world.pair.id) == []
    holder = store.lease_holder(world.pair.identity)
    assert holder is not None and holder.owner == "rerun"


@TARGETS
def test_a_writer_taken_over_during_a_retry_after_wait_sends_nothing_more(
    target: Platform, store_url: str, clock: Clock
) -> None:
    with ExitStack() as stack, LinkStore(store_url) as store:
        world = World(target, stack, clock)
        plan = world.plan(store)
        before = world.writes()
        world.sandbox.faults.rate_limit(retry_after=30, method="POST", path=world.write_path, times=1)
        clock.during_wait = lambda: _take_over(store, world.pair)
        _stopped_unsent(world, store, plan, before + 1)
        assert clock.waits == [30.0]  # it did wait to retry


@TARGETS
def test_a_writer_whose_lease_is_intact_retries_as_before_its_intents_stamped_again(
    target: Platform, store_url: str, clock: Clock
) -> None:
    with ExitStack() as stack, LinkStore(store_url) as store:
        world = World(target, stack, clock)
        plan = world.plan(store)
        before = world.writes()
        world.sandbox.faults.rate_limit(retry_after=30, method="POST", path=world.write_path, times=1)
        clock.during_wait = lambda: store.backend.batch([("UPDATE intents SET created_at=?", (OLD,))])
        result = apply_plan(plan, world.clients, store)
        assert result.ok and len(store.links(world.pair.id)) == 2 and store.pending(world.pair.id) == []
        assert world.writes() == before + 2 + (target is Platform.AUTOTASK)  # one each, one sent twice
        stamps = [str(r["created_at"]) for r in store._raw("SELECT created_at FROM intents")]
        assert len(stamps) == 2 and min(stamps) > OLD  # re-stamped after the wait, before the retry


class ArmedBudget:
    """Admits every attempt; once armed, the next ask takes the lease over and waits 5 s for the budget."""

    def __init__(self) -> None:
        self.on_wait: Callable[[], None] | None = None

    def acquire(self) -> float | None:
        if self.on_wait is None:
            return None
        on_wait, self.on_wait = self.on_wait, None
        on_wait()
        return 5.0


@pytest.mark.parametrize("target", [Platform.KANTATA, Platform.AUTOTASK], ids=["kantata", "autotask"])
def test_a_writer_taken_over_while_it_waits_for_the_request_budget_sends_nothing(
    target: Platform, store_url: str, clock: Clock
) -> None:
    budget = ArmedBudget()
    with ExitStack() as stack, LinkStore(store_url) as store:
        world = World(target, stack, clock, request_budget=budget)
        plan = world.plan(store)
        budget.on_wait = lambda: _take_over(store, world.pair)
        _stopped_unsent(world, store, plan, world.writes())
        assert clock.waits == [5.0]


def test_an_autotask_writer_taken_over_while_it_waits_for_a_slot_sends_nothing(store_url: str, clock: Clock) -> None:
    armed: list[Callable[[], None]] = []

    @contextlib.contextmanager
    def slot(key: str) -> Iterator[None]:
        if armed:  # the slot is free 30 s later; meanwhile a rerun took the lease
            armed.pop()()
            clock.now += 30
        yield

    with ExitStack() as stack, LinkStore(store_url) as store:
        world = World(Platform.AUTOTASK, stack, clock, limiter=slot)
        plan = world.plan(store)
        armed.append(lambda: _take_over(store, world.pair))
        _stopped_unsent(world, store, plan, world.writes())


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_a_kantata_update_or_delete_taken_over_during_its_retry_wait_is_not_sent_again(
    method: str, store_url: str, clock: Clock
) -> None:
    with ExitStack() as stack, LinkStore(store_url) as store:
        world = World(Platform.KANTATA, stack, clock)
        assert apply_plan(world.plan(store), world.clients, store).ok
        contract = int(world.pair.source_container)
        source = next(i for i, r in world.demo.autotask.milestones.items() if r["contractID"] == contract)
        if method == "PUT":
            world.demo.autotask.milestones[source]["amount"] = "350.00"
        else:
            del world.demo.autotask.milestones[source]
        plan = plan_sync(world.pair, *load_sides(world.pair, world.clients), store)
        assert plan.counts()["update" if method == "PUT" else "delete"] == 1
        world.sandbox.faults.rate_limit(retry_after=30, method=method, path=world.write_path, times=1)
        clock.during_wait = lambda: _take_over(store, world.pair)
        with pytest.raises(errors.LeaseLostError):
            apply_plan(plan, world.clients, store)
        assert world.writes(method) == 1 and clock.waits == [30.0]
        assert len(store.pending(world.pair.id)) == 1 and len(store.links(world.pair.id)) == 2


@pytest.mark.parametrize("waited", [False, True], ids=["sent at once", "after a Retry-After"])
def test_fifty_kantata_creates_cost_no_check_when_sent_at_once_and_one_after_a_wait(
    waited: bool, store_url: str, clock: Clock
) -> None:
    """The bulk POST right after the statement that recorded its intents rides on that statement's stamp:
    the pair's round trips are what they were without the check (7 on PostgreSQL); a retry after a wait
    costs one statement."""
    source = FakeView(Platform.AUTOTASK)
    for i in range(50):
        source.add("77", Milestone(title=f"P{i}", amount=Money(f"{i}.25", "USD"), due=dt.date(2027, 1, 1)))
    with ExitStack() as stack, LinkStore(store_url) as store:
        world = World(Platform.KANTATA, stack, clock)
        workspace = world.demo.kantata.add_workspace("Fifty", currency="USD")
        clients = {**world.clients, Platform.AUTOTASK: source}
        pair = SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, workspace)
        plan = plan_sync(pair, *load_sides(pair, clients), store)
        if waited:
            world.sandbox.faults.rate_limit(retry_after=30, method="POST", path=world.write_path, times=1)
        counting = CountingBackend(store.backend)
        store.backend = counting
        result = apply_plan(plan, clients, store)
        store.backend = counting.inner
        assert result.ok and len(store.links(pair.id)) == 50
        if store.kind == "postgresql":
            assert counting.calls == 7 + waited
