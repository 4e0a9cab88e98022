"""What the scale run reads back from its store: the run history (the killed worker's runs among it) and the
Autotask charges of the shared hourly budget. Its own module: ``scale.py`` keeps to the run itself.

The kill is only a test of recovery when it catches the worker in a run: a worker killed between jobs
leaves nothing to recover, and every check after it passes the same. So the run kills once the victim holds
an open run (a row with an empty ``finished_at`` and its pid in ``worker``, ``host:pid:run``), reads which
rows it left open, and checks at the end that each was closed by its pair's next run as lost (ok false,
:data:`~billing_milestones.sync.runs.LOST_ERROR`): not left open, not counted ok.
"""

from __future__ import annotations

from typing import Any, Final

import psycopg

from billing_milestones.sync.runs import LOST_ERROR

__all__ = ["autotask_charged", "killed_runs", "lost_closed", "progress", "run_rows"]

#: The poll, in one round trip every 20 ms: the jobs ended, the runs ended, and the runs the victim (its pid)
#: holds open now.
_PROGRESS: Final = """SELECT
    (SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s AND status IN ('succeeded', 'failed')),
    (SELECT count(*) FROM runs WHERE finished_at <> ''),
    (SELECT count(*) FROM runs WHERE finished_at = '' AND split_part(worker, ':', 2) = %s)"""


def progress(conn: psycopg.Connection[Any], task: str, victim: int) -> tuple[int, int, int]:
    row = conn.execute(_PROGRESS, (task, str(victim))).fetchone()
    return (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)


def killed_runs(conn: psycopg.Connection[Any], victim: int) -> list[int]:
    """The ids of the rows the killed worker (its pid) left open: the runs it was killed in."""
    rows = conn.execute(
        "SELECT id FROM runs WHERE finished_at = '' AND split_part(worker, ':', 2) = %s", (str(victim),)
    ).fetchall()
    return [int(row[0]) for row in rows]


def lost_closed(conn: psycopg.Connection[Any], ids: list[int]) -> int:
    """How many of the rows ``ids`` were closed as lost: an end written, not ok, the lost run's error."""
    row = conn.execute(
        "SELECT count(*) FROM runs WHERE id = ANY(%s) AND finished_at <> '' AND ok = 0 AND error = %s",
        (ids, LOST_ERROR),
    ).fetchone()
    return int(row[0]) if row else 0


def run_rows(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    """The run history's rows, and those left open (a run that never wrote its end, not closed since)."""
    row = conn.execute("SELECT count(*), count(*) FILTER (WHERE finished_at = '') FROM runs").fetchone()
    return (int(row[0]) if row else 0, int(row[1]) if row else 0)


def autotask_charged(conn: psycopg.Connection[Any]) -> int:
    """The Autotask requests the workers charged to their shared hourly budget (one row a request, kept an
    hour: the whole run on a fresh database). Every request the emulator served them must be among these
    (``AUTOTASK_BASE_URL`` is given, so no unauthenticated zone lookup is sent): a request sent uncharged
    is one the budget does not know of, and the server's threshold can be exceeded under it."""
    if conn.execute("SELECT to_regclass('bm_request_budget')").fetchone() in (None, (None,)):
        return 0
    row = conn.execute("SELECT count(*) FROM bm_request_budget WHERE key LIKE '%%:autotask:%%'").fetchone()
    return int(row[0]) if row else 0
