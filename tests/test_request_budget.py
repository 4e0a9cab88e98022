"""``request_budget=``: one hook on every client, consulted before each attempt, waiting within bounds (issue 14)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from billing_milestones import (
    AsyncAutotaskClient,
    AsyncCrmComClient,
    AsyncKantataClient,
    AutotaskClient,
    CrmComClient,
    KantataClient,
    SlidingWindowBudget,
    SyncRequestBudget,
    errors,
)
from billing_milestones._http import AsyncRunner, ClientCore, RequestSpec, RetryPolicy, SyncRunner
from billing_milestones.sandbox import AutotaskSandbox, CrmComSandbox, KantataSandbox

from ._three_sandboxes import three_sandboxes

Handler = Callable[[httpx.Request], httpx.Response]
MODES = pytest.mark.parametrize("mode", ["sync", "async"])


class Scripted:
    """A budget that answers from a script (then admits), counting every ask."""

    def __init__(self, *answers: float | None) -> None:
        self.answers = list(answers)
        self.asked = 0

    def acquire(self) -> float | None:
        self.asked += 1
        return self.answers.pop(0) if self.answers else None


class AsyncScripted(Scripted):
    async def acquire(self) -> float | None:  # type: ignore[override]
        return Scripted.acquire(self)


def core(**retry: Any) -> ClientCore:
    return ClientCore(
        platform="testplat",
        base_url=httpx.URL("https://api.example.com/v1"),
        credentials=dict,
        retry=RetryPolicy(jitter=0.0, **retry),
    )


def run(mode: str, handler: Handler, budget: Any, **retry: Any) -> tuple[list[float], list[httpx.Request]]:
    """One GET through a runner with ``budget``; the sleeps it asked for and the requests that went out."""
    sleeps: list[float] = []
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return handler(request)

    transport = httpx.MockTransport(record)
    spec = RequestSpec("GET", "/things")
    if mode == "sync":
        with httpx.Client(transport=transport) as http:
            SyncRunner(core(**retry), http, sleep=sleeps.append, request_budget=budget).request(spec)
        return sleeps, sent

    async def go() -> None:
        async def asleep(seconds: float) -> None:
            sleeps.append(seconds)

        async with httpx.AsyncClient(transport=transport) as ahttp:
            await AsyncRunner(core(**retry), ahttp, sleep=asleep, request_budget=budget).request(spec)

    asyncio.run(go())
    return sleeps, sent


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={})


@MODES
def test_the_client_waits_what_the_budget_says_then_sends(mode: str) -> None:
    budget = Scripted(0.5, 0.25)
    sleeps, sent = run(mode, ok, budget)
    assert sleeps == [0.5, 0.25] and len(sent) == 1 and budget.asked == 3


@MODES
def test_every_attempt_is_charged_retries_included(mode: str) -> None:
    queue = [httpx.Response(503, json={})]
    budget = Scripted()
    sleeps, sent = run(mode, lambda r: queue.pop(0) if queue else ok(r), budget)
    assert len(sent) == 2 and budget.asked == 2
    assert sleeps == [0.5]  # the retry's own backoff, no budget wait


@MODES
def test_a_wait_beyond_max_retry_after_is_refused_unsent(mode: str) -> None:
    with pytest.raises(errors.BudgetExhaustedError, match="not sent") as info:
        run(mode, ok, Scripted(3600.0), max_retry_after=60.0)
    assert isinstance(info.value, errors.RequestNotSentError)
    assert info.value.retry_after == 3600.0 and info.value.platform == "testplat"


@MODES
def test_waits_adding_up_beyond_the_total_budget_are_refused(mode: str) -> None:
    budget = Scripted(*[50.0] * 5)
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return ok(request)

    with pytest.raises(errors.BudgetExhaustedError):
        run(mode, record, budget, max_retry_after=60.0, total_budget=120.0)
    assert sent == [] and budget.asked == 3  # 50 + 50 waited; a third 50 would pass 120


@MODES
def test_a_non_finite_wait_is_refused(mode: str) -> None:
    with pytest.raises(errors.BudgetExhaustedError):
        run(mode, ok, Scripted(float("nan")))


def test_an_async_budget_is_awaited_by_the_async_client() -> None:
    budget = AsyncScripted(0.125)
    sleeps, sent = run("async", ok, budget)
    assert sleeps == [0.125] and len(sent) == 1 and budget.asked == 2


def test_a_blocking_client_refuses_an_async_budget_by_name() -> None:
    with pytest.raises(errors.ValidationError, match="request_budget") as info:
        KantataClient("kt-0000-token", request_budget=AsyncScripted())  # type: ignore[arg-type]  # the point
    assert info.value.field == "request_budget"


@pytest.mark.parametrize("bad", [3, "fast", object()])
def test_a_budget_without_acquire_is_refused_by_name(bad: object) -> None:
    makers: tuple[Any, ...] = (KantataClient, AsyncKantataClient)
    for make in makers:
        with pytest.raises(errors.ValidationError, match="request_budget"):
            make("kt-0000-token", request_budget=bad)


def test_sliding_window_budget() -> None:
    now = [100.0]
    budget = SlidingWindowBudget(2, window=60, clock=lambda: now[0])
    assert isinstance(budget, SyncRequestBudget)
    assert budget.acquire() is None
    now[0] = 130.0
    assert budget.acquire() is None
    assert budget.acquire() == pytest.approx(30.0)  # until the first leaves the window
    now[0] = 160.0
    assert budget.acquire() is None
    assert budget.acquire() == pytest.approx(30.0)
    for bad in (0, -1, True, 1.5):
        with pytest.raises(errors.ValidationError, match="request_budget"):
            SlidingWindowBudget(bad)  # type: ignore[arg-type]
    for window in (0, -1.0, float("inf")):
        with pytest.raises(errors.ValidationError, match="window"):
            SlidingWindowBudget(1, window=window)


# -- every client takes it ----------------------------------------------------------------------------------

TOKEN = "kt-BUDGET-0001"
SECRET = "at-BUDGET-secret"
CODE = "ATBUDGETCODE0001"


def _sandboxes() -> tuple[KantataSandbox, str, AutotaskSandbox, int, CrmComSandbox, str]:
    w = three_sandboxes("Budget", kantata_token=TOKEN, autotask_secret=SECRET, autotask_code=CODE)
    return w.kantata, w.workspace, w.autotask, w.contract, w.crmcom, w.crmcom_key


def test_every_blocking_client_charges_each_request_it_sends() -> None:
    kantata, workspace, autotask, contract, crmcom, key = _sandboxes()
    budgets = [Scripted(0.001) for _ in range(3)]
    with KantataClient(TOKEN, http_client=kantata.http_client(), request_budget=budgets[0]) as k:
        list(k.with_options(max_retries=1).milestones.list(workspace))  # a copy shares the budget
    with AutotaskClient(
        AutotaskSandbox.USERNAME,
        SECRET,
        CODE,
        currency="USD",
        http_client=autotask.http_client(),
        request_budget=budgets[1],
    ) as a:
        list(a.milestones.list(str(contract)))
    with (
        CrmComClient(key, http_client=crmcom.http_client(), request_budget=budgets[2]) as c,
        pytest.raises(errors.APIStatusError),
    ):
        c.orders.get("0b7c6f0e-3d2a-4f1e-9c8b-7a6d5e4f3a2b")
    sent = [len(s.request_log) for s in (kantata, autotask, crmcom)]
    assert all(n >= 1 for n in sent)
    # One ask per request sent, plus the one that answered "wait" first.
    assert [b.asked for b in budgets] == [n + 1 for n in sent]


async def test_every_async_client_charges_each_request_it_sends() -> None:
    kantata, workspace, autotask, contract, crmcom, key = _sandboxes()
    budgets = [AsyncScripted(0.001), Scripted(), AsyncScripted()]
    async with AsyncKantataClient(TOKEN, http_client=kantata.async_http_client(), request_budget=budgets[0]) as k:
        [m async for m in k.milestones.list(workspace)]
    async with AsyncAutotaskClient(
        AutotaskSandbox.USERNAME,
        SECRET,
        CODE,
        currency="USD",
        http_client=autotask.async_http_client(),
        request_budget=budgets[1],
    ) as a:
        [m async for m in a.milestones.list(str(contract))]
    async with AsyncCrmComClient(key, http_client=crmcom.async_http_client(), request_budget=budgets[2]) as c:
        with pytest.raises(errors.APIStatusError):
            await c.orders.get("0b7c6f0e-3d2a-4f1e-9c8b-7a6d5e4f3a2b")
    sent = [len(s.request_log) for s in (kantata, autotask, crmcom)]
    assert [b.asked for b in budgets] == [sent[0] + 1, sent[1], sent[2]]


def test_autotask_hourly_budget_still_refuses_beside_a_request_budget() -> None:
    autotask = AutotaskSandbox()
    contract = autotask.add_contract(name="Both", currency="USD")
    paced = Scripted()
    with (
        AutotaskClient(
            AutotaskSandbox.USERNAME,
            autotask.users[AutotaskSandbox.USERNAME],
            next(iter(autotask.integration_codes)),
            currency="USD",
            http_client=autotask.http_client(),
            hourly_budget=1,
            request_budget=paced,
        ) as client,
        pytest.raises(errors.BudgetExhaustedError, match="hourly budget of 1"),
    ):
        list(client.milestones.list(str(contract)))
    # Discovery (unauthenticated, not charged to the hourly budget) and the one authenticated request went out.
    assert len(autotask.request_log) == 2
    assert paced.asked == 3  # the refused attempt had passed the request budget first


def test_autotask_hourly_budget_is_the_same_window_over_an_hour_and_names_its_option() -> None:
    from billing_milestones.autotask import HourlyBudget

    now = [0.0]
    hourly = HourlyBudget(1, clock=lambda: now[0])
    assert isinstance(hourly, SlidingWindowBudget) and hourly.window == 3600.0
    assert hourly.acquire() is None and hourly.used == 1
    assert hourly.acquire() == pytest.approx(3600.0)
    now[0] = 3600.0
    assert hourly.used == 0 and hourly.acquire() is None
    with pytest.raises(errors.ValidationError, match="hourly_budget") as info:
        HourlyBudget(0)
    assert info.value.field == "hourly_budget"
    with pytest.raises(errors.ValidationError) as other:
        SlidingWindowBudget(0)
    assert other.value.field == "request_budget"


class NeverAdmits:
    """A budget that keeps answering ``wait`` (no slot, but no time to wait either); stops a runaway loop."""

    def __init__(self, wait: float) -> None:
        self.wait, self.asked = wait, 0

    def acquire(self) -> float | None:
        self.asked += 1
        if self.asked > 100_000:
            raise AssertionError("the client kept asking a budget that never admits")
        return self.wait


@MODES
@pytest.mark.parametrize("wait", [0.0, -1.0])
def test_a_budget_answering_no_wait_forever_still_ends_the_call(mode: str, wait: float) -> None:
    """A zero or negative wait is slept as a short floor that counts, so the total budget still ends it."""
    budget = NeverAdmits(wait)
    with pytest.raises(errors.BudgetExhaustedError, match="not sent"):
        run(mode, ok, budget, total_budget=1.0)
    assert budget.asked < 100_000
