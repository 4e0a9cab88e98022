"""Second review of the shared limiter (``PostgresLimiter``) and of the budgets' keys on a real server: a slot
is never held twice by threads of several processes (their leases shortened by the holds they have seen), slot
counts that differ between workers, waiters that never hear a release, and two tenants' budgets.

In-flight requests are counted on the server (a counter row each holder raises after its take and lowers
before its release), so the peak is what the processes held together; no duration is asserted."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from billing_milestones.errors import BudgetExhaustedError
from billing_milestones.sync._store_config import WorkerSettings
from billing_milestones.workers import PostgresLimiter, SharedBudgets, _wakeups

_HOLDER = """
import sys, threading, time, random, psycopg
from billing_milestones.workers import PostgresLimiter
url = sys.argv[1]
limiter = PostgresLimiter(url, 3, namespace="t", timeout=0.5)  # a whole lease of 3 s, ~1 s once seen
peaks, outlived = [], []
LEFT = "SELECT busy_until < clock_timestamp() FROM bm_request_slots WHERE name = 'bm-limit:t:Contracts' AND slot = %s"
def hold(i):
    with psycopg.connect(url, autocommit=True) as probe:
        for n in range(15):
            with limiter("Contracts") as slot:
                peaks.append(probe.execute("UPDATE probe SET n = n + 1 RETURNING n").fetchone()[0])
                if (i, n) == (0, 12):  # a slow request: held until the server's clock passes its lease
                    deadline = time.monotonic() + 30
                    while not probe.execute(LEFT, (slot,)).fetchone()[0] and time.monotonic() < deadline:
                        time.sleep(0.05)
                    outlived.append(probe.execute(LEFT, (slot,)).fetchone()[0])
                    time.sleep(0.3)  # the others try the slot meanwhile
                else:
                    time.sleep(random.uniform(0, 0.01))
                probe.execute("UPDATE probe SET n = n - 1")
threads = [threading.Thread(target=hold, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(max(peaks), outlived == [True])
limiter.close()
"""


def test_threads_of_several_processes_never_hold_more_than_the_slots(url: str) -> None:
    """Three processes of four threads, three slots of one endpoint: never a fourth request in flight, even
    from a hold that outlives the lease it was stamped with (its connection lives, so its slot stays its)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE probe (n integer NOT NULL)")
        conn.execute("INSERT INTO probe VALUES (0)")
    procs = [
        subprocess.Popen([sys.executable, "-c", _HOLDER, url], stdout=subprocess.PIPE, text=True) for _ in range(3)
    ]
    outs = [proc.communicate(timeout=300)[0].split() for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), outs
    assert max(int(peak) for peak, _ in outs) == 3  # the tenant's whole share, never more
    assert [outlived for _, outlived in outs] == ["True"] * 3  # each process's slow hold outlived its lease
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT n FROM probe").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM bm_request_slots WHERE holder IS NOT NULL").fetchone() == (0,)


def test_workers_with_different_slot_counts_on_one_key_never_pass_the_larger(
    url: str, limiters: list[PostgresLimiter]
) -> None:
    """A worker with ``autotask_threads = 2`` beside one with 3 (capped at Autotask's 3 by the config): the
    first takes only the first two slots, the second any of the three, so together never a fourth."""
    low = PostgresLimiter(url, 2, namespace="t", max_wait=0.3)
    high = PostgresLimiter(url, 3, namespace="t", max_wait=0.3)
    limiters += [low, high]
    with low("k"), low("k"):
        with pytest.raises(BudgetExhaustedError), low("k"):
            pass
        with high("k"), pytest.raises(BudgetExhaustedError), high("k"):
            pass


def test_waiters_that_never_hear_a_release_still_take_every_slot_on_their_poll(
    url: str, limiters: list[PostgresLimiter], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every notification lost (as on a listener whose connection keeps dropping): two workers' waiters still
    go through, each finding a freed slot on its poll; none waits out ``max_wait``."""
    monkeypatch.setattr(_wakeups.Wakeups, "_wake", lambda self, name: None)
    workers = [PostgresLimiter(url, 1, namespace="t", max_wait=60) for _ in range(2)]
    limiters += workers
    done = []
    lock = threading.Lock()

    def request(i: int) -> None:
        with workers[i % 2]("k"), lock:
            done.append(i)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(request, range(24)))  # a BudgetExhaustedError would surface here
    assert sorted(done) == list(range(24))


def test_two_tenants_and_the_kantata_rate_never_share_a_count(url: str) -> None:
    """Each Autotask tenant (its API user) has its own hourly count and slots; Kantata's rate is a key of its
    own, even beside a tenant whose user is named ``kantata``."""
    shared = SharedBudgets(url, WorkerSettings(autotask_hourly_budget=2, kantata_requests_per_minute=2))
    try:
        (limit_a, one), (limit_b, two), (_, named) = (shared.for_tenant(t) for t in ("a", "b", "kantata"))
        kantata = shared.kantata_budget()
        assert kantata is not None
        assert [one.acquire(), one.acquire()] == [None, None] and one.acquire() is not None
        assert [two.acquire(), two.acquire()] == [None, None] and two.acquire() is not None
        assert [named.acquire(), named.acquire()] == [None, None]
        assert [kantata.acquire(), kantata.acquire()] == [None, None] and kantata.acquire() is not None
        assert len({one.key, two.key, named.key, kantata.key}) == 4
        assert limit_a.channel != limit_b.channel
        with limit_a("Contracts"), limit_a("Contracts"), limit_a("Contracts"), limit_b("Contracts"):
            pass  # b's slots are its own
    finally:
        shared.close()
    shared = SharedBudgets(url, WorkerSettings(kantata_requests_per_minute=2))
    try:
        first = shared.kantata_budget()
        shared.for_tenant("kantata")  # made after the Kantata rate: it does not replace it
        assert shared.kantata_budget() is first and first is not None
        assert (first.platform, first.window, first.key) == ("kantata", 60.0, "bm-budget:kantata")
    finally:
        shared.close()


def test_keys_whose_lock_hashes_collide_still_keep_their_own_counts(url: str) -> None:
    """A take locks ``hashtext(key)``, 32 bits: two keys of one hash share a lock (they wait on each other),
    never a count."""
    from billing_milestones.workers import PostgresHourlyBudget

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT min(k), max(k) FROM (SELECT 'u' || i AS k FROM generate_series(1, 300000) AS i) AS keys"
            " GROUP BY hashtext('bm-budget:' || k) HAVING count(*) > 1 LIMIT 1"
        ).fetchone()
    assert row is not None
    first, second = (PostgresHourlyBudget(url, 2, key=key) for key in row)
    try:
        assert [first.acquire(), first.acquire()] == [None, None] and first.acquire() is not None
        assert [second.acquire(), second.acquire()] == [None, None] and second.acquire() is not None
        assert first.used() == 2 == second.used()
    finally:
        first.close()
        second.close()
