"""The runners' retry behaviour end to end over a mock transport: every test runs twice, once sync and once async."""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
from typing import Any

import httpx
import pytest
import tenacity

from billing_milestones import errors
from billing_milestones._http import (
    APIResponse,
    Operation,
    RequestSpec,
    Retryable,
    RetryPolicy,
)

GET = RequestSpec("GET", "/things")
POST = RequestSpec("POST", "/things", json={"title": "x"})


# -- Retry-After ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "20"}, 20.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": "60"}, 60.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "2000", "retry-after": "9"}, 2.0),  # the ms header wins
        ({"retry-after-ms": "junk", "retry-after": "9"}, 9.0),
        ({"retry-after": "0"}, 0.5),  # no usable hint: backoff
        ({"retry-after": "-10"}, 0.5),
        ({"retry-after": "junk"}, 0.5),
        ({"retry-after": "nan"}, 0.5),
        ({"retry-after": "inf"}, 0.5),
        ({}, 0.5),
    ],
)
async def test_retry_after_table(harness: Any, kit: Any, headers: dict[str, str], expected: float) -> None:
    h = harness(kit.status_then_ok(429, headers=headers))
    response = await h.request(GET)
    assert response.status_code == 200
    assert h.sleeps == [expected]
    assert response.retries_taken == 1


async def test_retry_after_http_date(harness: Any, kit: Any) -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    h = harness(kit.status_then_ok(503, headers={"retry-after": email.utils.format_datetime(when, usegmt=True)}))
    await h.request(GET)
    assert len(h.sleeps) == 1
    assert 27.0 <= h.sleeps[0] <= 30.0


async def test_retry_after_above_the_cap_gives_up_with_the_hint(harness: Any, kit: Any, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="billing_milestones")
    h = harness(kit.always(429, headers={"retry-after": "61"}))
    with pytest.raises(errors.RateLimitError) as info:
        await h.request(GET)
    assert info.value.retry_after == 61.0
    assert info.value.retries_taken == 0
    assert h.attempts == 1
    assert h.sleeps == []
    assert any("above the 60s cap" in r.getMessage() for r in caplog.records)


async def test_retry_after_cap_is_configurable(harness: Any, kit: Any) -> None:
    h = harness(kit.status_then_ok(429, headers={"retry-after": "90"}), retry=RetryPolicy(max_retry_after=120))
    await h.request(GET)
    assert h.sleeps == [90.0]


# -- which statuses retry, and how often -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "retried"),
    [
        (408, True),
        (429, True),
        (502, True),
        (503, True),
        (504, True),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (409, False),
        (422, False),
        (500, False),
    ],
)
async def test_which_statuses_retry(harness: Any, kit: Any, status: int, retried: bool) -> None:
    h = harness(kit.always(status))
    with pytest.raises(errors.status_error_class(status)) as info:
        await h.request(GET)
    assert info.value.status_code == status
    expected_attempts = 3 if retried else 1
    assert h.attempts == expected_attempts
    assert info.value.retries_taken == expected_attempts - 1
    assert h.sleeps == ([0.5, 1.0] if retried else [])
    assert [r.headers["x-retry-count"] for r in h.requests] == [str(i) for i in range(expected_attempts)]


async def test_max_retries_zero_per_client(harness: Any, kit: Any) -> None:
    h = harness(kit.always(503), retry=RetryPolicy(max_retries=0))
    with pytest.raises(errors.InternalServerError) as info:
        await h.request(GET)
    assert (h.attempts, info.value.retries_taken, h.sleeps) == (1, 0, [])


@pytest.mark.parametrize(("per_call", "attempts"), [(0, 1), (1, 2), (4, 5)])
async def test_max_retries_per_call(harness: Any, kit: Any, per_call: int, attempts: int) -> None:
    h = harness(kit.always(503))
    with pytest.raises(errors.InternalServerError) as info:
        await h.request(RequestSpec("GET", "/things", max_retries=per_call))
    assert h.attempts == attempts
    assert info.value.retries_taken == attempts - 1


