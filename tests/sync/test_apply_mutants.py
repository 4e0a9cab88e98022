"""An interrupted apply reports every write it made, once (sync/apply.py ``_bounded``).

A caller counting writes from the progress callback (the CLI's "interrupted: N writes done") must get the
exact number: on Autotask, where up to three writes are in flight, the ones already running when the
callback raises still finish and are reported, none twice and none left out; on a platform that takes one
write at a time, nothing is written after the interruption.
"""

from __future__ import annotations

import datetime as dt
import time

from billing_milestones import Milestone, Money, Platform
from billing_milestones.sync import ActionKind, ActionResult, LinkStore, SyncPair, apply_plan, load_sides, plan_sync

from .fakes import CrashAfter, FakeView

D = dt.date(2026, 12, 1)


def _linked(source: Platform, target: Platform, n: int) -> tuple[dict[Platform, FakeView], SyncPair, LinkStore]:
    """A pair whose n milestones were synced once, then all changed in the source: n updates to make."""
    views = {source: FakeView(source), target: FakeView(target)}
    for i in range(n):
        views[source].add("s", Milestone(title=f"Phase {i}", amount=Money(f"{100 + i}.00", "USD"), due=D))
    pair = SyncPair(source, "s", target, "t")
    store = LinkStore(":memory:")
    assert apply_plan(plan_sync(pair, *load_sides(pair, views), store), views, store).ok
    box = views[source].data["s"]
    for native, m in box.items():
        box[native] = m.model_copy(update={"amount": Money("1.00", "USD") + m.amount})
    views[target].calls.clear()
    return views, pair, store


def _interrupted(
    views: dict[Platform, FakeView], pair: SyncPair, store: LinkStore, at: int, pause: float = 0.0
) -> list[object]:
    plan = plan_sync(pair, *load_sides(pair, views), store)
    assert {a.kind for a in plan.actions} == {ActionKind.UPDATE}
    reported: list[object] = []

    def progress(r: object) -> None:
        reported.append(r)
        if len(reported) == at:
            time.sleep(pause)
            raise CrashAfter

    try:
        apply_plan(plan, views, store, progress=progress)
    except CrashAfter:
        pass
    else:
        raise AssertionError("the progress callback's error was swallowed")
    return reported


def test_writes_in_flight_when_interrupted_are_each_reported_once() -> None:
    views, pair, store = _linked(Platform.KANTATA, Platform.AUTOTASK, 6)
    reported = _interrupted(views, pair, store, at=2)
    assert all(isinstance(r, ActionResult) and r.ok and r.wrote for r in reported), reported
    keys = [r.action.sync_key for r in reported]  # type: ignore[attr-defined]
    assert len(keys) == len(set(keys)), "a write reported twice"
    assert len(reported) == views[Platform.AUTOTASK].calls.count("update"), "a write made but not reported"


def test_a_one_at_a_time_platform_writes_nothing_after_the_interruption() -> None:
    views, pair, store = _linked(Platform.AUTOTASK, Platform.KANTATA, 3)
    # The pause gives any write queued behind the first the time to start, were one queued.
    reported = _interrupted(views, pair, store, at=1, pause=0.05)
    assert len(reported) == 1 and views[Platform.KANTATA].calls.count("update") == 1
