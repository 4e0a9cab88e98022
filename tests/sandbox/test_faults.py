"""FaultPlan: every fault kind drives the runners (sync and async, in-process, fake sleeps); seeded draws."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from billing_milestones import errors
from billing_milestones._http import AsyncRunner, ClientCore, RequestSpec, RetryPolicy, SyncRunner
from billing_milestones.sandbox import Emulator, Fault, FaultKind, FaultPlan, Router, SandboxRequest, json_response
from billing_milestones.sandbox._transport import SandboxTransport


class CounterEmulator(Emulator):
    """GET /counter reads, POST /counter increments: enough to see whether a request changed state."""

    platform = "counter"
    base_path = "/api"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.count = 0
        self.router = Router()
        self.router.add("GET", "/counter", lambda r: json_response(200, {"count": self.count}))
        self.router.add("POST", "/counter", self._increment)

    def _increment(self, request: SandboxRequest) -> httpx.Response:
        self.count += 1
        return json_response(201, {"count": self.count})

    def handle(self, request: SandboxRequest) -> httpx.Response:
        return self.router.dispatch(
            request,
            not_found=lambda r: json_response(404, {"message": "no route"}),
            not_allowed=lambda r: json_response(405, {"message": "no"}),
        )


GET = RequestSpec("GET", "/counter")
POST = RequestSpec("POST", "/counter", json={})


class Rig:
    """An emulator behind the in-process transport and a runner; both sleeps are fakes that record."""

    def __init__(self, mode: str, plan: FaultPlan, retry: RetryPolicy | None = None) -> None:
        self.mode = mode
        self.emulator = CounterEmulator(faults=plan)
        self.server_sleeps: list[float] = []
        self.client_sleeps: list[float] = []

        async def server_asleep(seconds: float) -> None:
            self.server_sleeps.append(seconds)

        async def client_asleep(seconds: float) -> None:
            self.client_sleeps.append(seconds)

        transport = SandboxTransport(self.emulator, sleep=self.server_sleeps.append, async_sleep=server_asleep)
        core = ClientCore(
            platform="counter",
            base_url=httpx.URL("https://sandbox.test/api"),
            credentials=lambda: {"Authorization": "Bearer t"},
            retry=retry or RetryPolicy(jitter=0.0),
        )
        self.runner: SyncRunner | AsyncRunner
        if mode == "sync":
            self.runner = SyncRunner(core, httpx.Client(transport=transport), sleep=self.client_sleeps.append)
        else:
            self.runner = AsyncRunner(core, httpx.AsyncClient(transport=transport), sleep=client_asleep)

    async def request(self, spec: RequestSpec) -> Any:
        if isinstance(self.runner, SyncRunner):
            return self.runner.request(spec)
        return await self.runner.request(spec)

    def faults_seen(self) -> list[FaultKind | None]:
        return [e.fault for e in self.emulator.request_log]


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_latency(mode: str) -> None:
    rig = Rig(mode, FaultPlan().latency(2.5).latency(0.5, method="GET"))
    response = await rig.request(GET)
    assert response.status_code == 200
    assert rig.server_sleeps == [3.0]  # latency rules stack
    assert rig.client_sleeps == []


async def test_rate_limit_with_retry_after(mode: str) -> None:
    rig = Rig(mode, FaultPlan().rate_limit(retry_after=3, times=1))
    response = await rig.request(GET)
    assert response.retries_taken == 1
    assert rig.client_sleeps == [3.0]
    assert rig.faults_seen() == [FaultKind.RATE_LIMIT, None]


async def test_rate_limit_on_a_post_is_replayed(mode: str) -> None:
    rig = Rig(mode, FaultPlan().rate_limit(retry_after=None, times=2))
    response = await rig.request(POST)
    assert response.retries_taken == 2
    assert rig.client_sleeps == [0.5, 1.0]
    assert rig.emulator.count == 1


@pytest.mark.parametrize(("status", "retried"), [(500, False), (502, True), (503, True), (504, True)])
async def test_server_errors(mode: str, status: int, retried: bool) -> None:
    rig = Rig(mode, FaultPlan().status(status, times=1))
    if retried:
        response = await rig.request(GET)
        assert response.retries_taken == 1
    else:
        with pytest.raises(errors.InternalServerError) as info:
            await rig.request(GET)
        assert info.value.status_code == 500
        assert info.value.messages == ("injected server error",)
    assert rig.faults_seen()[0] is FaultKind.STATUS


async def test_refuse_happens_before_the_emulator_so_a_post_is_replayed(mode: str) -> None:
    rig = Rig(mode, FaultPlan().refuse(times=2, method="POST"))
    response = await rig.request(POST)
    assert response.status_code == 201
    assert response.retries_taken == 2
    assert rig.emulator.count == 1  # created exactly once
    assert rig.faults_seen() == [FaultKind.REFUSE, FaultKind.REFUSE, None]
    assert [e.status for e in rig.emulator.request_log] == [None, None, 201]


@pytest.mark.parametrize(
    ("install", "error"),
    [
        (lambda plan: plan.drop(times=1), errors.APIConnectionError),
        (lambda plan: plan.read_timeout(times=1, delay=4.0), errors.APITimeoutError),
    ],
)
async def test_drop_and_read_timeout_strike_after_the_state_changed(mode: str, install: Any, error: Any) -> None:
    rig = Rig(mode, install(FaultPlan()))
    with pytest.raises(error) as info:
        await rig.request(POST)
    assert rig.emulator.count == 1  # the server created it ...
    assert info.value.retries_taken == 0  # ... so the POST is not sent again
    assert rig.emulator.request_log[0].status == 201
    # A GET through the same fault kind is simply retried.
    rig2 = Rig(mode, install(FaultPlan()))
    response = await rig2.request(GET)
    assert response.retries_taken == 1


async def test_read_timeout_delay_is_waited_out(mode: str) -> None:
    rig = Rig(mode, FaultPlan().read_timeout(delay=4.0, times=1))
    await rig.request(GET)
    assert rig.server_sleeps == [4.0]


async def test_a_fault_on_every_attempt_exhausts_the_retries(mode: str) -> None:
    rig = Rig(mode, FaultPlan().status(503))
    with pytest.raises(errors.InternalServerError) as info:
        await rig.request(GET)
    assert info.value.retries_taken == 2
    assert rig.emulator.faults.fired(FaultKind.STATUS) == 3


# -- drawing -------------------------------------------------------------------------------------------------


def _draws(seed: int, n: int = 200) -> list[bool]:
    plan = FaultPlan(seed=seed).status(503, probability=0.5)
    return [plan.draw("GET", "/x")[1] is not None for _ in range(n)]


def test_same_seed_same_faults() -> None:
    first = _draws(42)
    assert first == _draws(42)
    assert first != _draws(43)
    assert 60 <= sum(first) <= 140  # probability 0.5 means about half


async def test_seeded_plans_drive_identical_runs(mode: str) -> None:
    async def run(seed: int) -> list[Any]:
        plan = FaultPlan(seed=seed).status(503, probability=0.5).drop(probability=0.3, method="GET")
        rig = Rig(mode, plan, RetryPolicy(max_retries=4, jitter=0.0))
        outcomes: list[Any] = []
        for _ in range(15):
            try:
                outcomes.append((await rig.request(GET)).retries_taken)
            except errors.APIError as exc:
                outcomes.append(type(exc).__name__)
        return [outcomes, rig.faults_seen()]

    assert await run(7) == await run(7)
    assert await run(7) != await run(8)


def test_after_and_times() -> None:
    plan = FaultPlan().status(503, after=2, times=2)
    got = [plan.draw("GET", "/x")[1] for _ in range(6)]
    assert [f is not None for f in got] == [False, False, True, True, False, False]
    assert plan.fired() == 2


def test_rules_match_method_and_path() -> None:
    plan = FaultPlan().drop(method="post", path=r"^/items$").status(502, path="/other")
    assert plan.draw("GET", "/items")[1] is None
    assert plan.draw("POST", "/items/1")[1] is None
    assert plan.draw("POST", "/items")[1] == Fault(FaultKind.DROP)
    assert plan.draw("GET", "/x/other/y")[1] == Fault(FaultKind.STATUS, status=502)


def test_first_fault_wins_and_latency_stacks() -> None:
    plan = FaultPlan().latency(1.0).status(500).drop().latency(0.25)
    delay, fault = plan.draw("GET", "/")
    assert (delay, fault) == (1.25, Fault(FaultKind.STATUS, status=500))
    assert plan.fired(FaultKind.DROP) == 0
    assert plan.fired(FaultKind.LATENCY) == 2


def test_after_handling_flags() -> None:
    assert Fault(FaultKind.DROP).after_handling
    assert Fault(FaultKind.READ_TIMEOUT).after_handling
    assert not Fault(FaultKind.REFUSE).after_handling
    assert not Fault(FaultKind.STATUS, status=500).after_handling


def test_bad_rules_are_refused() -> None:
    with pytest.raises(ValueError, match="500, 502, 503 or 504"):
        FaultPlan().status(404)
    with pytest.raises(ValueError, match="probability"):
        FaultPlan().drop(probability=1.5)
