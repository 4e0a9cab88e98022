"""The shared Autotask limiter's slots on a real PostgreSQL: a dead holder's slot stays taken until its
request can no longer be in flight (its lease), a live one's for as long as it holds it, a stale hold
frees nothing, and a release wakes a waiter by notification rather than on the next poll.

Nothing here asserts a duration: leases are compared on the server's clock (the one that stamps them),
and waits are bounded only so that a broken limiter fails the test instead of hanging it."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest

from billing_milestones.errors import BudgetExhaustedError, ValidationError
from billing_milestones.workers import PostgresHourlyBudget, PostgresLimiter, _budgets
from billing_milestones.workers._budgets import request_bound

from ._waiting import wait_for

NAME = "bm-limit:t:k"


def _rows(url: str) -> list[tuple[Any, ...]]:
    """(slot, holder, busy_until, now) of key k, on the server's clock."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT slot, holder, busy_until, clock_timestamp() FROM bm_request_slots WHERE name = %s ORDER BY slot",
            (NAME,),
        ).fetchall()


def _held(url: str) -> list[tuple[Any, ...]]:
    return [row for row in _rows(url) if row[1] is not None]


def test_a_lease_is_the_clients_whole_timeout_and_must_be_bounded() -> None:
    assert request_bound(httpx.Timeout(30.0, connect=5.0)) == 95.0  # the clients' default
    assert request_bound(2) == 8.0  # a number is every phase
    with pytest.raises(ValidationError) as refused:
        request_bound(httpx.Timeout(5.0, read=None))
    assert refused.value.field == "timeout"
    with pytest.raises(ValidationError) as refused:
        PostgresLimiter("postgresql://unused", 3, max_wait=0)
    assert refused.value.field == "max_wait"
    assert PostgresLimiter("postgresql://unused", 3, timeout=0.5).lease == 2.0 + 1.0  # with the grace


