"""One writer per pair: the lease in the link store."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from billing_milestones import errors
from billing_milestones.sync import LinkStore
from billing_milestones.sync.lease import Lease


def test_a_second_run_cannot_take_a_held_lease_and_says_who_holds_it(tmp_path: Path) -> None:
    with LinkStore(tmp_path / "links.sqlite3") as one, LinkStore(tmp_path / "links.sqlite3") as two:
        with one.lease("p", owner="run-a"):
            with pytest.raises(errors.PairBusyError, match="run-a") as info:
                two.lease("p", owner="run-b").acquire()
            assert info.value.owner == "run-a" and info.value.pair_id == "p"
            assert two.lease_holder("p") is not None
        # released: the second run takes it now
        with two.lease("p", owner="run-b") as lease:
            assert lease.held
        assert one.lease_holder("p") is None


def test_leases_are_per_pair() -> None:
    store = LinkStore(":memory:")
    with store.lease("p1", owner="a"), store.lease("p2", owner="b") as second:
        assert second.held


def test_a_waiting_run_gets_the_lease_when_the_holder_releases(tmp_path: Path) -> None:
    store = LinkStore(":memory:")
    first = store.lease("p", owner="a").acquire()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            first.release()

    second = Lease(store, "p", owner="b", wait=10, sleep=sleep).acquire()
    assert second.held and len(waits) == 3
    second.release()


def test_the_wait_is_bounded(tmp_path: Path) -> None:
    store = LinkStore(":memory:")
    store.lease("p", owner="a").acquire()
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(errors.PairBusyError):
        Lease(store, "p", owner="b", wait=1.0, clock=lambda: now[0], sleep=sleep).acquire()
    assert now[0] == pytest.approx(1.0)


def test_a_crashed_runs_lease_expires_and_the_next_run_proceeds() -> None:
    store = LinkStore(":memory:")
    store.try_lease("p", "crashed", ttl=0.05)  # taken, then never renewed: the process died
    with pytest.raises(errors.PairBusyError):
        store.lease("p", owner="next").acquire()
    time.sleep(0.08)
    with store.lease("p", owner="next") as lease:
        assert lease.held


def test_a_lease_taken_over_after_a_stall_stops_the_next_write() -> None:
    store = LinkStore(":memory:")
    lease = store.lease("p", owner="slow", ttl=60).acquire()
    lease.ensure()  # ours: fine
    # Simulate the stall: the lease expired and another run took it.
    store._db.execute("UPDATE leases SET expires_at=0 WHERE pair_id='p'")
    store.try_lease("p", "other", ttl=60)
    with pytest.raises(errors.LeaseLostError, match="stopped before the next write"):
        lease.ensure()
    assert not lease.held
    lease.release()
    assert store.lease_holder("p") is not None and store.lease_holder("p").owner == "other"  # type: ignore[union-attr]


def test_the_heartbeat_keeps_a_long_run_s_lease_alive() -> None:
    store = LinkStore(":memory:")
    with store.lease("p", owner="long", ttl=0.15) as lease:
        time.sleep(0.4)  # longer than the ttl: only the heartbeat keeps it
        lease.ensure()
        with pytest.raises(errors.PairBusyError):
            store.lease("p", owner="other").acquire()


@pytest.mark.parametrize(
    ("ttl", "wait", "field"), [(0, 0, "lease_ttl"), (-1, 0, "lease_ttl"), (True, 0, "lease_ttl"), (1, -1, "lease_wait")]
)
def test_bad_lease_settings_are_refused_by_name(ttl: float, wait: float, field: str) -> None:
    with pytest.raises(errors.ValidationError) as info:
        LinkStore(":memory:").lease("p", ttl=ttl, wait=wait)
    assert info.value.field == field


def test_every_link_change_bumps_the_pair_version() -> None:
    from billing_milestones.sync import Link

    store = LinkStore(":memory:")
    assert store.version("p") == 0
    store.put(Link("p", "k", "s", "t", "a", "b"))
    store.put(Link("p", "k", "s", "t", "a", "c"))
    assert store.version("p") == 2 and store.version("other") == 0
    store.remove("p", "k")
    assert store.version("p") == 3


def test_a_holder_killed_on_this_machine_is_not_waited_for() -> None:
    import os
    import socket
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(child.stdout)  # exited: no such process any more
    store = LinkStore(":memory:")
    store.try_lease("p", f"{socket.gethostname()}:{dead_pid}:abcd1234", ttl=600)
    with store.lease("p", owner="next") as lease:
        assert lease.held
    # A live holder (this very process, another run in it) is waited for as usual.
    store.try_lease("p", f"{socket.gethostname()}:{os.getpid()}:other", ttl=600)
    with pytest.raises(errors.PairBusyError):
        store.lease("p", owner="next").acquire()