async def test_backoff_doubles_to_the_cap(harness: Any, kit: Any) -> None:
    h = harness(kit.always(502), retry=RetryPolicy(max_retries=6, jitter=0.0, total_budget=1000))
    with pytest.raises(errors.InternalServerError):
        await h.request(GET)
    assert h.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


async def test_backoff_jitter_stays_within_75_to_100_percent(harness: Any, kit: Any) -> None:
    h = harness(kit.always(502), retry=RetryPolicy(max_retries=5, jitter=0.25, total_budget=1000))
    with pytest.raises(errors.InternalServerError):
        await h.request(GET)
    for wait, nominal in zip(h.sleeps, [0.5, 1.0, 2.0, 4.0, 8.0], strict=True):
        assert 0.75 * nominal <= wait <= nominal


async def test_total_budget_stops_retrying(harness: Any, kit: Any, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="billing_milestones")
    policy = RetryPolicy(max_retries=10, initial_delay=1.0, jitter=0.0, total_budget=2.5)
    h = harness(kit.always(503), retry=policy)
    with pytest.raises(errors.InternalServerError) as info:  # the real error, not tenacity's RetryError
        await h.request(GET)
    # Waits 1 s, then the next wait (2 s) would bring the call to 3 s > 2.5 s.
    assert h.sleeps == [1.0]
    assert h.attempts == 2
    assert info.value.retries_taken == 1
    assert any("retry budget" in r.getMessage() for r in caplog.records)


async def test_a_hint_longer_than_the_budget_is_not_waited_for(harness: Any, kit: Any) -> None:
    h = harness(kit.always(429, headers={"retry-after": "50"}), retry=RetryPolicy(total_budget=30))
    with pytest.raises(errors.RateLimitError) as info:
        await h.request(GET)
    assert (h.attempts, h.sleeps, info.value.retry_after) == (1, [], 50.0)


# -- retries_taken -----------------------------------------------------------------------------------------


async def test_retries_taken_on_success(harness: Any, kit: Any) -> None:
    h = harness(kit.status_then_ok())
    response = await h.request(GET)
    assert isinstance(response, APIResponse)
    assert response.retries_taken == 0
    h2 = harness(kit.status_then_ok(503, 502))
    assert (await h2.request(GET)).retries_taken == 2
    assert (await h2.request(GET)).retries_taken == 0  # each call counts its own


async def test_retries_taken_on_connection_errors(harness: Any, kit: Any) -> None:
    h = harness(kit.raising(httpx.ConnectError))
    with pytest.raises(errors.APIConnectionError) as info:
        await h.request(GET)
    assert info.value.retries_taken == 2
    assert h.attempts == 3
    h2 = harness(kit.raising(httpx.ReadTimeout, times=1))
    assert (await h2.request(GET)).retries_taken == 1


async def test_retries_taken_after_parse(harness: Any, kit: Any) -> None:
    h = harness(kit.status_then_ok(503))
    result = await h.execute(Operation(GET, lambda r: (r.json()["ok"], r.retries_taken)))
    assert result == (True, 1)


