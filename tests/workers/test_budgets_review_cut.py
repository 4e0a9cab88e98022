"""Review of the shared limiter and budget when their database fails under a take: the request they guard
was not sent, and the error says so by its type (a ``RequestNotSentError``), as a wait past ``max_wait`` does.

A raw ``psycopg.OperationalError`` out of a client's create left the create's intent pending (the sync engine
cannot tell that nothing was sent), so the pair's next run waited ``write_settle`` (96 s by default) for a
write that never left. The cut is made by the server (``pg_terminate_backend``) while the take waits on a lock
held by the test, so it lands mid-statement every time; no duration is asserted."""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg

from billing_milestones.errors import BudgetExhaustedError, RequestNotSentError
from billing_milestones.workers import PostgresHourlyBudget, PostgresLimiter

from ._waiting import wait_for

_WAITING = """
SELECT pid FROM pg_stat_activity
WHERE wait_event_type IN ('Lock', 'advisory') AND query LIKE %s AND pid <> pg_backend_pid()"""


def _cut_while_waiting(url: str, lock: str, statement: str, take: Callable[[], object]) -> BaseException:
    """What ``take`` raises when its backend is terminated while its statement waits on ``lock``, held here."""
    failed: list[BaseException] = []

    def run() -> None:
        try:
            take()
        except BaseException as exc:  # whatever it is, the test names it
            failed.append(exc)

    # Looked for on a connection of its own: pg_stat_activity is read once per transaction.
    with psycopg.connect(url, autocommit=True) as admin, psycopg.connect(url, autocommit=True) as look:
        with admin.transaction():
            admin.execute(lock)
            thread = threading.Thread(target=run, daemon=True)
            thread.start()
            pids: list[int] = []

            def waiting() -> bool:
                pids[:] = [row[0] for row in look.execute(_WAITING, (f"%{statement}%",))]
                return bool(pids)

            wait_for(waiting, "a take waiting on the lock")
            look.execute("SELECT pg_terminate_backend(%s)", (pids[0],))
        thread.join(30)
    [error] = failed
    return error


def test_a_slot_take_cut_mid_statement_is_refused_as_not_sent(url: str, limiters: list[PostgresLimiter]) -> None:
    limiter = PostgresLimiter(url, 1, namespace="t", max_wait=30)
    limiters.append(limiter)
    with limiter("k"):
        pass  # the table and the key's rows made: the next take is its one statement

    def take() -> None:
        with limiter("k"):
            pass

    error = _cut_while_waiting(url, "LOCK TABLE bm_request_slots", "UPDATE bm_request_slots AS s", take)
    assert isinstance(error, RequestNotSentError) and isinstance(error, BudgetExhaustedError), repr(error)
    assert "not sent" in str(error) and error.platform == "autotask"
    with limiter("k"):
        pass  # a new connection takes it: nothing was left held


def test_a_budget_take_cut_mid_statement_is_refused_as_not_sent(url: str) -> None:
    budget = PostgresHourlyBudget(url, 5, key="t", platform="kantata")
    try:
        assert budget.acquire() is None  # the tables and the take function made
        lock = "SELECT pg_advisory_xact_lock(hashtext('bm-budget:t'))"
        error = _cut_while_waiting(url, lock, "bm_budget_take_v1", budget.acquire)
        assert isinstance(error, RequestNotSentError) and isinstance(error, BudgetExhaustedError), repr(error)
        assert "not sent" in str(error) and error.platform == "kantata"
        assert budget.acquire() is None  # on a new connection
    finally:
        budget.close()
