"""Server-side throttles: requests per sliding window, and requests in flight per key."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from billing_milestones import errors
from billing_milestones._http import ClientCore, RequestSpec, RetryPolicy, SyncRunner
from billing_milestones.sandbox import Emulator, RateLimit, SandboxRequest, json_response
from billing_milestones.sandbox._limits import Limiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_requests_per_window() -> None:
    clock = Clock()
    limiter = Limiter(RateLimit(requests=2, per_seconds=10), clock=clock)
    assert limiter.enter() is None
    limiter.leave()
    clock.now += 4
    assert limiter.enter() is None
    limiter.leave()
    throttle = limiter.enter()
    assert throttle is not None
    assert throttle.reason == "rate"
    assert throttle.retry_after == pytest.approx(6.0)  # until the first request leaves the window
    clock.now += 6
    assert limiter.enter() is None  # the window slid
    assert limiter.enter() is not None


def test_max_concurrent_per_key() -> None:
    limiter = Limiter(RateLimit(max_concurrent=2), clock=Clock())
    assert limiter.enter("a") is None
    assert limiter.enter("a") is None
    throttle = limiter.enter("a")
    assert throttle is not None and throttle.reason == "concurrency"
    assert limiter.enter("b") is None  # another key has its own allowance
    limiter.leave("a")
    assert limiter.enter("a") is None
    limiter.leave("zzz")  # leaving an unknown key never goes negative
    assert limiter._in_flight["zzz"] == 0


class Nesting(Emulator):
    """GET /outer calls /inner on the same emulator while it is still in flight."""

    platform = "nesting"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inner_status: int | None = None

    def limit_key(self, request: SandboxRequest) -> str:
        return request.query.get("key", "")

    def handle(self, request: SandboxRequest) -> httpx.Response:
        if request.path == "/outer":
            with self.http_client() as client:
                inner = client.get(f"https://sandbox.test/inner?key={request.query.get('inner', '')}")
            self.inner_status = inner.status_code
        return json_response(200, {"path": request.path})


def test_emulator_answers_429_with_retry_after_over_the_rate() -> None:
    emulator = Nesting(rate_limit=RateLimit(requests=2, per_seconds=60))
    with emulator.http_client() as client:
        assert [client.get("https://sandbox.test/x").status_code for _ in range(2)] == [200, 200]
        refused = client.get("https://sandbox.test/x")
    assert refused.status_code == 429
    assert 59.0 <= float(refused.headers["retry-after"]) <= 60.0
    assert refused.json() == {"message": "Too many requests"}
    assert [e.status for e in emulator.request_log] == [200, 200, 429]

    core = ClientCore("nesting", httpx.URL("https://sandbox.test"), dict, retry=RetryPolicy(max_retries=0))
    runner = SyncRunner(core, emulator.http_client())
    with pytest.raises(errors.RateLimitError) as info:
        runner.request(RequestSpec("GET", "/x"))
    assert info.value.retry_after is not None and 59.0 <= info.value.retry_after <= 60.0


def test_retry_after_can_be_left_out() -> None:
    emulator = Nesting(rate_limit=RateLimit(requests=1, per_seconds=60, send_retry_after=False))
    with emulator.http_client() as client:
        client.get("https://sandbox.test/x")
        refused = client.get("https://sandbox.test/x")
    assert refused.status_code == 429
    assert "retry-after" not in refused.headers


@pytest.mark.parametrize(("outer", "inner", "expected"), [("a", "a", 429), ("a", "b", 200)])
def test_emulator_concurrency_per_key(outer: str, inner: str, expected: int) -> None:
    emulator = Nesting(rate_limit=RateLimit(max_concurrent=1))
    with emulator.http_client() as client:
        assert client.get(f"https://sandbox.test/outer?key={outer}&inner={inner}").status_code == 200
        assert emulator.inner_status == expected
        # Once the outer request finished, its slot is free again.
        assert client.get(f"https://sandbox.test/inner?key={outer}").status_code == 200
