"""Budgets shared through PostgreSQL: N limiters (as N workers would hold) never exceed the slots together."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from billing_milestones import AutotaskClient, Milestone, Money
from billing_milestones.sandbox import AutotaskSandbox, FaultPlan, LoopbackServer
from billing_milestones.sync._store_config import WorkerSettings
from billing_milestones.workers import PostgresHourlyBudget, PostgresLimiter, SharedBudgets, _budgets

from .._postgres import PostgresServer, fresh_database


class InFlight:
    def __init__(self) -> None:
        self.now = self.peak = 0
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.now -= 1


def test_limiters_of_several_workers_share_the_slots_per_key(postgres_server: PostgresServer) -> None:
    url = fresh_database(postgres_server)
    workers = [PostgresLimiter(url, 3, namespace="t") for _ in range(4)]  # 4 workers, 3 threads each
    counters = {"a": InFlight(), "b": InFlight()}

    def request(i: int) -> None:
        key = "a" if i % 3 else "b"
        with workers[i % 4](key), counters[key]:
            time.sleep(0.01)

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(request, range(120)))
    assert counters["a"].peak == 3 and counters["b"].peak <= 3  # a full share, never more, per key
    other = PostgresLimiter(url, 3, namespace="other")
    with workers[0]("a"), workers[1]("a"), workers[2]("a"), other("a"):
        pass  # another namespace (tenant) has slots of its own
    for limiter in [*workers, other]:
        limiter.close()


def test_an_hourly_budget_is_one_budget_for_every_worker(postgres_server: PostgresServer) -> None:
    url = fresh_database(postgres_server)
    one, two = (PostgresHourlyBudget(url, 5, key="tenant", window=1.0) for _ in range(2))
    admitted = [b.acquire() for b in (one, two, one, two, one)]
    assert admitted == [None] * 5 and one.used() == 5 == two.used()
    wait = two.acquire()
    assert wait is not None and 0 < wait <= 1.0
    other = PostgresHourlyBudget(url, 5, key="other tenant")
    assert other.acquire() is None
    other.close()
    time.sleep(wait + 0.05)
    assert one.acquire() is None
    with pytest.raises(ValueError):
        PostgresHourlyBudget(url, 0, key="x")
    one.close()
    two.close()


def test_autotask_clients_of_four_workers_never_exceed_the_thread_threshold(postgres_server: PostgresServer) -> None:
    """The emulator answers 429 to a fourth concurrent request on one endpoint; four workers' clients,
    three threads each, all writing at once, must never see one, and every request counts in the budget."""
    url = fresh_database(postgres_server)
    sandbox = AutotaskSandbox(faults=FaultPlan().latency(0.02))  # requests overlap on the server
    contract = sandbox.add_contract(name="Scale")
    workers = [SharedBudgets(url, WorkerSettings(autotask_hourly_budget=10_000)) for _ in range(4)]
    with LoopbackServer(sandbox.asgi_app()) as server:
        base = f"{server.url}/ATServicesRest/V1.0"
        clients = [
            AutotaskClient(
                AutotaskSandbox.USERNAME,
                AutotaskSandbox.SECRET,
                AutotaskSandbox.INTEGRATION_CODE,
                base_url=base,
                currency="USD",
                limiter=w.for_tenant("t")[0],
                hourly_budget=w.for_tenant("t")[1],
                max_retries=0,
            )
            for w in workers
        ]

        def write(i: int) -> None:
            milestone = Milestone(title=f"M{i}", amount=Money("10.00", "USD"), due="2026-12-01")
            clients[i % 4].milestones.create(str(contract), [milestone])

        with ThreadPoolExecutor(12) as pool:
            list(pool.map(write, range(48)))
    throttled = [e for e in sandbox.request_log if e.status == 429]
    assert throttled == [] and len(sandbox.milestones) == 48
    assert workers[0].for_tenant("t")[1].used() == len(sandbox.request_log)
    for client in clients:
        client.close()
    for w in workers:
        w.close()


def test_kantata_requests_of_several_workers_share_one_rate(postgres_server: PostgresServer) -> None:
    """Two workers' Kantata clients draw every request from one per-minute budget: together they are
    admitted exactly the budget, and then either worker's next request must wait."""
    from billing_milestones.demo import KANTATA_TOKEN
    from billing_milestones.model import Platform
    from billing_milestones.sandbox import KantataSandbox
    from billing_milestones.sync.config import load_settings

    url = fresh_database(postgres_server)
    sandbox = KantataSandbox()
    workspace = sandbox.add_workspace("Paced", currency="USD")
    workers = [SharedBudgets(url, WorkerSettings(kantata_requests_per_minute=30)) for _ in range(2)]
    with LoopbackServer(sandbox.asgi_app()) as server:
        env = {"KANTATA_TOKEN": KANTATA_TOKEN, "KANTATA_BASE_URL": f"{server.url}/api/v1"}
        settings = load_settings(None, env=env)
        clients = [w.connect(Platform.KANTATA, settings) for w in workers]

        def read(i: int) -> None:
            list(clients[i % 2].milestones.list(workspace))

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(read, range(15)))  # two requests each: the workspace, then its milestones
    budgets = [w.kantata_budget() for w in workers]
    assert all(b is not None and b.window == 60.0 for b in budgets)
    assert len(sandbox.request_log) == 30 == budgets[0].used() == budgets[1].used()  # type: ignore[union-attr]
    wait = budgets[1].acquire()  # type: ignore[union-attr]
    assert wait is not None and 0 < wait <= 60
    assert SharedBudgets(url, WorkerSettings()).kantata_budget() is None  # not configured: not paced
    for client in clients:
        client.close()
    for w in workers:
        w.close()


