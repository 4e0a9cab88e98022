"""A worker reads a pair's two platforms at once (``load_sides(parallel=True)``): same rows as one after the
other, a failure on either side raised, one platform on both sides read in turn."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from billing_milestones import Milestone, Money, Platform
from billing_milestones.sync import SyncPair, load_sides

from ..sync.fakes import FakeView


class _Meeting(FakeView):
    """A view whose listing waits until the other side's listing has started too."""

    def __init__(self, platform: Platform, meeting: threading.Barrier) -> None:
        super().__init__(platform)
        self.meeting = meeting

    def list(self, container_id: str) -> Iterator[Milestone]:
        self.meeting.wait()  # BrokenBarrierError (after the barrier's timeout) unless the two reads overlap
        yield from super().list(container_id)


def _views(meeting: threading.Barrier) -> tuple[_Meeting, _Meeting, SyncPair]:
    source, target = _Meeting(Platform.AUTOTASK, meeting), _Meeting(Platform.KANTATA, meeting)
    for i in range(3):
        source.add("77", Milestone(title=f"S{i}", amount=Money("1.00", "USD")))
        target.add("900", Milestone(title=f"T{i}", amount=Money("2.00", "USD")))
    return source, target, SyncPair(Platform.AUTOTASK, "77", Platform.KANTATA, "900")


def test_the_two_sides_are_read_at_once_with_the_same_rows() -> None:
    source, target, pair = _views(threading.Barrier(2, timeout=5))
    views = {Platform.AUTOTASK: source, Platform.KANTATA: target}
    got_source, got_target = load_sides(pair, views, parallel=True)
    assert [r.title for r in got_source] == ["S0", "S1", "S2"] and [r.title for r in got_target] == ["T0", "T1", "T2"]
    source.meeting, target.meeting = threading.Barrier(1), threading.Barrier(1)  # nobody to wait for
    again = load_sides(pair, views)
    assert [[r.title for r in side] for side in again] == [["S0", "S1", "S2"], ["T0", "T1", "T2"]]


def test_without_parallel_the_reads_do_not_overlap() -> None:
    source, target, pair = _views(threading.Barrier(2))
    source.meeting = target.meeting = threading.Barrier(2, timeout=0.2)
    with pytest.raises(threading.BrokenBarrierError):
        load_sides(pair, {Platform.AUTOTASK: source, Platform.KANTATA: target})


def test_a_failing_side_is_raised_either_way() -> None:
    for failing in ("source", "target"):
        source, target, pair = _views(threading.Barrier(1))
        views = {Platform.AUTOTASK: source, Platform.KANTATA: target}
        broken = source if failing == "source" else target

        def fail(container_id: str, failing: str = failing) -> Iterator[Milestone]:
            raise RuntimeError(f"{failing} is down")
            yield  # pragma: no cover - a generator, as list is

        broken.list = fail  # type: ignore[method-assign]
        with pytest.raises(RuntimeError, match=f"{failing} is down"):
            load_sides(pair, views, parallel=True)


def test_one_platform_on_both_sides_is_read_in_turn() -> None:
    meeting = threading.Barrier(2, timeout=0.2)
    view = _Meeting(Platform.KANTATA, meeting)
    view.add("1", Milestone(title="a", amount=Money("1.00", "USD")))
    view.meeting = threading.Barrier(1)
    pair = SyncPair(Platform.KANTATA, "1", Platform.KANTATA, "2")
    source, target = load_sides(pair, view, parallel=True)  # one client: never two reads on it at once
    assert [r.title for r in source] == ["a"] and target == []
