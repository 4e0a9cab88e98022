"""Flows and runner hooks: one multi-step call, driven alike by the sync and the async runner."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from billing_milestones import errors
from billing_milestones._http import (
    AsyncRunner,
    ClientCore,
    Flow,
    Operation,
    Page,
    PagedOperation,
    RequestSpec,
    RunnerHooks,
    SyncRunner,
    blocking,
)

from .conftest import make_core


def _echo(path: str, authenticated: bool = True) -> Operation[str]:
    return Operation(RequestSpec("GET", path, authenticated=authenticated), lambda r: str(r.json()["path"]))


def _server(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/missing"):
        return httpx.Response(404, json={"message": "no"})
    if request.url.path.endswith("/denied") and request.url.host != "moved.example.com":
        return httpx.Response(401, json={"message": "moved"})
    return httpx.Response(200, json={"path": request.url.path, "host": request.url.host})


def _runner(mode: str, hooks: RunnerHooks | None = None, core: ClientCore | None = None) -> SyncRunner | AsyncRunner:
    transport = httpx.MockTransport(_server)
    core = core or make_core()
    if mode == "sync":
        return SyncRunner(core, httpx.Client(transport=transport), hooks=hooks)
    return AsyncRunner(core, httpx.AsyncClient(transport=transport), hooks=hooks)


async def _run(runner: SyncRunner | AsyncRunner, flow: Flow[Any]) -> Any:
    if isinstance(runner, SyncRunner):
        return runner.run_flow(flow)
    return await runner.run_flow(flow)


async def _send(runner: SyncRunner | AsyncRunner, op: Operation[Any]) -> Any:
    if isinstance(runner, SyncRunner):
        return runner.execute(op)
    return await runner.execute(op)


def _two_steps() -> Flow[tuple[str, str]]:
    first = yield _echo("/a")
    second = yield _echo(f"/b{first[-2:]}")
    return first, second


async def test_a_flow_gets_each_result_and_returns_its_own(mode: str) -> None:
    assert await _run(_runner(mode), _two_steps()) == ("/v1/a", "/v1/b/a")


def _recovering() -> Flow[str]:
    try:
        yield _echo("/missing")
    except errors.NotFoundError as exc:
        assert exc.status_code == 404
        return "recovered"
    return "not reached"


async def test_an_api_error_is_thrown_into_the_flow_which_may_handle_it(mode: str) -> None:
    assert await _run(_runner(mode), _recovering()) == "recovered"


def _unhandled() -> Flow[str]:
    yield _echo("/missing")
    return "not reached"


async def test_an_error_the_flow_does_not_handle_reaches_the_caller(mode: str) -> None:
    with pytest.raises(errors.NotFoundError):
        await _run(_runner(mode), _unhandled())


class Moving(RunnerHooks):
    """Prepare once (counting), move to another host after a 401; unauthenticated requests bypass it."""

    def __init__(self) -> None:
        self.prepared = 0
        self.recovered = 0
        self.done = False

    def ready(self, core: ClientCore) -> bool:
        return self.done

    def prepare(self, core: ClientCore) -> Flow[ClientCore]:
        if not self.done:
            yield _echo("/setup", authenticated=False)
            self.prepared += 1
            self.done = True
        return core

    def recover(self, exc: errors.APIError, used: ClientCore, core: ClientCore) -> Flow[ClientCore | None]:
        if not isinstance(exc, errors.AuthenticationError):
            return None
        yield _echo("/relocate", authenticated=False)
        self.recovered += 1
        return core.with_options(base_url=httpx.URL("https://moved.example.com/v1"))


async def test_hooks_prepare_before_the_first_request_and_recover_a_failure_once(mode: str) -> None:
    hooks = Moving()
    runner = _runner(mode, hooks)
    assert await _send(runner, _echo("/x")) == "/v1/x"
    assert await _send(runner, _echo("/y")) == "/v1/y"
    assert hooks.prepared == 1
    assert await _send(runner, _echo("/denied")) == "/v1/denied"
    assert hooks.recovered == 1 and runner.core.base_url.host == "moved.example.com"
    with pytest.raises(errors.NotFoundError):
        await _send(runner, _echo("/missing"))  # recover declines: the failure stands
    assert hooks.recovered == 1


async def test_a_request_without_credentials_bypasses_the_hooks(mode: str) -> None:
    hooks = Moving()
    runner = _runner(mode, hooks)
    assert await _send(runner, _echo("/public", authenticated=False)) == "/v1/public"
    assert hooks.prepared == 0


def test_threads_sharing_a_runner_prepare_once() -> None:
    hooks = Moving()
    runner = _runner("sync", hooks)
    assert isinstance(runner, SyncRunner)
    barrier = threading.Barrier(8)

    def call() -> None:
        barrier.wait()
        runner.execute(_echo("/x"))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert hooks.prepared == 1


def _listing() -> PagedOperation[str]:
    def parse(spec: RequestSpec, response: Any) -> Page[str]:
        nxt = RequestSpec("GET", "/denied") if spec.path == "/first" else None
        return Page([str(response.json()["host"])], nxt, response)

    return PagedOperation(RequestSpec("GET", "/first"), parse)


async def test_only_the_first_page_may_be_recovered(mode: str) -> None:
    """A later page failing cannot be recovered: the pages already yielded would come again."""
    hooks = Moving()
    runner = _runner(mode, hooks)
    got: list[str] = []
    with pytest.raises(errors.AuthenticationError):
        if isinstance(runner, SyncRunner):
            got.extend(runner.iterate(_listing()))
        else:
            async for item in runner.iterate(_listing()):
                got.append(item)
    assert got == ["api.example.com"] and hooks.recovered == 0


async def test_a_listing_flow_runs_before_its_walk_and_items_map(mode: str) -> None:
    def flow() -> Flow[PagedOperation[str]]:
        prefix = yield _echo("/prefix")
        single = PagedOperation(RequestSpec("GET", "/one"), lambda s, r: Page([r.json()["path"]], None, r))
        return single.map(lambda item: f"{prefix}:{item}")

    runner = _runner(mode)
    if isinstance(runner, SyncRunner):
        items = list(runner.iterate_flow(flow()))
    else:
        items = [i async for i in runner.iterate_flow(flow())]
    assert items == ["/v1/prefix:/v1/one"]


def test_derived_runners_share_hooks_and_lock() -> None:
    hooks = Moving()
    runner = _runner("sync", hooks)
    assert isinstance(runner, SyncRunner)
    copy = runner.derive(make_core())
    assert copy.hooks is hooks and copy._lock is runner._lock


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_blocking_step_is_called_in_place_by_the_sync_runner_and_in_a_thread_by_the_async_one(
    mode: str,
) -> None:
    threads: list[threading.Thread] = []

    def call(value: str) -> str:
        threads.append(threading.current_thread())
        if value == "bad":
            raise LookupError("the store is gone")
        return value.upper()

    def flow() -> Flow[tuple[str, str, str]]:
        got = yield from blocking(lambda: call("stored"))
        try:
            yield from blocking(lambda: call("bad"))
        except LookupError as exc:  # thrown in where the flow yielded, as if the call were made there
            caught = str(exc)
        sent = yield _echo("/after")
        return got, caught, sent

    runner = _runner(mode)
    assert await _run(runner, flow()) == ("STORED", "the store is gone", "/v1/after")
    in_place = [t is threading.current_thread() for t in threads]
    assert in_place == ([True, True] if mode == "sync" else [False, False])
