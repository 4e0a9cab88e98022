"""Second review of the shared hourly budget when its database is slow or cut under a take: a take is bounded
(refused unsent, never a thread hung on it), and a take the server never committed is not counted.

The slow database is a session holding the key's advisory lock (as a stuck transaction, or a server too
loaded to grant it, would); no duration is asserted, only that the take ends and how."""

from __future__ import annotations

import threading

import psycopg
import pytest

from billing_milestones.errors import BudgetExhaustedError, RequestNotSentError
from billing_milestones.workers import PostgresHourlyBudget, PostgresLimiter, _hourly

from .test_budgets_review_cut import _cut_while_waiting


def test_a_take_the_database_does_not_answer_is_refused_unsent_within_its_bound(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a bound, every thread of every worker asking for the key waited on the lock for as long as it
    was held: jobs hung, their worker's heartbeat beating, never retried."""
    monkeypatch.setattr(_hourly, "_TAKE_TIMEOUT", 0.5, raising=False)
    budget = PostgresHourlyBudget(url, 5, key="slow")
    outcome: list[object] = []
    try:
        assert budget.acquire() is None  # the tables made, one unit taken
        with psycopg.connect(url, autocommit=True) as admin, admin.transaction():
            admin.execute("SELECT pg_advisory_xact_lock(hashtext('bm-budget:slow'))")

            def take() -> None:
                try:
                    outcome.append(budget.acquire())
                except BaseException as exc:  # whatever it is, the test names it
                    outcome.append(exc)

            thread = threading.Thread(target=take, daemon=True)
            thread.start()
            thread.join(30)
            assert not thread.is_alive(), "the take still waits on the held lock"
        [error] = outcome
        assert isinstance(error, BudgetExhaustedError) and isinstance(error, RequestNotSentError), repr(error)
        assert "not sent" in str(error) and "statement timeout" in str(error)
        assert budget.used() == 1  # refused: nothing counted
        assert budget.acquire() is None  # the lock gone, the same pool takes again
        assert budget.used() == 2
    finally:
        budget.close()


def test_a_take_cut_before_its_commit_is_not_counted(url: str) -> None:
    """The take's backend is terminated while it waits on the key's lock: its transaction never committed,
    so the refusal (not sent) leaves the count as it was, and the next take is counted once."""
    budget = PostgresHourlyBudget(url, 5, key="cut")
    try:
        assert budget.acquire() is None
        lock = "SELECT pg_advisory_xact_lock(hashtext('bm-budget:cut'))"
        error = _cut_while_waiting(url, lock, "bm_budget_take_v1", budget.acquire)
        assert isinstance(error, BudgetExhaustedError), repr(error)
        assert budget.used() == 1
        assert budget.acquire() is None and budget.used() == 2
    finally:
        budget.close()


def test_a_slot_take_the_database_does_not_answer_is_refused_unsent_within_max_wait(
    url: str, limiters: list[PostgresLimiter]
) -> None:
    """A session holding the slots' table (``VACUUM FULL``, or a newer worker's ``ALTER TABLE`` queued behind
    a ``pg_dump``) held every take's statement: ``max_wait`` bounded the tries between statements, not a
    statement, so every Autotask request of every worker waited for as long as the table was held."""
    limiter = PostgresLimiter(url, 3, namespace="t", max_wait=0.5)
    limiters.append(limiter)
    outcome: list[object] = []
    with limiter("k"):
        pass  # the table and the key's rows made: the next take is its one statement
    with psycopg.connect(url, autocommit=True) as admin, admin.transaction():
        admin.execute("LOCK TABLE bm_request_slots IN ACCESS EXCLUSIVE MODE")

        def take() -> None:
            try:
                with limiter("k"):
                    outcome.append("held")
            except BaseException as exc:  # whatever it is, the test names it
                outcome.append(exc)

        thread = threading.Thread(target=take, daemon=True)
        thread.start()
        thread.join(30)
        assert not thread.is_alive(), "the take still waits on the held table"
    [error] = outcome
    assert isinstance(error, BudgetExhaustedError) and isinstance(error, RequestNotSentError), repr(error)
    assert "not sent" in str(error) and "statement timeout" in str(error)
    with limiter("k"):
        pass  # the table free again: taken, on the same pool
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM bm_request_slots WHERE holder IS NOT NULL").fetchone() == (0,)
