"""The first attempt goes out without tenacity's loop, and a retryable first failure is handed to that loop as
its first outcome: the policy (attempt count, retry budget, waits, logging, metrics) is the one it always was.
Every test runs twice, once sync and once async."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
import pytest

from billing_milestones import errors
from billing_milestones._http import RequestSpec, RetryPolicy
from billing_milestones._http._metrics import METRICS_LOGGER

GET = RequestSpec("GET", "/things")


async def test_the_first_attempt_counts_toward_the_retry_budget(harness: Any) -> None:
    calls: list[int] = []

    def slow_then_unavailable(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.3)  # the first attempt alone takes most of the budget
        return httpx.Response(503, json={"message": "busy"})

    policy = RetryPolicy(max_retries=5, initial_delay=0.1, jitter=0.0, total_budget=0.35)
    h = harness(slow_then_unavailable, retry=policy)
    with pytest.raises(errors.InternalServerError) as info:
        await h.request(GET)
    # 0.3 s spent + a 0.1 s wait > 0.35 s: no retry (counting only the loop's own time, it would retry).
    assert (h.attempts, h.sleeps, info.value.retries_taken) == (1, [], 0)


async def test_retries_number_their_attempts_from_the_first(harness: Any, kit: Any) -> None:
    h = harness(kit.status_then_ok(503, 502), retry=RetryPolicy(initial_delay=1.0, jitter=0.0))
    response = await h.request(GET)
    assert response.retries_taken == 2
    assert [r.headers["X-Retry-Count"] for r in h.requests] == ["0", "1", "2"]
    assert h.sleeps == [1.0, 2.0]  # the first failure waits the first backoff, as inside the loop


async def test_a_success_at_once_sends_one_request_and_waits_for_nothing(harness: Any, kit: Any) -> None:
    h = harness(kit.status_then_ok())
    assert (await h.request(GET)).retries_taken == 0
    assert (h.attempts, h.sleeps) == (1, [])


async def test_each_retry_is_logged_and_metered_once(harness: Any, kit: Any, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="billing_milestones")
    h = harness(kit.always(503), retry=RetryPolicy(max_retries=2, initial_delay=0.5, jitter=0.0))
    with pytest.raises(errors.InternalServerError) as info:
        await h.request(GET)
    assert info.value.retries_taken == 2
    retrying = [r for r in caplog.records if r.getMessage().startswith("retrying GET /things")]
    assert len(retrying) == 2
    metered = [r for r in caplog.records if r.name == METRICS_LOGGER]
    assert [(r.bm_attempt, r.bm_retried, r.bm_status) for r in metered] == [
        (0, True, 503),
        (1, True, 503),
        (2, False, 503),
    ]


async def test_a_first_failure_that_is_not_retried_is_raised_as_it_is(harness: Any, kit: Any, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="billing_milestones")
    h = harness(kit.always(429, headers={"retry-after": "500"}))
    with pytest.raises(errors.RateLimitError) as info:
        await h.request(GET)
    assert (h.attempts, h.sleeps, info.value.retries_taken, info.value.retry_after) == (1, [], 0, 500.0)
    assert len([r for r in caplog.records if r.getMessage().startswith("not retrying")]) == 1
    h2 = harness(kit.raising(httpx.ConnectError), retry=RetryPolicy(max_retries=0))
    with pytest.raises(errors.APIConnectionError) as failed:
        await h2.request(GET)
    assert (h2.attempts, failed.value.retries_taken) == (1, 0)
