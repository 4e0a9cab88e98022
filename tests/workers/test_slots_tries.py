"""How many times a waiting request tries to take a slot: each try is a round trip (and a row lock) on the
shared database, paid by every worker on every release, so a waiter tries again only when it may find one.

Nothing here asserts a duration; waits are bounded only so that a broken limiter fails the test instead of
hanging it."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from billing_milestones.workers import PostgresLimiter, _budgets

from ._waiting import wait_for


class _Tries:
    """A limiter whose slot takes are counted (the statement each try sends)."""

    def __init__(self, limiter: PostgresLimiter, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tries = 0
        take = limiter._take
        counter = self

        class Counted:
            def __init__(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
                self.conn = conn

            def __getattr__(self, name: str) -> Any:
                return getattr(self.conn, name)

            def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                if query is _budgets._TAKE_SLOT:
                    counter.tries += 1
                return self.conn.execute(query, *args, **kwargs)

        def counted(conn: psycopg.Connection[tuple[object, ...]], name: str) -> tuple[int, int]:
            return take(Counted(conn), name)  # type: ignore[arg-type]

        monkeypatch.setattr(limiter, "_take", counted)


def _one_wait(url: str, limiters: list[PostgresLimiter], monkeypatch: pytest.MonkeyPatch, *, warm: bool) -> int:
    """Tries of one request that finds the only slot held, sleeps, and takes it once it is released."""
    monkeypatch.setattr(_budgets, "_POLL", 3600.0)  # only the release's notification wakes it
    holder = PostgresLimiter(url, 1, namespace="t")
    waiter = PostgresLimiter(url, 1, namespace="t", max_wait=60)
    limiters += [holder, waiter]
    if warm:
        waiter.warm(1)  # as a worker does before its first job: its listener listening
    counted = _Tries(waiter, monkeypatch)
    asleep = threading.Event()
    wait = waiter._wakeups.wait

    def sleeping(name: str, heard: int, timeout: float) -> None:
        asleep.set()
        wait(name, heard, timeout)

    monkeypatch.setattr(waiter._wakeups, "wait", sleeping)
    hold = holder("k")
    hold.__enter__()
    taken = threading.Event()

    def take() -> None:
        with waiter("k"):
            taken.set()

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    wait_for(asleep.is_set, "the waiter asleep")
    hold.__exit__(None, None, None)
    assert taken.wait(30)
    thread.join(30)
    return counted.tries


def test_a_waiter_whose_listener_listens_sleeps_after_one_miss(
    url: str, limiters: list[PostgresLimiter], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its listener was listening before it read the releases heard, so a release after its miss is
    heard: it sleeps at once and takes the slot on the wake-up (two tries; was three, a second try
    straight after the miss)."""
    assert _one_wait(url, limiters, monkeypatch, warm=True) == 2


def test_a_waiter_with_no_listener_yet_listens_and_tries_again_before_sleeping(
    url: str, limiters: list[PostgresLimiter], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release between its miss and the listener's LISTEN would go unheard: it tries once more first."""
    assert _one_wait(url, limiters, monkeypatch, warm=False) == 3


def test_the_listener_says_it_listens_only_while_its_connection_lives(
    url: str, limiters: list[PostgresLimiter], monkeypatch: pytest.MonkeyPatch
) -> None:
    from billing_milestones.workers import _wakeups

    monkeypatch.setattr(_wakeups, "_RECONNECT", 3600.0)  # cut, it stays away
    limiter = PostgresLimiter(url, 1, namespace="t")
    limiters.append(limiter)
    assert not limiter._wakeups.listening
    limiter.warm(1)
    assert limiter._wakeups.listening
    with psycopg.connect(url, autocommit=True) as admin:
        cut = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE %s AND pid <> %s",
            (f"LISTEN %{limiter.channel}%", admin.info.backend_pid),
        ).fetchall()
    assert cut == [(True,)]
    wait_for(lambda: not limiter._wakeups.listening, "the listener no longer listening")