@pytest.mark.parametrize("slots", [0, -1, True, 2.0, "3", None])
def test_a_limiter_refuses_a_bad_slot_count_by_its_field(slots: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        PostgresLimiter("postgresql://unused", slots)
    assert refused.value.field == "slots" and refused.value.value == slots
    with pytest.raises(ValidationError) as refused:
        PostgresLimiter("postgresql://unused", 3, pool_size=slots)
    assert refused.value.field == "pool_size"


@pytest.mark.parametrize("limit", [0, -5, False, 10.0, "100", None])
def test_an_hourly_budget_refuses_a_bad_limit_by_its_field(limit: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        PostgresHourlyBudget("postgresql://unused", limit, key="t")
    assert refused.value.field == "limit" and refused.value.value == limit


@pytest.mark.parametrize("window", [0, -1.0, float("inf"), float("nan"), True, "3600", None])
def test_an_hourly_budget_refuses_a_bad_window_by_its_field(window: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        PostgresHourlyBudget("postgresql://unused", 10, key="t", window=window)
    assert refused.value.field == "window"


def test_n_processes_never_hold_more_than_the_slots(url: str, tmp_path: Any) -> None:
    """Three processes, two slots: each in-flight stretch is logged with the server's clock, and no
    instant is inside more than two of them."""
    code = (
        "import sys, time, psycopg\n"
        "from billing_milestones.workers import PostgresLimiter\n"
        "url = sys.argv[1]\n"
        "limiter = PostgresLimiter(url, 2, namespace='t')\n"
        "with psycopg.connect(url, autocommit=True) as clock:\n"
        "    now = lambda: clock.execute('SELECT clock_timestamp()').fetchone()[0]\n"
        "    for _ in range(25):\n"
        "        with limiter('k'):\n"
        "            began = now()\n"
        "            time.sleep(0.005)\n"
        "            print(began.isoformat(), now().isoformat(), flush=True)\n"
        "limiter.close()\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE, text=True) for _ in range(3)]
    spans = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        spans += [line.split() for line in out.splitlines()]
    assert len(spans) == 75
    peak = max(sum(1 for b, e in spans if b <= at < e) for at, _ in spans)
    assert peak <= 2


def test_a_hold_is_one_row_and_a_release_clears_it(url: str, limiters: list[PostgresLimiter]) -> None:
    limiter = PostgresLimiter(url, 5, namespace="t")
    limiters.append(limiter)
    for _ in range(10):
        with limiter("k") as slot:
            held = _held(url)
            assert [row[0] for row in held] == [slot] and held[0][2] > held[0][3]  # leased into the future
    assert len(_rows(url)) == 5 and _held(url) == []


def test_a_killed_holder_keeps_its_slot_until_its_lease_runs_out(url: str, limiters: list[PostgresLimiter]) -> None:
    """Its request may still be being served when its connection drops: the slot is taken again only
    once the server's clock is past the lease the dead holder was given."""
    code = (
        "import sys, time\n"
        "from billing_milestones.workers import PostgresLimiter\n"
        f"held = PostgresLimiter({url!r}, 1, namespace='t', timeout=0.25)('k')\n"
        "held.__enter__()\n"
        "print('held', flush=True)\n"
        "time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        [(_, dead_token, dead_until, _)] = _held(url)
        holder.kill()
        holder.wait(10)
        limiter = PostgresLimiter(url, 1, namespace="t", timeout=0.25)
        limiters.append(limiter)
        with limiter("k"):
            [(_, token, until, _)] = _held(url)
        assert token != dead_token
        assert until - timedelta(seconds=limiter.lease) >= dead_until  # stamped after the dead lease ran out
    finally:
        holder.kill()
        holder.wait(10)


def test_a_holder_whose_connection_is_cut_keeps_its_slot_and_its_stale_release_frees_nothing(
    url: str, limiters: list[PostgresLimiter]
) -> None:
    """The holder lives on with its request in flight while its database connection is terminated: the
    slot stays taken to the end of its lease, then another takes it; when the first hold ends, its
    release (sent on a fresh connection) names a token that is no longer the holder's and frees nothing."""
    first, second = (PostgresLimiter(url, 1, namespace="t", timeout=0.25, max_wait=30) for _ in range(2))
    limiters += [first, second]
    hold = first("k")
    hold.__enter__()
    [(_, first_token, first_until, _)] = _held(url)
    with psycopg.connect(url, autocommit=True) as admin:
        cut = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM bm_request_slots WHERE name = %s AND holder IS NOT NULL", (NAME,)
        ).fetchall()
    assert cut == [(True,)]
    taken = threading.Event()
    leave = threading.Event()

    def take() -> None:
        with second("k"):
            taken.set()
            leave.wait(30)

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    assert taken.wait(30)
    [(_, second_token, second_until, _)] = _held(url)
    assert second_token != first_token
    assert second_until - timedelta(seconds=second.lease) >= first_until  # not before the cut hold's lease
    hold.__exit__(None, None, None)  # the first hold's request is over: its release must not free the second's
    assert [row[1] for row in _held(url)] == [second_token]
    leave.set()
    thread.join(30)
    assert _held(url) == []


def test_a_live_holder_keeps_its_slot_past_its_lease(url: str, limiters: list[PostgresLimiter]) -> None:
    """A lease only stands in for a holder that is gone: while the holder's connection lives (its request
    outlasting the timeout, its process stalled), nobody takes the slot, and a waiter's wait is bounded."""
    holder = PostgresLimiter(url, 1, namespace="t", timeout=0.01)
    waiter = PostgresLimiter(url, 1, namespace="t", timeout=0.01, max_wait=0.5)
    limiters += [holder, waiter]
    with holder("k"):
        [(_, token, until, _)] = _held(url)
        wait_for(lambda: _rows(url)[0][3] > until, "the server's clock passes the lease")
        with pytest.raises(BudgetExhaustedError) as refused, waiter("k"):
            pass
        assert [row[1] for row in _held(url)] == [token]
    assert "within 0.5 s (not sent)" in str(refused.value) and refused.value.platform == "autotask"
    with waiter("k"):
        pass  # released: free again


def test_a_live_holder_of_another_database_role_keeps_its_slot_past_its_lease(
    url: str, limiters: list[PostgresLimiter]
) -> None:
    """Workers may each log in as a role of their own. PostgreSQL shows another role's backend without its
    start time (unless the viewer may read all statistics): a holder that cannot be told from a pid reused
    must be taken for alive, or a waiter would take the slot of a live request past its lease."""
    with psycopg.connect(url, autocommit=True) as admin, contextlib.suppress(psycopg.errors.DuplicateObject):
        admin.execute("CREATE ROLE bm_other_worker LOGIN")
    other = psycopg.conninfo.make_conninfo(url, user="bm_other_worker")
    holder = PostgresLimiter(url, 1, namespace="t", timeout=0.01)
    waiter = PostgresLimiter(other, 1, namespace="t", timeout=0.01, max_wait=0.5)
    limiters += [holder, waiter]
    with holder("k"):
        with psycopg.connect(url, autocommit=True) as admin:
            row = admin.execute("SELECT current_schema()").fetchone()
            assert row is not None
            grant = psycopg.sql.SQL("GRANT ALL ON SCHEMA {} TO bm_other_worker")
            admin.execute(grant.format(psycopg.sql.Identifier(str(row[0]))))
            admin.execute("GRANT ALL ON bm_request_slots TO bm_other_worker")
        [(_, token, until, _)] = _held(url)
        wait_for(lambda: _rows(url)[0][3] > until, "the server's clock passes the lease")
        with pytest.raises(BudgetExhaustedError), waiter("k"):
            pass
        assert [row[1] for row in _held(url)] == [token]
    with waiter("k"):
        pass  # released: free again


class _Counting:
    """Counts a limiter's sleeps (each follows a try that found no slot)."""

    def __init__(self, limiter: PostgresLimiter) -> None:
        self.sleeps = 0
        wakeups = limiter._wakeups
        wait = wakeups.wait
        self._lock = threading.Lock()

        def counted(name: str, heard: int, timeout: float) -> None:
            with self._lock:
                self.sleeps += 1
            wait(name, heard, timeout)

        wakeups.wait = counted  # type: ignore[method-assign]


def test_a_release_wakes_one_waiter_by_notification(
    url: str, limiters: list[PostgresLimiter], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the fallback poll made an hour long, waiters still get the slot one after another: each
    release is heard and wakes one waiter, not all of them. Five waiters, five releases: one sleep each,
    plus at most one each that the listener's wake-all on connecting adds; a wake-all per release would
    add four, three, two and one more."""
    monkeypatch.setattr(_budgets, "_POLL", 3600.0)
    holder = PostgresLimiter(url, 1, namespace="t")
    waiting = PostgresLimiter(url, 1, namespace="t", max_wait=60)  # another worker: its own listener
    limiters += [holder, waiting]
    counted = _Counting(waiting)
    order: list[int] = []
    hold = holder("k")
    hold.__enter__()

    def take(i: int) -> None:
        with waiting("k"):
            order.append(i)
            time.sleep(0.1)  # long enough for a waiter woken along with this one to find the slot taken

    with ThreadPoolExecutor(5) as pool:
        done = [pool.submit(take, i) for i in range(5)]
        wait_for(lambda: counted.sleeps >= 5, "every waiter asleep")
        assert order == []
        hold.__exit__(None, None, None)
        for future in done:
            future.result(timeout=60)
    assert sorted(order) == list(range(5))
    assert counted.sleeps <= 5 + 5


def test_racing_workers_create_the_table_once(url: str, limiters: list[PostgresLimiter]) -> None:
    """Eight workers' first holds at once on an empty database: one creates the table, none fails."""
    racers = [PostgresLimiter(url, 3, namespace="t") for _ in range(8)]
    limiters += racers
    barrier = threading.Barrier(8)

    def first_hold(limiter: PostgresLimiter) -> int:
        barrier.wait(30)
        with limiter("k") as slot:
            return int(str(slot))

    with ThreadPoolExecutor(8) as pool:
        slots = list(pool.map(first_hold, racers))
    assert set(slots) <= {0, 1, 2} and len(_rows(url)) == 3 and _held(url) == []


def test_a_release_unheard_while_the_listener_is_gone_still_reaches_the_waiter(
    url: str, limiters: list[PostgresLimiter], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listener's connection is cut and does not come back: the release's notification is lost, and
    the waiter still takes the slot, on its poll."""
    from billing_milestones.workers import _wakeups

    monkeypatch.setattr(_wakeups, "_RECONNECT", 3600.0)
    holder = PostgresLimiter(url, 1, namespace="t")
    waiter = PostgresLimiter(url, 1, namespace="t", max_wait=60)
    limiters += [holder, waiter]
    counted = _Counting(waiter)
    hold = holder("k")
    hold.__enter__()
    taken = threading.Event()

    def take() -> None:
        with waiter("k"):
            taken.set()

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    wait_for(lambda: counted.sleeps >= 1, "the waiter asleep")
    with psycopg.connect(url, autocommit=True) as admin:
        cut = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE %s AND pid <> %s",
            (f"LISTEN %{waiter.channel}%", admin.info.backend_pid),
        ).fetchall()
    assert cut == [(True,)]
    hold.__exit__(None, None, None)
    assert taken.wait(30)
    thread.join(30)


def test_slot_budget_and_queue_connections_have_tcp_keepalives(url: str, tmp_path: Any) -> None:
    """A slot take on a network that dropped without a reset fails within a minute (the keepalives give the
    connection up) instead of blocking the job past ``max_wait``; the budget, the wake-up listener and the
    queue connect the same way, and a value the URL sets wins."""
    from billing_milestones.sync.config import load_settings
    from billing_milestones.workers import PostgresHourlyBudget, WorkerApp

    from ..sync.test_links_postgres import tcp_keepalive

    limiter = PostgresLimiter(url, 2, namespace="t")
    budget = PostgresHourlyBudget(url + "&keepalives_idle=11", 5, key="t")
    try:
        with limiter("k"), limiter._pool.get().connection() as conn:
            assert tcp_keepalive(conn.fileno()) == (1, 30, 10, 3, 60000)
        assert psycopg.conninfo.conninfo_to_dict(limiter._wakeups._url)["keepalives_idle"] == "30"
        assert budget.acquire() is None
        with budget._pool.get().connection() as conn:
            assert tcp_keepalive(conn.fileno()) == (1, 11, 10, 3, 60000)
    finally:
        limiter.close()
        budget.close()
    config = tmp_path / "milestones.toml"
    config.write_text(f'links = "{url}"\n\n[pairs.p]\nsource = "autotask:1"\ntarget = "kantata:2"\n')
    queue = WorkerApp(load_settings(config, env={}))

    async def queue_socket() -> tuple[int, int, int, int, int]:
        async with queue.app.open_async():
            pool = queue.app.connector.pool  # type: ignore[attr-defined]
            async with pool.connection() as conn:
                return tcp_keepalive(conn.fileno())

    assert asyncio.run(queue_socket()) == (1, 30, 10, 3, 60000)
    queue.budgets.close()


def test_a_dead_holders_pid_reused_by_another_roles_backend_frees_its_slot_at_the_lease(
    url: str, limiters: list[PostgresLimiter]
) -> None:
    """The holder's backend is gone and its pid now belongs to a backend of another role, whose start this
    role may not see: that backend is not the holder (its role differs), so the slot frees at its lease
    instead of staying taken for as long as the other backend lives."""
    with psycopg.connect(url, autocommit=True) as admin:
        for role in ("bm_worker_role", "bm_other_worker"):
            with contextlib.suppress(psycopg.errors.DuplicateObject):
                admin.execute(psycopg.sql.SQL("CREATE ROLE {} LOGIN").format(psycopg.sql.Identifier(role)))
        row = admin.execute("SELECT current_schema()").fetchone()
        assert row is not None
        grant = psycopg.sql.SQL("GRANT ALL ON SCHEMA {} TO bm_worker_role")
        admin.execute(grant.format(psycopg.sql.Identifier(str(row[0]))))
    workers = psycopg.conninfo.make_conninfo(url, user="bm_worker_role")  # not a superuser: sees its own only
    holder = PostgresLimiter(workers, 1, namespace="t", timeout=0.01)
    waiter = PostgresLimiter(workers, 1, namespace="t", timeout=0.01, max_wait=10)
    limiters += [holder, waiter]
    with (
        psycopg.connect(psycopg.conninfo.make_conninfo(url, user="bm_other_worker"), autocommit=True) as reuser,
        psycopg.connect(workers, autocommit=True) as worker,
        holder("k"),
    ):
        [(_, token, until, _)] = _held(url)
        # what a dead holder's row looks like once the server gives its pid to the other role's backend
        worker.execute("UPDATE bm_request_slots SET pid = %s WHERE holder = %s", (reuser.info.backend_pid, token))
        hidden = worker.execute("SELECT backend_start FROM pg_stat_get_activity(%s)", (reuser.info.backend_pid,))
        assert hidden.fetchall() == [(None,)]  # the workers' role may not see the other backend's start
        wait_for(lambda: _rows(url)[0][3] > until, "the server's clock passes the lease")
        with waiter("k"):
            [(_, taken, _, _)] = _held(url)
            assert taken != token
    assert _held(url) == []  # the dead hold's release freed nothing; the waiter's freed its slot


def test_a_slots_table_made_before_roles_were_kept_gets_the_column(url: str, limiters: list[PostgresLimiter]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(_budgets._SLOTS_TABLE.replace("    role          OID,\n", ""))
        assert not conn.execute(_budgets._SLOTS_HAS_ROLE).fetchall()[0][0]
    limiter = PostgresLimiter(url, 1, namespace="t")
    limiters.append(limiter)
    with limiter("k"):
        with psycopg.connect(url, autocommit=True) as conn:
            [(role, user)] = conn.execute("SELECT role::regrole::text, current_user FROM bm_request_slots").fetchall()
        assert role == user
