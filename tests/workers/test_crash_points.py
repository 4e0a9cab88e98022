"""A killed worker's pair is picked up by another without duplicates, at each point of the run where a kill
can leave something behind (issue 14): real ``milestones worker`` processes on a real PostgreSQL queue and
store, against ``milestones sandbox serve`` in its own process, each SIGKILLed at a moment a
:class:`~tests._wire_tap.WireTap` (or a lock the test holds in the store) stops it at, never at a random one.

After each kill another worker reruns the pair: its target must hold exactly its source's milestones (none
lost, none twice, amounts and dates right), the killed run's history row closed as lost, no intent left
pending, and the rerun must not have been held longer than documented: the dead worker's job is requeued
within a second (its liveness lock dropped), its lease taken at once, and the rerun waits for its pending
writes ``write_settle`` seconds at most (``docs/scale.md``, "A worker that dies"). That bound is a deadline
of the waits here, not a timing asserted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from billing_milestones.sync.runs import LOST_ERROR

from .._chaos import CHAOS
from .._crash_rig import KANTATA_CREATE, CrashRig, crash_rig
from .._postgres import PostgresServer, fresh_database
from ._crash_workers import (
    RERUN_BOUND,
    doomed_beside_standbys,
    enqueue,
    job_done,
    killed_in_the_store,
    lock_waits,
    rerun_and_check,
    standby,
    worker,
)
from ._waiting import wait_for


@pytest.fixture
def rig(tmp_path: Path, postgres_server: PostgresServer) -> Iterator[CrashRig]:
    with crash_rig(tmp_path, fresh_database(postgres_server)) as made:
        yield made


def test_killed_after_its_lease_before_any_write(rig: CrashRig) -> None:
    listing = rig.tap.hold("GET", r"/kantata/api/v1/(billing_milestones|workspaces)", "request")
    enqueue(rig, "at2k")
    doomed = worker(rig, "doomed")
    listing.wait()
    standby(rig)
    assert len(rig.runs()) == 1 and not rig.runs()[0].finished_at  # the lease taken, its row opened
    rig.kill(doomed)
    listing.drop()
    assert rig.tap.count("POST", KANTATA_CREATE) == 0 and rig.listed("at2k", 1) == []
    rerun_and_check(rig, "at2k", killed=1)


def test_killed_with_its_bulk_create_in_flight_on_the_server(tmp_path: Path, postgres_server: PostgresServer) -> None:
    """The emulator holds each request 1 s (``--latency``): the POST is on the server when its worker dies,
    and the server stores the milestones after that: they exist, no link does."""
    with crash_rig(tmp_path, fresh_database(postgres_server), latency=1.0) as rig:
        doomed, create, _ = doomed_beside_standbys(rig, "answer")
        create.wait_passed()  # with --latency 1 the server has the request, not yet stored
        rig.kill(doomed)
        killed_at = time.monotonic()
        create.wait()  # the answer the dead worker never read
        assert create.answered_at is not None and create.answered_at > killed_at
        create.release()
        rerun_and_check(rig, "at2k", killed=1, adopted=4)
        assert rig.tap.count("POST", KANTATA_CREATE) == 1


def test_killed_while_its_bulk_create_is_held_on_the_way_the_rerun_waits_for_it(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """The POST is still on its way when its worker dies (held by the tap), and reaches the server after the
    rerun has taken the lease: the rerun waits ``write_settle`` (8 s here: the requeue, even by the heartbeat,
    fits in it) for it before it lists, and adopts what it stored instead of creating it again."""
    with crash_rig(tmp_path, fresh_database(postgres_server), settle=8.0) as rig:
        doomed, create, started = doomed_beside_standbys(rig, "request")
        rerun = started["rerun"]
        create.wait()
        rig.kill(doomed)
        waiting = "pending write(s) of a run that stopped"
        wait_for(lambda: waiting in rig.log("rerun"), "the rerun waiting for the write")
        create.release()  # within the window: the server stores the dead worker's milestones now
        job_done(rig, "rerun")
        assert rig.tap.count("POST", KANTATA_CREATE) == 1 and rerun.poll() is None
        assert rig.check("at2k") == {}
        assert rig.runs()[0].ok and rig.runs()[0].adopted == 4 and rig.runs()[1].error == LOST_ERROR


def test_killed_after_its_create_was_answered_before_its_links_were_written(rig: CrashRig) -> None:
    """The bulk create answered and read; the links' write waits behind a lock the test holds on the table,
    and the worker dies there: the milestones exist, their intents are pending, no link was written."""
    create = rig.tap.hold("POST", KANTATA_CREATE, "answer")
    enqueue(rig, "at2k")
    doomed = worker(rig, "doomed")
    create.wait()
    standby(rig)
    with psycopg.connect(rig.links) as blocker:
        blocker.execute("LOCK TABLE links IN SHARE MODE")  # reads go on, writes wait
        create.release()
        killed_in_the_store(rig, doomed, blocker)
        blocker.rollback()
    rerun_and_check(rig, "at2k", killed=1, adopted=4)
    assert rig.tap.count("POST", KANTATA_CREATE) == 1


def test_killed_in_the_middle_of_writing_a_batch_of_links(rig: CrashRig) -> None:
    """The batch's third link waits behind an uncommitted row of the same key (the test's), its first two
    already inserted in the batch's transaction: killed there, the whole batch is rolled back."""
    create = rig.tap.hold("POST", KANTATA_CREATE, "answer")
    enqueue(rig, "at2k")
    doomed = worker(rig, "doomed")
    create.wait()
    standby(rig)
    with psycopg.connect(rig.links) as blocker:
        third_intent = "SELECT pair_id, sync_key FROM intents ORDER BY id LIMIT 1 OFFSET 2"
        pair_id, third = blocker.execute(third_intent).fetchone() or ("", "")
        blocker.execute(
            "INSERT INTO links (pair_id, sync_key, source_key, target_key, source_fp, target_fp, updated_at) "
            "VALUES (%s, %s, 'blocker-source', 'blocker-target', '', '', '')",
            (pair_id, third),
        )
        create.release()
        killed_in_the_store(rig, doomed, blocker)
        assert blocker.execute("SELECT count(*) FROM links WHERE sync_key <> %s", (third,)).fetchone() == (0,)
        blocker.rollback()
    rerun_and_check(rig, "at2k", killed=1, adopted=4)
    assert rig.tap.count("POST", KANTATA_CREATE) == 1


