"""One writer per pair: the lease in the link store, on every backend (SQLite and a real PostgreSQL)."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time

import pytest

from billing_milestones import errors
from billing_milestones.sync import LinkStore
from billing_milestones.sync.lease import Lease


def test_a_second_run_cannot_take_a_held_lease_and_says_who_holds_it(store_url: str) -> None:
    with LinkStore(store_url) as one, LinkStore(store_url) as two:
        with one.lease("p", owner="run-a"):
            with pytest.raises(errors.PairBusyError, match="run-a") as info:
                two.lease("p", owner="run-b").acquire()
            assert info.value.owner == "run-a" and info.value.pair_id == "p"
            assert two.lease_holder("p") is not None
        # released: the second run takes it now
        with two.lease("p", owner="run-b") as lease:
            assert lease.held
        assert one.lease_holder("p") is None


def test_leases_are_per_pair(store_url: str) -> None:
    store = LinkStore(store_url)
    with store.lease("p1", owner="a"), store.lease("p2", owner="b") as second:
        assert second.held


def test_a_waiting_run_gets_the_lease_when_the_holder_releases(store_url: str) -> None:
    store = LinkStore(store_url)
    first = store.lease("p", owner="a").acquire()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            first.release()

    second = Lease(store, "p", owner="b", wait=10, sleep=sleep).acquire()
    assert second.held and len(waits) == 3
    second.release()


def test_the_wait_is_bounded(store_url: str) -> None:
    store = LinkStore(store_url)
    store.lease("p", owner="a").acquire()
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(errors.PairBusyError):
        Lease(store, "p", owner="b", wait=1.0, clock=lambda: now[0], sleep=sleep).acquire()
    assert now[0] == pytest.approx(1.0)


def test_a_crashed_runs_lease_expires_and_the_next_run_proceeds(store_url: str) -> None:
    store = LinkStore(store_url)
    store.try_lease("p", "crashed", ttl=0.05)  # taken, then never renewed: the process died
    with pytest.raises(errors.PairBusyError):
        store.lease("p", owner="next").acquire()
    time.sleep(0.08)
    with store.lease("p", owner="next") as lease:
        assert lease.held


def test_a_lease_taken_over_after_a_stall_stops_the_next_write(store_url: str) -> None:
    store = LinkStore(store_url)
    lease = store.lease("p", owner="slow", ttl=60).acquire()
    lease.ensure()  # ours: fine
    # Simulate the stall: the lease expired and another run took it.
    store._raw("UPDATE leases SET expires_at=0 WHERE pair_id='p'")
    store.try_lease("p", "other", ttl=60)
    with pytest.raises(errors.LeaseLostError, match="stopped before the next write"):
        lease.ensure()
    assert not lease.held
    lease.release()
    assert store.lease_holder("p") is not None and store.lease_holder("p").owner == "other"  # type: ignore[union-attr]


def test_the_heartbeat_keeps_a_long_run_s_lease_alive(store_url: str) -> None:
    store = LinkStore(store_url)
    # A ttl a loaded machine can keep (a heartbeat every third of it): 0.15 s was missed under a load of 6.
    with store.lease("p", owner="long", ttl=0.6) as lease:
        time.sleep(1.3)  # longer than twice the ttl: only the heartbeat keeps it
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


def test_every_link_change_bumps_the_pair_version(store_url: str) -> None:
    from billing_milestones.sync import Link

    store = LinkStore(store_url)
    assert store.version("p") == 0
    store.put(Link("p", "k", "s", "t", "a", "b"))
    store.put(Link("p", "k", "s", "t", "a", "c"))
    assert store.version("p") == 2 and store.version("other") == 0
    store.remove("p", "k")
    assert store.version("p") == 3


def test_a_holder_killed_on_this_machine_is_not_waited_for(store_url: str) -> None:
    import os
    import socket
    import subprocess
    import sys

    from billing_milestones.sync.lease import _PLACE

    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(child.stdout)  # exited: no such process any more
    store = LinkStore(store_url)
    host = socket.gethostname()
    if _PLACE:  # Linux: the owner says which PID namespace, on which booted machine, its process id is in
        store.try_lease("p", f"{host}:{dead_pid}:abcd1234-{_PLACE}", ttl=600)
        with store.lease("p", owner="next") as lease:
            assert lease.held
    # The same host name and a free process id, but the id read in another PID namespace (a container sharing
    # the host's name, its own PIDs), on another machine of the same name (whose namespace's number may well be
    # this one's: the initial namespace's is the same on every Linux host), or in none the owner says (an older
    # version's owner): its process may be alive where this one cannot see it, so the lease is waited out.
    namespace, _, boot = _PLACE.partition(".")
    others = [f"1{namespace}.{boot}", f"{namespace}.{'0' * len(boot)}", namespace, ""]
    for owner in [f"{host}:{dead_pid}:abcd1234-{other}" for other in others] + [f"{host}:{dead_pid}:abcd1234"]:
        store.try_lease("p", owner, ttl=600)
        with pytest.raises(errors.PairBusyError):
            store.lease("p", owner="next").acquire()
        store.release_lease("p", owner)
    # A live holder (this very process, another run in it) is waited for as usual.
    store.try_lease("p", f"{host}:{os.getpid()}:other-{_PLACE}", ttl=600)
    with pytest.raises(errors.PairBusyError):
        store.lease("p", owner="next").acquire()


def test_a_run_s_owner_names_its_host_process_pid_namespace_and_boot() -> None:
    import os
    import socket

    from billing_milestones.sync.lease import _PLACE, new_owner

    host, pid, run = new_owner().split(":")
    assert (host, int(pid)) == (socket.gethostname(), os.getpid())
    assert run.rpartition("-")[2] == _PLACE if _PLACE else "-" not in run
    assert new_owner() != new_owner()
    if os.path.exists("/proc/self/ns/pid") and os.path.exists("/proc/sys/kernel/random/boot_id"):
        namespace, _, boot = _PLACE.partition(".")
        assert namespace and namespace in os.readlink("/proc/self/ns/pid")
        with open("/proc/sys/kernel/random/boot_id") as booted:
            assert boot and boot in booted.read().replace("-", "")


def test_two_runs_racing_for_a_free_pair_see_one_winner(store_url: str) -> None:
    """Many threads, each with its own connection, all try at once: exactly one holds the lease."""
    import threading

    stores = [LinkStore(store_url) for _ in range(6)]
    barrier = threading.Barrier(len(stores))
    winners: list[str] = []

    def race(i: int) -> None:
        barrier.wait()
        holder = stores[i].try_lease("p", f"run-{i}", ttl=60)
        if holder.owner == f"run-{i}":
            winners.append(holder.owner)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    holder = stores[0].lease_holder("p")
    assert holder is not None and holder.owner == winners[0]
    for store in stores:
        store.close()


def test_a_released_lease_is_free_and_renewing_it_fails(store_url: str) -> None:
    store = LinkStore(store_url)
    holder = store.try_lease("p", "a", ttl=60)
    assert holder.owner == "a" and holder.expires_at > time.time() - 5
    assert store.renew_lease("p", "a", ttl=60)
    assert not store.renew_lease("p", "b", ttl=60)
    store.release_lease("p", "b")  # not ours: nothing happens
    assert store.lease_holder("p") is not None
    store.release_lease("p", "a")
    assert store.lease_holder("p") is None and not store.renew_lease("p", "a", ttl=60)
    store.close()


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rpartition(")")[2].split()[0]


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="a zombie is told by /proc (Linux)")
def test_a_holder_killed_on_this_machine_but_not_yet_reaped_is_not_waited_for(store_url: str) -> None:
    """A child that exited and that its parent has not waited for is a zombie: ``os.kill(pid, 0)`` still
    succeeds on it, but it runs nothing and its connections are closed, so its lease is freed at once."""
    from billing_milestones.sync.lease import _PLACE

    if not _PLACE:
        pytest.skip("this machine's PID namespace or boot id cannot be read")
    child = subprocess.Popen([sys.executable, "-c", "pass"])  # never waited for until the end: a zombie
    try:
        deadline = time.monotonic() + 30
        while _state(child.pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _state(child.pid) == "Z"
        os.kill(child.pid, 0)  # what the check did before: a zombie answers like a live process
        store = LinkStore(store_url)
        store.try_lease("p", f"{socket.gethostname()}:{child.pid}:abcd1234-{_PLACE}", ttl=600)
        with store.lease("p", owner="next") as lease:
            assert lease.held
        store.close()
    finally:
        child.wait()


#: The raw ``exit`` system call (one thread, not the process's ``exit_group``), by machine.
_SYS_EXIT = {"x86_64": 60, "aarch64": 93}.get(platform.machine())


@pytest.mark.skipif(not os.path.isdir("/proc/self/task") or _SYS_EXIT is None, reason="Linux on x86_64 or arm64")
def test_a_holder_whose_main_thread_ended_while_another_runs_is_waited_for(store_url: str) -> None:
    """Its process's own id shows ``Z`` in ``/proc/PID/stat`` while its other thread may still be writing:
    alive, its lease waited out."""
    from billing_milestones.sync.lease import _PLACE

    if not _PLACE:
        pytest.skip("this machine's PID namespace or boot id cannot be read")
    code = (
        "import ctypes, threading, time\n"
        "threading.Thread(target=time.sleep, args=(60,)).start()\n"
        "print('ready', flush=True)\n"
        f"ctypes.CDLL(None, use_errno=True).syscall({_SYS_EXIT}, 0)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 30
        while _state(child.pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _state(child.pid) == "Z"  # the main thread's state, shown for the whole process
        store = LinkStore(store_url)
        owner = f"{socket.gethostname()}:{child.pid}:abcd1234-{_PLACE}"
        store.try_lease("p", owner, ttl=600)
        with pytest.raises(errors.PairBusyError):
            store.lease("p", owner="next").acquire()
        holder = store.lease_holder("p")
        assert holder is not None and holder.owner == owner
        store.close()
    finally:
        child.kill()
        child.wait()


def test_a_heartbeat_that_cannot_reach_the_store_counts_the_lease_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    store = LinkStore(":memory:")
    renewals: list[str] = []

    def unreachable(pair_id: str, owner: str, ttl: float) -> bool:
        renewals.append(owner)
        raise OSError("connection refused")

    with store.lease("p", owner="cut-off", ttl=0.3) as lease:
        monkeypatch.setattr(store, "renew_lease", unreachable)  # taken, then the store cannot be reached
        deadline = time.monotonic() + 5
        while lease.held and time.monotonic() < deadline:
            time.sleep(0.02)
        # The store could not vouch for the lease: the run stops, asking nothing more of it.
        assert not lease.held and renewals == ["cut-off"]
        with pytest.raises(errors.LeaseLostError, match="expired or was taken over"):
            lease.ensure()
        assert renewals == ["cut-off"]


def test_a_lease_not_taken_or_given_back_refuses_every_write_by_name() -> None:
    store = LinkStore(":memory:")
    lease = store.lease("p", owner="never")
    with pytest.raises(errors.LeaseLostError, match="pair p: no lease is held by this run") as info:
        lease.ensure()
    assert info.value.pair_id == "p" and store.lease_holder("p") is None  # asking took nothing
    with lease:
        lease.ensure()
    with pytest.raises(errors.LeaseLostError, match="no lease is held"):
        lease.ensure()  # given back: a write after the run's end is refused too
