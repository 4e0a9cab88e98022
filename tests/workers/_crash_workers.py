"""What the worker crash-point tests share: ``milestones worker`` processes on the rig's config, a second one
standing by before the first is killed, the job's state on the queue, and the check a rerun must pass."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterable
from typing import Any, Literal

import psycopg

from billing_milestones.sync.config import load_settings
from billing_milestones.sync.runs import LOST_ERROR
from billing_milestones.workers import SYNC_TASK, enqueue_pairs

from .._crash_rig import KANTATA_CREATE, WRITE_SETTLE, CrashRig
from .._wire_tap import Hold
from ._waiting import wait_for

__all__ = [
    "RERUN_BOUND",
    "doomed_beside_standbys",
    "enqueue",
    "job_done",
    "killed_in_the_store",
    "lock_waits",
    "rerun_and_check",
    "standby",
    "worker",
]

#: How long a rerun may take from the kill to its job done: the requeue (well within a second), the lease
#: (at once), the settle wait (``write_settle``) and the run itself, with room for a loaded machine.
RERUN_BOUND = 1.0 + WRITE_SETTLE + 25.0


def _job(links: str) -> dict[str, Any]:
    with psycopg.connect(links) as conn:
        row = conn.execute(
            "SELECT status::text, attempts FROM procrastinate_jobs WHERE task_name=%s ORDER BY id DESC LIMIT 1",
            (SYNC_TASK,),
        ).fetchone()
    assert row is not None
    return {"status": row[0], "attempts": row[1]}


def worker(rig: CrashRig, name: str) -> subprocess.Popen[bytes]:
    return rig.spawn(
        ["worker", "--name", name, "--heartbeat", "1", "--stalled-after", "3", "--log-level", "INFO"], name
    )


def job_done(rig: CrashRig, name: str) -> None:
    """Once the pair's latest job succeeded (worker ``name`` ran it; its log's end in the failure)."""
    wait_for(lambda: _job(rig.links)["status"] == "succeeded", f"the job done ({rig.log(name)[-2000:]})", RERUN_BOUND)


def standby(rig: CrashRig, name: str = "rerun") -> subprocess.Popen[bytes]:
    """A second worker, registered and idle before the first is killed (as in a deployment): it sees the
    dead one's liveness lock drop and requeues its job within a second (a worker started after the kill
    judges by the heartbeat alone, ``--stalled-after`` later)."""
    before = _listed(rig.links)
    proc = worker(rig, name)
    wait_for(lambda: _listed(rig.links) > before, f"worker {name} listed with its liveness lock", 60.0)
    time.sleep(0.5)  # a few of its looks (0.2 s apart) at the other's lock, held: only then is its drop judged
    return proc


def _listed(links: str) -> int:
    with psycopg.connect(links) as conn:
        return int((conn.execute("SELECT count(*) FROM bm_worker_liveness").fetchone() or (0,))[0])


def enqueue(rig: CrashRig, pair: str) -> None:
    enqueue_pairs(load_settings(rig.config, env=rig.env), [pair])


def rerun_and_check(rig: CrashRig, pair: str, killed: int, *, adopted: int | None = 0, name: str = "rerun") -> None:
    """Another worker (:func:`standby`, started before the kill) takes the killed one's job: the pair ends
    synced exactly, every killed run closed as lost, the rerun having adopted ``adopted`` milestones the
    killed runs wrote without linking them (by their sync keys)."""
    job_done(rig, name)
    found = rig.check(pair)
    assert found == {}, found  # (a helper module: pytest does not rewrite its asserts, so each says what failed)
    runs = rig.runs()
    lost = [r for r in runs if r.error == LOST_ERROR]
    assert len(lost) == killed and all(not r.ok and r.finished_at for r in lost), runs
    assert (
        runs[0].ok
        and runs[0].conflicts == 0
        and adopted in (None, runs[0].adopted)
        and all(r.finished_at for r in runs)
    ), runs
    assert rig.pending() == 0, rig.pending()


def lock_waits(links: str) -> list[int]:
    """The store's sessions waiting for a lock while writing links (the worker's, behind the test's)."""
    with psycopg.connect(links) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() "
            "AND query ILIKE '%links%'"
        ).fetchall()
    return [int(pid) for (pid,) in rows]


def killed_in_the_store(rig: CrashRig, doomed: Any, blocker: psycopg.Connection[Any]) -> None:
    """SIGKILL ``doomed`` while its session waits behind ``blocker``, and end that session as the server does
    once it sees its client gone (a session waiting for a lock reads nothing from its socket: left alone it
    would go on once the lock is free, and commit the links after its process died)."""
    wait_for(lambda: lock_waits(rig.links), "the worker writing its links")
    (waiting,) = lock_waits(rig.links)
    rig.kill(doomed)
    with psycopg.connect(rig.links, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (waiting,))
    wait_for(lambda: not lock_waits(rig.links), "the dead worker's session ended")


def doomed_beside_standbys(
    rig: CrashRig, create_at: Literal["request", "answer"], standbys: Iterable[str] = ("rerun",)
) -> tuple[subprocess.Popen[bytes], Hold, dict[str, subprocess.Popen[bytes]]]:
    """The pair ``at2k`` enqueued and taken by the worker to be killed (``doomed``), its Kantata create held at
    ``create_at``; the ``standbys`` started while its target listing is held, so that they run before its
    create and one takes its job within a second of the kill (one started after waits for its heartbeat)."""
    gate = rig.tap.hold("GET", r"/kantata/api/v1/", "request")
    create = rig.tap.hold("POST", KANTATA_CREATE, create_at)
    enqueue(rig, "at2k")
    doomed = worker(rig, "doomed")
    gate.wait()
    started = {name: standby(rig, name) for name in standbys}
    gate.release()
    return doomed, create, started
