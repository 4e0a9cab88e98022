"""Second review of the shared hourly budget (``PostgresHourlyBudget``) on a real server: the window's edges,
the last unit raced for by threads of several processes, whose clock counts, and what a refusal's hint says.

No duration is asserted: rows are written with ages far from the edges the tests look at, so the server's
clock moving on while a test runs cannot change what they see."""

from __future__ import annotations

import subprocess
import sys
import time

import psycopg
import pytest

from billing_milestones.workers import PostgresHourlyBudget, _hourly


def _fill(url: str, key: str, rows: int, age: float) -> None:
    """``rows`` requests admitted ``age`` seconds ago (the server's clock), and the key's count made again."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO bm_request_budget (key, at) SELECT %s, extract(epoch FROM clock_timestamp()) - %s"
            " FROM generate_series(1, %s)",
            (f"bm-budget:{key}", age, rows),
        )
        _hourly._run(conn, _hourly._RECOUNT, {"key": f"bm-budget:{key}"})


def test_a_row_that_reached_the_windows_edge_is_forgotten_and_one_inside_it_counts(url: str) -> None:
    budget = PostgresHourlyBudget(url, 3, key="edge", window=100.0)
    try:
        budget.warm(1)
        _fill(url, "edge", 2, age=100.0)  # exactly the window's length old when written: out by the take
        _fill(url, "edge", 2, age=40.0)  # well inside
        assert budget.acquire() is None  # 2 inside, the 2 at the edge forgotten: room for one
        wait = budget.acquire()
        assert wait is not None and 55.0 < wait <= 60.0  # the oldest inside leaves 60 s from now
        assert budget.used() == 3
    finally:
        budget.close()


_RACER = """
import sys, threading
from billing_milestones.workers import PostgresHourlyBudget
url, key, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
budget = PostgresHourlyBudget(url, 10, key=key)
budget.warm(4)
start = threading.Event()
answers = []
def take():
    start.wait()
    answers.append(budget.acquire())
workers = [threading.Thread(target=take) for _ in range(threads)]
for w in workers:
    w.start()
print("ready", flush=True)
sys.stdin.readline()
start.set()
for w in workers:
    w.join()
print(sum(a is None for a in answers), flush=True)
budget.close()
"""


def test_threads_of_several_processes_racing_for_the_last_unit_admit_exactly_one(url: str) -> None:
    """Four processes of eight threads each (each with its own pool and its own first-take recount) are let
    go at once for a budget with one unit left: exactly one is admitted, every round."""
    for round_ in range(3):
        key = f"last-{round_}"
        seed = PostgresHourlyBudget(url, 10, key=key)
        assert [seed.acquire() for _ in range(9)] == [None] * 9
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _RACER, url, key, "8"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            for _ in range(4)
        ]
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        admitted = [int(proc.communicate(timeout=120)[0]) for proc in procs]
        assert sum(admitted) == 1, admitted
        assert seed.used() == 10 and seed.acquire() is not None
        seed.close()


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "America/Adak", "UTC"])
def test_the_window_is_the_servers_clock_whatever_the_sessions_zone_or_the_workers_clock(
    url: str, zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's session time zone (``PGTZ``, ``options``) and its own clock (off by ten minutes here) move
    nothing: the rows are the server's epoch seconds, the hint the server's clock against them."""
    real_time, real_monotonic = time.time, time.monotonic
    monkeypatch.setattr(time, "time", lambda: real_time() + 600.0)
    monkeypatch.setattr(time, "monotonic", lambda: real_monotonic() - 600.0)
    here = PostgresHourlyBudget(url, 4, key="clock", window=100.0)
    zoned = f"{url}%20-cTimeZone%3D{zone.replace('/', '%2F')}"  # the URL's options: its search_path, and this
    there = PostgresHourlyBudget(zoned, 4, key="clock", window=100.0)
    try:
        here.warm(1)
        _fill(url, "clock", 2, age=30.0)
        assert there.acquire() is None and here.acquire() is None
        for budget in (here, there):
            wait = budget.acquire()
            assert wait is not None and 65.0 < wait <= 70.0, (zone, wait)  # the oldest leaves in 70 s
            assert budget.used() == 4
    finally:
        here.close()
        there.close()


def test_workers_with_different_limits_on_one_key_keep_each_its_own_limit(url: str) -> None:
    """One worker configured with 5, another with 10, on one tenant's key (a config changed and not every
    worker restarted): the count is one, each admits only while it is under its own limit, so together they
    never pass the larger limit."""
    low = PostgresHourlyBudget(url, 5, key="mixed")
    high = PostgresHourlyBudget(url, 10, key="mixed")
    try:
        assert sum(low.acquire() is None for _ in range(8)) == 5
        assert sum(high.acquire() is None for _ in range(8)) == 5
        assert low.acquire() is not None and high.acquire() is not None
        assert low.used() == 10 == high.used()
    finally:
        low.close()
        high.close()


def test_a_refusal_under_a_lower_limit_hints_when_that_limits_unit_frees(url: str) -> None:
    """The count is over this worker's limit (another worker's is higher): the hint is when the count falls
    under this limit, not when the oldest row leaves (which frees a unit of the higher limit only: asked
    again then, this worker is refused again, and a paced Kantata call slept a string of short waits)."""
    low = PostgresHourlyBudget(url, 10, key="hint", window=100.0)
    high = PostgresHourlyBudget(url, 20, key="hint", window=100.0)
    try:
        low.warm(1)
        _fill(url, "hint", 10, age=90.0)  # leave in 10 s
        _fill(url, "hint", 10, age=10.0)  # leave in 90 s
        soon = high.acquire()
        assert soon is not None and 5.0 < soon <= 10.0  # the higher limit's unit frees with the oldest row
        later = low.acquire()
        assert later is not None and 85.0 < later <= 90.0, later  # 11 rows must leave: the 11th oldest
    finally:
        low.close()
        high.close()


def test_hints_are_positive_and_within_the_window(url: str) -> None:
    budget = PostgresHourlyBudget(url, 3, key="hints", window=5.0)
    try:
        assert [budget.acquire() for _ in range(3)] == [None] * 3
        hints = [budget.acquire() for _ in range(20)]
        assert all(hint is not None and 0 < hint <= 5.0 for hint in hints), hints
    finally:
        budget.close()
