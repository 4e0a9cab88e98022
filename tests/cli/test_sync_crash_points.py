"""``milestones sync PAIR --yes`` SIGKILLed at each point of its run where a kill can leave something behind,
then run again, as someone would after a crash (issue 14, the CLI's side of ``tests/workers/test_crash_points``):
real processes against ``milestones sandbox serve`` in its own process, on a SQLite store and on PostgreSQL.

The rerun must take the pair at once (the dead holder's lease is freed: its pid is gone, or on PostgreSQL its
session), wait for the dead run's pending writes ``write_settle`` seconds at most, exit 0 and leave the target
holding exactly the source's milestones, the killed run's history row closed as lost.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import psycopg
import pytest

from billing_milestones import Money
from billing_milestones.sync.runs import LOST_ERROR

from .._chaos import CHAOS
from .._crash_rig import KANTATA_CREATE, WRITE_SETTLE, CrashRig, crash_rig
from .._postgres import PostgresServer, fresh_database

#: How long a rerun may take: the settle wait (``write_settle``) and the run itself, with room for a loaded
#: machine (the dead run's lease is taken at once).
RERUN_BOUND = WRITE_SETTLE + 25.0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=CHAOS)])
def links(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'links.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return fresh_database(server)


@pytest.fixture
def rig(tmp_path: Path, links: str) -> Iterator[CrashRig]:
    with crash_rig(tmp_path, links) as made:
        yield made


def sync(rig: CrashRig, pair: str, name: str, *options: str) -> subprocess.Popen[bytes]:
    return rig.spawn(["sync", pair, "--yes", *options], name)


def rerun_and_check(rig: CrashRig, pair: str, killed: int, *, adopted: int | None = 0) -> None:
    """``milestones sync`` again: exit 0, the pair synced exactly, every killed run closed as lost."""
    rerun = sync(rig, pair, "rerun")
    assert rerun.wait(RERUN_BOUND) == 0, rig.log("rerun")
    assert rig.check(pair) == {}
    runs = rig.runs()
    lost = [r for r in runs if r.error == LOST_ERROR]
    assert len(lost) == killed and all(not r.ok and r.finished_at for r in lost), runs
    assert runs[0].ok and runs[0].conflicts == 0 and adopted in (None, runs[0].adopted), runs
    assert all(r.finished_at for r in runs) and rig.pending() == 0


def test_killed_after_its_lease_before_any_write(rig: CrashRig) -> None:
    listing = rig.tap.hold("GET", r"/kantata/api/v1/", "request")
    doomed = sync(rig, "at2k", "doomed")
    listing.wait()
    assert len(rig.runs()) == 1 and not rig.runs()[0].finished_at  # the lease taken, its row opened
    rig.kill(doomed)
    listing.drop()
    rerun_and_check(rig, "at2k", killed=1)


@CHAOS
def test_killed_with_its_bulk_create_in_flight_on_the_server(tmp_path: Path, links: str) -> None:
    with crash_rig(tmp_path, links, latency=1.0) as rig:
        create = rig.tap.hold("POST", KANTATA_CREATE, "answer")
        doomed = sync(rig, "at2k", "doomed")
        create.wait_passed()  # the server has it, and holds it 1 s
        rig.kill(doomed)
        killed_at = time.monotonic()
        create.wait()
        assert create.answered_at is not None and create.answered_at > killed_at
        create.release()
        rerun_and_check(rig, "at2k", killed=1, adopted=4)
        assert rig.tap.count("POST", KANTATA_CREATE) == 1


@CHAOS
def test_killed_while_its_bulk_create_is_held_on_the_way_the_rerun_waits_for_it(tmp_path: Path, links: str) -> None:
    """The POST still on its way when the process dies, and served once the rerun holds the lease: the rerun
    waits for it before it lists (a window of 8 s: the rerun's own start must fit in it), and adopts."""
    with crash_rig(tmp_path, links, settle=8.0) as rig:
        create = rig.tap.hold("POST", KANTATA_CREATE, "request")
        doomed = sync(rig, "at2k", "doomed")
        create.wait()
        # Started before the kill (waiting for the lease), so that its start is not taken out of the window.
        rerun = sync(rig, "at2k", "rerun", "--wait", "60")
        rig.kill(doomed)
        deadline = time.monotonic() + RERUN_BOUND
        while len(rig.runs()) < 2:  # the rerun has the lease: it settles before it lists
            assert time.monotonic() < deadline and rerun.poll() is None, rig.log("rerun")
            time.sleep(0.02)
        create.release()  # within the window: the dead run's create lands now
        assert rerun.wait(RERUN_BOUND + 8.0) == 0, rig.log("rerun")
        _adopted_the_dead_runs_create(rig)


def _adopted_the_dead_runs_create(rig: CrashRig) -> None:
    assert rig.check("at2k") == {} and rig.tap.count("POST", KANTATA_CREATE) == 1
    assert rig.runs()[0].adopted == 4 and rig.runs()[1].error == LOST_ERROR


def test_killed_after_its_create_was_answered_before_its_links_were_written(rig: CrashRig) -> None:
    """The answer read, the links' write waits behind the test's lock: on PostgreSQL on the table, on SQLite
    on the file (the CLI's store waits its busy timeout); the process dies there."""
    create = rig.tap.hold("POST", KANTATA_CREATE, "answer")
    doomed = sync(rig, "at2k", "doomed")
    create.wait()
    if rig.links.startswith("sqlite"):
        import sqlite3

        blocker = sqlite3.connect(rig.links.removeprefix("sqlite:///"), isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        create.release()
        time.sleep(1.0)  # the answer read and the write begun, waiting for the file (nothing shows it)
        rig.kill(doomed)
        blocker.execute("ROLLBACK")
        blocker.close()
    else:
        with psycopg.connect(rig.links) as pg:
            pg.execute("LOCK TABLE links IN SHARE MODE")
            create.release()
            from ..workers._crash_workers import killed_in_the_store

            killed_in_the_store(rig, doomed, pg)
            pg.rollback()
    rerun_and_check(rig, "at2k", killed=1, adopted=4)


@CHAOS
def test_two_kills_in_a_row(rig: CrashRig) -> None:
    """The first create lost on the way, the rerun's stored and unanswered: a third run adopts the four."""
    first = rig.tap.hold("POST", KANTATA_CREATE, "request")
    doomed = sync(rig, "at2k", "doomed")
    first.wait()
    rig.kill(doomed)
    first.drop()
    second = rig.tap.hold("POST", KANTATA_CREATE, "answer")
    again = sync(rig, "at2k", "doomed-again")
    second.wait(RERUN_BOUND)
    rig.kill(again)
    second.drop()
    rerun_and_check(rig, "at2k", killed=2, adopted=4)
    assert rig.tap.count("POST", KANTATA_CREATE) == 2


@pytest.mark.parametrize(("method", "where"), [("PUT", "answer"), ("DELETE", "request")])
def test_killed_during_an_update_or_a_delete(rig: CrashRig, method: str, where: Literal["request", "answer"]) -> None:
    rig.seed_kantata(4)
    first = sync(rig, "k2k", "first")
    assert first.wait(RERUN_BOUND) == 0, rig.log("first")
    workspace = rig.containers["k2k"][0].split(":")[1]
    with rig.clients() as (kantata, _):
        by_title = {m.title: m for m in kantata.milestones.list(workspace)}
        kantata.milestones.update(by_title["K M0"].model_copy(update={"amount": Money("999.99", "USD")}))
        key = by_title["K M3"].key
        assert key is not None
        kantata.milestones.delete(key)
    write = rig.tap.hold(
        method, r"/kantata/api/v1/billing_milestones/\d+", "answer" if where == "answer" else "request"
    )
    doomed = sync(rig, "k2k", "doomed")
    write.wait()
    rig.kill(doomed)
    write.release()  # stored (or deleted) after the process died
    rerun_and_check(rig, "k2k", killed=1, adopted=None)
    assert {t.title for t in rig.sides("k2k")[1]} == {"K M0", "K M1", "K M2"}