# -- POST safety ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "replayed"),
    [
        (httpx.ReadTimeout, False),  # the server may have created it
        (httpx.WriteTimeout, False),
        (httpx.RemoteProtocolError, False),  # dropped after sending
        (httpx.ReadError, False),
        (502, False),
        (500, False),
        (504, False),
        (httpx.ConnectError, True),  # never reached the server
        (httpx.ConnectTimeout, True),
        (httpx.PoolTimeout, True),
        (429, True),  # rejected before processing
        (503, True),
    ],
)
async def test_unsafe_post_is_replayed_only_when_nothing_can_have_been_created(
    harness: Any, kit: Any, failure: Any, replayed: bool
) -> None:
    handler = kit.always(failure) if isinstance(failure, int) else kit.raising(failure)
    h = harness(handler)
    with pytest.raises(errors.APIError) as info:
        await h.request(POST)
    assert h.attempts == (3 if replayed else 1)
    assert info.value.retries_taken == h.attempts - 1
    assert info.value.method == "POST"
    if isinstance(failure, int):
        assert info.value.status_code == failure
    else:
        assert isinstance(info.value.__cause__, failure)


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.RemoteProtocolError, 502, 500])
async def test_other_writes_by_method(harness: Any, kit: Any, failure: Any) -> None:
    handler = kit.always(failure) if isinstance(failure, int) else kit.raising(failure)
    # PUT and DELETE are idempotent: replayed after a timeout or drop (500 still never retries).
    put = harness(handler)
    with pytest.raises(errors.APIError):
        await put.request(RequestSpec("PUT", "/things/1", json={"a": 1}))
    assert put.attempts == (1 if failure == 500 else 3)
    # PATCH is treated like POST.
    patch = harness(handler)
    with pytest.raises(errors.APIError):
        await patch.request(RequestSpec("PATCH", "/things/1", json={"a": 1}))
    assert patch.attempts == 1


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.RemoteProtocolError, 502])
async def test_always_retryable_post_is_replayed(harness: Any, kit: Any, failure: Any) -> None:
    handler = kit.always(failure) if isinstance(failure, int) else kit.raising(failure)
    h = harness(handler)
    with pytest.raises(errors.APIError):
        await h.request(RequestSpec("POST", "/query", json={"filter": []}, retryable=Retryable.ALWAYS))
    assert h.attempts == 3


async def test_never_retryable_get_is_not_replayed(harness: Any, kit: Any) -> None:
    h = harness(kit.always(503))
    with pytest.raises(errors.InternalServerError):
        await h.request(RequestSpec("GET", "/x", retryable=Retryable.NEVER))
    assert h.attempts == 1


async def test_the_real_error_reaches_the_caller_never_retry_error(harness: Any, kit: Any) -> None:
    h = harness(kit.raising(httpx.ReadTimeout))
    with pytest.raises(errors.APITimeoutError) as info:
        await h.request(GET)
    assert not isinstance(info.value, tenacity.RetryError)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert "request timed out" in str(info.value)
    h2 = harness(kit.always(503, headers={"x-request-id": "req-7"}, body={"message": "maintenance"}))
    with pytest.raises(errors.InternalServerError) as info2:
        await h2.request(GET)
    assert info2.value.request_id == "req-7"
    assert info2.value.messages == ("maintenance",)
    assert info2.value.body == {"message": "maintenance"}
    assert info2.value.platform == "testplat"
    assert info2.value.path == "/v1/things"


# -- overrides: x-should-retry and the retry hook ---------------------------------------------------------


@pytest.mark.parametrize(("status", "header", "attempts"), [(400, "true", 3), (503, "false", 1), (503, "junk", 3)])
async def test_x_should_retry_overrides(harness: Any, kit: Any, status: int, header: str, attempts: int) -> None:
    h = harness(kit.always(status, headers={"x-should-retry": header}))
    with pytest.raises(errors.APIStatusError):
        await h.request(GET)
    assert h.attempts == attempts


async def test_retry_hook_verdicts(harness: Any, kit: Any) -> None:
    seen: list[Any] = []

    def hook(response: httpx.Response, body: Any) -> bool | None:
        seen.append(body)
        if body.get("code") == "THREAD_THRESHOLD":
            return True
        if body.get("code") == "PERMANENT":
            return False
        return None

    # A throttle disguised as a 500 is retried, even for a POST: it was rejected before processing.
    h = harness(kit.always(500, body={"code": "THREAD_THRESHOLD"}), retry_hook=hook)
    with pytest.raises(errors.InternalServerError):
        await h.request(POST)
    assert h.attempts == 3
    assert seen[0] == {"code": "THREAD_THRESHOLD"}
    # False overrides a normally retried status, and the hook wins over x-should-retry.
    h2 = harness(kit.always(503, headers={"x-should-retry": "true"}, body={"code": "PERMANENT"}), retry_hook=hook)
    with pytest.raises(errors.InternalServerError):
        await h2.request(GET)
    assert h2.attempts == 1
    # None applies the default rules.
    h3 = harness(kit.always(503, body={"code": "OTHER"}), retry_hook=hook)
    with pytest.raises(errors.InternalServerError):
        await h3.request(GET)
    assert h3.attempts == 3
