"""Review of the request metrics' ``bm_retried``: True only when the call was really sent again.

The record of an attempt was emitted when the runner decided to retry, marked retried; but the retry can be
refused before it is sent, after its wait: by the request budget (a worker's shared Kantata rate), by the
limiter (a worker's shared Autotask slots, past their ``max_wait``) or by Autotask's hourly budget, each a
``BudgetExhaustedError`` that sends nothing. A log pipeline counting ``bm_retried`` counted a retry that never
left, for an attempt that was in fact the call's last. Now the record waits for the next send (or the call's
end) to know."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from billing_milestones import METRICS_LOGGER, errors
from billing_milestones._http import AsyncRunner, ClientCore, RequestSpec, RetryPolicy, SyncRunner

MODES = pytest.mark.parametrize("mode", ["sync", "async"])


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """The metrics records of the test (the logger on at INFO while it runs)."""
    caplog.set_level(logging.INFO, logger=METRICS_LOGGER)
    kept: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            kept.append(record)

    handler = Keep()
    logging.getLogger(METRICS_LOGGER).addHandler(handler)
    yield kept
    logging.getLogger(METRICS_LOGGER).removeHandler(handler)


def outcomes(records: list[logging.LogRecord]) -> list[tuple[Any, ...]]:
    return [
        (r.bm_status, r.bm_attempt, r.bm_retried)  # type: ignore[attr-defined]
        for r in records
        if getattr(r, "bm_event", None) == "http_request"
    ]


def core() -> ClientCore:
    return ClientCore(
        platform="testplat",
        base_url=httpx.URL("https://api.example.com/v1"),
        credentials=dict,
        retry=RetryPolicy(max_retries=3, jitter=0.0),
    )


def refused() -> errors.BudgetExhaustedError:
    return errors.BudgetExhaustedError("no slot (not sent)", platform="testplat", method="GET", path="/x")


class SecondRefused:
    """A request budget that admits the first attempt and has no slot for an hour after it."""

    def __init__(self) -> None:
        self.asked = 0

    def acquire(self) -> float | None:
        self.asked += 1
        return None if self.asked == 1 else 3600.0


class Limiter:
    """A limiter whose second hold is refused, as a worker's shared slots refuse one past ``max_wait``."""

    def __init__(self) -> None:
        self.held = 0

    @contextlib.contextmanager
    def __call__(self, key: str) -> Iterator[None]:
        self.held += 1
        if self.held > 1:
            raise refused()
        yield


class AsyncLimiter(Limiter):
    @contextlib.asynccontextmanager
    async def __call__(self, key: str) -> AsyncIterator[None]:  # type: ignore[override]
        self.held += 1
        if self.held > 1:
            raise refused()
        yield


def send(mode: str, *, budget: SecondRefused | None = None, limited: bool = False) -> None:
    """One GET answered 503 every time, through a runner whose retry is refused before it is sent."""
    transport = httpx.MockTransport(lambda request: httpx.Response(503, json={}))
    spec = RequestSpec("GET", "/x", limit_key="x" if limited else None)
    if mode == "sync":
        with httpx.Client(transport=transport) as http:
            runner = SyncRunner(
                core(), http, sleep=lambda s: None, request_budget=budget, limiter=Limiter() if limited else None
            )
            runner.request(spec)
        return

    async def run() -> None:
        async def asleep(seconds: float) -> None:
            return None

        async with httpx.AsyncClient(transport=transport) as http:
            runner = AsyncRunner(
                core(),
                http,
                sleep=asleep,
                request_budget=budget,
                limiter=AsyncLimiter() if limited else None,
            )
            await runner.request(spec)

    asyncio.run(run())


@MODES
def test_a_503_whose_retry_the_budget_refuses_is_its_calls_last_attempt(
    mode: str, records: list[logging.LogRecord]
) -> None:
    with pytest.raises(errors.BudgetExhaustedError):
        send(mode, budget=SecondRefused())
    assert outcomes(records) == [(503, 0, False)]


@MODES
def test_a_503_whose_retry_the_limiter_refuses_is_its_calls_last_attempt(
    mode: str, records: list[logging.LogRecord]
) -> None:
    with pytest.raises(errors.BudgetExhaustedError):
        send(mode, limited=True)
    assert outcomes(records) == [(503, 0, False)]


@MODES
def test_retries_sent_are_marked_retried_and_the_last_is_not(mode: str, records: list[logging.LogRecord]) -> None:
    with pytest.raises(errors.InternalServerError):
        send(mode)
    assert outcomes(records) == [(503, 0, True), (503, 1, True), (503, 2, True), (503, 3, False)]