@CHAOS
def test_two_kills_in_a_row_the_first_create_lost_the_second_stored(rig: CrashRig) -> None:
    """The first worker's POST never reaches the server (dropped on the way); the rerun waits it out, lists
    an empty workspace, creates, and is killed too with its create stored and unanswered; a third worker
    adopts the four."""
    first = rig.tap.hold("POST", KANTATA_CREATE, "request")
    enqueue(rig, "at2k")
    doomed = worker(rig, "doomed")
    first.wait()
    second = rig.tap.hold("POST", KANTATA_CREATE, "answer")
    again = standby(rig, "doomed-again")
    rig.kill(doomed)
    first.drop()
    second.wait(RERUN_BOUND)
    standby(rig)
    rig.kill(again)
    second.drop()
    rerun_and_check(rig, "at2k", killed=2, adopted=4)
    assert rig.tap.count("POST", KANTATA_CREATE) == 2


@CHAOS
def test_the_rerun_killed_while_it_waits_for_the_dead_runs_writes(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """Two kills in a row, the second while the rerun waits for the first's pending create to settle (a window
    of 12 s). Two workers stand by before the first kill: the one that takes the job is killed while it waits,
    the create lands meanwhile, and the other waits out what is left of the window and adopts it."""
    with crash_rig(tmp_path, fresh_database(postgres_server), settle=12.0) as rig:
        doomed, create, standbys = doomed_beside_standbys(rig, "request", ("standby-a", "standby-b"))
        create.wait()
        rig.kill(doomed)
        waiting = "pending write(s) of a run that stopped"
        wait_for(lambda: any(waiting in rig.log(name) for name in standbys), "a rerun waiting for the write")
        (second,) = [name for name in standbys if waiting in rig.log(name)]
        rig.kill(standbys.pop(second))
        create.release()  # the first run's create lands, both its writer and the rerun dead
        (third,) = standbys
        rerun_and_check(rig, "at2k", killed=2, adopted=4, name=third)
        assert waiting in rig.log(third) and rig.tap.count("POST", KANTATA_CREATE) == 1


@CHAOS
def test_killed_while_its_links_wait_its_session_left_to_finish_them(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """Killed as its links wait behind the test's lock, the server not told (PostgreSQL reads nothing from a
    session waiting for a lock, and by default does not look): the rerun takes the lease at once (the holder's
    pid is gone) and waits out the pending writes; meanwhile the lock is freed and the dead worker's batch,
    left running in its session, commits its links. The rerun finds the pair in step: nothing created again,
    nothing left pending."""
    with crash_rig(tmp_path, fresh_database(postgres_server), settle=8.0) as rig:
        doomed, create, _ = doomed_beside_standbys(rig, "answer")
        create.wait()
        with psycopg.connect(rig.links) as blocker:
            blocker.execute("LOCK TABLE links IN SHARE MODE")
            create.release()
            wait_for(lambda: lock_waits(rig.links), "the worker writing its links")
            rig.kill(doomed)
            waiting = "pending write(s) of a run that stopped"
            wait_for(lambda: waiting in rig.log("rerun"), "the rerun holding the lease, waiting for the writes")
            assert lock_waits(rig.links)  # the dead worker's session still waits to write its links
            blocker.rollback()
        job_done(rig, "rerun")
        assert rig.check("at2k") == {} and rig.tap.count("POST", KANTATA_CREATE) == 1
        assert rig.pending() == 0 and all(r.finished_at for r in rig.runs())
        assert rig.runs()[0].ok and rig.runs()[0].adopted == 0 and rig.runs()[1].error == LOST_ERROR
