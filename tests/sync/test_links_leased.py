"""The store calls that renew the pair's lease in the round trip that needs it (sync/store/_leased.py): the
same renewal, rows and refusals as ``Lease.ensure`` followed by the call, in fewer round trips on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from billing_milestones import Milestone, Money, Platform, errors
from billing_milestones.sync import Link, LinkStore, SyncPair, apply_plan, load_sides, plan_sync
from billing_milestones.sync.store._leased import begin_leased, renew_and_read

from ._round_trips import CountingBackend
from .fakes import FakeView


def _expires(store: LinkStore, lease_id: str) -> float:
    return float(store._raw("SELECT expires_at FROM leases WHERE pair_id=?", (lease_id,))[0]["expires_at"])


def test_renew_and_read_renews_the_lease_and_reads_the_version_and_the_pending_intents(store_url: str) -> None:
    with LinkStore(store_url) as store:
        store.try_lease("L", "a", ttl=5)
        before = _expires(store, "L")
        empty = renew_and_read(store, "p", "L", "a", 60)
        assert empty is not None and (empty.version, empty.intents) == (0, ())
        assert _expires(store, "L") > before + 50  # renewed for the ttl given
        store.put(Link("p", "k0", "autotask:1/0", "kantata:2/0", "s", "t"))
        ids = store.begin_many("p", [("k2", "create"), ("k1", "update")])
        store.begin("q", "k9", "create")  # another pair's
        state = renew_and_read(store, "p", "L", "a", 60)
        assert state is not None and state.version == 1
        assert [(i.id, i.sync_key, i.action, i.state) for i in state.intents] == [
            (ids[0], "k2", "create", "pending"),
            (ids[1], "k1", "update", "pending"),
        ]
        assert list(state.pending("p")) == list(state.intents) == store.pending("p")


def test_renew_and_read_reads_nothing_for_a_lease_that_is_not_the_callers(store_url: str) -> None:
    with LinkStore(store_url) as store:
        store.try_lease("L", "a", ttl=60)
        held = _expires(store, "L")
        assert renew_and_read(store, "p", "L", "b", 60) is None  # another owner's
        assert _expires(store, "L") == held
        store._raw("UPDATE leases SET expires_at=1")
        assert renew_and_read(store, "p", "L", "a", 60) is None  # expired: not renewed
        assert _expires(store, "L") == 1


def test_begin_leased_records_the_intents_only_while_the_lease_is_the_callers(store_url: str) -> None:
    with LinkStore(store_url) as store:
        store.try_lease("L", "a", ttl=5)
        before = _expires(store, "L")
        ids = begin_leased(store, "p", [("k1", "create"), ("k0", "create")], "L", "a", 60)
        assert ids is not None and len(set(ids)) == 2
        assert [(i.id, i.sync_key) for i in store.pending("p")] == list(zip(ids, ["k1", "k0"], strict=True))
        assert _expires(store, "L") > before + 50
        assert begin_leased(store, "p", [("k5", "create")], "L", "b", 60) is None  # another owner's lease
        store._raw("UPDATE leases SET expires_at=1")
        assert begin_leased(store, "p", [("k6", "create"), ("k7", "delete")], "L", "a", 60) is None  # expired
        assert [i.sync_key for i in store.pending("p")] == ["k1", "k0"]  # nothing recorded by the refusals
        assert _expires(store, "L") == 1
        store.try_lease("L", "a", ttl=60)
        twice = begin_leased(store, "p", [("k8", "create"), ("k8", "delete")], "L", "a", 60)  # a repeated key
        assert twice is not None and len(set(twice)) == 2 and len(store.pending("p")) == 4


def test_begin_leased_of_no_writes_only_renews_and_says_whose_the_lease_is(store_url: str) -> None:
    with LinkStore(store_url) as store:
        store.try_lease("L", "a", ttl=5)
        before = _expires(store, "L")
        assert begin_leased(store, "p", [], "L", "b", 60) is None  # another owner's: nothing renewed
        assert _expires(store, "L") == before
        assert begin_leased(store, "p", [], "L", "a", 60) == []
        assert _expires(store, "L") > before + 50 and store.pending("p") == []


def _seeded(n: int) -> tuple[SyncPair, dict[Platform, FakeView]]:
    source, target = FakeView(Platform.AUTOTASK), FakeView(Platform.KANTATA)
    for i in range(n):
        source.add("77", Milestone(title=f"P{i}", amount=Money(f"{i}.25", "USD"), due=dt.date(2027, 1, 1)))
    return SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900"), {
        Platform.AUTOTASK: source,
        Platform.KANTATA: target,
    }


def test_a_batch_of_creates_on_postgresql_is_seven_round_trips(store_url: str) -> None:
    """The lease taken, renewed with the version and pending intents read, the run's history row opened
    (sync/runs.py, since 30cfeef), renewed with the batch's intents recorded, the links, the run, the lease
    given back: was ten (a renewal, a version read, a pending read and a close of none, each on its own, and
    the batch's renewal apart from its intents)."""
    pair, views = _seeded(50)
    with LinkStore(store_url) as store:
        plan = plan_sync(pair, *load_sides(pair, views), store)
        counting = CountingBackend(store.backend)
        store.backend = counting
        result = apply_plan(plan, views, store)
        store.backend = counting.inner
        assert result.ok and len(store.links(pair.id)) == 50 and store.pending(pair.id) == []
    if store.kind == "postgresql":
        assert counting.calls == 7


def test_a_stopped_runs_settled_intents_are_still_closed_by_the_next_apply(store_url: str) -> None:
    pair, views = _seeded(2)
    with LinkStore(store_url) as store:
        store.begin(pair.id, "old", "create")
        store._raw("UPDATE intents SET created_at='2020-01-01T00:00:00+00:00'")
        plan = plan_sync(pair, *load_sides(pair, views), store)
        assert apply_plan(plan, views, store).ok
        assert store.pending(pair.id) == []
        (closed,) = [i for i in store._raw("SELECT sync_key, state FROM intents") if i["sync_key"] == "old"]
        assert closed["state"] == "failed"


def test_a_lease_known_lost_writes_nothing_even_while_its_row_would_still_renew(store_url: str) -> None:
    """The heartbeat could not reach the store (so the lease is lost for this run) while the row stayed
    ours: the run must stop, not renew it again in the call that records its intents."""
    pair, views = _seeded(3)
    with LinkStore(store_url) as store:
        plan = plan_sync(pair, *load_sides(pair, views), store)
        with store.lease(pair.identity) as lease:
            lease._lost.set()
            with pytest.raises(errors.LeaseLostError):
                apply_plan(plan, views, store, lease=lease)
            assert store.renew_lease(pair.identity, lease.owner, lease.ttl)  # the row was still ours
        assert store.pending(pair.id) == [] and not views[Platform.KANTATA].data.get("900")


def test_a_lease_taken_over_after_the_checks_records_no_intent_and_sends_nothing(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from billing_milestones.sync import apply as apply_module

    pair, views = _seeded(3)
    with LinkStore(store_url) as store:
        plan = plan_sync(pair, *load_sides(pair, views), store)

        def read_then_lose(*args: Any) -> Any:
            state = renew_and_read(*args)
            store._raw("UPDATE leases SET expires_at=1")
            store.try_lease(pair.identity, "thief", ttl=60)
            return state

        monkeypatch.setattr(apply_module, "renew_and_read", read_then_lose)
        with store.lease(pair.identity) as lease, pytest.raises(errors.LeaseLostError):
            apply_plan(plan, views, store, lease=lease)
        assert store.pending(pair.id) == [] and not views[Platform.KANTATA].data.get("900")
        holder = store.lease_holder(pair.identity)
        assert holder is not None and holder.owner == "thief"


def test_a_young_pending_intent_read_before_writing_refuses_the_plan_naming_the_pair(store_url: str) -> None:
    """The pending intents read with the lease's renewal are the ones the settle check judges: one begun
    just now (a stopped run's write that may still land) refuses the plan, naming the pair; nothing sent."""
    pair, views = _seeded(2)
    with LinkStore(store_url) as store:
        plan = plan_sync(pair, *load_sides(pair, views), store)
        store.begin(pair.id, "young", "create")
        with pytest.raises(errors.PendingWritesError) as refused:
            apply_plan(plan, views, store, write_settle=600)
        assert refused.value.pair_id == pair.id and pair.id in str(refused.value) and refused.value.pending == 1
        assert [i.sync_key for i in store.pending(pair.id)] == ["young"]
        assert not views[Platform.KANTATA].data.get("900")
