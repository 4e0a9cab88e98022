"""A batch of creates on both link stores: every intent is committed (visible to another connection) before
the batch is sent, and a run that dies mid-batch or gets a short reply leaves the next run nothing to create
twice: it adopts what the target stored by sync key (a milestone created twice is an invoice sent twice)."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Sequence

import pytest

from billing_milestones import Milestone, Money, Platform
from billing_milestones.sync import ActionKind, LinkStore, SyncPair, apply_plan, load_sides, plan_sync

from .sync.fakes import CrashAfter, FakeView

D = dt.date(2026, 12, 1)
PAIR = SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900")


class Target(FakeView):
    """Stores every create; then answers short, or dies, as told; records what another connection saw."""

    def __init__(self, store_url: str) -> None:
        super().__init__(Platform.KANTATA)
        self.store_url = store_url
        self.short = False
        self.die = False
        self.pending_seen: list[int] = []

    def create(self, container_id: str, milestones: Sequence[Milestone]) -> builtins.list[Milestone]:
        with LinkStore(self.store_url) as other:  # another connection: sees only what is committed
            self.pending_seen.append(len(other.pending(PAIR.id)))
        created = super().create(container_id, milestones)
        if self.die:
            raise CrashAfter
        return created[:-1] if self.short else created


def sides(n: int, store_url: str) -> tuple[FakeView, Target]:
    source = FakeView(Platform.AUTOTASK)
    for i in range(n):
        source.add("77", Milestone(title=f"Phase {i}", amount=Money(f"{100 + i}.25", "USD"), due=D))
    return source, Target(store_url)


def sync(source: FakeView, target: Target, store: LinkStore) -> object:
    views = {Platform.AUTOTASK: source, Platform.KANTATA: target}
    src, tgt = load_sides(PAIR, views)
    # write_settle=0: the fake target holds what a crashed run wrote at once, nothing is left in flight to
    # land later, so the rerun need not wait out the stopped run's pending writes (tests/sync/test_settle.py).
    return apply_plan(plan_sync(PAIR, src, tgt, store), views, store, write_settle=0)


def test_every_intent_of_a_batch_is_committed_before_it_is_sent(store_url: str) -> None:
    source, target = sides(5, store_url)
    with LinkStore(store_url) as store:
        sync(source, target, store)
        assert target.pending_seen == [5]
        assert store.pending(PAIR.id) == [] and len(store.links(PAIR.id)) == 5


@pytest.mark.parametrize("failure", ["short", "die"])
def test_the_run_after_a_short_reply_or_a_crash_adopts_and_creates_nothing_twice(store_url: str, failure: str) -> None:
    source, target = sides(4, store_url)
    setattr(target, failure, True)
    with LinkStore(store_url) as store:
        with pytest.raises((ValueError, CrashAfter)):
            sync(source, target, store)
        assert len(target.data["900"]) == 4 and store.pending(PAIR.id)
        setattr(target, failure, False)
        result = sync(source, target, store)
        assert result.ok, result.failures  # type: ignore[attr-defined]
        assert result.count(ActionKind.CREATE) == 0  # type: ignore[attr-defined]
        assert len(target.data["900"]) == 4 and len(store.links(PAIR.id)) == 4
        assert store.pending(PAIR.id) == []
