"""The crash-point sweep of ``test_crash_points`` on a second run and on a per-item target: a worker killed
while it updates or deletes what the source changed (amounts edited, a milestone removed: Kantata -> Kantata),
and one killed among Autotask's creates, three in flight at once (Kantata -> Autotask). The rerun, by another
worker, must leave the target exactly as the source is, every killed run closed as lost."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest

from billing_milestones import Money

from .._chaos import CHAOS
from .._crash_rig import AUTOTASK_CREATE, KANTATA_CREATE, CrashRig, crash_rig
from .._postgres import PostgresServer, fresh_database
from ._crash_workers import enqueue, job_done, rerun_and_check, standby, worker
from ._waiting import wait_for

_UPDATE = r"/kantata/api/v1/billing_milestones/\d+"


@pytest.fixture
def rig(tmp_path: Path, postgres_server: PostgresServer) -> Iterator[CrashRig]:
    with crash_rig(tmp_path, fresh_database(postgres_server)) as made:
        yield made


def _synced_then_changed(rig: CrashRig) -> subprocess.Popen[bytes]:
    """``k2k`` synced by a worker (left running: it takes the next job), then its source changed: two amounts
    edited, one milestone removed. The worker's process."""
    rig.seed_kantata(4)
    enqueue(rig, "k2k")
    doomed = worker(rig, "doomed")
    job_done(rig, "doomed")
    assert rig.check("k2k") == {}
    workspace = rig.containers["k2k"][0].split(":")[1]
    with rig.clients() as (kantata, _):
        by_title = {m.title: m for m in kantata.milestones.list(workspace)}
        for title, amount in (("K M0", "999.99"), ("K M1", "1.05")):
            kantata.milestones.update(by_title[title].model_copy(update={"amount": Money(amount, "USD")}))
        key = by_title["K M3"].key
        assert key is not None
        kantata.milestones.delete(key)
    return doomed


@pytest.mark.parametrize(
    ("method", "where", "delivered"),
    [
        pytest.param("PUT", "answer", True, id="update-stored-unanswered", marks=CHAOS),
        pytest.param("PUT", "request", False, id="update-lost-on-the-way"),
        pytest.param("PUT", "request", True, id="update-stored-after-the-kill", marks=CHAOS),
        pytest.param("DELETE", "answer", True, id="delete-done-unanswered"),
        pytest.param("DELETE", "request", False, id="delete-lost-on-the-way", marks=CHAOS),
        pytest.param("DELETE", "request", True, id="delete-done-after-the-kill", marks=CHAOS),
    ],
)
def test_killed_during_an_update_or_a_delete(
    rig: CrashRig, method: str, where: Literal["request", "answer"], delivered: bool
) -> None:
    doomed = _synced_then_changed(rig)
    write = rig.tap.hold(method, _UPDATE, where)
    enqueue(rig, "k2k")
    write.wait()
    standby(rig)
    rig.kill(doomed)
    if delivered:
        write.release()
    else:
        write.drop()
    rerun_and_check(rig, "k2k", killed=1, adopted=None)
    source, target = rig.sides("k2k")
    assert {s.title: s.amount for s in target} == {s.title: s.amount for s in source}
    assert "K M3" not in {t.title for t in target} and len(target) == 3


@pytest.mark.parametrize("where", [pytest.param("answer", marks=CHAOS), "request"])
def test_killed_among_autotask_creates_three_in_flight(rig: CrashRig, where: Literal["request", "answer"]) -> None:
    """The second of four creates held (stored and unanswered, or not yet sent on): the first and third may
    have been answered and linked one by one, the fourth not begun. The rerun adopts what landed and creates
    the rest."""
    rig.seed_kantata(4)
    write = rig.tap.hold("POST", AUTOTASK_CREATE, where, skip=1)
    enqueue(rig, "k2at")
    doomed = worker(rig, "doomed")
    write.wait()
    standby(rig)
    rig.kill(doomed)
    write.release()
    rerun_and_check(rig, "k2at", killed=1, adopted=None)
    assert rig.runs()[0].adopted >= 1


@pytest.mark.parametrize("where", ["answer", pytest.param("request", marks=CHAOS)])
def test_killed_with_a_crmcom_pairs_bulk_create_stored_or_on_the_way(
    rig: CrashRig, where: Literal["request", "answer"]
) -> None:
    """crm.com -> Kantata (the draft's three stages): the bulk create stored and unanswered, or held on the way
    and served while the rerun waits; the rerun adopts the three by their sync keys (built on the stages)."""
    create = rig.tap.hold("POST", KANTATA_CREATE, where)
    enqueue(rig, "c2k")
    doomed = worker(rig, "doomed")
    create.wait()
    standby(rig)
    rig.kill(doomed)
    create.release()
    rerun_and_check(rig, "c2k", killed=1, adopted=3)
    assert len(rig.listed("c2k", 1)) == 3 and rig.tap.count("POST", KANTATA_CREATE) == 1


def test_a_frozen_worker_whose_job_was_requeued_writes_nothing_twice(rig: CrashRig) -> None:
    """Not killed: stopped (SIGSTOP) with its bulk create's answer unread, past ``--stalled-after``, so its job
    is sent back to the queue by its heartbeat while its sessions, and so its lease, live on. The other worker
    is refused the pair (busy) and retries; woken (SIGCONT), the first links what it created. Whichever runs
    after, the target holds each milestone once."""
    create = rig.tap.hold("POST", KANTATA_CREATE, "answer")
    enqueue(rig, "at2k")
    frozen = worker(rig, "frozen")
    create.wait()
    standby(rig)
    frozen.send_signal(signal.SIGSTOP)
    create.release()  # the answer waits in its socket
    requeued = "stopped sending heartbeats; queued again"
    wait_for(lambda: requeued in rig.log("rerun"), "the frozen worker's job requeued by its heartbeat")
    wait_for(lambda: "busy" in rig.log("rerun").split(requeued, 1)[1].lower(), "the rerun refused the pair")
    frozen.send_signal(signal.SIGCONT)
    job_done(rig, "rerun")
    assert rig.check("at2k") == {} and rig.tap.count("POST", KANTATA_CREATE) == 1
    assert rig.pending() == 0 and all(r.finished_at for r in rig.runs())


@pytest.mark.parametrize("where", ["answer", pytest.param("request", marks=CHAOS)])
def test_killed_among_autotask_updates(rig: CrashRig, where: Literal["request", "answer"]) -> None:
    """Kantata -> Autotask synced, then two amounts edited in Kantata: the first update held (stored and
    unanswered, or on the way and stored after the kill). The rerun finds the stored one already as the source
    wants it (no conflict) and updates the other."""
    rig.seed_kantata(4)
    enqueue(rig, "k2at")
    doomed = worker(rig, "doomed")
    job_done(rig, "doomed")
    workspace = rig.containers["k2at"][0].split(":")[1]
    with rig.clients() as (kantata, _):
        by_title = {m.title: m for m in kantata.milestones.list(workspace)}
        for title, amount in (("K M0", "999.99"), ("K M2", "1.05")):
            kantata.milestones.update(by_title[title].model_copy(update={"amount": Money(amount, "USD")}))
    write = rig.tap.hold("(PATCH|PUT)", r"/autotask/ATServicesRest/V1\.0/Contracts/\d+/Milestones$", where)
    enqueue(rig, "k2at")
    write.wait()
    standby(rig)
    rig.kill(doomed)
    write.release()
    rerun_and_check(rig, "k2at", killed=1, adopted=None)
