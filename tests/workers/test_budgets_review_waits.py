"""Review of the shared limiter's waits: a request waiting for one of the limiter's pooled connections (every
one held by a request in flight or one waiting for a slot) is bounded by ``max_wait`` too, and refused unsent
like a wait for a slot, not after the pool's own 30 s as a ``PoolTimeout``.

The bound asserted is a third of the pool's 30 s, so only a wait that ignored ``max_wait`` fails it."""

from __future__ import annotations

import time

import pytest

from billing_milestones.errors import BudgetExhaustedError
from billing_milestones.workers import PostgresLimiter


def test_a_wait_for_a_pooled_connection_is_bounded_by_max_wait(url: str, limiters: list[PostgresLimiter]) -> None:
    limiter = PostgresLimiter(url, 1, namespace="t", pool_size=1, max_wait=0.5)
    limiters.append(limiter)
    with limiter("a"):  # the pool's one connection, held by a request in flight
        started = time.monotonic()
        with pytest.raises(BudgetExhaustedError) as refused, limiter("b"):
            pass
        waited = time.monotonic() - started
    assert waited < 10.0, f"waited {waited:.1f}s for a connection with max_wait=0.5"
    assert "not sent" in str(refused.value)
    with limiter("b"):
        pass  # the connection given back: b's slot was free all along