def test_workers_racing_for_a_budget_never_take_more_than_it_holds(postgres_server: PostgresServer) -> None:
    url = fresh_database(postgres_server)
    budgets = [PostgresHourlyBudget(url, 150, key="race") for _ in range(4)]  # 4 workers
    budgets[0].acquire()  # the table exists before the race
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda i: budgets[i % 4].acquire(), range(400)))
    assert answers.count(None) == 149 and budgets[1].used() == 150  # one slot was taken before the race
    assert all(wait is not None and 0 < wait <= 3600 for wait in answers if wait is not None)
    for budget in budgets:
        budget.close()


def test_a_workers_autotask_timeout_is_its_clients_and_its_limiters_lease(postgres_server: PostgresServer) -> None:
    """The slots a killed worker leaves stay taken for as long as its requests could still be in flight: the
    limiter's lease is made from the very timeout its Autotask clients are given."""
    import httpx

    from billing_milestones.model import Platform
    from billing_milestones.sync.config import load_settings

    url = fresh_database(postgres_server)
    env = {
        "AUTOTASK_USERNAME": AutotaskSandbox.USERNAME,
        "AUTOTASK_SECRET": AutotaskSandbox.SECRET,
        "AUTOTASK_INTEGRATION_CODE": AutotaskSandbox.INTEGRATION_CODE,
        "AUTOTASK_BASE_URL": "http://127.0.0.1:9/ATServicesRest/V1.0",
    }
    settings = load_settings(None, env=env)
    for configured, phases, lease in [(2.0, httpx.Timeout(2.0), 4 * 2.0 + 1), (None, httpx.Timeout(30, connect=5), 96)]:
        shared = SharedBudgets(url, WorkerSettings(autotask_timeout=configured))
        client = shared.connect(Platform.AUTOTASK, settings)
        assert client._core.timeout == phases
        assert shared.for_tenant(AutotaskSandbox.USERNAME)[0].lease == lease
        client.close()
        shared.close()


def _fill(url: str, key: str, rows: int, age: float = 0.0) -> None:
    """``rows`` requests admitted ``age`` seconds ago, written straight into the window's table."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO bm_request_budget (key, at) SELECT %s, extract(epoch FROM clock_timestamp()) - %s"
            " FROM generate_series(1, %s)",
            (f"bm-budget:{key}", age, rows),
        )


def test_a_take_reads_the_windows_count_not_its_rows(postgres_server: PostgresServer) -> None:
    """At the vendor's rate a window holds 10,000 rows: a take reads the count's row and the index's first
    entry, whatever the window holds (counting the window read every row of it, on every request)."""
    url = fresh_database(postgres_server)
    budget = PostgresHourlyBudget(url, 20_000, key="big")
    budget.warm(1)
    _fill(url, "big", 10_000)
    _budgets._run(psycopg.connect(url, autocommit=True), _budgets._RECOUNT, budget._args)
    with psycopg.connect(url) as conn:  # one transaction: its own table statistics are exact and at once
        conn.execute("SET enable_indexonlyscan = off")  # every index entry read fetches its row, and counts
        for _ in range(3):
            assert _budgets._run(conn, _budgets._TAKE, budget._args)[0] is True
        row = conn.execute(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables"
            " WHERE relname = 'bm_request_budget'"
        ).fetchone()
        assert row is not None and int(row[0]) <= 10, row
    assert budget.used() == 10_003
    budget.close()


def test_a_window_kept_before_the_count_is_counted_once_and_expires(postgres_server: PostgresServer) -> None:
    """Rows an earlier version admitted (no count beside them) are counted at a process's first take; what
    leaves the window leaves the count; a count dropped by hand is made again from the rows."""
    url = fresh_database(postgres_server)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(_budgets._BUDGET_TABLE)
    _fill(url, "old", 3, age=10.0)  # left a 2 s window
    _fill(url, "old", 2)
    budget = PostgresHourlyBudget(url, 3, key="old", window=2.0)
    assert budget.acquire() is None  # 2 in the window, the 3 expired forgotten: room for one
    wait = budget.acquire()
    assert wait is not None and 0 < wait <= 2.0 and budget.used() == 3
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM bm_request_budget_used")
    assert budget.acquire() is not None  # recounted from the rows: still full
    time.sleep(wait + 0.05)
    assert budget.acquire() is None
    budget.close()


def test_processes_racing_for_a_budget_never_take_more_than_it_holds(postgres_server: PostgresServer) -> None:
    """Four processes (their own connections, their own counts' caches) take 100 of a budget of 60 each:
    the window admits exactly 60."""
    url = fresh_database(postgres_server)
    code = (
        "import sys\n"
        "from billing_milestones.workers import PostgresHourlyBudget\n"
        f"b = PostgresHourlyBudget({url!r}, 60, key='procs')\n"
        "print(sum(b.acquire() is None for _ in range(100)))\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(4)]
    admitted = [int(p.communicate(timeout=120)[0]) for p in procs]
    assert sum(admitted) == 60
    budget = PostgresHourlyBudget(url, 60, key="procs")
    assert budget.used() == 60 and budget.acquire() is not None
    budget.close()
